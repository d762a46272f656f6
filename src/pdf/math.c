/* Drawing a typeset formula (a km_box from the math library) on a PDF page:
 * glyphs as text in the embedded fonts, size variants and assembly pieces
 * as filled outlines (with the character they stand for as invisible text,
 * so the PDF's text still reads "∑"), rules as filled rectangles. */
#include "pdf/internal.h"

#include <stdlib.h>

static int face_font(int face)
{
    switch (face) {
    case KM_FACE_ITALIC: return PF_SERIF_I;
    case KM_FACE_TEXT: return PF_SERIF;
    case KM_FACE_BOLD: return PF_SERIF_B;
    case KM_FACE_BOLDITALIC: return PF_SERIF_BI;
    default: return PF_MATH;
    }
}

static void p_move(void *c, double x, double y) { HPDF_Page_MoveTo((HPDF_Page)c, (HPDF_REAL)x, (HPDF_REAL)y); }
static void p_line(void *c, double x, double y) { HPDF_Page_LineTo((HPDF_Page)c, (HPDF_REAL)x, (HPDF_REAL)y); }
static void p_cubic(void *c, double x1, double y1, double x2, double y2, double x3, double y3)
{
    HPDF_Page_CurveTo((HPDF_Page)c, (HPDF_REAL)x1, (HPDF_REAL)y1, (HPDF_REAL)x2, (HPDF_REAL)y2, (HPDF_REAL)x3, (HPDF_REAL)y3);
}

static void text_at(HPDF_Page pg, pf_set *fonts, int font, double size, double x, double y, uint32_t cp, int invisible)
{
    HPDF_Font hf = pf_hpdf(fonts, font);
    if (!hf || cp > 0xFFFF) return;
    char u[4] = {0};
    u[pu_put(u, cp)] = 0;
    HPDF_Page_BeginText(pg);
    HPDF_Page_SetFontAndSize(pg, hf, (HPDF_REAL)size);
    if (invisible) HPDF_Page_SetTextRenderingMode(pg, HPDF_INVISIBLE);
    HPDF_Page_TextOut(pg, (HPDF_REAL)x, (HPDF_REAL)y, u);
    if (invisible) HPDF_Page_SetTextRenderingMode(pg, HPDF_FILL);
    HPDF_Page_EndText(pg);
}

void pm_draw(HPDF_Page pg, pf_set *fonts, km_font *kf, const km_box *b, double x, double y, uint32_t color)
{
    HPDF_Page_SetRGBFill(pg, (color >> 16 & 255) / 255.f, (color >> 8 & 255) / 255.f, (color & 255) / 255.f);
    static const km_path_ops ops = {p_move, p_line, p_cubic, NULL};
    for (int i = 0; i < b->n; i++) {
        const km_item *it = &b->item[i];
        double ix = x + it->x, iy = y + it->y;
        switch (it->kind) {
        case KM_GLYPH: text_at(pg, fonts, face_font(it->face), it->size, ix, iy, it->cp, 0); break;
        case KM_RULE:
            HPDF_Page_Rectangle(pg, (HPDF_REAL)ix, (HPDF_REAL)iy, (HPDF_REAL)it->w, (HPDF_REAL)it->h);
            HPDF_Page_Fill(pg);
            break;
        case KM_OUTLINE:
            if (km_outline(kf, it->glyph, it->size, ix, iy, &ops, pg) == 0) HPDF_Page_Fill(pg);
            if (it->cp) text_at(pg, fonts, PF_MATH, it->size, ix, iy, it->cp, 1);
            break;
        }
    }
}

const km_box *pm_box(pw *w, const struct km_node *n, int display, float pt)
{
    if (!n) return NULL;
    if (!w->kfont && !w->kfont_failed) {
        char err[512];
        const char *dir = getenv("KILN_FONT_DIR");
        w->kfont = km_font_open(dir && *dir ? dir : "/usr/share/fonts/truetype/dejavu", err, sizeof err);
        if (!w->kfont) {
            w->kfont_failed = 1;
            kd_warn(w->diag, "", 0, "the PDF shows math as TeX source: %s", err);
        }
    }
    if (!w->kfont) return NULL;
    km_box *b = calloc(1, sizeof *b);
    if (!b) abort();
    if (km_layout(w->kfont, n, display, pt, b)) { free(b); return NULL; }
    w->boxes = realloc(w->boxes, sizeof *w->boxes * (size_t)(w->nboxes + 1));
    if (!w->boxes) abort();
    w->boxes[w->nboxes++] = b;
    return b;
}

void pm_free_all(pw *w)
{
    for (int i = 0; i < w->nboxes; i++) {
        km_box_free(w->boxes[i]);
        free(w->boxes[i]);
    }
    free(w->boxes);
    w->boxes = NULL;
    w->nboxes = 0;
    km_font_close(w->kfont);
    w->kfont = NULL;
}
