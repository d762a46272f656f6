/* Private: the network workspace — activations, pooling
 * indices, dropout masks and two gradient buffers — for batches of up to
 * max_batch examples. */
#ifndef KILN_TRAIN_NET_H
#define KILN_TRAIN_NET_H
#include "kiln/train.h"

typedef struct kiln_net {
    kiln_model *m;
    int max_batch;
    float *x;                          /* [B, H, W, C] input batch */
    float *out[KILN_MAX_LAYERS];       /* own output buffer, NULL = in place */
    float *in[KILN_MAX_LAYERS];        /* input of each layer in the last forward */
    int32_t *argmax[KILN_MAX_LAYERS];  /* pool: winning input index */
    float *mask[KILN_MAX_LAYERS];      /* dropout: 0 or 1/(1-p) */
    int dropped[KILN_MAX_LAYERS];      /* dropout applied in the last forward */
    int relu_after_pool[KILN_MAX_LAYERS]; /* relu at l is done by the pool at l+1 */
    int fused[KILN_MAX_LAYERS];        /* conv at l: layers l..l+fused[l]-1 (conv,
                                        * relu, pool[, drop]) run as one; 0 = not */
    int in_group[KILN_MAX_LAYERS];     /* relu/pool/drop run by the conv before it */
    float *g0, *g1;                    /* gradient ping-pong buffers */
    const float *logits;
    float *loss;                       /* [B] per-example loss */
    uint8_t *correct;                  /* [B] */
} kiln_net;

void kiln_net_init(kiln_net *n, kiln_model *m, int max_batch);
void kiln_net_free(kiln_net *n);
void kiln_net_load_batch(kiln_net *n, const kiln_dataset *d, const int *idx, int B);
/* Forward over the loaded batch; dropout on when train (stream from step). */
const float *kiln_net_forward(kiln_net *n, int B, int train, uint64_t seed, uint64_t step);
/* Backward from dlogits [B, classes]; fills m->grads. */
void kiln_net_backward(kiln_net *n, const float *dlogits, int B);
#endif
