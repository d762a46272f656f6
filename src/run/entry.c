/* A cache entry's shape (format 2): its seal, and the type and range of
 * every field, checked before anything in it is used.
 *
 *   {"format": 2, "key": 32 hex digits, "kind": "train" | "lrfind",
 *    "id": a run id, "config": the canonical config text,
 *    "provenance": {"kiln", "trainer", "data", "compiler", "cpu", "date",
 *                   "threads": short printable strings},
 *    "seconds": wall time >= 0, "result": {...},
 *    "check": XXH3-64 (16 hex digits) of everything else, serialised
 *             compactly with sorted keys}
 *
 * Format 1 sealed only the result; its entries are resealed as format 2 by
 * `kiln cache-reseal` after the same checks (see README). */
#include "run/run.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SEAL_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10) | JSON_SORT_KEYS)

char *kc_dump_sealed(json_t *root, size_t dump_flags, size_t flags, void (*seal)(const json_t *, char out[17]))
{
    char *text = root ? json_dumps(root, dump_flags) : NULL;
    json_decref(root);
    json_error_t je;
    root = text ? json_loads(text, 0, &je) : NULL;
    free(text);
    if (!root) return NULL;
    char sum[17];
    seal(root, sum);
    json_object_set_new(root, "check", json_string(sum));
    text = json_dumps(root, flags);
    json_decref(root);
    return text;
}

void kc_seal(const json_t *root, char out[17])
{
    json_t *c = json_copy((json_t *)root); /* shallow: members shared */
    json_object_del(c, "check");
    char *s = json_dumps(c, SEAL_FLAGS);
    json_decref(c);
    XXH64_hash_t h = XXH3_64bits(s ? s : "", s ? strlen(s) : 0);
    free(s);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

void kc_result_check(const json_t *result, char out[17])
{
    char *s = json_dumps(result, SEAL_FLAGS);
    XXH64_hash_t h = XXH3_64bits(s ? s : "", s ? strlen(s) : 0);
    free(s);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* ---- field checks: each returns 0 when fine, else writes why ----------------------------------- */

typedef struct chk {
    char *why;
    size_t n;
    const char *where;
} chk;

static int bad(chk *c, const char *field, const char *what)
{
    snprintf(c->why, c->n, "%s: %s %s", c->where, field, what);
    return -1;
}

static int printable(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f) return 0;
    return n <= max;
}

static int hex_string(const json_t *v, size_t len)
{
    const char *s = json_string_value(v);
    if (!s || strlen(s) != len) return 0;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s)) return 0;
    return 1;
}

/* a number in [lo, hi], or null (a NaN) when nullable */
static int number_in(chk *c, const json_t *v, const char *field, double lo, double hi, int nullable)
{
    if (json_is_null(v) && nullable) return 0;
    if (!json_is_number(v)) return bad(c, field, nullable ? "is not a number or null" : "is not a number");
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi)) {
        char r[96];
        snprintf(r, sizeof r, "is %g, outside %g..%g", x, lo, hi);
        return bad(c, field, r);
    }
    return 0;
}

static int integer_in(chk *c, const json_t *v, const char *field, json_int_t lo, json_int_t hi)
{
    if (!json_is_integer(v)) return bad(c, field, "is not an integer");
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi) {
        char r[96];
        snprintf(r, sizeof r, "is %lld, outside %lld..%lld", (long long)x, (long long)lo, (long long)hi);
        return bad(c, field, r);
    }
    return 0;
}

/* an array of at most max numbers in [lo, hi] (or null); its length in *len */
static int array_of(chk *c, const json_t *a, const char *field, size_t max, double lo, double hi, int nullable,
                    size_t *len)
{
    if (!json_is_array(a)) return bad(c, field, "is not an array");
    if (json_array_size(a) > max) return bad(c, field, "is longer than any run makes");
    for (size_t i = 0; i < json_array_size(a); i++)
        if (number_in(c, json_array_get(a, i), field, lo, hi, nullable)) return -1;
    *len = json_array_size(a);
    return 0;
}

