/* The stats library (include/kiln/stats.h): Student's t against closed
 * forms, Welch's test against a hand-worked example, the bootstrap interval,
 * the verdicts and every input error. */
#include "testutil.h"
#include "kiln/stats.h"

#include <math.h>

#define NEAR(x, y, tol) ck_assert_msg(fabs((x) - (y)) <= (tol), "%s = %.12g, expected %.12g", #x, (double)(x), (double)(y))

START_TEST(t_distribution)
{
    /* df = 1 is Cauchy's: P(|T| >= t) = 1 - 2 atan(t) / pi */
    for (double t = 0; t < 20; t += 0.7) NEAR(kiln_t_two_sided_p(t, 1), 1 - 2 * atan(t) / M_PI, 1e-12);
    /* df = 2: 1 - t / sqrt(t^2 + 2) */
    for (double t = 0; t < 20; t += 0.7) NEAR(kiln_t_two_sided_p(t, 2), 1 - t / sqrt(t * t + 2), 1e-12);
    /* df = 4: F(t) = 1/2 + 3/8 u (1 - u^2 / 12) ... with u = t / sqrt(1 + t^2/4) (one form of it) */
    for (double t = 0.1; t < 10; t += 0.9) {
        double u = t / sqrt(1 + t * t / 4);
        double F = 0.5 + 0.375 * u * (1 - t * t / (12 * (1 + t * t / 4)));
        NEAR(kiln_t_two_sided_p(t, 4), 2 * (1 - F), 1e-12);
    }
    /* the tables' 97.5% points (df 10 and 30) leave 5% in both tails */
    NEAR(kiln_t_two_sided_p(2.228138851986274, 10), 0.05, 1e-10);
    NEAR(kiln_t_two_sided_p(2.042272456301238, 30), 0.05, 1e-10);
    /* symmetric in t, 1 at 0, 0 at infinity, NaN for nonsense */
    NEAR(kiln_t_two_sided_p(-3.1, 5.5), kiln_t_two_sided_p(3.1, 5.5), 0);
    NEAR(kiln_t_two_sided_p(0, 3), 1, 1e-15);
    ck_assert(kiln_t_two_sided_p(INFINITY, 3) == 0);
    ck_assert(isnan(kiln_t_two_sided_p(NAN, 3)));
    ck_assert(isnan(kiln_t_two_sided_p(1, 0)));
    /* a fractional df lies between its neighbours */
    double p4 = kiln_t_two_sided_p(2.5, 4), p5 = kiln_t_two_sided_p(2.5, 5), p45 = kiln_t_two_sided_p(2.5, 4.5);
    ck_assert(p4 > p45 && p45 > p5);
    /* I_x(a, a) at 1/2 is 1/2; I_x(1, 1) = x; the edges */
    NEAR(kiln_inc_beta(0.5, 3.7, 3.7), 0.5, 1e-13);
    NEAR(kiln_inc_beta(0.3, 1, 1), 0.3, 1e-13);
    ck_assert(kiln_inc_beta(0, 2, 3) == 0 && kiln_inc_beta(1, 2, 3) == 1);
    ck_assert(isnan(kiln_inc_beta(0.5, -1, 2)));
}
END_TEST

static kiln_compare setup(const double *a, int na, const double *b, int nb, int higher)
{
    kiln_compare c = {.a = a, .b = b, .na = na, .nb = nb, .higher_is_better = higher, .alpha = 0.05, .level = 0.95,
                      .resamples = 10000, .seed = 42};
    return c;
}

