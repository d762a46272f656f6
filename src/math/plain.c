/* A formula as one line of plain text, for where no math can be set: a
 * chapter's title in the <title>, the contents, the PDF's outline and
 * running heads. "\eta_t" -> "ηₜ", "x^2" -> "x²", "f'" -> "f′",
 * "\frac{a+b}{2}" -> "(a+b)/2"; a script with a character that Unicode has
 * no small form of keeps TeX's _ or ^ ("x^{k+y}" -> "x^(k+y)"). */
#include "math/internal.h"

#include <stdlib.h>
#include <string.h>

static void plain(sbuf *b, const km_node *n, int sc);

/* The small form of c as a sub- (sub = 1) or superscript, or 0. */
static uint32_t small_form(uint32_t c, int sub)
{
    static const char sup_digits[][4] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
    if (c >= '0' && c <= '9') {
        if (sub) return 0x2080 + (c - '0');
        const char *s = sup_digits[c - '0'];
        return kb_utf8_next(&s);
    }
    static const struct { uint32_t c, sub, sup; } t[] = {
        {'+', 0x208A, 0x207A}, {0x2212, 0x208B, 0x207B}, {'=', 0x208C, 0x207C}, {'(', 0x208D, 0x207D},
        {')', 0x208E, 0x207E}, {'a', 0x2090, 0}, {'e', 0x2091, 0}, {'o', 0x2092, 0}, {'x', 0x2093, 0},
        {'h', 0x2095, 0}, {'k', 0x2096, 0}, {'l', 0x2097, 0}, {'m', 0x2098, 0}, {'n', 0x2099, 0x207F},
        {'p', 0x209A, 0}, {'s', 0x209B, 0}, {'t', 0x209C, 0}, {'i', 0x1D62, 0x2071}, {'j', 0x2C7C, 0},
        {'r', 0x1D63, 0}, {'u', 0x1D64, 0}, {'v', 0x1D65, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].c == c) return sub ? t[i].sub : t[i].sup;
    return 0;
}

/* A script: in small forms when every character has one, else after _ or ^
 * (in parentheses when longer than one character). */
static void script_text(sbuf *b, const km_node *n, int sub)
{
    sbuf t = {0};
    plain(&t, n, 1);
    const char *s = t.s ? t.s : "", *q = s;
    int count = 0, mappable = *s != 0;
    while (*q) {
        if (!small_form(kb_utf8_next(&q), sub)) mappable = 0;
        count++;
    }
    if (mappable) {
        for (q = s; *q;) {
            char u[4];
            sb_addn(b, u, (size_t)kb_utf8_put(u, small_form(kb_utf8_next(&q), sub)));
        }
    } else if (count) {
        sb_add(b, sub ? "_" : "^");
        if (count > 1) sb_addc(b, '(');
        sb_add(b, s);
        if (count > 1) sb_addc(b, ')');
    }
    sb_free(&t);
}

/* A fraction's part, in parentheses when it is more than one atom. */
static void part(sbuf *b, const km_node *n, int sc)
{
    int many = n->kind == KM_ROW && n->n > 1;
    if (many) sb_addc(b, '(');
    plain(b, n, sc);
    if (many) sb_addc(b, ')');
}

/* A binary operator or relation, spaced outside scripts: "x + y". */
static int spaced(const km_node *n)
{
    static const char *const bare = "()[]{}|/,;:!.'?";
    if (n->kind != KM_OP || !*n->text || n->size > 0 || (n->flags & KM_F_LARGEOP)) return 0;
    if (!n->text[1] && strchr(bare, n->text[0])) return 0;
    return strcmp(n->text, "‖") && strcmp(n->text, "′") && strcmp(n->text, "⟨") && strcmp(n->text, "⟩") &&
           strcmp(n->text, "⌊") && strcmp(n->text, "⌋") && strcmp(n->text, "⌈") && strcmp(n->text, "⌉");
}

static void plain(sbuf *b, const km_node *n, int sc)
{
    if (!n) return;
    switch (n->kind) {
    case KM_ROW:
        for (int i = 0; i < n->n; i++) {
            int sp = !sc && i > 0 && spaced(n->kid[i]);   /* a leading one is a sign */
            if (sp) sb_addc(b, ' ');
            plain(b, n->kid[i], sc);
            if (sp && i + 1 < n->n) sb_addc(b, ' ');
            const km_node *k = n->kid[i], *next = i + 1 < n->n ? n->kid[i + 1] : NULL;
            if (k->kind == KM_SCRIPT) k = k->kid[0];
            if (next && k->kind == KM_IDENT && (k->flags & KM_F_FUNC) && (next->kind == KM_IDENT || next->kind == KM_NUMBER))
                sb_addc(b, ' ');   /* log x */
        }
        break;
    case KM_IDENT: case KM_NUMBER: case KM_OP: case KM_TEXT:
        sb_add(b, n->text);
        break;
    case KM_SPACE: if (n->size >= 0.2) sb_addc(b, ' '); break;
    case KM_FRAC: part(b, n->kid[0], sc); sb_addc(b, '/'); part(b, n->kid[1], sc); break;
    case KM_SQRT: sb_add(b, "√"); part(b, n->kid[0], sc); break;
    case KM_SCRIPT:
        plain(b, n->kid[0], sc);
        if (n->kid[1]) script_text(b, n->kid[1], 1);
        if (n->kid[2]) {
            const km_node *s = n->kid[2];
            int primes = s->kind == KM_OP ? !strcmp(s->text, "′") : s->kind == KM_ROW && s->n > 0;
            for (int i = 0; s->kind == KM_ROW && i < s->n; i++)
                primes = primes && s->kid[i]->kind == KM_OP && !strcmp(s->kid[i]->text, "′");
            if (primes) plain(b, s, 1);
            else script_text(b, s, 0);
        }
        break;
    case KM_ACCENT: plain(b, n->kid[0], sc); break;
    case KM_FENCED: sb_add(b, n->text); plain(b, n->kid[0], sc); sb_add(b, n->text2); break;
    case KM_TABLE:
        for (int r = 0; r < n->n; r++) {
            if (r) sb_add(b, "; ");
            for (int c = 0; c < n->kid[r]->n; c++) {
                if (c) sb_addc(b, ' ');
                plain(b, n->kid[r]->kid[c], sc);
            }
        }
        break;
    case KM_VALUE: sb_add(b, "{{"); sb_add(b, n->text); sb_add(b, "}}"); break;
    }
}

char *km_plain(const km_node *n)
{
    sbuf b = {0};
    plain(&b, n, 0);
    return sb_take(&b);
}
