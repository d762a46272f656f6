/* km_node tree -> a box of positioned glyphs and rules, following TeX's
 * rules for math as OpenType MATH states them (and as MathML Core's layout
 * chapter spells them out): styles D T S SS with cramping, TeX's
 * inter-atom spacing, fractions and stacks, scripts and limits, radicals,
 * accents, delimiters from the font's size variants and glyph assemblies,
 * tables. Lengths are in points; y grows upwards from the baseline.
 *
 * Simplifications (documented in the README): italic letters come from
 * DejaVu Serif Italic (libharu draws only the BMP) and their italic
 * correction is the ink's overhang past the advance; math kerning (cut-ins)
 * is not used; an assembly is built with the minimum connector overlap. */
#include "math/font.h"
#include "math/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ST_D, ST_T, ST_S, ST_SS };
enum { C_ORD, C_OP, C_BIN, C_REL, C_OPEN, C_CLOSE, C_PUNCT, C_INNER, C_NONE };

typedef struct box {
    double w, h, d, ic;     /* width, height, depth, italic correction */
    int cls;                /* atom class for spacing */
    km_item *item;
    int n, cap;
    int oom;
} box;

typedef struct ctx {
    km_font *f;
    double pt;
    int oom;
} ctx;

typedef struct sty { int s, cramped; } sty;

static double scale_of(ctx *c, int s)
{
    if (s == ST_S) return ot_constant(&c->f->ot, OT_SCRIPT_PERCENT) / 100.0;
    if (s == ST_SS) return ot_constant(&c->f->ot, OT_SCRIPTSCRIPT_PERCENT) / 100.0;
    return 1.0;
}
static double em(ctx *c, sty st) { return c->pt * scale_of(c, st.s); }
/* A MATH constant in points at the style's size. */
static double K(ctx *c, sty st, ot_const k) { return kf_units(c->f, ot_constant(&c->f->ot, k)) * em(c, st); }

static sty sup_style(sty st) { return (sty){st.s <= ST_T ? ST_S : ST_SS, st.cramped}; }
static sty sub_style(sty st) { return (sty){st.s <= ST_T ? ST_S : ST_SS, 1}; }
static sty frac_style(sty st) { return (sty){st.s == ST_D ? ST_T : st.s == ST_T ? ST_S : ST_SS, st.cramped}; }

static void push(box *b, km_item it)
{
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 8;
        km_item *t = realloc(b->item, sizeof *t * (size_t)cap);
        if (!t) { b->oom = 1; return; }
        b->item = t;
        b->cap = cap;
    }
    b->item[b->n++] = it;
}

/* Move src's items into dst at (dx, dy); src is emptied. */
static void put(box *dst, box *src, double dx, double dy)
{
    for (int i = 0; i < src->n; i++) {
        km_item it = src->item[i];
        it.x += dx;
        it.y += dy;
        push(dst, it);
    }
    dst->oom |= src->oom;
    free(src->item);
    src->item = NULL;
    src->n = src->cap = 0;
}

static void rule(box *b, double x, double y, double w, double t)
{
    push(b, (km_item){.kind = KM_RULE, .x = x, .y = y, .w = w, .h = t});
}

/* One glyph of a face by code point; falls back to the math face, then the
 * text face. */
static box glyph(ctx *c, int face, uint32_t cp, double size)
{
    box b = {0};
    unsigned g = kf_glyph(c->f, face, cp);
    if (!g && face != KM_FACE_MATH) { face = KM_FACE_MATH; g = kf_glyph(c->f, face, cp); }
    if (!g) { face = KM_FACE_TEXT; g = kf_glyph(c->f, face, cp); }
    if (!g) { cp = '?'; g = kf_glyph(c->f, face, cp); }
    kf_metric m;
    kf_metrics(c->f, face, g, &m);
    b.w = m.advance * size;
    b.h = m.ymax * size;
    b.d = -m.ymin * size;
    if (face == KM_FACE_MATH) b.ic = kf_units(c->f, ot_italic(&c->f->ot, g)) * size;
    else if (face == KM_FACE_ITALIC) b.ic = fmax(0, (m.xmax - m.advance) * size);
    push(&b, (km_item){.kind = KM_GLYPH, .size = size, .face = face, .cp = cp});
    return b;
}

