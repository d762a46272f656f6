/* kiln document library (src/doc/): the article as a document model.
 *
 *   kiln_doc_load     content/ *.md --cmark--> chapters of blocks and inlines,
 *                     directives parsed and checked (ids, keys, `base =`),
 *                     inline references found; no training, no output.
 *
 * The model below is filled in three steps: the loader (this library) sets
 * the structure, the directives and the runs' configurations; kiln_doc_run
 * (kiln/run.h) fills each run's result and provenance; kiln_doc_resolve
 * (kiln/resolve.h) turns results into the texts, tables and images the
 * writers show. Fields say which step sets them.
 *
 * Ownership: one arena per kiln_doc. Every pointer reachable from a kiln_doc
 * (strings, blocks, inlines, directives, runs, tables) lives until
 * kiln_doc_free and must not be freed by the caller. Strings are UTF-8 and
 * NUL-terminated, and never NULL where the comment says "text" (empty
 * instead). Lists are singly linked through `next` (NULL-terminated) or are
 * arrays with a count, as each field says.
 *
 * Errors: see kiln/base.h (FILE:LINE: messages, KILN_REPORT_EINPUT). */
#ifndef KILN_DOC_H
#define KILN_DOC_H

#include <stddef.h>
#include <stdio.h>

#include "kiln/base.h"
#include "kiln/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Inlines: text inside paragraphs, headings, list items, captions            */
/* ------------------------------------------------------------------------ */

enum kiln_inline_kind {
    KILN_IN_TEXT,       /* text: plain text (not escaped) */
    KILN_IN_CODE,       /* text: a code span */
    KILN_IN_EMPH,       /* children */
    KILN_IN_STRONG,     /* children */
    KILN_IN_LINK,       /* url, title; children = the link text */
    KILN_IN_IMAGE,      /* url, title; children = alt text */
    KILN_IN_SOFTBREAK,  /* a line break in the source (a space when written) */
    KILN_IN_LINEBREAK,  /* a hard break */
    KILN_IN_HTML,       /* text: raw HTML (written only with allow_html) */
    KILN_IN_VALUE,      /* {{run.metric:fmt}}: text = the formatted value */
    KILN_IN_REF,        /* {{fig:id}} / {{table:id}}: text = "Figure 2",
                           url = "#fig-id" or "PAGE.html#fig-id" (see
                           kiln_ref_href), target = the directive;
                           {{eq:id}}: text = "Equation 3", eq = the display */
    KILN_IN_MATH,       /* $...$: text = the TeX source, math = its tree
                           (kiln/math.h), values inside filled by resolve */
    KILN_IN_STRIKE,     /* ~~text~~: children */
    KILN_IN_FOOTREF,    /* [^label]: text = its number "1", url "#fn-1" */
    KILN_IN_CITE,       /* [@key, p. 3] / @key: text = "(Smith 2017, p. 3)";
                           children = the same as TEXT and LINK inlines, each
                           work linked to its entry in the references */
};

struct km_node;
struct kiln_block;

typedef struct kiln_directive kiln_directive;
typedef struct kiln_inline kiln_inline;
struct kiln_inline {
    enum kiln_inline_kind kind;
    const char *text;        /* see the kinds above; "" when unused */
    const char *url;         /* LINK, IMAGE: destination (a link to another
                                chapter's .md is rewritten to its .html) */
    const char *title;       /* LINK, IMAGE: title attribute, "" if none */
    kiln_inline *children;   /* first child, or NULL */
    kiln_inline *next;       /* next sibling, or NULL */
    int line;                /* source line (1-based) */
    /* KILN_IN_VALUE: what was asked for, as written */
    const char *run_id, *metric, *format;
    /* KILN_IN_REF: the figure or table referred to */
    const kiln_directive *target;
    /* KILN_IN_IMAGE: the local file (url is then "media/NAME", where the
       site holds its copy); "" for a remote image */
    const char *src;
    /* KILN_IN_REF to an equation: the display; KILN_IN_MATH: the tree, and
       the formula as plain text (km_plain: "ηₜ") for titles and outlines,
       where text is its TeX source */
    const struct kiln_block *eq;
    struct km_node *math;
    const char *plain;
};

