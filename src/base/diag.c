/* Diagnostics: "FILE:LINE: error: ..." lines collected in a kiln_diag. */
#include "base/base.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- diagnostics -------------------------------------------------------------- */

struct kiln_diag_msg {
    size_t off, len;   /* the message's bytes in text, its newline included */
    char *file;        /* NULL when it names none */
    int line;
};

static void kd_note(kiln_diag *d, const char *file, int line)
{
    KR_GROW(d->msgs, d->cap_msgs, d->n_msgs + 1);
    d->msgs[d->n_msgs++] = (struct kiln_diag_msg){d->len, 0, file ? kr_xstrdup(file) : NULL, line};
}

static int file_rank(const char *file, const char *const *files, int n_files)
{
    for (int i = 0; file && i < n_files; i++)
        if (!strcmp(file, files[i])) return i;
    return -1; /* the folder, the templates: before the chapters */
}

void kd_sort(kiln_diag *d, int first, const char *const *files, int n_files)
{
    int n = d->n_msgs - first;
    if (n < 2) return;
    struct kiln_diag_msg *m = d->msgs + first;
    /* insertion sort: stable, and the lists are short */
    for (int i = 1; i < n; i++) {
        struct kiln_diag_msg t = m[i];
        int rt = file_rank(t.file, files, n_files), j = i;
        while (j > 0) {
            int rp = file_rank(m[j - 1].file, files, n_files);
            if (rp < rt || (rp == rt && m[j - 1].line <= t.line)) break;
            m[j] = m[j - 1];
            j--;
        }
        m[j] = t;
    }
    size_t from = m[0].off;
    for (int i = 1; i < n; i++) if (m[i].off < from) from = m[i].off;
    char *tail = malloc(d->len - from + 1);
    if (!tail) abort();
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        memcpy(tail + at, d->text + m[i].off, m[i].len);
        m[i].off = from + at;
        at += m[i].len;
    }
    memcpy(d->text + from, tail, at);
    free(tail);
}

static void kd_vadd(kiln_diag *d, const char *kind, const char *file, int line,
                    const char *fmt, va_list ap)
{
    kd_note(d, file, line);
    sbuf b = {d->text, d->len, d->cap};
    size_t start = b.len;
    if (file && line > 0) sb_printf(&b, "%s:%d: ", file, line);
    else if (file) sb_printf(&b, "%s: ", file);
    if (kind) sb_add(&b, kind);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    sb_grow(&b, (size_t)n);
    vsnprintf(b.s + b.len, (size_t)n + 1, fmt, ap);
    b.len += (size_t)n;
    /* a message quotes the content (a key, a file name): its control
     * characters become '?', so that printed on a terminal it cannot set the
     * title, move the cursor or rewrite what is shown (ESC, C1 controls) */
    for (size_t i = start; i < b.len; i++) {
        unsigned char c = (unsigned char)b.s[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) b.s[i] = '?';
        else if (c == 0xC2 && i + 1 < b.len && (unsigned char)b.s[i + 1] >= 0x80 && (unsigned char)b.s[i + 1] <= 0x9F)
            b.s[i] = b.s[i + 1] = '?';
    }
    sb_addc(&b, '\n');
    d->text = b.s;
    d->len = b.len;
    d->cap = b.cap;
    d->msgs[d->n_msgs - 1].len = d->len - d->msgs[d->n_msgs - 1].off;
}

void kd_error(kiln_diag *d, int code, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kd_vadd(d, NULL, file, line, fmt, ap);
    va_end(ap);
    d->n_errors++;
    if (code == KILN_REPORT_EINPUT || d->worst == KILN_REPORT_OK) d->worst = code;
}

void kd_warn(kiln_diag *d, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kd_vadd(d, "warning: ", file, line, fmt, ap);
    va_end(ap);
    d->n_warnings++;
}

void kiln_diag_free(kiln_diag *d)
{
    for (int i = 0; i < d->n_msgs; i++) free(d->msgs[i].file);
    free(d->msgs);
    free(d->text);
    memset(d, 0, sizeof *d);
}
