/* Private to src/math: the command tables and small helpers.
 *
 *   symbols.c  the commands that stand for one symbol or name
 *   parse.c    TeX source -> km_node tree (km_parse, km_free)
 *   value.c    kiln values inside math: km_each_value, km_fill
 *   mathml.c   tree -> MathML Core
 *   plain.c    tree -> one line of plain text (km_plain)
 *   otmath.c   the OpenType MATH table: constants, italic corrections,
 *              accent attachment, vertical variants and assemblies
 *   font.c     km_font: FreeType faces, glyph metrics, outlines
 *   layout.c   tree -> boxes of positioned glyphs and rules (TeX's rules
 *              for math, as the OpenType MATH table states them) */
#ifndef KILN_MATH_INTERNAL_H
#define KILN_MATH_INTERNAL_H

#include "kiln/math.h"
#include "base/base.h"

#include <stddef.h>
#include <stdint.h>

/* What a symbol command stands for. */
typedef enum {
    SYM_IDENT,   /* a letter-like symbol (Greek, \infty, \partial) */
    SYM_OP,      /* relation, binary operator, punctuation, arrow, fence */
    SYM_LARGE,   /* a large operator (\sum, \prod, \int): limits in display
                    unless SYM_NOLIM */
    SYM_FUNC,    /* a function name set upright, scripts at the side (\log) */
    SYM_LIMFUNC  /* a function name with limits in display (\max, \lim) */
} sym_kind;

typedef struct sym {
    const char *name;    /* without the backslash */
    sym_kind kind;
    const char *text;    /* UTF-8 */
    int upright;         /* SYM_IDENT: upright (capital Greek) */
    int nolim;           /* SYM_LARGE: scripts at the side (\int) */
} sym;

const sym *sym_find(const char *name, size_t len);
/* An accent command: its character, and whether it stretches. */
const char *sym_accent(const char *name, size_t len, int *wide);
/* A delimiter after \left, \right, \middle, \big...: "\\{" "(" "\\langle" "."
 * -> its UTF-8 text ("" for "."), NULL when it is not a delimiter. *used:
 * bytes consumed from s. */
const char *sym_delim(const char *s, size_t len, size_t *used);

/* UTF-8 (kb_utf8_next_in, kb_utf8_put) and the growing string (sbuf) are
 * src/base's. */

/* src with each {{key}} of a value filled into the tree n (km_fill) replaced
 * by its text, in order: the alttext of the MathML. malloc'd. */
char *km_filled_source(const km_node *n, const char *src);

#endif