/* ------------------------------------------------------------------------ */
/* Runs: one experiment (or range test) and its result                        */
/* ------------------------------------------------------------------------ */

enum kiln_run_kind { KILN_RUN_TRAIN, KILN_RUN_LRFIND };

/* A trainer key whose value is another run's result, written
 * `max_lr = {{sweep.suggested_max_lr:.3g}}`. It is applied (the value
 * formatted with the format, default .10g, then parsed as the key's text)
 * once that run has a result, so the key of this run depends on it. */
typedef struct kiln_config_ref {
    const char *key;         /* trainer key, e.g. "max_lr" */
    const char *run_id;      /* the run whose result gives the value */
    const char *metric;      /* a result metric of that run */
    const char *format;      /* kiln_format_value format, "" = .10g */
    const char *file;        /* where the reference is written */
    int line;
    struct kiln_run *from;   /* the run, resolved by the loader */
    const char *text;        /* the value applied, "" until then */
} kiln_config_ref;

/* A final metric of a run by name (resolved; NaN when the run has none). */
typedef struct kiln_metric {
    const char *name;
    double value;
} kiln_metric;

typedef struct kiln_run {
    const char *id;          /* the directive's id: [A-Za-z0-9_-], <= 48 chars */
    enum kiln_run_kind kind;
    const char *label;       /* legend text (`label =`, else the id) */
    const char *file;        /* where it was declared */
    int line;
    const char *base;        /* `base =` id, "" if none */
    kiln_config config;      /* resolved (defaults, base, smoke shrink) */
    const char *canonical;   /* kiln_config_canonical(config) (+ range-test keys) */
    const char *display;     /* the same as "key = value" lines, numbers in
                                their shortest spelling (after resolve) */
    const char *config_line; /* the same in one "key=value" list (results.json's
                                "config"; after resolve) */
    char key[33];            /* cache key: XXH3-128 hex */
    int needed;              /* some directive or value uses its result */
    int cached;              /* the result came from the cache */
    int ok;                  /* the result is present (history valid) */
    kiln_history history;    /* KILN_RUN_TRAIN, valid when ok */
    kiln_lrfind_result lrfind; /* KILN_RUN_LRFIND, valid when ok (train.h) */
    kiln_lrfind_opts lrfind_opts; /* KILN_RUN_LRFIND: start_lr, end_lr, ... */
    /* provenance, as stored in the cache entry */
    const char *kiln_version, *fingerprint, *data_digest;
    const char *compiler, *cpu, *date, *host_threads;
    double seconds;          /* wall time of the run when it was computed */
    const char *data;        /* `data =` as written (inherited through base);
                                "mnist" when not given */
    int data_set;            /* private: index into the build's data sets */
    int checkpoint;          /* `checkpoint =`: 0 no, 1 best val_loss, 2 every
                                epoch; the weights go to CACHE/weights/KEY.kwts
                                (not part of the key: they change no result) */
    kiln_config_ref *refs;   /* keys taken from other runs' results; the */
    int n_refs;              /* config is complete once they are applied */
    const kiln_metric *metrics; /* after resolve: the final metrics the site's
                                results.json lists, n_metrics of them */
    int n_metrics;
} kiln_run;

/* ------------------------------------------------------------------------ */
/* Directives: fenced code blocks whose info string is {name}                 */
/* ------------------------------------------------------------------------ */

enum kiln_directive_kind {
    KILN_DIR_EXPERIMENT,     /* {experiment} ID: trainer keys, base = ID */
    KILN_DIR_FIGURE,         /* {figure} ID: runs, series, labels, caption */
    KILN_DIR_RESULT,         /* {result} RUN: "Test loss: X / Test accuracy: Y" */
    KILN_DIR_TABLE,          /* {table} ID: runs, columns, caption */
    KILN_DIR_LRFIND,         /* {lrfind} ID: a range test (+ its figure) */
    KILN_DIR_CONFIG,         /* {config} RUN: the full configuration listing */
    KILN_DIR_GROUP,          /* {group} ID: runs whose statistics the prose
                                quotes, {{ID.mean_test_accuracy}}; shows nothing */
    KILN_DIR_COMPARE,        /* {compare} ID: side a against side b on one
                                metric (Welch's test, a bootstrap interval);
                                the prose quotes {{ID.verdict}}, {{ID.p}}, ... */
};

