/* kiln diff --quick: an early verdict on a trainer change. Every run of a
 * recorded build (its manifest and cache entries: by default the committed
 * build, HEAD) is trained again with the trainer linked in now, for its
 * first N steps only (kiln_progress.max_steps; default one epoch of the
 * run), and each step's loss and rate are compared bit for bit with the
 * stored history.
 *
 * Exactness: a training run logs each step's loss and rate as float32, and
 * the cache stores numbers with 10 significant digits, which is more than
 * the 9 a float32 needs to read back exactly; so the comparison of two
 * floats is exact. A range test logs the loss in double; its stored value
 * and the new one are compared as the cache would store the new one (10
 * digits), which the output says. A non-finite value is stored as null, so
 * NaN and infinities compare equal to each other (and to nothing else).
 *
 * Runs are trained -j at a time with the cores divided between them, as
 * kiln build does; the results do not depend on it. Nothing is written to
 * any cache. */
#include "diff/internal.h"
#include "run/run.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEED_WITHOUT_FLATTEN \
    "conv:32x3,relu,pool:2,drop:0.25,conv:64x3,relu,pool:2,drop:0.25,dense:256,relu,dense:10"

void kiln_quick_opts_init(kiln_quick_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cache_dir = "content/cache";
}

/* ---- a run's config, rebuilt from its canonical text ------------------------------------- */

/* The canonical text holds one key=value a line, the keys that matter for
 * the run (a range test's own options as lrfind.NAME). Keys the current
 * trainer does not know are an error: its config cannot be rebuilt. */
static int config_from_text(const char *text, kiln_config *c, kiln_lrfind_opts *lo, char *err, size_t n)
{
    kiln_config_init(c);
    kiln_lrfind_opts_init(lo);
    const char *p = text;
    int line = 0;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        line++;
        char kv[512];
        if (len >= sizeof kv) { snprintf(err, n, "config line %d is too long", line); return -1; }
        memcpy(kv, p, len);
        kv[len] = 0;
        p += len + (e ? 1 : 0);
        if (!kv[0]) continue;
        char *eq = strchr(kv, '=');
        if (!eq) { snprintf(err, n, "config line %d '%.300s' is not key=value", line, kv); return -1; }
        *eq = 0;
        const char *k = kv, *v = eq + 1;
        char e2[512];
        if (!strncmp(k, "lrfind.", 7)) {
            char *end;
            double x = strtod(v, &end);
            if (*end || !*v) { snprintf(err, n, "config line %d: %.100s=%.100s is not a number", line, k, v); return -1; }
            if (!strcmp(k + 7, "start_lr")) lo->start_lr = x;
            else if (!strcmp(k + 7, "end_lr")) lo->end_lr = x;
            else if (!strcmp(k + 7, "steps")) lo->steps = (long)x;
            else if (!strcmp(k + 7, "epochs")) lo->epochs = (int)x;
            else if (!strcmp(k + 7, "stop_factor")) lo->stop_factor = x;
            else { snprintf(err, n, "config line %d: unknown range-test option '%.100s'", line, k); return -1; }
        } else if (kiln_config_set(c, k, v, e2, sizeof e2)) {
            snprintf(err, n, "config line %d: %.700s", line, e2);
            return -1;
        }
    }
    /* The canonical spelling of a network dropped `flatten` before kiln
     * kept it (it shifts the later layers' indices, hence their initial
     * weights and dropout streams): a stored spec that is the article's
     * network without it is that network. */
    if (!strcmp(c->model, SEED_WITHOUT_FLATTEN)) snprintf(c->model, sizeof c->model, "seed");
        /* every key was written out, at defaults too: none was chosen by hand */
    memset(c->set_mask, 0, sizeof c->set_mask);
    return 0;
}

/* ---- comparing one value ---------------------------------------------------------------- */

/* A value as the cache stores it: non-finite -> NaN (null); a range test's
 * double -> 10 significant digits. */
static double stored(double v, int as_float)
{
    if (!isfinite(v)) return NAN;
    if (as_float) return (double)(float)v;
    char buf[64];
    snprintf(buf, sizeof buf, "%.10g", v);
    return strtod(buf, NULL);
}

static int same(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return !memcmp(&a, &b, sizeof a);
}

