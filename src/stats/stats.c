/* Two samples compared: Welch's t-test and a bootstrap interval. See
 * include/kiln/stats.h. */
#include "kiln/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

double kiln_mean(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return n > 0 ? s / n : NAN;
}

double kiln_sd(const double *x, int n)
{
    if (n < 2) return n == 1 ? 0 : NAN;
    double m = kiln_mean(x, n), ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (n - 1));
}

/* The continued fraction of I_x(a, b) (modified Lentz), good for
 * x < (a + 1) / (a + b + 2); the caller uses the symmetry otherwise. */
static double beta_cf(double x, double a, double b)
{
    const double tiny = 1e-300, eps = 1e-15;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double f = d;
    for (int m = 1; m <= 1000; m++) {
        /* the even step, then the odd one */
        double num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        d = 1 + num * d;
        c = 1 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        f *= c * d;
        num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
        d = 1 + num * d;
        c = 1 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double step = c * d;
        f *= step;
        if (fabs(step - 1) < eps) break;
    }
    return f;
}

double kiln_inc_beta(double x, double a, double b)
{
    if (isnan(x) || isnan(a) || isnan(b) || a <= 0 || b <= 0) return NAN;
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2)) return front * beta_cf(x, a, b) / a;
    return 1 - front * beta_cf(1 - x, b, a) / b;
}

double kiln_t_two_sided_p(double t, double df)
{
    if (isnan(t) || isnan(df) || df <= 0) return NAN;
    if (isinf(t)) return 0;
    return kiln_inc_beta(df / (df + t * t), df / 2, 0.5);
}

/* the t that leaves 1 - level in both tails: bisection on the p-value,
 * which falls monotonically in |t| */
static double t_critical(double level, double df)
{
    double lo = 0, hi = 1;
    while (kiln_t_two_sided_p(hi, df) > 1 - level && hi < 1e12) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
        double mid = (lo + hi) / 2;
        if (kiln_t_two_sided_p(mid, df) > 1 - level) lo = mid;
        else hi = mid;
    }
    return (lo + hi) / 2;
}

/* splitmix64 over a counter: the i-th draw depends on the seed and i only */
static uint64_t draw(uint64_t seed, uint64_t i)
{
    uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double resampled_mean(const double *x, int n, uint64_t seed, uint64_t *ctr)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += x[(uint32_t)(((draw(seed, (*ctr)++) >> 32) * (uint64_t)n) >> 32)];
    return s / n;
}

static int cmp_double(const void *p, const void *q)
{
    double a = *(const double *)p, b = *(const double *)q;
    return (a > b) - (a < b);
}

/* the q-quantile of sorted v[0..n-1], interpolated between neighbours */
static double quantile(const double *v, int n, double q)
{
    double h = (n - 1) * q;
    int i = (int)floor(h);
    if (i >= n - 1) return v[n - 1];
    return v[i] + (h - i) * (v[i + 1] - v[i]);
}

static int bootstrap(kiln_compare *c, char *err, size_t n)
{
    double *d = malloc((size_t)c->resamples * sizeof *d);
    if (!d) { snprintf(err, n, "out of memory for %d resamples", c->resamples); return -1; }
    uint64_t ctr = 0;
    for (int r = 0; r < c->resamples; r++) {
        double ma = resampled_mean(c->a, c->na, c->seed, &ctr);
        double mb = resampled_mean(c->b, c->nb, c->seed, &ctr);
        d[r] = ma - mb;
    }
    qsort(d, (size_t)c->resamples, sizeof *d, cmp_double);
    c->ci_low = quantile(d, c->resamples, (1 - c->level) / 2);
    c->ci_high = quantile(d, c->resamples, 1 - (1 - c->level) / 2);
    free(d);
    return 0;
}

