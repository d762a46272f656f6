/* The checks once everything is parsed: runs declared, ids unique, every
 * directive's runs, metrics and formats known, references resolved. */
#include "doc/loader.h"
#include "kiln/math.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int check_run_ref(loader *L, const char *file, int line, const char *what, const char *id, kiln_run **out)
{
    kiln_run *r = kr_find_run(L->doc, id);
    if (!r) {
        sbuf m = {0};
        list_runs(&m, L->doc);
        kd_error(L->d, KILN_REPORT_EINPUT, file, line, "%s: unknown run '%s'%s; declared runs: %s", what, id,
                 hint(L, id, m.s ? m.s : ""), m.s);
        sb_free(&m);
        return 1;
    }
    *out = r;
    return 0;
}

void check_metric(loader *L, const char *file, int line, const char *what, kiln_run *r, const char *metric,
                         const char *fmt)
{
    double v;
    const char *s;
    int k = kiln_run_value(r, metric, &v, &s);
    if (k < 0) {
        sbuf m = {0};
        kr_metric_words(&m);
        kd_error(L->d, KILN_REPORT_EINPUT, file, line, "%s: unknown metric '%s' of run '%s'%s; accepted: %s", what, metric,
                 r->id, hint(L, metric, m.s), kiln_metric_names());
        sb_free(&m);
    }
    char buf[64];
    if (fmt && *fmt && kiln_format_value(1.0, fmt, buf, sizeof buf) < 0)
        kd_error(L->d, KILN_REPORT_EINPUT, file, line,
                 "%s: unknown format '%s'%s; accepted: .Nf, .Ne, .Ng, .N%% (percent), d, sci, repr (N = digits)", what, fmt,
                 format_hint(L, fmt));
}

/* metrics that need a trained result (config keys and names do not) */
int needs_result(const char *metric)
{
    int n;
    const kiln_key_info *ki = kiln_config_keys(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(ki[i].name, metric)) return 0;
    return strcmp(metric, "id") && strcmp(metric, "label") && strcmp(metric, "key");
}

/* {{GROUP.STAT_METRIC}}: the statistic is known and every run of the group
 * has the metric; the runs are needed when it is a result. */
static void check_group_metric(loader *L, const char *file, int line, const char *what, kiln_directive *g,
                               const char *name, const char *fmt)
{
    if (g->n_runs < 1) return; /* reported with the group */
    double v;
    const char *s;
    if (kiln_group_value(g, name, &v, &s) < 0) {
        kd_error(L->d, KILN_REPORT_EINPUT, file, line,
                 "%s: unknown value '%s' of {group} %s; accepted: n, id, label, or mean_M, sd_M, min_M, max_M, range_M, sum_M "
                 "for a metric M of its runs (e.g. mean_test_accuracy)",
                 what, name, g->id);
        return;
    }
    const char *us = strchr(name, '_');
    if (us) {
        for (int i = 0; i < g->n_runs; i++) {
            check_metric(L, file, line, what, g->runs[i], us + 1, fmt);
            if (needs_result(us + 1)) g->runs[i]->needed = 1;
        }
    } else {
        check_metric(L, file, line, what, g->runs[0], "id", fmt);
    }
}

/* Keys taken from other runs' results: the run exists, has no references of
 * its own (one level only, so there are no cycles), and the metric is a
 * result. A run that is needed needs the runs it takes values from. */
static void check_config_refs(loader *L)
{
    kiln_doc *doc = L->doc;
    for (int i = 0; i < doc->n_runs; i++) {
        kiln_run *r = doc->runs[i];
        for (int j = 0; j < r->n_refs; j++) {
            kiln_config_ref *f = &r->refs[j];
            char what[256];
            snprintf(what, sizeof what, "{experiment} %s: key '%s'", r->id, f->key);
            kiln_run *t;
            if (check_run_ref(L, f->file, f->line, what, f->run_id, &t)) continue;
            if (t == r || t->n_refs) {
                kd_error(L->d, KILN_REPORT_EINPUT, f->file, f->line,
                         "%s: run '%s' %s; a value can only come from a run whose settings are all written out", what,
                         t->id, t == r ? "is this run itself" : "takes values from other runs itself");
                continue;
            }
            int before = L->d->n_errors;
            check_metric(L, f->file, f->line, what, t, f->metric, f->format);
            if (L->d->n_errors != before) continue;
            if (!needs_result(f->metric)) {
                kd_error(L->d, KILN_REPORT_EINPUT, f->file, f->line,
                         "%s: '%s' is a setting of '%s', not a result; use 'base = %s' to share settings", what,
                         f->metric, t->id, t->id);
                continue;
            }
            f->from = t;
            if (r->needed) t->needed = 1;
        }
    }
}