/* A {compare}: two sides (a run or a {group} each) on one final metric.
 * The loader fills the sides, the metric and its direction; kiln_doc_resolve
 * (src/resolve/compare.c, the stats library) the numbers and the sentence. */
typedef struct kiln_comparison {
    const char *a_id, *b_id;   /* as written: a run's or a {group}'s id */
    struct kiln_run **a, **b;  /* the runs of each side */
    int n_a, n_b;
    const char *metric;        /* `metric =`, default test_accuracy */
    int higher_is_better;      /* accuracies 1; losses and times 0 */
    const char *spread_id;     /* `spread =` GROUP, "" if none */
    struct kiln_run **spread;  /* its runs, n_spread of them (>= 2) */
    int n_spread;
    /* resolved (NaN where not computed: p, t, df and the interval of a
       comparison of one seed each) */
    int done;
    double mean_a, mean_b, sd_a, sd_b, diff, ci_low, ci_high, p, t, df;
    const char *verdict;       /* "better", "worse", "within noise",
                                  "untested (one seed each)"; "" before */
    const char *spread_used;   /* "own", "borrowed", "given", "none" */
} kiln_comparison;

typedef struct kiln_kv {
    const char *key, *value; /* trimmed text */
    int line;
    const char *shown;       /* the value as the pages show it: the text as
                                written, or for a key taken from another run's
                                result "0.0014 from sweep.suggested_base_lr"
                                (set by kiln_doc_resolve) */
} kiln_kv;

typedef struct kiln_table {
    int n_rows, n_cols;
    const char **header;     /* n_cols texts */
    const char **cells;      /* n_rows * n_cols texts, row-major */
    int *numeric;            /* n_cols flags: right-align */
    int n_summary;           /* the last n_summary rows are `summary =` rows
                                (mean, sd, ...) computed over the others */
} kiln_table;

enum kiln_figure_kind {
    KILN_FIG_HISTORY,        /* per-epoch or per-step series of runs */
    KILN_FIG_RANGE,          /* range test: loss vs lr, log x axis */
    KILN_FIG_SCHEDULE,       /* the lr each schedule gives, no training */
    KILN_FIG_SWEEP,          /* a value of each run against one of its settings,
                                a line per value of `by` (kind = sweep) */
};

struct kiln_directive {
    enum kiln_directive_kind kind;
    const char *name;        /* "experiment", "figure", ... */
    const char *id;          /* the id after the name ("" if none) */
    const char *file;        /* chapter file, as given to the loader */
    int line;                /* line of the opening fence */
    kiln_kv *kv;             /* the body's key = value lines, n_kv of them */
    int n_kv;
    const struct kiln_chapter *chapter;

    /* numbering and text, FIGURE / TABLE / LRFIND (which has a figure) */
    int number;              /* 1-based across the document; 0 if none */
    const char *anchor;      /* "fig-ID" / "table-ID" ("" if none) */
    const char *title;       /* text ("" if none); `title =` may hold {{...}}
                                values, expanded by kiln_doc_resolve */
    kiln_inline *caption;    /* inline markdown, may hold values; NULL if none */
    const char *xlabel, *ylabel;
    kiln_inline *title_parts; /* the title as TEXT / VALUE / REF inlines, as
                                parsed (what kiln_doc_resolve expands into
                                title); NULL if no title */
    const char **labels;     /* FIGURE: `labels =` texts, n_labels of them (one
                                per run), values expanded by kiln_doc_resolve;
                                NULL if no `labels =` */
    kiln_inline **label_parts; /* FIGURE: each label as parsed, n_labels */
    int n_labels;

