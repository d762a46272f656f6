/* kiln build: the report. See cli.h and README.md ("The report build and its
 * cache"). */
#include "cli/cli.h"
#include "kiln/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_SMOKE, O_JOBS, O_THREADS, O_CONTENT, O_OUT, O_CACHE, O_DATA, O_TEMPLATES, O_NO_RUN, O_ALLOW_HTML, O_PRUNE, O_QUIET };
static const kiln_opt OPTS[] = {
    {"smoke", 0, NULL, "shrink every run (2000 images, 2 epochs) into its own cache and\n"
                       "output folder (out/smoke/, cache out/smoke/cache/)", O_SMOKE},
    {"jobs", 'j', "N", "train N runs at once (threads divided between them)", O_JOBS},
    {"threads", 0, "N", "trainer threads in all (default: every core)", O_THREADS},
    {"content", 0, "DIR", "the chapters (default content/)", O_CONTENT},
    {"out", 0, "DIR", "the site (default out/, or out/smoke/ with --smoke)", O_OUT},
    {"cache", 0, "DIR", "the run cache (default OUT/cache/)", O_CACHE},
    {"data", 0, "DIR", "the MNIST IDX files (default $KILN_DATA_DIR, else out/data/)", O_DATA},
    {"templates", 0, "DIR", "layout.html and style.css (default $KILN_TEMPLATES, else the\n"
                            "installed ones, else templates/ beside bin/)", O_TEMPLATES},
    {"no-run", 0, NULL, "fail if a result is missing instead of training it", O_NO_RUN},
    {"allow-html", 0, NULL, "pass raw HTML in the content through", O_ALLOW_HTML},
    {"prune", 0, NULL, "after a good build, delete the cache entries it did not use", O_PRUNE},
    {"quiet", 'q', NULL, "no progress lines", O_QUIET},
    {NULL, 0, NULL, NULL, 0},
};
static const kiln_cmd CMD = {
    "build", "[options]",
    "Build the article: read content/, take every result from the cache or train it,\n"
    "and write the site and the PDF into out/ (swapped in whole: a failed build leaves\n"
    "the previous out/ as it was).",
    OPTS,
    "exit status: 0 built, 1 a run or a write failed, 2 bad input (content errors are\n"
    "listed as FILE:LINE: in file and line order)\n"};

int kiln_cmd_build(int argc, char **argv)
{
    kiln_build_opts o = {0};
    o.jobs = 1;
    kiln_args a;
    kiln_args_init(&a, &CMD, argc, argv);
    const char *v;
    for (int id; (id = kiln_args_next(&a, &v)) != KILN_ARG_END;) {
        switch (id) {
        case O_SMOKE: o.smoke = 1; break;
        case O_NO_RUN: o.no_run = 1; break;
        case O_ALLOW_HTML: o.allow_html = 1; break;
        case O_PRUNE: o.prune = 1; break;
        case O_QUIET: o.quiet = 1; break;
        case O_CONTENT: o.content_dir = v; break;
        case O_OUT: o.out_dir = v; break;
        case O_CACHE: o.cache_dir = v; break;
        case O_DATA: o.data_dir = v; break;
        case O_TEMPLATES: o.template_dir = v; break;
        case O_JOBS: if (kiln_args_int(&a, v, 1, 1024, &o.jobs)) return 2; break;
        case O_THREADS: if (kiln_args_int(&a, v, 1, 1024, &o.threads)) return 2; break;
        case KILN_ARG_OPERAND:
            fprintf(stderr, "kiln build: unexpected argument '%s' (kiln build takes options only; --help lists them)\n", v);
            return 2;
        default: return KILN_ARG_EXIT(id);
        }
    }
    if (!o.data_dir) o.data_dir = kiln_cli_data_dir(NULL);
    if (!o.template_dir) o.template_dir = kiln_cli_template_dir();
    kiln_diag d = {0};
    kiln_build_stats st;
    int rc = kiln_report_build(&o, &st, &d);
    if (d.text) fputs(d.text, stderr);
    const char *out = o.out_dir ? o.out_dir : o.smoke ? "out/smoke" : "out";
    if (!o.quiet || rc) {
        fprintf(stderr, "kiln build: %d run%s: %d cached, %d run, %d failed", st.runs_total, st.runs_total == 1 ? "" : "s",
                st.runs_cached, st.runs_trained, st.runs_failed);
        if (st.runs_corrupt) fprintf(stderr, " (%d damaged cache entr%s recomputed)", st.runs_corrupt, st.runs_corrupt == 1 ? "y" : "ies");
        if (rc)
            fprintf(stderr, "; FAILED after %.2f s (%s left as it was)\n", st.seconds_total, out);
        else
            fprintf(stderr, "; %d figures, %d pages in %s/ ; wall time %.2f s\n", st.figures, st.pages, out,
                    st.seconds_total);
    }
    kiln_diag_free(&d);
    return rc == KILN_REPORT_EINPUT ? 2 : rc ? 1 : 0;
}
