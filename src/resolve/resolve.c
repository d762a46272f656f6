/* Resolution: the run results turned into the text and images the writers
 * show. After this the document model is plain data. */
#include "resolve/resolve.h"
#include "kiln/math.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *value_text(kiln_arena *a, const kiln_run *r, const char *metric, const char *fmt)
{
    double v;
    const char *s;
    int k = kiln_run_value(r, metric, &v, &s);
    if (k < 0) return "n/a";
    if (k == 1) return ka_strdup(a, s);
    char buf[128];
    if (kiln_format_value(v, fmt, buf, sizeof buf) < 0) kiln_format_value(v, "", buf, sizeof buf);
    return ka_strdup(a, buf);
}

static void resolve_inlines(kiln_doc *doc, const kiln_chapter *ch, kiln_inline *in)
{
    for (; in; in = in->next) {
        if (in->kind == KILN_IN_VALUE) {
            kiln_run *r = kr_find_run(doc, in->run_id);
            kiln_directive *g = r ? NULL : kr_find_group(doc, in->run_id);
            kiln_directive *c = r || g ? NULL : kr_find_compare(doc, in->run_id);
            if (r) in->text = value_text(doc->arena, r, in->metric, in->format);
            else if (g || c) {
                double v;
                const char *s;
                int k = g ? kiln_group_value(g, in->metric, &v, &s) : kiln_compare_value(c, in->metric, &v, &s);
                char buf[128];
                if (k < 0) in->text = "n/a";
                else if (k == 1) in->text = ka_strdup(doc->arena, s);
                else {
                    if (kiln_format_value(v, in->format, buf, sizeof buf) < 0) kiln_format_value(v, "", buf, sizeof buf);
                    in->text = ka_strdup(doc->arena, buf);
                }
            } else in->text = "n/a";
        } else if (in->kind == KILN_IN_REF && in->eq) {
            in->text = !strcmp(in->metric, "sec") ? in->format : ka_printf(doc->arena, "Equation %d", in->eq->number);
            const kiln_chapter *at = in->eq->chapter;
            in->url = at == ch || !at ? ka_printf(doc->arena, "#%s", in->eq->anchor)
                                      : ka_printf(doc->arena, "%s#%s", at->page, in->eq->anchor);
        } else if (in->kind == KILN_IN_REF && in->target) {
            char buf[512];
            in->text = ka_printf(doc->arena, "%s %d", in->target->kind == KILN_DIR_TABLE ? "Table" : "Figure",
                                 in->target->number);
            in->url = ka_strdup(doc->arena, kiln_ref_href(doc, ch, in->target, buf, sizeof buf));
        }
        if (in->children) resolve_inlines(doc, ch, in->children);
    }
}

/* Plain text of resolved inlines (a title or a legend label with values). */
static void inline_text(sbuf *b, const kiln_inline *in)
{
    for (; in; in = in->next) {
        if (in->kind == KILN_IN_SOFTBREAK || in->kind == KILN_IN_LINEBREAK) sb_addc(b, ' ');
        else if (in->kind != KILN_IN_HTML) sb_add(b, in->text);
        if (in->children) inline_text(b, in->children);
    }
}

/* `title =` and `labels =` with their {{...}} values expanded; done here,
 * single-threaded, before the figures render in parallel (the arena is not
 * thread-safe), so the plotter and the writers see the final text. */
static void expand_titles(kiln_doc *doc, const kiln_chapter *ch, kiln_directive *x)
{
    sbuf b = {0};
    if (x->title_parts) {
        resolve_inlines(doc, ch, x->title_parts);
        inline_text(&b, x->title_parts);
        x->title = ka_strdup(doc->arena, b.s);
    }
    for (int i = 0; i < x->n_labels; i++) {
        b.len = 0;
        if (b.s) b.s[0] = 0;
        resolve_inlines(doc, ch, x->label_parts[i]);
        inline_text(&b, x->label_parts[i]);
        x->labels[i] = ka_strdup(doc->arena, b.s);
    }
    sb_free(&b);
}