    /* resolved */
    kiln_run *run;           /* EXPERIMENT, RESULT, CONFIG, LRFIND */
    kiln_run **runs;         /* FIGURE, TABLE: n_runs entries */
    int n_runs;
    enum kiln_figure_kind figure_kind;
    const char *image;       /* FIGURE, LRFIND: path relative to the site
                                root, "img/ID.png" */
    int image_width, image_height; /* logical px (CSS px) */
    int narrow_width, narrow_height; /* the phone variant's size, 0 = none.
                                The variants beside img/ID.png (light, the
                                PDF's): ID-dark.png, ID-narrow.png (narrower,
                                larger type, legend below) and
                                ID-narrow-dark.png */
    const char *image_file;  /* path of the PNG as written: inside the build's
                                temporary folder (OUT/.build-PID/img/) until
                                the swap, so a writer run by kiln_report_build
                                before the swap (the PDF) can read it */
    const kiln_table *table; /* TABLE: formatted cells; RESULT: one row, the
                                run's label, test loss, test accuracy */
    const char *text;        /* RESULT: the line; CONFIG: the listing;
                                LRFIND: the suggestion sentence; COMPARE: the
                                comparison in one sentence (after resolve) */
    kiln_comparison *cmp;    /* COMPARE: its sides and numbers */
};

/* ------------------------------------------------------------------------ */
/* Blocks and chapters                                                        */
/* ------------------------------------------------------------------------ */

enum kiln_block_kind {
    KILN_BL_PARAGRAPH,       /* inlines */
    KILN_BL_HEADING,         /* level, inlines, anchor */
    KILN_BL_QUOTE,           /* children */
    KILN_BL_LIST,            /* ordered, start, tight; children are ITEMs */
    KILN_BL_ITEM,            /* children */
    KILN_BL_CODE,            /* text, info: an ordinary code block */
    KILN_BL_HTML,            /* text: raw HTML (written only with allow_html) */
    KILN_BL_RULE,            /* a thematic break */
    KILN_BL_DIRECTIVE,       /* directive */
    KILN_BL_GRID,            /* a pipe table: children = ROWs (header first),
                                info = the columns' alignments, one of
                                "lcr-" each ('-' none), level = columns */
    KILN_BL_ROW,             /* children = CELLs; ordered = 1: the header */
    KILN_BL_CELL,            /* inlines */
    KILN_BL_FOOTNOTES,       /* a chapter's footnotes, at its end: children =
                                ITEMs, anchor "fn-N", number N */
    KILN_BL_CALLOUT,         /* > [!NOTE] ...: info = "note", "tip",
                                "important", "warning" or "caution";
                                children = the quote's blocks after the marker */
    KILN_BL_REFERENCES,      /* the works cited: children are PARAGRAPHs, each
                                with its anchor "ref-KEY" */
    KILN_BL_MATH,            /* $$...$$ display: text = TeX, math = its tree;
                                with a label {#eq:ID}: anchor "eq-ID",
                                number (through the article), chapter */
    KILN_BL_FACTS,           /* names and values (the appendix's): children =
                                ROWs of two CELLs, the name and the value */
    KILN_BL_SECTION,         /* a group of blocks (an appendix run): info = its
                                kind ("run"), children */
};

typedef struct kiln_block kiln_block;
struct kiln_block {
    enum kiln_block_kind kind;
    int line;
    int level;               /* HEADING: 1..6 */
    int ordered, start, tight; /* LIST */
    const char *text;        /* CODE, HTML; "" otherwise */
    const char *info;        /* CODE: the info string ("" if none) */
    const char *anchor;      /* HEADING: unique id within the page */
    kiln_inline *inlines;    /* PARAGRAPH, HEADING: first inline */
    kiln_block *children;    /* QUOTE, LIST, ITEM: first child */
    kiln_block *next;
    kiln_directive *directive; /* DIRECTIVE */
    struct km_node *math;    /* MATH */
    int number;              /* MATH: equation number, 0 = unnumbered;
                                ITEM in FOOTNOTES: the footnote's number */
    int task;                /* ITEM: 0 no task, 1 [ ] open, 2 [x] done */
    const struct kiln_chapter *chapter; /* MATH: where it is (NULL: index) */
};

