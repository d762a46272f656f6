/* kiln trainer library: a small CNN trainer for MNIST-sized images, in the
 * style of llm.c — one forward and one backward function per layer over raw
 * float buffers, one parameter buffer and one gradient buffer per model,
 * optimizers and schedules as small pure functions.
 *
 * Deterministic: every random draw comes from a counter-based generator keyed
 * by (seed, purpose, a, b); every reduction runs in a fixed order, so a run is
 * bit-identical for any thread count.
 *
 * Errors: functions that can fail take `char *err, size_t errlen` and return
 * non-zero after writing a one-line message that names what was wrong and,
 * where there is a choice, the accepted values. */
#ifndef KILN_TRAIN_H
#define KILN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Counter-based random numbers                                               */
/* ------------------------------------------------------------------------ */

enum kiln_rng_purpose {
    KILN_RNG_INIT = 1,     /* a = parameter tensor index, b = element index */
    KILN_RNG_SHUFFLE = 2,  /* a = epoch, b = position */
    KILN_RNG_DROPOUT = 3,  /* a = global step * KILN_MAX_LAYERS (32) + layer, b = element pair */
    KILN_RNG_SUBSET = 4,   /* a = 0, b = position (train_limit sampling) */
};
/* 64 random bits, a pure function of its four arguments. */
uint64_t kiln_rng(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b);
/* Uniform float in [0, 1) with 24 random bits. */
float kiln_rng_uniform(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b);

/* ------------------------------------------------------------------------ */
/* Data: IDX files (MNIST and friends), images kept as uint8                  */
/* ------------------------------------------------------------------------ */

typedef struct kiln_dataset {
    int n;              /* number of examples */
    int rows, cols;     /* image size */
    int channels;       /* 1 (grey) or more, channels last; 0 is taken as 1 */
    uint8_t *images;    /* n * rows * cols * channels, row-major (NHWC), 0..255 */
    uint8_t *labels;    /* n, 0..9 */
    int owns;           /* free images/labels in kiln_dataset_free */
} kiln_dataset;

/* Read one IDX image file and its label file (plain or .gz, decided by the
 * gzip magic). Images: N x ROWS x COLS or N x ROWS x COLS x CHANNELS, any
 * size up to 4096 x 4096 x 64. Checks magic numbers, dimensions, counts,
 * file sizes, and label range. */
int kiln_idx_load(const char *images_path, const char *labels_path,
                  kiln_dataset *out, char *err, size_t errlen);
/* Load train-* and t10k-* from a folder (each file plain or with .gz). */
int kiln_mnist_load(const char *dir, kiln_dataset *train, kiln_dataset *test,
                    char *err, size_t errlen);
void kiln_dataset_free(kiln_dataset *d);
/* SHA-256 over the four files' bytes as loaded (labels and images of train and
 * test), hex, 64 chars + NUL. Identifies the data in cache keys. */
void kiln_dataset_digest(const kiln_dataset *train, const kiln_dataset *test,
                         char out[65]);

/* ------------------------------------------------------------------------ */
/* Configuration: every key `kiln train` and the directives accept           */
/* ------------------------------------------------------------------------ */

#define KILN_NAME_MAX 32
#define KILN_SPEC_MAX 256

