/* Schedules, the range test and the epoch-end callbacks. */
#include "testutil.h"
#include "kiln/train.h"
#include "train/callbacks.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#define SMALL_NET "conv:8x3,relu,pool:2,flatten,dense:10"

static kiln_dataset g_train, g_test;
static int g_loaded;

static void load_data(void)
{
    if (g_loaded) return;
    char err[512];
    int rc = kiln_mnist_load(test_data_dir(), &g_train, &g_test, err, sizeof err);
    ck_assert_msg(rc == 0, "MNIST from %s: %s", test_data_dir(), err);
    g_loaded = 1;
}

static void set(kiln_config *c, const char *kv)
{
    char err[2048];
    int rc = kiln_config_set_kv(c, kv, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", kv, err);
}

/* The "key=value" settings in kvs, separated by spaces (each must be
 * accepted). */
static void set_all(kiln_config *c, const char *kvs)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", kvs);
    for (char *save = NULL, *kv = strtok_r(buf, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) set(c, kv);
}

/* A config from its defaults and the settings in kvs (see set_all). */
static void config_of(kiln_config *c, const char *kvs)
{
    kiln_config_init(c);
    set_all(c, kvs);
}

/* Rate the schedule gives at (epoch, step) for steps_per_epoch spe. */
static double lr_at(kiln_sched_state *s, const kiln_config *c, int epoch, int step, int spe)
{
    kiln_sched_point p = {epoch, step, (long)epoch * spe + step, NAN};
    return kiln_sched_lr(s, c, &p);
}

static void assert_close(double got, double want, const char *what)
{
    double tol = 1e-12 * fabs(want) + 1e-18;
    ck_assert_msg(fabs(got - want) <= tol, "%s: got %.17g, want %.17g", what, got, want);
}

/* ---------------------------------------------------------------- schedules */

START_TEST(test_step_article)
{
    kiln_config c;
    config_of(&c, "schedule=step learning_rate=0.001 step_drop=0.5 step_every=15 epochs=31");
    kiln_sched_state s;
    kiln_sched_init(&s, &c, 10);
    const int ep[] = {0, 13, 14, 15, 29, 30};
    const double want[] = {0.001, 0.001, 0.0005, 0.0005, 0.00025, 0.00025};
    for (int i = 0; i < 6; i++)
        for (int st = 0; st < 10; st += 9) {
            char what[64];
            snprintf(what, sizeof what, "epoch %d step %d", ep[i], st);
            assert_close(lr_at(&s, &c, ep[i], st, 10), want[i], what);
        }
}
END_TEST

START_TEST(test_linear_floor)
{
    kiln_config c;
    config_of(&c, "schedule=linear learning_rate=0.0001 linear_step=1e-5");
    kiln_sched_state s;
    kiln_sched_init(&s, &c, 5);
    /* the article's update, replayed: lr = max(lr - 1e-5, 0) at the start of
     * every epoch, epoch 0 included */
    double lr = 1e-4;
    for (int e = 0; e < 25; e++) {
        lr = fmax(lr - 1e-5, 0.0);
        char what[32];
        snprintf(what, sizeof what, "epoch %d", e);
        ck_assert_msg(lr_at(&s, &c, e, 0, 5) == lr, "%s", what);
        ck_assert_msg(lr_at(&s, &c, e, 4, 5) == lr, "%s (last step)", what);
    }
    assert_close(lr_at(&s, &c, 0, 0, 5), 9e-5, "epoch 0 already one step down");
    ck_assert(lr_at(&s, &c, 9, 0, 5) <= 1e-18);  /* 1e-4 - 10*1e-5, rounding aside */
    ck_assert(lr_at(&s, &c, 10, 0, 5) == 0.0);   /* floored */
    ck_assert(lr_at(&s, &c, 24, 0, 5) == 0.0);
}
END_TEST

START_TEST(test_time_cumulative)
{
    kiln_config c;
    config_of(&c, "schedule=time learning_rate=0.01");
    set(&c, "time_decay=0.1"); /* large, so the product is visible */
    kiln_sched_state s;
    kiln_sched_init(&s, &c, 3);
    assert_close(lr_at(&s, &c, 0, 0, 3), 0.01, "epoch 0: factor 1/(1+0)");
    assert_close(lr_at(&s, &c, 1, 0, 3), 0.01 / 1.1, "epoch 1");
    assert_close(lr_at(&s, &c, 2, 2, 3), 0.01 / 1.1 / 1.2, "epoch 2");
    assert_close(lr_at(&s, &c, 4, 0, 3), 0.01 / (1.1 * 1.2 * 1.3 * 1.4), "epoch 4");
    /* the article's constant: 1.5e-6 barely moves the rate in 25 epochs */
    set(&c, "time_decay=1.5e-6");
    double want = 0.01;
    for (int j = 0; j <= 24; j++) want *= 1.0 / (1.0 + 1.5e-6 * j);
    assert_close(lr_at(&s, &c, 24, 0, 3), want, "article epoch 24");
}
END_TEST

START_TEST(test_exponential)
{
    kiln_config c;
    config_of(&c, "schedule=exponential learning_rate=0.001 exp_k=0.1");
    kiln_sched_state s;
    kiln_sched_init(&s, &c, 4);
    for (int e = 0; e < 25; e += 6) assert_close(lr_at(&s, &c, e, 1, 4), 0.001 * exp(-0.1 * e), "exp");
}
END_TEST

START_TEST(test_triangular)
{
    kiln_config c;
    config_of(&c, "schedule=triangular base_lr=0.0001 max_lr=0.01 step_size=10");
    kiln_sched_state s;
    kiln_sched_init(&s, &c, 7);
    const double b = 1e-4, m = 1e-2;
    for (int cyc = 0; cyc < 3; cyc++) {
        long t = 20L * cyc;
        kiln_sched_point p0 = {0, 0, t, NAN}, p1 = {0, 0, t + 10, NAN}, p2 = {0, 0, t + 5, NAN}, p3 = {0, 0, t + 15, NAN};
        assert_close(kiln_sched_lr(&s, &c, &p0), b, "trough");
        assert_close(kiln_sched_lr(&s, &c, &p1), m, "peak");
        assert_close(kiln_sched_lr(&s, &c, &p2), b + (m - b) * 0.5, "rising half");
        assert_close(kiln_sched_lr(&s, &c, &p3), b + (m - b) * 0.5, "falling half");
    }
    /* step_unit=epochs: step_size 2 epochs of 7 steps = 14 iterations */
    set(&c, "step_unit=epochs");
    set(&c, "step_size=2");
    assert_close(lr_at(&s, &c, 2, 0, 7), m, "peak after two epochs");
    assert_close(lr_at(&s, &c, 4, 0, 7), b, "trough after four");
    assert_close(lr_at(&s, &c, 1, 0, 7), b + (m - b) * 0.5, "half way");
}
END_TEST

START_TEST(test_triangular2_exp_range)
{
    kiln_config c;
    config_of(&c, "schedule=triangular2 base_lr=0.001 max_lr=0.009 step_size=4");
    kiln_sched_state s;
    kiln_sched_init(&s, &c, 10);
    const double b = 0.001, m = 0.009;
    for (int cyc = 0; cyc < 4; cyc++) {
        kiln_sched_point pk = {0, 0, 8L * cyc + 4, NAN}, tr = {0, 0, 8L * cyc, NAN};
        assert_close(kiln_sched_lr(&s, &c, &pk), b + (m - b) / pow(2, cyc), "triangular2 peak halves");
        assert_close(kiln_sched_lr(&s, &c, &tr), b, "triangular2 trough");
    }
    set(&c, "schedule=exp_range");
    set(&c, "gamma=0.99");
    for (long it = 0; it < 40; it += 3) {
        double cycle = floor(1 + it / 8.0), x = fabs(it / 4.0 - 2 * cycle + 1);
        double want = b + (m - b) * fmax(0, 1 - x) * pow(0.99, (double)it);
        kiln_sched_point p = {0, 0, it, NAN};
        assert_close(kiln_sched_lr(&s, &c, &p), want, "exp_range");
    }
    kiln_sched_point pk = {0, 0, 12, NAN};
    assert_close(kiln_sched_lr(&s, &c, &pk), b + (m - b) * pow(0.99, 12), "exp_range second peak");
}
END_TEST

START_TEST(test_one_cycle)
{
    kiln_config c;
    config_of(&c, "schedule=one_cycle max_lr=0.01 epochs=10");
    kiln_sched_state s;
    kiln_sched_init(&s, &c, 10); /* 100 steps; warm-up ends at step 0.3*100-1 = 29 */
    const double init = 0.01 / 25, fin = init / 1e4;
    kiln_sched_point p = {0, 0, 0, NAN};
    assert_close(kiln_sched_lr(&s, &c, &p), init, "start = max_lr/div_factor");
    p.global_step = 29;
    assert_close(kiln_sched_lr(&s, &c, &p), 0.01, "peak at pct_start*T - 1");
    p.global_step = 99;
    assert_close(kiln_sched_lr(&s, &c, &p), fin, "end = start/final_div_factor");
    /* half way up and down: the mean of the two ends (cosine) */
    p.global_step = 64; /* (64-29)/(99-29) = 0.5 */
    assert_close(kiln_sched_lr(&s, &c, &p), (0.01 + fin) / 2, "half way down");
    double prev = 0;
    for (long t = 0; t <= 29; t++) { p.global_step = t; double v = kiln_sched_lr(&s, &c, &p); ck_assert(v > prev); prev = v; }
    for (long t = 30; t < 100; t++) { p.global_step = t; double v = kiln_sched_lr(&s, &c, &p); ck_assert(v < prev); prev = v; }
}
END_TEST

START_TEST(test_plateau)
{
    kiln_config c;
    config_of(&c, "schedule=plateau learning_rate=0.1 patience=2 factor=0.5 cooldown=1 min_delta=0 min_lr=0.02");
    kiln_sched_state s;
    kiln_sched_init(&s, &c, 3);
    const double vl[] = {1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85, 0.85};
    /* the rate after each epoch's end, worked by hand from Keras' rules */
    const double want[] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02};
    for (int e = 0; e < 12; e++) {
        char what[32];
        snprintf(what, sizeof what, "epoch %d", e);
        assert_close(lr_at(&s, &c, e, 0, 3), e ? want[e - 1] : 0.1, what);
        kiln_sched_epoch_end(&s, &c, e, 9.0, vl[e], 0.5, 0.5);
        assert_close(lr_at(&s, &c, e + 1, 0, 3), want[e], what);
    }
    /* accuracy is maximised: rising values never reduce the rate */
    kiln_config a;
    config_of(&a, "schedule=plateau learning_rate=0.1 monitor=val_accuracy patience=1");
    kiln_sched_init(&s, &a, 3);
    for (int e = 0; e < 5; e++) kiln_sched_epoch_end(&s, &a, e, 1, 1, 0.5, 0.5 + 0.01 * e);
    assert_close(lr_at(&s, &a, 5, 0, 3), 0.1, "rising accuracy");
    kiln_sched_epoch_end(&s, &a, 5, 1, 1, 0.5, 0.5);
    assert_close(lr_at(&s, &a, 6, 0, 3), 0.1 * 0.1, "accuracy fell: reduced");
}
END_TEST

