/* Configuration keys: one table drives parsing, validation messages, the
 * canonical text used in cache keys, and the key list in `kiln help`. */
#include "kiln/train.h"
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum ktype { K_INT, K_FLOAT, K_BOOL, K_NAME, K_TEXT, K_U64 };

typedef struct key {
    const char *name;
    enum ktype type;
    size_t off;
    double lo, hi;        /* numeric range, inclusive */
    const char *names;    /* K_NAME: space-separated accepted values */
    const char *when;     /* relevance: NULL = always; "opt=a b" or "sched=a b" or "es" */
    const char *help;
} key;

#define O(f) offsetof(kiln_config, f)
#define BIG 1e300
static const char OPTS[] = "sgd adam adamax adadelta rmsprop adagrad";
static const char SCHEDS[] = "constant linear step time exponential triangular triangular2 exp_range one_cycle plateau";
static const char CYCLIC[] = "sched=triangular triangular2 exp_range";
static const char METRICS[] = "val_loss loss val_accuracy accuracy";

static const key KEYS[] = {
    {"model", K_TEXT, O(model), 0, 0, NULL, NULL, "layer spec, or 'seed' for the article's network"},
    {"epochs", K_INT, O(epochs), 1, 100000, NULL, NULL, "training epochs"},
    {"batch_size", K_INT, O(batch_size), 1, 65536, NULL, NULL, "examples per step"},
    {"validation_split", K_FLOAT, O(validation_split), 0, 0.99, NULL, NULL, "last fraction of the training data held out (Keras)"},
    {"shuffle", K_BOOL, O(shuffle), 0, 1, NULL, NULL, "reshuffle the training data every epoch"},
    {"seed", K_U64, O(seed), 0, 0, NULL, NULL, "random seed (init, shuffling, dropout)"},
    {"train_limit", K_INT, O(train_limit), 0, 100000000, NULL, NULL, "use only the first N training examples (0 = all)"},
    {"test_limit", K_INT, O(test_limit), 0, 100000000, NULL, NULL, "use only the first N test examples (0 = all)"},
    {"stop_on_nan", K_BOOL, O(stop_on_nan), 0, 1, NULL, NULL, "TerminateOnNaN: stop at the first non-finite loss"},
    {"optimizer", K_NAME, O(optimizer), 0, 0, OPTS, NULL, "update rule (Keras semantics)"},
    {"learning_rate", K_FLOAT, O(learning_rate), 0, BIG, NULL, NULL, "initial learning rate (default: the optimizer's Keras default)"},
    {"momentum", K_FLOAT, O(momentum), 0, 1, NULL, "opt=sgd rmsprop", "momentum"},
    {"nesterov", K_BOOL, O(nesterov), 0, 1, NULL, "opt=sgd", "Nesterov momentum"},
    {"beta1", K_FLOAT, O(beta1), 0, 0.999999, NULL, "opt=adam adamax", "first-moment decay"},
    {"beta2", K_FLOAT, O(beta2), 0, 0.9999999, NULL, "opt=adam adamax", "second-moment decay"},
    {"epsilon", K_FLOAT, O(epsilon), 0, 1, NULL, "opt=adam adamax adadelta rmsprop adagrad", "numerical fuzz"},
    {"rho", K_FLOAT, O(rho), 0, 1, NULL, "opt=adadelta rmsprop", "decay of the squared-gradient average"},
    {"initial_accumulator", K_FLOAT, O(initial_accumulator), 0, BIG, NULL, "opt=adagrad", "Adagrad's starting accumulator"},
    {"decay", K_FLOAT, O(decay), 0, BIG, NULL, NULL, "Keras legacy decay: lr / (1 + decay * iterations)"},
    {"schedule", K_NAME, O(schedule), 0, 0, SCHEDS, NULL, "learning-rate schedule"},
    {"linear_step", K_FLOAT, O(sched_amount), 0, BIG, NULL, "sched=linear", "linear: subtracted each epoch (article: 1e-5)"},
    {"step_drop", K_FLOAT, O(sched_drop), 0, 1, NULL, "sched=step", "step: factor per drop (article: 0.5)"},
    {"step_every", K_FLOAT, O(sched_every), 1, 1e9, NULL, "sched=step", "step: epochs between drops (article: 15)"},
    {"time_decay", K_FLOAT, O(sched_decay), -BIG, BIG, NULL, "sched=time", "time: lr *= 1/(1 + time_decay*epoch) (article: 1.5e-6)"},
    {"exp_k", K_FLOAT, O(sched_k), 0, BIG, NULL, "sched=exponential", "exponential: lr0 * exp(-k * epoch)"},
    {"base_lr", K_FLOAT, O(base_lr), 0, BIG, NULL, CYCLIC, "cyclical: lower bound"},
    {"max_lr", K_FLOAT, O(max_lr), 0, BIG, NULL, "sched=triangular triangular2 exp_range one_cycle", "cyclical/one-cycle: upper bound"},
    {"step_size", K_FLOAT, O(step_size), 0, 1e12, NULL, CYCLIC, "cyclical: half-cycle length"},
    {"step_unit", K_NAME, O(step_unit), 0, 0, "iterations epochs", CYCLIC, "unit of step_size"},
    {"gamma", K_FLOAT, O(gamma), 0, 1, NULL, "sched=exp_range", "exp_range: amplitude factor per iteration"},
    {"pct_start", K_FLOAT, O(pct_start), 0, 1, NULL, "sched=one_cycle", "one-cycle: warm-up fraction"},
    {"div_factor", K_FLOAT, O(div_factor), 1, BIG, NULL, "sched=one_cycle", "one-cycle: initial lr = max_lr / div_factor"},
    {"final_div_factor", K_FLOAT, O(final_div_factor), 1, BIG, NULL, "sched=one_cycle", "one-cycle: final lr = initial / final_div_factor"},
    {"cycle_momentum", K_BOOL, O(cycle_momentum), 0, 1, NULL, "sched=one_cycle", "one-cycle: also cycle beta1 (adam, adamax) or momentum (sgd, rmsprop), as PyTorch does by default"},
    {"base_momentum", K_FLOAT, O(base_momentum), 0, 0.999999, NULL, "sched=one_cycle", "one-cycle: momentum at the peak rate"},
    {"max_momentum", K_FLOAT, O(max_momentum), 0, 0.999999, NULL, "sched=one_cycle", "one-cycle: momentum at the start and the end"},
    {"monitor", K_NAME, O(monitor), 0, 0, METRICS, "sched=plateau", "plateau: metric watched"},
    {"factor", K_FLOAT, O(factor), 0, 0.999999, NULL, "sched=plateau", "plateau: lr *= factor"},
    {"patience", K_FLOAT, O(patience), 0, 1e9, NULL, "sched=plateau", "plateau: epochs without improvement"},
    {"min_lr", K_FLOAT, O(min_lr), 0, BIG, NULL, "sched=plateau", "plateau: lower bound"},
    {"min_delta", K_FLOAT, O(min_delta), 0, BIG, NULL, "sched=plateau", "plateau: smallest change that counts"},
    {"cooldown", K_FLOAT, O(cooldown), 0, 1e9, NULL, "sched=plateau", "plateau: epochs to wait after a reduction"},
    {"early_stopping", K_BOOL, O(early_stopping), 0, 1, NULL, NULL, "EarlyStopping callback"},
    {"es_monitor", K_NAME, O(es_monitor), 0, 0, METRICS, "es", "early stopping: metric"},
    {"es_min_delta", K_FLOAT, O(es_min_delta), 0, BIG, NULL, "es", "early stopping: smallest improvement"},
    {"es_patience", K_INT, O(es_patience), 0, 100000, NULL, "es", "early stopping: epochs without improvement"},
    {"es_mode", K_NAME, O(es_mode), 0, 0, "auto min max", "es", "early stopping: direction"},
    {"es_restore_best", K_BOOL, O(es_restore_best), 0, 1, NULL, "es", "restore the best weights when stopping"},
    {"checkpoint", K_TEXT, O(checkpoint), 0, 0, NULL, "-", "ModelCheckpoint: weights file path (empty = off)"},
    {"checkpoint_best_only", K_BOOL, O(checkpoint_best_only), 0, 1, NULL, "-", "save only when val_loss improves"},
    {"threads", K_INT, O(threads), 0, 1024, NULL, "-", "worker threads, 0 = all cores (never changes results)"},
};
#define NKEYS ((int)(sizeof KEYS / sizeof KEYS[0]))

