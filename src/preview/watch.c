/* inotify on the folders the build reads: content/ (chapters, images, the
 * bibliography) and templates/, each with its subfolders, except the ones
 * the build itself writes (the cache, the site). Editors save in many ways
 * (write in place, write a temporary file and rename it over, delete and
 * create), so every write, move and deletion counts, but not the editors'
 * own litter: names starting with '.', ending in '~', ".swp"/".swx", and
 * vim's probe "4913". After the first change the watcher waits for the
 * editor to finish (settle_ms without another event). */
#include "preview/preview.h"
#include "base/base.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)

struct kp_watch {
    int fd;
    char **skip;
    int n_skip;
    struct { int wd; char *dir; } *dirs;
    int n_dirs, cap_dirs;
    char last[NAME_MAX + 1];
};

static int skipped(const kp_watch *w, const char *path)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) return 0;
    for (int i = 0; i < w->n_skip; i++)
        if (!strcmp(real, w->skip[i])) return 1;
    return 0;
}

static void add_tree(kp_watch *w, const char *dir, int depth)
{
    if (depth > 8 || skipped(w, dir)) return;
    int wd = inotify_add_watch(w->fd, dir, WATCH_MASK | IN_ONLYDIR);
    if (wd < 0) return;
    KR_GROW(w->dirs, w->cap_dirs, w->n_dirs + 1);
    w->dirs[w->n_dirs].wd = wd;
    w->dirs[w->n_dirs++].dir = kr_xstrdup(dir);
    DIR *dp = opendir(dir);
    if (!dp) return;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.') continue;
        char p[PATH_MAX];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (!lstat(p, &st) && S_ISDIR(st.st_mode)) add_tree(w, p, depth + 1);
    }
    closedir(dp);
}

kp_watch *kp_watch_open(const char *const *dirs, int n_dirs, const char *const *skip, int n_skip, char *err, size_t n)
{
    kp_watch *w = kb_xmalloc(sizeof *w);
    memset(w, 0, sizeof *w);
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        snprintf(err, n, "inotify: %s", strerror(errno));
        free(w);
        return NULL;
    }
    w->skip = kb_xmalloc(sizeof *w->skip * (size_t)(n_skip + 1));
    for (int i = 0; i < n_skip; i++) {
        char real[PATH_MAX];
        w->skip[w->n_skip++] = kr_xstrdup(realpath(skip[i], real) ? real : skip[i]);
    }
    for (int i = 0; i < n_dirs; i++) add_tree(w, dirs[i], 0);
    if (!w->n_dirs) {
        snprintf(err, n, "cannot watch %s: %s", n_dirs ? dirs[0] : "anything", strerror(errno));
        kp_watch_close(w);
        return NULL;
    }
    return w;
}

static int litter(const char *name)
{
    size_t l = strlen(name);
    return !l || name[0] == '.' || name[l - 1] == '~' || (l > 4 && (!strcmp(name + l - 4, ".swp") ||
           !strcmp(name + l - 4, ".swx"))) || !strcmp(name, "4913") || strstr(name, ".tmp.") != NULL;
}

static const char *dir_of(const kp_watch *w, int wd)
{
    for (int i = 0; i < w->n_dirs; i++)
        if (w->dirs[i].wd == wd) return w->dirs[i].dir;
    return NULL;
}

/* Read what is there: 1 if something that counts changed, 0 if not, -1 */
static int drain(kp_watch *w)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int changed = 0;
    for (;;) {
        ssize_t k = read(w->fd, buf, sizeof buf);
        if (k < 0) return errno == EAGAIN || errno == EINTR ? changed : -1;
        for (char *p = buf; p < buf + k;) {
            struct inotify_event *e = (struct inotify_event *)p;
            p += sizeof *e + e->len;
            const char *name = e->len ? e->name : "";
            if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) { changed = 1; continue; }
            if (litter(name)) continue;
            const char *dir = dir_of(w, e->wd);
            if ((e->mask & (IN_CREATE | IN_MOVED_TO)) && (e->mask & IN_ISDIR) && dir) {
                char sub[PATH_MAX];
                snprintf(sub, sizeof sub, "%s/%s", dir, name);
                add_tree(w, sub, 1); /* a new folder (of images, say) */
            }
            if (dir && skipped(w, dir)) continue;
            snprintf(w->last, sizeof w->last, "%s", name);
            changed = 1;
        }
    }
}

int kp_watch_wait(kp_watch *w, int timeout_ms, int settle_ms, const char **what)
{
    struct pollfd p = {w->fd, POLLIN, 0};
    int changed = 0;
    while (!changed) {
        int r = poll(&p, 1, timeout_ms);
        if (r < 0) return errno == EINTR ? 0 : -1;
        if (r == 0) return 0;
        changed = drain(w);
        if (changed < 0) return -1;
        if (!changed) return 0; /* only litter: let the caller look at its flags again */
    }
    while (poll(&p, 1, settle_ms) > 0)
        if (drain(w) < 0) return -1;
    if (what) *what = w->last;
    return 1;
}

int kp_watch_fd(const kp_watch *w)
{
    return w->fd;
}

void kp_watch_close(kp_watch *w)
{
    if (!w) return;
    close(w->fd);
    for (int i = 0; i < w->n_dirs; i++) free(w->dirs[i].dir);
    for (int i = 0; i < w->n_skip; i++) free(w->skip[i]);
    free(w->dirs);
    free(w->skip);
    free(w);
}
