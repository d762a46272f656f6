/* Private to src/plot: the canvas, coverage masks, strokes, text, PNG. */
#ifndef KILN_PLOT_INTERNAL_H
#define KILN_PLOT_INTERNAL_H

#include "kiln/plot.h"
#include "base/base.h"

#include <ft2build.h>
#include FT_FREETYPE_H

/* ---- raster.c: an RGB canvas and coverage masks ----------------------- */

typedef struct canvas {
    int w, h;
    unsigned char *px; /* w * h * 3 */
} canvas;

void cv_fill(canvas *c, uint32_t rgb);
/* Axis-aligned rectangle with exact area coverage, clipped to clip (or the
 * canvas when clip is NULL). */
void cv_rect(canvas *c, const kiln_rect *clip, double x0, double y0, double x1, double y1,
             uint32_t rgb, double alpha);
/* Rounded rectangle, filled with fill (alpha) and an edge line of width lw. */
void cv_round_rect(canvas *c, double x0, double y0, double x1, double y1, double radius,
                   uint32_t fill, double fill_alpha, uint32_t edge, double lw);
/* Blend one pixel: a in 0..255. */
static inline void cv_blend(unsigned char *p, uint32_t rgb, unsigned a)
{
    unsigned r = (rgb >> 16) & 255, g = (rgb >> 8) & 255, b = rgb & 255, ia = 255 - a;
    p[0] = (unsigned char)((p[0] * ia + r * a + 127) / 255);
    p[1] = (unsigned char)((p[1] * ia + g * a + 127) / 255);
    p[2] = (unsigned char)((p[2] * ia + b * a + 127) / 255);
}

/* A coverage mask over a clip rectangle: shapes are merged with max (their
 * union), then composited once in one colour, so overlapping parts of one
 * stroke never darken. */
typedef struct mask {
    kiln_rect r;        /* canvas pixels it covers */
    int w, h;
    unsigned char *a;   /* w * h */
    int dx0, dy0, dx1, dy1; /* dirty box, mask coordinates, empty if dx0 >= dx1 */
} mask;

int mask_init(mask *m, kiln_rect r);
void mask_free(mask *m);
void mask_clear(mask *m);
/* A capsule: the segment a-b widened by half-width hw on every side. */
void mask_capsule(mask *m, double ax, double ay, double bx, double by, double hw);
/* A filled marker of "radius" r centred at (cx, cy). */
void mask_marker(mask *m, int shape, double cx, double cy, double r);
/* Composite onto c in rgb; if ink is non-NULL (same size as the mask),
 * mark pixels with visible coverage. Clears the mask. */
void mask_composite(mask *m, canvas *c, uint32_t rgb, unsigned char *ink);

/* Polylines with an optional dash pattern (on, off lengths in pixels). */
typedef struct stroker {
    mask *m;
    double hw;
    double on, off; /* off == 0: solid */
    double phase;   /* distance into the pattern */
    int have;       /* a current point exists */
    double x, y;
} stroker;

void stroke_init(stroker *s, mask *m, double hw, double on, double off);
void stroke_move(stroker *s, double x, double y);
void stroke_line(stroker *s, double x, double y);

/* ---- text.c: FreeType text ------------------------------------------------ */

typedef struct glyph {
    uint32_t cp;
    int size64;       /* 26.6 pixel size, 0 = empty slot */
    FT_UInt index;
    int left, top, w, h;
    long adv;         /* 16.16 linear advance */
    unsigned char *bmp;
} glyph;

#define FONT_CACHE 1024
typedef struct font {
    FT_Library lib;
    FT_Face face;
    int size64;       /* currently set size */
    double cap;       /* cap height / em */
    glyph cache[FONT_CACHE];
    glyph scratch;    /* used when the cache is full */
} font;

int font_open(font *f, const char *path, char *err, size_t errlen);
void font_close(font *f);

enum { TA_LEFT = 0, TA_CENTER = 1, TA_RIGHT = 2 };
enum { TV_TOP = 0, TV_MIDDLE = 1, TV_BOTTOM = 2 };

/* Width of a string and the line box (ascender, descender below baseline,
 * both >= 0) in pixels at size px. */
double text_width(font *f, double size, const char *s);
double text_height(font *f, double size);
/* Draw s anchored at (x, y): halign TA_*, valign TV_* (TV_MIDDLE centres the
 * cap height); rot90 turns it to read bottom-to-top, alignment then applies
 * to the turned box. Returns the box drawn (canvas pixels). */
kiln_rect text_draw(canvas *c, font *f, double size, const char *s, double x, double y,
                    int halign, int valign, int rot90, uint32_t rgb);

/* Decode one UTF-8 code point from *s (advances it); U+FFFD on bad bytes. */

/* ---- ticks.c -------------------------------------------------------------- */

/* Minor ticks of a log axis (2..9 x 10^k) inside [lo, hi]. */
int log_minor_ticks(double lo, double hi, double *ticks, int cap);

/* ---- png.c ---------------------------------------------------------------- */

int png_encode_rgb(const unsigned char *rgb, int w, int h, double dpi, const char *provenance,
                   const char *title, unsigned char **out, size_t *len, char *err, size_t errlen);

#endif