/* "integer 1..100000", "number >= 0", "one of: a b c", ...: the accepted
 * values of one key, as error messages and `kiln keys` print them. */
static void accepted_text(const key *k, char *buf, size_t n)
{
    switch (k->type) {
    case K_INT: snprintf(buf, n, "integer %g..%g", k->lo, k->hi); break;
    case K_FLOAT:
        if (k->hi >= BIG && k->lo <= -BIG) snprintf(buf, n, "any finite number");
        else if (k->hi >= BIG) snprintf(buf, n, "number >= %g", k->lo);
        else snprintf(buf, n, "number %g..%g", k->lo, k->hi);
        break;
    case K_BOOL: snprintf(buf, n, "true/false (1/0)"); break;
    case K_NAME: snprintf(buf, n, "one of: %s", k->names); break;
    case K_TEXT: snprintf(buf, n, "text"); break;
    case K_U64: snprintf(buf, n, "integer 0..2^64-1"); break;
    }
}

/* The public key table, built once (pthread_once: callers on several
 * threads at a time see one finished table, never one being written). */
static kiln_key_info key_info[NKEYS];
static char key_accepted[NKEYS][512];
static pthread_once_t key_info_once = PTHREAD_ONCE_INIT;

static void build_key_info(void)
{
    static const char *tn[] = {"int", "float", "bool", "name", "text", "int"};
    for (int i = 0; i < NKEYS; i++) {
        const key *k = &KEYS[i];
        accepted_text(k, key_accepted[i], sizeof key_accepted[i]);
        key_info[i] = (kiln_key_info){k->name, tn[k->type], key_accepted[i], k->help, k->when ? k->when : ""};
    }
}

