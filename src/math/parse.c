/* TeX math source -> km_node tree. A recursive descent over TeX's own
 * grammar for the subset in kiln/math.h: a list of atoms, each a primary
 * (symbol, group, command with arguments, environment) with optional
 * scripts. Errors carry the byte offset, turned into line and column. */
#include "math/internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct P {
    const char *s;
    size_t len, i;
    km_error *err;
    int failed;
    int depth;
} P;

enum { F_NONE, F_RM, F_BF, F_IT, F_BS };   /* the font a \mathxx group selects (F_BS: \boldsymbol) */

/* The flags of a letter in font f: \mathbf sets upright bold, \boldsymbol
 * keeps the letter's own slant (upright capital Greek) and makes it bold. */
static int letter_flags(int f, int upright)
{
    switch (f) {
    case F_RM: return KM_F_UPRIGHT;
    case F_BF: return KM_F_BOLD | KM_F_UPRIGHT;
    case F_IT: return KM_F_ITALIC;
    case F_BS: return KM_F_BOLD | (upright ? KM_F_UPRIGHT : KM_F_ITALIC);
    default: return upright ? KM_F_UPRIGHT : 0;
    }
}

static km_node *parse_list(P *p, int font);

static int fail(P *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(P *p, size_t at, const char *fmt, ...)
{
    if (p->failed) return 0;
    p->failed = 1;
    km_error *e = p->err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->offset = at;
    e->line = 1;
    e->column = 1;
    const char *q = p->s, *end = p->s + (at < p->len ? at : p->len);
    while (q < end) {
        if (*q == '\n') { e->line++; e->column = 1; q++; continue; }
        kb_utf8_next_in(&q, p->s + p->len);
        e->column++;
    }
    return 0;
}

static km_node *node(P *p, km_kind k, size_t pos)
{
    km_node *n = calloc(1, sizeof *n);
    if (!n) { fail(p, pos, "out of memory"); return NULL; }
    n->kind = k;
    n->pos = pos;
    return n;
}

static km_node *leaf(P *p, km_kind k, size_t pos, const char *text, size_t tlen, int flags)
{
    km_node *n = node(p, k, pos);
    if (!n) return NULL;
    n->text = malloc(tlen + 1);
    if (!n->text) { free(n); fail(p, pos, "out of memory"); return NULL; }
    memcpy(n->text, text, tlen);
    n->text[tlen] = 0;
    n->flags = flags;
    return n;
}

static int add(P *p, km_node *parent, km_node *kid)
{
    if (!kid) return 0;
    km_node **k = realloc(parent->kid, sizeof *k * (size_t)(parent->n + 1));
    if (!k) { size_t at = kid->pos; km_free(kid); return fail(p, at, "out of memory"); }
    parent->kid = k;
    k[parent->n++] = kid;
    return 1;
}

void km_free(km_node *n)
{
    if (!n) return;
    for (int i = 0; i < n->n; i++) km_free(n->kid[i]);
    free(n->kid);
    free(n->text);
    free(n->text2);
    free(n);
}

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int at_end(P *p) { return p->i >= p->len; }
static char cur(P *p) { return p->i < p->len ? p->s[p->i] : 0; }

static void skip_space(P *p)
{
    while (p->i < p->len && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

/* The command name at p->i (which is at a backslash): letters, or one
 * other character. */
static size_t cmd_len(P *p)
{
    size_t j = p->i + 1;
    if (j >= p->len) return 0;
    if (!is_alpha(p->s[j])) return 1;
    while (j < p->len && is_alpha(p->s[j])) j++;
    return j - p->i - 1;
}

static int cmd_is(P *p, const char *name)
{
    if (cur(p) != '\\') return 0;
    size_t n = cmd_len(p);
    return n == strlen(name) && !memcmp(p->s + p->i + 1, name, n);
}

/* Terminators of a list: end, '}', '&', '\\', \right, \middle, \end. */
static int at_stop(P *p)
{
    char c = cur(p);
    if (at_end(p) || c == '}' || c == '&') return 1;
    if (c != '\\') return 0;
    return cmd_is(p, "\\") || cmd_is(p, "right") || cmd_is(p, "middle") || cmd_is(p, "end");
}

/* A stop that is wrong where it was met (the list's owner did not expect it). */
static int bad_stop(P *p, size_t open_at, const char *owner)
{
    char c = cur(p);
    if (at_end(p)) {
        if (!owner) return 1;
        return fail(p, open_at, "unbalanced brace or group: %s is not closed", owner);
    }
    if (c == '}') return fail(p, p->i, "unbalanced brace: '}' without a matching '{'");
    if (c == '&') return fail(p, p->i, "'&' outside an environment (aligned, matrix, pmatrix, bmatrix, cases)");
    if (cmd_is(p, "\\")) return fail(p, p->i, "'\\\\' outside an environment (aligned, matrix, pmatrix, bmatrix, cases)");
    if (cmd_is(p, "right")) return fail(p, p->i, "\\right without a matching \\left");
    if (cmd_is(p, "middle")) return fail(p, p->i, "\\middle outside \\left ... \\right");
    if (cmd_is(p, "end")) return fail(p, p->i, "\\end without a matching \\begin");
    return 0;
}

/* {...}: a group as a row; p->i at '{'. */
static km_node *group(P *p, int font)
{
    size_t open = p->i++;
    km_node *r = parse_list(p, font);
    if (!r) return NULL;
    if (cur(p) == '}' && !at_end(p)) { p->i++; return r; }
    if (at_end(p)) fail(p, open, "unbalanced brace: '{' is not closed");
    else bad_stop(p, open, "'{'");
    km_free(r);
    return NULL;
}

/* The raw text of a {...} argument (for \text, \operatorname, \begin):
 * balanced braces; \{ \} \$ \% \& \_ \# and "\ " stand for the character. */
static char *raw_arg(P *p, const char *cmd, size_t *out_len)
{
    skip_space(p);
    if (cur(p) != '{') { fail(p, p->i, "\\%s needs an argument in braces", cmd); return NULL; }
    size_t open = p->i++;
    sbuf b = {0};
    int depth = 0;
    while (!at_end(p)) {
        char c = cur(p);
        if (c == '}' && depth == 0) break;
        if (c == '{') depth++;
        if (c == '}') depth--;
        if (c == '\\' && p->i + 1 < p->len && (p->s[p->i + 1] == ',' || p->s[p->i + 1] == ';')) {
            sb_add(&b, "\u2009");   /* thin space */
            p->i += 2;
            continue;
        }
        if (c == '\\' && p->i + 1 < p->len && strchr("{}$%&_# \\", p->s[p->i + 1])) {
            sb_addn(&b, p->s + p->i + 1, 1);
            p->i += 2;
            continue;
        }
        sb_addn(&b, &c, 1);
        p->i++;
    }
    if (at_end(p)) { free(b.s); fail(p, open, "unbalanced brace: '{' of \\%s is not closed", cmd); return NULL; }
    p->i++;
    if (!b.s) b.s = calloc(1, 1);
    *out_len = b.len;
    return b.s;
}

static km_node *primary(P *p, int font);

/* One argument of a command: a group, or a single token. */
static km_node *arg(P *p, const char *cmd, int font)
{
    skip_space(p);
    if (at_stop(p) || cur(p) == '^' || cur(p) == '_') {
        fail(p, p->i, "%s needs an argument", cmd);
        return NULL;
    }
    if (cur(p) == '{') return group(p, font);
    return primary(p, font);
}

static km_node *with_kids(P *p, km_kind k, size_t pos, km_node *a, km_node *b)
{
    km_node *n = node(p, k, pos);
    if (!n || !a) { km_free(a); km_free(b); km_free(n); return NULL; }
    n->kid = calloc(2, sizeof *n->kid);
    if (!n->kid) { km_free(a); km_free(b); free(n); fail(p, pos, "out of memory"); return NULL; }
    n->kid[0] = a;
    n->kid[1] = b;
    n->n = 2;
    return n;
}

static const char *delim(P *p, const char *cmd)
{
    skip_space(p);
    size_t used = 0;
    const char *d = sym_delim(p->s + p->i, p->len - p->i, &used);
    if (!d) {
        fail(p, p->i, "\\%s needs a delimiter: ( ) [ ] | / . \\{ \\} \\| \\langle \\rangle \\lfloor \\rfloor \\lceil \\rceil \\vert \\Vert", cmd);
        return NULL;
    }
    p->i += used;
    return d;
}

/* \left D ... (\middle D ...)* \right D */
static km_node *left_right(P *p, size_t at, int font)
{
    const char *open = delim(p, "left");
    if (!open) return NULL;
    km_node *row = node(p, KM_ROW, p->i);
    if (!row) return NULL;
    for (;;) {
        km_node *part = parse_list(p, font);
        if (!part) { km_free(row); return NULL; }
        for (int k = 0; k < part->n; k++) add(p, row, part->kid[k]);
        part->n = 0;
        km_free(part);
        if (p->failed) { km_free(row); return NULL; }
        if (cmd_is(p, "middle")) {
            size_t mpos = p->i;
            p->i += 7;
            const char *m = delim(p, "middle");
            if (!m || !add(p, row, leaf(p, KM_OP, mpos, m, strlen(m), KM_F_STRETCH))) { km_free(row); return NULL; }
            continue;
        }
        if (cmd_is(p, "right")) break;
        if (at_end(p)) fail(p, at, "\\left without a matching \\right");
        else bad_stop(p, at, "\\left");
        km_free(row);
        return NULL;
    }
    p->i += 6;
    const char *close = delim(p, "right");
    if (!close) { km_free(row); return NULL; }
    km_node *f = node(p, KM_FENCED, at);
    if (!f || !add(p, f, row)) { km_free(row); km_free(f); return NULL; }
    f->text = strdup(open);
    f->text2 = strdup(close);
    if (!f->text || !f->text2) { km_free(f); fail(p, at, "out of memory"); return NULL; }
    return f;
}

/* \begin{env} rows of cells \end{env} */
static km_node *environment(P *p, size_t at, int font)
{
    size_t nlen = 0, name_at = p->i;
    char *name = raw_arg(p, "begin", &nlen);
    if (!name) return NULL;
    static const struct { const char *name, *open, *close; km_env env; } envs[] = {
        {"aligned", "", "", KM_ENV_ALIGNED}, {"align", "", "", KM_ENV_ALIGNED},
        {"align*", "", "", KM_ENV_ALIGNED}, {"split", "", "", KM_ENV_ALIGNED},
        {"matrix", "", "", KM_ENV_MATRIX}, {"pmatrix", "(", ")", KM_ENV_MATRIX},
        {"bmatrix", "[", "]", KM_ENV_MATRIX}, {"Bmatrix", "{", "}", KM_ENV_MATRIX},
        {"vmatrix", "|", "|", KM_ENV_MATRIX}, {"Vmatrix", "‖", "‖", KM_ENV_MATRIX},
        {"cases", "{", "", KM_ENV_CASES},
    };
    int e = -1;
    for (int k = 0; k < (int)(sizeof envs / sizeof envs[0]); k++)
        if (!strcmp(envs[k].name, name)) e = k;
    if (e < 0) {
        fail(p, name_at, "unknown environment '%s' (known: aligned, align, split, matrix, pmatrix, bmatrix, Bmatrix, vmatrix, Vmatrix, cases)", name);
        free(name);
        return NULL;
    }
    km_node *t = node(p, KM_TABLE, at);
    if (!t) { free(name); return NULL; }
    t->env = envs[e].env;
    km_node *row = node(p, KM_ROW, p->i);
    add(p, t, row);
    for (;;) {
        km_node *cell = parse_list(p, font);
        if (!cell || !add(p, row, cell)) break;
    after_cell:
        if (cur(p) == '&' && !at_end(p)) { p->i++; continue; }
        if (cmd_is(p, "\\")) {
            p->i += 2;
            skip_space(p);
            if (cur(p) == '[') {   /* \\[4pt]: extra space, ignored */
                while (!at_end(p) && cur(p) != ']') p->i++;
                if (!at_end(p)) p->i++;
            }
            skip_space(p);
            if (cmd_is(p, "end")) goto after_cell;   /* a trailing \\ adds no row */
            row = node(p, KM_ROW, p->i);
            if (!add(p, t, row)) break;
            continue;
        }
        if (cmd_is(p, "end")) {
            size_t end_at = p->i;
            p->i += 4;
            size_t elen = 0;
            char *ename = raw_arg(p, "end", &elen);
            if (!ename) break;
            if (strcmp(ename, name)) fail(p, end_at, "\\end{%s} does not match \\begin{%s}", ename, name);
            free(ename);
            break;
        }
        if (at_end(p)) fail(p, at, "\\begin{%s} without \\end{%s}", name, name);
        else bad_stop(p, at, "\\begin");
        break;
    }
    if (p->failed) { free(name); km_free(t); return NULL; }
    if (!*envs[e].open && !*envs[e].close) { free(name); return t; }
    km_node *f = node(p, KM_FENCED, at);
    if (!f || !add(p, f, t)) { km_free(t); km_free(f); free(name); return NULL; }
    f->text = strdup(envs[e].open);
    f->text2 = strdup(envs[e].close);
    free(name);
    if (!f->text || !f->text2) { km_free(f); fail(p, at, "out of memory"); return NULL; }
    return f;
}

static km_node *font_group(P *p, const char *cmd, int font)
{
    skip_space(p);
    if (cur(p) != '{') return arg(p, cmd, font);
    return group(p, font);
}

/* \sqrt{x} or \sqrt[n]{x}, after the command name. */
static km_node *sqrt_cmd(P *p, size_t at, const char *cname, int font)
{
    km_node *index = NULL;
    skip_space(p);
    if (cur(p) == '[') {
        size_t open = p->i++;
        index = node(p, KM_ROW, p->i);
        if (!index) return NULL;
        while (!at_end(p) && cur(p) != ']' && !p->failed) {
            if (at_stop(p)) { bad_stop(p, open, "'['"); break; }
            skip_space(p);
            if (cur(p) == ']') break;
            add(p, index, primary(p, font));
        }
        if (!p->failed && at_end(p)) fail(p, open, "unbalanced bracket: '[' of \\sqrt is not closed");
        if (p->failed) { km_free(index); return NULL; }
        p->i++;
    }
    km_node *a = arg(p, cname, font);
    if (!a) { km_free(index); return NULL; }
    return with_kids(p, KM_SQRT, at, a, index);
}

static km_node *command(P *p, int font)
{
    size_t at = p->i, n = cmd_len(p);
    if (n == 0) { fail(p, at, "a lone backslash at the end"); return NULL; }
    const char *name = p->s + at + 1;
    char cname[64];
    snprintf(cname, sizeof cname, "\\%.*s", (int)(n < 60 ? n : 60), name);
    p->i = at + 1 + n;
#define IS(lit) (n == sizeof(lit) - 1 && !memcmp(name, lit, n))
    if (IS("frac") || IS("dfrac") || IS("tfrac") || IS("binom")) {
        km_node *a = arg(p, cname, font);
        if (!a) return NULL;
        km_node *b = arg(p, cname, font);
        if (!b) { km_free(a); return NULL; }
        km_node *f = with_kids(p, KM_FRAC, at, a, b);
        if (f) f->flags = IS("binom") ? KM_F_NOBAR : IS("dfrac") ? KM_F_DISPLAY : IS("tfrac") ? KM_F_TEXTST : 0;
        if (f && IS("binom")) {
            km_node *fe = node(p, KM_FENCED, at);
            if (!fe || !add(p, fe, f)) { km_free(f); km_free(fe); return NULL; }
            fe->text = strdup("(");
            fe->text2 = strdup(")");
            if (!fe->text || !fe->text2) { km_free(fe); fail(p, at, "out of memory"); return NULL; }
            return fe;
        }
        return f;
    }
    if (IS("sqrt")) return sqrt_cmd(p, at, cname, font);
    if (IS("left")) return left_right(p, at, font);
    if (IS("begin")) return environment(p, at, font);
    if (IS("text") || IS("textrm") || IS("mbox")) {
        size_t tl = 0;
        char *t = raw_arg(p, cname + 1, &tl);
        if (!t) return NULL;
        km_node *r = leaf(p, KM_TEXT, at, t, tl, 0);
        free(t);
        return r;
    }
    if (IS("operatorname")) {
        int star = cur(p) == '*';
        if (star) p->i++;
        size_t tl = 0;
        char *t = raw_arg(p, "operatorname", &tl);
        if (!t) return NULL;
        km_node *r = leaf(p, KM_IDENT, at, t, tl, KM_F_UPRIGHT | KM_F_FUNC | (star ? KM_F_LARGEOP : 0));
        free(t);
        return r;
    }
    if (IS("mathrm")) return font_group(p, cname, F_RM);
    if (IS("mathbf")) return font_group(p, cname, F_BF);
    if (IS("boldsymbol")) return font_group(p, cname, F_BS);
    if (IS("mathit")) return font_group(p, cname, F_IT);
    int wide = 0;
    const char *acc = sym_accent(name, n, &wide);
    if (acc) {
        km_node *a = arg(p, cname, font);
        if (!a) return NULL;
        km_node *r = with_kids(p, KM_ACCENT, at, a, NULL);
        if (!r) return NULL;
        r->n = 1;
        r->text = strdup(acc);
        r->flags = wide ? KM_F_STRETCH : 0;
        if (!r->text) { km_free(r); fail(p, at, "out of memory"); return NULL; }
        return r;
    }
    static const struct { const char *name; double em; } spaces[] = {
        {",", 0.1667}, {":", 0.2222}, {">", 0.2222}, {";", 0.2778}, {" ", 0.3333},
        {"quad", 1.0}, {"qquad", 2.0}, {"!", -0.1667}, {"enspace", 0.5}, {"thinspace", 0.1667},
    };
    for (size_t k = 0; k < sizeof spaces / sizeof spaces[0]; k++)
        if (n == strlen(spaces[k].name) && !memcmp(name, spaces[k].name, n)) {
            km_node *s = node(p, KM_SPACE, at);
            if (s) s->size = spaces[k].em;
            return s;
        }
    static const struct { const char *name; double em; } bigs[] = {
        {"big", 1.2}, {"Big", 1.8}, {"bigg", 2.4}, {"Bigg", 3.0},
        {"bigl", 1.2}, {"Bigl", 1.8}, {"biggl", 2.4}, {"Biggl", 3.0},
        {"bigr", 1.2}, {"Bigr", 1.8}, {"biggr", 2.4}, {"Biggr", 3.0},
        {"bigm", 1.2}, {"Bigm", 1.8}, {"biggm", 2.4}, {"Biggm", 3.0},
    };
    for (size_t k = 0; k < sizeof bigs / sizeof bigs[0]; k++)
        if (n == strlen(bigs[k].name) && !memcmp(name, bigs[k].name, n)) {
            const char *d = delim(p, cname + 1);
            if (!d) return NULL;
            km_node *o = leaf(p, KM_OP, at, d, strlen(d), 0);
            if (o) o->size = bigs[k].em;
            return o;
        }
    const sym *sy = sym_find(name, n);
    if (sy) {
        switch (sy->kind) {
        case SYM_IDENT: return leaf(p, KM_IDENT, at, sy->text, strlen(sy->text), letter_flags(font, sy->upright));
        case SYM_OP: return leaf(p, KM_OP, at, sy->text, strlen(sy->text), 0);
        case SYM_LARGE: return leaf(p, KM_OP, at, sy->text, strlen(sy->text), KM_F_LARGEOP | (sy->nolim ? KM_F_NOLIMITS : 0));
        case SYM_FUNC: return leaf(p, KM_IDENT, at, sy->text, strlen(sy->text), KM_F_UPRIGHT | KM_F_FUNC);
        case SYM_LIMFUNC:
            return leaf(p, KM_IDENT, at, sy->text, strlen(sy->text), KM_F_UPRIGHT | KM_F_FUNC | KM_F_LARGEOP);
        }
    }
    if (IS("limits") || IS("nolimits"))
        fail(p, at, "%s must follow a large operator (\\sum, \\prod, \\int, \\max, \\lim, \\operatorname*)", cname);
    else
        fail(p, at, "unknown command %s (the math commands kiln knows are listed in the README, \"Math\")", cname);
    return NULL;
#undef IS
}

static int value_key_char(int c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '-' || c == ':' || c == '%' || c == '+';
}

static km_node *primary(P *p, int font)
{
    if (++p->depth > 200) { p->depth--; fail(p, p->i, "math nested too deeply"); return NULL; }
    km_node *r = NULL;
    size_t at = p->i;
    char c = cur(p);
    int fl = font == F_BF || font == F_BS ? KM_F_BOLD : 0;
    if (c == '{' && p->i + 1 < p->len && p->s[p->i + 1] == '{') {
        size_t j = p->i + 2;
        while (j < p->len && value_key_char((unsigned char)p->s[j])) j++;
        if (j > p->i + 2 && j + 1 < p->len && p->s[j] == '}' && p->s[j + 1] == '}') {
            r = leaf(p, KM_VALUE, at, p->s + p->i + 2, j - p->i - 2, 0);
            p->i = j + 2;
            goto out;
        }
    }
    if (c == '{') { r = group(p, font); goto out; }
    if (c == '\\') { r = command(p, font); goto out; }
    if (isdigit((unsigned char)c) || (c == '.' && p->i + 1 < p->len && isdigit((unsigned char)p->s[p->i + 1]))) {
        size_t j = p->i;
        while (j < p->len && (isdigit((unsigned char)p->s[j]) ||
                              (p->s[j] == '.' && j + 1 < p->len && isdigit((unsigned char)p->s[j + 1]))))
            j++;
        r = leaf(p, KM_NUMBER, at, p->s + at, j - at, fl);
        p->i = j;
        goto out;
    }
    if (is_alpha(c)) {
        size_t j = p->i + 1;
        if (font != F_NONE)   /* \mathrm{lr}: one name, not l times r */
            while (j < p->len && is_alpha(p->s[j])) j++;
        r = leaf(p, KM_IDENT, at, p->s + at, j - at, letter_flags(font, 0));
        p->i = j;
        goto out;
    }
    if (c == '~') { p->i++; r = node(p, KM_SPACE, at); if (r) r->size = 0.3333; goto out; }
    if (c == '^' || c == '_') { fail(p, at, "'%c' without a base (write {}%c to attach it to nothing)", c, c); goto out; }
    if (c == '#' || c == '$') { fail(p, at, "'%c' in math: write \\%c", c, c); goto out; }
    if (c == '\'') { p->i++; r = leaf(p, KM_OP, at, "′", strlen("′"), 0); goto out; }
    if ((unsigned char)c < 0x80) {
        static const char ops[] = "+-*/=<>()[]|,;:!?.@\"";
        if (!strchr(ops, c) || !c) { fail(p, at, "unexpected character '%c' in math", c); goto out; }
        p->i++;
        const char *t = c == '-' ? "−" : c == '*' ? "∗" : NULL;
        r = t ? leaf(p, KM_OP, at, t, strlen(t), 0) : leaf(p, KM_OP, at, &c, 1, 0);
        goto out;
    }
    {   /* a character typed as itself: η, ≤, ... */
        const char *q = p->s + p->i;
        uint32_t cp = kb_utf8_next_in(&q, p->s + p->len);
        size_t l = (size_t)(q - (p->s + p->i));
        int letter = (cp >= 0x370 && cp < 0x400) || (cp >= 0xC0 && cp < 0x250);
        r = leaf(p, letter ? KM_IDENT : KM_OP, at, p->s + p->i, l, 0);
        p->i += l;
    }
out:
    p->depth--;
    return r;
}

/* A primary with its scripts: x_1^2, x', \sum\limits_{i}^{n}. */
static km_node *atom(P *p, int font)
{
    size_t at = p->i;
    km_node *base = primary(p, font);
    if (!base) return NULL;
    int lim = 0;
    for (;;) {
        skip_space(p);
        if (cmd_is(p, "limits") || cmd_is(p, "nolimits")) {
            int is_lim = cmd_is(p, "limits");
            if (!(base->flags & KM_F_LARGEOP)) {
                fail(p, p->i, "\\%s must follow a large operator (\\sum, \\prod, \\int, \\max, \\lim, \\operatorname*)", is_lim ? "limits" : "nolimits");
                km_free(base);
                return NULL;
            }
            lim = is_lim ? 1 : -1;
            p->i += is_lim ? 7 : 9;
            continue;
        }
        break;
    }
    km_node *sub = NULL, *sup = NULL;
    int primes = 0;   /* sup holds only primes so far: x'' or x'^2 */
    for (;;) {
        skip_space(p);
        char c = cur(p);
        if (at_end(p) || (c != '_' && c != '^' && c != '\'')) break;
        if (c == '\'') {
            if (sup && !primes) { fail(p, p->i, "a prime after a superscript: write x'^2 or x^{\\prime 2}"); break; }
            if (!sup) { sup = node(p, KM_ROW, p->i); if (!sup) break; primes = 1; }
            add(p, sup, leaf(p, KM_OP, p->i, "′", strlen("′"), 0));
            p->i++;
            continue;
        }
        size_t sat = p->i++;
        if ((c == '_' && sub) || (c == '^' && sup && !primes)) {
            fail(p, sat, c == '_' ? "double subscript: use braces, x_{ij}" : "double superscript: use braces, x^{ab}");
            break;
        }
        km_node *s = arg(p, c == '_' ? "'_'" : "'^'", font);
        if (!s) break;
        if (c == '_') sub = s;
        else if (primes) { add(p, sup, s); primes = 0; }
        else sup = s;
    }
    if (p->failed) { km_free(base); km_free(sub); km_free(sup); return NULL; }
    if (!sub && !sup) return base;
    km_node *sc = node(p, KM_SCRIPT, at);
    if (!sc) { km_free(base); km_free(sub); km_free(sup); return NULL; }
    sc->kid = calloc(3, sizeof *sc->kid);
    if (!sc->kid) { free(sc); km_free(base); km_free(sub); km_free(sup); fail(p, at, "out of memory"); return NULL; }
    sc->kid[0] = base;
    sc->kid[1] = sub;
    sc->kid[2] = sup;
    sc->n = 3;
    if ((base->flags & KM_F_LARGEOP) && (lim > 0 || (lim == 0 && !(base->flags & KM_F_NOLIMITS))))
        sc->flags |= KM_F_LIMITS | (lim > 0 ? KM_F_FORCELIM : 0);
    return sc;
}

/* Every nesting (a group, a script's or a command's argument, \left ...
 * \right, an environment's cell) is a list: the depth is bounded here, so
 * that x_{x_{x_{...}}} cannot exhaust the stack (primary bounds the rest). */
static km_node *parse_list(P *p, int font)
{
    if (++p->depth > 200) { p->depth--; fail(p, p->i, "math nested too deeply"); return NULL; }
    km_node *row = node(p, KM_ROW, p->i);
    if (!row) { p->depth--; return NULL; }
    for (;;) {
        skip_space(p);
        if (at_stop(p)) break;
        km_node *a = atom(p, font);
        if (!a || !add(p, row, a)) { km_free(row); p->depth--; return NULL; }
    }
    p->depth--;
    return row;
}

km_node *km_parse(const char *src, size_t len, km_error *err)
{
    km_error dummy;
    P p = {.s = src, .len = len, .err = err ? err : &dummy};
    memset(p.err, 0, sizeof *p.err);
    km_node *r = parse_list(&p, F_NONE);
    if (r && !p.failed && !at_end(&p)) bad_stop(&p, 0, NULL);
    if (p.failed) { km_free(r); return NULL; }
    return r;
}
