/* Figures: the directive's runs and series turned into kiln_plot series and
 * rendered by kiln's own rasterizer into IMG_DIR/ID.png. */
#include "resolve/resolve.h"
#include "kiln/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIG_W 720
#define FIG_H 420
/* the phone variant: shown below 560 CSS px (templates/style.css, the HTML
 * writer's <source media>), about 360 px wide there, so drawn 400 wide with
 * type 1.25 times larger and the legend under the plot */
#define NARROW_W 400
#define NARROW_H 300
#define NARROW_TEXT 1.25

static int truthy(const char *v) { return v && (!strcmp(v, "true") || !strcmp(v, "1")); }

static double num_or_nan(const char *v) { return v ? strtod(v, NULL) : NAN; }

typedef struct figbuild {
    kiln_series *series;
    int n, cap;
    double **owned;
    int n_owned, cap_owned;
    char **labels;
    int n_labels, cap_labels;
} figbuild;

static double *fb_array(figbuild *f, size_t n)
{
    KR_GROW(f->owned, f->cap_owned, f->n_owned + 1);
    double *a = kr_xmalloc(sizeof *a * (n ? n : 1));
    memset(a, 0, sizeof *a * (n ? n : 1));
    f->owned[f->n_owned++] = a;
    return a;
}

static const char *fb_label(figbuild *f, const char *fmt, const char *a, const char *b)
{
    KR_GROW(f->labels, f->cap_labels, f->n_labels + 1);
    int n = snprintf(NULL, 0, fmt, a, b);
    char *s = kr_xmalloc((size_t)n + 1);
    snprintf(s, (size_t)n + 1, fmt, a, b);
    f->labels[f->n_labels++] = s;
    return s;
}

static kiln_series *fb_add(figbuild *f)
{
    KR_GROW(f->series, f->cap, f->n + 1);
    kiln_series *s = &f->series[f->n++];
    memset(s, 0, sizeof *s);
    return s;
}

static void fb_free(figbuild *f)
{
    for (int i = 0; i < f->n_owned; i++) free(f->owned[i]);
    for (int i = 0; i < f->n_labels; i++) free(f->labels[i]);
    free(f->owned);
    free(f->labels);
    free(f->series);
}

static const char *series_name(const char *s)
{
    if (!strcmp(s, "loss")) return "training loss";
    if (!strcmp(s, "val_loss")) return "validation loss";
    if (!strcmp(s, "accuracy")) return "training accuracy";
    if (!strcmp(s, "val_accuracy")) return "validation accuracy";
    if (!strcmp(s, "lr")) return "learning rate";
    return s;
}

/* legend labels: `labels =` (one per run, values expanded by kiln_doc_resolve)
 * or the run labels */
static const char *run_label(const kiln_directive *x, int i, char *buf, size_t n)
{
    snprintf(buf, n, "%s", x->labels && i < x->n_labels ? x->labels[i] : x->runs[i]->label);
    return buf;
}

/* Palette slot of run `want` of figure fig (the rules: kr_figure_run_color in
 * internal.h). Replays every history figure up to fig; reads the document
 * only, so the render threads may call it at the same time. */
static int run_slot(const kiln_doc *doc, const kiln_directive *fig, int want)
{
    if (fig->figure_kind != KILN_FIG_HISTORY) return want % KILN_PALETTE_SIZE;
    int *home = malloc(sizeof *home * (size_t)(doc->n_runs + 1));
    if (!home) return want % KILN_PALETTE_SIZE;
    for (int r = 0; r < doc->n_runs; r++) home[r] = -1;
    int next = 0, found = want % KILN_PALETTE_SIZE;
    for (int f = 0; f < doc->n_figures; f++) {
        const kiln_directive *x = doc->figures[f];
        if (x->figure_kind != KILN_FIG_HISTORY) continue;
        int used[KILN_PALETTE_SIZE] = {0}, mine[64];
        int n = x->n_runs < 64 ? x->n_runs : 64;
        for (int i = 0; i < n; i++) {
            int r = 0;
            while (r < doc->n_runs && doc->runs[r] != x->runs[i]) r++;
            if (r == doc->n_runs) { mine[i] = i % KILN_PALETTE_SIZE; continue; }
            /* a run's home slot: the next one, in order of first appearance */
            if (home[r] < 0) home[r] = next++ % KILN_PALETTE_SIZE;
            int c = home[r], dup = -1;
            for (int k = 0; k < i; k++)
                if (x->runs[k] == x->runs[i]) dup = k;
            if (dup >= 0) c = mine[dup]; /* the same run twice: the same colour */
            else if (used[c]) {
                /* taken in this figure by an earlier run: the next free slot
                 * (when all are taken, more runs than colours: keep home) */
                for (int k = 1; k < KILN_PALETTE_SIZE; k++)
                    if (!used[(home[r] + k) % KILN_PALETTE_SIZE]) { c = (home[r] + k) % KILN_PALETTE_SIZE; break; }
            }
            used[c] = 1;
            mine[i] = c;
        }
        if (x == fig) {
            if (want < n) found = mine[want];
            break;
        }
    }
    free(home);
    return found;
}

