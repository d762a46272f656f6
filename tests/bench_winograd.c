/* A prototype that sizes the next step of issue 15: the second convolution's
 * block forward (conv 3x3, 13x13x32 -> 11x11x64, bias, 2x2 max-pool, ReLU)
 * by Winograd F(2x2, 3x3), against the trainer's kiln_conv_pool_forward on
 * the same batch of 250, one thread, the fastest of R repeats (CPU time).
 *   make build/release/tests/bench_winograd
 *   build/release/tests/bench_winograd [R]
 * The pool reads the 10x10 top-left outputs, and each of its windows is one
 * F(2x2, 3x3) tile: 25 tiles of a 4x4 input each, 16 products of [25 x 32]
 * by [32 x 64] per image (1.64 MFLOP against 3.69 for the direct
 * convolution of those 100 pixels). Winograd rounds differently from the
 * direct sum, so it prints how far the outputs are from the trainer's and
 * how often the window maxima agree: a benchmark, never a test, and no part
 * of the trainer (its results would change, so it enters only with a rerun).
 * The weight gradient likewise (dU = sum of V . (A dY A^T), dw = G^T dU G),
 * against kiln_conv2d_backward's dw and db with no input gradient.
 * AVX-512 only; elsewhere it says so and exits 0. */
#include "kiln/train.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __AVX512F__
#include <immintrin.h>

enum { B = 250, H = 13, W = 13, C = 32, OC = 64, OW = 11, P = 5, T = 25 };

static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* U[16][C][OC] = G g G^T for each (c, oc), w[(ky*3+kx)*C + c][oc] */
static void filter_transform(float *U, const float *w)
{
    for (int c = 0; c < C; c++)
        for (int o = 0; o < OC; o++) {
            float g[3][3], t[4][3];
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 3; x++) g[y][x] = w[((y * 3 + x) * C + c) * OC + o];
            for (int x = 0; x < 3; x++) {
                t[0][x] = g[0][x];
                t[1][x] = 0.5f * (g[0][x] + g[1][x] + g[2][x]);
                t[2][x] = 0.5f * (g[0][x] - g[1][x] + g[2][x]);
                t[3][x] = g[2][x];
            }
            for (int i = 0; i < 4; i++) {
                float u[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]), 0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
                for (int j = 0; j < 4; j++) U[((size_t)(i * 4 + j) * C + c) * OC + o] = u[j];
            }
        }
}

