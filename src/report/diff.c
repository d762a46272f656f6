/* kiln diff: two builds compared run by run.
 *
 * Each side is a build manifest (manifest.c) - a file, a cache folder, or a
 * git revision whose CACHE/manifest/build.json is read with `git show` - and
 * the cache entries its keys name. Runs are matched by experiment id:
 *
 *   same key            identical: the same config, trainer and data, so the
 *                       same stored result (nothing to compare)
 *   histories equal     identical: every per-epoch and per-step value, the test
 *                       metrics and how the run ended equal bit for bit as
 *                       stored (wall times aside) - a deterministic trainer
 *                       gives this after any pure refactor
 *   within tolerances   within noise: |d test_accuracy| <= acc_tol and
 *                       |d test_loss| <= loss_tol * |old test_loss|
 *   otherwise           changed
 *
 * plus runs added and removed, and runs whose canonical config changed (the
 * keys that changed are listed). Range tests have no test metrics: they are
 * within noise when their suggested rates (steepest descent, minimum of the
 * smoothed loss) move by at most loss_tol, relatively.
 *
 * Entries are looked for in the side's own folder (a manifest given as a
 * file), for the old side then in the new side's folder (an old manifest
 * copied aside, then the same cache rebuilt), then in the working tree's
 * cache, then at the side's git revision;
 * each is checked (key, check sum) before it is used. An entry found nowhere
 * leaves that run compared by its manifest metrics only (said so, never
 * "identical"). Nothing here writes to a cache: the only files written are
 * the HTML page, its images and the JSON the caller asked for. */
#include "report/diff_internal.h"
#include "kiln/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

/* ---- verdicts on histories ------------------------------------------------------------ */

const char *kiln_verdict_name(int v)
{
    switch (v) {
    case KILN_VERDICT_IDENTICAL: return "identical";
    case KILN_VERDICT_NOISE: return "within noise";
    case KILN_VERDICT_CHANGED: return "changed";
    case KILN_VERDICT_ADDED: return "added";
    case KILN_VERDICT_REMOVED: return "removed";
    }
    return "?";
}

static const char *verdict_slug(int v)
{
    static const char *const s[] = {"identical", "within_noise", "changed", "added", "removed"};
    return v >= 0 && v <= KILN_VERDICT_REMOVED ? s[v] : "?";
}

/* Bit-for-bit equality, NaN equal to NaN (a diverged run diverges the same). */
static int same_d(double a, double b) { return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a); }
static int same_f(float a, float b) { return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a); }

int kiln_history_identical(const kiln_history *a, const kiln_history *b)
{
    if (a->n_epochs != b->n_epochs || a->n_steps != b->n_steps) return 0;
    for (int i = 0; i < a->n_epochs; i++) {
        const kiln_epoch_log *x = &a->epochs[i], *y = &b->epochs[i];
        if (!same_d(x->loss, y->loss) || !same_d(x->accuracy, y->accuracy) || !same_d(x->val_loss, y->val_loss) ||
            !same_d(x->val_accuracy, y->val_accuracy) || !same_d(x->lr, y->lr))
            return 0;
    }
    for (long i = 0; i < a->n_steps; i++)
        if (!same_f(a->steps[i].loss, b->steps[i].loss) || !same_f(a->steps[i].lr, b->steps[i].lr)) return 0;
    return same_d(a->test_loss, b->test_loss) && same_d(a->test_accuracy, b->test_accuracy) &&
           a->n_train == b->n_train && a->n_val == b->n_val && a->n_test == b->n_test && a->diverged == b->diverged &&
           a->diverged_step == b->diverged_step && !strcmp(a->stopped_by, b->stopped_by) &&
           a->stopped_epoch == b->stopped_epoch && a->best_epoch == b->best_epoch;
}

/* The tolerance rule on final metrics. A change of exactly the tolerance is
 * within it: accuracies are counts over the test set (20 of 10,000 images is
 * 0.002 exactly, but 0.985 - 0.983 is 0.0020000000000000018 in doubles), so
 * the comparison allows for rounding in the last bits. */
static int noise_rule(double oacc, double nacc, double oloss, double nloss, int odiv, int ndiv, double acc_tol,
                      double loss_tol)
{
    acc_tol += 1e-12;
    loss_tol += 1e-12;
    if (odiv != ndiv) return KILN_VERDICT_CHANGED;
    int acc_ok = (!isfinite(oacc) && !isfinite(nacc)) || (isfinite(oacc) && isfinite(nacc) && fabs(nacc - oacc) <= acc_tol);
    int loss_ok = (!isfinite(oloss) && !isfinite(nloss)) ||
                  (isfinite(oloss) && isfinite(nloss) && fabs(nloss - oloss) <= loss_tol * fabs(oloss));
    return acc_ok && loss_ok ? KILN_VERDICT_NOISE : KILN_VERDICT_CHANGED;
}

int kiln_history_verdict(const kiln_history *o, const kiln_history *n, double acc_tol, double loss_tol)
{
    if (kiln_history_identical(o, n)) return KILN_VERDICT_IDENTICAL;
    return noise_rule(o->test_accuracy, n->test_accuracy, o->test_loss, n->test_loss, o->diverged, n->diverged,
                      acc_tol, loss_tol);
}

void kiln_diff_opts_init(kiln_diff_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cache_dir = "out/cache";
    o->acc_tol = KILN_DIFF_ACC_TOL;
    o->loss_tol = KILN_DIFF_LOSS_TOL;
}

