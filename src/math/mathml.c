/* km_node tree -> MathML Core (what Chromium, Firefox and Safari render
 * without JavaScript). MathML Core has no mathvariant other than "normal"
 * and no columnalign: bold and multi-letter italic names use the Unicode
 * mathematical alphanumerics, and table columns are aligned with CSS. */
#include "math/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void esc(sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_add(b, "&amp;"); break;
        case '<': sb_add(b, "&lt;"); break;
        case '>': sb_add(b, "&gt;"); break;
        case '"': sb_add(b, "&quot;"); break;
        default: sb_addn(b, s, 1);
        }
    }
}

/* Letters and digits as mathematical bold or italic code points. */
static void mapped(sbuf *b, const char *s, int bold, int italic)
{
    const char *end = s + strlen(s);
    while (s < end) {
        uint32_t c = kb_utf8_next_in(&s, end), m = c;
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
        sb_addn(b, o, (size_t)kb_utf8_put(o, m));
    }
}

static int one_char(const char *s)
{
    const char *e = s + strlen(s);
    if (s == e) return 0;
    kb_utf8_next_in(&s, e);
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

static void render(sbuf *b, const km_node *n);

static void ident(sbuf *b, const km_node *n)
{
    int bold = n->flags & KM_F_BOLD, it = n->flags & KM_F_ITALIC;
    int upright_single = (n->flags & KM_F_UPRIGHT) && one_char(n->text) && !bold;
    sb_add(b, upright_single ? "<mi mathvariant=\"normal\">" : "<mi>");
    mapped(b, n->text, bold, it && !one_char(n->text));
    sb_add(b, "</mi>");
}

static void mo(sbuf *b, const char *attrs, const char *text)
{
    sb_add(b, "<mo");
    sb_add(b, attrs);
    sb_add(b, ">");
    esc(b, text);
    sb_add(b, "</mo>");
}

static void text(sbuf *b, const char *t)
{
    /* token elements trim spaces at their ends: keep them as no-break spaces */
    sb_add(b, "<mtext>");
    size_t n = strlen(t), lead = 0, trail = 0;
    while (lead < n && t[lead] == ' ') lead++;
    while (trail < n - lead && t[n - 1 - trail] == ' ') trail++;
    for (size_t i = 0; i < lead; i++) sb_add(b, "\xc2\xa0");
    char *mid = strndup(t + lead, n - lead - trail);
    if (mid) esc(b, mid);
    free(mid);
    for (size_t i = 0; i < trail; i++) sb_add(b, "\xc2\xa0");
    sb_add(b, "</mtext>");
}

static int is_func(const km_node *n)
{
    if (n->kind == KM_SCRIPT) n = n->kid[0];
    return n->kind == KM_IDENT && (n->flags & KM_F_FUNC);
}

static void row_kids(sbuf *b, const km_node *n, int from)
{
    for (int i = from; i < n->n; i++) {
        render(b, n->kid[i]);
        if (is_func(n->kid[i]) && i + 1 < n->n && n->kid[i + 1]->kind != KM_SPACE)
            sb_add(b, "<mo>\xe2\x81\xa1</mo>");   /* U+2061 function application */
    }
}

static void row(sbuf *b, const km_node *n)
{
    if (n->n == 1 && !is_func(n->kid[0])) { render(b, n->kid[0]); return; }
    sb_add(b, "<mrow>");
    row_kids(b, n, 0);
    sb_add(b, "</mrow>");
}

static void script(sbuf *b, const km_node *n)
{
    const km_node *base = n->kid[0], *sub = n->kid[1], *sup = n->kid[2];
    int lim = n->flags & KM_F_LIMITS;
    const char *tag = lim ? (sub && sup ? "munderover" : sub ? "munder" : "mover")
                          : (sub && sup ? "msubsup" : sub ? "msub" : "msup");
    sb_printf(b, "<%s>", tag);
    int forced = n->flags & KM_F_FORCELIM;
    if (lim && base->kind == KM_IDENT)   /* \max, \lim: limits beside it inline */
        mo(b, forced ? " movablelimits=\"false\" form=\"prefix\"" : " movablelimits=\"true\" form=\"prefix\"", base->text);
    else if (forced && base->kind == KM_OP)
        mo(b, " movablelimits=\"false\"", base->text);
    else
        render(b, base);
    if (sub) render(b, sub);
    if (sup) render(b, sup);
    sb_printf(b, "</%s>", tag);
}

static void table(sbuf *b, const km_node *n)
{
    int aligned = n->env == KM_ENV_ALIGNED, cases = n->env == KM_ENV_CASES;
    sb_add(b, aligned ? "<mtable displaystyle=\"true\">" : "<mtable>");
    for (int r = 0; r < n->n; r++) {
        const km_node *tr = n->kid[r];
        sb_add(b, "<mtr>");
        for (int c = 0; c < tr->n; c++) {
            const km_node *cell = tr->kid[c];
            if (aligned) {
                /* pairs of columns: right-aligned, then left-aligned against it */
                if (c % 2 == 0)
                    sb_printf(b, "<mtd columnalign=\"right\" style=\"text-align:right;padding-left:%s;padding-right:0\">",
                              c ? "2em" : "0");
                else
                    sb_add(b, "<mtd columnalign=\"left\" style=\"text-align:left;padding-left:0;padding-right:0\">");
            } else if (cases) {
                sb_printf(b, "<mtd columnalign=\"left\" style=\"text-align:left;padding-left:%s\">", c ? "1em" : "0");
            } else {
                sb_add(b, "<mtd>");
            }
            /* "&= ..." or "&+ ...": the operator keeps its infix spacing */
            int lead_op = aligned && c % 2 == 1 && cell->n && cell->kid[0]->kind == KM_OP;
            if (lead_op || cell->n != 1) {
                sb_add(b, "<mrow>");
                if (lead_op) sb_add(b, "<mi></mi>");
                row_kids(b, cell, 0);
                sb_add(b, "</mrow>");
            } else {
                render(b, cell);
            }
            sb_add(b, "</mtd>");
        }
        sb_add(b, "</mtr>");
    }
    sb_add(b, "</mtable>");
}

static void render(sbuf *b, const km_node *n)
{
    switch (n->kind) {
    case KM_ROW: row(b, n); break;
    case KM_IDENT: ident(b, n); break;
    case KM_NUMBER:
        sb_add(b, "<mn>");
        mapped(b, n->text, n->flags & KM_F_BOLD, 0);
        sb_add(b, "</mn>");
        break;
    case KM_OP:
        if (n->size > 0) {
            char a[128];
            snprintf(a, sizeof a, " stretchy=\"true\" symmetric=\"true\" minsize=\"%.2gem\" maxsize=\"%.2gem\"", n->size, n->size);
            mo(b, a, n->text);
        } else if (n->flags & KM_F_STRETCH) {
            mo(b, " stretchy=\"true\" symmetric=\"true\"", n->text);
        } else {
            /* | ‖ / are ordinary symbols in TeX: no operator spacing */
            int ord = !strcmp(n->text, "|") || !strcmp(n->text, "‖") || !strcmp(n->text, "/");
            mo(b, ord ? " stretchy=\"false\" lspace=\"0\" rspace=\"0\"" : fence_char(n->text) ? " stretchy=\"false\"" : "", n->text);
        }
        break;
    case KM_TEXT: text(b, n->text); break;
    case KM_SPACE:
        if (n->size >= 0) sb_printf(b, "<mspace width=\"%.4gem\"/>", n->size);
        else sb_printf(b, "<mspace style=\"margin-left:%.4gem\"/>", n->size);
        break;
    case KM_FRAC: {
        const char *st = n->flags & KM_F_DISPLAY ? "true" : n->flags & KM_F_TEXTST ? "false" : NULL;
        if (st) sb_printf(b, "<mstyle displaystyle=\"%s\">", st);
        sb_add(b, n->flags & KM_F_NOBAR ? "<mfrac linethickness=\"0\">" : "<mfrac>");
        render(b, n->kid[0]);
        render(b, n->kid[1]);
        sb_add(b, "</mfrac>");
        if (st) sb_add(b, "</mstyle>");
        break;
    }
    case KM_SQRT:
        if (n->kid[1]) {
            sb_add(b, "<mroot>");
            render(b, n->kid[0]);
            render(b, n->kid[1]);
            sb_add(b, "</mroot>");
        } else {
            sb_add(b, "<msqrt>");
            render(b, n->kid[0]);
            sb_add(b, "</msqrt>");
        }
        break;
    case KM_SCRIPT: script(b, n); break;
    case KM_ACCENT:
        sb_add(b, "<mover accent=\"true\">");
        render(b, n->kid[0]);
        mo(b, n->flags & KM_F_STRETCH ? " stretchy=\"true\"" : " stretchy=\"false\"", n->text);
        sb_add(b, "</mover>");
        break;
    case KM_FENCED:
        sb_add(b, "<mrow>");
        if (*n->text) mo(b, " fence=\"true\" form=\"prefix\" stretchy=\"true\" symmetric=\"true\"", n->text);
        if (n->kid[0]->kind == KM_ROW) row_kids(b, n->kid[0], 0);
        else render(b, n->kid[0]);
        if (*n->text2) mo(b, " fence=\"true\" form=\"postfix\" stretchy=\"true\" symmetric=\"true\"", n->text2);
        sb_add(b, "</mrow>");
        break;
    case KM_TABLE: table(b, n); break;
    case KM_VALUE:
        sb_add(b, "<mtext>{{");
        esc(b, n->text);
        sb_add(b, "}}</mtext>");
        break;
    }
}

char *km_mathml(const km_node *n, int display, const char *alttext)
{
    sbuf b = {0};
    sb_add(&b, display ? "<math display=\"block\"" : "<math");
    if (alttext) {
        sb_add(&b, " alttext=\"");
        esc(&b, alttext);
        sb_add(&b, "\"");
    }
    sb_add(&b, ">");
    if (n) {
        /* one mrow around the whole formula keeps the operators' forms right */
        if (n->kind == KM_ROW) {
            sb_add(&b, "<mrow>");
            row_kids(&b, n, 0);
            sb_add(&b, "</mrow>");
        } else {
            render(&b, n);
        }
    }
    sb_add(&b, "</math>");
    return b.s;
}
