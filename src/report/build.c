/* The whole build: load, run, resolve, write into OUT/.build-PID, then swap
 * the new files in. A failure before the swap leaves OUT as it was.
 *
 * The PDF (kiln_pdf_write) is typeset from the same resolved document
 * between kiln_doc_resolve and kiln_html_write, as TMP/report.pdf; the HTML
 * pages link to it when the file is there. kiln preview's builds leave it
 * and the manifest out (opts.no_pdf, no_manifest), write the site without
 * fsync (opts.no_fsync)
 * and keep parsed cache entries and drawn figures for the next build
 * (opts.memo).
 *
 * The swap: every top-level entry of the new site (index.html, the chapter
 * pages, img/, style.css, results.json, ...) replaces its namesake in OUT by
 * rename(2) - a file atomically, a folder by kr_swap_dir (renameat2
 * RENAME_EXCHANGE and removal of the old one). Entries the previous build made (listed in
 * USERCACHE/sites/, see site_record) that this build no longer makes are
 * removed; anything else in OUT (the user's files) is never touched. The
 * build locks OUT itself (flock on the folder), so OUT holds only the site. */
#include "kiln/report.h"
#include "run/run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <limits.h>
#include <unistd.h>
#include <xxhash.h>

/* What a build made in OUT is recorded outside it, so that OUT holds only
 * the site: USERCACHE/sites/XXH3(real path of OUT). Losing the record only
 * means a page the next build no longer makes stays behind. */
static void site_record(const char *out, char *buf, size_t n)
{
    char real[PATH_MAX], home[4096];
    if (!realpath(out, real)) snprintf(real, sizeof real, "%s", out);
    XXH64_hash_t h = XXH3_64bits(real, strlen(real));
    snprintf(buf, n, "%s/sites/%016llx", kiln_user_cache_dir(home, sizeof home), (unsigned long long)h);
}

static const char *dirname_of(const char *path)
{
    static _Thread_local char d[4096];
    snprintf(d, sizeof d, "%s", path);
    char *s = strrchr(d, '/');
    if (s) *s = 0;
    return d;
}

static int swap_in(const char *tmp, const char *out, kiln_diag *d)
{
    DIR *dp = opendir(tmp);
    if (!dp) { kd_error(d, KILN_REPORT_EFAIL, tmp, 0, "cannot read: %s", strerror(errno)); return -1; }
    sbuf manifest = {0};
    struct dirent *e;
    int rc = 0;
    char **names = NULL;
    int n = 0, cap = 0;
    while ((e = readdir(dp))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        KR_GROW(names, cap, n + 1);
        names[n++] = kr_xstrdup(e->d_name);
    }
    closedir(dp);
    for (int i = 0; i < n; i++) {
        char from[8192], to[8192];
        snprintf(from, sizeof from, "%s/%s", tmp, names[i]);
        snprintf(to, sizeof to, "%s/%s", out, names[i]);
        struct stat sf;
        int dir = stat(from, &sf) == 0 && S_ISDIR(sf.st_mode);
        if (dir ? kr_swap_dir(from, to) : rename(from, to)) rc = -1;
        if (rc) { kd_error(d, KILN_REPORT_EFAIL, to, 0, "cannot move the new file in: %s", strerror(errno)); break; }
        sb_printf(&manifest, "%s\n", names[i]);
    }
    /* remove what the previous build made and this one did not */
    char mp[4096];
    site_record(out, mp, sizeof mp);
    char *old = kr_read_file(mp, NULL);
    if (old && !rc) {
        for (char *save = NULL, *t = strtok_r(old, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
            int keep = 0;
            for (int i = 0; i < n; i++) keep |= !strcmp(names[i], t);
            if (keep || !*t || strchr(t, '/') || t[0] == '.' || !strcmp(t, "cache") || !strcmp(t, "data")) continue;
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", out, t);
            kr_rmtree(p);
        }
    }
    free(old);
    if (!rc && (kr_mkdirs(dirname_of(mp)) || kr_write_atomic(mp, manifest.s ? manifest.s : "", manifest.len)))
        kd_warn(d, mp, 0, "cannot record what this build made (%s): the next build will not remove pages this one "
                "made and it does not", strerror(errno));
    sb_free(&manifest);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

/* Left-overs of builds that were killed: OUT/.build-* (we hold the lock, so
 * no other build is writing them). */
static void remove_stale(const char *out)
{
    DIR *dp = opendir(out);
    if (!dp) return;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (strncmp(e->d_name, ".build-", 7)) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", out, e->d_name);
        kr_rmtree(p);
    }
    closedir(dp);
    kr_remove_stale_tmp(out); /* .kiln-manifest.tmp.XXXXXX */
}

/* Delete the CACHE/KEY.json entries that no run of doc uses. */
static int prune_cache(const kiln_doc *doc, const char *cache, FILE *log, int quiet)
{
    DIR *dp = opendir(cache);
    if (!dp) return 0;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(dp))) {
        size_t l = strlen(e->d_name);
        if (l != 37 || strcmp(e->d_name + 32, ".json")) continue;
        int used = 0;
        for (int i = 0; i < doc->n_runs && !used; i++)
            used = doc->runs[i]->needed && !strncmp(doc->runs[i]->key, e->d_name, 32);
        if (used) continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", cache, e->d_name);
        if (unlink(p) == 0) n++;
    }
    closedir(dp);
    if (!quiet) fprintf(log, "kiln: pruned %d cache entr%s no run of this build uses\n", n, n == 1 ? "y" : "ies");
    return n;
}

