/* Benchmark of the plot module: render + PNG-encode (in memory) the
 * article's two typical figures and print the median time of each.
 *
 *   make build/release/tests/bench_plot && build/release/tests/bench_plot
 *
 * or, without the other libraries (every .c file of src/plot):
 *   cc -std=c11 -O3 -march=native -Iinclude tests/bench_plot.c src/plot/[a-z]*.c
 *      $(pkg-config --cflags --libs libpng freetype2) -lz -lm -o /tmp/bench_plot
 *
 * Prints: "plot: 25-epoch loss plot X ms, 5000-point plot Y ms". */
#define _POSIX_C_SOURCE 200809L
#include "kiln/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median over runs of render + encode; -1 on error. */
static double time_plot(const kiln_plot *p, int runs)
{
    double t[64];
    if (runs > 64) runs = 64;
    for (int i = 0; i < runs; i++) {
        unsigned char *buf;
        size_t len;
        char err[256];
        double t0 = now_ms();
        if (kiln_plot_render_png_mem(p, &buf, &len, err, sizeof err)) {
            fprintf(stderr, "bench_plot: %s\n", err);
            return -1;
        }
        t[i] = now_ms() - t0;
        free(buf);
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp);
    return t[runs / 2];
}

int main(void)
{
    /* 25 epochs, training and validation loss */
    double ep[25], tr[25], va[25];
    for (int i = 0; i < 25; i++) {
        ep[i] = i + 1;
        tr[i] = 2.0 * exp(-i / 3.0) + 0.04 + 0.01 * sin(i * 1.7);
        va[i] = 1.9 * exp(-i / 3.5) + 0.09 + 0.004 * i * i / 25.0;
    }
    kiln_series ls[2] = {
        {.label = "training", .x = ep, .y = tr, .n = 25, .marker = KILN_MARKER_CIRCLE},
        {.label = "validation", .x = ep, .y = va, .n = 25, .marker = KILN_MARKER_SQUARE},
    };
    kiln_plot a;
    kiln_plot_init(&a);
    a.title = "Loss per epoch";
    a.xlabel = "epoch";
    a.ylabel = "cross-entropy loss";
    a.provenance = "bench";
    a.series = ls;
    a.n_series = 2;

    /* 5,000 noisy per-step losses */
    enum { N = 5000 };
    static double y[N];
    unsigned long long s = 42;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) / 9007199254740992.0;
        y[i] = 2.3 * exp(-i / 600.0) + 0.05 + 0.3 * exp(-i / 2000.0) * u;
    }
    kiln_series ps = {.label = "training loss (per step)", .y = y, .n = N, .width = 0.8};
    kiln_plot b;
    kiln_plot_init(&b);
    b.title = "Per-step training loss";
    b.xlabel = "step";
    b.ylabel = "loss";
    b.provenance = "bench";
    b.series = &ps;
    b.n_series = 1;

    double ta = time_plot(&a, 31), tb = time_plot(&b, 21);
    if (ta < 0 || tb < 0) return 1;
    printf("plot: 25-epoch loss plot %.1f ms, 5000-point plot %.1f ms\n", ta, tb);
    return 0;
}