uint32_t kr_figure_run_color(const kiln_doc *doc, const kiln_directive *fig, int i)
{
    return KILN_PALETTE(run_slot(doc, fig, i));
}

static void history_series(figbuild *fb, const kiln_doc *doc, const kiln_directive *x, int per_step,
                           const char **sv, int ns, const char **ylabel)
{
    for (int i = 0; i < x->n_runs; i++) {
        const kiln_run *r = x->runs[i];
        if (!r->ok) continue;
        uint32_t color = kr_figure_run_color(doc, x, i);
        const kiln_history *h = &r->history;
        char lab[256];
        run_label(x, i, lab, sizeof lab);
        for (int j = 0; j < ns; j++) {
            kiln_series *s = fb_add(fb);
            size_t n = per_step ? (size_t)h->n_steps : (size_t)h->n_epochs;
            double *xs = fb_array(fb, n), *ys = fb_array(fb, n);
            for (size_t k = 0; k < n; k++) {
                xs[k] = (double)k + 1;
                if (per_step) ys[k] = !strcmp(sv[j], "lr") ? h->steps[k].lr : h->steps[k].loss;
                else {
                    const kiln_epoch_log *e = &h->epochs[k];
                    ys[k] = !strcmp(sv[j], "loss") ? e->loss : !strcmp(sv[j], "val_loss") ? e->val_loss
                          : !strcmp(sv[j], "accuracy") ? e->accuracy : !strcmp(sv[j], "val_accuracy") ? e->val_accuracy
                          : e->lr;
                }
            }
            s->x = xs;
            s->y = ys;
            s->n = n;
            if (x->n_runs == 1) {
                /* one run: the series are told apart by colour (one series:
                 * the run's own colour) */
                s->label = series_name(sv[j]);
                s->color = ns == 1 ? color : KILN_PALETTE(j);
            } else if (ns == 1) {
                s->label = fb_label(fb, "%s%s", lab, "");
                s->color = color;
            } else {
                s->label = fb_label(fb, "%s, %s", lab, series_name(sv[j]));
                s->color = color;
                s->style = j == 0 ? KILN_LINE_SOLID : j == 1 ? KILN_LINE_DASHED : KILN_LINE_DOTTED;
            }
            if (n <= 1) s->marker = KILN_MARKER_CIRCLE;
        }
    }
    int all_loss = 1, all_acc = 1;
    for (int j = 0; j < ns; j++) {
        all_loss &= !strcmp(sv[j], "loss") || !strcmp(sv[j], "val_loss");
        all_acc &= !strcmp(sv[j], "accuracy") || !strcmp(sv[j], "val_accuracy");
    }
    *ylabel = all_loss ? "loss" : all_acc ? "accuracy" : ns == 1 && !strcmp(sv[0], "lr") ? "learning rate" : "";
}

/* The range test's rate of change, (loss[i] - loss[i-sma]) / sma, against
 * the rate, with the steepest descent marked. */
