/* The PDF writer's block layout: paragraphs, headings, lists, quotes, code,
 * rules, figures, tables and the directives, each turned into items of the
 * current flow (see pdf_layout.c). Styles live here too. */
#include "pdf/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pstyle ps_make(int family, int bits, float size, uint32_t color)
{
    pstyle s = {family, bits, size, color, 0, NULL, -1};
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
        float mw = pl_label_width(w, &ms, *c->marker);
        pl_label(w, &ms, c->marker_right - mw, baseline, *c->marker);
        *c->marker = NULL;
    }
    return &w->flows[w->flow].it[w->flows[w->flow].n - 1];
}

static int item_index(pw *w) { return w->flows[w->flow].n - 1; }
static pitem *item_at(pw *w, int i) { return &w->flows[w->flow].it[i]; }

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
    pl_label(w, &ls, c.x, 40 - 18, lab);
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
                pu_next(&q);
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
            if (i > 0) pl_label(w, &cont, c->x + 0.8f, base, "\xe2\x86\xaa");
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

static uint32_t be32(const unsigned char *b) { return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }

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
            uint32_t len = be32(b);
            if (!memcmp(b + 4, "IHDR", 4) && len >= 8) {
                if (fread(b, 1, 8, f) != 8) break;
                pw_ = be32(b);
                ph = be32(b + 4);
                fseek(f, (long)len - 8 + 4, SEEK_CUR);
            } else if (!memcmp(b + 4, "pHYs", 4) && len == 9) {
                if (fread(b, 1, 9, f) != 9) break;
                if (b[8] == 1 && be32(b) > 0 && be32(b + 4) > 0) {
                    dpi_x = be32(b) * 0.0254;
                    dpi_y = be32(b + 4) * 0.0254;
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

static void figure_block(pw *w, ctx *c, const kiln_directive *x)
{
    float iw = 0, ih = 0;
    int ok = x->image_file && png_size(x->image_file, &iw, &ih) == 0;
    if (!ok && x->image_file && x->image_file[0])
        kd_warn(w->diag, x->file, x->line, "PDF: figure %s: cannot read %s; a placeholder is printed", x->id,
                x->image_file);
    pstyle cs = ps_make(PF_SANS, 0, SMALL_SIZE, TEXT_COLOR);
    cs.chapter = w->chapter;
    pstyle lab = cs;
    lab.bits = PS_BOLD;
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
        pl_label(w, &ms, ix + (dw - pl_label_width(w, &ms, msg)) / 2, 4 + dh / 2 + 3, msg);
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

/* ---- tables --------------------------------------------------------------------------- */

/* n_sum: the last n_sum rows are summary rows (mean, sd, ...): set apart by
 * a rule above them, their name (first column) in italics; the first column
 * is then a column of row names, left-aligned even when it holds numbers. */
static void table_block_x(pw *w, ctx *c, int nr, int nc, const char *const *header, const char *const *cells,
                          const int *numeric, int bold_first_col, const char *caption_label,
                          const kiln_inline *caption, const char *caption_text, float pre, int n_sum)
{
    if (nc <= 0) return;
    if (n_sum < 0 || n_sum >= nr) n_sum = 0;
    float size = nc > 10 ? 6.5f : SMALL_SIZE;
    float lead = size * 1.35f;
    float pad = nc > 10 ? 2.5f : 6.f;
    const float pady = 2.5f;
    int rows = nr + (header ? 1 : 0);
    ppara *cp = calloc((size_t)rows * (size_t)nc, sizeof *cp);
    float *nat = calloc((size_t)nc, sizeof *nat), *mn = calloc((size_t)nc, sizeof *mn),
          *cw = calloc((size_t)nc, sizeof *cw), *body = calloc((size_t)nc, sizeof *body);
    if (!cp || !nat || !mn || !cw || !body) abort();
    int first_sum = n_sum ? rows - n_sum : rows; /* index (in rows) of the first summary row */
    for (int r = 0; r < rows; r++) {
        int hdr = header && r == 0;
        int dr = header ? r - 1 : r;
        for (int j = 0; j < nc; j++) {
            int bits = hdr || (bold_first_col && j == 0) ? PS_BOLD : 0;
            if (r >= first_sum && j == 0) bits |= PS_ITALIC;
            pstyle st = ps_make(PF_SANS, bits, size, TEXT_COLOR);
            ppara *p = &cp[r * nc + j];
            pp_init(p, w);
            pp_text(p, &st, hdr ? header[j] : cells[(size_t)dr * (size_t)nc + (size_t)j]);
            float a = pp_natural_width(p) + 2 * pad, b = pp_min_width(p) + 2 * pad;
            nat[j] = a > nat[j] ? a : nat[j];
            mn[j] = b > mn[j] ? b : mn[j];
            if (!hdr) body[j] = a > body[j] ? a : body[j];
        }
    }
    /* widths: natural when they fit. Else the body cells come first: every
     * column gets what its cells need on one line (its headers wrap), and
     * what is left goes to the columns in proportion to how much more their
     * headers would like. When even the cells do not fit, every column gets
     * its widest word (water-filling: narrow columns first, the widest share
     * what is left and have their long words cut), and the rest of the width
     * goes to the columns in proportion to how much more their cells would
     * like. */
    float avail = c->width, sn = 0, sb = 0;
    for (int j = 0; j < nc; j++) {
        if (body[j] < mn[j]) body[j] = mn[j];
        sn += nat[j];
        sb += body[j];
    }
    if (sn <= avail) {
        for (int j = 0; j < nc; j++) cw[j] = nat[j];
    } else if (sb <= avail) {
        float span = sn - sb, left = avail - sb;
        for (int j = 0; j < nc; j++) cw[j] = body[j] + (span > 0 ? left * (nat[j] - body[j]) / span : 0);
    } else {
        int *done = calloc((size_t)nc, sizeof *done);
        if (!done) abort();
        float left = avail;
        int open = nc;
        for (int changed = 1; changed && open;) {
            changed = 0;
            float fair = left / (float)open;
            for (int j = 0; j < nc; j++)
                if (!done[j] && mn[j] <= fair) {
                    cw[j] = mn[j];
                    left -= mn[j];
                    done[j] = 1;
                    open--;
                    changed = 1;
                }
        }
        if (open) {
            for (int j = 0; j < nc; j++)
                if (!done[j]) cw[j] = left / (float)open;
        } else {
            float span = 0;
            for (int j = 0; j < nc; j++) span += body[j] - cw[j];
            for (int j = 0; j < nc; j++) cw[j] += span > 0 ? left * (body[j] - cw[j]) / span : left / (float)nc;
        }
        free(done);
    }
    float tw = 0;
    for (int j = 0; j < nc; j++) tw += cw[j];
    float x0 = c->x + (tw < avail && !c->left_tables ? (avail - tw) / 2 : 0);

    if (caption_label) {
        pstyle cs = ps_make(PF_SANS, 0, SMALL_SIZE, TEXT_COLOR);
        cs.chapter = w->chapter;
        pstyle lab = cs;
        lab.bits = PS_BOLD;
        ppara p;
        pp_init(&p, w);
        pp_word(&p, &lab, caption_label);
        pp_space(&p, &lab);
        if (caption) pp_inlines(&p, &cs, caption);
        else pp_text(&p, &cs, caption_text);
        int before = item_index(w);
        float cap_w = c->width - 24;
        int single = pp_natural_width(&p) <= cap_w;
        emit_lines(w, c, &p, c->x + 12, cap_w, SMALL_LEAD, SMALL_SIZE, single ? PA_CENTER : PA_JUSTIFY, pre, 1,
                   NULL);
        pp_free(&p);
        pre = item_index(w) > before ? 4 : pre;
    }
    float total = 0;
    pline **ls = calloc((size_t)rows * (size_t)nc, sizeof *ls);
    int *nl = calloc((size_t)rows * (size_t)nc, sizeof *nl);
    float *rh = calloc((size_t)rows, sizeof *rh);
    if (!ls || !nl || !rh) abort();
    for (int r = 0; r < rows; r++) {
        int m = 1;
        for (int j = 0; j < nc; j++) {
            float inner = cw[j] - 2 * pad;
            if (inner < 1) inner = 1;
            nl[r * nc + j] = pp_break(&cp[r * nc + j], inner, &ls[r * nc + j]);
            m = nl[r * nc + j] > m ? nl[r * nc + j] : m;
        }
        rh[r] = (float)m * lead + 2 * pady;
        total += rh[r];
    }
    int keep_all = total < w->text_h / 3;
    /* a header row is repeated at the top of each continuation page (unless
     * it is itself most of a page); a row taller than what a page leaves
     * under the header is set in slices of one line each, so it breaks
     * across pages instead of running past the bottom margin */
    int repeat = header && rh[0] <= w->text_h / 2;
    float limit = w->text_h - (repeat ? rh[0] : 0);
    int hdr_item = -1;
    for (int r = 0; r < rows; r++) {
        int hdr = header && r == 0;
        int m = 1;
        for (int j = 0; j < nc; j++) m = nl[r * nc + j] > m ? nl[r * nc + j] : m;
        int row_keep = keep_all || hdr || r == 0 || r >= rows - 2;
        if (r == rows - 1) row_keep = 0;
        int split = rh[r] > limit + 0.01f;
        int shade = !hdr && r < first_sum && r % 2 == (header ? 0 : 1);
        for (int k0 = 0; k0 < m; k0 = split ? k0 + 1 : m) {
            int k1 = split ? k0 + 1 : m;
            float top = k0 == 0 ? pady : 0;
            float h = (float)(k1 - k0) * lead + top + (k1 == m ? pady : 0);
            pitem *it = new_item(w, c, h, r == 0 && k0 == 0 ? pre : 0, 0);
            int idx = item_index(w);
            if (k1 == m) it->keep = row_keep;
            else it->keep = k0 == 0 || k1 >= m - 1 || row_keep;
            if (hdr && k0 == 0) hdr_item = idx;
            else if (repeat && hdr_item >= 0) it->hdr = hdr_item + 1;
            if (r == 0 && k0 == 0) pl_line(w, x0, 0.4f, x0 + tw, 0.4f, 0.9f, HEAD_COLOR);
            if (r == first_sum && k0 == 0) pl_line(w, x0, 0.25f, x0 + tw, 0.25f, 0.5f, HEAD_COLOR);
            if (shade) {
                float s0 = k0 == 0 ? 0.8f : 0, s1 = k1 == m ? 0.4f : 0;
                pl_rect(w, x0, s0, tw, h - s0 - s1, 0xF6F7F9u);
            }
            float cx = x0;
            for (int j = 0; j < nc; j++) {
                float inner = cw[j] - 2 * pad;
                if (inner < 1) inner = 1;
                int kn = nl[r * nc + j] < k1 ? nl[r * nc + j] : k1;
                for (int k = k0; k < kn; k++)
                    pp_emit_line(&cp[r * nc + j], &ls[r * nc + j][k], cx + pad,
                                 top + (float)(k - k0) * lead + baseline_of(lead, size), inner,
                                 numeric && numeric[j] && !(n_sum && j == 0) ? PA_RIGHT : PA_LEFT);
                cx += cw[j];
            }
            if (k1 == m && hdr) pl_line(w, x0, h - 0.25f, x0 + tw, h - 0.25f, 0.5f, HEAD_COLOR);
            if (k1 == m && r == rows - 1) pl_line(w, x0, h - 0.4f, x0 + tw, h - 0.4f, 0.9f, HEAD_COLOR);
        }
    }
    for (int i = 0; i < rows * nc; i++) {
        free(ls[i]);
        pp_free(&cp[i]);
    }
    free(ls);
    free(nl);
    free(rh);
    free(cp);
    free(nat);
    free(mn);
    free(cw);
    free(body);
}

void table_block(pw *w, ctx *c, int nr, int nc, const char *const *header, const char *const *cells,
                 const int *numeric, int bold_first_col, const char *caption_label, const kiln_inline *caption,
                 const char *caption_text, float pre)
{
    table_block_x(w, c, nr, nc, header, cells, numeric, bold_first_col, caption_label, caption, caption_text, pre, 0);
}

/* "Test loss: 0.03 / Test accuracy: 0.99" -> a one-row table. */
static void result_block(pw *w, ctx *c, const kiln_directive *x)
{
    const char *t = x->text ? x->text : "";
    char *copy = ka_strdup(w->a, t);
    const char *hdr[16], *val[16];
    int n = 0;
    if (x->run) {
        hdr[n] = "Run";
        val[n++] = x->run->label && x->run->label[0] ? x->run->label : x->run->id;
    }
    int parsed = 1;
    for (char *save = NULL, *part = copy; part && n < 16; part = save) {
        char *sep = strstr(part, " / ");
        if (sep) {
            *sep = 0;
            save = sep + 3;
        } else {
            save = NULL;
        }
        char *colon = strstr(part, ": ");
        if (!colon) { parsed = 0; break; }
        *colon = 0;
        hdr[n] = part;
        val[n++] = colon + 2;
    }
    if (!parsed || n == 0) {
        code_block(w, c, t, 8);
        return;
    }
    int numeric[16];
    for (int i = 0; i < n; i++) numeric[i] = !(x->run && i == 0);
    /* a result line right after a figure stays on the figure's page */
    pflow *f = &w->flows[w->flow];
    if (f->n && (f->it[f->n - 1].fl & PI_FLOAT)) f->it[f->n - 1].keep = 1;
    table_block(w, c, 1, n, hdr, val, numeric, 0, NULL, NULL, NULL, 10);
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
        char buf[256];
        pp_text(&p, &code, kr_setting_text(x, &x->kv[i], buf, sizeof buf));
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
            table_block_x(w, c, t->n_rows, t->n_cols, t->header, t->cells, t->numeric, 0, label, x->caption,
                          x->title, 12, t->n_summary);
        break;
    }
    case KILN_DIR_CONFIG:
        code_block(w, c, x->text, 8);
        break;
    case KILN_DIR_GROUP: /* only its values show, where the prose quotes them */
        break;
    }
}

/* ---- lists, quotes, the rest ----------------------------------------------------------- */

static void layout_blocks_one(pw *w, ctx *c, const kiln_block *b);

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
        float mw = pl_label_width(w, &ms, big) + 6;
        indent = mw > indent ? mw : indent;
    }
    float boost = 6;
    int k = b->start;
    for (const kiln_block *it = b->children; it; it = it->next, k++) {
        char mk[32];
        if (b->ordered) snprintf(mk, sizeof mk, "%d.", k);
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
        }
    }
}
