/* The report: directive parsing and its errors, canonical keys, the cache's
 * hit/miss rules, atomic output, the HTML (parsed by libxml2), links and
 * images, and the smoke build of the real content/. */
#include "kiln/plot.h"
#include "kiln/report.h"
#include "resolve/resolve.h" /* kr_figure_run_color */
#include "run/run.h" /* kr_thread_share */
#include "testutil.h"

#include <dirent.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------ */

static kiln_build_opts quiet_opts(void)
{
    kiln_build_opts o = {0};
    o.quiet = 1;
    o.data_dir = test_data_dir();
    o.template_dir = "templates";
    o.jobs = 1;
    o.threads = 2;
    return o;
}

/* Load one chapter from text; returns the status, fills diag. */
static int load_text(const char *md, kiln_doc **doc, kiln_diag *d)
{
    kiln_build_opts o = quiet_opts();
    memset(d, 0, sizeof *d);
    return kiln_doc_load_text(doc, "ch.md", md, &o, d);
}

/* Expect a content error whose text holds each of the needles. */
static void expect_error(const char *md, const char *n1, const char *n2)
{
    kiln_doc *doc = NULL;
    kiln_diag d;
    int rc = load_text(md, &doc, &d);
    ck_assert_int_eq(rc, KILN_REPORT_EINPUT);
    ck_assert_ptr_null(doc);
    ck_assert_ptr_nonnull(d.text);
    ck_assert_msg(strstr(d.text, n1), "'%s' not in: %s", n1, d.text);
    if (n2) ck_assert_msg(strstr(d.text, n2), "'%s' not in: %s", n2, d.text);
    kiln_diag_free(&d);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    ck_assert_int_eq(test_write_file(p, text, strlen(text)), 0);
}

/* A fresh temporary folder DIR with DIR/content/index.md (text) and the
 * path DIR/out for the site. */
static void article_dirs(char *dir, char *content, size_t nc, char *out, size_t no, const char *index)
{
    test_tmpdir(dir);
    snprintf(content, nc, "%s/content", dir);
    snprintf(out, no, "%s/out", dir);
    ck_assert_int_eq(mkdir(content, 0777), 0);
    write_text(content, "index.md", index);
}

static int count_files(const char *dir, const char *suffix)
{
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t l = strlen(e->d_name), s = strlen(suffix);
        if (l > s && !strcmp(e->d_name + l - s, suffix)) n++;
    }
    closedir(dp);
    return n;
}

/* A tiny article: two experiments a few hundred images each (well under a
 * second each), a figure, a table, a result, values. */
static const char *INDEX_MD = "# Tiny article\n\nA summary with a value: {{a.test_accuracy:.1%}}.\n";
static const char *CHAPTER_FMT =
    "# Chapter one\n\n%s\n\n"
    "```{experiment} a\nlabel = run a\ntrain_limit = 300\ntest_limit = 100\nepochs = %d\nbatch_size = 50\n```\n\n"
    "```{experiment} b\nbase = a\nlearning_rate = 0.01\n```\n\n"
    "See {{fig:curves}} and {{table:both}}; a reached {{a.test_loss:.3f}} <b>bold</b>.\n\n"
    "```{figure} curves\nruns = a, b\nseries = loss, val_loss\ncaption = Loss of *a* and b, {{b.learning_rate}}.\n```\n\n"
    "```{result} a\n```\n\n"
    "```{table} both\nruns = a, b\ncolumns = label, learning_rate, test_loss:.4f, test_accuracy:.2%%\n```\n\n"
    "```{config} b\n```\n";

static void write_article(const char *dir, const char *prose, int epochs)
{
    mkdir(dir, 0777);
    write_text(dir, "index.md", INDEX_MD);
    char buf[4096];
    snprintf(buf, sizeof buf, CHAPTER_FMT, prose, epochs);
    write_text(dir, "01-one.md", buf);
}

static int build(const char *content, const char *out, kiln_build_stats *st, kiln_diag *d)
{
    kiln_build_opts o = quiet_opts();
    o.content_dir = content;
    o.out_dir = out;
    memset(d, 0, sizeof *d);
    return kiln_report_build(&o, st, d);
}

/* ---- directive parsing and its errors ------------------------------------------------ */

START_TEST(test_parse_model)
{
    const char *md = "# Title\n\nText {{a.test_loss:.3f}} and {{fig:f}}.\n\n"
                     "```{experiment} a\nlearning_rate = 1e-3\n```\n\n"
                     "```{figure} f\nruns = a\ncaption = The *curve*\n  (k = 0.1, a = b)\n  ends.\nymin = 0\n```\n\n"
                     "```python\nprint(1)\n```\n";
    kiln_doc *doc;
    kiln_diag d;
    ck_assert_int_eq(load_text(md, &doc, &d), 0);
    ck_assert_int_eq(doc->n_chapters, 1);
    ck_assert_str_eq(doc->chapters[0].title, "Title");
    ck_assert_int_eq(doc->n_runs, 1);
    ck_assert_str_eq(doc->runs[0]->id, "a");
    ck_assert(doc->runs[0]->needed);
    ck_assert(fabs(doc->runs[0]->config.learning_rate - 0.001) < 1e-15);
    ck_assert_int_eq(doc->n_figures, 1);
    ck_assert_int_eq(doc->figures[0]->number, 1);
    ck_assert_ptr_nonnull(doc->figures[0]->caption);
    /* an indented line continues the caption even with '=' in it; "ymin ="
     * at the margin is a key */
    const kiln_directive *f = doc->figures[0];
    ck_assert_int_eq(f->n_kv, 3);
    ck_assert_str_eq(f->kv[1].value, "The *curve* (k = 0.1, a = b) ends.");
    ck_assert_str_eq(f->kv[2].key, "ymin");
    /* blocks: heading, paragraph, directive, directive, code */
    const kiln_block *b = doc->chapters[0].blocks;
    ck_assert_int_eq(b->kind, KILN_BL_HEADING);
    b = b->next;
    ck_assert_int_eq(b->kind, KILN_BL_PARAGRAPH);
    int values = 0, refs = 0;
    for (const kiln_inline *in = b->inlines; in; in = in->next) {
        if (in->kind == KILN_IN_VALUE) {
            values++;
            ck_assert_str_eq(in->run_id, "a");
            ck_assert_str_eq(in->metric, "test_loss");
            ck_assert_str_eq(in->format, ".3f");
        }
        if (in->kind == KILN_IN_REF) { refs++; ck_assert_ptr_eq(in->target, doc->figures[0]); }
    }
    ck_assert_int_eq(values, 1);
    ck_assert_int_eq(refs, 1);
    b = b->next;
    ck_assert_int_eq(b->kind, KILN_BL_DIRECTIVE);
    ck_assert_int_eq(b->directive->kind, KILN_DIR_EXPERIMENT);
    b = b->next->next;
    ck_assert_int_eq(b->kind, KILN_BL_CODE);
    ck_assert_str_eq(b->info, "python");
    kiln_doc_free(doc);
    kiln_diag_free(&d);
}
END_TEST

