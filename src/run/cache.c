/* The run cache: one small JSON file per result, named by its key.
 *
 *   CACHE/KEY.json   {"format":2, "key":..., "kind":"train"|"lrfind",
 *                     "id": the run id that first computed it (informative),
 *                     "config": canonical text, "provenance": {...},
 *                     "seconds": wall time, "result": {...},
 *                     "check": XXH3-64 of all the rest as serialised}
 *
 * Written to a temporary file beside it and renamed, so a reader sees the
 * whole old file or the whole new one. A file that is not a regular file,
 * does not parse, does not match its check, holds another key or config, or
 * has any field of the wrong type or out of range (src/report/entry.c) is
 * reported as damaged and recomputed; nothing of it is shown. The build holds CACHE/build.lock (flock) while it reads and
 * writes, so two builds at once take turns. */
#include "run/run.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define DUMP_FLAGS (JSON_INDENT(1) | JSON_REAL_PRECISION(10) | JSON_SORT_KEYS)
#define CHECK_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10) | JSON_SORT_KEYS)

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "";
}

static double *jarray(json_t *o, const char *k, size_t *n)
{
    json_t *a = json_object_get(o, k);
    if (!json_is_array(a)) return NULL;
    *n = json_array_size(a);
    double *v = malloc(sizeof *v * (*n ? *n : 1));
    for (size_t i = 0; i < *n; i++) {
        json_t *x = json_array_get(a, i);
        v[i] = json_is_number(x) ? json_number_value(x) : NAN;
    }
    return v;
}

static int lrfind_from_json(kiln_lrfind_result *f, json_t *o, const kiln_lrfind_opts *opts)
{
    memset(f, 0, sizeof *f);
    size_t n1 = 0, n2 = 0;
    f->lr = jarray(o, "lr", &n1);
    f->loss = jarray(o, "loss", &n2);
    if (!f->lr || !f->loss || n1 != n2) { free(f->lr); free(f->loss); memset(f, 0, sizeof *f); return -1; }
    f->n = (long)n1;
    f->smoothed = calloc(n1 ? n1 : 1, sizeof(double));
    f->derivative = calloc(n1 ? n1 : 1, sizeof(double));
    json_t *v;
    f->start_lr = (v = json_object_get(o, "start_lr")) && json_is_number(v) ? json_number_value(v) : opts->start_lr;
    f->end_lr = (v = json_object_get(o, "end_lr")) && json_is_number(v) ? json_number_value(v) : opts->end_lr;
    f->sma = opts->sma;
    f->stopped_early = json_is_true(json_object_get(o, "stopped_early"));
    f->planned = (v = json_object_get(o, "planned")) && json_is_integer(v) ? (long)json_integer_value(v) : f->n;
    kiln_lrfind_analyse(f, opts->beta);
    return 0;
}

/* CACHE/KEY.json as text: opened without blocking (a FIFO or device would
 * hang a plain open) and only when it is a regular file of sane size. NULL
 * with why set when it is there but unreadable; *missing when absent. */
#define MAX_ENTRY_BYTES (512u << 20)
static char *read_entry(const char *path, size_t *len, int *missing, char *why, size_t n)
{
    *missing = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT) *missing = 1;
        else snprintf(why, n, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st)) snprintf(why, n, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode)) snprintf(why, n, "%s: not a regular file", path);
    else if ((unsigned long long)st.st_size > MAX_ENTRY_BYTES) snprintf(why, n, "%s: %lld bytes, larger than any entry kiln writes", path, (long long)st.st_size);
    else {
        size_t cap = (size_t)st.st_size + 1, got = 0;
        buf = kr_xmalloc(cap);
        for (;;) {
            ssize_t r = read(fd, buf + got, cap - got);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) { snprintf(why, n, "%s: cannot read: %s", path, strerror(errno)); free(buf); buf = NULL; break; }
            if (r == 0) break;
            got += (size_t)r;
            if (got == cap) { snprintf(why, n, "%s: grew while it was read", path); free(buf); buf = NULL; break; }
        }
        if (buf) { buf[got] = 0; *len = got; }
    }
    close(fd);
    return buf;
}

static void json_free(void *p)
{
    json_decref(p);
}

