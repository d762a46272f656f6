/* The learning-rate range test (Smith 2017), with keras_lr_finder's run and
 * stopping rule and fastai's smoothing and suggestions.
 *
 * Run: fresh optimizer state, the model's current weights, the trainer's
 * training split and batch order (same shuffling and dropout streams as
 * kiln_train, so step i sees the batch kiln_train's step i sees). Step i
 * trains at lr_i = start_lr * mult^i with mult = (end_lr/start_lr)^(1/N),
 * N the planned number of steps, and records (lr_i, loss_i). After
 * recording, the run stops when i > 5 and (loss_i is NaN or loss_i >
 * stop_factor * best), best being the lowest loss before step i
 * (keras_lr_finder; it counts batches within the epoch, kiln counts steps of
 * the whole run, which is the same for a one-epoch sweep). The loss is the
 * batch's own mean loss, as in the Keras of keras_lr_finder's time (TF2's
 * logs hold a running mean instead). The weights are restored afterwards.
 *
 * Analysis:
 *   smoothed[i]   = avg_i / (1 - beta^(i+1)),  avg_i = beta*avg_{i-1} + (1-beta)*loss_i
 *   derivative[i] = (loss[i] - loss[i-sma]) / sma        (keras_lr_finder)
 *   suggestions over the points left after skipping the first n/10 and the
 *   last 5 (fastai; keras_lr_finder's plots skip 10 and 5):
 *     steepest  = lr_i where (smoothed[i+1]-smoothed[i]) / (log lr_{i+1} - log lr_i)
 *                 is most negative
 *     min_loss  = lr at the smallest smoothed loss; minimum = min_loss/10
 *     cyclical bounds: Smith (2017, section 3.3) puts max_lr where the loss
 *       stops falling and, as a rule of thumb, base_lr at a third to a quarter
 *       of max_lr. The smoothed minimum marks where the lagging average stops
 *       falling, which lies past the raw turning point and close to the
 *       divergence (with beta 0.98 the average trails the raw loss by about
 *       50 steps), so kiln takes fastai's correction of it:
 *         max_lr  = min_loss / 10   (fastai's 'minimum')
 *         base_lr = max_lr / 4      (Smith's rule of thumb)
 */
#include "kiln/train.h"
#include "internal.h"
#include "net.h"
#include "step.h"

#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void kiln_lrfind_opts_init(kiln_lrfind_opts *o)
{
    memset(o, 0, sizeof *o);
    o->start_lr = 1e-7;
    o->end_lr = 10.0;
    o->epochs = 1;
    o->steps = 0;
    o->sma = 20;
    o->beta = 0.98;
    o->stop_factor = 4.0;
}

int kiln_lrfind_uses_key(const char *name)
{
    /* what kiln_lrfind below and the functions it calls read from c */
    static const char *const used[] = {"model", "batch_size", "validation_split", "shuffle", "seed", "train_limit",
                                       "threads", "optimizer", "momentum", "nesterov", "beta1", "beta2", "epsilon",
                                       "rho", "initial_accumulator", NULL};
    for (const char *const *k = used; *k; k++)
        if (!strcmp(*k, name)) return 1;
    return 0;
}

void kiln_lrfind_free(kiln_lrfind_result *r)
{
    free(r->lr);
    free(r->loss);
    free(r->smoothed);
    free(r->derivative);
    memset(r, 0, sizeof *r);
}

