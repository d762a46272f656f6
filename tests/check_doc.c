/* The loader (src/doc): the document model a Markdown text becomes,
 * directive errors and their messages, `base =` and canonical configs,
 * number formats. */
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
    if (getenv("KILN_BIN")) ck_assert_int_eq(cli_status("build -q --content /nonexistent/kiln-content --out /tmp/kiln-none", ""), 2);
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

/* ---- index.md's front matter ------------------------------------------------------------ */

static const char FM_CHAPTER[] = "# One\n\n```{experiment} a\nepochs = 1\n```\n";

/* A content folder with this index.md and one chapter, loaded (and
 * resolved when it loads). */
static int load_index(const char *index, kiln_doc **doc, kiln_diag *d)
{
    char dir[64], content[128], out[128];
    article_dirs(dir, content, sizeof content, out, sizeof out, index);
    write_text(content, "01-one.md", FM_CHAPTER);
    kiln_build_opts o = quiet_opts();
    o.content_dir = content;
    memset(d, 0, sizeof *d);
    *doc = NULL;
    int rc = kiln_doc_load(doc, &o, d);
    if (!rc) ck_assert_int_eq(kiln_doc_resolve(*doc, NULL, d), 0);
    return rc;
}

/* The front matter's error holds every needle; nothing is loaded. */
static void expect_front_error(const char *index, const char *n1, const char *n2)
{
    kiln_doc *doc;
    kiln_diag d;
    ck_assert_int_eq(load_index(index, &doc, &d), KILN_REPORT_EINPUT);
    ck_assert_ptr_null(doc);
    ck_assert_msg(strstr(d.text, n1), "'%s' not in: %s", n1, d.text);
    if (n2) ck_assert_msg(strstr(d.text, n2), "'%s' not in: %s", n2, d.text);
    kiln_diag_free(&d);
}

START_TEST(test_front_matter)
{
    const char *index = "---\n"
                        "# a comment\n"
                        "title: \"Rates: measured\"\n"
                        "subtitle: What the rate does   # a comment\n"
                        "author:\n"
                        "  - name: Ada Example\n"
                        "    affiliation: 'Somewhere ''quoted'''\n"
                        "  - Second Person\n"
                        "date: 2024-02-29\n"
                        "lang: en-GB\n"
                        "abstract: >\n"
                        "  The first paragraph,\n"
                        "  with *emphasis*.\n"
                        "\n"
                        "  A second one.\n"
                        "---\n"
                        "\n"
                        "The summary.\n";
    kiln_doc *doc;
    kiln_diag d;
    ck_assert_msg(load_index(index, &doc, &d) == 0, "%s", d.text ? d.text : "");
    ck_assert_str_eq(doc->title, "Rates: measured");
    ck_assert_str_eq(doc->subtitle, "What the rate does");
    ck_assert_int_eq(doc->n_authors, 2);
    ck_assert_str_eq(doc->authors[0].name, "Ada Example");
    ck_assert_str_eq(doc->authors[0].affiliation, "Somewhere 'quoted'");
    ck_assert_str_eq(doc->authors[1].name, "Second Person");
    ck_assert_str_eq(doc->authors[1].affiliation, "");
    ck_assert_str_eq(doc->date, "2024-02-29");
    ck_assert_str_eq(doc->date_text, "29 February 2024");
    ck_assert_str_eq(doc->lang, "en-GB");
    /* the abstract: two paragraphs of Markdown at their lines of the file */
    const kiln_block *a = doc->abstract;
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->kind, KILN_BL_PARAGRAPH);
    ck_assert_int_eq(a->line, 12);
    int emph = 0;
    for (const kiln_inline *in = a->inlines; in; in = in->next) emph += in->kind == KILN_IN_EMPH;
    ck_assert_int_eq(emph, 1);
    ck_assert_ptr_nonnull(a->next);
    ck_assert_int_eq(a->next->line, 15);
    ck_assert_ptr_null(a->next->next);
    /* the summary after it, at its own line, no title heading needed */
    ck_assert_ptr_nonnull(doc->front);
    ck_assert_int_eq(doc->front->line, 18);
    ck_assert_ptr_null(doc->front->next);
    kiln_doc_free(doc);
    kiln_diag_free(&d);

    /* one author on the key's line; a title heading that says the same; the
     * defaults */
    ck_assert_int_eq(load_index("---\nauthor: Only One\ntitle: Same\n...\n# Same\n\nText.\n", &doc, &d), 0);
    ck_assert_int_eq(doc->n_authors, 1);
    ck_assert_str_eq(doc->authors[0].name, "Only One");
    ck_assert_str_eq(doc->title, "Same");
    ck_assert_str_eq(doc->lang, "en");
    ck_assert_str_eq(doc->subtitle, "");
    ck_assert_ptr_null(doc->abstract);
    kiln_doc_free(doc);
    kiln_diag_free(&d);
    /* no front matter: as before */
    ck_assert_int_eq(load_index("# Plain\n\nText.\n", &doc, &d), 0);
    ck_assert_str_eq(doc->title, "Plain");
    ck_assert_int_eq(doc->n_authors, 0);
    kiln_doc_free(doc);
    kiln_diag_free(&d);
}
END_TEST

