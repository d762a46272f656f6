/* The HTML page of a diff, with overlay plots of the runs that moved. */
#include "diff/internal.h"
#include "kiln/plot.h"
#include "kiln/html.h"
#include <limits.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- output: the page and its overlay plots ---------------------------------------------- */

/* old dashed, new solid, one colour per quantity */
static int overlay_png(const row *r, int what, int theme, const char *path, char *err, size_t n)
{
    kiln_series s[4];
    memset(s, 0, sizeof s);
    kiln_plot p;
    kiln_plot_init(&p);
    p.theme = theme;
    char title[256], prov[256];
    double *x = NULL;
    int ns = 0;
    if (!strcmp(r->kind, "train")) {
        int ne = r->eo.h.n_epochs > r->en.h.n_epochs ? r->eo.h.n_epochs : r->en.h.n_epochs;
        x = malloc(sizeof *x * (size_t)(ne ? ne : 1));
        for (int i = 0; i < ne; i++) x[i] = i + 1;
        double *y[4];
        for (int k = 0; k < 2; k++) {
            int q = what * 2 + k; /* 0 loss, 1 val_loss, 2 accuracy, 3 val_accuracy */
            for (int side_i = 0; side_i < 2; side_i++) {
                const entry *e = side_i ? &r->en : &r->eo;
                double *v = malloc(sizeof *v * (size_t)(e->h.n_epochs ? e->h.n_epochs : 1));
                for (int i = 0; i < e->h.n_epochs; i++) v[i] = epoch_value(&e->h.epochs[i], q);
                y[ns] = v;
                s[ns] = (kiln_series){side_i ? (k ? "validation, new" : "training, new") : (k ? "validation, old" : "training, old"),
                                      x, v, (size_t)e->h.n_epochs, side_i ? KILN_LINE_SOLID : KILN_LINE_DASHED,
                                      KILN_MARKER_NONE, KILN_PALETTE(k), 0};
                ns++;
            }
        }
        snprintf(title, sizeof title, "%s: %s per epoch (old dashed, new solid)", r->id, what ? "accuracy" : "loss");
        p.xlabel = "epoch";
        p.ylabel = what ? "accuracy" : "loss";
        p.xinteger = 1;
        p.title = title;
        snprintf(prov, sizeof prov, "kiln diff %s -> %s", r->o->key, r->n->key);
        p.provenance = prov;
        p.series = s;
        p.n_series = (size_t)ns;
        int rc = kiln_plot_render_png(&p, path, err, n);
        for (int i = 0; i < ns; i++) free(y[i]);
        free(x);
        return rc;
    }
    s[0] = (kiln_series){"old", r->eo.lr, r->eo.loss, (size_t)r->eo.n, KILN_LINE_DASHED, KILN_MARKER_NONE, KILN_PALETTE(0), 0};
    s[1] = (kiln_series){"new", r->en.lr, r->en.loss, (size_t)r->en.n, KILN_LINE_SOLID, KILN_MARKER_NONE, KILN_PALETTE(0), 0};
    snprintf(title, sizeof title, "%s: range test loss (old dashed, new solid)", r->id);
    p.title = title;
    p.xlabel = "learning rate";
    p.ylabel = "loss";
    p.xlog = 1;
    snprintf(prov, sizeof prov, "kiln diff %s -> %s", r->o->key, r->n->key);
    p.provenance = prov;
    p.series = s;
    p.n_series = 2;
    return kiln_plot_render_png(&p, path, err, n);
}

static void html_change_cells(sbuf *b, double a, double c, const char *f, const char *df, int rel)
{
    char buf[160];
    change_text(buf, sizeof buf, a, c, f, df, rel);
    sb_add(b, "<td class=\"num\">");
    sb_html(b, buf);
    sb_add(b, "</td>");
}

/* the page's own rules (the site's style.css has them too: its "kiln diff's
   page" block), for a page written without the site */
#define DIFF_CSS \
    "main.diff{max-width:70rem;margin:0 auto;padding:1rem}\n" \
    "table.diff{border-collapse:collapse;font-size:.9rem}\n" \
    "table.diff th,table.diff td{padding:.25rem .6rem;border-bottom:1px solid #ccc;text-align:left}\n" \
    "table.diff td.num{font-variant-numeric:tabular-nums;white-space:nowrap}\n" \
    ".table-wrap{overflow-x:auto}\n" \
    ".v-identical{color:#1a7f37}.v-within_noise{color:#8a6d00}.v-changed,.v-added,.v-removed{color:#b3261e;font-weight:bold}\n" \
    "figure.overlay img{max-width:100%;height:auto}\nfigure.overlay{display:inline-block;margin:.5rem;max-width:100%}\n"

/* "a/b/" for the way from the folder from to the folder to (both absolute,
   normalised); "" when they are the same */