const kiln_key_info *kiln_config_keys(int *count)
{
    pthread_once(&key_info_once, build_key_info);
    *count = NKEYS;
    return key_info;
}

void kiln_config_init(kiln_config *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->model, "seed");
    c->epochs = 25;
    c->batch_size = 250;
    c->validation_split = 0.2;
    c->shuffle = 1;
    c->seed = 1;
    strcpy(c->optimizer, "adam");
    c->learning_rate = NAN; /* resolved per optimizer */
    c->momentum = NAN;
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->epsilon = 1e-7;
    c->rho = NAN;
    c->initial_accumulator = 0.1;
    strcpy(c->schedule, "constant");
    c->sched_amount = 1e-5;
    c->sched_drop = 0.5;
    c->sched_every = 15;
    c->sched_decay = 1.5e-6;
    c->sched_k = 0.1;
    c->base_lr = 1e-4;
    c->max_lr = 1e-2;
    c->step_size = 2000;
    strcpy(c->step_unit, "iterations");
    c->gamma = 0.99994;
    c->pct_start = 0.3;
    c->div_factor = 25;
    c->final_div_factor = 1e4;
    c->cycle_momentum = 1;
    c->base_momentum = 0.85;
    c->max_momentum = 0.95;
    strcpy(c->monitor, "val_loss");
    c->factor = 0.1;
    c->patience = 10;
    c->min_lr = 0;
    c->min_delta = 1e-4;
    c->cooldown = 0;
    strcpy(c->es_monitor, "val_loss");
    c->es_min_delta = 0;
    c->es_patience = 0;
    strcpy(c->es_mode, "auto");
    c->checkpoint_best_only = 1;
}

static const key *find_key(const char *name, int *index)
{
    for (int i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].name, name) == 0) { if (index) *index = i; return &KEYS[i]; }
    return NULL;
}

static int word_in(const char *w, const char *list)
{
    size_t n = strlen(w);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, w, n) == 0) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static int key_set(const kiln_config *c, const char *name)
{
    int i;
    if (!find_key(name, &i)) return 0;
    return (int)(c->set_mask[i / 64] >> (i % 64) & 1);
}

static int parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")) { *out = 1; return 0; }
    if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off")) { *out = 0; return 0; }
    return 1;
}