START_TEST(welch_by_hand)
{
    /* a = 1 2 3 (mean 2, variance 1), b = 4 5 6 7 (mean 5.5, variance 5/3):
     * se^2 = 1/3 + 5/12 = 3/4, df = (3/4)^2 / ((1/3)^2/2 + (5/12)^2/3) = 243/49 */
    double a[] = {1, 2, 3}, b[] = {4, 5, 6, 7};
    kiln_compare c = setup(a, 3, b, 4, 1);
    char err[256];
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    NEAR(c.mean_a, 2, 1e-15);
    NEAR(c.mean_b, 5.5, 1e-15);
    NEAR(c.sd_a, 1, 1e-15);
    NEAR(c.sd_b, sqrt(5.0 / 3), 1e-15);
    NEAR(c.diff, -3.5, 1e-15);
    NEAR(c.se, sqrt(0.75), 1e-15);
    NEAR(c.df, 243.0 / 49, 1e-12);
    NEAR(c.t, -3.5 / sqrt(0.75), 1e-12);
    ck_assert_int_eq(c.spread, KILN_SPREAD_OWN);
    ck_assert(c.p > 0.005 && c.p < 0.015); /* t = -4.04 on 4.96 df */
    ck_assert(c.ci_low < c.diff && c.diff < c.ci_high && c.ci_high < 0);
    /* resampled means lie within the samples' ranges: the interval is inside
     * [min a - max b, max a - min b] */
    ck_assert(c.ci_low >= 1 - 7 && c.ci_high <= 3 - 4);
    ck_assert_int_eq(c.verdict, -1);
    ck_assert_str_eq(kiln_compare_verdict(&c), "worse");
}
END_TEST

/* Values computed independently with mpmath (40 digits), by two routes that
 * agree to 17 digits: mpmath.betainc (the regularized incomplete beta) and a
 * numerical integral of Student's density; the script is in the README
 * ("The statistics of {compare}"). Fractional df as Welch's are. */
START_TEST(against_mpmath)
{
    static const struct { double t, df, p; } T[] = {
        {0.5, 1.5, 0.68056711066994001},         {1.7, 2.3, 0.21469519180807206},
        {2.9, 3.7, 0.048478077361702662},        {4.04145188432738, 243.0 / 49, 0.010076943347988873},
        {1.2, 7.5, 0.26666892279322206},         {3.3, 13.7, 0.0053983047803752389},
        {0.01, 40, 0.99207099695994486},         {6.0, 2.0, 0.026671473215424771},
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) NEAR(kiln_t_two_sided_p(T[i].t, T[i].df), T[i].p, 1e-13 + 1e-11 * T[i].p);
    char err[256];
    /* Welch on accuracies shaped like the article's (3 seeds against 5):
     * mpmath gives t 5.1974370677368506, df 5.5354324520296956, p 0.002574199445218138 */
    double a[] = {0.9940, 0.9942, 0.9946}, b[] = {0.9912, 0.9919, 0.9919, 0.9932, 0.9928};
    kiln_compare c = setup(a, 3, b, 5, 1);
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    NEAR(c.diff, 0.0020666666666666667, 1e-15);
    NEAR(c.t, 5.1974370677368506, 1e-9);
    NEAR(c.df, 5.5354324520296956, 1e-9);
    NEAR(c.p, 0.002574199445218138, 1e-11);
    ck_assert_str_eq(kiln_compare_verdict(&c), "better");
    /* the same shape on losses, where the gap is inside the spread:
     * t -0.84522610563997787, df 5.9699808250112266, p 0.43055013910780479 */
    double la[] = {0.0265, 0.0280, 0.0248}, lb[] = {0.0296, 0.0294, 0.0297, 0.0223, 0.0283};
    c = setup(la, 3, lb, 5, 0);
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    NEAR(c.t, -0.84522610563997787, 1e-9);
    NEAR(c.df, 5.9699808250112266, 1e-9);
    NEAR(c.p, 0.43055013910780479, 1e-10);
    ck_assert_str_eq(kiln_compare_verdict(&c), "within noise");
    /* one value against five (borrowed spread, df 4): p 0.16085880258886948;
     * two single values with the five's spread given: p 0.28198328240820921 */
    double one[] = {0.9937}, other[] = {0.9923};
    c = setup(one, 1, b, 5, 1);
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    NEAR(c.t, 1.7183584915586768, 1e-9);
    NEAR(c.p, 0.16085880258886948, 1e-10);
    c = setup(one, 1, other, 1, 1);
    c.spread_sd = kiln_sd(b, 5);
    c.spread_n = 5;
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    NEAR(c.t, 1.2422991131825593, 1e-9);
    NEAR(c.p, 0.28198328240820921, 1e-10);
}
END_TEST

