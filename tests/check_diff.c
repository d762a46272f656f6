/* kiln diff: the verdict rules on constructed histories; the refactor proof
 * (the same content built with two trainer fingerprints: every run computed
 * again under a new key, every run identical); a changed seed, runs added
 * and removed, tolerances; git revisions; bad input (missing, truncated,
 * tampered manifests, other data, other scale, a revision without a
 * manifest); and the cache left untouched by every diff. */
#include "kiln/report.h"
#include "kiln/plot.h" /* KILN_DARK_BG */
#include "testutil.h"
#include "base/base.h" /* kr_rmtree */

#include <dirent.h>
#include <zlib.h>
#include <jansson.h>
#include <math.h>
#include <png.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static void write_text(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    ck_assert_int_eq(test_write_file(p, text, strlen(text)), 0);
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    char *t = test_read_file(from, &n);
    ck_assert_msg(t != NULL, "cannot read %s", from);
    ck_assert_int_eq(test_write_file(to, t, n), 0);
    free(t);
}

/* "name size mtime\n" of every file under dir, sorted (readdir order is not). */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static void listing_rec(const char *dir, const char *rel, char ***v, int *n)
{
    DIR *dp = opendir(dir);
    if (!dp) return;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[1024], r[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        snprintf(r, sizeof r, "%s%s", rel, e->d_name);
        struct stat st;
        if (lstat(p, &st)) continue;
        if (S_ISDIR(st.st_mode)) {
            char r2[1100];
            snprintf(r2, sizeof r2, "%s/", r);
            listing_rec(p, r2, v, n);
            continue;
        }
        char line[1400];
        snprintf(line, sizeof line, "%s %lld %lld.%09ld", r, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                 st.st_mtim.tv_nsec);
        *v = realloc(*v, sizeof **v * (size_t)(*n + 1));
        (*v)[(*n)++] = strdup(line);
    }
    closedir(dp);
}
static char *listing(const char *dir)
{
    char **v = NULL;
    int n = 0;
    listing_rec(dir, "", &v, &n);
    qsort(v, (size_t)n, sizeof *v, cmp_str);
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(v[i]) + 1;
    char *s = calloc(len, 1);
    for (int i = 0; i < n; i++) {
        strcat(s, v[i]);
        strcat(s, "\n");
        free(v[i]);
    }
    free(v);
    return s;
}

static kiln_history make_history(int epochs, long steps)
{
    kiln_history h;
    memset(&h, 0, sizeof h);
    h.n_epochs = h.cap_epochs = epochs;
    h.epochs = calloc((size_t)epochs, sizeof *h.epochs);
    for (int i = 0; i < epochs; i++)
        h.epochs[i] = (kiln_epoch_log){1.0 / (i + 1), 0.8 + 0.01 * i, 1.1 / (i + 1), 0.79 + 0.01 * i, 1e-3, 2.5};
    h.n_steps = h.cap_steps = steps;
    h.steps = calloc((size_t)steps, sizeof *h.steps);
    for (long i = 0; i < steps; i++) h.steps[i] = (kiln_step_log){(float)(2.0 / (i + 1)), 1e-3f};
    h.test_loss = 0.05;
    h.test_accuracy = 0.985;
    h.n_train = 48000;
    h.n_val = 12000;
    h.n_test = 10000;
    h.diverged_step = h.stopped_epoch = h.best_epoch = -1;
    h.seconds = 10;
    return h;
}

static kiln_history copy_history(const kiln_history *a)
{
    kiln_history h = *a;
    h.epochs = malloc(sizeof *h.epochs * (size_t)a->n_epochs);
    memcpy(h.epochs, a->epochs, sizeof *h.epochs * (size_t)a->n_epochs);
    h.steps = malloc(sizeof *h.steps * (size_t)a->n_steps);
    memcpy(h.steps, a->steps, sizeof *h.steps * (size_t)a->n_steps);
    return h;
}

/* ---- the verdict rules ---------------------------------------------------------------------- */

START_TEST(test_verdict_rules)
{
    const double at = KILN_DIFF_ACC_TOL, lt = KILN_DIFF_LOSS_TOL;
    kiln_history a = make_history(3, 12), b = copy_history(&a);

    /* identical: equal everything; wall times do not count */
    b.seconds = 99;
    b.epochs[1].seconds = 7;
    ck_assert(kiln_history_identical(&a, &b));
    ck_assert_int_eq(kiln_history_verdict(&a, &b, at, lt), KILN_VERDICT_IDENTICAL);
    ck_assert_int_eq(kiln_history_verdict(&a, &b, 0, 0), KILN_VERDICT_IDENTICAL);

    /* NaN equals NaN (a run that diverged the same way) */
    a.steps[5].loss = b.steps[5].loss = NAN;
    a.epochs[2].val_loss = b.epochs[2].val_loss = NAN;
    ck_assert(kiln_history_identical(&a, &b));

    /* one bit of one step's loss: no longer identical; same test metrics -> within noise */
    float f = b.steps[3].loss;
    uint32_t u;
    memcpy(&u, &f, 4);
    u ^= 1;
    memcpy(&f, &u, 4);
    b.steps[3].loss = f;
    ck_assert(!kiln_history_identical(&a, &b));
    ck_assert_int_eq(kiln_history_verdict(&a, &b, at, lt), KILN_VERDICT_NOISE);
    /* with zero tolerance equal test metrics are still within it */
    ck_assert_int_eq(kiln_history_verdict(&a, &b, 0, 0), KILN_VERDICT_NOISE);
    b.steps[3].loss = a.steps[3].loss;

    /* each field that counts */
    b.epochs[0].lr = 2e-3;
    ck_assert(!kiln_history_identical(&a, &b));
    b.epochs[0].lr = a.epochs[0].lr;
    b.best_epoch = 2;
    ck_assert(!kiln_history_identical(&a, &b));
    b.best_epoch = a.best_epoch;
    snprintf(b.stopped_by, sizeof b.stopped_by, "early_stopping");
    ck_assert(!kiln_history_identical(&a, &b));
    b.stopped_by[0] = 0;
    b.n_epochs = 2;
    ck_assert(!kiln_history_identical(&a, &b));
    b.n_epochs = 3;
    ck_assert(kiln_history_identical(&a, &b));

    /* accuracy: 0.002 is within, a little more is not */
    b.test_accuracy = a.test_accuracy - 0.002;
    ck_assert_int_eq(kiln_history_verdict(&a, &b, at, lt), KILN_VERDICT_NOISE);
    b.test_accuracy = a.test_accuracy + 0.0021;
    ck_assert_int_eq(kiln_history_verdict(&a, &b, at, lt), KILN_VERDICT_CHANGED);
    ck_assert_int_eq(kiln_history_verdict(&a, &b, 0.003, lt), KILN_VERDICT_NOISE); /* settable */
    b.test_accuracy = a.test_accuracy;

    /* loss: relative to the old one */
    b.test_loss = a.test_loss * 1.074;
    ck_assert_int_eq(kiln_history_verdict(&a, &b, at, lt), KILN_VERDICT_NOISE);
    b.test_loss = a.test_loss * (1 - lt);
    ck_assert_int_eq(kiln_history_verdict(&a, &b, at, lt), KILN_VERDICT_NOISE); /* the bound itself is in */
    b.test_loss = a.test_loss * 0.92;
    ck_assert_int_eq(kiln_history_verdict(&a, &b, at, lt), KILN_VERDICT_CHANGED);
    ck_assert_int_eq(kiln_history_verdict(&a, &b, at, 0.1), KILN_VERDICT_NOISE);
    b.test_loss = NAN;
    ck_assert_int_eq(kiln_history_verdict(&a, &b, 1, 1e9), KILN_VERDICT_CHANGED);
    b.test_loss = a.test_loss;

    /* divergence on one side only is a change whatever the tolerances */
    b.diverged = 1;
    b.diverged_step = 4;
    ck_assert_int_eq(kiln_history_verdict(&a, &b, 1, 1e9), KILN_VERDICT_CHANGED);
    /* both diverged, both test losses NaN: within noise if accuracy is */
    a.diverged = 1;
    a.diverged_step = 3;
    a.test_loss = b.test_loss = NAN;
    ck_assert_int_eq(kiln_history_verdict(&a, &b, at, lt), KILN_VERDICT_NOISE);

    ck_assert_str_eq(kiln_verdict_name(KILN_VERDICT_IDENTICAL), "identical");
    ck_assert_str_eq(kiln_verdict_name(KILN_VERDICT_NOISE), "within noise");
    ck_assert_str_eq(kiln_verdict_name(KILN_VERDICT_CHANGED), "changed");
    kiln_history_free(&a);
    kiln_history_free(&b);
}
END_TEST

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- builds: made once for the suite (an unchecked fixture, run before the forks) ----- */

