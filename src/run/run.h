/* Private to src/run/ and the orchestrator: the cache of run results.
 *
 *   run.c       kiln_doc_run: keys, values taken from other runs, the
 *               worker pool that trains the misses, progress
 *   cache.c     one entry per run (CACHE/KEY.json), the data digest, the lock
 *   key.c       the cache key
 *   manifest.c  CACHE/manifest/build.json and the fingerprint override */
#ifndef KILN_RUN_RUN_H
#define KILN_RUN_RUN_H

#include "kiln/run.h"
#include "doc/doc.h"

#include <stdio.h>

/* Cache: look up / store one run. dir is the cache folder. */
typedef enum { KC_MISS, KC_HIT, KC_CORRUPT } kc_status;
kc_status kc_load(const char *dir, kiln_run *r, kiln_arena *a, char *why, size_t n);
/* threads: the trainer threads the run used, "N" or "MIN-MAX" when the
 * scheduler changed them as other runs ended (provenance only). */
int kc_store(const char *dir, kiln_run *r, const char *threads, char *err, size_t n);
/* The threads the run of rank `rank` (0-based, among n_active runs in
 * progress) gets of `cores`: an equal share, the remainder to the lowest
 * ranks, at least 1. */
int kr_thread_share(int cores, int n_active, int rank);
/* The data digest: from the stamp file when the data files are unchanged,
 * else loading them. *loaded is set when train/test were loaded. */
int kc_data_digest(const char *data_dir, char out[65], kiln_dataset *train,
                   kiln_dataset *test, int *loaded, char *err, size_t n);
/* A lock on the cache folder for the whole build (blocks, says so). */
int kc_lock(const char *dir, FILE *log, int quiet);
void kc_unlock(int fd);

#endif
