/* A request's path -> the file it names inside the site folder, or nothing
 * (404). The server hands over the path percent-decoded, so "%2e%2e" has
 * become ".." by then; every segment is checked, and what the name finally
 * resolves to (symlinks followed) must still lie inside the folder. */
#include "preview/preview.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Each segment between '/'s: not empty after the first, not "." or "..",
 * no name starting with '.' (the build's temporary folders, dot-files), no
 * backslash (a Windows-style separator means nothing here but is refused). */
static int segments_ok(const char *url)
{
    const char *p = url;
    while (*p) {
        while (*p == '/') p++;
        const char *e = p;
        while (*e && *e != '/') e++;
        if (e > p && *p == '.') return 0;
        for (const char *q = p; q < e; q++)
            if (*q == '\\') return 0;
        p = e;
    }
    return 1;
}

static int inside(const char *root, const char *real)
{
    size_t n = strlen(root);
    return !strncmp(real, root, n) && (real[n] == '/' || real[n] == 0);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

size_t kp_unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        int hi = r[0] == '%' ? hexval(r[1]) : -1, lo = hi >= 0 ? hexval(r[2]) : -1;
        if (hi >= 0 && lo >= 0 && (hi || lo)) {
            *w++ = (char)(hi * 16 + lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

int kp_resolve(const char *root, const char *url, char *out, size_t n)
{
    if (!url || url[0] != '/' || !segments_ok(url)) return -1;
    char path[PATH_MAX + 16], real[PATH_MAX];
    if (snprintf(path, sizeof path, "%s%s", root, url) >= (int)sizeof path - 12) return -1;
    if (!realpath(path, real) || !inside(root, real)) return -1;
    struct stat st;
    if (stat(real, &st)) return -1;
    if (S_ISDIR(st.st_mode)) {
        size_t l = strlen(real);
        if (l + 12 > sizeof real) return -1;
        memcpy(real + l, "/index.html", 12);
        char again[PATH_MAX];
        if (!realpath(real, again) || !inside(root, again) || stat(again, &st)) return -1;
        snprintf(real, sizeof real, "%s", again);
    }
    if (!S_ISREG(st.st_mode)) return -1;
    if (snprintf(out, n, "%s", real) >= (int)n) return -1;
    return 0;
}
