/* {compare} (src/doc/compare.c, src/resolve/compare.c): every content error
 * with its FILE:LINE and the accepted values; the values the prose quotes and
 * the block's sentence in the site and the PDF, from results set by hand
 * (nothing trains); the manifest's record of each comparison and kiln diff
 * reporting a verdict that changed. */
#include "kiln/report.h"
#include "kiln/stats.h"
#include "testreport.h"

#include <math.h>

/* three "a" seeds, three "b" seeds, two single runs */
static const char PRE[] =
    "# T\n\n"
    "```{experiment} a1\n```\n```{experiment} a2\nseed = 2\n```\n```{experiment} a3\nseed = 3\n```\n"
    "```{experiment} b1\nlearning_rate = 0.01\n```\n```{experiment} b2\nbase = b1\nseed = 2\n```\n"
    "```{experiment} b3\nbase = b1\nseed = 3\n```\n"
    "```{experiment} s1\nlearning_rate = 0.002\n```\n```{experiment} s2\nlearning_rate = 0.003\n```\n"
    "```{group} ga\nruns = a1, a2, a3\n```\n```{group} gb\nruns = b1, b2, b3\n```\n"
    "```{group} one\nruns = s1\n```\n";

static void expect(const char *body, const char *n1, const char *n2)
{
    char md[4096];
    snprintf(md, sizeof md, "%s%s", PRE, body);
    expect_error(md, n1, n2);
}

/* the line of PRE's end + k, as "ch.md:N:" */
static const char *at(int k)
{
    static char buf[32];
    int lines = 1;
    for (const char *p = PRE; *p; p++) lines += *p == '\n';
    snprintf(buf, sizeof buf, "ch.md:%d:", lines - 1 + k);
    return buf;
}

START_TEST(test_errors)
{
    /* missing a / b */
    expect("```{compare} c\nb = gb\n```\n", at(1), "{compare} c: key 'a' is required");
    expect("```{compare} c\na = ga\n```\n", at(1), "{compare} c: key 'b' is required");
    /* unknown run or group: named, with the nearest and every accepted one */
    expect("```{compare} c\na = gz\nb = gb\n```\n", at(2), "a = 'gz' is neither a run nor a {group} (did you mean 'ga'?)");
    expect("```{compare} c\na = ga\nb = nope\n```\n", at(3), "declared: runs a1, a2");
    expect("```{compare} c\na = ga\nb = nope\n```\n", "groups ga, gb, one", NULL);
    /* a range test is not an experiment */
    expect("```{lrfind} sweep\n```\n```{compare} c\na = sweep\nb = gb\n```\n", at(4), "'sweep' is a range test");
    expect("```{lrfind} sweep\n```\n```{group} gs\nruns = sweep, a1\n```\n```{compare} c\na = s1\nb = s2\nspread = gs\n```\n",
           at(9), "spread = gs: 'sweep' is a range test");
    /* a == b, by id or by runs */
    expect("```{compare} c\na = ga\nb = ga\n```\n", at(3), "are the same runs");
    expect("```{group} ga2\nruns = a3, a1, a2\n```\n```{compare} c\na = ga\nb = ga2\n```\n", at(6), "are the same runs");
    /* unknown metric, with the accepted ones */
    expect("```{compare} c\na = ga\nb = gb\nmetric = test_acuracy\n```\n", at(4),
           "metric 'test_acuracy' is not accepted (did you mean 'test_accuracy'?); accepted: test_accuracy, test_loss");
    expect("```{compare} c\na = ga\nb = gb\nmetric = learning_rate\n```\n", at(4), "accepted: test_accuracy");
    /* unknown key */
    expect("```{compare} c\na = ga\nb = gb\nspred = ga\n```\n", at(4), "unknown key 'spred' (did you mean 'spread'?); accepted: a, b, metric, spread");
    /* spread: a group of two or more runs, for a side of one run */
    expect("```{compare} c\na = s1\nb = s2\nspread = s1\n```\n", at(4), "spread = 's1' is not a {group} of two or more runs");
    expect("```{compare} c\na = s1\nb = s2\nspread = one\n```\n", at(4), "accepted: ga, gb");
    expect("```{compare} c\na = ga\nb = gb\nspread = ga\n```\n", at(4), "both sides have seeds of their own (3 and 3 runs)");
    /* a duplicate id */
    expect("```{compare} ga\na = ga\nb = gb\n```\n", at(1), "duplicate id 'ga'");
    expect("```{compare} c\na = ga\nb = gb\n```\n```{compare} c\na = gb\nb = ga\n```\n", at(5), "duplicate id 'c'");
    /* values the prose asks for: unknown, or what one seed each has not got */
    expect("```{compare} c\na = ga\nb = gb\n```\n\n{{c.pvalue}}\n", at(6),
           "unknown value 'pvalue' of {compare} c; accepted: diff, ci_low, ci_high, p");
    expect("```{compare} c\na = ga\nb = gb\n```\n\n{{c.verdit}}\n", at(6), "(did you mean 'verdict'?)");
    expect("```{compare} c\na = s1\nb = s2\n```\n\n{{c.p:.3f}}\n", at(6), "has one seed a side, so it has no p");
    expect("```{compare} c\na = s1\nb = s2\n```\n\n{{c.ci_low}}\n", at(6), "no ci_low; quote its diff or verdict");
    expect("```{compare} c\na = ga\nb = gb\n```\n\n{{c.diff:.4x}}\n", at(6), "unknown format '.4x'");
    /* the directive is listed among the accepted ones */
    expect("```{compar} c\na = ga\n```\n", at(1), "{group}, {compare}");
    /* and through the command line: exit status 2, before anything trains */
    if (getenv("KILN_BIN")) {
        char dir[64], content[128], out[128];
        article_dirs(dir, content, sizeof content, out, sizeof out, "# I\n\nS.\n");
        char md[4096];
        snprintf(md, sizeof md, "%s```{compare} c\na = ga\nb = nope\n```\n", PRE);
        write_text(content, "01-c.md", md);
        char args[512];
        snprintf(args, sizeof args, "build -q --content %s --out %s", content, out);
        ck_assert_int_eq(cli_status("%s", args), 2);
        ck_assert(!file_exists(content, "cache"));
    }
}
END_TEST

