/* Helpers shared by the subcommands. */
#include "cli/cli.h"
#include "kiln/report.h"
#include "kiln_paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *kiln_cli_data_dir(const char *opt)
{
    if (opt) return opt;
    const char *e = getenv("KILN_DATA_DIR");
    return e && *e ? e : "out/data";
}

int kiln_cli_write_file(const char *path, const char *text)
{
    return kiln_write_file_atomic(path, text, strlen(text)) ? 1 : 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* PREFIX/bin/kiln -> PREFIX/REL, when that folder exists */
static const char *beside_binary(const char *rel, char *buf, size_t n)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return NULL;
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = 0; /* PREFIX/bin */
    slash = strrchr(exe, '/');
    if (slash) *slash = 0; else snprintf(exe, sizeof exe, ".");
    snprintf(buf, n, "%s/%s", *exe ? exe : "/", rel);
    return is_dir(buf) ? buf : NULL;
}

const char *kiln_cli_template_dir(void)
{
    static char buf[PATH_MAX + 64];
    const char *e = getenv("KILN_TEMPLATES");
    if (e && *e) return e;
    /* an installed kiln (also when staged under DESTDIR or moved) */
    const char *p = beside_binary("share/kiln/templates", buf, sizeof buf);
    if (p) return p;
    /* where `make install` was told it would be */
    if (is_dir(KILN_TEMPLATE_DIR)) return KILN_TEMPLATE_DIR;
    /* bin/kiln of a source tree */
    p = beside_binary("templates", buf, sizeof buf);
    return p ? p : "templates";
}
