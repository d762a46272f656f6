/* The whole build (src/report and the stages together): atomic output,
 * figures, values in titles and labels, stable run colours, values taken
 * from other runs, groups, the article's numbers from the committed cache,
 * and the smoke build of the real content/. */
#include "kiln/plot.h"
#include "kiln/report.h"
#include "resolve/resolve.h" /* kr_figure_run_color */
#include "run/run.h" /* kr_thread_share */
#include "testreport.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- atomic output ----------------------------------------------------------------------- */

START_TEST(test_failed_build_keeps_output)
{
    char dir[64], content[128], out[128], p[256];
    test_paths(dir, content, sizeof content, out, sizeof out, NULL, 0);
    char *before = build_chapter(content, out, "Good prose.");
    kiln_build_stats st;
    kiln_diag d;
    snprintf(p, sizeof p, "%s/01-one.html", out);

    /* a content error: nothing in out/ changes */
    write_article(content, "Bad prose {{a.no_such_metric}}.", 1);
    ck_assert_int_eq(build(content, out, &st, &d), KILN_REPORT_EINPUT);
    kiln_diag_free(&d);
    char *after = test_read_file(p, NULL);
    ck_assert_str_eq(before, after);
    free(after);

    /* a failure while writing (a broken template) after the runs: the same */
    char tdir[160];
    snprintf(tdir, sizeof tdir, "%s/tpl", dir);
    mkdir(tdir, 0777);
    write_text(tdir, "layout.html", "{{content}} {{nonsense}}");
    write_text(tdir, "style.css", "");
    write_article(content, "Changed prose that must not appear.", 1);
    kiln_build_opts o = quiet_opts();
    o.content_dir = content;
    o.out_dir = out;
    o.template_dir = tdir;
    memset(&d, 0, sizeof d);
    ck_assert_int_ne(kiln_report_build(&o, &st, &d), 0);
    kiln_diag_free(&d);
    after = test_read_file(p, NULL);
    ck_assert_str_eq(before, after);
    free(after);
    free(before);
    /* and no temporary folder is left behind */
    DIR *dp = opendir(out);
    struct dirent *e;
    while ((e = readdir(dp))) ck_assert_msg(strncmp(e->d_name, ".build-", 7), "left behind: %s", e->d_name);
    closedir(dp);
}
END_TEST

START_TEST(test_lrfind_and_schedule_figures)
{
    char dir[64], content[128], out[128], p[256];
    article_dirs(dir, content, sizeof content, out, sizeof out, "# R\n\nS.\n");
    write_text(content, "01-r.md",
               "# Range\n\n```{experiment} base\ntrain_limit = 300\ntest_limit = 100\nepochs = 2\nbatch_size = 20\n```\n\n"
               "```{lrfind} sweep\nbase = base\nlr_steps = 12\nstart_lr = 1e-5\nend_lr = 1\n"
               "caption = Steepest at {{sweep.steepest_lr:.2e}}.\n```\n\n"
               "```{experiment} stepped\nbase = base\nschedule = step\nstep_drop = 0.5\nstep_every = 1\n```\n\n"
               "```{figure} sched\nkind = schedule\nruns = stepped\nper = epoch\n```\n\n"
               "```{figure} change\nkind = range\nruns = sweep\nseries = derivative\n```\n\n"
               "See {{fig:sweep}} and {{fig:sched}}: {{sweep.minimum_lr:sci}}.\n\n"
               "Swept from {{sweep.start_lr:sci}} to {{sweep.end_lr}} in {{sweep.planned_steps}} steps.\n");
    kiln_build_stats st;
    kiln_diag d;
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);
    /* the range test ran; the schedule curve needed no training */
    ck_assert_int_eq(st.runs_trained, 1);
    snprintf(p, sizeof p, "%s/img/sweep.png", out);
    struct stat s;
    ck_assert_int_eq(stat(p, &s), 0);
    snprintf(p, sizeof p, "%s/img/sched.png", out);
    ck_assert_int_eq(stat(p, &s), 0);
    snprintf(p, sizeof p, "%s/img/change.png", out);
    ck_assert_int_eq(stat(p, &s), 0);
    snprintf(p, sizeof p, "%s/01-r.html", out);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(strstr(html, "Figure 1</a>"));
    ck_assert_ptr_nonnull(strstr(html, "Figure 2</a>"));
    ck_assert_ptr_nonnull(strstr(html, "Suggested learning rates"));
    ck_assert_ptr_null(strstr(html, "n/a"));
    /* the range test's own settings can be quoted */
    ck_assert_ptr_nonnull(strstr(html, "Swept from <span class=\"value\" title=\"sweep.start_lr\">10⁻⁵</span> to "
                                       "<span class=\"value\" title=\"sweep.end_lr\">1</span> in "
                                       "<span class=\"value\" title=\"sweep.planned_steps\">12</span> steps."));
    free(html);
    check_site(out);
    /* a range test is not an experiment */
    expect_error("# T\n\n```{lrfind} s\nlr_steps = 0\n```\n", "lr_steps", "positive integer");
    expect_error("# T\n\n```{lrfind} s\n```\n```{result} s\n```\n", "is a range test", NULL);
    expect_error("# T\n\n```{lrfind} s\nstop_factor = 0.5\n```\n", "stop_factor", "number > 1");
    expect_error("# T\n\n```{lrfind} s\n```\n```{figure} f\nkind = range\nruns = s\nseries = val_loss\n```\n",
                 "series 'val_loss' is not accepted for a range test", "derivative");
    expect_error("# T\n\n```{experiment} a\n```\n```{figure} f\nkind = schedule\nruns = a\nseries = loss\n```\n",
                 "'series' applies to kind = history and kind = range only", NULL);
    expect_error("# T\n\n```{lrfind} s\nlr_steps = 10\nlr_epochs = 1\n```\n", "lr_steps or lr_epochs", NULL);
    /* a plateau schedule needs the validation loss: no curve without training */
    expect_error("# T\n\n```{experiment} p\nschedule = plateau\n```\n\n```{figure} f\nkind = schedule\nruns = p\n```\n",
                 "schedule = plateau", "kind = history");
}
END_TEST

/* ---- the article's numbers are the cache's -------------------------------------------- */

/* The shortest %g spelling that reads back as v (the test's own, not kiln's). */
static void shortest(double v, char *buf, size_t n)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* A run's result field, read straight from CACHE/KEY.json, where KEY is the
 * run's key as results.json of the build in out reports it. */
