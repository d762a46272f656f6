/* The figure: ranges, layout, axes, series, legend; PNG output. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "plot_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TICKS 64
#define BIG 1e300 /* beyond this a value counts as diverged */

/* The theme: the colours of everything but the data (0xRRGGBB). */
typedef struct theme {
    uint32_t bg, grid, frame, ticklabel, text, legend_edge;
} theme;
static const theme themes[2] = {
    {0xFFFFFF, 0xE4E4E4, 0x404040, 0x333333, 0x1A1A1A, 0xCCCCCC},
    {KILN_DARK_BG, 0x2B3038, 0x8C949E, 0xC3CAD2, 0xE4E8EC, 0x414852},
};

/* Okabe & Ito (2008), "Color Universal Design": distinguishable with any
 * common colour-vision deficiency. Their yellow (F0E442) is too light for a
 * 1.5 px line on white, so the last slot is a darker mustard of the same hue.
 * On the dark background the same hues lighter (their blue and vermillion
 * are too dark there), black becomes light grey and the yellow is theirs. */
static const uint32_t palettes[2][KILN_PALETTE_SIZE] = {
    {0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7, 0xE69F00, 0x56B4E9, 0x000000, 0xB59A00},
    {0x4FA6E8, 0xF2803F, 0x2DC79B, 0xE598C9, 0xF0B135, 0xA6DCFA, 0xE4E4E4, 0xF0E442},
};

static int theme_index(int t) { return t == KILN_THEME_DARK; }

uint32_t kiln_palette_for(int t, int i)
{
    int k = i % KILN_PALETTE_SIZE;
    return palettes[theme_index(t)][k < 0 ? k + KILN_PALETTE_SIZE : k];
}

uint32_t kiln_palette(int i) { return kiln_palette_for(KILN_THEME_LIGHT, i); }

/* WCAG relative luminance of 0xRRGGBB */
static double luminance(uint32_t c)
{
    double v[3];
    for (int k = 0; k < 3; k++) {
        double x = ((c >> (16 - 8 * k)) & 255) / 255.0;
        v[k] = x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4);
    }
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
}

static uint32_t mix_white(uint32_t c, double t)
{
    uint32_t out = 0;
    for (int k = 0; k < 3; k++) {
        double x = (c >> (16 - 8 * k)) & 255;
        out |= (uint32_t)lrint(x + (255 - x) * t) << (16 - 8 * k);
    }
    return out;
}

/* a caller's colour on the dark background: mixed with white, in steps of
 * 5%, until its contrast with the background is 3:1 or more */
static uint32_t readable_on_dark(uint32_t c)
{
    double lb = luminance(KILN_DARK_BG);
    for (int i = 0; i <= 20; i++) {
        uint32_t m = mix_white(c, i / 20.0);
        if ((luminance(m) + 0.05) / (lb + 0.05) >= 3) return m;
    }
    return 0xFFFFFF;
}

static uint32_t series_color(const kiln_plot *p, uint32_t c, size_t index)
{
    if (c & 0x1000000u) return p->theme == KILN_THEME_DARK ? readable_on_dark(c & 0xFFFFFFu) : c & 0xFFFFFFu;
    if (c & 0x2000000u) return kiln_palette_for(p->theme, (int)(c & 0xFFFFu));
    return kiln_palette_for(p->theme, (int)(index % KILN_PALETTE_SIZE));
}

void kiln_plot_init(kiln_plot *p)
{
    memset(p, 0, sizeof *p);
    p->xmin = p->xmax = p->ymin = p->ymax = NAN;
    p->width = 640;
    p->height = 400;
    p->scale = 2;
}

/* ---- data and ranges ------------------------------------------------------ */

static int usable(double v) { return isfinite(v) && fabs(v) <= BIG; }
static double xval(const kiln_series *s, size_t i) { return s->x ? s->x[i] : (double)i; }

typedef struct axis {
    int log;
    int integer;            /* ticks only at whole numbers (epochs, steps) */
    double lo, hi;          /* in axis space: log10(v) on a log axis */
    double t[MAX_TICKS];    /* tick values (data units) */
    int nt;
    int decade;             /* log axis with power-of-ten ticks */
    char lab[MAX_TICKS][48];
    double lw[MAX_TICKS];   /* label widths */
    double minor[128];
    int nminor;
} axis;

static double fwd(const axis *a, double v) { return a->log ? log10(v) : v; }