/* ---- git ------------------------------------------------------------------------------- */

/* `git -C dir ARGS` with stdout captured (stderr dropped). Returns git's exit
 * status, 127 when git cannot be run; *out is malloc'd (NUL-ended). */
static int git_capture(const char *dir, const char *a1, const char *a2, const char *a3, char **out, size_t *len)
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

/* ---- one side: a manifest and where its entries are ------------------------------------- */

typedef kdf_run mrun;
typedef kdf_side side;

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
static int open_side(side *s, const char *spec, kiln_diag *d)
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
    char obj[512];
    snprintf(obj, sizeof obj, "%s:./%s", spec, KILN_MANIFEST_FILE);
    size_t len;
    rc = git_capture(s->cache, "show", obj, NULL, &out, &len);
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

static void close_side(side *s)
{
    free(s->runs);
    json_decref(s->root);
}

/* ---- cache entries ---------------------------------------------------------------------- */

typedef kdf_entry entry;

static void entry_free(entry *e)
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
    const char *key = jstr(root, "key"), *kind = jstr(root, "kind"), *check = jstr(root, "check");
    json_t *result = json_object_get(root, "result"), *fmt = json_object_get(root, "format");
    int rc = -1;
    if (!json_is_integer(fmt) || json_integer_value(fmt) != 1 || !key || strcmp(key, m->key) || !kind ||
        strcmp(kind, m->kind) || !json_is_object(result) || !check) {
        snprintf(e->why, sizeof e->why, "%s: not the entry of key %s", where, m->key);
    } else {
        char *s = json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(10) | JSON_SORT_KEYS);
        char sum[17];
        snprintf(sum, sizeof sum, "%016llx", (unsigned long long)XXH3_64bits(s ? s : "", s ? strlen(s) : 0));
        free(s);
        char err[256];
        if (strcmp(sum, check)) {
            snprintf(e->why, sizeof e->why, "%s: the result does not match its check sum", where);
        } else if (!strcmp(m->kind, "train")) {
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

static int load_entry(entry *e, const side *s, const mrun *m)
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
        char obj[512], where[4400], *out;
        snprintf(obj, sizeof obj, "%s:./%s.json", s->rev, m->key);
        snprintf(where, sizeof where, "%s:%s/%s.json", s->rev, s->cache, m->key);
        size_t len;
        int rc = git_capture(s->cache, "show", obj, NULL, &out, &len);
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

/* ---- comparing ------------------------------------------------------------------------------ */

enum { M_ACC, M_LOSS, M_SECONDS, N_M };

typedef struct row {
    const char *id, *kind, *label;
    const mrun *o, *n;
    entry eo, en;
    int verdict;
    int same_key, config_changed, histories; /* histories: both entries compared */
    char note[9600];
    sbuf config_diff;                        /* "key: old -> new" lines */
    /* largest per-epoch change of loss, val_loss, accuracy, val_accuracy */
    double max_delta[4];
    int max_epoch[4];
} row;

static const char *const EPOCH_SERIES[4] = {"loss", "val_loss", "accuracy", "val_accuracy"};

static double epoch_value(const kiln_epoch_log *e, int k)
{
    return k == 0 ? e->loss : k == 1 ? e->val_loss : k == 2 ? e->accuracy : e->val_accuracy;
}

static double metric(const mrun *m, const char *name)
{
    if (!m) return NAN;
    const json_t *v = json_object_get(m->metrics, name);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The canonical configs line by line: "key: old -> new", "+ key=value", "- key=value". */
static void config_diff(const char *a, const char *b, sbuf *out)
{
    const char *texts[2] = {a, b};
    for (int side_i = 0; side_i < 2; side_i++) {
        const char *p = texts[side_i];
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t l = nl ? (size_t)(nl - p) : strlen(p);
            const char *eq = memchr(p, '=', l);
            size_t kl = eq ? (size_t)(eq - p) : l;
            /* the same key in the other text */
            const char *q = texts[1 - side_i], *found = NULL;
            size_t fl = 0;
            while (*q) {
                const char *nl2 = strchr(q, '\n');
                size_t l2 = nl2 ? (size_t)(nl2 - q) : strlen(q);
                if (l2 > kl && q[kl] == '=' && !strncmp(q, p, kl)) { found = q; fl = l2; break; }
                if (l2 == kl && !eq && !strncmp(q, p, kl)) { found = q; fl = l2; break; }
                q += l2 + (nl2 ? 1 : 0);
            }
            if (!found) {
                sb_printf(out, "%s %.*s\n", side_i ? "+" : "-", (int)l, p);
            } else if (side_i == 0 && (fl != l || strncmp(found, p, l))) {
                sb_printf(out, "%.*s: %.*s -> %.*s\n", (int)kl, p, eq ? (int)(l - kl - 1) : 0, eq ? eq + 1 : "",
                          (int)(fl - kl - 1 > 0 ? fl - kl - 1 : 0), found + kl + 1);
            }
            p += l + (nl ? 1 : 0);
        }
    }
}

static void compare(row *r, const side *so, const side *sn, const kiln_diff_opts *o, kiln_diag *d)
{
    for (int k = 0; k < 4; k++) { r->max_delta[k] = NAN; r->max_epoch[k] = 0; }
    if (!r->o) { r->verdict = KILN_VERDICT_ADDED; return; }
    if (!r->n) { r->verdict = KILN_VERDICT_REMOVED; return; }
    r->config_changed = strcmp(r->o->config, r->n->config) != 0;
    if (r->config_changed) config_diff(r->o->config, r->n->config, &r->config_diff);
    if (strcmp(r->o->kind, r->n->kind)) {
        r->verdict = KILN_VERDICT_CHANGED;
        snprintf(r->note, sizeof r->note, "was a %s, is a %s", r->o->kind, r->n->kind);
        return;
    }
    r->same_key = !strcmp(r->o->key, r->n->key);
    if (r->same_key) {
        r->verdict = KILN_VERDICT_IDENTICAL;
        snprintf(r->note, sizeof r->note, "same key");
        return;
    }
    int lo = load_entry(&r->eo, so, r->o), ln = load_entry(&r->en, sn, r->n);
    r->histories = !lo && !ln;
    int train = !strcmp(r->kind, "train");
    if (r->histories && train) {
        r->verdict = kiln_history_verdict(&r->eo.h, &r->en.h, o->acc_tol, o->loss_tol);
        int ne = r->eo.h.n_epochs < r->en.h.n_epochs ? r->eo.h.n_epochs : r->en.h.n_epochs;
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < ne; i++) {
                double x = fabs(epoch_value(&r->en.h.epochs[i], k) - epoch_value(&r->eo.h.epochs[i], k));
                if (isnan(r->max_delta[k]) || x > r->max_delta[k] || (isnan(x) && !isnan(r->max_delta[k]))) {
                    r->max_delta[k] = x;
                    r->max_epoch[k] = i + 1;
                }
            }
        if (r->eo.h.n_epochs != r->en.h.n_epochs)
            snprintf(r->note, sizeof r->note, "%d epochs -> %d", r->eo.h.n_epochs, r->en.h.n_epochs);
        else if (r->verdict == KILN_VERDICT_IDENTICAL)
            snprintf(r->note, sizeof r->note, "retrained, bit-identical history");
        return;
    }
    if (r->histories) { /* range tests */
        int same = r->eo.n == r->en.n && r->eo.stopped_early == r->en.stopped_early;
        for (long i = 0; same && i < r->eo.n; i++) same = same_d(r->eo.lr[i], r->en.lr[i]) && same_d(r->eo.loss[i], r->en.loss[i]);
        if (same) {
            r->verdict = KILN_VERDICT_IDENTICAL;
            snprintf(r->note, sizeof r->note, "retrained, bit-identical sweep");
            return;
        }
    } else {
        const entry *bad = lo ? &r->eo : &r->en;
        snprintf(r->note, sizeof r->note, "history not found (%s): compared by final metrics only", bad->why);
        kd_warn(d, NULL, 0, "run '%s': the %s build's history is not available (%s); compared by its final metrics only",
                r->id, lo ? "old" : "new", bad->why);
    }
    if (train) {
        r->verdict = noise_rule(metric(r->o, "test_accuracy"), metric(r->n, "test_accuracy"), metric(r->o, "test_loss"),
                                metric(r->n, "test_loss"), metric(r->o, "diverged") > 0, metric(r->n, "diverged") > 0,
                                o->acc_tol, o->loss_tol);
    } else {
        int ok = 1;
        const char *names[] = {"steepest_lr", "min_loss_lr"};
        for (int k = 0; k < 2; k++) {
            double a = metric(r->o, names[k]), b = metric(r->n, names[k]);
            ok &= (isnan(a) && isnan(b)) || (isfinite(a) && isfinite(b) && fabs(b - a) <= (o->loss_tol + 1e-12) * fabs(a));
        }
        r->verdict = ok ? KILN_VERDICT_NOISE : KILN_VERDICT_CHANGED;
    }
}

