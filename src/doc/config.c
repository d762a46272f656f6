/* Each run's trainer configuration from its directive, following `base =`
 * chains; values taken from other runs' results are remembered here and
 * applied by kiln_doc_run. */
#include "doc/loader.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- checks once everything is parsed ------------------------------------------------------ */

kiln_directive *find_dir(loader *L, int kind1, int kind2, const char *id, const kiln_directive *before)
{
    for (int i = 0; i < L->n_dirs; i++) {
        kiln_directive *x = L->dirs[i];
        if (x == before) return NULL;
        if (((int)x->kind == kind1 || (int)x->kind == kind2) && !strcmp(x->id, id)) return x;
    }
    return NULL;
}

void list_runs(sbuf *b, const kiln_doc *doc)
{
    for (int i = 0; i < doc->n_runs; i++) { if (i) sb_add(b, ", "); sb_add(b, doc->runs[i]->id); }
    if (!doc->n_runs) sb_add(b, "(none declared)");
}


/* schedules that run from base_lr/max_lr, never from learning_rate */
static const char NO_LEARNING_RATE_SCHEDULES[] = "triangular triangular2 exp_range one_cycle";

static int word_in_list(const char *w, const char *list)
{
    size_t n = strlen(w);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, w, n)) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

/* Clear the set bit of a trainer key; returns whether it was set. */
static int unset_key(kiln_config *c, const char *name)
{
    int n;
    const kiln_key_info *ki = kiln_config_keys(&n);
    for (int i = 0; i < n; i++) {
        if (strcmp(ki[i].name, name)) continue;
        uint64_t bit = 1ull << (i % 64);
        int was = (c->set_mask[i / 64] & bit) != 0;
        c->set_mask[i / 64] &= ~bit;
        return was;
    }
    return 0;
}

/* After `base =`: keys the child inherited but that do not apply to its own
 * schedule, optimizer or early stopping count as not set, so switching the
 * schedule in a derived run is not refused for the base's settings. Keys the
 * directive sets itself stay set, so a contradiction within one directive
 * is still an error. An inherited learning_rate under a schedule that never
 * reads it goes back to the optimizer's default, as if the run had been
 * written out without it (the same config, the same cache key). */
static void drop_ref(kiln_run *r, const char *key)
{
    for (int i = 0; i < r->n_refs; i++)
        if (!strcmp(r->refs[i].key, key)) {
            r->refs[i] = r->refs[--r->n_refs];
            return;
        }
}

static void drop_inherited_irrelevant(kiln_config *c, const kiln_directive *x, kiln_run *r)
{
    /* the trainer says where each key applies (kiln_key_info.scope) */
    int n;
    const kiln_key_info *ki = kiln_config_keys(&n);
    for (int i = 0; i < n; i++) {
        const char *name = ki[i].name, *sc = ki[i].scope;
        if (strncmp(sc, "opt=", 4) && strncmp(sc, "sched=", 6) && strcmp(sc, "es")) continue;
        if (kv_get(x, name) || kiln_config_key_applies(c, name)) continue;
        unset_key(c, name);
        drop_ref(r, name);
    }
    if (!kv_get(x, "learning_rate") && word_in_list(c->schedule, NO_LEARNING_RATE_SCHEDULES)) {
        drop_ref(r, "learning_rate");
        if (unset_key(c, "learning_rate")) c->learning_rate = NAN;
    }
}

/* `key = {{RUN.METRIC[:FORMAT]}}` in an {experiment}: remembered, applied by
 * kiln_doc_run once RUN has a result. */
static int add_config_ref(loader *L, kiln_run *r, const kiln_directive *x, const kiln_kv *kv)
{
    size_t n = strlen(kv->value);
    char *s = trim(ka_strndup(L->a, kv->value + 2, n - 4));
    const char *run, *metric, *format;
    if (split_value_ref(L->a, s, &run, &metric, &format)) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv->line,
                 "{%s} %s: key '%s': malformed reference '%s'; accepted: {{RUN.METRIC}} or {{RUN.METRIC:FORMAT}}, "
                 "e.g. {{sweep.suggested_max_lr:.3g}}",
                 x->name, x->id, kv->key, kv->value);
        return 1;
    }
    drop_ref(r, kv->key);
    /* an inherited array was allocated with room for this directive's keys */
    if (!r->refs) r->refs = ka_alloc(L->a, sizeof *r->refs * (size_t)x->n_kv);
    kiln_config_ref *f = &r->refs[r->n_refs++];
    memset(f, 0, sizeof *f);
    f->key = kv->key;
    f->run_id = run;
    f->metric = metric;
    f->format = format;
    f->file = x->file;
    f->line = kv->line;
    f->text = "";
    return 0;
}