typedef struct kiln_config {
    /* model and data */
    char model[KILN_SPEC_MAX];  /* spec string, or "seed" for the article's network */
    /* the input shape the model is checked against (kiln_config_validate,
     * kiln_config_canonical): rows, columns, channels of the images; 0 =
     * 28x28x1 (MNIST, Fashion-MNIST). Not a key: kiln_train sets it from
     * the data, and so may a caller that knows its data. */
    int in_h, in_w, in_c;
    int epochs;
    int batch_size;
    double validation_split;
    int shuffle;                /* 0/1 */
    uint64_t seed;
    int threads;                /* 0 = all cores (not part of the result) */
    int train_limit;            /* 0 = all; else the first N training examples */
    int test_limit;             /* 0 = all; else the first N test examples */
    int stop_on_nan;            /* TerminateOnNaN */
    /* optimizer */
    char optimizer[KILN_NAME_MAX]; /* sgd adam adamax adadelta rmsprop adagrad */
    double learning_rate;
    double momentum;            /* sgd, rmsprop */
    int nesterov;               /* sgd */
    double beta1, beta2;        /* adam, adamax */
    double epsilon;
    double rho;                 /* adadelta, rmsprop */
    double initial_accumulator; /* adagrad */
    double decay;               /* Keras legacy per-iteration decay */
    /* schedule (filled in by the schedules module) */
    char schedule[KILN_NAME_MAX];
    double sched_drop, sched_every, sched_k, sched_decay, sched_amount;
    double base_lr, max_lr, step_size, gamma;
    char step_unit[KILN_NAME_MAX];
    double pct_start, div_factor, final_div_factor;
    int cycle_momentum;         /* one_cycle: also cycle beta1/momentum (PyTorch's default) */
    double base_momentum, max_momentum;
    char monitor[KILN_NAME_MAX];
    double factor, min_lr, min_delta, patience, cooldown;
    /* early stopping */
    int early_stopping;
    char es_monitor[KILN_NAME_MAX];
    double es_min_delta;
    int es_patience;
    char es_mode[KILN_NAME_MAX];
    int es_restore_best;
    /* checkpointing */
    char checkpoint[KILN_SPEC_MAX];  /* path, empty = off */
    int checkpoint_best_only;
    /* which keys were set explicitly (bit i = key i of the key table) */
    uint64_t set_mask[2];
} kiln_config;

/* Fill with the defaults (the article's baseline: Adam, lr 0.001, 25 epochs,
 * batch 250, validation_split 0.2, seed 1). */
void kiln_config_init(kiln_config *c);
/* Set one key from its text value. Errors name the key and accepted values. */
int kiln_config_set(kiln_config *c, const char *key, const char *value,
                    char *err, size_t errlen);
/* Parse "key=value". */
int kiln_config_set_kv(kiln_config *c, const char *kv, char *err, size_t errlen);
/* Whole-config checks (contradictions between keys). Call before training. */
int kiln_config_validate(const kiln_config *c, char *err, size_t errlen);
/* The optimizer default learning rate etc. are resolved here: fills in
 * values the user left at "default" according to the chosen optimizer. */
void kiln_config_resolve(kiln_config *c);
/* Canonical text of the result-affecting settings: one "key=value\n" per key
 * in key-table order, numbers in a fixed spelling ("%.17g" round-trip),
 * keys that do not matter for the chosen optimizer/schedule left out, and
 * `threads` never included. Equal configs give equal text. Caller frees. */
char *kiln_config_canonical(const kiln_config *c);

/* The key table, for documentation and for callers that list keys. */
typedef struct kiln_key_info {
    const char *name;
    const char *type;     /* "int", "float", "bool", "name", "text" */
    const char *accepted; /* human text: range or list of names */
    const char *help;
    /* when the key takes part in training: "" always; "opt=NAMES" with one
     * of those optimizers; "sched=NAMES" with one of those schedules; "es"
     * with early_stopping on; "-" never (threads, checkpointing: not part
     * of the result) */
    const char *scope;
} kiln_key_info;
/* The table, in key order; built once, safe to call from any thread. */
const kiln_key_info *kiln_config_keys(int *count);
/* Whether key `name` takes part in training with config c (its scope
 * holds for c's optimizer, schedule and early stopping); 0 for unknown keys
 * and for the "-" keys. The same rule leaves keys out of the canonical text. */
int kiln_config_key_applies(const kiln_config *c, const char *name);
/* Put key `name` back to its default and mark it as not set; non-zero for
 * an unknown key. */
int kiln_config_reset_key(kiln_config *c, const char *name);

