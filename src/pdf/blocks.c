/* The PDF writer's block layout: paragraphs, headings, lists, quotes, code,
 * rules, figures and the directives (their tables through table.c), each
 * turned into items of the current flow (see layout.c). Styles live here too. */
#include "pdf/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pstyle ps_make(int family, int bits, float size, uint32_t color)
{
    pstyle s = {family, bits, size, color, 0, NULL, -1, 0};
    return s;
}

float baseline_of(float lead, float size) { return (lead - size) / 2 + 0.78f * size; }

/* An item in a block context: quote bars, a pending list marker, the extra
 * space a list asks for above its first item. */
pitem *new_item(pw *w, ctx *c, float h, float pre, float baseline)
{
    if (c->pre_boost && *c->pre_boost > pre) {
        pre = *c->pre_boost;
        *c->pre_boost = 0;
    } else if (c->pre_boost) {
        *c->pre_boost = 0;
    }
    pl_item(w, h, pre);
    for (int i = 0; i < c->nbars; i++) pl_rect(w, c->bar_x[i], -pre, 2.0f, h + pre, 0xC9CED6u);
    if (c->marker && *c->marker) {
        pstyle ms = ps_make(PF_SERIF, 0, BODY_SIZE, TEXT_COLOR);
        float mw = pp_label_width(w, &ms, *c->marker);
        pp_label(w, &ms, c->marker_right - mw, baseline, *c->marker);
        *c->marker = NULL;
    }
    return &w->flows[w->flow].it[w->flows[w->flow].n - 1];
}


void emit_lines(pw *w, ctx *c, ppara *p, float x, float width, float lead, float size, int align, float pre,
                int keep_all, const pband *band)
{
    pline *ls = NULL;
    int n = pp_break(p, width, &ls);
    float base = baseline_of(lead, size);
    if (n == 0) {
        if (c->marker && *c->marker) new_item(w, c, lead, pre, base);
        free(ls);
        return;
    }
    for (int i = 0; i < n; i++) {
        pitem *it = new_item(w, c, lead, i == 0 ? pre : 0, base);
        (void)it;
        int idx = item_index(w);
        if (band) {
            pl_rect(w, band->x, 0, band->w, lead, band->color);
            if (band->bar) pl_rect(w, band->x, 0, 2.2f, lead, band->bar);
        }
        pp_emit_line(p, &ls[i], x, base, width, align);
        item_at(w, idx)->keep = keep_all || (n >= 2 && (i == 0 || i == n - 2));
    }
    free(ls);
}

/* ---- headings ------------------------------------------------------------------------- */

static void heading(pw *w, ctx *c, const kiln_block *b, int level)
{
    if (level < 2) level = 2;
    char num[32] = "";
    if (level <= 3 && w->chapter >= 0) {
        w->sec[level]++;
        for (int k = level + 1; k < 7; k++) w->sec[k] = 0;
        const char *cl = w->chap_num[w->chapter];
        if (level == 2) snprintf(num, sizeof num, "%s.%d", cl, w->sec[2]);
        else snprintf(num, sizeof num, "%s.%d.%d", cl, w->sec[2], w->sec[3]);
    }
    float size = level == 2 ? 13.5f : level == 3 ? 11.5f : 10.5f;
    float lead = level == 2 ? 18.f : level == 3 ? 15.f : 14.f;
    float pre = level == 2 ? 18.f : level == 3 ? 13.f : 10.f;
    pstyle st = ps_make(PF_SANS, PS_BOLD, size, HEAD_COLOR);
    st.chapter = w->chapter;
    ppara p;
    pp_init(&p, w);
    if (num[0]) {
        pp_word(&p, &st, num);
        pp_space(&p, &st);
        pp_space(&p, &st);
    }
    pp_inlines(&p, &st, b->inlines);
    sbuf t = {0};
    pp_plain(&t, b->inlines);
    pl_dest(w, w->chapter, b->anchor, NULL, level, ka_strdup(w->a, num), ka_strdup(w->a, t.s ? t.s : ""), level <= 3);
    sb_free(&t);
    emit_lines(w, c, &p, c->x, c->width, lead, size, PA_LEFT, pre, 1, NULL);
    pp_free(&p);
}

