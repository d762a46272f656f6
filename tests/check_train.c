/* Check suite for the trainer library: layer gradients, PyTorch parity,
 * optimizer rules, determinism, the IDX reader, config keys, model specs,
 * the weights file, divergence, and a real small training run. */
#include "testutil.h"
#include "kiln/train.h"
#include "train/net.h"

#include <gnu/libc-version.h>
#include <jansson.h>
#include <malloc.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdint.h>
#include <unistd.h>
#include <zlib.h>

static float frand(uint64_t *s) /* deterministic test data in [-1, 1) */
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) * 0x1p-24) * 2.0f - 1.0f;
}

static int close_enough(double got, double want, double tol)
{
    return fabs(got - want) <= tol || fabs(got - want) <= tol * fabs(want);
}

/* ------------------------------------------------------------------ GEMM */

static void naive_gemm(int ta, int tb, int M, int N, int K, const float *A, int lda,
                       const float *B, int ldb, double *C)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += a * b;
            }
            C[(size_t)i * N + j] = s;
        }
}

START_TEST(test_gemm_matches_reference)
{
    const int sizes[][3] = {{1, 1, 1}, {5, 7, 3}, {13, 33, 17}, {12, 32, 256}, {30, 70, 300}, {100, 10, 600},
                            {9, 32, 17000} /* K split in fixed chunks */};
    uint64_t s = 42;
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int acc = 0; acc < 2; acc++) {
                    int M = sizes[t][0], N = sizes[t][1], K = sizes[t][2];
                    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
                    float *C = malloc(sizeof(float) * M * N);
                    double *R = malloc(sizeof(double) * M * N);
                    for (int i = 0; i < M * K; i++) A[i] = frand(&s);
                    for (int i = 0; i < K * N; i++) B[i] = frand(&s);
                    for (int i = 0; i < M * N; i++) C[i] = acc ? 1.5f : 99.0f;
                    kiln_sgemm(ta, tb, M, N, K, A, ta ? M : K, B, tb ? K : N, C, N, acc);
                    naive_gemm(ta, tb, M, N, K, A, ta ? M : K, B, tb ? K : N, R);
                    for (int i = 0; i < M * N; i++)
                        /* float rounding grows like sqrt(K) */
                        ck_assert_msg(close_enough(C[i], R[i] + (acc ? 1.5 : 0.0), 1e-4 * fmax(1.0, sqrt(K) / 10)),
                                      "gemm %dx%dx%d ta=%d tb=%d acc=%d: C[%d]=%g want %g", M, N, K, ta, tb,
                                      acc, i, C[i], R[i]);
                    free(A); free(B); free(C); free(R);
                }
}
END_TEST

START_TEST(test_gemm_thread_count_invariant)
{
    for (int shape = 0; shape < 2; shape++) {
    const int M = shape ? 9 : 301, N = shape ? 32 : 70, K = shape ? 40000 : 777;
    uint64_t s = 7;
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
    for (int i = 0; i < M * K; i++) A[i] = frand(&s);
    for (int i = 0; i < K * N; i++) B[i] = frand(&s);
    omp_set_num_threads(1);
    kiln_sgemm(1, 0, M, N, K, A, M, B, N, C1, N, 0);
    omp_set_num_threads(2);
    kiln_sgemm(1, 0, M, N, K, A, M, B, N, C2, N, 0);
    ck_assert_int_eq(memcmp(C1, C2, sizeof(float) * M * N), 0);
    free(A); free(B); free(C1); free(C2);
    }
}
END_TEST

/* -------------------------------------------------- layer gradient checks */

/* For a layer y = f(x), check the backward pass against central differences
 * of L = sum(y * r) for a fixed random r, at a sample of inputs. */
typedef void (*fwd_fn)(const float *x, const float *p, float *y, void *ctx);

static void fd_check(const char *what, fwd_fn f, void *ctx, float *x, size_t nx,
                     float *p, size_t np, const float *r, size_t ny,
                     const float *gx, const float *gp)
{
    float *y = malloc(sizeof(float) * ny);
    const float h = 1e-2f;
    for (int which = 0; which < 2; which++) {
        float *v = which ? p : x;
        const float *g = which ? gp : gx;
        size_t n = which ? np : nx;
        if (!v || !g) continue;
        size_t stride = n > 60 ? n / 53 : 1;
        for (size_t i = 0; i < n; i += stride) {
            float keep = v[i];
            double lp = 0, lm = 0;
            v[i] = keep + h; f(x, p, y, ctx);
            for (size_t j = 0; j < ny; j++) lp += (double)y[j] * r[j];
            v[i] = keep - h; f(x, p, y, ctx);
            for (size_t j = 0; j < ny; j++) lm += (double)y[j] * r[j];
            v[i] = keep;
            double fd = (lp - lm) / (2.0 * h);
            ck_assert_msg(close_enough(g[i], fd, 2e-2),
                          "%s: d/d%s[%zu]: backward %g, finite difference %g", what,
                          which ? "param" : "input", i, g[i], fd);
        }
    }
    free(y);
}

typedef struct { int B, H, W, C, K, OC; } conv_ctx;
static void conv_fwd(const float *x, const float *p, float *y, void *vc)
{
    conv_ctx *c = vc;
    size_t nw = (size_t)c->K * c->K * c->C * c->OC;
    kiln_conv2d_forward(y, x, p, p + nw, c->B, c->H, c->W, c->C, c->K, c->OC);
}

START_TEST(test_grad_conv2d)
{
    conv_ctx c = {2, 7, 6, 3, 3, 4};
    int OH = c.H - c.K + 1, OW = c.W - c.K + 1;
    size_t nx = (size_t)c.B * c.H * c.W * c.C, nw = (size_t)c.K * c.K * c.C * c.OC, np = nw + c.OC;
    size_t ny = (size_t)c.B * OH * OW * c.OC;
    float *x = malloc(sizeof(float) * nx), *p = malloc(sizeof(float) * np), *r = malloc(sizeof(float) * ny);
    float *y = malloc(sizeof(float) * ny), *gx = malloc(sizeof(float) * nx), *gp = malloc(sizeof(float) * np);
    uint64_t s = 1;
    for (size_t i = 0; i < nx; i++) x[i] = frand(&s);
    for (size_t i = 0; i < np; i++) p[i] = frand(&s);
    for (size_t i = 0; i < ny; i++) r[i] = frand(&s);
    conv_fwd(x, p, y, &c);
    kiln_conv2d_backward(gx, gp, gp + nw, x, r, p, c.B, c.H, c.W, c.C, c.K, c.OC);
    fd_check("conv2d", conv_fwd, &c, x, nx, p, np, r, ny, gx, gp);
    free(x); free(p); free(r); free(y); free(gx); free(gp);
}
END_TEST

/* The implicit-GEMM convolution against a plain loop in double, on shapes
 * that exercise partial row panels, partial column panels, a K over one
 * K block (3*3*64 = 576) and images that straddle row panels; and the same
 * bits for 1 and 2 threads. */
static void conv_reference(double *y, double *gx, double *gw, const float *x, const float *w,
                           const float *g, int B, int H, int W, int C, int K, int OC)
{
    const int OH = H - K + 1, OW = W - K + 1;
    memset(gx, 0, sizeof(double) * B * H * W * C);
    memset(gw, 0, sizeof(double) * K * K * C * OC);
    for (int b = 0; b < B; b++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int o = 0; o < OC; o++) {
                    double s = 0;
                    size_t yo = (((size_t)b * OH + oy) * OW + ox) * OC + o;
                    for (int ky = 0; ky < K; ky++)
                        for (int kx = 0; kx < K; kx++)
                            for (int c = 0; c < C; c++) {
                                size_t xi = (((size_t)b * H + oy + ky) * W + ox + kx) * C + c;
                                size_t wi = (((size_t)ky * K + kx) * C + c) * OC + o;
                                s += (double)x[xi] * w[wi];
                                gx[xi] += (double)g[yo] * w[wi];
                                gw[wi] += (double)g[yo] * x[xi];
                            }
                    y[yo] = s;
                }
}

START_TEST(test_conv_matches_reference_and_threads)
{
    const int shapes[][6] = {{3, 13, 13, 32, 3, 64}, {2, 28, 28, 1, 3, 32}, {2, 9, 8, 64, 3, 20}, {1, 5, 7, 2, 2, 3}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const int B = shapes[t][0], H = shapes[t][1], W = shapes[t][2], C = shapes[t][3], K = shapes[t][4], OC = shapes[t][5];
        const int OH = H - K + 1, OW = W - K + 1;
        size_t nx = (size_t)B * H * W * C, nw = (size_t)K * K * C * OC, ny = (size_t)B * OH * OW * OC;
        float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * nw), *bias = malloc(sizeof(float) * OC);
        float *g = malloc(sizeof(float) * ny);
        float *y[2], *gx[2], *gw[2], *gb[2];
        double *ry = malloc(sizeof(double) * ny), *rgx = malloc(sizeof(double) * nx), *rgw = malloc(sizeof(double) * nw);
        uint64_t s = 3 + t;
        for (size_t i = 0; i < nx; i++) x[i] = frand(&s);
        for (size_t i = 0; i < nw; i++) w[i] = frand(&s);
        for (int i = 0; i < OC; i++) bias[i] = frand(&s);
        for (size_t i = 0; i < ny; i++) g[i] = frand(&s);
        for (int th = 0; th < 2; th++) {
            y[th] = malloc(sizeof(float) * ny); gx[th] = malloc(sizeof(float) * nx);
            gw[th] = malloc(sizeof(float) * nw); gb[th] = malloc(sizeof(float) * OC);
            omp_set_num_threads(th + 1);
            kiln_conv2d_forward(y[th], x, w, bias, B, H, W, C, K, OC);
            kiln_conv2d_backward(gx[th], gw[th], gb[th], x, g, w, B, H, W, C, K, OC);
        }
        omp_set_num_threads(2);
        ck_assert_int_eq(memcmp(y[0], y[1], sizeof(float) * ny), 0);
        ck_assert_int_eq(memcmp(gx[0], gx[1], sizeof(float) * nx), 0);
        ck_assert_int_eq(memcmp(gw[0], gw[1], sizeof(float) * nw), 0);
        ck_assert_int_eq(memcmp(gb[0], gb[1], sizeof(float) * OC), 0);
        conv_reference(ry, rgx, rgw, x, w, g, B, H, W, C, K, OC);
        for (size_t i = 0; i < ny; i++)
            ck_assert_msg(close_enough(y[0][i], ry[i] + bias[i % OC], 1e-4), "conv shape %zu: y[%zu] %g want %g",
                          t, i, y[0][i], ry[i] + bias[i % OC]);
        for (size_t i = 0; i < nx; i++)
            ck_assert_msg(close_enough(gx[0][i], rgx[i], 1e-4), "conv shape %zu: dx[%zu] %g want %g", t, i, gx[0][i], rgx[i]);
        for (size_t i = 0; i < nw; i++)
            ck_assert_msg(close_enough(gw[0][i], rgw[i], 1e-4), "conv shape %zu: dw[%zu] %g want %g", t, i, gw[0][i], rgw[i]);
        for (int th = 0; th < 2; th++) { free(y[th]); free(gx[th]); free(gw[th]); free(gb[th]); }
        free(x); free(w); free(bias); free(g); free(ry); free(rgx); free(rgw);
    }
}
END_TEST

/* The fused block conv -> relu -> pool -> dropout gives the same bytes as the
 * four layer functions one after the other, forward and backward, with and
 * without dropout, on an odd-sized conv output (11x11: the last row and
 * column are in no window) and an even one. */
