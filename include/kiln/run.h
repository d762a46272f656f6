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
    int pages, figures;
    double seconds_total, seconds_training, seconds_writing;
} kiln_build_stats;

/* Fill every needed run from the cache or by training. */
int kiln_doc_run(kiln_doc *doc, kiln_build_stats *st, kiln_diag *d);

/* The cache key of a run: XXH3-128 of "kiln-run-1", kind, the canonical
 * config, the trainer fingerprint and the data digest. */
void kiln_cache_key(const char *kind, const char *canonical, const char *fingerprint,
                    const char *data_digest, char out[33]);

/* Where a build's manifest lives, relative to its cache folder:
 * out/cache/manifest/build.json (committed with the cache). A subfolder, so
 * the cache folder itself holds only KEY.json entries and build.lock. */
#define KILN_MANIFEST_FILE "manifest/build.json"

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

#ifdef __cplusplus
}
#endif
#endif