static double cached_result(const char *out, const char *cache, const char *id, const char *field)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/results.json", out);
    json_error_t e;
    json_t *res = json_load_file(p, 0, &e);
    ck_assert_msg(res != NULL, "%s: %s", p, e.text);
    const char *key = json_string_value(json_object_get(json_object_get(json_object_get(res, "runs"), id), "key"));
    ck_assert_msg(key && strlen(key) == 32, "no key for run %s in %s", id, p);
    snprintf(p, sizeof p, "%s/%s.json", cache, key);
    json_decref(res);
    json_t *entry = json_load_file(p, 0, &e);
    ck_assert_msg(entry != NULL, "cache entry %s: %s", p, e.text);
    json_t *f = json_object_get(json_object_get(entry, "result"), field);
    ck_assert_msg(json_is_number(f), "%s: no result.%s", p, field);
    double v = json_number_value(f);
    json_decref(entry);
    return v;
}

/* Every {{ID.METRIC}} span on the page shows want, and there is at least one. */
static void spans_show(const char *html, const char *title, const char *want)
{
    char needle[160];
    snprintf(needle, sizeof needle, "title=\"%s\">", title);
    int n = 0;
    for (const char *p = strstr(html, needle); p; p = strstr(p + 1, needle)) {
        const char *v = p + strlen(needle);
        ck_assert_msg(!strncmp(v, want, strlen(want)) && v[strlen(want)] == '<', "%s shows '%.20s', the cache says %s",
                      title, v, want);
        n++;
    }
    ck_assert_msg(n > 0, "no value %s on the page", title);
}

/* The baseline's result line and accuracy, the mean over the seeds, in the
 * HTML and the PDF of a build of content/, against the cache entries. */
static void check_numbers_from_cache(const char *out, const char *cache)
{
    char p[1024], loss[64], acc[64], pct[64], want[256];
    double tl = cached_result(out, cache, "baseline", "test_loss");
    double ta = cached_result(out, cache, "baseline", "test_accuracy");
    shortest(tl, loss, sizeof loss);
    shortest(ta, acc, sizeof acc);
    snprintf(pct, sizeof pct, "%.2f%%", ta * 100);
    snprintf(p, sizeof p, "%s/01-fixed-learning-rates.html", out);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    snprintf(want, sizeof want, "Test loss: %s / Test accuracy: %s", loss, acc);
    ck_assert_msg(strstr(html, want), "'%s' not in %s", want, p);
    spans_show(html, "baseline.test_accuracy", pct);
    free(html);

    /* the seeds chapter: a mean the build computed, from five entries */
    static const char *const seeds[] = {"baseline", "seed-2", "seed-3", "seed-4", "seed-5"};
    double sum = 0;
    for (int i = 0; i < 5; i++) sum += cached_result(out, cache, seeds[i], "test_accuracy");
    char mean[64];
    snprintf(mean, sizeof mean, "%.2f%%", sum / 5 * 100);
    snprintf(p, sizeof p, "%s/06-variation-between-seeds.html", out);
    html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    spans_show(html, "seeds.mean_test_accuracy", mean);
    spans_show(html, "baseline.test_accuracy", pct);
    free(html);

    /* the PDF: the result row (label, loss, accuracy) and the sentence after it */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "pdftotext -q -layout '%s/report.pdf' -", out);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    sbuf text = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_addn(&text, buf, n);
    ck_assert_int_eq(pclose(f), 0);
    ck_assert_msg(text.len > 1000, "pdftotext gave %zu bytes", text.len);
    int row = 0;
    for (char *line = text.s, *e; line && *line; line = e ? e + 1 : NULL) {
        e = strchr(line, '\n');
        if (e) *e = 0;
        const char *l = strstr(line, "baseline, lr"), *a = l ? strstr(l, loss) : NULL;
        if (a && strstr(a + strlen(loss), acc)) row = 1;
        if (e) *e = '\n';
    }
    ck_assert_msg(row, "the PDF has no result row 'baseline ... %s ... %s'", loss, acc);
    snprintf(want, sizeof want, "That is an accuracy of %s", pct);
    ck_assert_msg(strstr(text.s, want), "'%s' not in the PDF", want);
    snprintf(want, sizeof want, "a mean of %s", mean);
    ck_assert_msg(strstr(text.s, want), "'%s' not in the PDF", want);
    sb_free(&text);
}

/* ---- the real content/ at smoke scale -------------------------------------------------- */

/* "PATH SIZE\n" for every file under dir (sorted by path; folders end in
 * '/'), malloc'd. */
static void tree_walk(const char *dir, const char *rel, char ***names, int *n)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    DIR *dp = opendir(p);
    ck_assert_ptr_nonnull(dp);
    for (struct dirent *e; (e = readdir(dp));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char r[1024], f[2100];
        snprintf(r, sizeof r, "%s%s", rel, e->d_name);
        snprintf(f, sizeof f, "%s/%s", dir, r);
        struct stat st;
        ck_assert_int_eq(stat(f, &st), 0);
        char line[1100];
        if (S_ISDIR(st.st_mode)) snprintf(line, sizeof line, "%s/ 0", r);
        else snprintf(line, sizeof line, "%s %lld", r, (long long)st.st_size);
        *names = realloc(*names, sizeof **names * (size_t)(*n + 1));
        (*names)[(*n)++] = strdup(line);
        if (S_ISDIR(st.st_mode)) {
            char sub[1100];
            snprintf(sub, sizeof sub, "%s/", r);
            tree_walk(dir, sub, names, n);
        }
    }
    closedir(dp);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *tree_listing(const char *dir, const char *rel)
{
    char **names = NULL;
    int n = 0;
    tree_walk(dir, rel, &names, &n);
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(names[i]) + 1;
    char *s = malloc(len), *w = s;
    for (int i = 0; i < n; i++) { w += sprintf(w, "%s\n", names[i]); free(names[i]); }
    *w = 0;
    free(names);
    return s;
}

/* What a build leaves in OUT is what gets published: the pages, the
 * stylesheet, the script and the search index, the figures, the PDF, results.json, the runs' histories
 * and the records of changes
 * (all linked from the pages), and nothing else: no data set, no cache, no
 * lock, temporary or hidden file. Under 25 MB in all (19.6 MB on 2026-12-03,
 * the figures 8.7 MB of it: four variants of each, light, dark and narrow). */
