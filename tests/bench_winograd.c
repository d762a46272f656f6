/* The second convolution's block (conv 3x3, 13x13x32 -> 11x11x64, bias,
 * relu, 2x2 max-pool) on a batch of 250, one thread, fastest of R repeats
 * (CPU time): the trainer's Winograd F(2x2, 3x3) road against the direct
 * convolution the trainer ran before it (kiln_conv2d_forward /
 * kiln_conv2d_backward, which compute every output pixel, not only the 100
 * the pool reads), with GFLOP/s in direct-convolution FLOPs of the pooled
 * pixels and how far the Winograd results are from the direct ones.
 *   make build/release/tests/bench_winograd
 *   build/release/tests/bench_winograd [R]
 * A benchmark, never a test (test_winograd_block in check_train is). */
#include "kiln/train.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { B = 250, H = 13, W = 13, C = 32, OC = 64, OW = 11, P = 5 };

static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t lcg = 7;
static float uni(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(lcg >> 40) * 0x1p-24f;
}

static double rel_diff(const float *a, const float *b, size_t n)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return m > 0 ? d / m : d;
}

int main(int argc, char **argv)
{
    const int R = argc > 1 ? atoi(argv[1]) : 10;
    omp_set_num_threads(1);
    const size_t nx = (size_t)B * H * W * C, nw = (size_t)9 * C * OC, ny = (size_t)B * OW * OW * OC;
    const size_t np = (size_t)B * P * P * OC;
    float *in = malloc(sizeof(float) * nx), *w = malloc(sizeof(float) * nw), bias[OC];
    for (size_t i = 0; i < nx; i++) in[i] = uni() < 0.5f ? 0.0f : uni(); /* relu'd */
    for (size_t i = 0; i < nw; i++) w[i] = (2.0f * uni() - 1.0f) * 0.1f;
    for (int i = 0; i < OC; i++) bias[i] = (2.0f * uni() - 1.0f) * 0.01f;
    float *out = malloc(sizeof(float) * np), *y = malloc(sizeof(float) * ny), *dout = malloc(sizeof(float) * np);
    float *dy = malloc(sizeof(float) * ny), *din1 = malloc(sizeof(float) * nx), *din2 = malloc(sizeof(float) * nx);
    float *dw1 = malloc(sizeof(float) * nw), *dw2 = malloc(sizeof(float) * nw), db1[OC], db2[OC];
    int32_t *am = malloc(sizeof(int32_t) * np);
    for (size_t i = 0; i < np; i++) dout[i] = (2.0f * uni() - 1.0f) * 1e-3f;
    double fd = 1e9, fw = 1e9, bd = 1e9, bw = 1e9, bg = 1e9;
    for (int r = 0; r < R; r++) {
        double t0 = cpu();
        kiln_conv2d_forward(y, in, w, bias, B, H, W, C, 3, OC);
        double t1 = cpu();
        kiln_conv_pool_forward(out, am, NULL, in, w, bias, B, H, W, C, 3, OC, 0.0f, 1, 0);
        double t2 = cpu();
        kiln_conv_pool_backward_pool(dy, dout, out, am, NULL, B, OW, OW, OC);
        double t3 = cpu();
        kiln_conv2d_backward(din1, dw1, db1, in, dy, w, B, H, W, C, 3, OC);
        double t4 = cpu();
        kiln_conv_pool_backward(din2, dw2, db2, dout, out, am, NULL, in, w, B, H, W, C, 3, OC);
        double t5 = cpu();
        kiln_conv_pool_backward_weights(dw2, db2, dy, dout, out, am, NULL, in, B, H, W, C, 3, OC);
        double t6 = cpu();
        bg = fmin(bg, t6 - t5);
        fd = fmin(fd, t1 - t0);
        fw = fmin(fw, t2 - t1);
        bd = fmin(bd, t4 - t3);
        bw = fmin(bw, t5 - t4);
    }
    /* direct FLOPs of the 100 pooled pixels: 2 * 9C * OC each; backward 2x */
    const double flop = 2.0 * B * 100 * 9 * C * OC;
    printf("conv2 block, batch %d, 1 thread, fastest of %d (ms; GFLOP/s in direct FLOPs of the pooled pixels)\n", B, R);
    printf("  forward:  direct conv %.2f (all 121 pixels), Winograd block %.2f (%.1f GFLOP/s)\n", fd * 1e3,
           fw * 1e3, flop / fw * 1e-9);
    printf("  backward: direct din+dw+db %.2f, Winograd from the pool's gradient %.2f (%.1f GFLOP/s)\n", bd * 1e3,
           bw * 1e3, 2 * flop / bw * 1e-9);
    printf("  backward without din (a first layer's): Winograd dw+db %.2f\n", bg * 1e3);
    printf("  Winograd against direct, largest difference over the largest element: din %.2g, dw %.2g, db %.2g\n",
           rel_diff(din2, din1, nx), rel_diff(dw2, dw1, nw), rel_diff(db2, db1, OC));
    return 0;
}