static void rel_dir(sbuf *b, const char *from, const char *to)
{
    size_t i = 0, common = 0;
    for (; from[i] && from[i] == to[i]; i++)
        if (from[i] == '/') common = i + 1;
    if ((!from[i] || from[i] == '/') && (!to[i] || to[i] == '/')) common = i; /* a whole part in common */
    const char *fr = from + common, *tr = to + common;
    if (*fr == '/') fr++;
    if (*tr == '/') tr++;
    for (const char *p = fr; *p; p++)
        if (p == fr || p[-1] == '/') sb_add(b, "../");
    if (*tr) sb_printf(b, "%s/", tr);
}

/* an absolute, normalised form of path, which need not exist (the site may
   not be built yet): its folder through realpath, then its last part */
static void abs_path(char *out, size_t n, const char *path)
{
    char tmp[PATH_MAX], head[PATH_MAX];
    if (realpath(path, tmp)) { snprintf(out, n, "%s", tmp); return; }
    snprintf(head, sizeof head, "%s", path);
    size_t l = strlen(head);
    while (l > 1 && head[l - 1] == '/') head[--l] = 0;
    char *slash = strrchr(head, '/');
    const char *last = slash ? slash + 1 : head;
    if (slash) *slash = 0;
    const char *dir = slash ? (head[0] ? head : "/") : ".";
    int w = realpath(dir, tmp) ? snprintf(out, n, "%s/%s", strcmp(tmp, "/") ? tmp : "", last) : snprintf(out, n, "%s", path);
    if (w < 0 || (size_t)w >= n) out[n - 1] = 0;
}

