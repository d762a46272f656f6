/* The training loop, with Keras' fit() semantics:
 *   - validation_split holds out the LAST fraction of the training arrays,
 *     taken before any shuffling; the rest is reshuffled every epoch;
 *   - the epoch's loss/accuracy are means over its batches (dropout on,
 *     weights changing), weighted by batch size;
 *   - val_loss/val_accuracy are evaluated at epoch end with dropout off;
 *   - the learning rate of every step comes from the schedule;
 *   - a NaN/inf loss is recorded and training goes on (TerminateOnNaN stops
 *     it when stop_on_nan is set); EarlyStopping and ModelCheckpoint run at
 *     epoch end. */
#include "kiln/train.h"
#include "internal.h"
#include "net.h"
#include "step.h"
#include "callbacks.h"
#include "kiln_fingerprint.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define KILN_VERSION_STRING "0.1.0"

const char *kiln_version(void) { return KILN_VERSION_STRING; }
const char *kiln_trainer_fingerprint(void) { return KILN_TRAINER_FINGERPRINT; }
const char *kiln_trainer_build(void) { return KILN_TRAINER_BUILD; }

static void push_epoch(kiln_history *h, const kiln_epoch_log *e)
{
    if (h->n_epochs == h->cap_epochs) {
        h->cap_epochs = h->cap_epochs ? 2 * h->cap_epochs : 32;
        h->epochs = kiln_xrealloc(h->epochs, sizeof *h->epochs * (size_t)h->cap_epochs);
    }
    h->epochs[h->n_epochs++] = *e;
}

static void push_step(kiln_history *h, float loss, float lr)
{
    if (h->n_steps == h->cap_steps) {
        h->cap_steps = h->cap_steps ? 2 * h->cap_steps : 1024;
        h->steps = kiln_xrealloc(h->steps, sizeof *h->steps * (size_t)h->cap_steps);
    }
    h->steps[h->n_steps++] = (kiln_step_log){loss, lr};
}

void kiln_history_free(kiln_history *h)
{
    free(h->epochs);
    free(h->steps);
    memset(h, 0, sizeof *h);
}

/* Mean loss and accuracy of examples [first, first+n) of d, dropout off.
 * Per-example losses are summed in example order (double), so the result is
 * independent of the thread count. */
static void evaluate_net(kiln_net *net, const kiln_dataset *d, int first, int n,
                         double *loss, double *accuracy)
{
    double sum = 0.0;
    long correct = 0;
    int *idx = kiln_xmalloc(sizeof(int) * (size_t)net->max_batch);
    for (int s = 0; s < n; s += net->max_batch) {
        int B = n - s < net->max_batch ? n - s : net->max_batch;
        for (int b = 0; b < B; b++) idx[b] = first + s + b;
        kiln_net_load_batch(net, d, idx, B);
        const float *logits = kiln_net_forward(net, B, 0, 0, 0);
        kiln_softmax_xent(NULL, net->loss, net->correct, logits, d->labels + first + s, B,
                          net->m->n_classes, 1.0f);
        for (int b = 0; b < B; b++) { sum += net->loss[b]; correct += net->correct[b]; }
    }
    free(idx);
    *loss = n > 0 ? sum / n : NAN;
    *accuracy = n > 0 ? (double)correct / n : NAN;
}

void kiln_evaluate(kiln_model *m, const kiln_dataset *d, int first, int n,
                   int threads, double *loss, double *accuracy)
{
    omp_set_num_threads(kiln_resolve_threads(threads));
    kiln_net net;
    kiln_net_init(&net, m, n < 250 ? (n > 0 ? n : 1) : 250);
    evaluate_net(&net, d, first, n, loss, accuracy);
    kiln_net_free(&net);
}