/* The bootstrap against the exact bootstrap distribution: with 3 values a
 * side there are 27 x 27 equally likely ordered resamples, enumerated (in
 * Python, and here) to 729 differences of means. 10,000 resamples estimate
 * its 2.5% and 97.5% points: they must lie between the exact 2% and 3%
 * (97% and 98%) points, as independent resampling of each side gives (a
 * resampling of the pooled values would centre the interval on zero). */
START_TEST(bootstrap_against_enumeration)
{
    double a[] = {0.9940, 0.9942, 0.9946}, b[] = {0.9912, 0.9919, 0.9932};
    double d[729];
    int n = 0;
    for (int i = 0; i < 27; i++)
        for (int j = 0; j < 27; j++)
            d[n++] = (a[i % 3] + a[i / 3 % 3] + a[i / 9]) / 3 - (b[j % 3] + b[j / 3 % 3] + b[j / 9]) / 3;
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && d[k - 1] > d[k]; k--) { double t = d[k]; d[k] = d[k - 1]; d[k - 1] = t; }
    /* Python's enumeration: 0.0010667, 0.0012000, 0.0030333, 0.0030667 */
    NEAR(d[(int)(0.02 * 728)], 0.0010666666666667, 1e-12);
    NEAR(d[(int)(0.98 * 728)], 0.0030666666666668, 1e-12);
    kiln_compare c = setup(a, 3, b, 3, 1);
    char err[256];
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    ck_assert_msg(c.ci_low >= d[(int)(0.02 * 728)] - 1e-12 && c.ci_low <= d[(int)(0.03 * 728)] + 1e-12, "ci_low %.10g",
                  c.ci_low);
    ck_assert_msg(c.ci_high >= d[(int)(0.97 * 728)] - 1e-12 && c.ci_high <= d[(int)(0.98 * 728)] + 1e-12,
                  "ci_high %.10g", c.ci_high);
}
END_TEST

START_TEST(bootstrap_is_reproducible)
{
    double a[] = {0.9912, 0.9907, 0.9921, 0.9899, 0.9915}, b[] = {0.9903, 0.9911, 0.9897};
    kiln_compare c1 = setup(a, 5, b, 3, 1), c2 = c1, c3 = c1;
    c3.seed = 43;
    char err[256];
    ck_assert_int_eq(kiln_compare_run(&c1, err, sizeof err), 0);
    ck_assert_int_eq(kiln_compare_run(&c2, err, sizeof err), 0);
    ck_assert_int_eq(kiln_compare_run(&c3, err, sizeof err), 0);
    ck_assert(c1.ci_low == c2.ci_low && c1.ci_high == c2.ci_high);
    ck_assert(c1.ci_low != c3.ci_low || c1.ci_high != c3.ci_high);
    NEAR(c1.ci_low, c3.ci_low, 2e-4);
    /* a wider level, a wider interval */
    kiln_compare c4 = setup(a, 5, b, 3, 1);
    c4.level = 0.99;
    ck_assert_int_eq(kiln_compare_run(&c4, err, sizeof err), 0);
    ck_assert(c4.ci_low <= c1.ci_low && c4.ci_high >= c1.ci_high);
}
END_TEST

