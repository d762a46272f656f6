/* Allocation that never fails quietly. */
#include "base/base.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *kb_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) { fputs("kiln: out of memory\n", stderr); abort(); }
    return p;
}

void kb_grow(void *p, int *cap, int n, size_t size)
{
    if (n < *cap) return;
    int c = *cap > 0 ? *cap : 16;
    while (c <= n) {
        if (c > INT_MAX / 2) abort();
        c *= 2;
    }
    void *old;
    memcpy(&old, p, sizeof old);
    void *q = realloc(old, (size_t)c * size);
    if (!q) abort();
    memcpy(p, &q, sizeof q);
    *cap = c;
}
