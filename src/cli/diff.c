/* kiln diff: what moved between two builds. See cli.h, include/kiln/diff.h
 * (kiln_diff) and README.md ("What changed: make diff"). */
#include "cli/cli.h"
#include "kiln/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

enum { O_CACHE, O_SMOKE, O_ACC_TOL, O_LOSS_TOL, O_HTML, O_NO_HTML, O_JSON, O_EPOCHS, O_QUIET };
static const kiln_opt OPTS[] = {
    {"cache", 0, "DIR", "the working tree's cache (default content/cache; out/smoke/cache with --smoke)", O_CACHE},
    {"smoke", 0, NULL, "compare smoke builds: --cache out/smoke/cache, page build/smoke/diff.html", O_SMOKE},
    {"acc-tol", 0, "X", "'within noise' allows |d test accuracy| <= X (default " STR(KILN_DIFF_ACC_TOL) ")", O_ACC_TOL},
    {"loss-tol", 0, "X", "... and |d test loss| <= X * |old test loss| (default " STR(KILN_DIFF_LOSS_TOL) ")", O_LOSS_TOL},
    {"html", 0, "FILE", "the page with overlay plots (default build/diff.html, outside the\n"
                        "published out/; images in a folder diff/ beside it)", O_HTML},
    {"no-html", 0, NULL, "no page", O_NO_HTML},
    {"json", 0, "FILE", "the comparison as JSON ('-' = stdout)", O_JSON},
    {"epochs", 0, NULL, "also list every epoch of the runs that moved", O_EPOCHS},
    {"quiet", 'q', NULL, "no table", O_QUIET},
    {NULL, 0, NULL, NULL, 0},
};
static const kiln_cmd CMD = {
    "diff", "[OLD] [NEW] [options]",
    "Compare two builds' results run by run. OLD and NEW: a manifest file, a cache\n"
    "folder (its manifest/build.json) or a git revision (its CACHE/manifest/build.json\n"
    "and entries, via git show); default OLD = HEAD (the last committed build), NEW =\n"
    "the working tree's CACHE/manifest/build.json.",
    OPTS,
    "exit status: 0 nothing changed beyond the tolerances, 1 something did (a run changed,\n"
    "was added or removed), 2 bad input (missing or damaged manifest, a revision without\n"
    "one, builds from different data) or an output that could not be written\n"};

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
    kiln_args a;
    kiln_args_init(&a, &CMD, argc, argv);
    const char *v;
    for (int id; (id = kiln_args_next(&a, &v)) != KILN_ARG_END;) {
        switch (id) {
        case O_CACHE: cache = v; break;
        case O_ACC_TOL: if (parse_tol("--acc-tol", v, &o.acc_tol)) return 2; break;
        case O_LOSS_TOL: if (parse_tol("--loss-tol", v, &o.loss_tol)) return 2; break;
        case O_HTML: html = v; break;
        case O_JSON: o.json_path = v; break;
        case O_NO_HTML: no_html = 1; break;
        case O_SMOKE: smoke = 1; break;
        case O_EPOCHS: o.epochs = 1; break;
        case O_QUIET: o.table = NULL; break;
        case KILN_ARG_OPERAND:
            if (n_src < 2) { src[n_src++] = v; break; }
            fprintf(stderr, "kiln diff: at most two builds to compare, got a third: '%s'\n", v);
            return kiln_cli_usage(&CMD, stderr);
        default: return KILN_ARG_EXIT(id);
        }
    }
    o.cache_dir = cache ? cache : smoke ? "out/smoke/cache" : "content/cache";
    o.html_path = no_html ? NULL : html ? html : smoke ? "build/smoke/diff.html" : "build/diff.html";
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