/* ---- output: numbers ---------------------------------------------------------------------- */

static void fmt_num(char *buf, size_t n, double v, const char *f)
{
    if (isnan(v)) snprintf(buf, n, "n/a");
    else if (isinf(v)) snprintf(buf, n, v > 0 ? "inf" : "-inf");
    else snprintf(buf, n, f, v);
}

/* "0.9919 -> 0.9921 (+0.0002)" and the like, into buf. */
static void change_text(char *buf, size_t n, double a, double b, const char *f, const char *df, int rel)
{
    char x[64], y[64], dd[64] = "", rr[64] = "";
    fmt_num(x, sizeof x, a, f);
    fmt_num(y, sizeof y, b, f);
    if (isnan(a) && isnan(b)) { snprintf(buf, n, "%s", x); return; }
    if (isfinite(a) && isfinite(b)) {
        fmt_num(dd, sizeof dd, b - a, df);
        if (rel && a != 0) snprintf(rr, sizeof rr, ", %+.2f%%", 100 * (b - a) / fabs(a));
    }
    if (isfinite(a) && isfinite(b) && a == b) snprintf(buf, n, "%s (=)", y);
    else if (dd[0]) snprintf(buf, n, "%s -> %s (%s%s)", x, y, dd, rr);
    else snprintf(buf, n, "%s -> %s", x, y);
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *change_json(double a, double b)
{
    int f = isfinite(a) && isfinite(b);
    return json_pack("{s:o, s:o, s:o, s:o}", "old", jnum(a), "new", jnum(b), "abs", f ? jnum(b - a) : json_null(),
                     "rel", f && a != 0 ? jnum((b - a) / fabs(a)) : json_null());
}

/* ---- output: the terminal table ---------------------------------------------------------- */

typedef struct table {
    int n_rows, n_cols;
    char **cells; /* row-major; row 0 the header */
} table;

static void tb_set(table *t, int r, int c, const char *s) { t->cells[r * t->n_cols + c] = strdup(s); }

static void tb_print(const table *t, FILE *f)
{
    int w[16] = {0};
    for (int r = 0; r < t->n_rows; r++)
        for (int c = 0; c < t->n_cols; c++) {
            int l = (int)strlen(t->cells[r * t->n_cols + c]);
            if (l > w[c]) w[c] = l;
        }
    for (int r = 0; r < t->n_rows; r++) {
        sbuf line = {0};
        for (int c = 0; c < t->n_cols; c++)
            sb_printf(&line, "%-*s%s", c == t->n_cols - 1 ? 0 : w[c], t->cells[r * t->n_cols + c],
                      c == t->n_cols - 1 ? "" : "  ");
        while (line.len && line.s[line.len - 1] == ' ') line.s[--line.len] = 0;
        fprintf(f, "%s\n", line.s);
        sb_free(&line);
        if (r == 0) {
            int total = 0;
            for (int c = 0; c < t->n_cols; c++) total += w[c] + (c ? 2 : 0);
            for (int i = 0; i < total; i++) fputc('-', f);
            fputc('\n', f);
        }
    }
}

static void tb_free(table *t)
{
    for (int i = 0; i < t->n_rows * t->n_cols; i++) free(t->cells[i]);
    free(t->cells);
}

static const char *verdict_cell(const row *r, char *buf, size_t n)
{
    if (r->verdict == KILN_VERDICT_IDENTICAL && r->same_key) snprintf(buf, n, "identical (same key)");
    else if (r->verdict == KILN_VERDICT_ADDED || r->verdict == KILN_VERDICT_REMOVED) snprintf(buf, n, "%s", kiln_verdict_name(r->verdict));
    else if (r->verdict == KILN_VERDICT_IDENTICAL && r->histories) snprintf(buf, n, "identical (bit for bit)");
    else snprintf(buf, n, "%s%s", kiln_verdict_name(r->verdict), r->config_changed ? ", config changed" : "");
    return buf;
}

static void print_table(FILE *f, row *rows, int n, const side *so, const side *sn, const kiln_diff_opts *o, const int *count)
{
    fprintf(f, "kiln diff: %s (old) -> %s (new)\n", so->desc, sn->desc);
    if (strcmp(so->trainer, sn->trainer))
        fprintf(f, "  trainer %s -> %s (changed: every run was computed again)\n", so->trainer, sn->trainer);
    else fprintf(f, "  trainer %s (unchanged)\n", sn->trainer);
    fprintf(f, "  data %.16s, %s scale; tolerance: |d test accuracy| <= %g, |d test loss| <= %g%% of the old\n\n",
            sn->data, sn->scale, o->acc_tol, 100 * o->loss_tol);
    table t = {n + 1, 6, calloc((size_t)(n + 1) * 6, sizeof(char *))};
    const char *hd[] = {"run", "verdict", "test accuracy", "test loss", "largest per-epoch change", "wall time"};
    for (int c = 0; c < 6; c++) tb_set(&t, 0, c, hd[c]);
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        char v[128], acc[128] = "", loss[128] = "", ep[128] = "", wt[128] = "";
        verdict_cell(r, v, sizeof v);
        const mrun *a = r->o ? r->o : r->n;
        if (!strcmp(r->kind, "train")) {
            if (r->o && r->n) {
                change_text(acc, sizeof acc, metric(r->o, "test_accuracy"), metric(r->n, "test_accuracy"), "%.4f", "%+.4f", 0);
                change_text(loss, sizeof loss, metric(r->o, "test_loss"), metric(r->n, "test_loss"), "%.5g", "%+.3g", 1);
            } else {
                fmt_num(acc, sizeof acc, metric(a, "test_accuracy"), "%.4f");
                fmt_num(loss, sizeof loss, metric(a, "test_loss"), "%.5g");
            }
            if (r->histories && r->verdict != KILN_VERDICT_IDENTICAL && !isnan(r->max_delta[1]))
                snprintf(ep, sizeof ep, "val_loss %.3g (epoch %d)", r->max_delta[1], r->max_epoch[1]);
        } else {
            if (r->o && r->n)
                change_text(loss, sizeof loss, metric(r->o, "suggested_max_lr"), metric(r->n, "suggested_max_lr"), "%.3g",
                            "%+.2g", 1);
            else fmt_num(loss, sizeof loss, metric(a, "suggested_max_lr"), "%.3g");
            snprintf(acc, sizeof acc, "(range test: max_lr)");
        }
        if (r->o && r->n && !r->same_key)
            snprintf(wt, sizeof wt, "%.1f s -> %.1f s", metric(r->o, "seconds"), metric(r->n, "seconds"));
        else fmt_num(wt, sizeof wt, metric(a, "seconds"), "%.1f s");
        const char *cells[] = {r->id, v, acc, loss, ep, wt};
        for (int c = 0; c < 6; c++) tb_set(&t, i + 1, c, cells[c]);
    }
    tb_print(&t, f);
    tb_free(&t);
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        if (r->config_changed) {
            fprintf(f, "\n%s: config changed\n", r->id);
            const char *p = r->config_diff.s ? r->config_diff.s : "";
            while (*p) {
                const char *nl = strchr(p, '\n');
                int l = nl ? (int)(nl - p) : (int)strlen(p);
                fprintf(f, "    %.*s\n", l, p);
                p += l + (nl ? 1 : 0);
            }
        }
        if (r->note[0] && !r->same_key && strcmp(r->note, "retrained, bit-identical history") &&
            strcmp(r->note, "retrained, bit-identical sweep"))
            fprintf(f, "\n%s: %s\n", r->id, r->note);
        if (o->epochs && r->histories && !strcmp(r->kind, "train") && r->verdict != KILN_VERDICT_IDENTICAL) {
            fprintf(f, "\n%s per epoch (old -> new):\n", r->id);
            int ne = r->eo.h.n_epochs > r->en.h.n_epochs ? r->eo.h.n_epochs : r->en.h.n_epochs;
            table e = {ne + 1, 5, calloc((size_t)(ne + 1) * 5, sizeof(char *))};
            const char *eh[] = {"epoch", "loss", "val_loss", "accuracy", "val_accuracy"};
            for (int c = 0; c < 5; c++) tb_set(&e, 0, c, eh[c]);
            for (int k = 0; k < ne; k++) {
                char buf[128];
                snprintf(buf, sizeof buf, "%d", k + 1);
                tb_set(&e, k + 1, 0, buf);
                for (int c = 0; c < 4; c++) {
                    double a = k < r->eo.h.n_epochs ? epoch_value(&r->eo.h.epochs[k], c) : NAN;
                    double b = k < r->en.h.n_epochs ? epoch_value(&r->en.h.epochs[k], c) : NAN;
                    change_text(buf, sizeof buf, a, b, "%.5g", "%+.3g", 0);
                    tb_set(&e, k + 1, c + 1, buf);
                }
            }
            tb_print(&e, f);
            tb_free(&e);
        }
    }
    fprintf(f, "\n%d run%s: %d identical, %d within noise, %d changed; %d added, %d removed; %d with a changed config\n",
            n, n == 1 ? "" : "s", count[KILN_VERDICT_IDENTICAL], count[KILN_VERDICT_NOISE], count[KILN_VERDICT_CHANGED],
            count[KILN_VERDICT_ADDED], count[KILN_VERDICT_REMOVED], count[5]);
}