int kiln_config_set(kiln_config *c, const char *name, const char *value, char *err, size_t errlen)
{
    int idx;
    const key *k = find_key(name, &idx);
    if (!k) {
        char list[2048] = "";
        for (int i = 0; i < NKEYS; i++) {
            if (i) strcat(list, ", ");
            strcat(list, KEYS[i].name);
        }
        return kiln_fail(err, errlen, "unknown key '%s'; accepted keys: %s", name, list);
    }
    char *p = (char *)c + k->off;
    char *end = NULL;
    while (isspace((unsigned char)*value)) value++;
    switch (k->type) {
    case K_INT: {
        errno = 0;
        long v = strtol(value, &end, 10);
        if (!*value || *end || errno || v < k->lo || v > k->hi)
            return kiln_fail(err, errlen, "key '%s': '%s' is not an integer in %g..%g", name, value, k->lo, k->hi);
        *(int *)p = (int)v;
        break;
    }
    case K_U64: {
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (!*value || *end || errno || *value == '-')
            return kiln_fail(err, errlen, "key '%s': '%s' is not an integer in 0..18446744073709551615", name, value);
        *(uint64_t *)p = (uint64_t)v;
        break;
    }
    case K_FLOAT: {
        errno = 0;
        double v = strtod(value, &end);
        if (!*value || *end || errno || !isfinite(v) || v < k->lo || v > k->hi) {
            if (k->hi >= BIG)
                return kiln_fail(err, errlen, "key '%s': '%s' is not a number >= %g", name, value, k->lo);
            return kiln_fail(err, errlen, "key '%s': '%s' is not a number in %g..%g", name, value, k->lo, k->hi);
        }
        *(double *)p = v;
        break;
    }
    case K_BOOL: {
        int v;
        if (parse_bool(value, &v))
            return kiln_fail(err, errlen, "key '%s': '%s' is not a boolean; accepted: true, false, 1, 0, yes, no", name, value);
        *(int *)p = v;
        break;
    }
    case K_NAME: {
        char low[KILN_NAME_MAX];
        size_t n = strlen(value);
        if (n >= sizeof low || !word_in(value, k->names))
            return kiln_fail(err, errlen, "key '%s': '%s' is not accepted; accepted values: %s", name, value, k->names);
        strcpy(low, value);
        strcpy(p, low);
        break;
    }
    case K_TEXT: {
        size_t cap = (k->off == O(model) || k->off == O(checkpoint)) ? KILN_SPEC_MAX : KILN_NAME_MAX;
        if (strlen(value) >= cap)
            return kiln_fail(err, errlen, "key '%s': value longer than %zu characters", name, cap - 1);
        strcpy(p, value);
        break;
    }
    }
    c->set_mask[idx / 64] |= 1ull << (idx % 64);
    return 0;
}

int kiln_config_set_kv(kiln_config *c, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return kiln_fail(err, errlen, "'%s' is not key=value", kv);
    char name[64];
    size_t n = (size_t)(eq - kv);
    while (n && isspace((unsigned char)kv[n - 1])) n--;
    if (n >= sizeof name) return kiln_fail(err, errlen, "key '%.*s...' is too long", 20, kv);
    memcpy(name, kv, n);
    name[n] = 0;
    return kiln_config_set(c, name, eq + 1, err, errlen);
}

void kiln_config_resolve(kiln_config *c)
{
    if (isnan(c->learning_rate)) {
        if (!strcmp(c->optimizer, "sgd")) c->learning_rate = 0.01;
        else c->learning_rate = 0.001;
    }
    if (isnan(c->momentum)) c->momentum = 0.0;
    if (isnan(c->rho)) c->rho = !strcmp(c->optimizer, "adadelta") ? 0.95 : 0.9;
}

/* The input shape a config's model is checked against (0 = MNIST's). */
static void input_shape(const kiln_config *c, int *h, int *w, int *ch)
{
    const int given = c->in_h > 0 && c->in_w > 0;
    *h = given ? c->in_h : 28;
    *w = given ? c->in_w : 28;
    *ch = given && c->in_c > 0 ? c->in_c : 1;
}

