/* One side of a diff: a manifest (a file, a cache folder or a git revision)
 * and the cache entries its keys name, each checked before it is used. */
#include "diff/internal.h"
#include "run/run.h" /* kc_entry_check */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- git ------------------------------------------------------------------------------- */

/* `git -C dir ARGS` with stdout captured (stderr dropped). Returns git's exit
 * status, 127 when git cannot be run; *out is malloc'd (NUL-ended). */
int git_capture(const char *dir, const char *a1, const char *a2, const char *a3, char **out, size_t *len)
{
    *out = NULL;
    if (len) *len = 0;
    int fd[2];
    if (pipe(fd)) return 127;
    pid_t pid = fork();
    if (pid < 0) { close(fd[0]); close(fd[1]); return 127; }
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        int nul = open("/dev/null", O_WRONLY);
        if (nul >= 0) dup2(nul, 2);
        const char *argv[] = {"git", "-C", dir, a1, a2, a3, NULL};
        execvp("git", (char *const *)argv);
        _exit(127);
    }
    close(fd[1]);
    sbuf b = {0};
    char buf[65536];
    ssize_t k;
    while ((k = read(fd[0], buf, sizeof buf)) != 0) {
        if (k < 0) {
            if (errno == EINTR) continue;
            break;
        }
        sb_addn(&b, buf, (size_t)k);
    }
    close(fd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (len) *len = b.len;
    *out = sb_take(&b);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 127;
}

/* A file of the cache folder at a revision: REV:./NAME run in the cache
 * folder; for revisions from before the committed cache moved from out/cache
 * to content/cache, REV:out/cache/NAME (from the repository's top). */
static int git_show_cache(const char *cache, const char *rev, const char *name, char **out, size_t *len)
{
    char obj[600];
    snprintf(obj, sizeof obj, "%s:./%s", rev, name);
    int rc = git_capture(cache, "show", obj, NULL, out, len);
    if (rc != 127 && (rc || !*len)) {
        free(*out);
        snprintf(obj, sizeof obj, "%s:out/cache/%s", rev, name);
        rc = git_capture(cache, "show", obj, NULL, out, len);
    }
    return rc;
}