typedef struct kiln_chapter {
    int index;               /* 0-based position in the article */
    const char *file;        /* path of the .md file */
    const char *slug;        /* file name without .md: "01-fixed-rates" */
    const char *page;        /* "01-fixed-rates.html" */
    const char *title;       /* plain text of the first level-1 heading */
    kiln_block *blocks;      /* first block (the title heading included) */
} kiln_chapter;

enum { KILN_EXECUTOR_LOCAL = 0, KILN_EXECUTOR_SLURM = 1 };
/* ------------------------------------------------------------------------ */
/* Data sets (src/doc/data.c; loading in src/run/data.c)                      */
/* ------------------------------------------------------------------------ */

/* A run's data set: `data = mnist` (default) | fashion-mnist | DIR. */
typedef struct kiln_data_info {
    char name[64];           /* "mnist", "fashion-mnist", or "folder" */
    char dir[4096];          /* the folder holding the four IDX files */
    char digest[65];         /* kiln_dataset_digest of the files: known for a
                                named set, computed (kiln_data_digest) for a
                                folder; "" until then */
    int rows, cols, channels; /* image shape (named: 28x28x1; folder: header) */
    const char *package;     /* where a named set comes from */
} kiln_data_info;

/* $XDG_CACHE_HOME/kiln, else ~/.cache/kiln. */
const char *kiln_user_cache_dir(char *buf, size_t n);
/* The MNIST folder: opt (--data), else $KILN_DATA, else $KILN_DATA_DIR (the
 * older name), else USERCACHE/mnist. */
const char *kiln_mnist_dir(const char *opt, char *buf, size_t n);
/* The accepted values of `data =`, for messages. */
const char *kiln_data_accepted(void);
/* Resolve a `data =` value (NULL = mnist); a folder must hold the four
 * files and its shape is read from the image files' IDX headers. 0 or -1
 * with a message naming the accepted values. Reads no image data. */
int kiln_data_lookup(const char *value, const char *mnist_dir, kiln_data_info *out, char *err, size_t n);
/* The model spec built for the data's image shape: 0, or -1 and why. */
int kiln_data_check_model(const kiln_data_info *di, const char *spec, char *err, size_t n);
/* DIR/NAME or DIR/NAME.gz, whichever exists (0); -1 if neither. */
int kiln_data_file(const char *dir, const char *name, char *out, size_t n);
extern const char *const KILN_DATA_FILES[4]; /* train-images-idx3-ubyte, ... */

/* the reproducibility appendix's page and title (doc->appendix, after resolve) */
#define KILN_APPENDIX_PAGE "appendix.html"
#define KILN_APPENDIX_TITLE "Reproducibility appendix"

typedef struct kiln_build_opts {
    const char *content_dir;   /* default "content" */
    const char *out_dir;       /* default "out" ("out/smoke" with smoke) */
    const char *cache_dir;     /* default CONTENT/cache (OUT/cache with smoke) */
    const char *data_dir;      /* the MNIST folder; default kiln_mnist_dir(NULL) */
    const char *template_dir;  /* default "templates" */
    int smoke;                 /* shrink every run (see kiln_smoke_shrink) */
    int jobs;                  /* runs trained at once; 0 = 1 */
    int threads;               /* total trainer threads; 0 = all cores */
    int no_run;                /* a missing result is an error, never trained */
    int allow_html;            /* pass raw HTML in content through */
    int quiet;                 /* no progress output */
    int prune;                 /* after a good build, delete cache entries no run
                                  of this build uses (the only way entries go) */
    int executor;              /* who trains the missing runs: KILN_EXECUTOR_LOCAL
                                  (this process, -j at a time) or _SLURM (one
                                  Slurm job array per phase; see README) */
    const char *slurm_args;    /* SLURM: extra sbatch options, split like a shell
                                  would (quotes, no expansion); NULL = none */
    const char *slurm_kiln;    /* SLURM: the kiln binary the nodes run (a path
                                  they see); NULL = this process's own */
    FILE *log;                 /* progress and summary; NULL = stderr */
    int no_pdf;                /* leave the PDF out (kiln preview's builds on save) */
    int no_fsync;              /* write the site's files without fsync (kiln preview:
                                  a crash loses nothing the next build cannot make
                                  again); cache entries and the manifest are synced */
    struct kiln_memo *memo;    /* kept from build to build (kiln preview): parsed
                                  cache entries, drawn figures; NULL = none */
    int no_manifest;           /* do not write CACHE/manifest/build.json (kiln preview:
                                  kiln build's builds are the ones kiln diff compares) */
    int no_cache_lock;         /* with no_run: read the cache without taking its lock
                                  (entries are only renamed into place), so a build
                                  that trains meanwhile does not hold this one up */
} kiln_build_opts;

