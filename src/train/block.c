/* The block conv -> relu -> 2x2 max-pool [-> dropout], forward and backward,
 * one image at a time (NHWC). Shapes that kiln_conv_pool_winograd takes run
 * their convolution by Winograd (winograd.c, its own rounding); for all
 * others the block gives the same values, bit for bit, as the layer
 * functions of layers.c run one after the other: each convolution output is
 * the chain of fused multiply-adds kiln_sgemm computes (bias, then k = 0..K-1
 * in order), and each gradient the chain of kiln_conv2d_backward. The block
 * only leaves out work whose result nobody reads: the conv outputs the pool
 * never looks at (a last odd row or column), and the zero terms of the
 * weight gradient's chains (see kiln_conv_pool_backward_weights). */
#include "kiln/train.h"
#include "internal.h"
#include "rng.h"
#include "simd.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- dropout */

/* The keep mask of inverted dropout for element i of a layer's output:
 * scale when the element's 32 bits of draw (seed, DROPOUT, stream, i/2; the
 * low half for even i, the high half for odd i) fall under keep * 2^32. */
typedef struct { uint64_t s, thresh; float scale; } dropout_draw;

static dropout_draw dropout_init(float p, uint64_t seed, uint64_t stream)
{
    const float keep = 1.0f - p;
    dropout_draw d = {kiln_rng_stream(seed, KILN_RNG_DROPOUT, stream),
                      (uint64_t)((double)keep * 4294967296.0), keep > 0.0f ? 1.0f / keep : 0.0f};
    return d;
}

#if defined(__AVX2__) && !(defined(__AVX512F__) && defined(__AVX512DQ__))
/* The low 64 bits of each lane times the constant c. */
static inline __m256i mul64(__m256i a, uint64_t c)
{
    const __m256i cl = _mm256_set1_epi64x((long long)(c & 0xffffffffu)), ch = _mm256_set1_epi64x((long long)(c >> 32));
    __m256i lolo = _mm256_mul_epu32(a, cl);
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), cl), _mm256_mul_epu32(a, ch));
    return _mm256_add_epi64(lolo, _mm256_slli_epi64(cross, 32));
}
#endif

/* m[0..n) = the masks of elements i0..i0+n, one draw per pair; the vector
 * loops run kiln_rng_at's integer arithmetic in 64-bit lanes, so they give
 * the scalar loop's masks. */
static void dropout_masks(const dropout_draw *d, float *m, size_t i0, int n)
{
    size_t i = i0, end = i0 + (size_t)n;
    if (i < end && (i & 1)) {
        *m++ = (kiln_rng_at(d->s, i >> 1) >> 32) < d->thresh ? d->scale : 0.0f;
        i++;
    }
#if defined(__AVX512F__) && defined(__AVX512DQ__)
    /* eight draws = sixteen masks at a time; each draw's two halves are the
     * two 32-bit lanes of its 64-bit lane, low (even element) first */
    if (d->thresh <= 0xffffffffu) {
        const __m512i s = _mm512_set1_epi64((long long)d->s);
        const __m512i th = _mm512_set1_epi32((int)(uint32_t)d->thresh);
        const __m512i step = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
        const __m512 scale = _mm512_set1_ps(d->scale);
        for (; i + 15 < end; i += 16) {
            __m512i z = _mm512_add_epi64(_mm512_set1_epi64((long long)(i >> 1)), step);
            z = _mm512_xor_si512(s, _mm512_mullo_epi64(z, _mm512_set1_epi64((long long)0xd1342543de82ef95ull)));
            z = _mm512_add_epi64(z, _mm512_set1_epi64((long long)0x9e3779b97f4a7c15ull));
            z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                                   _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9ull));
            z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                                   _mm512_set1_epi64((long long)0x94d049bb133111ebull));
            z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
            _mm512_storeu_ps(m, _mm512_maskz_mov_ps(_mm512_cmplt_epu32_mask(z, th), scale));
            m += 16;
        }
    }
