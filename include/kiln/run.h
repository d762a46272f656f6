/* kiln run library (src/run/): every run a document needs, from the cache or
 * trained, and the build manifest.
 *
 *   kiln_doc_run      every run a directive needs: cache lookup, training
 *                     through kiln_train for the misses (in parallel), cache
 *                     writes; fills kiln_run.history and provenance.
 *
 * The cache: CACHE/KEY.json per run (see README, "The report build and its
 * cache"); the manifest: CACHE/manifest/build.json after every good build. */
#ifndef KILN_RUN_H
#define KILN_RUN_H

#include "kiln/doc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kiln_build_stats {
    int runs_total, runs_cached, runs_trained, runs_failed, runs_corrupt;
    int runs_missing;  /* with no_run: runs that had no result to take */
    int pages, figures;
    double seconds_total, seconds_training, seconds_writing;
} kiln_build_stats;

/* Fill every needed run from the cache or by training. */
int kiln_doc_run(kiln_doc *doc, kiln_build_stats *st, kiln_diag *d);

/* One run on a cluster node (`kiln task CACHE KEY`, what each task of a
 * Slurm build's job array runs): reads CACHE/slurm/spec/KEY.json (written by
 * the build), checks that this kiln's trainer fingerprint and the data set
 * are the build's, trains the run and stores CACHE/KEY.json atomically; an
 * entry already there is kept. Progress on log. Returns 0 ok, 1 the run
 * failed, 2 a bad or missing spec, 3 this node cannot compute the run as
 * the build keyed it (fingerprint, data); the message, naming the node, in
 * err. */
int kiln_task_run(const char *cache_dir, const char *key, FILE *log, char *err, size_t n);

/* The cache key of a run: XXH3-128 of "kiln-run-1", kind, the canonical
 * config, the trainer fingerprint and the data digest. */
void kiln_cache_key(const char *kind, const char *canonical, const char *fingerprint,
                    const char *data_digest, char out[33]);

/* Where a build's manifest lives, relative to its cache folder:
 * out/cache/manifest/build.json (committed with the cache). A subfolder, so
 * the cache folder itself holds only KEY.json entries and build.lock. */
#define KILN_MANIFEST_FILE "manifest/build.json"

/* Fill di->digest of a folder (remembered in DIR/.kiln-digest); a named set
 * has it already. 0 or -1. */
int kiln_data_digest(kiln_data_info *di, char *err, size_t n);
/* Load the data for training and check it is what di->digest says (a named
 * set that is not the verified files is refused). 0; -2 when a file is
 * missing (the data was never fetched); -1 otherwise. */
int kiln_data_load(const kiln_data_info *di, kiln_dataset *train, kiln_dataset *test, char *err, size_t n);

/* Write CACHE/manifest/build.json for a document whose runs have results:
 * the build's trainer fingerprint, data digest and scale, and for every run
 * a directive needs (by id) its kind, cache key, canonical config,
 * fingerprint, data digest, where it was declared and its final metrics.
 * Histories stay in the cache entries (the manifest names them by key).
 * Deterministic (no dates, sorted by id); written to a temporary file and
 * renamed, and not rewritten when the bytes would be the same.
 * kiln_report_build calls it after every good build. */
int kiln_manifest_write(const kiln_doc *doc, const char *cache_dir, kiln_diag *d);
/* The check sum a manifest carries in "check": XXH3-64 (16 hex digits) of
 * the manifest object without its "check" member, serialised compactly with
 * sorted keys and 10 significant digits (the precision of cache entries). */
struct json_t;
void kiln_manifest_check(const struct json_t *manifest, char out[17]);

/* For tests only: the builds of this process use fp in place of
 * kiln_trainer_fingerprint() for cache keys and the manifest, as if the
 * trainer's code had changed (NULL restores the real one). The cache
 * entries' provenance still names the compiled-in fingerprint. */
void kiln_report_fingerprint_override(const char *fp);
/* The fingerprint builds use: the override if one is set, else
 * kiln_trainer_fingerprint(). */
const char *kiln_report_fingerprint(void);

/* Reseal a format-1 cache entry (its check covered the result only) as
 * format 2 (the check covers the whole entry), after checking every field
 * and the old check; the key, config and result are kept byte for byte.
 * 0 resealed, 1 already format 2 (and valid), -1 with err set. */
int kiln_cache_reseal(const char *path, char *err, size_t n);

#ifdef __cplusplus
}
#endif
#endif
