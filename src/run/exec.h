/* Executors: who trains the runs a build finds missing from the cache.
 *
 * The runner (run.c) works out, phase by phase, which runs must train (the
 * same keys whoever trains them), and hands each phase's list to one
 * executor:
 *
 *   local (run.c)         this process trains them, -j at a time;
 *   slurm (exec_slurm.c)  one Slurm job array per phase; each task runs
 *                         `kiln task CACHE KEY` (exec_task.c) on a node,
 *                         which trains the run described by the spec file
 *                         CACHE/slurm/spec/KEY.json and stores its entry in
 *                         the cache (temporary file + rename).
 *
 * Contract of an executor: on return every run of the list either has its
 * entry stored in the cache and loaded back into the run (r->ok set), or
 * has an error in d naming it (and no entry). It adds to st's runs_trained,
 * runs_failed and seconds_training. */
#ifndef KILN_RUN_EXEC_H
#define KILN_RUN_EXEC_H

#include "run/run.h"

typedef struct kx_phase {
    kiln_doc *doc;
    kiln_diag *d;
    kiln_build_stats *st;
    const char *cache;        /* the cache folder */
    const char *data_dir;     /* the MNIST files, as the build found them */
    kiln_run **todo;          /* runs to train: distinct keys */
    int n_todo;
    int phase;                /* 0: complete configs, 1: values from phase 0 */
    FILE *log;                /* progress; quiet in doc->opts */
} kx_phase;

/* The Slurm executor. Returns 0 when every run was stored, else 1. */
int kx_slurm_phase(kx_phase *x);

/* Train one run (a range test or a training) with threads threads; a
 * checkpoint goes to CACHE/weights/KEY.kwts. Sets r->seconds, and r->ok on
 * success. 0 ok, else the trainer's error in err. */
int kr_train_one(kiln_run *r, const char *cache, const kiln_dataset *train, const kiln_dataset *test, int threads,
                 const kiln_progress *prog, char *err, size_t n);
/* A duration for an ETA (finite, >= 0): "42s", "3m05s", "2h10m". */
void kr_fmt_eta(double s, char *buf, size_t n);
/* The canonical text and cache key of a run whose config is complete. */
void kr_compute_key(kiln_arena *a, kiln_run *r, const char *fingerprint, const char *data_digest);

/* Spec files: what a task needs to train a run by key, written by the
 * submitter, read on the node. CACHE/slurm/spec/KEY.json. */
int kx_spec_write(const char *cache, const kiln_run *r, const char *fingerprint, const char *data_dir, char *err,
                  size_t n);
void kx_spec_path(const char *cache, const char *key, char *buf, size_t n);

#endif
