/* A growing string buffer and HTML escaping. */
#include "base/base.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sbuf ------------------------------------------------------------------- */

void sb_grow(sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) abort();
    b->s = s;
    b->cap = cap;
}

void sb_addn(sbuf *b, const char *s, size_t n)
{
    sb_grow(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void sb_add(sbuf *b, const char *s) { if (s) sb_addn(b, s, strlen(s)); }

void sb_addc(sbuf *b, char c) { sb_addn(b, &c, 1); }

void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    sb_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sb_html(sbuf *b, const char *s)
{
    if (!s) return;
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        sb_addn(b, run, (size_t)(s - run));
        sb_add(b, rep);
        run = s + 1;
    }
    sb_addn(b, run, (size_t)(s - run));
}

void sb_free(sbuf *b) { free(b->s); memset(b, 0, sizeof *b); }

char *sb_take(sbuf *b)
{
    char *s = b->s ? b->s : strdup("");
    memset(b, 0, sizeof *b);
    return s;
}