/* ------------------------------------------------------------------------ */
/* Model                                                                      */
/* ------------------------------------------------------------------------ */

/* The article's network as a spec string. Layers are comma-separated:
 *   conv:OUTxK   valid 2-D convolution, stride 1, K x K kernel
 *   pool:2       2x2 max pooling, stride 2
 *   drop:P       inverted dropout with drop probability P
 *   relu         ReLU
 *   flatten      (optional) flatten to a vector
 *   dense:N      fully connected
 * The last layer must give 10 outputs; softmax + cross-entropy follows it. */
#define KILN_SEED_SPEC \
    "conv:32x3,relu,pool:2,drop:0.25,conv:64x3,relu,pool:2,drop:0.25,flatten,dense:256,relu,dense:10"

enum kiln_layer_kind {
    KILN_CONV, KILN_POOL, KILN_DROP, KILN_RELU, KILN_FLATTEN, KILN_DENSE
};

typedef struct kiln_layer {
    enum kiln_layer_kind kind;
    int in_c, in_h, in_w;    /* input shape, channels-last (NHWC) */
    int out_c, out_h, out_w; /* output shape */
    int k;                   /* conv kernel size, pool size */
    float p;                 /* dropout rate */
    size_t w_off, b_off;     /* offsets into the parameter buffer */
    size_t n_w, n_b;
    size_t act_off;          /* offset of this layer's output in activations */
    int index;               /* position in the spec */
} kiln_layer;

#define KILN_MAX_LAYERS 32

typedef struct kiln_model {
    int n_layers;
    kiln_layer layers[KILN_MAX_LAYERS];
    int in_c, in_h, in_w, n_classes;
    size_t n_params;
    size_t n_acts;           /* activations per image, over all layers */
    float *params;           /* one buffer */
    float *grads;            /* one buffer, same layout */
} kiln_model;

/* Parse and shape-check a spec for the given input. Errors name the layer
 * (position and text). Allocates params/grads (zeroed); a model of more than
 * KILN_MAX_MODEL_PARAMS parameters is refused before anything is allocated. */
int kiln_model_build(kiln_model *m, const char *spec, int in_h, int in_w,
                     int in_c, char *err, size_t errlen);
/* The limits on what a model asks for: parameters (1.6 GB with their
 * gradients and Adam's moments) and activations per batch (floats, forward
 * and backward: 4 GB). */
#define KILN_MAX_MODEL_PARAMS 100000000
#define KILN_MAX_BATCH_ACTIVATIONS 500000000
/* kiln_model_build's checks plus the activations of a batch of `batch`
 * images, allocating nothing: 0, or 1 with the reason in err. */
int kiln_model_check(const char *spec, int in_h, int in_w, int in_c, int batch, char *err, size_t errlen);
void kiln_model_free(kiln_model *m);
/* glorot_uniform kernels, zero biases; draws keyed by (seed, INIT, layer, i). */
void kiln_model_init(kiln_model *m, uint64_t seed);

/* Weights file: magic "KILNWTS1", u32 version, u32 n_params, the spec string
 * (u32 length + bytes), the floats (little-endian), then a u64 FNV-1a-64 of
 * everything before it. Written to a temporary file and renamed. */
