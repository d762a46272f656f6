/* kiln lr-find key=value ... [--json FILE] [--data DIR]
 *
 * The learning-rate range test (kiln_lrfind) on the configured network and
 * optimizer, from the initial weights of `seed`. Besides every trainer key it
 * takes its own: start_lr (1e-7), end_lr (10), lr_epochs (1) or lr_steps,
 * sma (20), smoothing (0.98), stop_factor (4). Prints the suggested rates,
 * the steps taken and the wall time. */
#include "kiln/report.h"
#include "kiln/train.h"
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char OWN_KEYS[] = "start_lr end_lr lr_epochs lr_steps sma smoothing stop_factor";

enum { O_JSON, O_DATA };
static const kiln_opt OPTS[] = {
    {"json", 0, "FILE", "write every step's rate and loss and the suggestions as JSON", O_JSON},
    {"data", 0, "DIR", "the MNIST IDX files (default $KILN_DATA, else ~/.cache/kiln/mnist)", O_DATA},
    {NULL, 0, NULL, NULL, 0},
};
static const kiln_cmd CMD = {
    "lr-find", "key=value ... [options]",
    "The learning-rate range test: one step per batch with the rate rising from\n"
    "start_lr to end_lr, from the initial weights of `seed`. Takes every trainer key\n"
    "(kiln keys) and its own: start_lr (1e-7), end_lr (10), lr_epochs (1) or lr_steps,\n"
    "sma (20), smoothing (0.98), stop_factor (4), as in an {lrfind}. Prints the suggested\n"
    "rates, the steps taken and the wall time.",
    OPTS, "example: kiln lr-find optimizer=sgd lr_epochs=1\n"};

static int parse_pos_double(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || errno || !isfinite(x) || x <= 0) return 1;
    *out = x;
    return 0;
}

static int parse_pos_long(const char *v, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < 1 || x > 100000000) return 1;
    *out = x;
    return 0;
}

static int bad(const char *key, const char *value, const char *accepted)
{
    fprintf(stderr, "kiln lr-find: key '%s': '%s' is not accepted; accepted values: %s\n", key, value, accepted);
    return 2;
}

static void on_step(void *ud, int epoch, int step, int steps, double loss)
{
    (void)ud;
    if (step % 8) return;
    fprintf(stderr, "\r\033[Klr-find: epoch %d step %d/%d", epoch + 1, step + 1, steps);
    if (isfinite(loss)) fprintf(stderr, " loss %.4f", loss);
    fflush(stderr);
}

