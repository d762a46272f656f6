/* kiln: the command line, thin over the libraries. This file dispatches and
 * holds `train`, `keys` and `version`; the other commands are in src/cli/.
 *
 *   kiln train key=value ... [--json FILE] [--save FILE] [--data DIR]
 *   kiln lr-find key=value ... [--json FILE] [--data DIR]
 *   kiln build [options]      (the report)
 *   kiln diff [OLD] [NEW]
 *   kiln keys
 *   kiln version
 */
#include "kiln/train.h"
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(FILE *f)
{
    fprintf(f,
            "usage: kiln COMMAND [ARGS]\n"
            "  train key=value ... [--json FILE] [--save FILE] [--data DIR]\n"
            "                      train one experiment; prints one line per epoch and\n"
            "                      'Test loss: X / Test accuracy: Y'\n"
            "  lr-find key=value ... [--json FILE] [--data DIR]\n"
            "                      learning-rate range test; prints suggested rates\n"
            "  build [--smoke] [-j N] ...  build the report (HTML + PDF) into out/\n"
            "  diff [OLD] [NEW]    compare two builds' results\n"
            "  keys                list every experiment key with its accepted values\n"
            "  version             print the version and the trainer fingerprint\n");
    return f == stderr ? 2 : 0;
}

typedef struct progress_state {
    int tty;
    int steps;
    double t0;
} progress_state;

static void on_step(void *ud, int epoch, int step, int steps, double loss)
{
    progress_state *p = ud;
    if (!p->tty) return;
    if (step % 4 && step != steps - 1) return;
    int width = 30, done = (int)((double)(step + 1) / steps * width);
    fprintf(stderr, "\repoch %d [", epoch + 1);
    for (int i = 0; i < width; i++) fputc(i < done ? '=' : ' ', stderr);
    fprintf(stderr, "] %d/%d loss %.4f", step + 1, steps, loss);
    fflush(stderr);
}

static void on_epoch(void *ud, int epoch, int epochs, const kiln_epoch_log *e)
{
    progress_state *p = ud;
    if (p->tty) fprintf(stderr, "\r\033[K");
    printf("epoch %d/%d: loss %.4f accuracy %.4f val_loss %.4f val_accuracy %.4f lr %.3g (%.1f s)\n",
           epoch + 1, epochs, e->loss, e->accuracy, e->val_loss, e->val_accuracy, e->lr, e->seconds);
    fflush(stdout);
}

static int cmd_train(int argc, char **argv)
{
    kiln_config c;
    kiln_config_init(&c);
    const char *json = NULL, *save = NULL, *dir = NULL;
    char err[1024];
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "--save") || !strcmp(argv[i], "--data")) {
            if (i + 1 >= argc) { fprintf(stderr, "kiln train: %s needs a value\n", argv[i]); return 2; }
            const char **dst = argv[i][2] == 'j' ? &json : argv[i][2] == 's' ? &save : &dir;
            *dst = argv[++i];
        } else if (kiln_config_set_kv(&c, argv[i], err, sizeof err)) {
            fprintf(stderr, "kiln train: %s\n", err);
            return 2;
        }
    }
    if (kiln_config_validate(&c, err, sizeof err)) { fprintf(stderr, "kiln train: %s\n", err); return 2; }
    kiln_dataset train, test;
    if (kiln_mnist_load(kiln_cli_data_dir(dir), &train, &test, err, sizeof err)) {
        fprintf(stderr, "kiln train: %s\n(run 'make data', or set KILN_DATA_DIR to a folder with the MNIST IDX files)\n", err);
        return 1;
    }
    progress_state ps = {isatty(2), 0, 0};
    kiln_progress prog = {on_epoch, on_step, &ps, 0};
    kiln_history h;
    kiln_model m;
    int rc = kiln_train(&c, &train, &test, &h, save ? &m : NULL, &prog, err, sizeof err);
    if (rc) { fprintf(stderr, "kiln train: %s\n", err); kiln_dataset_free(&train); kiln_dataset_free(&test); return 1; }
    if (h.diverged) printf("note: the loss became non-finite at step %d\n", h.diverged_step);
    if (h.stopped_by[0]) printf("note: stopped by %s after epoch %d\n", h.stopped_by, h.stopped_epoch + 1);
    printf("Test loss: %.17g / Test accuracy: %.17g\n", h.test_loss, h.test_accuracy);
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

static int cmd_keys(void)
{
    int n;
    const kiln_key_info *k = kiln_config_keys(&n);
    for (int i = 0; i < n; i++) printf("%-22s %-48s %s\n", k[i].name, k[i].accepted, k[i].help);
    return 0;
}

/* OpenMP threads that spin at barriers stall badly when the machine is
 * shared (a -j build, another job): a spinning thread holds a core its
 * partner needs. libgomp reads OMP_WAIT_POLICY once, at load, so when the
 * user has not chosen a policy kiln sets "passive" and re-executes itself. */
static void choose_wait_policy(char **argv)
{
    if (getenv("OMP_WAIT_POLICY")) return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv); /* on failure, go on with the default */
}

int main(int argc, char **argv)
{
    choose_wait_policy(argv);
    if (argc < 2) return usage(stderr);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "train")) return cmd_train(argc - 2, argv + 2);
    if (!strcmp(cmd, "lr-find")) return kiln_cmd_lr_find(argc - 2, argv + 2);
    if (!strcmp(cmd, "build")) return kiln_cmd_build(argc - 2, argv + 2);
    if (!strcmp(cmd, "diff")) return kiln_cmd_diff(argc - 2, argv + 2);
    if (!strcmp(cmd, "keys")) return cmd_keys();
    if (!strcmp(cmd, "version")) {
        printf("kiln %s, trainer %s\n", kiln_version(), kiln_trainer_fingerprint());
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) return usage(stdout);
    fprintf(stderr, "kiln: unknown command '%s'\n", cmd);
    return usage(stderr);
}
