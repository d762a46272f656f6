/* The PDF writer's tables: a {table}'s or a {result}'s cells, the Markdown
 * (GFM) tables and the appendix's FACTS, measured, given column widths,
 * broken into lines and laid out one item per row (see layout.c for the
 * repeated header rows). */
#include "pdf/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tables --------------------------------------------------------------------------- */

/* n_sum: the last n_sum rows are summary rows (mean, sd, ...): set apart by
 * a rule above them, their name (first column) in italics; the first column
 * is then a column of row names, left-aligned even when it holds numbers. */
/* ---- tables: measure the cells, choose the column widths, break the cells
 * into lines, then lay out one item per row (or per line of a row taller
 * than a page) -------------------------------------------------------------------- */

/* A table being laid out. */
typedef struct ptab {
    const ptable_spec *t;
    int rows;              /* body rows + the header row */
    int nc, first_sum;     /* columns; index (in rows) of the first summary row */
    int n_sum;             /* summary rows (0 when they would be all of them) */
    float size, lead, pad, pady;
    ppara *cp;             /* rows * nc cell paragraphs */
    pline **ls;            /* their lines */
    int *nl;
    float *rh;             /* row heights */
    float *nat, *mn, *cw, *body; /* per column: natural, narrowest, chosen, body cells' natural */
    float tw, x0;          /* total width, left edge */
} ptab;

static void *tab_alloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) abort();
    return p;
}

/* Every cell as a paragraph; the columns' natural and narrowest widths. */
static void tab_measure(pw *w, ptab *tb)
{
    const ptable_spec *t = tb->t;
    int nc = tb->nc;
    for (int r = 0; r < tb->rows; r++) {
        int hdr = t->header && r == 0;
        int dr = t->header ? r - 1 : r;
        for (int j = 0; j < nc; j++) {
            int bits = hdr || (t->bold_first_col && j == 0) ? PS_BOLD : 0;
            if (r >= tb->first_sum && j == 0) bits |= PS_ITALIC;
            pstyle st = ps_make(PF_SANS, bits, tb->size, TEXT_COLOR);
            ppara *p = &tb->cp[r * nc + j];
            pp_init(p, w);
            pp_text(p, &st, hdr ? t->header[j] : t->cells[(size_t)dr * (size_t)nc + (size_t)j]);
            float a = pp_natural_width(p) + 2 * tb->pad, b = pp_min_width(p) + 2 * tb->pad;
            tb->nat[j] = a > tb->nat[j] ? a : tb->nat[j];
            tb->mn[j] = b > tb->mn[j] ? b : tb->mn[j];
            if (!hdr) tb->body[j] = a > tb->body[j] ? a : tb->body[j];
        }
    }
}

/* When even the body cells do not fit: every column gets its widest word
 * (water-filling: narrow columns first, the widest share what is left and
 * have their long words cut), and the rest of the width goes to the columns
 * in proportion to how much more their cells would like. */