static const char *column_header(const char *name)
{
    static const char *const map[][2] = {
        {"id", "Run"}, {"label", "Run"}, {"learning_rate", "Learning rate"}, {"optimizer", "Optimizer"},
        {"test_loss", "Test loss"}, {"test_accuracy", "Test accuracy"}, {"loss", "Training loss"},
        {"val_loss", "Validation loss"}, {"accuracy", "Training accuracy"}, {"val_accuracy", "Validation accuracy"},
        {"best_val_loss", "Best validation loss"}, {"best_val_accuracy", "Best validation accuracy"},
        {"best_epoch", "Best epoch"}, {"epochs", "Epochs"}, {"epochs_run", "Epochs run"}, {"seconds", "Wall time (s)"},
        {"seconds_per_epoch", "Seconds per epoch"}, {"schedule", "Schedule"}, {"batch_size", "Batch size"},
        {"diverged", "Diverged"}, {"key", "Cache key"}, {NULL, NULL}};
    for (int i = 0; map[i][0]; i++)
        if (!strcmp(map[i][0], name)) return map[i][1];
    return name;
}

static void resolve_table(kiln_doc *doc, kiln_directive *x)
{
    kiln_arena *a = doc->arena;
    const char *cols = kv_get(x, "columns");
    if (!cols) cols = "label, test_loss, test_accuracy";
    char *copy = ka_strdup(a, cols);
    const char *names[64], *fmts[64];
    int nc = 0;
    for (char *save = NULL, *t = strtok_r(copy, ", \t", &save); t && nc < 64; t = strtok_r(NULL, ", \t", &save)) {
        char *c = strchr(t, ':');
        if (c) *c++ = 0;
        names[nc] = t;
        fmts[nc++] = c ? c : "";
    }
    const char *summ[8];
    int ns = 0;
    const char *sm = kv_get(x, "summary");
    char *scopy = sm ? ka_strdup(a, sm) : NULL;
    for (char *save = NULL, *t = scopy ? strtok_r(scopy, ", \t", &save) : NULL; t && ns < 8; t = strtok_r(NULL, ", \t", &save))
        summ[ns++] = t;
    kiln_table *tb = ka_alloc(a, sizeof *tb);
    tb->n_cols = nc;
    tb->n_rows = x->n_runs + ns;
    tb->n_summary = ns;
    tb->header = ka_alloc(a, sizeof *tb->header * (size_t)(nc ? nc : 1));
    tb->numeric = ka_alloc(a, sizeof *tb->numeric * (size_t)(nc ? nc : 1));
    tb->cells = ka_alloc(a, sizeof *tb->cells * (size_t)(nc * tb->n_rows + 1));
    /* the summary rows see the table's runs as a group */
    kiln_directive g = {0};
    g.id = x->id;
    g.runs = x->runs;
    g.n_runs = x->n_runs;
    const char *hd = kv_get(x, "headers");
    char *hcopy = hd ? ka_strdup(a, hd) : NULL;
    char *hp = hcopy;
    for (int j = 0; j < nc; j++) {
        const char *h = column_header(names[j]);
        if (hp) {
            char *e = strchr(hp, ',');
            if (e) *e = 0;
            while (*hp == ' ') hp++;
            char *end = hp + strlen(hp);
            while (end > hp && end[-1] == ' ') *--end = 0;
            h = hp;
            hp = e ? e + 1 : NULL;
        }
        tb->header[j] = ka_strdup(a, h);
        tb->numeric[j] = 1;
        for (int i = 0; i < x->n_runs; i++) {
            double v;
            const char *s;
            if (kiln_run_value(x->runs[i], names[j], &v, &s) != 0) tb->numeric[j] = 0;
            tb->cells[i * nc + j] = value_text(a, x->runs[i], names[j], fmts[j]);
        }
        for (int i = 0; i < ns; i++) {
            static const char *const shown[][2] = {{"mean", "mean"}, {"sd", "standard deviation"}, {"min", "minimum"},
                                                   {"max", "maximum"}};
            const char *what = summ[i];
            for (int k = 0; k < 4; k++)
                if (!strcmp(shown[k][0], summ[i])) what = shown[k][1];
            double v;
            const char *sv;
            char name[160], buf[128];
            snprintf(name, sizeof name, "%s_%s", summ[i], names[j]);
            const char *cell;
            /* the first column names the row; the other numeric columns get
             * the statistic, text columns stay empty */
            if (j > 0 && tb->numeric[j] && kiln_group_value(&g, name, &v, &sv) == 0) {
                if (kiln_format_value(v, fmts[j], buf, sizeof buf) < 0) kiln_format_value(v, "", buf, sizeof buf);
                cell = ka_strdup(a, buf);
            } else {
                cell = j == 0 ? what : "";
            }
            tb->cells[(x->n_runs + i) * nc + j] = cell;
        }
    }
    x->table = tb;
}