/* A math-font glyph by index (a size variant), drawn as an outline; cp is
 * the character it stands for (0: a piece of an assembly). */
static box outline(ctx *c, unsigned g, uint32_t cp, double size)
{
    box b = {0};
    kf_metric m;
    kf_metrics(c->f, KM_FACE_MATH, g, &m);
    b.w = m.advance * size;
    b.h = m.ymax * size;
    b.d = -m.ymin * size;
    b.ic = kf_units(c->f, ot_italic(&c->f->ot, g)) * size;
    push(&b, (km_item){.kind = KM_OUTLINE, .size = size, .face = KM_FACE_MATH, .glyph = g, .cp = cp});
    return b;
}

/* Append b to row at its end, shifted up by dy. */
static void hcat(box *row, box *b, double dy)
{
    double x = row->w;
    row->h = fmax(row->h, b->h + dy);
    row->d = fmax(row->d, b->d - dy);
    row->w += b->w;
    row->ic = b->ic;
    put(row, b, x, dy);
}

/* A vertical construction of at least `size` points for code point cp: the
 * smallest size variant that is large enough, else the glyph assembly, else
 * the largest variant. Not centred. */
static box stretched(ctx *c, uint32_t cp, double size, double pt)
{
    unsigned g = kf_glyph(c->f, KM_FACE_MATH, cp);
    if (!g) return glyph(c, KM_FACE_MATH, cp, pt);
    ot_variant v[32];
    int nv = ot_variants(&c->f->ot, g, 1, v, 32);
    for (int i = 0; i < nv; i++)
        if (kf_units(c->f, v[i].advance) * pt >= size)
            return v[i].glyph == g ? glyph(c, KM_FACE_MATH, cp, pt) : outline(c, v[i].glyph, cp, pt);
    ot_part p[16];
    int np = ot_assembly(&c->f->ot, g, 1, p, 16);
    if (np <= 0) return nv ? outline(c, v[nv - 1].glyph, cp, pt) : glyph(c, KM_FACE_MATH, cp, pt);
    /* repeat the extenders until the assembly is tall enough */
    double overlap = kf_units(c->f, ot_min_overlap(&c->f->ot)) * pt;
    int reps = 0;
    double total = 0;
    for (; reps < 200; reps++) {
        int count = 0;
        total = 0;
        for (int i = 0; i < np; i++) {
            int k = p[i].extender ? reps : 1;
            total += k * kf_units(c->f, p[i].full) * pt;
            count += k;
        }
        total -= (count - 1) * overlap;
        if (total >= size) break;
    }
    box b = {0};
    double y = 0;
    int first = 1;
    for (int i = 0; i < np; i++)
        for (int k = 0; k < (p[i].extender ? reps : 1); k++) {
            if (!first) y -= overlap;
            first = 0;
            box piece = outline(c, p[i].glyph, 0, pt);
            b.w = fmax(b.w, piece.w);
            put(&b, &piece, 0, y);
            y += kf_units(c->f, p[i].full) * pt;
        }
    /* the assembly stands on the baseline: its bottom piece's ink starts at
     * its own baseline; use the drawn extent */
    kf_metric m0;
    kf_metrics(c->f, KM_FACE_MATH, p[0].glyph, &m0);
    b.d = -m0.ymin * pt;
    b.h = total - b.d;
    if (b.n) b.item[0].cp = cp;   /* the bottom piece carries the character */
    return b;
}

/* Centre a box on the math axis. */
static void on_axis(ctx *c, sty st, box *b)
{
    double axis = K(c, st, OT_AXIS_HEIGHT);
    double dy = axis - (b->h - b->d) / 2;
    for (int i = 0; i < b->n; i++) b->item[i].y += dy;
    b->h += dy;
    b->d -= dy;
}

/* A delimiter around content of height h and depth d (TeX's rule: 90.1 % of
 * the content's extent about the axis, at most 0.5 em short). */