/* One author of the article (index.md's front matter, `author:`). */
typedef struct kiln_author {
    const char *name;          /* text */
    const char *affiliation;   /* text, "" if none */
} kiln_author;

/* A committed record of what a change did to the results: the text `kiln
 * diff` printed, kept as CONTENT/records/NAME.txt. The appendix lists and
 * links each; the site carries a copy at url. */
typedef struct kiln_record {
    const char *name;          /* "NAME.txt" */
    const char *src;           /* its path, "content/records/NAME.txt" */
    const char *url;           /* "records/NAME.txt" */
    const char *title;         /* its first line ("kiln diff: OLD (old) -> NEW (new)"), "" if empty */
    const char *summary;       /* its "N runs: ..." line, "" if none */
} kiln_record;

typedef struct kiln_doc {
    const char *title;         /* text: the front matter's `title:`, else
                                  index.md's first level-1 heading */
    /* index.md's front matter (src/doc/front.c); a hand-made document may
       leave them NULL, the writers read NULL as none */
    const char *subtitle;      /* text, "" if none */
    const kiln_author *authors; /* n_authors, in the order written */
    int n_authors;
    const char *date;          /* as written, YYYY-MM-DD; "" if none */
    const char *date_text;     /* the same as the pages show it, "3 December 2026" */
    kiln_block *abstract;      /* its Markdown, NULL if none */
    const char *lang;          /* a language tag, "en" unless `lang:` says */
    kiln_block *front;         /* index.md's blocks after the title (summary) */
    const char *index_file;    /* "content/index.md" */
    kiln_chapter *chapters;    /* n_chapters, in file-name order */
    int n_chapters;
    kiln_run **runs;           /* every run declared, in document order */
    int n_runs;
    kiln_directive **figures;  /* in number order (FIGURE and LRFIND) */
    int n_figures;
    kiln_directive **tables;   /* in number order */
    int n_tables;
    kiln_directive **groups;   /* {group} directives, in document order */
    int n_groups;
    kiln_directive **compares; /* {compare} directives, in document order */
    int n_compares;
    kiln_block **equations;    /* numbered displays, in number order */
    int n_equations;
    kiln_inline **images;      /* local images, one per file (copied into
                                  the site as their url says) */
    int n_images;
    const kiln_record *records; /* CONTENT/records/ *.txt, in name order */
    int n_records;
    struct cite_bib *bib;      /* content/references.bib, NULL if none */
    const kiln_chapter *references; /* the References chapter (last), NULL
                                       when nothing is cited */
    const kiln_chapter *appendix; /* after resolve: the reproducibility
                                     appendix (not one of chapters; index
                                     n_chapters, page "appendix.html") */
    struct km_node **maths;    /* every math tree (freed with the doc) */
    int n_maths;
    kiln_inline **math_values; /* {{...}} inside math: n_maths_values VALUE */
    struct km_node **math_value_nodes; /* inlines and the tree nodes they fill */
    int n_math_values;
    int smoke;                 /* built at smoke scale */
    const char *trainer_fingerprint;
    const char *data_digest;   /* "" before kiln_doc_run */
    kiln_build_opts opts;      /* as given (strings borrowed from the caller) */
    struct kiln_arena *arena;  /* private */
} kiln_doc;
/* ------------------------------------------------------------------------ */
/* Loading                                                                    */
/* ------------------------------------------------------------------------ */

/* Parse content_dir (index.md + every other *.md in file-name order). On
 * error *out is NULL and the messages are in d. */
