/* kiln diff library (src/diff/): two builds compared run by run, over their
 * manifests and cache entries (see README, "What changed: make diff"). */
#ifndef KILN_DIFF_H
#define KILN_DIFF_H

#include <stdio.h>

#include "kiln/base.h"
#include "kiln/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The verdict on one run, old build against new. */
enum kiln_verdict {
    KILN_VERDICT_IDENTICAL,   /* bit-for-bit the same history as stored (or the same key) */
    KILN_VERDICT_NOISE,       /* not identical, within the tolerances */
    KILN_VERDICT_CHANGED,     /* beyond a tolerance */
    KILN_VERDICT_ADDED,       /* only in the new build */
    KILN_VERDICT_REMOVED,     /* only in the old build */
};
const char *kiln_verdict_name(int verdict); /* "identical", "within noise", ... */

#define KILN_DIFF_ACC_TOL 0.002   /* |delta test_accuracy|: 20 of 10,000 test images */
#define KILN_DIFF_LOSS_TOL 0.075  /* |delta test_loss| / |old test_loss| (see README) */

/* Every per-epoch value (loss, accuracy, val_loss, val_accuracy, lr), every
 * per-step value (loss, lr), the test metrics, the example counts and how
 * the run ended equal, bit for bit as stored; NaN equals NaN; wall times are
 * ignored. */
int kiln_history_identical(const kiln_history *a, const kiln_history *b);
/* IDENTICAL when kiln_history_identical; else NOISE when |new - old test
 * accuracy| <= acc_tol and |new - old test loss| <= loss_tol * |old test
 * loss| and both diverged or neither did; else CHANGED. */
int kiln_history_verdict(const kiln_history *old_h, const kiln_history *new_h,
                         double acc_tol, double loss_tol);

typedef struct kiln_diff_opts {
    const char *cache_dir;   /* the working tree's cache (default "out/cache"):
                                the default NEW manifest, the git revisions'
                                folder, and where entries are looked for first */
    double acc_tol, loss_tol; /* see kiln_history_verdict */
    FILE *table;             /* the readable table; NULL = none */
    int epochs;              /* the table also lists every epoch of runs that moved */
    const char *html_path;   /* page with overlay plots (PNGs in a folder
                                "diff" beside it); NULL = none */
    const char *json_path;   /* JSON for scripts; "-" = stdout; NULL = none */
    const struct kiln_doc *site; /* the article as loaded (kiln_doc_load): the
                                page takes the site's layout, header and chapter
                                list (kiln_html_page); NULL = a page of its own */
    const char *site_dir;    /* with site: the built site the page links to
                                (default "out"), relative links from the page */
} kiln_diff_opts;

/* cache_dir "out/cache", tolerances KILN_DIFF_ACC_TOL / KILN_DIFF_LOSS_TOL,
 * everything else off. */
void kiln_diff_opts_init(kiln_diff_opts *o);

/* Compare two builds. old_src / new_src: a manifest file, a cache folder
 * holding one, or a git revision (its CACHE/manifest/build.json and entries,
 * read with git show; entries found in the working tree's cache are read
 * there). NULL: old = "HEAD", new = the working tree's manifest.
 * Returns 0 when no run changed beyond the tolerances (identical or within
 * noise, none added or removed), 1 when one did, KILN_REPORT_EINPUT (2) for
 * bad input (a missing or damaged manifest or entry, a revision without a
 * manifest, builds from different data or scales) or an output that could
 * not be written; messages in d. Reads only: nothing in any cache changes. */
int kiln_diff(const char *old_src, const char *new_src, const kiln_diff_opts *o,
              kiln_diag *d);

/* ------------------------------------------------------------------------ */
/* kiln diff --quick: a recorded build's first steps, retrained               */
/* ------------------------------------------------------------------------ */

typedef struct kiln_quick_opts {
    const char *cache_dir;   /* the working tree's cache (default "out/cache") */
    const char *data_dir;    /* NULL: $KILN_DATA_DIR, else out/data */
    long steps;              /* steps compared per run; 0 = one epoch of each run */
    int jobs;                /* runs trained at once; 0 = one per core */
    int threads;             /* trainer threads in all; 0 = every core */
    FILE *out;               /* a line per run and the summary; NULL = none */
} kiln_quick_opts;

typedef struct kiln_quick_summary {
    int runs, identical, differ, failed;
    int rounded;             /* range tests: compared to the stored 10 digits */
    double seconds;
} kiln_quick_summary;

void kiln_quick_opts_init(kiln_quick_opts *o);
/* Train every run of a recorded build (old_src as in kiln_diff; NULL =
 * "HEAD") with the linked-in trainer for its first o->steps steps and
 * compare each step's loss and rate bit for bit with the stored history.
 * Prints "ID identical through step N" or "ID first differs at step K:
 * loss OLD -> NEW" per run (steps counted from 1; step 1's loss is computed
 * before the first update, so an optimizer change shows from step 2).
 * Returns 0 when every run is identical, 1 when one differs, 2 for bad
 * input (a missing or damaged manifest or entry, other data, a stored config
 * this trainer cannot set). Writes nothing to any cache. */
int kiln_diff_quick(const char *old_src, const kiln_quick_opts *o,
                    kiln_quick_summary *sum, kiln_diag *d);

#ifdef __cplusplus
}
#endif
#endif
