/* Private to kiln's libraries (src/base/): the arena, a string buffer,
 * diagnostics and files. Every stage of the report and the plotter use these
 * and nothing else of each other's internals.
 *
 *   arena.c   one arena per document: zeroed blocks, strings, owned arrays
 *   sbuf.c    a growing string, HTML escaping
 *   diag.c    "FILE:LINE: error: ..." messages into a kiln_diag
 *   files.c   read a file, the one atomic write, folder swap, mkdir -p, rm -rf
 *   mem.c     allocation that never returns NULL, the one grow helper */
#ifndef KILN_BASE_BASE_H
#define KILN_BASE_BASE_H

#include "kiln/base.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- memory ---------------------------------------------------------------- */
/* malloc that aborts instead of returning NULL (kiln cannot go on without
 * memory; every caller would abort). */
void *kb_xmalloc(size_t n);

/* ---- arena: everything a kiln_doc points to ---------------------------- */
typedef struct kiln_arena kiln_arena;
kiln_arena *ka_new(void);
void ka_free(kiln_arena *a);
void *ka_alloc(kiln_arena *a, size_t n);        /* zeroed */
char *ka_strdup(kiln_arena *a, const char *s);  /* NULL -> "" */
char *ka_strndup(kiln_arena *a, const char *s, size_t n);
char *ka_printf(kiln_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Heap blocks freed with the arena (for arrays that grow). */
void ka_own(kiln_arena *a, void *p);

/* ---- growing string ------------------------------------------------------ */
typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;
void sb_grow(sbuf *b, size_t extra);              /* room for extra more bytes */
void sb_add(sbuf *b, const char *s);
void sb_addn(sbuf *b, const char *s, size_t n);
void sb_addc(sbuf *b, char c);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_html(sbuf *b, const char *s);            /* escaped text / attribute */
void sb_free(sbuf *b);
char *sb_take(sbuf *b);                          /* malloc'd, "" if empty */

/* ---- diagnostics ----------------------------------------------------------- */
/* code: KILN_REPORT_EINPUT or EFAIL; file may be NULL; line 0 = none. */
void kd_error(kiln_diag *d, int code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void kd_warn(kiln_diag *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Put the messages from number first on in file and line order: files in the
 * order given (messages naming no file, or another, first), each file's by
 * line, equal places in the order they were added. */
void kd_sort(kiln_diag *d, int first, const char *const *files, int n_files);

/* ---- files ----------------------------------------------------------------- */
char *kr_read_file(const char *path, size_t *len);      /* malloc'd, NUL-ended */
/* mkstemp beside path + write + fsync + rename; the temporary file is removed
 * on failure. 0 ok, else -1 with errno set (= kiln_write_file_atomic). */
int kr_write_atomic(const char *path, const void *data, size_t len);
/* Swap the freshly written folder from into place as to (an existing to is
 * exchanged with it, then removed). 0 ok, else -1 with errno set. */
int kr_swap_dir(const char *from, const char *to);
int kr_mkdirs(const char *path);                        /* mkdir -p; 0 ok */
int kr_rmtree(const char *path);                        /* rm -rf; 0 ok */
double kr_now(void);                                    /* monotonic seconds */

#endif
