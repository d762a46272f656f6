/* Private to src/cite.
 *
 *   bib.c   .bib -> cite_bib through btparse (names, fields, errors)
 *   cite.c  citations in prose, in-text forms, the reference list */
#ifndef KILN_CITE_INTERNAL_H
#define KILN_CITE_INTERNAL_H

#include "kiln/cite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TeX text as plain UTF-8 (braces, escapes, a few accents, --). */
char *cite_plain(const char *s);

/* A string built through open_memstream. */
typedef struct sbuf { FILE *f; char *s; size_t n; } sbuf;
static inline void sb_open(sbuf *b) { b->s = NULL; b->n = 0; b->f = open_memstream(&b->s, &b->n); }
static inline void sb_put(sbuf *b, const char *s, size_t n) { if (b->f) fwrite(s, 1, n, b->f); }
static inline void sb_puts(sbuf *b, const char *s) { if (b->f && s) fputs(s, b->f); }
static inline char *sb_done(sbuf *b)
{
    if (!b->f) return NULL;
    if (fclose(b->f)) { free(b->s); return NULL; }
    b->f = NULL;
    return b->s;
}
/* bytes written so far */
#define n_of(b) ((b)->f ? (fflush((b)->f), (b)->n) : 0)

#endif