/* load md and give every run a result by hand: test accuracy acc[i] and test
 * loss loss[i] in the order of PRE's experiments */
static kiln_doc *with_results(const char *body, const double *acc, const double *loss)
{
    char md[4096];
    snprintf(md, sizeof md, "%s%s", PRE, body);
    kiln_doc *doc = load_with_keys(md);
    doc->opts.cache_dir = "cache"; /* load_with_keys's folder is gone */
    int k = 0;
    for (int i = 0; i < doc->n_runs; i++) {
        kiln_run *r = doc->runs[i];
        r->kiln_version = r->fingerprint = r->data_digest = r->compiler = r->cpu = r->date = r->host_threads = "";
        r->ok = 1;
        r->history.test_accuracy = acc[k];
        r->history.test_loss = loss[k];
        k++;
    }
    ck_assert_int_eq(k, 8);
    return doc;
}

/* the formatted text of the value written `{{NAME}}` in the first paragraph
 * after the directives */
static const char *quoted(const kiln_doc *doc, int n)
{
    int i = 0;
    for (const kiln_block *b = doc->chapters[0].blocks; b; b = b->next)
        for (const kiln_inline *in = b->inlines; in; in = in->next)
            if (in->kind == KILN_IN_VALUE && i++ == n) return in->text;
    ck_abort_msg("no value %d", n);
    return NULL;
}

static const double ACC[] = {0.9940, 0.9942, 0.9946, 0.9912, 0.9919, 0.9932, 0.9937, 0.9923};
static const double LOSS[] = {0.0265, 0.0268, 0.0262, 0.0296, 0.0294, 0.0297, 0.0230, 0.0260};