void kiln_lrfind_analyse(kiln_lrfind_result *r, double beta)
{
    const long n = r->n;
    free(r->smoothed);
    free(r->derivative);
    r->smoothed = kiln_xcalloc((size_t)n + 1, sizeof(double));
    r->derivative = kiln_xcalloc((size_t)n + 1, sizeof(double));
    double avg = 0.0, bp = 1.0;
    for (long i = 0; i < n; i++) {
        avg = beta * avg + (1.0 - beta) * r->loss[i];
        bp *= beta;
        r->smoothed[i] = avg / (1.0 - bp);
    }
    const int sma = r->sma > 0 ? r->sma : 1;
    for (long i = 0; i < n; i++)
        r->derivative[i] = i >= sma ? (r->loss[i] - r->loss[i - sma]) / sma : NAN;

    r->steepest_lr = r->min_loss_lr = r->min_div10_lr = r->base_lr = r->max_lr = NAN;
    long lo = n / 10, hi = n - (n >= 20 ? 5 : 0); /* points [lo, hi) */
    if (hi - lo < 2) { lo = 0; hi = n; }
    long imin = -1, isteep = -1;
    double gbest = INFINITY;
    for (long i = lo; i < hi; i++) {
        const double v = r->smoothed[i];
        if (isfinite(v) && (imin < 0 || v < r->smoothed[imin])) imin = i;
        if (i + 1 < hi && isfinite(v) && isfinite(r->smoothed[i + 1])) {
            const double g = (r->smoothed[i + 1] - v) / (log(r->lr[i + 1]) - log(r->lr[i]));
            if (g < gbest) { gbest = g; isteep = i; }
        }
    }
    if (imin >= 0) {
        r->min_loss_lr = r->lr[imin];
        r->min_div10_lr = r->min_loss_lr / 10.0;
        r->max_lr = r->min_div10_lr;
        r->base_lr = r->max_lr / 4.0;
    }
    if (isteep >= 0) r->steepest_lr = r->lr[isteep];
}

int kiln_lrfind(const kiln_config *c0, const kiln_dataset *train, kiln_model *m,
                const kiln_lrfind_opts *o, kiln_lrfind_result *r,
                const kiln_progress *progress, char *err, size_t errlen)
{
    double t_start = kiln_now();
    memset(r, 0, sizeof *r);
    kiln_config c = *c0;
    kiln_config_resolve(&c);
    if (!(o->start_lr > 0) || !isfinite(o->start_lr))
        return kiln_fail(err, errlen, "key 'start_lr': %g is not accepted; accepted values: a number > 0", o->start_lr);
    if (!(o->end_lr > o->start_lr) || !isfinite(o->end_lr))
        return kiln_fail(err, errlen, "key 'end_lr': %g is not accepted; accepted values: a number > start_lr (%g)", o->end_lr, o->start_lr);
    if (o->steps <= 0 && o->epochs < 1)
        return kiln_fail(err, errlen, "key 'lr_epochs': %d is not accepted; accepted values: an integer >= 1 (or set lr_steps)", o->epochs);
    if (!(o->beta >= 0 && o->beta < 1))
        return kiln_fail(err, errlen, "key 'beta': %g is not accepted; accepted values: a number in [0, 1)", o->beta);
    if (o->sma < 1)
        return kiln_fail(err, errlen, "key 'sma': %d is not accepted; accepted values: an integer >= 1", o->sma);
    if (!(o->stop_factor > 1))
        return kiln_fail(err, errlen, "key 'stop_factor': %g is not accepted; accepted values: a number > 1", o->stop_factor);
    omp_set_num_threads(kiln_resolve_threads(c.threads));

    int n_all = train->n;
    if (c.train_limit > 0 && c.train_limit < n_all) n_all = c.train_limit;
    const int n_train = kiln_split_train(n_all, c.validation_split);
    if (n_train < 1)
        return kiln_fail(err, errlen, "no training examples left after validation_split=%g of %d", c.validation_split, n_all);
    const int B = c.batch_size < n_train ? c.batch_size : n_train;
    const int spe = (n_train + B - 1) / B;
    const long planned = o->steps > 0 ? o->steps : (long)o->epochs * spe;

    kiln_optimizer opt;
    if (kiln_optimizer_init(&opt, &c, m->n_params, err, errlen)) return 1;
    kiln_net net;
    kiln_net_init(&net, m, B);
    kiln_step_buf buf;
    kiln_step_buf_init(&buf, &net);
    float *saved = kiln_xmalloc(sizeof(float) * m->n_params);
    memcpy(saved, m->params, sizeof(float) * m->n_params);
    int *perm = kiln_xmalloc(sizeof(int) * (size_t)n_train);

    r->planned = planned;
    r->start_lr = o->start_lr;
    r->end_lr = o->end_lr;
    r->lr_mult = pow(o->end_lr / o->start_lr, 1.0 / (double)planned);
    r->sma = o->sma;
    r->lr = kiln_xcalloc((size_t)planned + 1, sizeof(double));
    r->loss = kiln_xcalloc((size_t)planned + 1, sizeof(double));
    double best = 1e9; /* keras_lr_finder's starting best_loss */
    for (long i = 0; i < planned; i++) {
        const int epoch = (int)(i / spe), s = (int)(i % spe);
        if (s == 0) kiln_epoch_order(perm, n_train, c.shuffle, c.seed, epoch); /* the trainer's order */
        const int start = s * B, nb = n_train - start < B ? n_train - start : B;
        const double lr = o->start_lr * pow(r->lr_mult, (double)i);
        /* forward and loss first: a diverged step's update is never needed,
         * as the weights are restored at the end */
        double loss = kiln_train_step(&net, &opt, &buf, train, perm + start, nb, c.seed,
                                      (uint64_t)i, lr, 0, NULL, NULL);
        r->lr[i] = lr;
        r->loss[i] = loss;
        r->n = i + 1;
        if (progress && progress->on_step) progress->on_step(progress->ud, epoch, s, spe, loss);
        if (i > 5 && (isnan(loss) || loss > o->stop_factor * best)) { r->stopped_early = 1; break; }
        if (progress && progress->max_steps > 0 && r->n >= progress->max_steps) break;
        if (loss < best) best = loss;
        kiln_net_backward(&net, buf.dlogits, nb);
        kiln_optimizer_step(&opt, m->params, m->grads, lr);
    }
    memcpy(m->params, saved, sizeof(float) * m->n_params);
    free(saved);
    free(perm);
    kiln_step_buf_free(&buf);
    kiln_net_free(&net);
    kiln_optimizer_free(&opt);
    kiln_lrfind_analyse(r, o->beta);
    r->seconds = kiln_now() - t_start;
    return 0;
}


