/* {compare} ID: its sides, metric and spread checked once every run and
 * {group} is known, and the values the prose may quote of it. The numbers
 * themselves are computed by kiln_doc_resolve (src/resolve/compare.c). */
#include "doc/loader.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* the final metrics a comparison may be on; accuracies are better higher,
 * the rest (losses, times) lower */
static const char *const COMPARE_METRICS[] = {"test_accuracy", "test_loss", "val_accuracy", "val_loss",
                                              "accuracy", "loss", "best_val_accuracy", "best_val_loss",
                                              "seconds", "seconds_per_epoch", NULL};

static const char *const NUMBER_VALUES[] = {"diff", "ci_low", "ci_high", "p", "t", "df", "mean_a", "mean_b",
                                            "sd_a", "sd_b", "n_a", "n_b", NULL};
static const char *const NAME_VALUES[] = {"verdict", "metric", "a", "b", "id", NULL};
/* what a comparison of one seed a side has not got */
static const char *const TESTED_VALUES[] = {"ci_low", "ci_high", "p", "t", "df", NULL};

const char *kiln_compare_names(void)
{
    return "diff, ci_low, ci_high, p, t, df, mean_a, mean_b, sd_a, sd_b, n_a, n_b, verdict, metric, a, b, id";
}

kiln_directive *kr_find_compare(const kiln_doc *doc, const char *id)
{
    for (int i = 0; i < doc->n_compares; i++)
        if (!strcmp(doc->compares[i]->id, id)) return doc->compares[i];
    return NULL;
}

int kiln_compare_value(const kiln_directive *x, const char *name, double *v, const char **s)
{
    const kiln_comparison *c = x->cmp;
    *v = NAN;
    *s = "";
    if (!c) return -1;
    if (!strcmp(name, "verdict")) { *s = c->verdict ? c->verdict : ""; return 1; }
    if (!strcmp(name, "metric")) { *s = c->metric; return 1; }
    if (!strcmp(name, "a")) { *s = c->a_id; return 1; }
    if (!strcmp(name, "b")) { *s = c->b_id; return 1; }
    if (!strcmp(name, "id")) { *s = x->id; return 1; }
    if (!strcmp(name, "n_a")) { *v = c->n_a; return 0; }
    if (!strcmp(name, "n_b")) { *v = c->n_b; return 0; }
    if (!in_list(NUMBER_VALUES, name)) return -1;
    if (!c->done) return 0;
    const double vals[] = {c->diff, c->ci_low, c->ci_high, c->p, c->t, c->df, c->mean_a, c->mean_b, c->sd_a, c->sd_b};
    for (int i = 0; i < 10; i++)
        if (!strcmp(name, NUMBER_VALUES[i])) *v = vals[i];
    return 0;
}

static int one_seed_each(const kiln_comparison *c)
{
    return c->n_a < 2 && c->n_b < 2 && c->n_spread < 2;
}

/* {{ID.NAME:FORMAT}} of a {compare}: NAME exists, and a comparison of one
 * seed a side is not asked for what it has not got. */
void check_compare_value(loader *L, const char *file, int line, const char *what, const kiln_directive *x,
                         const char *name, const char *fmt)
{
    if (!in_list(NUMBER_VALUES, name) && !in_list(NAME_VALUES, name)) {
        kd_error(L->d, KILN_REPORT_EINPUT, file, line, "%s: unknown value '%s' of {compare} %s%s; accepted: %s", what,
                 name, x->id, hint(L, name, kiln_compare_names()), kiln_compare_names());
        return;
    }
    if (x->cmp && x->cmp->a && x->cmp->b && one_seed_each(x->cmp) && in_list(TESTED_VALUES, name))
        kd_error(L->d, KILN_REPORT_EINPUT, file, line,
                 "%s: {compare} %s has one seed a side, so it has no %s; quote its diff or verdict, or give it "
                 "spread = GROUP (a {group} of seeds whose spread it may borrow)",
                 what, x->id, name);
    char buf[64];
    if (fmt && *fmt && kiln_format_value(1.0, fmt, buf, sizeof buf) < 0)
        kd_error(L->d, KILN_REPORT_EINPUT, file, line,
                 "%s: unknown format '%s'%s; accepted: .Nf, .Ne, .Ng, .N%% (percent), d, sci, repr (N = digits)", what,
                 fmt, format_hint(L, fmt));
}

/* "runs a, b and groups g, h" for messages */
static void list_sides(sbuf *b, const kiln_doc *doc)
{
    sb_add(b, "runs ");
    list_runs(b, doc);
    sb_add(b, "; groups ");
    for (int i = 0; i < doc->n_groups; i++) {
        if (i) sb_add(b, ", ");
        sb_add(b, doc->groups[i]->id);
    }
    if (!doc->n_groups) sb_add(b, "(none declared)");
}

/* `a =` or `b =`: a run or a {group}, of experiments. Returns 1 after an
 * error. */