START_TEST(test_err_unknown_directive)
{
    expect_error("# T\n\n```{experimnt} a\nepochs = 1\n```\n", "ch.md:3:", "accepted: {experiment}, {figure}");
}
END_TEST

START_TEST(test_err_unknown_key)
{
    expect_error("# T\n\n```{experiment} a\nepochs = 1\nlearnig_rate = 0.1\n```\n", "ch.md:5:", "unknown key 'learnig_rate'");
    expect_error("# T\n\n```{experiment} a\nlearnig_rate = 0.1\n```\n", "learning_rate", "base, label");
    expect_error("# T\n\n```{experiment} a\n```\n```{figure} f\nruns = a\ncolor = red\n```\n", "ch.md:7:",
                 "accepted: runs, kind, series");
    expect_error("# T\n\n```{experiment} a\nthreads = 4\n```\n", "ch.md:4:", "cannot be set");
}
END_TEST

START_TEST(test_err_malformed_key)
{
    expect_error("# T\n\n```{experiment} a\nlearning_rate = fast\n```\n", "ch.md:4:", "learning_rate");
    expect_error("# T\n\n```{experiment} a\noptimizer = adamw\n```\n", "ch.md:4:", "accepted values: sgd adam");
    expect_error("# T\n\n```{experiment} a\njust some words\n```\n", "ch.md:4:", "expected 'key = value'");
    expect_error("# T\n\n```{experiment} a\nepochs = 1\nepochs = 2\n```\n", "ch.md:5:", "given twice");
    expect_error("# T\n\n```{experiment} a\n```\n```{figure} f\nruns = a\nseries = loss, los\n```\n", "series 'los'",
                 "accepted: loss, val_loss");
    expect_error("# T\n\n```{experiment} a\n```\n```{table} t\nruns = a\ncolumns = test_loss:.3x\n```\n",
                 "unknown format '.3x'", ".Nf");
}
END_TEST

START_TEST(test_err_duplicate_id)
{
    expect_error("# T\n\n```{experiment} a\n```\n\n```{experiment} a\nepochs = 2\n```\n", "ch.md:6: duplicate id 'a'",
                 "ch.md:3");
    expect_error("# T\n\n```{experiment} a\n```\n```{figure} f\nruns = a\n```\n```{figure} f\nruns = a\n```\n",
                 "duplicate id 'f'", NULL);
}
END_TEST

START_TEST(test_err_unknown_references)
{
    expect_error("# T\n\nValue {{nope.test_loss}}.\n\n```{experiment} a\n```\n", "ch.md:3:", "unknown run 'nope'; declared runs: a");
    expect_error("# T\n\nValue {{a.test_los}}.\n\n```{experiment} a\n```\n", "unknown metric 'test_los'", "test_accuracy");
    expect_error("# T\n\n```{experiment} a\n```\n\nSee {{fig:nofig}}.\n", "ch.md:6:", "no {figure} or {lrfind} with id 'nofig'");
    expect_error("# T\n\nSee {{a}}.\n", "malformed reference", "{{RUN.METRIC}}");
    expect_error("# T\n\n```{result} ghost\n```\n", "unknown run 'ghost'", NULL);
    expect_error("# T\n\n```{experiment} a\n```\n```{figure} f\nruns = a, zed\n```\n", "unknown run 'zed'", NULL);
    expect_error("# T\n\n```{experiment} a\nbase = zed\n```\n", "base 'zed' is not a run", NULL);
}
END_TEST

START_TEST(test_err_base_cycle)
{
    expect_error("# T\n\n```{experiment} a\nbase = c\n```\n```{experiment} b\nbase = a\n```\n```{experiment} c\nbase = b\n```\n",
                 "a cycle in 'base ='", "->");
    expect_error("# T\n\n```{experiment} a\nbase = a\n```\n", "a cycle in 'base ='", "a -> a");
}
END_TEST

START_TEST(test_err_ids_cannot_escape)
{
    expect_error("# T\n\n```{experiment} ../../etc\n```\n", "ids are 1 to 48", NULL);
    expect_error("# T\n\n```{figure} a/b\nruns = x\n```\n", "ids are 1 to 48", NULL);
    expect_error("# T\n\n```{experiment}\n```\n", "needs an id", NULL);
}
END_TEST

START_TEST(test_err_missing_content)
{
    kiln_build_opts o = quiet_opts();
    o.content_dir = "/nonexistent/kiln-content";
    kiln_doc *doc = NULL;
    kiln_diag d = {0};
    ck_assert_int_eq(kiln_doc_load(&doc, &o, &d), KILN_REPORT_EINPUT);
    ck_assert_ptr_nonnull(strstr(d.text, "/nonexistent/kiln-content"));
    kiln_diag_free(&d);
    /* and through the command line: exit status 2 */
    const char *bin = getenv("KILN_BIN");
    if (bin) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "%s build -q --content /nonexistent/kiln-content --out /tmp/kiln-none 2>/dev/null", bin);
        int st = system(cmd);
        ck_assert(WIFEXITED(st));
        ck_assert_int_eq(WEXITSTATUS(st), 2);
    }
}
END_TEST

START_TEST(test_base_and_canonical)
{
    /* spelling, order and explicit defaults do not change the config; a
     * base chain gives the same config as writing it out */
    const char *md = "# T\n\n"
                     "```{experiment} a\nlearning_rate = 0.001\nepochs = 3\nbatch_size = 100\n```\n"
                     "```{experiment} b\nbatch_size = 100\nepochs = 3\nlearning_rate = 1e-3\noptimizer = adam\nbeta1 = 0.9\n```\n"
                     "```{experiment} c\nbase = a\n```\n"
                     "```{experiment} d\nbase = c\nlearning_rate = 0.01\n```\n"
                     "```{experiment} e\nepochs = 3\nbatch_size = 100\nlearning_rate = 0.01\n```\n";
    kiln_doc *doc;
    kiln_diag d;
    ck_assert_int_eq(load_text(md, &doc, &d), 0);
    char *can[5];
    for (int i = 0; i < 5; i++) can[i] = kiln_config_canonical(&doc->runs[i]->config);
    ck_assert_str_eq(can[0], can[1]);
    ck_assert_str_eq(can[0], can[2]);
    ck_assert_str_ne(can[0], can[3]);
    ck_assert_str_eq(can[3], can[4]);
    char k0[33], k1[33], k2[33], k3[33];
    kiln_cache_key("train", can[0], "fp1", "data1", k0);
    kiln_cache_key("train", can[1], "fp1", "data1", k1);
    kiln_cache_key("train", can[0], "fp2", "data1", k2);
    kiln_cache_key("train", can[0], "fp1", "data2", k3);
    ck_assert_str_eq(k0, k1);
    ck_assert_str_ne(k0, k2);
    ck_assert_str_ne(k0, k3);
    ck_assert_str_ne(k2, k3);
    ck_assert_int_eq((int)strlen(k0), 32);
    for (int i = 0; i < 5; i++) free(can[i]);
    kiln_doc_free(doc);
    kiln_diag_free(&d);
}
END_TEST

