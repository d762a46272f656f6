/* km_node tree -> MathML Core (what Chromium, Firefox and Safari render
 * without JavaScript). MathML Core has no mathvariant other than "normal"
 * and no columnalign: bold and multi-letter italic names use the Unicode
 * mathematical alphanumerics, and table columns are aligned with CSS. */
#include "math/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void esc(kbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': kb_puts(b, "&amp;"); break;
        case '<': kb_puts(b, "&lt;"); break;
        case '>': kb_puts(b, "&gt;"); break;
        case '"': kb_puts(b, "&quot;"); break;
        default: kb_put(b, s, 1);
        }
    }
}

/* Letters and digits as mathematical bold or italic code points. */
static void mapped(kbuf *b, const char *s, int bold, int italic)
{
    const char *end = s + strlen(s);
    while (s < end) {
        uint32_t c = km_utf8_next(&s, end), m = c;
        if (bold) {
            if (c >= 'A' && c <= 'Z') m = 0x1D400 + (c - 'A');
            else if (c >= 'a' && c <= 'z') m = 0x1D41A + (c - 'a');
            else if (c >= '0' && c <= '9') m = 0x1D7CE + (c - '0');
        } else if (italic) {
            if (c == 'h') m = 0x210E;
            else if (c >= 'A' && c <= 'Z') m = 0x1D434 + (c - 'A');
            else if (c >= 'a' && c <= 'z') m = 0x1D44E + (c - 'a');
        }
        char o[4];
        if (m == '&' || m == '<' || m == '>' || m == '"') { char t[2] = {(char)m, 0}; esc(b, t); continue; }
        kb_put(b, o, (size_t)km_utf8_put(o, m));
    }
}

static int one_char(const char *s)
{
    const char *e = s + strlen(s);
    if (s == e) return 0;
    km_utf8_next(&s, e);
    return s == e;
}

/* A fence character a plain (unsized) mo must not stretch, as in TeX. */
static int fence_char(const char *t)
{
    static const char *f[] = {"(", ")", "[", "]", "{", "}", "|", "‖", "⟨", "⟩", "⌊", "⌋", "⌈", "⌉", "/", "∣"};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!strcmp(t, f[i])) return 1;
    return 0;
}

static void render(kbuf *b, const km_node *n);

static void ident(kbuf *b, const km_node *n)
{
    int bold = n->flags & KM_F_BOLD, it = n->flags & KM_F_ITALIC;
    int upright_single = (n->flags & KM_F_UPRIGHT) && one_char(n->text) && !bold;
    kb_puts(b, upright_single ? "<mi mathvariant=\"normal\">" : "<mi>");
    mapped(b, n->text, bold, it && !one_char(n->text));
    kb_puts(b, "</mi>");
}

static void mo(kbuf *b, const char *attrs, const char *text)
{
    kb_puts(b, "<mo");
    kb_puts(b, attrs);
    kb_puts(b, ">");
    esc(b, text);
    kb_puts(b, "</mo>");
}

static void text(kbuf *b, const char *t)
{
    /* token elements trim spaces at their ends: keep them as no-break spaces */
    kb_puts(b, "<mtext>");
    size_t n = strlen(t), lead = 0, trail = 0;
    while (lead < n && t[lead] == ' ') lead++;
    while (trail < n - lead && t[n - 1 - trail] == ' ') trail++;
    for (size_t i = 0; i < lead; i++) kb_puts(b, "\xc2\xa0");
    char *mid = strndup(t + lead, n - lead - trail);
    if (mid) esc(b, mid);
    free(mid);
    for (size_t i = 0; i < trail; i++) kb_puts(b, "\xc2\xa0");
    kb_puts(b, "</mtext>");
}

static int is_func(const km_node *n)
{
    if (n->kind == KM_SCRIPT) n = n->kid[0];
    return n->kind == KM_IDENT && (n->flags & KM_F_FUNC);
}

static void row_kids(kbuf *b, const km_node *n, int from)
{
    for (int i = from; i < n->n; i++) {
        render(b, n->kid[i]);
        if (is_func(n->kid[i]) && i + 1 < n->n && n->kid[i + 1]->kind != KM_SPACE)
            kb_puts(b, "<mo>\xe2\x81\xa1</mo>");   /* U+2061 function application */
    }
}

static void row(kbuf *b, const km_node *n)
{
    if (n->n == 1 && !is_func(n->kid[0])) { render(b, n->kid[0]); return; }
    kb_puts(b, "<mrow>");
    row_kids(b, n, 0);
    kb_puts(b, "</mrow>");
}

static void script(kbuf *b, const km_node *n)
{
    const km_node *base = n->kid[0], *sub = n->kid[1], *sup = n->kid[2];
    int lim = n->flags & KM_F_LIMITS;
    const char *tag = lim ? (sub && sup ? "munderover" : sub ? "munder" : "mover")
                          : (sub && sup ? "msubsup" : sub ? "msub" : "msup");
    kb_printf(b, "<%s>", tag);
    int forced = n->flags & KM_F_FORCELIM;
    if (lim && base->kind == KM_IDENT)   /* \max, \lim: limits beside it inline */
        mo(b, forced ? " movablelimits=\"false\" form=\"prefix\"" : " movablelimits=\"true\" form=\"prefix\"", base->text);
    else if (forced && base->kind == KM_OP)
        mo(b, " movablelimits=\"false\"", base->text);
    else
        render(b, base);
    if (sub) render(b, sub);
    if (sup) render(b, sup);
    kb_printf(b, "</%s>", tag);
}