/* ------------------------------------------------- the rate in the history */

START_TEST(test_history_lr)
{
    load_data();
    kiln_config c;
    kiln_config_init(&c);
    snprintf(c.model, sizeof c.model, "%s", SMALL_NET);
    set_all(&c, "schedule=triangular2 base_lr=0.0001 max_lr=0.003 step_size=5 train_limit=1000 test_limit=100 batch_size=50 epochs=2");
    kiln_history h;
    char err[512];
    ck_assert_msg(kiln_train(&c, &g_train, &g_test, &h, NULL, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(h.n_steps, 32); /* 800 training images / 50 x 2 epochs */
    for (long it = 0; it < h.n_steps; it++) {
        double cycle = floor(1 + it / 10.0), x = fabs(it / 5.0 - 2 * cycle + 1);
        double want = 1e-4 + (3e-3 - 1e-4) * fmax(0, 1 - x) / pow(2, cycle - 1);
        ck_assert_msg(h.steps[it].lr == (float)want, "step %ld: %.9g vs %.9g", it, (double)h.steps[it].lr, want);
    }
    /* the epoch log's lr is its first step's: it=16, cycle 2, x = 0.2 */
    assert_close(h.epochs[1].lr, 1e-4 + (3e-3 - 1e-4) * 0.8 / 2, "epoch 1 lr");
    kiln_history_free(&h);

    /* per-epoch schedule plus the legacy decay on top */
    kiln_config_init(&c);
    snprintf(c.model, sizeof c.model, "%s", SMALL_NET);
    set_all(&c, "schedule=step learning_rate=0.002 step_every=1 step_drop=0.5 decay=0.01 train_limit=1000 test_limit=100 batch_size=100 epochs=2");
    ck_assert_msg(kiln_train(&c, &g_train, &g_test, &h, NULL, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(h.n_steps, 16);
    for (long it = 0; it < h.n_steps; it++) {
        int e = (int)(it / 8);
        double want = 0.002 * pow(0.5, floor(1.0 + e)) / (1.0 + 0.01 * (double)it);
        ck_assert_msg(h.steps[it].lr == (float)want, "step %ld", it);
    }
    kiln_history_free(&h);
}
END_TEST

/* --------------------------------------------------------- the range test */

static void small_lrfind_config(kiln_config *c)
{
    kiln_config_init(c);
    snprintf(c->model, sizeof c->model, "%s", SMALL_NET);
    set(c, "train_limit=3000");
    set(c, "batch_size=32");
}

/* A range test on freshly initialised weights: builds and initialises the
 * model, keeps a copy of its weights in *before (caller frees), runs the
 * sweep from start to end over `steps` batches, and checks that the weights
 * come back byte for byte. */
static void sweep(const kiln_config *c, double start, double end, long steps, kiln_model *m,
                  float **before, kiln_lrfind_opts *o, kiln_lrfind_result *r)
{
    char err[512];
    ck_assert(kiln_model_build(m, c->model, 28, 28, 1, err, sizeof err) == 0);
    kiln_model_init(m, c->seed);
    *before = malloc(sizeof(float) * m->n_params);
    memcpy(*before, m->params, sizeof(float) * m->n_params);
    kiln_lrfind_opts_init(o);
    o->start_lr = start;
    o->end_lr = end;
    o->steps = steps;
    ck_assert_msg(kiln_lrfind(c, &g_train, m, o, r, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(memcmp(*before, m->params, sizeof(float) * m->n_params) == 0, "weights restored byte for byte");
}

START_TEST(test_lrfind_basic)
{
    load_data();
    kiln_config c;
    small_lrfind_config(&c);
    kiln_model m;
    float *before;
    kiln_lrfind_opts o;
    kiln_lrfind_result r;
    sweep(&c, 1e-6, 1.0, 70, &m, &before, &o, &r);
    ck_assert_int_eq(r.planned, 70);
    ck_assert(r.n > 6 && r.n <= 70);
    const double mult = pow(1e6, 1.0 / 70);
    assert_close(r.lr_mult, mult, "multiplier");
    ck_assert(r.lr[0] == 1e-6);
    for (long i = 1; i < r.n; i++) {
        double ratio = r.lr[i] / r.lr[i - 1];
        ck_assert_msg(fabs(ratio / mult - 1) < 1e-9, "geometric at %ld", i);
    }
    /* the debiased average starts at the first loss */
    assert_close(r.smoothed[0], r.loss[0], "smoothed[0]");
    ck_assert(isnan(r.derivative[0]));
    assert_close(r.derivative[r.sma + 1], (r.loss[r.sma + 1] - r.loss[1]) / r.sma, "derivative");
    const double hi = r.lr[r.n - 1];
    ck_assert(r.steepest_lr >= 1e-6 && r.steepest_lr <= hi);
    ck_assert(r.min_loss_lr >= 1e-6 && r.min_loss_lr <= hi);
    assert_close(r.min_div10_lr, r.min_loss_lr / 10, "minimum/10");
    ck_assert(r.base_lr > 0 && r.base_lr < r.max_lr);
    /* the loss falls somewhere in the sweep on this data */
    ck_assert(r.smoothed[r.n - 6] < r.smoothed[0] || r.stopped_early);
    char *js = kiln_lrfind_to_json(&r);
    ck_assert(js && strstr(js, "\"suggestions\"") && strstr(js, "\"stopped_early\""));
    free(js);
    kiln_lrfind_free(&r);
    free(before);
    kiln_model_free(&m);
}
END_TEST

START_TEST(test_lrfind_diverges)
{
    load_data();
    kiln_config c;
    small_lrfind_config(&c);
    set(&c, "optimizer=sgd");
    kiln_model m;
    char err[512];
    float *before;
    kiln_lrfind_opts o;
    kiln_lrfind_result r;
    sweep(&c, 1e-3, 1e12, 80, &m, &before, &o, &r);
    ck_assert_msg(r.stopped_early, "a huge end_lr must trip the divergence rule");
    ck_assert(r.n > 6 && r.n < 80);
    double best = 1e9;
    for (long i = 0; i + 1 < r.n; i++) if (r.loss[i] < best) best = r.loss[i];
    double last = r.loss[r.n - 1];
    ck_assert_msg(isnan(last) || last > 4 * best, "the last point is the one that tripped the rule");
    ck_assert(memcmp(before, m.params, sizeof(float) * m.n_params) == 0);
    kiln_lrfind_free(&r);
    /* options are checked */
    o.start_lr = 0;
    ck_assert(kiln_lrfind(&c, &g_train, &m, &o, &r, NULL, err, sizeof err) != 0);
    ck_assert(strstr(err, "start_lr"));
    o.start_lr = 1e-3;
    o.end_lr = 1e-4;
    ck_assert(kiln_lrfind(&c, &g_train, &m, &o, &r, NULL, err, sizeof err) != 0);
    ck_assert(strstr(err, "end_lr"));
    free(before);
    kiln_model_free(&m);
}
END_TEST

/* ------------------------------------------------------------- callbacks */

START_TEST(test_early_stopping_logic)
{
    kiln_config c;
    kiln_config_init(&c);
    c.early_stopping = 1;
    c.es_patience = 2;
    c.es_min_delta = 0.01;
    kiln_es_state s;
    kiln_es_init(&s, &c);
    ck_assert_int_eq(s.maximize, 0);
    const double vl[] = {1.0, 0.8, 0.795, 0.81, 0.5};
    int act[5];
    for (int e = 0; e < 4; e++) act[e] = kiln_es_update(&s, &c, e, vl[e]);
    ck_assert_int_eq(act[0], KILN_ES_SAVE);
    ck_assert_int_eq(act[1], KILN_ES_SAVE);
    ck_assert_int_eq(act[2], 0);           /* 0.795 is not 0.01 better */
    ck_assert_int_eq(act[3], KILN_ES_STOP); /* second epoch without: patience 2 */
    ck_assert_int_eq(s.best_epoch, 1);

    /* patience 0 never stops after the first epoch; a NaN first epoch still
     * keeps its weights (Keras keeps the first epoch's weights) */
    c.es_patience = 0;
    c.es_min_delta = 0;
    kiln_es_init(&s, &c);
    ck_assert_int_eq(kiln_es_update(&s, &c, 0, NAN), KILN_ES_SAVE);
    ck_assert_int_eq(s.best_epoch, 0);
    ck_assert_int_eq(kiln_es_update(&s, &c, 1, 0.3), KILN_ES_SAVE);
    ck_assert_int_eq(kiln_es_update(&s, &c, 2, 0.3), KILN_ES_STOP);

    /* accuracy: auto mode maximises */
    snprintf(c.es_monitor, sizeof c.es_monitor, "val_accuracy");
    c.es_patience = 1;
    kiln_es_init(&s, &c);
    ck_assert_int_eq(s.maximize, 1);
    ck_assert(kiln_es_update(&s, &c, 0, 0.9) & KILN_ES_SAVE);
    ck_assert(kiln_es_update(&s, &c, 1, 0.95) & KILN_ES_SAVE);
    ck_assert_int_eq(kiln_es_update(&s, &c, 2, 0.94), KILN_ES_STOP);
    ck_assert_int_eq(s.best_epoch, 1);
    /* explicit min mode overrides the name */
    snprintf(c.es_mode, sizeof c.es_mode, "min");
    kiln_es_init(&s, &c);
    ck_assert_int_eq(s.maximize, 0);
}
END_TEST

START_TEST(test_early_stopping_restores)
{
    load_data();
    char err[512];
    kiln_config c;
    kiln_config_init(&c);
    snprintf(c.model, sizeof c.model, "%s", SMALL_NET);
    set_all(&c, "train_limit=1000 test_limit=100 batch_size=100 epochs=5 early_stopping=true es_patience=1");
    set(&c, "es_min_delta=100"); /* nothing ever counts as an improvement */
    set(&c, "es_restore_best=true");
    kiln_history h;
    kiln_model m;
    ck_assert_msg(kiln_train(&c, &g_train, &g_test, &h, &m, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(h.stopped_by, "early_stopping");
    ck_assert_int_eq(h.stopped_epoch, 1); /* wait reaches 1 at epoch 0, but never stops there */
    ck_assert_int_eq(h.n_epochs, 2);
    ck_assert_int_eq(h.best_epoch, 0);
    /* the restored weights are those after epoch 0: the same as a 1-epoch run */
    kiln_config one;
    kiln_config_init(&one);
    snprintf(one.model, sizeof one.model, "%s", SMALL_NET);
    set_all(&one, "train_limit=1000 test_limit=100 batch_size=100 epochs=1");
    kiln_history h1;
    kiln_model m1;
    ck_assert_msg(kiln_train(&one, &g_train, &g_test, &h1, &m1, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert(m.n_params == m1.n_params);
    ck_assert_msg(memcmp(m.params, m1.params, sizeof(float) * m.n_params) == 0, "best weights restored");
    ck_assert(h.test_loss == h1.test_loss);
    kiln_history_free(&h);
    kiln_history_free(&h1);
    kiln_model_free(&m);
    kiln_model_free(&m1);
}
END_TEST

START_TEST(test_checkpoint)
{
    load_data();
    char dirbuf[64], err[512], path[256];
    const char *dir = test_tmpdir(dirbuf);
    ck_assert(dir);
    snprintf(path, sizeof path, "%s/w.kiln", dir);
    kiln_config c;
    kiln_config_init(&c);
    snprintf(c.model, sizeof c.model, "%s", SMALL_NET);
    set_all(&c, "train_limit=1000 test_limit=100 batch_size=100 epochs=2");
    snprintf(c.checkpoint, sizeof c.checkpoint, "%s", path);
    c.checkpoint_best_only = 0;
    kiln_history h;
    kiln_model m;
    ck_assert_msg(kiln_train(&c, &g_train, &g_test, &h, &m, NULL, err, sizeof err) == 0, "%s", err);
    kiln_model back;
    ck_assert(kiln_model_build(&back, SMALL_NET, 28, 28, 1, err, sizeof err) == 0);
    ck_assert_msg(kiln_weights_load(&back, path, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(memcmp(back.params, m.params, sizeof(float) * m.n_params) == 0, "the last epoch's weights");
    /* atomic: written to a temporary name and renamed, nothing else left */
    DIR *d = opendir(dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        files++;
        ck_assert_str_eq(de->d_name, "w.kiln");
    }
    closedir(d);
    ck_assert_int_eq(files, 1);
    unlink(path);
    rmdir(dir);
    kiln_history_free(&h);
    kiln_model_free(&m);
    kiln_model_free(&back);
}
END_TEST

/* checkpoint_best_only (the default): the file holds the weights of the epoch
 * with the lowest val_loss, which a run stopped after that epoch reproduces. */
START_TEST(test_checkpoint_best_only)
{
    load_data();
    char dirbuf[64], err[512], path[256];
    const char *dir = test_tmpdir(dirbuf);
    ck_assert(dir);
    snprintf(path, sizeof path, "%s/best.kiln", dir);
    const char *spec = "conv:8x3,relu,pool:2,dense:32,relu,dense:10";
    kiln_config c;
    kiln_config_init(&c);
    snprintf(c.model, sizeof c.model, "%s", spec);
    set_all(&c, "train_limit=1000 test_limit=100 batch_size=100");
    set(&c, "learning_rate=0.03"); /* large enough for val_loss to go up and down */
    set(&c, "epochs=6");
    snprintf(c.checkpoint, sizeof c.checkpoint, "%s", path);
    ck_assert_int_eq(c.checkpoint_best_only, 1);
    kiln_history h;
    kiln_model m;
    ck_assert_msg(kiln_train(&c, &g_train, &g_test, &h, &m, NULL, err, sizeof err) == 0, "%s", err);
    int best = 0;
    for (int e = 1; e < h.n_epochs; e++)
        if (h.epochs[e].val_loss < h.epochs[best].val_loss) best = e;
    ck_assert_msg(best < h.n_epochs - 1, "this configuration must have its best epoch before the last");
    kiln_model saved;
    ck_assert(kiln_model_build(&saved, spec, 28, 28, 1, err, sizeof err) == 0);
    ck_assert_msg(kiln_weights_load(&saved, path, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(memcmp(saved.params, m.params, sizeof(float) * m.n_params) != 0, "not the last epoch's weights");
    /* the same run stopped after the best epoch ends with the saved weights */
    kiln_config c2 = c;
    c2.epochs = best + 1;
    c2.checkpoint[0] = 0;
    kiln_history h2;
    kiln_model m2;
    ck_assert_msg(kiln_train(&c2, &g_train, &g_test, &h2, &m2, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(memcmp(saved.params, m2.params, sizeof(float) * m2.n_params) == 0, "the best epoch's weights");
    unlink(path);
    rmdir(dir);
    kiln_history_free(&h);
    kiln_history_free(&h2);
    kiln_model_free(&m);
    kiln_model_free(&m2);
    kiln_model_free(&saved);
}
END_TEST

/* ------------------------------------------------------------ determinism */

static char *history_text(kiln_history *h)
{
    h->seconds = 0;
    for (int i = 0; i < h->n_epochs; i++) h->epochs[i].seconds = 0;
    return kiln_history_to_json(h);
}

static const char *SCHED_ARGS[][6] = {
    {"schedule=constant", "learning_rate=0.002", NULL},
    {"schedule=linear", "learning_rate=0.002", "linear_step=0.0005", NULL},
    {"schedule=step", "learning_rate=0.002", "step_every=1", NULL},
    {"schedule=time", "learning_rate=0.002", "time_decay=0.5", NULL},
    {"schedule=exponential", "learning_rate=0.002", "exp_k=0.5", NULL},
    {"schedule=triangular", "base_lr=0.0005", "max_lr=0.003", "step_size=1", NULL},
    {"schedule=triangular2", "base_lr=0.0005", "max_lr=0.003", "step_size=1", "step_unit=epochs", NULL},
    {"schedule=exp_range", "base_lr=0.0005", "max_lr=0.003", "step_size=1", "gamma=0.9", NULL},
    {"schedule=one_cycle", "max_lr=0.003", NULL},
    {"schedule=plateau", "learning_rate=0.002", "patience=0", "monitor=loss", "min_delta=10", NULL},
};

START_TEST(test_determinism)
{
    load_data();
    const int k = _i;
    char *text[2];
    for (int t = 0; t < 2; t++) {
        kiln_config c;
        kiln_config_init(&c);
        set(&c, "train_limit=200"); /* 160 training images: batches of 100 and 60 */
        set_all(&c, "test_limit=50 batch_size=100 epochs=2");
        c.threads = t + 1;
        for (int a = 0; SCHED_ARGS[k][a]; a++) set(&c, SCHED_ARGS[k][a]);
        kiln_history h;
        char err[512];
        ck_assert_msg(kiln_train(&c, &g_train, &g_test, &h, NULL, NULL, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(h.n_steps, 4);
        text[t] = history_text(&h);
        kiln_history_free(&h);
    }
    ck_assert_msg(strcmp(text[0], text[1]) == 0, "%s: threads=1 and threads=2 differ", SCHED_ARGS[k][0]);
    free(text[0]);
    free(text[1]);
}
END_TEST

START_TEST(test_lrfind_determinism)
{
    load_data();
    char *text[2];
    for (int t = 0; t < 2; t++) {
        kiln_config c;
        kiln_config_init(&c);
        set(&c, "train_limit=600");
        set(&c, "batch_size=50");
        c.threads = t + 1;
        kiln_model m;
        char err[512];
        ck_assert(kiln_model_build(&m, c.model, 28, 28, 1, err, sizeof err) == 0);
        kiln_model_init(&m, c.seed);
        kiln_lrfind_opts o;
        kiln_lrfind_opts_init(&o);
        o.steps = 12;
        o.sma = 3;
        kiln_lrfind_result r;
        ck_assert_msg(kiln_lrfind(&c, &g_train, &m, &o, &r, NULL, err, sizeof err) == 0, "%s", err);
        r.seconds = 0;
        text[t] = kiln_lrfind_to_json(&r);
        kiln_lrfind_free(&r);
        kiln_model_free(&m);
    }
    ck_assert_msg(strcmp(text[0], text[1]) == 0, "range test: threads=1 and threads=2 differ");
    free(text[0]);
    free(text[1]);
}
END_TEST

/* ------------------------------------------------------------- bad input */

/* Validate a config built from key=value pairs; expect an error naming key. */
static void expect_invalid(const char *const *kv, const char *key)
{
    kiln_config c;
    kiln_config_init(&c);
    char err[2048] = "";
    int rc = 0;
    for (int i = 0; kv[i] && !rc; i++) rc = kiln_config_set_kv(&c, kv[i], err, sizeof err);
    if (!rc) rc = kiln_config_validate(&c, err, sizeof err);
    char quoted[80];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    ck_assert_msg(rc != 0, "%s: accepted", kv[0]);
    ck_assert_msg(strstr(err, quoted) != NULL, "message does not name %s: %s", quoted, err);
}

START_TEST(test_bad_input)
{
    expect_invalid((const char *[]){"schedule=cosine", NULL}, "schedule");
    expect_invalid((const char *[]){"schedule=triangular", "base_lr=0.01", "max_lr=0.001", NULL}, "max_lr");
    expect_invalid((const char *[]){"schedule=triangular", "step_size=0", NULL}, "step_size");
    expect_invalid((const char *[]){"schedule=exp_range", "step_size=0", NULL}, "step_size");
    expect_invalid((const char *[]){"learning_rate=-0.1", NULL}, "learning_rate");
    expect_invalid((const char *[]){"schedule=triangular", "base_lr=-1", NULL}, "base_lr");
    expect_invalid((const char *[]){"schedule=time", "time_decay=-0.5", NULL}, "time_decay");
    expect_invalid((const char *[]){"schedule=time", "time_decay=-0.1", "epochs=12", NULL}, "time_decay");
    expect_invalid((const char *[]){"schedule=constant", "step_drop=0.5", NULL}, "step_drop");
    expect_invalid((const char *[]){"schedule=one_cycle", "learning_rate=0.01", NULL}, "learning_rate");
    expect_invalid((const char *[]){"schedule=one_cycle", "max_lr=0", NULL}, "max_lr");
    expect_invalid((const char *[]){"schedule=plateau", "validation_split=0", NULL}, "monitor");
    expect_invalid((const char *[]){"schedule=plateau", "learning_rate=0.001", "min_lr=0.01", NULL}, "min_lr");
    expect_invalid((const char *[]){"schedule=plateau", "factor=1", NULL}, "factor");
    expect_invalid((const char *[]){"schedule=step", "step_every=0", NULL}, "step_every");
    expect_invalid((const char *[]){"es_patience=3", NULL}, "es_patience");
    expect_invalid((const char *[]){"step_unit=weeks", NULL}, "step_unit");
    /* configs filled in by code get the same checks */
    kiln_config c;
    char err[512];
    kiln_config_init(&c);
    c.base_lr = -1e-3;
    strcpy(c.schedule, "triangular");
    ck_assert(kiln_config_validate(&c, err, sizeof err) != 0 && strstr(err, "'base_lr'"));
    kiln_config_init(&c);
    strcpy(c.schedule, "warp");
    ck_assert(kiln_config_validate(&c, err, sizeof err) != 0 && strstr(err, "'schedule'") && strstr(err, "one_cycle"));
    /* the time check is exact at the boundary: 1 + d*(epochs-1) must be > 0 */
    kiln_config_init(&c);
    strcpy(c.schedule, "time");
    c.epochs = 11;
    c.sched_decay = -0.1;
    ck_assert(kiln_config_validate(&c, err, sizeof err) != 0);
    c.sched_decay = -0.099;
    ck_assert_msg(kiln_config_validate(&c, err, sizeof err) == 0, "%s", err);
    /* and good configs pass */
    const char *good[][5] = {
        {"schedule=step", "step_drop=0.5", "step_every=15", NULL},
        {"schedule=triangular", "base_lr=0.001", "max_lr=0.006", "step_size=8", NULL},
        {"schedule=one_cycle", "max_lr=0.01", NULL},
        {"schedule=plateau", "patience=3", NULL},
        {"early_stopping=true", "es_patience=3", NULL},
    };
    for (int g = 0; g < 5; g++) {
        kiln_config_init(&c);
        for (int i = 0; good[g][i]; i++) set(&c, good[g][i]);
        ck_assert_msg(kiln_config_validate(&c, err, sizeof err) == 0, "%s: %s", good[g][0], err);
    }
}
END_TEST

/* The command line: bad keys exit 2 naming the key. */
START_TEST(test_cli_lr_find_errors)
{
    const char *bin = getenv("KILN_BIN");
    if (!bin || !*bin) bin = "bin/kiln";
    if (access(bin, X_OK) != 0) return; /* not built in this mode */
    char cmd[1024];
    const char *args[] = {"nosuchkey=1", "end_lr=abc", "lr_epochs=0", "start_lr=1 end_lr=0.5",
                          "lr_epochs=1 lr_steps=5", "schedule=bogus"};
    const char *names[] = {"'nosuchkey'", "'end_lr'", "'lr_epochs'", "'end_lr'", "'lr_steps'", "'schedule'"};
    for (int i = 0; i < 6; i++) {
        snprintf(cmd, sizeof cmd, "%s lr-find %s 2>&1", bin, args[i]);
        FILE *p = popen(cmd, "r");
        char out[8192] = "";
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = 0;
        int st = pclose(p);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s: exit %d", args[i], WEXITSTATUS(st));
        ck_assert_msg(strstr(out, names[i]), "%s: %s", args[i], out);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("schedule");
    TCase *t = tcase_create("closed forms");
    tcase_add_test(t, test_step_article);
    tcase_add_test(t, test_linear_floor);
    tcase_add_test(t, test_time_cumulative);
    tcase_add_test(t, test_exponential);
    tcase_add_test(t, test_triangular);
    tcase_add_test(t, test_triangular2_exp_range);
    tcase_add_test(t, test_one_cycle);
    tcase_add_test(t, test_plateau);
    tcase_add_test(t, test_early_stopping_logic);
    tcase_add_test(t, test_bad_input);
    tcase_add_test(t, test_cli_lr_find_errors);
    suite_add_tcase(s, t);
    TCase *r = tcase_create("runs");
    tcase_set_timeout(r, 600);
    tcase_add_test(r, test_history_lr);
    tcase_add_test(r, test_lrfind_basic);
    tcase_add_test(r, test_lrfind_diverges);
    tcase_add_test(r, test_early_stopping_restores);
    tcase_add_test(r, test_checkpoint);
    tcase_add_test(r, test_checkpoint_best_only);
    tcase_add_loop_test(r, test_determinism, 0, (int)(sizeof SCHED_ARGS / sizeof SCHED_ARGS[0]));
    tcase_add_test(r, test_lrfind_determinism);
    suite_add_tcase(s, r);
    return s;
}

int main(void) { return test_run_suite(suite()); }