/* A canonical text with its numbers spelt shortest (0.2, not
 * 0.20000000000000001): "key = value" lines with the keys padded to one
 * width when align, else "key=value" lines as in the canonical text. */
const char *kr_config_shortest(kiln_arena *a, const char *canonical, int align)
{
    sbuf b = {0};
    for (const char *p = canonical; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq) {
            char val[512], shown[64];
            snprintf(val, sizeof val, "%.*s", (int)(len - (size_t)(eq - p) - 1), eq + 1);
            char *end;
            double v = strtod(val, &end);
            if (*val && !*end && (strchr(val, '.') || strchr(val, 'e')))
                snprintf(val, sizeof val, "%s", kiln_shortest(v, shown, sizeof shown));
            if (align) sb_printf(&b, "%-20.*s = %s\n", (int)(eq - p), p, val);
            else sb_printf(&b, "%.*s=%s\n", (int)(eq - p), p, val);
        }
        if (!e) break;
        p = e + 1;
    }
    const char *s = ka_strdup(a, b.s ? b.s : "");
    sb_free(&b);
    return s;
}

const char *kr_config_text(kiln_arena *a, const kiln_run *r)
{
    const char *t = kr_config_shortest(a, r->canonical, 1);
    /* the data set is not a trainer key; it enters the key through its digest */
    return r->data && strcmp(r->data, "mnist") ? ka_printf(a, "%s%-20s = %s\n", t, "data", r->data) : t;
}

/* A setting of an experiment as the pages show it: the text as written, or
 * for a value taken from another run, the value applied and its source
 * ("0.0014 from sweep.suggested_base_lr"). */
static void setting_texts(kiln_doc *doc, kiln_directive *x)
{
    const kiln_run *r = x->run;
    for (int i = 0; i < x->n_kv; i++) {
        kiln_kv *kv = &x->kv[i];
        kv->shown = kv->value;
        for (int j = 0; r && j < r->n_refs; j++) {
            const kiln_config_ref *f = &r->refs[j];
            if (strcmp(f->key, kv->key) || !f->text[0]) continue;
            kv->shown = ka_printf(doc->arena, "%s from %s.%s", f->text, f->run_id, f->metric);
        }
    }
}

/* {result}: the line the site shows and the same values as a one-row table
 * (Run, Test loss, Test accuracy) for writers that set it as one. */
static void resolve_result(kiln_doc *doc, kiln_directive *x)
{
    const char *f = kv_get(x, "format");
    if (!f) f = "repr";
    const char *loss = value_text(doc->arena, x->run, "test_loss", f);
    const char *acc = value_text(doc->arena, x->run, "test_accuracy", f);
    x->text = ka_printf(doc->arena, "Test loss: %s / Test accuracy: %s", loss, acc);
    kiln_table *t = ka_alloc(doc->arena, sizeof *t);
    t->n_rows = 1;
    t->n_cols = 3;
    const char **h = ka_alloc(doc->arena, sizeof *h * 3), **c = ka_alloc(doc->arena, sizeof *c * 3);
    int *num = ka_alloc(doc->arena, sizeof *num * 3);
    h[0] = "Run", h[1] = "Test loss", h[2] = "Test accuracy";
    c[0] = x->run->label && x->run->label[0] ? x->run->label : x->run->id, c[1] = loss, c[2] = acc;
    num[1] = num[2] = 1;
    t->header = h;
    t->cells = c;
    t->numeric = num;
    x->table = t;
}