static box delimiter(ctx *c, sty st, const char *text, double h, double d, double forced)
{
    if (!*text) { box b = {0}; b.w = 0.12 * em(c, st); return b; }
    const char *q = text;
    uint32_t cp = kb_utf8_next_in(&q, text + strlen(text));
    double axis = K(c, st, OT_AXIS_HEIGHT);
    double delta = fmax(h - axis, d + axis);
    double size = forced > 0 ? forced : fmax(2 * delta * 0.901, 2 * delta - 0.5 * em(c, st));
    box b = stretched(c, cp, size, em(c, st));
    on_axis(c, st, &b);
    b.ic = 0;
    return b;
}

static box layout(ctx *c, const km_node *n, sty st, double sh, double sd);

static const char *const rels[] = {"=", "<", ">", ":", "≤", "≥", "≠", "≈", "∼", "≃", "≡", "∝", "≪", "≫", "∈", "∉",
                                   "⊂", "⊆", "≔", "→", "←", "↦", "⇒", "⇐", "⟺", "⟹", "∣"};
static const char *const bins[] = {"+", "−", "⋅", "×", "÷", "±", "∓", "∗", "∘", "⊙", "⊕", "⊗", "∪", "∩", "∖", "∧", "∨"};
static const char *const opens[] = {"(", "[", "{", "⟨", "⌊", "⌈"};
static const char *const closes[] = {")", "]", "}", "⟩", "⌋", "⌉", "!", "?"};

static int in(const char *t, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t, set[i])) return 1;
    return 0;
}
#define IN(t, set) in(t, set, sizeof set / sizeof set[0])

static int class_of(const km_node *n)
{
    switch (n->kind) {
    case KM_IDENT: return n->flags & (KM_F_FUNC | KM_F_LARGEOP) ? C_OP : C_ORD;
    case KM_OP:
        if (n->flags & KM_F_LARGEOP) return C_OP;
        if (IN(n->text, rels)) return C_REL;
        if (IN(n->text, bins)) return C_BIN;
        if (IN(n->text, opens)) return C_OPEN;
        if (IN(n->text, closes)) return C_CLOSE;
        if (!strcmp(n->text, ",") || !strcmp(n->text, ";")) return C_PUNCT;
        return C_ORD;
    case KM_SCRIPT: return class_of(n->kid[0]);
    case KM_FRAC: case KM_FENCED: return C_INNER;
    case KM_SPACE: return C_NONE;
    default: return C_ORD;
    }
}

/* TeX's spacing between atom classes, in mu (1/18 em): negative = only in
 * display and text style. */
static const int8_t space_mu[8][8] = {
    /*          ORD OP BIN REL OPEN CLOSE PUNCT INNER */
    /* ORD */   {0, 3, -4, -5, 0, 0, 0, -3},
    /* OP */    {3, 3, 0, -5, 0, 0, 0, -3},
    /* BIN */   {-4, -4, 0, 0, -4, 0, 0, -4},
    /* REL */   {-5, -5, 0, 0, -5, 0, 0, -5},
    /* OPEN */  {0, 0, 0, 0, 0, 0, 0, 0},
    /* CLOSE */ {0, 3, -4, -5, 0, 0, 0, -3},
    /* PUNCT */ {-3, -3, 0, -3, -3, -3, -3, -3},
    /* INNER */ {-3, 3, -4, -5, -3, 0, -3, -3},
};

static box row(ctx *c, const km_node *n, sty st, double sh, double sd)
{
    int cls[n->n > 0 ? n->n : 1];
    for (int i = 0; i < n->n; i++) cls[i] = class_of(n->kid[i]);
    /* a binary operator with nothing to combine is an ordinary symbol */
    int prev = -1;
    for (int i = 0; i < n->n; i++) {
        if (cls[i] == C_NONE) continue;
        if (cls[i] == C_BIN && (prev < 0 || cls[prev] == C_BIN || cls[prev] == C_OP || cls[prev] == C_REL ||
                                cls[prev] == C_OPEN || cls[prev] == C_PUNCT))
            cls[i] = C_ORD;
        if (prev >= 0 && cls[prev] == C_BIN && (cls[i] == C_REL || cls[i] == C_CLOSE || cls[i] == C_PUNCT))
            cls[prev] = C_ORD;
        prev = i;
    }
    if (prev >= 0 && cls[prev] == C_BIN) cls[prev] = C_ORD;
    box r = {0};
    r.cls = C_ORD;
    prev = -1;
    for (int i = 0; i < n->n; i++) {
        box b = layout(c, n->kid[i], st, sh, sd);
        if (cls[i] != C_NONE) {
            if (prev >= 0) {
                int mu = space_mu[cls[prev]][cls[i]];
                if (mu < 0) mu = st.s <= ST_T ? -mu : 0;
                r.w += mu / 18.0 * em(c, st);
            }
            prev = i;
        }
        hcat(&r, &b, 0);
        r.oom |= b.oom;
    }
    if (n->n == 1) r.cls = cls[0] == C_NONE ? C_ORD : cls[0];
    return r;
}