static char root[64];
/* a's build has its own cache; b's and c's share one, as successive builds
 * of a working tree share out/cache (old entries stay in it) */
static char cache_a[256], cache_s[256];
static char man_a[256], man_b[256], man_c[256]; /* copies of the three manifests */
static int fixture_ok;
static kiln_build_stats st_a, st_b, st_c;

static const char *INDEX = "# Diff test\n\nSummary.\n";
static const char *CHAPTER_1 =
    "# One\n\n"
    "```{experiment} a\ntrain_limit = 1000\ntest_limit = 500\nepochs = 2\nbatch_size = 50\n```\n\n"
    "```{experiment} b\nbase = a\nlearning_rate = 0.003\n%s```\n\n"
    "%s"
    "```{lrfind} sweep\nbase = a\nlr_steps = 20\n```\n\n"
    "Values: {{a.test_accuracy}} {{b.test_accuracy}} %s.\n";
static const char *RUN_C = "```{experiment} c\nbase = a\noptimizer = sgd\nlearning_rate = 0.05\n```\n\n";
static const char *RUN_D = "```{experiment} d\nbase = a\nepochs = 1\n```\n\n";

static int build_into(const char *name, const char *fp, const char *extra_b, int with_c, kiln_build_stats *st,
                      const char *cache, char *man)
{
    char content[256], out[256], chapter[2048];
    snprintf(content, sizeof content, "%s/%s-content", root, name);
    snprintf(out, sizeof out, "%s/%s-out", root, name);
    mkdir(content, 0777);
    write_text(content, "index.md", INDEX);
    snprintf(chapter, sizeof chapter, CHAPTER_1, extra_b, with_c ? RUN_C : RUN_D,
             with_c ? "{{c.test_accuracy}}" : "{{d.test_accuracy}}");
    write_text(content, "01-one.md", chapter);
    kiln_build_opts o = {0};
    o.quiet = 1;
    o.data_dir = test_data_dir();
    o.template_dir = "templates";
    o.content_dir = content;
    o.out_dir = out;
    o.cache_dir = cache;
    o.jobs = 1;
    o.threads = 2;
    kiln_diag d = {0};
    kiln_report_fingerprint_override(fp);
    int rc = kiln_report_build(&o, st, &d);
    kiln_report_fingerprint_override(NULL);
    if (rc) fprintf(stderr, "build %s failed:\n%s", name, d.text ? d.text : "");
    kiln_diag_free(&d);
    snprintf(man, 256, "%s/%s-manifest.json", root, name);
    char from[512];
    snprintf(from, sizeof from, "%s/%s", cache, KILN_MANIFEST_FILE);
    if (!rc) copy_file(from, man);
    return rc;
}

static void builds_setup(void)
{
    test_tmpdir(root);
    snprintf(cache_a, sizeof cache_a, "%s/a-cache", root);
    snprintf(cache_s, sizeof cache_s, "%s/cache", root);
    fixture_ok = !build_into("a", "fp-one-0000000001", "", 1, &st_a, cache_a, man_a) &&
                 /* the same content, another trainer: every run again, new keys */
                 !build_into("b", "fp-two-0000000002", "", 1, &st_b, cache_s, man_b) &&
                 /* b's seed changed, c gone, d new */
                 !build_into("c", "fp-two-0000000002", "seed = 2\n", 0, &st_c, cache_s, man_c);
}

/* Run kiln_diff; the JSON it wrote parsed (caller decrefs), its status and messages. */
static json_t *run_diff(const char *old_src, const char *new_src, const char *cache, double acc_tol, double loss_tol,
                        int *rc, char **msgs)
{
    char json[300], html[300];
    snprintf(json, sizeof json, "%s/diff.json", root);
    snprintf(html, sizeof html, "%s/site/diff.html", root);
    unlink(json);
    kiln_diff_opts o;
    kiln_diff_opts_init(&o);
    o.cache_dir = cache;
    if (acc_tol >= 0) o.acc_tol = acc_tol;
    if (loss_tol >= 0) o.loss_tol = loss_tol;
    o.json_path = json;
    o.html_path = html;
    o.table = tmpfile();
    kiln_diag d = {0};
    *rc = kiln_diff(old_src, new_src, &o, &d);
    /* the table reads back */
    rewind(o.table);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, o.table);
    buf[n] = 0;
    fclose(o.table);
    if (*rc != KILN_REPORT_EINPUT) ck_assert_msg(strstr(buf, "kiln diff:") && strstr(buf, " runs:"), "table: %s", buf);
    if (msgs) *msgs = strdup(d.text ? d.text : "");
    kiln_diag_free(&d);
    json_error_t je;
    return *rc == KILN_REPORT_EINPUT ? NULL : json_load_file(json, 0, &je);
}

