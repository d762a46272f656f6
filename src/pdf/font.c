/* The PDF writer's fonts: DejaVu files by role, widths and glyph coverage
 * from FreeType, embedding through libharu. See pdf_internal.h. */
#include "pdf/internal.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_ADVANCES_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FONT_DIR "/usr/share/fonts/truetype/dejavu"
#define W_UNKNOWN INT16_MIN

/* Candidate files per role, best first. */
static const char *const candidates[PF_COUNT][4] = {
    [PF_SERIF] = {"DejaVuSerif.ttf", "DejaVuSans.ttf"},
    [PF_SERIF_B] = {"DejaVuSerif-Bold.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans.ttf"},
    [PF_SERIF_I] = {"DejaVuSerif-Italic.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf", "DejaVuSans.ttf"},
    [PF_SERIF_BI] = {"DejaVuSerif-BoldItalic.ttf", "DejaVuSans-BoldOblique.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSans.ttf"},
    [PF_SANS] = {"DejaVuSans.ttf"},
    [PF_SANS_B] = {"DejaVuSans-Bold.ttf", "DejaVuSans.ttf"},
    [PF_SANS_I] = {"DejaVuSans-Oblique.ttf", "DejaVuSans.ttf"},
    [PF_SANS_BI] = {"DejaVuSans-BoldOblique.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans.ttf"},
    [PF_MONO] = {"DejaVuSansMono.ttf", "DejaVuSans.ttf"},
    [PF_MONO_B] = {"DejaVuSansMono-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSans.ttf"},
    [PF_MATH] = {"DejaVuMathTeXGyre.ttf"},
};

typedef struct pf_font {
    char *path;
    int alias;          /* index of the role that owns this file */
    FT_Face face;       /* opened on first use */
    int face_failed;
    HPDF_Font hf;       /* loaded on first use */
    int hf_failed;
    int16_t *w;         /* 65536 widths (1/1000 em), -1 = no glyph */
} pf_font;

struct pf_set {
    FT_Library ft;
    HPDF_Doc pdf;
    pf_font f[PF_COUNT];
};

int pf_style_font(int family, int bits)
{
    int b = bits & PS_BOLD, i = bits & PS_ITALIC;
    switch (family) {
    case PF_MONO: return b ? PF_MONO_B : PF_MONO;
    case PF_SANS: return b && i ? PF_SANS_BI : b ? PF_SANS_B : i ? PF_SANS_I : PF_SANS;
    default: return b && i ? PF_SERIF_BI : b ? PF_SERIF_B : i ? PF_SERIF_I : PF_SERIF;
    }
}

pf_set *pf_new(HPDF_Doc pdf, char *err, size_t n)
{
    const char *dir = getenv("KILN_FONT_DIR");
    if (!dir || !*dir) dir = FONT_DIR;
    pf_set *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, n, "out of memory"); return NULL; }
    s->pdf = pdf;
    if (FT_Init_FreeType(&s->ft)) {
        snprintf(err, n, "cannot start FreeType");
        free(s);
        return NULL;
    }
    for (int r = 0; r < PF_COUNT; r++) {
        pf_font *f = &s->f[r];
        f->alias = r;
        for (int k = 0; k < 4 && candidates[r][k]; k++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", dir, candidates[r][k]);
            if (access(p, R_OK) == 0) { f->path = strdup(p); break; }
        }
        if (!f->path) {
            snprintf(err, n, "no font for the PDF: %s/%s is missing (Debian: %s)", dir, candidates[r][0],
                     r == PF_MATH ? "fonts-dejavu-extra" : "fonts-dejavu-core");
            pf_free(s);
            return NULL;
        }
        for (int q = 0; q < r; q++)
            if (!strcmp(s->f[q].path, f->path)) { f->alias = s->f[q].alias; break; }
    }
    return s;
}

void pf_free(pf_set *s)
{
    if (!s) return;
    for (int r = 0; r < PF_COUNT; r++) {
        if (s->f[r].face) FT_Done_Face(s->f[r].face);
        free(s->f[r].w);
        free(s->f[r].path);
    }
    FT_Done_FreeType(s->ft);
    free(s);
}

const char *pf_path(const pf_set *s, int font) { return s->f[s->f[font].alias].path; }

static pf_font *owner(pf_set *s, int font)
{
    pf_font *f = &s->f[s->f[font].alias];
    if (!f->face && !f->face_failed) {
        if (FT_New_Face(s->ft, f->path, 0, &f->face)) {
            f->face = NULL;
            f->face_failed = 1;
        } else {
            FT_Select_Charmap(f->face, FT_ENCODING_UNICODE);
        }
        f->w = malloc(sizeof *f->w * 65536);
        if (f->w)
            for (int i = 0; i < 65536; i++) f->w[i] = W_UNKNOWN;
    }
    return f;
}