/* ---- headings and links --------------------------------------------------------------- */

/* The ids of one page in document order (a block, then its children), the
 * first of each kept, with the numbers the PDF shows: chapter N; its
 * level-2 headings (and any later level-1 one) N.k, level-3 N.k.m, deeper
 * ones their level-3 parent's. */
static void index_targets(loader *L, int ci, const kiln_block *b, int *sec2, int *sec3, int *seen_title)
{
    for (; b; b = b->next) {
        const char *number = NULL, *id = NULL;
        if (b->kind == KILN_BL_HEADING && ci >= 0) {
            if (b->level == 1 && !*seen_title) {
                *seen_title = 1;
                number = ka_printf(L->a, "Chapter %d", ci + 1);
            } else {
                if (b->level <= 2) { ++*sec2; *sec3 = 0; }
                else if (b->level == 3) ++*sec3;
                number = b->level <= 2 ? ka_printf(L->a, "Section %d.%d", ci + 1, *sec2)
                                       : ka_printf(L->a, "Section %d.%d.%d", ci + 1, *sec2, *sec3);
            }
        }
        if ((b->kind == KILN_BL_HEADING || b->kind == KILN_BL_MATH) && b->anchor[0]) id = b->anchor;
        else if (b->kind == KILN_BL_DIRECTIVE && b->directive && b->directive->anchor) id = b->directive->anchor;
        if (id) {
            int *v = kr_strmap_get(&L->target_ix, ka_printf(L->a, "%d#%s", ci, id));
            if (!*v) {
                KR_GROW(L->targets, L->cap_targets, L->n_targets + 1);
                L->targets[L->n_targets++] = (struct target){b, number};
                *v = L->n_targets;
            }
        }
        if (b->children) index_targets(L, ci, b->children, sec2, sec3, seen_title);
    }
}

/* The block with that id on page ci (-1: the front page), or NULL. */
static const struct target *target_in(loader *L, int ci, const char *id)
{
    kiln_doc *doc = L->doc;
    if (!L->targets_made) {
        L->targets_made = 1;
        for (int i = -1; i < doc->n_chapters; i++) {
            int s2 = 0, s3 = 0, title = 0;
            index_targets(L, i, i < 0 ? doc->front : doc->chapters[i].blocks, &s2, &s3, &title);
        }
    }
    sbuf kb = {0};
    sb_printf(&kb, "%d#%s", ci, id);
    const char *key = kb.s;
    int found = kr_strmap_has(&L->target_ix, key);
    const struct target *t = found ? &L->targets[*kr_strmap_get(&L->target_ix, key) - 1] : NULL;
    sb_free(&kb);
    return t;
}

/* A heading by id in any chapter: its "Section 2.3" text. */
static const char *find_heading(loader *L, const char *id, const kiln_block **out)
{
    for (int i = 0; i < L->doc->n_chapters; i++) {
        const struct target *t = target_in(L, i, id);
        if (t && t->b->kind == KILN_BL_HEADING) {
            *out = t->b;
            return t->number;
        }
    }
    *out = NULL;
    return NULL;
}

/* what a message lists: at most this many names, then how many more */
#define LIST_MAX 40

static void list_anchors(sbuf *m, const kiln_block *b, int *n)
{
    for (; b; b = b->next) {
        if (b->kind == KILN_BL_HEADING && b->level > 1 && ++*n <= LIST_MAX) {
            if (m->len) sb_add(m, ", ");
            sb_add(m, b->anchor);
        }
        if (b->children) list_anchors(m, b->children, n);
    }
}

