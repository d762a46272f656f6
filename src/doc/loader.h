/* Private to the loader (src/doc/): its state and the functions its files
 * share.
 *
 *   load.c       kiln_doc_load / kiln_doc_load_text: files, chapters, the doc,
 *                the bibliography and the References chapter
 *   md_math.c    $...$ and $$...$$ taken out of the Markdown before cmark
 *   block.c      cmark-gfm blocks -> kiln blocks (tables, footnotes, callouts,
 *                displays split out of paragraphs)
 *   inline.c     cmark-gfm inlines -> kiln inlines, {{...}} values and
 *                references, math, citations, images, links to check
 *   front.c      index.md's front matter (title, authors, abstract, ...)
 *   directive.c  the directive vocabulary, "key = value" bodies, key checks
 *   config.c     each run's configuration, `base =` chains, the smoke shrink
 *   check.c      the checks once every directive and run is known (also
 *                links to chapters and headings, {{sec:ID}})
 *   compare.c    {compare}: its sides, metric and spread; its values
 *   values.c     values of runs by name (kiln_run_value, kiln_group_value)
 *   format.c     number formats (kiln_format_value)
 *   text.c, id.c small text helpers, ids */
#ifndef KILN_DOC_LOADER_H
#define KILN_DOC_LOADER_H

#include "doc/doc.h"
#include "doc/md_math.h"
#include "kiln/cite.h"

#include <cmark-gfm.h>

/* ---- loader state ----------------------------------------------------------------------- */

typedef struct loader {
    kiln_doc *doc;
    kiln_arena *a;
    kiln_diag *d;
    const kiln_build_opts *o;
    /* every directive in document order */
    kiln_directive **dirs;
    int n_dirs, cap_dirs;
    int cap_runs, cap_groups, cap_compares; /* of doc->runs, doc->groups, doc->compares */
    /* every inline value / ref, for checking once all runs are known */
    struct loader_ref { kiln_inline *in; const char *file; } *refs;
    int n_refs, cap_refs;
    const char *file;     /* file being converted */
    kiln_chapter *chapter;
    /* heading anchors of the current page, each with the last number its
     * text was given to tell it from an earlier heading of the same text */
    kr_strmap anchors;
    /* nesting of block quotes, lists and emphasis/links being converted; the
     * later steps walk the tree recursively, so it is bounded here */
    int depth, too_deep;
    int first_msg;        /* d->n_msgs when loading began */
    /* the math taken out of the current file (md_math.h) */
    md_math *math;
    int n_math;
    int n_equations;      /* labelled displays so far, through the article */
    int math_line;        /* the line of the math being parsed */
    /* citations: the bibliography and every citation inline (with its parse) */
    cite_bib *bib;
    kiln_inline **cites;
    cite_cite *cite_data;
    int n_cites, cap_cites;
    int bib_failed;       /* the .bib had an error (reported once) */
    int in_link;          /* converting a link's text: no citations there */
    int n_footnotes;      /* footnote definitions met in the current file */
    /* links to chapters and headings, checked once all are known */
    kiln_inline **links;
    const char **link_raw, **link_files;
    const kiln_chapter **link_from;
    int n_links, cap_links;
    /* every page's ids ("N#id", N the chapter's index, -1 the front page),
     * each with its block and a heading's number, made once for the
     * checks of links and {{sec:}} (check.c); the equations' labels, by
     * id, as they are read (block.c) */
    kr_strmap target_ix, eq_ix;
    struct target { const kiln_block *b; const char *number; } *targets;
    int n_targets, cap_targets, targets_made;
} loader;

/* ---- text.c: small text helpers ------------------------------------------------------ */
int in_list(const char *const *list, const char *s);        /* s is one of list (NULL-ended) */
void join_list(sbuf *b, const char *const *list);           /* "a, b, c" */
char *trim(char *s);                                        /* in place */
/* Split "a, b c" on commas and spaces / on commas only (labels and headers
 * may hold spaces) into arena strings; returns the count. */
int split_list(kiln_arena *a, const char *text, const char ***out);
int split_commas(kiln_arena *a, const char *text, const char ***out);
/* The line of `key =` in a directive's body, else the directive's line. */
int kv_line(const kiln_directive *d, const char *key);
/* A value written `{{RUN.METRIC[:FORMAT]}}` and nothing else. */
int is_config_ref(const char *v);
/* " (did you mean 'NAME'?)" or "" (arena text): word among names (words
 * separated by anything else), among a list, or for a number format. */
const char *hint(loader *L, const char *word, const char *names);
const char *list_hint(loader *L, const char *word, const char *const *list);
const char *format_hint(loader *L, const char *fmt);

/* ---- inline.c ---------------------------------------------------------------------- */
/* "RUN.METRIC[:FORMAT]" into arena parts (format "" when absent); -1 when
 * there is no RUN or no METRIC. */