static json_t *run_of(json_t *j, const char *id)
{
    json_t *runs = json_object_get(j, "runs"), *r;
    size_t i;
    json_array_foreach(runs, i, r) if (!strcmp(json_string_value(json_object_get(r, "id")), id)) return r;
    ck_abort_msg("run %s not in the diff", id);
    return NULL;
}

static const char *verdict_of(json_t *j, const char *id)
{
    return json_string_value(json_object_get(run_of(j, id), "verdict"));
}

/* ---- the refactor proof ---------------------------------------------------------------------- */

START_TEST(test_refactor_proof)
{
    ck_assert_msg(fixture_ok, "the builds of the fixture failed");
    /* every run was trained again: a new fingerprint means new keys */
    ck_assert_int_eq(st_a.runs_trained, 4);
    ck_assert_int_eq(st_b.runs_trained, 4);
    ck_assert_int_eq(st_b.runs_cached, 0);

    char *before_a = listing(cache_a), *before_b = listing(cache_s);
    int rc;
    char *msgs;
    /* old: a's cache folder (its manifest, its entries); new: b's manifest,
     * entries from the working cache */
    json_t *j = run_diff(cache_a, man_b, cache_s, -1, -1, &rc, &msgs);
    ck_assert_msg(rc == 0, "a refactor must diff clean, got %d: %s", rc, msgs);
    ck_assert_ptr_nonnull(j);
    json_t *sum = json_object_get(j, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "identical")), 4);
    ck_assert(json_is_false(json_object_get(j, "changed")));
    const char *ids[] = {"a", "b", "c", "sweep"};
    for (int i = 0; i < 4; i++) {
        json_t *r = run_of(j, ids[i]);
        ck_assert_str_eq(json_string_value(json_object_get(r, "verdict")), "identical");
        /* not by the key: the keys differ and the histories were compared */
        ck_assert(json_is_false(json_object_get(r, "same_key")));
        ck_assert(json_is_true(json_object_get(r, "histories_compared")));
        ck_assert_str_ne(json_string_value(json_object_get(r, "old_key")), json_string_value(json_object_get(r, "new_key")));
    }
    /* the JSON has the trainers and the per-epoch curves */
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "old"), "trainer")), "fp-one-0000000001");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "new"), "trainer")), "fp-two-0000000002");
    json_t *ep = json_object_get(json_object_get(run_of(j, "a"), "epochs"), "val_loss");
    ck_assert_int_eq(json_array_size(json_object_get(ep, "old")), 2);
    ck_assert(json_equal(json_object_get(ep, "old"), json_object_get(ep, "new")));
    json_decref(j);
    free(msgs);

    /* a build compared with itself: the same keys */
    j = run_diff(man_b, man_b, cache_s, -1, -1, &rc, NULL);
    ck_assert_int_eq(rc, 0);
    ck_assert(json_is_true(json_object_get(run_of(j, "b"), "same_key")));
    json_decref(j);

    /* nothing in either cache was touched */
    char *after_a = listing(cache_a), *after_b = listing(cache_s);
    ck_assert_str_eq(before_a, after_a);
    ck_assert_str_eq(before_b, after_b);
    free(before_a);
    free(before_b);
    free(after_a);
    free(after_b);
}
END_TEST

/* ---- what moved ------------------------------------------------------------------------------ */

START_TEST(test_changed_added_removed)
{
    ck_assert_msg(fixture_ok, "the builds of the fixture failed");
    ck_assert_int_eq(st_c.runs_trained, 2); /* b (new seed) and d; a and the sweep were cached */
    char *before = listing(cache_s);
    int rc;
    char *msgs;
    json_t *j = run_diff(man_b, NULL, cache_s, -1, -1, &rc, &msgs); /* NULL: the working cache's manifest (c's) */
    ck_assert_msg(rc == 1, "expected 1, got %d: %s", rc, msgs);
    free(msgs);
    ck_assert(json_is_true(json_object_get(j, "changed")));
    ck_assert_str_eq(verdict_of(j, "a"), "identical");
    ck_assert(json_is_true(json_object_get(run_of(j, "a"), "same_key")));
    ck_assert_str_eq(verdict_of(j, "sweep"), "identical");
    ck_assert_str_eq(verdict_of(j, "c"), "removed");
    ck_assert_str_eq(verdict_of(j, "d"), "added");
    json_t *b = run_of(j, "b");
    const char *vb = verdict_of(j, "b");
    ck_assert_msg(!strcmp(vb, "changed") || !strcmp(vb, "within_noise"), "b: %s", vb);
    ck_assert(json_is_true(json_object_get(b, "config_changed")));
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(b, "config_diff"), 0)), "seed: 1 -> 2");
    /* final metrics: old, new, absolute and relative change */
    json_t *tl = json_object_get(json_object_get(b, "metrics"), "test_loss");
    double o = json_real_value(json_object_get(tl, "old")), n = json_real_value(json_object_get(tl, "new"));
    ck_assert(o > 0 && n > 0 && o != n);
    ck_assert(fabs(json_real_value(json_object_get(tl, "abs")) - (n - o)) < 1e-12);
    ck_assert(fabs(json_real_value(json_object_get(tl, "rel")) - (n - o) / o) < 1e-12);
    json_decref(j);

    /* the page and b's overlay plots (old dashed, new solid) */
    char p[512];
    snprintf(p, sizeof p, "%s/site/diff.html", root);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    ck_assert(strstr(html, "diff/b-loss.png") && strstr(html, "diff/b-accuracy.png"));
    ck_assert(strstr(html, "seed: 1 -&gt; 2"));
    ck_assert_ptr_null(strstr(html, "diff/a-loss.png"));
    free(html);
    snprintf(p, sizeof p, "%s/site/diff/b-loss.png", root);
    size_t len;
    char *png = test_read_file(p, &len);
    ck_assert(png && len > 1000 && !memcmp(png, "\x89PNG", 4));
    free(png);

    /* tolerances decide b: none at all -> changed; very wide -> within noise */
    j = run_diff(man_b, man_c, cache_s, 0, 0, &rc, NULL);
    ck_assert_str_eq(verdict_of(j, "b"), "changed");
    json_decref(j);
    j = run_diff(man_b, man_c, cache_s, 1, 100, &rc, NULL);
    ck_assert_str_eq(verdict_of(j, "b"), "within_noise");
    ck_assert_int_eq(rc, 1); /* c removed, d added: still a change */
    json_decref(j);

    char *after = listing(cache_s);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
}
END_TEST