START_TEST(test_formats)
{
    char b[64];
    ck_assert_int_eq(kiln_format_value(0.99190002, ".2%", b, sizeof b), 0);
    ck_assert_str_eq(b, "99.19%");
    kiln_format_value(0.028634486, ".3f", b, sizeof b);
    ck_assert_str_eq(b, "0.029");
    kiln_format_value(1e-5, "sci", b, sizeof b);
    ck_assert_str_eq(b, "10⁻⁵");
    kiln_format_value(2.5e-3, "sci", b, sizeof b);
    ck_assert_str_eq(b, "2.5 × 10⁻³");
    kiln_format_value(0.1, "repr", b, sizeof b);
    ck_assert_str_eq(b, "0.1");
    kiln_format_value(48000, "", b, sizeof b);
    ck_assert_str_eq(b, "48000");
    kiln_format_value(NAN, ".3f", b, sizeof b);
    ck_assert_str_eq(b, "n/a");
    ck_assert_int_eq(kiln_format_value(1, ".3q", b, sizeof b), -1);
    ck_assert_int_eq(kiln_format_value(1, "x", b, sizeof b), -1);
}
END_TEST

START_TEST(test_escaping_and_raw_html)
{
    char dir[64], out[128];
    test_tmpdir(dir);
    snprintf(out, sizeof out, "%s/out", dir);
    write_text(dir, "index.md", "# A 1 < 2 & <i>x</i>\n\nSummary <script>alert(1)</script> and [x](javascript:alert(1)).\n\n<div class=\"raw\">raw block</div>\n");
    write_text(dir, "01-c.md", "# Chapter <b>one</b>\n\nText with `<code>` and <span class=\"raw\">inline html</span>.\n\n[next](02-d.md)\n");
    write_text(dir, "02-d.md", "# Two\n\n[back](01-c.md#chapter-one)\n");
    kiln_build_opts o = quiet_opts();
    o.content_dir = dir;
    o.out_dir = out;
    kiln_diag d = {0};
    kiln_build_stats st;
    ck_assert_int_eq(kiln_report_build(&o, &st, &d), 0);
    ck_assert_ptr_nonnull(strstr(d.text, "--allow-html"));
    kiln_diag_free(&d);
    char p[256];
    snprintf(p, sizeof p, "%s/index.html", out);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_null(strstr(html, "<script>"));
    ck_assert_ptr_null(strstr(html, "javascript:"));
    ck_assert_ptr_null(strstr(html, "<div class=\"raw\">"));
    ck_assert_ptr_nonnull(strstr(html, "A 1 &lt; 2 &amp; "));
    ck_assert_ptr_null(strstr(html, "<i>x</i>"));
    free(html);
    snprintf(p, sizeof p, "%s/01-c.html", out);
    html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(strstr(html, "<code>&lt;code&gt;</code>"));
    ck_assert_ptr_null(strstr(html, "<span class=\"raw\">"));
    ck_assert_ptr_nonnull(strstr(html, "href=\"02-d.html\""));
    free(html);
    /* with --allow-html the raw HTML passes */
    o.allow_html = 1;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_report_build(&o, &st, &d), 0);
    kiln_diag_free(&d);
    html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(strstr(html, "<span class=\"raw\">"));
    free(html);
}
END_TEST