/* obj has exactly the keys in names (NULL-ended) */
static int exact_keys(chk *c, const json_t *obj, const char *field, const char *const *names)
{
    if (!json_is_object(obj)) return bad(c, field, "is not an object");
    size_t n = 0;
    for (; names[n]; n++)
        if (!json_object_get(obj, names[n])) {
            snprintf(c->why, c->n, "%s: %s has no '%s'", c->where, field, names[n]);
            return -1;
        }
    if (json_object_size(obj) != n) return bad(c, field, "has fields kiln does not write");
    return 0;
}

#define MAX_EPOCHS 100000
#define MAX_STEPS 100000000
#define MAX_EXAMPLES 100000000
#define BIG 1e300

static int check_train(chk *c, const json_t *r)
{
    static const char *const KEYS[] = {"best_epoch", "diverged", "diverged_step", "epochs", "n_test", "n_train", "n_val",
                                       "seconds", "steps", "stopped_by", "stopped_epoch", "test_accuracy", "test_loss",
                                       NULL};
    static const char *const EPOCH_KEYS[] = {"accuracy", "loss", "lr", "seconds", "val_accuracy", "val_loss", NULL};
    static const char *const STEP_KEYS[] = {"loss", "lr", NULL};
    if (exact_keys(c, r, "result", KEYS)) return -1;
    const json_t *ep = json_object_get(r, "epochs"), *st = json_object_get(r, "steps");
    if (exact_keys(c, ep, "result.epochs", EPOCH_KEYS) || exact_keys(c, st, "result.steps", STEP_KEYS)) return -1;
    size_t n[6], ns[2];
    if (array_of(c, json_object_get(ep, "loss"), "result.epochs.loss", MAX_EPOCHS, 0, BIG, 1, &n[0]) ||
        array_of(c, json_object_get(ep, "accuracy"), "result.epochs.accuracy", MAX_EPOCHS, 0, 1, 1, &n[1]) ||
        array_of(c, json_object_get(ep, "val_loss"), "result.epochs.val_loss", MAX_EPOCHS, 0, BIG, 1, &n[2]) ||
        array_of(c, json_object_get(ep, "val_accuracy"), "result.epochs.val_accuracy", MAX_EPOCHS, 0, 1, 1, &n[3]) ||
        array_of(c, json_object_get(ep, "lr"), "result.epochs.lr", MAX_EPOCHS, 0, BIG, 1, &n[4]) ||
        array_of(c, json_object_get(ep, "seconds"), "result.epochs.seconds", MAX_EPOCHS, 0, 1e9, 1, &n[5]) ||
        array_of(c, json_object_get(st, "loss"), "result.steps.loss", MAX_STEPS, 0, BIG, 1, &ns[0]) ||
        array_of(c, json_object_get(st, "lr"), "result.steps.lr", MAX_STEPS, 0, BIG, 1, &ns[1]))
        return -1;
    for (int k = 1; k < 6; k++)
        if (n[k] != n[0]) return bad(c, "result.epochs", "has arrays of different lengths");
    if (ns[0] != ns[1]) return bad(c, "result.steps", "has arrays of different lengths");
    json_int_t ne = (json_int_t)n[0];
    const json_t *sb = json_object_get(r, "stopped_by");
    if (!json_is_string(sb) || !printable(json_string_value(sb), 40)) return bad(c, "result.stopped_by", "is not a short name");
    if (!json_is_boolean(json_object_get(r, "diverged"))) return bad(c, "result.diverged", "is not true or false");
    return number_in(c, json_object_get(r, "test_loss"), "result.test_loss", 0, BIG, 1) ||
           number_in(c, json_object_get(r, "test_accuracy"), "result.test_accuracy", 0, 1, 1) ||
           number_in(c, json_object_get(r, "seconds"), "result.seconds", 0, 1e9, 1) ||
           integer_in(c, json_object_get(r, "n_train"), "result.n_train", 0, MAX_EXAMPLES) ||
           integer_in(c, json_object_get(r, "n_val"), "result.n_val", 0, MAX_EXAMPLES) ||
           integer_in(c, json_object_get(r, "n_test"), "result.n_test", 0, MAX_EXAMPLES) ||
           /* indices from 0: a step that was logged, an epoch that ran; -1 none */
           (json_is_true(json_object_get(r, "diverged"))
                ? integer_in(c, json_object_get(r, "diverged_step"), "result.diverged_step", 0, (json_int_t)ns[0] - 1)
                : integer_in(c, json_object_get(r, "diverged_step"), "result.diverged_step", -1, -1)) ||
           integer_in(c, json_object_get(r, "stopped_epoch"), "result.stopped_epoch", -1, ne - 1) ||
           integer_in(c, json_object_get(r, "best_epoch"), "result.best_epoch", -1, ne - 1) ? -1 : 0;
}

