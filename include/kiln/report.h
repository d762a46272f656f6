/* kiln report: the whole pipeline in one call, and the headers of its stages.
 *
 *   kiln_doc_load     (kiln/doc.h)      content/ *.md -> the document model
 *   kiln_doc_run      (kiln/run.h)      every needed run from the cache or trained
 *   kiln_doc_resolve  (kiln/resolve.h)  results -> texts, tables, figure PNGs
 *   kiln_pdf_write    (kiln/pdf.h)      the resolved document as TMP/report.pdf
 *   kiln_html_write   (kiln/html.h)     the resolved document as the site
 *   kiln_manifest_write (kiln/run.h)    CACHE/manifest/build.json
 *
 * Data flows one way: each step reads what the steps before it filled in,
 * and the writers only read the resolved document. kiln_report_build does it
 * all into a temporary folder next to out_dir and swaps it in; kiln diff
 * (kiln/diff.h) compares two builds' manifests. */
#ifndef KILN_REPORT_H
#define KILN_REPORT_H

#include "kiln/base.h"
#include "kiln/doc.h"
#include "kiln/run.h"
#include "kiln/resolve.h"
#include "kiln/html.h"
#include "kiln/pdf.h"
#include "kiln/diff.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything: load, run, resolve, write into a temporary folder next to
 * out_dir and swap it in; a failure leaves out_dir as it was. */
int kiln_report_build(const kiln_build_opts *o, kiln_build_stats *st, kiln_diag *d);

#ifdef __cplusplus
}
#endif
#endif