int kiln_config_validate(const kiln_config *c0, char *err, size_t errlen)
{
    kiln_config c = *c0;
    kiln_config_resolve(&c);
    /* every key within its table range: text input is checked as it is set,
     * this covers configs filled in by code */
    for (int i = 0; i < NKEYS; i++) {
        const key *k = &KEYS[i];
        const char *p = (const char *)&c + k->off;
        char acc[160];
        accepted_text(k, acc, sizeof acc);
        switch (k->type) {
        case K_INT: {
            int v = *(const int *)p;
            if (v < k->lo || v > k->hi)
                return kiln_fail(err, errlen, "key '%s': %d is not accepted; accepted values: %s", k->name, v, acc);
            break;
        }
        case K_BOOL: {
            int v = *(const int *)p;
            if (v != 0 && v != 1)
                return kiln_fail(err, errlen, "key '%s': %d is not accepted; accepted values: %s", k->name, v, acc);
            break;
        }
        case K_FLOAT: {
            double v = *(const double *)p;
            if (!isfinite(v) || v < k->lo || v > k->hi)
                return kiln_fail(err, errlen, "key '%s': %g is not accepted; accepted values: %s", k->name, v, acc);
            break;
        }
        case K_NAME:
            if (!memchr(p, 0, KILN_NAME_MAX) || !word_in(p, k->names))
                return kiln_fail(err, errlen, "key '%s': '%.*s' is not accepted; accepted values: %s", k->name,
                                 KILN_NAME_MAX - 1, p, k->names);
            break;
        case K_TEXT:
            if (!memchr(p, 0, k->off == O(model) || k->off == O(checkpoint) ? KILN_SPEC_MAX : KILN_NAME_MAX))
                return kiln_fail(err, errlen, "key '%s': the text is not terminated within its size", k->name);
            break;
        case K_U64: break;
        }
    }
    char e2[256];
    int h, w, ch;
    input_shape(&c, &h, &w, &ch);
    if (kiln_model_check(c.model, h, w, ch, c.batch_size, e2, sizeof e2))
        return kiln_fail(err, errlen, "key 'model': %s (for %dx%dx%d images)", e2, h, w, ch);
    /* a schedule's own key set explicitly while another schedule is chosen:
     * the value would be silently ignored */
    for (int i = 0; i < NKEYS; i++) {
        const key *k = &KEYS[i];
        if (!(c.set_mask[i / 64] >> (i % 64) & 1) || !k->when) continue;
        if (!strncmp(k->when, "sched=", 6) && !word_in(c.schedule, k->when + 6))
            return kiln_fail(err, errlen, "key '%s': applies only with schedule=%s, but schedule is '%s'; set a matching schedule or drop the key",
                             k->name, k->when + 6, c.schedule);
        if (!strcmp(k->when, "es") && !c.early_stopping)
            return kiln_fail(err, errlen, "key '%s': applies only with early_stopping=true; set early_stopping=true or drop the key", k->name);
    }
    const int cyclic = word_in(c.schedule, CYCLIC + 6);
    if ((cyclic || !strcmp(c.schedule, "one_cycle")) && key_set(&c, "learning_rate"))
        return kiln_fail(err, errlen, "key 'learning_rate': not used with schedule=%s, which runs %s; drop learning_rate and set %s",
                         c.schedule, cyclic ? "between base_lr and max_lr" : "from max_lr/div_factor up to max_lr",
                         cyclic ? "base_lr and max_lr" : "max_lr");
    if (cyclic) {
        if (c.max_lr < c.base_lr)
            return kiln_fail(err, errlen, "key 'max_lr': %g is below base_lr %g; a cycle needs base_lr <= max_lr", c.max_lr, c.base_lr);
        if (!(c.step_size > 0))
            return kiln_fail(err, errlen, "key 'step_size': %g is not accepted; accepted values: a number > 0 (%s per half cycle)",
                             c.step_size, !strcmp(c.step_unit, "epochs") ? "epochs" : "iterations");
        if (!strcmp(c.schedule, "exp_range") && !(c.gamma > 0 && c.gamma <= 1))
            return kiln_fail(err, errlen, "key 'gamma': %g is not accepted; accepted values: a number in (0, 1]", c.gamma);
    }
    if (!strcmp(c.schedule, "step")) {
        if (!(c.sched_every >= 1))
            return kiln_fail(err, errlen, "key 'step_every': %g is not accepted; accepted values: a number >= 1 (epochs)", c.sched_every);
        if (!(c.sched_drop >= 0 && c.sched_drop <= 1))
            return kiln_fail(err, errlen, "key 'step_drop': %g is not accepted; accepted values: a number in 0..1", c.sched_drop);
    }
    if (!strcmp(c.schedule, "time")) {
        /* lr *= 1/(1 + d*epoch) for epochs 0..epochs-1: every factor must be
         * positive, or the rate turns negative (or infinite) */
        if (!isfinite(c.sched_decay) || 1.0 + c.sched_decay * (c.epochs - 1) <= 0.0)
            return kiln_fail(err, errlen, "key 'time_decay': %g makes 1 + time_decay*epoch <= 0 within %d epochs; accepted values: a number > %.9g",
                             c.sched_decay, c.epochs, c.epochs > 1 ? -1.0 / (c.epochs - 1) : -BIG);
    }
    if (!strcmp(c.schedule, "one_cycle")) {
        if (!(c.max_lr > 0))
            return kiln_fail(err, errlen, "key 'max_lr': %g is not accepted; one_cycle needs max_lr > 0", c.max_lr);
        if (!(c.pct_start >= 0 && c.pct_start <= 1))
            return kiln_fail(err, errlen, "key 'pct_start': %g is not accepted; accepted values: a number in 0..1", c.pct_start);
        if (!(c.div_factor >= 1) || !(c.final_div_factor >= 1))
            return kiln_fail(err, errlen, "key '%s': is not accepted; accepted values: a number >= 1",
                             !(c.div_factor >= 1) ? "div_factor" : "final_div_factor");
        if (c.cycle_momentum) {
            const int betas = word_in(c.optimizer, "adam adamax");
            if (!betas && !word_in(c.optimizer, "sgd rmsprop"))
                return kiln_fail(err, errlen, "key 'cycle_momentum': optimizer %s has no momentum or beta1 to cycle; accepted: cycle_momentum=false, or optimizer sgd rmsprop adam adamax",
                                 c.optimizer);
            const char *fixed = betas ? "beta1" : "momentum";
            if (key_set(&c, fixed))
                return kiln_fail(err, errlen, "key '%s': one_cycle cycles it between base_momentum and max_momentum; drop %s, or set cycle_momentum=false to keep it fixed",
                                 fixed, fixed);
        }
    }
    if (!strcmp(c.schedule, "plateau")) {
        if (!(c.factor >= 0 && c.factor < 1))
            return kiln_fail(err, errlen, "key 'factor': %g is not accepted; accepted values: a number in [0, 1) (the rate is multiplied by it)", c.factor);
        if (c.min_lr > c.learning_rate)
            return kiln_fail(err, errlen, "key 'min_lr': %g is above learning_rate %g, so the rate could never be reduced; accepted values: 0..learning_rate",
                             c.min_lr, c.learning_rate);
        if (!(c.patience >= 0) || !(c.cooldown >= 0) || !(c.min_delta >= 0))
            return kiln_fail(err, errlen, "key '%s': must be >= 0",
                             !(c.patience >= 0) ? "patience" : !(c.cooldown >= 0) ? "cooldown" : "min_delta");
        if (!strncmp(c.monitor, "val_", 4) && c.validation_split <= 0)
            return kiln_fail(err, errlen, "key 'monitor': %s needs validation data, but validation_split is 0; set validation_split > 0 or monitor=loss or monitor=accuracy",
                             c.monitor);
    }
    if (c.early_stopping) {
        if (c.es_patience < 0)
            return kiln_fail(err, errlen, "key 'es_patience': %d is not accepted; accepted values: an integer >= 0", c.es_patience);
        if (!word_in(c.es_mode, "auto min max"))
            return kiln_fail(err, errlen, "key 'es_mode': '%s' is not accepted; accepted values: auto min max", c.es_mode);
        if (!strncmp(c.es_monitor, "val_", 4) && c.validation_split <= 0)
            return kiln_fail(err, errlen, "key 'es_monitor': %s needs validation data, but validation_split is 0; set validation_split > 0 or es_monitor=loss or es_monitor=accuracy",
                             c.es_monitor);
    }
    if (c.checkpoint[0] && c.checkpoint_best_only && c.validation_split <= 0)
        return kiln_fail(err, errlen, "key 'checkpoint_best_only': needs val_loss, but validation_split is 0; set validation_split > 0 or checkpoint_best_only=false");
    return 0;
}

