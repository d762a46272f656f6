/* Single-precision matrix product, blocked and packed in the manner of BLIS:
 *
 *   C[M,N] (+)= op(A)[M,K] * op(B)[K,N]      row-major, op = identity or transpose
 *
 * Work split: the MR-row micro-panels of A are divided among the threads;
 * each thread walks K in blocks of KC, packs that block of B into panels of
 * NR columns (zero-padded) and its own rows of A, and calls the micro-kernel
 * for every (MR x NR) tile.
 *
 * Determinism: every C element is produced by one thread as a single chain of
 * fused multiply-adds over k = 0..K-1 in increasing order, starting from 0 (or
 * from C's value when accumulating). Edge tiles run the same kernel on a
 * padded copy. The result is therefore the same for any blocking and any
 * thread count. */
#include "kiln/train.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

/* The micro-tile is MR rows by NR = 2 vectors: AVX-512 12 x 32 (24 zmm
 * accumulators), AVX2 + FMA 6 x 16 (12 ymm accumulators), otherwise a
 * portable 6 x 16 loop. Every kernel computes each element as the same chain
 * of fused multiply-adds, so all three give identical results. */
#if defined(__AVX512F__)
#include <immintrin.h>
#define MR 12
#define NR 32
typedef __m512 vf;
#define VW 16
#define VLOAD(p) _mm512_load_ps(p)
#define VLOADU(p) _mm512_loadu_ps(p)
#define VSTOREU(p, v) _mm512_storeu_ps(p, v)
#define VSET1(x) _mm512_set1_ps(x)
#define VZERO() _mm512_setzero_ps()
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define HAVE_SIMD 1
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MR 6
#define NR 16
typedef __m256 vf;
#define VW 8
#define VLOAD(p) _mm256_load_ps(p)
#define VLOADU(p) _mm256_loadu_ps(p)
#define VSTOREU(p, v) _mm256_storeu_ps(p, v)
#define VSET1(x) _mm256_set1_ps(x)
#define VZERO() _mm256_setzero_ps()
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define HAVE_SIMD 1
#else
#define MR 6
#define NR 16
#endif
#define KC 256     /* K block; a K of at most KC_ONE is taken in one block */
#define KC_ONE 512

/* Pack rows [i0, i0+mr) x cols [k0, k0+kc) of op(A) into MR-interleaved
 * order: dst[k*MR + i]. Rows past mr are zero. */
static void pack_a(float *dst, int ta, const float *A, int lda, int i0, int mr,
                   int k0, int kc)
{
    if (!ta) {
        for (int i = 0; i < MR; i++) {
            if (i < mr) {
                const float *src = A + (size_t)(i0 + i) * lda + k0;
                for (int k = 0; k < kc; k++) dst[k * MR + i] = src[k];
            } else {
                for (int k = 0; k < kc; k++) dst[k * MR + i] = 0.0f;
            }
        }
    } else { /* A stored as [K, M]: element (i, k) at A[k*lda + i] */
        for (int k = 0; k < kc; k++) {
            const float *src = A + (size_t)(k0 + k) * lda + i0;
            int i = 0;
            for (; i < mr; i++) dst[k * MR + i] = src[i];
            for (; i < MR; i++) dst[k * MR + i] = 0.0f;
        }
    }
}

/* Pack cols [j0, j0+nr) x rows [k0, k0+kc) of op(B): dst[k*NR + j]. */
static void pack_b(float *dst, int tb, const float *B, int ldb, int j0, int nr,
                   int k0, int kc)
{
    if (!tb) {
        for (int k = 0; k < kc; k++) {
            const float *src = B + (size_t)(k0 + k) * ldb + j0;
            int j = 0;
            for (; j < nr; j++) dst[k * NR + j] = src[j];
            for (; j < NR; j++) dst[k * NR + j] = 0.0f;
        }
    } else { /* B stored as [N, K]: element (k, j) at B[j*ldb + k] */
        for (int j = 0; j < NR; j++) {
            if (j < nr) {
                const float *src = B + (size_t)(j0 + j) * ldb + k0;
                for (int k = 0; k < kc; k++) dst[k * NR + j] = src[k];
            } else {
                for (int k = 0; k < kc; k++) dst[k * NR + j] = 0.0f;
            }
        }
    }
}

/* C[MR, NR] (ldc) = (load ? C : 0) + Ap * Bp over kc steps, where the MR
 * values of A for step k are Ap[k*as + 0..MR) — as = MR for a packed panel,
 * or lda when A is stored transposed and read in place. */
