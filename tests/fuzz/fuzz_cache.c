/* libFuzzer target: the cache-entry loader (kc_load: a non-blocking open,
 * the whole-entry check, the type and range of every field, then the
 * result as the pages use it). The first byte picks the run (train or
 * range test) and whether the entry is resealed first, so the fuzzer also
 * reaches the field checks behind the check sum. Built by `make fuzz`. */
#include "kiln/report.h"
#include "run/run.h"
#include "base/base.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY "0123456789abcdef0123456789abcdef"

static char dir[64], path[128];

static void remove_dir(void)
{
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/kiln-fuzz-cache-%ld", (long)getpid());
        mkdir(dir, 0777);
        snprintf(path, sizeof path, "%s/%s.json", dir, KEY);
        atexit(remove_dir);
    }
    unsigned mode = data[0];
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    char *text = NULL;
    if (mode & 2) { /* reseal: set key/kind/format and the right check */
        json_error_t je;
        json_t *root = json_loadb((const char *)body, len, 0, &je);
        if (root && json_is_object(root)) {
            json_object_set_new(root, "key", json_string(KEY));
            json_object_set_new(root, "kind", json_string(mode & 1 ? "lrfind" : "train"));
            json_object_set_new(root, "format", json_integer(2));
            char sum[17];
            kc_seal(root, sum);
            json_object_set_new(root, "check", json_string(sum));
            text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
        }
        json_decref(root);
        if (!text) return 0;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (text) fputs(text, f);
    else fwrite(body, 1, len, f);
    fclose(f);
    free(text);

    kiln_arena *a = ka_new();
    kiln_run r;
    memset(&r, 0, sizeof r);
    memcpy(r.key, KEY, sizeof KEY);
    r.id = r.label = r.file = "fuzz";
    r.kind = mode & 1 ? KILN_RUN_LRFIND : KILN_RUN_TRAIN;
    r.canonical = "";
    kiln_config_init(&r.config);
    kiln_lrfind_opts_init(&r.lrfind_opts);
    char why[1024] = "";
    kc_status st = kc_load(dir, &r, a, why, sizeof why);
    if (st == KC_CORRUPT && !why[0]) abort(); /* a damaged entry must say why */
    if (st == KC_HIT) {
        /* everything the pages read from a result */
        const char *names = kiln_metric_names();
        char buf[64];
        for (const char *p = names; *p;) {
            size_t n = strcspn(p, ", ");
            if (n && n < sizeof buf) {
                memcpy(buf, p, n);
                buf[n] = 0;
                double v;
                const char *s;
                kiln_run_value(&r, buf, &v, &s);
            }
            p += n;
            p += strspn(p, ", ");
        }
        if (r.kind == KILN_RUN_TRAIN) kiln_history_free(&r.history);
        else kiln_lrfind_free(&r.lrfind);
    }
    ka_free(a);
    return 0;
}
