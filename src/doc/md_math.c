/* Taking $...$ and $$...$$ out of Markdown before cmark parses it; see
 * md_math.h. */
#include "doc/md_math.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out { char *s; size_t n, cap; int oom; } out;

static void put(out *o, const char *s, size_t n)
{
    if (o->oom) return;
    if (o->n + n + 1 > o->cap) {
        size_t c = o->cap ? o->cap * 2 : 4096;
        while (c < o->n + n + 1) c *= 2;
        char *t = realloc(o->s, c);
        if (!t) { o->oom = 1; return; }
        o->s = t;
        o->cap = c;
    }
    memcpy(o->s + o->n, s, n);
    o->n += n;
    o->s[o->n] = 0;
}

static int add_span(md_math **v, int *n, int display, const char *tex, size_t len, int line, int col)
{
    md_math *t = realloc(*v, sizeof *t * (size_t)(*n + 1));
    if (!t) return -1;
    *v = t;
    md_math *m = &t[(*n)++];
    memset(m, 0, sizeof *m);
    m->display = display;
    m->tex = malloc(len + 1);
    if (!m->tex) return -1;
    memcpy(m->tex, tex, len);
    m->tex[len] = 0;
    m->line = line;
    m->column = col;
    return 0;
}

/* The marker of span i, then the newlines of the source it replaces
 * s[a..b), each with the quote markers that began its next line (so a
 * display inside a quote does not end the quote). */
static void marker(out *o, int i, const char *s, size_t a, size_t b)
{
    char buf[64];
    int k = snprintf(buf, sizeof buf, "`" MD_MATH_MARK "%d`", i);
    put(o, buf, (size_t)k);
    for (size_t p = a; p < b; p++)
        if (s[p] == '\n') {
            size_t q = p + 1;
            while (q < b && (s[q] == '>' || s[q] == ' ' || s[q] == '\t')) q++;
            put(o, s + p, q - p);
        }
}

static int count_nl(const char *s, size_t n)
{
    int c = 0;
    for (size_t i = 0; i < n; i++) c += s[i] == '\n';
    return c;
}

/* Is s[i] at the start of a line, after blanks and quote markers? */
static int line_start(const char *s, size_t i)
{
    while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '>')) i--;
    return i == 0 || s[i - 1] == '\n';
}

/* Does a blank line lie in s[a..b)? */
static int blank_line_in(const char *s, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        if (s[i] == '\n') {
            size_t j = i + 1;
            while (j < b && (s[j] == ' ' || s[j] == '\t' || s[j] == '>')) j++;
            if (j < b && s[j] == '\n') return 1;
        }
    return 0;
}

/* A fence opening at line start s[i]: its character and length, else 0. */
static int fence_at(const char *s, size_t i, char *ch)
{
    size_t j = i, sp = 0;
    while (s[j] == ' ' && sp < 4) { j++; sp++; }
    if (sp > 3 || (s[j] != '`' && s[j] != '~')) return 0;
    size_t k = j;
    while (s[k] == s[j]) k++;
    if (k - j < 3) return 0;
    if (s[j] == '`' && memchr(s + k, '`', strcspn(s + k, "\n"))) return 0;   /* `` ```a`b `` is not a fence */
    *ch = s[j];
    return (int)(k - j);
}

/* The scanner's state: where it is, what it wrote, what it found. */
typedef struct scan {
    const char *s;
    size_t len, i, line_at;   /* line_at: offset of the current line's start */
    int line;
    out o;
    md_math **v;
    int *n;
    md_math_error *err;
    int n_err;
} scan;

static void error(scan *x, int line, const char *msg)
{
    md_math_error *e = realloc(x->err, sizeof *e * (size_t)(x->n_err + 1));
    if (!e) { x->o.oom = 1; return; }
    x->err = e;
    e[x->n_err].line = line;
    snprintf(e[x->n_err].msg, sizeof e[x->n_err].msg, "%s", msg);
    x->n_err++;
}

/* Move past s[x->i..to), counting its lines. */
static void advance(scan *x, size_t to)
{
    for (size_t p = x->i; p < to; p++)
        if (x->s[p] == '\n') { x->line++; x->line_at = p + 1; }
    x->i = to;
}

/* A display at x->i ($$ at a line start). An error is recorded and the
 * scan goes on: an unclosed $$ stays text, a bad label or text after the
 * closing $$ leaves the display unlabelled. -1 when out of memory. */
