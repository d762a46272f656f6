/* The rasterizer: coverage from exact distances to segments and shapes.
 *
 * A line is a union of capsules (segment + disc), which gives round joins and
 * round caps for free. A pixel's coverage is 1 - (distance from its centre to
 * the shape's edge + 0.5), clamped: the classic one-pixel-wide signed
 * distance ramp, which matches area coverage closely for straight edges and
 * curves wider than a pixel. Shapes of one series go into a mask with max()
 * so overlaps never darken, and the mask is composited once. */
#include "plot_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cv_fill(canvas *c, uint32_t rgb)
{
    unsigned char r = (unsigned char)(rgb >> 16), g = (unsigned char)(rgb >> 8), b = (unsigned char)rgb;
    size_t n = (size_t)c->w * (size_t)c->h;
    if (r == g && g == b) {
        memset(c->px, r, n * 3);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        c->px[3 * i] = r;
        c->px[3 * i + 1] = g;
        c->px[3 * i + 2] = b;
    }
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

void cv_rect(canvas *c, const kiln_rect *clip, double x0, double y0, double x1, double y1,
             uint32_t rgb, double alpha)
{
    kiln_rect k = clip ? *clip : (kiln_rect){0, 0, c->w, c->h};
    if (k.x0 < 0) k.x0 = 0;
    if (k.y0 < 0) k.y0 = 0;
    if (k.x1 > c->w) k.x1 = c->w;
    if (k.y1 > c->h) k.y1 = c->h;
    if (!(x0 < x1) || !(y0 < y1)) return;
    x0 = clampd(x0, k.x0, k.x1);
    x1 = clampd(x1, k.x0, k.x1);
    y0 = clampd(y0, k.y0, k.y1);
    y1 = clampd(y1, k.y0, k.y1);
    if (!(x0 < x1) || !(y0 < y1)) return;
    int ix0 = (int)floor(x0), ix1 = (int)ceil(x1), iy0 = (int)floor(y0), iy1 = (int)ceil(y1);
    for (int y = iy0; y < iy1; y++) {
        double cy = fmin(y + 1.0, y1) - fmax((double)y, y0);
        for (int x = ix0; x < ix1; x++) {
            double cx = fmin(x + 1.0, x1) - fmax((double)x, x0);
            double a = cx * cy * alpha;
            if (a <= 0) continue;
            unsigned ia = (unsigned)lrint(clampd(a, 0, 1) * 255.0);
            if (ia) cv_blend(c->px + ((size_t)y * c->w + x) * 3, rgb, ia);
        }
    }
}

/* Signed distance to a rounded box centred at (cx, cy), half sizes hx, hy. */
static double sd_round_box(double px, double py, double cx, double cy, double hx, double hy, double r)
{
    double qx = fabs(px - cx) - hx + r, qy = fabs(py - cy) - hy + r;
    double ox = fmax(qx, 0), oy = fmax(qy, 0);
    return sqrt(ox * ox + oy * oy) + fmin(fmax(qx, qy), 0) - r;
}

void cv_round_rect(canvas *c, double x0, double y0, double x1, double y1, double radius,
                   uint32_t fill, double fill_alpha, uint32_t edge, double lw)
{
    if (!(x0 < x1) || !(y0 < y1)) return;
    double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, hx = (x1 - x0) / 2, hy = (y1 - y0) / 2;
    radius = fmin(radius, fmin(hx, hy));
    int ix0 = (int)floor(fmax(x0 - 1, 0)), ix1 = (int)ceil(fmin(x1 + 1, c->w));
    int iy0 = (int)floor(fmax(y0 - 1, 0)), iy1 = (int)ceil(fmin(y1 + 1, c->h));
    for (int y = iy0; y < iy1; y++)
        for (int x = ix0; x < ix1; x++) {
            double d = sd_round_box(x + 0.5, y + 0.5, cx, cy, hx, hy, radius);
            unsigned char *p = c->px + ((size_t)y * c->w + x) * 3;
            double inside = clampd(0.5 - d, 0, 1);
            if (inside > 0 && fill_alpha > 0)
                cv_blend(p, fill, (unsigned)lrint(inside * fill_alpha * 255));
            if (lw > 0) {
                /* the edge: a band of width lw just inside the boundary */
                double e = clampd(0.5 - fabs(d + lw / 2) + lw / 2, 0, 1);
                if (e > 0) cv_blend(p, edge, (unsigned)lrint(e * 255));
            }
        }
}

int mask_init(mask *m, kiln_rect r)
{
    memset(m, 0, sizeof *m);
    m->r = r;
    m->w = r.x1 > r.x0 ? r.x1 - r.x0 : 0;
    m->h = r.y1 > r.y0 ? r.y1 - r.y0 : 0;
    size_t n = (size_t)m->w * (size_t)m->h;
    m->a = calloc(n ? n : 1, 1);
    m->dx0 = m->w;
    m->dy0 = m->h;
    return m->a ? 0 : -1;
}

void mask_free(mask *m)
{
    free(m->a);
    m->a = NULL;
}

void mask_clear(mask *m)
{
    if (m->dx0 < m->dx1)
        for (int y = m->dy0; y < m->dy1; y++)
            memset(m->a + (size_t)y * m->w + m->dx0, 0, (size_t)(m->dx1 - m->dx0));
    m->dx0 = m->w;
    m->dy0 = m->h;
    m->dx1 = m->dy1 = 0;
}

static inline void mask_put(mask *m, int x, int y, double cov)
{
    if (cov <= 0) return;
    unsigned v = cov >= 1 ? 255u : (unsigned)(cov * 255.0 + 0.5);
    unsigned char *p = m->a + (size_t)y * m->w + x;
    if (v > *p) *p = (unsigned char)v;
}

static void mask_dirty(mask *m, int x0, int y0, int x1, int y1)
{
    if (x0 < m->dx0) m->dx0 = x0;
    if (y0 < m->dy0) m->dy0 = y0;
    if (x1 > m->dx1) m->dx1 = x1;
    if (y1 > m->dy1) m->dy1 = y1;
}

void mask_capsule(mask *m, double ax, double ay, double bx, double by, double hw)
{
    if (!(isfinite(ax) && isfinite(ay) && isfinite(bx) && isfinite(by) && hw > 0)) return;
    /* lines thinner than a pixel: draw a pixel wide, fainter */
    double alpha = 1;
    if (hw < 0.5) {
        alpha = hw * 2;
        hw = 0.5;
    }
    double r = hw + 0.5;
    /* mask coordinates */
    ax -= m->r.x0;
    bx -= m->r.x0;
    ay -= m->r.y0;
    by -= m->r.y0;
    double lo_y = fmin(ay, by) - r, hi_y = fmax(ay, by) + r;
    if (hi_y < 0 || lo_y > m->h || fmax(ax, bx) + r < 0 || fmin(ax, bx) - r > m->w) return;
    int y0 = (int)floor(fmax(lo_y, 0)), y1 = (int)ceil(fmin(hi_y, m->h));
    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    double inv = l2 > 1e-18 ? 1 / l2 : 0;
    int bx0 = m->w, bx1 = 0;
    for (int y = y0; y < y1; y++) {
        double yc = y + 0.5, xs, xe;
        if (fabs(dy) < 1e-9) {
            if (fabs(yc - ay) > r) continue;
            xs = fmin(ax, bx) - r;
            xe = fmax(ax, bx) + r;
        } else {
            double t0 = (yc - r - ay) / dy, t1 = (yc + r - ay) / dy;
            if (t0 > t1) { double t = t0; t0 = t1; t1 = t; }
            if (t0 < 0) t0 = 0;
            if (t1 > 1) t1 = 1;
            if (t0 > t1) continue;
            double xa = ax + t0 * dx, xb = ax + t1 * dx;
            xs = fmin(xa, xb) - r;
            xe = fmax(xa, xb) + r;
        }
        xs = clampd(xs, 0, m->w);
        xe = clampd(xe, 0, m->w);
        int x0 = (int)floor(xs), x1 = (int)ceil(xe);
        if (x0 >= x1) continue;
        if (x0 < bx0) bx0 = x0;
        if (x1 > bx1) bx1 = x1;
        for (int x = x0; x < x1; x++) {
            double px = x + 0.5 - ax, py = yc - ay;
            double t = (px * dx + py * dy) * inv;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double ex = px - t * dx, ey = py - t * dy;
            double d2 = ex * ex + ey * ey;
            if (d2 >= r * r) continue;
            double cov = r - sqrt(d2);
            mask_put(m, x, y, (cov > 1 ? 1 : cov) * alpha);
        }
    }
    if (bx0 < bx1) mask_dirty(m, bx0, y0, bx1, y1);
}

void mask_marker(mask *m, int shape, double cx, double cy, double r)
{
    if (!(isfinite(cx) && isfinite(cy) && r > 0)) return;
    cx -= m->r.x0;
    cy -= m->r.y0;
    double ext = r * 1.5 + 1;
    if (cx + ext < 0 || cx - ext > m->w || cy + ext < 0 || cy - ext > m->h) return;
    int x0 = (int)floor(fmax(cx - ext, 0)), x1 = (int)ceil(fmin(cx + ext, m->w));
    int y0 = (int)floor(fmax(cy - ext, 0)), y1 = (int)ceil(fmin(cy + ext, m->h));
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            double px = x + 0.5 - cx, py = y + 0.5 - cy, d;
            switch (shape) {
            case KILN_MARKER_SQUARE: d = fmax(fabs(px), fabs(py)) - r * 0.85; break;
            case KILN_MARKER_DIAMOND: d = (fabs(px) + fabs(py)) * 0.70710678 - r * 0.8; break;
            case KILN_MARKER_TRIANGLE: {
                /* upward triangle, circumradius about 1.2 r, centred */
                double R = r * 1.25, s = 0.5, c = 0.8660254;
                double d1 = py - R * s;              /* bottom edge */
                double d2 = -py * s + px * c - R * s; /* right edge */
                double d3 = -py * s - px * c - R * s; /* left edge */
                d = fmax(d1, fmax(d2, d3));
                break;
            }
            default: d = sqrt(px * px + py * py) - r; break;
            }
            double cov = 0.5 - d;
            if (cov > 0) mask_put(m, x, y, cov);
        }
    if (x0 < x1 && y0 < y1) mask_dirty(m, x0, y0, x1, y1);
}

