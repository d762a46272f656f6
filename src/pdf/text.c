/* Paragraphs for the PDF writer: styled text -> words -> lines.
 *
 * A word is a run of segments (one font, size, colour, link each) between
 * spaces; the space after it is glue that may stretch by half its width and
 * shrink by a quarter. Lines are chosen by total fit: the break sequence with
 * the least sum of (10 + badness)^2 over the lines (badness 100 r^3, r the
 * stretch or shrink ratio), which spreads loose lines instead of leaving one
 * very loose line as greedy breaking does. No line is overfull: a word wider
 * than the line is cut at character boundaries into pieces that fit. */
#include "pdf/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LINK_COLOR 0x1F4E9Au
#define CODE_SCALE 0.88f

void pp_init(ppara *p, pw *w)
{
    memset(p, 0, sizeof *p);
    p->w = w;
}

void pp_free(ppara *p)
{
    for (int i = 0; i < p->nseg; i++) free(p->seg[i].s);
    free(p->seg);
    free(p->wd);
    memset(p, 0, sizeof *p);
}

static pseg *new_seg(ppara *p)
{
    KR_GROW(p->seg, p->capseg, p->nseg + 1);
    pseg *s = &p->seg[p->nseg++];
    memset(s, 0, sizeof *s);
    return s;
}

static pword *new_word(ppara *p)
{
    KR_GROW(p->wd, p->capwd, p->nwd + 1);
    pword *w = &p->wd[p->nwd++];
    memset(w, 0, sizeof *w);
    w->s0 = p->nseg;
    return w;
}

static void seg_append(pseg *s, const char *b, int n)
{
    /* capacity: the next power of two >= len (at least 16) */
    int cap = 16;
    while (cap < s->len + 1) cap *= 2;
    if (s->len + n + 1 > cap || !s->s) {
        KR_GROW(s->s, cap, s->len + n + 1);
    }
    memcpy(s->s + s->len, b, (size_t)n);
    s->len += n;
    s->s[s->len] = 0;
}

static int style_font(const pstyle *st) { return pf_style_font(st->code ? PF_MONO : st->family, st->bits); }
static float style_size(const pstyle *st) { return st->code ? st->size * CODE_SCALE : st->size; }

static float space_width(ppara *p, const pstyle *st)
{
    int f;
    uint32_t c;
    pf_resolve(p->w->fonts, style_font(st), ' ', &f, &c);
    return (float)pf_width(p->w->fonts, f, c) * style_size(st) / 1000.f;
}

/* One character of a word. */
static void add_char(ppara *p, const pstyle *st, uint32_t cp)
{
    int f;
    uint32_t c;
    pf_resolve(p->w->fonts, style_font(st), cp, &f, &c);
    if (c != cp) p->w->warned_missing++;
    float size = style_size(st);
    float cw = (float)pf_width(p->w->fonts, f, c) * size / 1000.f;
    if (cw < 0) cw = 0;
    if (!p->open) {
        new_word(p);
        p->open = 1;
    }
    pword *w = &p->wd[p->nwd - 1];
    pseg *s = w->ns ? &p->seg[p->nseg - 1] : NULL;
    uint32_t color = st->url ? LINK_COLOR : st->color;
    if (!s || s->math || s->strike != st->strike || s->font != f || s->size != size || s->color != color || s->code != st->code || s->url != st->url) {
        s = new_seg(p);
        s->font = f;
        s->size = size;
        s->color = color;
        s->code = st->code;
        s->url = st->url;
        s->chapter = st->chapter;
        s->strike = st->strike;
        w->ns++;
    }
    char b[4];
    seg_append(s, b, pu_put(b, c));
    s->w += cw;
    w->w += cw;
}

void pp_space(ppara *p, const pstyle *st)
{
    if (p->open) {
        p->open = 0;
        p->wd[p->nwd - 1].sp = space_width(p, st);
    } else if (p->nwd && !p->wd[p->nwd - 1].hard && p->wd[p->nwd - 1].sp == 0) {
        p->wd[p->nwd - 1].sp = space_width(p, st);
    }
}