START_TEST(test_err_template_placeholder)
{
    char dir[64], tdir[128], out[128];
    test_tmpdir(dir);
    snprintf(tdir, sizeof tdir, "%s/templates", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    mkdir(tdir, 0777);
    write_text(tdir, "layout.html", "<!DOCTYPE html>\n<title>{{title}}</title>\n<body>\n{{contnet}}\n</body>\n");
    write_text(tdir, "style.css", "body{}\n");
    write_text(dir, "index.md", "# T\n\nS.\n");
    write_text(dir, "01-c.md", "# C\n\nText.\n");
    kiln_build_opts o = quiet_opts();
    o.content_dir = dir;
    o.out_dir = out;
    o.template_dir = tdir;
    kiln_diag d = {0};
    ck_assert_int_eq(kiln_report_build(&o, NULL, &d), KILN_REPORT_EINPUT);
    ck_assert_msg(strstr(d.text, "layout.html:4: unknown placeholder '{{contnet}}'"), "%s", d.text);
    ck_assert_ptr_nonnull(strstr(d.text, "accepted: title, site_title"));
    kiln_diag_free(&d);
}
END_TEST

/* ---- the cache: hit / miss rules ------------------------------------------------------- */

START_TEST(test_cache_rules)
{
    char dir[64], content[128], out[128], cache[160];
    test_tmpdir(dir);
    snprintf(content, sizeof content, "%s/content", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(cache, sizeof cache, "%s/cache", out);
    kiln_build_stats st;
    kiln_diag d;

    write_article(content, "First prose.", 1);
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);
    ck_assert_int_eq(st.runs_total, 2);
    ck_assert_int_eq(st.runs_trained, 2);
    ck_assert_int_eq(count_files(cache, ".json"), 2);

    /* a prose edit reruns nothing */
    write_article(content, "Entirely different prose, *emphasised*.", 1);
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);
    ck_assert_int_eq(st.runs_trained, 0);
    ck_assert_int_eq(st.runs_cached, 2);

    /* a config edit reruns that run (b has base = a, so both change here) */
    write_article(content, "Prose.", 2);
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);
    ck_assert_int_eq(st.runs_trained, 2);
    ck_assert_int_eq(count_files(cache, ".json"), 4); /* old entries stay */

    /* editing only b reruns only b */
    char p[256], *text;
    snprintf(p, sizeof p, "%s/01-one.md", content);
    text = test_read_file(p, NULL);
    char *lr = strstr(text, "learning_rate = 0.01");
    ck_assert_ptr_nonnull(lr);
    memcpy(lr, "learning_rate = 0.02", 20);
    ck_assert_int_eq(test_write_file(p, text, strlen(text)), 0);
    free(text);
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);
    ck_assert_int_eq(st.runs_trained, 1);
    ck_assert_int_eq(st.runs_cached, 1);

    /* a truncated entry is detected, reported and recomputed */
    kiln_build_opts o = quiet_opts();
    o.content_dir = content;
    o.out_dir = out;
    kiln_doc *doc;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_doc_load(&doc, &o, &d), 0);
    o.no_run = 1;
    doc->opts.no_run = 1;
    ck_assert_int_eq(kiln_doc_run(doc, &st, &d), 0);
    char entry[256];
    snprintf(entry, sizeof entry, "%s/%s.json", cache, doc->runs[0]->key);
    size_t len;
    text = test_read_file(entry, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(test_write_file(entry, text, len / 2), 0);
    kiln_doc_free(doc);
    kiln_diag_free(&d);
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    ck_assert_int_eq(st.runs_corrupt, 1);
    ck_assert_int_eq(st.runs_trained, 1);
    ck_assert_msg(d.text && strstr(d.text, "damaged"), "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    /* a changed number inside a well-formed entry fails its check sum */
    char *t2 = test_read_file(entry, &len);
    ck_assert_ptr_nonnull(t2);
    char *tl = strstr(t2, "\"test_loss\": ");
    ck_assert_ptr_nonnull(tl);
    tl += 13;
    *tl = *tl == '1' ? '2' : '1';
    ck_assert_int_eq(test_write_file(entry, t2, len), 0);
    free(t2);
    free(text);
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    ck_assert_int_eq(st.runs_corrupt, 1);
    kiln_diag_free(&d);

    /* a different trainer fingerprint misses everything */
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_doc_load(&doc, &o, &d), 0);
    doc->opts.no_run = 1;
    ck_assert_int_eq(kiln_doc_run(doc, &st, &d), 0); /* same trainer: all cached */
    kiln_doc_free(doc);
    kiln_diag_free(&d);
    memset(&d, 0, sizeof d);
    memset(&st, 0, sizeof st);
    ck_assert_int_eq(kiln_doc_load(&doc, &o, &d), 0);
    doc->opts.no_run = 1;
    doc->trainer_fingerprint = "a-changed-trainer";
    ck_assert_int_eq(kiln_doc_run(doc, &st, &d), KILN_REPORT_EFAIL);
    ck_assert_ptr_nonnull(strstr(d.text, "no cached result"));
    ck_assert_int_eq(st.runs_cached, 0);
    kiln_doc_free(doc);
    kiln_diag_free(&d);

    /* a result that cannot be stored fails the run and the build, names the
     * entry, and leaves the previous site in place: here the entry's path is
     * a folder (permissions would not stop root, which CI may be) */
    char *page_before = NULL;
    snprintf(p, sizeof p, "%s/01-one.html", out);
    page_before = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(page_before);
    write_article(content, "Prose for a run that cannot be stored.", 3);
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_doc_load(&doc, &o, &d), 0);
    doc->opts.no_run = 1;
    kiln_doc_run(doc, &st, &d); /* sets the keys; nothing is cached for 3 epochs */
    char blocker[256];
    snprintf(blocker, sizeof blocker, "%s/%s.json", cache, doc->runs[0]->key);
    kiln_doc_free(doc);
    kiln_diag_free(&d);
    ck_assert_int_eq(mkdir(blocker, 0777), 0);
    char inside[300];
    snprintf(inside, sizeof inside, "%s/keep", blocker);
    ck_assert_int_eq(test_write_file(inside, "x", 1), 0);
    ck_assert_int_eq(build(content, out, &st, &d), KILN_REPORT_EFAIL);
    ck_assert_msg(d.text && strstr(d.text, "run 'a' failed") && strstr(d.text, blocker), "%s", d.text ? d.text : "");
    ck_assert_int_ge(st.runs_failed, 1);
    kiln_diag_free(&d);
    char *page_after = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(page_after);
    ck_assert_str_eq(page_after, page_before);
    free(page_before);
    free(page_after);
    unlink(inside);
    rmdir(blocker);
}
END_TEST

START_TEST(test_concurrent_builds)
{
    char dir[64], content[128], out[128], cache[160];
    test_tmpdir(dir);
    snprintf(content, sizeof content, "%s/content", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(cache, sizeof cache, "%s/cache", out);
    write_article(content, "Concurrent.", 1);
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            kiln_build_stats st;
            kiln_diag d;
            int rc = build(content, out, &st, &d);
            _exit(rc ? 10 + rc : st.runs_trained);
        }
    }
    int trained = 0;
    for (int i = 0; i < 2; i++) {
        int status;
        waitpid(kids[i], &status, 0);
        ck_assert(WIFEXITED(status));
        ck_assert_int_lt(WEXITSTATUS(status), 10);
        trained += WEXITSTATUS(status);
    }
    /* the lock makes the second build wait and then find both results */
    ck_assert_int_eq(trained, 2);
    ck_assert_int_eq(count_files(cache, ".json"), 2);
    kiln_build_stats st;
    kiln_diag d;
    kiln_build_opts o = quiet_opts();
    o.content_dir = content;
    o.out_dir = out;
    o.no_run = 1;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_report_build(&o, &st, &d), 0);
    ck_assert_int_eq(st.runs_cached, 2);
    kiln_diag_free(&d);
}
END_TEST

/* ---- the scheduler: idle cores go to the runs still training ---------------------------- */

START_TEST(test_thread_share)
{
    /* 2 cores, 2 runs: one each; 1 run left: both */
    ck_assert_int_eq(kr_thread_share(2, 2, 0), 1);
    ck_assert_int_eq(kr_thread_share(2, 2, 1), 1);
    ck_assert_int_eq(kr_thread_share(2, 1, 0), 2);
    /* 16 cores over 3 runs: 6 + 5 + 5, every core used */
    ck_assert_int_eq(kr_thread_share(16, 3, 0), 6);
    ck_assert_int_eq(kr_thread_share(16, 3, 1), 5);
    ck_assert_int_eq(kr_thread_share(16, 3, 2), 5);
    /* more runs than cores: never 0 */
    ck_assert_int_eq(kr_thread_share(2, 5, 4), 1);
    ck_assert_int_eq(kr_thread_share(0, 0, 0), 1);
}
END_TEST

/* The provenance "threads" of the entry of run `id` in cache and its result
 * without the wall times, as compact JSON text (0 when absent). */
