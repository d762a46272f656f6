/* Learning-rate schedules.
 *
 * Per-epoch schedules behave like Keras' LearningRateScheduler: the rate is
 * set at the first step of every epoch (it stays fixed within the epoch),
 * and the schedule function is called for epoch 0 too. `epoch` counts from 0.
 *
 *   constant     lr0
 *   linear       lr = max(lr - linear_step, 0), applied once per epoch
 *                INCLUDING epoch 0, so epoch e runs at
 *                max(lr0 - (e+1)*linear_step, 0) (article: 1e-5)
 *   time         lr = lr * 1/(1 + time_decay*epoch), applied once per epoch
 *                including epoch 0 (where the factor is 1), so epoch e runs at
 *                lr0 * prod_{j=0..e} 1/(1 + time_decay*j) (article: 1.5e-6)
 *   step         lr0 * step_drop^floor((1+epoch)/step_every)
 *                (article: 0.5 and 15: halved from epoch 14, again from 29)
 *   exponential  lr0 * exp(-exp_k*epoch)
 *   plateau      Keras ReduceLROnPlateau, decided at epoch end (below)
 *
 * The cumulative ones are evaluated by replaying the per-epoch update from
 * lr0 (at most `epochs` multiplications), so the rate is a pure function of
 * the epoch and the replay performs exactly the article's operations in its
 * order.
 *
 * Per-iteration schedules set the rate before every step from the global
 * step `it` (from 0):
 *
 *   triangular, triangular2, exp_range (bckenstler/CLR, Smith 2017):
 *     cycle = floor(1 + it/(2*ss)),  x = |it/ss - 2*cycle + 1|
 *     lr = base_lr + (max_lr - base_lr) * max(0, 1 - x) * f
 *     f = 1 | 1/2^(cycle-1) | gamma^it
 *     ss = step_size, or step_size*steps_per_epoch with step_unit=epochs
 *   one_cycle (PyTorch OneCycleLR, three_phase=False, cosine annealing):
 *     T = epochs*steps_per_epoch, initial = max_lr/div_factor,
 *     final = initial/final_div_factor, p = pct_start*T - 1;
 *     steps 0..p: cosine from initial up to max_lr;
 *     steps p..T-1: cosine from max_lr down to final.
 *     With cycle_momentum (the default, as in PyTorch) the momentum term
 *     (beta1 of adam/adamax, momentum of sgd/rmsprop) follows the same
 *     cosines the other way: max_momentum down to base_momentum over the
 *     first phase, back up to max_momentum over the second.
 *
 * The legacy Keras `decay` key is applied by the trainer on top of these. */
#include "kiln/train.h"
#include "internal.h"

#include <math.h>
#include <string.h>

static int is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static int plateau_maximize(const kiln_config *c)
{
    /* Keras mode 'auto': accuracy-like metrics go up, everything else down */
    return strstr(c->monitor, "acc") != NULL;
}

/* Cosine annealing from a to b as pct goes 0 -> 1 (PyTorch _annealing_cos). */
static double anneal_cos(double a, double b, double pct)
{
    return b + (a - b) / 2.0 * (cos(M_PI * pct) + 1.0);
}

/* One-cycle phase of step `step` of `total`: 0 = warm-up, 1 = annealing,
 * and the fraction of the phase done (PyTorch OneCycleLR.get_lr). */
static int one_cycle_phase(const kiln_config *c, long total, long step, double *pct)
{
    const double end1 = c->pct_start * (double)total - 1.0;
    const double end2 = (double)total - 1.0;
    const double t = (double)step;
    if (t <= end1 || end1 >= end2) {
        /* warm-up; a degenerate one-step phase ends at its target */
        *pct = end1 > 0.0 ? t / end1 : 1.0;
        return 0;
    }
    *pct = (t - end1) / (end2 - end1);
    return 1;
}

static double one_cycle_lr(const kiln_config *c, long total, long step)
{
    const double initial = c->max_lr / c->div_factor;
    const double final = initial / c->final_div_factor;
    double pct;
    if (one_cycle_phase(c, total, step, &pct) == 0) return anneal_cos(initial, c->max_lr, pct);
    return anneal_cos(c->max_lr, final, pct);
}

