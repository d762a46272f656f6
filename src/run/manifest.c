/* The build manifest: what a build used and got, run by run, so that a
 * later build can be compared with it (`kiln diff`).
 *
 *   CACHE/manifest/build.json
 *   {"format": "kiln-manifest-1", "kiln": version,
 *    "trainer": the fingerprint in the build's keys, "data": data digest,
 *    "scale": "full" | "smoke",
 *    "runs": [ {"id", "kind": "train"|"lrfind", "key", "config": canonical text,
 *               "trainer", "data", "file", "line", "label",
 *               "metrics": {"test_loss": ..., ...}} ... ]   (document order)
 *    "compares": [ {"id", "file", "line", "a", "b", "metric", "n_a", "n_b",
 *                   "verdict", "diff", "ci_low", "ci_high", "p"} ... ]
 *                 (only when the document has a {compare})
 *    "check": kiln_manifest_check of the rest}
 *
 * Numbers are written with 10 significant digits, as the cache entries hold
 * them, NaN as null; counts as integers. Nothing in it depends on the time of the build, so a build that
 * reran nothing writes the same bytes, and then the file is left alone (its
 * mtime and the git working tree stay clean). */
#include "run/run.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static const char *fingerprint_override;

void kiln_report_fingerprint_override(const char *fp)
{
    fingerprint_override = fp && *fp ? fp : NULL;
}

const char *kiln_report_fingerprint(void)
{
    return fingerprint_override ? fingerprint_override : kiln_trainer_fingerprint();
}

static const char *const TRAIN_NAMES[] = {"test_loss", "test_accuracy", "loss", "accuracy", "val_loss",
                                          "val_accuracy", "best_val_loss", "best_val_accuracy", "epochs_run",
                                          "n_train", "n_val", "n_test", "diverged", "seconds", NULL};
static const char *const LRFIND_NAMES[] = {"steepest_lr", "min_loss_lr", "minimum_lr", "suggested_base_lr",
                                           "suggested_max_lr", "steps", "stopped_early", "seconds", NULL};

/* 10 significant digits: the precision of the cache entries the metrics come
 * from, so the manifest holds them exactly as stored */
#define DUMP_FLAGS (JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

void kiln_manifest_check(const json_t *manifest, char out[17])
{
    json_t *c = json_copy((json_t *)manifest); /* shallow: members shared */
    json_object_del(c, "check");
    char *s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
    json_decref(c);
    XXH64_hash_t h = XXH3_64bits(s ? s : "", s ? strlen(s) : 0);
    free(s);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* every {compare} with its numbers and verdict, so that kiln diff can say
 * which verdicts a rebuild changed */
static json_t *compares_json(const kiln_doc *doc)
{
    json_t *a = json_array();
    for (int i = 0; i < doc->n_compares; i++) {
        const kiln_directive *x = doc->compares[i];
        const kiln_comparison *c = x->cmp;
        if (!c) continue;
        json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:i, s:i, s:s}", "id", x->id, "file", x->file ? x->file : "",
                              "line", x->line, "a", c->a_id, "b", c->b_id, "metric", c->metric, "n_a", c->n_a, "n_b",
                              c->n_b, "verdict", c->verdict ? c->verdict : "");
        if (!o) continue;
        json_object_set_new(o, "diff", num(c->diff));
        json_object_set_new(o, "ci_low", num(c->ci_low));
        json_object_set_new(o, "ci_high", num(c->ci_high));
        json_object_set_new(o, "p", num(c->p));
        json_array_append_new(a, o);
    }
    return a;
}

int kiln_manifest_write(const kiln_doc *doc, const char *cache_dir, kiln_diag *d)
{
    json_t *runs = json_array();
    for (int i = 0; i < doc->n_runs; i++) {
        const kiln_run *r = doc->runs[i];
        if (!r->needed || !r->ok) continue;
        json_t *m = json_object();
        const char *const *names = r->kind == KILN_RUN_LRFIND ? LRFIND_NAMES : TRAIN_NAMES;
        for (int k = 0; names[k]; k++) {
            double v;
            const char *s;
            if (kiln_run_value(r, names[k], &v, &s)) continue;
            int whole = isfinite(v) && v == floor(v) && fabs(v) < 1e15 && strcmp(names[k], "seconds") &&
                        !strstr(names[k], "loss") && !strstr(names[k], "accuracy") && !strstr(names[k], "_lr");
            json_object_set_new(m, names[k], whole ? json_integer((json_int_t)v) : num(v));
        }
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:o}", "id", r->id, "kind",
                              r->kind == KILN_RUN_LRFIND ? "lrfind" : "train", "key", r->key, "config",
                              r->canonical ? r->canonical : "", "trainer", doc->trainer_fingerprint, "data",
                              r->data_digest, "file", r->file ? r->file : "", "line", r->line, "label",
                              r->label ? r->label : r->id, "metrics", m);
        if (!o) {
            json_decref(runs);
            kd_error(d, KILN_REPORT_EFAIL, cache_dir, 0, "cannot write the manifest: run '%s' does not serialise", r->id);
            return KILN_REPORT_EFAIL;
        }
        json_array_append_new(runs, o);
    }
    json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "format", "kiln-manifest-1", "kiln", kiln_version(),
                             "trainer", doc->trainer_fingerprint, "data", doc->data_digest, "scale",
                             doc->smoke ? "smoke" : "full", "runs", runs);
    if (doc->n_compares) json_object_set_new(root, "compares", compares_json(doc));
    /* the check over the numbers as they will read back */
    char *text = kc_dump_sealed(root, DUMP_FLAGS, DUMP_FLAGS, kiln_manifest_check);
    if (!text) {
        kd_error(d, KILN_REPORT_EFAIL, cache_dir, 0, "cannot serialise the build manifest");
        return KILN_REPORT_EFAIL;
    }
    sbuf b = {0};
    sb_add(&b, text);
    sb_addc(&b, '\n');
    free(text);

    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/manifest", cache_dir);
    snprintf(path, sizeof path, "%s/%s", cache_dir, KILN_MANIFEST_FILE);
    int rc = 0;
    size_t old_len = 0;
    char *old = kr_read_file(path, &old_len);
    if (!(old && old_len == b.len && !memcmp(old, b.s, b.len))) {
        if (kr_mkdirs(dir) || kr_write_atomic(path, b.s, b.len)) {
            if (errno == EACCES || errno == EROFS || errno == EPERM) /* a read-only cache: the site still builds */
                kd_warn(d, path, 0, "cannot record this build's manifest (%s): kiln diff compares with the one recorded before",
                        strerror(errno));
            else {
                kd_error(d, KILN_REPORT_EFAIL, path, 0, "cannot write the build manifest: %s", strerror(errno));
                rc = KILN_REPORT_EFAIL;
            }
        }
    }
    free(old);
    sb_free(&b);
    return rc;
}