/* The final metrics results.json lists for each run that was needed. */
static void resolve_metrics(kiln_doc *doc, kiln_run *r)
{
    static const char *const tm[] = {"test_loss", "test_accuracy", "loss", "val_loss", "accuracy", "val_accuracy",
                                     "best_val_loss", "best_val_accuracy", "best_epoch", "epochs_run", "seconds",
                                     "n_train", "n_val", "n_test", "diverged", NULL};
    static const char *const lm[] = {"steepest_lr", "min_loss_lr", "minimum_lr", "suggested_base_lr",
                                     "suggested_max_lr", "steps", "seconds", NULL};
    const char *const *names = r->kind == KILN_RUN_TRAIN ? tm : lm;
    int n = 0;
    while (names[n]) n++;
    kiln_metric *m = ka_alloc(doc->arena, sizeof *m * (size_t)n);
    r->n_metrics = 0;
    for (int k = 0; k < n; k++) {
        double v;
        const char *s;
        if (kiln_run_value(r, names[k], &v, &s) == 0) m[r->n_metrics++] = (kiln_metric){names[k], v};
    }
    r->metrics = m;
}

/* The settings as listed (appendix, {config}): the "key = value" lines,
 * after a comment naming the source of each value taken from another run. */
static const char *config_display(kiln_doc *doc, const kiln_run *r)
{
    const char *lines = kr_config_text(doc->arena, r);
    if (!r->n_refs) return lines;
    sbuf b = {0};
    sb_add(&b, "# values taken from other runs' results:\n");
    for (int j = 0; j < r->n_refs; j++) {
        const kiln_config_ref *f = &r->refs[j];
        sb_printf(&b, "# %s = %s: %s.%s%s%s\n", f->key, f->text, f->run_id, f->metric, f->format[0] ? ":" : "",
                  f->format);
    }
    sb_add(&b, lines);
    const char *s = ka_strdup(doc->arena, b.s);
    sb_free(&b);
    return s;
}

static const char *config_listing(kiln_doc *doc, const kiln_run *r)
{
    return ka_printf(doc->arena, "# %s %s (%s:%d)%s%s%s\n%s# cache key %s, trainer %s\n",
                     r->kind == KILN_RUN_LRFIND ? "range test" : "experiment", r->id, r->file, r->line,
                     r->base[0] ? ", based on " : "", r->base, doc->smoke ? ", smoke scale" : "", r->display, r->key,
                     doc->trainer_fingerprint);
}

static void resolve_blocks(kiln_doc *doc, const kiln_chapter *ch, kiln_block *b)
{
    for (; b; b = b->next) {
        if (b->inlines) resolve_inlines(doc, ch, b->inlines);
        if (b->children) resolve_blocks(doc, ch, b->children);
        kiln_directive *x = b->directive;
        if (!x) continue;
        if (x->caption) resolve_inlines(doc, ch, x->caption);
        expand_titles(doc, ch, x);
        switch (x->kind) {
        case KILN_DIR_RESULT:
            resolve_result(doc, x);
            break;
        case KILN_DIR_EXPERIMENT:
            setting_texts(doc, x);
            break;
        case KILN_DIR_CONFIG:
            x->text = config_listing(doc, x->run);
            break;
        case KILN_DIR_TABLE:
            resolve_table(doc, x);
            break;
        case KILN_DIR_LRFIND: {
            const kiln_run *r = x->run;
            if (r && r->ok) {
                char a1[64], a2[64], a3[64];
                kiln_format_value(r->lrfind.steepest_lr, ".2e", a1, sizeof a1);
                kiln_format_value(r->lrfind.min_div10_lr, ".2e", a2, sizeof a2);
                kiln_format_value(r->lrfind.base_lr, ".2e", a3, sizeof a3);
                x->text = ka_printf(doc->arena,
                                    "Suggested learning rates: %s (steepest descent), %s (minimum / 10); "
                                    "for a cyclical schedule, base_lr %s and max_lr %s. %ld steps%s.",
                                    a1, a2, a3, a2, r->lrfind.n, r->lrfind.stopped_early ? ", stopped when the loss diverged" : "");
            }
            x->image = ka_printf(doc->arena, "img/%s.png", x->id);
            break;
        }
        case KILN_DIR_FIGURE:
            x->image = ka_printf(doc->arena, "img/%s.png", x->id);
            break;
        default:
            break;
        }
    }
}