/* Data extent of every drawable point, in axis space. */
static int data_extent(const kiln_plot *p, const axis *ax, const axis *ay, double *x0, double *x1,
                       double *y0, double *y1)
{
    int have = 0;
    for (size_t k = 0; k < p->n_series; k++) {
        const kiln_series *s = &p->series[k];
        if (!s->y) continue;
        for (size_t i = 0; i < s->n; i++) {
            double x = xval(s, i), y = s->y[i];
            if (!usable(x) || !usable(y) || (ax->log && x <= 0) || (ay->log && y <= 0)) continue;
            double tx = fwd(ax, x), ty = fwd(ay, y);
            if (!have) {
                *x0 = *x1 = tx;
                *y0 = *y1 = ty;
                have = 1;
            } else {
                if (tx < *x0) *x0 = tx;
                if (tx > *x1) *x1 = tx;
                if (ty < *y0) *y0 = ty;
                if (ty > *y1) *y1 = ty;
            }
        }
    }
    return have;
}

static double singular_pad(double v, int log)
{
    if (log) return 0.5; /* half a decade */
    return v != 0 ? fabs(v) * 0.1 : 1;
}

static void resolve_range(axis *a, double bmin, double bmax, int have, double dlo, double dhi)
{
    int amin = isnan(bmin), amax = isnan(bmax);
    if (!amin && (!usable(bmin) || (a->log && bmin <= 0))) amin = 1;
    if (!amax && (!usable(bmax) || (a->log && bmax <= 0))) amax = 1;
    if (!amin && !amax && !(bmin < bmax)) amin = amax = 1;
    if (!have) {
        dlo = 0;
        dhi = 1;
    }
    double lo, hi;
    if (amin && amax) {
        lo = dlo;
        hi = dhi;
        double span = hi - lo, mag = fmax(fabs(lo), fabs(hi));
        if (span <= mag * 1e-12 || span == 0) {
            double d = singular_pad((lo + hi) / 2, a->log) * 1.1;
            lo -= d;
            hi += d;
        } else {
            lo -= 0.05 * span;
            hi += 0.05 * span;
        }
    } else if (amin) {
        hi = fwd(a, bmax);
        lo = have && dlo < hi ? dlo - 0.05 * (hi - dlo) : hi - singular_pad(hi, a->log) * 2;
    } else if (amax) {
        lo = fwd(a, bmin);
        hi = have && dhi > lo ? dhi + 0.05 * (dhi - lo) : lo + singular_pad(lo, a->log) * 2;
    } else {
        lo = fwd(a, bmin);
        hi = fwd(a, bmax);
    }
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    a->lo = lo;
    a->hi = hi;
}

/* ---- ticks and their labels ----------------------------------------------- */

static int is_decade(double v)
{
    double e = log10(v);
    return fabs(e - nearbyint(e)) < 1e-9;
}

static void make_labels(axis *a)
{
    a->decade = a->log && a->nt > 0;
    for (int i = 0; i < a->nt && a->decade; i++)
        if (!is_decade(a->t[i])) a->decade = 0;
    double step = 0;
    for (int i = 1; i < a->nt; i++) {
        double d = fabs(a->t[i] - a->t[i - 1]);
        if (d > 0 && (step == 0 || d < step)) step = d;
    }
    for (int i = 0; i < a->nt; i++)
        kiln_tick_label(a->t[i], step > 0 ? step : fabs(a->t[i]), a->decade, a->lab[i], sizeof a->lab[i]);
}

/* Ticks for an axis `len` pixels long, as many as fit without labels
 * touching (gap pixels apart); horizontal or vertical labels. */