int pf_width(pf_set *s, int font, uint32_t cp)
{
    if (cp > 0xFFFF) return -1;
    pf_font *f = owner(s, font);
    if (!f->face || !f->w) return -1;
    if (f->w[cp] != W_UNKNOWN) return f->w[cp];
    int w = -1;
    FT_UInt g = FT_Get_Char_Index(f->face, cp);
    if (g) {
        FT_Fixed adv = 0;
        if (FT_Get_Advance(f->face, g, FT_LOAD_NO_SCALE, &adv) == 0) {
            /* libharu writes widths as advance * 1000 / units_per_EM,
             * truncated; measure the same way so lines end where they
             * are drawn. */
            w = (int)((unsigned long)adv * 1000ul / f->face->units_per_EM);
        }
    }
    f->w[cp] = (int16_t)w;
    return w;
}

static int fallback_of(int font)
{
    switch (font) {
    case PF_SERIF_B: case PF_MONO_B: return PF_SANS_B;
    case PF_SERIF_I: return PF_SANS_I;
    case PF_SERIF_BI: return PF_SANS_BI;
    default: return PF_SANS;
    }
}

void pf_resolve(pf_set *s, int font, uint32_t cp, int *font_out, uint32_t *cp_out)
{
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || (cp >= 0xD800 && cp < 0xE000)) cp = 0xFFFD;
    int tries[3] = {font, fallback_of(font), PF_SANS};
    for (int k = 0; k < 3; k++) {
        if (pf_width(s, tries[k], cp) >= 0) {
            *font_out = tries[k];
            *cp_out = cp;
            return;
        }
    }
    for (int k = 0; k < 3; k++) {
        if (pf_width(s, tries[k], 0xFFFD) >= 0) {
            *font_out = tries[k];
            *cp_out = 0xFFFD;
            return;
        }
    }
    *font_out = font;
    *cp_out = '?';
}

/* libharu 2.3 writes a ToUnicode CMap for its UTF-8 fonts that uses
 * `begincidrange` (a CID-keyed CMap operator, invalid in a ToUnicode map):
 * poppler warns on every page and other readers may not map the text back.
 * The codes it shows are the Unicode values themselves (Identity-H with a
 * CIDToGIDMap), so an identity bfrange map is the right one: replace the
 * stream's contents. */
static void fix_tounicode(HPDF_Font hf)
{
    HPDF_Dict tu = HPDF_Dict_GetItem((HPDF_Dict)hf, "ToUnicode", HPDF_OCLASS_DICT);
    if (!tu || !tu->stream) return;
    HPDF_MemStream_FreeData(tu->stream);
    HPDF_Stream_WriteStr(tu->stream,
                         "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                         "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                         "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                         "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
    char line[64];
    /* bfrange entries may vary only in the last byte: one per high byte,
     * at most 100 per block; surrogates (D8..DF) carry no characters. */
    int hi[256], nh = 0;
    for (int h = 0; h < 256; h++)
        if (h < 0xD8 || h > 0xDF) hi[nh++] = h;
    for (int i = 0; i < nh; i += 100) {
        int m = nh - i < 100 ? nh - i : 100;
        snprintf(line, sizeof line, "%d beginbfrange\n", m);
        HPDF_Stream_WriteStr(tu->stream, line);
        for (int k = 0; k < m; k++) {
            snprintf(line, sizeof line, "<%02X00> <%02XFF> <%02X00>\n", hi[i + k], hi[i + k], hi[i + k]);
            HPDF_Stream_WriteStr(tu->stream, line);
        }
        HPDF_Stream_WriteStr(tu->stream, "endbfrange\n");
    }
    HPDF_Stream_WriteStr(tu->stream, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
}

HPDF_Font pf_hpdf(pf_set *s, int font)
{
    pf_font *f = &s->f[s->f[font].alias];
    if (f->hf || f->hf_failed) return f->hf;
    const char *name = HPDF_LoadTTFontFromFile(s->pdf, f->path, HPDF_TRUE);
    if (name) f->hf = HPDF_GetFont(s->pdf, name, "UTF-8");
    if (!f->hf) {
        f->hf_failed = 1;
        HPDF_ResetError(s->pdf);
    } else {
        fix_tounicode(f->hf);
    }
    return f->hf;
}