int kiln_weights_save(const kiln_model *m, const char *path, char *err, size_t errlen);
int kiln_weights_load(kiln_model *m, const char *path, char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Layers: forward/backward over raw buffers (NHWC), exposed for tests        */
/* ------------------------------------------------------------------------ */

/* out[B,OH,OW,OC] = conv(in[B,H,W,C], w[K,K,C,OC]) + b[OC]; OH = H-K+1. */
void kiln_conv2d_forward(float *out, const float *in, const float *w, const float *b,
                         int B, int H, int W, int C, int K, int OC);
/* dw, db are overwritten; din (may be NULL) is overwritten; in is the
 * forward pass's input. */
void kiln_conv2d_backward(float *din, float *dw, float *db, const float *in,
                          const float *dout, const float *w,
                          int B, int H, int W, int C, int K, int OC);
/* conv -> relu -> 2x2 max-pool [-> dropout] fused, one image at a time:
 * out[B,PH,PW,OC] (PH = (H-K+1)/2), argmax[B,PH,PW,OC] = offset of each
 * window's maximum within the image's conv output [OH,OW,OC], mask (NULL: no
 * dropout) as kiln_dropout_forward over out. The convolution is direct (the
 * same values as the four layers, bit for bit) or, where
 * kiln_conv_pool_winograd(C, K, OC), Winograd F(2x2, 3x3): each pool window
 * one tile, its own rounding, the same bits for any thread count and
 * instruction set. */
int kiln_conv_pool_winograd(int C, int K, int OC);
void kiln_conv_pool_forward(float *out, int32_t *argmax, float *mask, const float *in,
                            const float *w, const float *bias, int B, int H, int W, int C,
                            int K, int OC, float p, uint64_t seed, uint64_t stream);
/* Its backward up to the convolution: dy[B,OH,OW,OC] = (dout * mask) at each
 * window's maximum where out > 0, else 0. */
void kiln_conv_pool_backward_pool(float *dy, const float *dout, const float *out,
                                  const int32_t *argmax, const float *mask,
                                  int B, int OH, int OW, int OC);
/* Then the convolution's gradients from dy: din[B,H,W,C], dw[KKC,OC] and
 * db[OC], overwritten; the gradients of whichever convolution the forward
 * ran (direct: kiln_conv2d_backward's bits, without the rows the pool never
 * read). */
void kiln_conv_pool_backward_conv(float *din, float *dw, float *db, const float *in, const float *dy,
                                  const float *w, int B, int H, int W, int C, int K, int OC);
/* Both at once, straight from dout: the same bits as
 * kiln_conv_pool_backward_pool then kiln_conv_pool_backward_conv. Winograd
 * shapes never store dy; others go through a dy of their own. din (NULL:
 * none) must not overlap dout. */
void kiln_conv_pool_backward(float *din, float *dw, float *db, const float *dout, const float *out,
                             const int32_t *argmax, const float *mask, const float *in, const float *w,
                             int B, int H, int W, int C, int K, int OC);
/* The direct convolution's din alone (kiln_conv_pool_backward_conv's). */
void kiln_conv_pool_backward_input(float *din, const float *dy, const float *w,
                                   int B, int H, int W, int C, int K, int OC);
/* The block's dw[KKC,OC] and db[OC] straight from dout, when the block's
 * input gradient is not needed (the first layer): the same bits as
 * kiln_conv_pool_backward_pool then kiln_conv_pool_backward_conv(NULL, ...).
 * dy: room for B*OH*OW*OC floats, used only when the input is not all
 * finite (the long way); Winograd shapes go straight from dout. */
void kiln_conv_pool_backward_weights(float *dw, float *db, float *dy, const float *dout,
                                     const float *out, const int32_t *argmax, const float *mask,
                                     const float *in, int B, int H, int W, int C, int K, int OC);
/* out[B,H/2,W/2,C]; argmax[B*OH*OW*C] records the winning input's index
 * within its image (0 .. H*W*C-1), so it fits int32 for any batch. */
void kiln_maxpool_forward(float *out, int32_t *argmax, const float *in,
                          int B, int H, int W, int C);
void kiln_maxpool_backward(float *din, const float *dout, const int32_t *argmax,
                           int B, int H, int W, int C);
/* Backward of relu followed by maxpool, given the relu'd pool output. */
void kiln_maxpool_relu_backward(float *din, const float *dout, const float *out,
                                const int32_t *argmax, int B, int H, int W, int C);
void kiln_relu_forward(float *out, const float *in, size_t n);
void kiln_relu_backward(float *din, const float *dout, const float *out, size_t n);
/* mask holds 0 or 1/(1-p); generated from (seed, DROPOUT, stream, i). */
void kiln_dropout_forward(float *out, float *mask, const float *in, size_t n,
                          float p, uint64_t seed, uint64_t stream);
void kiln_dropout_backward(float *din, const float *dout, const float *mask, size_t n);
/* out[B,N] = in[B,D] w[D,N] + b[N] */
void kiln_dense_forward(float *out, const float *in, const float *w,
                        const float *b, int B, int D, int N);
/* dw[D,N], db[N] overwritten; din[B,D] overwritten when not NULL. */
void kiln_dense_backward(float *din, float *dw, float *db, const float *dout,
                         const float *in, const float *w, int B, int D, int N);
/* Softmax + categorical cross-entropy, fused. logits[B,N]; writes per-example
 * losses to loss[B] (may be NULL), correct[B] (argmax == label, may be NULL),
 * and dlogits = (softmax - onehot) * scale (may be NULL). */
void kiln_softmax_xent(float *dlogits, float *loss, uint8_t *correct,
                       const float *logits, const uint8_t *labels, int B, int N,
                       float scale);

/* Matrix product C[M,N] = A[M,K] * B[K,N] (+ C when accumulate), row-major
 * with leading dimensions; ta/tb: A or B is stored transposed. Each element
 * is one fused multiply-add chain over k in increasing order, so the result
 * does not depend on blocking or thread count. */
void kiln_sgemm(int ta, int tb, int M, int N, int K, const float *A, int lda,
                const float *B, int ldb, float *C, int ldc, int accumulate);

/* ------------------------------------------------------------------------ */
/* Optimizers: pure update rules over the flat parameter buffer (Keras)       */
/* ------------------------------------------------------------------------ */

typedef struct kiln_optimizer {
    char name[KILN_NAME_MAX];
    double lr_default;
    double momentum, beta1, beta2, epsilon, rho, initial_accumulator;
    int nesterov;
    long t;          /* steps taken */
    size_t n;
    float *s1, *s2;  /* state: momentum/m/accumulators; NULL when unused */
} kiln_optimizer;

int kiln_optimizer_init(kiln_optimizer *o, const kiln_config *c, size_t n,
                        char *err, size_t errlen);
void kiln_optimizer_free(kiln_optimizer *o);
/* Set the momentum term for the coming steps: beta1 of adam and adamax, the
 * momentum of sgd and rmsprop (a one-cycle schedule cycles it). */
void kiln_optimizer_set_momentum(kiln_optimizer *o, double momentum);
/* One step with learning rate lr: w -= update(g). */
void kiln_optimizer_step(kiln_optimizer *o, float *w, const float *g, double lr);

/* ------------------------------------------------------------------------ */
/* Schedules: the learning rate for each step                                 */
/* ------------------------------------------------------------------------ */

typedef struct kiln_sched_state {
    double lr;            /* the rate in force (cumulative schedules update it) */
    double lr0;           /* the configured initial rate */
    double best;          /* plateau: best monitored value */
    int wait, cooldown;   /* plateau counters */
    long total_steps;     /* epochs * steps_per_epoch, for one-cycle */
    int steps_per_epoch;
} kiln_sched_state;

typedef struct kiln_sched_point {
    int epoch;            /* from 0 */
    int step;             /* step within the epoch, from 0 */
    long global_step;     /* from 0 */
    double last_loss;     /* loss of the previous batch (NaN before the first) */
} kiln_sched_point;

void kiln_sched_init(kiln_sched_state *s, const kiln_config *c,
                     int steps_per_epoch);
/* The rate for the coming step. */
double kiln_sched_lr(kiln_sched_state *s, const kiln_config *c,
                     const kiln_sched_point *p);
/* Whether the schedule cycles the optimizer's momentum term (one_cycle with
 * cycle_momentum, PyTorch OneCycleLR's default), and its value for the
 * coming step: from max_momentum down to base_momentum while the rate
 * climbs, back up while it falls, the same cosine as the rate. */
int kiln_sched_cycles_momentum(const kiln_config *c);
double kiln_sched_momentum(const kiln_sched_state *s, const kiln_config *c,
                           const kiln_sched_point *p);
/* Called at the end of each epoch with that epoch's logs (for plateau). */
void kiln_sched_epoch_end(kiln_sched_state *s, const kiln_config *c, int epoch,
                          double loss, double val_loss, double acc, double val_acc);

/* ------------------------------------------------------------------------ */
/* Training                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct kiln_epoch_log {
    double loss, accuracy, val_loss, val_accuracy, lr, seconds;
} kiln_epoch_log;

typedef struct kiln_step_log {
    float loss, lr;
} kiln_step_log;

typedef struct kiln_history {
    int n_epochs, cap_epochs;
    kiln_epoch_log *epochs;
    long n_steps, cap_steps;
    kiln_step_log *steps;
    double test_loss, test_accuracy;
    int n_train, n_val, n_test;
    int diverged;               /* a NaN/inf loss was seen */
    int diverged_step;          /* first global step with a non-finite loss, -1 */
    char stopped_by[KILN_NAME_MAX]; /* "" (ran all epochs), "early_stopping", "terminate_on_nan", "max_steps" */
    int stopped_epoch;          /* epoch (from 0) after which it stopped, -1 */
    int best_epoch;             /* early stopping: the epoch restored, -1 */
    double seconds;             /* wall time of the whole run */
} kiln_history;

