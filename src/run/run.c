/* Running the experiments: cache lookups, then the misses handed to an
 * executor: the local one here (the linked-in trainer, -j runs at a time,
 * the cores divided between the runs in progress) or the Slurm one
 * (src/run/exec_slurm.c, one job array per phase). The local division is
 * redone before every training step: when a run ends and fewer runs remain
 * than cores, the idle cores go to the runs still training (a run's result
 * does not depend on its thread count, so this changes only the wall time).
 * Each result is stored the moment its run ends, so an interrupted build
 * loses only the runs in progress. */
#include "run/exec.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

typedef struct slot {
    kiln_run *run;
    int epoch, epochs, step, steps;  /* epoch: finished epochs; step: within the current one */
    double loss, t0;
    int threads;          /* the run's current thread count */
    int tmin, tmax;       /* the fewest and most it trained with */
} slot;

/* The whole build's progress, across both phases: one counter of the runs
 * to compute and one ETA from the work done so far (examples seen). */
typedef struct progress {
    int done, total;            /* runs computed (or failed) / to compute */
    double work_done, work_total; /* examples: finished runs, and all */
    double t0;                  /* when the first run started */
} progress;

/* One data set the build uses, loaded when a run of it must train. */
typedef struct data_set {
    kiln_data_info info;
    kiln_dataset train, test;
    int loaded, needed;
} data_set;

typedef struct pool {
    kiln_doc *doc;
    kiln_diag *d;
    kiln_build_stats *st;
    const char *cache;
    const struct data_set *sets; /* indexed by kiln_run.data_set */
    kiln_run **todo;
    int n_todo, next, failed;
    int cores;            /* trainer threads in all */
    pthread_mutex_t mu;
    slot *slots;
    int n_slots;
    FILE *log;
    int tty, quiet;
    double last_draw;
    progress *pg;
} pool;

typedef struct worker_ctx {
    pool *p;
    int slot;
} worker_ctx;

/* The examples a run goes through (its epochs over the training split, or
 * the range test's steps), the unit of the ETA. */
static double run_work(const kiln_run *r, const data_set *sets)
{
    const data_set *ds = &sets[r->data_set];
    int n_examples = ds->loaded ? ds->train.n : 60000; /* not loaded yet (a later phase): MNIST's size as a guess */
    const kiln_config *c = &r->config;
    double n = c->train_limit > 0 && c->train_limit < n_examples ? c->train_limit : n_examples;
    if (r->kind == KILN_RUN_TRAIN) return n * (c->epochs > 0 ? c->epochs : 1);
    const kiln_lrfind_opts *o = &r->lrfind_opts;
    double fit = n * (1 - c->validation_split);
    return o->steps > 0 ? (double)o->steps * c->batch_size : fit * (o->epochs > 0 ? o->epochs : 1);
}

static double slot_frac(const slot *s)
{
    if (s->epochs <= 0) return 0;
    double f = (s->epoch + (s->steps ? (double)s->step / s->steps : 0)) / s->epochs;
    return f > 1 ? 1 : f;
}

void kr_fmt_eta(double s, char *buf, size_t n)
{
    if (s >= 3600) snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, n, "%ds", (int)ceil(s));
}

/* "[3/40, ETA 12m05s]": runs finished of those to compute, and the time the
 * rest should take at the pace so far; no ETA before 1% of the work is done.
 * Called locked. */
static void fmt_counter(const pool *p, double now, char *buf, size_t n)
{
    const progress *g = p->pg;
    double work = g->work_done;
    for (int i = 0; i < p->n_slots; i++)
        if (p->slots[i].run) work += slot_frac(&p->slots[i]) * run_work(p->slots[i].run, p->sets);
    if (g->done < g->total && g->work_total > 0 && work >= 0.01 * g->work_total && now > g->t0) {
        char eta[32];
        kr_fmt_eta((now - g->t0) * (g->work_total - work) / work, eta, sizeof eta);
        snprintf(buf, n, "[%d/%d, ETA %s]", g->done, g->total, eta);
    } else
        snprintf(buf, n, "[%d/%d]", g->done, g->total);
}