void mask_composite(mask *m, canvas *c, uint32_t rgb, unsigned char *ink)
{
    for (int y = m->dy0; y < m->dy1; y++) {
        unsigned char *row = m->a + (size_t)y * m->w;
        int cyy = y + m->r.y0;
        if (cyy < 0 || cyy >= c->h) continue;
        for (int x = m->dx0; x < m->dx1; x++) {
            unsigned a = row[x];
            if (!a) continue;
            int cxx = x + m->r.x0;
            if (cxx < 0 || cxx >= c->w) continue;
            cv_blend(c->px + ((size_t)cyy * c->w + cxx) * 3, rgb, a);
            if (ink && a >= 64) ink[(size_t)y * m->w + x] = 1;
        }
    }
    mask_clear(m);
}

/* ---- strokes -------------------------------------------------------------- */

void stroke_init(stroker *s, mask *m, double hw, double on, double off)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    s->hw = hw;
    s->on = on;
    s->on = on > 0.01 ? on : 0.01; /* a dot still has a length */
    s->off = off > 0 ? off : 0;
}

void stroke_move(stroker *s, double x, double y)
{
    s->x = x;
    s->y = y;
    s->have = 1;
    s->phase = 0;
}

/* Liang-Barsky: clip a + t (b - a), t in [0, 1], to the box; 0 if outside. */
static int clip_segment(double ax, double ay, double bx, double by, double x0, double y0,
                        double x1, double y1, double *t0, double *t1)
{
    double dx = bx - ax, dy = by - ay, p[4] = {-dx, dx, -dy, dy};
    double q[4] = {ax - x0, x1 - ax, ay - y0, y1 - ay};
    double lo = 0, hi = 1;
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0) return 0;
        } else {
            double t = q[i] / p[i];
            if (p[i] < 0) {
                if (t > lo) lo = t;
            } else if (t < hi) {
                hi = t;
            }
        }
    }
    if (!(lo <= hi)) return 0;
    *t0 = lo;
    *t1 = hi;
    return 1;
}