START_TEST(test_conv_pool_fused_equals_layers)
{
    /* the article's first block and a second one of the direct road (C not
     * a multiple of 16: no Winograd), an odd conv output (the pool skips a
     * row and a column), a small conv whose OC is not a vector multiple, one with
     * patch rows long enough for the GEMM's kernel and OC < one tile */
    const int shapes[][6] = {{3, 13, 13, 24, 3, 64}, {2, 8, 10, 3, 3, 5}, {3, 28, 28, 1, 3, 32},
                             {2, 9, 12, 1, 3, 16}, {2, 7, 7, 2, 3, 24}, {2, 9, 8, 16, 3, 20}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++)
        for (int drop = 0; drop < 2; drop++) {
            const int B = shapes[t][0], H = shapes[t][1], W = shapes[t][2], C = shapes[t][3], K = shapes[t][4],
                      OC = shapes[t][5];
            const int OH = H - K + 1, OW = W - K + 1, PH = OH / 2, PW = OW / 2;
            size_t nx = (size_t)B * H * W * C, nw = (size_t)K * K * C * OC, ny = (size_t)B * OH * OW * OC;
            size_t np = (size_t)B * PH * PW * OC;
            float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * nw), *bias = malloc(sizeof(float) * OC);
            float *y = malloc(sizeof(float) * ny), *pool = malloc(sizeof(float) * np), *mask = malloc(sizeof(float) * np);
            float *fout = malloc(sizeof(float) * np), *fmask = malloc(sizeof(float) * np), *g = malloc(sizeof(float) * np);
            float *dy = malloc(sizeof(float) * ny), *fdy = malloc(sizeof(float) * ny);
            int32_t *arg = malloc(sizeof(int32_t) * np), *farg = malloc(sizeof(int32_t) * np);
            uint64_t s = 11 + t;
            for (size_t i = 0; i < nx; i++) x[i] = frand(&s);
            for (size_t i = 0; i < nw; i++) w[i] = frand(&s);
            for (int i = 0; i < OC; i++) bias[i] = 0.1f * frand(&s);
            for (size_t i = 0; i < np; i++) g[i] = frand(&s);
            /* the layers one by one */
            kiln_conv2d_forward(y, x, w, bias, B, H, W, C, K, OC);
            kiln_maxpool_forward(pool, arg, y, B, OH, OW, OC);
            kiln_relu_forward(pool, pool, np);
            if (drop) kiln_dropout_forward(pool, mask, pool, np, 0.25f, 9, 4);
            float *gd = malloc(sizeof(float) * np);
            if (drop) kiln_dropout_backward(gd, g, mask, np); else memcpy(gd, g, sizeof(float) * np);
            kiln_maxpool_relu_backward(dy, gd, pool, arg, B, OH, OW, OC);
            /* fused */
            kiln_conv_pool_forward(fout, farg, drop ? fmask : NULL, x, w, bias, B, H, W, C, K, OC, 0.25f, 9, 4);
            kiln_conv_pool_backward_pool(fdy, g, fout, farg, drop ? fmask : NULL, B, OH, OW, OC);
            ck_assert_int_eq(memcmp(fout, pool, sizeof(float) * np), 0);
            if (drop) ck_assert_int_eq(memcmp(fmask, mask, sizeof(float) * np), 0);
            ck_assert_int_eq(memcmp(fdy, dy, sizeof(float) * ny), 0);
            /* the block's input gradient: kiln_conv2d_backward's bits */
            float *din = malloc(sizeof(float) * nx), *fdin = malloc(sizeof(float) * nx);
            float *dw = malloc(sizeof(float) * nw), *db = malloc(sizeof(float) * OC);
            kiln_conv2d_backward(din, dw, db, x, dy, w, B, H, W, C, K, OC);
            kiln_conv_pool_backward_input(fdin, fdy, w, B, H, W, C, K, OC);
            ck_assert_int_eq(memcmp(fdin, din, sizeof(float) * nx), 0);
            /* all at once from g (a dy of its own): the same bits */
            float *dw2 = malloc(sizeof(float) * nw), *db2 = malloc(sizeof(float) * OC);
            kiln_conv_pool_backward(fdin, dw2, db2, g, fout, farg, drop ? fmask : NULL, x, w, B, H, W, C, K, OC);
            ck_assert_int_eq(memcmp(fdin, din, sizeof(float) * nx), 0);
            ck_assert_int_eq(memcmp(dw2, dw, sizeof(float) * nw), 0);
            ck_assert_int_eq(memcmp(db2, db, sizeof(float) * OC), 0);
            free(dw2); free(db2);
            w[nw / 2] = INFINITY; /* the long way: every row */
            kiln_conv2d_backward(din, dw, db, x, dy, w, B, H, W, C, K, OC);
            kiln_conv_pool_backward_input(fdin, fdy, w, B, H, W, C, K, OC);
            ck_assert_int_eq(memcmp(fdin, din, sizeof(float) * nx), 0);
            free(din); free(fdin); free(dw); free(db);
            /* both record per-image offsets of the same maxima (maxpool's
             * argmax is an offset within its image too) */
            ck_assert_int_eq(memcmp(farg, arg, sizeof(int32_t) * np), 0);
            free(x); free(w); free(bias); free(y); free(pool); free(mask); free(fout); free(fmask); free(g);
            free(dy); free(fdy); free(arg); free(farg); free(gd);
        }
}
END_TEST

/* The Winograd block (3x3, C and OC multiples of 16): outputs and
 * gradients within rounding of the direct convolution's, the same window
 * maxima, the same bytes for 1, 2 and 3 threads, and the first layer's
 * weights-only path equal to the full backward's dw and db. Shapes: the
 * article's second block (odd conv output), an even one with 16 channels
 * and a batch that ends mid-chunk, a tile count that is no multiple of 5. */
static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

START_TEST(test_winograd_block)
{
    const int shapes[][5] = {{37, 13, 13, 32, 64}, {18, 10, 12, 16, 32}, {3, 16, 8, 48, 16}};
    ck_assert(kiln_conv_pool_winograd(32, 3, 64));
    ck_assert(!kiln_conv_pool_winograd(24, 3, 64) && !kiln_conv_pool_winograd(32, 5, 64) &&
              !kiln_conv_pool_winograd(1, 3, 32) && !kiln_conv_pool_winograd(32, 3, 20));
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++)
        for (int drop = 0; drop < 2; drop++) {
            const int B = shapes[t][0], H = shapes[t][1], W = shapes[t][2], C = shapes[t][3], OC = shapes[t][4];
            const int OH = H - 2, OW = W - 2, PH = OH / 2, PW = OW / 2;
            const size_t nx = (size_t)B * H * W * C, nw = (size_t)9 * C * OC, ny = (size_t)B * OH * OW * OC;
            const size_t np = (size_t)B * PH * PW * OC;
            float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * nw), *bias = malloc(sizeof(float) * OC);
            float *y = malloc(sizeof(float) * ny), *pool = malloc(sizeof(float) * np), *g = malloc(sizeof(float) * np);
            float *mask = malloc(sizeof(float) * np), *dy = malloc(sizeof(float) * ny), *dy2 = malloc(sizeof(float) * ny);
            int32_t *arg = malloc(sizeof(int32_t) * np);
            float *out[3], *din[3], *dw[3], *db[3];
            int32_t *am[3];
            uint64_t s = 71 + t;
            for (size_t i = 0; i < nx; i++) x[i] = frand(&s) > 0.0f ? frand(&s) + 1.0f : 0.0f; /* relu'd */
            for (size_t i = 0; i < nw; i++) w[i] = 0.1f * frand(&s);
            for (int i = 0; i < OC; i++) bias[i] = 0.1f * frand(&s);
            for (size_t i = 0; i < np; i++) g[i] = frand(&s);
            for (int th = 0; th < 3; th++) {
                out[th] = malloc(sizeof(float) * np); am[th] = malloc(sizeof(int32_t) * np);
                din[th] = malloc(sizeof(float) * nx); dw[th] = malloc(sizeof(float) * nw);
                db[th] = malloc(sizeof(float) * OC);
                omp_set_num_threads(th + 1);
                kiln_conv_pool_forward(out[th], am[th], drop ? mask : NULL, x, w, bias, B, H, W, C, 3, OC, 0.25f, 3, 8);
                kiln_conv_pool_backward_pool(dy, g, out[th], am[th], drop ? mask : NULL, B, OH, OW, OC);
                kiln_conv_pool_backward_conv(din[th], dw[th], db[th], x, dy, w, B, H, W, C, 3, OC);
            }
            omp_set_num_threads(2);
            for (int th = 1; th < 3; th++) {
                ck_assert_int_eq(memcmp(out[0], out[th], sizeof(float) * np), 0);
                ck_assert_int_eq(memcmp(am[0], am[th], sizeof(int32_t) * np), 0);
                ck_assert_int_eq(memcmp(din[0], din[th], sizeof(float) * nx), 0);
                ck_assert_int_eq(memcmp(dw[0], dw[th], sizeof(float) * nw), 0);
                ck_assert_int_eq(memcmp(db[0], db[th], sizeof(float) * OC), 0);
            }
            /* the direct road: conv, pool, relu (dropout scales both alike) */
            kiln_conv2d_forward(y, x, w, bias, B, H, W, C, 3, OC);
            kiln_maxpool_forward(pool, arg, y, B, OH, OW, OC);
            kiln_relu_forward(pool, pool, np);
            if (drop)
                for (size_t i = 0; i < np; i++) pool[i] *= mask[i];
            const double so = max_abs(pool, np);
            size_t same = 0;
            for (size_t i = 0; i < np; i++) {
                ck_assert_msg(fabs(out[0][i] - pool[i]) <= 4e-6 * so, "shape %zu: out[%zu] %g, direct %g", t, i,
                              out[0][i], pool[i]);
                same += am[0][i] == arg[i];
            }
            ck_assert_msg(same >= np - np / 200, "shape %zu: %zu of %zu window maxima agree", t, same, np);
            /* gradients of the same dy through the direct convolution */
            float *rdin = malloc(sizeof(float) * nx), *rdw = malloc(sizeof(float) * nw), rdb[64];
            kiln_conv_pool_backward_pool(dy, g, out[0], am[0], drop ? mask : NULL, B, OH, OW, OC);
            kiln_conv2d_backward(rdin, rdw, rdb, x, dy, w, B, H, W, C, 3, OC);
            const double sx = max_abs(rdin, nx), sw = max_abs(rdw, nw), sb = max_abs(rdb, OC);
            for (size_t i = 0; i < nx; i++)
                ck_assert_msg(fabs(din[0][i] - rdin[i]) <= 4e-6 * sx, "shape %zu: din[%zu] %g, direct %g", t, i,
                              din[0][i], rdin[i]);
            for (size_t i = 0; i < nw; i++)
                ck_assert_msg(fabs(dw[0][i] - rdw[i]) <= 2e-5 * sw, "shape %zu: dw[%zu] %g, direct %g", t, i,
                              dw[0][i], rdw[i]);
            for (int i = 0; i < OC; i++)
                ck_assert_msg(fabs(db[0][i] - rdb[i]) <= 2e-5 * sb, "shape %zu: db[%d] %g, direct %g", t, i,
                              db[0][i], rdb[i]);
            /* the first layer's path: the same dw and db, bit for bit */
            kiln_conv_pool_backward_weights(rdw, rdb, dy2, g, out[0], am[0], drop ? mask : NULL, x, B, H, W, C, 3, OC);
            ck_assert_int_eq(memcmp(rdw, dw[0], sizeof(float) * nw), 0);
            ck_assert_int_eq(memcmp(rdb, db[0], sizeof(float) * OC), 0);
            /* the trainer's road, straight from g without dy: the same bits */
            memset(rdin, 0xff, sizeof(float) * nx);
            kiln_conv_pool_backward(rdin, rdw, rdb, g, out[0], am[0], drop ? mask : NULL, x, w, B, H, W, C, 3, OC);
            ck_assert_int_eq(memcmp(rdin, din[0], sizeof(float) * nx), 0);
            ck_assert_int_eq(memcmp(rdw, dw[0], sizeof(float) * nw), 0);
            ck_assert_int_eq(memcmp(rdb, db[0], sizeof(float) * OC), 0);
            for (int th = 0; th < 3; th++) { free(out[th]); free(am[th]); free(din[th]); free(dw[th]); free(db[th]); }
            free(x); free(w); free(bias); free(y); free(pool); free(g); free(mask); free(dy); free(dy2); free(arg);
            free(rdin); free(rdw);
        }
}
END_TEST