static int compare_side(loader *L, kiln_directive *x, const char *what, const char *key, const char **id,
                        kiln_run ***runs, int *n)
{
    const char *v = kv_get(x, key);
    if (!v || !*v) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, v ? kv_line(x, key) : x->line,
                 "%s: key '%s' is required (a run or a {group}: %s = baseline, or %s = seeds)", what, key, key, key);
        return 1;
    }
    int line = kv_line(x, key);
    *id = v;
    kiln_run *r = kr_find_run(L->doc, v);
    kiln_directive *g = r ? NULL : kr_find_group(L->doc, v);
    if (!r && !g) {
        sbuf m = {0}, names = {0};
        list_sides(&m, L->doc);
        list_runs(&names, L->doc);
        for (int i = 0; i < L->doc->n_groups; i++) { sb_addc(&names, ' '); sb_add(&names, L->doc->groups[i]->id); }
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, line, "%s: %s = '%s' is neither a run nor a {group}%s; declared: %s",
                 what, key, v, hint(L, v, names.s ? names.s : ""), m.s);
        sb_free(&m);
        sb_free(&names);
        return 1;
    }
    *runs = r ? ka_alloc(L->a, sizeof **runs) : g->runs;
    if (r) (*runs)[0] = r;
    *n = r ? 1 : g->n_runs;
    for (int i = 0; i < *n; i++) {
        if ((*runs)[i]->kind == KILN_RUN_TRAIN) continue;
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, line,
                 "%s: %s = %s: '%s' is a range test; a {compare} takes experiments", what, key, v, (*runs)[i]->id);
        return 1;
    }
    return *n < 1;
}

/* the same runs on both sides (a == b, or two groups of the same runs) */
static int same_runs(const kiln_comparison *c)
{
    if (c->n_a != c->n_b) return 0;
    for (int i = 0; i < c->n_a; i++) {
        int found = 0;
        for (int j = 0; j < c->n_b; j++) found |= c->a[i] == c->b[j];
        if (!found) return 0;
    }
    return 1;
}

static void compare_spread(loader *L, kiln_directive *x, const char *what, kiln_comparison *c)
{
    const char *v = kv_get(x, "spread");
    if (!v) return;
    int line = kv_line(x, "spread");
    kiln_directive *g = kr_find_group(L->doc, v);
    if (!g || g->n_runs < 2) {
        sbuf m = {0};
        for (int i = 0; i < L->doc->n_groups; i++)
            if (L->doc->groups[i]->n_runs >= 2) { if (m.len) sb_add(&m, ", "); sb_add(&m, L->doc->groups[i]->id); }
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, line,
                 "%s: spread = '%s' is not a {group} of two or more runs%s; accepted: %s", what, v,
                 g ? "" : hint(L, v, m.s ? m.s : ""), m.len ? m.s : "(no such group declared)");
        sb_free(&m);
        return;
    }
    if (c->a && c->b && c->n_a >= 2 && c->n_b >= 2) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, line,
                 "%s: spread = %s: both sides have seeds of their own (%d and %d runs); spread is for a side of one run",
                 what, v, c->n_a, c->n_b);
        return;
    }
    for (int i = 0; i < g->n_runs; i++)
        if (g->runs[i]->kind != KILN_RUN_TRAIN) {
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, line, "%s: spread = %s: '%s' is a range test", what, v,
                     g->runs[i]->id);
            return;
        }
    c->spread_id = g->id;
    c->spread = g->runs;
    c->n_spread = g->n_runs;
}

/* {compare} ID: a, b (each a run or a {group}), metric, spread. Called once
 * every {group} is checked, so a comparison may come before its groups. */
void check_compare(loader *L, kiln_directive *x, const char *what)
{
    kiln_doc *doc = L->doc;
    if (kr_find_run(doc, x->id) || kr_find_group(doc, x->id) || kr_find_compare(doc, x->id)) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "duplicate id '%s': a run, {group} or {compare} has it already",
                 x->id);
        return;
    }
    kiln_comparison *c = ka_alloc(L->a, sizeof *c);
    memset(c, 0, sizeof *c);
    c->a_id = c->b_id = c->spread_id = c->verdict = c->spread_used = "";
    c->metric = "test_accuracy";
    x->cmp = c;
    KR_GROW(doc->compares, L->cap_compares, doc->n_compares + 1);
    doc->compares[doc->n_compares++] = x;
    const char *m = kv_get(x, "metric");
    if (m && !in_list(COMPARE_METRICS, m)) {
        sbuf b = {0};
        join_list(&b, COMPARE_METRICS);
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "metric"), "%s: metric '%s' is not accepted%s; accepted: %s",
                 what, m, list_hint(L, m, COMPARE_METRICS), b.s);
        sb_free(&b);
    } else if (m) {
        c->metric = m;
    }
    c->higher_is_better = strstr(c->metric, "accuracy") != NULL;
    int bad = compare_side(L, x, what, "a", &c->a_id, &c->a, &c->n_a);
    bad |= compare_side(L, x, what, "b", &c->b_id, &c->b, &c->n_b);
    if (!bad && (!strcmp(c->a_id, c->b_id) || same_runs(c))) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "b"),
                 "%s: a = %s and b = %s are the same runs; compare two different runs or groups", what, c->a_id, c->b_id);
        bad = 1;
    }
    if (bad) {
        c->a = c->b = NULL;
        c->n_a = c->n_b = 0;
    }
    compare_spread(L, x, what, c);
    for (int i = 0; i < c->n_a; i++) c->a[i]->needed = 1;
    for (int i = 0; i < c->n_b; i++) c->b[i]->needed = 1;
    for (int i = 0; i < c->n_spread; i++) c->spread[i]->needed = 1;
}
