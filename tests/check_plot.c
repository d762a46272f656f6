/* Tests of the plot module: ticks and labels, pixels of rendered figures, PNG
 * files read back with libpng, messy data, and a seeded fuzz loop (run it
 * under `make asan` too). Set KILN_PLOT_GALLERY=/some/dir to also write the
 * article's figure types there for a look. */
#include "testutil.h"

#include "kiln/plot.h"

#include <float.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------- */

static void render(const kiln_plot *p, kiln_image *img)
{
    char err[256] = "";
    int rc = kiln_plot_render(p, img, err, sizeof err);
    ck_assert_msg(rc == 0, "render failed: %s", err);
    ck_assert_ptr_nonnull(img->rgb);
}

static const unsigned char *pix(const kiln_image *img, int x, int y)
{
    return img->rgb + ((size_t)y * img->width + x) * 3;
}

static int near_rgb(const unsigned char *p, uint32_t rgb, int tol)
{
    return abs(p[0] - (int)(rgb >> 16 & 255)) <= tol && abs(p[1] - (int)(rgb >> 8 & 255)) <= tol &&
           abs(p[2] - (int)(rgb & 255)) <= tol;
}

/* Strongly magenta pixels: only the test series is drawn in this hue
 * (text, frame and grid are grey). */
#define MAGENTA KILN_RGB(220, 0, 200)
static int magentaish(const unsigned char *p) { return p[0] > p[1] + 40 && p[2] > p[1] + 40; }

static double seg_dist(double px, double py, double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double ex = px - ax - t * dx, ey = py - ay - t * dy;
    return sqrt(ex * ex + ey * ey);
}

static int count_magenta(const kiln_image *img, kiln_rect r)
{
    int n = 0;
    for (int y = r.y0 < 0 ? 0 : r.y0; y < r.y1 && y < img->height; y++)
        for (int x = r.x0 < 0 ? 0 : r.x0; x < r.x1 && x < img->width; x++) n += magentaish(pix(img, x, y));
    return n;
}

/* ---- ticks and labels ------------------------------------------------------------ */

static int nice_step(double step)
{
    double e = floor(log10(step)), m = step / pow(10, e);
    return fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 2.5) < 1e-6 || fabs(m - 5) < 1e-6 ||
           fabs(m - 10) < 1e-6;
}

/* Properties every linear tick set must have. */
static void check_linear(double lo, double hi, int maxn)
{
    double t[128];
    int n = kiln_ticks(lo, hi, maxn, 0, t, 128);
    double a = fmin(lo, hi), b = fmax(lo, hi);
    ck_assert_msg(n >= 1 && n <= (maxn < 1 ? 1 : maxn), "[%g, %g] max %d: %d ticks", lo, hi, maxn, n);
    double tol = (b - a) * 1e-9 + fabs(b) * 1e-15;
    for (int i = 0; i < n; i++)
        ck_assert_msg(t[i] >= a - tol && t[i] <= b + tol, "[%g, %g]: tick %g outside", lo, hi, t[i]);
    for (int i = 1; i < n; i++) ck_assert_msg(t[i] > t[i - 1], "[%g, %g]: not increasing", lo, hi);
    if (n >= 2 && isfinite(t[1] - t[0])) { /* (not so near +-DBL_MAX) */
        double step = t[1] - t[0];
        ck_assert_msg(step > 0 && nice_step(step), "[%g, %g]: step %g is not nice", lo, hi, step);
        for (int i = 2; i < n; i++)
            ck_assert_msg(fabs(t[i] - t[i - 1] - step) <= step * 1e-6, "[%g, %g]: uneven ticks", lo, hi);
        /* labels are distinct */
        char l0[64], l1[64];
        for (int i = 1; i < n; i++) {
            kiln_tick_label(t[i - 1], step, 0, l0, sizeof l0);
            kiln_tick_label(t[i], step, 0, l1, sizeof l1);
            ck_assert_msg(strcmp(l0, l1) != 0, "[%g, %g]: duplicate label %s", lo, hi, l0);
        }
    }
    /* a real range with room for two ticks gets at least two */
    if (maxn >= 2 && b - a > fmax(fabs(a), fabs(b)) * 1e-9)
        ck_assert_msg(n >= 2, "[%g, %g] max %d: only %d tick", lo, hi, maxn, n);
}

START_TEST(test_ticks_exact)
{
    double t[32];
    int n = kiln_ticks(0, 1, 6, 0, t, 32);
    ck_assert_int_eq(n, 6);
    for (int i = 0; i < 6; i++) ck_assert_double_eq_tol(t[i], i * 0.2, 1e-12);
    n = kiln_ticks(-1.3, 26.3, 6, 0, t, 32);
    ck_assert_int_eq(n, 6);
    ck_assert_double_eq(t[0], 0);
    ck_assert_double_eq(t[5], 25);
    n = kiln_ticks(0, 0.1, 6, 0, t, 32); /* 0, 0.02, ... 0.1 */
    ck_assert_int_eq(n, 6);
    ck_assert_double_eq_tol(t[1], 0.02, 1e-15);
    /* zero width: one tick at the value */
    n = kiln_ticks(5, 5, 6, 0, t, 32);
    ck_assert_int_eq(n, 1);
    ck_assert_double_eq(t[0], 5);
    n = kiln_ticks(0, 0, 6, 0, t, 32);
    ck_assert_int_eq(n, 1);
    ck_assert_double_eq(t[0], 0);
    /* reversed */
    n = kiln_ticks(10, 0, 3, 0, t, 32);
    ck_assert_int_eq(n, 3);
    ck_assert_double_eq(t[0], 0);
    ck_assert_double_eq(t[2], 10);
    /* non-finite, bad log, no room */
    ck_assert_int_eq(kiln_ticks(NAN, 1, 5, 0, t, 32), 0);
    ck_assert_int_eq(kiln_ticks(0, INFINITY, 5, 0, t, 32), 0);
    ck_assert_int_eq(kiln_ticks(0, 10, 5, 1, t, 32), 0);
    ck_assert_int_eq(kiln_ticks(-1, 10, 5, 1, t, 32), 0);
    ck_assert_int_eq(kiln_ticks(0, 1, 5, 0, t, 0), 0);
    /* cap respected */
    n = kiln_ticks(0, 100, 50, 0, t, 4);
    ck_assert_int_eq(n, 4);
}
END_TEST