/* V[16][T][C] = B^T d B for the 25 tiles of one image, 16 channels a vector */
static void input_transform(float *V, const float *img)
{
    for (int ty = 0; ty < P; ty++)
        for (int tx = 0; tx < P; tx++)
            for (int c = 0; c < C; c += 16) {
                __m512 d[4][4], r[4][4];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) d[i][j] = _mm512_loadu_ps(img + ((2 * ty + i) * W + 2 * tx + j) * C + c);
                for (int j = 0; j < 4; j++) {
                    r[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
                    r[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
                    r[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
                    r[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
                }
                const int t = ty * P + tx;
                for (int i = 0; i < 4; i++) {
                    __m512 v[4] = {_mm512_sub_ps(r[i][0], r[i][2]), _mm512_add_ps(r[i][1], r[i][2]),
                                   _mm512_sub_ps(r[i][2], r[i][1]), _mm512_sub_ps(r[i][1], r[i][3])};
                    for (int j = 0; j < 4; j++) _mm512_storeu_ps(V + ((size_t)(i * 4 + j) * T + t) * C + c, v[j]);
                }
            }
}

/* One image: out[P][P][OC] = relu(maxpool(conv + bias)), argmax as the
 * trainer stores it (offset in the image's 11x11x64 output). */
static void wino_image(float *out, int32_t *am, const float *img, const float *U, const float *bias, float *V,
                       float *M)
{
    input_transform(V, img);
    for (int t0 = 0; t0 < T; t0 += 5) {
        for (int xi = 0; xi < 16; xi++) {
            __m512 acc[5][4];
            for (int t = 0; t < 5; t++)
                for (int q = 0; q < 4; q++) acc[t][q] = _mm512_setzero_ps();
            const float *u = U + (size_t)xi * C * OC, *v = V + ((size_t)xi * T + t0) * C;
            for (int c = 0; c < C; c++) {
                __m512 u0 = _mm512_load_ps(u + c * OC), u1 = _mm512_load_ps(u + c * OC + 16),
                       u2 = _mm512_load_ps(u + c * OC + 32), u3 = _mm512_load_ps(u + c * OC + 48);
                for (int t = 0; t < 5; t++) {
                    __m512 b = _mm512_set1_ps(v[t * C + c]);
                    acc[t][0] = _mm512_fmadd_ps(b, u0, acc[t][0]);
                    acc[t][1] = _mm512_fmadd_ps(b, u1, acc[t][1]);
                    acc[t][2] = _mm512_fmadd_ps(b, u2, acc[t][2]);
                    acc[t][3] = _mm512_fmadd_ps(b, u3, acc[t][3]);
                }
            }
            for (int t = 0; t < 5; t++)
                for (int q = 0; q < 4; q++) _mm512_store_ps(M + ((size_t)xi * 5 + t) * OC + q * 16, acc[t][q]);
        }
        for (int t = 0; t < 5; t++) {
            const int tile = t0 + t, py = tile / P, px = tile % P;
            for (int q = 0; q < 4; q++) {
                __m512 m[4][4], r[2][4];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) m[i][j] = _mm512_load_ps(M + ((size_t)(i * 4 + j) * 5 + t) * OC + q * 16);
                for (int j = 0; j < 4; j++) {
                    r[0][j] = _mm512_add_ps(_mm512_add_ps(m[0][j], m[1][j]), m[2][j]);
                    r[1][j] = _mm512_sub_ps(_mm512_sub_ps(m[1][j], m[2][j]), m[3][j]);
                }
                const __m512 bv = _mm512_loadu_ps(bias + q * 16);
                __m512 y[4];
                for (int i = 0; i < 2; i++) {
                    y[2 * i] = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r[i][0], r[i][1]), r[i][2]), bv);
                    y[2 * i + 1] = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(r[i][1], r[i][2]), r[i][3]), bv);
                }
                /* window order 00, 01, 10, 11; the first maximum on ties */
                const int base = ((2 * py) * OW + 2 * px) * OC + q * 16;
                const int offs[4] = {0, OC, OW * OC, OW * OC + OC};
                __m512 best = y[0];
                __m512i arg = _mm512_set1_epi32(base);
                for (int k = 1; k < 4; k++) {
                    __mmask16 gt = _mm512_cmp_ps_mask(y[k], best, _CMP_GT_OQ);
                    best = _mm512_mask_mov_ps(best, gt, y[k]);
                    arg = _mm512_mask_mov_epi32(arg, gt, _mm512_set1_epi32(base + offs[k]));
                }
                arg = _mm512_add_epi32(arg, _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
                _mm512_storeu_ps(out + (py * P + px) * OC + q * 16, _mm512_max_ps(best, _mm512_setzero_ps()));
                _mm512_storeu_si512(am + (py * P + px) * OC + q * 16, arg);
            }
        }
    }
}

/* The weight gradient through the same transforms (the F(2x2, 3x3)
 * forward's gradient): per image dU[16][C][OC] += V^T (A dY A^T), each pool
 * window's 2x2 of dy one tile; then dw = G^T dU G once per batch. */