static void range_derivative(figbuild *fb, const kiln_directive *x)
{
    for (int i = 0; i < x->n_runs; i++) {
        const kiln_run *r = x->runs[i];
        if (!r->ok || !r->lrfind.derivative) continue;
        const kiln_lrfind_result *f = &r->lrfind;
        long a = f->n > 30 ? 10 : 0, b = f->n;
        size_t n = b > a ? (size_t)(b - a) : 0;
        double *xs = fb_array(fb, n), *ys = fb_array(fb, n);
        for (size_t k = 0; k < n; k++) {
            xs[k] = f->lr[a + (long)k];
            ys[k] = f->derivative[a + (long)k];
        }
        kiln_series *s = fb_add(fb);
        char lab[256];
        s->x = xs;
        s->y = ys;
        s->n = n;
        s->color = KILN_PALETTE(i);
        s->label = x->n_runs == 1 ? "rate of change of the loss" : fb_label(fb, "%s%s", run_label(x, i, lab, sizeof lab), "");
    }
    /* a zero line: below it the loss falls */
    if (x->n_runs >= 1 && x->runs[0]->ok && x->runs[0]->lrfind.n > 1) {
        const kiln_lrfind_result *f = &x->runs[0]->lrfind;
        long a = f->n > 30 ? 10 : 0, b = f->n;
        double *zx = fb_array(fb, 2), *zy = fb_array(fb, 2);
        zx[0] = f->lr[a];
        zx[1] = f->lr[b - 1];
        zy[0] = zy[1] = 0;
        kiln_series *z = fb_add(fb);
        z->x = zx;
        z->y = zy;
        z->n = 2;
        z->style = KILN_LINE_DASHED;
        z->width = 1.0;
        z->color = KILN_RGB(120, 120, 120);
    }
}

static void range_series(figbuild *fb, const kiln_directive *x)
{
    for (int i = 0; i < x->n_runs; i++) {
        const kiln_run *r = x->runs[i];
        if (!r->ok) continue;
        const kiln_lrfind_result *f = &r->lrfind;
        /* keras_lr_finder's plot leaves out the first 10 and the last 5
         * points; the last ones are kept here, since they are where the loss
         * shoots up and the test stops, which the text discusses */
        long a = f->n > 30 ? 10 : 0, b = f->n;
        size_t n = b > a ? (size_t)(b - a) : 0;
        char lab[256];
        run_label(x, i, lab, sizeof lab);
        kiln_series *raw = fb_add(fb);
        double *xs = fb_array(fb, n), *ys = fb_array(fb, n), *sm = fb_array(fb, n);
        for (size_t k = 0; k < n; k++) {
            xs[k] = f->lr[a + (long)k];
            ys[k] = f->loss[a + (long)k];
            sm[k] = f->smoothed ? f->smoothed[a + (long)k] : NAN;
        }
        raw->x = xs;
        raw->y = ys;
        raw->n = n;
        raw->width = 1.0;
        raw->color = x->n_runs == 1 ? KILN_RGB(170, 170, 170) : KILN_PALETTE(i);
        raw->style = x->n_runs == 1 ? KILN_LINE_SOLID : KILN_LINE_DOTTED;
        raw->label = x->n_runs == 1 ? "batch loss" : NULL;
        kiln_series *s = fb_add(fb);
        s->x = xs;
        s->y = sm;
        s->n = n;
        s->color = KILN_PALETTE(i);
        s->label = x->n_runs == 1 ? "smoothed loss" : fb_label(fb, "%s%s", lab, "");
        /* the suggestions as markers on the smoothed curve */
        double sugg[2] = {f->steepest_lr, f->min_div10_lr};
        const char *names[2] = {"steepest descent", "minimum / 10"};
        for (int k = 0; k < 2 && x->n_runs == 1; k++) {
            if (!isfinite(sugg[k])) continue;
            long best = -1;
            for (long q = 0; q < f->n; q++)
                if (best < 0 || fabs(log(f->lr[q]) - log(sugg[k])) < fabs(log(f->lr[best]) - log(sugg[k]))) best = q;
            if (best < 0 || !f->smoothed) continue;
            kiln_series *m = fb_add(fb);
            double *mx = fb_array(fb, 1), *my = fb_array(fb, 1);
            mx[0] = sugg[k];
            my[0] = f->smoothed[best];
            m->x = mx;
            m->y = my;
            m->n = 1;
            m->style = KILN_LINE_NONE;
            m->marker = k == 0 ? KILN_MARKER_DIAMOND : KILN_MARKER_SQUARE;
            m->color = KILN_PALETTE(k == 0 ? 1 : 2);
            m->label = names[k];
        }
    }
}

/* kind = sweep: for each run the point (x, y) = (a setting or value, a
 * result), joined in order of x into one line per distinct value of `by`
 * (lines in order of first appearance, labelled by that value or by
 * `labels =`). Returns the number of lines. */
