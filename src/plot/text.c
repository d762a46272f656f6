/* Text: FreeType glyphs (light hinting: vertical only, crisp yet true to the
 * design), unhinted advances with kerning, UTF-8 input, cached per size. */
#include "plot_internal.h"

#include FT_TRUETYPE_TABLES_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int font_open(font *f, const char *path, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    if (!path || !*path) path = getenv("KILN_FONT");
    if (!path || !*path) path = KILN_DEFAULT_FONT;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen,
                 "plot: cannot open font '%s' (set KILN_FONT to a TrueType file, or install "
                 "fonts-dejavu-core)", path);
        return -1;
    }
    fclose(fp);
    if (FT_Init_FreeType(&f->lib)) {
        snprintf(err, errlen, "plot: cannot initialise FreeType");
        f->lib = NULL;
        return -1;
    }
    int e = FT_New_Face(f->lib, path, 0, &f->face);
    if (e || !(f->face->face_flags & FT_FACE_FLAG_SCALABLE)) {
        snprintf(err, errlen, "plot: '%s' is not a usable scalable font (FreeType error %d)", path, e);
        if (!e) FT_Done_Face(f->face);
        f->face = NULL;
        FT_Done_FreeType(f->lib);
        f->lib = NULL;
        return -1;
    }
    FT_Select_Charmap(f->face, FT_ENCODING_UNICODE);
    TT_OS2 *os2 = FT_Get_Sfnt_Table(f->face, FT_SFNT_OS2);
    f->cap = 0.7;
    if (os2 && os2->version >= 2 && os2->sCapHeight > 0 && f->face->units_per_EM)
        f->cap = (double)os2->sCapHeight / f->face->units_per_EM;
    return 0;
}

static void glyph_clear(glyph *g)
{
    free(g->bmp);
    memset(g, 0, sizeof *g);
}

void font_close(font *f)
{
    for (int i = 0; i < FONT_CACHE; i++) glyph_clear(&f->cache[i]);
    glyph_clear(&f->scratch);
    if (f->face) FT_Done_Face(f->face);
    if (f->lib) FT_Done_FreeType(f->lib);
    f->face = NULL;
    f->lib = NULL;
}

static int size64_of(double size)
{
    int s = (int)lrint(size * 64);
    return s < 64 ? 64 : s > 64 * 1000 ? 64 * 1000 : s;
}

static void set_size(font *f, int size64)
{
    if (f->size64 != size64) {
        FT_Set_Char_Size(f->face, 0, size64, 72, 72);
        f->size64 = size64;
    }
}

static const glyph *get_glyph(font *f, uint32_t cp, int size64)
{
    unsigned h = (cp * 2654435761u ^ (unsigned)size64 * 40503u) & (FONT_CACHE - 1);
    glyph *g = NULL;
    for (int i = 0; i < 64; i++) {
        glyph *c = &f->cache[(h + i) & (FONT_CACHE - 1)];
        if (c->size64 == size64 && c->cp == cp) return c;
        if (!c->size64) {
            g = c;
            break;
        }
    }
    if (!g) {
        g = &f->scratch;
        glyph_clear(g);
    }
    set_size(f, size64);
    g->cp = cp;
    g->size64 = size64;
    g->index = FT_Get_Char_Index(f->face, cp);
    if (FT_Load_Glyph(f->face, g->index, FT_LOAD_RENDER | FT_LOAD_TARGET_LIGHT)) return g;
    FT_GlyphSlot s = f->face->glyph;
    g->adv = s->linearHoriAdvance;
    g->left = s->bitmap_left;
    g->top = s->bitmap_top;
    FT_Bitmap *b = &s->bitmap;
    if (b->pixel_mode == FT_PIXEL_MODE_GRAY && b->width > 0 && b->rows > 0 && b->buffer) {
        g->bmp = malloc((size_t)b->width * b->rows);
        if (g->bmp) {
            g->w = (int)b->width;
            g->h = (int)b->rows;
            for (int y = 0; y < g->h; y++) {
                const unsigned char *src = b->pitch >= 0 ? b->buffer + (size_t)y * b->pitch
                                                         : b->buffer + (size_t)(g->h - 1 - y) * (size_t)(-b->pitch);
                memcpy(g->bmp + (size_t)y * g->w, src, (size_t)g->w);
            }
        }
    }
    return g;
}

