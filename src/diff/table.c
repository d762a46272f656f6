/* The readable table and the JSON of a diff. */
#include "diff/internal.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- output: numbers ---------------------------------------------------------------------- */

void fmt_num(char *buf, size_t n, double v, const char *f)
{
    if (isnan(v)) snprintf(buf, n, "n/a");
    else if (isinf(v)) snprintf(buf, n, v > 0 ? "inf" : "-inf");
    else snprintf(buf, n, f, v);
}

/* "0.9919 -> 0.9921 (+0.0002)" and the like, into buf. */
void change_text(char *buf, size_t n, double a, double b, const char *f, const char *df, int rel)
{
    char x[64], y[64], dd[64] = "", rr[64] = "";
    fmt_num(x, sizeof x, a, f);
    fmt_num(y, sizeof y, b, f);
    if (isnan(a) && isnan(b)) { snprintf(buf, n, "%s", x); return; }
    if (isfinite(a) && isfinite(b)) {
        fmt_num(dd, sizeof dd, b - a, df);
        if (rel && a != 0) snprintf(rr, sizeof rr, ", %+.2f%%", 100 * (b - a) / fabs(a));
    }
    if (isfinite(a) && isfinite(b) && a == b) snprintf(buf, n, "%s (=)", y);
    else if (dd[0]) snprintf(buf, n, "%s -> %s (%s%s)", x, y, dd, rr);
    else snprintf(buf, n, "%s -> %s", x, y);
}

json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *change_json(double a, double b)
{
    int f = isfinite(a) && isfinite(b);
    return json_pack("{s:o, s:o, s:o, s:o}", "old", jnum(a), "new", jnum(b), "abs", f ? jnum(b - a) : json_null(),
                     "rel", f && a != 0 ? jnum((b - a) / fabs(a)) : json_null());
}

/* ---- output: the terminal table ---------------------------------------------------------- */

typedef struct table {
    int n_rows, n_cols;
    char **cells; /* row-major; row 0 the header */
} table;

static void tb_set(table *t, int r, int c, const char *s) { t->cells[r * t->n_cols + c] = strdup(s); }

static void tb_print(const table *t, FILE *f)
{
    int w[16] = {0};
    for (int r = 0; r < t->n_rows; r++)
        for (int c = 0; c < t->n_cols; c++) {
            int l = (int)strlen(t->cells[r * t->n_cols + c]);
            if (l > w[c]) w[c] = l;
        }
    for (int r = 0; r < t->n_rows; r++) {
        sbuf line = {0};
        for (int c = 0; c < t->n_cols; c++)
            sb_printf(&line, "%-*s%s", c == t->n_cols - 1 ? 0 : w[c], t->cells[r * t->n_cols + c],
                      c == t->n_cols - 1 ? "" : "  ");
        while (line.len && line.s[line.len - 1] == ' ') line.s[--line.len] = 0;
        fprintf(f, "%s\n", line.s);
        sb_free(&line);
        if (r == 0) {
            int total = 0;
            for (int c = 0; c < t->n_cols; c++) total += w[c] + (c ? 2 : 0);
            for (int i = 0; i < total; i++) fputc('-', f);
            fputc('\n', f);
        }
    }
}

static void tb_free(table *t)
{
    for (int i = 0; i < t->n_rows * t->n_cols; i++) free(t->cells[i]);
    free(t->cells);
}

const char *verdict_cell(const row *r, char *buf, size_t n)
{
    if (r->verdict == KILN_VERDICT_IDENTICAL && r->same_key) snprintf(buf, n, "identical (same key)");
    else if (r->verdict == KILN_VERDICT_ADDED || r->verdict == KILN_VERDICT_REMOVED) snprintf(buf, n, "%s", kiln_verdict_name(r->verdict));
    else if (r->verdict == KILN_VERDICT_IDENTICAL && r->histories) snprintf(buf, n, "identical (bit for bit)");
    else snprintf(buf, n, "%s%s", kiln_verdict_name(r->verdict), r->config_changed ? ", config changed" : "");
    return buf;
}

