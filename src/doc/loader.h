/* Private to the loader (src/doc/): its state and the functions its files
 * share.
 *
 *   load.c       kiln_doc_load / kiln_doc_load_text: files, chapters, the doc
 *   block.c      cmark blocks -> kiln blocks
 *   inline.c     cmark inlines -> kiln inlines, {{...}} values and references
 *   directive.c  the directive vocabulary, "key = value" bodies, key checks
 *   config.c     each run's configuration, `base =` chains, the smoke shrink
 *   check.c      the checks once every directive and run is known
 *   values.c     values of runs by name (kiln_run_value, kiln_group_value)
 *   format.c     number formats (kiln_format_value)
 *   text.c, id.c small text helpers, ids */
#ifndef KILN_DOC_LOADER_H
#define KILN_DOC_LOADER_H

#include "doc/doc.h"

#include <cmark.h>

/* ---- loader state ----------------------------------------------------------------------- */

typedef struct loader {
    kiln_doc *doc;
    kiln_arena *a;
    kiln_diag *d;
    const kiln_build_opts *o;
    /* every directive in document order */
    kiln_directive **dirs;
    int n_dirs, cap_dirs;
    /* every inline value / ref, for checking once all runs are known */
    kiln_inline **refs;
    const char **ref_files;
    int n_refs, cap_refs;
    const char *file;     /* file being converted */
    kiln_chapter *chapter;
    /* heading anchors of the current page */
    const char **anchors;
    int n_anchors, cap_anchors;
    int first_msg;        /* d->n_msgs when loading began */
} loader;

int in_list(const char *const *list, const char *s);
void join_list(sbuf *b, const char *const *list);
char *trim(char *s);
int split_list(kiln_arena *a, const char *text, const char ***out);
int split_commas(kiln_arena *a, const char *text, const char ***out);
const char *kv_get(const kiln_directive *d, const char *key);
int kv_line(const kiln_directive *d, const char *key);
int is_config_ref(const char *v);
const char *hint(loader *L, const char *word, const char *names);
const char *list_hint(loader *L, const char *word, const char *const *list);
const char *format_hint(loader *L, const char *fmt);
int split_value_ref(kiln_arena *a, const char *s, const char **run, const char **metric, const char **format);
void split_text(loader *L, const char *t, int line, kiln_inline **head, kiln_inline **tail);
kiln_inline *convert_inlines(loader *L, cmark_node *first, int *line);
void plain_text(sbuf *b, const kiln_inline *in);
const char *make_anchor(loader *L, const char *text);
extern const char *const SUMMARY_ROWS[];
extern const char *const EXPERIMENT_META[];
extern const char *const LRFIND_META[];
kiln_directive *parse_directive(loader *L, const char *info, const char *body, int line);
kiln_block *parse_markdown(loader *L, const char *file, const char *text, size_t len);
const char *first_h1(kiln_block *b, kiln_block **h);
kiln_directive *find_dir(loader *L, int kind1, int kind2, const char *id, const kiln_directive *before);
void list_runs(sbuf *b, const kiln_doc *doc);
int build_config(loader *L, kiln_run *r, kiln_directive *x, int *state, int depth, sbuf *chain);
int check_run_ref(loader *L, const char *file, int line, const char *what, const char *id, kiln_run **out);
void check_metric(loader *L, const char *file, int line, const char *what, kiln_run *r, const char *metric,
                         const char *fmt);
int needs_result(const char *metric);
void check_all(loader *L);

#endif
