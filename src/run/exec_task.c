/* One run by key, on a cluster node: the spec file the submitting build
 * wrote (CACHE/slurm/spec/KEY.json) -> the run's config -> training -> its
 * cache entry (temporary file + rename, as every entry). `kiln task CACHE
 * KEY` calls kiln_task_run.
 *
 * The node refuses, naming itself, when its kiln's trainer fingerprint is
 * not the build's (different machine code could give other numbers under the
 * same key) or when the data set it reads is not the one the build keyed
 * the run on. The spec holds the config as canonical text; the task parses
 * it back and checks that the key it computes is the spec's. */
#include "run/exec.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void kx_spec_path(const char *cache, const char *key, char *buf, size_t n)
{
    snprintf(buf, n, "%s/slurm/spec/%s.json", cache, key);
}

int kx_spec_write(const char *cache, const kiln_run *r, const char *fingerprint, const char *data_dir, char *err,
                  size_t n)
{
    char *config = kiln_config_canonical(&r->config);
    const kiln_lrfind_opts *o = &r->lrfind_opts;
    json_t *lf = json_pack("{s:f, s:f, s:i, s:I, s:i, s:f, s:f}", "start_lr", o->start_lr, "end_lr", o->end_lr, "epochs",
                           o->epochs, "steps", (json_int_t)o->steps, "sma", o->sma, "beta", o->beta, "stop_factor",
                           o->stop_factor);
    json_t *root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:o, s:i, s:s, s:s, s:s}", "format", 1, "key",
                             r->key, "kind", r->kind == KILN_RUN_LRFIND ? "lrfind" : "train", "id", r->id, "file",
                             r->file, "line", r->line, "config", config, "canonical", r->canonical, "lrfind", lf,
                             "checkpoint", r->checkpoint, "fingerprint", fingerprint, "data", r->data_digest,
                             "data_dir", data_dir);
    free(config);
    /* doubles as the shortest text that reads back to the same bits */
    char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(root);
    if (!text) { snprintf(err, n, "cannot serialise the spec of run '%s'", r->id); return -1; }
    char path[4096];
    kx_spec_path(cache, r->key, path, sizeof path);
    int rc = kr_write_atomic(path, text, strlen(text));
    free(text);
    if (rc) { snprintf(err, n, "cannot write %s: %s", path, strerror(errno)); return -1; }
    return 0;
}

static const char *node_name(char *buf, size_t n)
{
    const char *e = getenv("SLURMD_NODENAME");
    if (e && *e) return e;
    if (gethostname(buf, n)) snprintf(buf, n, "unknown");
    buf[n - 1] = 0;
    return buf;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static double jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The spec's config text, key=value a line, into c. */
static int config_from_text(kiln_config *c, const char *text, char *err, size_t n)
{
    kiln_config_init(c);
    char *copy = strdup(text);
    int rc = 0;
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save))
        rc = kiln_config_set_kv(c, line, err, n);
    free(copy);
    return rc;
}

typedef struct task_log {
    FILE *f;
    const char *id;
} task_log;

static void on_epoch(void *ud, int epoch, int epochs, const kiln_epoch_log *e)
{
    task_log *t = ud;
    fprintf(t->f, "kiln: %s epoch %d/%d loss %.4f val_loss %.4f val_accuracy %.4f (%.1f s)\n", t->id, epoch + 1, epochs,
            e->loss, e->val_loss, e->val_accuracy, e->seconds);
    fflush(t->f);
}

/* The steps of kiln_task_run once the spec is parsed; r lives in a. */
static int task_train(kiln_arena *a, json_t *spec, kiln_run *r, const char *cache, const char *node, FILE *log,
                      char *err, size_t n)
{
    const char *data_dir = jstr(spec, "data_dir"), *want_data = jstr(spec, "data");
    kiln_dataset train, test;
    int loaded = 0;
    char digest[65];
    if (kc_data_digest(data_dir, digest, &train, &test, &loaded, err, n)) {
        char e2[1024];
        snprintf(e2, sizeof e2, "node %s cannot read the data set: %s (it must be at the same path on every node)",
                 node, err);
        snprintf(err, n, "%s", e2);
        return 3;
    }
    if (strcmp(digest, want_data)) {
        snprintf(err, n, "node %s: the data set in %s (digest %.16s) is not the build's (digest %.16s)", node, data_dir,
                 digest, want_data);
        if (loaded) { kiln_dataset_free(&train); kiln_dataset_free(&test); }
        return 3;
    }
    if (!loaded && kiln_mnist_load(data_dir, &train, &test, err, n)) return 1;

    int rc = 0;
    char why[1024];
    if (kc_load(cache, r, a, why, sizeof why) == KC_HIT) {
        fprintf(log, "kiln: %s is in the cache already (key %s); nothing to do\n", r->id, r->key);
    } else {
        const char *cpt = getenv("SLURM_CPUS_PER_TASK");
        int threads = cpt && atoi(cpt) > 0 ? atoi(cpt) : 1;
        fprintf(log, "kiln: %s (key %.12s) on node %s, %d thread%s\n", r->id, r->key, node, threads,
                threads == 1 ? "" : "s");
        fflush(log);
        task_log tl = {log, r->id};
        kiln_progress prog = {on_epoch, NULL, &tl, 0};
        rc = kr_train_one(r, cache, &train, &test, threads, &prog, err, n);
        char used[16];
        snprintf(used, sizeof used, "%d", threads);
        if (!rc && kc_store(cache, r, used, err, n)) rc = 1;
        if (!rc && kc_load(cache, r, a, why, sizeof why) != KC_HIT) {
            snprintf(err, n, "the entry just written does not read back: %s", why);
            rc = 1;
        }
        if (!rc) fprintf(log, "kiln: %s done in %.1f s, stored as %s/%s.json\n", r->id, r->seconds, cache, r->key);
    }
    if (r->ok) {
        if (r->kind == KILN_RUN_TRAIN) kiln_history_free(&r->history);
        else kiln_lrfind_free(&r->lrfind);
    }
    kiln_dataset_free(&train);
    kiln_dataset_free(&test);
    return rc;
}

