/* Values of runs by name: metrics, settings, statistics over a {group}. */
#include "doc/loader.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const TRAIN_METRICS[] = {
    "test_loss", "test_accuracy", "loss", "val_loss", "accuracy", "val_accuracy", "lr",
    "best_val_loss", "best_val_accuracy", "best_epoch", "epochs_run", "seconds", "seconds_per_epoch",
    "n_train", "n_val", "n_test", "diverged", "diverged_step", NULL};

static const char *const LRFIND_METRICS[] = {
    "steepest_lr", "min_loss_lr", "minimum_lr", "suggested_base_lr", "suggested_max_lr", "steps", "seconds",
    "last_lr", "best_batch_lr", "best_batch_loss",
    "stopped_early", "planned_steps", "start_lr", "end_lr", "lr_epochs", "lr_steps", "sma", "smoothing",
    "stop_factor", NULL};

/* Every name kiln_run_value accepts, space-separated (for suggestions). */
void kr_metric_words(sbuf *b)
{
    for (const char *const *l = TRAIN_METRICS; *l; l++) { sb_add(b, *l); sb_addc(b, ' '); }
    for (const char *const *l = LRFIND_METRICS; *l; l++) { sb_add(b, *l); sb_addc(b, ' '); }
    sb_add(b, "id label key");
    int n;
    const kiln_key_info *ki = kiln_config_keys(&n);
    for (int i = 0; i < n; i++) { sb_addc(b, ' '); sb_add(b, ki[i].name); }
}

const char *kiln_metric_names(void)
{
    return "experiments: test_loss, test_accuracy, loss, val_loss, accuracy, val_accuracy, lr (last epoch), "
           "best_val_loss, best_val_accuracy, best_epoch, epochs_run, seconds, seconds_per_epoch, n_train, n_val, "
           "n_test, diverged, diverged_step; range tests: steepest_lr, min_loss_lr, minimum_lr, suggested_base_lr, "
           "suggested_max_lr, last_lr, best_batch_lr, best_batch_loss, steps, planned_steps, seconds, stopped_early, and the test's settings start_lr, end_lr, "
           "lr_epochs, lr_steps, sma, smoothing, stop_factor; both: id, label, key, and every trainer key "
           "(learning_rate, optimizer, epochs, ...; see kiln keys)";
}

static int config_value(const kiln_run *r, const char *name, double *v, const char **s)
{
    int n;
    const kiln_key_info *ki = kiln_config_keys(&n);
    int known = 0;
    for (int i = 0; i < n; i++) known |= !strcmp(ki[i].name, name);
    if (!known) return -1;
    size_t nl = strlen(name);
    const char *c = r->canonical ? r->canonical : "";
    for (const char *p = c; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            static __thread char buf[512];
            size_t vl = len - nl - 1;
            if (vl >= sizeof buf) vl = sizeof buf - 1;
            memcpy(buf, p + nl + 1, vl);
            buf[vl] = 0;
            char *end;
            double d = strtod(buf, &end);
            if (*buf && !*end) { *v = d; return 0; }
            *s = buf;
            return 1;
        }
        if (!e) break;
        p = e + 1;
    }
    *s = "n/a";
    return 1;
}

static const char *const GROUP_STATS[] = {"mean", "sd", "min", "max", "range", "sum", NULL};

int kiln_group_value(const kiln_directive *g, const char *name, double *v, const char **s)
{
    *v = NAN;
    *s = "";
    if (!strcmp(name, "id")) { *s = g->id; return 1; }
    if (!strcmp(name, "label")) {
        for (int i = 0; i < g->n_kv; i++)
            if (!strcmp(g->kv[i].key, "label")) { *s = g->kv[i].value; return 1; }
        *s = g->id;
        return 1;
    }
    if (!strcmp(name, "n")) { *v = g->n_runs; return 0; }
    const char *us = strchr(name, '_');
    int stat = -1;
    for (int k = 0; us && GROUP_STATS[k]; k++)
        if (strlen(GROUP_STATS[k]) == (size_t)(us - name) && !strncmp(name, GROUP_STATS[k], (size_t)(us - name))) stat = k;
    if (stat < 0 || g->n_runs < 1) return -1;
    const char *metric = us + 1;
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    int bad = 0;
    for (int i = 0; i < g->n_runs; i++) {
        double x;
        const char *t;
        int k = kiln_run_value(g->runs[i], metric, &x, &t);
        if (k < 0) return -1;
        if (k == 1) { *s = "n/a"; bad = 2; continue; }
        if (!isfinite(x)) bad |= 1;
        sum += x;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
    }
    if (bad & 2) return 1; /* a text setting: no statistic */
    if (bad) return 0;     /* NaN: a run has no result (yet) */
    double mean = sum / g->n_runs;
    switch (stat) {
    case 0: *v = mean; break;
    case 1: {
        /* two passes, in run order: the same digits on every machine */
        double ss = 0;
        for (int i = 0; i < g->n_runs; i++) {
            double x;
            const char *t;
            kiln_run_value(g->runs[i], metric, &x, &t);
            ss += (x - mean) * (x - mean);
        }
        *v = g->n_runs > 1 ? sqrt(ss / (g->n_runs - 1)) : 0;
        break;
    }
    case 2: *v = lo; break;
    case 3: *v = hi; break;
    case 4: *v = hi - lo; break;
    case 5: *v = sum; break;
    }
    return 0;
}