/* The page in the site's layout (what kiln diff writes for make diff): the
 * article loaded, not resolved, gives the header and the chapter list; every
 * link to the site and its style.css and kiln.js goes from the page's folder
 * to the site's; the table scrolls in its own region. Without the article, a
 * page of its own with its rules inline. */
static char *diff_page(const kiln_doc *doc, const char *site_dir, const char *page)
{
    kiln_diff_opts o;
    kiln_diff_opts_init(&o);
    o.cache_dir = cache_s;
    o.html_path = page;
    o.site = doc;
    o.site_dir = site_dir;
    kiln_diag d = {0};
    int rc = kiln_diff(man_b, man_c, &o, &d);
    ck_assert_msg(rc == 1, "expected 1, got %d: %s", rc, d.text ? d.text : "");
    kiln_diag_free(&d);
    char *html = test_read_file(page, NULL);
    ck_assert_ptr_nonnull(html);
    return html;
}

START_TEST(test_page_in_site_layout)
{
    ck_assert(fixture_ok);
    char content[300], site[300], page[400], p[400];
    snprintf(content, sizeof content, "%s/c-content", root);
    snprintf(site, sizeof site, "%s/c-out", root);
    kiln_build_opts bo = {0};
    bo.content_dir = content;
    bo.template_dir = "templates";
    kiln_doc *doc = NULL;
    kiln_diag d = {0};
    ck_assert_int_eq(kiln_doc_load(&doc, &bo, &d), 0);
    kiln_diag_free(&d);

    /* beside the site: build/diff.html and out/ */
    snprintf(page, sizeof page, "%s/build/diff.html", root);
    char *html = diff_page(doc, site, page);
    static const char *const want[] = {
        "<header class=\"site\">", "<a class=\"home\" href=\"../c-out/index.html\">Diff test</a>",
        "<link rel=\"stylesheet\" href=\"../c-out/style.css\">", "<script src=\"../c-out/kiln.js\" defer>",
        "<nav class=\"sidebar\"", "<li><a href=\"../c-out/01-one.html\">One</a></li>",
        "<li class=\"appendix\"><a href=\"../c-out/appendix.html\">Reproducibility appendix</a></li>",
        "<title>What changed (kiln diff)</title>", "<h1 id=\"what-changed\">What changed</h1>",
        "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"runs compared\"><table class=\"diff\">",
        "diff/b-loss.png", "<footer class=\"site\">"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) ck_assert_msg(strstr(html, want[i]), "no %s in\n%s", want[i], html);
    ck_assert_msg(!strstr(html, "<style>"), "the site's page has its rules in style.css");
    snprintf(p, sizeof p, "%s/report.pdf", site);
    if (access(p, F_OK) == 0) ck_assert(strstr(html, "<a class=\"pdf\" href=\"../c-out/report.pdf\">PDF</a>"));
    char *html_dark = html;
    snprintf(p, sizeof p, "%s/build/diff/b-loss.png", root);
    ck_assert_int_eq(access(p, F_OK), 0);
    /* its dark variant, offered as the site's figures are, its background the dark page's */
    ck_assert_msg(strstr(html_dark, "<figure class=\"overlay\"><picture><source data-dark=\"screen\" media=\"screen and "
                                    "(prefers-color-scheme: dark)\" srcset=\"diff/b-loss-dark.png\" width=\"640\" "
                                    "height=\"400\"><img src=\"diff/b-loss.png\""), "%s", html_dark);
    free(html_dark);
    snprintf(p, sizeof p, "%s/build/diff/b-loss-dark.png", root);
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    ck_assert_msg(png_image_begin_read_from_file(&im, p), "%s: %s", p, im.message);
    im.format = PNG_FORMAT_RGB;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(im));
    ck_assert(png_image_finish_read(&im, NULL, px, 0, NULL));
    ck_assert_int_eq(im.width, 1280);
    ck_assert_uint_eq((uint32_t)px[0] << 16 | (uint32_t)px[1] << 8 | px[2], KILN_DARK_BG);
    free(px);

    /* in the site's own folder (root ""), and one further down */
    snprintf(page, sizeof page, "%s/diff.html", site);
    html = diff_page(doc, site, page);
    ck_assert(strstr(html, "href=\"index.html\"") && strstr(html, "href=\"style.css\"") && strstr(html, "src=\"kiln.js\""));
    free(html);
    unlink(page);
    snprintf(p, sizeof p, "%s/diff", site);
    kr_rmtree(p);
    snprintf(page, sizeof page, "%s/x/y/diff.html", root);
    snprintf(p, sizeof p, "%s/not-built-yet", root);
    html = diff_page(doc, p, page);
    ck_assert(strstr(html, "href=\"../../not-built-yet/index.html\""));
    free(html);
    kiln_doc_free(doc);

    /* no article: a page of its own */
    html = diff_page(NULL, NULL, page);
    ck_assert(strstr(html, "<style>") && strstr(html, "<main class=\"diff\">") && strstr(html, "diff/b-loss.png"));
    ck_assert(!strstr(html, "class=\"sidebar\""));
    ck_assert(!strstr(html, "<picture>")); /* its style is light only: no dark image */
    free(html);
}
END_TEST

/* A manifest rewritten by the test: f edits the parsed object, then it is re-signed. */
static void edit_manifest(const char *from, const char *to, void (*f)(json_t *), int resign)
{
    json_error_t je;
    json_t *m = json_load_file(from, 0, &je);
    ck_assert_ptr_nonnull(m);
    f(m);
    if (resign) {
        char sum[17];
        kiln_manifest_check(m, sum);
        json_object_set_new(m, "check", json_string(sum));
    }
    ck_assert_int_eq(json_dump_file(m, to, JSON_INDENT(1) | JSON_REAL_PRECISION(10)), 0);
    json_decref(m);
}
static void drop_run(json_t *m, const char *id)
{
    json_t *runs = json_object_get(m, "runs");
    for (size_t i = 0; i < json_array_size(runs); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(runs, i), "id")), id)) json_array_remove(runs, i--);
}
static void drop_c(json_t *m) { drop_run(m, "c"); }
static void drop_d(json_t *m) { drop_run(m, "d"); }
static void other_data(json_t *m) { json_object_set_new(m, "data", json_string("0123456789abcdef0123456789abcdef")); }
static void smoke_scale(json_t *m) { json_object_set_new(m, "scale", json_string("smoke")); }
static void hand_edit(json_t *m)
{
    json_t *r = json_array_get(json_object_get(m, "runs"), 0);
    json_object_set_new(json_object_get(r, "metrics"), "test_accuracy", json_real(0.999));
}
static void other_format(json_t *m) { json_object_set_new(m, "format", json_string("kiln-manifest-9")); }

