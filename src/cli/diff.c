/* kiln diff: what moved between two builds. See cli.h, include/kiln/report.h
 * (kiln_diff) and README.md ("What changed: make diff"). */
#include "cli/cli.h"
#include "kiln/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *f)
{
    fprintf(f,
            "usage: kiln diff [OLD] [NEW] [options]\n"
            "  OLD, NEW         a manifest file, a cache folder (its manifest/build.json) or a git\n"
            "                   revision (its CACHE/manifest/build.json and entries, via git show);\n"
            "                   default OLD = HEAD (the last committed build), NEW = the working\n"
            "                   tree's CACHE/manifest/build.json\n"
            "  --cache DIR      the working tree's cache (default out/cache; out/smoke/cache with --smoke)\n"
            "  --smoke          compare smoke builds: --cache out/smoke/cache, page in out/smoke/\n"
            "  --acc-tol X      'within noise' allows |d test accuracy| <= X (default %g)\n"
            "  --loss-tol X     ... and |d test loss| <= X * |old test loss| (default %g)\n"
            "  --html FILE      the page with overlay plots (default out/diff.html; images in\n"
            "                   a folder diff/ beside it); --no-html for none\n"
            "  --json FILE      the comparison as JSON ('-' = stdout)\n"
            "  --epochs         also list every epoch of the runs that moved\n"
            "  -q, --quiet      no table\n"
            "exit status: 0 nothing changed beyond the tolerances, 1 something did (a run changed,\n"
            "was added or removed), 2 bad input (missing or damaged manifest, a revision without\n"
            "one, builds from different data) or an output that could not be written\n",
            KILN_DIFF_ACC_TOL, KILN_DIFF_LOSS_TOL);
    return f == stderr ? 2 : 0;
}

static int parse_tol(const char *opt, const char *v, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x) || x < 0) {
        fprintf(stderr, "kiln diff: %s needs a number >= 0, got '%s'\n", opt, v);
        return -1;
    }
    *out = x;
    return 0;
}

int kiln_cmd_diff(int argc, char **argv)
{
    kiln_diff_opts o;
    kiln_diff_opts_init(&o);
    o.table = stdout;
    const char *src[2] = {NULL, NULL}, *html = NULL, *cache = NULL;
    int n_src = 0, no_html = 0, smoke = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "--cache") || !strcmp(a, "--acc-tol") || !strcmp(a, "--loss-tol") || !strcmp(a, "--html") ||
                    !strcmp(a, "--json");
        if (takes && !v) { fprintf(stderr, "kiln diff: %s needs a value\n", a); return 2; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout);
        else if (!strcmp(a, "--cache")) cache = v;
        else if (!strcmp(a, "--acc-tol")) { if (parse_tol(a, v, &o.acc_tol)) return 2; }
        else if (!strcmp(a, "--loss-tol")) { if (parse_tol(a, v, &o.loss_tol)) return 2; }
        else if (!strcmp(a, "--html")) html = v;
        else if (!strcmp(a, "--json")) o.json_path = v;
        else if (!strcmp(a, "--no-html")) no_html = 1;
        else if (!strcmp(a, "--smoke")) smoke = 1;
        else if (!strcmp(a, "--epochs")) o.epochs = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o.table = NULL;
        else if (a[0] == '-' && a[1]) { fprintf(stderr, "kiln diff: unknown option '%s'\n", a); return usage(stderr); }
        else if (n_src < 2) src[n_src++] = a;
        else { fprintf(stderr, "kiln diff: at most two builds to compare, got a third: '%s'\n", a); return usage(stderr); }
        if (takes) i++;
    }
    o.cache_dir = cache ? cache : smoke ? "out/smoke/cache" : "out/cache";
    o.html_path = no_html ? NULL : html ? html : smoke ? "out/smoke/diff.html" : "out/diff.html";
    /* the JSON on stdout is for a script: keep the table off it */
    if (o.json_path && !strcmp(o.json_path, "-") && o.table == stdout) o.table = stderr;
    if (smoke && !src[0] && !cache) {
        fprintf(stderr, "kiln diff: smoke builds are not committed, so there is no HEAD build to compare with: give OLD, "
                        "a copy of out/smoke/cache/%s taken before the change\n", KILN_MANIFEST_FILE);
        return 2;
    }
    kiln_diag d = {0};
    int rc = kiln_diff(src[0], src[1], &o, &d);
    for (const char *p = d.text ? d.text : ""; *p;) {
        const char *nl = strchr(p, '\n');
        int l = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(stderr, "kiln diff: %.*s\n", l, p);
        p += l + (nl ? 1 : 0);
    }
    if (rc != 2 && o.html_path && o.table) fprintf(o.table, "(overlay plots: %s)\n", o.html_path);
    kiln_diag_free(&d);
    return rc;
}