/* The first layer's backward without the conv-output gradient: the same
 * bits as the pool backward followed by the conv backward, on shapes whose
 * K chunks split (B*OH*OW >= 2*8192), cut images and bias chunks mid-way, and
 * with dropout; and the long way for an input that holds an infinity. */
START_TEST(test_conv_pool_backward_weights)
{
    const int shapes[][6] = {{40, 28, 28, 1, 3, 32}, {3, 28, 28, 1, 3, 32}, {30, 20, 21, 2, 3, 16},
                             {4, 9, 9, 1, 3, 5}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++)
        for (int variant = 0; variant < 3; variant++) { /* 0: no dropout, 1: dropout, 2: an inf in the input */
            const int B = shapes[t][0], H = shapes[t][1], W = shapes[t][2], C = shapes[t][3], K = shapes[t][4],
                      OC = shapes[t][5];
            const int OH = H - K + 1, OW = W - K + 1, PH = OH / 2, PW = OW / 2, KKC = K * K * C;
            size_t nx = (size_t)B * H * W * C, ny = (size_t)B * OH * OW * OC, np = (size_t)B * PH * PW * OC;
            float *x = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * KKC * OC), *bias = malloc(sizeof(float) * OC);
            float *out = malloc(sizeof(float) * np), *mask = malloc(sizeof(float) * np), *g = malloc(sizeof(float) * np);
            float *dy = malloc(sizeof(float) * ny), *dy2 = malloc(sizeof(float) * ny);
            float *dw = malloc(sizeof(float) * KKC * OC), *db = malloc(sizeof(float) * OC);
            float *dw2 = malloc(sizeof(float) * KKC * OC), *db2 = malloc(sizeof(float) * OC);
            int32_t *arg = malloc(sizeof(int32_t) * np);
            uint64_t s = 31 + t;
            for (size_t i = 0; i < nx; i++) x[i] = frand(&s) + 0.5f;
            for (size_t i = 0; i < (size_t)KKC * OC; i++) w[i] = frand(&s);
            for (int i = 0; i < OC; i++) bias[i] = 0.1f * frand(&s);
            for (size_t i = 0; i < np; i++) g[i] = i % 7 == 3 ? -0.0f : frand(&s);
            kiln_conv_pool_forward(out, arg, variant == 1 ? mask : NULL, x, w, bias, B, H, W, C, K, OC, 0.25f, 5, 6);
            if (variant == 2) x[nx / 2 + 1] = INFINITY;
            kiln_conv_pool_backward_pool(dy, g, out, arg, variant == 1 ? mask : NULL, B, OH, OW, OC);
            kiln_conv2d_backward(NULL, dw, db, x, dy, w, B, H, W, C, K, OC);
            kiln_conv_pool_backward_weights(dw2, db2, dy2, g, out, arg, variant == 1 ? mask : NULL, x, B, H, W, C, K, OC);
            ck_assert_msg(memcmp(dw, dw2, sizeof(float) * KKC * OC) == 0, "dw differs: shape %zu variant %d", t, variant);
            ck_assert_msg(memcmp(db, db2, sizeof(float) * OC) == 0, "db differs: shape %zu variant %d", t, variant);
            free(x); free(w); free(bias); free(out); free(mask); free(g); free(dy); free(dy2);
            free(dw); free(db); free(dw2); free(db2); free(arg);
        }
}
END_TEST

typedef struct { int B, D, N; } dense_ctx;
static void dense_fwd(const float *x, const float *p, float *y, void *vc)
{
    dense_ctx *c = vc;
    kiln_dense_forward(y, x, p, p + (size_t)c->D * c->N, c->B, c->D, c->N);
}

START_TEST(test_grad_dense)
{
    dense_ctx c = {3, 17, 5};
    size_t nx = 3 * 17, np = 17 * 5 + 5, ny = 15;
    float x[51], p[90], r[15], gx[51], gp[90];
    uint64_t s = 2;
    for (size_t i = 0; i < nx; i++) x[i] = frand(&s);
    for (size_t i = 0; i < np; i++) p[i] = frand(&s);
    for (size_t i = 0; i < ny; i++) r[i] = frand(&s);
    kiln_dense_backward(gx, gp, gp + 85, r, x, p, c.B, c.D, c.N);
    fd_check("dense", dense_fwd, &c, x, nx, p, np, r, ny, gx, gp);
}
END_TEST

typedef struct { int B, H, W, C; int32_t *arg; } pool_ctx;
static void pool_fwd(const float *x, const float *p, float *y, void *vc)
{
    (void)p;
    pool_ctx *c = vc;
    kiln_maxpool_forward(y, c->arg, x, c->B, c->H, c->W, c->C);
}

START_TEST(test_grad_maxpool_relu)
{
    pool_ctx c = {2, 5, 6, 3, NULL}; /* odd height: the last row is dropped (floor) */
    size_t nx = 2 * 5 * 6 * 3, ny = 2 * 2 * 3 * 3;
    float x[180], y[36], r[36], gx[180];
    int32_t arg[36];
    c.arg = arg;
    /* distinct values spaced wider than the finite-difference step */
    for (size_t i = 0; i < nx; i++) x[i] = (float)((i * 37) % nx) * 0.1f - 5.0f;
    uint64_t s = 3;
    for (size_t i = 0; i < ny; i++) r[i] = frand(&s);
    pool_fwd(x, NULL, y, &c);
    kiln_maxpool_backward(gx, r, arg, c.B, c.H, c.W, c.C);
    fd_check("maxpool", pool_fwd, &c, x, nx, NULL, 0, r, ny, gx, NULL);
    /* every output is the max of its window */
    for (int b = 0; b < 2; b++)
        for (int oy = 0; oy < 2; oy++)
            for (int ox = 0; ox < 3; ox++)
                for (int ch = 0; ch < 3; ch++) {
                    float m = -INFINITY;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++)
                            m = fmaxf(m, x[((b * 5 + 2 * oy + dy) * 6 + 2 * ox + dx) * 3 + ch]);
                    ck_assert_float_eq(y[((b * 2 + oy) * 3 + ox) * 3 + ch], m);
                }
    /* relu: gradient passes where the output is positive */
    float ro[180], rg[180];
    kiln_relu_forward(ro, x, nx);
    kiln_relu_backward(rg, gx, ro, nx);
    for (size_t i = 0; i < nx; i++) {
        ck_assert_float_eq(ro[i], x[i] > 0 ? x[i] : 0.0f);
        ck_assert_float_eq(rg[i], x[i] > 0 ? gx[i] : 0.0f);
    }
}
END_TEST

START_TEST(test_dropout_inverted_and_keyed)
{
    const size_t n = 100000;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n), *m = malloc(sizeof(float) * n);
    float *y2 = malloc(sizeof(float) * n), *m2 = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) x[i] = 1.0f;
    kiln_dropout_forward(y, m, x, n, 0.25f, 9, 5);
    size_t kept = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert(m[i] == 0.0f || fabsf(m[i] - 1.0f / 0.75f) < 1e-6f);
        kept += m[i] != 0.0f;
        sum += y[i];
    }
    ck_assert_msg(fabs((double)kept / n - 0.75) < 0.01, "kept fraction %g", (double)kept / n);
    ck_assert_msg(fabs(sum / n - 1.0) < 0.02, "mean after inverted dropout %g", sum / n);
    omp_set_num_threads(1); /* same key, one thread: same mask */
    kiln_dropout_forward(y2, m2, x, n, 0.25f, 9, 5);
    omp_set_num_threads(2);
    ck_assert_int_eq(memcmp(m, m2, sizeof(float) * n), 0);
    kiln_dropout_forward(y2, m2, x, n, 0.25f, 9, 6); /* another step: another mask */
    ck_assert_int_ne(memcmp(m, m2, sizeof(float) * n), 0);
    kiln_dropout_backward(g, x, m, n);
    ck_assert_int_eq(memcmp(g, m, sizeof(float) * n), 0);
    free(x); free(y); free(m); free(y2); free(m2); free(g);
}
END_TEST

START_TEST(test_softmax_xent)
{
    const int B = 3, N = 10;
    float z[30], d[30], loss[3];
    uint8_t lab[3] = {0, 5, 9}, cor[3];
    uint64_t s = 4;
    for (int i = 0; i < 30; i++) z[i] = 3.0f * frand(&s);
    z[10 + 5] = 50.0f;          /* confident and right */
    z[20 + 0] = 1000.0f;        /* huge logit: no overflow */
    kiln_softmax_xent(d, loss, cor, z, lab, B, N, 1.0f / B);
    for (int b = 0; b < B; b++) {
        double mx = -1e30, sum = 0;
        for (int j = 0; j < N; j++) mx = fmax(mx, z[b * N + j]);
        for (int j = 0; j < N; j++) sum += exp(z[b * N + j] - mx);
        double want = mx + log(sum) - z[b * N + lab[b]];
        ck_assert_msg(close_enough(loss[b], want, 1e-5), "loss[%d] %g want %g", b, loss[b], want);
        ck_assert(isfinite(loss[b]));
        double dsum = 0;
        for (int j = 0; j < N; j++) dsum += d[b * N + j];
        ck_assert(fabs(dsum) < 1e-6);
    }
    ck_assert_int_eq(cor[1], 1);
    ck_assert_int_eq(cor[2], 0);
    ck_assert(loss[2] > 900.0f);
    /* gradient by finite differences on example 0 */
    for (int j = 0; j < N; j++) {
        float keep = z[j], h = 1e-2f, lp, lm;
        z[j] = keep + h; kiln_softmax_xent(NULL, &lp, NULL, z, lab, 1, N, 1.0f);
        z[j] = keep - h; kiln_softmax_xent(NULL, &lm, NULL, z, lab, 1, N, 1.0f);
        z[j] = keep;
        ck_assert(close_enough(d[j] * B, (lp - lm) / (2 * h), 1e-2));
    }
}
END_TEST

/* ------------------------------------------------------ whole network */

static double net_loss(kiln_net *n, const uint8_t *labels, int B)
{
    const float *logits = kiln_net_forward(n, B, 0, 0, 0);
    kiln_softmax_xent(NULL, n->loss, NULL, logits, labels, B, 10, 1.0f);
    double s = 0;
    for (int b = 0; b < B; b++) s += n->loss[b];
    return s / B;
}