START_TEST(test_values)
{
    const char *body =
        "```{compare} acc\na = ga\nb = gb\n```\n"
        "```{compare} loss\na = ga\nb = gb\nmetric = test_loss\n```\n"
        "```{compare} single\na = s1\nb = s2\n```\n"
        "```{compare} given\na = s1\nb = s2\nspread = ga\n```\n"
        "```{compare} half\na = s1\nb = gb\n```\n\n"
        "V {{acc.diff:.4f}} {{acc.p:.3f}} {{acc.verdict}} {{acc.n_a}} {{acc.n_b}} {{acc.mean_a:.4f}} {{acc.mean_b:.4f}} "
        "{{loss.verdict}} {{single.verdict}} {{single.diff:.4f}} {{given.verdict}} {{half.verdict}} {{acc.ci_low:.6f}} "
        "{{acc.ci_high:.6f}} {{loss.diff:.4f}} {{given.p:.4f}} {{acc.metric}} {{acc.a}} {{acc.b}} {{acc.id}} {{acc.df:.3f}}\n";
    kiln_doc *doc = with_results(body, ACC, LOSS);
    kiln_diag d = {0};
    ck_assert_int_eq(kiln_doc_resolve(doc, NULL, &d), 0);
    /* a: 0.9940 0.9942 0.9946, b: 0.9912 0.9919 0.9932 */
    ck_assert_str_eq(quoted(doc, 0), "0.0022");
    /* Welch by hand: means 0.99426667 and 0.99210000, variances 9.333e-8 and
     * 1.03e-6; t = 3.5425, df = 2.33: p between the tables' two-sided 5%
     * (t 4.303 at df 2, 3.182 at df 3) */
    double p = strtod(quoted(doc, 1), NULL);
    ck_assert_msg(p > 0.05 && p < 0.10, "p %g", p);
    /* p above 0.05: within noise though every a seed beats every b seed */
    ck_assert_str_eq(quoted(doc, 2), "within noise");
    ck_assert_str_eq(quoted(doc, 3), "3");
    ck_assert_str_eq(quoted(doc, 4), "3");
    ck_assert_str_eq(quoted(doc, 5), "0.9943");
    ck_assert_str_eq(quoted(doc, 6), "0.9921");
    /* losses: lower is better; ga's mean 0.0265 against gb's 0.0296 */
    ck_assert_str_eq(quoted(doc, 7), "better");
    ck_assert_str_eq(quoted(doc, 8), "untested (one seed each)");
    ck_assert_str_eq(quoted(doc, 9), "0.0014");
    /* s1 - s2 = 0.0014 against ga's sd 0.000306 (df 2): within noise */
    ck_assert_str_eq(quoted(doc, 10), "within noise");
    /* 0.9937 against gb's three (borrowed sd 0.00102, df 2) */
    ck_assert_str_eq(quoted(doc, 11), "within noise");
    double lo = strtod(quoted(doc, 12), NULL), hi = strtod(quoted(doc, 13), NULL);
    ck_assert(lo > 0 && lo < 0.00217 && hi > 0.00217 && hi < 0.0035);
    ck_assert_str_eq(quoted(doc, 14), "-0.0031");
    ck_assert_str_eq(quoted(doc, 16), "test_accuracy");
    ck_assert_str_eq(quoted(doc, 17), "ga");
    ck_assert_str_eq(quoted(doc, 18), "gb");
    ck_assert_str_eq(quoted(doc, 19), "acc");
    /* the same numbers as the stats library gives them */
    double a[] = {0.9940, 0.9942, 0.9946}, b[] = {0.9912, 0.9919, 0.9932};
    kiln_compare k = {.a = a, .b = b, .na = 3, .nb = 3, .higher_is_better = 1, .alpha = 0.05, .level = 0.95,
                      .resamples = 10000, .seed = 1};
    char err[128];
    ck_assert_int_eq(kiln_compare_run(&k, err, sizeof err), 0);
    char want[32];
    snprintf(want, sizeof want, "%.3f", k.p);
    ck_assert_str_eq(quoted(doc, 1), want);
    snprintf(want, sizeof want, "%.3f", k.df);
    ck_assert_str_eq(quoted(doc, 20), want);
    /* the blocks' sentences */
    const kiln_directive *x = doc->compares[0];
    ck_assert_msg(strstr(x->text, "Comparison acc, test accuracy: ga (3 seeds) minus gb (3 seeds) = +0.0022 (95% interval"),
                  "%s", x->text);
    ck_assert_msg(strstr(x->text, "bootstrap; Welch's p = ") && strstr(x->text, "): within noise."), "%s", x->text);
    ck_assert_msg(strstr(doc->compares[2]->text, "s1 minus s2 = +0.0014; untested (one seed each)."), "%s",
                  doc->compares[2]->text);
    ck_assert_msg(strstr(doc->compares[3]->text, "t, spread of ga"), "%s", doc->compares[3]->text);
    ck_assert_msg(strstr(doc->compares[4]->text, "t, one side's spread"), "%s", doc->compares[4]->text);
    kiln_diag_free(&d);
    kiln_doc_free(doc);
}
END_TEST