static int entry_of(const char *cache, const char *id, char *threads, size_t nt, char *check, size_t nc)
{
    DIR *dp = opendir(cache);
    ck_assert_ptr_nonnull(dp);
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(dp))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json")) continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", cache, e->d_name);
        json_t *root = json_load_file(p, 0, NULL);
        if (!root) continue;
        const char *rid = json_string_value(json_object_get(root, "id"));
        if (rid && !strcmp(rid, id)) {
            const char *t = json_string_value(json_object_get(json_object_get(root, "provenance"), "threads"));
            json_t *res = json_object_get(root, "result");
            json_object_del(res, "seconds");
            json_object_del(json_object_get(res, "epochs"), "seconds");
            char *c = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
            snprintf(threads, nt, "%s", t ? t : "");
            ck_assert_ptr_nonnull(c);
            ck_assert_uint_lt(strlen(c), nc);
            snprintf(check, nc, "%s", c);
            free(c);
            found = 1;
        }
        json_decref(root);
    }
    closedir(dp);
    return found;
}

START_TEST(test_idle_cores_go_to_running_runs)
{
    /* a long run and a short one, two at a time on two cores: when the
     * short one ends, the long one trains on with both cores (its entry says
     * "1-2"), and its result is bit for bit the one a build of one run at a
     * time on two threads stores */
    char dir[64], content[128], out[128], cache[160], out1[128], cache1[160];
    test_tmpdir(dir);
    snprintf(content, sizeof content, "%s/content", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(cache, sizeof cache, "%s/cache", out);
    snprintf(out1, sizeof out1, "%s/out1", dir);
    snprintf(cache1, sizeof cache1, "%s/cache", out1);
    ck_assert_int_eq(mkdir(content, 0777), 0);
    write_text(content, "index.md", "# Two runs\n\nA long one and a short one.\n");
    write_text(content, "01-runs.md",
               "# The runs\n\n"
               "```{experiment} long\ntrain_limit = 1500\ntest_limit = 100\nepochs = 2\nbatch_size = 50\n```\n\n"
               "```{experiment} tiny\ntrain_limit = 150\ntest_limit = 50\nepochs = 1\nbatch_size = 50\n```\n\n"
               "```{table} both\nruns = long, tiny\ncolumns = test_loss\n```\n");
    kiln_build_opts o = quiet_opts();
    o.content_dir = content;
    o.out_dir = out;
    o.quiet = 0;
    o.jobs = 2;
    o.threads = 2;
    char *logtext = NULL;
    size_t loglen = 0;
    o.log = open_memstream(&logtext, &loglen);
    kiln_build_stats st;
    kiln_diag d = {0};
    int rc = kiln_report_build(&o, &st, &d);
    ck_assert_msg(rc == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    fclose(o.log);
    ck_assert_int_eq(st.runs_trained, 2);
    ck_assert_msg(strstr(logtext, "2 at a time, 1 thread each, more once fewer runs remain than cores"), "%s", logtext);
    /* the run that ended last had the other's core for its last part */
    const char *dl = strstr(logtext, " long done in "), *dt = strstr(logtext, " tiny done in ");
    ck_assert_ptr_nonnull(dl);
    ck_assert_ptr_nonnull(dt);
    const char *last = dl > dt ? "long" : "tiny";
    char threads[32], threads1[32];
    static char check[1 << 16], check1[1 << 16];
    ck_assert(entry_of(cache, last, threads, sizeof threads, check, sizeof check));
    ck_assert_str_eq(threads, "1-2");
    free(logtext);

    /* one run at a time on 2 threads: the same results */
    kiln_build_opts o1 = quiet_opts();
    o1.content_dir = content;
    o1.out_dir = out1;
    o1.jobs = 1;
    o1.threads = 2;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_report_build(&o1, &st, &d), 0);
    kiln_diag_free(&d);
    const char *ids[] = {"long", "tiny"};
    for (int i = 0; i < 2; i++) {
        ck_assert(entry_of(cache, ids[i], threads, sizeof threads, check, sizeof check));
        ck_assert(entry_of(cache1, ids[i], threads1, sizeof threads1, check1, sizeof check1));
        ck_assert_str_eq(threads1, "2");
        ck_assert_msg(strstr(check, "\"steps\""), "%s", check);
        ck_assert_msg(!strcmp(check, check1), "%s: the result with -j2 differs from the one with -j1", ids[i]);
    }
}
END_TEST

/* ---- atomic output ----------------------------------------------------------------------- */

START_TEST(test_failed_build_keeps_output)
{
    char dir[64], content[128], out[128], p[256];
    test_tmpdir(dir);
    snprintf(content, sizeof content, "%s/content", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    write_article(content, "Good prose.", 1);
    kiln_build_stats st;
    kiln_diag d;
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);
    snprintf(p, sizeof p, "%s/01-one.html", out);
    char *before = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(before);

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

/* ---- the HTML: parses, links and images resolve ---------------------------------------------- */

typedef struct html_errs {
    int n;
    char first[512];
} html_errs;

static void on_html_error(void *ud, xmlErrorPtr e)
{
    html_errs *h = ud;
    /* libxml2's HTML parser predates HTML5: <figure>, <nav>, <main> ... are
     * "unknown tags" to it, which is not an error in the page */
    if (e->code == XML_HTML_UNKNOWN_TAG) return;
    if (!h->n++) snprintf(h->first, sizeof h->first, "line %d: %s", e->line, e->message);
}

static int has_id(xmlNode *n, const char *id)
{
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE) {
            xmlChar *v = xmlGetProp(n, (const xmlChar *)"id");
            int hit = v && !strcmp((const char *)v, id);
            xmlFree(v);
            if (hit || has_id(n->children, id)) return 1;
        }
    }
    return 0;
}

static void check_refs(const char *dir, const char *page, xmlNode *root, xmlNode *n, int *checked)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        const char *attr = !xmlStrcmp(n->name, (const xmlChar *)"img") ? "src"
                         : (!xmlStrcmp(n->name, (const xmlChar *)"a") || !xmlStrcmp(n->name, (const xmlChar *)"link")) ? "href"
                         : NULL;
        xmlChar *v = attr ? xmlGetProp(n, (const xmlChar *)attr) : NULL;
        if (v && !strstr((const char *)v, "://")) {
            char target[512], frag[256] = "";
            snprintf(target, sizeof target, "%s", (const char *)v);
            char *h = strchr(target, '#');
            if (h) { snprintf(frag, sizeof frag, "%s", h + 1); *h = 0; }
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, target[0] ? target : page);
            struct stat st;
            ck_assert_msg(stat(path, &st) == 0 && st.st_size > 0, "%s: broken %s '%s'", page, attr, (const char *)v);
            if (frag[0]) {
                int found;
                if (!target[0] || !strcmp(target, page)) found = has_id(root, frag);
                else {
                    htmlDocPtr other = htmlReadFile(path, "utf-8", HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
                    found = other && has_id(xmlDocGetRootElement(other), frag);
                    xmlFreeDoc(other);
                }
                ck_assert_msg(found, "%s: link '%s' points to a missing anchor", page, (const char *)v);
            }
            ++*checked;
        }
        xmlFree(v);
        check_refs(dir, page, root, n->children, checked);
    }
}

