/* Private to src/resolve/: the resolver's shared pieces.
 *
 *   resolve.c   kiln_doc_resolve: values, titles, tables, config listings
 *   figures.c   each figure's series from the runs, drawn by the plot library
 *   appendix.c  the reproducibility appendix as a chapter (doc->appendix)
 *   compare.c   {compare}: the stats library on each side's values, the sentence
 *   figmemo.c   a figure's PNG drawn, or taken from opts.memo when its inputs
 *               are those of one drawn before */
#ifndef KILN_RESOLVE_RESOLVE_H
#define KILN_RESOLVE_RESOLVE_H

#include "kiln/resolve.h"
#include "doc/doc.h"
#include "kiln/plot.h"

#include <stdint.h>

/* The canonical text, numbers spelt shortest: "key = value" lines aligned
 * (kr_config_text, for the pages) or "key=value" (align 0, results.json). */
const char *kr_config_shortest(kiln_arena *a, const char *canonical, int align);
const char *kr_config_text(kiln_arena *a, const kiln_run *r);

/* The colour of run i (its index in fig->runs) in figure fig, as
 * KILN_PALETTE(slot). History figures: each run has a slot, given in document
 * order of its first appearance in a history figure, so a run keeps its
 * colour from figure to figure; in one figure a run whose slot an earlier run
 * holds takes the next free slot (the same run listed twice keeps one). A
 * history figure of one run with several series colours them by series, not
 * by this. Range and schedule figures: KILN_PALETTE(i). Reads the document
 * only (safe from the render threads). */
/* doc->appendix from the runs as resolved (their keys, provenance and
 * settings listings): called by kiln_doc_resolve once the runs are done. */
void kr_build_appendix(kiln_doc *doc);
/* every {compare}'s numbers, verdict and sentence (x->cmp, x->text), from
 * the runs' results: before the prose's values are formatted */
void kr_resolve_compares(kiln_doc *doc);

uint32_t kr_figure_run_color(const kiln_doc *doc, const kiln_directive *fig, int i);
int kr_render_figure(const kiln_doc *doc, kiln_directive *f, const char *img_dir,
                     char *err, size_t n);
/* Draw p (or take it from doc->opts.memo) and write it to path; *height
 * (if not NULL) gets the image's height in logical px. 0, or -1 with err.
 * Safe from the render threads. */
int kr_figure_png(const kiln_doc *doc, const kiln_plot *p, const char *path, int *height, char *err, size_t n);
/* The memo key of p: "figure:" and a hash over every input of the plotter,
 * the variant (theme, text_scale) included. */
void kr_figure_key(const kiln_plot *p, char *out, size_t n);

#endif