/* ---- output: JSON ------------------------------------------------------------------------- */

static json_t *side_json(const side *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "source", s->desc, "trainer", s->trainer, "data", s->data, "scale",
                     s->scale, "kiln", s->kiln ? s->kiln : "");
}

static json_t *series_json(const entry *e, int k)
{
    json_t *a = json_array();
    if (!e->ok) return a;
    for (int i = 0; i < e->h.n_epochs; i++) json_array_append_new(a, jnum(epoch_value(&e->h.epochs[i], k)));
    return a;
}

static json_t *diff_json(row *rows, int n, const side *so, const side *sn, const kiln_diff_opts *o, const int *count,
                         int changed)
{
    json_t *runs = json_array();
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        json_t *j = json_object();
        json_object_set_new(j, "id", json_string(r->id));
        json_object_set_new(j, "kind", json_string(r->kind));
        json_object_set_new(j, "label", json_string(r->label));
        json_object_set_new(j, "verdict", json_string(verdict_slug(r->verdict)));
        json_object_set_new(j, "same_key", json_boolean(r->same_key));
        json_object_set_new(j, "config_changed", json_boolean(r->config_changed));
        json_object_set_new(j, "histories_compared", json_boolean(r->histories));
        json_object_set_new(j, "note", json_string(r->note));
        json_object_set_new(j, "old_key", r->o ? json_string(r->o->key) : json_null());
        json_object_set_new(j, "new_key", r->n ? json_string(r->n->key) : json_null());
        if (r->config_changed) {
            json_t *cd = json_array();
            const char *p = r->config_diff.s ? r->config_diff.s : "";
            while (*p) {
                const char *nl = strchr(p, '\n');
                size_t l = nl ? (size_t)(nl - p) : strlen(p);
                json_array_append_new(cd, json_stringn(p, l));
                p += l + (nl ? 1 : 0);
            }
            json_object_set_new(j, "config_diff", cd);
        }
        json_t *m = json_object();
        const json_t *names = r->n ? r->n->metrics : r->o->metrics;
        const char *name;
        json_t *v;
        json_object_foreach((json_t *)names, name, v) json_object_set_new(m, name, change_json(metric(r->o, name), metric(r->n, name)));
        json_object_set_new(j, "metrics", m);
        if (!strcmp(r->kind, "train") && r->histories) {
            json_t *ep = json_object();
            for (int k = 0; k < 4; k++) {
                json_t *pair = json_pack("{s:o, s:o, s:o, s:i}", "old", series_json(&r->eo, k), "new", series_json(&r->en, k),
                                         "max_abs_change", jnum(r->max_delta[k]), "at_epoch", r->max_epoch[k]);
                json_object_set_new(ep, EPOCH_SERIES[k], pair);
            }
            json_object_set_new(j, "epochs", ep);
        }
        json_array_append_new(runs, j);
    }
    json_t *summary = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "identical", count[KILN_VERDICT_IDENTICAL],
                                "within_noise", count[KILN_VERDICT_NOISE], "changed", count[KILN_VERDICT_CHANGED], "added",
                                count[KILN_VERDICT_ADDED], "removed", count[KILN_VERDICT_REMOVED], "config_changed", count[5]);
    return json_pack("{s:s, s:o, s:o, s:{s:f, s:f}, s:o, s:b, s:o}", "format", "kiln-diff-1", "old", side_json(so), "new",
                     side_json(sn), "tolerance", "acc_tol", o->acc_tol, "loss_tol", o->loss_tol, "summary", summary,
                     "changed", changed, "runs", runs);
}