#elif defined(__AVX2__)
    const __m256i s = _mm256_set1_epi64x((long long)d->s), th = _mm256_set1_epi64x((long long)d->thresh);
    const __m256 scale = _mm256_set1_ps(d->scale);
    for (; i + 7 < end; i += 8) {
        const long long p = (long long)(i >> 1);
        __m256i z = _mm256_xor_si256(s, mul64(_mm256_set_epi64x(p + 3, p + 2, p + 1, p), 0xd1342543de82ef95ull));
        z = _mm256_add_epi64(z, _mm256_set1_epi64x((long long)0x9e3779b97f4a7c15ull));
        z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), 0xbf58476d1ce4e5b9ull);
        z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), 0x94d049bb133111ebull);
        z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
        __m256i lo = _mm256_cmpgt_epi64(th, _mm256_and_si256(z, _mm256_set1_epi64x(0xffffffffll)));
        __m256i hi = _mm256_cmpgt_epi64(th, _mm256_srli_epi64(z, 32));
        __m256i keep = _mm256_blend_epi32(lo, hi, 0xaa);
        _mm256_storeu_ps(m, _mm256_and_ps(_mm256_castsi256_ps(keep), scale));
        m += 8;
    }
#endif
    for (; i + 1 < end; i += 2) {
        uint64_t r = kiln_rng_at(d->s, i >> 1);
        *m++ = (r & 0xffffffffu) < d->thresh ? d->scale : 0.0f;
        *m++ = (r >> 32) < d->thresh ? d->scale : 0.0f;
    }
    if (i < end) *m = (kiln_rng_at(d->s, i >> 1) & 0xffffffffu) < d->thresh ? d->scale : 0.0f;
}

/* ------------------------------------------------------- forward: the conv */

/* The output pixels the pool reads: rows and columns [0, 2*PH) x [0, 2*PW). */
#define PIX 6 /* pixels per group of the small convolution */

/* y[oy,ox,OC] for the pixels the pool reads of one image img[H,W,C], when a
 * patch row (K*C floats) is too short for the GEMM's kernel: directly, PIX
 * pixels by two vectors of OC at a time, each element bias + the chain over
 * k = (ky, kx, c) in order. OC % KV == 0. */
static inline __attribute__((always_inline)) void
conv_small(float *y, const float *img, const float *w, const float *bias,
           int W, int C, int K, int OW, int OC, int UH, int UW)
{
    const int run = K * C, n = UH * UW;
    const size_t wc = (size_t)W * C;
    for (int g = 0; g < n; g += PIX) {
        const float *px[PIX];
        float *yp[PIX];
        for (int i = 0; i < PIX; i++) {
            const int q = g + i < n ? g + i : n - 1, oy = q / UW, ox = q % UW;
            px[i] = img + (size_t)oy * wc + (size_t)ox * C;
            yp[i] = y + ((size_t)oy * OW + ox) * OC;
        }
        for (int j = 0; j < OC; j += 2 * KV) {
            const int two = j + KV < OC;
            kv a0[PIX], a1[PIX];
            for (int i = 0; i < PIX; i++) {
                a0[i] = kv_load(bias + j);
                a1[i] = two ? kv_load(bias + j + KV) : kv_zero();
            }
            for (int ky = 0; ky < K; ky++)
                for (int t = 0; t < run; t++) {
                    const float *wk = w + (size_t)(ky * run + t) * OC + j;
                    const kv w0 = kv_load(wk), w1 = two ? kv_load(wk + KV) : kv_zero();
                    for (int i = 0; i < PIX; i++) {
                        const kv x = kv_set1(px[i][ky * wc + t]);
                        a0[i] = kv_fma(x, w0, a0[i]);
                        a1[i] = kv_fma(x, w1, a1[i]);
                    }
                }
            const int m = n - g < PIX ? n - g : PIX;
            for (int i = 0; i < m; i++) {
                kv_store(yp[i] + j, a0[i]);
                if (two) kv_store(yp[i] + j + KV, a1[i]);
            }
        }
    }
}

/* The same for any shape: bias into each read row of y, then the GEMM's
 * patch rows (packed weights wp). pix and rows: room for UH*UW pointers. */
static void conv_gemm(float *y, const float *img, const float *wp, const float *bias,
                      int W, int C, int K, int OW, int OC, int UH, int UW,
                      const float **pix, float **rows)
{
    const int n = UH * UW;
    for (int q = 0; q < n; q++) {
        const int oy = q / UW, ox = q % UW;
        pix[q] = img + ((size_t)oy * W + ox) * C;
        rows[q] = y + ((size_t)oy * OW + ox) * OC;
        memcpy(rows[q], bias, sizeof(float) * OC);
    }
    kiln_gemm_patch_rows(n, pix, K, K * C, (size_t)W * C, wp, OC, rows, 1);
}

