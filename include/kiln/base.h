/* kiln base library (src/base/): what every other kiln library shares, the
 * status codes, the list of messages a step reports, and the one atomic file
 * write. Its private half (src/base/base.h: the arena, a string buffer,
 * diagnostics, files) is used by the report stages and the plotter alike.
 *
 * Errors: a content error is reported as "FILE:LINE: message" with the
 * accepted values, and the functions return KILN_REPORT_EINPUT (2); a failure
 * while working (I/O, a run that failed) returns KILN_REPORT_EFAIL (1). Every
 * message is also appended to kiln_diag, so a caller can show all of them. */
#ifndef KILN_BASE_H
#define KILN_BASE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { KILN_REPORT_OK = 0, KILN_REPORT_EFAIL = 1, KILN_REPORT_EINPUT = 2,
       KILN_REPORT_ENODATA = 3 /* a run must train and its data set is not there */ };

typedef struct kiln_diag {
    char *text;     /* all messages, one a line ("FILE:LINE: ..."); malloc'd */
    size_t len, cap;
    int n_errors, n_warnings;
    int worst;      /* KILN_REPORT_OK / EFAIL / EINPUT */
    /* private: where each message starts and what it is about, so the
     * loader can list a document's messages in file and line order */
    struct kiln_diag_msg *msgs;
    int n_msgs, cap_msgs;
} kiln_diag;

void kiln_diag_free(kiln_diag *d);

/* Write len bytes to path atomically: a temporary file made with mkstemp in
 * path's folder, written, fsync'd and renamed over path, so a reader sees the
 * whole old file or the whole new one. On failure the temporary file is
 * removed, path is untouched, and -1 is returned with errno saying why;
 * 0 on success. The report's own files and the CLI's JSON go through this. */
int kiln_write_file_atomic(const char *path, const void *data, size_t len);

/* What one build may keep for the next in the same process (kiln preview:
 * parsed cache entries, drawn figures; kiln_build_opts.memo). A build keeps
 * what it used and drops the rest. kiln_memo_counts: lookups that found
 * something / did not, since kiln_memo_new, and the items held now. */
typedef struct kiln_memo kiln_memo;
kiln_memo *kiln_memo_new(void);
void kiln_memo_free(kiln_memo *m);
void kiln_memo_counts(kiln_memo *m, long *hits, long *misses, int *items);

#ifdef __cplusplus
}
#endif
#endif