/* ---- output: the page and its overlay plots ---------------------------------------------- */

/* old dashed, new solid, one colour per quantity */
static int overlay_png(const row *r, int what, const char *path, char *err, size_t n)
{
    kiln_series s[4];
    memset(s, 0, sizeof s);
    kiln_plot p;
    kiln_plot_init(&p);
    char title[256], prov[256];
    double *x = NULL;
    int ns = 0;
    if (!strcmp(r->kind, "train")) {
        int ne = r->eo.h.n_epochs > r->en.h.n_epochs ? r->eo.h.n_epochs : r->en.h.n_epochs;
        x = malloc(sizeof *x * (size_t)(ne ? ne : 1));
        for (int i = 0; i < ne; i++) x[i] = i + 1;
        double *y[4];
        for (int k = 0; k < 2; k++) {
            int q = what * 2 + k; /* 0 loss, 1 val_loss, 2 accuracy, 3 val_accuracy */
            for (int side_i = 0; side_i < 2; side_i++) {
                const entry *e = side_i ? &r->en : &r->eo;
                double *v = malloc(sizeof *v * (size_t)(e->h.n_epochs ? e->h.n_epochs : 1));
                for (int i = 0; i < e->h.n_epochs; i++) v[i] = epoch_value(&e->h.epochs[i], q);
                y[ns] = v;
                s[ns] = (kiln_series){side_i ? (k ? "validation, new" : "training, new") : (k ? "validation, old" : "training, old"),
                                      x, v, (size_t)e->h.n_epochs, side_i ? KILN_LINE_SOLID : KILN_LINE_DASHED,
                                      KILN_MARKER_NONE, KILN_PALETTE(k), 0};
                ns++;
            }
        }
        snprintf(title, sizeof title, "%s: %s per epoch (old dashed, new solid)", r->id, what ? "accuracy" : "loss");
        p.xlabel = "epoch";
        p.ylabel = what ? "accuracy" : "loss";
        p.xinteger = 1;
        p.title = title;
        snprintf(prov, sizeof prov, "kiln diff %s -> %s", r->o->key, r->n->key);
        p.provenance = prov;
        p.series = s;
        p.n_series = (size_t)ns;
        int rc = kiln_plot_render_png(&p, path, err, n);
        for (int i = 0; i < ns; i++) free(y[i]);
        free(x);
        return rc;
    }
    s[0] = (kiln_series){"old", r->eo.lr, r->eo.loss, (size_t)r->eo.n, KILN_LINE_DASHED, KILN_MARKER_NONE, KILN_PALETTE(0), 0};
    s[1] = (kiln_series){"new", r->en.lr, r->en.loss, (size_t)r->en.n, KILN_LINE_SOLID, KILN_MARKER_NONE, KILN_PALETTE(0), 0};
    snprintf(title, sizeof title, "%s: range test loss (old dashed, new solid)", r->id);
    p.title = title;
    p.xlabel = "learning rate";
    p.ylabel = "loss";
    p.xlog = 1;
    snprintf(prov, sizeof prov, "kiln diff %s -> %s", r->o->key, r->n->key);
    p.provenance = prov;
    p.series = s;
    p.n_series = 2;
    return kiln_plot_render_png(&p, path, err, n);
}