int kiln_sched_cycles_momentum(const kiln_config *c)
{
    return is(c->schedule, "one_cycle") && c->cycle_momentum;
}

double kiln_sched_momentum(const kiln_sched_state *s, const kiln_config *c, const kiln_sched_point *p)
{
    if (!kiln_sched_cycles_momentum(c)) return NAN;
    double pct;
    if (one_cycle_phase(c, s->total_steps, p->global_step, &pct) == 0)
        return anneal_cos(c->max_momentum, c->base_momentum, pct);
    return anneal_cos(c->base_momentum, c->max_momentum, pct);
}

static double cyclic_lr(const kiln_config *c, int steps_per_epoch, long step)
{
    double ss = c->step_size;
    if (is(c->step_unit, "epochs")) ss *= (double)steps_per_epoch;
    const double it = (double)step;
    const double cycle = floor(1.0 + it / (2.0 * ss));
    const double x = fabs(it / ss - 2.0 * cycle + 1.0);
    double f = 1.0;
    if (is(c->schedule, "triangular2")) f = 1.0 / pow(2.0, cycle - 1.0);
    else if (is(c->schedule, "exp_range")) f = pow(c->gamma, it);
    return c->base_lr + (c->max_lr - c->base_lr) * fmax(0.0, 1.0 - x) * f;
}

void kiln_sched_init(kiln_sched_state *s, const kiln_config *c, int steps_per_epoch)
{
    kiln_config r = *c;
    kiln_config_resolve(&r);
    memset(s, 0, sizeof *s);
    s->lr = s->lr0 = r.learning_rate;
    s->steps_per_epoch = steps_per_epoch;
    s->total_steps = (long)steps_per_epoch * r.epochs;
    s->best = plateau_maximize(&r) ? -INFINITY : INFINITY;
    s->wait = 0;
    s->cooldown = 0;
}

double kiln_sched_lr(kiln_sched_state *s, const kiln_config *c, const kiln_sched_point *p)
{
    const char *name = c->schedule;
    const int epoch = p->epoch;
    double lr = s->lr0;
    if (is(name, "constant")) {
        lr = s->lr0;
    } else if (is(name, "linear")) {
        for (int j = 0; j <= epoch; j++) lr = fmax(lr - c->sched_amount, 0.0);
    } else if (is(name, "time")) {
        for (int j = 0; j <= epoch; j++) lr = lr * (1.0 / (1.0 + c->sched_decay * (double)j));
    } else if (is(name, "step")) {
        lr = s->lr0 * pow(c->sched_drop, floor((1.0 + (double)epoch) / c->sched_every));
    } else if (is(name, "exponential")) {
        lr = s->lr0 * exp(-c->sched_k * (double)epoch);
    } else if (is(name, "triangular") || is(name, "triangular2") || is(name, "exp_range")) {
        lr = cyclic_lr(c, s->steps_per_epoch, p->global_step);
    } else if (is(name, "one_cycle")) {
        lr = one_cycle_lr(c, s->total_steps, p->global_step);
    } else if (is(name, "plateau")) {
        lr = s->lr; /* changed only at epoch end */
    }
    s->lr = lr;
    return lr;
}

/* Keras ReduceLROnPlateau.on_epoch_end, mode 'auto'. */
void kiln_sched_epoch_end(kiln_sched_state *s, const kiln_config *c, int epoch,
                          double loss, double val_loss, double acc, double val_acc)
{
    (void)epoch;
    if (!is(c->schedule, "plateau")) return;
    double cur = val_loss;
    if (is(c->monitor, "loss")) cur = loss;
    else if (is(c->monitor, "accuracy")) cur = acc;
    else if (is(c->monitor, "val_accuracy")) cur = val_acc;
    const int up = plateau_maximize(c);
    if (s->cooldown > 0) {
        s->cooldown--;
        s->wait = 0;
    }
    int better = up ? (cur > s->best + c->min_delta) : (cur < s->best - c->min_delta);
    if (better) {
        s->best = cur;
        s->wait = 0;
    } else if (s->cooldown <= 0) {
        s->wait++;
        if ((double)s->wait >= c->patience) {
            if (s->lr > c->min_lr) {
                s->lr = fmax(s->lr * c->factor, c->min_lr);
                s->cooldown = (int)c->cooldown;
                s->wait = 0;
            }
        }
    }
}
