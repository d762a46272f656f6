/* kiln plot library: line plots drawn by kiln's own rasterizer, written as
 * PNG. It knows nothing of training: it takes series of (x, y) and draws them.
 *
 * What a figure has: anti-aliased lines of any width (round joins and caps),
 * solid, dashed or dotted, optional markers; a frame, "nice" ticks with labels
 * that never overlap, light grid lines, a title and axis labels (UTF-8, drawn
 * with FreeType), a legend placed where it hides the least data, and a
 * colour-blind-safe palette (Okabe & Ito). Axes are linear or logarithmic,
 * auto-ranged with 5% padding or fixed by the caller.
 *
 * Messy data: a NaN or infinite value (or one beyond +-1e300) breaks the
 * line, and the last finite point before it is marked with a cross (the point
 * of divergence). Non-positive values on a log axis break the line without a
 * mark. A constant series, a single point (drawn as a dot) or an empty series
 * give a sensible picture.
 *
 * Units: sizes are logical pixels (CSS px, 1/96 inch); the image is drawn at
 * `scale` pixels per logical pixel (2 by default, for high-DPI screens), and
 * the PNG's pHYs chunk says 96 * scale DPI, so a PDF placing it at its
 * physical size shows it width/96 inches wide. The same input gives the same
 * bytes (no timestamps).
 *
 * Errors: functions that can fail take `char *err, size_t errlen` and return
 * non-zero after writing a one-line message. Thread safety: no global state;
 * concurrent calls on different images are fine. */
#ifndef KILN_PLOT_H
#define KILN_PLOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kiln_line_style {
    KILN_LINE_SOLID = 0,
    KILN_LINE_DASHED = 1,
    KILN_LINE_DOTTED = 2,
    KILN_LINE_NONE = 3, /* markers only */
};

enum kiln_marker {
    KILN_MARKER_NONE = 0,
    KILN_MARKER_CIRCLE = 1,
    KILN_MARKER_SQUARE = 2,
    KILN_MARKER_DIAMOND = 3,
    KILN_MARKER_TRIANGLE = 4,
};

/* Colours for kiln_series.color: 0 means the palette in series order. */
#define KILN_PALETTE_SIZE 8
#define KILN_RGB(r, g, b) \
    (0x1000000u | ((uint32_t)(r) & 255u) << 16 | ((uint32_t)(g) & 255u) << 8 | ((uint32_t)(b) & 255u))
#define KILN_PALETTE(i) (0x2000000u | ((uint32_t)(i) % KILN_PALETTE_SIZE))

/* Palette entry i (mod KILN_PALETTE_SIZE) as 0xRRGGBB: blue, vermillion,
 * bluish green, reddish purple, orange, sky blue, black, mustard (a darkened
 * Okabe-Ito yellow, readable on white). */
uint32_t kiln_palette(int i);

/* Themes (kiln_plot.theme): the colours of everything but the data.
 * KILN_THEME_DARK draws on a near-black background (KILN_DARK_BG, the dark
 * page colour of templates/style.css) with light grid, frame and text; the
 * palette entries are lightened versions of the same hues (kiln_palette_for),
 * and a KILN_RGB colour too dark to read on it (contrast under 3:1) is mixed
 * with white until it is readable. */
enum kiln_theme {
    KILN_THEME_LIGHT = 0,
    KILN_THEME_DARK = 1,
};
#define KILN_DARK_BG 0x15181Cu
/* Palette entry i of a theme; kiln_palette(i) is kiln_palette_for(LIGHT, i). */
uint32_t kiln_palette_for(int theme, int i);

/* kiln_plot.legend */
#define KILN_LEGEND_AUTO 0   /* inside the plot, where it hides the least data */
#define KILN_LEGEND_NONE (-1)
#define KILN_LEGEND_BELOW 1  /* under the x-axis label, in as many columns as
                                fit; the image grows by its height */

typedef struct kiln_series {
    const char *label; /* legend text, UTF-8; NULL or "" = not in the legend */
    const double *x;   /* n values, or NULL for 0, 1, ..., n-1 */
    const double *y;   /* n values (may be NULL only when n == 0) */
    size_t n;
    int style;         /* enum kiln_line_style */
    int marker;        /* enum kiln_marker */
    uint32_t color;    /* 0 = palette by series index; KILN_RGB or KILN_PALETTE */
    double width;      /* line width in logical px; 0 = 1.5 */
} kiln_series;