static void tab_squeeze(ptab *tb, float avail)
{
    int nc = tb->nc;
    float *cw = tb->cw;
    int *done = tab_alloc((size_t)nc, sizeof *done);
    float left = avail;
    int open = nc;
    for (int changed = 1; changed && open;) {
        changed = 0;
        float fair = left / (float)open;
        for (int j = 0; j < nc; j++)
            if (!done[j] && tb->mn[j] <= fair) {
                cw[j] = tb->mn[j];
                left -= tb->mn[j];
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
        for (int j = 0; j < nc; j++) span += tb->body[j] - cw[j];
        for (int j = 0; j < nc; j++) cw[j] += span > 0 ? left * (tb->body[j] - cw[j]) / span : left / (float)nc;
    }
    free(done);
}

/* Column widths: natural when they fit. Else the body cells come first:
 * every column gets what its cells need on one line (its headers wrap), and
 * what is left goes to the columns in proportion to how much more their
 * headers would like; else tab_squeeze. */
static void tab_widths(ptab *tb, const ctx *c)
{
    int nc = tb->nc;
    float avail = c->width, sn = 0, sb = 0;
    for (int j = 0; j < nc; j++) {
        if (tb->body[j] < tb->mn[j]) tb->body[j] = tb->mn[j];
        sn += tb->nat[j];
        sb += tb->body[j];
    }
    if (sn <= avail) {
        for (int j = 0; j < nc; j++) tb->cw[j] = tb->nat[j];
    } else if (sb <= avail) {
        float span = sn - sb, left = avail - sb;
        for (int j = 0; j < nc; j++) tb->cw[j] = tb->body[j] + (span > 0 ? left * (tb->nat[j] - tb->body[j]) / span : 0);
    } else {
        tab_squeeze(tb, avail);
    }
    tb->tw = 0;
    for (int j = 0; j < nc; j++) tb->tw += tb->cw[j];
    tb->x0 = c->x + (tb->tw < avail && !c->left_tables ? (avail - tb->tw) / 2 : 0);
}

/* The caption above the table ("Table 2." and its text); returns the space
 * the first row then keeps above it. */
static float tab_caption(pw *w, ctx *c, const ptable_spec *t, float pre)
{
    pstyle cs, lab;
    caption_styles(w, &cs, &lab);
    ppara p;
    pp_init(&p, w);
    pp_word(&p, &lab, t->caption_label);
    pp_space(&p, &lab);
    if (t->caption) pp_inlines(&p, &cs, t->caption);
    else pp_text(&p, &cs, t->caption_text);
    int before = item_index(w);
    float cap_w = c->width - 24;
    int single = pp_natural_width(&p) <= cap_w;
    emit_lines(w, c, &p, c->x + 12, cap_w, SMALL_LEAD, SMALL_SIZE, single ? PA_CENTER : PA_JUSTIFY, pre, 1, NULL);
    pp_free(&p);
    return item_index(w) > before ? 4 : pre;
}

static float tab_inner(const ptab *tb, int j)
{
    float inner = tb->cw[j] - 2 * tb->pad;
    return inner < 1 ? 1 : inner;
}

static int tab_row_lines(const ptab *tb, int r)
{
    int m = 1;
    for (int j = 0; j < tb->nc; j++) m = tb->nl[r * tb->nc + j] > m ? tb->nl[r * tb->nc + j] : m;
    return m;
}

/* Every cell broken into lines of its column; returns the table's height. */
static float tab_break(ptab *tb)
{
    float total = 0;
    for (int r = 0; r < tb->rows; r++) {
        for (int j = 0; j < tb->nc; j++)
            tb->nl[r * tb->nc + j] = pp_break(&tb->cp[r * tb->nc + j], tab_inner(tb, j), &tb->ls[r * tb->nc + j]);
        tb->rh[r] = (float)tab_row_lines(tb, r) * tb->lead + 2 * tb->pady;
        total += tb->rh[r];
    }
    return total;
}

/* Lines [k0, k1) of row r's cells into the current item, `top` below its top. */
static void tab_emit_cells(pw *w, const ptab *tb, int r, int k0, int k1, float top)
{
    const ptable_spec *t = tb->t;
    float cx = tb->x0;
    for (int j = 0; j < tb->nc; j++) {
        int kn = tb->nl[r * tb->nc + j] < k1 ? tb->nl[r * tb->nc + j] : k1;
        for (int k = k0; k < kn; k++)
            pp_emit_line(&tb->cp[r * tb->nc + j], &tb->ls[r * tb->nc + j][k], cx + tb->pad,
                         top + (float)(k - k0) * tb->lead + baseline_of(tb->lead, tb->size), tab_inner(tb, j),
                         t->numeric && t->numeric[j] && !(tb->n_sum && j == 0) ? PA_RIGHT : PA_LEFT);
        cx += tb->cw[j];
    }
}

/* Row r as items: one, or (split) one per line when the row is taller than
 * what a page leaves under the repeated header. *hdr_item: the header row's
 * item, which continuation pages repeat when `repeat`. */
static void tab_emit_row(pw *w, ctx *c, const ptab *tb, int r, float pre, int keep_all, int repeat, float limit,
                         int *hdr_item)
{
    const ptable_spec *t = tb->t;
    int rows = tb->rows;
    int hdr = t->header && r == 0;
    int m = tab_row_lines(tb, r);
    int row_keep = keep_all || hdr || r == 0 || r >= rows - 2;
    if (r == rows - 1) row_keep = 0;
    int split = tb->rh[r] > limit + 0.01f;
    int shade = !hdr && r < tb->first_sum && r % 2 == (t->header ? 0 : 1);
    float x0 = tb->x0, tw = tb->tw;
    for (int k0 = 0; k0 < m; k0 = split ? k0 + 1 : m) {
        int k1 = split ? k0 + 1 : m;
        float top = k0 == 0 ? tb->pady : 0;
        float h = (float)(k1 - k0) * tb->lead + top + (k1 == m ? tb->pady : 0);
        pitem *it = new_item(w, c, h, r == 0 && k0 == 0 ? pre : 0, 0);
        int idx = item_index(w);
        if (k1 == m) it->keep = row_keep;
        else it->keep = k0 == 0 || k1 >= m - 1 || row_keep;
        if (hdr && k0 == 0) *hdr_item = idx;
        else if (repeat && *hdr_item >= 0) it->hdr = *hdr_item + 1;
        if (r == 0 && k0 == 0) pl_line(w, x0, 0.4f, x0 + tw, 0.4f, 0.9f, HEAD_COLOR);
        if (r == tb->first_sum && k0 == 0) pl_line(w, x0, 0.25f, x0 + tw, 0.25f, 0.5f, HEAD_COLOR);
        if (shade) {
            float s0 = k0 == 0 ? 0.8f : 0, s1 = k1 == m ? 0.4f : 0;
            pl_rect(w, x0, s0, tw, h - s0 - s1, 0xF6F7F9u);
        }
        tab_emit_cells(w, tb, r, k0, k1, top);
        if (k1 == m && hdr) pl_line(w, x0, h - 0.25f, x0 + tw, h - 0.25f, 0.5f, HEAD_COLOR);
        if (k1 == m && r == rows - 1) pl_line(w, x0, h - 0.4f, x0 + tw, h - 0.4f, 0.9f, HEAD_COLOR);
    }
}

static void tab_free(ptab *tb)
{
    for (int i = 0; i < tb->rows * tb->nc; i++) {
        free(tb->ls[i]);
        pp_free(&tb->cp[i]);
    }
    free(tb->ls);
    free(tb->nl);
    free(tb->rh);
    free(tb->cp);
    free(tb->nat);
    free(tb->mn);
    free(tb->cw);
    free(tb->body);
}

void table_block(pw *w, ctx *c, const ptable_spec *t)
{
    if (t->nc <= 0) return;
    ptab tb = {0};
    tb.t = t;
    tb.nc = t->nc;
    int n_sum = t->n_sum < 0 || t->n_sum >= t->nr ? 0 : t->n_sum;
    tb.n_sum = n_sum;
    tb.size = t->nc > 10 ? 6.5f : SMALL_SIZE;
    tb.lead = tb.size * 1.35f;
    tb.pad = t->nc > 10 ? 2.5f : 6.f;
    tb.pady = 2.5f;
    tb.rows = t->nr + (t->header ? 1 : 0);
    tb.first_sum = n_sum ? tb.rows - n_sum : tb.rows;
    size_t cells = (size_t)tb.rows * (size_t)tb.nc, nc = (size_t)tb.nc;
    tb.cp = tab_alloc(cells, sizeof *tb.cp);
    tb.ls = tab_alloc(cells, sizeof *tb.ls);
    tb.nl = tab_alloc(cells, sizeof *tb.nl);
    tb.rh = tab_alloc((size_t)tb.rows, sizeof *tb.rh);
    tb.nat = tab_alloc(nc, sizeof *tb.nat);
    tb.mn = tab_alloc(nc, sizeof *tb.mn);
    tb.cw = tab_alloc(nc, sizeof *tb.cw);
    tb.body = tab_alloc(nc, sizeof *tb.body);
    tab_measure(w, &tb);
    tab_widths(&tb, c);
    float pre = t->caption_label ? tab_caption(w, c, t, t->pre) : t->pre;
    float total = tab_break(&tb);
    int keep_all = total < w->text_h / 3;
    /* a header row is repeated at the top of each continuation page (unless
     * it is itself most of a page); a row taller than what a page leaves
     * under the header is set in slices of one line each, so it breaks
     * across pages instead of running past the bottom margin */
    int repeat = t->header && tb.rh[0] <= w->text_h / 2;
    float limit = w->text_h - (repeat ? tb.rh[0] : 0);
    int hdr_item = -1;
    for (int r = 0; r < tb.rows; r++) tab_emit_row(w, c, &tb, r, pre, keep_all, repeat, limit, &hdr_item);
    tab_free(&tb);
}

/* A cell's inlines as plain text (tables set plain cells). */
static const char *cell_text(pw *w, const kiln_block *cell)
{
    sbuf t = {0};
    pp_plain(&t, cell->inlines);
    const char *s = ka_strdup(w->a, t.s ? t.s : "");
    sb_free(&t);
    return s;
}

/* A pipe table: its cells as plain text through the writer's table layout,
 * right-aligned columns as numbers are. */
void grid_block(pw *w, ctx *c, const kiln_block *b)
{
    int nc = b->level, nr = 0;
    if (nc <= 0) return;
    for (const kiln_block *r = b->children; r; r = r->next) nr += !r->ordered;
    const char **header = ka_alloc(w->a, sizeof *header * (size_t)nc);
    const char **cells = ka_alloc(w->a, sizeof *cells * (size_t)(nr * nc + 1));
    int *numeric = ka_alloc(w->a, sizeof *numeric * (size_t)nc);
    for (int k = 0; k < nc; k++) {
        header[k] = "";
        numeric[k] = b->info[k] == 'r';
    }
    int row = 0;
    for (const kiln_block *r = b->children; r; r = r->next) {
        int k = 0;
        for (const kiln_block *cell = r->children; cell && k < nc; cell = cell->next, k++) {
            const char *txt = cell_text(w, cell);
            if (r->ordered) header[k] = txt;
            else cells[row * nc + k] = txt;
        }
        for (; k < nc; k++)
            if (!r->ordered) cells[row * nc + k] = "";
        if (!r->ordered) row++;
    }
    table_block(w, c, &(ptable_spec){.nr = nr, .nc = nc, .header = header, .cells = cells, .numeric = numeric, .pre = 8});
}

void facts_block(pw *w, ctx *c, const kiln_block *b)
{
    int n = 0;
    for (const kiln_block *r = b->children; r; r = r->next) n += r->children && r->children->next;
    const char **cells = ka_alloc(w->a, sizeof *cells * (size_t)(2 * n + 1));
    int k = 0;
    for (const kiln_block *r = b->children; r; r = r->next) {
        if (!r->children || !r->children->next) continue;
        cells[k++] = cell_text(w, r->children);
        cells[k++] = cell_text(w, r->children->next);
    }
    ctx fc = *c;
    fc.left_tables = 1;
    table_block(w, &fc, &(ptable_spec){.nr = n, .nc = 2, .cells = cells, .bold_first_col = 1, .pre = c->in_section ? 6 : 10});
}