static void choose_ticks(axis *a, font *f, double fs, double len, double per_tick, double gap,
                         int horizontal)
{
    int maxn = (int)(len / per_tick);
    if (maxn < 2) maxn = 2;
    if (maxn > MAX_TICKS - 2) maxn = MAX_TICKS - 2;
    double th = text_height(f, fs);
    double lo = a->log ? pow(10, a->lo) : a->lo, hi = a->log ? pow(10, a->hi) : a->hi;
    for (;;) {
        a->nt = kiln_ticks(lo, hi, maxn, a->log, a->t, MAX_TICKS);
        /* keep ticks strictly inside the range (rounding at the ends) */
        int n = 0;
        for (int i = 0; i < a->nt; i++) {
            double t = fwd(a, a->t[i]);
            if (t >= a->lo - (a->hi - a->lo) * 1e-9 && t <= a->hi + (a->hi - a->lo) * 1e-9) a->t[n++] = a->t[i];
        }
        a->nt = n;
        if (a->integer && !a->log) {
            n = 0;
            for (int i = 0; i < a->nt; i++)
                if (a->t[i] == floor(a->t[i])) a->t[n++] = a->t[i];
            a->nt = n;
            if (n < 2) { /* a short range: every whole number in it, if they fit */
                double first = ceil(lo), last = floor(hi);
                if (last - first + 1 <= maxn)
                    for (double v = first; v <= last && n < MAX_TICKS; v += 1) a->t[n++] = v;
                a->nt = n;
            }
        }
        make_labels(a);
        int ok = 1;
        for (int i = 0; i < a->nt; i++) a->lw[i] = text_width(f, fs, a->lab[i]);
        for (int i = 1; i < a->nt && ok; i++) {
            double p0 = (fwd(a, a->t[i - 1]) - a->lo) / (a->hi - a->lo) * len;
            double p1 = (fwd(a, a->t[i]) - a->lo) / (a->hi - a->lo) * len;
            double room = fabs(p1 - p0);
            double need = horizontal ? (a->lw[i - 1] + a->lw[i]) / 2 + gap : th + gap;
            if (room < need || strcmp(a->lab[i], a->lab[i - 1]) == 0) ok = 0;
        }
        if (ok || maxn <= 1) break;
        maxn = (a->nt - 1 < maxn ? a->nt - 1 : maxn - 1);
        if (maxn < 1) maxn = 1;
    }
    a->nminor = 0;
    if (a->log && a->decade && a->nt >= 1) {
        /* minor ticks only when every decade is labelled */
        int every = 1;
        for (int i = 1; i < a->nt; i++)
            if (fabs(log10(a->t[i]) - log10(a->t[i - 1]) - 1) > 1e-6) every = 0;
        if (every) a->nminor = log_minor_ticks(lo, hi, a->minor, 128);
    }
}

/* ---- the figure ------------------------------------------------------------ */

typedef struct fig {
    const kiln_plot *p;
    double s;            /* scale */
    canvas c;
    font f;
    axis x, y;
    kiln_rect area;
    double fs_tick, fs_label, fs_title, fs_legend;
    unsigned char *ink;  /* area-sized: where data was drawn */
    mask m;
    const theme *th;
    double below_h;      /* pixels under the plot for a KILN_LEGEND_BELOW legend */
    char tl[3][512];     /* the title in lines that fit the width */
    int ntl;
    int below_cols;      /* its columns */
} fig;

static double map_x(const fig *g, double v)
{
    return g->area.x0 + (fwd(&g->x, v) - g->x.lo) / (g->x.hi - g->x.lo) * (g->area.x1 - g->area.x0);
}

static double map_y(const fig *g, double v)
{
    return g->area.y1 - (fwd(&g->y, v) - g->y.lo) / (g->y.hi - g->y.lo) * (g->area.y1 - g->area.y0);
}

static int has_text(const char *s) { return s && *s; }

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The title broken at spaces into at most 3 lines that fit the canvas (a
 * narrow figure); a word wider than the canvas stands alone, the rest of a
 * title that needs more lines goes on the last. */
static void wrap_title(fig *g)
{
    const char *t = g->p->title;
    g->ntl = 0;
    if (!has_text(t)) return;
    double room = g->c.w - 16 * g->s;
    while (*t && g->ntl < 3) {
        char *line = g->tl[g->ntl++];
        size_t cap = sizeof g->tl[0], n = 0;
        const char *cut = NULL; /* end of the longest prefix that fits, at a space */
        size_t len = strlen(t);
        if (g->ntl < 3)
            for (size_t i = 0; i <= len; i++) {
                if (t[i] != ' ' && t[i] != 0) continue;
                if (i >= cap) break;
                memcpy(line, t, i);
                line[i] = 0;
                if (cut && text_width(&g->f, g->fs_title, line) > room) break;
                cut = t + i;
                if (!t[i]) break;
            }
        if (!cut) cut = t + len;
        n = (size_t)(cut - t) < cap - 1 ? (size_t)(cut - t) : cap - 1;
        memcpy(line, t, n);
        line[n] = 0;
        t = cut;
        while (*t == ' ') t++;
    }
}

