/* Private to src/run/ and the orchestrator: the cache of run results.
 *
 *   run.c       kiln_doc_run: keys, values taken from other runs, the
 *               worker pool that trains the misses, progress
 *   cache.c     one entry per run (CACHE/KEY.json), the data digest, the lock
 *   key.c       the cache key
 *   manifest.c  CACHE/manifest/build.json and the fingerprint override
 *   exec.h      the executors (who trains a phase's misses), exec_slurm.c
 *               (a Slurm job array per phase) and exec_task.c (`kiln task`,
 *               one run on a node) */
#ifndef KILN_RUN_RUN_H
#define KILN_RUN_RUN_H

#include "kiln/run.h"
#include "doc/doc.h"

#include <stdio.h>

/* Cache: look up / store one run. dir is the cache folder. */
typedef enum { KC_MISS, KC_HIT, KC_CORRUPT } kc_status;
kc_status kc_load(const char *dir, kiln_run *r, kiln_arena *a, char *why, size_t n);
/* The same, with entries parsed and checked before taken from memo (NULL:
 * none) when their file has not changed. */
kc_status kc_load_memo(const char *dir, kiln_run *r, kiln_arena *a, kiln_memo *memo, char *why, size_t n);
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
/* ... its fd, -1 with errno set, or KC_READ_ONLY when the folder cannot be
 * written (then nothing is locked and nothing may be stored). */
#define KC_READ_ONLY (-2)
int kc_lock(const char *dir, FILE *log, int quiet);
void kc_unlock(int fd);

/* Cache entries (entry.c): the seal of a whole entry (every field but
 * "check"), the format-1 check of its result alone, and the check of every
 * field of a parsed entry: format 2 when sealed, else 1 (read by kiln diff
 * from old revisions and by the resealing); config NULL or "" = any. 0 ok,
 * else why = "WHERE: what is wrong". */
struct json_t;
void kc_seal(const struct json_t *root, char out[17]);
void kc_result_check(const struct json_t *result, char out[17]);
int kc_entry_check(const struct json_t *root, const char *key, const char *kind, const char *config, int sealed,
                   const char *where, char *why, size_t n);
/* root (taken) as text sealed over the numbers as they will read back:
 * dumped with dump_flags, parsed again, seal(parsed) stored as "check", then
 * dumped with flags. malloc'd; NULL when it cannot be serialised. Cache
 * entries (kc_seal) and build manifests (kiln_manifest_check) alike. */
char *kc_dump_sealed(struct json_t *root, size_t dump_flags, size_t flags,
                     void (*seal)(const struct json_t *, char out[17]));

#endif