START_TEST(test_integer_x_ticks)
{
    /* two epochs: without xinteger the axis gets ticks like 1.2, 1.4, ... */
    double x[2] = {1, 2}, y[2] = {0.5, 0.3};
    kiln_series sr = {.label = "loss", .x = x, .y = y, .n = 2};
    for (int integer = 0; integer < 2; integer++) {
        kiln_plot p;
        kiln_plot_init(&p);
        p.series = &sr;
        p.n_series = 1;
        p.xinteger = integer;
        kiln_image img = {0};
        char err[256];
        ck_assert_int_eq(kiln_plot_render(&p, &img, err, sizeof err), 0);
        int fractional = 0;
        for (int i = 0; i < img.n_xticks; i++) fractional += img.xticks[i] != floor(img.xticks[i]);
        if (integer) {
            ck_assert_int_eq(fractional, 0);
            ck_assert_int_ge(img.n_xticks, 2);
        } else {
            ck_assert_int_gt(fractional, 0);
        }
        kiln_image_free(&img);
    }
}
END_TEST

START_TEST(test_ticks_many_ranges)
{
    static const double R[][2] = {
        {0, 1}, {0, 25}, {1, 25}, {-3.7, 12.2}, {-1, 1}, {-1e-3, 2e-3}, {1e-9, 3e-9}, {0.1, 0.1000001},
        {1, 1 + 1e-9}, {1e30, 5e38}, {-1e38, 1e38}, {-DBL_MAX, DBL_MAX}, {-5, -4.9}, {99.5, 100.5},
        {0, 1e-300}, {1e-320, 1e-310}, {123456789, 123456790}, {-0.0, 0.0}, {2.3, 0.05}, {0, 10000},
        {0.001, 0.1}, {-273.15, 1e4}, {1e-38, 1e38}, {7, 7}};
    for (size_t i = 0; i < sizeof R / sizeof R[0]; i++)
        for (int m = 1; m <= 12; m++) check_linear(R[i][0], R[i][1], m);
}
END_TEST

START_TEST(test_ticks_log)
{
    double t[64];
    /* 1e-8 .. 1e3: decades, thinned to fit */
    int n = kiln_ticks(1e-8, 1e3, 12, 1, t, 64);
    ck_assert_int_eq(n, 12);
    ck_assert_double_eq(t[0], 1e-8);
    ck_assert_double_eq(t[11], 1e3);
    n = kiln_ticks(1e-8, 1e3, 6, 1, t, 64);
    ck_assert(n >= 2 && n <= 6);
    for (int i = 0; i < n; i++) ck_assert_double_eq_tol(log10(t[i]), nearbyint(log10(t[i])), 1e-12);
    for (int i = 2; i < n; i++)
        ck_assert_double_eq_tol(log10(t[i]) - log10(t[i - 1]), log10(t[1]) - log10(t[0]), 1e-9);
    /* less than a decade: 1-2-5 or linear values, still inside */
    static const double R[][2] = {{0.3, 0.8}, {2, 3}, {1e-7, 1e1}, {0.05, 2.5}, {1e-300, 1e300},
                                  {5e-324, 1}, {1e-38, 1e38}, {3, 3}, {1, 1.0000001}};
    for (size_t i = 0; i < sizeof R / sizeof R[0]; i++)
        for (int m = 1; m <= 10; m++) {
            n = kiln_ticks(R[i][0], R[i][1], m, 1, t, 64);
            ck_assert_msg(n >= 1 && n <= m, "log [%g, %g] max %d: %d", R[i][0], R[i][1], m, n);
            for (int k = 0; k < n; k++) {
                ck_assert(t[k] > 0);
                ck_assert(t[k] >= R[i][0] * (1 - 1e-9) && t[k] <= R[i][1] * (1 + 1e-9));
                if (k) ck_assert(t[k] > t[k - 1]);
            }
        }
}
END_TEST

START_TEST(test_tick_labels)
{
    char b[64];
    kiln_tick_label(0.25, 0.25, 0, b, sizeof b);
    ck_assert_str_eq(b, "0.25");
    kiln_tick_label(0, 0.5, 0, b, sizeof b);
    ck_assert_str_eq(b, "0.0");
    kiln_tick_label(10, 5, 0, b, sizeof b);
    ck_assert_str_eq(b, "10");
    kiln_tick_label(-1.5, 0.5, 0, b, sizeof b);
    ck_assert_str_eq(b, "\u22121.5");
    kiln_tick_label(-2e-17, 0.1, 0, b, sizeof b); /* rounding noise is zero */
    ck_assert_str_eq(b, "0.0");
    kiln_tick_label(2e38, 1e38, 0, b, sizeof b);
    ck_assert_str_eq(b, "2e38");
    kiln_tick_label(1.5e38, 5e37, 0, b, sizeof b);
    ck_assert_str_eq(b, "1.5e38");
    kiln_tick_label(2.5e-6, 2.5e-6, 0, b, sizeof b);
    ck_assert_str_eq(b, "2.5e-6");
    kiln_tick_label(1e-8, 0, 1, b, sizeof b);
    ck_assert_str_eq(b, "10\u207b\u2078");
    kiln_tick_label(1000, 0, 1, b, sizeof b);
    ck_assert_str_eq(b, "10\u00b3");
    kiln_tick_label(1, 0, 1, b, sizeof b);
    ck_assert_str_eq(b, "10\u2070");
    kiln_tick_label(NAN, 1, 0, b, sizeof b);
    ck_assert_str_eq(b, "NaN");
    char tiny[3];
    kiln_tick_label(123456, 1, 0, tiny, sizeof tiny); /* truncates safely */
    ck_assert(strlen(tiny) < 3);
}
END_TEST

/* ---- rendered pixels ---------------------------------------------------------------- */

static double ep[25], tr[25], va[25];
static void loss_data(void)
{
    for (int i = 0; i < 25; i++) {
        ep[i] = i + 1;
        tr[i] = 2.0 * exp(-i / 3.0) + 0.04;
        va[i] = 1.9 * exp(-i / 3.5) + 0.09 + 0.004 * i * i / 25.0;
    }
}

