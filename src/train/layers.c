/* The layers: one forward and one backward function each, over raw float
 * buffers in channels-last (NHWC) layout. Shapes are stated at each function.
 * Work is split across threads by image or by output element only, so every
 * value is computed in the same order whatever the thread count. */
#include "kiln/train.h"
#include "internal.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- conv2d */

/* din[H,W,C] of one image = the sum of the dcol[OH*OW, K*K*C] entries that
 * its patches took from each pixel, in a fixed order (pixels in row-major
 * order, then ky, then kx and c). */
static void col2im_image(float *din, const float *dcol, int H, int W, int C, int K)
{
    const int OH = H - K + 1, OW = W - K + 1, KKC = K * K * C;
    memset(din, 0, sizeof(float) * H * W * C);
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
            const float *row = dcol + ((size_t)oy * OW + ox) * KKC;
            for (int ky = 0; ky < K; ky++) {
                float *dst = din + ((size_t)(oy + ky) * W + ox) * C;
                const float *src = row + ky * K * C;
                for (int i = 0; i < K * C; i++) dst[i] += src[i];
            }
        }
}

/* db[N] = column sums of dout[M,N]. Rows are summed in fixed chunks of
 * BIAS_CHUNK (row-major, cache friendly), then the chunk sums in chunk order:
 * the same additions whatever the thread count. */
#define BIAS_CHUNK KILN_BIAS_CHUNK
static void bias_grad(float *db, const float *dout, int M, int N)
{
    const int chunks = (M + BIAS_CHUNK - 1) / BIAS_CHUNK;
    float *part = kiln_xmalloc(sizeof(float) * (size_t)chunks * N);
    #pragma omp parallel for schedule(static) if ((long)M * N >= KILN_PAR_ELEMS / 4)
    for (int c = 0; c < chunks; c++) {
        float *p = part + (size_t)c * N;
        for (int j = 0; j < N; j++) p[j] = 0.0f;
        int end = (c + 1) * BIAS_CHUNK < M ? (c + 1) * BIAS_CHUNK : M;
        for (int i = c * BIAS_CHUNK; i < end; i++) {
            const float *row = dout + (size_t)i * N;
            for (int j = 0; j < N; j++) p[j] += row[j];
        }
    }
    for (int j = 0; j < N; j++) db[j] = 0.0f;
    for (int c = 0; c < chunks; c++)
        for (int j = 0; j < N; j++) db[j] += part[(size_t)c * N + j];
    free(part);
}

/* out[B,OH,OW,OC] = patches(in) [B*OH*OW, KKC] x w[KKC, OC] + b[OC], the
 * patches packed straight from in (an implicit GEMM: no im2col buffer). */
void kiln_conv2d_forward(float *out, const float *in, const float *w, const float *b,
                         int B, int H, int W, int C, int K, int OC)
{
    const int OH = H - K + 1, OW = W - K + 1, KKC = K * K * C;
    const int M = B * OH * OW;
    const kiln_patches P = {in, H, W, C, K, 0, 0};
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < M; i++) memcpy(out + (size_t)i * OC, b, sizeof(float) * OC);
    kiln_sgemm_patches(0, 0, M, OC, KKC, &P, w, OC, out, OC, 1);
}

/* db[OC] = sum over rows of dout[B*OH*OW, OC]; dw[KKC,OC] = patches(in)^T dout;
 * din[B,H,W,C] = col2im(dout w^T), one image at a time: its dcol[OH*OW, KKC]
 * lives in the thread's scratch, never in a whole-batch buffer. */