/* -------------------------------------------------------- forward: the pool */

/* out[PH,PW,OC] = dropout(relu(maxpool(y))) of one image, argmax = offset in
 * y[OH,OW,OC] of each window's maximum (the first in row-major window order
 * on ties; a NaN in the first place wins, later NaNs never do, as with C's
 * >), mask (NULL: none) drawn for the elements o0 + (py*PW + px)*OC + c. */
static void pool_image(float *out, int32_t *argmax, float *mask, const float *y,
                       int OW, int OC, int PH, int PW, const dropout_draw *d, size_t o0)
{
    const kv zero = kv_zero();
    for (int py = 0; py < PH; py++)
        for (int px = 0; px < PW; px++) {
            const size_t o = ((size_t)py * PW + px) * OC;
            const int i00 = ((2 * py) * OW + 2 * px) * OC, i01 = i00 + OC;
            const int i10 = i00 + OW * OC, i11 = i10 + OC;
            if (mask) dropout_masks(d, mask + o, o0 + o, OC);
            int c = 0;
            for (; c + KV <= OC; c += KV) {
                kv v = kv_load(y + i00 + c), t;
                kvi best = kvi_iota(i00 + c);
                kvm m;
                t = kv_load(y + i01 + c); m = kv_gt(t, v); v = kv_sel(m, v, t); best = kvi_sel(m, best, kvi_iota(i01 + c));
                t = kv_load(y + i10 + c); m = kv_gt(t, v); v = kv_sel(m, v, t); best = kvi_sel(m, best, kvi_iota(i10 + c));
                t = kv_load(y + i11 + c); m = kv_gt(t, v); v = kv_sel(m, v, t); best = kvi_sel(m, best, kvi_iota(i11 + c));
                v = kv_sel(kv_gt(v, zero), zero, v);
                if (mask) v = kv_mul(v, kv_load(mask + o + c));
                kv_store(out + o + c, v);
                kvi_store(argmax + o + c, best);
            }
            for (; c < OC; c++) {
                int best = i00 + c;
                float v = y[best];
                if (y[i01 + c] > v) { v = y[i01 + c]; best = i01 + c; }
                if (y[i10 + c] > v) { v = y[i10 + c]; best = i10 + c; }
                if (y[i11 + c] > v) { v = y[i11 + c]; best = i11 + c; }
                v = v > 0.0f ? v : 0.0f;
                if (mask) v *= mask[o + c];
                out[o + c] = v;
                argmax[o + c] = best;
            }
        }
}

/* Per image b:
 *   y[OH,OW,OC]      = patches(in[b]) x w[KKC,OC] + bias  (only the pixels
 *                      the pool reads; the thread's scratch, never stored)
 *   out[b,PH,PW,OC]  = dropout(relu(maxpool(y)))          PH = OH/2, PW = OW/2
 *   argmax[b,PH,PW,OC] = offset in y of each window's maximum
 * mask (NULL: no dropout) gets 0 or 1/(1-p) per element of out, drawn as
 * kiln_dropout_forward draws them over B*PH*PW*OC elements. */