static void layout(fig *g)
{
    const kiln_plot *p = g->p;
    double s = g->s, W = g->c.w, H = g->c.h - g->below_h;
    double pad = 8 * s, tick_len = 4 * s, tick_gap = 3 * s;
    double th = text_height(&g->f, g->fs_tick), lh = text_height(&g->f, g->fs_label);
    wrap_title(g);
    double top = pad + (g->ntl ? g->ntl * text_height(&g->f, g->fs_title) + 6 * s : th / 2);
    double bottom = pad + th + tick_len + tick_gap + (has_text(p->xlabel) ? lh + 4 * s : 0);
    double ah = H - top - bottom;
    if (ah < 1) ah = 1;
    choose_ticks(&g->y, &g->f, g->fs_tick, ah, 42 * s, 2 * s, 0);
    double ytw = 0;
    for (int i = 0; i < g->y.nt; i++) ytw = fmax(ytw, g->y.lw[i]);
    double left = pad + (has_text(p->ylabel) ? lh + 6 * s : 0) + ytw + tick_gap + tick_len;
    double right = pad + 4 * s;
    for (int iter = 0; iter < 3; iter++) {
        double aw = W - left - right;
        if (aw < 1) aw = 1;
        choose_ticks(&g->x, &g->f, g->fs_tick, aw, 64 * s, 10 * s, 1);
        if (g->x.nt == 0) break;
        /* the last label must not run off the canvas */
        double pos = left + (fwd(&g->x, g->x.t[g->x.nt - 1]) - g->x.lo) / (g->x.hi - g->x.lo) * aw;
        double over = pos + g->x.lw[g->x.nt - 1] / 2 - (W - pad / 2);
        if (over <= 0.5) break;
        right += over;
    }
    int x0 = clampi((int)lrint(left), 0, g->c.w - 1), y0 = clampi((int)lrint(top), 0, g->c.h - 1);
    int x1 = clampi((int)lrint(W - right), x0 + 1, g->c.w), y1 = clampi((int)lrint(H - bottom), y0 + 1, g->c.h);
    g->area = (kiln_rect){x0, y0, x1, y1};
}

/* A line `lw` pixels wide centred on integer coordinate c, snapped to whole
 * pixels so it is crisp: [start, start + lw). */
static int snap_start(double c, int lw) { return lw % 2 ? (int)floor(c) - lw / 2 : (int)lrint(c) - lw / 2; }

static void draw_axes(fig *g)
{
    int glw = (int)lrint(fmax(1, 0.8 * g->s));
    kiln_rect a = g->area;
    for (int i = 0; i < g->x.nt; i++) {
        int gx = snap_start(map_x(g, g->x.t[i]), glw);
        cv_rect(&g->c, &a, gx, a.y0, gx + glw, a.y1, g->th->grid, 1);
    }
    for (int i = 0; i < g->y.nt; i++) {
        int gy = snap_start(map_y(g, g->y.t[i]), glw);
        cv_rect(&g->c, &a, a.x0, gy, a.x1, gy + glw, g->th->grid, 1);
    }
}

static void draw_frame(fig *g)
{
    double s = g->s;
    int lw = (int)lrint(fmax(1, 0.8 * s));
    int off = (lw + 1) / 2;
    kiln_rect a = g->area;
    double tick_len = 4 * s, tick_gap = 3 * s;
    canvas *c = &g->c;
    cv_rect(c, NULL, a.x0 - off, a.y0 - off, a.x0 - off + lw, a.y1 - off + lw, g->th->frame, 1);
    cv_rect(c, NULL, a.x1 - off, a.y0 - off, a.x1 - off + lw, a.y1 - off + lw, g->th->frame, 1);
    cv_rect(c, NULL, a.x0 - off, a.y0 - off, a.x1 - off + lw, a.y0 - off + lw, g->th->frame, 1);
    cv_rect(c, NULL, a.x0 - off, a.y1 - off, a.x1 - off + lw, a.y1 - off + lw, g->th->frame, 1);
    double below = a.y1 - off + lw, leftof = a.x0 - off;
    /* ticks and labels */
    for (int i = 0; i < g->x.nt; i++) {
        double px = map_x(g, g->x.t[i]);
        int tx = snap_start(px, lw);
        cv_rect(c, NULL, tx, below, tx + lw, below + tick_len, g->th->frame, 1);
        text_draw(c, &g->f, g->fs_tick, g->x.lab[i], tx + lw / 2.0, below + tick_len + tick_gap, TA_CENTER,
                  TV_TOP, 0, g->th->ticklabel);
    }
    for (int i = 0; i < g->x.nminor; i++) {
        int tx = snap_start(map_x(g, g->x.minor[i]), lw);
        cv_rect(c, NULL, tx, below, tx + lw, below + tick_len * 0.55, g->th->frame, 1);
    }
    for (int i = 0; i < g->y.nt; i++) {
        double py = map_y(g, g->y.t[i]);
        int ty = snap_start(py, lw);
        cv_rect(c, NULL, leftof - tick_len, ty, leftof, ty + lw, g->th->frame, 1);
        text_draw(c, &g->f, g->fs_tick, g->y.lab[i], leftof - tick_len - tick_gap, ty + lw / 2.0, TA_RIGHT,
                  TV_MIDDLE, 0, g->th->ticklabel);
    }
    for (int i = 0; i < g->y.nminor; i++) {
        int ty = snap_start(map_y(g, g->y.minor[i]), lw);
        cv_rect(c, NULL, leftof - tick_len * 0.55, ty, leftof, ty + lw, g->th->frame, 1);
    }
    /* axis labels and title */
    const kiln_plot *p = g->p;
    double th = text_height(&g->f, g->fs_tick);
    if (has_text(p->xlabel))
        text_draw(c, &g->f, g->fs_label, p->xlabel, (a.x0 + a.x1) / 2.0, below + tick_len + tick_gap + th + 4 * s,
                  TA_CENTER, TV_TOP, 0, g->th->text);
    if (has_text(p->ylabel))
        text_draw(c, &g->f, g->fs_label, p->ylabel, 8 * s, (a.y0 + a.y1) / 2.0, TA_LEFT, TV_MIDDLE, 1, g->th->text);
    for (int k = 0; k < g->ntl; k++) {
        const char *tline = g->tl[k];
        double tw = text_width(&g->f, g->fs_title, tline);
        double cx = (a.x0 + a.x1) / 2.0, pad = 8 * s;
        if (cx + tw / 2 > c->w - pad) cx = c->w - pad - tw / 2;
        if (cx - tw / 2 < pad) cx = pad + tw / 2;
        text_draw(c, &g->f, g->fs_title, tline, cx, pad + k * text_height(&g->f, g->fs_title), TA_CENTER, TV_TOP, 0,
                  g->th->text);
    }
}