int kiln_train(const kiln_config *c0, const kiln_dataset *train,
               const kiln_dataset *test, kiln_history *h, kiln_model *out_model,
               const kiln_progress *progress, char *err, size_t errlen)
{
    double t_start = kiln_now();
    memset(h, 0, sizeof *h);
    h->diverged_step = -1;
    h->stopped_epoch = -1;
    h->best_epoch = -1;
    kiln_config c = *c0;
    kiln_config_resolve(&c);
    /* the model is checked against the images at hand */
    c.in_h = train->rows;
    c.in_w = train->cols;
    c.in_c = train->channels > 0 ? train->channels : 1;
    if (test->rows != train->rows || test->cols != train->cols ||
        (test->channels > 0 ? test->channels : 1) != c.in_c)
        return kiln_fail(err, errlen, "the test images (%dx%dx%d) differ in size from the training images (%dx%dx%d)",
                         test->rows, test->cols, test->channels > 0 ? test->channels : 1, c.in_h, c.in_w, c.in_c);
    if (kiln_config_validate(&c, err, errlen)) return 1;
    omp_set_num_threads(kiln_resolve_threads(c.threads));

    /* data split (Keras: split_at = int(N * (1 - validation_split))) */
    int n_all = train->n;
    if (c.train_limit > 0 && c.train_limit < n_all) n_all = c.train_limit;
    int n_train = kiln_split_train(n_all, c.validation_split);
    int n_val = n_all - n_train;
    int n_test = test->n;
    if (c.test_limit > 0 && c.test_limit < n_test) n_test = c.test_limit;
    if (n_train < 1) return kiln_fail(err, errlen, "no training examples left after validation_split=%g of %d", c.validation_split, n_all);
    h->n_train = n_train;
    h->n_val = n_val;
    h->n_test = n_test;

    kiln_model model;
    if (kiln_model_build(&model, c.model, c.in_h, c.in_w, c.in_c, err, errlen)) return 1;
    kiln_model_init(&model, c.seed);
    kiln_optimizer opt;
    if (kiln_optimizer_init(&opt, &c, model.n_params, err, errlen)) { kiln_model_free(&model); return 1; }
    int B = c.batch_size < n_train ? c.batch_size : n_train;
    kiln_net net;
    kiln_net_init(&net, &model, B);
    const int steps_per_epoch = (n_train + B - 1) / B;
    kiln_sched_state sched;
    kiln_sched_init(&sched, &c, steps_per_epoch);

    int *perm = kiln_xmalloc(sizeof(int) * (size_t)n_train);
    kiln_step_buf buf;
    kiln_step_buf_init(&buf, &net);
    float *best_w = NULL;
    kiln_es_state es;
    kiln_es_init(&es, &c);
    double ck_best = INFINITY;
    if (c.early_stopping && c.es_restore_best) best_w = kiln_xmalloc(sizeof(float) * model.n_params);

    long gstep = 0;
    double last_loss = NAN;
    int stop = 0, limited = 0;
    for (int epoch = 0; epoch < c.epochs && !stop; epoch++) {
        double t0 = kiln_now();
        kiln_epoch_order(perm, n_train, c.shuffle, c.seed, epoch);
        double loss_sum = 0.0, lr_used = NAN;
        long correct = 0, seen = 0;
        for (int s = 0; s < steps_per_epoch; s++, gstep++) {
            int start = s * B, nb = n_train - start < B ? n_train - start : B;
            kiln_sched_point pt = {epoch, s, gstep, last_loss};
            double lr = kiln_sched_lr(&sched, &c, &pt);
            if (c.decay > 0) lr = lr / (1.0 + c.decay * (double)gstep);
            if (kiln_sched_cycles_momentum(&c)) kiln_optimizer_set_momentum(&opt, kiln_sched_momentum(&sched, &c, &pt));
            if (s == 0) lr_used = lr;
            double bl = kiln_train_step(&net, &opt, &buf, train, perm + start, nb, c.seed,
                                        (uint64_t)gstep, lr, 1, &loss_sum, &correct);
            seen += nb;
            push_step(h, (float)bl, (float)lr);
            last_loss = bl;
            if (!isfinite(bl) && !h->diverged) { h->diverged = 1; h->diverged_step = (int)gstep; }
            if (progress && progress->on_step) progress->on_step(progress->ud, epoch, s, steps_per_epoch, bl);
            if (!isfinite(bl) && c.stop_on_nan) {
                snprintf(h->stopped_by, sizeof h->stopped_by, "terminate_on_nan");
                h->stopped_epoch = epoch;
                stop = 1;
                gstep++;
                break;
            }
            if (progress && progress->max_steps > 0 && h->n_steps >= progress->max_steps) {
                snprintf(h->stopped_by, sizeof h->stopped_by, "max_steps");
                h->stopped_epoch = epoch;
                limited = stop = 1;
                gstep++;
                break;
            }
        }
        if (limited) break;
        kiln_epoch_log e = {0};
        e.loss = loss_sum / (double)seen;
        e.accuracy = (double)correct / (double)seen;
        e.lr = lr_used;
        if (n_val > 0) evaluate_net(&net, train, n_train, n_val, &e.val_loss, &e.val_accuracy);
        else e.val_loss = e.val_accuracy = NAN;
        e.seconds = kiln_now() - t0;
        push_epoch(h, &e);
        kiln_sched_epoch_end(&sched, &c, epoch, e.loss, e.val_loss, e.accuracy, e.val_accuracy);
        if (progress && progress->on_epoch) progress->on_epoch(progress->ud, epoch, c.epochs, &e);

        if (c.checkpoint[0]) {
            int save = !c.checkpoint_best_only;
            if (c.checkpoint_best_only && e.val_loss < ck_best) { ck_best = e.val_loss; save = 1; }
            if (save && kiln_weights_save(&model, c.checkpoint, err, errlen)) goto fail;
        }
        if (c.early_stopping) {
            /* Keras EarlyStopping (callbacks.c); like Keras it also runs in
             * the epoch TerminateOnNaN ended */
            int act = kiln_es_update(&es, &c, epoch, kiln_epoch_metric(&e, c.es_monitor));
            if (act & KILN_ES_SAVE) {
                h->best_epoch = es.best_epoch;
                if (best_w) memcpy(best_w, model.params, sizeof(float) * model.n_params);
            }
            if (act & KILN_ES_STOP) {
                if (!stop) {
                    snprintf(h->stopped_by, sizeof h->stopped_by, "early_stopping");
                    h->stopped_epoch = epoch;
                }
                stop = 1;
                if (best_w) memcpy(model.params, best_w, sizeof(float) * model.n_params);
            }
        }
    }
    if (limited) h->test_loss = h->test_accuracy = NAN;
    else evaluate_net(&net, test, 0, n_test, &h->test_loss, &h->test_accuracy);
    h->seconds = kiln_now() - t_start;

    free(perm);
    kiln_step_buf_free(&buf);
    free(best_w);
    kiln_net_free(&net);
    kiln_optimizer_free(&opt);
    if (out_model) *out_model = model;
    else kiln_model_free(&model);
    return 0;
fail:
    free(perm);
    kiln_step_buf_free(&buf);
    free(best_w);
    kiln_net_free(&net);
    kiln_optimizer_free(&opt);
    kiln_model_free(&model);
    kiln_history_free(h);
    return 1;
}