int kiln_run_value(const kiln_run *r, const char *name, double *v, const char **s)
{
    *v = NAN;
    *s = "";
    if (!strcmp(name, "id")) { *s = r->id; return 1; }
    if (!strcmp(name, "label")) { *s = r->label; return 1; }
    if (!strcmp(name, "key")) { *s = r->key; return 1; }
    if (r->kind == KILN_RUN_TRAIN && in_list(TRAIN_METRICS, name)) {
        if (!r->ok) return 0;
        const kiln_history *h = &r->history;
        const kiln_epoch_log *last = h->n_epochs ? &h->epochs[h->n_epochs - 1] : NULL;
        if (!strcmp(name, "test_loss")) *v = h->test_loss;
        else if (!strcmp(name, "test_accuracy")) *v = h->test_accuracy;
        else if (!strcmp(name, "loss")) *v = last ? last->loss : NAN;
        else if (!strcmp(name, "val_loss")) *v = last ? last->val_loss : NAN;
        else if (!strcmp(name, "accuracy")) *v = last ? last->accuracy : NAN;
        else if (!strcmp(name, "val_accuracy")) *v = last ? last->val_accuracy : NAN;
        else if (!strcmp(name, "lr")) *v = last ? last->lr : NAN;
        else if (!strcmp(name, "best_val_loss") || !strcmp(name, "best_epoch")) {
            double best = INFINITY;
            int be = -1;
            for (int i = 0; i < h->n_epochs; i++)
                if (h->epochs[i].val_loss < best) { best = h->epochs[i].val_loss; be = i; }
            /* best_epoch, from 1: the epoch EarlyStopping kept when it ran
             * (its own monitor and mode), else the lowest validation loss */
            if (!strcmp(name, "best_epoch") && h->best_epoch >= 0) be = h->best_epoch;
            *v = !strcmp(name, "best_epoch") ? (be >= 0 ? be + 1 : NAN) : (be >= 0 ? best : NAN);
        } else if (!strcmp(name, "best_val_accuracy")) {
            double best = -INFINITY;
            for (int i = 0; i < h->n_epochs; i++)
                if (h->epochs[i].val_accuracy > best) best = h->epochs[i].val_accuracy;
            *v = h->n_epochs ? best : NAN;
        } else if (!strcmp(name, "epochs_run")) *v = h->n_epochs;
        else if (!strcmp(name, "seconds")) *v = r->seconds;
        else if (!strcmp(name, "seconds_per_epoch")) *v = h->n_epochs ? r->seconds / h->n_epochs : NAN;
        else if (!strcmp(name, "n_train")) *v = h->n_train;
        else if (!strcmp(name, "n_val")) *v = h->n_val;
        else if (!strcmp(name, "n_test")) *v = h->n_test;
        else if (!strcmp(name, "diverged")) *v = h->diverged;
        else if (!strcmp(name, "diverged_step")) *v = h->diverged_step;
        return 0;
    }
    if (r->kind == KILN_RUN_LRFIND && in_list(LRFIND_METRICS, name)) {
        if (!r->ok) return 0;
        const kiln_lrfind_result *f = &r->lrfind;
        if (!strcmp(name, "steepest_lr")) *v = f->steepest_lr;
        else if (!strcmp(name, "min_loss_lr")) *v = f->min_loss_lr;
        else if (!strcmp(name, "minimum_lr")) *v = f->min_div10_lr;
        else if (!strcmp(name, "suggested_base_lr")) *v = f->base_lr;
        else if (!strcmp(name, "suggested_max_lr")) *v = f->max_lr;
        else if (!strcmp(name, "steps")) *v = (double)f->n;
        else if (!strcmp(name, "last_lr")) *v = f->n > 0 ? f->lr[f->n - 1] : NAN; /* the rate it stopped at */
        else if (!strcmp(name, "best_batch_lr") || !strcmp(name, "best_batch_loss")) {
            /* the lowest single-batch loss (raw, not smoothed) and its rate */
            long b = -1;
            for (long i = 0; i < f->n; i++)
                if (isfinite(f->loss[i]) && (b < 0 || f->loss[i] < f->loss[b])) b = i;
            *v = b < 0 ? NAN : !strcmp(name, "best_batch_lr") ? f->lr[b] : f->loss[b];
        }
        else if (!strcmp(name, "seconds")) *v = r->seconds;
        else if (!strcmp(name, "stopped_early")) *v = f->stopped_early;
        else if (!strcmp(name, "planned_steps")) *v = (double)f->planned;
        else if (!strcmp(name, "start_lr")) *v = r->lrfind_opts.start_lr;
        else if (!strcmp(name, "end_lr")) *v = r->lrfind_opts.end_lr;
        else if (!strcmp(name, "lr_epochs")) *v = r->lrfind_opts.steps > 0 ? NAN : r->lrfind_opts.epochs;
        else if (!strcmp(name, "lr_steps")) *v = r->lrfind_opts.steps > 0 ? (double)r->lrfind_opts.steps : NAN;
        else if (!strcmp(name, "sma")) *v = r->lrfind_opts.sma;
        else if (!strcmp(name, "smoothing")) *v = r->lrfind_opts.beta;
        else if (!strcmp(name, "stop_factor")) *v = r->lrfind_opts.stop_factor;
        return 0;
    }
    return config_value(r, name, v, s);
}