static void dash_of(int style, double w, double *on, double *off)
{
    /* lengths between cap centres: round caps add w to every dash */
    switch (style) {
    case KILN_LINE_DASHED: *on = fmax(3.7 * w - w, 0.5 * w); *off = 1.6 * w + w; break;
    case KILN_LINE_DOTTED: *on = 0; *off = 2.2 * w; break;
    default: *on = *off = 0; break;
    }
}

static double series_width(const kiln_series *s)
{
    double w = s->width;
    if (!(w > 0) || !isfinite(w)) w = 1.5;
    return w > 50 ? 50 : w;
}

static void draw_series(fig *g, const kiln_series *se, uint32_t rgb)
{
    double s = g->s, w = series_width(se) * s, hw = w / 2;
    double on, off;
    dash_of(se->style, w, &on, &off);
    stroker st;
    stroke_init(&st, &g->m, hw, on, off);
    int draw_line = se->style != KILN_LINE_NONE;
    double mr = fmax(3.2 * s, w * 1.2);
    int prev = 0;       /* previous point was drawable */
    double px = 0, py = 0;
    int run = 0;        /* points in the current unbroken run */
    for (size_t i = 0; i <= se->n; i++) {
        int ok = 0, diverged = 0;
        double qx = 0, qy = 0;
        if (i < se->n) {
            double x = xval(se, i), y = se->y[i];
            if (!usable(x) || !usable(y)) diverged = 1;
            else if (!((g->x.log && x <= 0) || (g->y.log && y <= 0))) {
                qx = map_x(g, x);
                qy = map_y(g, y);
                ok = isfinite(qx) && isfinite(qy);
            }
        }
        if (!ok) {
            /* the run ends: a lone point becomes a dot; divergence is marked */
            if (prev && run == 1 && (se->marker == KILN_MARKER_NONE || !draw_line))
                mask_marker(&g->m, KILN_MARKER_CIRCLE, px, py, fmax(hw * 1.4, 2.5 * s));
            if (prev && diverged) {
                /* a point of divergence off the axes is marked at its edge */
                double r = 4.5 * s, mw = fmax(0.9 * s, hw * 0.8);
                double e = r + mw + 1;
                px = fmin(fmax(px, g->area.x0 + e), g->area.x1 - e);
                py = fmin(fmax(py, g->area.y0 + e), g->area.y1 - e);
                mask_capsule(&g->m, px - r, py - r, px + r, py + r, mw);
                mask_capsule(&g->m, px - r, py + r, px + r, py - r, mw);
            }
            prev = 0;
            run = 0;
            continue;
        }
        if (draw_line) {
            if (prev) stroke_line(&st, qx, qy);
            else stroke_move(&st, qx, qy);
        }
        if (se->marker != KILN_MARKER_NONE) mask_marker(&g->m, se->marker, qx, qy, mr);
        prev = 1;
        run++;
        px = qx;
        py = qy;
    }
    mask_composite(&g->m, &g->c, rgb, g->ink);
}

