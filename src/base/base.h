/* Private to kiln's libraries (src/base/): the arena, a string buffer,
 * diagnostics and files. Every stage of the report and the plotter use these
 * and nothing else of each other's internals.
 *
 *   arena.c   one arena per document: zeroed blocks, strings, owned arrays
 *   sbuf.c    a growing string, HTML escaping
 *   diag.c    "FILE:LINE: error: ..." messages into a kiln_diag
 *   files.c   read a file, the one atomic write, folder swap, mkdir -p, rm -rf
 *   mem.c     allocation that never returns NULL, the one grow helper
 *   memo.c    what one build keeps for the next (kiln_memo)
 *   utf8.c    the UTF-8 decoder and encoder */
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
#define kr_xmalloc kb_xmalloc
_Noreturn void kr_out_of_memory(size_t n);     /* "kiln: out of memory", abort() */
char *kr_xstrdup(const char *s);
/* The one grow helper. Make room for need elements of elem bytes in the heap array *pp whose
 * capacity is *cap (grown by doubling, at least 16). Out of memory or a size
 * that overflows: a message on stderr and abort(), never a NULL stored. */
void kr_grow(void *pp, int *cap, int need, size_t elem);
#define KR_GROW(p, cap, need) kr_grow(&(p), &(cap), (need), sizeof *(p))

/* ---- the memo (memo.c; NULL memo: every call does nothing, get finds
 * nothing, put frees the value) ----------------------------------------------- */
void kr_memo_begin(kiln_memo *m);  /* a build starts */
void kr_memo_end(kiln_memo *m);    /* it ended: drop what it did not use */
const void *kr_memo_get(kiln_memo *m, const char *key);
void kr_memo_put(kiln_memo *m, const char *key, void *value, void (*free_value)(void *));

/* ---- a set of strings with a count each (open addressing, XXH3) ---------- */
typedef struct kr_strmap {
    const char **key;   /* NULL = empty slot; keys are borrowed */
    int *val;
    size_t cap, n;
} kr_strmap;
/* The slot of key: its value (0 for a new key, which is added). */
int *kr_strmap_get(kr_strmap *m, const char *key);
int kr_strmap_has(const kr_strmap *m, const char *key);
void kr_strmap_free(kr_strmap *m);
/* Big-endian 32-bit number at b (PNG chunks, IDX headers). */
static inline uint32_t kb_be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* ---- UTF-8 ------------------------------------------------------------------ */
/* Decode one code point at *s and step past it. A byte that cannot start a
 * sequence, or a sequence cut short (the longest valid start of one, as
 * Unicode recommends), an overlong form, a surrogate or a value past
 * U+10FFFF gives U+FFFD. *s must be NUL-terminated. */
uint32_t kb_utf8_next(const char **s);
/* The same for text that ends at end (not NUL-terminated): a sequence that
 * end cuts short gives U+FFFD. *s must be before end. */
uint32_t kb_utf8_next_in(const char **s, const char *end);
/* Encode c (U+FFFD for a surrogate or past U+10FFFF) into out, which has
 * room for 4 bytes; returns the byte count. */
int kb_utf8_put(char *out, uint32_t c);

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
/* The same, fsync'd only when sync is non-zero (kiln preview's site files). */
int kr_write_file(const char *path, const void *data, size_t len, int sync);
/* on: this thread's kr_write_atomic calls skip the fsync until called with 0
 * (kiln_report_build around the site's writer, with opts.no_fsync) */
void kr_files_nosync(int on);
/* Remove dir's NAME.tmp.XXXXXX files that a killed kr_write_atomic left;
 * call only while holding the lock of whatever writes into dir. */
void kr_remove_stale_tmp(const char *dir);
/* Swap the freshly written folder from into place as to (an existing to is
 * exchanged with it, then removed). 0 ok, else -1 with errno set. */
int kr_swap_dir(const char *from, const char *to);
int kr_mkdirs(const char *path);                        /* mkdir -p; 0 ok */
int kr_rmtree(const char *path);                        /* rm -rf; 0 ok */
double kr_now(void);                                    /* monotonic seconds */

#endif
