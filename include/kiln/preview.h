/* kiln preview: the site served on 127.0.0.1, rebuilt on every save, and
 * the open pages reloaded (src/preview/, README "Previewing while you
 * write").
 *
 * A build on save is kiln_report_build with the preview's options: no PDF,
 * no fsync of the site's files, and a memo (kiln_memo) that keeps parsed
 * cache entries and drawn figures between builds. Such a build never
 * trains: when a run has no result, the page shows the last good version
 * and a second build trains in the background, its progress shown in the
 * page, and the pages reload when it is done. */
#ifndef KILN_PREVIEW_H
#define KILN_PREVIEW_H

#include <stdio.h>

#include "kiln/report.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kiln_preview_opts {
    kiln_build_opts build;   /* content, templates, cache, data, jobs, ...;
                                out_dir default build/preview */
    const char *host;        /* the address to listen on; NULL = 127.0.0.1 */
    int port;                /* < 0: 8000 or the next free one; 0: any free */
    int no_train;            /* a missing result is an error, never trained */
    int settle_ms;           /* after a change, wait this long for more (default 20) */
    FILE *log;               /* what the preview says; NULL = stderr */
    volatile int *stop;      /* set non-zero to stop (tests); NULL: SIGINT/SIGTERM */
    void (*ready)(int port, void *arg); /* called once serving (tests) */
    void *ready_arg;
} kiln_preview_opts;

/* Build, serve and watch until *stop (or a signal). 0 stopped, 1 could not
 * start (the port, the folders), 2 bad options. */
int kiln_preview_run(const kiln_preview_opts *o);

#ifdef __cplusplus
}
#endif
#endif