static int legend_entries(const kiln_plot *p)
{
    int n = 0;
    for (size_t i = 0; i < p->n_series; i++) n += has_text(p->series[i].label);
    return n;
}

static long ink_in(const fig *g, double x0, double y0, double x1, double y1)
{
    kiln_rect a = g->area;
    int ix0 = clampi((int)floor(x0) - a.x0, 0, a.x1 - a.x0), ix1 = clampi((int)ceil(x1) - a.x0, 0, a.x1 - a.x0);
    int iy0 = clampi((int)floor(y0) - a.y0, 0, a.y1 - a.y0), iy1 = clampi((int)ceil(y1) - a.y0, 0, a.y1 - a.y0);
    long n = 0;
    int w = a.x1 - a.x0;
    for (int y = iy0; y < iy1; y++)
        for (int x = ix0; x < ix1; x++) n += g->ink[(size_t)y * w + x];
    return n;
}

/* The legend's metrics: a row's height, one entry's width (the widest) and
 * the parts of an entry. */
typedef struct legend_dims {
    double row, pin, sw, gap, w;
} legend_dims;

static legend_dims legend_measure(fig *g)
{
    const kiln_plot *p = g->p;
    double s = g->s, fs = g->fs_legend;
    legend_dims d = {text_height(&g->f, fs) + 2 * s, 7 * s, 26 * s, 7 * s, 0};
    double tw = 0;
    for (size_t i = 0; i < p->n_series; i++)
        if (has_text(p->series[i].label)) tw = fmax(tw, text_width(&g->f, fs, p->series[i].label));
    d.w = d.pin + d.sw + d.gap + tw + d.pin;
    return d;
}

/* KILN_LEGEND_BELOW: as many columns as fit the width, rows filled left to
 * right; sets g->below_cols and g->below_h (0 without a legend) */
static void legend_below_size(fig *g)
{
    int n = legend_entries(g->p);
    g->below_h = 0;
    g->below_cols = 1;
    if (n == 0 || g->p->legend != KILN_LEGEND_BELOW) return;
    legend_dims d = legend_measure(g);
    int cols = (int)((g->c.w - 8 * g->s) / d.w);
    if (cols < 1) cols = 1;
    if (cols > n) cols = n;
    int rows = (n + cols - 1) / cols;
    g->below_cols = cols;
    g->below_h = ceil(rows * d.row + 10 * g->s);
}

static int draw_legend(fig *g, kiln_rect *out)
{
    const kiln_plot *p = g->p;
    *out = (kiln_rect){0, 0, 0, 0};
    int n = legend_entries(p);
    if (n == 0 || p->legend < 0) return 0;
    double s = g->s, fs = g->fs_legend;
    legend_dims d = legend_measure(g);
    double row = d.row, pin = d.pin, sw = d.sw, gap = d.gap, w = d.w, h = 2 * (5 * s) + n * row;
    int cols = 1;
    double x0, y0;
    if (p->legend == KILN_LEGEND_BELOW) {
        cols = g->below_cols;
        h = g->below_h;
        x0 = floor(fmax(0, (g->c.w - cols * w) / 2));
        y0 = floor(g->c.h - g->below_h);
    } else {
        /* candidates, in matplotlib's order of preference */
        kiln_rect a = g->area;
        double m = 8 * s, L = a.x0 + m, R = a.x1 - m - w, T = a.y0 + m, B = a.y1 - m - h;
        double CX = (a.x0 + a.x1 - w) / 2, CY = (a.y0 + a.y1 - h) / 2;
        double cand[9][2] = {{R, T}, {L, T}, {L, B}, {R, B}, {R, CY}, {L, CY}, {CX, B}, {CX, T}, {CX, CY}};
        int best = 0;
        long best_ink = -1;
        for (int i = 0; i < 9; i++) {
            long k = ink_in(g, cand[i][0] - 2 * s, cand[i][1] - 2 * s, cand[i][0] + w + 2 * s, cand[i][1] + h + 2 * s);
            if (best_ink < 0 || k < best_ink) {
                best_ink = k;
                best = i;
            }
        }
        x0 = floor(cand[best][0]);
        y0 = floor(cand[best][1]);
        double lw = fmax(1, lrint(0.8 * s));
        cv_round_rect(&g->c, x0, y0, x0 + ceil(w), y0 + ceil(h), 3 * s, g->th->bg, 0.88, g->th->legend_edge, lw);
    }
    double bw = ceil(cols * w);
    kiln_rect lr = {clampi((int)x0, 0, g->c.w), clampi((int)y0, 0, g->c.h), clampi((int)(x0 + bw), 0, g->c.w),
                    clampi((int)(y0 + ceil(h)), 0, g->c.h)};
    *out = lr;
    mask lm;
    if (lr.x1 <= lr.x0 || lr.y1 <= lr.y0) return 0; /* off the canvas (type too large for it) */
    if (mask_init(&lm, lr)) return -1;
    int row_i = 0;
    for (size_t i = 0; i < p->n_series; i++) {
        const kiln_series *se = &p->series[i];
        if (!has_text(se->label)) continue;
        uint32_t rgb = series_color(p, se->color, i);
        double cy = y0 + 5 * s + (row_i / cols) * row + row / 2;
        double lwid = series_width(se) * s, on, off;
        dash_of(se->style, lwid, &on, &off);
        double sx0 = x0 + (row_i % cols) * w + pin, sx1 = sx0 + sw;
        if (se->style != KILN_LINE_NONE) {
            stroker st;
            stroke_init(&st, &lm, lwid / 2, on, off);
            stroke_move(&st, sx0 + lwid / 2, cy);
            stroke_line(&st, sx1 - lwid / 2, cy);
        }
        if (se->marker != KILN_MARKER_NONE) mask_marker(&lm, se->marker, (sx0 + sx1) / 2, cy, fmax(3.2 * s, lwid * 1.2));
        mask_composite(&lm, &g->c, rgb, NULL);
        text_draw(&g->c, &g->f, fs, se->label, sx1 + gap, cy, TA_LEFT, TV_MIDDLE, 0, g->th->text);
        row_i++;
    }
    mask_free(&lm);
    return 0;
}