static void check_published(const char *out)
{
    char *l = tree_listing(out, "");
    long long total = 0;
    int pages = 0, figures = 0, histories = 0;
    for (char *save = NULL, *t = strtok_r(l, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
        char *sp = strrchr(t, ' ');
        total += atoll(sp + 1);
        *sp = 0;
        size_t n = strlen(t);
        const char *base = strrchr(t, '/') && t[n - 1] != '/' ? strrchr(t, '/') + 1 : t;
        ck_assert_msg(base[0] != '.', "out/ holds a hidden file: %s", t);
        int ok = 0;
        if (!strchr(t, '/')) {
            ok = !strcmp(t, "style.css") || !strcmp(t, "report.pdf") || !strcmp(t, "results.json") ||
                 !strcmp(t, "kiln.js") || !strcmp(t, "search-index.js") ||
                 (n > 5 && !strcmp(t + n - 5, ".html"));
            pages += ok && n > 5 && !strcmp(t + n - 5, ".html");
        } else if (!strcmp(t, "img/") || !strcmp(t, "runs/") || !strcmp(t, "records/")) {
            ok = 1;
        } else if (!strncmp(t, "records/", 8) && !strchr(t + 8, '/') && n > 8 && !strcmp(t + n - 4, ".txt")) {
            ok = 1;
        } else if (!strncmp(t, "img/", 4) && !strchr(t + 4, '/') && n > 4 && !strcmp(t + n - 4, ".png")) {
            ok = 1;
            figures++;
        } else if (!strncmp(t, "runs/", 5) && !strchr(t + 5, '/') && n > 5 && !strcmp(t + n - 5, ".json")) {
            ok = 1;
            histories++;
        }
        ck_assert_msg(ok, "out/ holds '%s', which is not part of the published site", t);
    }
    free(l);
    ck_assert_int_gt(pages, 3);
    ck_assert_int_gt(figures, 3);
    ck_assert_int_gt(histories, 3);
    ck_assert_msg(total < 25ll * 1024 * 1024, "out/ holds %lld bytes, more than 25 MB", total);
    check_site(out); /* every page parses and every link (histories too) resolves */
}

/* ---- data sets: data = mnist | fashion-mnist | DIR ------------------------------------------ */

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16); p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

/* An IDX image file of n images h x w (x c when c > 1) and its labels,
 * pixels and labels from a fixed pattern (label = i % 10, brightness by label). */
static void write_idx_pair(const char *dir, const char *prefix, int n, int h, int w, int c)
{
    int dims = c > 1 ? 4 : 3;
    size_t px = (size_t)n * h * w * c, hdr = 4 + 4 * (size_t)dims;
    unsigned char *img = malloc(hdr + px), *lab = malloc(8 + (size_t)n);
    put_be32(img, dims == 4 ? 0x804 : 0x803);
    put_be32(img + 4, (uint32_t)n);
    put_be32(img + 8, (uint32_t)h);
    put_be32(img + 12, (uint32_t)w);
    if (dims == 4) put_be32(img + 16, (uint32_t)c);
    for (size_t i = 0; i < px; i++) {
        size_t ex = i / ((size_t)h * w * c), pos = i % ((size_t)h * w * c);
        img[hdr + i] = (unsigned char)((pos % (size_t)w) == ex % 10 ? 250 : (ex * 7 + pos) % 40);
    }
    put_be32(lab, 0x801);
    put_be32(lab + 4, (uint32_t)n);
    for (int i = 0; i < n; i++) lab[8 + i] = (unsigned char)(i % 10);
    char p[512];
    snprintf(p, sizeof p, "%s/%s-images-idx%d-ubyte", dir, prefix, dims);
    if (dims == 4) { /* kiln looks for the usual names: the file says 4 dimensions inside */
        snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte", dir, prefix);
    }
    ck_assert_int_eq(test_write_file(p, (const char *)img, hdr + px), 0);
    snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte", dir, prefix);
    ck_assert_int_eq(test_write_file(p, (const char *)lab, 8 + (size_t)n), 0);
    free(img);
    free(lab);
}

static const char *run_key(const kiln_doc *doc, const char *id)
{
    const kiln_run *r = kr_find_run(doc, id);
    ck_assert_ptr_nonnull(r);
    return r->key;
}