static box text_run(ctx *c, int face, const char *s, double size)
{
    box r = {0};
    const char *end = s + strlen(s);
    while (s < end) {
        uint32_t cp = kb_utf8_next_in(&s, end);
        box g = glyph(c, face, cp, size);
        hcat(&r, &g, 0);
    }
    return r;
}

static box ident(ctx *c, const km_node *n, sty st)
{
    if (!*n->text) return (box){0};
    const char *q = n->text;
    kb_utf8_next_in(&q, n->text + strlen(n->text));
    int single = *q == 0;
    int face = (n->flags & KM_F_BOLD) && (n->flags & KM_F_ITALIC) ? KM_FACE_BOLDITALIC
             : n->flags & KM_F_BOLD ? KM_FACE_BOLD
             : (n->flags & KM_F_ITALIC) || (single && !(n->flags & KM_F_UPRIGHT)) ? KM_FACE_ITALIC
             : KM_FACE_MATH;
    box b = text_run(c, face, n->text, em(c, st));
    if (!single && !(n->flags & KM_F_ITALIC)) b.ic = 0;
    return b;
}

static box op(ctx *c, const km_node *n, sty st, double sh, double sd)
{
    if (!*n->text) return (box){0};
    const char *q = n->text;
    uint32_t cp = kb_utf8_next_in(&q, n->text + strlen(n->text));
    if (*q) return text_run(c, KM_FACE_MATH, n->text, em(c, st));
    if (n->size > 0) return delimiter(c, st, n->text, 0, 0, n->size * em(c, st));
    if ((n->flags & KM_F_STRETCH) && (sh > 0 || sd > 0)) return delimiter(c, st, n->text, sh, sd, 0);
    if (n->flags & KM_F_LARGEOP) {
        box b;
        if (st.s == ST_D) {
            double min = kf_units(c->f, ot_constant(&c->f->ot, OT_DISPLAY_OP_MIN_HEIGHT)) * em(c, st);
            b = stretched(c, cp, min, em(c, st));
        } else {
            b = glyph(c, KM_FACE_MATH, cp, em(c, st));
        }
        on_axis(c, st, &b);
        return b;
    }
    return glyph(c, KM_FACE_MATH, cp, em(c, st));
}

static box frac(ctx *c, const km_node *n, sty st)
{
    if (n->flags & KM_F_DISPLAY) st.s = ST_D;
    if (n->flags & KM_F_TEXTST) st.s = ST_T;
    int disp = st.s == ST_D;
    sty ns = frac_style(st), ds = frac_style(st);
    ds.cramped = 1;
    box num = layout(c, n->kid[0], ns, 0, 0), den = layout(c, n->kid[1], ds, 0, 0);
    double axis = K(c, st, OT_AXIS_HEIGHT), u, v, t = 0;
    if (n->flags & KM_F_NOBAR) {
        u = K(c, st, disp ? OT_STACK_TOP_DISPLAY_SHIFT_UP : OT_STACK_TOP_SHIFT_UP);
        v = K(c, st, disp ? OT_STACK_BOTTOM_DISPLAY_SHIFT_DOWN : OT_STACK_BOTTOM_SHIFT_DOWN);
        double gap = K(c, st, disp ? OT_STACK_DISPLAY_GAP_MIN : OT_STACK_GAP_MIN);
        double have = (u - num.d) - (den.h - v);
        if (have < gap) { u += (gap - have) / 2; v += (gap - have) / 2; }
    } else {
        t = K(c, st, OT_FRAC_RULE_THICKNESS);
        u = fmax(K(c, st, disp ? OT_FRAC_NUM_DISPLAY_SHIFT_UP : OT_FRAC_NUM_SHIFT_UP),
                 axis + t / 2 + K(c, st, disp ? OT_FRAC_NUM_DISPLAY_GAP_MIN : OT_FRAC_NUM_GAP_MIN) + num.d);
        v = fmax(K(c, st, disp ? OT_FRAC_DEN_DISPLAY_SHIFT_DOWN : OT_FRAC_DEN_SHIFT_DOWN),
                 den.h + K(c, st, disp ? OT_FRAC_DEN_DISPLAY_GAP_MIN : OT_FRAC_DEN_GAP_MIN) - (axis - t / 2));
    }
    double pad = 0.12 * em(c, st), w = fmax(num.w, den.w);
    box b = {0};
    b.w = w + 2 * pad;
    b.h = u + num.h;
    b.d = v + den.d;
    double nw = num.w, dw = den.w;
    put(&b, &num, pad + (w - nw) / 2, u);
    put(&b, &den, pad + (w - dw) / 2, -v);
    if (t > 0) rule(&b, pad, axis - t / 2, w, t);
    return b;
}