/* Links to chapters and to headings, figures, tables and equations in them. */
static void check_links(loader *L)
{
    kiln_doc *doc = L->doc;
    for (int i = 0; i < L->n_links; i++) {
        const char *raw = L->link_raw[i], *hash = strchr(raw, '#');
        size_t n = hash ? (size_t)(hash - raw) : strlen(raw);
        const kiln_chapter *to = L->link_from[i];
        const kiln_block *blocks = to ? to->blocks : doc->front;
        if (n) {
            const char *base = raw;
            for (size_t k = 0; k < n; k++)
                if (raw[k] == '/') base = raw + k + 1;
            size_t bn = (size_t)(raw + n - base);
            to = NULL;
            blocks = NULL;
            if (bn == 8 && !strncmp(base, "index.md", 8)) blocks = doc->front;
            for (int c = 0; c < doc->n_chapters && !blocks; c++) {
                const char *slug = doc->chapters[c].slug;
                if (strlen(slug) == bn - 3 && !strncmp(slug, base, bn - 3)) { to = &doc->chapters[c]; blocks = to->blocks; }
            }
            if (!blocks) {
                sbuf m = {0};
                for (int c = 0; c < doc->n_chapters; c++) {
                    if (c) sb_add(&m, ", ");
                    sb_add(&m, doc->chapters[c].slug);
                    sb_add(&m, ".md");
                }
                kd_error(L->d, KILN_REPORT_EINPUT, L->link_files[i], L->links[i]->line, "link to '%s': no such chapter; chapters: index.md, %s",
                         raw, m.s ? m.s : "");
                sb_free(&m);
                continue;
            }
        }
        if (!hash || !hash[1]) continue;
        if (target_in(L, to ? to->index : -1, hash + 1)) continue;
        sbuf m = {0};
        int listed = 0;
        list_anchors(&m, blocks, &listed);
        if (listed > LIST_MAX) sb_printf(&m, ", ... (%d more)", listed - LIST_MAX);
        kd_error(L->d, KILN_REPORT_EINPUT, L->link_files[i], L->links[i]->line, "link to '%s': no heading, figure, table or equation '%s' there; its headings: %s",
                 raw, hash + 1, m.len ? m.s : "(none)");
        sb_free(&m);
    }
    free(L->links);
    free(L->link_raw);
    free(L->link_files);
    free(L->link_from);
}

/* ---- runs --------------------------------------------------------------------------- */

/* An id already declared by a directive of a kind it would clash with:
 * runs with runs, figures with figures and range tests, tables with tables. */
static kiln_directive *clashing_id(loader *L, kiln_directive *x)
{
    kiln_directive *prev = NULL;
    if (x->kind == KILN_DIR_EXPERIMENT || x->kind == KILN_DIR_LRFIND)
        prev = find_dir(L, KILN_DIR_EXPERIMENT, KILN_DIR_LRFIND, x->id, x);
    else if (x->kind == KILN_DIR_FIGURE)
        prev = find_dir(L, KILN_DIR_FIGURE, KILN_DIR_LRFIND, x->id, x);
    else if (x->kind == KILN_DIR_TABLE)
        prev = find_dir(L, KILN_DIR_TABLE, KILN_DIR_TABLE, x->id, x);
    if (x->kind == KILN_DIR_LRFIND && !prev) prev = find_dir(L, KILN_DIR_FIGURE, KILN_DIR_FIGURE, x->id, x);
    return prev;
}

static void add_run(loader *L, kiln_directive *x)
{
    kiln_doc *doc = L->doc;
    kiln_run *r = ka_alloc(L->a, sizeof *r);
    r->id = x->id;
    r->kind = x->kind == KILN_DIR_LRFIND ? KILN_RUN_LRFIND : KILN_RUN_TRAIN;
    r->file = x->file;
    r->line = x->line;
    r->base = "";
    r->data = "mnist";
    const char *lab = kv_get(x, "label");
    r->label = lab ? lab : x->id;
    r->kiln_version = r->fingerprint = r->data_digest = r->compiler = r->cpu = r->date = r->host_threads = "";
    x->run = r;
    KR_GROW(doc->runs, L->cap_runs, doc->n_runs + 1);
    doc->runs[doc->n_runs++] = r;
}

