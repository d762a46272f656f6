/* kiln stats library: is one set of runs better than another, or is the gap
 * within the spread between seeds? It knows nothing of training: it takes two
 * samples of a metric (one value per seed) and says how far apart they are.
 *
 * The test is Welch's t-test (two-sided; unequal variances and sizes, the
 * usual choice for a handful of seeds, where equal spread cannot be assumed).
 * The interval is a percentile bootstrap of the difference of the means:
 * each sample resampled with replacement, independently, a fixed number of
 * times from a fixed seed, so the same inputs give the same digits on every
 * machine. The bootstrap interval assumes no distribution, which is its
 * point; with three seeds a side it is narrower than it should be (a
 * resample of three values holds at most three distinct ones), which is why
 * a verdict needs both: the test's p below alpha AND the interval clear of
 * zero.
 *
 * A side with one value has no spread of its own. It borrows the other
 * side's (when that has two or more values), or a spread given by the caller
 * (kiln_compare.spread_sd, say the baseline's seed spread); with neither the
 * comparison is "one seed each": a difference without test or interval.
 * With a borrowed or given spread the interval is the t-interval around the
 * difference (diff +- t * se), since a single value's resamples are all it.
 *
 * Thread safety: no global state. */
#ifndef KILN_STATS_H
#define KILN_STATS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* mean and sample standard deviation (n - 1; 0 for n = 1), summed in order */
double kiln_mean(const double *x, int n);
double kiln_sd(const double *x, int n);

/* P(|T| >= |t|) for Student's t with df > 0 degrees of freedom (df need not
 * be an integer: Welch's df rarely is); NaN for a NaN input */
double kiln_t_two_sided_p(double t, double df);

/* the regularized incomplete beta function I_x(a, b), 0 <= x <= 1, a, b > 0 */
double kiln_inc_beta(double x, double a, double b);

enum kiln_spread {
    KILN_SPREAD_NONE = 0,     /* one value each and no given spread: no test */
    KILN_SPREAD_OWN = 1,      /* each side's own standard deviation (Welch) */
    KILN_SPREAD_BORROWED = 2, /* a one-value side took the other side's */
    KILN_SPREAD_GIVEN = 3,    /* spread_sd (with spread_df) for both sides */
};

typedef struct kiln_compare {
    /* in */
    const double *a, *b;
    int na, nb;
    int higher_is_better;   /* 1 for an accuracy, 0 for a loss */
    double alpha;           /* the test's level, e.g. 0.05 */
    double level;           /* the interval's coverage, e.g. 0.95 */
    int resamples;          /* bootstrap resamples, e.g. 10000 */
    unsigned long long seed;
    double spread_sd;       /* > 0: use this spread for both sides (see above) */
    int spread_n;           /* the number of values spread_sd came from */
    /* out */
    double mean_a, mean_b, sd_a, sd_b;
    double diff;            /* mean_a - mean_b */
    double se, t, df, p;    /* NaN with KILN_SPREAD_NONE */
    double ci_low, ci_high; /* the interval of diff; NaN with KILN_SPREAD_NONE */
    int spread;             /* enum kiln_spread */
    int verdict;            /* +1 a is better, -1 a is worse, 0 within noise
                               (or not tested: spread NONE) */
} kiln_compare;

/* Fill the outputs of *c from its inputs. Returns 0, or -1 (with a message)
 * for inputs it cannot compare: an empty side, a non-finite value, a level
 * or alpha outside (0, 1), fewer than 100 resamples. */
int kiln_compare_run(kiln_compare *c, char *err, size_t n);

/* "better", "worse", "within noise", or "untested (one seed each)" */
const char *kiln_compare_verdict(const kiln_compare *c);

#ifdef __cplusplus
}
#endif
#endif