static box radical(ctx *c, const km_node *n, sty st)
{
    sty bs = st;
    bs.cramped = 1;
    box body = layout(c, n->kid[0], bs, 0, 0);
    double gap = K(c, st, st.s == ST_D ? OT_RADICAL_DISPLAY_GAP : OT_RADICAL_GAP);
    double t = K(c, st, OT_RADICAL_RULE_THICKNESS), extra = K(c, st, OT_RADICAL_EXTRA_ASCENDER);
    double need = body.h + body.d + gap + t;
    box r = stretched(c, 0x221A, need, em(c, st));
    double rtotal = r.h + r.d;
    if (rtotal > need) gap += (rtotal - need) / 2;
    double top = body.h + gap + t;
    double dy = top - r.h;   /* the radical's top meets the rule's top */
    box b = {0};
    double x = 0;
    if (n->kid[1]) {
        sty ds = {ST_SS, 0};
        box deg = layout(c, n->kid[1], ds, 0, 0);
        double before = K(c, st, OT_RADICAL_KERN_BEFORE_DEGREE), after = K(c, st, OT_RADICAL_KERN_AFTER_DEGREE);
        double raise = ot_constant(&c->f->ot, OT_RADICAL_DEGREE_RAISE) / 100.0 * rtotal;
        double base_y = dy - r.d + raise;
        double dw = deg.w;
        b.h = fmax(b.h, base_y + deg.h);
        put(&b, &deg, fmax(0, before), base_y);
        x = fmax(0, before + dw + after);
    }
    double rw = r.w;
    b.h = fmax(b.h, top + extra);
    b.d = fmax(body.d, r.d - dy);
    put(&b, &r, x, dy);
    x += rw;
    rule(&b, x, top - t, body.w, t);
    put(&b, &body, x, 0);
    b.w = x + body.w;
    return b;
}

static int is_prime_row(const km_node *n)
{
    if (!n || n->kind != KM_ROW || !n->n) return 0;
    for (int i = 0; i < n->n; i++)
        if (n->kid[i]->kind != KM_OP || strcmp(n->kid[i]->text, "′")) return 0;
    return 1;
}

static box limits(ctx *c, const km_node *n, sty st, box base)
{
    box up = {0}, lo = {0};
    int has_up = n->kid[2] != NULL, has_lo = n->kid[1] != NULL;
    if (has_up) up = layout(c, n->kid[2], sup_style(st), 0, 0);
    if (has_lo) lo = layout(c, n->kid[1], sub_style(st), 0, 0);
    double w = fmax(base.w, fmax(up.w, lo.w)), ic = base.ic;
    box b = {0};
    b.cls = C_OP;
    b.w = w;
    b.h = base.h;
    b.d = base.d;
    if (has_up) {
        double u = base.h + fmax(K(c, st, OT_UPPER_LIMIT_GAP_MIN) + up.d, K(c, st, OT_UPPER_LIMIT_BASELINE_RISE_MIN));
        b.h = u + up.h;
        double uw = up.w;
        put(&b, &up, (w - uw) / 2 + ic / 2, u);
    }
    if (has_lo) {
        double v = base.d + fmax(K(c, st, OT_LOWER_LIMIT_GAP_MIN) + lo.h, K(c, st, OT_LOWER_LIMIT_BASELINE_DROP_MIN));
        b.d = v + lo.d;
        double lw = lo.w;
        put(&b, &lo, (w - lw) / 2 - ic / 2, -v);
    }
    double bw = base.w;
    put(&b, &base, (w - bw) / 2, 0);
    return b;
}

