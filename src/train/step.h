/* Private: one training step over a batch (load, forward with dropout,
 * softmax cross-entropy, backward, optimizer update), shared by the range
 * test; the same sequence of calls as the trainer's inner loop. */
#ifndef KILN_TRAIN_STEP_H
#define KILN_TRAIN_STEP_H
#include "kiln/train.h"
#include "net.h"

typedef struct kiln_step_buf {
    float *dlogits;   /* [max_batch, classes] */
    uint8_t *labels;  /* [max_batch] labels in batch order */
} kiln_step_buf;

void kiln_step_buf_init(kiln_step_buf *b, const kiln_net *net);
void kiln_step_buf_free(kiln_step_buf *b);

/* Forward and loss of examples idx[0..nb) of d at global step `gstep`
 * (dropout stream); returns the batch's mean loss (per-example losses summed
 * in batch order, in double, then divided by nb), adds that sum to *loss_sum
 * and the number of correct predictions to *correct (either may be NULL), so
 * an epoch mean can be formed exactly as the trainer does. When `update` is
 * set, also runs backward and one optimizer step with rate lr; otherwise the
 * caller may do so from buf->dlogits. */
double kiln_train_step(kiln_net *net, kiln_optimizer *opt, kiln_step_buf *buf,
                       const kiln_dataset *d, const int *idx, int nb,
                       uint64_t seed, uint64_t gstep, double lr, int update,
                       double *loss_sum, long *correct);
/* Keras' validation split of the first n_all examples (train_limit applied):
 * the first floor(n_all * (1 - split)) train, the rest validate. */
int kiln_split_train(int n_all, double validation_split);
/* The order of the n training examples in `epoch`: identity, or a
 * Fisher-Yates shuffle with draws keyed by (seed, SHUFFLE, epoch, i). */
void kiln_epoch_order(int *perm, int n, int shuffle, uint64_t seed, int epoch);
#endif
