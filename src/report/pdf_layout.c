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
#include "report/pdf_internal.h"

#include <stdlib.h>
#include <string.h>

pitem *pl_item(pw *w, float h, float pre)
{
    pflow *f = &w->flows[w->flow];
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 256;
        f->it = realloc(f->it, sizeof *f->it * (size_t)f->cap);
        if (!f->it) abort();
    }
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
    if (w->nop == w->capop) {
        w->capop = w->capop ? 2 * w->capop : 1024;
        w->op = realloc(w->op, sizeof *w->op * (size_t)w->capop);
        if (!w->op) abort();
    }
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

float pl_label_width(pw *w, const pstyle *st, const char *text)
{
    ppara p;
    pp_init(&p, w);
    pp_word(&p, st, text);
    float wd = p.nwd ? p.wd[0].w : 0;
    pp_free(&p);
    return wd;
}

float pl_label(pw *w, const pstyle *st, float x, float baseline, const char *text)
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

int pl_dest(pw *w, int chapter, const char *anchor, const kiln_directive *dir, int level, const char *number,
            const char *title, int toc)
{
    if (w->ndest == w->capdest) {
        w->capdest = w->capdest ? 2 * w->capdest : 64;
        w->dest = realloc(w->dest, sizeof *w->dest * (size_t)w->capdest);
        if (!w->dest) abort();
    }
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
    if (f->nrep == f->caprep) {
        f->caprep = f->caprep ? 2 * f->caprep : 16;
        f->rep = realloc(f->rep, sizeof *f->rep * (size_t)f->caprep);
        if (!f->rep) abort();
    }
    f->rep[f->nrep++] = (prepeat){item, page, y};
}

/* The figure i does not fit below y: the last of the text items after it
 * that can be set on this page instead (each one fits and a page break is
 * allowed after the last); i when none. The run of text stops at anything
 * that is not a paragraph line (a heading, a table, another figure, a new
 * chapter), so a figure never floats out of its section. */
static int float_fill(const pw *w, const pflow *f, int i, float y)
{
    int best = i;
    for (int j = i + 1; j < f->n; j++) {
        const pitem *t = &f->it[j];
        if (!(t->fl & PI_TEXT) || t->new_page) break;
        y += t->pre + t->h;
        if (y > w->text_h + 0.01f) break;
        if (!t->keep) best = j;
    }
    return best;
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
        if (!placed || y + pre + it->h <= w->text_h + 0.01f) {
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
        /* a figure that does not fit: the text after it fills this page and
         * the figure opens the next one */
        if ((it->fl & PI_FLOAT) && i > start && !f->it[i - 1].keep) {
            int k = float_fill(w, f, i, y);
            if (k > i) {
                for (int j = i + 1; j <= k; j++) {
                    pitem *t = &f->it[j];
                    t->page = page;
                    t->y = y + t->pre;
                    y += t->pre + t->h;
                }
                page++;
                it->page = page;
                it->y = 0;
                y = it->h;
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