static box scripts(ctx *c, const km_node *n, sty st)
{
    box base = layout(c, n->kid[0], st, 0, 0);
    int large = n->kid[0]->flags & KM_F_LARGEOP;
    if ((n->flags & KM_F_LIMITS) && (st.s == ST_D || (n->flags & KM_F_FORCELIM))) return limits(c, n, st, base);
    const km_node *supn = n->kid[2], *subn = n->kid[1];
    box b = {0};
    b.cls = base.cls;
    double bw = base.w, bh = base.h, bd = base.d, ic = base.ic;
    hcat(&b, &base, 0);
    b.ic = 0;
    if (supn && is_prime_row(supn) && !subn) {   /* f': primes at full size, not raised */
        b.w += ic;
        box pr = layout(c, supn, st, 0, 0);
        hcat(&b, &pr, 0);
        return b;
    }
    box sup = {0}, sub = {0};
    if (supn) sup = layout(c, supn, sup_style(st), 0, 0);
    if (subn) sub = layout(c, subn, sub_style(st), 0, 0);
    double u = 0, v = 0;
    if (supn)
        u = fmax(fmax(K(c, st, st.cramped ? OT_SUP_SHIFT_UP_CRAMPED : OT_SUP_SHIFT_UP), bh - K(c, st, OT_SUP_BASELINE_DROP_MAX)),
                 K(c, st, OT_SUP_BOTTOM_MIN) + sup.d);
    if (subn) {
        v = fmax(K(c, st, OT_SUB_SHIFT_DOWN), bd + K(c, st, OT_SUB_BASELINE_DROP_MIN));
        if (!supn) v = fmax(v, sub.h - K(c, st, OT_SUB_TOP_MAX));
    }
    if (supn && subn) {
        double gap = (u - sup.d) - (sub.h - v), min = K(c, st, OT_SUB_SUP_GAP_MIN);
        if (gap < min) {
            double up = fmin(min - gap, fmax(0, K(c, st, OT_SUP_BOTTOM_MAX_WITH_SUB) - (u - sup.d)));
            u += up;
            v += min - gap - up;
        }
    }
    double end = bw;
    if (supn) {
        double x = bw + ic;
        b.h = fmax(b.h, u + sup.h);
        end = fmax(end, x + sup.w);
        put(&b, &sup, x, u);
    }
    if (subn) {
        double x = bw - (large ? ic : 0);
        b.d = fmax(b.d, v + sub.d);
        end = fmax(end, x + sub.w);
        put(&b, &sub, x, -v);
    }
    b.w = end + K(c, st, OT_SPACE_AFTER_SCRIPT);
    (void)bh;
    return b;
}