static void table(kbuf *b, const km_node *n)
{
    int aligned = n->env == KM_ENV_ALIGNED, cases = n->env == KM_ENV_CASES;
    kb_puts(b, aligned ? "<mtable displaystyle=\"true\">" : "<mtable>");
    for (int r = 0; r < n->n; r++) {
        const km_node *tr = n->kid[r];
        kb_puts(b, "<mtr>");
        for (int c = 0; c < tr->n; c++) {
            const km_node *cell = tr->kid[c];
            if (aligned) {
                /* pairs of columns: right-aligned, then left-aligned against it */
                if (c % 2 == 0)
                    kb_printf(b, "<mtd columnalign=\"right\" style=\"text-align:right;padding-left:%s;padding-right:0\">",
                              c ? "2em" : "0");
                else
                    kb_puts(b, "<mtd columnalign=\"left\" style=\"text-align:left;padding-left:0;padding-right:0\">");
            } else if (cases) {
                kb_printf(b, "<mtd columnalign=\"left\" style=\"text-align:left;padding-left:%s\">", c ? "1em" : "0");
            } else {
                kb_puts(b, "<mtd>");
            }
            /* "&= ..." or "&+ ...": the operator keeps its infix spacing */
            int lead_op = aligned && c % 2 == 1 && cell->n && cell->kid[0]->kind == KM_OP;
            if (lead_op || cell->n != 1) {
                kb_puts(b, "<mrow>");
                if (lead_op) kb_puts(b, "<mi></mi>");
                row_kids(b, cell, 0);
                kb_puts(b, "</mrow>");
            } else {
                render(b, cell);
            }
            kb_puts(b, "</mtd>");
        }
        kb_puts(b, "</mtr>");
    }
    kb_puts(b, "</mtable>");
}

static void render(kbuf *b, const km_node *n)
{
    switch (n->kind) {
    case KM_ROW: row(b, n); break;
    case KM_IDENT: ident(b, n); break;
    case KM_NUMBER:
        kb_puts(b, "<mn>");
        mapped(b, n->text, n->flags & KM_F_BOLD, 0);
        kb_puts(b, "</mn>");
        break;
    case KM_OP:
        if (n->size > 0) {
            char a[128];
            snprintf(a, sizeof a, " stretchy=\"true\" symmetric=\"true\" minsize=\"%.2gem\" maxsize=\"%.2gem\"", n->size, n->size);
            mo(b, a, n->text);
        } else if (n->flags & KM_F_STRETCH) {
            mo(b, " stretchy=\"true\" symmetric=\"true\"", n->text);
        } else {
            mo(b, fence_char(n->text) ? " stretchy=\"false\"" : "", n->text);
        }
        break;
    case KM_TEXT: text(b, n->text); break;
    case KM_SPACE:
        if (n->size >= 0) kb_printf(b, "<mspace width=\"%.4gem\"/>", n->size);
        else kb_printf(b, "<mspace style=\"margin-left:%.4gem\"/>", n->size);
        break;
    case KM_FRAC: {
        const char *st = n->flags & KM_F_DISPLAY ? "true" : n->flags & KM_F_TEXTST ? "false" : NULL;
        if (st) kb_printf(b, "<mstyle displaystyle=\"%s\">", st);
        kb_puts(b, n->flags & KM_F_NOBAR ? "<mfrac linethickness=\"0\">" : "<mfrac>");
        render(b, n->kid[0]);
        render(b, n->kid[1]);
        kb_puts(b, "</mfrac>");
        if (st) kb_puts(b, "</mstyle>");
        break;
    }
    case KM_SQRT:
        if (n->kid[1]) {
            kb_puts(b, "<mroot>");
            render(b, n->kid[0]);
            render(b, n->kid[1]);
            kb_puts(b, "</mroot>");
        } else {
            kb_puts(b, "<msqrt>");
            render(b, n->kid[0]);
            kb_puts(b, "</msqrt>");
        }
        break;
    case KM_SCRIPT: script(b, n); break;
    case KM_ACCENT:
        kb_puts(b, "<mover accent=\"true\">");
        render(b, n->kid[0]);
        mo(b, n->flags & KM_F_STRETCH ? " stretchy=\"true\"" : " stretchy=\"false\"", n->text);
        kb_puts(b, "</mover>");
        break;
    case KM_FENCED:
        kb_puts(b, "<mrow>");
        if (*n->text) mo(b, " fence=\"true\" form=\"prefix\" stretchy=\"true\" symmetric=\"true\"", n->text);
        if (n->kid[0]->kind == KM_ROW) row_kids(b, n->kid[0], 0);
        else render(b, n->kid[0]);
        if (*n->text2) mo(b, " fence=\"true\" form=\"postfix\" stretchy=\"true\" symmetric=\"true\"", n->text2);
        kb_puts(b, "</mrow>");
        break;
    case KM_TABLE: table(b, n); break;
    case KM_VALUE:
        kb_puts(b, "<mtext>{{");
        esc(b, n->text);
        kb_puts(b, "}}</mtext>");
        break;
    }
}

char *km_mathml(const km_node *n, int display, const char *alttext)
{
    kbuf b = {0};
    kb_puts(&b, display ? "<math display=\"block\"" : "<math");
    if (alttext) {
        kb_puts(&b, " alttext=\"");
        esc(&b, alttext);
        kb_puts(&b, "\"");
    }
    kb_puts(&b, ">");
    if (n) {
        /* one mrow around the whole formula keeps the operators' forms right */
        if (n->kind == KM_ROW) {
            kb_puts(&b, "<mrow>");
            row_kids(&b, n, 0);
            kb_puts(&b, "</mrow>");
        } else {
            render(&b, n);
        }
    }
    kb_puts(&b, "</math>");
    if (b.oom) { free(b.s); return NULL; }
    return b.s;
}