START_TEST(test_data_sets)
{
    /* keys without any data: mnist as the default and when named give the
     * same key; fashion-mnist another; nothing is read (no data folder) */
    const char *md = "# D\n\n```{experiment} a\nepochs = 1\n```\n\n```{experiment} b\nbase = a\ndata = mnist\n```\n\n"
                     "```{experiment} f\nbase = a\ndata = fashion-mnist\n```\n\n```{experiment} g\nbase = f\n```\n\n"
                     "{{a.test_accuracy}} {{b.test_accuracy}} {{f.test_accuracy}} {{g.test_accuracy}}\n";
    kiln_doc *doc = NULL;
    kiln_diag d = {0};
    kiln_build_opts o = quiet_opts();
    char dir[64], cache[128];
    test_tmpdir(dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    o.cache_dir = cache;
    o.data_dir = "/nonexistent/kiln-mnist";
    o.no_run = 1;
    ck_assert_int_eq(kiln_doc_load_text(&doc, "ch.md", md, &o, &d), 0);
    kiln_doc_run(doc, NULL, &d); /* no results: --no-run errors, but the keys are set */
    ck_assert_str_eq(run_key(doc, "a"), run_key(doc, "b"));
    ck_assert_str_ne(run_key(doc, "a"), run_key(doc, "f"));
    ck_assert_str_eq(run_key(doc, "f"), run_key(doc, "g")); /* inherited through base */
    ck_assert_str_eq(kr_find_run(doc, "a")->data_digest, "4797772c2fe8b19bc4124a9f00c9fd8fa26ebf530c34364364f559dd74f505d9");
    /* the same key as kiln_cache_key gives with MNIST's digest: keys did not move */
    char want[33];
    kiln_cache_key("train", kr_find_run(doc, "a")->canonical, doc->trainer_fingerprint, kr_find_run(doc, "a")->data_digest, want);
    ck_assert_str_eq(run_key(doc, "a"), want);
    ck_assert_ptr_null(strstr(d.text ? d.text : "", "kiln-mnist")); /* the missing folder was never opened */
    kiln_doc_free(doc);
    kiln_diag_free(&d);

    /* a bad value: FILE:LINE:, the accepted values, a content error */
    expect_error("# D\n\n```{experiment} a\nepochs = 1\ndata = cifar-10\n```\n", "ch.md:5:", "accepted: mnist (the default), fashion-mnist");
    expect_error("# D\n\n```{experiment} a\ndata = /nonexistent/kiln-idx\n```\n", "ch.md:4:", "not a folder");

    /* a folder of 8x8 grey images: the article's network does not fit them
     * (an error on the data line), a small one does and trains */
    char small[128], md2[1024];
    snprintf(small, sizeof small, "%s/small", dir);
    ck_assert_int_eq(mkdir(small, 0777), 0);
    write_idx_pair(small, "train", 200, 8, 8, 1);
    write_idx_pair(small, "t10k", 50, 8, 8, 1);
    snprintf(md2, sizeof md2, "# D\n\n```{experiment} s\nepochs = 1\ndata = %s\n```\n\n{{s.test_accuracy}}\n", small);
    expect_error(md2, "ch.md:5:", "does not fit the 8x8x1 images");
    snprintf(md2, sizeof md2,
             "# D\n\n```{experiment} s\nmodel = conv:4x3,relu,flatten,dense:10\nepochs = 2\nbatch_size = 20\ndata = %s\n```\n\n"
             "{{s.test_accuracy}}\n\n```{config} s\n```\n",
             small);
    o.no_run = 0;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_doc_load_text(&doc, "ch.md", md2, &o, &d), 0);
    ck_assert_int_eq(kiln_doc_run(doc, NULL, &d), 0);
    kiln_run *r = kr_find_run(doc, "s");
    ck_assert(r->ok);
    ck_assert_int_eq(r->history.n_test, 50);
    ck_assert_int_eq(strlen(r->data_digest), 64);
    ck_assert_str_ne(r->data_digest, "4797772c2fe8b19bc4124a9f00c9fd8fa26ebf530c34364364f559dd74f505d9");
    ck_assert(strstr(kr_config_text(doc->arena, r), "data "));
    char key1[33];
    snprintf(key1, sizeof key1, "%s", r->key);
    kiln_doc_free(doc);
    kiln_diag_free(&d);
    /* other pixels: another digest, another key */
    write_idx_pair(small, "t10k", 60, 8, 8, 1);
    memset(&d, 0, sizeof d);
    o.no_run = 1;
    ck_assert_int_eq(kiln_doc_load_text(&doc, "ch.md", md2, &o, &d), 0);
    kiln_doc_run(doc, NULL, &d);
    ck_assert_str_ne(run_key(doc, "s"), key1);
    kiln_doc_free(doc);
    kiln_diag_free(&d);

    /* colour images: the trainer reads one channel; refused with that reason */
    char rgb[128];
    snprintf(rgb, sizeof rgb, "%s/rgb", dir);
    ck_assert_int_eq(mkdir(rgb, 0777), 0);
    write_idx_pair(rgb, "train", 20, 8, 8, 3);
    write_idx_pair(rgb, "t10k", 10, 8, 8, 3);
    snprintf(md2, sizeof md2, "# D\n\n```{experiment} c\nmodel = conv:4x3,relu,flatten,dense:10\ndata = %s\n```\n", rgb);
    expect_error(md2, "ch.md:5:", "3 channels");

    /* kiln train: the same values, exit status 2 for a bad one */
    if (getenv("KILN_BIN")) {
        /* a run that must train and no data: exit status 3, which make
         * report answers with make data and a second build */
        char c3[128], args[600];
        snprintf(c3, sizeof c3, "%s/c3", dir);
        write_article(c3, "Prose.", 1);
        snprintf(args, sizeof args, "build -q --content %s --out %s/o3 --data %s/no-data --templates templates", c3, dir, dir);
        ck_assert_int_eq(cli_status("%s", args), 3);
        ck_assert_int_eq(cli_status("train data=cifar-10 epochs=1", ""), 2);
        ck_assert_int_eq(cli_status("train epochs=1 data=%s", small), 2); /* the article's network does not fit 8x8 */
        ck_assert_int_eq(cli_status("train model=conv:4x3,relu,flatten,dense:10 epochs=1 batch_size=20 data=%s", small), 0);
    }
}
END_TEST

START_TEST(test_smoke_build_of_content)
{
    kiln_build_opts o = quiet_opts();
    o.content_dir = "content";
    o.smoke = 1;
    o.jobs = 2;
    o.threads = 2;
    kiln_diag d = {0};
    kiln_build_stats st;
    /* in a temporary folder, so that make check leaves out/ as make report made it */
    char dir[64], out[128], cache[160], page[200];
    test_tmpdir(dir);
    snprintf(out, sizeof out, "%s/smoke", dir);
    snprintf(cache, sizeof cache, "%s/cache", out);
    o.out_dir = out;
    int rc = kiln_report_build(&o, &st, &d);
    ck_assert_msg(rc == 0, "smoke build of content/ failed:\n%s", d.text ? d.text : "");
    ck_assert_int_eq(st.runs_failed, 0);
    ck_assert_int_gt(st.runs_total, 0);
    kiln_diag_free(&d);
    check_site(out);
    /* no directive or value left unresolved */
    snprintf(page, sizeof page, "%s/01-fixed-learning-rates.html", out);
    char *html = test_read_file(page, NULL);
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_null(strstr(html, "{{"));
    ck_assert_ptr_null(strstr(html, "n/a"));
    free(html);
    check_numbers_from_cache(out, cache);
}
END_TEST

/* The committed full-scale cache (out/cache) holds every run of content/: a
 * build that may not train (--no-run) succeeds, and its key numbers are the
 * entries'. Built in a temporary folder from a copy of the cache, so the
 * committed files are left alone. */