int kiln_task_run(const char *cache, const char *key, FILE *log, char *err, size_t n)
{
    char path[4096], host[256];
    const char *node = node_name(host, sizeof host);
    kx_spec_path(cache, key, path, sizeof path);
    json_error_t je;
    json_t *spec = json_load_file(path, 0, &je);
    if (!spec) { snprintf(err, n, "%s: cannot read the run's spec (%s)", path, je.text); return 2; }
    const char *skey = jstr(spec, "key"), *kind = jstr(spec, "kind"), *id = jstr(spec, "id"),
               *config = jstr(spec, "config"), *canonical = jstr(spec, "canonical"), *fp = jstr(spec, "fingerprint");
    json_t *lf = json_object_get(spec, "lrfind");
    if (!skey || strcmp(skey, key) || !kind || !id || !config || !canonical || !fp || !jstr(spec, "data") ||
        !jstr(spec, "data_dir") || !json_is_object(lf) || (strcmp(kind, "train") && strcmp(kind, "lrfind"))) {
        snprintf(err, n, "%s: not a kiln run spec for key %s", path, key);
        json_decref(spec);
        return 2;
    }
    const char *mine = kiln_report_fingerprint();
    if (strcmp(fp, mine)) {
        snprintf(err, n,
                 "node %s refuses run '%s': its kiln has trainer fingerprint %s, the build's is %s (other machine "
                 "code could give other numbers under the same cache key; build kiln for the nodes as on the "
                 "submitting host, or name a matching binary with --slurm-kiln)",
                 node, id, mine, fp);
        json_decref(spec);
        return 3;
    }
    kiln_arena *a = ka_new();
    kiln_run *r = ka_alloc(a, sizeof *r);
    r->id = ka_strdup(a, id);
    r->file = ka_strdup(a, jstr(spec, "file"));
    r->line = (int)jnum(spec, "line");
    r->kind = strcmp(kind, "lrfind") ? KILN_RUN_TRAIN : KILN_RUN_LRFIND;
    r->checkpoint = (int)jnum(spec, "checkpoint");
    kiln_lrfind_opts_init(&r->lrfind_opts);
    r->lrfind_opts.start_lr = jnum(lf, "start_lr");
    r->lrfind_opts.end_lr = jnum(lf, "end_lr");
    r->lrfind_opts.epochs = (int)jnum(lf, "epochs");
    r->lrfind_opts.steps = (long)jnum(lf, "steps");
    r->lrfind_opts.sma = (int)jnum(lf, "sma");
    r->lrfind_opts.beta = jnum(lf, "beta");
    r->lrfind_opts.stop_factor = jnum(lf, "stop_factor");
    int rc = config_from_text(&r->config, config, err, n) ? 2 : 0;
    char *back = rc ? NULL : kiln_config_canonical(&r->config);
    if (!rc && strcmp(back, config)) {
        snprintf(err, n, "%s: the config does not read back to the same text on node %s", path, node);
        rc = 2;
    }
    free(back);
    if (!rc) {
        kr_compute_key(a, r, mine, ka_strdup(a, jstr(spec, "data")));
        if (strcmp(r->key, key) || strcmp(r->canonical, canonical)) {
            snprintf(err, n, "node %s computes key %s for run '%s', the build computed %s", node, r->key, id, key);
            rc = 3;
        }
    }
    if (!rc) rc = task_train(a, spec, r, cache, node, log, err, n);
    ka_free(a);
    json_decref(spec);
    return rc;
}
