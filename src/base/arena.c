/* The arena: every string and block a kiln_doc points to, freed at once. */
#include "base/base.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---------------------------------------------------------------- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
} chunk;

struct kiln_arena {
    chunk *head;
    void **owned;
    size_t n_owned, cap_owned;
};

kiln_arena *ka_new(void)
{
    kiln_arena *a = kb_xmalloc(sizeof *a);
    memset(a, 0, sizeof *a);
    return a;
}

void ka_free(kiln_arena *a)
{
    if (!a) return;
    for (chunk *c = a->head, *n; c; c = n) { n = c->next; free(c); }
    for (size_t i = 0; i < a->n_owned; i++) free(a->owned[i]);
    free(a->owned);
    free(a);
}

void *ka_alloc(kiln_arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        chunk *c = kb_xmalloc(sizeof *c + cap);
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

char *ka_strndup(kiln_arena *a, const char *s, size_t n)
{
    char *p = ka_alloc(a, n + 1);
    if (s) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *ka_strdup(kiln_arena *a, const char *s)
{
    return ka_strndup(a, s ? s : "", s ? strlen(s) : 0);
}

char *ka_printf(kiln_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = ka_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void ka_own(kiln_arena *a, void *p)
{
    if (!p) return;
    if (a->n_owned == a->cap_owned) {
        a->cap_owned = a->cap_owned ? a->cap_owned * 2 : 16;
        void **o = realloc(a->owned, a->cap_owned * sizeof *o);
        if (!o) abort();
        a->owned = o;
    }
    a->owned[a->n_owned++] = p;
}