void pp_text(ppara *p, const pstyle *st, const char *text)
{
    const char *q = text ? text : "";
    while (*q) {
        uint32_t c = kb_utf8_next(&q);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') pp_space(p, st);
        else add_char(p, st, c);
    }
}

void pp_word(ppara *p, const pstyle *st, const char *text)
{
    const char *q = text ? text : "";
    while (*q) add_char(p, st, kb_utf8_next(&q));
}

void pp_math(ppara *p, const pstyle *st, const km_box *b)
{
    if (!p->open) {
        new_word(p);
        p->open = 1;
    }
    pword *w = &p->wd[p->nwd - 1];
    pseg *s = new_seg(p);
    s->size = style_size(st);
    s->color = st->url ? LINK_COLOR : st->color;
    s->url = st->url;
    s->chapter = st->chapter;
    s->math = b;
    s->w = (float)b->width;
    w->ns++;
    w->w += s->w;
}

void pp_hard_break(ppara *p)
{
    if (!p->nwd) return;
    p->open = 0;
    p->wd[p->nwd - 1].hard = 1;
    p->wd[p->nwd - 1].sp = 0;
}

void pp_plain(sbuf *b, const kiln_inline *in)
{
    for (; in; in = in->next) {
        if (in->kind == KILN_IN_SOFTBREAK || in->kind == KILN_IN_LINEBREAK) sb_addc(b, ' ');
        else if (in->kind == KILN_IN_HTML) continue;
        else if (in->kind == KILN_IN_MATH && in->math) {   /* values filled in by now */
            char *p = km_plain(in->math);
            sb_add(b, p);
            free(p);
        } else if (in->children) pp_plain(b, in->children);
        else sb_add(b, in->text);
    }
}

void pp_inlines(ppara *p, const pstyle *base, const kiln_inline *in)
{
    for (; in; in = in->next) {
        pstyle st = *base;
        switch (in->kind) {
        case KILN_IN_TEXT:
        case KILN_IN_VALUE:
            pp_text(p, &st, in->text);
            break;
        case KILN_IN_CODE:
            st.code = 1;
            pp_text(p, &st, in->text);
            break;
        case KILN_IN_EMPH:
            st.bits ^= PS_ITALIC;
            pp_inlines(p, &st, in->children);
            break;
        case KILN_IN_STRONG:
            st.bits |= PS_BOLD;
            pp_inlines(p, &st, in->children);
            break;
        case KILN_IN_LINK:
            if (in->url && in->url[0]) st.url = in->url;
            pp_inlines(p, &st, in->children);
            break;
        case KILN_IN_REF:
            if (in->url && in->url[0]) st.url = in->url;
            pp_text(p, &st, in->text);
            break;
        case KILN_IN_IMAGE: {
            sbuf alt = {0};
            pp_plain(&alt, in->children);
            st.bits ^= PS_ITALIC;
            pp_text(p, &st, "[image:");
            pp_space(p, &st);
            pp_text(p, &st, alt.s && alt.s[0] ? alt.s : in->url);
            pp_text(p, &st, "]");
            sb_free(&alt);
            break;
        }
        case KILN_IN_SOFTBREAK: pp_space(p, &st); break;
        case KILN_IN_LINEBREAK: pp_hard_break(p); break;
        case KILN_IN_HTML: break;
        case KILN_IN_CITE:
            pp_inlines(p, &st, in->children);
            break;
        case KILN_IN_STRIKE:
            st.strike = 1;
            pp_inlines(p, &st, in->children);
            break;
        case KILN_IN_FOOTREF: {
            /* the number in superscript digits, attached to the word before */
            static const char *const sup[10] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
            char buf[64] = "";
            for (const char *d = in->text; *d && strlen(buf) < 56; d++)
                if (*d >= '0' && *d <= '9') strcat(buf, sup[*d - '0']);
            pp_word(p, &st, buf);
            break;
        }
        case KILN_IN_MATH: {
            const km_box *b = pm_box(p->w, in->math, 0, style_size(&st));
            if (b) pp_math(p, &st, b);
            else pp_text(p, &st, in->text);
            break;
        }
        }
    }
}