START_TEST(test_grad_whole_network)
{
    kiln_model m;
    char err[256];
    ck_assert_int_eq(kiln_model_build(&m, "conv:3x3,relu,pool:2,conv:4x3,relu,pool:2,dense:8,relu,dense:10", 12, 12, 1, err, sizeof err), 0);
    kiln_model_init(&m, 5);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] += 0.01f * (float)((int)(i % 7) - 3); /* non-zero biases */
    const int B = 3;
    kiln_net n;
    kiln_net_init(&n, &m, B);
    uint64_t s = 11;
    for (int i = 0; i < B * 144; i++) n.x[i] = 0.5f + 0.5f * frand(&s);
    uint8_t lab[3] = {1, 7, 3};
    const float *logits = kiln_net_forward(&n, B, 0, 0, 0);
    float dl[30];
    kiln_softmax_xent(dl, n.loss, NULL, logits, lab, B, 10, 1.0f / B);
    kiln_net_backward(&n, dl, B);
    int checked = 0;
    for (size_t i = 0; i < m.n_params; i += 3) {
        float keep = m.params[i], h = 5e-3f;
        m.params[i] = keep + h; double lp = net_loss(&n, lab, B);
        m.params[i] = keep - h; double lm = net_loss(&n, lab, B);
        m.params[i] = keep;
        double fd = (lp - lm) / (2 * h);
        ck_assert_msg(close_enough(m.grads[i], fd, 3e-2) || fabs(m.grads[i] - fd) < 2e-3,
                      "param %zu: backward %g, finite difference %g", i, m.grads[i], fd);
        checked++;
    }
    ck_assert_int_gt(checked, 50);
    kiln_net_free(&n);
    kiln_model_free(&m);
}
END_TEST

/* --------------------------------------------------------- PyTorch parity */

static json_t *load_fixture(void)
{
    json_error_t je;
    json_t *f = json_load_file("tests/fixtures/torch_parity.json", 0, &je);
    ck_assert_msg(f != NULL, "fixture: %s", je.text);
    return f;
}

static void fill(float *dst, const json_t *arr, size_t n)
{
    ck_assert_uint_eq(json_array_size(arr), n);
    for (size_t i = 0; i < n; i++) dst[i] = (float)json_number_value(json_array_get(arr, i));
}

START_TEST(test_parity_small_network_and_adam)
{
    json_t *fx = load_fixture();
    int B = (int)json_integer_value(json_object_get(fx, "batch"));
    json_t *sm = json_object_get(fx, "small");
    kiln_model m;
    char err[256];
    ck_assert_int_eq(kiln_model_build(&m, json_string_value(json_object_get(sm, "spec")), 28, 28, 1, err, sizeof err), 0);
    fill(m.params, json_object_get(sm, "params"), m.n_params);
    kiln_net n;
    kiln_net_init(&n, &m, B);
    fill(n.x, json_object_get(fx, "images"), (size_t)B * 784);
    uint8_t lab[16];
    for (int b = 0; b < B; b++) lab[b] = (uint8_t)json_integer_value(json_array_get(json_object_get(fx, "labels"), b));
    const float *logits = kiln_net_forward(&n, B, 0, 0, 0);
    float dl[160];
    kiln_softmax_xent(dl, n.loss, NULL, logits, lab, B, 10, 1.0f / B);
    double loss = 0;
    for (int b = 0; b < B; b++) loss += n.loss[b];
    loss /= B;
    double want = json_number_value(json_object_get(sm, "loss"));
    ck_assert_msg(close_enough(loss, want, 1e-5), "loss %.9g, torch %.9g", loss, want);
    kiln_net_backward(&n, dl, B);
    float *g = malloc(sizeof(float) * m.n_params), *w1 = malloc(sizeof(float) * m.n_params);
    fill(g, json_object_get(sm, "grads"), m.n_params);
    for (size_t i = 0; i < m.n_params; i++)
        ck_assert_msg(close_enough(m.grads[i], g[i], 1e-4), "grad[%zu] %.9g, torch %.9g", i, m.grads[i], g[i]);
    kiln_config c;
    kiln_config_init(&c);
    kiln_optimizer o;
    ck_assert_int_eq(kiln_optimizer_init(&o, &c, m.n_params, err, sizeof err), 0);
    kiln_optimizer_step(&o, m.params, m.grads, 1e-3);
    fill(w1, json_object_get(sm, "adam_params"), m.n_params);
    for (size_t i = 0; i < m.n_params; i++)
        ck_assert_msg(close_enough(m.params[i], w1[i], 1e-4), "param after Adam [%zu] %.9g, want %.9g", i, m.params[i], w1[i]);
    kiln_optimizer_free(&o);
    free(g); free(w1);
    kiln_net_free(&n);
    kiln_model_free(&m);
    json_decref(fx);
}
END_TEST

START_TEST(test_parity_seed_network)
{
    json_t *fx = load_fixture();
    int B = (int)json_integer_value(json_object_get(fx, "batch"));
    json_t *sd = json_object_get(fx, "seed");
    kiln_model m;
    char err[256];
    ck_assert_int_eq(kiln_model_build(&m, "conv:32x3,relu,pool:2,conv:64x3,relu,pool:2,dense:256,relu,dense:10", 28, 28, 1, err, sizeof err), 0);
    /* kernel/bias tensors in buffer order; element i of tensor t */
    int t = 0;
    for (int l = 0; l < m.n_layers; l++) {
        const kiln_layer *L = &m.layers[l];
        if (!L->n_w) continue;
        for (size_t i = 0; i < L->n_w; i++) m.params[L->w_off + i] = (float)(0.05 * sin(0.37 * (double)i + 1.3 * t));
        t++;
        for (size_t i = 0; i < L->n_b; i++) m.params[L->b_off + i] = (float)(0.05 * sin(0.37 * (double)i + 1.3 * t));
        t++;
    }
    kiln_net n;
    kiln_net_init(&n, &m, B);
    fill(n.x, json_object_get(fx, "images"), (size_t)B * 784);
    uint8_t lab[16];
    for (int b = 0; b < B; b++) lab[b] = (uint8_t)json_integer_value(json_array_get(json_object_get(fx, "labels"), b));
    const float *logits = kiln_net_forward(&n, B, 0, 0, 0);
    float dl[160];
    kiln_softmax_xent(dl, n.loss, NULL, logits, lab, B, 10, 1.0f / B);
    double loss = 0;
    for (int b = 0; b < B; b++) loss += n.loss[b];
    loss /= B;
    ck_assert_msg(close_enough(loss, json_number_value(json_object_get(sd, "loss")), 1e-5), "seed loss %.9g", loss);
    kiln_net_backward(&n, dl, B);
    json_t *gn = json_object_get(sd, "grad_norms");
    t = 0;
    for (int l = 0; l < m.n_layers; l++) {
        const kiln_layer *L = &m.layers[l];
        if (!L->n_w) continue;
        size_t off[2] = {L->w_off, L->b_off}, cnt[2] = {L->n_w, L->n_b};
        for (int k = 0; k < 2; k++, t++) {
            double s2 = 0;
            for (size_t i = 0; i < cnt[k]; i++) s2 += (double)m.grads[off[k] + i] * m.grads[off[k] + i];
            double want = json_number_value(json_array_get(gn, (size_t)t));
            ck_assert_msg(close_enough(sqrt(s2), want, 1e-4), "tensor %d gradient norm %.9g, torch %.9g", t, sqrt(s2), want);
        }
    }
    kiln_net_free(&n);
    kiln_model_free(&m);
    json_decref(fx);
}
END_TEST

/* ------------------------------------------------------------ optimizers */

/* Two steps of each optimizer on 3 parameters vs the rule in double. */
START_TEST(test_optimizer_rules)
{
    const char *names[] = {"sgd", "sgd-momentum", "sgd-nesterov", "adam", "adamax", "adadelta", "rmsprop", "rmsprop-momentum", "adagrad"};
    /* the last gradient is tiny: there epsilon's place in RMSprop matters */
    const float g1[4] = {0.5f, -0.25f, 2.0f, 1e-5f}, g2[4] = {-0.1f, 0.3f, 1.0f, -2e-5f};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        kiln_config c;
        kiln_config_init(&c);
        char err[512], opt[32];
        snprintf(opt, sizeof opt, "%s", names[k]);
        char *dash = strchr(opt, '-');
        if (dash) *dash = 0;
        ck_assert_int_eq(kiln_config_set(&c, "optimizer", opt, err, sizeof err), 0);
        if (strstr(names[k], "momentum") || strstr(names[k], "nesterov")) kiln_config_set(&c, "momentum", "0.9", err, sizeof err);
        if (strstr(names[k], "nesterov")) kiln_config_set(&c, "nesterov", "true", err, sizeof err);
        kiln_config_resolve(&c);
        kiln_optimizer o;
        ck_assert_int_eq(kiln_optimizer_init(&o, &c, 4, err, sizeof err), 0);
        float w[4] = {1.0f, -2.0f, 0.5f, 0.25f};
        double W[4] = {1.0, -2.0, 0.5, 0.25}, s1[4] = {0}, s2[4] = {0};
        const double lr = 0.01, e = c.epsilon, mu = c.momentum, b1 = c.beta1, b2 = c.beta2, rho = c.rho;
        if (!strcmp(opt, "adagrad")) for (int i = 0; i < 4; i++) s1[i] = c.initial_accumulator;
        for (int t = 1; t <= 2; t++) {
            const float *g = t == 1 ? g1 : g2;
            kiln_optimizer_step(&o, w, g, lr);
            for (int i = 0; i < 4; i++) {
                double gi = g[i];
                if (!strcmp(opt, "sgd")) {
                    if (mu == 0) W[i] -= lr * gi;
                    else {
                        s1[i] = mu * s1[i] - lr * gi;
                        W[i] += c.nesterov ? mu * s1[i] - lr * gi : s1[i];
                    }
                } else if (!strcmp(opt, "adam")) {
                    s1[i] = b1 * s1[i] + (1 - b1) * gi;
                    s2[i] = b2 * s2[i] + (1 - b2) * gi * gi;
                    W[i] -= lr * sqrt(1 - pow(b2, t)) / (1 - pow(b1, t)) * s1[i] / (sqrt(s2[i]) + e);
                } else if (!strcmp(opt, "adamax")) {
                    s1[i] = b1 * s1[i] + (1 - b1) * gi;
                    s2[i] = fmax(b2 * s2[i], fabs(gi));
                    W[i] -= lr / (1 - pow(b1, t)) * s1[i] / (s2[i] + e);
                } else if (!strcmp(opt, "adadelta")) {
                    s1[i] = rho * s1[i] + (1 - rho) * gi * gi;
                    double d = sqrt(s2[i] + e) / sqrt(s1[i] + e) * gi;
                    s2[i] = rho * s2[i] + (1 - rho) * d * d;
                    W[i] -= lr * d;
                } else if (!strcmp(opt, "rmsprop")) {
                    /* TF2: epsilon outside the root without momentum, inside with it */
                    s1[i] = rho * s1[i] + (1 - rho) * gi * gi;
                    if (mu > 0) { s2[i] = mu * s2[i] + lr * gi / sqrt(s1[i] + e); W[i] -= s2[i]; }
                    else W[i] -= lr * gi / (sqrt(s1[i]) + e);
                } else if (!strcmp(opt, "adagrad")) {
                    s1[i] += gi * gi;
                    W[i] -= lr * gi / (sqrt(s1[i]) + e);
                }
            }
        }
        for (int i = 0; i < 4; i++)
            ck_assert_msg(close_enough(w[i], W[i], 1e-5), "%s: w[%d] = %.9g, rule gives %.9g", names[k], i, w[i], W[i]);
        kiln_optimizer_free(&o);
    }
}
END_TEST