/* Walks the string: calls fn for each glyph with its pen x (pixels). */
static double layout(font *f, int size64, const char *s, void (*fn)(void *, const glyph *, double),
                     void *ctx)
{
    double pen = 0;
    FT_UInt prev = 0;
    int kern = FT_HAS_KERNING(f->face);
    while (s && *s) {
        uint32_t cp = kb_utf8_next(&s);
        if (cp == '\n' || cp == '\r' || cp == '\t') cp = ' ';
        const glyph *g = get_glyph(f, cp, size64);
        if (kern && prev && g->index) {
            FT_Vector k;
            set_size(f, size64);
            if (!FT_Get_Kerning(f->face, prev, g->index, FT_KERNING_UNFITTED, &k)) pen += k.x / 64.0;
        }
        if (fn) fn(ctx, g, pen);
        pen += g->adv / 65536.0;
        prev = g->index;
    }
    return pen;
}

double text_width(font *f, double size, const char *s)
{
    return layout(f, size64_of(size), s, NULL, NULL);
}

static void metrics(font *f, int size64, double *asc, double *desc)
{
    set_size(f, size64);
    *asc = ceil(f->face->size->metrics.ascender / 64.0);
    *desc = ceil(-f->face->size->metrics.descender / 64.0);
    if (*desc < 0) *desc = 0;
}

double text_height(font *f, double size)
{
    double a, d;
    metrics(f, size64_of(size), &a, &d);
    return a + d;
}

struct draw_ctx {
    canvas *c;
    int ox, oy, rot;
    uint32_t rgb;
};

static void draw_glyph(void *vctx, const glyph *g, double pen)
{
    struct draw_ctx *d = vctx;
    canvas *c = d->c;
    int gx0 = (int)lrint(pen) + g->left, gy0 = -g->top;
    for (int j = 0; j < g->h; j++)
        for (int i = 0; i < g->w; i++) {
            unsigned a = g->bmp[(size_t)j * g->w + i];
            if (!a) continue;
            int tx = gx0 + i, ty = gy0 + j, X, Y;
            if (d->rot) {
                X = d->ox + ty;
                Y = d->oy - tx - 1;
            } else {
                X = d->ox + tx;
                Y = d->oy + ty;
            }
            if (X < 0 || Y < 0 || X >= c->w || Y >= c->h) continue;
            cv_blend(c->px + ((size_t)Y * c->w + X) * 3, d->rgb, a);
        }
}

kiln_rect text_draw(canvas *c, font *f, double size, const char *s, double x, double y,
                    int halign, int valign, int rot90, uint32_t rgb)
{
    int s64 = size64_of(size);
    double asc, desc;
    metrics(f, s64, &asc, &desc);
    double w = layout(f, s64, s, NULL, NULL);
    double hf = halign == TA_CENTER ? 0.5 : halign == TA_RIGHT ? 1 : 0;
    double cap = f->cap * s64 / 64.0;
    double ox, oy;
    kiln_rect box;
    if (!rot90) {
        ox = x - w * hf;
        oy = valign == TV_TOP ? y + asc : valign == TV_BOTTOM ? y - desc : y + cap / 2;
        ox = floor(ox + 0.5);
        oy = floor(oy + 0.5);
        box = (kiln_rect){(int)ox, (int)(oy - asc), (int)ceil(ox + w), (int)(oy + desc)};
    } else {
        ox = halign == TA_LEFT ? x + asc : halign == TA_RIGHT ? x - desc : x + (asc - desc) / 2;
        oy = valign == TV_TOP ? y + w : valign == TV_BOTTOM ? y : y + w / 2;
        ox = floor(ox + 0.5);
        oy = floor(oy + 0.5);
        box = (kiln_rect){(int)(ox - asc), (int)floor(oy - w), (int)(ox + desc), (int)oy};
    }
    struct draw_ctx d = {c, (int)ox, (int)oy, rot90, rgb};
    layout(f, s64, s, draw_glyph, &d);
    return box;
}