static void wino_dw_image(float *dU, const float *img, const float *dy, float *V, float *Y)
{
    input_transform(V, img);
    for (int t = 0; t < T; t++) {
        const int py = t / P, px = t % P;
        for (int q = 0; q < 4; q++) {
            const float *d = dy + ((2 * py) * OW + 2 * px) * OC + q * 16;
            __m512 y00 = _mm512_loadu_ps(d), y01 = _mm512_loadu_ps(d + OC), y10 = _mm512_loadu_ps(d + OW * OC),
                   y11 = _mm512_loadu_ps(d + OW * OC + OC);
            /* rows of A dY: y0, y0 + y1, y0 - y1, -y1 (y0, y1 the two rows) */
            __m512 r[4][2] = {{y00, y01}, {_mm512_add_ps(y00, y10), _mm512_add_ps(y01, y11)},
                              {_mm512_sub_ps(y00, y10), _mm512_sub_ps(y01, y11)},
                              {_mm512_sub_ps(_mm512_setzero_ps(), y10), _mm512_sub_ps(_mm512_setzero_ps(), y11)}};
            for (int i = 0; i < 4; i++) {
                __m512 v[4] = {r[i][0], _mm512_add_ps(r[i][0], r[i][1]), _mm512_sub_ps(r[i][0], r[i][1]),
                               _mm512_sub_ps(_mm512_setzero_ps(), r[i][1])};
                for (int j = 0; j < 4; j++) _mm512_store_ps(Y + ((size_t)(i * 4 + j) * T + t) * OC + q * 16, v[j]);
            }
        }
    }
    for (int xi = 0; xi < 16; xi++)
        for (int c = 0; c < C; c += 4) {
            float *u = dU + ((size_t)xi * C + c) * OC;
            __m512 acc[4][4];
            for (int k = 0; k < 4; k++)
                for (int q = 0; q < 4; q++) acc[k][q] = _mm512_load_ps(u + k * OC + q * 16);
            const float *v = V + (size_t)xi * T * C + c, *y = Y + (size_t)xi * T * OC;
            for (int t = 0; t < T; t++) {
                __m512 d0 = _mm512_load_ps(y + t * OC), d1 = _mm512_load_ps(y + t * OC + 16),
                       d2 = _mm512_load_ps(y + t * OC + 32), d3 = _mm512_load_ps(y + t * OC + 48);
                for (int k = 0; k < 4; k++) {
                    __m512 b = _mm512_set1_ps(v[t * C + k]);
                    acc[k][0] = _mm512_fmadd_ps(b, d0, acc[k][0]);
                    acc[k][1] = _mm512_fmadd_ps(b, d1, acc[k][1]);
                    acc[k][2] = _mm512_fmadd_ps(b, d2, acc[k][2]);
                    acc[k][3] = _mm512_fmadd_ps(b, d3, acc[k][3]);
                }
            }
            for (int k = 0; k < 4; k++)
                for (int q = 0; q < 4; q++) _mm512_store_ps(u + k * OC + q * 16, acc[k][q]);
        }
}

static void wino_dw_finish(float *dw, const float *dU)
{
    for (int c = 0; c < C; c++)
        for (int o = 0; o < OC; o++) {
            float u[4][4], t[3][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) u[i][j] = dU[((size_t)(i * 4 + j) * C + c) * OC + o];
            for (int j = 0; j < 4; j++) {
                t[0][j] = u[0][j] + 0.5f * (u[1][j] + u[2][j]);
                t[1][j] = 0.5f * (u[1][j] - u[2][j]);
                t[2][j] = 0.5f * (u[1][j] + u[2][j]) + u[3][j];
            }
            for (int i = 0; i < 3; i++) {
                float g[3] = {t[i][0] + 0.5f * (t[i][1] + t[i][2]), 0.5f * (t[i][1] - t[i][2]),
                              0.5f * (t[i][1] + t[i][2]) + t[i][3]};
                for (int x = 0; x < 3; x++) dw[((i * 3 + x) * C + c) * OC + o] = g[x];
            }
        }
}

static uint64_t lcg = 7;
static float uni(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(lcg >> 40) * 0x1p-24f;
}

