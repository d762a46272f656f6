/* The PDF writer's vertical layout: items (unbreakable boxes with their
 * drawing operations) appended to a flow, and the page breaker.
 *
 * Pagination is first fit with keeps: items fill a page until the next one
 * does not fit; then the break moves back over items marked `keep` (a heading
 * and the first lines after it, the first and last two lines of a paragraph,
 * a caption and its table header), so a heading never ends a page and no
 * paragraph leaves a single line behind. A chain of keeps longer than a page
 * breaks where it must. Space above an item (`pre`) is dropped at the top of
 * a page. A figure that does not fit floats: the paragraph lines after it
 * fill the page and it opens the next one (see float_fill). A table row that
 * opens a page gets its table's header row drawn above it again. */
#include "pdf/internal.h"

#include <stdlib.h>
#include <string.h>

pitem *pl_item(pw *w, float h, float pre)
{
    pflow *f = &w->flows[w->flow];
    KR_GROW(f->it, f->cap, f->n + 1);
    pitem *it = &f->it[f->n++];
    memset(it, 0, sizeof *it);
    it->h = h;
    it->pre = pre;
    it->op0 = w->nop;
    it->chapter = w->chapter;
    return it;
}

pdop *pl_op(pw *w, int kind)
{
    KR_GROW(w->op, w->capop, w->nop + 1);
    pdop *o = &w->op[w->nop++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->ref = -1;
    pflow *f = &w->flows[w->flow];
    if (f->n) f->it[f->n - 1].nop = w->nop - f->it[f->n - 1].op0;
    return o;
}

void pl_text_op(pw *w, int font, float size, uint32_t color, float x, float y, const char *s, int len)
{
    pdop *o = pl_op(w, OP_TEXT);
    o->font = font;
    o->size = size;
    o->color = color;
    o->x = x;
    o->y = y;
    o->s = ka_strndup(w->a, s, (size_t)len);
    o->len = len;
}

void pl_rect(pw *w, float x, float y, float wd, float h, uint32_t color)
{
    pdop *o = pl_op(w, OP_RECT);
    o->x = x;
    o->y = y;
    o->w = wd;
    o->h = h;
    o->color = color;
}

void pl_line(pw *w, float x0, float y0, float x1, float y1, float width, uint32_t color)
{
    pdop *o = pl_op(w, OP_LINE);
    o->x = x0;
    o->y = y0;
    o->w = x1 - x0;
    o->h = y1 - y0;
    o->size = width;
    o->color = color;
}

int pl_dest(pw *w, int chapter, const char *anchor, const kiln_directive *dir, int level, const char *number,
            const char *title, int toc)
{
    KR_GROW(w->dest, w->capdest, w->ndest + 1);
    pdest *d = &w->dest[w->ndest];
    memset(d, 0, sizeof *d);
    d->chapter = chapter;
    d->anchor = anchor ? anchor : "";
    d->dir = dir;
    d->level = level;
    d->number = number ? number : "";
    d->title = title ? title : "";
    d->toc = toc;
    d->flow = w->flow;
    d->item = w->flows[w->flow].n; /* the next item laid out */
    d->page = -1;
    return w->ndest++;
}

static void add_repeat(pflow *f, int item, int page, float y)
{
    KR_GROW(f->rep, f->caprep, f->nrep + 1);
    f->rep[f->nrep++] = (prepeat){item, page, y};
}

/* The last item of the chain that keeps with item i (i itself when none):
 * a figure and its result line move together. */
static int chain_end(const pflow *f, int i)
{
    int e = i;
    while (e + 1 < f->n && f->it[e].keep && !f->it[e + 1].new_page) e++;
    return e;
}

/* The figure i (with the chain kept with it, up to e) does not fit below y:
 * the last of the text items after it that can be set on this page instead
 * (each one fits and a page break is allowed after the last); i when none.
 * The run of text stops at anything that is not a paragraph line (a heading,
 * a table, another figure, a new chapter), so a figure never floats out of
 * its section. */
static int float_fill(const pw *w, const pflow *f, int i, int e, float y)
{
    int best = i;
    for (int j = e + 1; j < f->n; j++) {
        const pitem *t = &f->it[j];
        if (!(t->fl & PI_TEXT) || t->new_page) break;
        y += t->pre + t->h;
        if (y > w->text_h + 0.01f) break;
        if (!t->keep) best = j;
    }
    return best;
}

/* A figure may be set smaller, down to this share of its height, so that
 * it (and what keeps with it) still fits at the bottom of a page. */
#define FIG_MIN_SCALE 0.8f

/* The image of figure item `it` (NULL when it has none, e.g. a placeholder). */
static pdop *figure_image(pw *w, const pitem *it)
{
    for (int o = it->op0; o < it->op0 + it->nop; o++)
        if (w->op[o].kind == OP_IMAGE) return &w->op[o];
    return NULL;
}

/* Shrink figure item `it` by d points of height: the image keeps its aspect
 * ratio and stays centred, the caption below it moves up, quote bars drawn
 * before it get shorter. */
static void figure_shrink(pw *w, pitem *it, pdop *img, float d)
{
    float s = (img->h - d) / img->h;
    int io = (int)(img - w->op);
    for (int o = it->op0; o < it->op0 + it->nop; o++) {
        pdop *op = &w->op[o];
        if (o < io) {
            if (op->kind == OP_RECT) op->h -= d;
        } else if (o > io) {
            op->y -= d;
        }
    }
    float nw = img->w * s;
    img->x += (img->w - nw) / 2;
    img->w = nw;
    img->h -= d;
    it->h -= d;
}

/* Item i ends with a colon: a line that introduces what comes next
 * ("... the network barely moves from where it started:"), which must not
 * be parted from it by text floated in between. */
static int ends_with_colon(const pw *w, const pitem *it)
{
    for (int o = it->op0 + it->nop - 1; o >= it->op0; o--) {
        const pdop *op = &w->op[o];
        if (op->kind != OP_TEXT || op->len <= 0) continue;
        int k = op->len;
        while (k > 0 && (op->s[k - 1] == ' ' || op->s[k - 1] == '\n')) k--;
        return k > 0 && op->s[k - 1] == ':';
    }
    return 0;
}

/* A break before item b falls inside a code listing that fits on a page,
 * and what follows the listing opens a new page (or nothing does): the
 * listing's last lines would sit alone on a page. The listing moves whole to
 * the next page, with a line introducing it ("...:") and what keeps with
 * that; returns the new break, b when nothing moves. */
static int listing_spill(const pw *w, const pflow *f, int b, int start)
{
    const pitem *it = &f->it[b];
    if (!it->listing || it->listing - 1 >= b) return b;
    int first = it->listing - 1, e = b;
    while (e + 1 < f->n && f->it[e + 1].listing == it->listing) e++;
    if (e + 1 < f->n && !f->it[e + 1].new_page) return b;
    float h = 0;
    for (int j = first; j <= e; j++) h += (j > first ? f->it[j].pre : 0) + f->it[j].h;
    if (h > w->text_h) return b;
    int nb = first;
    if (nb > start && ends_with_colon(w, &f->it[nb - 1])) {
        nb--;
        while (nb > start && f->it[nb - 1].keep && !f->it[nb].new_page) nb--;
    }
    /* a short text (up to 6 lines) between a heading and the listing goes
     * with it, and the heading too, when they fit on the page together */
    int j = nb;
    while (j > start && (f->it[j - 1].fl & PI_TEXT) && nb - j < 6) j--;
    if (j < nb && j > start && !(f->it[j - 1].fl & PI_TEXT) && f->it[j - 1].keep && !f->it[j - 1].listing) {
        int hb = j;
        while (hb > start && f->it[hb - 1].keep && !f->it[hb].new_page) hb--;
        float hh = 0;
        for (int k = hb; k < first; k++) hh += (k > hb ? f->it[k].pre : 0) + f->it[k].h;
        if (hb > start && hh + f->it[first].pre + h <= w->text_h) nb = hb;
    }
    if (nb <= start) nb = first;
    return nb > start ? nb : b;
}

/* A break before item b leaves less than two lines' height of text for the
 * page after it, which is the last before a new page (a chapter's last
 * lines): the break moves back, over items a break may precede, until at
 * least four lines' height goes over, so no page holds a line or two alone;
 * b when nothing moves. */
#define SHORT_TAIL (2.5f * 14.f)
#define TAIL_MIN (4.f * 14.f)
static int short_tail(const pw *w, const pflow *f, int b, int start)
{
    float h = 0;
    for (int j = b; j < f->n && !(j > b && f->it[j].new_page); j++) h += (j > b ? f->it[j].pre : 0) + f->it[j].h;
    if (h >= SHORT_TAIL) return b;
    int nb = b;
    while (nb > start + 1 && h < TAIL_MIN) {
        nb--;
        h += f->it[nb].h + f->it[nb + 1].pre;
        while (nb > start + 1 && f->it[nb - 1].keep) {
            nb--;
            h += f->it[nb].h + f->it[nb + 1].pre;
        }
    }
    if (h > w->text_h || (nb > start && f->it[nb - 1].keep)) return b;
    return nb;
}

int pl_paginate(pw *w, pflow *f, int first_page)
{
    int page = first_page;
    int start = 0;    /* first item (in flow order) that may move to the next page */
    int placed = 0;   /* something is on the current page */
    int float_page = 0; /* the current page opened with a floated figure */
    float y = 0;
    int i = 0;
    f->nrep = 0;
    while (i < f->n) {
        pitem *it = &f->it[i];
        if (it->new_page && placed) {
            page++;
            start = i;
            y = 0;
            placed = float_page = 0;
            continue;
        }
        float pre = placed ? it->pre : 0;
        /* a figure counts with what keeps with it (its result line, the
         * range test's suggestions); one that misses the bottom of the page
         * by a little is set smaller */
        int e = i;
        float chain_h = 0;
        if (placed && (it->fl & PI_FLOAT)) {
            e = chain_end(f, i);
            for (int j = i + 1; j <= e; j++) chain_h += f->it[j].pre + f->it[j].h;
            float need = y + pre + it->h + chain_h - w->text_h;
            pdop *img = figure_image(w, it);
            if (need > 0 && img && img->h > 0 && need <= img->h * (1 - FIG_MIN_SCALE))
                figure_shrink(w, it, img, need + 0.02f);
        }
        if (!placed || y + pre + it->h + chain_h <= w->text_h + 0.01f) {
            /* a table row opening a page: its header row again first */
            if (!placed && it->hdr && it->hdr - 1 < i) {
                add_repeat(f, it->hdr - 1, page, 0);
                y = f->it[it->hdr - 1].h;
            }
            it->page = page;
            it->y = y + pre;
            y += pre + it->h;
            placed = 1;
            i++;
            continue;
        }
        /* a figure that does not fit: the text after it (and after its
         * result line) fills this page and the figure opens the next one */
        if ((it->fl & PI_FLOAT) && i > start && !f->it[i - 1].keep && !ends_with_colon(w, &f->it[i - 1])) {
            int k = float_fill(w, f, i, e, y);
            if (k > i) {
                for (int j = e + 1; j <= k; j++) {
                    pitem *t = &f->it[j];
                    /* the first line no longer follows a table: the space
                     * between paragraphs */
                    float tp = j == e + 1 && t->pre > 6 ? 6 : t->pre;
                    t->page = page;
                    t->y = y + tp;
                    y += tp + t->h;
                }
                page++;
                y = 0;
                for (int j = i; j <= e; j++) {
                    pitem *t = &f->it[j];
                    float tp = j > i ? t->pre : 0;
                    t->page = page;
                    t->y = y + tp;
                    y += tp + t->h;
                }
                placed = float_page = 1;
                start = i = k + 1;
                continue;
            }
        }
        /* i does not fit: break before i, or earlier if i-1 keeps with i */
        int b = i;
        while (b > start && f->it[b - 1].keep && !f->it[b].new_page) b--;
        /* the whole page is one chain: break here (unless the page holds a
         * floated figure above the chain: the chain moves on) */
        if (b == start && !(float_page && b < i)) b = i;
        b = listing_spill(w, f, b, start);
        if (b > start) b = short_tail(w, f, b, start);
        page++;
        start = b;
        y = 0;
        placed = float_page = 0;
        i = b;
    }
    return page - first_page + 1;
}

void pl_flow_free(pflow *f)
{
    free(f->it);
    free(f->rep);
    memset(f, 0, sizeof *f);
}