static int sweep_series(figbuild *fb, const kiln_directive *x, const char *xn, const char *yn, const char *by)
{
    int n = x->n_runs, n_lines = 0;
    const char **line_of = calloc((size_t)n + 1, sizeof *line_of);
    int *which = calloc((size_t)n + 1, sizeof *which);
    for (int i = 0; i < n; i++) {
        double v;
        const char *s = "";
        char buf[64];
        if (by) {
            if (kiln_run_value(x->runs[i], by, &v, &s) == 0) {
                kiln_format_value(v, "repr", buf, sizeof buf);
                s = buf;
            }
        }
        int k = 0;
        while (k < n_lines && strcmp(line_of[k], s)) k++;
        if (k == n_lines) line_of[n_lines++] = fb_label(fb, "%s%s", s, "");
        which[i] = k;
    }
    for (int k = 0; k < n_lines; k++) {
        int m = 0;
        for (int i = 0; i < n; i++) m += which[i] == k;
        double *xs = fb_array(fb, (size_t)m), *ys = fb_array(fb, (size_t)m);
        int j = 0;
        for (int i = 0; i < n; i++) {
            if (which[i] != k) continue;
            const char *s;
            double xv, yv;
            if (kiln_run_value(x->runs[i], xn, &xv, &s) != 0) xv = NAN;
            if (kiln_run_value(x->runs[i], yn, &yv, &s) != 0) yv = NAN;
            /* insertion sort by x: a handful of points per line */
            int at = j++;
            while (at > 0 && xs[at - 1] > xv) { xs[at] = xs[at - 1]; ys[at] = ys[at - 1]; at--; }
            xs[at] = xv;
            ys[at] = yv;
        }
        kiln_series *s = fb_add(fb);
        s->label = x->labels && k < x->n_labels ? x->labels[k] : line_of[k];
        s->x = xs;
        s->y = ys;
        s->n = (size_t)m;
        s->marker = KILN_MARKER_CIRCLE;
        s->color = KILN_PALETTE(k);
    }
    free(line_of);
    free(which);
    return n_lines;
}

static void schedule_series(figbuild *fb, const kiln_directive *x, int per_step)
{
    for (int i = 0; i < x->n_runs; i++) {
        kiln_config c = x->runs[i]->config;
        kiln_config_resolve(&c);
        int n_all = c.train_limit > 0 && c.train_limit < 60000 ? c.train_limit : 60000;
        int n_train = (int)floor((double)n_all * (1.0 - c.validation_split));
        int B = c.batch_size < n_train ? c.batch_size : n_train;
        int spe = B > 0 ? (n_train + B - 1) / B : 1;
        kiln_sched_state st;
        kiln_sched_init(&st, &c, spe);
        size_t n = per_step ? (size_t)c.epochs * (size_t)spe : (size_t)c.epochs;
        double *xs = fb_array(fb, n), *ys = fb_array(fb, n);
        long g = 0;
        for (int e = 0; e < c.epochs; e++) {
            for (int s = 0; s < spe; s++, g++) {
                kiln_sched_point pt = {e, s, g, NAN};
                double lr = kiln_sched_lr(&st, &c, &pt);
                if (c.decay > 0) lr = lr / (1.0 + c.decay * (double)g);
                if (per_step) { xs[g] = (double)g + 1; ys[g] = lr; }
                else if (s == 0) { xs[e] = e + 1; ys[e] = lr; }
            }
            kiln_sched_epoch_end(&st, &c, e, NAN, NAN, NAN, NAN);
        }
        kiln_series *s = fb_add(fb);
        char lab[256];
        s->label = fb_label(fb, "%s%s", run_label(x, i, lab, sizeof lab), "");
        s->x = xs;
        s->y = ys;
        s->n = n;
        s->color = KILN_PALETTE(i);
        if (n <= 1) s->marker = KILN_MARKER_CIRCLE;
    }
}