START_TEST(test_within_noise_exit_zero)
{
    ck_assert_msg(fixture_ok, "the builds of the fixture failed");
    /* b's build without c against c's build without d: only b's seed differs */
    char old_m[400], new_m[400];
    snprintf(old_m, sizeof old_m, "%s/old.json", root);
    snprintf(new_m, sizeof new_m, "%s/new.json", root);
    edit_manifest(man_b, old_m, drop_c, 1);
    edit_manifest(man_c, new_m, drop_d, 1);
    int rc;
    char *msgs;
    json_t *j = run_diff(old_m, new_m, cache_s, 1, 100, &rc, &msgs);
    ck_assert_msg(rc == 0, "%d: %s", rc, msgs);
    ck_assert_str_eq(verdict_of(j, "b"), "within_noise");
    ck_assert(json_is_true(json_object_get(run_of(j, "b"), "histories_compared")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "summary"), "identical")), 2);
    json_decref(j);
    free(msgs);
    /* with no tolerance at all the same comparison fails */
    j = run_diff(old_m, new_m, cache_s, 0, 0, &rc, NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(verdict_of(j, "b"), "changed");
    json_decref(j);
}
END_TEST

/* ---- bad input ---------------------------------------------------------------------------- */

static void expect_bad(const char *old_src, const char *new_src, const char *cache, const char *needle)
{
    int rc;
    char *msgs;
    json_t *j = run_diff(old_src, new_src, cache, -1, -1, &rc, &msgs);
    ck_assert_msg(rc == KILN_REPORT_EINPUT, "expected 2 for %s vs %s, got %d", old_src, new_src, rc);
    ck_assert_ptr_null(j);
    ck_assert_msg(strstr(msgs, needle), "'%s' not in: %s", needle, msgs);
    free(msgs);
}

START_TEST(test_bad_input)
{
    ck_assert_msg(fixture_ok, "the builds of the fixture failed");
    char *before = listing(cache_s);
    char p[300];

    snprintf(p, sizeof p, "%s/nowhere/manifest.json", root);
    expect_bad(p, cache_s, cache_s, "no such old manifest");
    expect_bad(man_a, root, cache_s, "cannot read the new manifest");

    /* truncated */
    size_t n = 0;
    char *t = test_read_file(man_a, &n);
    snprintf(p, sizeof p, "%s/truncated.json", root);
    ck_assert_int_eq(test_write_file(p, t, n / 2), 0);
    free(t);
    expect_bad(p, cache_s, cache_s, "not valid JSON");
    /* edited by hand: valid JSON, wrong check sum */
    snprintf(p, sizeof p, "%s/edited.json", root);
    edit_manifest(man_a, p, hand_edit, 0);
    expect_bad(p, cache_s, cache_s, "damaged");
    /* not a manifest at all */
    snprintf(p, sizeof p, "%s/format.json", root);
    edit_manifest(man_a, p, other_format, 1);
    expect_bad(p, cache_s, cache_s, "not a kiln build manifest");
    /* built on other data */
    snprintf(p, sizeof p, "%s/data.json", root);
    edit_manifest(man_a, p, other_data, 1);
    expect_bad(p, cache_s, cache_s, "different data");
    /* at another scale */
    snprintf(p, sizeof p, "%s/smoke.json", root);
    edit_manifest(man_a, p, smoke_scale, 1);
    expect_bad(p, cache_s, cache_s, "smoke scale");
    /* neither a file nor a revision (the cache is not in a git repository) */
    expect_bad("no-such-revision-xyz", cache_s, cache_s, "neither a manifest file");
    expect_bad("-rf", cache_s, cache_s, "not a manifest file");

    char *after = listing(cache_s);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
}
END_TEST

/* A missing entry: the run is compared by its manifest metrics only, never "identical". */
START_TEST(test_missing_entry)
{
    ck_assert_msg(fixture_ok, "the builds of the fixture failed");
    char dir[300], cmd[1200];
    snprintf(dir, sizeof dir, "%s/pruned", root);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", dir, cache_s, dir);
    ck_assert_int_eq(system(cmd), 0);
    /* remove b's entry from the copy of the new cache */
    json_error_t je;
    json_t *m = json_load_file(man_b, 0, &je);
    json_t *runs = json_object_get(m, "runs");
    for (size_t i = 0; i < json_array_size(runs); i++) {
        json_t *r = json_array_get(runs, i);
        if (strcmp(json_string_value(json_object_get(r, "id")), "b")) continue;
        char p[400];
        snprintf(p, sizeof p, "%s/%s.json", dir, json_string_value(json_object_get(r, "key")));
        ck_assert_int_eq(unlink(p), 0);
    }
    json_decref(m);
    int rc;
    char *msgs;
    json_t *j = run_diff(cache_a, man_b, dir, -1, -1, &rc, &msgs);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(verdict_of(j, "b"), "within_noise");
    ck_assert(json_is_false(json_object_get(run_of(j, "b"), "histories_compared")));
    ck_assert_str_eq(verdict_of(j, "a"), "identical");
    ck_assert_msg(strstr(msgs, "compared by its final metrics only"), "%s", msgs);
    json_decref(j);
    free(msgs);
}
END_TEST

/* The common case: the old manifest copied aside, the same cache rebuilt by a
 * changed trainer. Without --cache the old entries are found in the new
 * manifest's cache folder, so every run is compared by its history. */
START_TEST(test_old_entries_in_new_cache)
{
    ck_assert_msg(fixture_ok, "the builds of the fixture failed");
    char cache[300], aside[300], man[256], from[400], cmd[1200];
    snprintf(cache, sizeof cache, "%s/aside-cache", root);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", cache, cache_a, cache);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(aside, sizeof aside, "%s/aside/old.json", root);
    snprintf(cmd, sizeof cmd, "rm -rf '%s/aside' && mkdir '%s/aside'", root, root);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(from, sizeof from, "%s/%s", cache, KILN_MANIFEST_FILE);
    copy_file(from, aside);
    kiln_build_stats st;
    ck_assert_int_eq(build_into("aside", "fp-three-0000000003", "", 1, &st, cache, man), 0);
    ck_assert_int_eq(st.runs_trained, 4);
    int rc;
    char *msgs;
    json_t *j = run_diff(aside, from, NULL, -1, -1, &rc, &msgs);
    ck_assert_msg(rc == 0, "got %d: %s", rc, msgs);
    ck_assert_ptr_nonnull(j);
    ck_assert_msg(!strstr(msgs, "not available"), "%s", msgs);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "summary"), "identical")), 4);
    const char *ids[] = {"a", "b", "c", "sweep"};
    for (int i = 0; i < 4; i++) {
        json_t *r = run_of(j, ids[i]);
        ck_assert_str_eq(json_string_value(json_object_get(r, "verdict")), "identical");
        ck_assert(json_is_false(json_object_get(r, "same_key")));
        ck_assert(json_is_true(json_object_get(r, "histories_compared")));
    }
    json_decref(j);
    free(msgs);
}
END_TEST