static int is_hex(const char *s, size_t n)
{
    if (strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", s[i])) return 0;
    return 1;
}

static const char *jstr(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Parse and check a manifest's text into s. */
static int parse_manifest(side *s, const char *text, kiln_diag *d)
{
    json_error_t je;
    s->root = json_loads(text, 0, &je);
    if (!s->root) {
        kd_error(d, KILN_REPORT_EINPUT, s->desc, je.line, "the %s manifest is not valid JSON (%s); rebuild it with `make report`",
                 s->role, je.text);
        return -1;
    }
    const char *fmt = jstr(s->root, "format"), *check = jstr(s->root, "check");
    if (!json_is_object(s->root) || !fmt || strcmp(fmt, "kiln-manifest-1")) {
        kd_error(d, KILN_REPORT_EINPUT, s->desc, 0, "the %s manifest is not a kiln build manifest (format %s, expected kiln-manifest-1)",
                 s->role, fmt ? fmt : "missing");
        return -1;
    }
    char sum[17];
    kiln_manifest_check(s->root, sum);
    if (!check || strcmp(check, sum)) {
        kd_error(d, KILN_REPORT_EINPUT, s->desc, 0,
                 "the %s manifest is damaged: its content does not match its check sum (edited by hand, or a "
                 "merge?); rebuild it with `make report`",
                 s->role);
        return -1;
    }
    s->trainer = jstr(s->root, "trainer");
    s->data = jstr(s->root, "data");
    s->scale = jstr(s->root, "scale");
    s->kiln = jstr(s->root, "kiln");
    json_t *runs = json_object_get(s->root, "runs");
    if (!s->trainer || !s->data || !s->scale || !json_is_array(runs)) {
        kd_error(d, KILN_REPORT_EINPUT, s->desc, 0, "the %s manifest lacks 'trainer', 'data', 'scale' or 'runs'", s->role);
        return -1;
    }
    s->n = (int)json_array_size(runs);
    s->runs = calloc((size_t)s->n + 1, sizeof *s->runs);
    for (int i = 0; i < s->n; i++) {
        json_t *r = json_array_get(runs, (size_t)i);
        mrun *m = &s->runs[i];
        m->id = jstr(r, "id");
        m->kind = jstr(r, "kind");
        m->key = jstr(r, "key");
        m->config = jstr(r, "config");
        m->data = jstr(r, "data");
        m->label = jstr(r, "label");
        m->file = jstr(r, "file");
        json_t *line = json_object_get(r, "line");
        m->line = json_is_integer(line) ? (int)json_integer_value(line) : 0;
        m->metrics = json_object_get(r, "metrics");
        if (!m->label) m->label = m->id;
        if (!m->file) m->file = "";
        if (!m->id || !kr_valid_id(m->id) || !m->kind || (strcmp(m->kind, "train") && strcmp(m->kind, "lrfind")) ||
            !m->key || !is_hex(m->key, 32) || !m->config || !json_is_object(m->metrics)) {
            kd_error(d, KILN_REPORT_EINPUT, s->desc, 0, "the %s manifest's run %d (%s) lacks a valid id, kind, key, config or metrics",
                     s->role, i + 1, m->id ? m->id : "no id");
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(s->runs[j].id, m->id)) {
                kd_error(d, KILN_REPORT_EINPUT, s->desc, 0, "the %s manifest lists run '%s' twice", s->role, m->id);
                return -1;
            }
    }
    return 0;
}

/* A manifest file, a folder holding one, or a git revision. */
int open_side(side *s, const char *spec, kiln_diag *d)
{
    struct stat st;
    char path[4200];
    if (!*spec || spec[0] == '-') {
        kd_error(d, KILN_REPORT_EINPUT, NULL, 0, "'%s' is not a manifest file, a cache folder or a git revision", spec);
        return -1;
    }
    if (!stat(spec, &st)) {
        if (S_ISDIR(st.st_mode)) snprintf(path, sizeof path, "%s/%s", spec, KILN_MANIFEST_FILE);
        else snprintf(path, sizeof path, "%s", spec);
        snprintf(s->desc, sizeof s->desc, "%s", path);
        char *text = kr_read_file(path, NULL);
        if (!text) {
            kd_error(d, KILN_REPORT_EINPUT, path, 0, "cannot read the %s manifest: %s%s", s->role, strerror(errno),
                     S_ISDIR(st.st_mode) ? " (no build has written one there; run `make report`, or `kiln build` "
                                           "with --smoke for a smoke build)"
                                         : "");
            return -1;
        }
        /* entries: CACHE/manifest/build.json -> CACHE; else the file's folder */
        snprintf(s->dir, sizeof s->dir, "%s", path);
        char *slash = strrchr(s->dir, '/');
        if (slash) *slash = 0;
        else snprintf(s->dir, sizeof s->dir, ".");
        size_t l = strlen(s->dir);
        if (l >= 9 && !strcmp(s->dir + l - 9, "/manifest")) s->dir[l - 9] = 0;
        else if (!strcmp(s->dir, "manifest")) snprintf(s->dir, sizeof s->dir, ".");
        int rc = parse_manifest(s, text, d);
        free(text);
        return rc;
    }
    if (strchr(spec, '/') || strstr(spec, ".json")) {
        kd_error(d, KILN_REPORT_EINPUT, spec, 0, "no such %s manifest: %s (every good build writes CACHE/%s: run `make report`, or "
                 "`kiln build --smoke` and `kiln diff --smoke`)", s->role, strerror(errno), KILN_MANIFEST_FILE);
        return -1;
    }
    if (stat(s->cache, &st) || !S_ISDIR(st.st_mode)) {
        kd_error(d, KILN_REPORT_EINPUT, s->cache, 0, "cannot look up revision '%s': no cache folder %s (give --cache DIR)", spec,
                 s->cache);
        return -1;
    }
    char want[300], *out;
    snprintf(want, sizeof want, "%s^{commit}", spec);
    int rc = git_capture(s->cache, "rev-parse", "--verify", want, &out, NULL);
    free(out);
    if (rc == 127) {
        kd_error(d, KILN_REPORT_EINPUT, NULL, 0, "'%s' is not a file, and git cannot be run to read it as a revision", spec);
        return -1;
    }
    if (rc) {
        kd_error(d, KILN_REPORT_EINPUT, NULL, 0, "'%s' is neither a manifest file, a cache folder nor a git revision (of the repository holding %s)",
                 spec, s->cache);
        return -1;
    }
    snprintf(s->rev, sizeof s->rev, "%s", spec);
    snprintf(s->desc, sizeof s->desc, "%s:%s/%s", spec, s->cache, KILN_MANIFEST_FILE);
    size_t len;
    rc = git_show_cache(s->cache, spec, KILN_MANIFEST_FILE, &out, &len);
    if (rc || !len) {
        free(out);
        kd_error(d, KILN_REPORT_EINPUT, NULL, 0,
                 "revision '%s' has no %s/%s: that commit holds no recorded build (it predates `kiln diff`, or the "
                 "manifest was not committed); compare with a manifest file or a later revision",
                 spec, s->cache, KILN_MANIFEST_FILE);
        return -1;
    }
    rc = parse_manifest(s, out, d);
    free(out);
    return rc;
}

void close_side(side *s)
{
    free(s->runs);
    json_decref(s->root);
}

void entry_free(entry *e)
{
    if (e->ok) kiln_history_free(&e->h);
    free(e->lr);
    free(e->loss);
    memset(e, 0, sizeof *e);
}

static double *num_array(const json_t *a, long n)
{
    double *v = malloc(sizeof *v * (size_t)(n ? n : 1));
    for (long i = 0; i < n; i++) {
        const json_t *x = json_array_get(a, (size_t)i);
        v[i] = json_is_number(x) ? json_number_value(x) : NAN;
    }
    return v;
}

/* Check one entry's text (as cache.c writes it) and take its result. */
static int parse_entry(entry *e, const mrun *m, const char *text, const char *where)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root) { snprintf(e->why, sizeof e->why, "%s: not valid JSON", where); return -1; }
    json_t *result = json_object_get(root, "result"), *fmt = json_object_get(root, "format");
    int rc = -1;
    /* format 2 (the check covers the whole entry) or, from revisions before
     * it, format 1 (the check covers the result); every field checked */
    int sealed = !json_is_integer(fmt) || json_integer_value(fmt) != 1;
    if (kc_entry_check(root, m->key, m->kind, NULL, sealed, where, e->why, sizeof e->why)) {
        if (!strstr(e->why, "check")) snprintf(e->why + strlen(e->why), sizeof e->why - strlen(e->why), " (not the entry of key %s)", m->key);
    } else {
        char err[256];
        if (!strcmp(m->kind, "train")) {
            if (kiln_history_from_jansson(&e->h, result, err, sizeof err)) snprintf(e->why, sizeof e->why, "%s: %s", where, err);
            else rc = 0;
        } else {
            json_t *lr = json_object_get(result, "lr"), *loss = json_object_get(result, "loss");
            if (!json_is_array(lr) || !json_is_array(loss) || json_array_size(lr) != json_array_size(loss)) {
                snprintf(e->why, sizeof e->why, "%s: lr/loss arrays missing", where);
            } else {
                e->n = (long)json_array_size(lr);
                e->lr = num_array(lr, e->n);
                e->loss = num_array(loss, e->n);
                e->stopped_early = json_is_true(json_object_get(result, "stopped_early"));
                rc = 0;
            }
        }
    }
    json_decref(root);
    if (!rc) {
        e->ok = 1;
        snprintf(e->where, sizeof e->where, "%s", where);
    }
    return rc;
}