void kiln_conv_pool_forward(float *out, int32_t *argmax, float *mask, const float *in,
                            const float *w, const float *bias, int B, int H, int W, int C,
                            int K, int OC, float p, uint64_t seed, uint64_t stream)
{
    const int OH = H - K + 1, OW = W - K + 1, KKC = K * K * C, PH = OH / 2, PW = OW / 2;
    const int UH = 2 * PH, UW = 2 * PW, n = UH * UW;
    const size_t per_out = (size_t)PH * PW * OC, per_in = (size_t)H * W * C;
    /* a patch row shorter than a vector of the GEMM's kernel wastes most of
     * each tile: such convolutions (the first, on a grey image) run directly */
    const int wino = kiln_conv_pool_winograd(C, K, OC) && PH > 0 && PW > 0;
    const int small = !wino && K * C < 32 && OC % KV == 0 && OC <= 4 * KV * 2;
    float *wp = NULL;
    if (wino) {
        wp = kiln_shared_scratch((size_t)16 * C * OC);
        kiln_wino_filter(wp, w, C, OC);
    } else if (!small) {
        wp = kiln_shared_scratch(kiln_gemm_packed_floats(OC, KKC));
        kiln_gemm_pack_b(wp, 0, w, OC, OC, KKC);
    }
    const dropout_draw d = dropout_init(p, seed, stream);
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        /* y, then the pointers conv_gemm needs, in the thread's scratch */
        const size_t ny = ((size_t)OH * OW * OC + 15) & ~(size_t)15;
        const size_t extra = wino ? kiln_wino_image_floats(C, OC, PH, PW)
                                  : small ? 0 : 2 * (size_t)n * sizeof(void *) / sizeof(float) + 2;
        float *y = kiln_scratch(ny + extra);
        const float *img = in + (size_t)b * per_in;
        if (wino) {
            kiln_wino_image(y, img, wp, bias, W, C, OC, PH, PW, y + ny);
        } else if (small) {
            if (K == 3 && C == 1 && OC == 32) /* the article's first convolution, constants inlined */
                conv_small(y, img, w, bias, W, 1, 3, OW, 32, UH, UW);
            else
                conv_small(y, img, w, bias, W, C, K, OW, OC, UH, UW);
        } else {
            const float **pix = (const float **)(void *)(y + ny);
            conv_gemm(y, img, wp, bias, W, C, K, OW, OC, UH, UW, pix, (float **)(pix + n));
        }
        pool_image(out + b * per_out, argmax + b * per_out, mask ? mask + b * per_out : NULL, y, OW, OC,
                   PH, PW, &d, b * per_out);
    }
}

/* ---------------------------------------------------------------- backward */

/* g = out > 0 ? dout * mask : 0 (mask NULL: dout), the gradient at a
 * window's maximum. */
static inline kv pool_grad(const float *dout, const float *out, const float *mask, size_t j)
{
    kv g = kv_load(dout + j);
    if (mask) g = kv_mul(g, kv_load(mask + j));
    return kv_sel(kv_gt(kv_load(out + j), kv_zero()), kv_zero(), g);
}

/* The gradient at the convolution's output, dy[B,OH,OW,OC], from the gradient
 * dout[B,PH,PW,OC] at the block's output: dout * mask (mask NULL: none) at
 * each window's maximum when the output was positive, 0 everywhere else. */
void kiln_conv_pool_backward_pool(float *dy, const float *dout, const float *out,
                                  const int32_t *argmax, const float *mask,
                                  int B, int OH, int OW, int OC)
{
    const size_t per_out = (size_t)(OH / 2) * (OW / 2) * OC, per_y = (size_t)OH * OW * OC;
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        float *d = dy + b * per_y;
        memset(d, 0, sizeof(float) * per_y);
        size_t j = b * per_out;
        const size_t end = (b + 1) * per_out;
        for (; j + KV <= end; j += KV) {
            float g[KV];
            int32_t a[KV];
            kv_store(g, pool_grad(dout, out, mask, j));
            kvi_store(a, kvi_load(argmax + j));
            for (int i = 0; i < KV; i++) d[a[i]] = g[i];
        }
        for (; j < end; j++) d[argmax[j]] = out[j] > 0.0f ? (mask ? dout[j] * mask[j] : dout[j]) : 0.0f;
    }
}

/* The weight and bias gradients of one thread's pixels [r0, r1) (pixel r =
 * b*OH*OW + oy*OW + ox), walked in increasing r: each window's four pixels
 * lie on two rows, so a pooled row is walked twice, its windows' top pixels
 * then their bottom ones. A pixel adds its patch times g to the lanes (of OC)
 * whose maximum it is. The chains restart at each chunk boundary (kch pixels
 * for dw, KILN_BIAS_CHUNK for db); each finished chunk's sums go to
 * wpart[chunk] / bpart[chunk]. acc: KKC*OC floats, bacc: OC. */
