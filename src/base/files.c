/* Files: read whole, the one atomic write (fsync'd), folder swap, mkdir -p,
 * rm -rf, a monotonic clock. */
#include "base/base.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* ---- files -------------------------------------------------------------------- */

char *kr_read_file(const char *path, size_t *len)
{
    /* without blocking, and only a regular file: a FIFO or a device in
     * place of a file would hang the build or never end */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return NULL;
    struct stat st = {0};
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        close(fd);
        errno = e;
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) { close(fd); return NULL; }
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
void kr_remove_stale_tmp(const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp) return;
    struct dirent *e;
    while ((e = readdir(dp))) {
        const char *t = strstr(e->d_name, ".tmp.");
        if (!t || t == e->d_name || strlen(t) != 11) continue; /* ".tmp." + mkstemp's 6 characters */
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (!lstat(p, &st) && S_ISREG(st.st_mode)) unlink(p);
    }
    closedir(dp);
}

/* kr_files_nosync: this thread's kr_write_atomic calls skip the fsync */
static _Thread_local int thread_nosync;

void kr_files_nosync(int on)
{
    thread_nosync = on;
}

int kr_write_atomic(const char *path, const void *data, size_t len)
{
    return kr_write_file(path, data, len, !thread_nosync);
}

int kr_write_file(const char *path, const void *data, size_t len, int sync)
{
    size_t pl = strlen(path) + 16;
    char *tmp = kb_xmalloc(pl);
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
    if (!bad && sync && fsync(fd)) bad = errno;
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
        char *p = kb_xmalloc(n);
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