#ifdef HAVE_SIMD
static void kernel(int kc, const float *restrict Ap, int as, const float *restrict Bp,
                   float *restrict C, int ldc, int load)
{
    vf c0[MR], c1[MR];
    if (load) {
        for (int i = 0; i < MR; i++) {
            c0[i] = VLOADU(C + (size_t)i * ldc);
            c1[i] = VLOADU(C + (size_t)i * ldc + VW);
        }
    } else {
        for (int i = 0; i < MR; i++) c0[i] = c1[i] = VZERO();
    }
    for (int k = 0; k < kc; k++) {
        vf b0 = VLOAD(Bp), b1 = VLOAD(Bp + VW);
        for (int i = 0; i < MR; i++) {
            vf a = VSET1(Ap[i]);
            c0[i] = VFMA(a, b0, c0[i]);
            c1[i] = VFMA(a, b1, c1[i]);
        }
        Ap += as;
        Bp += NR;
    }
    for (int i = 0; i < MR; i++) {
        VSTOREU(C + (size_t)i * ldc, c0[i]);
        VSTOREU(C + (size_t)i * ldc + VW, c1[i]);
    }
}
/* The same tile with A read in place (row-major, leading dimension lda)
 * instead of packed: skips packing when A's rows are contiguous. The
 * arithmetic per element is identical to kernel(). */
static void kernel_rows(int kc, const float *restrict A, int lda, const float *restrict Bp,
                        float *restrict C, int ldc, int load)
{
    vf c0[MR], c1[MR];
    if (load) {
        for (int i = 0; i < MR; i++) {
            c0[i] = VLOADU(C + (size_t)i * ldc);
            c1[i] = VLOADU(C + (size_t)i * ldc + VW);
        }
    } else {
        for (int i = 0; i < MR; i++) c0[i] = c1[i] = VZERO();
    }
    for (int k = 0; k < kc; k++) {
        vf b0 = VLOAD(Bp), b1 = VLOAD(Bp + VW);
        for (int i = 0; i < MR; i++) {
            vf a = VSET1(A[(size_t)i * lda + k]);
            c0[i] = VFMA(a, b0, c0[i]);
            c1[i] = VFMA(a, b1, c1[i]);
        }
        Bp += NR;
    }
    for (int i = 0; i < MR; i++) {
        VSTOREU(C + (size_t)i * ldc, c0[i]);
        VSTOREU(C + (size_t)i * ldc + VW, c1[i]);
    }
}
#define HAVE_KERNEL_ROWS 1
#else
static void kernel(int kc, const float *restrict Ap, int as, const float *restrict Bp,
                   float *restrict C, int ldc, int load)
{
    float c[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) c[i][j] = load ? C[(size_t)i * ldc + j] : 0.0f;
    for (int k = 0; k < kc; k++) {
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) c[i][j] = fmaf(Ap[i], Bp[j], c[i][j]);
        Ap += as;
        Bp += NR;
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) C[(size_t)i * ldc + j] = c[i][j];
}
#endif

/* Per-thread packing buffer for B, kept between calls: OpenMP reuses its
 * threads, and a fresh allocation per product costs page faults and zeroing
 * (15% of an epoch when measured). Each buffer is also listed in `keep` so
 * that it stays reachable (LeakSanitizer) for the life of the process. */
#define KEEP_MAX 256
static float *keep[KEEP_MAX];
static int keep_n;
static _Thread_local float *tl_buf;
static _Thread_local size_t tl_cap;
static _Thread_local int tl_slot = -1;

static float *scratch(size_t floats)
{
    if (floats > tl_cap) {
        free(tl_buf);
        tl_cap = floats + floats / 4;
        tl_buf = kiln_aligned_alloc(sizeof(float) * tl_cap);
        if (tl_slot < 0) tl_slot = __atomic_fetch_add(&keep_n, 1, __ATOMIC_RELAXED);
        if (tl_slot < KEEP_MAX) __atomic_store_n(&keep[tl_slot], tl_buf, __ATOMIC_RELAXED);
    }
    return tl_buf;
}

/* The blocked product of the rows [0, M) described above. */
static void gemm_rows(int ta, int tb, int M, int N, int K, const float *A, int lda,
                      const float *B, int ldb, float *C, int ldc, int accumulate);

/* A product with a single row panel and a long K (the first convolution's
 * weight gradient: 9 x 32 over 169,000 pixels) would run on one thread. It
 * is split instead into K chunks of KSPLIT, a size fixed by the shape alone,
 * each chunk's partial product computed by one chain per element, and the
 * partials added in chunk order: the same additions for any thread count. */