static inline __attribute__((always_inline)) void
weights_range(float *wpart, float *bpart, float *acc, float *bacc, long r0, long r1, long kch,
              const float *in, const float *dout, const float *out, const int32_t *argmax,
              const float *mask, int H, int W, int C, int K, int OC)
{
    const int OH = H - K + 1, OW = W - K + 1, PH = OH / 2, PW = OW / 2, run = K * C, KKC = K * run;
    const long P = (long)OH * OW;
    const size_t per_out = (size_t)PH * PW * OC, wc = (size_t)W * C;
    long wc_next = (r0 / kch + 1) * kch, bc_next = (r0 / KILN_BIAS_CHUNK + 1) * KILN_BIAS_CHUNK;
    long wchunk = r0 / kch, bchunk = r0 / KILN_BIAS_CHUNK;
    memset(acc, 0, sizeof(float) * KKC * OC);
    memset(bacc, 0, sizeof(float) * OC);
    for (long b = r0 / P; b * P < r1; b++) {
        const float *img = in + (size_t)b * H * wc;
        for (int py = 0; py < PH; py++) {
            /* the row pair's first and last pixel the pool read */
            const long rf = b * P + (long)(2 * py) * OW, rl = rf + OW + 2 * PW - 1;
            if (rl < r0) continue;
            if (rf >= r1) goto done;
            while (rf >= wc_next) { /* a dw chunk ends */
                memcpy(wpart + (size_t)wchunk++ * KKC * OC, acc, sizeof(float) * KKC * OC);
                memset(acc, 0, sizeof(float) * KKC * OC);
                wc_next += kch;
            }
            while (rf >= bc_next) {
                memcpy(bpart + (size_t)bchunk++ * OC, bacc, sizeof(float) * OC);
                memset(bacc, 0, sizeof(float) * OC);
                bc_next += KILN_BIAS_CHUNK;
            }
            const size_t j0 = b * per_out + (size_t)py * PW * OC;
            if (rf >= r0 && rl < r1 && rl < wc_next && rl < bc_next) {
                /* no boundary inside: one vector of OC at a time, its KKC
                 * chains in registers, over the two rows */
                for (int c = 0; c < OC; c += KV) {
                    kv s[KKC];
                    for (int k = 0; k < KKC; k++) s[k] = kv_load(acc + (size_t)k * OC + c);
                    kv bs = kv_load(bacc + c);
                    for (int half = 0; half < 2; half++)
                        for (int px = 0; px < PW; px++) {
                            const size_t j = j0 + (size_t)px * OC + c;
                            const kv g = pool_grad(dout, out, mask, j);
                            const kvi am = kvi_load(argmax + j);
                            for (int pos = 0; pos < 2; pos++) {
                                const int oy = 2 * py + half, ox = 2 * px + pos;
                                const kvm m = kvi_eq(am, kvi_iota((oy * OW + ox) * OC + c));
                                const float *a = img + (size_t)oy * wc + (size_t)ox * C;
                                bs = kv_madd(m, bs, g);
                                for (int ky = 0; ky < K; ky++)
                                    for (int t = 0; t < run; t++)
                                        s[ky * run + t] = kv_mfma(m, kv_set1(a[ky * wc + t]), g, s[ky * run + t]);
                            }
                        }
                    for (int k = 0; k < KKC; k++) kv_store(acc + (size_t)k * OC + c, s[k]);
                    kv_store(bacc + c, bs);
                }
                continue;
            }
            for (int half = 0; half < 2; half++) /* pixel by pixel */
                for (int px = 0; px < PW; px++)
                    for (int pos = 0; pos < 2; pos++) {
                        const int oy = 2 * py + half, ox = 2 * px + pos;
                        const long r = b * P + (long)oy * OW + ox;
                        if (r < r0) continue;
                        if (r >= r1) goto done;
                        while (r >= wc_next) {
                            memcpy(wpart + (size_t)wchunk++ * KKC * OC, acc, sizeof(float) * KKC * OC);
                            memset(acc, 0, sizeof(float) * KKC * OC);
                            wc_next += kch;
                        }
                        while (r >= bc_next) {
                            memcpy(bpart + (size_t)bchunk++ * OC, bacc, sizeof(float) * OC);
                            memset(bacc, 0, sizeof(float) * OC);
                            bc_next += KILN_BIAS_CHUNK;
                        }
                        const float *a = img + (size_t)oy * wc + (size_t)ox * C;
                        const size_t j = j0 + (size_t)px * OC;
                        const int yo = (oy * OW + ox) * OC;
                        for (int c = 0; c < OC; c += KV) {
                            const kvm m = kvi_eq(kvi_load(argmax + j + c), kvi_iota(yo + c));
                            const kv g = pool_grad(dout, out, mask, j + c);
                            kv_store(bacc + c, kv_madd(m, kv_load(bacc + c), g));
                            for (int ky = 0; ky < K; ky++)
                                for (int t = 0; t < run; t++) {
                                    float *q = acc + (size_t)(ky * run + t) * OC + c;
                                    kv_store(q, kv_mfma(m, kv_set1(a[ky * wc + t]), g, kv_load(q)));
                                }
                        }
                    }
        }
    }
done: /* the open chunks, and any after them that no pixel reached */
    for (; wchunk <= (r1 - 1) / kch; wchunk++) {
        memcpy(wpart + (size_t)wchunk * KKC * OC, acc, sizeof(float) * KKC * OC);
        memset(acc, 0, sizeof(float) * KKC * OC);
    }
    for (; bchunk <= (r1 - 1) / KILN_BIAS_CHUNK; bchunk++) {
        memcpy(bpart + (size_t)bchunk * OC, bacc, sizeof(float) * OC);
        memset(bacc, 0, sizeof(float) * OC);
    }
}