void print_table(FILE *f, row *rows, int n, const side *so, const side *sn, const kiln_diff_opts *o, const int *count)
{
    fprintf(f, "kiln diff: %s (old) -> %s (new)\n", so->desc, sn->desc);
    if (strcmp(so->trainer, sn->trainer))
        fprintf(f, "  trainer %s -> %s (changed: every run was computed again)\n", so->trainer, sn->trainer);
    else fprintf(f, "  trainer %s (unchanged)\n", sn->trainer);
    fprintf(f, "  data %.16s, %s scale; tolerance: |d test accuracy| <= %g, |d test loss| <= %g%% of the old\n\n",
            sn->data, sn->scale, o->acc_tol, 100 * o->loss_tol);
    table t = {n + 1, 6, calloc((size_t)(n + 1) * 6, sizeof(char *))};
    const char *hd[] = {"run", "verdict", "test accuracy", "test loss", "largest per-epoch change", "wall time"};
    for (int c = 0; c < 6; c++) tb_set(&t, 0, c, hd[c]);
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        char v[128], acc[128] = "", loss[128] = "", ep[128] = "", wt[128] = "";
        verdict_cell(r, v, sizeof v);
        const mrun *a = r->o ? r->o : r->n;
        if (!strcmp(r->kind, "train")) {
            if (r->o && r->n) {
                change_text(acc, sizeof acc, metric(r->o, "test_accuracy"), metric(r->n, "test_accuracy"), "%.4f", "%+.4f", 0);
                change_text(loss, sizeof loss, metric(r->o, "test_loss"), metric(r->n, "test_loss"), "%.5g", "%+.3g", 1);
            } else {
                fmt_num(acc, sizeof acc, metric(a, "test_accuracy"), "%.4f");
                fmt_num(loss, sizeof loss, metric(a, "test_loss"), "%.5g");
            }
            if (r->histories && r->verdict != KILN_VERDICT_IDENTICAL && !isnan(r->max_delta[1]))
                snprintf(ep, sizeof ep, "val_loss %.3g (epoch %d)", r->max_delta[1], r->max_epoch[1]);
        } else {
            if (r->o && r->n)
                change_text(loss, sizeof loss, metric(r->o, "suggested_max_lr"), metric(r->n, "suggested_max_lr"), "%.3g",
                            "%+.2g", 1);
            else fmt_num(loss, sizeof loss, metric(a, "suggested_max_lr"), "%.3g");
            snprintf(acc, sizeof acc, "(range test: max_lr)");
        }
        if (r->o && r->n && !r->same_key)
            snprintf(wt, sizeof wt, "%.1f s -> %.1f s", metric(r->o, "seconds"), metric(r->n, "seconds"));
        else fmt_num(wt, sizeof wt, metric(a, "seconds"), "%.1f s");
        const char *cells[] = {r->id, v, acc, loss, ep, wt};
        for (int c = 0; c < 6; c++) tb_set(&t, i + 1, c, cells[c]);
    }
    tb_print(&t, f);
    tb_free(&t);
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        if (r->config_changed) {
            fprintf(f, "\n%s: config changed\n", r->id);
            const char *p = r->config_diff.s ? r->config_diff.s : "";
            while (*p) {
                const char *nl = strchr(p, '\n');
                int l = nl ? (int)(nl - p) : (int)strlen(p);
                fprintf(f, "    %.*s\n", l, p);
                p += l + (nl ? 1 : 0);
            }
        }
        if (r->note[0] && !r->same_key && strcmp(r->note, "retrained, bit-identical history") &&
            strcmp(r->note, "retrained, bit-identical sweep"))
            fprintf(f, "\n%s: %s\n", r->id, r->note);
        if (o->epochs && r->histories && !strcmp(r->kind, "train") && r->verdict != KILN_VERDICT_IDENTICAL) {
            fprintf(f, "\n%s per epoch (old -> new):\n", r->id);
            int ne = r->eo.h.n_epochs > r->en.h.n_epochs ? r->eo.h.n_epochs : r->en.h.n_epochs;
            table e = {ne + 1, 5, calloc((size_t)(ne + 1) * 5, sizeof(char *))};
            const char *eh[] = {"epoch", "loss", "val_loss", "accuracy", "val_accuracy"};
            for (int c = 0; c < 5; c++) tb_set(&e, 0, c, eh[c]);
            for (int k = 0; k < ne; k++) {
                char buf[128];
                snprintf(buf, sizeof buf, "%d", k + 1);
                tb_set(&e, k + 1, 0, buf);
                for (int c = 0; c < 4; c++) {
                    double a = k < r->eo.h.n_epochs ? epoch_value(&r->eo.h.epochs[k], c) : NAN;
                    double b = k < r->en.h.n_epochs ? epoch_value(&r->en.h.epochs[k], c) : NAN;
                    change_text(buf, sizeof buf, a, b, "%.5g", "%+.3g", 0);
                    tb_set(&e, k + 1, c + 1, buf);
                }
            }
            tb_print(&e, f);
            tb_free(&e);
        }
    }
    fprintf(f, "\n%d run%s: %d identical, %d within noise, %d changed; %d added, %d removed; %d with a changed config\n",
            n, n == 1 ? "" : "s", count[KILN_VERDICT_IDENTICAL], count[KILN_VERDICT_NOISE], count[KILN_VERDICT_CHANGED],
            count[KILN_VERDICT_ADDED], count[KILN_VERDICT_REMOVED], count[5]);
}