static int display(scan *x, int col)
{
    const char *s = x->s;
    size_t i = x->i;
    const char *close = strstr(s + i + 2, "$$");
    if (!close || blank_line_in(s, i, (size_t)(close - s))) {
        error(x, x->line, "display math '$$' is not closed by a '$$' before the next blank line");
        put(&x->o, "$$", 2);
        x->i += 2;
        return 0;
    }
    size_t a = i + 2, b = (size_t)(close - s), q = b + 2;
    int end_line = x->line + count_nl(s + i, b - i);
    /* optional label, then the end of the line */
    while (s[q] == ' ' || s[q] == '\t') q++;
    char *label = NULL;
    if (s[q] == '{') {
        size_t r = q + 1;
        while (s[r] && s[r] != '}' && s[r] != '\n') r++;
        if (s[r] != '}' || strncmp(s + q, "{#eq:", 5) || r == q + 5)
            error(x, end_line, "a display's label is written {#eq:ID} right after its closing '$$'");
        else if (!(label = strndup(s + q + 2, r - q - 2)))
            return -1;
        q = s[r] == '}' ? r + 1 : r;
        while (s[q] == ' ' || s[q] == '\t') q++;
    }
    if (s[q] && s[q] != '\n')
        error(x, end_line, "text after a display's closing '$$' on the same line: a display ends its line (a label is written {#eq:ID})");
    /* continuation lines inside a quote keep their "> ": drop them */
    out tex = {0};
    for (size_t p = a; p < b; p++) {
        put(&tex, s + p, 1);
        if (s[p] == '\n')
            while (p + 1 < b && (s[p + 1] == '>' || s[p + 1] == ' ')) p++;
    }
    if (tex.oom || add_span(x->v, x->n, 1, tex.s ? tex.s : "", tex.n, x->line, col + 2)) { free(tex.s); free(label); return -1; }
    free(tex.s);
    (*x->v)[*x->n - 1].label = label;
    marker(&x->o, *x->n - 1, s, i, q);
    advance(x, q);
    return 0;
}

/* An inline $...$ at x->i, or a plain dollar. -1 when out of memory. */
static int inline_math(scan *x, int col)
{
    const char *s = x->s;
    size_t i = x->i, len = x->len;
    /* $ then a non-space ... a non-space then $ not before a digit */
    if (i + 1 >= len || isspace((unsigned char)s[i + 1])) { put(&x->o, "$", 1); x->i++; return 0; }
    size_t j = i + 1;
    int found = 0;
    while (j < len) {
        if (s[j] == '\\' && j + 1 < len) { j += 2; continue; }
        if (s[j] == '`') break;   /* math does not reach into a code span */
        if (s[j] == '$') {
            if (!isspace((unsigned char)s[j - 1]) && !(j + 1 < len && isdigit((unsigned char)s[j + 1]))) found = 1;
            break;
        }
        j++;
    }
    if (!found || blank_line_in(s, i, j)) { put(&x->o, "$", 1); x->i++; return 0; }
    if (add_span(x->v, x->n, 0, s + i + 1, j - i - 1, x->line, col + 1)) return -1;
    marker(&x->o, *x->n - 1, s, i, j);
    advance(x, j + 1);
    return 0;
}

/* A code span at x->i: copied up to a closing run of the same length. */
static void code_span(scan *x)
{
    const char *s = x->s;
    size_t i = x->i, k = i;
    while (s[k] == '`') k++;
    size_t run = k - i, j = k;
    int closed = 0;
    while (j < x->len) {
        if (s[j] == '`') {
            size_t m = j;
            while (s[m] == '`') m++;
            if (m - j == run) { closed = 1; j = m; break; }
            j = m;
            continue;
        }
        j++;
    }
    if (!closed || blank_line_in(s, k, j)) { put(&x->o, s + i, run); x->i = k; return; }
    put(&x->o, s + i, j - i);
    advance(x, j);
}

char *md_math_extract(const char *s, md_math **v, int *n, md_math_error **errs, int *n_errs)
{
    *v = NULL;
    *n = 0;
    scan x = {.s = s, .len = strlen(s), .line = 1, .v = v, .n = n};
    char fch = 0, ch = 0;
    int flen = 0;         /* inside a fenced block of flen fch's */
    while (x.i < x.len && !x.o.oom) {
        size_t i = x.i;
        if (i == x.line_at) {   /* at a line start: fences */
            int fl = fence_at(s, i, &ch);
            if (flen && fl >= flen && ch == fch) flen = 0;
            else if (!flen && fl) { flen = fl; fch = ch; }
            if (flen || fl) {   /* copy the whole line */
                size_t e = i + strcspn(s + i, "\n");
                if (s[e] == '\n') e++;
                put(&x.o, s + i, e - i);
                advance(&x, e);
                continue;
            }
        }
        char c = s[i];
        int col = (int)(i - x.line_at) + 1, r = 0;
        if (c == '\n') { put(&x.o, "\n", 1); advance(&x, i + 1); }
        else if (c == '\\' && i + 1 < x.len && s[i + 1] != '\n') { put(&x.o, s + i, 2); x.i += 2; }
        else if (c == '`') code_span(&x);
        else if (c != '$') { put(&x.o, s + i, 1); x.i++; }
        else if (i + 1 < x.len && s[i + 1] == '$' && !line_start(s, i)) { put(&x.o, "$$", 2); x.i += 2; }
        else if (i + 1 < x.len && s[i + 1] == '$') r = display(&x, col);
        else r = inline_math(&x, col);
        if (r) x.o.oom = 1;
    }
    *errs = x.err;
    *n_errs = x.n_err;
    if (x.o.oom) {
        free(x.o.s);
        md_math_free(*v, *n);
        *v = NULL;
        *n = 0;
        return NULL;
    }
    if (!x.o.s) x.o.s = calloc(1, 1);
    return x.o.s;
}

void md_math_free(md_math *m, int n)
{
    for (int i = 0; i < n; i++) { free(m[i].tex); free(m[i].label); }
    free(m);
}

int md_math_index(const char *lit)
{
    size_t k = strlen(MD_MATH_MARK);
    if (strncmp(lit, MD_MATH_MARK, k) || !isdigit((unsigned char)lit[k])) return -1;
    char *end;
    long v = strtol(lit + k, &end, 10);
    return *end || v < 0 || v > 1000000 ? -1 : (int)v;
}