/* A figure. A zeroed struct is a valid default (640 x 400 at scale 2, auto
 * ranges, light theme); kiln_plot_init does the same with NaN ranges. Range rules: a NaN
 * bound is automatic; if both bounds of an axis are given and min >= max (as
 * in a zeroed struct), or a bound is infinite, or a log bound is <= 0, that
 * axis is automatic. */
typedef struct kiln_plot {
    const char *title, *xlabel, *ylabel; /* UTF-8, NULL or "" = none */
    int xlog, ylog;                      /* 1 = logarithmic (base 10) */
    int xinteger;                        /* 1 = x ticks at whole numbers only (epochs) */
    double xmin, xmax, ymin, ymax;
    int width, height;      /* logical px; 0 = 640 x 400; 32..8192 */
    double scale;           /* pixels per logical px; 0 = 2; 0.25..8 */
    int legend;             /* KILN_LEGEND_AUTO (0), _NONE (-1) or _BELOW (1) */
    const char *provenance; /* PNG tEXt "kiln-provenance" (e.g. config hash) */
    const char *font_path;  /* NULL = $KILN_FONT, else DejaVu Sans */
    const kiln_series *series;
    size_t n_series;
    int theme;              /* enum kiln_theme; 0 = light */
    double text_scale;      /* every type size times this (0 = 1; 0.5..4): a
                               narrow figure for phones is drawn with larger
                               type so it stays legible when shown small */
} kiln_plot;

#define KILN_DEFAULT_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

void kiln_plot_init(kiln_plot *p);

/* Render and encode as PNG (8-bit RGB, pHYs, tEXt; the height is the
 * image's, which a KILN_LEGEND_BELOW legend makes taller than p->height). _png writes `path`
 * atomically (a temporary file in the same folder, then rename). _png_mem
 * returns a malloc'd buffer the caller frees. */
int kiln_plot_render_png(const kiln_plot *p, const char *path, char *err, size_t errlen);
int kiln_plot_render_png_mem(const kiln_plot *p, unsigned char **buf, size_t *len,
                             char *err, size_t errlen);

/* A rendered image and where things landed on it (pixels; x right, y down).
 * The plot area is [area.x0, area.x1) x [area.y0, area.y1); the frame is drawn
 * centred on its edges. legend.x1 == 0 when there is no legend. */
typedef struct kiln_rect { int x0, y0, x1, y1; } kiln_rect;
#define KILN_IMAGE_TICKS 32
typedef struct kiln_image {
    int width, height;  /* pixels */
    unsigned char *rgb; /* width * height * 3 bytes, top row first */
    double dpi;         /* 96 * scale */
    kiln_rect area, legend;
    double xmin, xmax, ymin, ymax; /* final axis ranges (data units) */
    int xlog, ylog;
    int n_xticks;                  /* the labelled x ticks (data units) */
    double xticks[KILN_IMAGE_TICKS];
} kiln_image;

/* Render into memory; free with kiln_image_free (safe on a zeroed image). */
int kiln_plot_render(const kiln_plot *p, kiln_image *img, char *err, size_t errlen);
void kiln_image_free(kiln_image *img);
/* Data -> continuous pixel coordinates (pixel (i, j) spans [i, i+1)).
 * Returns 0 if the point cannot be placed (non-finite, <= 0 on a log axis). */
int kiln_image_map(const kiln_image *img, double x, double y, double *px, double *py);
/* Encode an image as PNG in memory; provenance may be NULL. */
int kiln_image_png(const kiln_image *img, const char *provenance, const char *title,
                   unsigned char **buf, size_t *len, char *err, size_t errlen);

/* "Nice" tick values inside [lo, hi] (either order): at most max_ticks values
 * (at least 1 is asked for) of the form {1, 2, 2.5, 5} x 10^k times an
 * integer, smallest step that fits. log != 0: decades (every k-th if there
 * are too many), else 1-2-5 values, else linear ticks; lo and hi must be > 0.
 * A zero-width range gives one tick. Writes at most cap values, returns how
 * many; 0 for non-finite input. */
int kiln_ticks(double lo, double hi, int max_ticks, int log, double *ticks, int cap);

/* Labels for ticks as kiln draws them ("0.25", "1e-8", "10⁻⁸" on log decades),
 * each distinct for distinct ticks. Writes into buf (UTF-8). */
void kiln_tick_label(double v, double step, int log_decade, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
