/* The OpenType MATH table (OpenType 1.9, "MATH - The Mathematical Typesetting
 * Table"): MathConstants, italic corrections and top accent attachment from
 * MathGlyphInfo, vertical and horizontal constructions from MathVariants.
 * Every read is bounds-checked: a damaged table reads as zeros. */
#include "math/otmath.h"

#include <stdlib.h>
#include <string.h>

static unsigned u16(const ot_math *m, size_t at)
{
    if (at + 2 > m->len) return 0;
    return (unsigned)m->data[at] << 8 | m->data[at + 1];
}
static int s16(const ot_math *m, size_t at) { return (int16_t)u16(m, at); }

int ot_constant(const ot_math *m, ot_const c)
{
    if (!m->constants) return 0;
    if (c == OT_SCRIPT_PERCENT) return s16(m, m->constants);
    if (c == OT_SCRIPTSCRIPT_PERCENT) return s16(m, m->constants + 2);
    if (c == OT_DELIM_MIN_HEIGHT) return (int)u16(m, m->constants + 4);
    if (c == OT_DISPLAY_OP_MIN_HEIGHT) return (int)u16(m, m->constants + 6);
    if (c == OT_RADICAL_DEGREE_RAISE) return s16(m, m->constants + 8 + 4 * 51);
    /* MathValueRecords from mathLeading (index 0) on, 4 bytes each */
    return s16(m, m->constants + 8 + 4 * (size_t)(c - OT_MATH_LEADING));
}

/* Index of glyph g in a Coverage table, or -1. */
static int coverage(const ot_math *m, size_t at, unsigned g)
{
    if (!at) return -1;
    unsigned fmt = u16(m, at), count = u16(m, at + 2);
    if (fmt == 1) {
        unsigned lo = 0, hi = count;
        while (lo < hi) {
            unsigned mid = (lo + hi) / 2, v = u16(m, at + 4 + 2 * mid);
            if (v == g) return (int)mid;
            if (v < g) lo = mid + 1; else hi = mid;
        }
    } else if (fmt == 2) {
        for (unsigned i = 0; i < count; i++) {
            size_t r = at + 4 + 6 * (size_t)i;
            unsigned start = u16(m, r), end = u16(m, r + 2);
            if (g >= start && g <= end) return (int)(u16(m, r + 4) + g - start);
        }
    }
    return -1;
}

/* A value from a (coverage, count, MathValueRecord[]) table at `at`. */
static int covered_value(const ot_math *m, size_t at, unsigned g, int *out)
{
    if (!at) return 0;
    int k = coverage(m, at + u16(m, at), g);
    if (k < 0 || (unsigned)k >= u16(m, at + 2)) return 0;
    *out = s16(m, at + 4 + 4 * (size_t)k);
    return 1;
}

int ot_italic(const ot_math *m, unsigned g)
{
    int v = 0;
    if (m->glyph_info && u16(m, m->glyph_info)) covered_value(m, m->glyph_info + u16(m, m->glyph_info), g, &v);
    return v;
}

int ot_top_accent(const ot_math *m, unsigned g, int *x)
{
    if (!m->glyph_info || !u16(m, m->glyph_info + 2)) return 0;
    return covered_value(m, m->glyph_info + u16(m, m->glyph_info + 2), g, x);
}

/* The MathGlyphConstruction of g, vertical or horizontal, or 0. */
static size_t construction(const ot_math *m, unsigned g, int vertical)
{
    size_t v = m->variants;
    if (!v) return 0;
    unsigned vcov = u16(m, v + 2), hcov = u16(m, v + 4), vcount = u16(m, v + 6), hcount = u16(m, v + 8);
    int k = coverage(m, vertical ? (vcov ? v + vcov : 0) : (hcov ? v + hcov : 0), g);
    if (k < 0 || (unsigned)k >= (vertical ? vcount : hcount)) return 0;
    size_t slot = v + 10 + 2 * ((vertical ? 0 : vcount) + (unsigned)k);
    unsigned off = u16(m, slot);
    return off ? v + off : 0;
}

int ot_variants(const ot_math *m, unsigned g, int vertical, ot_variant *out, int max)
{
    size_t c = construction(m, g, vertical);
    if (!c) return 0;
    int n = (int)u16(m, c + 2);
    if (n > max) n = max;
    for (int i = 0; i < n; i++) {
        out[i].glyph = u16(m, c + 4 + 4 * (size_t)i);
        out[i].advance = (int)u16(m, c + 6 + 4 * (size_t)i);
    }
    return n;
}

int ot_assembly(const ot_math *m, unsigned g, int vertical, ot_part *out, int max)
{
    size_t c = construction(m, g, vertical);
    if (!c || !u16(m, c)) return 0;
    size_t a = c + u16(m, c);
    int n = (int)u16(m, a + 4);
    if (n > max) n = max;
    for (int i = 0; i < n; i++) {
        size_t p = a + 6 + 10 * (size_t)i;
        out[i].glyph = u16(m, p);
        out[i].start = (int)u16(m, p + 2);
        out[i].end = (int)u16(m, p + 4);
        out[i].full = (int)u16(m, p + 6);
        out[i].extender = u16(m, p + 8) & 1;
    }
    return n;
}

int ot_min_overlap(const ot_math *m) { return m->variants ? (int)u16(m, m->variants) : 0; }

int ot_open(ot_math *m, const unsigned char *data, size_t len)
{
    memset(m, 0, sizeof *m);
    m->data = data;
    m->len = len;
    if (len < 10 || u16(m, 0) != 1) return -1;
    m->constants = u16(m, 4);
    m->glyph_info = u16(m, 6);
    m->variants = u16(m, 8);
    if (!m->constants || m->constants + 8 + 4 * 51 + 2 > len) return -1;
    return 0;
}
