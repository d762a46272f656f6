/* The network's forward and backward passes over a batch: runs the layer
 * functions in spec order over a workspace sized for the largest batch. */
#include "kiln/train.h"
#include "internal.h"
#include "net.h"

#include <stdlib.h>
#include <string.h>

static size_t out_size(const kiln_layer *L) { return (size_t)L->out_c * L->out_h * L->out_w; }
static size_t in_size(const kiln_layer *L) { return (size_t)L->in_c * L->in_h * L->in_w; }

/* Layers that work in place (relu, dropout, flatten) share their input's
 * buffer; conv, pool and dense get their own. */
void kiln_net_init(kiln_net *n, kiln_model *m, int max_batch)
{
    memset(n, 0, sizeof *n);
    n->m = m;
    n->max_batch = max_batch;
    const size_t B = (size_t)max_batch;
    size_t in_elems = (size_t)m->in_c * m->in_h * m->in_w;
    n->x = kiln_aligned_alloc(sizeof(float) * B * in_elems);
    size_t max_elems = in_elems;
    for (int l = 0; l < m->n_layers; l++) {
        const kiln_layer *L = &m->layers[l];
        size_t osz = out_size(L);
        if (osz > max_elems) max_elems = osz;
        switch (L->kind) {
        case KILN_CONV:
            n->out[l] = kiln_aligned_alloc(sizeof(float) * B * osz);
            break;
        case KILN_POOL:
            n->out[l] = kiln_aligned_alloc(sizeof(float) * B * osz);
            n->argmax[l] = kiln_aligned_alloc(sizeof(int32_t) * B * osz);
            break;
        case KILN_DENSE:
            n->out[l] = kiln_aligned_alloc(sizeof(float) * B * osz);
            break;
        case KILN_DROP:
            n->mask[l] = kiln_aligned_alloc(sizeof(float) * B * osz);
            /* fall through */
        case KILN_RELU:
        case KILN_FLATTEN:
            n->out[l] = NULL; /* in place */
            break;
        }
    }
    /* relu directly followed by a pool runs after the pool, on a quarter of
     * the data (the results are identical; see kiln_maxpool_relu_backward) */
    for (int l = 0; l + 1 < m->n_layers; l++)
        n->relu_after_pool[l] = m->layers[l].kind == KILN_RELU && m->layers[l + 1].kind == KILN_POOL;
    /* conv, relu, pool[, drop] run as one block (kiln_conv_pool_forward): the
     * convolution's full-size output is never stored */
    for (int l = 0; l + 2 < m->n_layers; l++) {
        if (m->layers[l].kind != KILN_CONV || m->layers[l + 1].kind != KILN_RELU ||
            m->layers[l + 2].kind != KILN_POOL)
            continue;
        n->fused[l] = l + 3 < m->n_layers && m->layers[l + 3].kind == KILN_DROP ? 4 : 3;
        for (int j = l + 1; j < l + n->fused[l]; j++) n->in_group[j] = 1;
        free(n->out[l]);
        n->out[l] = NULL; /* the block's output is the pool's buffer */
        l += n->fused[l] - 1;
    }
    n->g0 = kiln_aligned_alloc(sizeof(float) * B * max_elems);
    n->g1 = kiln_aligned_alloc(sizeof(float) * B * max_elems);
    n->loss = kiln_xcalloc(B, sizeof(float));
    n->correct = kiln_xcalloc(B, 1);
}

void kiln_net_free(kiln_net *n)
{
    free(n->x);
    for (int l = 0; l < KILN_MAX_LAYERS; l++) {
        free(n->out[l]);
        free(n->argmax[l]);
        free(n->mask[l]);
    }
    free(n->g0);
    free(n->g1);
    free(n->loss);
    free(n->correct);
    memset(n, 0, sizeof *n);
}

/* x[b, i] = images[idx[b], i] / 255, i over rows x cols x channels */
void kiln_net_load_batch(kiln_net *n, const kiln_dataset *d, const int *idx, int B)
{
    const size_t px = (size_t)d->rows * d->cols * (size_t)(d->channels > 0 ? d->channels : 1);
    float *x = n->x;
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        const uint8_t *src = d->images + (size_t)idx[b] * px;
        float *dst = x + (size_t)b * px;
        for (size_t i = 0; i < px; i++) dst[i] = (float)src[i] * (1.0f / 255.0f);
    }
}