/* ---- git revisions ----------------------------------------------------------------------- */

START_TEST(test_git_revisions)
{
    ck_assert_msg(fixture_ok, "the builds of the fixture failed");
    if (sh("git --version >/dev/null 2>&1", "", "")) return; /* no git: nothing to test */
    char repo[300], cache[400];
    snprintf(repo, sizeof repo, "%s/repo", root);
    snprintf(cache, sizeof cache, "%s/out/cache", repo);
#define GIT "git -c user.name=kiln -c user.email=kiln@example.org -c commit.gpgsign=false -C '%s' "
    ck_assert_int_eq(sh("mkdir -p '%s' && git init -q '%s'", cache, repo), 0);
    /* a first commit with one entry and no manifest (a repository from before kiln diff) */
    ck_assert_int_eq(sh("cp \"$(ls '%s'/*.json | head -1)\" '%s'/", cache_a, cache), 0);
    ck_assert_int_eq(sh(GIT "add -A && " GIT "commit -q -m old", repo, repo), 0);
    expect_bad("HEAD", NULL, cache, "has no");
    /* the published build: a's cache (manifest and entries) committed */
    ck_assert_int_eq(sh("cp -r '%s'/. '%s'/", cache_a, cache), 0);
    ck_assert_int_eq(sh(GIT "add -A && " GIT "commit -q -m 'build a'", repo, repo), 0);
    /* the working tree: b's build, and a's entries gone from it (so they are
     * read with git show) */
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "rm -f '%s'/*.json && cp '%s'/*.json '%s'/ && cp '%s' '%s'/" KILN_MANIFEST_FILE, cache, cache_s,
             cache, man_b, cache);
    ck_assert_int_eq(system(cmd), 0);
    char *before = listing(cache);

    int rc;
    char *msgs;
    json_t *j = run_diff(NULL, NULL, cache, -1, -1, &rc, &msgs); /* default: HEAD vs the working tree */
    ck_assert_msg(rc == 0, "%d: %s", rc, msgs);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "summary"), "identical")), 4);
    ck_assert(json_is_true(json_object_get(run_of(j, "a"), "histories_compared")));
    ck_assert(strstr(json_string_value(json_object_get(json_object_get(j, "old"), "source")), "HEAD:"));
    json_decref(j);
    free(msgs);
    /* two revisions; HEAD~1 has no manifest */
    expect_bad("HEAD~1", "HEAD", cache, "has no");
    j = run_diff("HEAD", "HEAD", cache, -1, -1, &rc, NULL);
    ck_assert_int_eq(rc, 0);
    json_decref(j);
    expect_bad("HEAD~7", NULL, cache, "neither");

    char *after = listing(cache);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);

    /* the committed cache moved (out/cache -> content/cache, as kiln's own
     * did): a revision from before the move is still read, from out/cache */
    char moved[400];
    snprintf(moved, sizeof moved, "%s/content/cache", repo);
    ck_assert_int_eq(sh("cd '%s' && mkdir -p content && mv out/cache content/cache && " GIT "add -A", repo, repo), 0);
    ck_assert_int_eq(sh(GIT "commit -q -m 'move the cache'", repo, ""), 0);
    j = run_diff("HEAD~1", NULL, moved, -1, -1, &rc, &msgs);
    ck_assert_msg(rc == 0, "%d: %s", rc, msgs);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "summary"), "identical")), 4);
    ck_assert(json_is_true(json_object_get(run_of(j, "a"), "histories_compared")));
    json_decref(j);
    free(msgs);
#undef GIT
}
END_TEST

/* ---- the manifest itself ---------------------------------------------------------------- */

START_TEST(test_manifest_written)
{
    ck_assert_msg(fixture_ok, "the builds of the fixture failed");
    json_error_t je;
    json_t *m = json_load_file(man_a, 0, &je);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(json_string_value(json_object_get(m, "format")), "kiln-manifest-1");
    ck_assert_str_eq(json_string_value(json_object_get(m, "trainer")), "fp-one-0000000001");
    ck_assert_str_eq(json_string_value(json_object_get(m, "scale")), "full");
    ck_assert_int_eq(strlen(json_string_value(json_object_get(m, "data"))), 64);
    char sum[17];
    kiln_manifest_check(m, sum);
    ck_assert_str_eq(json_string_value(json_object_get(m, "check")), sum);
    json_t *runs = json_object_get(m, "runs");
    ck_assert_int_eq(json_array_size(runs), 4);
    json_t *a = json_array_get(runs, 0);
    ck_assert_str_eq(json_string_value(json_object_get(a, "id")), "a");
    ck_assert_str_eq(json_string_value(json_object_get(a, "kind")), "train");
    ck_assert(strstr(json_string_value(json_object_get(a, "config")), "train_limit=1000\n"));
    ck_assert_str_eq(json_string_value(json_object_get(a, "trainer")), "fp-one-0000000001");
    json_t *met = json_object_get(a, "metrics");
    ck_assert(json_is_real(json_object_get(met, "test_loss")));
    ck_assert(json_is_real(json_object_get(met, "test_accuracy")));
    ck_assert_int_eq(json_integer_value(json_object_get(met, "n_test")), 500);
    ck_assert_int_eq(json_integer_value(json_object_get(met, "epochs_run")), 2);
    /* the key names an entry of that build's cache */
    char p[400];
    snprintf(p, sizeof p, "%s/%s.json", cache_a, json_string_value(json_object_get(a, "key")));
    ck_assert(access(p, F_OK) == 0);
    json_t *sw = json_array_get(runs, 3);
    ck_assert_str_eq(json_string_value(json_object_get(sw, "kind")), "lrfind");
    ck_assert(json_is_real(json_object_get(json_object_get(sw, "metrics"), "suggested_max_lr")) ||
              json_is_null(json_object_get(json_object_get(sw, "metrics"), "suggested_max_lr")));
    json_decref(m);

    /* a build that reruns nothing leaves the manifest as it was (bytes and mtime) */
    char mp[400];
    snprintf(mp, sizeof mp, "%s/%s", cache_s, KILN_MANIFEST_FILE);
    struct stat s1, s2;
    ck_assert_int_eq(stat(mp, &s1), 0);
    kiln_build_opts o = {0};
    char content[300], out[300];
    snprintf(content, sizeof content, "%s/c-content", root);
    snprintf(out, sizeof out, "%s/c-out", root);
    o.cache_dir = cache_s;
    o.quiet = 1;
    o.data_dir = test_data_dir();
    o.content_dir = content;
    o.out_dir = out;
    o.no_run = 1;
    kiln_diag d = {0};
    kiln_build_stats st;
    kiln_report_fingerprint_override("fp-two-0000000002");
    ck_assert_int_eq(kiln_report_build(&o, &st, &d), 0);
    kiln_report_fingerprint_override(NULL);
    kiln_diag_free(&d);
    ck_assert_int_eq(st.runs_cached, 4);
    ck_assert_int_eq(stat(mp, &s2), 0);
    ck_assert(s1.st_mtim.tv_sec == s2.st_mtim.tv_sec && s1.st_mtim.tv_nsec == s2.st_mtim.tv_nsec);
}
END_TEST