void kiln_history_free(kiln_history *h);
/* JSON text of the history (caller frees). */
char *kiln_history_to_json(const kiln_history *h);
/* Parse what kiln_history_to_json wrote. */
int kiln_history_from_json(kiln_history *h, const char *json, char *err, size_t errlen);
/* The same as jansson objects (new reference / borrowed), for callers that
 * embed a history in a larger JSON document. */
struct json_t;
struct json_t *kiln_history_json(const kiln_history *h);
int kiln_history_from_jansson(kiln_history *h, const struct json_t *root, char *err, size_t errlen);

/* Progress: on_epoch after each epoch, on_step after each training step
 * (either may be NULL). Both are called from the thread that called
 * kiln_train / kiln_lrfind, outside any parallel region, so on_step may
 * change that thread's OpenMP thread count for the steps that follow (the
 * results do not depend on it). max_steps > 0 stops training after that
 * many steps: the history then holds exactly those steps (stopped_by
 * "max_steps"), without the validation of the epoch it stopped in and
 * without the test evaluation (NaN); a range test stops likewise (its
 * planned length, so its rates, unchanged). For comparing a trainer's first
 * steps with a stored history (kiln diff --quick). */
typedef struct kiln_progress {
    void (*on_epoch)(void *ud, int epoch, int epochs, const kiln_epoch_log *e);
    void (*on_step)(void *ud, int epoch, int step, int steps, double loss);
    void *ud;
    long max_steps;
} kiln_progress;