/* dw[KKC,OC], db[OC] of the block's convolution, straight from the gradient
 * dout at the block's output; the same bits as kiln_conv_pool_backward_pool
 * followed by kiln_conv2d_backward(NULL, dw, db, ...). That pair computes
 * each dw element as one chain of fused multiply-adds per K chunk of pixels
 * (kiln_gemm_k_chunk), each db element as one chain of additions per
 * KILN_BIAS_CHUNK pixels, then adds the chunks' sums in order to 0. dy is 0
 * but at each window's maximum, and a chain with those zero terms left out is
 * the same chain: it starts at +0 and so never holds -0, and x + (+-0) = x
 * for every other x, provided the patch value multiplying the 0 is finite
 * (inf * 0 is NaN). So an input that is not all finite, or an OC the vector
 * loop cannot take, goes the long way, through dy (room for B*OH*OW*OC). */
void kiln_conv_pool_backward_weights(float *dw, float *db, float *dy, const float *dout,
                                     const float *out, const int32_t *argmax, const float *mask,
                                     const float *in, int B, int H, int W, int C, int K, int OC)
{
    const int OH = H - K + 1, OW = W - K + 1, KKC = K * K * C;
    const long M = (long)B * OH * OW;
    const size_t nin = (size_t)B * H * W * C;
    if (kiln_conv_pool_winograd(C, K, OC) && OH / 2 > 0 && OW / 2 > 0) {
        kiln_wino_backward_pool(NULL, dw, db, dout, out, argmax, mask, in, NULL, B, H, W, C, OC);
        return;
    }
    int finite = OC % KV == 0 && M > 0;
    for (size_t i = 0; i < nin && finite; i++) finite = isfinite(in[i]);
    if (!finite) {
        kiln_conv_pool_backward_pool(dy, dout, out, argmax, mask, B, OH, OW, OC);
        kiln_conv2d_backward(NULL, dw, db, in, dy, NULL, B, H, W, C, K, OC);
        return;
    }
    const long kch = kiln_gemm_k_chunk(KKC, (int)M);
    const long wchunks = (M + kch - 1) / kch, bchunks = (M + KILN_BIAS_CHUNK - 1) / KILN_BIAS_CHUNK;
    float *wpart = kiln_xmalloc(sizeof(float) * ((size_t)wchunks * KKC * OC + (size_t)bchunks * OC));
    float *bpart = wpart + (size_t)wchunks * KKC * OC;
    /* threads take whole dw chunks (a bias chunk never straddles two: kch
     * is a multiple of KILN_BIAS_CHUNK or all of M) */
    #pragma omp parallel
    {
        const int T = omp_get_num_threads(), t = omp_get_thread_num();
        const long c0 = wchunks * t / T, c1 = wchunks * (t + 1) / T;
        if (c0 < c1) {
            float *acc = kiln_scratch((size_t)KKC * OC + OC), *bacc = acc + (size_t)KKC * OC;
            const long r0 = c0 * kch, r1 = c1 * kch < M ? c1 * kch : M;
            if (K == 3 && C == 1 && OC == 32)
                weights_range(wpart, bpart, acc, bacc, r0, r1, kch, in, dout, out, argmax, mask, H, W, 1, 3, 32);
            else
                weights_range(wpart, bpart, acc, bacc, r0, r1, kch, in, dout, out, argmax, mask, H, W, C, K, OC);
        }
    }
    for (int i = 0; i < KKC * OC; i++) {
        float s = 0.0f;
        for (long c = 0; c < wchunks; c++) s += wpart[(size_t)c * KKC * OC + i];
        dw[i] = s;
    }
    for (int j = 0; j < OC; j++) {
        float s = 0.0f;
        for (long c = 0; c < bchunks; c++) s += bpart[(size_t)c * OC + j];
        db[j] = s;
    }
    free(wpart);
}