void kiln_conv2d_backward(float *din, float *dw, float *db, const float *in,
                          const float *dout, const float *w,
                          int B, int H, int W, int C, int K, int OC)
{
    const int OH = H - K + 1, OW = W - K + 1, KKC = K * K * C;
    const int M = B * OH * OW;
    const kiln_patches P = {in, H, W, C, K, 0, 0};
    bias_grad(db, dout, M, OC);
    kiln_sgemm_patches(1, 0, KKC, OC, M, &P, dout, OC, dw, OC, 0);
    if (din) {
        float *wt = kiln_shared_scratch(kiln_gemm_packed_floats(KKC, OC));
        kiln_gemm_pack_b(wt, 1, w, OC, KKC, OC); /* w^T[OC, KKC] */
        #pragma omp parallel for schedule(static)
        for (int b = 0; b < B; b++) {
            float *dcol = kiln_scratch((size_t)OH * OW * KKC);
            kiln_gemm_1t(OH * OW, KKC, OC, dout + (size_t)b * OH * OW * OC, OC, NULL, wt, dcol, KKC, 0);
            col2im_image(din + (size_t)b * H * W * C, dcol, H, W, C, K);
        }
    }
}

/* --------------------------------------------------------------- maxpool */

/* out[B,H/2,W/2,C] (floor), argmax = index of each maximum within its own
 * image, in[b] = in + b*H*W*C (the first one in row-major window order on
 * ties). Per-image offsets fit int32 for any batch size. */
void kiln_maxpool_forward(float *out, int32_t *argmax, const float *in,
                          int B, int H, int W, int C)
{
    const int OH = H / 2, OW = W / 2;
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                size_t o = (((size_t)b * OH + oy) * OW + ox) * C;
                const size_t img = (size_t)b * H * W * C;
                size_t i00 = img + ((size_t)(2 * oy) * W + 2 * ox) * C;
                size_t i01 = i00 + C, i10 = i00 + (size_t)W * C, i11 = i10 + C;
                for (int c = 0; c < C; c++) {
                    size_t best = i00 + c;
                    float v = in[best];
                    if (in[i01 + c] > v) { v = in[i01 + c]; best = i01 + c; }
                    if (in[i10 + c] > v) { v = in[i10 + c]; best = i10 + c; }
                    if (in[i11 + c] > v) { v = in[i11 + c]; best = i11 + c; }
                    out[o + c] = v;
                    argmax[o + c] = (int32_t)(best - img);
                }
            }
}

/* din[B,H,W,C] = 0 except din[b][argmax[j]] = dout[j] for the outputs j of
 * image b. Windows do not overlap, so each input element receives at most
 * one gradient. */
void kiln_maxpool_backward(float *din, const float *dout, const int32_t *argmax,
                           int B, int H, int W, int C)
{
    const size_t per_out = (size_t)(H / 2) * (W / 2) * C, per_in = (size_t)H * W * C;
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        float *img = din + (size_t)b * per_in;
        memset(img, 0, sizeof(float) * per_in);
        for (size_t j = (size_t)b * per_out; j < (size_t)(b + 1) * per_out; j++) img[argmax[j]] = dout[j];
    }
}

/* relu(maxpool(x)) == maxpool(relu(x)), and the gradient agrees too: both
 * route dout to the window's maximum when it is positive and drop it
 * otherwise. The network uses this to run ReLU on the pooled quarter of the
 * data: din[b][argmax[j]] = out[j] > 0 ? dout[j] : 0, out = relu'd pool output. */
void kiln_maxpool_relu_backward(float *din, const float *dout, const float *out,
                                const int32_t *argmax, int B, int H, int W, int C)
{
    const size_t per_out = (size_t)(H / 2) * (W / 2) * C, per_in = (size_t)H * W * C;
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        float *img = din + (size_t)b * per_in;
        memset(img, 0, sizeof(float) * per_in);
        for (size_t j = (size_t)b * per_out; j < (size_t)(b + 1) * per_out; j++)
            img[argmax[j]] = out[j] > 0.0f ? dout[j] : 0.0f;
    }
}

/* ------------------------------------------------------------------ relu */