START_TEST(test_article_numbers_from_committed_cache)
{
    /* the committed entries are keyed on the release build's trainer
     * fingerprint; a sanitizer or debug build has its own, and nothing to
     * find (its own smoke build is checked above) */
    json_error_t je;
    json_t *man = json_load_file("content/cache/manifest/build.json", 0, &je);
    ck_assert_msg(man != NULL, "content/cache/manifest/build.json: %s", je.text);
    const char *made_by = json_string_value(json_object_get(man, "trainer"));
    ck_assert_ptr_nonnull(made_by);
    int same = !strcmp(made_by, kiln_trainer_fingerprint());
    if (!same)
        printf("committed cache: made by trainer %s, this build is %s (a different build mode): not checked here\n",
               made_by, kiln_trainer_fingerprint());
    json_decref(man);
    if (!same) return;
    char dir[64], out[128], cache[128];
    test_tmpdir(dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    ck_assert_int_eq(mkdir(cache, 0777), 0);
    DIR *dp = opendir("content/cache");
    ck_assert_ptr_nonnull(dp);
    int copied = 0;
    for (struct dirent *e; (e = readdir(dp));) {
        size_t l = strlen(e->d_name);
        if (l != 37 || strcmp(e->d_name + 32, ".json")) continue;
        char from[512], to[512];
        snprintf(from, sizeof from, "content/cache/%s", e->d_name);
        snprintf(to, sizeof to, "%s/%s", cache, e->d_name);
        size_t len = 0;
        char *t = test_read_file(from, &len);
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(test_write_file(to, t, len), 0);
        free(t);
        copied++;
    }
    closedir(dp);
    kiln_build_opts o = quiet_opts();
    o.content_dir = "content";
    o.out_dir = out;
    o.cache_dir = cache;
    o.no_run = 1;
    kiln_diag d = {0};
    kiln_build_stats st;
    int rc = kiln_report_build(&o, &st, &d);
    ck_assert_msg(rc == 0, "the committed cache (%d entries) does not cover content/:\n%.1500s", copied,
                  d.text ? d.text : "");
    kiln_diag_free(&d);
    ck_assert_int_eq(st.runs_trained, 0);
    ck_assert_int_eq(st.runs_cached, st.runs_total);
    check_numbers_from_cache(out, cache);
    check_published(out);

    /* the same inputs again, into another folder, with no data set anywhere
     * (every result is cached, so none is read) and a later clock: every
     * file has the same bytes, the PDF included (its date comes from the
     * results, not the clock) */
    char out2[128], nodata[128];
    snprintf(out2, sizeof out2, "%s/out2", dir);
    snprintf(nodata, sizeof nodata, "%s/no-data-here", dir);
    sleep(1);
    o.out_dir = out2;
    o.data_dir = nodata;
    unsetenv("SOURCE_DATE_EPOCH");
    memset(&d, 0, sizeof d);
    rc = kiln_report_build(&o, &st, &d);
    ck_assert_msg(rc == 0, "a fully cached build needed the data:\n%.1500s", d.text ? d.text : "");
    kiln_diag_free(&d);
    ck_assert_int_eq(st.runs_cached, st.runs_total);
    ck_assert_int_ne(access(nodata, F_OK), 0); /* nothing was fetched or made there */
    char *l1 = tree_listing(out, ""), *l2 = tree_listing(out2, "");
    ck_assert_str_eq(l1, l2);
    int compared = 0;
    for (char *save = NULL, *t = strtok_r(l1, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
        char *sp = strrchr(t, ' ');
        *sp = 0;
        if (sp[-1] == '/') continue; /* a folder: its files are listed too */
        char a[600], b[600];
        snprintf(a, sizeof a, "%s/%s", out, t);
        snprintf(b, sizeof b, "%s/%s", out2, t);
        size_t na, nb;
        char *ta = test_read_file(a, &na), *tb = test_read_file(b, &nb);
        ck_assert_ptr_nonnull(ta);
        ck_assert_ptr_nonnull(tb);
        ck_assert_msg(na == nb && !memcmp(ta, tb, na), "%s differs between two builds of the same inputs", t);
        free(ta);
        free(tb);
        compared++;
    }
    ck_assert_int_gt(compared, 20);
    free(l1);
    free(l2);
}
END_TEST

/* ---- values in figure titles and legend labels; stable run colours ------------------ */

START_TEST(test_values_in_titles_and_labels)
{
    char dir[64], content[128], out[128], p[256];
    article_dirs(dir, content, sizeof content, out, sizeof out, "# T\n\nS.\n");
    const char *chapter =
        "# One\n\n```{experiment} a\nlabel = run a\ntrain_limit = 300\ntest_limit = 100\nepochs = 1\nbatch_size = 50\n```\n\n"
        "```{experiment} b\nbase = a\nlearning_rate = 0.01\n```\n\n"
        "```{figure} acc\nruns = a, b\nseries = val_accuracy\n"
        "title = Test accuracy {{a.test_accuracy:.2%}} against {{b.test_accuracy:.2%}}\n"
        "labels = {{a.label}} at {{a.learning_rate}}, lr {{b.learning_rate:sci}} ({{b.test_loss:.3f}})\n```\n\n"
        "```{figure} loss\nruns = a\ntitle = Loss of {{a.id}}, see {{fig:acc}}\ncaption = Plain caption.\n```\n";
    write_text(content, "01-one.md", chapter);
    kiln_build_stats st;
    kiln_diag d;
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);

    /* the same values through the API (served from the cache just written) */
    kiln_build_opts o = quiet_opts();
    o.content_dir = content;
    o.out_dir = out;
    kiln_doc *doc;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_doc_load(&doc, &o, &d), 0);
    memset(&st, 0, sizeof st);
    ck_assert_int_eq(kiln_doc_run(doc, &st, &d), 0);
    ck_assert_int_eq(st.runs_trained, 0);
    ck_assert_int_eq(kiln_doc_resolve(doc, NULL, &d), 0);
    kiln_diag_free(&d);
    char acc_a[64], acc_b[64], loss_b[64], want[512];
    kiln_format_value(doc->runs[0]->history.test_accuracy, ".2%", acc_a, sizeof acc_a);
    kiln_format_value(doc->runs[1]->history.test_accuracy, ".2%", acc_b, sizeof acc_b);
    kiln_format_value(doc->runs[1]->history.test_loss, ".3f", loss_b, sizeof loss_b);
    snprintf(want, sizeof want, "Test accuracy %s against %s", acc_a, acc_b);
    ck_assert_str_eq(doc->figures[0]->title, want);
    ck_assert_int_eq(doc->figures[0]->n_labels, 2);
    ck_assert_str_eq(doc->figures[0]->labels[0], "run a at 0.001");
    snprintf(want, sizeof want, "lr 10⁻² (%s)", loss_b);
    ck_assert_str_eq(doc->figures[0]->labels[1], want);
    ck_assert_str_eq(doc->figures[1]->title, "Loss of a, see Figure 1");
    ck_assert_ptr_null(doc->figures[1]->labels);

    /* the page shows the expanded title: figure caption and alt text (of a
       figure without a caption) */
    snprintf(p, sizeof p, "%s/01-one.html", out);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    snprintf(want, sizeof want, "alt=\"Test accuracy %s against %s\"", acc_a, acc_b);
    ck_assert_msg(strstr(html, want), "'%s' not in the page", want);
    snprintf(want, sizeof want, "Figure 1.</span> Test accuracy %s against %s</figcaption>", acc_a, acc_b);
    ck_assert_msg(strstr(html, want), "'%s' not in the page", want);
    /* a figure with a caption has it as its alt text, not its title */
    ck_assert_ptr_nonnull(strstr(html, "alt=\"Plain caption.\""));
    ck_assert_ptr_null(strstr(html, "alt=\"Loss of a, see Figure 1\""));
    ck_assert_ptr_null(strstr(html, "{{"));
    ck_assert_ptr_null(strstr(html, "n/a"));
    free(html);
    kiln_doc_free(doc);

    /* an unknown run, metric or format in a title or a label: a content error
     * on the key's line, with the accepted values */
    const char *fig = "# T\n\n```{experiment} a\n```\n```{figure} f\nruns = a\n%s\n```\n";
    char md[512];
    snprintf(md, sizeof md, fig, "title = Acc {{zed.test_accuracy}}");
    expect_error(md, "ch.md:7: {{zed.test_accuracy}}: unknown run 'zed'", "declared runs: a");
    snprintf(md, sizeof md, fig, "title = Acc {{a.test_acc:.2%}}");
    expect_error(md, "ch.md:7: {{a.test_acc:.2%}}: unknown metric 'test_acc' of run 'a' (did you mean 'test_accuracy'?); accepted:", "test_loss");
    snprintf(md, sizeof md, fig, "series = loss\nlabels = run {{a.learning_rate:.2q}}");
    expect_error(md, "ch.md:8:", "unknown format '.2q'");
    snprintf(md, sizeof md, fig, "labels = run {{nope.id}}");
    expect_error(md, "ch.md:7:", "unknown run 'nope'");
    snprintf(md, sizeof md, fig, "title = Acc {{a.test_accuracy");
    expect_error(md, "ch.md:7:", "without a closing");
    expect_error("# T\n\n```{lrfind} s\nlr_steps = 10\ntitle = Range test, {{s.steepest:.2e}}\n```\n", "ch.md:5:",
                 "unknown metric 'steepest'");
}
END_TEST