static void html_change_cells(sbuf *b, double a, double c, const char *f, const char *df, int rel)
{
    char buf[160];
    change_text(buf, sizeof buf, a, c, f, df, rel);
    sb_add(b, "<td class=\"num\">");
    sb_html(b, buf);
    sb_add(b, "</td>");
}

static int write_html(row *rows, int n, const side *so, const side *sn, const kiln_diff_opts *o, const int *count,
                      kiln_diag *d)
{
    char dir[4096], img_tmp[4300], img_dir[4300];
    snprintf(dir, sizeof dir, "%s", o->html_path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    if (kr_mkdirs(dir)) {
        kd_error(d, KILN_REPORT_EINPUT, dir, 0, "cannot create the folder for the diff page: %s", strerror(errno));
        return -1;
    }
    snprintf(img_dir, sizeof img_dir, "%s/diff", dir);
    snprintf(img_tmp, sizeof img_tmp, "%s/.diff-%ld", dir, (long)getpid());
    kr_rmtree(img_tmp);
    if (kr_mkdirs(img_tmp)) {
        kd_error(d, KILN_REPORT_EINPUT, img_tmp, 0, "cannot create: %s", strerror(errno));
        return -1;
    }
    sbuf b = {0};
    sb_add(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>kiln diff</title>\n<link rel=\"stylesheet\" href=\"style.css\">\n<style>\n"
               "main.diff{max-width:70rem;margin:0 auto;padding:1rem}\n"
               "table.diff{border-collapse:collapse;font-size:.9rem}\n"
               "table.diff th,table.diff td{padding:.25rem .6rem;border-bottom:1px solid #ccc;text-align:left}\n"
               "table.diff td.num{font-variant-numeric:tabular-nums;white-space:nowrap}\n"
               ".v-identical{color:#1a7f37}.v-within_noise{color:#8a6d00}.v-changed,.v-added,.v-removed{color:#b3261e;font-weight:bold}\n"
               "figure.overlay img{max-width:100%;height:auto}\nfigure.overlay{display:inline-block;margin:.5rem}\n"
               "</style>\n</head>\n<body>\n<main class=\"diff\">\n<h1>What changed</h1>\n<p>");
    sb_html(&b, so->desc);
    sb_add(&b, " (old) against ");
    sb_html(&b, sn->desc);
    sb_add(&b, " (new). Trainer <code>");
    sb_html(&b, so->trainer);
    sb_add(&b, "</code> → <code>");
    sb_html(&b, sn->trainer);
    sb_printf(&b, "</code>; %s scale. Tolerances: |Δ test accuracy| ≤ %g, |Δ test loss| ≤ %g%% of the old.</p>\n",
              sn->scale, o->acc_tol, 100 * o->loss_tol);
    sb_printf(&b, "<p><strong>%d identical, %d within noise, %d changed; %d added, %d removed; %d with a changed config.</strong></p>\n",
              count[KILN_VERDICT_IDENTICAL], count[KILN_VERDICT_NOISE], count[KILN_VERDICT_CHANGED],
              count[KILN_VERDICT_ADDED], count[KILN_VERDICT_REMOVED], count[5]);
    sb_add(&b, "<table class=\"diff\">\n<thead><tr><th>Run</th><th>Verdict</th><th>Test accuracy</th><th>Test loss</th>"
               "<th>Wall time (s)</th><th>Note</th></tr></thead>\n<tbody>\n");
    int rc = 0;
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        char v[128];
        sb_add(&b, "<tr><td>");
        if (r->histories && r->verdict != KILN_VERDICT_IDENTICAL) sb_printf(&b, "<a href=\"#run-%s\">%s</a>", r->id, r->id);
        else sb_html(&b, r->id);
        sb_printf(&b, "</td><td class=\"v-%s\">", verdict_slug(r->verdict));
        sb_html(&b, verdict_cell(r, v, sizeof v));
        sb_add(&b, "</td>");
        int train = !strcmp(r->kind, "train");
        html_change_cells(&b, metric(r->o, train ? "test_accuracy" : "suggested_max_lr"),
                          metric(r->n, train ? "test_accuracy" : "suggested_max_lr"), train ? "%.4f" : "%.3g",
                          train ? "%+.4f" : "%+.2g", !train);
        if (train) html_change_cells(&b, metric(r->o, "test_loss"), metric(r->n, "test_loss"), "%.5g", "%+.3g", 1);
        else sb_add(&b, "<td>(range test: the first column is max_lr)</td>");
        html_change_cells(&b, metric(r->o, "seconds"), metric(r->n, "seconds"), "%.1f", "%+.1f", 1);
        sb_add(&b, "<td>");
        sb_html(&b, r->note);
        sb_add(&b, "</td></tr>\n");
    }
    sb_add(&b, "</tbody>\n</table>\n");
    for (int i = 0; i < n && !rc; i++) {
        row *r = &rows[i];
        if (!r->histories || r->verdict == KILN_VERDICT_IDENTICAL) continue;
        sb_printf(&b, "<section id=\"run-%s\">\n<h2>%s: %s</h2>\n", r->id, r->id, kiln_verdict_name(r->verdict));
        if (r->config_changed) {
            sb_add(&b, "<p>Config changed:</p>\n<pre>");
            sb_html(&b, r->config_diff.s ? r->config_diff.s : "");
            sb_add(&b, "</pre>\n");
        }
        int plots = !strcmp(r->kind, "train") ? 2 : 1;
        for (int k = 0; k < plots; k++) {
            char name[128], path[4500], err[512];
            snprintf(name, sizeof name, "%s%s.png", r->id, plots == 1 ? "" : k ? "-accuracy" : "-loss");
            snprintf(path, sizeof path, "%s/%s", img_tmp, name);
            if (overlay_png(r, k, path, err, sizeof err)) {
                kd_error(d, KILN_REPORT_EINPUT, path, 0, "cannot draw the overlay plot: %s", err);
                rc = -1;
                break;
            }
            sb_printf(&b, "<figure class=\"overlay\"><img src=\"diff/%s\" width=\"640\" height=\"400\" alt=\"", name);
            sb_printf(&b, "%s: old (dashed) and new (solid) %s\"></figure>\n", r->id, k ? "accuracy" : "loss");
        }
        sb_add(&b, "</section>\n");
    }
    sb_add(&b, "</main>\n</body>\n</html>\n");
    if (!rc) {
        /* the new images in place of the old ones, then the page */
        if (kr_swap_dir(img_tmp, img_dir)) rc = -1;
        if (rc) kd_error(d, KILN_REPORT_EINPUT, img_dir, 0, "cannot move the overlay plots in: %s", strerror(errno));
    }
    if (!rc && kr_write_atomic(o->html_path, b.s, b.len)) {
        kd_error(d, KILN_REPORT_EINPUT, o->html_path, 0, "cannot write: %s", strerror(errno));
        rc = -1;
    }
    kr_rmtree(img_tmp);
    sb_free(&b);
    return rc;
}