/* ---- output: JSON ------------------------------------------------------------------------- */

static json_t *side_json(const side *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "source", s->desc, "trainer", s->trainer, "data", s->data, "scale",
                     s->scale, "kiln", s->kiln ? s->kiln : "");
}

json_t *series_json(const entry *e, int k)
{
    json_t *a = json_array();
    if (!e->ok) return a;
    for (int i = 0; i < e->h.n_epochs; i++) json_array_append_new(a, jnum(epoch_value(&e->h.epochs[i], k)));
    return a;
}

json_t *diff_json(row *rows, int n, const side *so, const side *sn, const kiln_diff_opts *o, const int *count,
                         int changed)
{
    json_t *runs = json_array();
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        json_t *j = json_object();
        json_object_set_new(j, "id", json_string(r->id));
        json_object_set_new(j, "kind", json_string(r->kind));
        json_object_set_new(j, "label", json_string(r->label));
        json_object_set_new(j, "verdict", json_string(verdict_slug(r->verdict)));
        json_object_set_new(j, "same_key", json_boolean(r->same_key));
        json_object_set_new(j, "config_changed", json_boolean(r->config_changed));
        json_object_set_new(j, "histories_compared", json_boolean(r->histories));
        json_object_set_new(j, "note", json_string(r->note));
        json_object_set_new(j, "old_key", r->o ? json_string(r->o->key) : json_null());
        json_object_set_new(j, "new_key", r->n ? json_string(r->n->key) : json_null());
        if (r->config_changed) {
            json_t *cd = json_array();
            const char *p = r->config_diff.s ? r->config_diff.s : "";
            while (*p) {
                const char *nl = strchr(p, '\n');
                size_t l = nl ? (size_t)(nl - p) : strlen(p);
                json_array_append_new(cd, json_stringn(p, l));
                p += l + (nl ? 1 : 0);
            }
            json_object_set_new(j, "config_diff", cd);
        }
        json_t *m = json_object();
        const json_t *names = r->n ? r->n->metrics : r->o->metrics;
        const char *name;
        json_t *v;
        json_object_foreach((json_t *)names, name, v) json_object_set_new(m, name, change_json(metric(r->o, name), metric(r->n, name)));
        json_object_set_new(j, "metrics", m);
        if (!strcmp(r->kind, "train") && r->histories) {
            json_t *ep = json_object();
            for (int k = 0; k < 4; k++) {
                json_t *pair = json_pack("{s:o, s:o, s:o, s:i}", "old", series_json(&r->eo, k), "new", series_json(&r->en, k),
                                         "max_abs_change", jnum(r->max_delta[k]), "at_epoch", r->max_epoch[k]);
                json_object_set_new(ep, EPOCH_SERIES[k], pair);
            }
            json_object_set_new(j, "epochs", ep);
        }
        json_array_append_new(runs, j);
    }
    json_t *summary = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "identical", count[KILN_VERDICT_IDENTICAL],
                                "within_noise", count[KILN_VERDICT_NOISE], "changed", count[KILN_VERDICT_CHANGED], "added",
                                count[KILN_VERDICT_ADDED], "removed", count[KILN_VERDICT_REMOVED], "config_changed", count[5]);
    return json_pack("{s:s, s:o, s:o, s:{s:f, s:f}, s:o, s:b, s:o}", "format", "kiln-diff-1", "old", side_json(so), "new",
                     side_json(sn), "tolerance", "acc_tol", o->acc_tol, "loss_tol", o->loss_tol, "summary", summary,
                     "changed", changed, "runs", runs);
}
