/* Optimizers with the update rules of TF2 Keras (the kernels behind
 * tf.keras.optimizers, optimizer_v2), over the flat parameter buffer. Each
 * element is updated independently, so the loops split across threads
 * freely. Constants are used in float, as the moments are: b1, b2, rho, eps
 * below are the configured values rounded to float once, and the bias
 * corrections are computed (in double) from those same float values.
 *
 *   sgd      v = momentum*v - lr*g;  w += v            (nesterov: w += momentum*v - lr*g)
 *            (momentum 0: w -= lr*g)
 *   adam     m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
 *            w -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)
 *   adamax   m = b1*m + (1-b1)*g;  u = max(b2*u, |g|);  w -= lr/(1-b1^t) * m / (u + eps)
 *   adadelta a = rho*a + (1-rho)*g^2;  d = sqrt(s + eps)/sqrt(a + eps) * g
 *            s = rho*s + (1-rho)*d^2;  w -= lr*d
 *   rmsprop  a = rho*a + (1-rho)*g^2 (a starts at 0)
 *            momentum 0:  w -= lr*g/(sqrt(a) + eps)        (epsilon outside the root)
 *            momentum > 0: mom = momentum*mom + lr*g/sqrt(a + eps); w -= mom
 *            (TF2's two kernels, ResourceApplyRMSProp puts epsilon inside)
 *   adagrad  a += g^2 (a starts at initial_accumulator);  w -= lr*g/(sqrt(a) + eps)
 *
 * One-cycle schedules may change beta1 (adam, adamax) or the momentum (sgd,
 * rmsprop) before every step (kiln_optimizer_set_momentum); the bias
 * correction then uses the current beta1, as PyTorch's Adam does. */
#include "kiln/train.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int kiln_optimizer_init(kiln_optimizer *o, const kiln_config *c0, size_t n,
                        char *err, size_t errlen)
{
    kiln_config c = *c0;
    kiln_config_resolve(&c);
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", c.optimizer);
    o->momentum = c.momentum;
    o->nesterov = c.nesterov;
    o->beta1 = c.beta1;
    o->beta2 = c.beta2;
    o->epsilon = c.epsilon;
    o->rho = c.rho;
    o->initial_accumulator = c.initial_accumulator;
    o->n = n;
    const char *nm = o->name;
    /* a cycled momentum turns momentum on even where the configured one is 0 */
    const int cycled = kiln_sched_cycles_momentum(&c);
    if (!strcmp(nm, "sgd")) {
        if (o->momentum > 0 || cycled) o->s1 = kiln_aligned_alloc(sizeof(float) * n);
    } else if (!strcmp(nm, "adam") || !strcmp(nm, "adamax") || !strcmp(nm, "adadelta")) {
        o->s1 = kiln_aligned_alloc(sizeof(float) * n);
        o->s2 = kiln_aligned_alloc(sizeof(float) * n);
    } else if (!strcmp(nm, "rmsprop")) {
        o->s1 = kiln_aligned_alloc(sizeof(float) * n);
        if (o->momentum > 0 || cycled) o->s2 = kiln_aligned_alloc(sizeof(float) * n);
    } else if (!strcmp(nm, "adagrad")) {
        o->s1 = kiln_aligned_alloc(sizeof(float) * n);
        for (size_t i = 0; i < n; i++) o->s1[i] = (float)o->initial_accumulator;
    } else {
        return kiln_fail(err, errlen, "key 'optimizer': '%s' is not accepted; accepted values: sgd adam adamax adadelta rmsprop adagrad", nm);
    }
    return 0;
}

void kiln_optimizer_set_momentum(kiln_optimizer *o, double momentum)
{
    if (!strcmp(o->name, "adam") || !strcmp(o->name, "adamax")) o->beta1 = momentum;
    else if (!strcmp(o->name, "sgd") || !strcmp(o->name, "rmsprop")) o->momentum = momentum;
}

void kiln_optimizer_free(kiln_optimizer *o)
{
    free(o->s1);
    free(o->s2);
    memset(o, 0, sizeof *o);
}

void kiln_optimizer_step(kiln_optimizer *o, float *restrict w, const float *restrict g, double lr)
{
    const size_t n = o->n;
    o->t++;
    const float flr = (float)lr, eps = (float)o->epsilon;
    float *restrict s1 = o->s1, *restrict s2 = o->s2;
    const char *nm = o->name;
    if (!strcmp(nm, "sgd")) {
        if (!s1) {
            #pragma omp parallel for schedule(static)
            for (size_t i = 0; i < n; i++) w[i] -= flr * g[i];
        } else {
            const float mu = (float)o->momentum;
            const int nes = o->nesterov;
            #pragma omp parallel for schedule(static)
            for (size_t i = 0; i < n; i++) {
                float v = mu * s1[i] - flr * g[i];
                s1[i] = v;
                w[i] += nes ? mu * v - flr * g[i] : v;
            }
        }
    } else if (!strcmp(nm, "adam")) {
        const float b1 = (float)o->beta1, b2 = (float)o->beta2;
        const double t = (double)o->t;
        const float alpha = (float)(lr * sqrt(1.0 - pow((double)b2, t)) / (1.0 - pow((double)b1, t)));
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) {
            float m = b1 * s1[i] + (1.0f - b1) * g[i];
            float v = b2 * s2[i] + (1.0f - b2) * g[i] * g[i];
            s1[i] = m;
            s2[i] = v;
            w[i] -= alpha * m / (sqrtf(v) + eps);
        }
    } else if (!strcmp(nm, "adamax")) {
        const float b1 = (float)o->beta1, b2 = (float)o->beta2;
        const float alpha = (float)(lr / (1.0 - pow((double)b1, (double)o->t)));
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) {
            float m = b1 * s1[i] + (1.0f - b1) * g[i];
            float u = fmaxf(b2 * s2[i], fabsf(g[i]));
            s1[i] = m;
            s2[i] = u;
            w[i] -= alpha * m / (u + eps);
        }
    } else if (!strcmp(nm, "adadelta")) {
        const float rho = (float)o->rho;
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) {
            float a = rho * s1[i] + (1.0f - rho) * g[i] * g[i];
            float d = sqrtf(s2[i] + eps) / sqrtf(a + eps) * g[i];
            s1[i] = a;
            s2[i] = rho * s2[i] + (1.0f - rho) * d * d;
            w[i] -= flr * d;
        }
    } else if (!strcmp(nm, "rmsprop")) {
        const float rho = (float)o->rho, mu = (float)o->momentum;
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) {
            float a = rho * s1[i] + (1.0f - rho) * g[i] * g[i];
            s1[i] = a;
            if (s2) {
                s2[i] = mu * s2[i] + flr * g[i] / sqrtf(a + eps);
                w[i] -= s2[i];
            } else {
                w[i] -= flr * g[i] / (sqrtf(a) + eps);
            }
        }
    } else if (!strcmp(nm, "adagrad")) {
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) {
            float a = s1[i] + g[i] * g[i];
            s1[i] = a;
            w[i] -= flr * g[i] / (sqrtf(a) + eps);
        }
    }
}