/* Train one experiment end to end: model from c->model, init, fit with
 * validation split, evaluate on test. The model is returned trained (pass
 * NULL to discard). */
int kiln_train(const kiln_config *c, const kiln_dataset *train,
               const kiln_dataset *test, kiln_history *h, kiln_model *out_model,
               const kiln_progress *progress, char *err, size_t errlen);

/* Evaluate a model: mean loss and accuracy over examples [0, n) of d. */
void kiln_evaluate(kiln_model *m, const kiln_dataset *d, int first, int n,
                   int threads, double *loss, double *accuracy);

/* The trainer's fingerprint: hash of its source (comments stripped) and of
 * kiln_trainer_build(); changes whenever the training code, or what it
 * compiles to, changes. */
const char *kiln_trainer_fingerprint(void);
/* What the build resolved to, as hashed into the fingerprint: "COMPILER
 * VERSION; glibc X.Y; isa __AVX512F__=1 ...; flags ...", the isa part
 * listing each instruction-set macro the trainer's code tests and whether
 * this build defines it. */
const char *kiln_trainer_build(void);
const char *kiln_version(void);

/* ------------------------------------------------------------------------ */
/* Learning-rate range test (Smith 2017; keras_lr_finder, fastai lr_find)     */
/* ------------------------------------------------------------------------ */