START_TEST(test_optimizer_defaults)
{
    kiln_config c;
    char err[256];
    kiln_config_init(&c);
    kiln_config_resolve(&c);
    ck_assert(c.learning_rate == 0.001 && c.beta1 == 0.9 && c.beta2 == 0.999 && c.epsilon == 1e-7);
    kiln_config_init(&c);
    kiln_config_set(&c, "optimizer", "sgd", err, sizeof err);
    kiln_config_resolve(&c);
    ck_assert(c.learning_rate == 0.01 && c.momentum == 0.0);
    kiln_config_init(&c);
    kiln_config_set(&c, "optimizer", "adadelta", err, sizeof err);
    kiln_config_resolve(&c);
    ck_assert(c.learning_rate == 0.001 && c.rho == 0.95);
    kiln_config_init(&c);
    kiln_config_set(&c, "optimizer", "rmsprop", err, sizeof err);
    kiln_config_resolve(&c);
    ck_assert(c.rho == 0.9);
}
END_TEST

/* ----------------------------------------------------------------- config */

START_TEST(test_config_errors_name_key)
{
    kiln_config c;
    kiln_config_init(&c);
    char err[2048];
    ck_assert_int_ne(kiln_config_set_kv(&c, "learnin_rate=0.1", err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "learnin_rate"));
    ck_assert_ptr_nonnull(strstr(err, "learning_rate")); /* the accepted keys are listed */
    ck_assert_int_ne(kiln_config_set_kv(&c, "optimizer=adamw", err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "optimizer"));
    ck_assert_ptr_nonnull(strstr(err, "adamax"));
    ck_assert_int_ne(kiln_config_set_kv(&c, "epochs=0", err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "epochs"));
    ck_assert_int_ne(kiln_config_set_kv(&c, "learning_rate=-1", err, sizeof err), 0);
    ck_assert_int_ne(kiln_config_set_kv(&c, "learning_rate=abc", err, sizeof err), 0);
    ck_assert_int_ne(kiln_config_set_kv(&c, "batch_size=12x", err, sizeof err), 0);
    ck_assert_int_ne(kiln_config_set_kv(&c, "validation_split=1.5", err, sizeof err), 0);
    ck_assert_int_ne(kiln_config_set_kv(&c, "shuffle=maybe", err, sizeof err), 0);
    ck_assert_int_ne(kiln_config_set_kv(&c, "seed=-3", err, sizeof err), 0);
    ck_assert_int_ne(kiln_config_set_kv(&c, "noequals", err, sizeof err), 0);
    ck_assert_int_eq(kiln_config_set_kv(&c, "model=conv:8x30,dense:10", err, sizeof err), 0);
    ck_assert_int_ne(kiln_config_validate(&c, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "layer 1"));
    ck_assert_ptr_nonnull(strstr(err, "conv:8x30"));
}
END_TEST

START_TEST(test_config_canonical)
{
    kiln_config a, b;
    char err[512];
    kiln_config_init(&a);
    kiln_config_init(&b);
    kiln_config_set_kv(&a, "learning_rate=1e-3", err, sizeof err);
    kiln_config_set_kv(&a, "epochs=3", err, sizeof err);
    kiln_config_set_kv(&b, "epochs=3", err, sizeof err);      /* other order, default lr */
    kiln_config_set_kv(&b, "threads=1", err, sizeof err);     /* not a result setting */
    kiln_config_set_kv(&b, "momentum=0.5", err, sizeof err);  /* irrelevant for adam */
    kiln_config_set_kv(&b, "model=conv:32x3, relu,pool:2,drop:.25,conv:64x3,relu,pool,drop:0.25,flatten,dense:256,relu,dense:10", err, sizeof err);
    char *ca = kiln_config_canonical(&a), *cb = kiln_config_canonical(&b);
    ck_assert_str_eq(ca, cb);
    /* without flatten the dense layers have other indices, so other initial
     * weights and dropout streams: another network, another key */
    kiln_config d = b;
    kiln_config_set_kv(&d, "model=conv:32x3,relu,pool:2,drop:0.25,conv:64x3,relu,pool:2,drop:0.25,dense:256,relu,dense:10", err, sizeof err);
    char *cd = kiln_config_canonical(&d);
    ck_assert_str_ne(ca, cd);
    free(cd);
    kiln_config_set_kv(&b, "learning_rate=0.0011", err, sizeof err);
    char *cc = kiln_config_canonical(&b);
    ck_assert_str_ne(ca, cc);
    ck_assert_ptr_null(strstr(ca, "threads"));
    free(ca); free(cb); free(cc);
}
END_TEST

START_TEST(test_model_spec_errors)
{
    kiln_model m;
    char err[512];
    ck_assert_int_ne(kiln_model_build(&m, "conv:32x3,relu,dense:11", 28, 28, 1, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "dense:10"));
    ck_assert_int_ne(kiln_model_build(&m, "conv:32x3,wobble,dense:10", 28, 28, 1, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "layer 2 'wobble'"));
    ck_assert_int_ne(kiln_model_build(&m, "pool:2,pool:2,pool:2,pool:2,pool:2,dense:10", 28, 28, 1, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "layer 5"));
    ck_assert_int_ne(kiln_model_build(&m, "drop:1.5,dense:10", 28, 28, 1, err, sizeof err), 0);
    ck_assert_int_eq(kiln_model_build(&m, "seed", 28, 28, 1, err, sizeof err), 0);
    ck_assert_uint_eq(m.n_params, 320 + 18496 + 409856 + 2570); /* Keras' model.summary() total */
    kiln_model_init(&m, 1);
    /* glorot_uniform bound for the first kernel: sqrt(6 / (9 + 288)) */
    float lim = sqrtf(6.0f / (9 + 288)), mx = 0;
    for (size_t i = 0; i < 288; i++) mx = fmaxf(mx, fabsf(m.params[i]));
    ck_assert(mx <= lim && mx > 0.9f * lim);
    for (size_t i = 288; i < 320; i++) ck_assert_float_eq(m.params[i], 0.0f);
    kiln_model_free(&m);
}
END_TEST

/* A model too large for memory is refused by the trainer's own shape walk
 * before anything is allocated: in a child whose address space is capped at
 * 1 GiB, the 4.3-billion-parameter model and the 692-million-activation batch
 * are refused with the limits named (not killed by the allocator), and the
 * shape walk counts what the built model holds. */
static int limits_in_capped_child(void)
{
#ifndef __SANITIZE_ADDRESS__ /* ASan reserves terabytes of shadow memory */
    struct rlimit r = {1ul << 30, 1ul << 30};
    if (setrlimit(RLIMIT_AS, &r)) return 10;
#endif
    char e[512];
    kiln_model m;
    if (kiln_model_check("flatten,dense:65536,dense:65536,dense:10", 28, 28, 1, 1, e, sizeof e) == 0) return 11;
    if (!strstr(e, "4347133962 parameters") || !strstr(e, "at most 100 million")) return 12;
    if (kiln_model_build(&m, "flatten,dense:65536,dense:65536,dense:10", 28, 28, 1, e, sizeof e) == 0) return 13;
    if (m.params || !strstr(e, "at most 100 million")) return 14;
    /* 26*26*4096 + 24*24*64 + 36864 + 10 floats per image, 250 images */
    if (kiln_model_check("conv:4096x3,relu,conv:64x3,flatten,dense:10", 28, 28, 1, 250, e, sizeof e) == 0) return 15;
    if (!strstr(e, "per batch of 250") || !strstr(e, "at most 500 million")) return 16;
    if (kiln_model_check("conv:4096x3,relu,conv:64x3,flatten,dense:10", 28, 28, 1, 16, e, sizeof e)) return 17;
    kiln_config c;
    kiln_config_init(&c);
    strcpy(c.model, "flatten,dense:65536,dense:65536,dense:10");
    if (kiln_config_validate(&c, e, sizeof e) == 0 || !strstr(e, "key 'model'") || !strstr(e, "at most 100 million")) return 18;
    strcpy(c.model, "conv:4096x3,relu,conv:64x3,flatten,dense:10");
    if (kiln_config_validate(&c, e, sizeof e) == 0 || !strstr(e, "per batch of 250")) return 19;
    return 0;
}

START_TEST(test_model_limits_before_allocation)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) _exit(limits_in_capped_child());
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: status %d (exit %d)", st, WEXITSTATUS(st));
    static const char *const specs[] = {
        "seed", "flatten,dense:10", "conv:8x5,pool,conv:16x3,relu,dense:10",
        "conv:3x1,drop:0.5,conv:7x7,pool:2,flatten,dense:33,dense:10",
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        kiln_model m;
        char e[256];
        ck_assert_msg(kiln_model_build(&m, specs[i], 28, 28, 1, e, sizeof e) == 0, "%s", e);
        const kiln_layer *last = &m.layers[m.n_layers - 1];
        ck_assert_uint_eq(m.n_acts, last->act_off + (size_t)last->out_c * last->out_h * last->out_w);
        ck_assert_int_eq(kiln_model_check(specs[i], 28, 28, 1, 250, e, sizeof e), 0);
        kiln_model_free(&m);
    }
}
END_TEST

/* ------------------------------------------------------------ weights file */

START_TEST(test_weights_roundtrip_and_corruption)
{
    char dir[64], path[128];
    ck_assert_ptr_nonnull(test_tmpdir(dir));
    snprintf(path, sizeof path, "%s/w.bin", dir);
    kiln_model a, b;
    char err[512];
    ck_assert_int_eq(kiln_model_build(&a, "conv:4x3,relu,pool:2,dense:10", 28, 28, 1, err, sizeof err), 0);
    ck_assert_int_eq(kiln_model_build(&b, "conv:4x3,relu,pool:2,dense:10", 28, 28, 1, err, sizeof err), 0);
    kiln_model_init(&a, 3);
    ck_assert_int_eq(kiln_weights_save(&a, path, err, sizeof err), 0);
    ck_assert_int_eq(kiln_weights_load(&b, path, err, sizeof err), 0);
    ck_assert_int_eq(memcmp(a.params, b.params, sizeof(float) * a.n_params), 0);
    size_t len = 0;
    char *bytes = test_read_file(path, &len);
    bytes[len / 2] ^= 0x10;
    test_write_file(path, bytes, len);
    ck_assert_int_ne(kiln_weights_load(&b, path, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "checksum"));
    bytes[len / 2] ^= 0x10;
    test_write_file(path, bytes, len - 7);
    ck_assert_int_ne(kiln_weights_load(&b, path, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "truncated"));
    test_write_file(path, "NOTKILN!", 8);
    ck_assert_int_ne(kiln_weights_load(&b, path, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "magic"));
    free(bytes);
    kiln_model_free(&a);
    kiln_model_free(&b);
}
END_TEST

/* ---------------------------------------------------------------- IDX */

static void put32(unsigned char *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

static void write_idx(const char *path, uint32_t magic, int nd, const uint32_t *dims, size_t payload, int gz)
{
    size_t len = 4 + 4 * (size_t)nd + payload;
    unsigned char *b = calloc(1, len);
    put32(b, magic);
    for (int i = 0; i < nd; i++) put32(b + 4 + 4 * i, dims[i]);
    for (size_t i = 0; i < payload; i++) b[4 + 4 * nd + i] = (unsigned char)(i % 10);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, b, (unsigned)len);
        gzclose(f);
    } else {
        test_write_file(path, b, len);
    }
    free(b);
}