float pp_min_width(const ppara *p)
{
    float m = 0;
    for (int i = 0; i < p->nwd; i++) m = p->wd[i].w > m ? p->wd[i].w : m;
    return m;
}

float pp_natural_width(const ppara *p)
{
    float line = 0, m = 0;
    for (int i = 0; i < p->nwd; i++) {
        line += p->wd[i].w;
        if (p->wd[i].hard || i == p->nwd - 1) {
            m = line > m ? line : m;
            line = 0;
        } else {
            line += p->wd[i].sp;
        }
    }
    return m;
}

/* Cut every word wider than `width` into pieces that fit. */
static void split_long(ppara *p, float width)
{
    int any = 0;
    for (int i = 0; i < p->nwd; i++) any |= p->wd[i].w > width;
    if (!any) return;
    ppara q;
    pp_init(&q, p->w);
    for (int i = 0; i < p->nwd; i++) {
        pword *src = &p->wd[i];
        pword *dw = new_word(&q);
        if (src->w <= width) {
            for (int k = 0; k < src->ns; k++) {
                pseg *s = new_seg(&q);
                *s = p->seg[src->s0 + k];
                p->seg[src->s0 + k].s = NULL; /* moved */
                dw->ns++;
            }
            dw->w = src->w;
            dw->sp = src->sp;
            dw->hard = src->hard;
            continue;
        }
        for (int k = 0; k < src->ns; k++) {
            const pseg *ss = &p->seg[src->s0 + k];
            pseg *out = NULL;
            if (ss->math) {   /* a formula is never cut */
                if (dw->w > 0 && dw->w + ss->w > width) dw = new_word(&q);
                pseg *m = new_seg(&q);
                *m = *ss;
                dw = &q.wd[q.nwd - 1];
                dw->ns++;
                dw->w += ss->w;
                continue;
            }
            const char *c = ss->s ? ss->s : "";
            while (*c) {
                const char *c0 = c;
                uint32_t cp = kb_utf8_next(&c);
                float cw = (float)pf_width(p->w->fonts, ss->font, cp) * ss->size / 1000.f;
                if (cw < 0) cw = 0;
                if (dw->w > 0 && dw->w + cw > width) {
                    dw = new_word(&q); /* the previous piece: sp 0, no gap */
                    out = NULL;
                }
                if (!out) {
                    out = new_seg(&q);
                    *out = *ss;
                    out->s = NULL;
                    out->len = 0;
                    out->w = 0;
                    dw = &q.wd[q.nwd - 1];
                    dw->ns++;
                }
                seg_append(out, c0, (int)(c - c0));
                out->w += cw;
                dw->w += cw;
            }
        }
        dw->sp = src->sp;
        dw->hard = src->hard;
    }
    pp_free(p);
    *p = q;
}

int pp_break(ppara *p, float width, pline **lines)
{
    *lines = NULL;
    if (p->nwd == 0) return 0;
    split_long(p, width);
    int n = p->nwd;
    double *best = malloc(sizeof *best * (size_t)(n + 1));
    int *prev = malloc(sizeof *prev * (size_t)(n + 1));
    if (!best || !prev) abort();
    for (int i = 0; i <= n; i++) { best[i] = INFINITY; prev[i] = -1; }
    best[0] = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(best[i])) continue;
        double nat = 0, stretch = 0, shrink = 0;
        for (int j = i; j < n; j++) {
            if (j > i) {
                double sp = p->wd[j - 1].sp;
                nat += sp;
                stretch += 0.5 * sp;
                shrink += 0.25 * sp;
            }
            nat += p->wd[j].w;
            if (j > i && nat - shrink > width + 0.01) break;
            int last = j == n - 1 || p->wd[j].hard;
            double bad;
            if (nat <= width + 0.01) {
                if (last) bad = 0;
                else if (stretch <= 0) bad = nat >= width - 0.5 ? 0 : 10000;
                else {
                    double r = (width - nat) / stretch;
                    bad = r > 10 ? 10000 : 100 * r * r * r;
                }
            } else {
                double r = shrink > 0 ? (nat - width) / shrink : 1;
                bad = 100 * r * r * r;
            }
            if (bad > 10000) bad = 10000;
            double dm = (10 + bad) * (10 + bad);
            if (best[i] + dm < best[j + 1]) {
                best[j + 1] = best[i] + dm;
                prev[j + 1] = i;
            }
            if (p->wd[j].hard) break;
        }
    }
    int count = 0;
    for (int j = n; j > 0; j = prev[j]) count++;
    pline *ls = calloc((size_t)count, sizeof *ls);
    if (!ls) abort();
    int k = count;
    for (int j = n; j > 0; j = prev[j]) {
        pline *l = &ls[--k];
        l->w0 = prev[j];
        l->w1 = j;
        l->last = j == n || p->wd[j - 1].hard;
        float nat = 0;
        for (int q = l->w0; q < l->w1; q++) nat += p->wd[q].w + (q < l->w1 - 1 ? p->wd[q].sp : 0);
        l->natural = nat;
    }
    free(best);
    free(prev);
    *lines = ls;
    return count;
}