/* ---- one run ---------------------------------------------------------------------------- */

typedef struct qrun {
    const mrun *m;          /* the manifest's run */
    entry e;               /* its stored result */
    kiln_config c;
    kiln_lrfind_opts lo;
    long steps;                /* steps to compare */
    long n_old;                /* stored steps */
    const double *old_loss, *old_lr;
    double *buf;               /* train: the stored floats as doubles */
    const kiln_dataset *train, *test; /* the data it was trained on */
    /* outcome */
    int state;                 /* 0 pending, 1 identical, 2 differs, 3 failed */
    long compared, first;      /* steps compared; first differing step (1-based) */
    double ol, nl, or_, nr;    /* old/new loss and rate at `first` (NaN: no such step) */
    char what[32];             /* "loss", "rate", "loss and rate", "length" */
    char err[2048];
    double seconds;
} qrun;

typedef struct qpool {
    qrun *runs;
    int n, next, cores, n_slots;
    int *slot_busy;
    pthread_mutex_t mu;
    FILE *log;
    int done;
} qpool;

typedef struct qworker {
    qpool *p;
    int slot;
    int threads;
} qworker;

static int slot_share(const qpool *p, int slot)
{
    int active = 0, rank = 0;
    for (int k = 0; k < p->n_slots; k++)
        if (p->slot_busy[k]) {
            if (k < slot) rank++;
            active++;
        }
    return kr_thread_share(p->cores, active, rank);
}

/* Between two steps: take the share of the cores this run has now. */
static void q_on_step(void *ud, int epoch, int step, int steps, double loss)
{
    qworker *w = ud;
    pthread_mutex_lock(&w->p->mu);
    int want = slot_share(w->p, w->slot);
    pthread_mutex_unlock(&w->p->mu);
    if (want != w->threads) {
        w->threads = want;
        omp_set_num_threads(want);
    }
}

/* Steps of one epoch of this run: its training split in batches. */
static long epoch_steps(const kiln_config *c, int n_examples)
{
    int n_all = n_examples;
    if (c->train_limit > 0 && c->train_limit < n_all) n_all = c->train_limit;
    int n_train = (int)floor((double)n_all * (1.0 - c->validation_split));
    if (n_train < 1) return 1;
    int B = c->batch_size < n_train ? c->batch_size : n_train;
    return (n_train + B - 1) / B;
}

static void compare_run(qrun *q, const double *nl, const double *nr, long n_new, int as_float)
{
    const long want = q->steps < q->n_old ? q->steps : q->n_old;
    q->state = 1;
    q->ol = q->nl = q->or_ = q->nr = NAN;
    long i = 0;
    for (; i < want && i < n_new; i++) {
        double a = q->old_loss[i], b = stored(nl[i], as_float);
        double ra = q->old_lr[i], rb = stored(nr[i], as_float);
        int dl = !same(a, b), dr = !same(ra, rb);
        if (dl || dr) {
            q->state = 2;
            q->first = i + 1;
            q->ol = a; q->nl = b; q->or_ = ra; q->nr = rb;
            snprintf(q->what, sizeof q->what, "%s", dl && dr ? "loss and rate" : dl ? "loss" : "rate");
            break;
        }
    }
    q->compared = i;
    if (q->state == 1 && i < want) {
        /* the new run stopped before the stored one did */
        q->state = 2;
        q->first = i + 1;
        q->ol = q->old_loss[i];
        q->or_ = q->old_lr[i];
        snprintf(q->what, sizeof q->what, "length");
    } else if (q->state == 1 && n_new > i && i < q->steps) {
        /* the stored run stopped there (diverged or stopped early), the new one goes on */
        q->state = 2;
        q->first = i + 1;
        q->nl = stored(nl[i], as_float);
        q->nr = stored(nr[i], as_float);
        snprintf(q->what, sizeof q->what, "length");
    }
}