int kiln_plot_render(const kiln_plot *p, kiln_image *img, char *err, size_t errlen)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!img) {
        snprintf(err, errlen, "plot: no image to render into");
        return -1;
    }
    memset(img, 0, sizeof *img);
    if (!p) {
        snprintf(err, errlen, "plot: no plot given");
        return -1;
    }
    int width = p->width ? p->width : 640, height = p->height ? p->height : 400;
    double scale = p->scale == 0 ? 2 : p->scale;
    if (width < 32 || width > 8192 || height < 32 || height > 8192) {
        snprintf(err, errlen, "plot: size %d x %d is out of range (32..8192 logical px each)", width, height);
        return -1;
    }
    if (!(scale >= 0.25 && scale <= 8) || lrint(width * scale) > 16384 || lrint(height * scale) > 16384) {
        snprintf(err, errlen, "plot: scale %g is out of range (0.25..8, at most 16384 px a side)", scale);
        return -1;
    }
    double ts = p->text_scale == 0 ? 1 : p->text_scale;
    if (!(ts >= 0.5 && ts <= 4)) {
        snprintf(err, errlen, "plot: text_scale %g is out of range (0.5..4)", p->text_scale);
        return -1;
    }
    if (p->theme != KILN_THEME_LIGHT && p->theme != KILN_THEME_DARK) {
        snprintf(err, errlen, "plot: theme %d is not a kiln_theme (0 light, 1 dark)", p->theme);
        return -1;
    }
    if (p->n_series && !p->series) {
        snprintf(err, errlen, "plot: n_series is %zu but series is NULL", p->n_series);
        return -1;
    }
    for (size_t i = 0; i < p->n_series; i++)
        if (p->series[i].n && !p->series[i].y) {
            snprintf(err, errlen, "plot: series %zu has n = %zu but y is NULL", i, p->series[i].n);
            return -1;
        }
    fig g;
    memset(&g, 0, sizeof g);
    g.p = p;
    g.s = scale;
    if (font_open(&g.f, p->font_path, err, errlen)) return -1;
    g.th = &themes[theme_index(p->theme)];
    g.fs_tick = 11.5 * scale * ts;
    g.fs_label = 12.5 * scale * ts;
    g.fs_title = 14.5 * scale * ts;
    g.fs_legend = 11.5 * scale * ts;
    g.c.w = (int)lrint(width * scale);
    legend_below_size(&g);
    if (g.below_h > 16384 - lrint(height * scale)) g.below_h = 16384 - lrint(height * scale);
    g.c.h = (int)lrint(height * scale + g.below_h);
    g.c.px = malloc((size_t)g.c.w * g.c.h * 3);
    if (!g.c.px) {
        font_close(&g.f);
        snprintf(err, errlen, "plot: out of memory");
        return -1;
    }
    g.x.log = p->xlog != 0;
    g.x.integer = p->xinteger != 0;
    g.y.log = p->ylog != 0;
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    int have = data_extent(p, &g.x, &g.y, &x0, &x1, &y0, &y1);
    resolve_range(&g.x, p->xmin, p->xmax, have, x0, x1);
    resolve_range(&g.y, p->ymin, p->ymax, have, y0, y1);
    cv_fill(&g.c, g.th->bg);
    layout(&g);
    int rc = 0;
    size_t an = (size_t)(g.area.x1 - g.area.x0) * (size_t)(g.area.y1 - g.area.y0);
    g.ink = calloc(an ? an : 1, 1);
    if (!g.ink || mask_init(&g.m, g.area)) {
        rc = -1;
    } else {
        draw_axes(&g);
        for (size_t i = 0; i < p->n_series; i++)
            if (p->series[i].n) draw_series(&g, &p->series[i], series_color(p, p->series[i].color, i));
        draw_frame(&g);
        if (draw_legend(&g, &img->legend)) rc = -1;
    }
    mask_free(&g.m);
    free(g.ink);
    font_close(&g.f);
    if (rc) {
        free(g.c.px);
        memset(img, 0, sizeof *img);
        snprintf(err, errlen, "plot: out of memory");
        return -1;
    }
    img->width = g.c.w;
    img->height = g.c.h;
    img->rgb = g.c.px;
    img->dpi = 96 * scale;
    img->area = g.area;
    img->xlog = g.x.log;
    img->n_xticks = g.x.nt < KILN_IMAGE_TICKS ? g.x.nt : KILN_IMAGE_TICKS;
    for (int i = 0; i < img->n_xticks; i++) img->xticks[i] = g.x.t[i];
    img->ylog = g.y.log;
    img->xmin = g.x.log ? pow(10, g.x.lo) : g.x.lo;
    img->xmax = g.x.log ? pow(10, g.x.hi) : g.x.hi;
    img->ymin = g.y.log ? pow(10, g.y.lo) : g.y.lo;
    img->ymax = g.y.log ? pow(10, g.y.hi) : g.y.hi;
    return 0;
}

