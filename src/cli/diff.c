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
            "  --quick          an early verdict on a trainer change: retrain each run's first steps\n"
            "                   and compare them bit for bit (kiln diff --quick --help)\n"
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

static int quick_usage(FILE *f)
{
    fprintf(f,
            "usage: kiln diff --quick [OLD] [options]\n"
            "  retrains every run of the recorded build OLD (default HEAD: the committed one; or a\n"
            "  manifest file or cache folder, as for kiln diff) with this trainer for its first steps,\n"
            "  and compares each step's loss and rate bit for bit with the stored history\n"
            "  --steps N        steps per run (default: one epoch of each run)\n"
            "  --cache DIR      the working tree's cache (default out/cache)\n"
            "  --data DIR       the MNIST IDX files (default $KILN_DATA_DIR or out/data/)\n"
            "  -j N             runs trained at once (default: one per core)\n"
            "  --threads N      trainer threads in all (default: every core)\n"
            "  -q, --quiet      only the summary\n"
            "exit status: 0 every run identical, 1 a run differs, 2 bad input (no manifest, a damaged\n"
            "entry, other data, a stored config this trainer cannot set)\n");
    return f == stderr ? 2 : 0;
}

static int parse_count(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "kiln diff --quick: %s needs a whole number %ld..%ld, got '%s'\n", opt, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

static int cmd_quick(int argc, char **argv)
{
    kiln_quick_opts o;
    kiln_quick_opts_init(&o);
    o.out = stdout;
    const char *src = NULL;
    int quiet = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "--steps") || !strcmp(a, "--cache") || !strcmp(a, "--data") || !strcmp(a, "-j") ||
                    !strcmp(a, "--jobs") || !strcmp(a, "--threads");
        if (takes && !v) { fprintf(stderr, "kiln diff --quick: %s needs a value\n", a); return 2; }
        long x;
        if (!strcmp(a, "--quick")) continue;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) return quick_usage(stdout);
        else if (!strcmp(a, "--steps")) { if (parse_count(a, v, 1, 100000000, &x)) return 2; o.steps = x; }
        else if (!strcmp(a, "--cache")) o.cache_dir = v;
        else if (!strcmp(a, "--data")) o.data_dir = v;
        else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) { if (parse_count(a, v, 1, 1024, &x)) return 2; o.jobs = (int)x; }
        else if (!strcmp(a, "--threads")) { if (parse_count(a, v, 1, 1024, &x)) return 2; o.threads = (int)x; }
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) quiet = 1;
        else if (a[0] == '-' && a[1]) { fprintf(stderr, "kiln diff --quick: unknown option '%s'\n", a); return quick_usage(stderr); }
        else if (!src) src = a;
        else { fprintf(stderr, "kiln diff --quick: one recorded build to compare with, got a second: '%s'\n", a); return quick_usage(stderr); }
        if (takes) i++;
    }
    if (!o.data_dir) o.data_dir = kiln_cli_data_dir(NULL);
    kiln_diag d = {0};
    kiln_quick_summary sum;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = quiet ? open_memstream(&buf, &len) : NULL;
    if (mem) o.out = mem;
    int rc = kiln_diff_quick(src, &o, &sum, &d);
    if (mem) {
        fclose(mem);
        /* the summary only: the last lines, from the one that counts */
        const char *s = buf ? strstr(buf, "kiln diff --quick: ") : NULL, *last = s;
        while (s && (s = strstr(s + 1, "kiln diff --quick: "))) last = s;
        if (last && last != buf) fputs(last, stdout);
        free(buf);
    }
    for (const char *p = d.text ? d.text : ""; *p;) {
        const char *nl = strchr(p, '\n');
        int l = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(stderr, "kiln diff: %.*s\n", l, p);
        p += l + (nl ? 1 : 0);
    }
    kiln_diag_free(&d);
    return rc;
}

int kiln_cmd_diff(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--quick")) return cmd_quick(argc, argv);
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