/* path made absolute with its links resolved, also when its last parts do
 * not exist yet (the output folder of a first build); 0, or -1 */
static int abs_path(const char *path, char *out)
{
    if (realpath(path, out)) return 0;
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", path);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/') parent[--n] = 0;
    char *slash = strrchr(parent, '/');
    const char *last = slash ? slash + 1 : parent;
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s", last);
    if (!base[0] || !strcmp(base, ".") || !strcmp(base, "..")) return -1;
    if (slash == parent) snprintf(parent, sizeof parent, "/");
    else if (slash) *slash = 0;
    else snprintf(parent, sizeof parent, ".");
    char up[PATH_MAX];
    if (abs_path(parent, up)) return -1;
    if (snprintf(out, PATH_MAX, "%s/%s", strcmp(up, "/") ? up : "", base) >= PATH_MAX) return -1;
    return 0;
}

/* a is b or lies inside it */
static int within(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (n == 1 && b[0] == '/') return 1;
    return !strncmp(a, b, n) && (a[n] == 0 || a[n] == '/');
}

/* The site is published whole and its pages are replaced by every build:
 * it may not be the content folder, hold it (--out . or /: the chapters and
 * the cache would be published), or lie in the cache. A folder inside the
 * content folder is fine (a test's content/out). */
static int check_out_dir(const kiln_build_opts *o, const char *cache, kiln_diag *d)
{
    char out[PATH_MAX], content[PATH_MAX], cdir[PATH_MAX];
    if (abs_path(o->out_dir, out) || abs_path(o->content_dir, content)) return 0; /* reported where they are made */
    const char *why = NULL, *what = content;
    if (within(content, out)) why = strcmp(content, out) ? "holds the content folder" : "is the content folder";
    else if (cache && !abs_path(cache, cdir) && within(out, cdir)) why = "lies in the cache folder", what = cdir;
    if (!why) return 0;
    kd_error(d, KILN_REPORT_EINPUT, o->out_dir, 0,
             "the output folder %s, %s: the site is published as it is and its pages replaced by every build; "
             "give another --out (default: out)", why, what);
    return KILN_REPORT_EINPUT;
}