/* Every {experiment} and {lrfind} a run with a unique id, its configuration
 * built (following `base =`), shrunk at smoke scale. */
static void declare_runs(loader *L)
{
    kiln_doc *doc = L->doc;
    for (int i = 0; i < L->n_dirs; i++) {
        kiln_directive *x = L->dirs[i];
        kiln_directive *prev = clashing_id(L, x);
        if (prev) {
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "duplicate id '%s': {%s} %s is already declared at %s:%d",
                     x->id, prev->name, prev->id, prev->file, prev->line);
            continue;
        }
        if (x->kind == KILN_DIR_EXPERIMENT || x->kind == KILN_DIR_LRFIND) add_run(L, x);
    }
    ka_own(L->a, doc->runs);
    int *state = calloc((size_t)doc->n_runs + 1, sizeof *state);
    sbuf chain = {0};
    for (int i = 0; i < L->n_dirs; i++) {
        kiln_directive *x = L->dirs[i];
        if (!x->run || (x->kind != KILN_DIR_EXPERIMENT && x->kind != KILN_DIR_LRFIND)) continue;
        chain.len = 0;
        if (chain.s) chain.s[0] = 0;
        build_config(L, x->run, x, state, 0, &chain);
    }
    sb_free(&chain);
    free(state);
    for (int i = 0; i < doc->n_runs; i++) {
        kiln_run *r = doc->runs[i];
        if (L->o->smoke) kiln_smoke_shrink(&r->config);
        if (r->kind == KILN_RUN_LRFIND) {
            r->needed = 1;
            if (L->o->smoke) {
                if (r->lrfind_opts.steps <= 0 || r->lrfind_opts.steps > 40) r->lrfind_opts.steps = 40;
            }
        }
        r->canonical = "";
    }
}

/* Labels with {{METRIC[:FORMAT]}} of their own run (inherited ones too). */
static void check_labels(loader *L)
{
    for (int i = 0; i < L->n_dirs; i++) {
        kiln_directive *x = L->dirs[i];
        kiln_run *r = x->run;
        if (!r || !strstr(r->label, "{{")) continue;
        int line = kv_get(x, "label") ? kv_line(x, "label") : x->line;
        char what[160];
        snprintf(what, sizeof what, "{%s} %s: label", x->name, x->id);
        for (const char *p = r->label; (p = strstr(p, "{{"));) {
            const char *c = strstr(p + 2, "}}");
            if (!c) {
                kd_error(L->d, KILN_REPORT_EINPUT, x->file, line, "%s: '{{' without '}}'", what);
                break;
            }
            char *name = ka_strndup(L->a, p + 2, (size_t)(c - p - 2));
            char *fmt = strchr(name, ':');
            if (fmt) *fmt++ = 0;
            check_metric(L, x->file, line, what, r, trim(name), fmt ? trim(fmt) : "");
            p = c + 2;
        }
    }
}

/* ---- one checker per directive kind ----------------------------------------------------- */

static void check_lrfind(loader *L, kiln_directive *x, int *n_fig)
{
    x->number = ++*n_fig;
    x->figure_kind = KILN_FIG_RANGE;
    x->runs = ka_alloc(L->a, sizeof *x->runs);
    if (x->run) { x->runs[0] = x->run; x->n_runs = 1; }
}

/* {result} RUN and {config} RUN */
static void check_result_or_config(loader *L, kiln_directive *x, const char *what)
{
    kiln_run *r;
    if (check_run_ref(L, x->file, x->line, what, x->id, &r)) return;
    x->run = r;
    if (x->kind != KILN_DIR_RESULT) return;
    if (r->kind != KILN_RUN_TRAIN)
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "%s: '%s' is a range test; {result} takes an {experiment}",
                 what, r->id);
    r->needed = 1;
    const char *f = kv_get(x, "format");
    char buf[64];
    if (f && kiln_format_value(1.0, f, buf, sizeof buf) < 0)
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "format"),
                 "%s: unknown format '%s'%s; accepted: .Nf, .Ne, .Ng, .N%%, d, sci, repr", what, f, format_hint(L, f));
}