/* ---- the command line -------------------------------------------------------------------- */

START_TEST(test_cli)
{
    ck_assert_msg(fixture_ok, "the builds of the fixture failed");
    const char *bin = getenv("KILN_BIN");
    if (!bin || access(bin, X_OK)) return; /* run by `make check`, which names the binary */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' diff '%s' '%s' --cache '%s' --no-html -q", bin, cache_a, man_b, cache_s);
    int st = system(cmd);
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    snprintf(cmd, sizeof cmd, "'%s' diff '%s' '%s' --cache '%s' --no-html --json '%s/cli.json' >/dev/null", bin, man_b,
             man_c, cache_s, root);
    st = system(cmd);
    ck_assert_int_eq(WEXITSTATUS(st), 1);
    char p[300];
    snprintf(p, sizeof p, "%s/cli.json", root);
    ck_assert(access(p, F_OK) == 0);
    snprintf(cmd, sizeof cmd, "'%s' diff '%s' --acc-tol -1 2>/dev/null", bin, man_a);
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof cmd, "'%s' diff a b c 2>/dev/null", bin);
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof cmd, "'%s' diff '%s/none.json' --cache '%s' --no-html 2>/dev/null", bin, root, cache_s);
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 2);
}
END_TEST

/* ---- kiln diff --quick --------------------------------------------------------------------- */

/* A trainer change the test can make: this binary is linked with
 * -Wl,--wrap=kiln_optimizer_init (see the Makefile), so the trainer's calls
 * come here first. With perturb_adam set, Adam's beta1 is moved up by one
 * float ulp after the real initialisation: a one-ulp change in one
 * optimizer's constant, in this test binary only. */
static int perturb_adam;
int __real_kiln_optimizer_init(kiln_optimizer *o, const kiln_config *c, size_t n, char *err, size_t errlen);
int __wrap_kiln_optimizer_init(kiln_optimizer *o, const kiln_config *c, size_t n, char *err, size_t errlen);
int __wrap_kiln_optimizer_init(kiln_optimizer *o, const kiln_config *c, size_t n, char *err, size_t errlen)
{
    int rc = __real_kiln_optimizer_init(o, c, n, err, errlen);
    if (!rc && perturb_adam && !strcmp(o->name, "adam")) o->beta1 = nextafterf((float)o->beta1, 2.0f);
    return rc;
}

static const char *QUICK_MD =
    "# Runs\n\n"
    "```{experiment} a1\ntrain_limit = 600\ntest_limit = 50\nepochs = 1\nbatch_size = 20\n```\n\n"
    "```{experiment} a2\nbase = a1\nlearning_rate = 0.003\n```\n\n"
    "```{experiment} s1\nbase = a1\noptimizer = sgd\nlearning_rate = 0.05\n```\n\n"
    "```{experiment} m1\nbase = a1\noptimizer = adamax\n```\n\n"
    "```{lrfind} sw\nbase = a1\nstart_lr = 1e-5\nend_lr = 1\nlr_steps = 12\n```\n\n"
    "```{table} all\nruns = a1, a2, s1, m1\ncolumns = test_loss\n```\n";

static const char *quick_data; /* --data for quick(); NULL: the test's MNIST */

/* kiln_diff_quick on cache; its printed text (caller frees) and status. */
static char *quick(const char *src, const char *cache, long steps, int *rc, kiln_quick_summary *sum)
{
    kiln_quick_opts o;
    kiln_quick_opts_init(&o);
    o.cache_dir = cache;
    o.data_dir = quick_data ? quick_data : test_data_dir();
    o.steps = steps;
    o.threads = 2;
    char *buf = NULL;
    size_t len = 0;
    o.out = open_memstream(&buf, &len);
    kiln_diag d = {0};
    *rc = kiln_diff_quick(src, &o, sum, &d);
    fclose(o.out);
    if (d.text) {
        buf = realloc(buf, len + strlen(d.text) + 1);
        strcat(buf, d.text);
    }
    kiln_diag_free(&d);
    return buf;
}

/* Build CONTENT into OUT with its cache at CACHE (kept under out/, not
 * CONTENT/cache), training what is missing; the test fails if it fails. */
