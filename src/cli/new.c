/* kiln new DIR: start an article of one's own. Copies the starter article
 * (TEMPLATES/new/: an index and one chapter with one small experiment, a
 * figure, a result line and values in the prose) into DIR/content/, made in
 * a temporary folder beside DIR and renamed into place, so DIR is either
 * complete or absent. An existing DIR must be empty. */
#include "cli/cli.h"
#include "kiln/report.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const kiln_cmd CMD = {
    "new", "DIR",
    "Start a new article in DIR (a new or empty folder): DIR/content/index.md and one\n"
    "chapter with one small experiment (seconds to train), a figure and values in the\n"
    "prose. Then: cd DIR && kiln build, and open out/index.html.",
    NULL, NULL};

static const char *const FILES[] = {"index.md", "01-first-experiment.md", NULL};

/* 1 when path is missing or an empty folder, 0 when it has entries, -1 when
 * it is something else */
static int empty_or_missing(const char *path)
{
    struct stat st;
    if (stat(path, &st)) return errno == ENOENT ? 1 : -1;
    if (!S_ISDIR(st.st_mode)) return -1;
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d))) empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in) return -1;
    FILE *out = fopen(to, "wb");
    if (!out) { fclose(in); return -1; }
    char buf[8192];
    size_t n;
    int bad = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) bad |= fwrite(buf, 1, n, out) != n;
    bad |= ferror(in);
    fclose(in);
    bad |= fclose(out) != 0;
    return bad ? -1 : 0;
}

static void remove_tree(const char *tmp)
{
    char p[PATH_MAX + 64];
    for (int i = 0; FILES[i]; i++) {
        snprintf(p, sizeof p, "%s/content/%s", tmp, FILES[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/content", tmp);
    rmdir(p);
    rmdir(tmp);
}

int kiln_cmd_new(int argc, char **argv)
{
    kiln_args a;
    kiln_args_init(&a, &CMD, argc, argv);
    const char *v, *dir = NULL;
    for (int id; (id = kiln_args_next(&a, &v)) != KILN_ARG_END;) {
        if (id != KILN_ARG_OPERAND) return KILN_ARG_EXIT(id);
        if (dir) {
            fprintf(stderr, "kiln new: one folder, got a second: '%s'\n", v);
            return 2;
        }
        dir = v;
    }
    if (!dir) {
        fprintf(stderr, "kiln new: which folder? (kiln new DIR)\n");
        return kiln_cli_usage(&CMD, stderr);
    }
    if (!dir[0]) {
        fprintf(stderr, "kiln new: the folder's name is empty (kiln new DIR)\n");
        return 2;
    }
    /* "art/" and "art" are the same folder: name it without the slash */
    static char name[PATH_MAX];
    snprintf(name, sizeof name, "%s", dir);
    for (size_t n = strlen(name); n > 1 && name[n - 1] == '/'; n--) name[n - 1] = 0;
    dir = name;
    int e = empty_or_missing(dir);
    if (e == 0) {
        fprintf(stderr, "kiln new: %s is not empty; kiln new starts an article in a new or empty folder and overwrites nothing\n", dir);
        return 2;
    }
    if (e < 0) {
        fprintf(stderr, "kiln new: %s exists and is not a folder one can use\n", dir);
        return 2;
    }
    const char *tdir = kiln_cli_template_dir();
    char src[PATH_MAX + 64], dst[PATH_MAX + 64], tmp[PATH_MAX + 32], parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    snprintf(tmp, sizeof tmp, "%s/.kiln-new-XXXXXX", dirname(parent));
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "kiln new: cannot create a folder beside %s: %s\n", dir, strerror(errno));
        return 1;
    }
    snprintf(dst, sizeof dst, "%s/content", tmp);
    int rc = mkdir(dst, 0777) ? -1 : 0;
    for (int i = 0; !rc && FILES[i]; i++) {
        snprintf(src, sizeof src, "%s/new/%s", tdir, FILES[i]);
        snprintf(dst, sizeof dst, "%s/content/%s", tmp, FILES[i]);
        if (copy_file(src, dst)) {
            fprintf(stderr, "kiln new: cannot copy %s to %s: %s (is kiln installed? $KILN_TEMPLATES names the templates)\n",
                    src, dst, strerror(errno));
            rc = 1;
        }
    }
    /* mkdtemp made it 0700: give it the permissions a new folder gets */
    mode_t um = umask(0);
    umask(um);
    if (!rc && chmod(tmp, 0777 & ~um)) rc = -1;
    if (!rc && rename(tmp, dir)) rc = -1;
    if (rc) {
        if (rc < 0) fprintf(stderr, "kiln new: cannot create %s: %s\n", dir, strerror(errno));
        remove_tree(tmp);
        return 1;
    }
    printf("kiln new: started an article in %s/:\n", dir);
    for (int i = 0; FILES[i]; i++) printf("  %s/content/%s\n", dir, FILES[i]);
    printf("next: cd %s && kiln build   (then open out/index.html)\n", dir);
    return 0;
}
