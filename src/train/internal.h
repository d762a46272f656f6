/* Private helpers shared by the trainer's source files. */
#ifndef KILN_TRAIN_INTERNAL_H
#define KILN_TRAIN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* 64-byte aligned, zeroed allocation; aborts on out-of-memory. */
void *kiln_aligned_alloc(size_t bytes);
/* Allocation that aborts with a message on out-of-memory. */
void *kiln_xmalloc(size_t bytes);
void *kiln_xcalloc(size_t n, size_t size);
void *kiln_xrealloc(void *p, size_t bytes);
/* snprintf into err (if non-NULL) and return 1: `return kiln_fail(err, n, ...)`. */
int kiln_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Number of threads to use for `threads` (0 = all cores). */
int kiln_resolve_threads(int threads);
/* Monotonic wall clock in seconds. */
double kiln_now(void);

/* JSON (json.c): a number, or null when it is not finite; an array of n
 * such numbers; a number read back (null or not a number -> NaN). */
struct json_t;
struct json_t *kiln_json_num(double v);
struct json_t *kiln_json_series(const double *v, long n);
double kiln_json_get(const struct json_t *v);

#endif