START_TEST(test_stable_run_colours)
{
    /* colours need no results: the parsed document is enough */
    const char *md =
        "# T\n\n```{experiment} a\n```\n```{experiment} b\n```\n```{experiment} c\n```\n"
        "```{experiment} r3\n```\n```{experiment} r4\n```\n```{experiment} r5\n```\n"
        "```{experiment} r6\n```\n```{experiment} r7\n```\n```{experiment} r8\n```\n"
        "```{figure} f1\nruns = a, b\nseries = val_loss\n```\n"          /* a 0, b 1 */
        "```{figure} f2\nkind = schedule\nruns = c, a\n```\n"            /* not a history figure */
        "```{figure} f3\nruns = c, a\n```\n"                             /* c 2 */
        "```{figure} f4\nruns = b, c, a\nseries = loss\n```\n"
        "```{figure} f5\nruns = a, b, c, r3, r4, r5, r6, r7\n```\n"      /* r3..r7: 3..7 */
        "```{figure} f6\nruns = r8, b, a, a\n```\n";                     /* r8 wraps to 0 */
    kiln_doc *doc;
    kiln_diag d;
    ck_assert_int_eq(load_text(md, &doc, &d), 0);
    kiln_diag_free(&d);
    ck_assert_int_eq(doc->n_figures, 6);
    kiln_directive **f = doc->figures;
    /* a shared run keeps its colour in every history figure */
    uint32_t a = kr_figure_run_color(doc, f[0], 0), b = kr_figure_run_color(doc, f[0], 1);
    ck_assert_uint_eq(a, KILN_PALETTE(0));
    ck_assert_uint_eq(b, KILN_PALETTE(1));
    uint32_t c = kr_figure_run_color(doc, f[2], 0);
    ck_assert_uint_eq(c, KILN_PALETTE(2));
    ck_assert_uint_eq(kr_figure_run_color(doc, f[2], 1), a);
    ck_assert_uint_eq(kr_figure_run_color(doc, f[3], 0), b);
    ck_assert_uint_eq(kr_figure_run_color(doc, f[3], 1), c);
    ck_assert_uint_eq(kr_figure_run_color(doc, f[3], 2), a);
    ck_assert_uint_eq(kr_figure_run_color(doc, f[4], 0), a);
    ck_assert_uint_eq(kr_figure_run_color(doc, f[4], 1), b);
    ck_assert_uint_eq(kr_figure_run_color(doc, f[4], 2), c);
    for (int i = 3; i < 8; i++) ck_assert_uint_eq(kr_figure_run_color(doc, f[4], i), KILN_PALETTE(i));
    /* a schedule figure keeps colours by position */
    ck_assert_uint_eq(kr_figure_run_color(doc, f[1], 0), KILN_PALETTE(0));
    ck_assert_uint_eq(kr_figure_run_color(doc, f[1], 1), KILN_PALETTE(1));
    /* r8's slot wraps onto a's: r8 comes first in f6 and keeps slot 0, b keeps
     * its own, a (later) takes the next free slot; the same run listed twice
     * keeps one colour */
    ck_assert_uint_eq(kr_figure_run_color(doc, f[5], 0), KILN_PALETTE(0));
    ck_assert_uint_eq(kr_figure_run_color(doc, f[5], 1), b);
    ck_assert_uint_eq(kr_figure_run_color(doc, f[5], 2), KILN_PALETTE(2));
    ck_assert_uint_eq(kr_figure_run_color(doc, f[5], 3), KILN_PALETTE(2));
    /* no history figure shows two different runs in one colour */
    for (int k = 0; k < doc->n_figures; k++) {
        if (f[k]->figure_kind != KILN_FIG_HISTORY) continue;
        for (int i = 0; i < f[k]->n_runs; i++)
            for (int j = 0; j < i; j++)
                if (f[k]->runs[i] != f[k]->runs[j])
                    ck_assert_msg(kr_figure_run_color(doc, f[k], i) != kr_figure_run_color(doc, f[k], j),
                                  "figure %s: runs %d and %d share a colour", f[k]->id, j, i);
    }
    kiln_doc_free(doc);
}
END_TEST

/* ---- values taken from other runs' results; checkpoints ------------------------------- */