/* The opening of a chapter: a new page, "Chapter N", the title, a rule. */
void chapter_head(pw *w, const char *label, const char *number, const kiln_inline *title, const char *title_text,
                  const char *anchor)
{
    ctx c = {0};
    c.x = w->margin_l;
    c.width = w->text_w;
    pl_dest(w, w->chapter, anchor, NULL, 1, number, title_text, 1);
    pitem *it = pl_item(w, 30, 0);
    it->new_page = 1;
    it->keep = 1;
    pstyle ls = ps_make(PF_SANS, 0, 10.5f, ACCENT_COLOR);
    char lab[96];
    snprintf(lab, sizeof lab, "%s %s", label, number);
    pp_label(w, &ls, c.x, 40 - 18, lab);
    pstyle st = ps_make(PF_SANS, PS_BOLD, 22.f, HEAD_COLOR);
    st.chapter = w->chapter;
    ppara p;
    pp_init(&p, w);
    if (title) pp_inlines(&p, &st, title);
    else pp_text(&p, &st, title_text);
    emit_lines(w, &c, &p, c.x, c.width, 28.f, 22.f, PA_LEFT, 0, 1, NULL);
    pp_free(&p);
    it = pl_item(w, 26, 0);
    it->keep = 1;
    pl_line(w, c.x, 8, c.x + c.width, 8, 0.8f, RULE_COLOR);
}

/* ---- code and boxes ----------------------------------------------------------------- */

void code_block(pw *w, ctx *c, const char *text, float pre)
{
    const float pad = 6.f;
    float inner = c->width - 2 * pad;
    pstyle st = ps_make(PF_MONO, 0, CODE_SIZE, CODE_COLOR);
    pstyle cont = ps_make(PF_SANS, 0, 6.5f, 0x9AA0A6u);
    new_item(w, c, 4, pre, 0)->keep = 1;
    pl_rect(w, c->x, 0, c->width, 4, CODE_BG);
    int first_line = item_index(w) + 1;
    int top = first_line - 1;
    const char *s = text ? text : "";
    size_t len = strlen(s);
    while (len && s[len - 1] == '\n') len--;
    const char *end = s + len;
    sbuf line = {0};
    do {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl) nl = end;
        line.len = 0;
        if (line.s) line.s[0] = 0;
        int col = 0;
        for (const char *q = s; q < nl;) {
            if (*q == '\t') {
                do { sb_addc(&line, ' '); col++; } while (col % 4);
                q++;
            } else if (*q == '\r') {
                q++;
            } else {
                const char *q0 = q;
                kb_utf8_next(&q);
                sb_addn(&line, q0, (size_t)(q - q0));
                col++;
            }
        }
        ppara p;
        pp_init(&p, w);
        const char *ltext = line.s ? line.s : "";
        pp_word(&p, &st, ltext);
        pline *ls = NULL;
        int n = pp_break(&p, inner, &ls);
        if (n > 1 && strchr(ltext, ' ')) {
            /* too long for the box: break at spaces rather than inside a word
             * (the line's indentation stays with its first word) */
            free(ls);
            pp_free(&p);
            pp_init(&p, w);
            const char *q = ltext;
            while (*q == ' ') q++;
            size_t lead = (size_t)(q - ltext);
            sbuf wd = {0};
            sb_addn(&wd, ltext, lead);
            for (; *q; q++) {
                if (*q == ' ') {
                    if (wd.len) { pp_word(&p, &st, wd.s); wd.len = 0; wd.s[0] = 0; }
                    pp_space(&p, &st);
                } else {
                    sb_addc(&wd, *q);
                }
            }
            if (wd.len) pp_word(&p, &st, wd.s);
            sb_free(&wd);
            n = pp_break(&p, inner, &ls);
        }
        float base = baseline_of(CODE_LEAD, CODE_SIZE);
        if (n == 0) {
            new_item(w, c, CODE_LEAD, 0, base);
            pl_rect(w, c->x, 0, c->width, CODE_LEAD, CODE_BG);
        }
        for (int i = 0; i < n; i++) {
            new_item(w, c, CODE_LEAD, 0, base);
            pl_rect(w, c->x, 0, c->width, CODE_LEAD, CODE_BG);
            if (i > 0) pp_label(w, &cont, c->x + 0.8f, base, "\xe2\x86\xaa");
            pp_emit_line(&p, &ls[i], c->x + pad, base, inner, PA_LEFT);
        }
        free(ls);
        pp_free(&p);
        s = nl + 1;
    } while (s <= end);
    sb_free(&line);
    int last = item_index(w);
    new_item(w, c, 4, 0, 0);
    pl_rect(w, c->x, 0, c->width, 4, CODE_BG);
    /* orphans and widows: the first two and the last two lines stay together */
    if (last >= first_line) {
        item_at(w, first_line)->keep = 1;
        if (last - 1 >= first_line) item_at(w, last - 1)->keep = 1;
        item_at(w, last)->keep = 1;
    }
    for (int k = top; k <= item_index(w); k++) item_at(w, k)->listing = top + 1;
}

