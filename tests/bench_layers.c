/* The CPU time of each layer function of the article's network on one batch
 * of 250 (synthetic inputs), 1 thread, the fastest of R repeats: where a
 * training step's time goes. CPU time, so a loaded machine disturbs it less
 * than wall time; still a benchmark, never a test.
 *   make build/release/tests/bench_layers
 *   OMP_WAIT_POLICY=passive build/release/tests/bench_layers [R [NAME]]
 * NAME (a substring) times only the matching lines; the others still run,
 * so each function sees the inputs the step would give it. */
#include "kiln/train.h"

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t lcg = 1;
static float *filled(size_t n, float scale)
{
    float *p = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) {
        lcg = lcg * 6364136223846793005ull + 1;
        p[i] = ((float)(lcg >> 40) * 0x1p-24f - 0.3f) * scale;
    }
    return p;
}

#define TIME(name, stmt)                                                          \
    do {                                                                          \
        double best = 1e9;                                                        \
        for (int r = 0; r < R; r++) {                                             \
            double c0 = cpu();                                                    \
            stmt;                                                                 \
            double c1 = cpu();                                                    \
            if (c1 - c0 < best) best = c1 - c0;                                   \
        }                                                                         \
        if (!only || strstr(name, only)) printf("%-34s %7.2f ms\n", name, best * 1e3); \
        if (step) total += best;                                                  \
    } while (0)

int main(int argc, char **argv)
{
    const int R = argc > 1 ? atoi(argv[1]) : 10, B = 250;
    const char *only = argc > 2 ? argv[2] : NULL;
    omp_set_num_threads(1);
    /* conv1 28x28x1 -> 26x26x32 -> pool 13x13x32; conv2 -> 11x11x64 -> pool 5x5x64; dense 1600 -> 256 */
    float *x = filled((size_t)B * 784, 1.0f), *w1 = filled(288, 0.5f), *b1 = calloc(32, 4);
    float *w2 = filled(288 * 64, 0.1f), *b2 = calloc(64, 4), *w3 = filled(1600 * 256, 0.05f), *b3 = calloc(256, 4);
    float *p1 = malloc(4 * (size_t)B * 13 * 13 * 32), *m1 = malloc(4 * (size_t)B * 13 * 13 * 32);
    float *p2 = malloc(4 * (size_t)B * 1600), *m2 = malloc(4 * (size_t)B * 1600);
    int32_t *a1 = malloc(4 * (size_t)B * 13 * 13 * 32), *a2 = malloc(4 * (size_t)B * 1600);
    float *h = malloc(4 * (size_t)B * 256), *dh = filled((size_t)B * 256, 0.01f), *dp2 = malloc(4 * (size_t)B * 1600);
    float *dy2 = malloc(4 * (size_t)B * 121 * 64), *dp1 = malloc(4 * (size_t)B * 13 * 13 * 32);
    float *dy1 = malloc(4 * (size_t)B * 676 * 32);
    float *dw1 = malloc(4 * 288), *db1 = malloc(4 * 32), *dw2 = malloc(4 * 288 * 64), *db2 = malloc(4 * 64);
    float *dw3 = malloc(4 * 1600 * 256), *db3 = malloc(4 * 256);
    double total = 0;
    int step = 1;
    TIME("conv1 block forward", kiln_conv_pool_forward(p1, a1, m1, x, w1, b1, B, 28, 28, 1, 3, 32, 0.25f, 1, 7));
    TIME("conv2 block forward", kiln_conv_pool_forward(p2, a2, m2, p1, w2, b2, B, 13, 13, 32, 3, 64, 0.25f, 1, 8));
    TIME("dense1 forward", kiln_dense_forward(h, p2, w3, b3, B, 1600, 256));
    TIME("dense1 backward (dw, db, din)", kiln_dense_backward(dp2, dw3, db3, dh, p2, w3, B, 1600, 256));
    TIME("conv2 block backward (Winograd)", kiln_conv_pool_backward(dp1, dw2, db2, dp2, p2, a2, m2, p1, w2, B, 13, 13, 32, 3, 64));
    TIME("conv1 block backward: dw, db", kiln_conv_pool_backward_weights(dw1, db1, dy1, dp1, p1, a1, m1, x, B, 28, 28, 1, 3, 32));
    printf("%-34s %7.2f ms\n", "sum (one training step's layers)", total * 1e3);
    step = 0; /* the long ways, for comparison */
    TIME("  conv1 pool backward + conv2d_backward",
         (kiln_conv_pool_backward_pool(dy1, dp1, p1, a1, m1, B, 26, 26, 32),
          kiln_conv2d_backward(NULL, dw1, db1, x, dy1, w1, B, 28, 28, 1, 3, 32)));
    TIME("  conv2 pool backward (dy)", kiln_conv_pool_backward_pool(dy2, dp2, p2, a2, m2, B, 11, 11, 64));
    TIME("  conv2 direct dw, db", kiln_conv2d_backward(NULL, dw2, db2, p1, dy2, w2, B, 13, 13, 32, 3, 64));
    TIME("  conv2 direct din", kiln_conv_pool_backward_input(dp1, dy2, w2, B, 13, 13, 32, 3, 64));
    return 0;
}