static int relevant(const key *k, const kiln_config *c)
{
    if (!k->when) return 1;
    if (!strcmp(k->when, "-")) return 0;
    if (!strcmp(k->when, "es")) return c->early_stopping;
    if (!strncmp(k->when, "opt=", 4)) return word_in(c->optimizer, k->when + 4);
    if (!strncmp(k->when, "sched=", 6)) return word_in(c->schedule, k->when + 6);
    return 1;
}

int kiln_config_key_applies(const kiln_config *c0, const char *name)
{
    const key *k = find_key(name, NULL);
    if (!k) return 0;
    kiln_config c = *c0;
    kiln_config_resolve(&c);
    return relevant(k, &c);
}

int kiln_config_reset_key(kiln_config *c, const char *name)
{
    int i;
    const key *k = find_key(name, &i);
    if (!k) return 1;
    kiln_config d;
    kiln_config_init(&d);
    size_t size = 0;
    switch (k->type) {
    case K_INT: case K_BOOL: size = sizeof(int); break;
    case K_FLOAT: size = sizeof(double); break;
    case K_U64: size = sizeof(uint64_t); break;
    case K_NAME: size = KILN_NAME_MAX; break;
    case K_TEXT: size = k->off == O(model) || k->off == O(checkpoint) ? KILN_SPEC_MAX : KILN_NAME_MAX; break;
    }
    memcpy((char *)c + k->off, (const char *)&d + k->off, size);
    c->set_mask[i / 64] &= ~(1ull << (i % 64));
    return 0;
}

