/* Private to kiln diff (src/diff/): the two sides, their runs and the rows
 * of the comparison.
 *
 *   diff.c      kiln_diff: open both sides, compare, write what was asked for
 *   side.c      a side: its manifest and cache entries (files, folders, git)
 *   compare.c   one run, old against new
 *   verdict.c   the verdict rule on histories
 *   table.c     the table and the JSON
 *   html.c      the HTML page and its overlay plots
 *   compares.c  the {compare} verdicts of the two manifests */
#ifndef KILN_DIFF_INTERNAL_H
#define KILN_DIFF_INTERNAL_H

#include "kiln/diff.h"
#include "kiln/run.h"
#include "doc/doc.h"

#include <jansson.h>

/* ---- one side: a manifest and where its entries are ------------------------------------- */

typedef struct mrun {
    const char *id, *kind, *key, *config, *label, *file;
    const char *data;          /* the run's data digest ("" in older manifests: the build's) */
    int line;
    json_t *metrics;
} mrun;

typedef struct side {
    const char *role;        /* "old" / "new" */
    char desc[4400];         /* what was read: a path or REV:path */
    char rev[256];           /* a git revision, "" for a file */
    char dir[4400];          /* a file's entries folder (its cache), "" for a revision */
    char peer[4400];         /* old side: the new side's entries folder, "" if none */
    const char *cache;       /* the working tree's cache */
    json_t *root;
    const char *trainer, *data, *scale, *kiln;
    mrun *runs;
    int n;
} side;

/* ---- cache entries ---------------------------------------------------------------------- */

typedef struct entry {
    int ok;
    kiln_history h;          /* train */
    double *lr, *loss;       /* lrfind */
    long n;
    int stopped_early;
    char where[4400];
    char why[9400];          /* why it was not found */
} entry;

/* ---- comparing ------------------------------------------------------------------------------ */

enum { M_ACC, M_LOSS, M_SECONDS, N_M };

typedef struct row {
    const char *id, *kind, *label;
    const mrun *o, *n;
    entry eo, en;
    int verdict;
    int same_key, config_changed, histories; /* histories: both entries compared */
    char note[9600];
    sbuf config_diff;                        /* "key: old -> new" lines */
    /* largest per-epoch change of loss, val_loss, accuracy, val_accuracy */
    double max_delta[4];
    int max_epoch[4];
} row;

const char *verdict_slug(int v);
int same_d(double a, double b);
int noise_rule(double oacc, double nacc, double oloss, double nloss, int odiv, int ndiv, double acc_tol,
                      double loss_tol);
int git_capture(const char *dir, const char *a1, const char *a2, const char *a3, char **out, size_t *len);
int open_side(side *s, const char *spec, kiln_diag *d);
void close_side(side *s);
void entry_free(entry *e);
int load_entry(entry *e, const side *s, const mrun *m);
extern const char *const EPOCH_SERIES[4];
double epoch_value(const kiln_epoch_log *e, int k);
double metric(const mrun *m, const char *name);
void compare(row *r, const side *so, const side *sn, const kiln_diff_opts *o, kiln_diag *d);
void fmt_num(char *buf, size_t n, double v, const char *f);
void change_text(char *buf, size_t n, double a, double b, const char *f, const char *df, int rel);
json_t *jnum(double v);
json_t *change_json(double a, double b);
const char *verdict_cell(const row *r, char *buf, size_t n);
void print_table(FILE *f, row *rows, int n, const side *so, const side *sn, const kiln_diff_opts *o, const int *count);
json_t *series_json(const entry *e, int k);
json_t *diff_json(row *rows, int n, const side *so, const side *sn, const kiln_diff_opts *o, const int *count,
                         int changed);
/* the {compare} verdicts, old against new, printed to table (NULL: not) and
 * as a JSON array into *json (NULL: not); the number that changed (a verdict
 * changed, a comparison added or removed) */
int diff_compares(const side *so, const side *sn, FILE *table, json_t **json);
/* the same as a table of diff.html (nothing when neither build has one) */
void diff_compares_html(const side *so, const side *sn, sbuf *b);
int write_html(row *rows, int n, const side *so, const side *sn, const kiln_diff_opts *o, const int *count,
                      kiln_diag *d);

#endif
