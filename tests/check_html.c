/* The HTML writer (src/html): escaping, raw HTML, template placeholders,
 * and every page of a site parsed by libxml2 with its links and images. */
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

START_TEST(test_escaping_and_raw_html)
{
    char dir[64], out[128];
    test_tmpdir(dir);
    snprintf(out, sizeof out, "%s/out", dir);
    write_text(dir, "index.md", "# A 1 < 2 & <i>x</i>\n\nSummary <script>alert(1)</script> and [x](https://example.org/?a=1&b=2).\n\n<div class=\"raw\">raw block</div>\n");
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

START_TEST(test_html_parses_and_links)
{
    char dir[64], content[128], out[128];
    test_paths(dir, content, sizeof content, out, sizeof out, NULL, 0);
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

/* The reproducibility appendix is a chapter of the resolved document: its
 * title, the build's facts, a section per run the article uses (heading
 * run-ID, facts, settings) and the runs only declared; the HTML writer
 * renders those blocks and nothing of its own. */
START_TEST(test_appendix_is_a_resolved_chapter)
{
    const char *md = "# T\n\n```{experiment} a\nlabel = run a\nepochs = 1\n```\n\n"
                     "```{experiment} b\nbase = a\n```\n\n```{result} a\n```\n";
    kiln_doc *doc;
    kiln_diag d;
    ck_assert_int_eq(load_text(md, &doc, &d), 0);
    ck_assert_int_eq(kiln_doc_resolve(doc, NULL, &d), 0);
    const kiln_chapter *a = doc->appendix;
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->index, doc->n_chapters);
    ck_assert_str_eq(a->page, "appendix.html");
    const kiln_block *b = a->blocks;
    ck_assert_int_eq(b->kind, KILN_BL_HEADING);
    ck_assert_str_eq(b->anchor, "reproducibility-appendix");
    b = b->next;
    ck_assert_int_eq(b->kind, KILN_BL_PARAGRAPH);
    b = b->next;
    ck_assert_int_eq(b->kind, KILN_BL_FACTS);
    b = b->next;
    ck_assert_int_eq(b->kind, KILN_BL_SECTION); /* a, the one run needed */
    ck_assert_str_eq(b->children->anchor, "run-a");
    ck_assert_int_eq(b->children->next->kind, KILN_BL_FACTS);
    ck_assert_int_eq(b->children->next->next->directive->kind, KILN_DIR_CONFIG);
    b = b->next;
    ck_assert_int_eq(b->kind, KILN_BL_PARAGRAPH); /* b: declared, not trained */
    ck_assert_ptr_null(b->next);
    char dir[64];
    test_tmpdir(dir);
    ck_assert_int_eq(kiln_html_write(doc, dir, &d), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/appendix.html", dir);
    char *html = test_read_file(path, NULL);
    ck_assert_ptr_nonnull(html);
    static const char *const order[] = {
        "<h1 id=\"reproducibility-appendix\">Reproducibility appendix</h1>", "Rebuild with <code>make report</code>",
        "<dl class=\"facts\">\n<dt>Trainer fingerprint</dt>", "<section class=\"run\">\n<h2 id=\"run-a\"><code>a</code> (run a)",
        "<dt>History</dt><dd><a href=\"runs/a.json\">a.json</a> (every epoch and step)</dd>",
        "<pre class=\"config\"><code>", "</section>", "Declared but not trained", "<code>b</code>.</p>"};
    const char *at = html;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        const char *f = strstr(at, order[i]);
        ck_assert_msg(f, "'%s' not found (in order) in: %s", order[i], html);
        at = f + strlen(order[i]);
    }
    free(html);
    kiln_diag_free(&d);
    kiln_doc_free(doc);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("html");
    TCase *t0 = tcase_create("write");
    tcase_set_timeout(t0, 300);
    tcase_add_test(t0, test_escaping_and_raw_html);
    tcase_add_test(t0, test_err_template_placeholder);
    tcase_add_test(t0, test_html_parses_and_links);
    tcase_add_test(t0, test_appendix_is_a_resolved_chapter);
    suite_add_tcase(s, t0);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