/* Rebuild a spec from a parsed model: one spelling per network. */
static void canonical_model(const kiln_config *c, const char *spec, char *out, size_t cap)
{
    kiln_model m;
    char e[256];
    int h, w, ch;
    input_shape(c, &h, &w, &ch);
    if (kiln_model_shape(&m, spec, h, w, ch, e, sizeof e)) { snprintf(out, cap, "%s", spec); return; }
    out[0] = 0;
    for (int l = 0; l < m.n_layers; l++) {
        const kiln_layer *L = &m.layers[l];
        char one[64] = "";
        switch (L->kind) {
        case KILN_CONV: snprintf(one, sizeof one, "conv:%dx%d", L->out_c, L->k); break;
        case KILN_POOL: snprintf(one, sizeof one, "pool:2"); break;
        case KILN_DROP: snprintf(one, sizeof one, "drop:%.9g", (double)L->p); break;
        case KILN_RELU: snprintf(one, sizeof one, "relu"); break;
        /* kept: a dense layer flattens anyway, but flatten is a layer of its
         * own, so it shifts the later layers' indices, which key their
         * initial weights and dropout streams; with and without it are two
         * networks (the spelling before dropped it and gave both one key) */
        case KILN_FLATTEN: snprintf(one, sizeof one, "flatten"); break;
        case KILN_DENSE: snprintf(one, sizeof one, "dense:%d", L->out_c); break;
        }
        if (out[0]) strncat(out, ",", cap - strlen(out) - 1);
        strncat(out, one, cap - strlen(out) - 1);
    }
}

char *kiln_config_canonical(const kiln_config *c0)
{
    kiln_config c = *c0;
    kiln_config_resolve(&c);
    size_t cap = 4096, len = 0;
    char *s = kiln_xmalloc(cap);
    s[0] = 0;
    for (int i = 0; i < NKEYS; i++) {
        const key *k = &KEYS[i];
        if (!relevant(k, &c)) continue;
        const char *p = (const char *)&c + k->off;
        char val[KILN_SPEC_MAX * 2];
        switch (k->type) {
        case K_INT: case K_BOOL: snprintf(val, sizeof val, "%d", *(const int *)p); break;
        case K_U64: snprintf(val, sizeof val, "%llu", (unsigned long long)*(const uint64_t *)p); break;
        case K_FLOAT: snprintf(val, sizeof val, "%.17g", *(const double *)p); break;
        case K_NAME: snprintf(val, sizeof val, "%s", p); break;
        case K_TEXT:
            if (k->off == O(model)) canonical_model(&c, p, val, sizeof val);
            else snprintf(val, sizeof val, "%s", p);
            break;
        }
        size_t need = strlen(k->name) + strlen(val) + 3;
        if (len + need >= cap) { cap = (cap + need) * 2; s = kiln_xrealloc(s, cap); }
        len += (size_t)sprintf(s + len, "%s=%s\n", k->name, val);
    }
    return s;
}