static int term_width(FILE *f)
{
    struct winsize ws;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
    return 80;
}

/* The terminal status line (only on a terminal): the counter, then one bar
 * per run in progress, cut to the terminal's width so it never wraps.
 * Called locked. */
static void draw(pool *p, int force)
{
    if (!p->tty || p->quiet) return;
    double now = kr_now();
    if (!force && now - p->last_draw < 0.1) return;
    p->last_draw = now;
    char counter[64];
    fmt_counter(p, now, counter, sizeof counter);
    sbuf b = {0};
    sb_add(&b, counter);
    for (int i = 0; i < p->n_slots; i++) {
        slot *s = &p->slots[i];
        if (!s->run) continue;
        int w = 12, fill = (int)(slot_frac(s) * w + 0.5);
        sb_printf(&b, " %s [", s->run->id);
        for (int k = 0; k < w; k++) sb_addc(&b, k < fill ? '#' : '.');
        int ep = s->epoch < s->epochs ? s->epoch + 1 : s->epochs; /* the epoch under way, or the last */
        if (s->run->kind == KILN_RUN_TRAIN) sb_printf(&b, "] ep %d/%d", ep, s->epochs);
        else sb_add(&b, "]");
        if (isfinite(s->loss)) sb_printf(&b, " loss %.4f", s->loss);
        else if (!s->steps) sb_add(&b, " starting");
    }
    int width = term_width(p->log) - 1;
    if ((int)b.len > width) b.s[width] = 0;
    fputs("\r\033[K", p->log);
    fputs(b.s, p->log);
    fflush(p->log);
    sb_free(&b);
}

int kr_thread_share(int cores, int n_active, int rank)
{
    if (n_active < 1) n_active = 1;
    int share = cores / n_active + (rank < cores % n_active ? 1 : 0);
    return share > 0 ? share : 1;
}

/* The threads slot i should train with now: the cores divided between the
 * runs in progress, the remainder to the lowest slots. Called locked. */
static int slot_share(const pool *p, int i)
{
    int active = 0, rank = 0;
    for (int k = 0; k < p->n_slots; k++)
        if (p->slots[k].run) {
            if (k < i) rank++;
            active++;
        }
    return kr_thread_share(p->cores, active, rank);
}

/* Called locked, from the worker's own thread between two training steps:
 * the thread count set here applies to the parallel regions this thread
 * starts next, that is, to this run only. */
static void rebalance(pool *p, int i)
{
    slot *s = &p->slots[i];
    int want = slot_share(p, i);
    if (want == s->threads) return;
    s->threads = want;
    if (want < s->tmin) s->tmin = want;
    if (want > s->tmax) s->tmax = want;
    omp_set_num_threads(want);
}

static void on_step(void *ud, int epoch, int step, int steps, double loss)
{
    worker_ctx *w = ud;
    pool *p = w->p;
    pthread_mutex_lock(&p->mu);
    slot *s = &p->slots[w->slot];
    rebalance(p, w->slot);
    s->epoch = epoch;
    s->step = step + 1;
    s->steps = steps;
    s->loss = loss;
    draw(p, 0);
    pthread_mutex_unlock(&p->mu);
}

static void on_epoch(void *ud, int epoch, int epochs, const kiln_epoch_log *e)
{
    worker_ctx *w = ud;
    pool *p = w->p;
    pthread_mutex_lock(&p->mu);
    slot *s = &p->slots[w->slot];
    s->epoch = epoch + 1;
    s->step = 0;
    s->epochs = epochs;
    s->loss = e->loss;
    if (!p->quiet && !p->tty) {
        char counter[64];
        fmt_counter(p, kr_now(), counter, sizeof counter);
        fprintf(p->log, "kiln: %s %s epoch %d/%d loss %.4f val_loss %.4f val_accuracy %.4f (%.1f s)\n", counter,
                s->run->id, epoch + 1, epochs, e->loss, e->val_loss, e->val_accuracy, e->seconds);
        fflush(p->log);
    }
    draw(p, 1);
    pthread_mutex_unlock(&p->mu);
}