int kiln_doc_load(kiln_doc **out, const kiln_build_opts *o, kiln_diag *d);
/* Parse one Markdown text as a single-chapter document (tests, tools). */
int kiln_doc_load_text(kiln_doc **out, const char *file, const char *markdown,
                       const kiln_build_opts *o, kiln_diag *d);
void kiln_doc_free(kiln_doc *doc);

/* ------------------------------------------------------------------------ */
/* Values of runs and number formats (what directives and {{...}} may name)    */
/* ------------------------------------------------------------------------ */

/* A value of a run by name: a metric (test_loss, test_accuracy, loss,
 * val_loss, accuracy, val_accuracy (last epoch), best_val_loss,
 * best_val_accuracy, best_epoch, epochs_run, seconds, seconds_per_epoch,
 * n_train, n_val, n_test, diverged, diverged_step, suggest_min,
 * suggest_steep) or any trainer key (learning_rate, ...). Returns 0 and sets
 * *v for numbers; 1 and *s for names (optimizer, schedule, model); -1 if the
 * name is unknown (accepted names in kiln_metric_names()). */
int kiln_run_value(const kiln_run *r, const char *name, double *v, const char **s);
const char *kiln_metric_names(void);
/* A statistic over a {group}'s runs: n, id, label, or STAT_METRIC with STAT
 * mean, sd (sample standard deviation), min, max, range (max - min) or sum and
 * METRIC a number every run has (test_accuracy, seconds, ...). Returns as
 * kiln_run_value; NaN while a run has no result. */
int kiln_group_value(const kiln_directive *g, const char *name, double *v, const char **s);
/* A value of a {compare} (after kiln_doc_resolve): diff (mean a - mean b),
 * ci_low, ci_high, p, t, df, mean_a, mean_b, sd_a, sd_b, n_a, n_b (numbers),
 * verdict, metric, a, b, id (names). Returns as kiln_run_value; -1 for a
 * name not in kiln_compare_names(). */
int kiln_compare_value(const kiln_directive *c, const char *name, double *v, const char **s);
const char *kiln_compare_names(void);
/* Format a number: "" / ".3f" / ".2e" / ".4g" / ".1%" / "d" / "sci" (x10^n
 * in text). Returns 0, or -1 for a format it does not know. */
int kiln_format_value(double v, const char *fmt, char *buf, size_t n);
/* The shortest "%.Ng" spelling (N = 1..17) that reads back as exactly v:
 * 0.921, not 0.92100000000000004; a whole number below 1e15 in full (250,
 * not 2.5e+02); "nan", "inf", "-inf" for the others.
 * Every number shown to a user goes through it. Returns buf. */
const char *kiln_shortest(double v, char *buf, size_t n);

/* "did you mean ...?" (src/doc/suggest.c). kiln_suggest writes to buf the
 * name in names (words of letters, digits and _ - . %, separated by anything
 * else) nearest to word by edit distance (an insertion, deletion, change or
 * swap of two neighbours counts 1; case ignored), when it is near enough to
 * be a slip: at most 1 edit for words up to 4 characters, 2 up to 8, else 3,
 * and fewer than the word's length; failing that the one name word begins.
 * Returns 1, or 0 when no name is near or word itself is accepted.
 * kiln_did_you_mean writes " (did you mean 'NAME'?)" or "" and returns buf. */
int kiln_suggest(const char *word, const char *names, char *buf, size_t n);
const char *kiln_did_you_mean(const char *word, const char *names, char *buf, size_t n);
/* Every accepted value of a trainer key that takes a name (optimizer,
 * schedule, ...), space-separated, in full. 0, or -1 for another key. */
int kiln_key_choices(const char *key, char *buf, size_t n);
/* kiln_config_set / kiln_config_set_kv, whose message for an unknown key or
 * name also says which accepted one is nearest. */
int kiln_config_set_hinted(kiln_config *c, const char *key, const char *value, char *err, size_t n);
int kiln_config_set_kv_hinted(kiln_config *c, const char *kv, char *err, size_t n);

/* The smoke shrink applied to a config (train_limit 2000, test_limit 500,
 * epochs at most 2, lr-find at most 40 steps). */
void kiln_smoke_shrink(kiln_config *c);

#ifdef __cplusplus
}
#endif
#endif