int kiln_cmd_lr_find(int argc, char **argv)
{
    kiln_config c;
    kiln_config_init(&c);
    kiln_lrfind_opts o;
    kiln_lrfind_opts_init(&o);
    const char *json = NULL, *dir = NULL, *data = NULL;
    int have_epochs = 0, have_steps = 0;
    char err[4096];
    kiln_args args;
    kiln_args_init(&args, &CMD, argc, argv);
    const char *a;
    for (int id; (id = kiln_args_next(&args, &a)) != KILN_ARG_END;) {
        if (id == O_JSON) { json = a; continue; }
        if (id == O_DATA) { dir = a; continue; }
        if (id != KILN_ARG_OPERAND) return KILN_ARG_EXIT(id);
        if (kiln_args_key_once(&args, a)) return 2;
        const char *eq = strchr(a, '=');
        if (!eq || eq == a) {
            fprintf(stderr, "kiln lr-find: '%s' is not key=value (or --json FILE, --data DIR)\n", a);
            return 2;
        }
        size_t kn = (size_t)(eq - a);
        const char *v = eq + 1;
        if (kn == 4 && !strncmp(a, "data", 4)) { data = v; continue; } /* the data set, not a trainer key */
        char key[64];
        if (kn >= sizeof key) kn = sizeof key - 1;
        memcpy(key, a, kn);
        key[kn] = 0;
        if (!strcmp(key, "start_lr")) {
            if (parse_pos_double(v, &o.start_lr)) return bad(key, v, "a number > 0");
        } else if (!strcmp(key, "end_lr")) {
            if (parse_pos_double(v, &o.end_lr)) return bad(key, v, "a number > start_lr");
        } else if (!strcmp(key, "lr_epochs")) {
            long x;
            if (parse_pos_long(v, &x) || x > 100000) return bad(key, v, "an integer 1..100000");
            o.epochs = (int)x;
            have_epochs = 1;
        } else if (!strcmp(key, "lr_steps")) {
            if (parse_pos_long(v, &o.steps)) return bad(key, v, "an integer 1..100000000");
            have_steps = 1;
        } else if (!strcmp(key, "sma")) {
            long x;
            if (parse_pos_long(v, &x) || x > 100000) return bad(key, v, "an integer 1..100000");
            o.sma = (int)x;
        } else if (!strcmp(key, "smoothing")) {
            char *end;
            double x = strtod(v, &end);
            if (!*v || *end || !(x >= 0 && x < 1)) return bad(key, v, "a number in [0, 1)");
            o.beta = x;
        } else if (!strcmp(key, "stop_factor")) {
            if (parse_pos_double(v, &o.stop_factor) || !(o.stop_factor > 1)) return bad(key, v, "a number > 1");
        } else if (kiln_config_set_hinted(&c, key, v, err, sizeof err)) {
            if (!strncmp(err, "unknown key", 11)) {
                /* the nearest of every key lr-find takes, its own included */
                int nk;
                const kiln_key_info *ki = kiln_config_keys(&nk);
                char names[4096], hint[160];
                size_t len = (size_t)snprintf(names, sizeof names, "%s", OWN_KEYS);
                for (int j = 0; j < nk && len + 40 < sizeof names; j++)
                    len += (size_t)snprintf(names + len, sizeof names - len, " %s", ki[j].name);
                fprintf(stderr, "kiln lr-find: unknown key '%s'%s; accepted: lr-find's own %s, and the trainer's keys (kiln keys)\n",
                        key, kiln_did_you_mean(key, names, hint, sizeof hint), OWN_KEYS);
            } else
                fprintf(stderr, "kiln lr-find: %s\n", err);
            return 2;
        }
    }
    if (have_epochs && have_steps) {
        fprintf(stderr, "kiln lr-find: key 'lr_steps': set either lr_epochs or lr_steps, not both\n");
        return 2;
    }
    if (!(o.end_lr > o.start_lr)) {
        char e[32], st[32];
        fprintf(stderr, "kiln lr-find: key 'end_lr': %s is not accepted; accepted values: a number > start_lr (%s)\n",
                kiln_shortest(o.end_lr, e, sizeof e), kiln_shortest(o.start_lr, st, sizeof st));
        return 2;
    }
    if (kiln_config_validate(&c, err, sizeof err)) {
        fprintf(stderr, "kiln lr-find: %s\n", err);
        return 2;
    }

    kiln_dataset train, test;
    int lrc = kiln_cli_load_data("lr-find", data, dir, c.model, &train, &test);
    if (lrc) return lrc;
    kiln_model m;
    if (kiln_model_build(&m, c.model, train.rows, train.cols, 1, err, sizeof err)) {
        fprintf(stderr, "kiln lr-find: key 'model': %s\n", err);
        kiln_dataset_free(&train);
        kiln_dataset_free(&test);
        return 2;
    }
    kiln_model_init(&m, c.seed);
    kiln_progress prog = {NULL, on_step, NULL, 0};
    kiln_lrfind_result r;
    int rc = kiln_lrfind(&c, &train, &m, &o, &r, isatty(2) ? &prog : NULL, err, sizeof err);
    if (isatty(2)) fprintf(stderr, "\r\033[K");
    if (rc) {
        fprintf(stderr, "kiln lr-find: %s\n", err);
        rc = 1;
    } else {
        char lo[32], hi[32];
        printf("range test: lr %s to %s, %ld of %ld steps%s, wall time %.1f s\n", kiln_shortest(r.start_lr, lo, sizeof lo),
               kiln_shortest(r.end_lr, hi, sizeof hi), r.n, r.planned, r.stopped_early ? " (stopped: the loss diverged)" : "", r.seconds);
        printf("steepest descent (smoothed loss vs log lr): %.3g\n", r.steepest_lr);
        printf("minimum loss lr / 10:                       %.3g  (minimum at %.3g)\n", r.min_div10_lr, r.min_loss_lr);
        printf("cyclical bounds: base_lr=%.3g max_lr=%.3g\n", r.base_lr, r.max_lr);
        if (json) {
            char *s = kiln_lrfind_to_json(&r);
            if (!s) { fprintf(stderr, "kiln lr-find: cannot serialise the result for %s\n", json); rc = 1; }
        else if (kiln_cli_write_file(json, s)) { fprintf(stderr, "kiln lr-find: cannot write %s: %s\n", json, strerror(errno)); rc = 1; }
            free(s);
        }
        kiln_lrfind_free(&r);
    }
    kiln_model_free(&m);
    kiln_dataset_free(&train);
    kiln_dataset_free(&test);
    return rc;
}