/* The entry at path parsed and checked (a new reference), or NULL with
 * *st KC_MISS / KC_CORRUPT and why. With a memo, an entry parsed before whose
 * file is the same (device, inode, size, modification and change times) is
 * taken from it: files are only ever replaced by rename, so that is the
 * same text. */
static json_t *entry_root(const char *path, const kiln_run *r, kiln_memo *memo, kc_status *st, char *why, size_t n)
{
    char mkey[4200] = "";
    struct stat sb;
    if (memo && !stat(path, &sb) && S_ISREG(sb.st_mode)) {
        snprintf(mkey, sizeof mkey, "entry:%s:%llu:%llu:%lld:%lld.%09ld:%lld.%09ld", path, (unsigned long long)sb.st_dev,
                 (unsigned long long)sb.st_ino, (long long)sb.st_size, (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec,
                 (long long)sb.st_ctim.tv_sec, sb.st_ctim.tv_nsec);
        json_t *hit = (json_t *)kr_memo_get(memo, mkey);
        if (hit) return json_incref(hit);
    }
    size_t len = 0;
    int missing;
    char *text = read_entry(path, &len, &missing, why, n);
    *st = missing ? KC_MISS : KC_CORRUPT;
    if (!text) return NULL;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!root) {
        snprintf(why, n, "%s: not valid JSON (line %d: %s)", path, je.line, je.text);
        return NULL;
    }
    const char *want_kind = r->kind == KILN_RUN_LRFIND ? "lrfind" : "train";
    if (kc_entry_check(root, r->key, want_kind, r->canonical, 1, path, why, n)) {
        json_decref(root);
        return NULL;
    }
    if (mkey[0]) kr_memo_put(memo, mkey, json_incref(root), json_free);
    return root;
}

kc_status kc_load(const char *dir, kiln_run *r, kiln_arena *a, char *why, size_t n)
{
    return kc_load_memo(dir, r, a, NULL, why, n);
}

kc_status kc_load_memo(const char *dir, kiln_run *r, kiln_arena *a, kiln_memo *memo, char *why, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", dir, r->key);
    kc_status st = KC_CORRUPT;
    json_t *root = entry_root(path, r, memo, &st, why, n);
    if (!root) return st;
    st = KC_CORRUPT;
    json_t *result = json_object_get(root, "result");
    char err[512];
    int bad;
    if (r->kind == KILN_RUN_TRAIN) {
        if (r->ok) kiln_history_free(&r->history);
        bad = kiln_history_from_jansson(&r->history, result, err, sizeof err);
    } else {
        if (r->ok) kiln_lrfind_free(&r->lrfind);
        bad = lrfind_from_json(&r->lrfind, result, &r->lrfind_opts);
        snprintf(err, sizeof err, "lr/loss arrays missing");
    }
    if (bad) {
        r->ok = 0;
        snprintf(why, n, "%s: %s", path, err);
    } else {
        r->ok = 1;
        st = KC_HIT;
        json_t *p = json_object_get(root, "provenance");
        r->kiln_version = ka_strdup(a, jstr(p, "kiln"));
        r->fingerprint = ka_strdup(a, jstr(p, "trainer"));
        r->data_digest = ka_strdup(a, jstr(p, "data"));
        r->compiler = ka_strdup(a, jstr(p, "compiler"));
        r->cpu = ka_strdup(a, jstr(p, "cpu"));
        r->date = ka_strdup(a, jstr(p, "date"));
        r->host_threads = ka_strdup(a, jstr(p, "threads"));
        r->seconds = json_number_value(json_object_get(root, "seconds"));
    }
    json_decref(root);
    return st;
}

static const char *cpu_name(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return buf;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10)) continue;
        char *c = strchr(line, ':');
        if (!c) continue;
        c++;
        while (*c == ' ') c++;
        c[strcspn(c, "\n")] = 0;
        snprintf(buf, n, "%s", c);
        break;
    }
    fclose(f);
    return buf;
}

