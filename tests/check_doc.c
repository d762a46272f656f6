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
    suite_add_tcase(s, t0);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