/* Every .html page in dir parses without errors and has no broken links or
 * images. Returns the number of pages. */
static int check_site(const char *dir)
{
    DIR *dp = opendir(dir);
    ck_assert_ptr_nonnull(dp);
    struct dirent *e;
    int pages = 0, refs = 0;
    while ((e = readdir(dp))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".html")) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        html_errs errs = {0};
        xmlSetStructuredErrorFunc(&errs, on_html_error);
        htmlDocPtr doc = htmlReadFile(path, "utf-8", HTML_PARSE_NONET);
        xmlSetStructuredErrorFunc(NULL, NULL);
        ck_assert_msg(doc != NULL, "%s does not parse", path);
        ck_assert_msg(errs.n == 0, "%s: %d HTML errors, first %s", path, errs.n, errs.first);
        xmlNode *root = xmlDocGetRootElement(doc);
        check_refs(dir, e->d_name, root, root, &refs);
        xmlFreeDoc(doc);
        pages++;
    }
    closedir(dp);
    ck_assert_int_gt(refs, 0);
    return pages;
}

START_TEST(test_html_parses_and_links)
{
    char dir[64], content[128], out[128];
    test_tmpdir(dir);
    snprintf(content, sizeof content, "%s/content", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    write_article(content, "Links: [appendix](appendix.html), [home](index.md).", 1);
    kiln_build_stats st;
    kiln_diag d;
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);
    ck_assert_int_eq(check_site(out), 3); /* index, chapter, appendix */
    char p[256];
    snprintf(p, sizeof p, "%s/01-one.html", out);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(strstr(html, "<a class=\"ref\" href=\"#fig-curves\">Figure 1</a>"));
    ck_assert_ptr_nonnull(strstr(html, "<a class=\"ref\" href=\"#table-both\">Table 1</a>"));
    ck_assert_ptr_nonnull(strstr(html, "Test loss: "));
    ck_assert_ptr_null(strstr(html, "{{"));
    free(html);
    snprintf(p, sizeof p, "%s/results.json", out);
    html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(strstr(html, "\"test_accuracy\""));
    free(html);
    snprintf(p, sizeof p, "%s/img/curves.png", out);
    struct stat s;
    ck_assert_int_eq(stat(p, &s), 0);
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

START_TEST(test_smoke_build_of_content)
{
    kiln_build_opts o = quiet_opts();
    o.content_dir = "content";
    o.smoke = 1;
    o.jobs = 2;
    o.threads = 2;
    kiln_diag d = {0};
    kiln_build_stats st;
    int rc = kiln_report_build(&o, &st, &d);
    ck_assert_msg(rc == 0, "smoke build of content/ failed:\n%s", d.text ? d.text : "");
    ck_assert_int_eq(st.runs_failed, 0);
    ck_assert_int_gt(st.runs_total, 0);
    kiln_diag_free(&d);
    check_site("out/smoke");
    /* no directive or value left unresolved */
    char *html = test_read_file("out/smoke/01-fixed-learning-rates.html", NULL);
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_null(strstr(html, "{{"));
    ck_assert_ptr_null(strstr(html, "n/a"));
    free(html);
    check_numbers_from_cache("out/smoke", "out/smoke/cache");
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
    json_t *man = json_load_file("out/cache/manifest/build.json", 0, &je);
    ck_assert_msg(man != NULL, "out/cache/manifest/build.json: %s", je.text);
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
    DIR *dp = opendir("out/cache");
    ck_assert_ptr_nonnull(dp);
    int copied = 0;
    for (struct dirent *e; (e = readdir(dp));) {
        size_t l = strlen(e->d_name);
        if (l != 37 || strcmp(e->d_name + 32, ".json")) continue;
        char from[512], to[512];
        snprintf(from, sizeof from, "out/cache/%s", e->d_name);
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

    /* the page shows the expanded title: figure caption and alt text */
    snprintf(p, sizeof p, "%s/01-one.html", out);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    snprintf(want, sizeof want, "alt=\"Test accuracy %s against %s\"", acc_a, acc_b);
    ck_assert_msg(strstr(html, want), "'%s' not in the page", want);
    snprintf(want, sizeof want, "Figure 1.</span> Test accuracy %s against %s</figcaption>", acc_a, acc_b);
    ck_assert_msg(strstr(html, want), "'%s' not in the page", want);
    ck_assert_ptr_nonnull(strstr(html, "alt=\"Loss of a, see Figure 1\""));
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

/* ---- range-test keys, base = and a schedule switch, --prune ---------------------------- */

/* Load md, compute every run's key without training (a --no-run pass over an
 * empty cache: the keys are set even though nothing is found). */
static kiln_doc *load_with_keys(const char *md)
{
    char dir[64];
    test_tmpdir(dir);
    kiln_build_opts o = quiet_opts();
    o.cache_dir = dir;
    o.no_run = 1;
    kiln_doc *doc = NULL;
    kiln_diag d = {0};
    ck_assert_msg(kiln_doc_load_text(&doc, "ch.md", md, &o, &d) == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    memset(&d, 0, sizeof d);
    kiln_build_stats st = {0};
    kiln_doc_run(doc, &st, &d); /* fails: nothing is cached; the keys are set first */
    kiln_diag_free(&d);
    for (int i = 0; i < doc->n_runs; i++) ck_assert_int_eq((int)strlen(doc->runs[i]->key), 32);
    return doc;
}

static kiln_run *find_run_by_id(const kiln_doc *doc, const char *id)
{
    for (int i = 0; i < doc->n_runs; i++)
        if (!strcmp(doc->runs[i]->id, id)) return doc->runs[i];
    ck_abort_msg("no run '%s'", id);
    return NULL;
}

static const char *key_of(const kiln_doc *doc, const char *id) { return find_run_by_id(doc, id)->key; }

START_TEST(test_lrfind_key_ignores_unused_keys)
{
    const char *md =
        "# T\n\n"
        "```{experiment} e1\ntrain_limit = 300\nbatch_size = 50\nepochs = 3\n```\n"
        /* everything a range test never reads, changed */
        "```{experiment} e2\nbase = e1\nepochs = 9\nlearning_rate = 0.01\ndecay = 1e-4\nschedule = step\n"
        "step_drop = 0.3\nstep_every = 2\nearly_stopping = true\nes_patience = 2\nstop_on_nan = true\n"
        "test_limit = 100\n```\n"
        "```{experiment} e3\nbase = e1\noptimizer = sgd\n```\n"
        "```{lrfind} s1\nbase = e1\nlr_steps = 5\n```\n"
        "```{lrfind} s2\nbase = e2\nlr_steps = 5\n```\n"
        /* the same range test written out, differing only in epochs */
        "```{lrfind} s3\ntrain_limit = 300\nbatch_size = 50\nepochs = 7\nlr_steps = 5\n```\n"
        "```{lrfind} s4\nbase = e1\nepochs = 11\nlr_steps = 5\n```\n"
        /* what a range test does read */
        "```{lrfind} s5\nbase = e1\nbatch_size = 25\nlr_steps = 5\n```\n"
        "```{lrfind} s6\nbase = e1\nseed = 2\nlr_steps = 5\n```\n"
        "```{lrfind} s7\nbase = e3\nlr_steps = 5\n```\n"
        "```{lrfind} s8\nbase = e1\nlr_steps = 6\n```\n"
        "```{lrfind} s9\nbase = e1\ntrain_limit = 400\nlr_steps = 5\n```\n";
    kiln_doc *doc = load_with_keys(md);
    const char *k1 = key_of(doc, "s1");
    ck_assert_str_eq(k1, key_of(doc, "s2"));
    ck_assert_str_eq(k1, key_of(doc, "s3"));
    ck_assert_str_eq(k1, key_of(doc, "s4"));
    const char *differ[] = {"s5", "s6", "s7", "s8", "s9"};
    for (int i = 0; i < 5; i++) ck_assert_msg(strcmp(k1, key_of(doc, differ[i])), "%s has s1's key", differ[i]);
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++) ck_assert_str_ne(key_of(doc, differ[i]), key_of(doc, differ[j]));
    /* experiments: the key still covers every result-affecting key */
    ck_assert_str_ne(key_of(doc, "e1"), key_of(doc, "e2"));
    for (int i = 0; i < doc->n_runs; i++) {
        kiln_run *r = doc->runs[i];
        if (r->kind != KILN_RUN_TRAIN) continue;
        char *c = kiln_config_canonical(&r->config);
        ck_assert_str_eq(r->canonical, c);
        free(c);
    }
    /* the run's own config is left as declared; only its key text is reset */
    kiln_run *s2 = find_run_by_id(doc, "s2");
    ck_assert_int_eq(s2->config.epochs, 9);
    ck_assert_str_eq(s2->config.schedule, "step");
    ck_assert_ptr_nonnull(strstr(s2->canonical, "lrfind.steps=5\n"));
    ck_assert_ptr_nonnull(strstr(s2->canonical, "schedule=constant\n"));
    ck_assert_ptr_null(strstr(s2->canonical, "step_drop"));
    ck_assert_ptr_null(strstr(s2->canonical, "es_patience"));
    kiln_doc_free(doc);
}
END_TEST

START_TEST(test_base_switches_schedule)
{
    /* the base sets learning_rate; the derived run switches to a cyclical
     * schedule, which never reads it */
    const char *md =
        "# T\n\n"
        "```{experiment} a\nlearning_rate = 0.01\nepochs = 3\n```\n"
        "```{experiment} b\nbase = a\nschedule = triangular\nbase_lr = 1e-4\nmax_lr = 1e-2\n```\n"
        "```{experiment} b2\nepochs = 3\nschedule = triangular\nbase_lr = 1e-4\nmax_lr = 1e-2\n```\n"
        "```{experiment} oc\nbase = a\nschedule = one_cycle\nmax_lr = 0.005\n```\n"
        /* the base has a step schedule and its keys; the derived run is constant */
        "```{experiment} s\nepochs = 3\nschedule = step\nstep_drop = 0.2\nstep_every = 5\n```\n"
        "```{experiment} k\nbase = s\nschedule = constant\n```\n"
        "```{experiment} k2\nepochs = 3\n```\n"
        "```{experiment} x\nbase = s\nschedule = exponential\nexp_k = 0.2\n```\n"
        /* early stopping switched off in the derived run */
        "```{experiment} es\nepochs = 3\nearly_stopping = true\nes_patience = 2\n```\n"
        "```{experiment} nes\nbase = es\nearly_stopping = false\n```\n"
        /* a chain: the derived run's keys hold for its own children */
        "```{experiment} g\nbase = b\nepochs = 4\n```\n"
        "```{lrfind} r\nbase = b\nlr_steps = 5\n```\n";
    kiln_doc *doc;
    kiln_diag d;
    ck_assert_msg(load_text(md, &doc, &d) == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    const char *same[][2] = {{"b", "b2"}, {"k", "k2"}};
    for (int i = 0; i < 2; i++) {
        char *c1 = kiln_config_canonical(&find_run_by_id(doc, same[i][0])->config);
        char *c2 = kiln_config_canonical(&find_run_by_id(doc, same[i][1])->config);
        ck_assert_msg(!strcmp(c1, c2), "%s and %s differ:\n%s\n---\n%s", same[i][0], same[i][1], c1, c2);
        free(c1);
        free(c2);
    }
    ck_assert_str_eq(find_run_by_id(doc, "g")->config.schedule, "triangular");
    ck_assert_str_eq(find_run_by_id(doc, "oc")->config.schedule, "one_cycle");
    ck_assert_str_eq(find_run_by_id(doc, "x")->config.schedule, "exponential");
    ck_assert_int_eq(find_run_by_id(doc, "nes")->config.early_stopping, 0);
    kiln_doc_free(doc);

    /* a contradiction within one directive is still an error naming the key */
    expect_error("# T\n\n```{experiment} a\nschedule = triangular\nlearning_rate = 0.01\n```\n", "ch.md:3:",
                 "key 'learning_rate'");
    expect_error("# T\n\n```{experiment} a\nepochs = 3\n```\n"
                 "```{experiment} b\nbase = a\nschedule = triangular\nlearning_rate = 0.01\n```\n",
                 "{experiment} b: key 'learning_rate'", "base_lr and max_lr");
    expect_error("# T\n\n```{experiment} a\nlearning_rate = 0.01\n```\n"
                 "```{experiment} b\nbase = a\nschedule = triangular\nlearning_rate = 0.02\n```\n",
                 "{experiment} b: key 'learning_rate'", NULL);
    expect_error("# T\n\n```{experiment} s\nschedule = step\nstep_drop = 0.2\n```\n"
                 "```{experiment} k\nbase = s\nschedule = constant\nstep_drop = 0.3\n```\n",
                 "{experiment} k: key 'step_drop'", "schedule=step");
    expect_error("# T\n\n```{experiment} s\nschedule = step\n```\n"
                 "```{experiment} k\nbase = s\nexp_k = 0.3\n```\n",
                 "{experiment} k: key 'exp_k'", "schedule=exponential");
    expect_error("# T\n\n```{experiment} es\nearly_stopping = true\n```\n"
                 "```{experiment} k\nbase = es\nearly_stopping = false\nes_patience = 3\n```\n",
                 "{experiment} k: key 'es_patience'", "early_stopping=true");
}
END_TEST

static int file_exists(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat s;
    return stat(p, &s) == 0;
}

START_TEST(test_prune)
{
    char dir[64], content[128], out[128], cache[160], tdir[160];
    test_tmpdir(dir);
    snprintf(content, sizeof content, "%s/content", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(cache, sizeof cache, "%s/cache", out);
    kiln_build_stats st;
    kiln_diag d;
    kiln_build_opts o = quiet_opts();
    o.content_dir = content;
    o.out_dir = out;

    /* two builds leave four entries: the second's two and the first's */
    write_article(content, "Prose.", 1);
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);
    write_article(content, "Prose.", 2);
    ck_assert_int_eq(build(content, out, &st, &d), 0);
    kiln_diag_free(&d);
    ck_assert_int_eq(st.runs_trained, 2);
    ck_assert_int_eq(count_files(cache, ".json"), 4);
    ck_assert(file_exists(cache, "manifest/build.json"));
    ck_assert(file_exists(cache, "build.lock"));
    /* files that are not KEY.json entries are never pruned */
    write_text(cache, "notes.json", "{}");
    write_text(cache, "README", "mine");
    write_text(cache, "0123456789abcdef0123456789abcdef.json.tmp.1", "half");

    /* a failed build prunes nothing: a content error ... */
    write_article(content, "Bad {{a.no_such_metric}}.", 2);
    o.prune = 1;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_report_build(&o, &st, &d), KILN_REPORT_EINPUT);
    kiln_diag_free(&d);
    ck_assert_int_eq(count_files(cache, ".json"), 5);
    /* ... a failure after the runs (a template error) ... */
    snprintf(tdir, sizeof tdir, "%s/tpl", dir);
    mkdir(tdir, 0777);
    write_text(tdir, "layout.html", "{{content}} {{nonsense}}");
    write_text(tdir, "style.css", "");
    write_article(content, "Prose.", 2);
    o.template_dir = tdir;
    memset(&d, 0, sizeof d);
    ck_assert_int_ne(kiln_report_build(&o, &st, &d), 0);
    kiln_diag_free(&d);
    ck_assert_int_eq(count_files(cache, ".json"), 5);
    /* ... and a missing result under --no-run (the epochs = 3 runs are new) */
    write_article(content, "Prose.", 3);
    o.template_dir = "templates";
    o.no_run = 1;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_report_build(&o, &st, &d), KILN_REPORT_EFAIL);
    kiln_diag_free(&d);
    ck_assert_int_eq(count_files(cache, ".json"), 5);

    /* a good build prunes exactly the entries it did not use */
    write_article(content, "Prose.", 2);
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_report_build(&o, &st, &d), 0);
    kiln_diag_free(&d);
    ck_assert_int_eq(st.runs_cached, 2);
    ck_assert_int_eq(count_files(cache, ".json"), 3); /* the two entries and notes.json */
    kiln_doc *doc;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_doc_load(&doc, &o, &d), 0);
    ck_assert_int_eq(kiln_doc_run(doc, &st, &d), 0); /* no_run: both still cached */
    for (int i = 0; i < doc->n_runs; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.json", doc->runs[i]->key);
        ck_assert(file_exists(cache, name));
    }
    kiln_doc_free(doc);
    kiln_diag_free(&d);
    ck_assert(file_exists(cache, "manifest/build.json"));
    ck_assert(file_exists(cache, "build.lock"));
    ck_assert(file_exists(cache, "notes.json"));
    ck_assert(file_exists(cache, "README"));
    ck_assert(file_exists(cache, "0123456789abcdef0123456789abcdef.json.tmp.1"));
    /* and a second prune finds nothing more to delete */
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(kiln_report_build(&o, &st, &d), 0);
    kiln_diag_free(&d);
    ck_assert_int_eq(count_files(cache, ".json"), 3);
}
END_TEST

