/* kiln HTML writer (src/html/): the resolved document as a static site. */
#ifndef KILN_HTML_H
#define KILN_HTML_H

#include "kiln/doc.h"

/* Below this viewport width a figure shows its narrow variant (img/ID-narrow.png,
 * -narrow-dark): the <source media> of every <picture>. */
#define KILN_NARROW_MAX "560px"

#ifdef __cplusplus
extern "C" {
#endif

/* The site into dir (which exists): pages, style.css, results.json. */
int kiln_html_write(const kiln_doc *doc, const char *dir, kiln_diag *d);

/* The templates (layout.html with {{content}}, style.css) read and checked,
 * as kiln_html_write will use them: a build does this before any run. */
int kiln_templates_check(const char *template_dir, kiln_diag *d);

/* A page of its own in the site's layout (kiln diff's page, written outside
 * the site): template_dir's layout.html with the site's header and chapter
 * list. doc: the article as loaded (kiln_doc_load: resolving is not needed);
 * root: the site's folder as seen from the page, ending in '/' ("../out/"),
 * through which every link to the site and its style.css and kiln.js go;
 * title (text) and body (HTML): the page's own. Written atomically. */
int kiln_html_page(const kiln_doc *doc, const char *root, const char *title, const char *body, const char *path,
                   kiln_diag *d);

#ifdef __cplusplus
}
#endif
#endif