typedef struct render_job {
    const kiln_doc *doc;
    const char *img_dir;
    int next, failed;
    pthread_mutex_t mu;
    kiln_diag *d;
} render_job;

static void *render_worker(void *arg)
{
    render_job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int i = j->next++;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->doc->n_figures) break;
        kiln_directive *x = j->doc->figures[i];
        char err[1024];
        if (kr_render_figure(j->doc, x, j->img_dir, err, sizeof err)) {
            pthread_mutex_lock(&j->mu);
            kd_error(j->d, KILN_REPORT_EFAIL, x->file, x->line, "{%s} %s: %s", x->name, x->id, err);
            j->failed++;
            pthread_mutex_unlock(&j->mu);
        }
    }
    return NULL;
}

/* A run's label may name its own settings: "lr {{learning_rate:sci}}". */
static void expand_label(kiln_doc *doc, kiln_run *r)
{
    if (!strstr(r->label, "{{")) return;
    sbuf b = {0};
    const char *p = r->label;
    for (;;) {
        const char *o = strstr(p, "{{"), *c = o ? strstr(o, "}}") : NULL;
        if (!o || !c) { sb_add(&b, p); break; }
        sb_addn(&b, p, (size_t)(o - p));
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(c - o - 2 < 127 ? c - o - 2 : 127), o + 2);
        char *fmt = strchr(name, ':');
        if (fmt) *fmt++ = 0;
        sb_add(&b, value_text(doc->arena, r, name, fmt ? fmt : ""));
        p = c + 2;
    }
    r->label = ka_strdup(doc->arena, b.s);
    sb_free(&b);
}

int kiln_doc_resolve(kiln_doc *doc, const char *img_dir, kiln_diag *d)
{
    for (int i = 0; i < doc->n_runs; i++) {
        expand_label(doc, doc->runs[i]);
        doc->runs[i]->display = config_display(doc, doc->runs[i]);
        doc->runs[i]->config_line = kr_config_shortest(doc->arena, doc->runs[i]->canonical, 0);
        resolve_metrics(doc, doc->runs[i]);
    }
    kr_resolve_compares(doc);
    if (doc->abstract) resolve_blocks(doc, NULL, doc->abstract);
    if (doc->front) resolve_blocks(doc, NULL, doc->front);
    for (int i = 0; i < doc->n_chapters; i++) resolve_blocks(doc, &doc->chapters[i], doc->chapters[i].blocks);
    /* values inside math: formatted like those in the prose, then put into
     * the trees both writers render */
    for (int i = 0; i < doc->n_math_values; i++) {
        resolve_inlines(doc, NULL, doc->math_values[i]);
        km_fill(doc->math_value_nodes[i], doc->math_values[i]->text);
    }
    kr_build_appendix(doc);
    if (!img_dir) return 0;
    if (kr_mkdirs(img_dir)) {
        kd_error(d, KILN_REPORT_EFAIL, img_dir, 0, "cannot create the image folder");
        return KILN_REPORT_EFAIL;
    }
    /* figures render in parallel; the arena is not thread-safe, so the image
     * paths are filled in here first and the workers only render */
    for (int i = 0; i < doc->n_figures; i++) doc->figures[i]->image_file = ka_printf(doc->arena, "%s/%s.png", img_dir, doc->figures[i]->id);
    render_job j = {doc, img_dir, 0, 0, PTHREAD_MUTEX_INITIALIZER, d};
    int nt = 4;
    if (nt > doc->n_figures) nt = doc->n_figures;
    pthread_t th[4];
    for (int i = 0; i < nt; i++) pthread_create(&th[i], NULL, render_worker, &j);
    for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
    return j.failed ? KILN_REPORT_EFAIL : 0;
}

const char *kiln_ref_href(const kiln_doc *doc, const kiln_chapter *from, const kiln_directive *t, char *buf, size_t n)
{
    (void)doc;
    if (t->chapter == from || !t->chapter) snprintf(buf, n, "#%s", t->anchor);
    else snprintf(buf, n, "%s#%s", t->chapter->page, t->anchor);
    return buf;
}