int kr_render_figure(const kiln_doc *doc, kiln_directive *x, const char *img_dir, char *err, size_t n)
{
    figbuild fb = {0};
    kiln_plot p;
    kiln_plot_init(&p);
    p.width = FIG_W;
    p.height = FIG_H;
    p.title = x->title[0] ? x->title : NULL;
    const char *per = kv_get(x, "per");
    int per_step = per && !strcmp(per, "step");
    const char *ylabel = "";
    const char *xlabel = per_step ? "step" : "epoch";
    if (x->figure_kind == KILN_FIG_HISTORY) {
        const char *series = kv_get(x, "series");
        char *copy = strdup(series ? series : "loss, val_loss");
        const char *sv[16];
        int ns = 0;
        /* strtok_r: figures render on several threads at once */
        for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t && ns < 16; t = strtok_r(NULL, ", ", &save))
            sv[ns++] = t;
        history_series(&fb, doc, x, per_step, sv, ns, &ylabel);
        if (ns == 1 && !strcmp(sv[0], "lr")) p.ylog = 1;
        free(copy);
    } else if (x->figure_kind == KILN_FIG_RANGE) {
        const char *series = kv_get(x, "series");
        int deriv = series && !strcmp(series, "derivative");
        if (deriv) range_derivative(&fb, x);
        else range_series(&fb, x);
        xlabel = "learning rate (log scale)";
        ylabel = deriv ? "change of the loss per batch" : "loss";
        p.xlog = 1;
    } else if (x->figure_kind == KILN_FIG_SWEEP) {
        const char *xn = kv_get(x, "x"), *yn = kv_get(x, "y"), *by = kv_get(x, "by");
        if (!xn) xn = "learning_rate";
        if (!yn) yn = "test_accuracy";
        int lines = sweep_series(&fb, x, xn, yn, by);
        if (x->labels && x->n_labels != lines) {
            snprintf(err, n, "figure %s: %d labels for %d lines (one per value of by = %s)", x->id, x->n_labels, lines,
                     by ? by : "(none)");
            fb_free(&fb);
            return 1;
        }
        /* rates span decades: a log axis unless told otherwise */
        p.xlog = strstr(xn, "lr") || strstr(xn, "learning_rate");
        xlabel = fb_label(&fb, "%s%s", xn, p.xlog ? " (log scale)" : "");
        ylabel = fb_label(&fb, "%s%s", yn, "");
        for (char *c = (char *)xlabel; *c; c++) if (*c == '_') *c = ' ';
        for (char *c = (char *)ylabel; *c; c++) if (*c == '_') *c = ' ';
    } else {
        schedule_series(&fb, x, per_step);
        ylabel = "learning rate";
    }
    p.xlabel = x->xlabel[0] ? x->xlabel : xlabel;
    p.ylabel = x->ylabel[0] ? x->ylabel : ylabel;
    p.xinteger = x->figure_kind != KILN_FIG_RANGE && x->figure_kind != KILN_FIG_SWEEP; /* epochs and steps are whole */
    const char *v;
    if ((v = kv_get(x, "xlog"))) p.xlog = truthy(v);
    if ((v = kv_get(x, "ylog"))) p.ylog = truthy(v);
    p.xmin = num_or_nan(kv_get(x, "xmin"));
    p.xmax = num_or_nan(kv_get(x, "xmax"));
    p.ymin = num_or_nan(kv_get(x, "ymin"));
    p.ymax = num_or_nan(kv_get(x, "ymax"));
    p.series = fb.series;
    p.n_series = (size_t)fb.n;
    char prov[512];
    sbuf keys = {0};
    for (int i = 0; i < x->n_runs; i++) sb_printf(&keys, "%s%s=%s", i ? " " : "", x->runs[i]->id, x->runs[i]->key);
    snprintf(prov, sizeof prov, "kiln %s; trainer %s; runs %s", kiln_version(), kiln_trainer_fingerprint(),
             keys.s ? keys.s : "");
    sb_free(&keys);
    p.provenance = prov;
    /* four variants: light (the PDF's too) and dark, full width and narrow */
    static const struct { const char *suffix; int theme, narrow; } var[4] = {
        {"", KILN_THEME_LIGHT, 0}, {"-dark", KILN_THEME_DARK, 0},
        {"-narrow", KILN_THEME_LIGHT, 1}, {"-narrow-dark", KILN_THEME_DARK, 1}};
    int rc = 0, h = 0;
    for (int k = 0; k < 4 && !rc; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s%s.png", img_dir, x->id, var[k].suffix);
        p.theme = var[k].theme;
        p.width = var[k].narrow ? NARROW_W : FIG_W;
        p.height = var[k].narrow ? NARROW_H : FIG_H;
        p.text_scale = var[k].narrow ? NARROW_TEXT : 0;
        p.legend = var[k].narrow ? KILN_LEGEND_BELOW : KILN_LEGEND_AUTO;
        rc = kr_figure_png(doc, &p, path, &h, err, n);
        if (var[k].narrow) x->narrow_height = h;
    }
    fb_free(&fb);
    x->image_width = FIG_W;
    x->image_height = FIG_H;
    x->narrow_width = rc ? 0 : NARROW_W;
    return rc;
}