START_TEST(test_values_from_runs)
{
    char dir[64], content[128], out[128], p[512];
    article_dirs(dir, content, sizeof content, out, sizeof out, "# R\n\nS.\n");
    const char *chapter =
        "# Range\n\n```{experiment} base\ntrain_limit = 300\ntest_limit = 100\nepochs = 2\nbatch_size = 20\n```\n\n"
        "```{lrfind} sweep\nbase = base\nlr_steps = 12\nstart_lr = 1e-5\nend_lr = 1\n```\n\n"
        "```{experiment} sug\nbase = base\nlearning_rate = {{sweep.steepest_lr:.3g}}\n```\n\n"
        "```{experiment} cyc\nbase = base\nschedule = triangular\nbase_lr = {{sweep.suggested_base_lr:.2g}}\n"
        "max_lr = {{ sweep.suggested_max_lr:.2g }}\nstep_size = 1\nstep_unit = epochs\ncheckpoint = best\n```\n\n"
        "```{experiment} child\nbase = cyc\n```\n\n"
        "```{experiment} over\nbase = cyc\nmax_lr = 0.5\n```\n\n"
        "A[{{sug.learning_rate}}] B[{{sweep.steepest_lr:.3g}}] C[{{cyc.max_lr}}] D[{{sweep.suggested_max_lr:.2g}}] "
        "E[{{child.max_lr}}] F[{{over.max_lr}}] G[{{over.base_lr}}] {{sug.test_loss}} {{child.test_loss}} "
        "{{over.test_loss}} {{cyc.test_loss}} L[{{sweep.last_lr:repr}}] BB[{{sweep.best_batch_lr:repr}}] "
        "BL[{{sweep.best_batch_loss:repr}}]\n\n```{config} cyc\n```\n";
    write_text(content, "01-r.md", chapter);
    kiln_build_stats st;
    kiln_diag d;
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);
    /* the sweep first, then sug, cyc and over; child has cyc's config and key */
    ck_assert_int_eq(st.runs_trained, 4);
    ck_assert_int_eq(st.runs_total, 5);
    snprintf(p, sizeof p, "%s/01-r.html", out);
    char *html = test_read_file(p, NULL);
    char *a = span_text(html, "sug.learning_rate"), *b = span_text(html, "sweep.steepest_lr");
    char *c = span_text(html, "cyc.max_lr"), *dd = span_text(html, "sweep.suggested_max_lr");
    char *e = span_text(html, "child.max_lr"), *f = span_text(html, "over.max_lr"), *g = span_text(html, "over.base_lr");
    ck_assert_str_eq(a, b); /* the value, rounded as asked, is the run's setting */
    ck_assert_str_eq(c, dd);
    ck_assert_str_eq(e, c); /* inherited through base = */
    ck_assert_str_eq(f, "0.5"); /* overridden by a written value */
    ck_assert_double_eq_tol(strtod(g, NULL) * 4, strtod(c, NULL), strtod(c, NULL) * 0.1); /* base = max / 4 */
    /* the listing and the experiment's summary say where the values came from */
    snprintf(p, sizeof p, "# max_lr = %s: sweep.suggested_max_lr:.2g", c);
    ck_assert_msg(strstr(html, p), "'%s' not in the page", p);
    snprintf(p, sizeof p, "max_lr = %s from sweep.suggested_max_lr,", c);
    ck_assert_msg(strstr(html, p), "'%s' not in the page", p);
    ck_assert_ptr_null(strstr(html, "= {{"));
    free(a); free(b); free(c); free(dd); free(e); free(f); free(g);
    /* the range test's last rate and best single batch: inside the sweep */
    char *ll = span_text(html, "sweep.last_lr"), *bb = span_text(html, "sweep.best_batch_lr");
    char *bl = span_text(html, "sweep.best_batch_loss");
    ck_assert_double_ge(strtod(bb, NULL), 1e-5);
    ck_assert_double_le(strtod(bb, NULL), strtod(ll, NULL));
    ck_assert_double_le(strtod(ll, NULL), 1.0);
    ck_assert_double_gt(strtod(bl, NULL), 0);
    free(ll); free(bb); free(bl);
    free(html);
    /* checkpoint = best, inherited through base =: weights files named by the
     * keys of cyc (which child shares) and over; none for sug */
    snprintf(p, sizeof p, "%s/cache/weights", content);
    ck_assert_int_eq(count_files(p, ".kwts"), 2);
    check_site(out);

    /* a rebuild finds every run, the dependent ones included */
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);
    ck_assert_int_eq(st.runs_trained, 0);
    ck_assert_int_eq(st.runs_cached, 5);

    /* a value the key cannot take: found when it is applied, after the sweep */
    char *bad = strdup(chapter);
    char *at = strstr(bad, "{{sweep.steepest_lr:.3g}}\n");
    memcpy(at, "{{sweep.steepest_lr:.1%}}", 25);
    write_text(content, "01-r.md", bad);
    free(bad);
    ck_assert_int_eq(build(content, out, &st, &d), KILN_REPORT_EINPUT); /* the content's fault: exit 2 */
    ck_assert_msg(d.text && strstr(d.text, "01-r.md:19") && strstr(d.text, "formatted as") &&
                      strstr(d.text, "learning_rate"),
                  "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    snprintf(p, sizeof p, "%s/01-r.html", out);
    html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(strstr(html, "A[")); /* the previous site is still there */
    free(html);

    /* errors found when the article is read */
    const char *pre = "# T\n\n```{lrfind} s\nlr_steps = 5\n```\n\n```{experiment} a\n";
    char md[1024];
#define REF_ERROR(body, n1, n2)                                                                                  \
    do {                                                                                                         \
        snprintf(md, sizeof md, "%s%s\n```\n\nSee {{a.test_loss}}.\n", pre, body);                               \
        expect_error(md, n1, n2);                                                                                \
    } while (0)
    REF_ERROR("learning_rate = {{nope.steepest_lr}}", "unknown run 'nope'", "declared runs");
    REF_ERROR("learning_rate = {{a.test_loss}}", "is this run itself", NULL);
    REF_ERROR("learning_rate = {{s.not_a_metric}}", "unknown metric 'not_a_metric'", "steepest_lr");
    REF_ERROR("learning_rate = {{s.learning_rate}}", "a setting of 's', not a result", "base = s");
    REF_ERROR("learning_rate = {{s}}", "malformed reference", "{{RUN.METRIC:FORMAT}}");
    REF_ERROR("learning_rate = {{s.steepest_lr:%d}}", "unknown format '%d'", NULL);
    REF_ERROR("no_such_key = {{s.steepest_lr}}", "unknown key 'no_such_key'", NULL);
    REF_ERROR("checkpoint = sometimes", "checkpoint = 'sometimes'", "best");
    REF_ERROR("checkpoint = best\nvalidation_split = 0", "needs val_loss", NULL);
    REF_ERROR("threads = 3", "cannot be set in the article", NULL);
#undef REF_ERROR
    /* one level only: a value cannot come from a run that takes values itself */
    expect_error("# T\n\n```{lrfind} s\nlr_steps = 5\n```\n\n```{experiment} a\nlearning_rate = {{s.steepest_lr}}\n```\n\n"
                 "```{experiment} b\nlearning_rate = {{a.test_loss}}\n```\n\nSee {{b.test_loss}}.\n",
                 "run 'a' takes values from other runs itself", NULL);
    /* a range test's settings are written out, and it keeps no checkpoints */
    expect_error("# T\n\n```{lrfind} s\nlr_steps = 5\n```\n\n```{lrfind} t\nlearning_rate = {{s.steepest_lr}}\n```\n",
                 "only an {experiment} can do that", NULL);
    expect_error("# T\n\n```{lrfind} s\nlr_steps = 5\n```\n\n```{experiment} a\nlearning_rate = {{s.steepest_lr}}\n```\n\n"
                 "```{lrfind} t\nbase = a\n```\n",
                 "a range test's settings must be written out", NULL);
    expect_error("# T\n\n```{lrfind} s\nlr_steps = 5\ncheckpoint = best\n```\n", "keeps no checkpoints", NULL);
}
END_TEST

