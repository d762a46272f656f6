/* Small utilities: allocation, error messages, clocks. */
#include "internal.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void oom(size_t bytes)
{
    fprintf(stderr, "kiln: out of memory (asked for %zu bytes)\n", bytes);
    abort();
}

void *kiln_aligned_alloc(size_t bytes)
{
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
    void *p = aligned_alloc(64, rounded);
    if (!p) oom(bytes);
    memset(p, 0, rounded);
    return p;
}

void *kiln_xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) oom(bytes);
    return p;
}

void *kiln_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *kiln_xrealloc(void *p, size_t bytes)
{
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) oom(bytes);
    return q;
}

int kiln_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return 1;
}

int kiln_resolve_threads(int threads)
{
    if (threads > 0) return threads;
    int n = omp_get_num_procs();
    return n > 0 ? n : 1;
}

double kiln_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