static int check_inputs(const kiln_compare *c, char *err, size_t n)
{
    if (c->na < 1 || c->nb < 1) { snprintf(err, n, "a side has no values (%d and %d)", c->na, c->nb); return -1; }
    for (int i = 0; i < c->na + c->nb; i++) {
        double x = i < c->na ? c->a[i] : c->b[i - c->na];
        if (!isfinite(x)) { snprintf(err, n, "value %d of side %s is not a number", i < c->na ? i + 1 : i - c->na + 1, i < c->na ? "a" : "b"); return -1; }
    }
    if (!(c->alpha > 0 && c->alpha < 1)) { snprintf(err, n, "alpha must be between 0 and 1, got %g", c->alpha); return -1; }
    if (!(c->level > 0 && c->level < 1)) { snprintf(err, n, "level must be between 0 and 1, got %g", c->level); return -1; }
    if (c->resamples < 100) { snprintf(err, n, "at least 100 resamples, got %d", c->resamples); return -1; }
    if (c->spread_sd > 0 && c->spread_n < 2) { snprintf(err, n, "a given spread needs the number of values it came from (2 or more), got %d", c->spread_n); return -1; }
    return 0;
}

/* se and df by which spread the sides have */
static void spread_of(kiln_compare *c)
{
    double va = c->sd_a * c->sd_a / c->na, vb = c->sd_b * c->sd_b / c->nb;
    if (c->spread_sd > 0) {
        c->spread = KILN_SPREAD_GIVEN;
        c->se = c->spread_sd * sqrt(1.0 / c->na + 1.0 / c->nb);
        c->df = c->spread_n - 1;
    } else if (c->na >= 2 && c->nb >= 2) {
        c->spread = KILN_SPREAD_OWN;
        c->se = sqrt(va + vb);
        double den = va * va / (c->na - 1) + vb * vb / (c->nb - 1);
        c->df = den > 0 ? (va + vb) * (va + vb) / den : c->na + c->nb - 2;
    } else if (c->na >= 2 || c->nb >= 2) {
        c->spread = KILN_SPREAD_BORROWED;
        double sd = c->na >= 2 ? c->sd_a : c->sd_b;
        c->se = sd * sqrt(1.0 / c->na + 1.0 / c->nb);
        c->df = (c->na >= 2 ? c->na : c->nb) - 1;
    } else {
        c->spread = KILN_SPREAD_NONE;
    }
}

int kiln_compare_run(kiln_compare *c, char *err, size_t n)
{
    if (check_inputs(c, err, n)) return -1;
    c->mean_a = kiln_mean(c->a, c->na);
    c->mean_b = kiln_mean(c->b, c->nb);
    c->sd_a = kiln_sd(c->a, c->na);
    c->sd_b = kiln_sd(c->b, c->nb);
    c->diff = c->mean_a - c->mean_b;
    c->se = c->t = c->df = c->p = c->ci_low = c->ci_high = NAN;
    c->verdict = 0;
    spread_of(c);
    if (c->spread == KILN_SPREAD_NONE) return 0;
    if (c->se > 0) {
        c->t = c->diff / c->se;
        c->p = kiln_t_two_sided_p(c->t, c->df);
    } else { /* no spread at all: any difference is certain, none is none */
        c->t = c->diff == 0 ? 0 : copysign(INFINITY, c->diff);
        c->p = c->diff == 0 ? 1 : 0;
    }
    if (c->spread == KILN_SPREAD_OWN) {
        if (bootstrap(c, err, n)) return -1;
    } else { /* one side is a single value: its resamples would all be it */
        double h = c->se > 0 ? t_critical(c->level, c->df) * c->se : 0;
        c->ci_low = c->diff - h;
        c->ci_high = c->diff + h;
    }
    int clear = c->ci_low > 0 || c->ci_high < 0;
    if (c->p < c->alpha && clear) c->verdict = (c->diff > 0) == (c->higher_is_better != 0) ? 1 : -1;
    return 0;
}

const char *kiln_compare_verdict(const kiln_compare *c)
{
    if (c->spread == KILN_SPREAD_NONE) return "untested (one seed each)";
    return c->verdict > 0 ? "better" : c->verdict < 0 ? "worse" : "within noise";
}