START_TEST(test_groups_and_summary_rows)
{
    char dir[64], content[128], out[128], p[512];
    article_dirs(dir, content, sizeof content, out, sizeof out, "# G\n\nS.\n");
    write_text(content, "01-g.md",
               "# Seeds\n\n```{experiment} s1\ntrain_limit = 200\ntest_limit = 100\nepochs = 1\nbatch_size = 50\n```\n\n"
               "```{experiment} s2\nbase = s1\nseed = 2\n```\n\n```{experiment} s3\nbase = s1\nseed = 3\n```\n\n"
               "```{group} seeds\nruns = s1, s2, s3\nlabel = three seeds\n```\n\n"
               "V[{{s1.test_accuracy:repr}}|{{s2.test_accuracy:repr}}|{{s3.test_accuracy:repr}}] "
               "M[{{seeds.mean_test_accuracy:repr}}] SD[{{seeds.sd_test_accuracy:repr}}] "
               "R[{{seeds.range_test_accuracy:repr}}] N[{{seeds.n}}] L[{{seeds.label}}] E[{{seeds.mean_epochs}}]\n\n"
               "```{table} t\nruns = s1, s2, s3\ncolumns = seed, test_accuracy:.4f, optimizer\nsummary = mean, sd\n```\n\n"
               "```{figure} sw\nkind = sweep\nruns = s1, s2, s3\nx = seed\ny = test_loss\nby = optimizer\nlabels = Adam\n```\n");
    kiln_build_stats st;
    kiln_diag d;
    ck_assert_msg(build(content, out, &st, &d) == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    ck_assert_int_eq(st.runs_trained, 3); /* the group's statistic needs its runs */
    snprintf(p, sizeof p, "%s/01-g.html", out);
    char *html = test_read_file(p, NULL);
    double x[3];
    const char *names[3] = {"s1.test_accuracy", "s2.test_accuracy", "s3.test_accuracy"};
    for (int i = 0; i < 3; i++) {
        char *t = span_text(html, names[i]);
        x[i] = strtod(t, NULL);
        free(t);
    }
    double mean = (x[0] + x[1] + x[2]) / 3, ss = 0, lo = x[0], hi = x[0];
    for (int i = 0; i < 3; i++) {
        ss += (x[i] - mean) * (x[i] - mean);
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    char *m = span_text(html, "seeds.mean_test_accuracy"), *sd = span_text(html, "seeds.sd_test_accuracy");
    char *r = span_text(html, "seeds.range_test_accuracy"), *n = span_text(html, "seeds.n");
    char *l = span_text(html, "seeds.label"), *e = span_text(html, "seeds.mean_epochs");
    ck_assert_double_eq_tol(strtod(m, NULL), mean, 1e-12);
    ck_assert_double_eq_tol(strtod(sd, NULL), sqrt(ss / 2), 1e-12);
    ck_assert_double_eq_tol(strtod(r, NULL), hi - lo, 1e-12);
    ck_assert_str_eq(n, "3");
    ck_assert_str_eq(l, "three seeds");
    ck_assert_str_eq(e, "1"); /* a setting works too */
    /* the table ends with a mean and a standard-deviation row */
    char want[256];
    snprintf(want, sizeof want, "<th scope=\"row\">mean</th><td class=\"num\">%.4f</td><td></td>", mean);
    ck_assert_msg(strstr(html, want), "'%s' not in the page", want);
    snprintf(want, sizeof want, "<th scope=\"row\">standard deviation</th><td class=\"num\">%.4f</td><td></td>", sqrt(ss / 2));
    ck_assert_msg(strstr(html, want), "'%s' not in the page", want);
    free(m); free(sd); free(r); free(n); free(l); free(e);
    free(html);
    check_site(out);
    /* the sweep figure: one line (every run uses adam) */
    snprintf(p, sizeof p, "%s/img/sw.png", out);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_gt((int)sb.st_size, 1000);

    const char *pre = "# T\n\n```{experiment} a\n```\n\n```{experiment} b\n```\n\n";
    char md[1024];
    snprintf(md, sizeof md, "%s```{group} g\nruns = a, b\n```\n\n{{g.median_test_loss}}\n", pre);
    expect_error(md, "unknown value 'median_test_loss' of {group} g", "mean_M");
    snprintf(md, sizeof md, "%s```{group} g\nruns = a, b\n```\n\n{{g.mean_no_such_metric}}\n", pre);
    expect_error(md, "unknown value 'mean_no_such_metric'", "mean_test_accuracy");
    snprintf(md, sizeof md, "%s```{group} a\nruns = a, b\n```\n", pre);
    expect_error(md, "duplicate id 'a'", NULL);
    snprintf(md, sizeof md, "%s```{group} g\n```\n", pre);
    expect_error(md, "{group} g: key 'runs' is required", NULL);
    snprintf(md, sizeof md, "%s```{group} g\nruns = a, c\n```\n", pre);
    expect_error(md, "unknown run 'c'", NULL);
    snprintf(md, sizeof md, "%s```{group} g\nruns = a\ncolumns = x\n```\n", pre);
    expect_error(md, "unknown key 'columns'", "runs, label");
    snprintf(md, sizeof md, "%s```{figure} f\nruns = a, b\nx = seed\n```\n", pre);
    expect_error(md, "'x' applies to kind = sweep only", NULL);
    snprintf(md, sizeof md, "%s```{figure} f\nkind = sweep\nruns = a, b\ny = no_such\n```\n", pre);
    expect_error(md, "unknown metric 'no_such'", NULL);
    snprintf(md, sizeof md, "%s```{table} t\nruns = a, b\nsummary = mean, median\n```\n", pre);
    expect_error(md, "summary row 'median'", "mean, sd");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("report");
    TCase *t0 = tcase_create("build");
    tcase_set_timeout(t0, 600);
    tcase_add_test(t0, test_failed_build_keeps_output);
    tcase_add_test(t0, test_lrfind_and_schedule_figures);
    tcase_add_test(t0, test_smoke_build_of_content);
    tcase_add_test(t0, test_article_numbers_from_committed_cache);
    tcase_add_test(t0, test_values_in_titles_and_labels);
    tcase_add_test(t0, test_stable_run_colours);
    tcase_add_test(t0, test_values_from_runs);
    tcase_add_test(t0, test_groups_and_summary_rows);
    tcase_add_test(t0, test_data_sets);
    suite_add_tcase(s, t0);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