void pp_emit_line(ppara *p, const pline *ln, float x, float baseline, float width, int align)
{
    float inner = 0;
    for (int q = ln->w0; q < ln->w1 - 1; q++) inner += p->wd[q].sp;
    float extra = width - ln->natural;
    float f = 0; /* each gap becomes sp * (1 + f) */
    if (align == PA_JUSTIFY && !ln->last && inner > 0) {
        f = extra / inner;
        if (f > 2.0f) f = 0; /* too loose to justify: set it ragged */
        if (f < -0.25f) f = -0.25f;
    } else if (extra < 0 && inner > 0) {
        /* the breaker may end a paragraph (or set a ragged line) with its
         * spaces shrunk by up to a quarter: shrink them here too, or the
         * last word runs past the margin */
        f = extra / inner;
        if (f < -0.25f) f = -0.25f;
    }
    float used = ln->natural + f * inner;
    float cx = x;
    if (align == PA_CENTER) cx += (width - used) / 2;
    else if (align == PA_RIGHT) cx += width - used;
    if (cx < x) cx = x; /* never left of the margin */
    for (int q = ln->w0; q < ln->w1; q++) {
        const pword *wd = &p->wd[q];
        for (int k = 0; k < wd->ns; k++) {
            const pseg *s = &p->seg[wd->s0 + k];
            if (s->code) pl_rect(p->w, cx - 1, baseline - s->size * 0.92f, s->w + 2, s->size * 1.22f, 0xEEEEEEu);
            if (s->len) pl_text_op(p->w, s->font, s->size, s->color, cx, baseline, s->s, s->len);
            if (s->strike) pl_line(p->w, cx, baseline - s->size * 0.3f, cx + s->w, baseline - s->size * 0.3f, s->size * 0.06f, s->color);
            if (s->math) {
                pdop *o = pl_op(p->w, OP_MATH);
                o->x = cx;
                o->y = baseline;
                o->box = s->math;
                o->color = s->color;
            }
            if (s->url) {
                pdop *o = pl_op(p->w, OP_LINK);
                o->x = cx;
                o->y = baseline - s->size * 0.95f;
                o->w = s->w;
                o->h = s->size * 1.25f;
                o->s = s->url;
                o->ref = -1;
                o->chapter = s->chapter;
            }
            cx += s->w;
        }
        if (q < ln->w1 - 1) cx += wd->sp * (1 + f);
    }
}

/* ---- one-line labels (no wrapping) --------------------------------------------------- */

float pp_label_width(pw *w, const pstyle *st, const char *text)
{
    ppara p;
    pp_init(&p, w);
    pp_word(&p, st, text);
    float wd = p.nwd ? p.wd[0].w : 0;
    pp_free(&p);
    return wd;
}

float pp_label(pw *w, const pstyle *st, float x, float baseline, const char *text)
{
    ppara p;
    pp_init(&p, w);
    pp_word(&p, st, text);
    float wd = 0;
    if (p.nwd) {
        pline l = {0, 1, p.wd[0].w, 1};
        pp_emit_line(&p, &l, x, baseline, p.wd[0].w, PA_LEFT);
        wd = p.wd[0].w;
    }
    pp_free(&p);
    return wd;
}
