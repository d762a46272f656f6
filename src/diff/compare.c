/* One run compared, old build against new. */
#include "diff/internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const EPOCH_SERIES[4] = {"loss", "val_loss", "accuracy", "val_accuracy"};

double epoch_value(const kiln_epoch_log *e, int k)
{
    return k == 0 ? e->loss : k == 1 ? e->val_loss : k == 2 ? e->accuracy : e->val_accuracy;
}

double metric(const mrun *m, const char *name)
{
    if (!m) return NAN;
    const json_t *v = json_object_get(m->metrics, name);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The canonical configs line by line: "key: old -> new", "+ key=value", "- key=value". */
static void config_diff(const char *a, const char *b, sbuf *out)
{
    const char *texts[2] = {a, b};
    for (int side_i = 0; side_i < 2; side_i++) {
        const char *p = texts[side_i];
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t l = nl ? (size_t)(nl - p) : strlen(p);
            const char *eq = memchr(p, '=', l);
            size_t kl = eq ? (size_t)(eq - p) : l;
            /* the same key in the other text */
            const char *q = texts[1 - side_i], *found = NULL;
            size_t fl = 0;
            while (*q) {
                const char *nl2 = strchr(q, '\n');
                size_t l2 = nl2 ? (size_t)(nl2 - q) : strlen(q);
                if (l2 > kl && q[kl] == '=' && !strncmp(q, p, kl)) { found = q; fl = l2; break; }
                if (l2 == kl && !eq && !strncmp(q, p, kl)) { found = q; fl = l2; break; }
                q += l2 + (nl2 ? 1 : 0);
            }
            if (!found) {
                sb_printf(out, "%s %.*s\n", side_i ? "+" : "-", (int)l, p);
            } else if (side_i == 0 && (fl != l || strncmp(found, p, l))) {
                sb_printf(out, "%.*s: %.*s -> %.*s\n", (int)kl, p, eq ? (int)(l - kl - 1) : 0, eq ? eq + 1 : "",
                          (int)(fl - kl - 1 > 0 ? fl - kl - 1 : 0), found + kl + 1);
            }
            p += l + (nl ? 1 : 0);
        }
    }
}

void compare(row *r, const side *so, const side *sn, const kiln_diff_opts *o, kiln_diag *d)
{
    for (int k = 0; k < 4; k++) { r->max_delta[k] = NAN; r->max_epoch[k] = 0; }
    if (!r->o) { r->verdict = KILN_VERDICT_ADDED; return; }
    if (!r->n) { r->verdict = KILN_VERDICT_REMOVED; return; }
    r->config_changed = strcmp(r->o->config, r->n->config) != 0;
    if (r->config_changed) config_diff(r->o->config, r->n->config, &r->config_diff);
    if (strcmp(r->o->kind, r->n->kind)) {
        r->verdict = KILN_VERDICT_CHANGED;
        snprintf(r->note, sizeof r->note, "was a %s, is a %s", r->o->kind, r->n->kind);
        return;
    }
    r->same_key = !strcmp(r->o->key, r->n->key);
    if (r->same_key) {
        r->verdict = KILN_VERDICT_IDENTICAL;
        snprintf(r->note, sizeof r->note, "same key");
        return;
    }
    int lo = load_entry(&r->eo, so, r->o), ln = load_entry(&r->en, sn, r->n);
    r->histories = !lo && !ln;
    int train = !strcmp(r->kind, "train");
    if (r->histories && train) {
        r->verdict = kiln_history_verdict(&r->eo.h, &r->en.h, o->acc_tol, o->loss_tol);
        int ne = r->eo.h.n_epochs < r->en.h.n_epochs ? r->eo.h.n_epochs : r->en.h.n_epochs;
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < ne; i++) {
                double x = fabs(epoch_value(&r->en.h.epochs[i], k) - epoch_value(&r->eo.h.epochs[i], k));
                if (isnan(r->max_delta[k]) || x > r->max_delta[k] || (isnan(x) && !isnan(r->max_delta[k]))) {
                    r->max_delta[k] = x;
                    r->max_epoch[k] = i + 1;
                }
            }
        if (r->eo.h.n_epochs != r->en.h.n_epochs)
            snprintf(r->note, sizeof r->note, "%d epochs -> %d", r->eo.h.n_epochs, r->en.h.n_epochs);
        else if (r->verdict == KILN_VERDICT_IDENTICAL)
            snprintf(r->note, sizeof r->note, "retrained, bit-identical history");
        return;
    }
    if (r->histories) { /* range tests */
        int same = r->eo.n == r->en.n && r->eo.stopped_early == r->en.stopped_early;
        for (long i = 0; same && i < r->eo.n; i++) same = same_d(r->eo.lr[i], r->en.lr[i]) && same_d(r->eo.loss[i], r->en.loss[i]);
        if (same) {
            r->verdict = KILN_VERDICT_IDENTICAL;
            snprintf(r->note, sizeof r->note, "retrained, bit-identical sweep");
            return;
        }
    } else {
        const entry *bad = lo ? &r->eo : &r->en;
        snprintf(r->note, sizeof r->note, "history not found (%s): compared by final metrics only", bad->why);
        kd_warn(d, NULL, 0, "run '%s': the %s build's history is not available (%s); compared by its final metrics only",
                r->id, lo ? "old" : "new", bad->why);
    }
    if (train) {
        r->verdict = noise_rule(metric(r->o, "test_accuracy"), metric(r->n, "test_accuracy"), metric(r->o, "test_loss"),
                                metric(r->n, "test_loss"), metric(r->o, "diverged") > 0, metric(r->n, "diverged") > 0,
                                o->acc_tol, o->loss_tol);
    } else {
        int ok = 1;
        const char *names[] = {"steepest_lr", "min_loss_lr"};
        for (int k = 0; k < 2; k++) {
            double a = metric(r->o, names[k]), b = metric(r->n, names[k]);
            ok &= (isnan(a) && isnan(b)) || (isfinite(a) && isfinite(b) && fabs(b - a) <= (o->loss_tol + 1e-12) * fabs(a));
        }
        r->verdict = ok ? KILN_VERDICT_NOISE : KILN_VERDICT_CHANGED;
    }
}