int kc_store(const char *dir, kiln_run *r, const char *threads, char *err, size_t n)
{
    json_t *result;
    if (r->kind == KILN_RUN_TRAIN) {
        result = kiln_history_json(&r->history);
    } else {
        result = kiln_lrfind_json(&r->lrfind);
        if (result) {
            json_object_set_new(result, "start_lr", json_real(r->lrfind.start_lr));
            json_object_set_new(result, "end_lr", json_real(r->lrfind.end_lr));
            json_object_set_new(result, "planned", json_integer(r->lrfind.planned));
        }
    }
    if (!result) { snprintf(err, n, "cannot serialise the result of %s", r->id); return -1; }
    char cpu[256], date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *prov = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kiln", kiln_version(), "trainer",
                             kiln_trainer_fingerprint(), "data", r->data_digest, "compiler", "cc " __VERSION__,
                             "cpu", cpu_name(cpu, sizeof cpu), "date", date, "threads", threads);
    json_t *root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:o, s:f, s:o}", "format", 2, "key", r->key, "kind",
                             r->kind == KILN_RUN_LRFIND ? "lrfind" : "train", "id", r->id, "config", r->canonical,
                             "provenance", prov, "seconds", r->seconds, "result", result);
    /* seal the entry as it will read back: the check is over the re-parsed text */
    char *text = kc_dump_sealed(root, CHECK_FLAGS, DUMP_FLAGS, kc_seal);
    if (!text) { snprintf(err, n, "cannot serialise the cache entry of %s", r->id); return -1; }
    size_t len = strlen(text);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", dir, r->key);
    char *t2 = realloc(text, len + 2);
    if (!t2) abort();
    text = t2;
    text[len++] = '\n';
    text[len] = 0;
    int rc = kr_write_atomic(path, text, len);
    free(text);
    if (rc) { snprintf(err, n, "cannot write %s: %s", path, strerror(errno)); return -1; }
    return 0;
}

/* ---- the data digest --------------------------------------------------------------------- */

static const char *const DATA_FILES[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                         "t10k-labels-idx1-ubyte"};

/* "name size mtime.ns inode\n" for each data file present (plain or .gz). */
static void data_stamp(const char *dir, sbuf *b)
{
    for (int i = 0; i < 4; i++)
        for (int gz = 0; gz < 2; gz++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s%s", dir, DATA_FILES[i], gz ? ".gz" : "");
            struct stat st;
            if (stat(p, &st)) continue;
            sb_printf(b, "%s%s %lld %lld.%09ld %llu\n", DATA_FILES[i], gz ? ".gz" : "", (long long)st.st_size,
                      (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (unsigned long long)st.st_ino);
        }
}

int kc_data_digest(const char *data_dir, char out[65], kiln_dataset *train, kiln_dataset *test, int *loaded,
                   char *err, size_t n)
{
    *loaded = 0;
    sbuf stamp = {0};
    data_stamp(data_dir, &stamp);
    char sp[4096];
    snprintf(sp, sizeof sp, "%s/.kiln-digest", data_dir);
    char *old = kr_read_file(sp, NULL);
    if (old && stamp.len && !strncmp(old, stamp.s, stamp.len) && !strncmp(old + stamp.len, "digest ", 7) &&
        strlen(old + stamp.len + 7) >= 64) {
        memcpy(out, old + stamp.len + 7, 64);
        out[64] = 0;
        free(old);
        sb_free(&stamp);
        return 0;
    }
    free(old);
    if (kiln_mnist_load(data_dir, train, test, err, n)) { sb_free(&stamp); return -1; }
    *loaded = 1;
    kiln_dataset_digest(train, test, out);
    sb_printf(&stamp, "digest %s\n", out);
    kr_write_atomic(sp, stamp.s, stamp.len); /* best effort: a read-only folder just costs a reload next time */
    sb_free(&stamp);
    return 0;
}

/* ---- the lock ----------------------------------------------------------------------------- */

int kc_lock(const char *dir, FILE *log, int quiet)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/build.lock", dir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    /* a cache this build may not write: read it without the lock (entries
     * are only ever renamed into place, so each read sees a whole file) */
    if (fd < 0) return errno == EACCES || errno == EROFS || errno == EPERM ? KC_READ_ONLY : -1;
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        if (errno != EWOULDBLOCK) { close(fd); return -1; }
        if (!quiet) fprintf(log ? log : stderr, "kiln: waiting for another build to finish (%s)\n", p);
        if (flock(fd, LOCK_EX)) { close(fd); return -1; }
    }
    /* a build killed while it stored an entry left its temporary file */
    kr_remove_stale_tmp(dir);
    char m[4200];
    snprintf(m, sizeof m, "%s/manifest", dir);
    kr_remove_stale_tmp(m);
    return fd;
}

void kc_unlock(int fd)
{
    if (fd >= 0) close(fd);
}
