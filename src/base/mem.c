/* Allocation that never fails quietly: malloc that aborts with a message,
 * the one grow helper for arrays, and a string map. */
#include "base/base.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

_Noreturn void kr_out_of_memory(size_t n)
{
    fprintf(stderr, "kiln: out of memory (asked for %zu bytes)\n", n);
    abort();
}

void *kb_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) kr_out_of_memory(n);
    return p;
}

char *kr_xstrdup(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *p = kb_xmalloc(n);
    memcpy(p, s ? s : "", n);
    return p;
}

void kr_grow(void *pp, int *cap, int need, size_t elem)
{
    void **p = pp;
    if (need <= *cap && *p) return;
    size_t c = *cap > 0 ? (size_t)*cap : 16;
    while (c < (size_t)need) c *= 2;
    if (c > (size_t)INT_MAX || (elem && c > SIZE_MAX / elem)) kr_out_of_memory(SIZE_MAX);
    void *q = realloc(*p, c * elem + !elem);
    if (!q) kr_out_of_memory(c * elem);
    *p = q;
    *cap = (int)c;
}

static size_t strmap_slot(const kr_strmap *m, const char *key)
{
    size_t i = (size_t)XXH3_64bits(key, strlen(key)) & (m->cap - 1);
    while (m->key[i] && strcmp(m->key[i], key)) i = (i + 1) & (m->cap - 1);
    return i;
}

int kr_strmap_has(const kr_strmap *m, const char *key)
{
    return m->cap && m->key[strmap_slot(m, key)];
}

int *kr_strmap_get(kr_strmap *m, const char *key)
{
    if (2 * (m->n + 1) > m->cap) { /* keep it at most half full */
        kr_strmap old = *m;
        m->cap = old.cap ? old.cap * 2 : 64;
        m->key = calloc(m->cap, sizeof *m->key);
        m->val = calloc(m->cap, sizeof *m->val);
        if (!m->key || !m->val) kr_out_of_memory(m->cap * sizeof *m->key);
        for (size_t i = 0; i < old.cap; i++)
            if (old.key[i]) {
                size_t j = strmap_slot(m, old.key[i]);
                m->key[j] = old.key[i];
                m->val[j] = old.val[i];
            }
        free(old.key);
        free(old.val);
    }
    size_t i = strmap_slot(m, key);
    if (!m->key[i]) { m->key[i] = key; m->val[i] = 0; m->n++; }
    return &m->val[i];
}

void kr_strmap_free(kr_strmap *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}
