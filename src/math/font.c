/* km_font: the math font and its three DejaVu Serif companions opened with
 * FreeType; glyph metrics in font units; outlines for the drawing side. */
#include "math/font.h"

#include FT_TRUETYPE_TAGS_H
#include FT_TRUETYPE_TABLES_H
#include FT_OUTLINE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const files[KM_FACES] = {
    [KM_FACE_MATH] = "DejaVuMathTeXGyre.ttf",
    [KM_FACE_ITALIC] = "DejaVuSerif-Italic.ttf",
    [KM_FACE_TEXT] = "DejaVuSerif.ttf",
    [KM_FACE_BOLD] = "DejaVuSerif-Bold.ttf",
    [KM_FACE_BOLDITALIC] = "DejaVuSerif-BoldItalic.ttf",
};

km_font *km_font_open(const char *dir, char *err, size_t n)
{
    km_font *f = calloc(1, sizeof *f);
    if (!f) { snprintf(err, n, "out of memory"); return NULL; }
    if (FT_Init_FreeType(&f->ft)) { snprintf(err, n, "cannot start FreeType"); free(f); return NULL; }
    for (int i = 0; i < KM_FACES; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        f->path[i] = strdup(p);
        if (!f->path[i] || FT_New_Face(f->ft, p, 0, &f->face[i])) {
            f->face[i] = NULL;
            snprintf(err, n, "cannot open the math font %s (Debian: %s)", p,
                     i == KM_FACE_TEXT || i == KM_FACE_BOLD ? "fonts-dejavu-core" : "fonts-dejavu-extra");
            km_font_close(f);
            return NULL;
        }
        FT_Select_Charmap(f->face[i], FT_ENCODING_UNICODE);
    }
    FT_ULong len = 0;
    FT_Face m = f->face[KM_FACE_MATH];
    if (FT_Load_Sfnt_Table(m, TTAG_MATH, 0, NULL, &len) || !len || !(f->table = malloc(len)) ||
        FT_Load_Sfnt_Table(m, TTAG_MATH, 0, f->table, &len) || ot_open(&f->ot, f->table, len)) {
        snprintf(err, n, "%s has no usable OpenType MATH table", f->path[KM_FACE_MATH]);
        km_font_close(f);
        return NULL;
    }
    return f;
}

void km_font_close(km_font *f)
{
    if (!f) return;
    for (int i = 0; i < KM_FACES; i++) {
        if (f->face[i]) FT_Done_Face(f->face[i]);
        free(f->path[i]);
    }
    free(f->table);
    FT_Done_FreeType(f->ft);
    free(f);
}

const char *km_font_path(const km_font *f, int face) { return face >= 0 && face < KM_FACES ? f->path[face] : NULL; }

unsigned kf_glyph(km_font *f, int face, unsigned cp) { return FT_Get_Char_Index(f->face[face], cp); }

int kf_metrics(km_font *f, int face, unsigned g, kf_metric *out)
{
    memset(out, 0, sizeof *out);
    FT_Face fc = f->face[face];
    if (FT_Load_Glyph(fc, g, FT_LOAD_NO_SCALE | FT_LOAD_NO_HINTING)) return -1;
    double u = fc->units_per_EM;
    FT_Glyph_Metrics *gm = &fc->glyph->metrics;
    out->advance = gm->horiAdvance / u;
    out->xmin = gm->horiBearingX / u;
    out->xmax = (gm->horiBearingX + gm->width) / u;
    out->ymax = gm->horiBearingY / u;
    out->ymin = (gm->horiBearingY - gm->height) / u;
    return 0;
}

double kf_units(const km_font *f, int v) { return v / (double)f->face[KM_FACE_MATH]->units_per_EM; }

/* FreeType's outline walk; TrueType quadratic segments are raised to cubics.
 * PDF filling closes every subpath, so contours need no explicit close. */
typedef struct { const km_path_ops *ops; void *ctx; double scale, x, y; FT_Vector last; } walk;

#define X(v) (w->x + (v) * w->scale)
#define Y(v) (w->y + (v) * w->scale)
static int w_move(const FT_Vector *p, void *u)
{
    walk *w = u;
    w->ops->move(w->ctx, X(p->x), Y(p->y));
    w->last = *p;
    return 0;
}
static int w_line(const FT_Vector *p, void *u)
{
    walk *w = u;
    w->ops->line(w->ctx, X(p->x), Y(p->y));
    w->last = *p;
    return 0;
}
static int w_conic(const FT_Vector *c, const FT_Vector *p, void *u)
{
    walk *w = u;
    double x0 = w->last.x, y0 = w->last.y;
    w->ops->cubic(w->ctx, X(x0 + 2.0 / 3 * (c->x - x0)), Y(y0 + 2.0 / 3 * (c->y - y0)),
                  X(p->x + 2.0 / 3 * (c->x - p->x)), Y(p->y + 2.0 / 3 * (c->y - p->y)), X(p->x), Y(p->y));
    w->last = *p;
    return 0;
}
static int w_cubic(const FT_Vector *c1, const FT_Vector *c2, const FT_Vector *p, void *u)
{
    walk *w = u;
    w->ops->cubic(w->ctx, X(c1->x), Y(c1->y), X(c2->x), Y(c2->y), X(p->x), Y(p->y));
    w->last = *p;
    return 0;
}
#undef X
#undef Y

int km_outline(km_font *f, unsigned glyph, double pt, double x, double y, const km_path_ops *ops, void *ctx)
{
    FT_Face fc = f->face[KM_FACE_MATH];
    if (FT_Load_Glyph(fc, glyph, FT_LOAD_NO_SCALE | FT_LOAD_NO_HINTING) || fc->glyph->format != FT_GLYPH_FORMAT_OUTLINE)
        return -1;
    walk w = {ops, ctx, pt / fc->units_per_EM, x, y, {0, 0}};
    FT_Outline_Funcs fn = {w_move, w_line, w_conic, w_cubic, 0, 0};
    if (FT_Outline_Decompose(&fc->glyph->outline, &fn, &w)) return -1;
    if (ops->close) ops->close(ctx);
    return 0;
}