void kiln_image_free(kiln_image *img)
{
    if (!img) return;
    free(img->rgb);
    memset(img, 0, sizeof *img);
}

int kiln_image_map(const kiln_image *img, double x, double y, double *px, double *py)
{
    if (!img || !usable(x) || !usable(y) || (img->xlog && x <= 0) || (img->ylog && y <= 0)) return 0;
    double xl = img->xlog ? log10(img->xmin) : img->xmin, xh = img->xlog ? log10(img->xmax) : img->xmax;
    double yl = img->ylog ? log10(img->ymin) : img->ymin, yh = img->ylog ? log10(img->ymax) : img->ymax;
    double tx = img->xlog ? log10(x) : x, ty = img->ylog ? log10(y) : y;
    if (px) *px = img->area.x0 + (tx - xl) / (xh - xl) * (img->area.x1 - img->area.x0);
    if (py) *py = img->area.y1 - (ty - yl) / (yh - yl) * (img->area.y1 - img->area.y0);
    return 1;
}

int kiln_image_png(const kiln_image *img, const char *provenance, const char *title, unsigned char **buf,
                   size_t *len, char *err, size_t errlen)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!img || !img->rgb || !buf || !len) {
        snprintf(err, errlen, "plot: nothing to encode");
        return -1;
    }
    return png_encode_rgb(img->rgb, img->width, img->height, img->dpi, provenance, title, buf, len, err, errlen);
}

int kiln_plot_render_png_mem(const kiln_plot *p, unsigned char **buf, size_t *len, char *err, size_t errlen)
{
    kiln_image img;
    if (kiln_plot_render(p, &img, err, errlen)) return -1;
    int rc = kiln_image_png(&img, p->provenance, p->title, buf, len, err, errlen);
    kiln_image_free(&img);
    return rc;
}

int kiln_plot_render_png(const kiln_plot *p, const char *path, char *err, size_t errlen)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!path || !*path) {
        snprintf(err, errlen, "plot: no output path");
        return -1;
    }
    unsigned char *buf;
    size_t len;
    if (kiln_plot_render_png_mem(p, &buf, &len, err, errlen)) return -1;
    int rc = kr_write_atomic(path, buf, len);
    if (rc) snprintf(err, errlen, "plot: cannot write %s: %s", path, strerror(errno));
    free(buf);
    return rc;
}