int main(int argc, char **argv)
{
    const int R = argc > 1 ? atoi(argv[1]) : 10;
    omp_set_num_threads(1);
    float *in = malloc(sizeof(float) * B * H * W * C), *w = malloc(sizeof(float) * 9 * C * OC), bias[OC];
    for (size_t i = 0; i < (size_t)B * H * W * C; i++) in[i] = uni() < 0.5f ? 0.0f : uni(); /* relu'd */
    for (int i = 0; i < 9 * C * OC; i++) w[i] = (2.0f * uni() - 1.0f) * 0.1f;
    for (int i = 0; i < OC; i++) bias[i] = (2.0f * uni() - 1.0f) * 0.01f;
    const size_t no = (size_t)B * P * P * OC;
    float *o1 = malloc(sizeof(float) * no), *o2 = malloc(sizeof(float) * no);
    int32_t *a1 = malloc(sizeof(int32_t) * no), *a2 = malloc(sizeof(int32_t) * no);
    float *U = aligned_alloc(64, sizeof(float) * 16 * C * OC), *V = aligned_alloc(64, sizeof(float) * 16 * T * C),
          *M = aligned_alloc(64, sizeof(float) * 16 * 5 * OC);
    double td = 1e9, tw = 1e9;
    for (int r = 0; r < R; r++) {
        double t0 = cpu();
        kiln_conv_pool_forward(o1, a1, NULL, in, w, bias, B, H, W, C, 3, OC, 0.0f, 1, 0);
        double t1 = cpu();
        filter_transform(U, w);
        for (int b = 0; b < B; b++)
            wino_image(o2 + (size_t)b * P * P * OC, a2 + (size_t)b * P * P * OC, in + (size_t)b * H * W * C, U, bias, V, M);
        double t2 = cpu();
        if (t1 - t0 < td) td = t1 - t0;
        if (t2 - t1 < tw) tw = t2 - t1;
    }
    /* the weight gradient from a random gradient at the block's output */
    float *dout = malloc(sizeof(float) * no), *dy = malloc(sizeof(float) * B * OW * OW * OC);
    for (size_t i = 0; i < no; i++) dout[i] = (2.0f * uni() - 1.0f) * 1e-3f;
    kiln_conv_pool_backward_pool(dy, dout, o1, a1, NULL, B, OW, OW, OC);
    float *dw1 = malloc(sizeof(float) * 9 * C * OC), *dw2 = malloc(sizeof(float) * 9 * C * OC), db[OC];
    float *dU = aligned_alloc(64, sizeof(float) * 16 * C * OC), *Y = aligned_alloc(64, sizeof(float) * 16 * T * OC);
    double gd = 1e9, gw = 1e9;
    for (int r = 0; r < R; r++) {
        double t0 = cpu();
        kiln_conv2d_backward(NULL, dw1, db, in, dy, w, B, H, W, C, 3, OC);
        double t1 = cpu();
        memset(dU, 0, sizeof(float) * 16 * C * OC);
        for (int b = 0; b < B; b++)
            wino_dw_image(dU, in + (size_t)b * H * W * C, dy + (size_t)b * OW * OW * OC, V, Y);
        wino_dw_finish(dw2, dU);
        double t2 = cpu();
        if (t1 - t0 < gd) gd = t1 - t0;
        if (t2 - t1 < gw) gw = t2 - t1;
    }
    double wd = 0, wv = 0;
    for (int i = 0; i < 9 * C * OC; i++) {
        wd = fmax(wd, fabs((double)dw1[i] - dw2[i]));
        wv = fmax(wv, fabs((double)dw1[i]));
    }
    printf("conv2 weight gradient, batch %d, 1 thread, fastest of %d: trainer (direct, with db) %.2f ms, Winograd %.2f ms "
           "(%.2fx); largest difference %.2g of the largest element\n", B, R, gd * 1e3, gw * 1e3, gd / gw, wd / wv);
    double maxd = 0, maxv = 0;
    size_t same = 0;
    for (size_t i = 0; i < no; i++) {
        maxd = fmax(maxd, fabs((double)o1[i] - o2[i]));
        maxv = fmax(maxv, fabs((double)o1[i]));
        same += a1[i] == a2[i];
    }
    printf("conv2 block forward, batch %d, 1 thread, fastest of %d: trainer (direct) %.2f ms, Winograd F(2x2,3x3) %.2f ms "
           "(%.2fx); largest difference %.2g (%.2g of the largest output), window maxima agree %.3f%%\n",
           B, R, td * 1e3, tw * 1e3, td / tw, maxd, maxd / maxv, 100.0 * same / no);
    return 0;
}
#else
int main(void)
{
    puts("bench_winograd: an AVX-512 prototype; this build has no AVX-512");
    return 0;
}
#endif