START_TEST(test_axes_and_canvas)
{
    loss_data();
    kiln_series s[2] = {{.label = "training", .x = ep, .y = tr, .n = 25},
                        {.label = "validation", .x = ep, .y = va, .n = 25}};
    kiln_plot p;
    kiln_plot_init(&p);
    p.title = "Loss";
    p.xlabel = "epoch";
    p.ylabel = "loss";
    p.series = s;
    p.n_series = 2;
    kiln_image img;
    render(&p, &img);
    ck_assert_int_eq(img.width, 1280);
    ck_assert_int_eq(img.height, 800);
    ck_assert_double_eq(img.dpi, 192);
    kiln_rect a = img.area;
    ck_assert(a.x0 > 40 && a.x1 < img.width - 5 && a.y0 > 20 && a.y1 < img.height - 40);
    ck_assert(a.x1 - a.x0 > img.width * 3 / 4 && a.y1 - a.y0 > img.height * 3 / 4);
    /* the frame: 2 px dark lines centred on the area's edges */
    int my = (a.y0 + a.y1) / 2, mx = (a.x0 + a.x1) / 2;
    for (int d = -1; d <= 0; d++) {
        ck_assert(pix(&img, a.x0 + d, my)[0] < 100);
        ck_assert(pix(&img, a.x1 + d, my)[0] < 100);
        ck_assert(pix(&img, mx, a.y0 + d)[0] < 100);
        ck_assert(pix(&img, mx, a.y1 + d)[0] < 100);
    }
    /* and nothing dark just outside it, away from ticks */
    ck_assert(pix(&img, a.x0 - 4, my + 3)[0] > 200 || pix(&img, a.x0 - 4, my - 3)[0] > 200);
    /* auto range: padded, the data inside */
    ck_assert(img.xmin < 1 && img.xmax > 25 && img.ymin < 0.04 && img.ymax > 2.04);
    /* a margin of background all around: nothing runs off the canvas */
    for (int x = 0; x < img.width; x++)
        for (int k = 0; k < 3; k++) {
            ck_assert(near_rgb(pix(&img, x, k), 0xFFFFFF, 0));
            ck_assert(near_rgb(pix(&img, x, img.height - 1 - k), 0xFFFFFF, 0));
        }
    for (int y = 0; y < img.height; y++)
        for (int k = 0; k < 3; k++) {
            ck_assert(near_rgb(pix(&img, k, y), 0xFFFFFF, 0));
            ck_assert(near_rgb(pix(&img, img.width - 1 - k, y), 0xFFFFFF, 0));
        }
    /* text was drawn: the title band and the tick label band have dark pixels */
    int dark = 0;
    for (int y = 0; y < a.y0; y++)
        for (int x = 0; x < img.width; x++) dark += pix(&img, x, y)[0] < 128;
    ck_assert_int_gt(dark, 100);
    /* both series are drawn in palette colours 0 and 1 */
    double px, py;
    ck_assert(kiln_image_map(&img, 13, 2.0 * exp(-12 / 3.0) + 0.04, &px, &py));
    ck_assert(near_rgb(pix(&img, (int)px, (int)py), kiln_palette(0), 8));
    ck_assert(kiln_image_map(&img, 5, 1.9 * exp(-4 / 3.5) + 0.09 + 0.004 * 16 / 25.0, &px, &py));
    ck_assert(near_rgb(pix(&img, (int)px, (int)py), kiln_palette(1), 8));
    kiln_image_free(&img);
    kiln_image_free(&img); /* safe twice */
}
END_TEST

START_TEST(test_series_color_on_path_only)
{
    double x[6] = {0, 1, 2, 3, 4, 5}, y[6] = {0, 3, 1, 4, 2, 5};
    kiln_series s = {.x = x, .y = y, .n = 6, .color = MAGENTA, .width = 2};
    kiln_plot p;
    kiln_plot_init(&p);
    p.series = &s;
    p.n_series = 1;
    kiln_image img;
    render(&p, &img);
    ck_assert_int_eq(img.legend.x1, 0); /* no labels, no legend */
    double X[6], Y[6];
    for (int i = 0; i < 6; i++) ck_assert(kiln_image_map(&img, x[i], y[i], &X[i], &Y[i]));
    /* along the path: the exact colour at the line's centre */
    for (int i = 0; i < 5; i++)
        for (int k = 0; k <= 10; k++) {
            double t = k / 10.0, cx = X[i] + t * (X[i + 1] - X[i]), cy = Y[i] + t * (Y[i + 1] - Y[i]);
            ck_assert_msg(near_rgb(pix(&img, (int)cx, (int)cy), MAGENTA & 0xFFFFFF, 40), "segment %d t %g", i, t);
        }
    /* elsewhere: no trace of it farther than half the width + AA */
    double hw = 2 * 2 / 2.0;
    int n = 0;
    for (int yy = 0; yy < img.height; yy++)
        for (int xx = 0; xx < img.width; xx++) {
            if (!magentaish(pix(&img, xx, yy))) continue;
            n++;
            double d = 1e9;
            for (int i = 0; i < 5; i++) d = fmin(d, seg_dist(xx + 0.5, yy + 0.5, X[i], Y[i], X[i + 1], Y[i + 1]));
            ck_assert_msg(d <= hw + 1.0, "stray pixel at %d,%d (%.1f px from the path)", xx, yy, d);
        }
    ck_assert_int_gt(n, 1000);
    kiln_image_free(&img);
}
END_TEST