static void check_group(loader *L, kiln_directive *x, const char *what)
{
    kiln_doc *doc = L->doc;
    if (kr_find_run(doc, x->id) || kr_find_group(doc, x->id)) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "duplicate id '%s': a run or {group} has it already", x->id);
        return;
    }
    const char *runs = kv_get(x, "runs");
    const char **ids;
    int n = runs ? split_list(L->a, runs, &ids) : 0;
    if (!n) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, runs ? kv_line(x, "runs") : x->line,
                 "%s: key 'runs' is required (a list of run ids)", what);
        return;
    }
    x->runs = ka_alloc(L->a, sizeof *x->runs * (size_t)n);
    for (int j = 0; j < n; j++) {
        kiln_run *r;
        if (check_run_ref(L, x->file, kv_line(x, "runs"), what, ids[j], &r)) continue;
        x->runs[x->n_runs++] = r;
    }
    KR_GROW(doc->groups, L->cap_groups, doc->n_groups + 1);
    doc->groups[doc->n_groups++] = x;
}

/* `runs =` of a {figure} or {table}: required, every id a run. Returns -1
 * when the key is missing. */
static int check_runs_key(loader *L, kiln_directive *x, const char *what)
{
    const char *runs = kv_get(x, "runs");
    if (!runs) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "%s: key 'runs' is required (a list of run ids)", what);
        return -1;
    }
    const char **ids;
    int n = split_list(L->a, runs, &ids);
    x->runs = ka_alloc(L->a, sizeof *x->runs * (size_t)(n ? n : 1));
    for (int j = 0; j < n; j++) {
        kiln_run *r;
        if (check_run_ref(L, x->file, kv_line(x, "runs"), what, ids[j], &r)) continue;
        x->runs[x->n_runs++] = r;
    }
    if (!n) kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "runs"), "%s: 'runs' is empty", what);
    return 0;
}

/* A metric every run of the directive has (a column, a sweep axis); its runs
 * are needed when it is a result. */
static void check_runs_metric(loader *L, kiln_directive *x, const char *what, const char *key, const char *metric,
                              const char *fmt)
{
    for (int k = 0; k < x->n_runs; k++) {
        check_metric(L, x->file, kv_line(x, key), what, x->runs[k], metric, fmt);
        if (needs_result(metric)) x->runs[k]->needed = 1;
    }
}

static void check_table(loader *L, kiln_directive *x, const char *what, int *n_tab)
{
    x->number = ++*n_tab;
    if (check_runs_key(L, x, what)) return;
    if (kv_get(x, "summary")) {
        const char **sv;
        int ns = split_list(L->a, kv_get(x, "summary"), &sv);
        for (int j = 0; j < ns; j++)
            if (!in_list(SUMMARY_ROWS, sv[j]))
                kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "summary"),
                         "%s: summary row '%s'%s; accepted: mean, sd (sample standard deviation), min, max", what,
                         sv[j], list_hint(L, sv[j], SUMMARY_ROWS));
    }
    const char *cols = kv_get(x, "columns");
    if (!cols) cols = "label, test_loss, test_accuracy";
    const char **cv;
    int nc = split_list(L->a, cols, &cv);
    for (int j = 0; j < nc; j++) {
        char *name = ka_strdup(L->a, cv[j]);
        char *c = strchr(name, ':');
        if (c) *c++ = 0;
        check_runs_metric(L, x, what, "columns", name, c);
    }
    const char *hd = kv_get(x, "headers");
    if (hd) {
        const char **hv;
        int nh = split_commas(L->a, hd, &hv);
        if (nh != nc)
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "headers"),
                     "%s: %d headers for %d columns; give one header per column", what, nh, nc);
    }
}