/* A tinted note (an experiment's settings): lines on a band with an accent
 * bar, a little padding above and below. */
static void note_box(pw *w, ctx *c, ppara *p, float pre)
{
    const float pad = 8.f;
    pband band = {c->x, c->width, NOTE_BG, ACCENT_COLOR};
    int first = item_index(w) + 1;
    new_item(w, c, 3, pre, 0);
    pl_rect(w, c->x, 0, c->width, 3, NOTE_BG);
    pl_rect(w, c->x, 0, 2.2f, 3, ACCENT_COLOR);
    emit_lines(w, c, p, c->x + pad, c->width - 2 * pad, SMALL_LEAD, SMALL_SIZE, PA_LEFT, 0, 0, &band);
    new_item(w, c, 3, 0, 0);
    pl_rect(w, c->x, 0, c->width, 3, NOTE_BG);
    pl_rect(w, c->x, 0, 2.2f, 3, ACCENT_COLOR);
    int last = item_index(w);
    for (int i = first; i < last; i++) item_at(w, i)->keep = last - first < 10 || i == first || i >= last - 2;
}

/* ---- figures ------------------------------------------------------------------------ */


/* The PNG's size in points from IHDR and pHYs (96 DPI when it has none). */
int png_size(const char *path, float *wpt, float *hpt)
{
    FILE *f = path && *path ? fopen(path, "rb") : NULL;
    if (!f) return -1;
    unsigned char b[64];
    int rc = -1;
    if (fread(b, 1, 8, f) == 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) {
        uint32_t pw_ = 0, ph = 0;
        double dpi_x = 96, dpi_y = 96;
        for (int k = 0; k < 64; k++) {
            if (fread(b, 1, 8, f) != 8) break;
            uint32_t len = kb_be32(b);
            if (!memcmp(b + 4, "IHDR", 4) && len >= 8) {
                if (fread(b, 1, 8, f) != 8) break;
                pw_ = kb_be32(b);
                ph = kb_be32(b + 4);
                fseek(f, (long)len - 8 + 4, SEEK_CUR);
            } else if (!memcmp(b + 4, "pHYs", 4) && len == 9) {
                if (fread(b, 1, 9, f) != 9) break;
                if (b[8] == 1 && kb_be32(b) > 0 && kb_be32(b + 4) > 0) {
                    dpi_x = kb_be32(b) * 0.0254;
                    dpi_y = kb_be32(b + 4) * 0.0254;
                }
                fseek(f, 4, SEEK_CUR);
            } else if (!memcmp(b + 4, "IDAT", 4) || !memcmp(b + 4, "IEND", 4)) {
                break;
            } else {
                fseek(f, (long)len + 4, SEEK_CUR);
            }
        }
        if (pw_ > 0 && ph > 0 && pw_ < 100000 && ph < 100000) {
            *wpt = (float)(pw_ / dpi_x * 72.0);
            *hpt = (float)(ph / dpi_y * 72.0);
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

/* A JPEG's size in points (96 dpi unless its JFIF header says). */
static int jpeg_size(const char *path, float *wpt, float *hpt)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char b[16];
    int rc = -1;
    double dpi_x = 96, dpi_y = 96;
    if (fread(b, 1, 2, f) == 2 && b[0] == 0xFF && b[1] == 0xD8) {
        for (int k = 0; k < 256; k++) {
            if (fread(b, 1, 4, f) != 4 || b[0] != 0xFF) break;
            int m = b[1], len = b[2] << 8 | b[3];
            if (len < 2) break;
            if (m == 0xE0 && len >= 16) {   /* JFIF: density */
                unsigned char j[14];
                if (fread(j, 1, 12, f) != 12) break;
                if (!memcmp(j, "JFIF", 4) && j[7] == 1 && (j[8] << 8 | j[9]) > 0 && (j[10] << 8 | j[11]) > 0) {
                    dpi_x = j[8] << 8 | j[9];
                    dpi_y = j[10] << 8 | j[11];
                }
                fseek(f, len - 2 - 12, SEEK_CUR);
                continue;
            }
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                if (fread(b, 1, 5, f) != 5) break;
                int h = b[1] << 8 | b[2], wd = b[3] << 8 | b[4];
                if (wd > 0 && h > 0) {
                    *wpt = (float)(wd / dpi_x * 72.0);
                    *hpt = (float)(h / dpi_y * 72.0);
                    rc = 0;
                }
                break;
            }
            fseek(f, len - 2, SEEK_CUR);
        }
    }
    fclose(f);
    return rc;
}

/* A paragraph that is one local image: the image, at most the column's
 * width, centred. */
static int image_paragraph(pw *w, ctx *c, const kiln_block *b)
{
    const kiln_inline *in = b->inlines;
    if (!in || in->next || in->kind != KILN_IN_IMAGE || !in->src || !in->src[0]) return 0;
    float iw, ih;
    if (png_size(in->src, &iw, &ih) && jpeg_size(in->src, &iw, &ih)) return 0;
    float s = 1;
    if (iw > c->width) s = c->width / iw;
    if (ih * s > w->text_h * 0.8f) s = w->text_h * 0.8f / ih;
    float dw = iw * s, dh = ih * s;
    new_item(w, c, dh + 8, 8, 0);
    pdop *o = pl_op(w, OP_IMAGE);
    o->x = c->x + (c->width - dw) / 2;
    o->y = 4;
    o->w = dw;
    o->h = dh;
    o->s = in->src;
    return 1;
}

/* A caption's text style and that of its bold label ("Figure 2.", "Table 1."). */
void caption_styles(pw *w, pstyle *text, pstyle *label)
{
    *text = ps_make(PF_SANS, 0, SMALL_SIZE, TEXT_COLOR);
    text->chapter = w->chapter;
    *label = *text;
    label->bits = PS_BOLD;
}

static void figure_block(pw *w, ctx *c, const kiln_directive *x)
{
    float iw = 0, ih = 0;
    int ok = x->image_file && png_size(x->image_file, &iw, &ih) == 0;
    if (!ok && x->image_file && x->image_file[0])
        kd_warn(w->diag, x->file, x->line, "PDF: figure %s: cannot read %s; a placeholder is printed", x->id,
                x->image_file);
    pstyle cs, lab;
    caption_styles(w, &cs, &lab);
    ppara p;
    pp_init(&p, w);
    char label[48];
    snprintf(label, sizeof label, "Figure %d.", x->number);
    pp_word(&p, &lab, label);
    pp_space(&p, &lab);
    if (x->caption) pp_inlines(&p, &cs, x->caption);
    else pp_text(&p, &cs, x->title);
    const float cap_in = 12.f;
    float capw = c->width - 2 * cap_in;
    pline *ls = NULL;
    int n = pp_break(&p, capw, &ls);
    float cap_h = (float)n * SMALL_LEAD;
    float dw, dh;
    if (ok) {
        float maxh = w->text_h - cap_h - 30;
        float s = 1;
        if (iw > c->width) s = c->width / iw;
        if (ih * s > maxh) s = maxh / ih;
        dw = iw * s;
        dh = ih * s;
    } else {
        dw = c->width * 0.8f;
        dh = 60;
    }
    pl_dest(w, w->chapter, x->anchor, x, 0, "", ka_strdup(w->a, label), 0);
    /* it may float to the top of the next page (see pl_paginate) */
    new_item(w, c, 4 + dh + 7 + cap_h + 2, 12, 0)->fl = PI_FLOAT;
    float ix = c->x + (c->width - dw) / 2;
    if (ok) {
        pdop *o = pl_op(w, OP_IMAGE);
        o->x = ix;
        o->y = 4;
        o->w = dw;
        o->h = dh;
        o->s = x->image_file;
    } else {
        pl_rect(w, ix, 4, dw, dh, 0xF1F1F1u);
        pstyle ms = ps_make(PF_SANS, PS_ITALIC, SMALL_SIZE, GRAY_COLOR);
        const char *msg = "(figure image missing)";
        pp_label(w, &ms, ix + (dw - pp_label_width(w, &ms, msg)) / 2, 4 + dh / 2 + 3, msg);
    }
    float y = 4 + dh + 7;
    for (int i = 0; i < n; i++) {
        pp_emit_line(&p, &ls[i], c->x + cap_in, y + baseline_of(SMALL_LEAD, SMALL_SIZE), capw,
                     n == 1 ? PA_CENTER : PA_JUSTIFY);
        y += SMALL_LEAD;
    }
    free(ls);
    pp_free(&p);
}

/* The result's one-row table (the resolver's: Run, Test loss, Test accuracy). */
static void result_block(pw *w, ctx *c, const kiln_directive *x)
{
    const kiln_table *t = x->table;
    if (!t || t->n_cols < 1) return;
    /* a result line right after a figure stays on the figure's page */
    pflow *f = &w->flows[w->flow];
    if (f->n && (f->it[f->n - 1].fl & PI_FLOAT)) f->it[f->n - 1].keep = 1;
    table_block(w, c, &(ptable_spec){.nr = t->n_rows, .nc = t->n_cols, .header = t->header, .cells = t->cells,
                                     .numeric = t->numeric, .pre = 10});
}

static void experiment_block(pw *w, ctx *c, const kiln_directive *x)
{
    pstyle st = ps_make(PF_SANS, 0, SMALL_SIZE, TEXT_COLOR);
    pstyle b = st;
    b.bits = PS_BOLD;
    pstyle code = st;
    code.code = 1;
    ppara p;
    pp_init(&p, w);
    pp_text(&p, &b, "Experiment");
    pp_space(&p, &b);
    pp_word(&p, &code, x->id);
    pp_text(&p, &st, ":");
    int shown = 0;
    for (int i = 0; i < x->n_kv; i++) {
        if (!strcmp(x->kv[i].key, "label")) continue;
        if (shown++) pp_text(&p, &st, ",");
        pp_space(&p, &st);
        pp_word(&p, &code, x->kv[i].key);
        pp_space(&p, &st);
        pp_text(&p, &st, "=");
        pp_space(&p, &st);
        pp_text(&p, &code, x->kv[i].shown);
    }
    note_box(w, c, &p, 8);
    pp_free(&p);
}

static void directive_block(pw *w, ctx *c, const kiln_directive *x)
{
    switch (x->kind) {
    case KILN_DIR_EXPERIMENT:
        experiment_block(w, c, x);
        break;
    case KILN_DIR_FIGURE:
    case KILN_DIR_LRFIND:
        figure_block(w, c, x);
        if (x->kind == KILN_DIR_LRFIND && x->text && x->text[0]) {
            /* the suggestions stay with their figure */
            pflow *f = &w->flows[w->flow];
            if (f->n && (f->it[f->n - 1].fl & PI_FLOAT)) f->it[f->n - 1].keep = 1;
            pstyle st = ps_make(PF_SANS, 0, SMALL_SIZE + 0.5f, TEXT_COLOR);
            ppara p;
            pp_init(&p, w);
            pp_text(&p, &st, x->text);
            note_box(w, c, &p, 6);
            pp_free(&p);
        }
        break;
    case KILN_DIR_RESULT:
        result_block(w, c, x);
        break;
    case KILN_DIR_TABLE: {
        const kiln_table *t = x->table;
        char label[48];
        snprintf(label, sizeof label, "Table %d.", x->number);
        pl_dest(w, w->chapter, x->anchor, x, 0, "", ka_strdup(w->a, label), 0);
        if (t && t->n_cols > 0)
            table_block(w, c, &(ptable_spec){.nr = t->n_rows, .nc = t->n_cols, .header = t->header, .cells = t->cells,
                                             .numeric = t->numeric, .caption_label = label, .caption = x->caption,
                                             .caption_text = x->title, .pre = 12, .n_sum = t->n_summary});
        break;
    }
    case KILN_DIR_CONFIG:
        code_block(w, c, x->text, 8);
        break;
    case KILN_DIR_GROUP: /* only its values show, where the prose quotes them */
        break;
    case KILN_DIR_COMPARE: /* one quiet sentence, as the site shows it */
        if (x->text && x->text[0]) {
            pstyle st = ps_make(PF_SANS, 0, SMALL_SIZE, TEXT_COLOR);
            ppara p;
            pp_init(&p, w);
            pp_text(&p, &st, x->text);
            note_box(w, c, &p, 6);
            pp_free(&p);
        }
        break;
    }
}

/* ---- lists, quotes, the rest ----------------------------------------------------------- */

static void layout_blocks_one(pw *w, ctx *c, const kiln_block *b);

/* A display: centred in the column, its number at the right margin; an
 * anchor for {{eq:ID}} links. Too wide for the column: set from its left. */
static void display_math(pw *w, ctx *c, const kiln_block *b)
{
    const km_box *bx = pm_box(w, b->math, 1, BODY_SIZE);
    if (!bx) {
        code_block(w, c, b->text, 6);
        return;
    }
    if (b->anchor[0]) pl_dest(w, w->chapter, b->anchor, NULL, 0, "", "", 0);
    float pad = 4, h = (float)(bx->height + bx->depth) + 2 * pad;
    float num_w = 0;
    char num[32] = "";
    pstyle ns = ps_make(PF_SERIF, 0, BODY_SIZE, TEXT_COLOR);
    if (b->number) {
        snprintf(num, sizeof num, "(%d)", b->number);
        num_w = pp_label_width(w, &ns, num) + 12;
    }
    float base = pad + (float)bx->height;
    new_item(w, c, h, 6, base);
    float avail = c->width - 2 * num_w, x = c->x + num_w + (avail - (float)bx->width) / 2;
    if (x < c->x) x = c->x;
    pdop *o = pl_op(w, OP_MATH);
    o->x = x;
    o->y = base;
    o->box = bx;
    o->color = c->color ? c->color : TEXT_COLOR;
    if (b->number) pp_label(w, &ns, c->x + c->width - num_w + 12, base, num);
}

static const char *const bullets[3] = {"\xe2\x80\xa2", "\xe2\x80\x93", "\xe2\x97\xa6"}; /* bullet, en dash, white bullet */

static void list_block(pw *w, ctx *c, const kiln_block *b)
{
    pstyle ms = ps_make(PF_SERIF, 0, BODY_SIZE, TEXT_COLOR);
    int n = 0;
    for (const kiln_block *it = b->children; it; it = it->next) n++;
    float indent = 16;
    if (b->ordered) {
        char big[32];
        snprintf(big, sizeof big, "%d.", b->start + (n > 0 ? n - 1 : 0));
        float mw = pp_label_width(w, &ms, big) + 6;
        indent = mw > indent ? mw : indent;
    }
    float boost = 6;
    int k = b->start;
    for (const kiln_block *it = b->children; it; it = it->next, k++) {
        char mk[32];
        if (b->ordered) snprintf(mk, sizeof mk, "%d.", k);
        else if (it->task) snprintf(mk, sizeof mk, "%s", it->task == 2 ? "\xe2\x98\x91" : "\xe2\x98\x90");   /* ☑ ☐ */
        else snprintf(mk, sizeof mk, "%s", bullets[c->list_depth % 3]);
        const char *marker = ka_strdup(w->a, mk);
        ctx ic = *c;
        ic.x += indent;
        ic.width -= indent;
        ic.marker = &marker;
        ic.marker_right = ic.x - 5;
        ic.tight = b->tight;
        ic.list_depth = c->list_depth + 1;
        ic.pre_boost = &boost;
        if (it != b->children) boost = b->tight ? 2 : 6;
        const kiln_block *kids = it->kind == KILN_BL_ITEM ? it->children : it;
        layout_blocks(w, &ic, kids, NULL);
        if (marker) new_item(w, &ic, BODY_LEAD, b->tight ? 2 : 6, baseline_of(BODY_LEAD, BODY_SIZE));
        if (it->kind != KILN_BL_ITEM) break;
    }
}

/* Space between a table (or a result line) and the block after it. */
#define AFTER_TABLE 12.f

void layout_blocks(pw *w, ctx *c, const kiln_block *b, const kiln_block *skip)
{
    float after = 0; /* space the previous block asks for below it */
    for (; b; b = b->next) {
        if (b == skip) continue;
        int first = item_index(w) + 1;
        float want = after;
        after = 0;
        if (b->kind == KILN_BL_DIRECTIVE && b->directive &&
            (b->directive->kind == KILN_DIR_TABLE || b->directive->kind == KILN_DIR_RESULT))
            after = AFTER_TABLE;
        layout_blocks_one(w, c, b);
        if (want > 0 && item_index(w) >= first && item_at(w, first)->pre < want) item_at(w, first)->pre = want;
    }
}

static void layout_blocks_one(pw *w, ctx *c, const kiln_block *b)
{
    {
        switch (b->kind) {
        case KILN_BL_PARAGRAPH: {
            if (image_paragraph(w, c, b)) break;
            pstyle st = ps_make(PF_SERIF, 0, BODY_SIZE, c->color ? c->color : TEXT_COLOR);
            st.chapter = w->chapter;
            ppara p;
            pp_init(&p, w);
            pp_inlines(&p, &st, b->inlines);
            int first = item_index(w) + 1;
            emit_lines(w, c, &p, c->x, c->width, BODY_LEAD, BODY_SIZE, PA_JUSTIFY, c->tight ? 2 : 6, 0, NULL);
            pp_free(&p);
            /* paragraph lines may be set before a figure that floats */
            for (int i = first; i <= item_index(w); i++) item_at(w, i)->fl |= PI_TEXT;
            break;
        }
        case KILN_BL_HEADING:
            heading(w, c, b, b->level);
            break;
        case KILN_BL_CALLOUT: {
            /* a coloured bar, the kind as a title, the blocks indented */
            static const struct { const char *kind, *title; uint32_t color; } k[] = {
                {"note", "Note", 0x0B63A8u}, {"tip", "Tip", 0x1A7F37u}, {"important", "Important", 0x8250DFu},
                {"warning", "Warning", 0x9A6700u}, {"caution", "Caution", 0xCF222Eu}};
            int i = 0;
            while (i < 4 && strcmp(k[i].kind, b->info)) i++;
            ctx qc = *c;
            if (qc.nbars < 8) qc.bar_x[qc.nbars++] = c->x + 2;
            qc.x += 14;
            qc.width -= 14;
            qc.tight = 0;
            pstyle ts = ps_make(PF_SANS, PS_BOLD, BODY_SIZE * 0.92f, k[i].color);
            new_item(w, &qc, BODY_LEAD, 8, baseline_of(BODY_LEAD, BODY_SIZE));
            pp_label(w, &ts, qc.x, baseline_of(BODY_LEAD, BODY_SIZE), k[i].title);
            item_at(w, item_index(w))->keep = 1;
            layout_blocks(w, &qc, b->children, NULL);
            break;
        }
        case KILN_BL_QUOTE: {
            ctx qc = *c;
            if (qc.nbars < 8) qc.bar_x[qc.nbars++] = c->x + 2;
            qc.x += 14;
            qc.width -= 14;
            qc.color = 0x3C4043u;
            qc.tight = 0;
            layout_blocks(w, &qc, b->children, NULL);
            break;
        }
        case KILN_BL_LIST:
            list_block(w, c, b);
            break;
        case KILN_BL_ITEM: /* an item outside a list: lay out its blocks */
            layout_blocks(w, c, b->children, NULL);
            break;
        case KILN_BL_CODE:
            code_block(w, c, b->text, 8);
            break;
        case KILN_BL_HTML:
            break;
        case KILN_BL_RULE: {
            new_item(w, c, 16, 6, 0);
            float mid = c->x + c->width / 2;
            pl_line(w, mid - c->width * 0.2f, 8, mid + c->width * 0.2f, 8, 0.6f, RULE_COLOR);
            break;
        }
        case KILN_BL_DIRECTIVE:
            if (b->directive) directive_block(w, c, b->directive);
            break;
        case KILN_BL_MATH:
            display_math(w, c, b);
            break;
        case KILN_BL_GRID:
            grid_block(w, c, b);
            break;
        case KILN_BL_FACTS:
            facts_block(w, c, b);
            break;
        case KILN_BL_SECTION: {
            ctx sc = *c;
            sc.in_section = 1;
            layout_blocks(w, &sc, b->children, NULL);
            break;
        }
        case KILN_BL_ROW:
        case KILN_BL_CELL:
            break;   /* inside a GRID or FACTS only */
        case KILN_BL_FOOTNOTES: {
            /* after a short rule, as an ordered list numbered from 1 */
            new_item(w, c, 10, 10, 0);
            pl_line(w, c->x, 5, c->x + c->width * 0.25f, 5, 0.5f, RULE_COLOR);
            kiln_block list = *b;
            list.kind = KILN_BL_LIST;
            list.ordered = 1;
            list.start = 1;
            list.tight = 0;
            list.next = NULL;
            list_block(w, c, &list);
            break;
        }
        case KILN_BL_REFERENCES:
            /* one paragraph per work, set ragged, an anchor for each */
            for (const kiln_block *e = b->children; e; e = e->next) {
                pl_dest(w, w->chapter, e->anchor, NULL, 0, "", "", 0);
                pstyle st = ps_make(PF_SERIF, 0, BODY_SIZE, TEXT_COLOR);
                st.chapter = w->chapter;
                ppara p;
                pp_init(&p, w);
                pp_inlines(&p, &st, e->inlines);
                emit_lines(w, c, &p, c->x, c->width, BODY_LEAD, BODY_SIZE, PA_LEFT, 5, 0, NULL);
                pp_free(&p);
            }
            break;
        }
    }
}
