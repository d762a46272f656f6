/* kiln build: the report. See cli.h and README.md ("The report build and its
 * cache"). */
#include "cli/cli.h"
#include "kiln/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *f)
{
    fprintf(f,
            "usage: kiln build [options]\n"
            "  --smoke          shrink every run (2000 images, 2 epochs) into its own cache and\n"
            "                   output folder (out/smoke/, cache out/smoke/cache/)\n"
            "  -j N             train N runs at once (threads divided between them)\n"
            "  --threads N      trainer threads in all (default: every core)\n"
            "  --content DIR    the chapters (default content/)\n"
            "  --out DIR        the site (default out/, or out/smoke/ with --smoke)\n"
            "  --cache DIR      the run cache (default OUT/cache/)\n"
            "  --data DIR       the MNIST IDX files (default $KILN_DATA_DIR or out/data/)\n"
            "  --templates DIR  layout.html and style.css (default templates/)\n"
            "  --no-run         fail if a result is missing instead of training it\n"
            "  --allow-html     pass raw HTML in the content through\n"
            "  --prune          after a good build, delete the cache entries it did not use\n"
            "  -q, --quiet      no progress lines\n");
    return f == stderr ? 2 : 0;
}

int kiln_cmd_build(int argc, char **argv)
{
    kiln_build_opts o = {0};
    o.jobs = 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        int *num = NULL;
        if (!strcmp(a, "--smoke")) o.smoke = 1;
        else if (!strcmp(a, "--no-run")) o.no_run = 1;
        else if (!strcmp(a, "--allow-html")) o.allow_html = 1;
        else if (!strcmp(a, "--prune")) o.prune = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o.quiet = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout);
        else if (!strcmp(a, "--content")) dst = &o.content_dir;
        else if (!strcmp(a, "--out")) dst = &o.out_dir;
        else if (!strcmp(a, "--cache")) dst = &o.cache_dir;
        else if (!strcmp(a, "--data")) dst = &o.data_dir;
        else if (!strcmp(a, "--templates")) dst = &o.template_dir;
        else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) num = &o.jobs;
        else if (!strncmp(a, "-j", 2) && a[2]) {
            char *end;
            o.jobs = (int)strtol(a + 2, &end, 10);
            if (*end || o.jobs < 1) { fprintf(stderr, "kiln build: -j needs a positive number, got '%s'\n", a + 2); return 2; }
        } else if (!strcmp(a, "--threads")) num = &o.threads;
        else {
            fprintf(stderr, "kiln build: unknown option '%s'\n", a);
            return usage(stderr);
        }
        if (dst || num) {
            if (i + 1 >= argc) { fprintf(stderr, "kiln build: %s needs a value\n", a); return 2; }
            const char *v = argv[++i];
            if (dst) *dst = v;
            else {
                char *end;
                long n = strtol(v, &end, 10);
                if (*end || n < 1 || n > 1024) { fprintf(stderr, "kiln build: %s needs a number 1..1024, got '%s'\n", a, v); return 2; }
                *num = (int)n;
            }
        }
    }
    if (!o.data_dir) o.data_dir = kiln_cli_data_dir(NULL);
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
