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

/* Greek letters and the Greek symbols (ϵ ϑ ϰ ϕ ϱ ϖ) as mathematical bold:
 * offsets into U+1D6A8..U+1D6E1, or -1. The bold italic ones are 0x74 on. */
static int greek_bold(uint32_t c)
{
    static const uint32_t gsym[] = {0x3F5, 0x3D1, 0x3F0, 0x3D5, 0x3F1, 0x3D6};
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return (int)(c - 0x391);
    if (c >= 0x3B1 && c <= 0x3C9) return (int)(c - 0x3B1) + 0x1A;
    for (int i = 0; i < 6; i++)
        if (c == gsym[i]) return 0x34 + i;
    return -1;
}

/* Letters and digits as mathematical bold, italic or bold italic code
 * points (Chromium honours no mathvariant but "normal"). */
static void mapped(sbuf *b, const char *s, int bold, int italic)
{
    const char *end = s + strlen(s);
    while (s < end) {
        uint32_t c = kb_utf8_next_in(&s, end), m = c;
        int g = greek_bold(c);
        if (bold && italic) {
            if (c >= 'A' && c <= 'Z') m = 0x1D468 + (c - 'A');
            else if (c >= 'a' && c <= 'z') m = 0x1D482 + (c - 'a');
            else if (c >= '0' && c <= '9') m = 0x1D7CE + (c - '0');
            else if (g >= 0) m = 0x1D71C + (uint32_t)g;
        } else if (bold) {
            if (c >= 'A' && c <= 'Z') m = 0x1D400 + (c - 'A');
            else if (c >= 'a' && c <= 'z') m = 0x1D41A + (c - 'a');
            else if (c >= '0' && c <= '9') m = 0x1D7CE + (c - '0');
            else if (g >= 0) m = 0x1D6A8 + (uint32_t)g;
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
    int bold = n->flags & KM_F_BOLD, it = n->flags & KM_F_ITALIC, one = one_char(n->text);
    int upright_single = (n->flags & KM_F_UPRIGHT) && one && !bold;
    sb_add(b, upright_single ? "<mi mathvariant=\"normal\">" : "<mi>");
    /* bold italic (\boldsymbol) is mapped even for one letter: a bold mi
     * would be upright */
    mapped(b, n->text, bold, it && (!one || bold));
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

/* Whether n starts with an ordinary atom (a letter, a number, a fraction,
 * a root ...): TeX puts a thin space between a function name and one, none
 * before an opening fence, punctuation or a space. */
static int starts_ord(const km_node *n)
{
    switch (n->kind) {
    case KM_IDENT: case KM_NUMBER: case KM_TEXT: case KM_FRAC: case KM_SQRT: case KM_ACCENT: case KM_VALUE:
        return 1;
    case KM_SCRIPT: return starts_ord(n->kid[0]);
    case KM_ROW: return n->n > 0 && starts_ord(n->kid[0]);
    default: return 0;
    }
}

/* Whether n ends with an ordinary atom or a closing fence: TeX puts a thin
 * space between one and a function name after it (a \cos b). */
static int ends_ord(const km_node *n)
{
    switch (n->kind) {
    case KM_IDENT: case KM_NUMBER: case KM_TEXT: case KM_FRAC: case KM_SQRT: case KM_ACCENT: case KM_VALUE:
    case KM_SCRIPT: case KM_FENCED:
        return 1;
    case KM_OP: return !strcmp(n->text, ")") || !strcmp(n->text, "]") || !strcmp(n->text, "⟩");
    case KM_ROW: return n->n > 0 && ends_ord(n->kid[n->n - 1]);
    default: return 0;
    }
}

static void row_kids(sbuf *b, const km_node *n, int from)
{
    for (int i = from; i < n->n; i++) {
        if (i > from && is_func(n->kid[i]) && ends_ord(n->kid[i - 1])) sb_add(b, "<mspace width=\"0.1667em\"/>");
        render(b, n->kid[i]);
        if (is_func(n->kid[i]) && i + 1 < n->n && n->kid[i + 1]->kind != KM_SPACE) {
            /* U+2061 function application; MathML Core gives it no space,
             * so the thin space TeX puts before an ordinary atom is its rspace */
            sb_add(b, starts_ord(n->kid[i + 1]) ? "<mo rspace=\"0.1667em\">\xe2\x81\xa1</mo>"
                                                : "<mo>\xe2\x81\xa1</mo>");
        }
    }
}

/* A superscript of primes only (f', f''): U+2032 is drawn raised already,
 * so the primes follow the base at full size, as the PDF sets them. */
static int primes_only(const km_node *n)
{
    if (!n) return 0;
    if (n->kind == KM_OP) return !strcmp(n->text, "′");
    if (n->kind != KM_ROW || !n->n) return 0;
    for (int i = 0; i < n->n; i++)
        if (n->kid[i]->kind != KM_OP || strcmp(n->kid[i]->text, "′")) return 0;
    return 1;
}

static void row(sbuf *b, const km_node *n)
{
    if (n->n == 1 && !is_func(n->kid[0])) { render(b, n->kid[0]); return; }
    sb_add(b, "<mrow>");
    row_kids(b, n, 0);
    sb_add(b, "</mrow>");
}

/* How deep in scripts (sub- and superscripts, limits, a root's index) the
 * writer is: TeX puts no space around binary operators and relations
 * there, Chromium does unless told. Per thread, as pages may be written in
 * parallel. */
static _Thread_local int script_depth;

static void in_script(sbuf *b, const km_node *n)
{
    script_depth++;
    render(b, n);
    script_depth--;
}

static void script(sbuf *b, const km_node *n)
{
    const km_node *base = n->kid[0], *sub = n->kid[1], *sup = n->kid[2];
    int lim = n->flags & KM_F_LIMITS;
    if (!lim && !sub && primes_only(sup)) {
        sb_add(b, "<mrow>");
        render(b, base);
        for (int i = 0; i < (sup->kind == KM_ROW ? sup->n : 1); i++) mo(b, " lspace=\"0\" rspace=\"0\"", "′");
        sb_add(b, "</mrow>");
        return;
    }
    const char *tag = lim ? (sub && sup ? "munderover" : sub ? "munder" : "mover")
                          : (sub && sup ? "msubsup" : sub ? "msub" : "msup");
    sb_printf(b, "<%s>", tag);
    int forced = n->flags & KM_F_FORCELIM;
    /* \max, \lim: limits beside it inline; the spaces around it are the
     * row's (a thin one before and after an ordinary atom, as for \log) */
    if (lim && base->kind == KM_IDENT)
        mo(b, forced ? " movablelimits=\"false\" form=\"prefix\" lspace=\"0\" rspace=\"0\""
                     : " movablelimits=\"true\" form=\"prefix\" lspace=\"0\" rspace=\"0\"", base->text);
    else if (forced && base->kind == KM_OP)
        mo(b, " movablelimits=\"false\"", base->text);
    else
        render(b, base);
    if (sub) in_script(b, sub);
    if (sup) in_script(b, sup);
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
                /* Chromium lays a cell's math out as a block: plain
                 * text-align:right does not move it, -webkit-right does
                 * (others ignore it and keep right, or the attribute) */
                if (c % 2 == 0)
                    sb_printf(b, "<mtd columnalign=\"right\" style=\"text-align:right;text-align:-webkit-right;"
                              "padding-left:%s;padding-right:0\">", c ? "2em" : "0");
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
            int fence = fence_char(n->text), large = n->flags & KM_F_LARGEOP;
            mo(b, ord ? " stretchy=\"false\" lspace=\"0\" rspace=\"0\""
                  : fence ? " stretchy=\"false\""
                  : script_depth && !large ? " lspace=\"0\" rspace=\"0\"" : "", n->text);
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
            in_script(b, n->kid[1]);
            sb_add(b, "</mroot>");
        } else {
            sb_add(b, "<msqrt>");
            render(b, n->kid[0]);
            sb_add(b, "</msqrt>");
        }
        break;
    case KM_SCRIPT: script(b, n); break;
    case KM_ACCENT:
        if ((n->flags & KM_F_STRETCH) && !strcmp(n->text, "¯")) {
            /* \overline: no bar character stretches in Chromium with the
             * math fonts; a border is a rule as long as the base */
            sb_add(b, "<mrow style=\"border-top:0.06em solid;padding-top:0.12em\">");
            render(b, n->kid[0]);
            sb_add(b, "</mrow>");
            break;
        }
        sb_add(b, "<mover accent=\"true\">");
        render(b, n->kid[0]);
        /* \widehat: the combining circumflex is the one with wide variants;
         * \hat and \tilde: the modifier letters, TeX-sized where ^ and ~
         * are wide; \vec: the arrow at 70%, as TeX's small one */
        if (n->flags & KM_F_STRETCH) mo(b, " stretchy=\"true\"", !strcmp(n->text, "^") ? "\xcc\x82" : n->text);
        else if (!strcmp(n->text, "^")) mo(b, " stretchy=\"false\"", "ˆ");
        else if (!strcmp(n->text, "~")) mo(b, " stretchy=\"false\"", "˜");
        else if (!strcmp(n->text, "→")) mo(b, " stretchy=\"false\" mathsize=\"70%\"", n->text);
        else mo(b, " stretchy=\"false\"", n->text);
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
        /* the source as written, with the values that were filled in */
        char *alt = km_filled_source(n, alttext);
        sb_add(&b, " alttext=\"");
        esc(&b, alt ? alt : alttext);
        sb_add(&b, "\"");
        free(alt);
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
