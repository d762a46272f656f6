/* kiln resolve library (src/resolve/): the run results turned into what the
 * writers show.
 *
 *   kiln_doc_resolve  numbers figures and tables, formats every inline value,
 *                     result line, table cell and config listing into text,
 *                     renders the figure PNGs into the output folder.
 *
 * After kiln_doc_resolve the model is plain data: every directive carries the
 * text or the image path it stands for, every inline value its formatted
 * text, every reference its label ("Figure 2") and anchor. A writer needs no
 * cmark, no trainer and no cache; it walks chapters -> blocks -> inlines. */
#ifndef KILN_RESOLVE_H
#define KILN_RESOLVE_H

#include "kiln/doc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Format values and tables, number figures, render PNGs under img_dir
 * (NULL: no images rendered, only their paths filled in). */
int kiln_doc_resolve(kiln_doc *doc, const char *img_dir, kiln_diag *d);

/* href of a reference from a page: "#fig-x" on the same page, else
 * "PAGE.html#fig-x". */
const char *kiln_ref_href(const kiln_doc *doc, const kiln_chapter *from,
                          const kiln_directive *target, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
