/* Private to kiln's libraries: lookups in a loaded document that the later
 * stages (run, resolve, diff) share with the loader (src/doc/). */
#ifndef KILN_DOC_DOC_H
#define KILN_DOC_DOC_H

#include "kiln/doc.h"
#include "base/base.h"

/* [A-Za-z0-9_-], 1..48 chars, not starting with '-': safe as a file name. */
int kr_valid_id(const char *s);

/* The value of `key = ...` in a directive's body, NULL if it has none. */
const char *kv_get(const kiln_directive *d, const char *key);

kiln_run *kr_find_run(const kiln_doc *doc, const char *id);
kiln_directive *kr_find_group(const kiln_doc *doc, const char *id);
kiln_directive *kr_find_compare(const kiln_doc *doc, const char *id);
/* kind "fig" or "table" */
kiln_directive *kr_find_target(const kiln_doc *doc, const char *kind, const char *id);

/* Every name kiln_run_value accepts, space-separated, appended to b. */
void kr_metric_words(sbuf *b);
/* " (did you mean 'NAME'?)" for a number format: the format with a missing
 * '.' added or a leading '%' dropped when that is one, else the nearest of
 * d, sci, repr, %; "" when none is near. Returns buf. */
const char *kr_format_hint(const char *fmt, char *buf, size_t n);

#endif