static int check_lrfind(chk *c, const json_t *r)
{
    static const char *const KEYS[] = {"derivative", "end_lr", "loss", "lr", "lr_mult", "planned", "planned_steps",
                                       "seconds", "sma", "smoothed", "start_lr", "steps", "stopped_early",
                                       "suggestions", NULL};
    static const char *const SUGGESTIONS[] = {"base_lr", "max_lr", "min_loss", "minimum", "steepest", NULL};
    if (exact_keys(c, r, "result", KEYS)) return -1;
    size_t n[4];
    if (array_of(c, json_object_get(r, "lr"), "result.lr", MAX_STEPS, 1e-300, BIG, 0, &n[0]) ||
        array_of(c, json_object_get(r, "loss"), "result.loss", MAX_STEPS, 0, BIG, 1, &n[1]) ||
        array_of(c, json_object_get(r, "smoothed"), "result.smoothed", MAX_STEPS, -BIG, BIG, 1, &n[2]) ||
        array_of(c, json_object_get(r, "derivative"), "result.derivative", MAX_STEPS, -BIG, BIG, 1, &n[3]))
        return -1;
    for (int k = 1; k < 4; k++)
        if (n[k] != n[0]) return bad(c, "result", "has lr, loss, smoothed and derivative arrays of different lengths");
    const json_t *sg = json_object_get(r, "suggestions");
    if (exact_keys(c, sg, "result.suggestions", SUGGESTIONS)) return -1;
    for (int k = 0; SUGGESTIONS[k]; k++)
        if (number_in(c, json_object_get(sg, SUGGESTIONS[k]), "result.suggestions", 0, BIG, 1)) return -1;
    if (!json_is_boolean(json_object_get(r, "stopped_early"))) return bad(c, "result.stopped_early", "is not true or false");
    if (number_in(c, json_object_get(r, "start_lr"), "result.start_lr", 1e-300, BIG, 0) ||
        number_in(c, json_object_get(r, "end_lr"), "result.end_lr", 1e-300, BIG, 0) ||
        number_in(c, json_object_get(r, "lr_mult"), "result.lr_mult", 0, BIG, 1) ||
        number_in(c, json_object_get(r, "seconds"), "result.seconds", 0, 1e9, 1) ||
        integer_in(c, json_object_get(r, "steps"), "result.steps", (json_int_t)n[0], (json_int_t)n[0]) ||
        integer_in(c, json_object_get(r, "planned"), "result.planned", (json_int_t)n[0], MAX_STEPS) ||
        integer_in(c, json_object_get(r, "planned_steps"), "result.planned_steps", (json_int_t)n[0], MAX_STEPS) ||
        integer_in(c, json_object_get(r, "sma"), "result.sma", 1, MAX_STEPS))
        return -1;
    if (!(json_number_value(json_object_get(r, "start_lr")) < json_number_value(json_object_get(r, "end_lr"))))
        return bad(c, "result.start_lr", "is not below end_lr");
    return 0;
}

