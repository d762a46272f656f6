/* kiln diff: what moved between two builds. See cli.h, include/kiln/diff.h
 * (kiln_diff) and README.md ("What changed: make diff"). */
#include "cli/cli.h"
#include "kiln/report.h"
#include "kiln/doc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

enum { O_CACHE, O_SMOKE, O_ACC_TOL, O_LOSS_TOL, O_HTML, O_NO_HTML, O_JSON, O_EPOCHS, O_QUIET, O_QUICK, O_SITE, O_CONTENT, O_TEMPLATES };
static const kiln_opt OPTS[] = {
    {"cache", 0, "DIR", "the working tree's cache (default content/cache; out/smoke/cache with --smoke)", O_CACHE},
    {"smoke", 0, NULL, "compare smoke builds: --cache out/smoke/cache, page build/smoke/diff.html", O_SMOKE},
    {"acc-tol", 0, "X", "'within noise' allows |d test accuracy| <= X (default " STR(KILN_DIFF_ACC_TOL) ")", O_ACC_TOL},
    {"loss-tol", 0, "X", "... and |d test loss| <= X * |old test loss| (default " STR(KILN_DIFF_LOSS_TOL) ")", O_LOSS_TOL},
    {"html", 0, "FILE", "the page with overlay plots (default build/diff.html, outside the\n"
                        "published out/; images in a folder diff/ beside it)", O_HTML},
    {"no-html", 0, NULL, "no page", O_NO_HTML},
    {"site", 0, "DIR", "the built site the page links to, with its header and chapter list\n"
                       "(default out/, or out/smoke/ with --smoke)", O_SITE},
    {"content", 0, "DIR", "the article whose chapters the page lists (default content/)", O_CONTENT},
    {"templates", 0, "DIR", "the page's layout.html (as for kiln build)", O_TEMPLATES},
    {"json", 0, "FILE", "the comparison as JSON ('-' = stdout)", O_JSON},
    {"epochs", 0, NULL, "also list every epoch of the runs that moved", O_EPOCHS},
    {"quiet", 'q', NULL, "no table", O_QUIET},
    {"quick", 0, NULL, "an early verdict on a trainer change: retrain each run's first\n"
                       "steps and compare them bit for bit (kiln diff --quick --help)", O_QUICK},
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

/* kiln diff --quick: its own options (see kiln_diff_quick) */
enum { Q_QUICK, Q_STEPS, Q_CACHE, Q_DATA, Q_JOBS, Q_THREADS, Q_QUIET };
static const kiln_opt QOPTS[] = {
    {"quick", 0, NULL, "this mode", Q_QUICK},
    {"steps", 0, "N", "steps compared per run (default: one epoch of each run)", Q_STEPS},
    {"cache", 0, "DIR", "the working tree's cache (default content/cache)", Q_CACHE},
    {"data", 0, "DIR", "the MNIST IDX files (default $KILN_DATA, else ~/.cache/kiln/mnist)", Q_DATA},
    {"jobs", 'j', "N", "runs trained at once (default: one per core)", Q_JOBS},
    {"threads", 0, "N", "trainer threads in all (default: every core)", Q_THREADS},
    {"quiet", 'q', NULL, "only the summary", Q_QUIET},
    {NULL, 0, NULL, NULL, 0},
};
static const kiln_cmd QCMD = {
    "diff --quick", "[OLD] [options]",
    "An early verdict on a trainer change: retrain every run of the recorded build OLD\n"
    "(default HEAD: the committed one; or a manifest file or a cache folder, as for kiln\n"
    "diff) with this trainer for its first steps, and compare each step's loss and rate\n"
    "bit for bit with the stored history.",
    QOPTS,
    "exit status: 0 every run identical, 1 a run differs, 2 bad input (no manifest, a\n"
    "damaged entry, other data, a stored config this trainer cannot set)\n"};

static int cmd_quick(int argc, char **argv)
{
    kiln_quick_opts o;
    kiln_quick_opts_init(&o);
    o.out = stdout;
    const char *src = NULL, *data = NULL;
    int quiet = 0, steps = 0;
    kiln_args a;
    kiln_args_init(&a, &QCMD, argc, argv);
    const char *v;
    for (int id; (id = kiln_args_next(&a, &v)) != KILN_ARG_END;) {
        switch (id) {
        case Q_QUICK: break;
        case Q_STEPS: if (kiln_args_int(&a, v, 1, 100000000, &steps)) return 2; o.steps = steps; break;
        case Q_CACHE: o.cache_dir = v; break;
        case Q_DATA: data = v; break;
        case Q_JOBS: if (kiln_args_int(&a, v, 1, 1024, &o.jobs)) return 2; break;
        case Q_THREADS: if (kiln_args_int(&a, v, 1, 1024, &o.threads)) return 2; break;
        case Q_QUIET: quiet = 1; break;
        case KILN_ARG_OPERAND:
            if (!src) { src = v; break; }
            fprintf(stderr, "kiln diff --quick: one recorded build to compare with, got a second: '%s'\n", v);
            return kiln_cli_usage(&QCMD, stderr);
        default: return KILN_ARG_EXIT(id);
        }
    }
    o.data_dir = data; /* NULL: kiln_mnist_dir(NULL) in kiln_diff_quick */
    kiln_diag d = {0};
    kiln_quick_summary sum;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = quiet ? open_memstream(&buf, &len) : NULL;
    if (mem) o.out = mem;
    int rc = kiln_diff_quick(src, &o, &sum, &d);
    if (mem) {
        fclose(mem);
        /* the summary only: from the last line that starts like it */
        const char *s = buf ? strstr(buf, "\nkiln diff --quick: ") : NULL, *last = s;
        while (s && (s = strstr(s + 1, "\nkiln diff --quick: "))) last = s;
        if (last) fputs(last + 1, stdout);
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
    for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--quick")) return cmd_quick(argc, argv);
    kiln_diff_opts o;
    kiln_diff_opts_init(&o);
    o.table = stdout;
    const char *src[2] = {NULL, NULL}, *html = NULL, *cache = NULL, *site = NULL, *content = NULL, *templates = NULL;
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
        case O_SITE: site = v; break;
        case O_CONTENT: content = v; break;
        case O_TEMPLATES: templates = v; break;
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
    /* the page in the site's layout: the article loaded (not resolved: no
       run, no figure) for its title and chapters; without it a plain page */
    kiln_doc *doc = NULL;
    kiln_build_opts bo = {0};
    bo.content_dir = content ? content : "content";
    bo.template_dir = templates ? templates : kiln_cli_template_dir();
    bo.smoke = smoke;
    if (o.html_path) {
        kiln_diag ld = {0};
        if (kiln_doc_load(&doc, &bo, &ld))
            fprintf(stderr, "kiln diff: warning: the page is written without the site's navigation: %s cannot be read%s%s\n",
                    bo.content_dir, ld.text ? ": " : "", ld.text ? ld.text : "");
        kiln_diag_free(&ld);
    }
    o.site = doc;
    o.site_dir = site ? site : smoke ? "out/smoke" : "out";
    kiln_diag d = {0};
    int rc = kiln_diff(src[0], src[1], &o, &d);
    kiln_doc_free(doc);
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