/* The combining mark the PDF draws for an accent of the tree. */
static uint32_t combining(const char *t)
{
    static const struct { const char *t; uint32_t cp; } m[] = {
        {"^", 0x302}, {"¯", 0x304}, {"~", 0x303}, {"→", 0x20D7}, {"˙", 0x307}, {"¨", 0x308},
        {"ˇ", 0x30C}, {"˘", 0x306}, {"´", 0x301}, {"`", 0x300},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (!strcmp(t, m[i].t)) return m[i].cp;
    return 0x302;
}

static box accent(ctx *c, const km_node *n, sty st)
{
    sty bs = st;
    bs.cramped = 1;
    box base = layout(c, n->kid[0], bs, 0, 0);
    box b = {0};
    b.cls = C_ORD;
    b.w = base.w;
    b.h = base.h;
    b.d = base.d;
    b.ic = base.ic;
    double bw = base.w, bh = base.h, ic = base.ic;
    int one_italic = base.n == 1 && base.item[0].kind == KM_GLYPH && base.item[0].face == KM_FACE_ITALIC;
    put(&b, &base, 0, 0);
    if (!strcmp(n->text, "¯") && (n->flags & KM_F_STRETCH)) {   /* \overline */
        double gap = K(c, st, OT_OVERBAR_GAP), t = K(c, st, OT_OVERBAR_THICKNESS);
        rule(&b, 0, bh + gap, bw, t);
        b.h = bh + gap + t + K(c, st, OT_OVERBAR_EXTRA_ASCENDER);
        return b;
    }
    uint32_t cp = combining(n->text);
    unsigned g = kf_glyph(c->f, KM_FACE_MATH, cp);
    double size = em(c, st);
    if (n->flags & KM_F_STRETCH) {   /* \widehat, \widetilde: a wide enough variant */
        ot_variant v[16];
        int nv = ot_variants(&c->f->ot, g, 0, v, 16);
        for (int i = 0; i < nv; i++) {
            g = v[i].glyph;
            if (kf_units(c->f, v[i].advance) * size >= bw) break;
        }
    }
    kf_metric m;
    kf_metrics(c->f, KM_FACE_MATH, g, &m);
    int ax;
    double acc_x = ot_top_accent(&c->f->ot, g, &ax) ? kf_units(c->f, ax) * size : (m.xmin + m.xmax) / 2 * size;
    double base_x = bw / 2 + (one_italic ? ic / 2 : 0);
    double dy = fmax(0, bh - K(c, st, OT_ACCENT_BASE_HEIGHT));
    /* combining marks have no advance, which libharu's text drawing does not
     * show: an accent is always drawn as an outline */
    box a = outline(c, g, 0, size);
    b.h = fmax(b.h, m.ymax * size + dy);
    put(&b, &a, base_x - acc_x, dy);
    return b;
}

static box fenced(ctx *c, const km_node *n, sty st)
{
    box in = layout(c, n->kid[0], st, 0, 0);
    /* \middle delimiters grow with the content: lay it out again knowing its size */
    double h = in.h, d = in.d;
    free(in.item);
    in = layout(c, n->kid[0], st, h, d);
    box b = {0};
    b.cls = C_INNER;
    box open = delimiter(c, st, n->text, h, d, 0), close = delimiter(c, st, n->text2, h, d, 0);
    hcat(&b, &open, 0);
    hcat(&b, &in, 0);
    hcat(&b, &close, 0);
    b.ic = 0;
    return b;
}

static box table(ctx *c, const km_node *n, sty st)
{
    int rows = n->n, cols = 0;
    for (int r = 0; r < rows; r++) cols = n->kid[r]->n > cols ? n->kid[r]->n : cols;
    sty cs = {n->env == KM_ENV_ALIGNED ? ST_D : st.s == ST_D ? ST_T : st.s, st.cramped};
    box *cell = calloc((size_t)(rows * cols) + 1, sizeof *cell);
    double *cw = calloc((size_t)cols + 1, sizeof *cw), *rh = calloc((size_t)rows + 1, sizeof *rh),
           *rd = calloc((size_t)rows + 1, sizeof *rd);
    box b = {0};
    if (!cell || !cw || !rh || !rd) { b.oom = 1; free(cell); free(cw); free(rh); free(rd); return b; }
    double e = em(c, st);
    /* every row at least a strut tall, as in TeX at 10 pt with a 12 pt
     * baselineskip: aligned rows amsmath's strut (8.5 + 3.5 pt) and \jot
     * (3 pt) between them, 1.5 em from baseline to baseline; cases an array
     * with arraystretch 1.2 (1.44 em); matrices a plain array (1.2 em) */
    const int al = n->env == KM_ENV_ALIGNED, ca = n->env == KM_ENV_CASES;
    const double sh = al ? 0.85 : ca ? 1.008 : 0.84, sd = al ? 0.35 : ca ? 0.432 : 0.36;
    for (int r = 0; r < rows; r++) {
        rh[r] = sh * e;
        rd[r] = sd * e;
        for (int k = 0; k < n->kid[r]->n; k++) {
            const km_node *cn = n->kid[r]->kid[k];
            box *x = &cell[r * cols + k];
            if (n->env == KM_ENV_ALIGNED && k % 2 == 1 && cn->n) {
                /* "&= b": the cell starts as if something stood before it */
                km_node lead = {.kind = KM_ROW};
                km_node ord = {.kind = KM_IDENT, .text = ""};
                km_node *kids[cn->n + 1];
                kids[0] = &ord;
                for (int i = 0; i < cn->n; i++) kids[i + 1] = cn->kid[i];
                lead.kid = kids;
                lead.n = cn->n + 1;
                *x = row(c, &lead, cs, 0, 0);
            } else {
                *x = layout(c, cn, cs, 0, 0);
            }
            cw[k] = fmax(cw[k], x->w);
            rh[r] = fmax(rh[r], x->h);
            rd[r] = fmax(rd[r], x->d);
        }
    }
    double gap = (al ? 0.3 : 0) * e, total = 0;
    for (int r = 0; r < rows; r++) total += rh[r] + rd[r] + (r ? gap : 0);
    double axis = K(c, st, OT_AXIS_HEIGHT), y = axis + total / 2;
    for (int r = 0; r < rows; r++) {
        y -= rh[r];
        double x = 0;
        for (int k = 0; k < cols; k++) {
            box *cb = &cell[r * cols + k];
            double cwk = cw[k], w = cb->w, dx;
            if (n->env == KM_ENV_ALIGNED) {
                if (k % 2 == 0 && k) x += 2 * e;
                dx = k % 2 == 0 ? cwk - w : 0;
            } else if (n->env == KM_ENV_CASES) {
                if (k) x += 1 * e;
                dx = 0;
            } else {
                if (k) x += 1 * e;
                dx = (cwk - w) / 2;
            }
            put(&b, cb, x + dx, y);
            x += cwk;
        }
        b.w = fmax(b.w, x);
        y -= rd[r] + gap;
    }
    b.h = axis + total / 2;
    b.d = total / 2 - axis;
    free(cell);
    free(cw);
    free(rh);
    free(rd);
    return b;
}

static box layout(ctx *c, const km_node *n, sty st, double sh, double sd)
{
    box b = {0};
    switch (n->kind) {
    case KM_ROW: b = row(c, n, st, sh, sd); break;
    case KM_IDENT: b = ident(c, n, st); break;
    case KM_NUMBER: b = text_run(c, n->flags & KM_F_BOLD ? KM_FACE_BOLD : KM_FACE_MATH, n->text, em(c, st)); break;
    case KM_OP: b = op(c, n, st, sh, sd); break;
    case KM_TEXT: b = text_run(c, KM_FACE_TEXT, n->text, em(c, st)); break;
    case KM_SPACE: b.w = n->size * em(c, st); break;
    case KM_FRAC: b = frac(c, n, st); break;
    case KM_SQRT: b = radical(c, n, st); break;
    case KM_SCRIPT: b = scripts(c, n, st); break;
    case KM_ACCENT: b = accent(c, n, st); break;
    case KM_FENCED: b = fenced(c, n, st); break;
    case KM_TABLE: b = table(c, n, st); break;
    case KM_VALUE: {
        size_t l = strlen(n->text);
        char *t = malloc(l + 5);
        if (!t) { b.oom = 1; break; }
        memcpy(t, "{{", 2);
        memcpy(t + 2, n->text, l);
        memcpy(t + 2 + l, "}}", 3);
        b = text_run(c, KM_FACE_TEXT, t, em(c, st));
        free(t);
        break;
    }
    }
    c->oom |= b.oom;
    return b;
}

int km_layout(km_font *f, const km_node *n, int display, double pt, km_box *out)
{
    memset(out, 0, sizeof *out);
    ctx c = {f, pt, 0};
    box b = layout(&c, n, (sty){display ? ST_D : ST_T, 0}, 0, 0);
    if (c.oom || b.oom) { free(b.item); return -1; }
    out->width = b.w;
    out->height = b.h;
    out->depth = b.d;
    out->item = b.item;
    out->n = out->cap = b.n;
    return 0;
}

void km_box_free(km_box *b)
{
    free(b->item);
    memset(b, 0, sizeof *b);
}