int kc_entry_check(const json_t *root, const char *key, const char *kind, const char *config, int sealed,
                   const char *where, char *why, size_t n)
{
    static const char *const KEYS[] = {"check", "config", "format", "id", "key", "kind", "provenance", "result",
                                       "seconds", NULL};
    static const char *const PROV[] = {"compiler", "cpu", "data", "date", "kiln", "threads", "trainer", NULL};
    chk c = {why, n, where};
    if (!json_is_object(root)) return bad(&c, "the entry", "is not a JSON object");
    const json_t *fmt = json_object_get(root, "format");
    if (!json_is_integer(fmt) || json_integer_value(fmt) != (sealed ? 2 : 1)) return bad(&c, "format", sealed ? "is not 2" : "is not 1");
    const json_t *check = json_object_get(root, "check");
    if (!hex_string(check, 16)) return bad(&c, "check", "is not 16 hex digits");
    char sum[17];
    if (sealed) kc_seal(root, sum);
    else kc_result_check(json_object_get(root, "result"), sum);
    if (strcmp(sum, json_string_value(check)))
        return bad(&c, sealed ? "the entry" : "the result", "does not match its check sum");
    if (exact_keys(&c, root, "the entry", KEYS)) return -1;
    const json_t *k = json_object_get(root, "key");
    if (!hex_string(k, 32)) return bad(&c, "key", "is not 32 hex digits");
    if (strcmp(json_string_value(k), key)) {
        snprintf(why, n, "%s: holds key %s", where, json_string_value(k));
        return -1;
    }
    const char *kd = json_string_value(json_object_get(root, "kind"));
    if (!kd || strcmp(kd, kind)) {
        snprintf(why, n, "%s: kind %s, expected %s", where, kd ? kd : "(not a string)", kind);
        return -1;
    }
    const char *id = json_string_value(json_object_get(root, "id"));
    if (!id || !kr_valid_id(id)) return bad(&c, "id", "is not a run id");
    const char *cf = json_string_value(json_object_get(root, "config"));
    if (!cf || strlen(cf) > 65536) return bad(&c, "config", "is not a config text");
    if (config && config[0] && strcmp(cf, config)) return bad(&c, "config", "is not the config of its key");
    const json_t *p = json_object_get(root, "provenance");
    if (exact_keys(&c, p, "provenance", PROV)) return -1;
    for (int i = 0; PROV[i]; i++) {
        const char *s = json_string_value(json_object_get(p, PROV[i]));
        if (!s || !printable(s, 200)) return bad(&c, "provenance", "holds a field that is not a short printable string");
    }
    const char *th = json_string_value(json_object_get(p, "threads"));
    /* "N" or, when -j gave the run more cores as others finished, "N-M" */
    size_t d1 = strspn(th, "0123456789"), d2 = th[d1] == '-' ? strspn(th + d1 + 1, "0123456789") : 0;
    if (!d1 || d1 > 5 || d2 > 5 || (th[d1] && (th[d1] != '-' || !d2 || th[d1 + 1 + d2])))
        return bad(&c, "provenance.threads", "is not a count or a range of counts");
    if (number_in(&c, json_object_get(root, "seconds"), "seconds", 0, 1e9, 0)) return -1;
    const json_t *r = json_object_get(root, "result");
    return strcmp(kind, "train") ? check_lrfind(&c, r) : check_train(&c, r);
}

/* ---- resealing: format 1 -> 2 ------------------------------------------------------------------- */

int kiln_cache_reseal(const char *path, char *err, size_t n)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) { snprintf(err, n, "%s: not valid JSON (line %d: %s)", path, je.line, je.text); return -1; }
    const json_t *fmt = json_object_get(root, "format");
    int rc = 0;
    if (json_is_integer(fmt) && json_integer_value(fmt) == 2) {
        const char *k = json_string_value(json_object_get(root, "key")), *kd = json_string_value(json_object_get(root, "kind"));
        rc = kc_entry_check(root, k ? k : "", kd ? kd : "", NULL, 1, path, err, n) ? -1 : 1; /* already sealed */
    } else {
        /* key and kind as the file names them: every other field, and the
         * result's own check, must be right before it is sealed */
        const char *k = json_string_value(json_object_get(root, "key")), *kd = json_string_value(json_object_get(root, "kind"));
        if (kc_entry_check(root, k ? k : "", kd ? kd : "", NULL, 0, path, err, n)) rc = -1;
        if (!rc) {
            json_object_set_new(root, "format", json_integer(2));
            char sum[17];
            kc_seal(root, sum);
            json_object_set_new(root, "check", json_string(sum));
            char *text = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(10) | JSON_SORT_KEYS);
            size_t len = text ? strlen(text) : 0;
            char *t = text ? realloc(text, len + 2) : NULL;
            if (!t) { free(text); snprintf(err, n, "%s: out of memory", path); rc = -1; }
            else {
                t[len++] = '\n';
                t[len] = 0;
                if (kr_write_atomic(path, t, len)) { snprintf(err, n, "%s: cannot write", path); rc = -1; }
                free(t);
            }
        }
    }
    json_decref(root);
    return rc;
}