int write_html(row *rows, int n, const side *so, const side *sn, const kiln_diff_opts *o, const int *count,
                      kiln_diag *d)
{
    char dir[4096], img_tmp[4300], img_dir[4300];
    snprintf(dir, sizeof dir, "%s", o->html_path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    if (kr_mkdirs(dir)) {
        kd_error(d, KILN_REPORT_EINPUT, dir, 0, "cannot create the folder for the diff page: %s", strerror(errno));
        return -1;
    }
    snprintf(img_dir, sizeof img_dir, "%s/diff", dir);
    snprintf(img_tmp, sizeof img_tmp, "%s/.diff-%ld", dir, (long)getpid());
    kr_rmtree(img_tmp);
    if (kr_mkdirs(img_tmp)) {
        kd_error(d, KILN_REPORT_EINPUT, img_tmp, 0, "cannot create: %s", strerror(errno));
        return -1;
    }
    sbuf b = {0};
    sb_add(&b, "<h1 id=\"what-changed\">What changed</h1>\n<p class=\"diff-sources\">");
    sb_html(&b, so->desc);
    sb_add(&b, " (old) against ");
    sb_html(&b, sn->desc);
    sb_add(&b, " (new). Trainer <code>");
    sb_html(&b, so->trainer);
    sb_add(&b, "</code> → <code>");
    sb_html(&b, sn->trainer);
    sb_printf(&b, "</code>; %s scale. Tolerances: |Δ test accuracy| ≤ %g, |Δ test loss| ≤ %g%% of the old.</p>\n",
              sn->scale, o->acc_tol, 100 * o->loss_tol);
    sb_printf(&b, "<p><strong>%d identical, %d within noise, %d changed; %d added, %d removed; %d with a changed config.</strong></p>\n",
              count[KILN_VERDICT_IDENTICAL], count[KILN_VERDICT_NOISE], count[KILN_VERDICT_CHANGED],
              count[KILN_VERDICT_ADDED], count[KILN_VERDICT_REMOVED], count[5]);
    /* wider than a phone: it scrolls in its own region, which a keyboard reaches */
    sb_add(&b, "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"runs compared\">"
               "<table class=\"diff\">\n<thead><tr><th>Run</th><th>Verdict</th><th>Test accuracy</th><th>Test loss</th>"
               "<th>Wall time (s)</th><th>Note</th></tr></thead>\n<tbody>\n");
    int rc = 0;
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        char v[128];
        sb_add(&b, "<tr><td>");
        if (r->histories && r->verdict != KILN_VERDICT_IDENTICAL) sb_printf(&b, "<a href=\"#run-%s\">%s</a>", r->id, r->id);
        else sb_html(&b, r->id);
        sb_printf(&b, "</td><td class=\"v-%s\">", verdict_slug(r->verdict));
        sb_html(&b, verdict_cell(r, v, sizeof v));
        sb_add(&b, "</td>");
        int train = !strcmp(r->kind, "train");
        html_change_cells(&b, metric(r->o, train ? "test_accuracy" : "suggested_max_lr"),
                          metric(r->n, train ? "test_accuracy" : "suggested_max_lr"), train ? "%.4f" : "%.3g",
                          train ? "%+.4f" : "%+.2g", !train);
        if (train) html_change_cells(&b, metric(r->o, "test_loss"), metric(r->n, "test_loss"), "%.5g", "%+.3g", 1);
        else sb_add(&b, "<td>(range test: the first column is max_lr)</td>");
        html_change_cells(&b, metric(r->o, "seconds"), metric(r->n, "seconds"), "%.1f", "%+.1f", 1);
        sb_add(&b, "<td>");
        sb_html(&b, r->note);
        sb_add(&b, "</td></tr>\n");
    }
    sb_add(&b, "</tbody>\n</table></div>\n");
    diff_compares_html(so, sn, &b);
    for (int i = 0; i < n && !rc; i++) {
        row *r = &rows[i];
        if (!r->histories || r->verdict == KILN_VERDICT_IDENTICAL) continue;
        sb_printf(&b, "<section id=\"run-%s\">\n<h2>%s: %s</h2>\n", r->id, r->id, kiln_verdict_name(r->verdict));
        if (r->config_changed) {
            sb_add(&b, "<p>Config changed:</p>\n<pre class=\"config\">");
            sb_html(&b, r->config_diff.s ? r->config_diff.s : "");
            sb_add(&b, "</pre>\n");
        }
        int plots = !strcmp(r->kind, "train") ? 2 : 1;
        for (int k = 0; k < plots; k++) {
            char name[128], path[4500], err[512];
            snprintf(name, sizeof name, "%s%s.png", r->id, plots == 1 ? "" : k ? "-accuracy" : "-loss");
            snprintf(path, sizeof path, "%s/%s", img_tmp, name);
            /* in the site's layout, whose style.css has a dark scheme, a
               dark variant too (NAME-dark.png), offered as the site's
               figures are (templates/kiln.js follows the theme toggle) */
            int dark = o->site != NULL;
            if (overlay_png(r, k, KILN_THEME_LIGHT, path, err, sizeof err) ||
                (dark && (snprintf(path, sizeof path, "%s/%.*s-dark.png", img_tmp, (int)strlen(name) - 4, name),
                          overlay_png(r, k, KILN_THEME_DARK, path, err, sizeof err)))) {
                kd_error(d, KILN_REPORT_EINPUT, path, 0, "cannot draw the overlay plot: %s", err);
                rc = -1;
                break;
            }
            sb_add(&b, "<figure class=\"overlay\">");
            if (dark)
                sb_printf(&b, "<picture><source data-dark=\"screen\" media=\"screen and (prefers-color-scheme: dark)\" "
                              "srcset=\"diff/%.*s-dark.png\" width=\"640\" height=\"400\">",
                          (int)strlen(name) - 4, name);
            sb_printf(&b, "<img src=\"diff/%s\" width=\"640\" height=\"400\" alt=\"", name);
            sb_printf(&b, "%s: old (dashed) and new (solid) %s\">%s</figure>\n", r->id, k ? "accuracy" : "loss",
                      dark ? "</picture>" : "");
        }
        sb_add(&b, "</section>\n");
    }
    if (!rc) {
        /* the new images in place of the old ones, then the page */
        if (kr_swap_dir(img_tmp, img_dir)) rc = -1;
        if (rc) kd_error(d, KILN_REPORT_EINPUT, img_dir, 0, "cannot move the overlay plots in: %s", strerror(errno));
    }
    if (!rc && o->site) {
        /* in the site's layout: its header, chapter list and style.css, the
           links relative to the page's folder */
        char from[PATH_MAX], to[PATH_MAX];
        abs_path(from, sizeof from, dir);
        abs_path(to, sizeof to, o->site_dir ? o->site_dir : "out");
        sbuf root = {0}, body = {0};
        rel_dir(&root, from, to);
        sb_printf(&body, "<div class=\"diff\">\n%s</div>\n", b.s);
        if (kiln_html_page(o->site, root.s ? root.s : "", "What changed (kiln diff)", body.s, o->html_path, d)) rc = -1;
        sb_free(&root);
        sb_free(&body);
    } else if (!rc) {
        sbuf page = {0};
        sb_add(&page, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                      "<title>What changed (kiln diff)</title>\n<style>\n" DIFF_CSS "</style>\n</head>\n<body>\n<main class=\"diff\">\n");
        sb_add(&page, b.s);
        sb_add(&page, "</main>\n</body>\n</html>\n");
        if (kr_write_atomic(o->html_path, page.s, page.len)) {
            kd_error(d, KILN_REPORT_EINPUT, o->html_path, 0, "cannot write: %s", strerror(errno));
            rc = -1;
        }
        sb_free(&page);
    }
    kr_rmtree(img_tmp);
    sb_free(&b);
    return rc;
}
