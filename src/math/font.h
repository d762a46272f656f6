/* Private to src/math: km_font and glyph metrics (in em). */
#ifndef KILN_MATH_FONT_H
#define KILN_MATH_FONT_H

#include "kiln/math.h"
#include "math/otmath.h"

#include <ft2build.h>
#include FT_FREETYPE_H

#define KM_FACES 5

struct km_font {
    FT_Library ft;
    FT_Face face[KM_FACES];
    char *path[KM_FACES];
    unsigned char *table;   /* the MATH table */
    ot_math ot;
};

/* A glyph's advance and ink box in em. */
typedef struct kf_metric { double advance, xmin, xmax, ymin, ymax; } kf_metric;

unsigned kf_glyph(km_font *f, int face, unsigned cp);   /* 0: none */
int kf_metrics(km_font *f, int face, unsigned glyph, kf_metric *out);
/* A MATH table value (font units of the math face) in em. */
double kf_units(const km_font *f, int v);

#endif