START_TEST(test_front_matter_errors)
{
    expect_front_error("---\ntitle: T\nauthors: A\n---\n", "index.md:3: front matter: unknown key 'authors' (did you mean 'author'?)",
                       "accepted keys: title, subtitle, author, date, abstract, lang");
    expect_front_error("---\ntitle: T\ndate: 3 December 2026\n---\n", "index.md:3:", "not a date written YYYY-MM-DD");
    expect_front_error("---\ntitle: T\ndate: 2026-02-30\n---\n", "index.md:3:", "'2026-02-30'");
    expect_front_error("---\ntitle: T\nlang: English language\n---\n", "index.md:3:", "not a language tag");
    expect_front_error("---\ntitle: T\ntitle: U\n---\n", "index.md:3:", "'title' is given twice (first on line 2)");
    expect_front_error("---\ntitle: T\n", "index.md:1:", "no '---' line closes");
    expect_front_error("---\ntitle: Rates: measured\n---\n", "index.md:2:", "put the value in quotes");
    expect_front_error("---\ntitle: \"open\n---\n", "index.md:2:", "the quote is not closed");
    expect_front_error("---\ntitle: [a, b]\n---\n", "index.md:2:", "write a list as '- ' lines");
    expect_front_error("---\ntitle: T\nauthor:\n  - name: A\n    affiliations: B\n---\n", "index.md:5:",
                       "unknown key 'affiliations' for an author (did you mean 'affiliation'?); an author's keys are name, affiliation");
    expect_front_error("---\ntitle: T\nauthor:\n  - affiliation: B\n---\n", "index.md:4:", "an author without 'name:'");
    expect_front_error("---\ntitle: T\nauthor:\n---\n", "index.md:3:", "author has no value");
    expect_front_error("---\ntitle: T\n\tsubtitle: S\n---\n", "index.md:3:", "a tab in the indentation");
    expect_front_error("---\ntitle:\n---\n", "index.md:2:", "title has no value");
    expect_front_error("---\ntitle: T\njust words\n---\n", "index.md:3:", "not 'key: value'");
    expect_front_error("---\nsubtitle: S\n---\n\nText.\n", "index.md:1:", "a '# Title' heading or 'title:'");
    expect_front_error("---\ntitle: One\n---\n# Two\n", "index.md:4:", "the title is given twice");
    /* inside the abstract: a value of a run that does not exist, at its line */
    expect_front_error("---\ntitle: T\nabstract: |\n  Text.\n\n  Then {{nope.test_loss}}.\n---\n", "index.md:6:", "nope");
    /* every error, not just the first */
    expect_front_error("---\ntitel: T\ndate: soon\n---\n# T\n", "index.md:2:", "index.md:3:");
    /* and through the command line: exit status 2 */
    if (getenv("KILN_BIN")) {
        char dir[64], content[128], out[128];
        article_dirs(dir, content, sizeof content, out, sizeof out, "---\ntitle: T\ncolour: red\n---\n");
        write_text(content, "01-one.md", FM_CHAPTER);
        ck_assert_int_eq(cli_status("build -q --no-run --content %s --out /tmp/kiln-none", content), 2);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("doc");
    TCase *t0 = tcase_create("parse");
    tcase_add_test(t0, test_parse_model);
    tcase_add_test(t0, test_err_unknown_directive);
    tcase_add_test(t0, test_err_unknown_key);
    tcase_add_test(t0, test_err_malformed_key);
    tcase_add_test(t0, test_err_duplicate_id);
    tcase_add_test(t0, test_err_unknown_references);
    tcase_add_test(t0, test_err_base_cycle);
    tcase_add_test(t0, test_err_ids_cannot_escape);
    tcase_add_test(t0, test_err_missing_content);
    tcase_add_test(t0, test_base_and_canonical);
    tcase_add_test(t0, test_formats);
    tcase_add_test(t0, test_base_switches_schedule);
    tcase_add_test(t0, test_front_matter);
    tcase_add_test(t0, test_front_matter_errors);
    suite_add_tcase(s, t0);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
