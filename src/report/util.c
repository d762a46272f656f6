/* Arena, string buffer, diagnostics and file helpers for the report. */
#include "report/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- arena ---------------------------------------------------------------- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
} chunk;

struct kiln_arena {
    chunk *head;
    void **owned;
    size_t n_owned, cap_owned;
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) { fputs("kiln: out of memory\n", stderr); abort(); }
    return p;
}

kiln_arena *ka_new(void)
{
    kiln_arena *a = xmalloc(sizeof *a);
    memset(a, 0, sizeof *a);
    return a;
}

void ka_free(kiln_arena *a)
{
    if (!a) return;
    for (chunk *c = a->head, *n; c; c = n) { n = c->next; free(c); }
    for (size_t i = 0; i < a->n_owned; i++) free(a->owned[i]);
    free(a->owned);
    free(a);
}

void *ka_alloc(kiln_arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        chunk *c = xmalloc(sizeof *c + cap);
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

char *ka_strndup(kiln_arena *a, const char *s, size_t n)
{
    char *p = ka_alloc(a, n + 1);
    if (s) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *ka_strdup(kiln_arena *a, const char *s)
{
    return ka_strndup(a, s ? s : "", s ? strlen(s) : 0);
}

char *ka_printf(kiln_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = ka_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void ka_own(kiln_arena *a, void *p)
{
    if (!p) return;
    if (a->n_owned == a->cap_owned) {
        a->cap_owned = a->cap_owned ? a->cap_owned * 2 : 16;
        void **o = realloc(a->owned, a->cap_owned * sizeof *o);
        if (!o) abort();
        a->owned = o;
    }
    a->owned[a->n_owned++] = p;
}

/* ---- sbuf ------------------------------------------------------------------- */

static void sb_grow(sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) abort();
    b->s = s;
    b->cap = cap;
}

void sb_addn(sbuf *b, const char *s, size_t n)
{
    sb_grow(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void sb_add(sbuf *b, const char *s) { if (s) sb_addn(b, s, strlen(s)); }
void sb_addc(sbuf *b, char c) { sb_addn(b, &c, 1); }

void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    sb_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sb_html(sbuf *b, const char *s)
{
    if (!s) return;
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        sb_addn(b, run, (size_t)(s - run));
        sb_add(b, rep);
        run = s + 1;
    }
    sb_addn(b, run, (size_t)(s - run));
}

void sb_free(sbuf *b) { free(b->s); memset(b, 0, sizeof *b); }

char *sb_take(sbuf *b)
{
    char *s = b->s ? b->s : strdup("");
    memset(b, 0, sizeof *b);
    return s;
}

/* ---- diagnostics -------------------------------------------------------------- */

struct kiln_diag_msg {
    size_t off, len;   /* the message's bytes in text, its newline included */
    char *file;        /* NULL when it names none */
    int line;
};

static void kd_note(kiln_diag *d, const char *file, int line)
{
    if (d->n_msgs == d->cap_msgs) {
        d->cap_msgs = d->cap_msgs ? d->cap_msgs * 2 : 16;
        d->msgs = realloc(d->msgs, sizeof *d->msgs * (size_t)d->cap_msgs);
        if (!d->msgs) abort();
    }
    d->msgs[d->n_msgs++] = (struct kiln_diag_msg){d->len, 0, file ? strdup(file) : NULL, line};
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

/* ---- files -------------------------------------------------------------------- */

char *kr_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    sbuf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) sb_addn(&b, tmp, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) { sb_free(&b); return NULL; }
    if (len) *len = b.len;
    return sb_take(&b);
}

/* The permission bits fopen would have given: 0666 less the umask. The umask
 * is read from /proc (umask(2) cannot read it without setting it, which would
 * race with other threads creating files); 022 where /proc says nothing. */
static mode_t file_mode(void)
{
    static _Atomic int cached = -1;
    int m = cached;
    if (m >= 0) return (mode_t)m;
    unsigned mask = 022;
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &mask) == 1) break;
        fclose(f);
    }
    m = (int)(0666 & ~mask & 0777);
    cached = m;
    return (mode_t)m;
}

/* mkstemp next to path (same folder, so the rename stays on one file system),
 * write everything, fsync, rename over path. On any failure the temporary
 * file is removed and -1 returned with errno saying why. */
int kr_write_atomic(const char *path, const void *data, size_t len)
{
    size_t pl = strlen(path) + 16;
    char *tmp = xmalloc(pl);
    snprintf(tmp, pl, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        errno = e;
        return -1;
    }
    const char *p = data;
    size_t done = 0;
    int bad = 0;
    while (done < len) {
        ssize_t k = write(fd, p + done, len - done);
        if (k < 0) {
            if (errno == EINTR) continue;
            bad = errno;
            break;
        }
        done += (size_t)k;
    }
    if (!bad && fchmod(fd, file_mode())) bad = errno;
    if (!bad && fsync(fd)) bad = errno;
    if (close(fd) && !bad) bad = errno;
    if (!bad && rename(tmp, path)) bad = errno;
    if (bad) unlink(tmp);
    free(tmp);
    if (bad) {
        errno = bad;
        return -1;
    }
    return 0;
}

int kiln_write_file_atomic(const char *path, const void *data, size_t len)
{
    return kr_write_atomic(path, data, len);
}

/* Put the freshly written folder from in place of to: renameat2(RENAME_EXCHANGE)
 * when to exists (then the old one, now at from, is removed), else rename.
 * Where the exchange is not supported, to is removed first. 0, or -1 with errno. */
int kr_swap_dir(const char *from, const char *to)
{
    struct stat st;
    if (lstat(to, &st)) return rename(from, to) ? -1 : 0;
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) == 0) {
        kr_rmtree(from); /* now holds the old one */
        return 0;
    }
    if (kr_rmtree(to) || rename(from, to)) return -1;
    return 0;
}

int kr_mkdirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) && errno != EEXIST) return -1;
    return 0;
}

int kr_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st)) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *p = xmalloc(n);
        snprintf(p, n, "%s/%s", path, e->d_name);
        if (kr_rmtree(p)) rc = -1;
        free(p);
    }
    closedir(d);
    if (rmdir(path)) rc = -1;
    return rc;
}

double kr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int kr_valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 48 || s[0] == '-') return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}