/* din[B,H,W,C] of the block's convolution from dy[B,OH,OW,OC] (the pool's
 * backward), the same bits as kiln_conv2d_backward's: per image, dcol = dy
 * w^T then col2im. dy is 0 at the pixels the pool never read (a last odd row
 * or column), so their dcol rows are +0 and adding them changes nothing (a
 * sum that starts at +0 never holds -0); they are left out, unless w is not
 * all finite (inf * 0 is NaN): then the whole of kiln_conv2d_backward's way. */
void kiln_conv_pool_backward_input(float *din, const float *dy, const float *w,
                                   int B, int H, int W, int C, int K, int OC)
{
    const int OH = H - K + 1, OW = W - K + 1, KKC = K * K * C;
    int UH = OH / 2 * 2, UW = OW / 2 * 2, finite = 1;
    for (size_t i = 0; i < (size_t)KKC * OC && finite; i++) finite = isfinite(w[i]);
    float *wt = kiln_shared_scratch(kiln_gemm_packed_floats(KKC, OC));
    kiln_gemm_pack_b(wt, 1, w, OC, KKC, OC); /* w^T[OC, KKC] */
    if (!finite) { UH = OH; UW = OW; }
    const int n = UH * UW;
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        float *a = kiln_scratch((size_t)n * (OC + KKC)), *dcol = a + (size_t)n * OC;
        const float *d = dy + (size_t)b * OH * OW * OC;
        for (int oy = 0; oy < UH; oy++)
            memcpy(a + (size_t)oy * UW * OC, d + (size_t)oy * OW * OC, sizeof(float) * UW * OC);
        kiln_gemm_1t(n, KKC, OC, a, OC, NULL, wt, dcol, KKC, 0);
        float *img = din + (size_t)b * H * W * C;
        memset(img, 0, sizeof(float) * H * W * C);
        for (int oy = 0; oy < UH; oy++)
            for (int ox = 0; ox < UW; ox++) {
                const float *row = dcol + ((size_t)oy * UW + ox) * KKC;
                for (int ky = 0; ky < K; ky++) {
                    float *dst = img + ((size_t)(oy + ky) * W + ox) * C;
                    const float *src = row + ky * K * C;
                    for (int i = 0; i < K * C; i++) dst[i] += src[i];
                }
            }
    }
}

void kiln_conv_pool_backward_conv(float *din, float *dw, float *db, const float *in, const float *dy,
                                  const float *w, int B, int H, int W, int C, int K, int OC)
{
    if (kiln_conv_pool_winograd(C, K, OC) && (H - 2) / 2 > 0 && (W - 2) / 2 > 0) {
        kiln_wino_backward(din, dw, db, in, dy, w, B, H, W, C, OC);
        return;
    }
    kiln_conv2d_backward(NULL, dw, db, in, dy, w, B, H, W, C, K, OC);
    if (din) kiln_conv_pool_backward_input(din, dy, w, B, H, W, C, K, OC);
}

void kiln_conv_pool_backward(float *din, float *dw, float *db, const float *dout, const float *out,
                             const int32_t *argmax, const float *mask, const float *in, const float *w,
                             int B, int H, int W, int C, int K, int OC)
{
    const int OH = H - K + 1, OW = W - K + 1;
    if (kiln_conv_pool_winograd(C, K, OC) && OH / 2 > 0 && OW / 2 > 0) {
        kiln_wino_backward_pool(din, dw, db, dout, out, argmax, mask, in, w, B, H, W, C, OC);
        return;
    }
    float *dy = kiln_xmalloc(sizeof(float) * (size_t)B * OH * OW * OC);
    kiln_conv_pool_backward_pool(dy, dout, out, argmax, mask, B, OH, OW, OC);
    kiln_conv_pool_backward_conv(din, dw, db, in, dy, w, B, H, W, C, K, OC);
    free(dy);
}
