/* What the HTML writer's files share (src/html/). */
#ifndef KILN_HTML_INTERNAL_H
#define KILN_HTML_INTERNAL_H

#include "kiln/doc.h"
#include "base/base.h"

/* the front page's list of chapters, after its summary: its heading */
#define KH_CHAPTERS_ID "chapters"
#define KH_CHAPTERS_TITLE "Chapters"

/* inlines as one line of plain text: math in its plain form, raw HTML and
 * footnote marks left out */
void kh_plain(sbuf *b, const kiln_inline *in);

/* The headings a chapter's contents lists: h2 and h3 at its top level and in
 * its sections (the appendix's runs), in order; the count (out may be NULL
 * with n_max 0 to count). */
int kh_chapter_heads(const kiln_block *bl, const kiln_block **out, int n, int n_max);

/* DIR/search-index.js: every section of every page for the site's search */
int kh_write_search_index(const kiln_doc *doc, const char *dir, kiln_diag *d);

#endif
