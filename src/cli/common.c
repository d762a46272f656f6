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

int kiln_cli_load_data(const char *cmd, const char *value, const char *mnist_opt, const char *spec,
                       kiln_dataset *train, kiln_dataset *test)
{
    char mnist[4096], err[8192];
    kiln_data_info di;
    kiln_mnist_dir(mnist_opt, mnist, sizeof mnist);
    if (kiln_data_lookup(value, mnist, &di, err, sizeof err)) {
        fprintf(stderr, "kiln %s: key '%s'\n", cmd, err);
        return 2;
    }
    if (kiln_data_check_model(&di, spec, err, sizeof err)) {
        fprintf(stderr, "kiln %s: key 'model': %s\n", cmd, err);
        return 2;
    }
    if (kiln_data_load(&di, train, test, err, sizeof err)) {
        fprintf(stderr, "kiln %s: %s\n", cmd, err);
        return 1;
    }
    return 0;
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