json_t *kiln_lrfind_json(const kiln_lrfind_result *r)
{
    json_t *root = json_object();
    json_object_set_new(root, "lr", kiln_json_series(r->lr, r->n));
    json_object_set_new(root, "loss", kiln_json_series(r->loss, r->n));
    json_object_set_new(root, "smoothed", kiln_json_series(r->smoothed, r->n));
    json_object_set_new(root, "derivative", kiln_json_series(r->derivative, r->n));
    json_t *sg = json_object();
    json_object_set_new(sg, "steepest", kiln_json_num(r->steepest_lr));
    json_object_set_new(sg, "min_loss", kiln_json_num(r->min_loss_lr));
    json_object_set_new(sg, "minimum", kiln_json_num(r->min_div10_lr));
    json_object_set_new(sg, "base_lr", kiln_json_num(r->base_lr));
    json_object_set_new(sg, "max_lr", kiln_json_num(r->max_lr));
    json_object_set_new(root, "suggestions", sg);
    json_object_set_new(root, "stopped_early", json_boolean(r->stopped_early));
    json_object_set_new(root, "steps", json_integer(r->n));
    json_object_set_new(root, "planned_steps", json_integer(r->planned));
    json_object_set_new(root, "start_lr", kiln_json_num(r->start_lr));
    json_object_set_new(root, "end_lr", kiln_json_num(r->end_lr));
    json_object_set_new(root, "lr_mult", kiln_json_num(r->lr_mult));
    json_object_set_new(root, "sma", json_integer(r->sma));
    json_object_set_new(root, "seconds", kiln_json_num(r->seconds));
    return root;
}

char *kiln_lrfind_to_json(const kiln_lrfind_result *r)
{
    json_t *root = kiln_lrfind_json(r);
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(root);
    return s;
}
