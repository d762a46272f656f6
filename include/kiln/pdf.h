/* kiln PDF writer (src/pdf/): the resolved document as one PDF report. */
#ifndef KILN_PDF_H
#define KILN_PDF_H

#include "kiln/doc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The resolved document as one PDF at path (written to a temporary file
 * beside it, then renamed): title page, contents, outline, every chapter,
 * figures (the PNGs kiln_doc_resolve rendered, read from image_file), tables,
 * the reproducibility appendix; DejaVu fonts embedded. Call after
 * kiln_doc_resolve with an img_dir, and before kiln_html_write if the site
 * should link to it. Returns KILN_REPORT_OK, or KILN_REPORT_EFAIL with the
 * message in d (a missing figure or a character no font has is a warning). */
int kiln_pdf_write(const kiln_doc *doc, const char *path, kiln_diag *d);

/* What one page of the PDF holds, as the layout placed it (a test hook). */
typedef struct kiln_pdf_page_stat {
    int part;                /* 0 the title pages, 1 the contents, 2 the body */
    int items;               /* lines and boxes placed on it */
    int toc_entries;         /* contents: the entries it lists */
    int listing_items;       /* lines (and paddings) of code listings */
    int listing_tail;        /* every item on it belongs to one listing that
                                began on an earlier page */
} kiln_pdf_page_stat;
/* When set, kiln_pdf_write calls it with every page's stat before saving. */
extern void (*kiln_pdf_page_hook)(const kiln_pdf_page_stat *pages, int n, void *user);
extern void *kiln_pdf_page_hook_user;

#ifdef __cplusplus
}
#endif
#endif