/* `kind =` and the keys of kind = sweep (x, y, by). */
static void check_figure_kind(loader *L, kiln_directive *x, const char *what)
{
    const char *kind = kv_get(x, "kind");
    x->figure_kind = KILN_FIG_HISTORY;
    if (kind) {
        if (!strcmp(kind, "history")) x->figure_kind = KILN_FIG_HISTORY;
        else if (!strcmp(kind, "range")) x->figure_kind = KILN_FIG_RANGE;
        else if (!strcmp(kind, "schedule")) x->figure_kind = KILN_FIG_SCHEDULE;
        else if (!strcmp(kind, "sweep")) x->figure_kind = KILN_FIG_SWEEP;
        else
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "kind"),
                     "%s: kind '%s' is not accepted%s; accepted: history, range, schedule, sweep", what, kind,
                     hint(L, kind, "history range schedule sweep"));
    }
    static const char *const sweep_keys[] = {"x", "y", "by"};
    for (int j = 0; j < 3; j++) {
        const char *v = kv_get(x, sweep_keys[j]);
        if (!v) continue;
        if (x->figure_kind != KILN_FIG_SWEEP) {
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, sweep_keys[j]), "%s: '%s' applies to kind = sweep only",
                     what, sweep_keys[j]);
            continue;
        }
        check_runs_metric(L, x, what, sweep_keys[j], v, NULL);
    }
}

/* `per =` and `series =` */
static void check_figure_series(loader *L, kiln_directive *x, const char *what)
{
    const char *per = kv_get(x, "per");
    int step = 0;
    if (per) {
        if (!strcmp(per, "step")) step = 1;
        else if (strcmp(per, "epoch"))
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "per"),
                     "%s: per '%s' is not accepted%s; accepted: epoch, step", what, per, hint(L, per, "epoch step"));
    }
    const char *series = kv_get(x, "series");
    if (!series) return;
    if (x->figure_kind != KILN_FIG_HISTORY && x->figure_kind != KILN_FIG_RANGE)
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "series"),
                 "%s: 'series' applies to kind = history and kind = range only", what);
    const char **sv;
    int ns = split_list(L->a, series, &sv);
    if (x->figure_kind == KILN_FIG_RANGE) {
        if (ns != 1 || (strcmp(sv[0], "loss") && strcmp(sv[0], "derivative")))
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "series"),
                     "%s: series '%s' is not accepted for a range test; accepted: loss (the batch "
                     "and smoothed loss, the default) or derivative (its rate of change)",
                     what, series);
        ns = 0;
    }
    for (int j = 0; j < ns; j++) {
        static const char *const ep[] = {"loss", "val_loss", "accuracy", "val_accuracy", "lr", NULL};
        static const char *const st[] = {"loss", "lr", NULL};
        if (!in_list(step ? st : ep, sv[j]))
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "series"),
                     "%s: series '%s' is not accepted per %s%s; accepted: %s", what, sv[j], step ? "step" : "epoch",
                     list_hint(L, sv[j], step ? st : ep), step ? "loss, lr" : "loss, val_loss, accuracy, val_accuracy, lr");
    }
}

/* Each run fits the kind (range tests for kind = range, experiments
 * otherwise; a schedule curve cannot be drawn for plateau) and is needed when
 * the figure draws its history. */
static void check_figure_runs(loader *L, kiln_directive *x, const char *what)
{
    for (int j = 0; j < x->n_runs; j++) {
        kiln_run *r = x->runs[j];
        int want_lrfind = x->figure_kind == KILN_FIG_RANGE;
        if (x->figure_kind == KILN_FIG_SWEEP && !kv_get(x, "y")) r->needed = 1; /* test_accuracy */
        if (want_lrfind != (r->kind == KILN_RUN_LRFIND) && x->figure_kind != KILN_FIG_SCHEDULE)
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "runs"), "%s: run '%s' is %s; kind = %s needs %s", what,
                     r->id, r->kind == KILN_RUN_LRFIND ? "a range test" : "an experiment",
                     want_lrfind ? "range" : x->figure_kind == KILN_FIG_SWEEP ? "sweep" : "history",
                     want_lrfind ? "{lrfind} runs" : "{experiment} runs");
        if (x->figure_kind != KILN_FIG_SCHEDULE && x->figure_kind != KILN_FIG_SWEEP) r->needed = 1;
        else if (!strcmp(r->config.schedule, "plateau"))
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "runs"),
                     "%s: run '%s' uses schedule = plateau, whose rate depends on the validation loss, "
                     "so it cannot be drawn without training; draw it from the run's history instead "
                     "(kind = history, series = lr)", what, r->id);
    }
}

