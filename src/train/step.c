/* One training step; see step.h. */
#include "step.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>

int kiln_split_train(int n_all, double validation_split)
{
    return (int)floor((double)n_all * (1.0 - validation_split));
}

void kiln_epoch_order(int *perm, int n, int shuffle, uint64_t seed, int epoch)
{
    for (int i = 0; i < n; i++) perm[i] = i;
    if (!shuffle) return;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(kiln_rng(seed, KILN_RNG_SHUFFLE, (uint64_t)epoch, (uint64_t)i) % (uint64_t)(i + 1));
        int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
}

void kiln_step_buf_init(kiln_step_buf *b, const kiln_net *net)
{
    b->dlogits = kiln_aligned_alloc(sizeof(float) * (size_t)net->max_batch * (size_t)net->m->n_classes);
    b->labels = kiln_xmalloc((size_t)net->max_batch);
}

void kiln_step_buf_free(kiln_step_buf *b)
{
    free(b->dlogits);
    free(b->labels);
    b->dlogits = NULL;
    b->labels = NULL;
}

double kiln_train_step(kiln_net *net, kiln_optimizer *opt, kiln_step_buf *buf,
                       const kiln_dataset *d, const int *idx, int nb,
                       uint64_t seed, uint64_t gstep, double lr, int update,
                       double *loss_sum, long *correct)
{
    kiln_model *m = net->m;
    kiln_net_load_batch(net, d, idx, nb);
    const float *logits = kiln_net_forward(net, nb, 1, seed, gstep);
    for (int b = 0; b < nb; b++) buf->labels[b] = d->labels[idx[b]];
    kiln_softmax_xent(buf->dlogits, net->loss, net->correct, logits, buf->labels, nb,
                      m->n_classes, 1.0f / (float)nb);
    double sum = 0.0;
    long ok = 0;
    for (int b = 0; b < nb; b++) { sum += net->loss[b]; ok += net->correct[b]; }
    if (loss_sum) *loss_sum += sum;
    if (correct) *correct += ok;
    if (update) {
        kiln_net_backward(net, buf->dlogits, nb);
        kiln_optimizer_step(opt, m->params, m->grads, lr);
    }
    return sum / nb;
}
