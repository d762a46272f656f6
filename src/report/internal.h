/* Private to src/report: the arena, a string buffer, diagnostics, and the
 * functions the report files share. */
#ifndef KILN_REPORT_INTERNAL_H
#define KILN_REPORT_INTERNAL_H

#include "kiln/report.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- arena: everything a kiln_doc points to ---------------------------- */
typedef struct kiln_arena kiln_arena;
kiln_arena *ka_new(void);
void ka_free(kiln_arena *a);
void *ka_alloc(kiln_arena *a, size_t n);        /* zeroed */
char *ka_strdup(kiln_arena *a, const char *s);  /* NULL -> "" */
char *ka_strndup(kiln_arena *a, const char *s, size_t n);
char *ka_printf(kiln_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Heap blocks freed with the arena (for arrays that grow). */
void ka_own(kiln_arena *a, void *p);

/* ---- growing string ------------------------------------------------------ */
typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;
void sb_add(sbuf *b, const char *s);
void sb_addn(sbuf *b, const char *s, size_t n);
void sb_addc(sbuf *b, char c);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_html(sbuf *b, const char *s);            /* escaped text / attribute */
void sb_free(sbuf *b);
char *sb_take(sbuf *b);                          /* malloc'd, "" if empty */

/* ---- diagnostics ----------------------------------------------------------- */
/* code: KILN_REPORT_EINPUT or EFAIL; file may be NULL; line 0 = none. */
void kd_error(kiln_diag *d, int code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void kd_warn(kiln_diag *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Put the messages from number first on in file and line order: files in the
 * order given (messages naming no file, or another, first), each file's by
 * line, equal places in the order they were added. */
void kd_sort(kiln_diag *d, int first, const char *const *files, int n_files);

/* ---- files ----------------------------------------------------------------- */
char *kr_read_file(const char *path, size_t *len);      /* malloc'd, NUL-ended */
/* mkstemp beside path + write + fsync + rename; the temporary file is removed
 * on failure. 0 ok, else -1 with errno set (= kiln_write_file_atomic). */
int kr_write_atomic(const char *path, const void *data, size_t len);
/* Swap the freshly written folder from into place as to (an existing to is
 * exchanged with it, then removed). 0 ok, else -1 with errno set. */
int kr_swap_dir(const char *from, const char *to);
int kr_mkdirs(const char *path);                        /* mkdir -p; 0 ok */
int kr_rmtree(const char *path);                        /* rm -rf; 0 ok */
double kr_now(void);                                    /* monotonic seconds */

/* ---- ids ------------------------------------------------------------------- */
/* [A-Za-z0-9_-], 1..48 chars, not starting with '-': safe as a file name. */
int kr_valid_id(const char *s);

/* ---- the steps' shared pieces ------------------------------------------------ */
kiln_run *kr_find_run(const kiln_doc *doc, const char *id);
kiln_directive *kr_find_group(const kiln_doc *doc, const char *id);
const char *kr_setting_text(const kiln_directive *x, const kiln_kv *kv, char *buf, size_t n);
kiln_directive *kr_find_target(const kiln_doc *doc, const char *kind, const char *id);
/* Cache: look up / store one run. dir is the cache folder. */
typedef enum { KC_MISS, KC_HIT, KC_CORRUPT } kc_status;
kc_status kc_load(const char *dir, kiln_run *r, kiln_arena *a, char *why, size_t n);
/* threads: the trainer threads the run used, "N" or "MIN-MAX" when the
 * scheduler changed them as other runs ended (provenance only). */
int kc_store(const char *dir, kiln_run *r, const char *threads, char *err, size_t n);
/* The threads the run of rank `rank` (0-based, among n_active runs in
 * progress) gets of `cores`: an equal share, the remainder to the lowest
 * ranks, at least 1. */
int kr_thread_share(int cores, int n_active, int rank);
/* The data digest: from the stamp file when the data files are unchanged,
 * else loading them. *loaded is set when train/test were loaded. */
int kc_data_digest(const char *data_dir, char out[65], kiln_dataset *train,
                   kiln_dataset *test, int *loaded, char *err, size_t n);
/* A lock on the cache folder for the whole build (blocks, says so). */
int kc_lock(const char *dir, FILE *log, int quiet);
void kc_unlock(int fd);

const char *kr_config_text(kiln_arena *a, const kiln_run *r);
/* Every name kiln_run_value accepts, space-separated, appended to b. */
void kr_metric_words(sbuf *b);
/* " (did you mean 'NAME'?)" for a number format: the format with a missing
 * '.' added or a leading '%' dropped when that is one, else the nearest of
 * d, sci, repr, %; "" when none is near. Returns buf. */
const char *kr_format_hint(const char *fmt, char *buf, size_t n);

/* Figures */
/* The colour of run i (its index in fig->runs) in figure fig, as
 * KILN_PALETTE(slot). History figures: each run has a slot, given in document
 * order of its first appearance in a history figure, so a run keeps its
 * colour from figure to figure; in one figure a run whose slot an earlier run
 * holds takes the next free slot (the same run listed twice keeps one). A
 * history figure of one run with several series colours them by series, not
 * by this. Range and schedule figures: KILN_PALETTE(i). Reads the document
 * only (safe from the render threads). */
uint32_t kr_figure_run_color(const kiln_doc *doc, const kiln_directive *fig, int i);
int kr_render_figure(const kiln_doc *doc, kiln_directive *f, const char *img_dir,
                     char *err, size_t n);

#endif
