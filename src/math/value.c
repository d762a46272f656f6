/* kiln's values inside math: {{RUN.METRIC:FMT}} placeholders, found after
 * parsing and filled in with their formatted text once the runs are known.
 * A number in sci form ("2.5 × 10⁻³", "10⁻⁵") becomes a mantissa, a times
 * sign and 10 with a superscript, and a leading minus the minus sign, so
 * both renderers set them as math rather than as text. */
#include "math/internal.h"

#include <stdlib.h>
#include <string.h>

int km_each_value(km_node *n, int (*fn)(km_node *, void *), void *ctx)
{
    if (!n) return 0;
    if (n->kind == KM_VALUE) return fn(n, ctx);
    for (int i = 0; i < n->n; i++) {
        int r = km_each_value(n->kid[i], fn, ctx);
        if (r) return r;
    }
    return 0;
}

static km_node *leaf(km_kind k, const char *text, size_t len, size_t pos)
{
    km_node *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = k;
    n->pos = pos;
    n->text = strndup(text, len);
    if (!n->text) { free(n); return NULL; }
    return n;
}

/* ASCII for a superscript digit or minus, else 0. */
static char sup_ascii(uint32_t c)
{
    if (c == 0x2070) return '0';
    if (c == 0xB9) return '1';
    if (c == 0xB2) return '2';
    if (c == 0xB3) return '3';
    if (c >= 0x2074 && c <= 0x2079) return (char)('4' + (c - 0x2074));
    if (c == 0x207B) return '-';
    return 0;
}

/* The exponent of "10⁻³" at s (a minus and digits, as ASCII), or 0 when the
 * rest of the text is not 10 and superscripts only. */
static int power_of_ten(const char *s, const char *end, char *exp, size_t cap)
{
    if (end - s < 3 || s[0] != '1' || s[1] != '0') return 0;
    s += 2;
    size_t n = 0;
    while (s < end && n + 1 < cap) {
        char a = sup_ascii(kb_utf8_next_in(&s, end));
        if (!a || (a == '-' && n)) return 0;
        exp[n++] = a;
    }
    exp[n] = 0;
    return s == end && n && exp[n - 1] != '-';
}

static int push(km_node *row, km_node *kid)
{
    if (!kid) return 0;
    km_node **k = realloc(row->kid, sizeof *k * (size_t)(row->n + 1));
    if (!k) { km_free(kid); return 0; }
    row->kid = k;
    k[row->n++] = kid;
    return 1;
}

/* "2.5 × 10⁻³" as mantissa × 10^{−3}; NULL when t is not of that form. */
static km_node *sci_row(const char *t, size_t pos)
{
    const char *end = t + strlen(t), *times = strstr(t, " × ");
    const char *ten = times ? times + strlen(" × ") : t;
    char exp[32];
    if (!power_of_ten(ten, end, exp, sizeof exp)) return NULL;
    km_node *row = calloc(1, sizeof *row), *sup = calloc(1, sizeof *sup), *sc = calloc(1, sizeof *sc);
    if (!row || !sup || !sc) { free(row); free(sup); free(sc); return NULL; }
    row->kind = sup->kind = KM_ROW;
    sc->kind = KM_SCRIPT;
    row->pos = sup->pos = sc->pos = pos;
    int ok = 1;
    if (times) ok = push(row, leaf(KM_NUMBER, t, (size_t)(times - t), pos)) && push(row, leaf(KM_OP, "×", strlen("×"), pos));
    if (ok && exp[0] == '-') ok = push(sup, leaf(KM_OP, "−", strlen("−"), pos));
    if (ok) ok = push(sup, leaf(KM_NUMBER, exp + (exp[0] == '-'), strlen(exp + (exp[0] == '-')), pos));
    sc->kid = calloc(3, sizeof *sc->kid);
    if (ok && sc->kid) {
        sc->n = 3;   /* base, sub, sup: km_free skips the NULL sub */
        sc->kid[0] = leaf(KM_NUMBER, "10", 2, pos);
        sc->kid[2] = sup;
        sup = NULL;
        ok = sc->kid[0] && push(row, sc);
        sc = NULL;
    }
    km_free(sup);
    km_free(sc);
    if (!ok) { km_free(row); return NULL; }
    return row;
}

void km_fill(km_node *v, const char *text)
{
    const char *t = text;
    int neg = 0;
    if (*t == '-') { neg = 1; t++; }
    else if (!strncmp(t, "−", strlen("−"))) { neg = 1; t += strlen("−"); }
    km_node *row = sci_row(t, v->pos);
    if (!row && neg && *t) {
        row = calloc(1, sizeof *row);
        if (row) { row->kind = KM_ROW; row->pos = v->pos; }
        if (row && !push(row, leaf(KM_NUMBER, t, strlen(t), v->pos))) { km_free(row); row = NULL; }
    }
    if (row && neg) {
        km_node *minus = leaf(KM_OP, "−", strlen("−"), v->pos);
        km_node **k = minus ? realloc(row->kid, sizeof *k * (size_t)(row->n + 1)) : NULL;
        if (!k) { km_free(minus); km_free(row); row = NULL; }
        else {
            memmove(k + 1, k, sizeof *k * (size_t)row->n);
            k[0] = minus;
            row->kid = k;
            row->n++;
        }
    }
    /* the key stays in text2 and the formatted text in text (a row's text
     * is not drawn), for the source with the values in (km_filled_source) */
    free(v->text2);
    v->text2 = v->text;
    v->text = strdup(text);
    if (row) {   /* v becomes the row: its kids move over */
        v->kind = KM_ROW;
        v->kid = row->kid;
        v->n = row->n;
        free(row);
        return;
    }
    v->kind = KM_NUMBER;
}

/* Replace, in order, each filled value's {{key}} in *s (from *at on). */
static void refill(const km_node *n, sbuf *out, const char **at)
{
    if (!n) return;
    if ((n->kind == KM_NUMBER || n->kind == KM_ROW) && n->text2 && n->text) {
        sbuf k = {0};
        sb_printf(&k, "{{%s}}", n->text2);
        const char *hit = k.s ? strstr(*at, k.s) : NULL;
        if (hit) {
            sb_addn(out, *at, (size_t)(hit - *at));
            sb_add(out, n->text);
            *at = hit + strlen(k.s);
        }
        free(k.s);
        return;
    }
    for (int i = 0; i < n->n; i++) refill(n->kid[i], out, at);
}

char *km_filled_source(const km_node *n, const char *src)
{
    sbuf out = {0};
    const char *at = src;
    refill(n, &out, &at);
    sb_add(&out, at);
    return sb_take(&out);
}
