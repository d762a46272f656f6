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

char *md_math_extract(const char *s, md_math **v, int *n, int *err_line, char *msg, size_t msglen)
{
    *v = NULL;
    *n = 0;
    *err_line = 0;
    out o = {0};
    size_t len = strlen(s), i = 0;
    int line = 1;
    size_t line_at = 0;   /* offset of the current line's start */
    char fch = 0, ch = 0;
    int flen = 0;         /* inside a fenced block of flen fch's */
    while (i < len) {
        if (i == line_at) {   /* at a line start: fences */
            int fl = fence_at(s, i, &ch);
            if (flen && fl >= flen && ch == fch) flen = 0;
            else if (!flen && fl) { flen = fl; fch = ch; }
            if (flen || fl) {   /* copy the whole line */
                size_t e = i + strcspn(s + i, "\n");
                if (s[e] == '\n') e++;
                put(&o, s + i, e - i);
                i = line_at = e;
                line++;
                continue;
            }
        }
        char c = s[i];
        if (c == '\n') { put(&o, "\n", 1); i++; line++; line_at = i; continue; }
        if (c == '\\' && i + 1 < len && s[i + 1] != '\n') { put(&o, s + i, 2); i += 2; continue; }
        if (c == '`') {   /* a code span: up to a closing run of the same length */
            size_t k = i;
            while (s[k] == '`') k++;
            size_t run = k - i, j = k;
            int closed = 0;
            while (j < len) {
                if (s[j] == '`') {
                    size_t m = j;
                    while (s[m] == '`') m++;
                    if (m - j == run) { closed = 1; j = m; break; }
                    j = m;
                    continue;
                }
                j++;
            }
            if (!closed || blank_line_in(s, k, j)) { put(&o, s + i, run); i = k; continue; }
            line += count_nl(s + i, j - i);
            for (size_t q = i; q < j; q++)
                if (s[q] == '\n') line_at = q + 1;
            put(&o, s + i, j - i);
            i = j;
            continue;
        }
        if (c != '$') { put(&o, s + i, 1); i++; continue; }
        int col = (int)(i - line_at) + 1;
        if (i + 1 < len && s[i + 1] == '$') {   /* display */
            if (!line_start(s, i)) { put(&o, "$$", 2); i += 2; continue; }
            const char *close = strstr(s + i + 2, "$$");
            if (!close || blank_line_in(s, i, (size_t)(close - s))) {
                *err_line = line;
                snprintf(msg, msglen, "display math '$$' is not closed by a '$$' before the next blank line");
                goto fail;
            }
            size_t a = i + 2, b = (size_t)(close - s), e = b + 2;
            /* optional label, then the end of the line */
            size_t q = e;
            while (s[q] == ' ' || s[q] == '\t') q++;
            char *label = NULL;
            if (s[q] == '{') {
                size_t r = q + 1;
                while (s[r] && s[r] != '}' && s[r] != '\n') r++;
                if (s[r] != '}' || strncmp(s + q, "{#eq:", 5) || r == q + 5) {
                    *err_line = line + count_nl(s + i, b - i);
                    snprintf(msg, msglen, "a display's label is written {#eq:ID} right after its closing '$$'");
                    goto fail;
                }
                label = strndup(s + q + 2, r - q - 2);
                q = r + 1;
                while (s[q] == ' ' || s[q] == '\t') q++;
            }
            if (s[q] && s[q] != '\n') {
                free(label);
                *err_line = line + count_nl(s + i, b - i);
                snprintf(msg, msglen, "text after a display's closing '$$' on the same line: a display ends its line (a label is written {#eq:ID})");
                goto fail;
            }
            /* continuation lines inside a quote keep their "> ": drop them */
            out tex = {0};
            for (size_t p = a; p < b; p++) {
                put(&tex, s + p, 1);
                if (s[p] == '\n')
                    while (p + 1 < b && (s[p + 1] == '>' || s[p + 1] == ' ')) p++;
            }
            if (tex.oom || add_span(v, n, 1, tex.s ? tex.s : "", tex.n, line, col + 2)) { free(tex.s); free(label); goto oom; }
            free(tex.s);
            (*v)[*n - 1].label = label;
            int nl = count_nl(s + i, q - i);
            marker(&o, *n - 1, s, i, q);
            line += nl;
            for (size_t p = i; p < q; p++)
                if (s[p] == '\n') line_at = p + 1;
            i = q;
            continue;
        }
        /* inline: $ then a non-space ... a non-space then $ not before a digit */
        if (i + 1 >= len || isspace((unsigned char)s[i + 1])) { put(&o, "$", 1); i++; continue; }
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
        if (!found || blank_line_in(s, i, j)) { put(&o, "$", 1); i++; continue; }
        if (add_span(v, n, 0, s + i + 1, j - i - 1, line, col + 1)) goto oom;
        int nl = count_nl(s + i, j - i);
        marker(&o, *n - 1, s, i, j);
        line += nl;
        for (size_t p = i; p <= j; p++)
            if (s[p] == '\n') line_at = p + 1;
        i = j + 1;
    }
    if (o.oom) goto oom;
    if (!o.s) o.s = calloc(1, 1);
    return o.s;
oom:
    snprintf(msg, msglen, "out of memory");
fail:
    free(o.s);
    md_math_free(*v, *n);
    *v = NULL;
    *n = 0;
    if (!*err_line) *err_line = line;
    return NULL;
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