int kr_train_one(kiln_run *r, const char *cache, const kiln_dataset *train, const kiln_dataset *test, int threads,
                 const kiln_progress *prog, char *err, size_t n)
{
    kiln_config c = r->config;
    c.threads = threads;
    if (r->checkpoint) {
        /* next to the result it belongs to; written atomically by the trainer */
        int w = snprintf(c.checkpoint, sizeof c.checkpoint, "%s/weights", cache);
        if (w < 0 || (size_t)w + 40 >= sizeof c.checkpoint) { snprintf(err, n, "cache path too long for a checkpoint"); return 1; }
        if (kr_mkdirs(c.checkpoint)) { snprintf(err, n, "cannot create %s: %s", c.checkpoint, strerror(errno)); return 1; }
        snprintf(c.checkpoint + w, sizeof c.checkpoint - (size_t)w, "/%s.kwts", r->key);
        c.checkpoint_best_only = r->checkpoint == 1;
    }
    double t0 = kr_now();
    int rc;
    if (r->kind == KILN_RUN_TRAIN) {
        rc = kiln_train(&c, train, test, &r->history, NULL, prog, err, n);
    } else {
        kiln_model m;
        rc = kiln_model_build(&m, c.model, train->rows, train->cols,
                              train->channels > 0 ? train->channels : 1, err, n);
        if (!rc) {
            kiln_model_init(&m, c.seed);
            rc = kiln_lrfind(&c, train, &m, &r->lrfind_opts, &r->lrfind, prog, err, n);
            kiln_model_free(&m);
        }
    }
    r->seconds = kr_now() - t0;
    if (rc) return rc;
    r->ok = 1;
    return 0;
}

