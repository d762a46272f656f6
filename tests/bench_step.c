/* One training step and one evaluation forward of the article's network on a
 * batch of 250 (synthetic images), the fastest of R repeats, in wall-clock
 * and process CPU time: a figure that a loaded machine disturbs less than
 * s/epoch (CPU time does not count the time the process waits for a core).
 *   make build/release/tests/bench_step
 *   OMP_WAIT_POLICY=passive build/release/tests/bench_step THREADS REPEATS
 * The epoch estimate is 192 steps + 48 evaluation batches (48,000 + 12,000
 * images). */
#include "kiln/train.h"
#include "train/net.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    const int threads = argc > 1 ? atoi(argv[1]) : 1, repeats = argc > 2 ? atoi(argv[2]) : 10, B = 250;
    omp_set_num_threads(threads);
    kiln_model m;
    char err[256];
    if (kiln_model_build(&m, "seed", 28, 28, 1, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    kiln_model_init(&m, 1);
    kiln_net n;
    kiln_net_init(&n, &m, B);
    uint64_t s = 1;
    for (int i = 0; i < B * 784; i++) { s = s * 6364136223846793005ull + 1; n.x[i] = (float)(s >> 40) * 0x1p-24f; }
    float *dlogits = malloc(sizeof(float) * B * 10);
    for (int i = 0; i < B * 10; i++) dlogits[i] = (float)((i * 7) % 13 - 6) * 1e-3f;
    double tw = 1e9, tc = 1e9, ew = 1e9, ec = 1e9;
    for (int r = 0; r < repeats; r++) {
        double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        kiln_net_forward(&n, B, 1, 1, (uint64_t)r);
        kiln_net_backward(&n, dlogits, B);
        double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
        kiln_net_forward(&n, B, 0, 1, (uint64_t)r);
        double w2 = now(CLOCK_MONOTONIC), c2 = now(CLOCK_PROCESS_CPUTIME_ID);
        if (w1 - w0 < tw) tw = w1 - w0;
        if (c1 - c0 < tc) tc = c1 - c0;
        if (w2 - w1 < ew) ew = w2 - w1;
        if (c2 - c1 < ec) ec = c2 - c1;
    }
    printf("threads %d: train step %.1f ms wall, %.1f ms CPU; eval forward %.1f ms wall, %.1f ms CPU; "
           "epoch estimate %.1f s wall, %.1f CPU-s\n", threads, tw * 1e3, tc * 1e3, ew * 1e3, ec * 1e3,
           192 * tw + 48 * ew, 192 * tc + 48 * ec);
    free(dlogits);
    kiln_net_free(&n);
    kiln_model_free(&m);
    return 0;
}