const float *kiln_net_forward(kiln_net *n, int B, int train, uint64_t seed, uint64_t step)
{
    kiln_model *m = n->m;
    float *cur = n->x;
    for (int l = 0; l < m->n_layers; l++) {
        const kiln_layer *L = &m->layers[l];
        const float *w = m->params + L->w_off, *b = m->params + L->b_off;
        if (n->in_group[l]) continue; /* run by its block's conv */
        if (n->fused[l]) {
            const int last = l + n->fused[l] - 1, pool = l + 2;
            const kiln_layer *D = &m->layers[last];
            const int drop = D->kind == KILN_DROP && train && D->p > 0.0f;
            kiln_conv_pool_forward(n->out[pool], n->argmax[pool], drop ? n->mask[last] : NULL, cur, w, b, B,
                                   L->in_h, L->in_w, L->in_c, L->k, L->out_c, D->p, seed,
                                   step * KILN_MAX_LAYERS + (uint64_t)last);
            for (int j = l; j <= last; j++) {
                n->in[j] = j == l ? cur : n->out[pool];
                n->dropped[j] = j == last && drop;
            }
            cur = n->out[pool];
            l = last;
            continue;
        }
        float *out = n->out[l] ? n->out[l] : cur;
        switch (L->kind) {
        case KILN_CONV:
            kiln_conv2d_forward(out, cur, w, b, B, L->in_h, L->in_w, L->in_c, L->k, L->out_c);
            break;
        case KILN_POOL:
            kiln_maxpool_forward(out, n->argmax[l], cur, B, L->in_h, L->in_w, L->in_c);
            if (l > 0 && n->relu_after_pool[l - 1]) kiln_relu_forward(out, out, (size_t)B * out_size(L));
            break;
        case KILN_RELU:
            if (!n->relu_after_pool[l]) kiln_relu_forward(out, cur, (size_t)B * out_size(L));
            break;
        case KILN_DROP:
            if (train && L->p > 0.0f)
                kiln_dropout_forward(out, n->mask[l], cur, (size_t)B * out_size(L), L->p, seed,
                                     step * KILN_MAX_LAYERS + (uint64_t)l);
            break;
        case KILN_FLATTEN:
            break;
        case KILN_DENSE:
            kiln_dense_forward(out, cur, w, b, B, (int)in_size(L), L->out_c);
            break;
        }
        n->in[l] = cur;
        n->dropped[l] = (L->kind == KILN_DROP && train && L->p > 0.0f);
        cur = out;
    }
    n->logits = cur;
    return cur;
}

void kiln_net_backward(kiln_net *n, const float *dlogits, int B)
{
    kiln_model *m = n->m;
    /* the gradient w.r.t. the current layer's output lives in g; layers that
     * need a separate input gradient write it into the other buffer */
    float *g = n->g0, *other = n->g1;
    memcpy(g, dlogits, sizeof(float) * (size_t)B * m->n_classes);
    for (int l = m->n_layers - 1; l >= 0; l--) {
        const kiln_layer *L = &m->layers[l];
        float *dw = m->grads + L->w_off, *db = m->grads + L->b_off;
        const float *w = m->params + L->w_off;
        const int need_din = l > 0;
        const float *out = n->out[l] ? n->out[l] : n->in[l];
        if (n->in_group[l]) continue; /* done with its block's conv */
        if (n->fused[l]) {
            /* g: gradient at the block's output; the conv's output gradient
             * goes to `other`, the block's input gradient back into g */
            const int last = l + n->fused[l] - 1, pool = l + 2;
            const float *mask = n->dropped[last] ? n->mask[last] : NULL;
            if (kiln_conv_pool_winograd(L->in_c, L->k, L->out_c)) {
                /* straight from g, no dy: the input gradient into `other` */
                kiln_conv_pool_backward(need_din ? other : NULL, dw, db, g, n->out[pool], n->argmax[pool], mask,
                                        n->in[l], w, B, L->in_h, L->in_w, L->in_c, L->k, L->out_c);
                float *t = g; g = other; other = t;
                continue;
            }
            if (!need_din) { /* the first layer: its weights' gradients alone */
                kiln_conv_pool_backward_weights(dw, db, other, g, n->out[pool], n->argmax[pool], mask,
                                                n->in[l], B, L->in_h, L->in_w, L->in_c, L->k, L->out_c);
                continue;
            }
            kiln_conv_pool_backward_pool(other, g, n->out[pool], n->argmax[pool], mask, B, L->out_h,
                                         L->out_w, L->out_c);
            kiln_conv_pool_backward_conv(g, dw, db, n->in[l], other, w, B, L->in_h, L->in_w, L->in_c, L->k,
                                         L->out_c);
            continue;
        }
        switch (L->kind) {
        case KILN_CONV:
            kiln_conv2d_backward(need_din ? other : NULL, dw, db, n->in[l], g, w, B,
                                 L->in_h, L->in_w, L->in_c, L->k, L->out_c);
            break;
        case KILN_POOL:
            if (l > 0 && n->relu_after_pool[l - 1])
                kiln_maxpool_relu_backward(other, g, n->out[l], n->argmax[l], B, L->in_h, L->in_w, L->in_c);
            else
                kiln_maxpool_backward(other, g, n->argmax[l], B, L->in_h, L->in_w, L->in_c);
            break;
        case KILN_RELU:
            if (!n->relu_after_pool[l]) kiln_relu_backward(g, g, out, (size_t)B * out_size(L));
            continue; /* in place */
        case KILN_DROP:
            if (n->dropped[l]) kiln_dropout_backward(g, g, n->mask[l], (size_t)B * out_size(L));
            continue;
        case KILN_FLATTEN:
            continue;
        case KILN_DENSE:
            kiln_dense_backward(need_din ? other : NULL, dw, db, g, n->in[l], w, B, (int)in_size(L), L->out_c);
            break;
        }
        float *t = g; g = other; other = t;
    }
}