/* `labels =` (one per run), xlog / ylog, the axis bounds. */
static void check_figure_axes(loader *L, kiln_directive *x, const char *what)
{
    /* a sweep's labels name its lines, counted when it is drawn */
    if (x->labels && x->n_labels != x->n_runs && x->figure_kind != KILN_FIG_SWEEP)
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "labels"),
                 "%s: %d labels for %d runs; give one label per run", what, x->n_labels, x->n_runs);
    static const char *const bools[] = {"xlog", "ylog"};
    for (int j = 0; j < 2; j++) {
        const char *v = kv_get(x, bools[j]);
        if (v && strcmp(v, "true") && strcmp(v, "false") && strcmp(v, "1") && strcmp(v, "0"))
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, bools[j]),
                     "%s: %s '%s' is not accepted; accepted: true, false", what, bools[j], v);
    }
    static const char *const nums[] = {"ymin", "ymax", "xmin", "xmax"};
    for (int j = 0; j < 4; j++) {
        const char *v = kv_get(x, nums[j]);
        char *end;
        if (v && (strtod(v, &end), !*v || *end))
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, nums[j]), "%s: %s '%s' is not a number", what,
                     nums[j], v);
    }
}

static void check_figure(loader *L, kiln_directive *x, const char *what, int *n_fig)
{
    x->number = ++*n_fig;
    if (check_runs_key(L, x, what)) return;
    check_figure_kind(L, x, what);
    check_figure_series(L, x, what);
    check_figure_runs(L, x, what);
    check_figure_axes(L, x, what);
}

/* ---- the document's lists and the references in the prose ------------------------------------ */

/* doc->figures and doc->tables in number order. */
static void list_numbered(loader *L, int n_fig, int n_tab)
{
    kiln_doc *doc = L->doc;
    if (doc->groups) ka_own(L->a, doc->groups);
    if (doc->compares) ka_own(L->a, doc->compares);
    doc->figures = ka_alloc(L->a, sizeof *doc->figures * (size_t)(n_fig + 1));
    doc->tables = ka_alloc(L->a, sizeof *doc->tables * (size_t)(n_tab + 1));
    for (int i = 0; i < L->n_dirs; i++) {
        kiln_directive *x = L->dirs[i];
        if ((x->kind == KILN_DIR_FIGURE || x->kind == KILN_DIR_LRFIND) && x->number) doc->figures[doc->n_figures++] = x;
        if (x->kind == KILN_DIR_TABLE && x->number) doc->tables[doc->n_tables++] = x;
    }
}

/* {{fig:ID}} / {{table:ID}}: the target exists. */
static void check_target_ref(loader *L, kiln_inline *in, const char *file)
{
    kiln_doc *doc = L->doc;
    kiln_directive *t = kr_find_target(doc, in->metric, in->run_id);
    if (t) { in->target = t; return; }
    sbuf m = {0};
    int is_tab = !strcmp(in->metric, "table");
    int n = is_tab ? doc->n_tables : doc->n_figures;
    for (int j = 0; j < n && j < LIST_MAX; j++) {
        if (j) sb_add(&m, ", ");
        sb_add(&m, (is_tab ? doc->tables : doc->figures)[j]->id);
    }
    if (n > LIST_MAX) sb_printf(&m, ", ... (%d more)", n - LIST_MAX);
    kd_error(L->d, KILN_REPORT_EINPUT, file, in->line, "reference %s: no %s with id '%s'; declared: %s", in->text,
             is_tab ? "{table}" : "{figure} or {lrfind}", in->run_id, n ? m.s : "(none)");
    sb_free(&m);
}

/* {{sec:ID}}: a heading with that id; its number ("Section 2.3") kept. */
static void check_sec_ref(loader *L, kiln_inline *in, const char *file)
{
    const kiln_block *h = NULL;
    const char *num = find_heading(L, in->run_id, &h);
    if (!h) {
        kd_error(L->d, KILN_REPORT_EINPUT, file, in->line,
                 "reference %s: no heading with the id '%s' (a heading's id is its text in lower case, spaces as '-': "
                 "## Step decay -> {{sec:step-decay}})", in->text, in->run_id);
        return;
    }
    in->eq = h;
    in->format = num;
}