/* better and worse, with the direction of each metric */
START_TEST(test_directions)
{
    const double acc[] = {0.9940, 0.9941, 0.9942, 0.9900, 0.9901, 0.9902, 0.99, 0.98};
    const double loss[] = {0.0300, 0.0301, 0.0302, 0.0200, 0.0201, 0.0202, 0.02, 0.03};
    kiln_doc *doc = with_results("```{compare} acc\na = ga\nb = gb\n```\n```{compare} rev\na = gb\nb = ga\n```\n"
                                 "```{compare} loss\na = ga\nb = gb\nmetric = test_loss\n```\n\n"
                                 "{{acc.verdict}} {{rev.verdict}} {{loss.verdict}} {{loss.diff:.4f}}\n",
                                 acc, loss);
    kiln_diag d = {0};
    ck_assert_int_eq(kiln_doc_resolve(doc, NULL, &d), 0);
    ck_assert_str_eq(quoted(doc, 0), "better");
    ck_assert_str_eq(quoted(doc, 1), "worse");
    /* a higher loss is worse, and its diff stays mean a - mean b */
    ck_assert_str_eq(quoted(doc, 2), "worse");
    ck_assert_str_eq(quoted(doc, 3), "0.0100");
    kiln_diag_free(&d);
    kiln_doc_free(doc);
}
END_TEST

/* the sentence in the site and the PDF; the manifest's record; kiln diff
 * with a verdict that changed */
