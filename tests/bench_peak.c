/* make bench: this machine's FP32 fused multiply-add peak, one OpenMP team.
 * Each thread runs independent FMA chains held in registers. The chain count
 * fits the register file: 12 of AVX2's 16 ymm registers (with 16 chains plus
 * the two operands, three spill to the stack and the loop then waits on
 * store-to-load forwarding), 24 of AVX-512's 32 zmm registers. Either count
 * covers the FMA latency times the FMA units of current x86 cores (8 to 10).
 * Prints the best of five runs: GFLOP/s, threads, vector width. */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define CHAINS 24
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define CHAINS 12
#else
#error "bench_peak needs AVX2 and FMA or AVX-512"
#endif

/* Twelve chains a##0..a##11 under one prefix. */
#define DECL12(p, s) vec p##0 = SET1(s), p##1 = SET1(s + 1), p##2 = SET1(s + 2), p##3 = SET1(s + 3), \
    p##4 = SET1(s + 4), p##5 = SET1(s + 5), p##6 = SET1(s + 6), p##7 = SET1(s + 7), p##8 = SET1(s + 8), \
    p##9 = SET1(s + 9), p##10 = SET1(s + 10), p##11 = SET1(s + 11)
#define STEP12(p) p##0 = FMA(p##0, m, c); p##1 = FMA(p##1, m, c); p##2 = FMA(p##2, m, c); \
    p##3 = FMA(p##3, m, c); p##4 = FMA(p##4, m, c); p##5 = FMA(p##5, m, c); p##6 = FMA(p##6, m, c); \
    p##7 = FMA(p##7, m, c); p##8 = FMA(p##8, m, c); p##9 = FMA(p##9, m, c); p##10 = FMA(p##10, m, c); \
    p##11 = FMA(p##11, m, c)
#define SUM12(p) ADD(ADD(ADD(ADD(p##0, p##1), ADD(p##2, p##3)), ADD(ADD(p##4, p##5), ADD(p##6, p##7))), \
    ADD(ADD(p##8, p##9), ADD(p##10, p##11)))

static float run(long steps, float seed)
{
    const vec m = SET1(1.0000001f), c = SET1(1e-9f);
    DECL12(a, seed);
#if CHAINS == 24
    DECL12(b, seed + 12);
#endif
    for (long i = 0; i < steps; i++) {
        STEP12(a);
#if CHAINS == 24
        STEP12(b);
#endif
    }
    vec s = SUM12(a);
#if CHAINS == 24
    s = ADD(s, SUM12(b));
#endif
    float t[LANES], sum = 0;
    __builtin_memcpy(t, &s, sizeof s);
    for (int i = 0; i < LANES; i++) sum += t[i];
    return sum;
}

int main(int argc, char **argv)
{
    (void)argv;
    const long steps = 50000000L; /* per thread */
    double best = 0;
    float sink = 0;
    int threads = 1;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = omp_get_wtime();
        #pragma omp parallel reduction(+ : sink)
        {
            sink += run(steps, (float)argc);
            #pragma omp master
            threads = omp_get_num_threads();
        }
        double dt = omp_get_wtime() - t0;
        double gflops = 2.0 * LANES * CHAINS * (double)steps * threads / dt / 1e9;
        if (gflops > best) best = gflops;
    }
    printf("%.1f GFLOP/s threads=%d width=%d chains=%d (sink %g)\n", best, threads, LANES, CHAINS, sink);
    return 0;
}