START_TEST(test_clipped_to_area)
{
    /* a fixed range much smaller than the data: nothing outside the area */
    double x[5] = {-10, 0, 5, 10, 20}, y[5] = {-100, 50, 0.5, -70, 1e30};
    kiln_series s = {.x = x, .y = y, .n = 5, .color = MAGENTA, .width = 6, .marker = KILN_MARKER_CIRCLE};
    kiln_plot p;
    kiln_plot_init(&p);
    p.xmin = 0;
    p.xmax = 10;
    p.ymin = 0;
    p.ymax = 1;
    p.series = &s;
    p.n_series = 1;
    kiln_image img;
    render(&p, &img);
    ck_assert_double_eq(img.xmin, 0);
    ck_assert_double_eq(img.xmax, 10);
    kiln_rect a = img.area;
    ck_assert_int_gt(count_magenta(&img, a), 100);
    ck_assert_int_eq(count_magenta(&img, (kiln_rect){0, 0, img.width, a.y0}), 0);
    ck_assert_int_eq(count_magenta(&img, (kiln_rect){0, a.y1, img.width, img.height}), 0);
    ck_assert_int_eq(count_magenta(&img, (kiln_rect){0, 0, a.x0, img.height}), 0);
    ck_assert_int_eq(count_magenta(&img, (kiln_rect){a.x1, 0, img.width, img.height}), 0);
    kiln_image_free(&img);
}
END_TEST

START_TEST(test_nan_gap_and_divergence_mark)
{
    double x[7] = {0, 1, 2, 3, 4, 5, 6}, y[7] = {1, 2, NAN, 4, 5, INFINITY, 3};
    kiln_series s = {.x = x, .y = y, .n = 7, .color = MAGENTA};
    kiln_plot p;
    kiln_plot_init(&p);
    p.series = &s;
    p.n_series = 1;
    kiln_image img;
    render(&p, &img);
    double px, py;
    /* the gap: around x = 2 no series pixels in the whole column band */
    ck_assert(kiln_image_map(&img, 2, 1, &px, NULL));
    ck_assert_int_eq(count_magenta(&img, (kiln_rect){(int)px - 30, img.area.y0, (int)px + 30, img.area.y1}), 0);
    /* the segment 3 -> 4 is drawn */
    ck_assert(kiln_image_map(&img, 3.5, 4.5, &px, &py));
    ck_assert(magentaish(pix(&img, (int)px, (int)py)));
    /* divergence marks: crosses at (1, 2) and (4, 5); the arms reach where
     * the line does not (up-right of (1, 2): the line arrives from down-left) */
    ck_assert(kiln_image_map(&img, 1, 2, &px, &py));
    ck_assert(magentaish(pix(&img, (int)px + 6, (int)py - 6)));
    ck_assert(magentaish(pix(&img, (int)px - 6, (int)py + 6)));
    ck_assert(magentaish(pix(&img, (int)px + 6, (int)py + 6)));
    ck_assert(kiln_image_map(&img, 4, 5, &px, &py));
    ck_assert(magentaish(pix(&img, (int)px + 6, (int)py - 6)));
    /* the lone point (6, 3) after the inf is a dot */
    ck_assert(kiln_image_map(&img, 6, 3, &px, &py));
    ck_assert(magentaish(pix(&img, (int)px, (int)py)));
    /* the range ignores the non-finite values */
    ck_assert(img.ymax < 6 && img.ymin > 0.5);
    kiln_image_free(&img);
}
END_TEST

START_TEST(test_dashed)
{
    double x[2] = {0, 1}, y[2] = {1, 1};
    kiln_series s = {.x = x, .y = y, .n = 2, .color = MAGENTA, .style = KILN_LINE_DASHED};
    kiln_plot p;
    kiln_plot_init(&p);
    p.series = &s;
    p.n_series = 1;
    kiln_image img;
    render(&p, &img);
    double x0, x1, py;
    kiln_image_map(&img, 0, 1, &x0, &py);
    kiln_image_map(&img, 1, 1, &x1, NULL);
    int on = 0, off = 0, runs = 0, prev = 0;
    for (int xx = (int)x0 + 1; xx < (int)x1 - 1; xx++) {
        int m = magentaish(pix(&img, xx, (int)py));
        on += m;
        off += !m;
        runs += m && !prev;
        prev = m;
    }
    ck_assert_int_gt(on, off);    /* dashes longer than the gaps */
    ck_assert_int_gt(off, 100);   /* but there are gaps */
    ck_assert_int_gt(runs, 40);   /* many dashes */
    kiln_image_free(&img);
}
END_TEST

/* The legend goes where the data is not. */
static void check_legend_free(const double *y1, const double *y2)
{
    kiln_series s[2] = {{.label = "first series", .x = ep, .y = y1, .n = 25, .color = MAGENTA},
                        {.label = "second", .x = ep, .y = y2, .n = 25, .color = MAGENTA}};
    kiln_plot p;
    kiln_plot_init(&p);
    p.series = s;
    p.n_series = 2;
    kiln_image with, without;
    render(&p, &with);
    p.legend = -1;
    render(&p, &without);
    kiln_rect L = with.legend, a = with.area;
    ck_assert_int_gt(L.x1, L.x0);
    ck_assert(L.x0 >= a.x0 && L.x1 <= a.x1 && L.y0 >= a.y0 && L.y1 <= a.y1);
    ck_assert_int_eq(without.legend.x1, 0);
    ck_assert_int_eq(count_magenta(&without, L), 0);
    /* the legend was drawn: its swatches are there */
    ck_assert_int_gt(count_magenta(&with, L), 20);
    kiln_image_free(&with);
    kiln_image_free(&without);
}

START_TEST(test_legend_placement)
{
    loss_data();
    check_legend_free(tr, va); /* decreasing: the upper right is free */
    double up1[25], up2[25], mid[25], mid2[25];
    for (int i = 0; i < 25; i++) {
        up1[i] = 1 - exp(-i / 3.0);
        up2[i] = 0.95 - exp(-i / 4.0);
        mid[i] = 0.5 + 0.05 * sin(i);
        mid2[i] = 0.55 + 0.05 * cos(i);
    }
    check_legend_free(up1, up2);   /* rising: upper left is taken, so is upper right */
    check_legend_free(mid, mid2);  /* a band across the middle */
}
END_TEST