int load_entry(entry *e, const side *s, const mrun *m)
{
    memset(e, 0, sizeof *e);
    /* its own folder, the new build's (an old manifest copied aside, then a
     * rebuild into the same cache), the working tree's cache; each once */
    const char *dirs[3] = {s->dir[0] ? s->dir : NULL, s->peer[0] ? s->peer : NULL, s->cache};
    int nd = 0;
    for (int k = 0; k < 3; k++) {
        int dup = !dirs[k];
        for (int j = 0; j < nd && !dup; j++) dup = !strcmp(dirs[j], dirs[k]);
        if (!dup) dirs[nd++] = dirs[k];
    }
    for (int k = 0; k < nd; k++) {
        char p[4400];
        snprintf(p, sizeof p, "%s/%s.json", dirs[k], m->key);
        char *text = kr_read_file(p, NULL);
        if (!text) continue;
        int rc = parse_entry(e, m, text, p);
        free(text);
        if (!rc) return 0;
    }
    if (s->rev[0]) {
        char name[64], where[4400], *out;
        snprintf(name, sizeof name, "%s.json", m->key);
        snprintf(where, sizeof where, "%s:%s/%s.json", s->rev, s->cache, m->key);
        size_t len;
        int rc = git_show_cache(s->cache, s->rev, name, &out, &len);
        if (!rc && len && !parse_entry(e, m, out, where)) { free(out); return 0; }
        free(out);
    }
    if (!e->why[0]) {
        size_t l = (size_t)snprintf(e->why, sizeof e->why, "entry %s.json is in neither %s", m->key, dirs[0]);
        for (int k = 1; k < nd && l < sizeof e->why; k++)
            l += (size_t)snprintf(e->why + l, sizeof e->why - l, " nor %s", dirs[k]);
    }
    if (s->rev[0] && !strstr(e->why, "check") && !strstr(e->why, "JSON"))
        snprintf(e->why + strlen(e->why), sizeof e->why - strlen(e->why), " nor revision %s", s->rev);
    return -1;
}
