/* Verdicts on histories: identical, within noise, changed. */
#include "diff/internal.h"
#include <math.h>
#include <string.h>

/* ---- verdicts on histories ------------------------------------------------------------ */

const char *kiln_verdict_name(int v)
{
    switch (v) {
    case KILN_VERDICT_IDENTICAL: return "identical";
    case KILN_VERDICT_NOISE: return "within noise";
    case KILN_VERDICT_CHANGED: return "changed";
    case KILN_VERDICT_ADDED: return "added";
    case KILN_VERDICT_REMOVED: return "removed";
    }
    return "?";
}

const char *verdict_slug(int v)
{
    static const char *const s[] = {"identical", "within_noise", "changed", "added", "removed"};
    return v >= 0 && v <= KILN_VERDICT_REMOVED ? s[v] : "?";
}

/* Bit-for-bit equality, NaN equal to NaN (a diverged run diverges the same). */
int same_d(double a, double b) { return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a); }

static int same_f(float a, float b) { return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a); }

int kiln_history_identical(const kiln_history *a, const kiln_history *b)
{
    if (a->n_epochs != b->n_epochs || a->n_steps != b->n_steps) return 0;
    for (int i = 0; i < a->n_epochs; i++) {
        const kiln_epoch_log *x = &a->epochs[i], *y = &b->epochs[i];
        if (!same_d(x->loss, y->loss) || !same_d(x->accuracy, y->accuracy) || !same_d(x->val_loss, y->val_loss) ||
            !same_d(x->val_accuracy, y->val_accuracy) || !same_d(x->lr, y->lr))
            return 0;
    }
    for (long i = 0; i < a->n_steps; i++)
        if (!same_f(a->steps[i].loss, b->steps[i].loss) || !same_f(a->steps[i].lr, b->steps[i].lr)) return 0;
    return same_d(a->test_loss, b->test_loss) && same_d(a->test_accuracy, b->test_accuracy) &&
           a->n_train == b->n_train && a->n_val == b->n_val && a->n_test == b->n_test && a->diverged == b->diverged &&
           a->diverged_step == b->diverged_step && !strcmp(a->stopped_by, b->stopped_by) &&
           a->stopped_epoch == b->stopped_epoch && a->best_epoch == b->best_epoch;
}

/* The tolerance rule on final metrics. A change of exactly the tolerance is
 * within it: accuracies are counts over the test set (20 of 10,000 images is
 * 0.002 exactly, but 0.985 - 0.983 is 0.0020000000000000018 in doubles), so
 * the comparison allows for rounding in the last bits. */
int noise_rule(double oacc, double nacc, double oloss, double nloss, int odiv, int ndiv, double acc_tol,
                      double loss_tol)
{
    acc_tol += 1e-12;
    loss_tol += 1e-12;
    if (odiv != ndiv) return KILN_VERDICT_CHANGED;
    int acc_ok = (!isfinite(oacc) && !isfinite(nacc)) || (isfinite(oacc) && isfinite(nacc) && fabs(nacc - oacc) <= acc_tol);
    int loss_ok = (!isfinite(oloss) && !isfinite(nloss)) ||
                  (isfinite(oloss) && isfinite(nloss) && fabs(nloss - oloss) <= loss_tol * fabs(oloss));
    return acc_ok && loss_ok ? KILN_VERDICT_NOISE : KILN_VERDICT_CHANGED;
}

int kiln_history_verdict(const kiln_history *o, const kiln_history *n, double acc_tol, double loss_tol)
{
    if (kiln_history_identical(o, n)) return KILN_VERDICT_IDENTICAL;
    return noise_rule(o->test_accuracy, n->test_accuracy, o->test_loss, n->test_loss, o->diverged, n->diverged,
                      acc_tol, loss_tol);
}

void kiln_diff_opts_init(kiln_diff_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cache_dir = "out/cache";
    o->acc_tol = KILN_DIFF_ACC_TOL;
    o->loss_tol = KILN_DIFF_LOSS_TOL;
}