START_TEST(test_log_axes_wide_range)
{
    double x[12], y[12];
    for (int i = 0; i < 12; i++) {
        x[i] = pow(10, -7 + i * 0.75);
        y[i] = pow(10, -8 + i);
    }
    kiln_series s = {.x = x, .y = y, .n = 12, .color = MAGENTA, .marker = KILN_MARKER_DIAMOND};
    kiln_plot p;
    kiln_plot_init(&p);
    p.xlog = p.ylog = 1;
    p.series = &s;
    p.n_series = 1;
    kiln_image img;
    render(&p, &img);
    ck_assert(img.ymin < 1e-8 && img.ymax > 1e3 && img.ymin > 1e-9);
    for (int i = 0; i < 12; i++) {
        double px, py;
        ck_assert(kiln_image_map(&img, x[i], y[i], &px, &py));
        ck_assert(px > img.area.x0 && px < img.area.x1 && py > img.area.y0 && py < img.area.y1);
        ck_assert(magentaish(pix(&img, (int)px, (int)py)));
    }
    /* a straight line in log-log: the midpoint of the first segment lies
     * on the line in log space */
    double mx, my;
    kiln_image_map(&img, sqrt(x[0] * x[1]), sqrt(y[0] * y[1]), &mx, &my);
    ck_assert(magentaish(pix(&img, (int)mx, (int)my)));
    kiln_image_free(&img);
    /* zero and negative values on a log axis: skipped, no crash */
    double yb[4] = {0, -1, 1e-3, 10};
    s.y = yb;
    s.x = NULL;
    s.n = 4;
    p.xlog = 0;
    render(&p, &img);
    kiln_image_free(&img);
}
END_TEST

START_TEST(test_degenerate_series)
{
    double c[5] = {3, 3, 3, 3, 3}, one = 0.5;
    kiln_series s = {.label = "x", .y = c, .n = 5, .color = MAGENTA};
    kiln_plot p;
    kiln_plot_init(&p);
    p.series = &s;
    p.n_series = 1;
    kiln_image img;
    double px, py;
    /* constant: a horizontal line in the middle */
    render(&p, &img);
    ck_assert(img.ymin < 3 && img.ymax > 3);
    kiln_image_map(&img, 2, 3, &px, &py);
    ck_assert(fabs(py - (img.area.y0 + img.area.y1) / 2.0) < 2);
    ck_assert(magentaish(pix(&img, (int)px, (int)py)));
    kiln_image_free(&img);
    /* one point: a dot in the middle */
    s.y = &one;
    s.n = 1;
    render(&p, &img);
    kiln_image_map(&img, 0, 0.5, &px, &py);
    ck_assert(magentaish(pix(&img, (int)px, (int)py)));
    kiln_image_free(&img);
    /* empty series, no series at all, all-NaN series */
    s.n = 0;
    render(&p, &img);
    ck_assert(img.xmax > img.xmin && img.ymax > img.ymin);
    kiln_image_free(&img);
    p.n_series = 0;
    p.series = NULL;
    render(&p, &img);
    kiln_image_free(&img);
    double nn[3] = {NAN, NAN, INFINITY};
    s.y = nn;
    s.label = NULL;
    s.n = 3;
    p.series = &s;
    p.n_series = 1;
    render(&p, &img);
    ck_assert_int_eq(count_magenta(&img, img.area), 0);
    kiln_image_free(&img);
    /* a zeroed struct is a valid default */
    kiln_plot z;
    memset(&z, 0, sizeof z);
    render(&z, &img);
    ck_assert_int_eq(img.width, 1280);
    kiln_image_free(&img);
}
END_TEST

START_TEST(test_utf8_text)
{
    double y[3] = {1, 2, 3};
    kiln_series s = {.label = "η = 0.1, Ünïcødé “quotes” — ∞", .y = y, .n = 3};
    kiln_plot p;
    kiln_plot_init(&p);
    p.title = "Verlust über Epochen — η, λ, α, 学习率";
    p.xlabel = "\xff\xfe broken \xc3 utf-8 \xe2\x82";
    p.ylabel = "λ (log)";
    p.series = &s;
    p.n_series = 1;
    kiln_image img;
    render(&p, &img);
    int dark = 0;
    for (int yy = 0; yy < img.area.y0; yy++)
        for (int x = 0; x < img.width; x++) dark += pix(&img, x, yy)[0] < 128;
    ck_assert_int_gt(dark, 200);
    kiln_image_free(&img);
}
END_TEST

