/* Runs and the cache (src/run): the hit / miss rules, concurrent builds,
 * the thread scheduler, range-test keys, --prune. */
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

/* ---- the cache: hit / miss rules ------------------------------------------------------- */

START_TEST(test_cache_rules)
{
    char dir[64], content[128], out[128], cache[160];
    test_paths(dir, content, sizeof content, out, sizeof out, cache, sizeof cache);
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

    /* a lock that is a folder: the build fails naming it and what to do,
     * and the site stays as it was */
    char lockp[256];
    snprintf(lockp, sizeof lockp, "%s/build.lock", cache);
    page_before = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(page_before);
    unlink(lockp);
    ck_assert_int_eq(mkdir(lockp, 0777), 0);
    ck_assert_int_eq(build(content, out, &st, &d), KILN_REPORT_EFAIL);
    ck_assert_msg(d.text && strstr(d.text, lockp) && strstr(d.text, "remove that folder"), "%s", d.text ? d.text : "");
    kiln_diag_free(&d);
    page_after = test_read_file(p, NULL);
    ck_assert_ptr_nonnull(page_after);
    ck_assert_str_eq(page_after, page_before);
    free(page_before);
    free(page_after);
    rmdir(lockp);
}
END_TEST

START_TEST(test_concurrent_builds)
{
    char dir[64], content[128], out[128], cache[160];
    test_paths(dir, content, sizeof content, out, sizeof out, cache, sizeof cache);
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
    test_paths(dir, content, sizeof content, out, sizeof out, cache, sizeof cache);
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
    o.cache_dir = cache;
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
    /* "1-2"; or "2" when the other run ended before this one's first step
       (a loaded machine: the short run is three batches), which is the
       same rule at work. "1" is the failure: the idle core never came */
    ck_assert_msg(!strcmp(threads, "1-2") || !strcmp(threads, "2"), "the last run trained on %s thread(s)", threads);
    free(logtext);

    /* one run at a time on 2 threads: the same results */
    kiln_build_opts o1 = quiet_opts();
    o1.content_dir = content;
    o1.out_dir = out1;
    o1.cache_dir = cache1; /* its own: the runs are computed again */
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

/* ---- range-test keys, base = and a schedule switch, --prune ---------------------------- */

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

START_TEST(test_prune)
{
    char dir[64], content[128], out[128], cache[160], tdir[160];
    test_paths(dir, content, sizeof content, out, sizeof out, cache, sizeof cache);
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

static Suite *suite(void)
{
    Suite *s = suite_create("run");
    TCase *t0 = tcase_create("cache");
    tcase_set_timeout(t0, 600);
    tcase_add_test(t0, test_cache_rules);
    tcase_add_test(t0, test_concurrent_builds);
    tcase_add_test(t0, test_thread_share);
    tcase_add_test(t0, test_lrfind_key_ignores_unused_keys);
    tcase_add_test(t0, test_prune);
    suite_add_tcase(s, t0);
    TCase *t1 = tcase_create("sched");
    tcase_set_timeout(t1, 600);
    tcase_add_test(t1, test_idle_cores_go_to_running_runs);
    suite_add_tcase(s, t1);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
