/* Private to kiln diff (diff.c) and kiln diff --quick (quick.c): a recorded
 * build (its manifest, wherever it was read from) and its cache entries. */
#ifndef KILN_REPORT_DIFF_INTERNAL_H
#define KILN_REPORT_DIFF_INTERNAL_H

#include "report/internal.h"

#include <jansson.h>

/* One run as the manifest lists it. */
typedef struct kdf_run {
    const char *id, *kind, *key, *config, *label, *file;
    int line;
    json_t *metrics;
} kdf_run;

/* One side of a comparison: a manifest and where its entries are. */
typedef struct kdf_side {
    const char *role;        /* "old" / "new" */
    char desc[4400];         /* what was read: a path or REV:path */
    char rev[256];           /* a git revision, "" for a file */
    char dir[4400];          /* a file's entries folder (its cache), "" for a revision */
    char peer[4400];         /* old side: the new side's entries folder, "" if none */
    const char *cache;       /* the working tree's cache */
    json_t *root;
    const char *trainer, *data, *scale, *kiln;
    kdf_run *runs;
    int n;
} kdf_side;

/* One run's stored result, its check sum verified. */
typedef struct kdf_entry {
    int ok;
    kiln_history h;          /* train */
    double *lr, *loss;       /* lrfind */
    long n;
    int stopped_early;
    char where[4400];
    char why[9400];          /* why it was not found */
} kdf_entry;

void kdf_side_init(kdf_side *s, const char *role, const char *cache);
/* spec: a manifest file, a cache folder holding one, or a git revision of
 * the repository holding s->cache. 0 ok, else -1 with the error in d. */
int kdf_open_side(kdf_side *s, const char *spec, kiln_diag *d);
void kdf_close_side(kdf_side *s);
/* 0 ok, else -1 with e->why set. */
int kdf_load_entry(kdf_entry *e, const kdf_side *s, const kdf_run *m);
void kdf_entry_free(kdf_entry *e);

#endif
