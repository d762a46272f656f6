/* kiln HTML writer (src/html/): the resolved document as a static site. */
#ifndef KILN_HTML_H
#define KILN_HTML_H

#include "kiln/doc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The site into dir (which exists): pages, style.css, results.json. */
int kiln_html_write(const kiln_doc *doc, const char *dir, kiln_diag *d);

#ifdef __cplusplus
}
#endif
#endif