START_TEST(test_errors)
{
    kiln_plot p;
    kiln_plot_init(&p);
    kiln_image img;
    char err[256];
    p.font_path = "/nonexistent/font.ttf";
    ck_assert_int_ne(kiln_plot_render(&p, &img, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "KILN_FONT"));
    ck_assert_ptr_null(img.rgb);
    char dir[64], notfont[128];
    ck_assert_ptr_nonnull(test_tmpdir(dir));
    snprintf(notfont, sizeof notfont, "%s/not-a-font.ttf", dir);
    ck_assert_int_eq(test_write_file(notfont, "not a font\n", 11), 0);
    p.font_path = notfont;
    ck_assert_int_ne(kiln_plot_render(&p, &img, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "not a usable"));
    unlink(notfont);
    rmdir(dir);
    p.font_path = NULL;
    p.width = 10;
    ck_assert_int_ne(kiln_plot_render(&p, &img, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "32..8192"));
    p.width = 640;
    p.scale = NAN;
    ck_assert_int_ne(kiln_plot_render(&p, &img, err, sizeof err), 0);
    p.scale = 2;
    kiln_series s = {.n = 3, .y = NULL};
    p.series = &s;
    p.n_series = 1;
    ck_assert_int_ne(kiln_plot_render(&p, &img, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "y is NULL"));
    p.n_series = 0;
    ck_assert_int_ne(kiln_plot_render_png(&p, "/nonexistent-dir/x.png", err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x.png"));
    ck_assert_int_ne(kiln_plot_render(NULL, &img, err, sizeof err), 0);
    /* KILN_FONT is honoured */
    setenv("KILN_FONT", "/nonexistent/env-font.ttf", 1);
    ck_assert_int_ne(kiln_plot_render(&p, &img, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "env-font"));
    setenv("KILN_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 1);
    ck_assert_int_eq(kiln_plot_render(&p, &img, err, sizeof err), 0);
    kiln_image_free(&img);
    unsetenv("KILN_FONT");
}
END_TEST

/* ---- PNG files -------------------------------------------------------------------- */

struct png_read {
    int w, h, color, depth, interlace;
    png_uint_32 resx, resy;
    int unit;
    char prov[256], title[256];
    unsigned char *rgb;
};

static int read_png(const char *path, struct png_read *r)
{
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    r->w = (int)png_get_image_width(png, info);
    r->h = (int)png_get_image_height(png, info);
    r->color = png_get_color_type(png, info);
    r->depth = png_get_bit_depth(png, info);
    r->interlace = png_get_interlace_type(png, info);
    png_get_pHYs(png, info, &r->resx, &r->resy, &r->unit);
    png_textp text;
    int nt = 0;
    png_get_text(png, info, &text, &nt);
    for (int i = 0; i < nt; i++) {
        if (!strcmp(text[i].key, "kiln-provenance")) snprintf(r->prov, sizeof r->prov, "%s", text[i].text);
        if (!strcmp(text[i].key, "Title")) snprintf(r->title, sizeof r->title, "%s", text[i].text);
    }
    r->rgb = malloc((size_t)r->w * r->h * 3);
    for (int y = 0; y < r->h; y++) png_read_row(png, r->rgb + (size_t)y * r->w * 3, NULL);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return 0;
}

START_TEST(test_png_roundtrip)
{
    loss_data();
    kiln_series s[2] = {{.label = "training", .x = ep, .y = tr, .n = 25},
                        {.label = "validation", .x = ep, .y = va, .n = 25, .style = KILN_LINE_DASHED}};
    kiln_plot p;
    kiln_plot_init(&p);
    p.title = "Loss — η = 0.05";
    p.provenance = "config 3f2a9c1e0b7d4a65";
    p.series = s;
    p.n_series = 2;
    char dir[64], path[128], err[256];
    ck_assert_ptr_nonnull(test_tmpdir(dir));
    snprintf(path, sizeof path, "%s/loss.png", dir);
    ck_assert_msg(kiln_plot_render_png(&p, path, err, sizeof err) == 0, "%s", err);
    struct png_read r;
    ck_assert_int_eq(read_png(path, &r), 0);
    ck_assert_int_eq(r.w, 1280);
    ck_assert_int_eq(r.h, 800);
    ck_assert_int_eq(r.color, PNG_COLOR_TYPE_RGB);
    ck_assert_int_eq(r.depth, 8);
    ck_assert_int_eq(r.interlace, PNG_INTERLACE_NONE);
    ck_assert_int_eq(r.unit, PNG_RESOLUTION_METER);
    ck_assert_int_eq(r.resx, 7559); /* 192 dpi */
    ck_assert_int_eq(r.resy, 7559);
    ck_assert_str_eq(r.prov, "config 3f2a9c1e0b7d4a65");
    ck_assert_str_eq(r.title, "Loss — η = 0.05");
    /* the pixels are those of kiln_plot_render */
    kiln_image img;
    render(&p, &img);
    ck_assert_int_eq(memcmp(img.rgb, r.rgb, (size_t)r.w * r.h * 3), 0);
    kiln_image_free(&img);
    free(r.rgb);
    /* same input, same bytes; file bytes == memory bytes */
    unsigned char *b1, *b2;
    size_t l1, l2;
    ck_assert_int_eq(kiln_plot_render_png_mem(&p, &b1, &l1, err, sizeof err), 0);
    ck_assert_int_eq(kiln_plot_render_png_mem(&p, &b2, &l2, err, sizeof err), 0);
    ck_assert_uint_eq(l1, l2);
    ck_assert_int_eq(memcmp(b1, b2, l1), 0);
    size_t fl;
    char *fb = test_read_file(path, &fl);
    ck_assert_ptr_nonnull(fb);
    ck_assert_uint_eq(fl, l1);
    ck_assert_int_eq(memcmp(fb, b1, l1), 0);
    ck_assert_int_eq(memcmp(b1, "\x89PNG\r\n\x1a\n", 8), 0);
    ck_assert_ptr_null(memmem(b1, l1, "tIME", 4));
    free(fb);
    free(b1);
    free(b2);
    /* scale 1: 640 x 400 at 96 dpi; overwriting works; no temporary left */
    p.scale = 1;
    ck_assert_int_eq(kiln_plot_render_png(&p, path, err, sizeof err), 0);
    ck_assert_int_eq(read_png(path, &r), 0);
    ck_assert_int_eq(r.w, 640);
    ck_assert_int_eq(r.resx, 3780);
    free(r.rgb);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
    ck_assert_int_eq(system(cmd), 0);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* ---- fuzz ------------------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state += 0x9E3779B97F4A7C15ull;
    uint64_t z = rng_state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double unif(void) { return (rnd() >> 11) * (1.0 / 9007199254740992.0); }

static double messy(void)
{
    switch (rnd() % 16) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    case 3: return 1e-38;
    case 4: return 1e38;
    case 5: return -1e38;
    case 6: return 0;
    case 7: return DBL_MAX;
    case 8: return 5e-324;
    case 9: return (unif() - 0.5) * pow(10, (double)(rnd() % 80) - 40);
    default: return unif() * 3;
    }
}

START_TEST(test_fuzz)
{
    rng_state = 20240611;
    double xs[3][40], ys[3][40];
    for (int iter = 0; iter < 3000; iter++) {
        kiln_plot p;
        kiln_plot_init(&p);
        p.width = 64 + (int)(rnd() % 200);
        p.height = 48 + (int)(rnd() % 150);
        p.scale = (rnd() % 2) ? 1 : 0.5 + unif();
        p.xlog = rnd() % 4 == 0;
        p.ylog = rnd() % 4 == 0;
        if (rnd() % 4 == 0) p.xmin = messy();
        if (rnd() % 4 == 0) p.xmax = messy();
        if (rnd() % 4 == 0) p.ymin = messy();
        if (rnd() % 4 == 0) p.ymax = messy();
        p.title = rnd() % 2 ? "fuzz ⚠ title" : NULL;
        p.xlabel = rnd() % 2 ? "x" : NULL;
        p.ylabel = rnd() % 2 ? "y label" : NULL;
        p.legend = rnd() % 5 == 0 ? -1 : (int)(rnd() % 2); /* inside or below */
        p.theme = (int)(rnd() % 2);
        p.text_scale = rnd() % 3 == 0 ? 0.5 + (double)(rnd() % 35) / 10 : 0;
        kiln_series s[3];
        memset(s, 0, sizeof s);
        int ns = (int)(rnd() % 4);
        for (int k = 0; k < ns; k++) {
            int n = (int)(rnd() % 41);
            int mode = (int)(rnd() % 3); /* messy, smooth, spiky */
            for (int i = 0; i < n; i++) {
                xs[k][i] = mode == 1 ? i : messy();
                ys[k][i] = mode == 1 ? sin(i) + (rnd() % 10 == 0 ? NAN : 0) : mode == 2 ? unif() * 1e6 : messy();
            }
            s[k].x = rnd() % 3 ? xs[k] : NULL;
            s[k].y = ys[k];
            s[k].n = (size_t)n;
            s[k].label = rnd() % 2 ? "series" : NULL;
            s[k].style = (int)(rnd() % 4);
            s[k].marker = (int)(rnd() % 6); /* 5 is not a marker: treated as a circle */
            s[k].width = rnd() % 3 ? unif() * 8 : messy();
            s[k].color = rnd() % 2 ? 0 : (uint32_t)rnd();
        }
        p.series = s;
        p.n_series = (size_t)ns;
        kiln_image img;
        char err[256];
        int rc = kiln_plot_render(&p, &img, err, sizeof err);
        ck_assert_msg(rc == 0, "iteration %d: %s", iter, err);
        ck_assert(img.area.x0 < img.area.x1 && img.area.y0 < img.area.y1);
        ck_assert(img.area.x0 >= 0 && img.area.x1 <= img.width && img.area.y0 >= 0 && img.area.y1 <= img.height);
        ck_assert(isfinite(img.xmin) && isfinite(img.xmax) && img.xmin < img.xmax);
        ck_assert(isfinite(img.ymin) && isfinite(img.ymax) && img.ymin < img.ymax);
        if (iter % 100 == 0) {
            unsigned char *b;
            size_t l;
            ck_assert_int_eq(kiln_image_png(&img, "fuzz", NULL, &b, &l, err, sizeof err), 0);
            free(b);
        }
        kiln_image_free(&img);
        /* ticks on random ranges */
        double t[16], lo = messy(), hi = messy();
        int nt = kiln_ticks(lo, hi, (int)(rnd() % 12), (int)(rnd() % 2), t, 16);
        ck_assert(nt >= 0 && nt <= 16);
        for (int i = 0; i < nt; i++) {
            ck_assert(isfinite(t[i]));
            char lab[64];
            kiln_tick_label(t[i], nt > 1 ? t[1] - t[0] : 0, rnd() % 2, lab, sizeof lab);
        }
    }
}
END_TEST

/* ---- the article's figure types (written out when KILN_PLOT_GALLERY is set) -- */

START_TEST(test_gallery_and_timing)
{
    loss_data();
    const char *dir = getenv("KILN_PLOT_GALLERY");
    kiln_series s[2] = {{.label = "training", .x = ep, .y = tr, .n = 25, .marker = KILN_MARKER_CIRCLE},
                        {.label = "validation", .x = ep, .y = va, .n = 25, .marker = KILN_MARKER_SQUARE}};
    kiln_plot p;
    kiln_plot_init(&p);
    p.title = "Loss per epoch";
    p.xlabel = "epoch";
    p.ylabel = "cross-entropy loss";
    p.provenance = "test";
    p.series = s;
    p.n_series = 2;
    enum { N = 5000 };
    static double step_loss[N];
    rng_state = 7;
    for (int i = 0; i < N; i++) step_loss[i] = 2.3 * exp(-i / 600.0) + 0.05 + 0.3 * exp(-i / 2000.0) * unif();
    kiln_series ps = {.label = "per-step loss", .y = step_loss, .n = N, .width = 0.8};
    kiln_plot q;
    kiln_plot_init(&q);
    q.title = "Per-step training loss";
    q.xlabel = "step";
    q.ylabel = "loss";
    q.series = &ps;
    q.n_series = 1;
    char err[256];
    struct timespec t0, t1, t2;
    unsigned char *b;
    size_t l;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(kiln_plot_render_png_mem(&p, &b, &l, err, sizeof err), 0);
    free(b);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_eq(kiln_plot_render_png_mem(&q, &b, &l, err, sizeof err), 0);
    free(b);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    printf("plot: 25-epoch loss plot %.1f ms, 5000-point plot %.1f ms (one run, this build)\n",
           (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
           (t2.tv_sec - t1.tv_sec) * 1e3 + (t2.tv_nsec - t1.tv_nsec) / 1e6);
    if (dir && *dir) {
        char path[512];
        snprintf(path, sizeof path, "%s/loss.png", dir);
        ck_assert_msg(kiln_plot_render_png(&p, path, err, sizeof err) == 0, "%s", err);
        snprintf(path, sizeof path, "%s/perstep.png", dir);
        ck_assert_msg(kiln_plot_render_png(&q, path, err, sizeof err) == 0, "%s", err);
    }
}
END_TEST

/* The dark theme: a dark background, light text and frame, the palette's
 * entries lighter than the light theme's, and the same data where it was. */
START_TEST(test_dark_theme)
{
    double y[] = {3, 1, 2, 0.5};
    kiln_series se[2] = {{"first", NULL, y, 4, 0, 0, 0, 2}, {"black", NULL, y, 4, 0, 0, KILN_RGB(0, 0, 0), 2}};
    kiln_plot p;
    kiln_plot_init(&p);
    p.title = "A title";
    p.xlabel = "epoch";
    p.series = se;
    p.n_series = 2;
    kiln_image light, dark;
    render(&p, &light);
    p.theme = KILN_THEME_DARK;
    render(&p, &dark);
    ck_assert_int_eq(light.width, dark.width);
    ck_assert_int_eq(light.height, dark.height);
    ck_assert(light.area.x0 == dark.area.x0 && light.area.y1 == dark.area.y1);
    /* the corner is the background: white, and KILN_DARK_BG */
    ck_assert(near_rgb(pix(&light, 1, 1), 0xFFFFFF, 0));
    ck_assert(near_rgb(pix(&dark, 1, 1), KILN_DARK_BG, 0));
    const unsigned char *c = pix(&dark, 1, 1);
    ck_assert_int_lt(c[0] + c[1] + c[2], 3 * 40);
    /* the brightest pixel of the title row is light (text on dark) */
    int brightest = 0;
    for (int yy = 0; yy < dark.area.y0; yy++)
        for (int x = 0; x < dark.width; x++) {
            const unsigned char *q = pix(&dark, x, yy);
            if (q[0] + q[1] + q[2] > brightest) brightest = q[0] + q[1] + q[2];
        }
    ck_assert_int_gt(brightest, 3 * 200);
    /* every palette entry is lighter on dark, and readable there */
    for (int i = 0; i < KILN_PALETTE_SIZE; i++) {
        uint32_t a = kiln_palette_for(KILN_THEME_LIGHT, i), b = kiln_palette_for(KILN_THEME_DARK, i);
        ck_assert_uint_eq(a, kiln_palette(i));
        int la = (a >> 16 & 255) + (a >> 8 & 255) + (a & 255), lb = (b >> 16 & 255) + (b >> 8 & 255) + (b & 255);
        ck_assert_msg(lb > la, "palette %d: %06x is not lighter than %06x", i, b, a);
        ck_assert_int_gt(lb, 3 * 110);
    }
    /* the black series is drawn, lightened, on the dark background: along
     * its path there are pixels well above the background */
    double px, py;
    ck_assert(kiln_image_map(&dark, 1.5, 1.5, &px, &py));
    int lit = 0;
    for (int dy = -4; dy <= 4; dy++) {
        const unsigned char *q = pix(&dark, (int)px, (int)py + dy);
        lit |= q[0] + q[1] + q[2] > 3 * 100;
    }
    ck_assert_msg(lit, "the black series vanished on the dark background");
    /* and the two images differ */
    ck_assert(memcmp(light.rgb, dark.rgb, (size_t)light.width * light.height * 3) != 0);
    kiln_image_free(&light);
    kiln_image_free(&dark);
    p.theme = 7;
    char err[256] = "";
    ck_assert_int_ne(kiln_plot_render(&p, &light, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "theme"));
}
END_TEST

/* The narrow variant: larger type (text_scale), the legend under the plot
 * (the image taller by its height, the plot area the same), a title too long
 * for the width broken into lines. */
START_TEST(test_narrow_variant)
{
    double y[] = {3, 1, 2, 0.5};
    kiln_series se[3] = {{"one run", NULL, y, 4, 0, 0, 0, 0}, {"another run", NULL, y, 4, 0, 0, 0, 0},
                         {"a third, longer label", NULL, y, 4, 0, 0, 0, 0}};
    kiln_plot p;
    kiln_plot_init(&p);
    p.width = 400;
    p.height = 300;
    p.xlabel = "epoch";
    p.ylabel = "loss";
    p.series = se;
    p.n_series = 3;
    kiln_image inside, below, big, titled;
    render(&p, &inside);
    ck_assert_int_eq(inside.width, 800);
    ck_assert_int_eq(inside.height, 600);
    ck_assert_int_gt(inside.legend.x1, 0);
    ck_assert_int_lt(inside.legend.y1, inside.area.y1); /* inside the plot */
    p.legend = KILN_LEGEND_BELOW;
    render(&p, &below);
    ck_assert_int_eq(below.width, 800);
    ck_assert_int_gt(below.height, 600);
    ck_assert_int_ge(below.legend.y0, 600 - 16);       /* under the axis label */
    ck_assert_int_le(below.legend.y1, below.height);
    ck_assert_int_eq(below.area.y1, inside.area.y1);   /* the plot keeps its place */
    p.text_scale = 1.25;
    render(&p, &big);
    /* larger type: more room for the tick labels, so a smaller plot area */
    ck_assert_int_gt(big.area.x0, below.area.x0);
    ck_assert_int_lt(big.area.y1, below.area.y1);
    ck_assert_int_gt(big.height, below.height);
    p.title = "Validation loss of decay schedules that start too large";
    render(&p, &titled);
    ck_assert_int_gt(titled.area.y0, big.area.y0); /* two lines of title */
    /* no title pixel off the canvas: the rightmost column stays background */
    for (int yy = 0; yy < titled.area.y0; yy++) ck_assert(near_rgb(pix(&titled, titled.width - 1, yy), 0xFFFFFF, 0));
    kiln_image_free(&inside);
    kiln_image_free(&below);
    kiln_image_free(&big);
    kiln_image_free(&titled);
    char err[256] = "";
    p.text_scale = 9;
    ck_assert_int_ne(kiln_plot_render(&p, &big, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "text_scale"));
}
END_TEST

static Suite *plot_suite(void)
{
    Suite *s = suite_create("plot");
    TCase *t = tcase_create("ticks");
    tcase_add_test(t, test_integer_x_ticks);
    tcase_add_test(t, test_ticks_exact);
    tcase_add_test(t, test_ticks_many_ranges);
    tcase_add_test(t, test_ticks_log);
    tcase_add_test(t, test_tick_labels);
    suite_add_tcase(s, t);
    t = tcase_create("pixels");
    tcase_add_test(t, test_axes_and_canvas);
    tcase_add_test(t, test_series_color_on_path_only);
    tcase_add_test(t, test_clipped_to_area);
    tcase_add_test(t, test_nan_gap_and_divergence_mark);
    tcase_add_test(t, test_dashed);
    tcase_add_test(t, test_legend_placement);
    tcase_add_test(t, test_dark_theme);
    tcase_add_test(t, test_narrow_variant);
    tcase_add_test(t, test_log_axes_wide_range);
    tcase_add_test(t, test_degenerate_series);
    tcase_add_test(t, test_utf8_text);
    tcase_add_test(t, test_errors);
    suite_add_tcase(s, t);
    t = tcase_create("png");
    tcase_add_test(t, test_png_roundtrip);
    tcase_add_test(t, test_gallery_and_timing);
    suite_add_tcase(s, t);
    t = tcase_create("fuzz");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, test_fuzz);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(plot_suite()); }