static void write_build(const char *dir, const char *cache, const char *metric)
{
    char body[512];
    snprintf(body, sizeof body, "```{compare} acc\na = ga\nb = gb\nmetric = %s\n```\n\nThe verdict: {{acc.verdict}}.\n",
             metric);
    const double acc[] = {0.9940, 0.9941, 0.9942, 0.9900, 0.9901, 0.9902, 0.99, 0.98};
    const double loss[] = {0.0300, 0.0301, 0.0302, 0.0200, 0.0201, 0.0202, 0.02, 0.03};
    kiln_doc *doc = with_results(body, acc, loss);
    kiln_diag d = {0};
    ck_assert_int_eq(kiln_doc_resolve(doc, NULL, &d), 0);
    mkdir(dir, 0777);
    char pdf[256];
    snprintf(pdf, sizeof pdf, "%s/report.pdf", dir);
    ck_assert_msg(kiln_pdf_write(doc, pdf, &d) == 0, "%s", d.text ? d.text : "");
    ck_assert_msg(kiln_html_write(doc, dir, &d) == 0, "%s", d.text ? d.text : "");
    ck_assert_msg(kiln_manifest_write(doc, cache, &d) == 0, "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    kiln_doc_free(doc);
}

/* the table kiln diff prints for OLD and NEW, and its exit status */
static char *diff_table(const char *dir, const char *old, const char *new_, const char *json, int *rc)
{
    char tp[256];
    snprintf(tp, sizeof tp, "%s/diff.txt", dir);
    kiln_diff_opts o;
    kiln_diff_opts_init(&o);
    o.cache_dir = dir;
    o.table = fopen(tp, "w");
    o.json_path = json;
    /* with the JSON, the page too (DIR/diff.html) */
    char hp[256];
    snprintf(hp, sizeof hp, "%s/diff.html", dir);
    o.html_path = json ? hp : NULL;
    kiln_diag d = {0};
    *rc = kiln_diff(old, new_, &o, &d);
    fclose(o.table);
    kiln_diag_free(&d);
    return test_read_file(tp, NULL);
}

START_TEST(test_pages_manifest_diff)
{
    char dir[64], site1[128], site2[128], c1[128], c2[128], p[256];
    test_tmpdir(dir);
    snprintf(site1, sizeof site1, "%s/s1", dir);
    snprintf(site2, sizeof site2, "%s/s2", dir);
    snprintf(c1, sizeof c1, "%s/c1", dir);
    snprintf(c2, sizeof c2, "%s/c2", dir);
    /* the same runs and results; the comparison on accuracy, then on loss */
    write_build(site1, c1, "test_accuracy");
    write_build(site2, c2, "test_loss");
    /* the site: the block's sentence, quiet, and the value in the prose */
    snprintf(p, sizeof p, "%s/ch.html", site1);
    char *html = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(html);
    ck_assert_msg(strstr(html, "<p class=\"compare\" id=\"cmp-acc\">Comparison acc, test accuracy: ga (3 seeds) minus gb "
                               "(3 seeds) = +0.0040"), "no compare sentence in the page");
    ck_assert_msg(strstr(html, ">better</span>"), "no verdict in the prose");
    free(html);
    check_site(site1);
    /* the PDF: the same sentence */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pdftotext -raw %s/report.pdf %s/report.txt", site1, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(p, sizeof p, "%s/report.txt", dir);
    char *txt = test_read_file(p, NULL);
    ck_assert_msg(strstr(txt, "Comparison acc, test accuracy: ga (3 seeds) minus gb (3 seeds) = +0.0040"), "%s", txt);
    free(txt);
    /* the manifest records the comparison */
    char m1[256], m2[256], jp[256];
    snprintf(m1, sizeof m1, "%s/manifest/build.json", c1);
    snprintf(m2, sizeof m2, "%s/manifest/build.json", c2);
    char *m = test_read_file(m1, NULL);
    ck_assert_msg(strstr(m, "\"compares\"") && strstr(m, "\"verdict\": \"better\"") && strstr(m, "\"metric\": \"test_accuracy\""),
                  "%s", m);
    free(m);
    /* kiln diff: every run the same, the verdict moved from better to worse:
     * a change, exit status 1 */
    snprintf(jp, sizeof jp, "%s/diff.json", dir);
    int rc;
    char *t = diff_table(dir, m1, m2, jp, &rc);
    ck_assert_msg(strstr(t, "acc") && strstr(t, "verdict changed") && strstr(t, "better -> worse"), "%s", t);
    ck_assert_msg(strstr(t, "1 comparisons: 1 with a changed verdict"), "%s", t);
    ck_assert_msg(strstr(t, "0 changed"), "%s", t);
    ck_assert_int_eq(rc, 1);
    free(t);
    char *j = test_read_file(jp, NULL);
    ck_assert_msg(strstr(j, "\"old_verdict\": \"better\"") && strstr(j, "\"new_verdict\": \"worse\""), "%s", j);
    free(j);
    /* the page lists it in its comparisons table */
    snprintf(p, sizeof p, "%s/diff.html", dir);
    char *page = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(page);
    ck_assert_msg(strstr(page, "<h2 id=\"comparisons\">Comparisons</h2>") &&
                      strstr(page, "<tr><td>acc</td><td class=\"v-changed\">verdict changed</td><td>better → worse</td>"),
                  "%s", page);
    free(page);
    /* a build against itself: the same verdict, nothing changed */
    t = diff_table(dir, m2, m2, NULL, &rc);
    ck_assert_msg(strstr(t, "same verdict") && strstr(t, "0 with a changed verdict"), "%s", t);
    ck_assert_int_eq(rc, 0);
    free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("compare");
    TCase *t = tcase_create("compare");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_errors);
    tcase_add_test(t, test_values);
    tcase_add_test(t, test_directions);
    tcase_add_test(t, test_pages_manifest_diff);
    suite_add_tcase(s, t);
    return test_run_suite(s);
}