/* {{eq:ID}}: a display labelled {#eq:ID}. */
static void check_eq_ref(loader *L, kiln_inline *in, const char *file)
{
    kiln_doc *doc = L->doc;
    if (kr_strmap_has(&L->eq_ix, in->run_id)) {
        in->eq = doc->equations[*kr_strmap_get(&L->eq_ix, in->run_id) - 1];
        return;
    }
    sbuf m = {0};
    for (int j = 0; j < doc->n_equations && j < LIST_MAX; j++) {
        if (j) sb_add(&m, ", ");
        sb_add(&m, doc->equations[j]->anchor + 3);
    }
    if (doc->n_equations > LIST_MAX) sb_printf(&m, ", ... (%d more)", doc->n_equations - LIST_MAX);
    kd_error(L->d, KILN_REPORT_EINPUT, file, in->line, "reference %s: no display with the label {#eq:%s}; labelled: %s",
             in->text, in->run_id, doc->n_equations ? m.s : "(none)");
    sb_free(&m);
}

/* Inline values and references: {{RUN.METRIC}}, {{GROUP.STAT_METRIC}}, {{fig:ID}},
 * {{sec:ID}}, {{eq:ID}}. */
static void check_inline_refs(loader *L)
{
    for (int i = 0; i < L->n_refs; i++) {
        kiln_inline *in = L->refs[i].in;
        const char *file = L->refs[i].file;
        if (in->kind == KILN_IN_REF && !strcmp(in->metric, "sec")) {
            check_sec_ref(L, in, file);
            continue;
        }
        if (in->kind == KILN_IN_REF && !strcmp(in->metric, "eq")) {
            check_eq_ref(L, in, file);
            continue;
        }
        if (in->kind == KILN_IN_REF) {
            check_target_ref(L, in, file);
            continue;
        }
        kiln_directive *c = kr_find_compare(L->doc, in->run_id);
        if (c) {
            check_compare_value(L, file, in->line, in->text, c, in->metric, in->format);
            continue;
        }
        kiln_directive *g = kr_find_group(L->doc, in->run_id);
        if (g) {
            check_group_metric(L, file, in->line, in->text, g, in->metric, in->format);
            continue;
        }
        kiln_run *r;
        if (check_run_ref(L, file, in->line, in->text, in->run_id, &r)) continue;
        check_metric(L, file, in->line, in->text, r, in->metric, in->format);
        if (needs_result(in->metric)) r->needed = 1;
    }
}

void check_all(loader *L)
{
    declare_runs(L);
    check_labels(L);
    int n_fig = 0, n_tab = 0;
    for (int i = 0; i < L->n_dirs; i++) {
        kiln_directive *x = L->dirs[i];
        char what[160];
        snprintf(what, sizeof what, "{%s} %s", x->name, x->id);
        switch (x->kind) {
        case KILN_DIR_EXPERIMENT: break; /* checked with its config */
        case KILN_DIR_LRFIND: check_lrfind(L, x, &n_fig); break;
        case KILN_DIR_RESULT:
        case KILN_DIR_CONFIG: check_result_or_config(L, x, what); break;
        case KILN_DIR_GROUP: check_group(L, x, what); break;
        case KILN_DIR_TABLE: check_table(L, x, what, &n_tab); break;
        case KILN_DIR_FIGURE: check_figure(L, x, what, &n_fig); break;
        case KILN_DIR_COMPARE: break; /* below, once every {group} is known */
        }
    }
    for (int i = 0; i < L->n_dirs; i++) {
        kiln_directive *x = L->dirs[i];
        char what[160];
        snprintf(what, sizeof what, "{%s} %s", x->name, x->id);
        if (x->kind == KILN_DIR_COMPARE) check_compare(L, x, what);
    }
    list_numbered(L, n_fig, n_tab);
    check_inline_refs(L);
    check_config_refs(L);
    check_links(L);
}