void stroke_line(stroker *s, double x, double y)
{
    if (!s->have) {
        stroke_move(s, x, y);
        return;
    }
    double ax = s->x, ay = s->y, bx = x, by = y;
    s->x = x;
    s->y = y;
    double dx = bx - ax, dy = by - ay, len = sqrt(dx * dx + dy * dy);
    double period = s->on + s->off;
    if (!isfinite(len)) return;
    double g = s->hw + 2;
    double X0 = s->m->r.x0 - g, Y0 = s->m->r.y0 - g, X1 = s->m->r.x1 + g, Y1 = s->m->r.y1 + g;
    double t0, t1;
    int vis = clip_segment(ax, ay, bx, by, X0, Y0, X1, Y1, &t0, &t1);
    if (vis) {
        /* endpoints of the visible part, kept inside the guard box */
        double px0 = clampd(ax + t0 * dx, X0, X1), py0 = clampd(ay + t0 * dy, Y0, Y1);
        double px1 = clampd(ax + t1 * dx, X0, X1), py1 = clampd(ay + t1 * dy, Y0, Y1);
        if (s->off <= 0) {
            mask_capsule(s->m, px0, py0, px1, py1, s->hw);
        } else {
            double vx = px1 - px0, vy = py1 - py0, vl = sqrt(vx * vx + vy * vy);
            double p = fmod(s->phase + t0 * len, period);
            if (!(p >= 0)) p = 0;
            double u = 0;
            if (vl <= 0) {
                if (p < s->on) mask_capsule(s->m, px0, py0, px1, py1, s->hw);
            } else {
                vx /= vl;
                vy /= vl;
                while (u < vl) {
                    if (p < s->on) {
                        double e = fmin(vl, u + (s->on - p));
                        mask_capsule(s->m, px0 + u * vx, py0 + u * vy, px0 + e * vx, py0 + e * vy,
                                     s->hw);
                        if (e >= vl) break;
                        u = e;
                        p = s->on;
                    } else {
                        u += period - p;
                        p = 0;
                    }
                }
            }
        }
    }
    if (period > 0) s->phase = fmod(s->phase + len, period);
}