/* ---- the whole comparison ------------------------------------------------------------------ */

int kiln_diff(const char *old_src, const char *new_src, const kiln_diff_opts *o0, kiln_diag *d)
{
    kiln_diff_opts o;
    if (o0) o = *o0;
    else kiln_diff_opts_init(&o);
    if (!o.cache_dir) o.cache_dir = "out/cache";
    if (!(o.acc_tol >= 0) || !(o.loss_tol >= 0)) {
        kd_error(d, KILN_REPORT_EINPUT, NULL, 0, "tolerances must be numbers >= 0 (acc_tol %g, loss_tol %g)", o.acc_tol, o.loss_tol);
        return KILN_REPORT_EINPUT;
    }
    char cur[4200];
    snprintf(cur, sizeof cur, "%s/%s", o.cache_dir, KILN_MANIFEST_FILE);
    side so = {.role = "old", .cache = o.cache_dir}, sn = {.role = "new", .cache = o.cache_dir};
    int rc = open_side(&so, old_src ? old_src : "HEAD", d);
    if (!rc) rc = open_side(&sn, new_src ? new_src : cur, d);
    /* the old build's entries may sit in the new one's cache: its manifest was
     * copied aside and the same cache rebuilt */
    if (!rc) snprintf(so.peer, sizeof so.peer, "%s", sn.dir);
    if (!rc && strcmp(so.data, sn.data)) {
        kd_error(d, KILN_REPORT_EINPUT, NULL, 0,
                 "the two builds used different data (old data digest %.16s..., new %.16s...): their runs are not "
                 "comparable; rebuild one of them on the same MNIST files",
                 so.data, sn.data);
        rc = -1;
    }
    if (!rc && strcmp(so.scale, sn.scale)) {
        kd_error(d, KILN_REPORT_EINPUT, NULL, 0, "the old build is at %s scale and the new one at %s scale: compare builds of one scale",
                 so.scale, sn.scale);
        rc = -1;
    }
    if (rc) {
        close_side(&so);
        close_side(&sn);
        return KILN_REPORT_EINPUT;
    }

    /* rows: the new build's runs in its order, then the runs it no longer has */
    row *rows = calloc((size_t)(so.n + sn.n) + 1, sizeof *rows);
    int n = 0;
    for (int i = 0; i < sn.n; i++) {
        row *r = &rows[n++];
        r->n = &sn.runs[i];
        for (int j = 0; j < so.n; j++)
            if (!strcmp(so.runs[j].id, r->n->id)) r->o = &so.runs[j];
    }
    for (int j = 0; j < so.n; j++) {
        int found = 0;
        for (int i = 0; i < sn.n; i++) found |= !strcmp(so.runs[j].id, sn.runs[i].id);
        if (!found) rows[n++].o = &so.runs[j];
    }
    int count[6] = {0}, changed = 0;
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        const mrun *m = r->n ? r->n : r->o;
        r->id = m->id;
        r->kind = m->kind;
        r->label = m->label;
        compare(r, &so, &sn, &o, d);
        count[r->verdict]++;
        count[5] += r->config_changed;
        changed |= r->verdict != KILN_VERDICT_IDENTICAL && r->verdict != KILN_VERDICT_NOISE;
    }

    int bad = 0;
    if (o.table) print_table(o.table, rows, n, &so, &sn, &o, count);
    if (o.json_path) {
        json_t *j = diff_json(rows, n, &so, &sn, &o, count, changed);
        char *text = j ? json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) : NULL;
        json_decref(j);
        if (!text) {
            kd_error(d, KILN_REPORT_EINPUT, o.json_path, 0, "cannot serialise the diff");
            bad = 1;
        } else if (!strcmp(o.json_path, "-")) {
            printf("%s\n", text);
            fflush(stdout);
        } else {
            sbuf t = {0};
            sb_add(&t, text);
            sb_addc(&t, '\n');
            if (kr_write_atomic(o.json_path, t.s, t.len)) {
                kd_error(d, KILN_REPORT_EINPUT, o.json_path, 0, "cannot write: %s", strerror(errno));
                bad = 1;
            }
            sb_free(&t);
        }
        free(text);
    }
    if (o.html_path && write_html(rows, n, &so, &sn, &o, count, d)) bad = 1;

    for (int i = 0; i < n; i++) {
        entry_free(&rows[i].eo);
        entry_free(&rows[i].en);
        sb_free(&rows[i].config_diff);
    }
    free(rows);
    close_side(&so);
    close_side(&sn);
    return bad ? KILN_REPORT_EINPUT : changed ? 1 : 0;
}

/* ---- for kiln diff --quick (quick.c) ------------------------------------------------------ */

void kdf_side_init(kdf_side *s, const char *role, const char *cache)
{
    memset(s, 0, sizeof *s);
    s->role = role;
    s->cache = cache;
}

int kdf_open_side(kdf_side *s, const char *spec, kiln_diag *d) { return open_side(s, spec, d); }
void kdf_close_side(kdf_side *s) { close_side(s); }
int kdf_load_entry(kdf_entry *e, const kdf_side *s, const kdf_run *m) { return load_entry(e, s, m); }
void kdf_entry_free(kdf_entry *e) { entry_free(e); }
