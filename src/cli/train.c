/* kiln train key=value ... [--json FILE] [--save FILE] [--data DIR]
 *
 * One experiment through kiln_train: a line per epoch on stdout, a bar with
 * an ETA on stderr when it is a terminal, and the test result. */
#include "kiln/report.h"
#include "kiln/train.h"
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { O_JSON, O_SAVE, O_DATA };
static const kiln_opt OPTS[] = {
    {"json", 0, "FILE", "write the history (every epoch and step) as JSON", O_JSON},
    {"save", 0, "FILE", "write the trained weights", O_SAVE},
    {"data", 0, "DIR", "the MNIST IDX files (default $KILN_DATA, else ~/.cache/kiln/mnist)", O_DATA},
    {NULL, 0, NULL, NULL, 0},
};
static const kiln_cmd CMD = {
    "train", "key=value ... [options]",
    "Train one experiment. The keys are those of an {experiment} (kiln keys lists\n"
    "them); unset keys keep the article's baseline. Prints one line per epoch and\n"
    "'Test loss: X / Test accuracy: Y'.",
    OPTS, "example: kiln train optimizer=sgd learning_rate=0.1 epochs=5\n"};

typedef struct progress_state {
    int tty;
    int epochs;
    double t0;
} progress_state;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* "1m05s": the time left at the pace so far, after a fraction frac done */
static void eta_text(const progress_state *p, double frac, char *buf, size_t n)
{
    double left = frac > 0 ? (now() - p->t0) * (1 - frac) / frac : NAN;
    if (!isfinite(left)) snprintf(buf, n, "...");
    else if (left >= 3600) snprintf(buf, n, "%dh%02dm", (int)(left / 3600), (int)fmod(left / 60, 60));
    else if (left >= 60) snprintf(buf, n, "%dm%02ds", (int)(left / 60), (int)fmod(left, 60));
    else snprintf(buf, n, "%ds", (int)ceil(left));
}

static void on_step(void *ud, int epoch, int step, int steps, double loss)
{
    progress_state *p = ud;
    if (!p->tty) return;
    if (step % 4 && step != steps - 1) return;
    double frac = (epoch + (double)(step + 1) / steps) / p->epochs;
    int width = 30, done = (int)((double)(step + 1) / steps * width);
    char eta[32];
    eta_text(p, frac, eta, sizeof eta);
    fprintf(stderr, "\r\033[Kepoch %d/%d [", epoch + 1, p->epochs);
    for (int i = 0; i < width; i++) fputc(i < done ? '=' : ' ', stderr);
    fprintf(stderr, "] %d/%d", step + 1, steps);
    if (isfinite(loss)) fprintf(stderr, " loss %.4f", loss);
    fprintf(stderr, " ETA %s", eta);
    fflush(stderr);
}

static void on_epoch(void *ud, int epoch, int epochs, const kiln_epoch_log *e)
{
    progress_state *p = ud;
    p->epochs = epochs;
    if (p->tty) fprintf(stderr, "\r\033[K");
    char eta[48] = "";
    if (epoch + 1 < epochs) {
        char t[32];
        eta_text(p, (double)(epoch + 1) / epochs, t, sizeof t);
        snprintf(eta, sizeof eta, ", ETA %s", t);
    }
    /* "(X s)" ends the line: tests/bench.sh reads the epoch's time there */
    printf("epoch %d/%d: loss %.4f accuracy %.4f val_loss %.4f val_accuracy %.4f lr %.3g%s (%.1f s)\n", epoch + 1, epochs,
           e->loss, e->accuracy, e->val_loss, e->val_accuracy, e->lr, eta, e->seconds);
    fflush(stdout);
}

int kiln_cmd_train(int argc, char **argv)
{
    kiln_config c;
    kiln_config_init(&c);
    const char *json = NULL, *save = NULL, *dir = NULL, *data = NULL, *v;
    char err[4096];
    kiln_args a;
    kiln_args_init(&a, &CMD, argc, argv);
    for (int id; (id = kiln_args_next(&a, &v)) != KILN_ARG_END;) {
        switch (id) {
        case O_JSON: json = v; break;
        case O_SAVE: save = v; break;
        case O_DATA: dir = v; break;
        case KILN_ARG_OPERAND:
            if (kiln_args_key_once(&a, v)) return 2;
            if (!strncmp(v, "data=", 5)) { data = v + 5; break; } /* the data set, not a trainer key */
            if (kiln_config_set_kv_hinted(&c, v, err, sizeof err)) {
                fprintf(stderr, "kiln train: %s\n", err);
                return 2;
            }
            break;
        default: return KILN_ARG_EXIT(id);
        }
    }
    if (kiln_config_validate(&c, err, sizeof err)) {
        fprintf(stderr, "kiln train: %s\n", err);
        return 2;
    }
    kiln_dataset train, test;
    int lrc = kiln_cli_load_data("train", data, dir, c.model, &train, &test);
    if (lrc) return lrc;
    progress_state ps = {isatty(2), c.epochs, now()};
    kiln_progress prog = {on_epoch, on_step, &ps, 0};
    kiln_history h;
    kiln_model m;
    int rc = kiln_train(&c, &train, &test, &h, save ? &m : NULL, &prog, err, sizeof err);
    if (ps.tty) fprintf(stderr, "\r\033[K");
    if (rc) { fprintf(stderr, "kiln train: %s\n", err); kiln_dataset_free(&train); kiln_dataset_free(&test); return 1; }
    if (h.diverged) printf("note: the loss became non-finite at step %d\n", h.diverged_step);
    if (h.stopped_by[0]) printf("note: stopped by %s after epoch %d\n", h.stopped_by, h.stopped_epoch + 1);
    char l[32], acc[32];
    printf("Test loss: %s / Test accuracy: %s\n", kiln_shortest(h.test_loss, l, sizeof l),
           kiln_shortest(h.test_accuracy, acc, sizeof acc));
    printf("wall time %.1f s\n", h.seconds);
    if (json) {
        char *s = kiln_history_to_json(&h);
        if (!s) { fprintf(stderr, "kiln train: cannot serialise the result for %s\n", json); rc = 1; }
        else if (kiln_cli_write_file(json, s)) { fprintf(stderr, "kiln train: cannot write %s: %s\n", json, strerror(errno)); rc = 1; }
        free(s);
    }
    if (save) {
        if (kiln_weights_save(&m, save, err, sizeof err)) { fprintf(stderr, "kiln train: %s\n", err); rc = 1; }
        kiln_model_free(&m);
    }
    kiln_history_free(&h);
    kiln_dataset_free(&train);
    kiln_dataset_free(&test);
    return rc;
}