START_TEST(test_idx_reader)
{
    char dir[64], im[128], lb[128], err[512];
    ck_assert_ptr_nonnull(test_tmpdir(dir));
    snprintf(im, sizeof im, "%s/im", dir);
    snprintf(lb, sizeof lb, "%s/lb", dir);
    uint32_t d3[3] = {5, 4, 3}, d1[1] = {5}, d1b[1] = {6};
    kiln_dataset ds;
    write_idx(im, 0x803, 3, d3, 60, 0);
    write_idx(lb, 0x801, 1, d1, 5, 1); /* gzipped labels read transparently */
    ck_assert_msg(kiln_idx_load(im, lb, &ds, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(ds.n, 5);
    ck_assert_int_eq(ds.rows, 4);
    ck_assert_int_eq(ds.cols, 3);
    ck_assert_int_eq(ds.images[13], 3);
    ck_assert_int_eq(ds.labels[4], 4);
    kiln_dataset_free(&ds);
    write_idx(im, 0x803, 3, d3, 59, 0); /* truncated */
    ck_assert_int_ne(kiln_idx_load(im, lb, &ds, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "truncated"));
    ck_assert_ptr_nonnull(strstr(err, im));
    write_idx(im, 0x803, 3, d3, 61, 0); /* trailing bytes */
    ck_assert_int_ne(kiln_idx_load(im, lb, &ds, err, sizeof err), 0);
    write_idx(im, 0x802, 3, d3, 60, 0); /* wrong magic */
    ck_assert_int_ne(kiln_idx_load(im, lb, &ds, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "magic"));
    uint32_t d0[3] = {5, 0, 3};         /* wrong dimensions */
    write_idx(im, 0x803, 3, d0, 0, 0);
    ck_assert_int_ne(kiln_idx_load(im, lb, &ds, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "dimension"));
    write_idx(im, 0x803, 3, d3, 60, 0);
    write_idx(lb, 0x801, 1, d1b, 6, 0); /* 5 images, 6 labels */
    ck_assert_int_ne(kiln_idx_load(im, lb, &ds, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "6 labels"));
    ck_assert_int_ne(kiln_idx_load("/nonexistent/x", lb, &ds, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x"));
}
END_TEST

/* ------------------------------------------------------- training runs */

static kiln_dataset TRAIN, TEST;
static int have_data;

static void load_data(void)
{
    char err[512];
    if (have_data) return;
    ck_assert_msg(kiln_mnist_load(test_data_dir(), &TRAIN, &TEST, err, sizeof err) == 0, "%s", err);
    have_data = 1;
}

static void set(kiln_config *c, const char *kv)
{
    char err[512];
    ck_assert_msg(kiln_config_set_kv(c, kv, err, sizeof err) == 0, "%s", err);
}

START_TEST(test_mnist_real_files)
{
    load_data();
    ck_assert_int_eq(TRAIN.n, 60000);
    ck_assert_int_eq(TEST.n, 10000);
    ck_assert_int_eq(TRAIN.rows, 28);
    ck_assert_int_eq(TRAIN.labels[0], 5); /* the famous first digit */
    char dig[65];
    kiln_dataset_digest(&TRAIN, &TEST, dig);
    ck_assert_uint_eq(strlen(dig), 64);
}
END_TEST

START_TEST(test_determinism_threads)
{
    load_data();
    kiln_history h[2];
    kiln_model m[2];
    char err[512];
    for (int t = 0; t < 2; t++) {
        kiln_config c;
        kiln_config_init(&c);
        set(&c, "train_limit=1500");
        set(&c, "test_limit=300");
        set(&c, "epochs=2");
        set(&c, "batch_size=100");
        set(&c, t ? "threads=2" : "threads=1");
        ck_assert_msg(kiln_train(&c, &TRAIN, &TEST, &h[t], &m[t], NULL, err, sizeof err) == 0, "%s", err);
    }
    ck_assert_int_eq(h[0].n_steps, h[1].n_steps);
    ck_assert_int_eq(memcmp(h[0].steps, h[1].steps, sizeof(kiln_step_log) * h[0].n_steps), 0);
    for (int e = 0; e < 2; e++) {
        ck_assert(h[0].epochs[e].loss == h[1].epochs[e].loss);
        ck_assert(h[0].epochs[e].val_loss == h[1].epochs[e].val_loss);
        ck_assert(h[0].epochs[e].val_accuracy == h[1].epochs[e].val_accuracy);
    }
    ck_assert(h[0].test_loss == h[1].test_loss);
    ck_assert_int_eq(memcmp(m[0].params, m[1].params, sizeof(float) * m[0].n_params), 0);
    for (int t = 0; t < 2; t++) { kiln_history_free(&h[t]); kiln_model_free(&m[t]); }
}
END_TEST

START_TEST(test_small_training_run_learns)
{
    load_data();
    kiln_config c;
    kiln_config_init(&c);
    set(&c, "train_limit=2000");
    set(&c, "validation_split=0");
    set(&c, "test_limit=1000");
    set(&c, "epochs=2");
    set(&c, "batch_size=32");
    kiln_history h;
    char err[512];
    ck_assert_msg(kiln_train(&c, &TRAIN, &TEST, &h, NULL, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(h.n_train, 2000);
    ck_assert_int_eq(h.n_test, 1000);
    ck_assert_int_eq(h.n_epochs, 2);
    ck_assert_int_eq(h.n_steps, 2 * 63);
    ck_assert(h.epochs[1].loss < h.epochs[0].loss);
    ck_assert_msg(h.test_accuracy >= 0.85, "test accuracy %g", h.test_accuracy);
    /* JSON round trip */
    char *js = kiln_history_to_json(&h);
    kiln_history r;
    ck_assert_msg(kiln_history_from_json(&r, js, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(r.n_steps, h.n_steps);
    ck_assert(fabs(r.test_accuracy - h.test_accuracy) < 1e-8);
    ck_assert(r.steps[5].loss == h.steps[5].loss);
    free(js);
    kiln_history_free(&r);
    kiln_history_free(&h);
}
END_TEST

START_TEST(test_validation_split_is_last_fraction)
{
    load_data();
    kiln_config c;
    kiln_config_init(&c);
    set(&c, "train_limit=1000");
    set(&c, "test_limit=100");
    set(&c, "epochs=1");
    set(&c, "validation_split=0.2");
    kiln_history h;
    kiln_model m;
    char err[512];
    ck_assert_int_eq(kiln_train(&c, &TRAIN, &TEST, &h, &m, NULL, err, sizeof err), 0);
    ck_assert_int_eq(h.n_train, 800);
    ck_assert_int_eq(h.n_val, 200);
    /* val metrics are those of examples 800..999 with the final weights */
    double vl, va;
    kiln_evaluate(&m, &TRAIN, 800, 200, 0, &vl, &va);
    ck_assert(vl == h.epochs[0].val_loss);
    ck_assert(va == h.epochs[0].val_accuracy);
    kiln_history_free(&h);
    kiln_model_free(&m);
}
END_TEST

START_TEST(test_divergence_is_a_result)
{
    load_data();
    kiln_config c;
    kiln_config_init(&c);
    set(&c, "train_limit=600");
    set(&c, "test_limit=200");
    set(&c, "epochs=2");
    set(&c, "batch_size=100");
    set(&c, "optimizer=sgd");
    set(&c, "learning_rate=1e6");
    kiln_history h;
    char err[512];
    ck_assert_msg(kiln_train(&c, &TRAIN, &TEST, &h, NULL, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(h.diverged, 1);
    ck_assert_int_ge(h.diverged_step, 0);
    ck_assert_int_eq(h.n_epochs, 2); /* kept going, as Keras does */
    ck_assert(h.test_accuracy >= 0.0 && h.test_accuracy <= 0.3);
    char *js = kiln_history_to_json(&h); /* NaN is written as null */
    ck_assert_ptr_nonnull(strstr(js, "null"));
    free(js);
    kiln_history_free(&h);
    set(&c, "stop_on_nan=true");
    ck_assert_int_eq(kiln_train(&c, &TRAIN, &TEST, &h, NULL, NULL, err, sizeof err), 0);
    ck_assert_str_eq(h.stopped_by, "terminate_on_nan");
    ck_assert_int_eq(h.n_epochs, 1);
    ck_assert_int_eq(h.n_steps, h.diverged_step + 1);
    kiln_history_free(&h);
}
END_TEST

/* ------------------------------------------------- the deferred fixes (issue 15) */

/* Adam and Adamax: the bias correction uses the same float betas as the
 * moments. One step from zero state, recomputed here with the very float
 * operations of the rule: bit for bit. */
START_TEST(test_adam_bias_correction_uses_float_betas)
{
    const char *opts[] = {"adam", "adamax"};
    const float g[6] = {0.5f, -0.25f, 2.0f, 1e-3f, -3.7f, 0.011f};
    for (int k = 0; k < 2; k++) {
        kiln_config c;
        kiln_config_init(&c);
        char err[256];
        ck_assert_int_eq(kiln_config_set(&c, "optimizer", opts[k], err, sizeof err), 0);
        kiln_optimizer o;
        ck_assert_int_eq(kiln_optimizer_init(&o, &c, 6, err, sizeof err), 0);
        float w[6] = {1.0f, -2.0f, 0.5f, 0.25f, 3.0f, -0.75f}, want[6];
        memcpy(want, w, sizeof w);
        const double lr = 0.001;
        const float b1 = (float)c.beta1, b2 = (float)c.beta2, eps = (float)c.epsilon;
        for (int t = 1; t <= 3; t++) {
            kiln_optimizer_step(&o, w, g, lr);
            (void)t;
        }
        /* the same three steps by hand */
        float m[6] = {0}, v[6] = {0};
        for (int t = 1; t <= 3; t++) {
            const float alpha = k == 0 ? (float)(lr * sqrt(1.0 - pow((double)b2, t)) / (1.0 - pow((double)b1, t)))
                                       : (float)(lr / (1.0 - pow((double)b1, t)));
            for (int i = 0; i < 6; i++) {
                m[i] = b1 * m[i] + (1.0f - b1) * g[i];
                if (k == 0) {
                    v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
                    want[i] -= alpha * m[i] / (sqrtf(v[i]) + eps);
                } else {
                    v[i] = fmaxf(b2 * v[i], fabsf(g[i]));
                    want[i] -= alpha * m[i] / (v[i] + eps);
                }
            }
        }
        for (int i = 0; i < 6; i++)
            ck_assert_msg(!memcmp(&w[i], &want[i], sizeof(float)), "%s: w[%d] = %a, the float-beta rule gives %a", opts[k],
                          i, (double)w[i], (double)want[i]);
        kiln_optimizer_free(&o);
    }
}
END_TEST

/* RMSprop and Adagrad against PyTorch's fixture: three steps with the
 * fixture's gradients, the update written out by hand in make_fixture.py in
 * TF2's form (epsilon outside the root; accumulator 0 for RMSprop, 0.1 for
 * Adagrad). */
START_TEST(test_parity_rmsprop_adagrad)
{
    json_t *fx = load_fixture();
    json_t *sm = json_object_get(fx, "small");
    const char *names[] = {"rmsprop", "adagrad"};
    for (int k = 0; k < 2; k++) {
        json_t *want_a = json_object_get(sm, k ? "adagrad_params" : "rmsprop_params");
        ck_assert_msg(json_is_array(want_a), "fixture lacks small.%s_params", names[k]);
        size_t n = json_array_size(json_object_get(sm, "params"));
        float *w = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * n), *want = malloc(sizeof(float) * n);
        fill(w, json_object_get(sm, "params"), n);
        fill(g, json_object_get(sm, "grads"), n);
        fill(want, want_a, n);
        kiln_config c;
        kiln_config_init(&c);
        char err[256];
        ck_assert_int_eq(kiln_config_set(&c, "optimizer", names[k], err, sizeof err), 0);
        kiln_optimizer o;
        ck_assert_int_eq(kiln_optimizer_init(&o, &c, n, err, sizeof err), 0);
        int steps = (int)json_integer_value(json_object_get(sm, "optimizer_steps"));
        ck_assert_int_ge(steps, 1);
        for (int t = 0; t < steps; t++) kiln_optimizer_step(&o, w, g, 1e-3);
        int moved = 0;
        for (size_t i = 0; i < n; i++) {
            float w0 = (float)json_number_value(json_array_get(json_object_get(sm, "params"), i));
            moved += w[i] != w0;
            /* relative to the step taken: epsilon inside the root changes the
             * small-gradient steps by up to 100% */
            double step = fabs((double)want[i] - w0);
            ck_assert_msg(fabs((double)w[i] - want[i]) <= 1e-3 * step + 1e-7, "%s: param[%zu] %.9g, the rule gives %.9g (step %.3g)",
                          names[k], i, w[i], want[i], step);
        }
        ck_assert_int_gt(moved, (int)n / 2);
        kiln_optimizer_free(&o);
        free(w); free(g); free(want);
    }
    json_decref(fx);
}
END_TEST

/* one_cycle cycles beta1/momentum as PyTorch's OneCycleLR does by default:
 * 0.95 at the start and the end, 0.85 at the peak rate, cosine in between. */
START_TEST(test_one_cycle_cycles_momentum)
{
    kiln_config c;
    kiln_config_init(&c);
    set(&c, "schedule=one_cycle");
    set(&c, "max_lr=0.01");
    set(&c, "epochs=10");
    kiln_sched_state st;
    kiln_sched_init(&st, &c, 100); /* T = 1000, peak at step 299 */
    ck_assert(kiln_sched_cycles_momentum(&c));
    kiln_sched_point p = {0, 0, 0, NAN};
    ck_assert(fabs(kiln_sched_momentum(&st, &c, &p) - 0.95) < 1e-12);
    p.global_step = 299;
    ck_assert(fabs(kiln_sched_momentum(&st, &c, &p) - 0.85) < 1e-12);
    ck_assert(fabs(kiln_sched_lr(&st, &c, &p) - 0.01) < 1e-12);
    p.global_step = 999;
    ck_assert(fabs(kiln_sched_momentum(&st, &c, &p) - 0.95) < 1e-12);
    /* half way up: PyTorch's _annealing_cos(0.95, 0.85, 0.5) */
    p.global_step = 0;
    p.global_step = (long)(299 / 2);
    double pct = 149.0 / 299.0, want = 0.85 + (0.95 - 0.85) / 2 * (cos(M_PI * pct) + 1);
    ck_assert(fabs(kiln_sched_momentum(&st, &c, &p) - want) < 1e-12);
    /* the momentum goes down while the rate goes up */
    kiln_sched_point q = p;
    q.global_step = 150;
    ck_assert(kiln_sched_momentum(&st, &c, &q) < kiln_sched_momentum(&st, &c, &p));
    ck_assert(kiln_sched_lr(&st, &c, &q) > kiln_sched_lr(&st, &c, &p));
    /* off with the key; not cycled by other schedules */
    set(&c, "cycle_momentum=false");
    ck_assert(!kiln_sched_cycles_momentum(&c));
    ck_assert(isnan(kiln_sched_momentum(&st, &c, &p)));

    /* optimizers without momentum or beta1 are refused, as in PyTorch */
    char err[512];
    kiln_config_init(&c);
    set(&c, "schedule=one_cycle");
    set(&c, "optimizer=adagrad");
    ck_assert_int_ne(kiln_config_validate(&c, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "cycle_momentum") && strstr(err, "adagrad"), "%s", err);
    set(&c, "cycle_momentum=false");
    ck_assert_msg(kiln_config_validate(&c, err, sizeof err) == 0, "%s", err);
    /* a fixed beta1 next to a cycled one would be ignored: refused */
    kiln_config_init(&c);
    set(&c, "schedule=one_cycle");
    set(&c, "beta1=0.8");
    ck_assert_int_ne(kiln_config_validate(&c, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "beta1"), "%s", err);
    /* the keys are in the canonical text, so the cache tells the runs apart */
    kiln_config_init(&c);
    set(&c, "schedule=one_cycle");
    char *can = kiln_config_canonical(&c);
    ck_assert_msg(strstr(can, "cycle_momentum=1\n") && strstr(can, "base_momentum=0.84999999999999998\n"), "%s", can);
    free(can);
}
END_TEST

/* A training run under one_cycle differs from the same run with
 * cycle_momentum=false (beta1 0.95 instead of 0.9 from the first update;
 * Adam's first update does not depend on beta1, as its bias correction
 * cancels it, so the losses differ from step 3), and SGD gets a momentum
 * buffer. */
START_TEST(test_one_cycle_momentum_in_training)
{
    load_data();
    kiln_history h[2];
    char err[512];
    for (int k = 0; k < 2; k++) {
        kiln_config c;
        kiln_config_init(&c);
        set(&c, "train_limit=400");
        set(&c, "test_limit=100");
        set(&c, "epochs=1");
        set(&c, "batch_size=50");
        set(&c, "schedule=one_cycle");
        set(&c, "max_lr=0.005");
        if (k) set(&c, "cycle_momentum=false");
        ck_assert_msg(kiln_train(&c, &TRAIN, &TEST, &h[k], NULL, NULL, err, sizeof err) == 0, "%s", err);
    }
    ck_assert(h[0].steps[0].loss == h[1].steps[0].loss);
    ck_assert(h[0].steps[0].lr == h[1].steps[0].lr);
    ck_assert(h[0].steps[2].loss != h[1].steps[2].loss);
    for (int k = 0; k < 2; k++) kiln_history_free(&h[k]);
    kiln_config c;
    kiln_config_init(&c);
    set(&c, "optimizer=sgd");
    set(&c, "schedule=one_cycle");
    kiln_optimizer o;
    ck_assert_int_eq(kiln_optimizer_init(&o, &c, 4, err, sizeof err), 0);
    ck_assert_ptr_nonnull(o.s1);
    kiln_optimizer_free(&o);
}
END_TEST

/* maxpool's argmax is an offset within its own image (int32 for any
 * batch), and the backward pass routes each gradient into its own image. */
START_TEST(test_maxpool_argmax_per_image)
{
    const int B = 5, H = 6, W = 4, C = 3, per = H * W * C;
    uint64_t s = 9;
    float *in = malloc(sizeof(float) * B * per), *out = malloc(sizeof(float) * B * per / 4);
    float *din = malloc(sizeof(float) * B * per), *dout = malloc(sizeof(float) * B * per / 4);
    int32_t *am = malloc(sizeof(int32_t) * B * per / 4);
    for (int i = 0; i < B * per; i++) in[i] = frand(&s);
    for (int i = 0; i < B * per / 4; i++) dout[i] = 1.0f + (float)i;
    kiln_maxpool_forward(out, am, in, B, H, W, C);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < per / 4; j++) {
            int32_t a = am[b * per / 4 + j];
            ck_assert_msg(a >= 0 && a < per, "argmax %d of image %d is not an offset within the image", a, b);
            ck_assert(in[(size_t)b * per + a] == out[b * per / 4 + j]);
        }
    kiln_maxpool_backward(din, dout, am, B, H, W, C);
    for (int b = 0; b < B; b++) {
        double sum = 0, want = 0;
        for (int i = 0; i < per; i++) sum += din[(size_t)b * per + i];
        for (int j = 0; j < per / 4; j++) want += dout[b * per / 4 + j];
        ck_assert_msg(sum == want, "image %d got gradient %g, its outputs sent %g", b, sum, want);
    }
    free(in); free(out); free(din); free(dout); free(am);
}
END_TEST

/* Whether a product is split along K depends on its shape, never on the
 * micro-kernel's MR: for every M up to 16 a long K is added in chunks of
 * 8192 (each chunk one fma chain, the chunks in order), above 16 as one
 * chain. A scalar model of that rule agrees bit for bit, on AVX-512 (MR 12)
 * and AVX2 (MR 6) builds alike. */
START_TEST(test_gemm_k_split_rule_independent_of_kernel)
{
    const int Ms[] = {5, 7, 9, 13, 16, 17}, N = 20, K = 2 * 8192 + 333;
    uint64_t s = 11;
    float *A = malloc(sizeof(float) * 17 * K), *B = malloc(sizeof(float) * K * N), *C = malloc(sizeof(float) * 17 * N);
    for (int i = 0; i < 17 * K; i++) A[i] = frand(&s);
    for (int i = 0; i < K * N; i++) B[i] = frand(&s);
    for (size_t t = 0; t < sizeof Ms / sizeof Ms[0]; t++) {
        const int M = Ms[t];
        kiln_sgemm(1, 0, M, N, K, A, M, B, N, C, N, 0); /* A stored [K, M], as a weight gradient */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                float total = 0.0f;
                if (M <= 16) {
                    for (int k0 = 0; k0 < K; k0 += 8192) {
                        float part = 0.0f;
                        for (int k = k0; k < K && k < k0 + 8192; k++) part = fmaf(A[(size_t)k * M + i], B[(size_t)k * N + j], part);
                        total += part;
                    }
                } else {
                    for (int k = 0; k < K; k++) total = fmaf(A[(size_t)k * M + i], B[(size_t)k * N + j], total);
                }
                ck_assert_msg(!memcmp(&total, &C[i * N + j], sizeof total), "M=%d: C[%d,%d] = %a, the rule gives %a", M, i, j,
                              (double)C[i * N + j], (double)total);
            }
    }
    free(A); free(B); free(C);
}
END_TEST

/* The GEMM's per-thread packing buffer is freed when its thread exits: a
 * process that runs product after product on fresh threads (a long build)
 * does not keep one buffer per thread it ever had. */
static void *one_product(void *arg)
{
    float *m = arg; /* B is 512 x 512: its packed copy takes 1 MiB; A is 6 rows, little arithmetic */
    omp_set_num_threads(1);
    kiln_sgemm(0, 0, 6, 512, 512, m, 512, m, 512, m + 512 * 512, 512, 0);
    return NULL;
}

START_TEST(test_gemm_buffers_freed_with_their_threads)
{
#if defined(__SANITIZE_ADDRESS__)
    /* mallinfo2 does not see ASan's allocator: the threads run, and
     * LeakSanitizer reports a buffer their exit did not free */
    float *m = calloc(2 * 512 * 512, sizeof(float));
    for (int i = 0; i < 4; i++) {
        pthread_t th;
        pthread_create(&th, NULL, one_product, m);
        pthread_join(th, NULL);
    }
    free(m);
#else
    float *m = calloc(2 * 512 * 512, sizeof(float));
    pthread_t th;
    pthread_create(&th, NULL, one_product, m); /* warm-up: libgomp's own allocations */
    pthread_join(th, NULL);
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < 40; i++) {
        pthread_create(&th, NULL, one_product, m);
        pthread_join(th, NULL);
    }
    struct mallinfo2 after = mallinfo2();
    /* each thread packs 512 x 512 floats (1 MiB): 40 kept would be 40 MiB */
    long grown = (long)(after.uordblks + after.hblkhd) - (long)(before.uordblks + before.hblkhd);
    ck_assert_msg(grown < 4l << 20, "40 finished threads left %ld bytes behind", grown);
    free(m);
#endif
}
END_TEST

/* kiln_config_validate checks every key's range for configs filled in by
 * code, not only text input. */
START_TEST(test_validate_ranges_of_code_built_configs)
{
    struct { const char *key; void (*spoil)(kiln_config *); } cases[] = {
        {"batch_size", NULL}, {"beta1", NULL}, {"validation_split", NULL}, {"optimizer", NULL}, {"epochs", NULL},
        {"shuffle", NULL}, {"gamma", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kiln_config c;
        kiln_config_init(&c);
        switch (i) {
        case 0: c.batch_size = 0; break;
        case 1: c.beta1 = 1.5; break;
        case 2: c.validation_split = NAN; break;
        case 3: strcpy(c.optimizer, "adamw"); break;
        case 4: c.epochs = -3; break;
        case 5: c.shuffle = 7; break;
        case 6: c.gamma = -1; break;
        }
        char err[512] = "";
        ck_assert_msg(kiln_config_validate(&c, err, sizeof err) != 0, "%s accepted", cases[i].key);
        char want[64];
        snprintf(want, sizeof want, "key '%s'", cases[i].key);
        ck_assert_msg(strstr(err, want) && strstr(err, "accepted"), "%s: %s", cases[i].key, err);
    }
    kiln_config c;
    kiln_config_init(&c);
    char err[512];
    ck_assert_msg(kiln_config_validate(&c, err, sizeof err) == 0, "defaults: %s", err);
}
END_TEST

/* The key table is built once and is the same for callers on any thread;
 * it says where each key applies, and the trainer answers which keys a
 * config and a range test use. */
static void *keys_of(void *arg)
{
    int n;
    const kiln_key_info *k = NULL;
    for (int i = 0; i < 200; i++) k = kiln_config_keys(&n);
    *(const kiln_key_info **)arg = k;
    return NULL;
}

START_TEST(test_key_table_threads_and_scopes)
{
    pthread_t th[4];
    const kiln_key_info *got[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, keys_of, &got[i]);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    int n;
    const kiln_key_info *k = kiln_config_keys(&n);
    for (int i = 0; i < 4; i++) ck_assert_ptr_eq(got[i], k);
    int seen = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(k[i].name, "momentum")) { ck_assert_str_eq(k[i].scope, "opt=sgd rmsprop"); seen++; }
        if (!strcmp(k[i].name, "gamma")) { ck_assert_str_eq(k[i].scope, "sched=exp_range"); seen++; }
        if (!strcmp(k[i].name, "es_patience")) { ck_assert_str_eq(k[i].scope, "es"); seen++; }
        if (!strcmp(k[i].name, "epochs")) { ck_assert_str_eq(k[i].scope, ""); seen++; }
        if (!strcmp(k[i].name, "batch_size")) ck_assert_str_eq(k[i].accepted, "integer 1..65536");
    }
    ck_assert_int_eq(seen, 4);
    kiln_config c;
    kiln_config_init(&c);
    ck_assert(kiln_config_key_applies(&c, "beta1"));     /* adam */
    ck_assert(!kiln_config_key_applies(&c, "momentum"));
    ck_assert(!kiln_config_key_applies(&c, "gamma"));
    ck_assert(!kiln_config_key_applies(&c, "threads"));
    ck_assert(!kiln_config_key_applies(&c, "no_such_key"));
    set(&c, "optimizer=sgd");
    ck_assert(kiln_config_key_applies(&c, "momentum"));
    ck_assert(kiln_lrfind_uses_key("batch_size") && kiln_lrfind_uses_key("momentum"));
    ck_assert(!kiln_lrfind_uses_key("epochs") && !kiln_lrfind_uses_key("learning_rate") && !kiln_lrfind_uses_key("max_lr"));
    set(&c, "epochs=3");
    ck_assert_int_eq(kiln_config_reset_key(&c, "epochs"), 0);
    ck_assert_int_eq(c.epochs, 25);
    ck_assert_int_ne(kiln_config_reset_key(&c, "no_such_key"), 0);
}
END_TEST

/* The fingerprint covers what the build resolved to: the C library and
 * each instruction-set macro the trainer's code tests. */
START_TEST(test_fingerprint_covers_the_build)
{
    const char *b = kiln_trainer_build();
    char libc[64];
    snprintf(libc, sizeof libc, "glibc %s", gnu_get_libc_version());
    ck_assert_msg(strstr(b, libc), "'%s' not in: %s", libc, b);
#if defined(__AVX512F__)
    ck_assert_msg(strstr(b, "__AVX512F__=1"), "%s", b);
#else
    ck_assert_msg(strstr(b, "__AVX512F__=0"), "%s", b);
#endif
    ck_assert_msg(strstr(b, "flags ") && strstr(b, "-march=native"), "%s", b);
    ck_assert_uint_eq(strlen(kiln_trainer_fingerprint()), 16);
}
END_TEST

/* IDX images of any size and channel count, and the model checked
 * against them. */
START_TEST(test_idx_any_size_and_channels)
{
    char dir[64], im[128], lb[128], err[512];
    ck_assert_ptr_nonnull(test_tmpdir(dir));
    snprintf(im, sizeof im, "%s/im", dir);
    snprintf(lb, sizeof lb, "%s/lb", dir);
    uint32_t d4[4] = {40, 9, 7, 3}, d1[1] = {40};
    write_idx(im, 0x804, 4, d4, 40 * 9 * 7 * 3, 1);
    write_idx(lb, 0x801, 1, d1, 40, 0);
    kiln_dataset ds;
    ck_assert_msg(kiln_idx_load(im, lb, &ds, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(ds.rows, 9);
    ck_assert_int_eq(ds.cols, 7);
    ck_assert_int_eq(ds.channels, 3);
    ck_assert_int_eq(ds.images[9 * 7 * 3 + 5], (9 * 7 * 3 + 5) % 10);
    /* a network for 9x7x3 images trains on them */
    kiln_config c;
    kiln_config_init(&c);
    set(&c, "model=conv:4x3,relu,pool:2,dense:10");
    set(&c, "epochs=1");
    set(&c, "batch_size=10");
    kiln_history h;
    ck_assert_msg(kiln_train(&c, &ds, &ds, &h, NULL, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(h.n_steps, 4);
    ck_assert(isfinite(h.test_loss));
    kiln_history_free(&h);
    /* one that does not fit them is refused, naming their size */
    set(&c, "model=conv:4x8,relu,dense:10");
    ck_assert_int_ne(kiln_train(&c, &ds, &ds, &h, NULL, NULL, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "9x7x3") && strstr(err, "model"), "%s", err);
    kiln_dataset_free(&ds);
    /* channels beyond the accepted range are named */
    uint32_t d5[4] = {40, 9, 7, 65};
    write_idx(im, 0x804, 4, d5, 40 * 9 * 7 * 65, 0);
    ck_assert_int_ne(kiln_idx_load(im, lb, &ds, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "channels") && strstr(err, "1..64"), "%s", err);
    /* a damaged gzip stream: zlib's own message, read before the file is closed */
    unsigned char junk[64] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0x13, 0x37};
    test_write_file(im, junk, sizeof junk);
    ck_assert_int_ne(kiln_idx_load(im, lb, &ds, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "read error: ") && strlen(strstr(err, "read error: ")) > 12, "%s", err);
}
END_TEST

/* progress.max_steps: the history holds exactly the first steps of the
 * full run, bit for bit; the range test stops likewise at its own rates. */
START_TEST(test_max_steps_stops_early)
{
    load_data();
    kiln_config c;
    kiln_config_init(&c);
    set(&c, "train_limit=600");
    set(&c, "test_limit=100");
    set(&c, "epochs=2");
    set(&c, "batch_size=50");
    char err[512];
    kiln_history full, part;
    ck_assert_msg(kiln_train(&c, &TRAIN, &TEST, &full, NULL, NULL, err, sizeof err) == 0, "%s", err);
    kiln_progress p = {NULL, NULL, NULL, 13};
    ck_assert_msg(kiln_train(&c, &TRAIN, &TEST, &part, NULL, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(part.n_steps, 13);
    ck_assert_str_eq(part.stopped_by, "max_steps");
    ck_assert_int_eq(part.n_epochs, 1); /* epoch 0 (10 steps) complete, epoch 1 cut */
    ck_assert(isnan(part.test_loss));
    ck_assert_int_eq(memcmp(part.steps, full.steps, 13 * sizeof(kiln_step_log)), 0);
    kiln_history_free(&full);
    kiln_history_free(&part);
    kiln_model m;
    ck_assert_int_eq(kiln_model_build(&m, c.model, 28, 28, 1, err, sizeof err), 0);
    kiln_model_init(&m, c.seed);
    kiln_lrfind_opts lo;
    kiln_lrfind_opts_init(&lo);
    kiln_lrfind_result r1, r2;
    ck_assert_int_eq(kiln_lrfind(&c, &TRAIN, &m, &lo, &r1, NULL, err, sizeof err), 0);
    p.max_steps = 4;
    ck_assert_int_eq(kiln_lrfind(&c, &TRAIN, &m, &lo, &r2, &p, err, sizeof err), 0);
    ck_assert_int_eq(r2.n, 4);
    ck_assert_int_eq(r2.planned, r1.planned);
    ck_assert_int_eq(memcmp(r1.loss, r2.loss, 4 * sizeof(double)), 0);
    ck_assert_int_eq(memcmp(r1.lr, r2.lr, 4 * sizeof(double)), 0);
    kiln_lrfind_free(&r1);
    kiln_lrfind_free(&r2);
    kiln_model_free(&m);
}
END_TEST

static Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *t = tcase_create("kernels");
    tcase_add_test(t, test_gemm_matches_reference);
    tcase_add_test(t, test_gemm_thread_count_invariant);
    tcase_add_test(t, test_grad_conv2d);
    tcase_add_test(t, test_conv_matches_reference_and_threads);
    tcase_add_test(t, test_conv_pool_fused_equals_layers);
    tcase_add_test(t, test_conv_pool_backward_weights);
    tcase_add_test(t, test_winograd_block);
    tcase_add_test(t, test_grad_dense);
    tcase_add_test(t, test_grad_maxpool_relu);
    tcase_add_test(t, test_dropout_inverted_and_keyed);
    tcase_add_test(t, test_softmax_xent);
    tcase_add_test(t, test_grad_whole_network);
    tcase_add_test(t, test_parity_small_network_and_adam);
    tcase_add_test(t, test_parity_seed_network);
    tcase_add_test(t, test_optimizer_rules);
    tcase_add_test(t, test_optimizer_defaults);
    suite_add_tcase(s, t);
    TCase *io = tcase_create("config-and-files");
    tcase_add_test(io, test_config_errors_name_key);
    tcase_add_test(io, test_config_canonical);
    tcase_add_test(io, test_model_spec_errors);
    tcase_add_test(io, test_model_limits_before_allocation);
    tcase_add_test(io, test_weights_roundtrip_and_corruption);
    tcase_add_test(io, test_idx_reader);
    suite_add_tcase(s, io);
    TCase *run = tcase_create("training");
    tcase_set_timeout(run, 600);
    tcase_add_test(run, test_mnist_real_files);
    tcase_add_test(run, test_determinism_threads);
    tcase_add_test(run, test_small_training_run_learns);
    tcase_add_test(run, test_validation_split_is_last_fraction);
    tcase_add_test(run, test_divergence_is_a_result);
    tcase_add_test(run, test_one_cycle_momentum_in_training);
    tcase_add_test(run, test_max_steps_stops_early);
    TCase *fx = tcase_create("fixes");
    tcase_add_test(fx, test_adam_bias_correction_uses_float_betas);
    tcase_add_test(fx, test_parity_rmsprop_adagrad);
    tcase_add_test(fx, test_one_cycle_cycles_momentum);
    tcase_add_test(fx, test_maxpool_argmax_per_image);
    tcase_add_test(fx, test_gemm_k_split_rule_independent_of_kernel);
    tcase_add_test(fx, test_gemm_buffers_freed_with_their_threads);
    tcase_add_test(fx, test_validate_ranges_of_code_built_configs);
    tcase_add_test(fx, test_key_table_threads_and_scopes);
    tcase_add_test(fx, test_fingerprint_covers_the_build);
    tcase_add_test(fx, test_idx_any_size_and_channels);
    suite_add_tcase(s, fx);
    suite_add_tcase(s, run);
    return s;
}

int main(void)
{
    return test_run_suite(train_suite());
}