static void run_quick(qrun *q, const qpool *p, qworker *w)
{
    kiln_config c = q->c;
    c.threads = w->threads;
    kiln_progress prog = {NULL, q_on_step, w, q->steps};
    double t0 = kr_now();
    if (!strcmp(q->m->kind, "train")) {
        kiln_history h;
        if (kiln_train(&c, q->train, q->test, &h, NULL, &prog, q->err, sizeof q->err)) { q->state = 3; return; }
        double *nl = malloc(sizeof *nl * (size_t)(h.n_steps + 1)), *nr = malloc(sizeof *nr * (size_t)(h.n_steps + 1));
        for (long i = 0; i < h.n_steps; i++) { nl[i] = h.steps[i].loss; nr[i] = h.steps[i].lr; }
        compare_run(q, nl, nr, h.n_steps, 1);
        free(nl);
        free(nr);
        kiln_history_free(&h);
    } else {
        kiln_model m;
        kiln_lrfind_result r;
        if (kiln_model_build(&m, c.model, q->train->rows, q->train->cols,
                             q->train->channels > 0 ? q->train->channels : 1, q->err, sizeof q->err)) {
            q->state = 3;
            return;
        }
        kiln_model_init(&m, c.seed);
        int rc = kiln_lrfind(&c, q->train, &m, &q->lo, &r, &prog, q->err, sizeof q->err);
        kiln_model_free(&m);
        if (rc) { q->state = 3; return; }
        compare_run(q, r.loss, r.lr, r.n, 0);
        kiln_lrfind_free(&r);
    }
    q->seconds = kr_now() - t0;
}

static void print_run(FILE *f, const qrun *q)
{
    if (!f) return;
    if (q->state == 3) { fprintf(f, "  %-22s FAILED: %s\n", q->m->id, q->err); return; }
    if (q->state == 1) {
        fprintf(f, "  %-22s identical through step %ld (%.1f s)\n", q->m->id, q->compared, q->seconds);
        return;
    }
    if (!strcmp(q->what, "length")) {
        if (isnan(q->nl) && isnan(q->nr))
            fprintf(f, "  %-22s first differs at step %ld: the new run stopped before it (stored loss %.9g)\n", q->m->id,
                    q->first, q->ol);
        else
            fprintf(f, "  %-22s first differs at step %ld: the stored run had stopped, the new one goes on (loss %.9g)\n",
                    q->m->id, q->first, q->nl);
        return;
    }
    fprintf(f, "  %-22s first differs at step %ld: loss %.9g -> %.9g", q->m->id, q->first, q->ol, q->nl);
    if (!same(q->or_, q->nr)) fprintf(f, ", rate %.9g -> %.9g", q->or_, q->nr);
    fprintf(f, " (%.1f s)\n", q->seconds);
}

static void *q_worker(void *arg)
{
    qworker *w = arg;
    qpool *p = w->p;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->next < p->n && p->runs[p->next].state) p->next++; /* settled while loading */
        if (p->next >= p->n) { pthread_mutex_unlock(&p->mu); break; }
        qrun *q = &p->runs[p->next++];
        p->slot_busy[w->slot] = 1;
        w->threads = slot_share(p, w->slot);
        pthread_mutex_unlock(&p->mu);
        omp_set_num_threads(w->threads);
        run_quick(q, p, w);
        pthread_mutex_lock(&p->mu);
        p->slot_busy[w->slot] = 0;
        p->done++;
        print_run(p->log, q);
        if (p->log) fflush(p->log);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

/* ---- the whole build -------------------------------------------------------------------- */

/* The data sets the stored runs were trained on, found by digest: the
 * --data folder first (whatever it holds: MNIST elsewhere, or another set
 * of IDX files), then MNIST where kiln keeps it ($KILN_DATA or the user
 * cache) and Fashion-MNIST; each loaded once. */
enum { N_SETS = 3 };
typedef struct qdata {
    kiln_data_info info[N_SETS];
    int known[N_SETS];         /* 1 usable, 0 not, -1 a folder whose digest is not computed yet */
    int loaded[N_SETS];
    kiln_dataset train[N_SETS], test[N_SETS];
} qdata;

static void qdata_open(qdata *qd, const kiln_quick_opts *o)
{
    char buf[4096], err[1024];
    const char *mnist = kiln_mnist_dir(NULL, buf, sizeof buf);
    memset(qd, 0, sizeof *qd);
    if (o->data_dir) qd->known[0] = kiln_data_lookup(o->data_dir, mnist, &qd->info[0], err, sizeof err) == 0 ? -1 : 0;
    qd->known[1] = kiln_data_lookup("mnist", mnist, &qd->info[1], err, sizeof err) == 0;
    qd->known[2] = kiln_data_lookup("fashion-mnist", mnist, &qd->info[2], err, sizeof err) == 0;
}