#define KSPLIT 8192
static void gemm_ksplit(int ta, int tb, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, float *C, int ldc, int accumulate)
{
    const int chunks = (K + KSPLIT - 1) / KSPLIT;
    float *part = kiln_xmalloc(sizeof(float) * (size_t)chunks * M * N);
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < chunks; c++) {
        int k0 = c * KSPLIT, kc = K - k0 < KSPLIT ? K - k0 : KSPLIT;
        const float *Ac = ta ? A + (size_t)k0 * lda : A + k0;
        const float *Bc = tb ? B + k0 : B + (size_t)k0 * ldb;
        gemm_rows(ta, tb, M, N, kc, Ac, lda, Bc, ldb, part + (size_t)c * M * N, N, 0);
    }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = accumulate ? C[(size_t)i * ldc + j] : 0.0f;
            for (int c = 0; c < chunks; c++) s += part[((size_t)c * M + i) * N + j];
            C[(size_t)i * ldc + j] = s;
        }
    free(part);
}

void kiln_sgemm(int ta, int tb, int M, int N, int K, const float *A, int lda,
                const float *B, int ldb, float *C, int ldc, int accumulate)
{
    if (M <= 0 || N <= 0) return;
    if (M <= MR && K >= 2 * KSPLIT) {
        gemm_ksplit(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
        return;
    }
    gemm_rows(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

static void gemm_rows(int ta, int tb, int M, int N, int K, const float *A, int lda,
                      const float *B, int ldb, float *C, int ldc, int accumulate)
{
    if (K <= 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, sizeof(float) * N);
        return;
    }
    const int np = (N + NR - 1) / NR;     /* B panels */
    const int mp = (M + MR - 1) / MR;     /* A micro-panels */
    const int kb = K <= KC_ONE ? K : KC;  /* K block for this product */
    const int kcmax = K < kb ? K : kb;
    /* One parallel region, no barriers inside: each thread owns a contiguous
     * range of A micro-panels (so a range of C rows) and packs the B block it
     * needs itself. The redundant packing of B costs N*K per thread against
     * M*N*K/threads of arithmetic. */
    #pragma omp parallel
    {
        const int T = omp_get_num_threads(), t = omp_get_thread_num();
        const int q0 = (int)((long)mp * t / T), q1 = (int)((long)mp * (t + 1) / T);
        if (q0 < q1) {
            float *Bp = scratch((size_t)np * NR * kcmax);
            float Ap[MR * KC_ONE] __attribute__((aligned(64)));
            float tile[MR * NR] __attribute__((aligned(64)));
            for (int k0 = 0; k0 < K; k0 += kb) {
                const int kc = K - k0 < kb ? K - k0 : kb;
                const int load = accumulate || k0 > 0;
                for (int p = 0; p < np; p++) {
                    int j0 = p * NR, nr = N - j0 < NR ? N - j0 : NR;
                    pack_b(Bp + (size_t)p * NR * kc, tb, B, ldb, j0, nr, k0, kc);
                }
                for (int q = q0; q < q1; q++) {
                    int i0 = q * MR, mr = M - i0 < MR ? M - i0 : MR;
#ifdef HAVE_KERNEL_ROWS
                    const int direct = !ta && mr == MR;
#else
                    const int direct = 0;
#endif
                    /* a transposed A holds each step's MR values contiguously:
                     * the kernel reads them in place */
                    const int in_place_t = ta && mr == MR;
                    int packed = 0;
                    for (int p = 0; p < np; p++) {
                        int j0 = p * NR, nr = N - j0 < NR ? N - j0 : NR;
                        float *Cij = C + (size_t)i0 * ldc + j0;
                        const float *Bpp = Bp + (size_t)p * NR * kc;
#ifdef HAVE_KERNEL_ROWS
                        if (direct && nr == NR) {
                            kernel_rows(kc, A + (size_t)i0 * lda + k0, lda, Bpp, Cij, ldc, load);
                            continue;
                        }
#endif
                        if (in_place_t && nr == NR) {
                            kernel(kc, A + (size_t)k0 * lda + i0, lda, Bpp, Cij, ldc, load);
                            continue;
                        }
                        if (!packed) { pack_a(Ap, ta, A, lda, i0, mr, k0, kc); packed = 1; }
                        if (mr == MR && nr == NR) {
                            kernel(kc, Ap, MR, Bpp, Cij, ldc, load);
                        } else {
                            memset(tile, 0, sizeof tile);
                            if (load)
                                for (int i = 0; i < mr; i++)
                                    memcpy(tile + i * NR, Cij + (size_t)i * ldc, sizeof(float) * nr);
                            kernel(kc, Ap, MR, Bpp, tile, NR, load);
                            for (int i = 0; i < mr; i++)
                                memcpy(Cij + (size_t)i * ldc, tile + i * NR, sizeof(float) * nr);
                        }
                    }
                }
            }
        }
    }
}