START_TEST(verdicts)
{
    char err[256];
    double hi[] = {0.991, 0.992, 0.993}, lo[] = {0.981, 0.982, 0.983};
    kiln_compare c = setup(hi, 3, lo, 3, 1);
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    ck_assert_str_eq(kiln_compare_verdict(&c), "better");
    ck_assert(c.p < 0.001);
    c = setup(hi, 3, lo, 3, 0); /* the same numbers as losses: higher is worse */
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    ck_assert_str_eq(kiln_compare_verdict(&c), "worse");
    double x[] = {0.990, 0.980, 0.985}, y[] = {0.986, 0.984, 0.990};
    c = setup(x, 3, y, 3, 1);
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    ck_assert_str_eq(kiln_compare_verdict(&c), "within noise");
    ck_assert(c.p > 0.5);
    /* no spread anywhere: equal values are equal, unequal ones differ surely */
    double s[] = {0.5, 0.5}, u[] = {0.5, 0.5}, v[] = {0.4, 0.4};
    c = setup(s, 2, u, 2, 1);
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    ck_assert(c.p == 1 && c.verdict == 0);
    c = setup(s, 2, v, 2, 1);
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    ck_assert(c.p == 0);
    ck_assert_str_eq(kiln_compare_verdict(&c), "better");
}
END_TEST

START_TEST(single_values)
{
    char err[256];
    double one[] = {0.9850}, other[] = {0.9901};
    kiln_compare c = setup(one, 1, other, 1, 1);
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    ck_assert_int_eq(c.spread, KILN_SPREAD_NONE);
    ck_assert(isnan(c.p) && isnan(c.ci_low) && isnan(c.ci_high));
    NEAR(c.diff, 0.9850 - 0.9901, 1e-15);
    ck_assert_str_eq(kiln_compare_verdict(&c), "untested (one seed each)");
    /* one value against five: the five's spread, df 4, a t-interval */
    double five[] = {0.9912, 0.9907, 0.9921, 0.9899, 0.9915};
    c = setup(one, 1, five, 5, 1);
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    ck_assert_int_eq(c.spread, KILN_SPREAD_BORROWED);
    NEAR(c.df, 4, 0);
    NEAR(c.se, kiln_sd(five, 5) * sqrt(1 + 1.0 / 5), 1e-15);
    NEAR((c.ci_high - c.ci_low) / 2, 2.776445105197793 * c.se, 1e-9); /* t(0.975, 4) */
    ck_assert_str_eq(kiln_compare_verdict(&c), "worse");
    /* a spread given by the caller (the baseline's five seeds) for two single runs */
    c = setup(one, 1, other, 1, 1);
    c.spread_sd = kiln_sd(five, 5);
    c.spread_n = 5;
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), 0);
    ck_assert_int_eq(c.spread, KILN_SPREAD_GIVEN);
    NEAR(c.se, c.spread_sd * sqrt(2.0), 1e-15);
    NEAR(c.df, 4, 0);
    ck_assert(isfinite(c.p) && c.ci_low < c.diff && c.diff < c.ci_high);
}
END_TEST

START_TEST(bad_inputs)
{
    char err[256];
    double a[] = {1, 2}, nan[] = {1, NAN};
    kiln_compare c = setup(a, 0, a, 2, 1);
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "no values"));
    c = setup(a, 2, nan, 2, 1);
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), -1);
    ck_assert_str_eq(err, "value 2 of side b is not a number");
    c = setup(a, 2, a, 2, 1);
    c.alpha = 0;
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "alpha"));
    c = setup(a, 2, a, 2, 1);
    c.level = 1;
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "level"));
    c = setup(a, 2, a, 2, 1);
    c.resamples = 50;
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "resamples"));
    c = setup(a, 2, a, 2, 1);
    c.spread_sd = 0.1;
    c.spread_n = 1;
    ck_assert_int_eq(kiln_compare_run(&c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "given spread"));
    ck_assert(isnan(kiln_mean(a, 0)) && isnan(kiln_sd(a, 0)) && kiln_sd(a, 1) == 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stats");
    TCase *t = tcase_create("stats");
    tcase_add_test(t, t_distribution);
    tcase_add_test(t, welch_by_hand);
    tcase_add_test(t, bootstrap_is_reproducible);
    tcase_add_test(t, verdicts);
    tcase_add_test(t, single_values);
    tcase_add_test(t, bad_inputs);
    tcase_add_test(t, against_mpmath);
    tcase_add_test(t, bootstrap_against_enumeration);
    suite_add_tcase(s, t);
    return test_run_suite(s);
}