/* `data =`: a data set kiln knows or a folder of IDX files, and the model
 * checked against its image shape (the trainer's own check assumes MNIST's
 * 28x28x1). */
static int check_data(loader *L, kiln_run *r, kiln_directive *x)
{
    const char *v = kv_get(x, "data");
    if (v) r->data = v;
    int line = v ? kv_line(x, "data") : x->line;
    kiln_data_info di;
    char err[8192];
    if (kiln_data_lookup(r->data, "", &di, err, sizeof err)) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, line, "{%s} %s: %s", x->name, x->id, err);
        return 1;
    }
    if (strcmp(di.name, "mnist") && kiln_data_check_model(&di, r->config.model, err, sizeof err)) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, line, "{%s} %s: %s", x->name, x->id, err);
        return 1;
    }
    return 0;
}

/* `checkpoint = best | every | no` of an {experiment}. Returns 1 on an error. */
static int checkpoint_key(loader *L, kiln_run *r, const kiln_directive *x)
{
    int bad = 0;
    const char *ck = kv_get(x, "checkpoint");
    if (!ck) return 0;
    if (x->kind == KILN_DIR_LRFIND || (strcmp(ck, "best") && strcmp(ck, "every") && strcmp(ck, "no"))) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "checkpoint"),
                 x->kind == KILN_DIR_LRFIND ? "{lrfind} %s: a range test keeps no checkpoints (checkpoint = %s)"
                                            : "{experiment} %s: checkpoint = '%s'; accepted: best (the weights of the "
                                              "epoch with the lowest val_loss), every (the last epoch's), no",
                 x->id, ck);
        bad = 1;
    }
    r->checkpoint = !strcmp(ck, "best") ? 1 : !strcmp(ck, "every") ? 2 : 0;
    if (r->checkpoint == 1 && r->config.validation_split <= 0) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "checkpoint"),
                 "{experiment} %s: checkpoint = best needs val_loss, but validation_split is 0", x->id);
        bad = 1;
    }
    return bad;
}

/* A range test's own keys (start_lr, end_lr, lr_steps or lr_epochs, sma,
 * smoothing, stop_factor) into r->lrfind_opts. Returns 1 on an error. */
static int lrfind_keys(loader *L, kiln_run *r, const kiln_directive *x)
{
    int bad = 0;
    kiln_lrfind_opts_init(&r->lrfind_opts);
    static const char *const num[] = {"start_lr", "end_lr", "lr_steps", "lr_epochs", "sma", "smoothing", "stop_factor"};
    for (int i = 0; i < 7; i++) {
        const char *v = kv_get(x, num[i]);
        if (!v) continue;
        char *end;
        double d = strtod(v, &end);
        if (!*v || *end || !isfinite(d) || d <= 0 || (i >= 2 && i <= 4 && d != floor(d)) || (i == 5 && d >= 1) ||
            (i == 6 && d <= 1)) {
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, num[i]),
                     "{lrfind} %s: key '%s': '%s' is not a %s", x->id, num[i], v,
                     i >= 2 && i <= 4 ? "positive integer" : i == 5 ? "number in (0, 1)"
                     : i == 6 ? "number > 1 (the loss may grow to stop_factor times its best)" : "positive number");
            bad = 1;
            continue;
        }
        switch (i) {
        case 0: r->lrfind_opts.start_lr = d; break;
        case 1: r->lrfind_opts.end_lr = d; break;
        case 2: r->lrfind_opts.steps = (long)d; break;
        case 3: r->lrfind_opts.epochs = (int)d; break;
        case 4: r->lrfind_opts.sma = (int)d; break;
        case 5: r->lrfind_opts.beta = d; break;
        case 6: r->lrfind_opts.stop_factor = d; break;
        }
    }
    if (kv_get(x, "lr_steps") && kv_get(x, "lr_epochs")) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "lr_epochs"),
                 "{lrfind} %s: give lr_steps or lr_epochs, not both", x->id);
        bad = 1;
    }
    if (r->lrfind_opts.start_lr >= r->lrfind_opts.end_lr) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "{lrfind} %s: start_lr (%g) must be below end_lr (%g)",
                 x->id, r->lrfind_opts.start_lr, r->lrfind_opts.end_lr);
        bad = 1;
    }
    return bad;
}