/* out may equal in. */
void kiln_relu_forward(float *out, const float *in, size_t n)
{
    #pragma omp parallel for schedule(static) if (n >= (size_t)KILN_PAR_ELEMS)
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

/* din may equal dout; out is the forward output. */
void kiln_relu_backward(float *din, const float *dout, const float *out, size_t n)
{
    #pragma omp parallel for schedule(static) if (n >= (size_t)KILN_PAR_ELEMS)
    for (size_t i = 0; i < n; i++) din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

/* --------------------------------------------------------------- dropout */

/* Inverted dropout: keep with probability 1-p and scale by 1/(1-p). Element i
 * uses 32 bits of draw (seed, DROPOUT, stream, i/2). out may equal in. */
void kiln_dropout_forward(float *out, float *mask, const float *in, size_t n,
                          float p, uint64_t seed, uint64_t stream)
{
    const uint64_t s = kiln_rng_stream(seed, KILN_RNG_DROPOUT, stream);
    const float keep = 1.0f - p, scale = keep > 0.0f ? 1.0f / keep : 0.0f;
    /* keep element when its 32-bit draw < keep * 2^32 */
    const uint64_t thresh = (uint64_t)((double)keep * 4294967296.0);
    const size_t pairs = n / 2;
    #pragma omp parallel for schedule(static) if (n >= (size_t)KILN_PAR_ELEMS / 8)
    for (size_t j = 0; j < pairs; j++) {
        uint64_t r = kiln_rng_at(s, j);
        float m0 = (r & 0xffffffffu) < thresh ? scale : 0.0f;
        float m1 = (r >> 32) < thresh ? scale : 0.0f;
        mask[2 * j] = m0;
        mask[2 * j + 1] = m1;
        out[2 * j] = in[2 * j] * m0;
        out[2 * j + 1] = in[2 * j + 1] * m1;
    }
    if (n & 1) { /* the odd last element uses the low half of its pair's draw */
        uint64_t r = kiln_rng_at(s, pairs);
        float m = (r & 0xffffffffu) < thresh ? scale : 0.0f;
        mask[n - 1] = m;
        out[n - 1] = in[n - 1] * m;
    }
}

void kiln_dropout_backward(float *din, const float *dout, const float *mask, size_t n)
{
    #pragma omp parallel for schedule(static) if (n >= (size_t)KILN_PAR_ELEMS)
    for (size_t i = 0; i < n; i++) din[i] = dout[i] * mask[i];
}

/* ----------------------------------------------------------------- dense */

/* out[B,N] = in[B,D] w[D,N] + b[N] */
void kiln_dense_forward(float *out, const float *in, const float *w,
                        const float *b, int B, int D, int N)
{
    for (int i = 0; i < B; i++) memcpy(out + (size_t)i * N, b, sizeof(float) * N);
    kiln_sgemm(0, 0, B, N, D, in, D, w, N, out, N, 1);
}

/* db[N] = sum_b dout; dw[D,N] = in^T dout; din[B,D] = dout w^T. */
void kiln_dense_backward(float *din, float *dw, float *db, const float *dout,
                         const float *in, const float *w, int B, int D, int N)
{
    bias_grad(db, dout, B, N);
    kiln_sgemm(1, 0, D, N, B, in, D, dout, N, dw, N, 0);
    if (din) kiln_sgemm(0, 1, B, D, N, dout, N, w, N, din, D, 0);
}

/* ------------------------------------------------- softmax cross-entropy */

/* Per example: loss = logsumexp(z) - z[label]; dlogits = (softmax - onehot) *
 * scale. A non-finite logit makes that example's loss NaN/inf, as it would in
 * any framework; argmax ignores NaN (and is 0 when every logit is NaN). */
void kiln_softmax_xent(float *dlogits, float *loss, uint8_t *correct,
                       const float *logits, const uint8_t *labels, int B, int N,
                       float scale)
{
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * N;
        float mx = -INFINITY;
        int arg = 0;
        for (int j = 0; j < N; j++)
            if (z[j] > mx) { mx = z[j]; arg = j; }
        double sum = 0.0;
        for (int j = 0; j < N; j++) sum += exp((double)z[j] - (double)mx);
        double lse = (double)mx + log(sum);
        if (loss) loss[b] = (float)(lse - (double)z[labels[b]]);
        if (correct) correct[b] = (uint8_t)(arg == labels[b]);
        if (dlogits) {
            float *d = dlogits + (size_t)b * N;
            for (int j = 0; j < N; j++) {
                float p = (float)exp((double)z[j] - lse);
                d[j] = (p - (j == labels[b] ? 1.0f : 0.0f)) * scale;
            }
        }
    }
}