int split_value_ref(kiln_arena *a, const char *s, const char **run, const char **metric, const char **format);
/* One run of text into TEXT / VALUE / REF inlines appended to head..tail. */
/* A link's (image: an image's) URL as a browser reads it, controls removed
 * or percent-encoded; scheme is set to the refused scheme, else "". */
const char *clean_url(kiln_arena *a, const char *url, int image, char *scheme, size_t ns);
/* path, symbolic links followed, lies inside the content folder (load.c). */
int in_content_dir(loader *L, const char *path);
/* Why raw HTML kept by --allow-html is refused (script, on...=, ...), or NULL. */
const char *html_refused(const char *html);
void split_text(loader *L, const char *t, int line, kiln_inline **head, kiln_inline **tail);
/* cmark inlines from first on; *line follows the soft and hard breaks. */
kiln_inline *convert_inlines(loader *L, cmark_node *first, int *line);
void plain_text(sbuf *b, const kiln_inline *in);            /* titles, alt text: math as km_plain */
void plain_text_as(sbuf *b, const kiln_inline *in, int tex); /* tex: math as its source (anchors) */
/* A heading's anchor, unique within the page (never fig- / table-). */
const char *make_anchor(loader *L, const char *text);

/* ---- directive.c ------------------------------------------------------------------- */
extern const char *const SUMMARY_ROWS[];    /* a {table}'s `summary =` rows */
extern const char *const EXPERIMENT_META[]; /* {experiment} keys besides the trainer's */
extern const char *const LRFIND_META[];     /* {lrfind} keys besides the trainer's */
/* A fenced block whose info string is "{name} id": parsed, its keys checked
 * against the directive's vocabulary; NULL after an error. */
kiln_directive *parse_directive(loader *L, const char *info, const char *body, int line);

/* ---- front.c: index.md's front matter ------------------------------------------------ */
/* A front matter block at the top of text (len bytes) read into the doc and
 * blanked in text (line ends kept); 0 when there is none or it is good, 1
 * after an error (reported at its line). */
int front_matter(loader *L, const char *file, char *text, size_t len);

/* ---- block.c ------------------------------------------------------------------------- */
kiln_block *parse_markdown(loader *L, const char *file, const char *text, size_t len);
/* The line of a paragraph with more images than cmark-gfm 0.29.0.gfm.6 reads
 * in reasonable time (CVE-2023-22486), or 0. */
int too_many_images(const char *md, size_t len);
/* The plain text of the first level-1 heading (malloc'd; *h = the heading),
 * or NULL when there is none. */
const char *first_h1(kiln_block *b, kiln_block **h);

/* ---- config.c ------------------------------------------------------------------------ */
/* The first directive of kind1 or kind2 with this id, before `before`
 * (NULL: any). */
kiln_directive *find_dir(loader *L, int kind1, int kind2, const char *id, const kiln_directive *before);
void list_runs(sbuf *b, const kiln_doc *doc);               /* "a, b, c" or "(none declared)" */
/* r's configuration from its directive x, its base's first (state: 0 new,
 * 1 being built, 2 done per run; chain names the base = chain for a cycle's
 * message). Returns 1 after an error. */
int build_config(loader *L, kiln_run *r, kiln_directive *x, int *state, int depth, sbuf *chain);

/* ---- check.c ------------------------------------------------------------------------- */
/* id is a declared run (*out), else an error listing them; returns 1 then. */
int check_run_ref(loader *L, const char *file, int line, const char *what, const char *id, kiln_run **out);
/* metric is a value of r and fmt (NULL or "" for none) a known format. */
void check_metric(loader *L, const char *file, int line, const char *what, kiln_run *r, const char *metric,
                  const char *fmt);
int needs_result(const char *metric);   /* a result, not a setting or a name */
/* Every check once the whole content is parsed: runs declared and built, one
 * checker per directive kind, the figure and table lists, the references in
 * the prose and the values taken from other runs. */
void check_all(loader *L);
/* ---- compare.c ------------------------------------------------------------------------ */
/* {compare} ID, once every {group} is checked (doc->compares, x->cmp). */
void check_compare(loader *L, kiln_directive *x, const char *what);
/* {{ID.NAME:FORMAT}} of a {compare} x. */
void check_compare_value(loader *L, const char *file, int line, const char *what, const kiln_directive *x,
                         const char *name, const char *fmt);
/* grow a pointer array of n entries to hold one more (doubling) */
void grow_ptrs(void ***v, int n);
kiln_inline *new_inline(loader *L, enum kiln_inline_kind k, int line);

/* block.c: enter one more level of nesting (block quotes, lists, emphasis,
 * links) at line; 0 when that is too deep (the error is given once per file
 * and the contents are left out). The later steps walk the tree
 * recursively, so it is bounded here. */
#define KR_MAX_NESTING 100
int nest_in(loader *L, int line, const char *what);

#endif