/* Build each run's config, following base = chains. state: 0 new, 1 busy, 2 done. */
int build_config(loader *L, kiln_run *r, kiln_directive *x, int *state, int depth, sbuf *chain)
{
    int idx = -1;
    for (int i = 0; i < L->doc->n_runs; i++)
        if (L->doc->runs[i] == r) idx = i;
    if (state[idx] == 2) return 0;
    if (state[idx] == 1) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "base"), "a cycle in 'base =': %s -> %s", chain->s, r->id);
        return 1;
    }
    state[idx] = 1;
    if (chain->len) sb_add(chain, " -> ");
    sb_add(chain, r->id);
    kiln_config_init(&r->config);
    const char *base = kv_get(x, "base");
    if (base) {
        kiln_run *b = kr_find_run(L->doc, base);
        if (!b) {
            sbuf m = {0};
            list_runs(&m, L->doc);
            kd_error(L->d, KILN_REPORT_EINPUT, x->file, kv_line(x, "base"), "{%s} %s: base '%s' is not a run; declared runs: %s",
                     x->name, x->id, base, m.s);
            sb_free(&m);
            state[idx] = 2;
            return 1;
        }
        kiln_directive *bx = find_dir(L, KILN_DIR_EXPERIMENT, KILN_DIR_LRFIND, base, NULL);
        if (build_config(L, b, bx, state, depth + 1, chain)) { state[idx] = 2; return 1; }
        r->config = b->config;
        if (!kv_get(x, "label") && b->label != b->id) r->label = b->label;
        r->base = b->id;
        r->checkpoint = b->checkpoint;
        r->data = b->data;
        /* inherited references, except for keys this directive sets itself */
        if (b->n_refs) r->refs = ka_alloc(L->a, sizeof *r->refs * (size_t)(b->n_refs + x->n_kv));
        for (int i = 0; i < b->n_refs; i++)
            if (!kv_get(x, b->refs[i].key)) r->refs[r->n_refs++] = b->refs[i];
    }
    int bad = 0;
    for (int i = 0; i < x->n_kv; i++) {
        const kiln_kv *kv = &x->kv[i];
        if (in_list(EXPERIMENT_META, kv->key) || in_list(LRFIND_META, kv->key)) continue;
        if (is_config_ref(kv->value)) {
            if (x->kind == KILN_DIR_LRFIND) { bad = 1; continue; } /* reported by check_keys */
            bad |= add_config_ref(L, r, x, kv);
            continue;
        }
        char err[4096];
        if (kiln_config_set(&r->config, kv->key, kv->value, err, sizeof err)) bad = 1; /* reported by check_keys */
    }
    bad |= checkpoint_key(L, r, x);
    if (base) drop_inherited_irrelevant(&r->config, x, r);
    if (r->kind == KILN_RUN_LRFIND && r->n_refs) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line,
                 "{lrfind} %s: its base takes '%s' from run '%s'; a range test's settings must be written out", x->id,
                 r->refs[0].key, r->refs[0].run_id);
        bad = 1;
    }
    char err[1024];
    /* the model first, at its own line: its layers, its shapes on MNIST's
     * 28x28x1 (another data set's shape is check_data's) and the memory it
     * asks for, checked by the trainer without building it */
    if (!bad && kiln_model_check(r->config.model, 28, 28, 1, r->config.batch_size, err, sizeof err)) {
        int ml = kv_line(x, "model");
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, ml > 0 ? ml : x->line, "{%s} %s: %s", x->name, x->id, err);
        bad = 1;
    }
    /* a config with references is validated once they are applied */
    if (!bad && !r->n_refs && kiln_config_validate(&r->config, err, sizeof err)) {
        kd_error(L->d, KILN_REPORT_EINPUT, x->file, x->line, "{%s} %s: %s", x->name, x->id, err);
        bad = 1;
    }
    bad |= check_data(L, r, x);
    if (r->kind == KILN_RUN_LRFIND) bad |= lrfind_keys(L, r, x);
    state[idx] = 2;
    chain->len = 0;
    if (chain->s) chain->s[0] = 0;
    (void)depth;
    return bad;
}

void kiln_smoke_shrink(kiln_config *c)
{
    const int train = 2000, test = 500, epochs = 2;
    char err[256];
    char v[32];
    if (c->train_limit == 0 || c->train_limit > train) {
        snprintf(v, sizeof v, "%d", train);
        kiln_config_set(c, "train_limit", v, err, sizeof err);
    }
    if (c->test_limit == 0 || c->test_limit > test) {
        snprintf(v, sizeof v, "%d", test);
        kiln_config_set(c, "test_limit", v, err, sizeof err);
    }
    if (c->epochs > epochs) {
        snprintf(v, sizeof v, "%d", epochs);
        kiln_config_set(c, "epochs", v, err, sizeof err);
    }
}