/* ---- values taken from other runs' results; checkpoints ------------------------------- */

/* The text of the first <span ... title="TITLE">TEXT</span> in html. */
static char *span_text(const char *html, const char *title)
{
    char needle[128];
    snprintf(needle, sizeof needle, "title=\"%s\">", title);
    const char *p = strstr(html, needle);
    ck_assert_msg(p != NULL, "no value %s in the page", title);
    p += strlen(needle);
    const char *e = strstr(p, "</span>");
    ck_assert_ptr_nonnull(e);
    return strndup(p, (size_t)(e - p));
}

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
    snprintf(p, sizeof p, "%s/cache/weights", out);
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
    ck_assert_int_eq(build(content, out, &st, &d), KILN_REPORT_EFAIL);
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
    TCase *p = tcase_create("parse");
    tcase_add_test(p, test_parse_model);
    tcase_add_test(p, test_thread_share);
    tcase_add_test(p, test_err_unknown_directive);
    tcase_add_test(p, test_err_unknown_key);
    tcase_add_test(p, test_err_malformed_key);
    tcase_add_test(p, test_err_duplicate_id);
    tcase_add_test(p, test_err_unknown_references);
    tcase_add_test(p, test_err_base_cycle);
    tcase_add_test(p, test_err_ids_cannot_escape);
    tcase_add_test(p, test_err_missing_content);
    tcase_add_test(p, test_base_and_canonical);
    tcase_add_test(p, test_formats);
    tcase_add_test(p, test_base_switches_schedule);
    tcase_add_test(p, test_stable_run_colours);
    suite_add_tcase(s, p);
    TCase *w = tcase_create("write");
    tcase_add_test(w, test_escaping_and_raw_html);
    tcase_add_test(w, test_err_template_placeholder);
    tcase_add_test(w, test_html_parses_and_links);
    tcase_add_test(w, test_failed_build_keeps_output);
    suite_add_tcase(s, w);
    TCase *c = tcase_create("cache");
    tcase_set_timeout(c, 600); /* trains small runs; the smoke build may train the chapter's */
    tcase_set_timeout(w, 300);
    tcase_add_test(c, test_cache_rules);
    tcase_add_test(c, test_concurrent_builds);
    tcase_add_test(c, test_lrfind_and_schedule_figures);
    tcase_add_test(c, test_values_in_titles_and_labels);
    tcase_add_test(c, test_lrfind_key_ignores_unused_keys);
    tcase_add_test(c, test_prune);
    tcase_add_test(c, test_values_from_runs);
    tcase_add_test(c, test_groups_and_summary_rows);
    tcase_add_test(c, test_smoke_build_of_content);
    TCase *j = tcase_create("sched");
    tcase_set_timeout(j, 600);
    tcase_add_test(j, test_idle_cores_go_to_running_runs);
    suite_add_tcase(s, j);
    tcase_add_test(c, test_article_numbers_from_committed_cache);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