int kiln_report_build(const kiln_build_opts *o0, kiln_build_stats *st, kiln_diag *d)
{
    double t0 = kr_now();
    kiln_build_opts o = *o0;
    if (!o.out_dir) o.out_dir = o.smoke ? "out/smoke" : "out";
    if (!o.content_dir) o.content_dir = "content";
    if (!o.template_dir) o.template_dir = "templates";
    FILE *log = o.log ? o.log : stderr;
    kiln_build_stats dummy = {0};
    if (!st) st = &dummy;
    memset(st, 0, sizeof *st);

    kiln_doc *doc = NULL;
    kr_memo_begin(o.memo);
    int rc = kiln_doc_load(&doc, &o, d);
    /* everything that can be checked before a run is: the templates too */
    int trc = kiln_templates_check(o.template_dir, d);
    if (rc || trc) {
        kiln_doc_free(doc);
        return rc == KILN_REPORT_EINPUT || trc == KILN_REPORT_EINPUT ? KILN_REPORT_EINPUT : rc ? rc : trc;
    }
    doc->trainer_fingerprint = ka_strdup(doc->arena, kiln_report_fingerprint()); /* kiln diff's tests may override it */
    if ((rc = check_out_dir(&o, doc->opts.cache_dir, d))) {
        kiln_doc_free(doc);
        return rc;
    }

    if (kr_mkdirs(o.out_dir)) {
        kd_error(d, KILN_REPORT_EFAIL, o.out_dir, 0, "cannot create the output folder: %s", strerror(errno));
        kiln_doc_free(doc);
        return KILN_REPORT_EFAIL;
    }
    /* the lock is on the folder itself: no lock file in the site */
    const char *lp = o.out_dir;
    int lock = open(lp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB)) {
        if (lock >= 0 && errno == EWOULDBLOCK) {
            if (!o.quiet) fprintf(log, "kiln: waiting for another build of %s to finish\n", o.out_dir);
            if (flock(lock, LOCK_EX)) { close(lock); lock = -1; }
        } else if (lock >= 0) {
            close(lock);
            lock = -1;
        }
        if (lock < 0) {
            kd_error(d, KILN_REPORT_EFAIL, lp, 0, "cannot lock the output folder: %s", strerror(errno));
            kiln_doc_free(doc);
            return KILN_REPORT_EFAIL;
        }
    }
    remove_stale(o.out_dir);

    rc = kiln_doc_run(doc, st, d);
    double t_written = kr_now();
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/.build-%ld", o.out_dir, (long)getpid());
    if (!rc) {
        char img[4200];
        snprintf(img, sizeof img, "%s/img", tmp);
        if (kr_mkdirs(tmp)) {
            kd_error(d, KILN_REPORT_EFAIL, tmp, 0, "cannot create: %s", strerror(errno));
            rc = KILN_REPORT_EFAIL;
        }
        if (!rc) rc = kiln_doc_resolve(doc, img, d);
        if (!rc && !o.no_pdf) {
            char pdf[4200];
            snprintf(pdf, sizeof pdf, "%s/report.pdf", tmp);
            rc = kiln_pdf_write(doc, pdf, d);
        }
        kr_files_nosync(o.no_fsync); /* the site's files only */
        if (!rc) rc = kiln_html_write(doc, tmp, d);
        kr_files_nosync(0);
        /* kiln diff: record what this build used and got in
         * CACHE/manifest/build.json (src/run/manifest.c), before the new
         * site goes in */
        if (!rc && !o.no_manifest) rc = kiln_manifest_write(doc, doc->opts.cache_dir, d);
        if (!rc && swap_in(tmp, o.out_dir, d)) rc = KILN_REPORT_EFAIL;
    }
    kr_rmtree(tmp);
    if (!rc) kr_memo_end(o.memo); /* after a failed build, keep everything for the next */
    if (!rc && o.prune) {
        const char *cache = doc->opts.cache_dir;
        int fd = kc_lock(cache, log, o.quiet);
        if (fd >= 0) prune_cache(doc, cache, log, o.quiet);
        else kd_warn(d, cache, 0, "cannot prune: the cache cannot be locked for writing (%s)",
                     fd == KC_READ_ONLY ? "read-only" : strerror(errno));
        kc_unlock(fd);
    }
    st->pages = doc->n_chapters + 2;
    st->figures = doc->n_figures;
    st->seconds_writing = kr_now() - t_written;
    st->seconds_total = kr_now() - t0;
    kiln_doc_free(doc);
    close(lock);
    return rc;
}
