/* {compare}: the two sides' values of the metric through the stats library
 * (Welch's t-test and a bootstrap interval, include/kiln/stats.h), and the
 * sentence the writers show for the block. */
#include "resolve/resolve.h"
#include "kiln/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the test's level and the interval's coverage; the bootstrap's resamples and
 * seed are fixed, so a build gives the same digits on every machine */
#define CMP_ALPHA 0.05
#define CMP_LEVEL 0.95
#define CMP_RESAMPLES 10000
#define CMP_SEED 20261202ull

static const char *const SPREAD_WORDS[] = {"none", "own", "borrowed", "given"};

/* the metric of each run; 0, or -1 when one has none (no result, NaN) */
static int side_values(kiln_run **runs, int n, const char *metric, double *out)
{
    for (int i = 0; i < n; i++) {
        const char *s;
        if (kiln_run_value(runs[i], metric, &out[i], &s) != 0 || !isfinite(out[i])) return -1;
    }
    return 0;
}

/* "+0.0021" in the metric's usual precision */
static void signed_text(char *buf, size_t n, const char *metric, double v)
{
    if (!strncmp(metric, "seconds", 7)) snprintf(buf, n, "%+.1f", v);
    else snprintf(buf, n, "%+.4f", v);
    if (!strcmp(buf, "-0.0000") || !strcmp(buf, "-0.0")) buf[0] = '+';
}

static const char *side_text(kiln_arena *a, const char *id, int n)
{
    return n == 1 ? ka_printf(a, "%s", id) : ka_printf(a, "%s (%d seeds)", id, n);
}

/* one quiet sentence: what was compared, the difference, its evidence and
 * the verdict */
static const char *sentence(kiln_arena *a, const kiln_directive *x)
{
    const kiln_comparison *c = x->cmp;
    char metric[64], d[32], lo[32], hi[32], p[32];
    snprintf(metric, sizeof metric, "%s", c->metric);
    for (char *s = metric; *s; s++)
        if (*s == '_') *s = ' ';
    signed_text(d, sizeof d, c->metric, c->diff);
    const char *head = ka_printf(a, "Comparison %s, %s: %s minus %s", x->id, metric, side_text(a, c->a_id, c->n_a),
                                 side_text(a, c->b_id, c->n_b));
    if (!c->done) return ka_printf(a, "%s: n/a (a run has no value of %s).", head, c->metric);
    if (!isfinite(c->p)) return ka_printf(a, "%s = %s; %s.", head, d, c->verdict);
    signed_text(lo, sizeof lo, c->metric, c->ci_low);
    signed_text(hi, sizeof hi, c->metric, c->ci_high);
    if (c->p < 0.001) snprintf(p, sizeof p, "p < 0.001");
    else snprintf(p, sizeof p, "p = %.3f", c->p);
    const char *how = !strcmp(c->spread_used, "own") ? "bootstrap"
                      : !strcmp(c->spread_used, "given") ? ka_printf(a, "t, spread of %s", c->spread_id)
                                                          : "t, one side's spread";
    return ka_printf(a, "%s = %s (95%% interval %s to %s, %s; Welch's %s): %s.", head, d, lo, hi, how, p, c->verdict);
}

static void resolve_one(kiln_doc *doc, kiln_directive *x)
{
    kiln_comparison *c = x->cmp;
    if (!c || !c->a || !c->b) return;
    double *va = calloc((size_t)(c->n_a + c->n_b + c->n_spread) + 1, sizeof *va);
    double *vb = va + c->n_a, *vs = vb + c->n_b;
    kiln_compare k = {.a = va, .b = vb, .na = c->n_a, .nb = c->n_b, .higher_is_better = c->higher_is_better,
                      .alpha = CMP_ALPHA, .level = CMP_LEVEL, .resamples = CMP_RESAMPLES, .seed = CMP_SEED};
    char err[256];
    int ok = !side_values(c->a, c->n_a, c->metric, va) && !side_values(c->b, c->n_b, c->metric, vb) &&
             !side_values(c->spread, c->n_spread, c->metric, vs);
    if (ok && c->n_spread >= 2) {
        k.spread_sd = kiln_sd(vs, c->n_spread);
        k.spread_n = c->n_spread;
    }
    if (ok && kiln_compare_run(&k, err, sizeof err) == 0) {
        c->done = 1;
        c->mean_a = k.mean_a;
        c->mean_b = k.mean_b;
        c->sd_a = c->n_a > 1 ? k.sd_a : NAN;
        c->sd_b = c->n_b > 1 ? k.sd_b : NAN;
        c->diff = k.diff;
        c->ci_low = k.ci_low;
        c->ci_high = k.ci_high;
        c->p = k.p;
        c->t = k.t;
        c->df = k.df;
        c->verdict = kiln_compare_verdict(&k);
        c->spread_used = SPREAD_WORDS[k.spread];
    } else {
        c->mean_a = c->mean_b = c->sd_a = c->sd_b = c->diff = c->ci_low = c->ci_high = c->p = c->t = c->df = NAN;
        c->verdict = "n/a";
    }
    free(va);
    x->text = sentence(doc->arena, x);
}

void kr_resolve_compares(kiln_doc *doc)
{
    for (int i = 0; i < doc->n_compares; i++) resolve_one(doc, doc->compares[i]);
}