typedef struct kiln_lrfind_opts {
    double start_lr;     /* first rate (default 1e-7) */
    double end_lr;       /* the rate the sweep would reach after its last step (default 10) */
    int epochs;          /* length in epochs of the training split (default 1) ... */
    long steps;          /* ... or in batches when > 0 (then epochs is ignored) */
    int sma;             /* window of the rate of change (default 20) */
    double beta;         /* smoothing of the loss (default 0.98) */
    double stop_factor;  /* stop when loss > stop_factor * best (default 4) */
} kiln_lrfind_opts;

typedef struct kiln_lrfind_result {
    long n;              /* points recorded (steps taken) */
    long planned;        /* steps the sweep was sized for */
    double *lr;          /* [n] rate of each step: start_lr * mult^i */
    double *loss;        /* [n] batch loss (dropout on, weights changing) */
    double *smoothed;    /* [n] fastai: debiased exponential moving average */
    double *derivative;  /* [n] (loss[i] - loss[i-sma]) / sma; NaN for i < sma */
    double start_lr, end_lr, lr_mult;
    int sma;
    int stopped_early;   /* the divergence rule fired */
    /* suggestions (NaN when the run was too short to tell) */
    double steepest_lr;  /* steepest descent of the smoothed loss vs log(lr) */
    double min_loss_lr;  /* lr at the minimum of the smoothed loss */
    double min_div10_lr; /* min_loss_lr / 10 (fastai 'minimum') */
    double base_lr, max_lr; /* cyclical bounds: max = min_loss_lr/10, base = max/4 */
    double seconds;      /* wall time */
} kiln_lrfind_result;

void kiln_lrfind_opts_init(kiln_lrfind_opts *o);
/* Whether the range test reads trainer key `name` (the network, the split,
 * batch_size, shuffle, seed, train_limit, threads, the optimizer and its
 * keys). The others (epochs, learning_rate, decay, the schedule's keys,
 * early stopping, ...) have no effect on it. */
int kiln_lrfind_uses_key(const char *name);
/* Run the range test on model m from its current weights (call
 * kiln_model_init(m, c->seed) first for the trainer's initial weights), on the
 * training split of c (validation_split, train_limit, batch_size, shuffle,
 * seed, optimizer and its keys; learning_rate, schedule and decay are not
 * used). One step per batch with lr_i = start_lr * (end_lr/start_lr)^(i/N);
 * stops after step i when i > 5 and the loss is NaN or above stop_factor
 * times the best loss so far. m->params are restored byte for byte before
 * returning. Deterministic for any thread count. */
int kiln_lrfind(const kiln_config *c, const kiln_dataset *train, kiln_model *m,
                const kiln_lrfind_opts *o, kiln_lrfind_result *r,
                const kiln_progress *progress, char *err, size_t errlen);
/* Recompute smoothed, derivative and the suggestions from r->lr/r->loss. */
void kiln_lrfind_analyse(kiln_lrfind_result *r, double beta);
void kiln_lrfind_free(kiln_lrfind_result *r);
/* JSON: {"lr":[...],"loss":[...],"smoothed":[...],"derivative":[...],
 * "suggestions":{...},"stopped_early":b,"steps":n,"seconds":s,...};
 * non-finite numbers as null. New reference / caller frees. */
struct json_t *kiln_lrfind_json(const kiln_lrfind_result *r);
char *kiln_lrfind_to_json(const kiln_lrfind_result *r);

#ifdef __cplusplus
}
#endif
#endif