static void qdata_close(qdata *qd)
{
    for (int i = 0; i < N_SETS; i++)
        if (qd->loaded[i]) {
            kiln_dataset_free(&qd->train[i]);
            kiln_dataset_free(&qd->test[i]);
        }
}

/* Point q at the data with the given digest, loading it if need be. */
static int qdata_bind(qdata *qd, qrun *q, const char *digest, const side *s, kiln_diag *d)
{
    char err[8192];
    for (int i = 0; i < N_SETS; i++) {
        if (qd->known[i] < 0) qd->known[i] = kiln_data_digest(&qd->info[i], err, sizeof err) == 0;
        if (!qd->known[i] || strcmp(qd->info[i].digest, digest)) continue;
        if (!qd->loaded[i]) {
            if (kiln_data_load(&qd->info[i], &qd->train[i], &qd->test[i], err, sizeof err)) {
                kd_error(d, KILN_REPORT_EINPUT, qd->info[i].dir, 0, "run '%s' needs %s: %s (run 'make data', or give --data DIR or KILN_DATA)",
                         q->m->id, qd->info[i].name, err);
                return KILN_REPORT_EINPUT;
            }
            qd->loaded[i] = 1;
        }
        q->train = &qd->train[i];
        q->test = &qd->test[i];
        return 0;
    }
    char folder[4200] = "";
    if (qd->known[0] > 0) snprintf(folder, sizeof folder, "the --data folder %s (%.12s), ", qd->info[0].dir, qd->info[0].digest);
    kd_error(d, KILN_REPORT_EINPUT, s->desc, 0,
             "run '%s' was trained on data with digest %.12s, which is none of %sMNIST (%.12s) and Fashion-MNIST "
             "(%.12s); give that data with --data DIR",
             q->m->id, digest, folder, qd->info[1].digest, qd->info[2].digest);
    return KILN_REPORT_EINPUT;
}

/* One job per distinct key, in the manifest's order, with its stored
 * history; returns how many, *bad set when an entry cannot be read. */
static int collect_runs(side *s, const kiln_quick_opts *o, qdata *qd, qrun *runs, kiln_quick_summary *sum, int *bad,
                        kiln_diag *d)
{
    int n = 0;
    char err[1024];
    for (int i = 0; i < s->n; i++) {
        const mrun *m = &s->runs[i];
        int dup = 0;
        for (int j = 0; j < n && !dup; j++) dup = !strcmp(runs[j].m->key, m->key);
        if (dup) continue;
        qrun *q = &runs[n++];
        q->m = m;
        if (load_entry(&q->e, s, m)) {
            kd_error(d, KILN_REPORT_EINPUT, NULL, 0, "run '%s': %s", m->id, q->e.why);
            *bad = 1;
            continue;
        }
        if (qdata_bind(qd, q, m->data && m->data[0] ? m->data : s->data, s, d)) {
            *bad = 1;
            continue;
        }
        if (config_from_text(m->config, &q->c, &q->lo, err, sizeof err)) {
            snprintf(q->err, sizeof q->err, "its stored config cannot be set in this trainer: %s", err);
            q->state = 3;
            continue;
        }
        const long spe = !strcmp(m->kind, "train") || q->lo.steps <= 0 ? epoch_steps(&q->c, q->train->n) : q->lo.steps;
        q->steps = o->steps > 0 ? o->steps : spe;
        if (!strcmp(m->kind, "train")) {
            q->n_old = q->e.h.n_steps;
            q->buf = malloc(sizeof(double) * 2 * (size_t)(q->n_old + 1));
            if (!q->buf) kr_out_of_memory(sizeof(double) * 2 * (size_t)(q->n_old + 1));
            for (long k = 0; k < q->n_old; k++) {
                q->buf[k] = stored(q->e.h.steps[k].loss, 1);
                q->buf[q->n_old + 1 + k] = stored(q->e.h.steps[k].lr, 1);
            }
            q->old_loss = q->buf;
            q->old_lr = q->buf + q->n_old + 1;
        } else {
            q->n_old = q->e.n;
            q->old_loss = q->e.loss;
            q->old_lr = q->e.lr;
            sum->rounded++;
        }
    }
    return n;
}