static void *worker(void *arg)
{
    worker_ctx *w = arg;
    pool *p = w->p;
    kiln_progress prog = {on_epoch, on_step, w, 0};
    for (;;) {
        pthread_mutex_lock(&p->mu);
        if (p->next >= p->n_todo) { pthread_mutex_unlock(&p->mu); break; }
        kiln_run *r = p->todo[p->next++];
        slot *s = &p->slots[w->slot];
        *s = (slot){r, 0, r->kind == KILN_RUN_TRAIN ? r->config.epochs : 1, 0, 0, NAN, kr_now(), 0, 0, 0};
        s->threads = s->tmin = s->tmax = slot_share(p, w->slot);
        const int threads = s->threads;
        if (p->pg->t0 <= 0) p->pg->t0 = kr_now();
        if (!p->quiet && !p->tty) {
            char counter[64];
            fmt_counter(p, kr_now(), counter, sizeof counter);
            fprintf(p->log, "kiln: %s running %s (%s:%d, key %.12s)\n", counter, r->id, r->file, r->line, r->key);
            fflush(p->log);
        }
        draw(p, 1);
        pthread_mutex_unlock(&p->mu);

        char err[1024] = "";
        int rc = kr_train_one(r, p->cache, &p->sets[r->data_set].train, &p->sets[r->data_set].test, threads, &prog, err,
                              sizeof err);
        char why[512] = "", used[32];
        pthread_mutex_lock(&p->mu);
        if (s->tmin == s->tmax) snprintf(used, sizeof used, "%d", s->tmin);
        else snprintf(used, sizeof used, "%d-%d", s->tmin, s->tmax);
        pthread_mutex_unlock(&p->mu);
        if (!rc && kc_store(p->cache, r, used, err, sizeof err)) rc = 1;

        pthread_mutex_lock(&p->mu);
        /* read back what was stored, so this build shows exactly what a
         * cached build will (under the lock: it allocates from the doc's
         * arena, which is not thread-safe) */
        if (!rc && kc_load(p->cache, r, p->doc->arena, why, sizeof why) != KC_HIT) {
            snprintf(err, sizeof err, "the entry just written does not read back: %s", why);
            rc = 1;
        }
        s->run = NULL;
        p->pg->done++;
        p->pg->work_done += run_work(r, p->sets);
        if (rc) {
            p->failed++;
            if (r->ok) { /* trained, but not stored: nothing will use the result */
                if (r->kind == KILN_RUN_TRAIN) kiln_history_free(&r->history);
                else kiln_lrfind_free(&r->lrfind);
            }
            r->ok = 0;
            kd_error(p->d, KILN_REPORT_EFAIL, r->file, r->line, "run '%s' failed: %s", r->id, err);
        }
        p->st->seconds_training += r->seconds;
        if (p->tty && !p->quiet) fputs("\r\033[K", p->log);
        if (!p->quiet) {
            char counter[64];
            fmt_counter(p, kr_now(), counter, sizeof counter);
            if (rc) fprintf(p->log, "kiln: %s %s FAILED after %.1f s\n", counter, r->id, r->seconds);
            else if (r->kind == KILN_RUN_TRAIN)
                fprintf(p->log, "kiln: %s %s done in %.1f s: test loss %.4f, test accuracy %.4f\n", counter, r->id,
                        r->seconds, r->history.test_loss, r->history.test_accuracy);
            else
                fprintf(p->log, "kiln: %s %s done in %.1f s: %ld steps\n", counter, r->id, r->seconds, r->lrfind.n);
            fflush(p->log);
        }
        draw(p, 1);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

/* Trainer keys a range test never reads (kiln_lrfind_uses_key: it uses the
 * network, the split, batch_size, shuffle, seed and the optimizer's own
 * keys): its key is built as if they were at their defaults, so editing
 * them in the experiment a range test is based on does not rerun it. */
static char *lrfind_canonical(const kiln_run *r)
{
    kiln_config c = r->config;
    int n;
    const kiln_key_info *ki = kiln_config_keys(&n);
    for (int i = 0; i < n; i++)
        if (!kiln_lrfind_uses_key(ki[i].name)) kiln_config_reset_key(&c, ki[i].name);

    char *base = kiln_config_canonical(&c);
    sbuf b = {0};
    sb_add(&b, base);
    free(base);
    const kiln_lrfind_opts *o = &r->lrfind_opts;
    sb_printf(&b, "lrfind.start_lr=%.17g\nlrfind.end_lr=%.17g\n", o->start_lr, o->end_lr);
    if (o->steps > 0) sb_printf(&b, "lrfind.steps=%ld\n", o->steps);
    else sb_printf(&b, "lrfind.epochs=%d\n", o->epochs);
    sb_printf(&b, "lrfind.stop_factor=%.17g\n", o->stop_factor);
    /* sma and smoothing only change the analysis, which is redone on load */
    return sb_take(&b);
}

void kr_compute_key(kiln_arena *a, kiln_run *r, const char *fingerprint, const char *data_digest)
{
    char *c = r->kind == KILN_RUN_LRFIND ? lrfind_canonical(r) : kiln_config_canonical(&r->config);
    r->canonical = ka_strdup(a, c);
    free(c);
    kiln_cache_key(r->kind == KILN_RUN_LRFIND ? "lrfind" : "train", r->canonical, fingerprint, data_digest, r->key);
    r->data_digest = data_digest;
}

static void compute_key(kiln_doc *doc, kiln_run *r)
{
    kr_compute_key(doc->arena, r, doc->trainer_fingerprint, r->data_digest);
}

/* Set the keys a run takes from other runs' results (every one of which
 * must have a result by now), then check the completed config. */
static int apply_refs(kiln_doc *doc, kiln_run *r, kiln_diag *d)
{
    int bad = 0;
    for (int j = 0; j < r->n_refs; j++) {
        kiln_config_ref *f = &r->refs[j];
        const kiln_run *t = f->from;
        double v;
        const char *sv;
        char text[64], err[1024];
        if (!t || !t->ok) {
            kd_error(d, KILN_REPORT_EFAIL, f->file, f->line, "{experiment} %s: key '%s' takes %s.%s, but run '%s' has no result",
                     r->id, f->key, f->run_id, f->metric, f->run_id);
            bad = 1;
            continue;
        }
        if (kiln_run_value(t, f->metric, &v, &sv) != 0 || !isfinite(v)) {
            kd_error(d, KILN_REPORT_EFAIL, f->file, f->line, "{experiment} %s: key '%s': %s.%s is not a finite number (%s)",
                     r->id, f->key, f->run_id, f->metric, *sv ? sv : "nan");
            bad = 1;
            continue;
        }
        if (kiln_format_value(v, f->format[0] ? f->format : ".10g", text, sizeof text) < 0 ||
            kiln_config_set(&r->config, f->key, text, err, sizeof err)) {
            kd_error(d, KILN_REPORT_EINPUT, f->file, f->line,
                     "{experiment} %s: key '%s': %s.%s formatted as '%s' is not a value of the key (%s)", r->id, f->key,
                     f->run_id, f->metric, text, err);
            bad = 1;
            continue;
        }
        f->text = ka_strdup(doc->arena, text);
    }
    if (bad) return 1;
    if (doc->smoke) kiln_smoke_shrink(&r->config);
    char err[1024];
    if (kiln_config_validate(&r->config, err, sizeof err)) {
        kd_error(d, KILN_REPORT_EINPUT, r->file, r->line, "{experiment} %s, with the values taken from other runs: %s", r->id,
                 err);
        return 1;
    }
    return 0;
}

typedef struct run_ctx {
    progress pg;
    kiln_doc *doc;
    kiln_build_stats *st;
    kiln_diag *d;
    const char *cache;
    const char *data_dir;  /* the MNIST folder (the Slurm executor's nodes read it) */
    data_set *sets;
    int n_sets;
    int read_only; /* the cache cannot be written: every result must be in it */
    FILE *log;
} run_ctx;

/* Look up the needed runs of one phase in the cache; put the misses that
 * may train into todo (the same config under two ids once). Returns how
 * many; errors (no result under --no-run or a read-only cache) go to d. */
static int lookup_phase(run_ctx *x, int phase, kiln_run **todo)
{
    kiln_doc *doc = x->doc;
    const kiln_build_opts *o = &doc->opts;
    kiln_diag *d = x->d;
    kiln_build_stats *st = x->st;
    int n_todo = 0;
    for (int i = 0; i < doc->n_runs; i++) {
        kiln_run *r = doc->runs[i];
        if (!r->needed || (r->n_refs > 0) != phase) continue;
        st->runs_total++;
        if (phase) {
            if (apply_refs(doc, r, d)) continue;
            compute_key(doc, r);
        }
        /* the same config under two ids shares one entry: compute it once */
        int dup = 0;
        for (int j = 0; j < n_todo && !dup; j++)
            if (!strcmp(todo[j]->key, r->key)) {
                dup = 1;
                if (!todo[j]->checkpoint) todo[j]->checkpoint = r->checkpoint; /* one of them asks for weights */
            }
        if (dup) { st->runs_cached++; continue; }
        char why[1024];
        kc_status s = kc_load_memo(x->cache, r, doc->arena, o->memo, why, sizeof why);
        if (s == KC_HIT) { r->cached = 1; st->runs_cached++; continue; }
        if (s == KC_CORRUPT) {
            st->runs_corrupt++;
            kd_warn(d, r->file, r->line, "run '%s': cache entry is damaged (%s); it is computed again", r->id, why);
            if (!o->quiet) fprintf(x->log, "kiln: warning: cache entry of '%s' is damaged (%s); computing it again\n", r->id, why);
        }
        if (o->no_run) {
            st->runs_missing++;
            kd_error(d, KILN_REPORT_EFAIL, r->file, r->line, "run '%s' has no cached result (key %s) and --no-run forbids training it",
                     r->id, r->key);
            continue;
        }
        if (x->read_only) {
            kd_error(d, KILN_REPORT_EFAIL, r->file, r->line,
                     "run '%s' has no usable result (key %s) in the cache %s, which this build cannot write; give a "
                     "writable one with --cache DIR", r->id, r->key, x->cache);
            continue;
        }
        todo[n_todo++] = r;
    }
    return n_todo;
}

/* Read the data sets the runs to train need (only now, with runs to train,
 * is any data read). */
static int load_data(run_ctx *x, kiln_run **todo, int n_todo)
{
    int rc = 0;
    for (int i = 0; i < n_todo && !rc; i++) {
        data_set *ds = &x->sets[todo[i]->data_set];
        char err[8192];
        if (ds->loaded) continue;
        int lr = kiln_data_load(&ds->info, &ds->train, &ds->test, err, sizeof err);
        if (lr) {
            rc = lr == -2 ? KILN_REPORT_ENODATA : KILN_REPORT_EFAIL;
            kd_error(x->d, rc, todo[i]->file, todo[i]->line, "run '%s' must train, but its data cannot be used: %s",
                     todo[i]->id, err);
        } else {
            ds->loaded = 1;
        }
    }
    return rc;
}

/* Train the runs of todo on this machine, o->jobs at a time. */
static int train_local(run_ctx *x, int phase, kiln_run **todo, int n_todo)
{
    kiln_doc *doc = x->doc;
    const kiln_build_opts *o = &doc->opts;
    /* the counter and the ETA cover the whole build: phase 0 counts the
     * runs of phase 1 too, until they are looked up */
    double work = 0;
    int later = 0;
    for (int i = 0; i < n_todo; i++) work += run_work(todo[i], x->sets);
    for (int i = 0; !phase && i < doc->n_runs; i++)
        if (doc->runs[i]->needed && doc->runs[i]->n_refs) { work += run_work(doc->runs[i], x->sets); later++; }
    x->pg.total = x->pg.done + n_todo + later;
    x->pg.work_total = x->pg.work_done + work;
    pool p = {0};
    p.doc = doc;
    p.d = x->d;
    p.st = x->st;
    p.cache = x->cache;
    p.sets = x->sets;
    p.todo = todo;
    p.n_todo = n_todo;
    p.pg = &x->pg;
    p.log = x->log;
    p.quiet = o->quiet;
    p.tty = isatty(fileno(x->log));
    int jobs = o->jobs > 0 ? o->jobs : 1;
    if (jobs > n_todo) jobs = n_todo;
    long cores = o->threads > 0 ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);
    p.cores = cores > 0 ? (int)cores : 1;
    const int each = kr_thread_share(p.cores, jobs, jobs - 1);
    pthread_mutex_init(&p.mu, NULL);
    p.slots = calloc((size_t)jobs, sizeof *p.slots);
    p.n_slots = jobs;
    worker_ctx *ctx = calloc((size_t)jobs, sizeof *ctx);
    pthread_t *th = calloc((size_t)jobs, sizeof *th);
    if (!p.slots || !ctx || !th) kr_out_of_memory((size_t)jobs * sizeof *p.slots);
    if (!o->quiet)
        fprintf(x->log, "kiln: %d run%s to compute%s, %d at a time, %d thread%s each%s\n", n_todo,
                n_todo == 1 ? "" : "s", phase ? " with values from earlier runs" : "", jobs, each, each == 1 ? "" : "s",
                jobs > 1 ? ", more once fewer runs remain than cores" : "");
    for (int i = 0; i < jobs; i++) {
        ctx[i] = (worker_ctx){&p, i};
        pthread_create(&th[i], NULL, worker, &ctx[i]);
    }
    for (int i = 0; i < jobs; i++) pthread_join(th[i], NULL);
    if (p.tty && !p.quiet) { fputs("\r\033[K", x->log); fflush(x->log); }
    x->st->runs_trained += n_todo - p.failed;
    x->st->runs_failed += p.failed;
    pthread_mutex_destroy(&p.mu);
    free(p.slots);
    free(ctx);
    free(th);
    return p.failed ? KILN_REPORT_EFAIL : 0;
}

/* Look up every needed run of one phase (phase 0: runs whose config is
 * written out; phase 1: runs that take values from phase 0's results) in
 * the cache, and train the misses, here or on the cluster. */
static int run_phase(run_ctx *x, int phase)
{
    kiln_doc *doc = x->doc;
    const kiln_build_opts *o = &doc->opts;
    kiln_diag *d = x->d;
    kiln_run **todo = calloc((size_t)doc->n_runs + 1, sizeof *todo);
    if (!todo) kr_out_of_memory((size_t)doc->n_runs + 1);
    int n_todo = lookup_phase(x, phase, todo);
    int rc = d->n_errors ? KILN_REPORT_EFAIL : 0;
    for (int i = 0; i < n_todo && !rc && o->executor == KILN_EXECUTOR_SLURM; i++)
        if (strcmp(x->sets[todo[i]->data_set].info.name, "mnist")) {
            kd_error(d, KILN_REPORT_EINPUT, todo[i]->file, todo[i]->line,
                     "run '%s': the Slurm executor trains MNIST runs only (data = %s); build it with --executor local",
                     todo[i]->id, todo[i]->data);
            rc = KILN_REPORT_EINPUT;
        }
    if (n_todo && !rc && o->executor == KILN_EXECUTOR_SLURM) {
        /* nothing trains here: the cluster's nodes read the data themselves */
        kx_phase ph = {doc, d, x->st, x->cache, x->data_dir, todo, n_todo, phase, x->log};
        if (kx_slurm_phase(&ph)) rc = KILN_REPORT_EFAIL;
        n_todo = 0;
    }
    if (n_todo && !rc) rc = load_data(x, todo, n_todo);
    if (n_todo && !rc) rc = train_local(x, phase, todo, n_todo);
    /* runs that share a key with one computed above */
    for (int i = 0; i < doc->n_runs; i++) {
        kiln_run *r = doc->runs[i];
        if (!r->needed || r->ok || (r->n_refs > 0) != phase || !r->canonical[0]) continue;
        char why[256];
        if (kc_load_memo(x->cache, r, doc->arena, doc->opts.memo, why, sizeof why) == KC_HIT) r->cached = 1;
    }
    free(todo);
    return rc;
}

/* The data set a `data =` value names, if the build has it already. */
static int set_index(const run_ctx *x, const char *data)
{
    for (int k = 0; k < x->n_sets; k++) {
        const kiln_data_info *in = &x->sets[k].info;
        if (!strcmp(data, strcmp(in->name, "folder") ? in->name : in->dir)) return k;
    }
    return -1;
}

int kiln_doc_run(kiln_doc *doc, kiln_build_stats *st, kiln_diag *d)
{
    const kiln_build_opts *o = &doc->opts;
    kiln_build_stats dummy = {0};
    run_ctx x = {0};
    x.doc = doc;
    x.d = d;
    x.st = st ? st : &dummy;
    x.log = o->log ? o->log : stderr;
    const char *cache = o->cache_dir; /* set by the loader (kr_default_dirs) */
    x.cache = cache;
    char mnist[4096], err[8192];
    kiln_mnist_dir(o->data_dir, mnist, sizeof mnist);
    x.data_dir = mnist;

    /* the data sets the runs name; a named set's digest is known, a folder's
     * is computed from its files when one of its runs is needed */
    x.sets = calloc((size_t)doc->n_runs + 1, sizeof *x.sets);
    const char *first = NULL;
    int rc = 0;
    for (int i = 0; i < doc->n_runs && !rc; i++) {
        kiln_run *r = doc->runs[i];
        int k = set_index(&x, r->data);
        if (k < 0) {
            k = x.n_sets;
            if (kiln_data_lookup(r->data, mnist, &x.sets[k].info, err, sizeof err)) {
                kd_error(d, KILN_REPORT_EINPUT, r->file, r->line, "{experiment} %s: %s", r->id, err);
                rc = KILN_REPORT_EINPUT;
                break;
            }
            x.n_sets++;
        }
        r->data_set = k;
        x.sets[k].needed |= r->needed;
    }
    for (int k = 0; k < x.n_sets && !rc; k++) {
        data_set *ds = &x.sets[k];
        if (ds->needed && kiln_data_digest(&ds->info, err, sizeof err)) {
            kd_error(d, KILN_REPORT_EFAIL, ds->info.dir, 0, "%s", err);
            rc = KILN_REPORT_EFAIL;
        }
        if (!ds->info.digest[0]) snprintf(ds->info.digest, sizeof ds->info.digest, "none");
    }
    for (int i = 0; i < doc->n_runs && !rc; i++) {
        kiln_run *r = doc->runs[i];
        r->data_digest = ka_strdup(doc->arena, x.sets[r->data_set].info.digest);
        if (r->needed && !first) first = r->data_digest;
    }
    doc->data_digest = first ? first : "none";
    if (rc) { free(x.sets); return rc; }

    /* keys of the runs whose config is complete; the others get theirs once
     * the values they take are known */
    for (int i = 0; i < doc->n_runs; i++) {
        kiln_run *r = doc->runs[i];
        if (r->n_refs) { r->canonical = ""; continue; }
        compute_key(doc, r);
    }
    int any_needed = 0;
    for (int i = 0; i < doc->n_runs; i++) any_needed |= doc->runs[i]->needed;
    if (any_needed && !rc) {
        if (kr_mkdirs(cache)) {
            kd_error(d, KILN_REPORT_EFAIL, cache, 0, "cannot create the cache folder: %s", strerror(errno));
            rc = KILN_REPORT_EFAIL;
        }
        /* a build that may not train writes no entry: with no_cache_lock it
         * reads them without waiting for a build that trains (kiln preview) */
        int lock = rc ? -1 : o->no_run && o->no_cache_lock ? KC_READ_ONLY : kc_lock(cache, x.log, o->quiet);
        x.read_only = lock == KC_READ_ONLY;
        if (!rc && lock < 0 && !x.read_only) {
            const int e = errno;
            char lp[4200];
            snprintf(lp, sizeof lp, "%s/build.lock", cache);
            kd_error(d, KILN_REPORT_EFAIL, lp, 0, "cannot lock the cache: %s%s", strerror(e),
                     e == EISDIR ? " (the lock must be a file: remove that folder)" : "");
            rc = KILN_REPORT_EFAIL;
        }
        if (!rc) {
            rc = run_phase(&x, 0);
            if (!rc) rc = run_phase(&x, 1);
            kc_unlock(lock);
        }
    }
    for (int k = 0; k < x.n_sets; k++)
        if (x.sets[k].loaded) { kiln_dataset_free(&x.sets[k].train); kiln_dataset_free(&x.sets[k].test); }
    free(x.sets);
    if (rc && d->worst == KILN_REPORT_EINPUT) rc = KILN_REPORT_EINPUT; /* the content's fault: exit 2 */
    return rc ? rc : (d->n_errors ? d->worst : 0);
}