static void build_quick(const char *content, const char *out, const char *cache)
{
    kiln_build_opts bo = {0};
    bo.quiet = 1;
    bo.data_dir = test_data_dir();
    bo.template_dir = "templates";
    bo.content_dir = content;
    bo.out_dir = out;
    bo.cache_dir = cache;
    bo.jobs = 1;
    bo.threads = 2;
    kiln_build_stats st;
    kiln_diag d = {0};
    int rc = kiln_report_build(&bo, &st, &d);
    ck_assert_msg(rc == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
}

START_TEST(test_quick_diff)
{
    char dir[64], content[128], out[128], cache[160];
    test_tmpdir(dir);
    snprintf(content, sizeof content, "%s/content", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(cache, sizeof cache, "%s/cache", out);
    ck_assert_int_eq(mkdir(content, 0777), 0);
    write_text(content, "index.md", "# Quick\n\nFour runs and a range test.\n");
    write_text(content, "01-runs.md", QUICK_MD);
    int rc;
    build_quick(content, out, cache);
    char *before = listing(cache);

    /* the trainer that computed them: every run identical through its first epoch
     * (480 training images in batches of 20: 24 steps; the range test's 12) */
    kiln_quick_summary sum;
    char *t = quick(cache, cache, 0, &rc, &sum);
    ck_assert_msg(rc == 0, "%s", t);
    ck_assert_int_eq(sum.runs, 5);
    ck_assert_int_eq(sum.identical, 5);
    ck_assert_msg(strstr(t, "a1                     identical through step 24") && strstr(t, "sw                     identical through step 12"),
                  "%s", t);
    ck_assert_msg(strstr(t, "5 identical, 0 differ"), "%s", t);
    free(t);
    /* --steps */
    t = quick(cache, cache, 3, &rc, &sum);
    ck_assert_msg(rc == 0 && strstr(t, "m1                     identical through step 3 "), "%s", t);
    free(t);

    /* one ulp in Adam's beta1: exactly the runs that use Adam differ. Not at
     * step 1, whose loss comes from the initial weights, and not necessarily
     * at step 2: Adam's first update does not depend on beta1 (the bias
     * correction cancels it) but for rounding, so the change shows once it
     * has grown past float32's resolution of the loss, a few steps on */
    perturb_adam = 1;
    t = quick(cache, cache, 0, &rc, &sum);
    perturb_adam = 0;
    ck_assert_msg(rc == 1, "%s", t);
    ck_assert_msg(sum.differ == 3 && sum.identical == 2, "%s", t);
    const char *adam[] = {"a1 ", "a2 ", "sw "}, *other[] = {"s1 ", "m1 "};
    for (int i = 0; i < 3; i++) {
        const char *l = strstr(t, adam[i]);
        ck_assert_msg(l, "%s: %s", adam[i], t);
        l = strstr(l, "first differs at step ");
        ck_assert_msg(l && strchr(l, ':'), "%s: %s", adam[i], t);
        long k = strtol(l + 22, NULL, 10);
        ck_assert_msg(k >= 2 && k <= 24 && !strncmp(strchr(l, ':'), ": loss ", 7), "%s: %s", adam[i], t);
    }
    for (int i = 0; i < 2; i++) {
        const char *l = strstr(t, other[i]);
        ck_assert_msg(l && strstr(l, "identical through step 24") < strchr(l, '\n'), "%s: %s", other[i], t);
    }
    ck_assert_msg(strstr(t, "2 identical, 3 differ"), "%s", t);
    free(t);

    /* nothing in the cache changed */
    char *after = listing(cache);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);

    /* bad input: no manifest there, or another data set */
    t = quick(dir, cache, 0, &rc, &sum);
    ck_assert_msg(rc == 2 && strstr(t, "manifest"), "%s", t);
    free(t);
}
END_TEST

/* Copy the test's MNIST into dir, uncompressed, with the first training
 * label changed: another data set (another digest) of the same shape. */
static void write_other_mnist(const char *dir)
{
    static const char *const files[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                        "t10k-labels-idx1-ubyte"};
    ck_assert_int_eq(mkdir(dir, 0777), 0);
    for (int i = 0; i < 4; i++) {
        char from[4200], to[4200];
        snprintf(from, sizeof from, "%s/%s", test_data_dir(), files[i]);
        if (access(from, R_OK)) snprintf(from, sizeof from, "%s/%s.gz", test_data_dir(), files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, files[i]);
        gzFile in = gzopen(from, "rb"); /* reads a plain file too */
        FILE *out = fopen(to, "wb");
        ck_assert_msg(in && out, "%s", from);
        char buf[65536];
        int k;
        long at = 0;
        while ((k = gzread(in, buf, sizeof buf)) > 0) {
            if (i == 1 && at == 0 && k > 8) buf[8] = (char)((buf[8] + 1) % 10);
            ck_assert_int_eq(fwrite(buf, 1, (size_t)k, out), (size_t)k);
            at += k;
        }
        gzclose(in);
        ck_assert_int_eq(fclose(out), 0);
    }
}

/* Runs on two data sets: each retrains on the one it was trained on (by
 * digest), and a run whose data is not there is named */
START_TEST(test_quick_two_data_sets)
{
    char dir[64], content[128], out[128], cache[160], data[128], md[1024];
    test_tmpdir(dir);
    snprintf(content, sizeof content, "%s/content", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(cache, sizeof cache, "%s/cache", out);
    snprintf(data, sizeof data, "%s/other", dir);
    write_other_mnist(data);
    ck_assert_int_eq(mkdir(content, 0777), 0);
    write_text(content, "index.md", "# Two sets\n\nMNIST and another.\n");
    snprintf(md, sizeof md,
             "# Runs\n\n```{experiment} m\ntrain_limit = 600\ntest_limit = 50\nepochs = 1\nbatch_size = 20\n```\n\n"
             "```{experiment} f\nbase = m\ndata = %s\n```\n\n```{table} all\nruns = m, f\ncolumns = test_loss\n```\n",
             data);
    write_text(content, "01-runs.md", md);
    int rc;
    build_quick(content, out, cache);

    /* --data names the other set; MNIST comes from where kiln keeps it */
    setenv("KILN_DATA", test_data_dir(), 1);
    kiln_quick_summary sum;
    quick_data = data;
    char *t = quick(cache, cache, 0, &rc, &sum);
    ck_assert_msg(rc == 0 && sum.runs == 2 && sum.identical == 2, "%s", t);
    ck_assert_msg(strstr(t, "f                      identical through step 24"), "%s", t);
    free(t);
    /* without it, the other set's run cannot be retrained: it says which and why */
    quick_data = NULL;
    t = quick(cache, cache, 0, &rc, &sum);
    ck_assert_msg(rc == 2 && strstr(t, "run 'f' was trained on data with digest") && strstr(t, "--data DIR"), "%s", t);
    free(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("diff");
    TCase *rules = tcase_create("rules");
    tcase_add_test(rules, test_verdict_rules);
    suite_add_tcase(s, rules);
    /* before "builds": its unchecked fixture trains in the runner process,
     * and a runner that has started OpenMP's threads cannot fork a test
     * that trains (libgomp is not fork-safe) */
    TCase *q = tcase_create("quick");
    tcase_set_timeout(q, 600);
    tcase_add_test(q, test_quick_diff);
    tcase_add_test(q, test_quick_two_data_sets);
    suite_add_tcase(s, q);
    TCase *b = tcase_create("builds");
    tcase_add_unchecked_fixture(b, builds_setup, NULL);
    tcase_set_timeout(b, 600); /* the fixture trains twelve small runs (more under ASan) */
    tcase_add_test(b, test_manifest_written);
    tcase_add_test(b, test_refactor_proof);
    tcase_add_test(b, test_changed_added_removed);
    tcase_add_test(b, test_page_in_site_layout);
    tcase_add_test(b, test_within_noise_exit_zero);
    tcase_add_test(b, test_bad_input);
    tcase_add_test(b, test_missing_entry);
    tcase_add_test(b, test_old_entries_in_new_cache);
    tcase_add_test(b, test_git_revisions);
    tcase_add_test(b, test_cli);
    suite_add_tcase(s, b);
    return s;
}

int main(void) { return test_run_suite(suite()); }
