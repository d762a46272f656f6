/* Math in Markdown: $...$ and $$...$$ {#eq:ID} are taken out of the source
 * before cmark sees it (cmark would read _ ^ \ as emphasis and escapes) and
 * replaced by code spans holding a marker, which the converter turns back
 * into math. Code spans and fenced code blocks are left alone; line
 * numbers are kept (a span over several lines leaves as many newlines).
 *
 * Rules (pandoc's): an inline $ opens when a non-space follows it and
 * closes at a $ with a non-space before it and no digit after it; no blank
 * line inside. $$ opens a display at the start of a line (after any "> "
 * of a quote) and closes at the next $$, which may be followed by a label
 * {#eq:ID} and nothing else on its line. \$ is a dollar sign. */
#ifndef KILN_MD_MATH_H
#define KILN_MD_MATH_H

#include <stddef.h>

typedef struct md_math {
    int display;
    char *tex;          /* the math source, without the dollars */
    char *label;        /* display: "eq:ID" or NULL */
    int line, column;   /* where the math source starts (1-based) */
} md_math;

/* The marker of span i is the code span `\xEE\x80\x80math:I` (U+E000). */
#define MD_MATH_MARK "\xEE\x80\x80math:"

/* What is wrong with a display: a $$ that is never closed, a label that is
 * not {#eq:ID}, text after the closing $$. */
typedef struct md_math_error {
    int line;
    char msg[160];
} md_math_error;

/* The source with the math replaced (malloc'd), the spans in *out, NULL when
 * out of memory. Errors do not stop it (*errs, *n_errs, malloc'd; the caller
 * frees them): an unclosed $$ stays text, a display whose label or line is
 * wrong is taken without a label, so the rest of the file is still read. */
char *md_math_extract(const char *src, md_math **out, int *n, md_math_error **errs, int *n_errs);
void md_math_free(md_math *m, int n);
/* The span a code span's literal names, or -1. */
int md_math_index(const char *literal);

#endif