/* Retrain the first steps of the n runs, o->jobs at a time. */
static void retrain_all(qrun *runs, int n, const kiln_quick_opts *o)
{
    FILE *out = o->out;
    qpool p = {0};
    p.runs = runs;
    p.n = n;
    p.log = out;
    long cores = o->threads > 0 ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);
    p.cores = cores > 0 ? (int)cores : 1;
    int jobs = o->jobs > 0 ? o->jobs : p.cores;
    if (jobs > n) jobs = n > 0 ? n : 1;
    p.n_slots = jobs;
    p.slot_busy = calloc((size_t)jobs, sizeof *p.slot_busy);
    qworker *w = calloc((size_t)jobs, sizeof *w);
    pthread_t *th = calloc((size_t)jobs, sizeof *th);
    if (!p.slot_busy || !w || !th) kr_out_of_memory((size_t)jobs * sizeof *w);
    pthread_mutex_init(&p.mu, NULL);
    /* the runs settled while loading (a config that cannot be set) */
    for (int i = 0; i < n; i++)
        if (runs[i].state == 3) print_run(out, &runs[i]);
    for (int i = 0; i < jobs; i++) {
        w[i] = (qworker){&p, i, 1};
        pthread_create(&th[i], NULL, q_worker, &w[i]);
    }
    for (int i = 0; i < jobs; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&p.mu);
    free(p.slot_busy);
    free(w);
    free(th);
}

int kiln_diff_quick(const char *old_src, const kiln_quick_opts *o, kiln_quick_summary *sum, kiln_diag *d)
{
    double t_start = kr_now();
    kiln_quick_summary dummy;
    if (!sum) sum = &dummy;
    memset(sum, 0, sizeof *sum);
    FILE *out = o->out;
    side s = {.role = "stored", .cache = o->cache_dir ? o->cache_dir : "content/cache"};
    if (open_side(&s, old_src ? old_src : "HEAD", d)) { close_side(&s); return KILN_REPORT_EINPUT; }
    /* each run retrains on the data it was trained on */
    qdata qd;
    qdata_open(&qd, o);

    qrun *runs = calloc((size_t)s.n + 1, sizeof *runs);
    if (!runs) kr_out_of_memory((size_t)s.n + 1);
    int bad = 0;
    const int n = collect_runs(&s, o, &qd, runs, sum, &bad, d);
    int rc = KILN_REPORT_EINPUT;
    if (!bad) {
        if (out) {
            fprintf(out, "kiln diff --quick: %d run%s of %s (trainer %s, data %.12s), the first %s%ld step%s of each, "
                         "retrained with trainer %s\n",
                    n, n == 1 ? "" : "s", s.desc, s.trainer, s.data, o->steps > 0 ? "" : "epoch: ",
                    o->steps > 0 ? o->steps : (n ? runs[0].steps : 0), (o->steps > 0 ? o->steps : 2) == 1 ? "" : "s",
                    kiln_report_fingerprint());
            fflush(out);
        }
        retrain_all(runs, n, o);
        for (int i = 0; i < n; i++) {
            if (runs[i].state == 1) sum->identical++;
            else if (runs[i].state == 2) sum->differ++;
            else sum->failed++;
        }
        sum->runs = n;
        sum->seconds = kr_now() - t_start;
        if (out) {
            fprintf(out, "kiln diff --quick: %d identical, %d differ", sum->identical, sum->differ);
            if (sum->failed) fprintf(out, ", %d failed", sum->failed);
            fprintf(out, " (%.1f s)\n", sum->seconds);
            if (sum->rounded)
                fprintf(out, "  (range tests log each loss in double; compared as stored, to 10 significant digits)\n");
        }
        rc = sum->failed ? KILN_REPORT_EINPUT : sum->differ ? KILN_REPORT_EFAIL : 0;
    }
    for (int i = 0; i < n; i++) {
        entry_free(&runs[i].e);
        free(runs[i].buf);
    }
    free(runs);
    qdata_close(&qd);
    close_side(&s);
    return rc;
}
