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
#include <pthread.h>
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
#define VLOADU(p) _mm256_loadu_ps(p)
#define VSTOREU(p, v) _mm256_storeu_ps(p, v)
#define VSET1(x) _mm256_set1_ps(x)
#define VZERO() _mm256_setzero_ps()
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define HAVE_SIMD 1
#elif defined(KILN_PORTABLE_WIDE) /* tests/check_isa.sh: AVX-512's tile, portable code */
#define MR 12
#define NR 32
#else
#define MR 6
#define NR 16
#endif
#define KSPLIT 8192 /* see gemm_ksplit */
#define KSPLIT_M 16
#define KC 256     /* K block; a K of at most KC_ONE is taken in one block */
#define KC_ONE 512
/* The K block used for a product of depth K: all of it up to KC_ONE. */
static int k_block(int K) { return K <= KC_ONE ? K : KC; }

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
 * or lda when A is stored transposed and read in place — and the NR values
 * of B are Bp[k*bs + 0..NR): bs = NR packed, or ldb read in place. */
#ifdef HAVE_SIMD
static void kernel(int kc, const float *restrict Ap, int as, const float *restrict Bp, int bs,
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
        vf b0 = VLOADU(Bp), b1 = VLOADU(Bp + VW);
        for (int i = 0; i < MR; i++) {
            vf a = VSET1(Ap[i]);
            c0[i] = VFMA(a, b0, c0[i]);
            c1[i] = VFMA(a, b1, c1[i]);
        }
        Ap += as;
        Bp += bs;
    }
    for (int i = 0; i < MR; i++) {
        VSTOREU(C + (size_t)i * ldc, c0[i]);
        VSTOREU(C + (size_t)i * ldc + VW, c1[i]);
    }
}
/* The same tile with A read in place: row i's kc values at rows[i][0..kc)
 * (a row-major A, or one kernel row of a convolution's patches, straight
 * from the input) instead of packed. The arithmetic per element is
 * identical to kernel(). */
static void kernel_rows(int kc, const float *const *rows, const float *restrict Bp,
                        int bs, float *restrict C, int ldc, int load)
{
    vf c0[MR], c1[MR];
    const float *r[MR];
    for (int i = 0; i < MR; i++) r[i] = rows[i];
    if (load) {
        for (int i = 0; i < MR; i++) {
            c0[i] = VLOADU(C + (size_t)i * ldc);
            c1[i] = VLOADU(C + (size_t)i * ldc + VW);
        }
    } else {
        for (int i = 0; i < MR; i++) c0[i] = c1[i] = VZERO();
    }
    for (int k = 0; k < kc; k++) {
        vf b0 = VLOADU(Bp), b1 = VLOADU(Bp + VW);
        for (int i = 0; i < MR; i++) {
            vf a = VSET1(r[i][k]);
            c0[i] = VFMA(a, b0, c0[i]);
            c1[i] = VFMA(a, b1, c1[i]);
        }
        Bp += bs;
    }
    for (int i = 0; i < MR; i++) {
        VSTOREU(C + (size_t)i * ldc, c0[i]);
        VSTOREU(C + (size_t)i * ldc + VW, c1[i]);
    }
}
#define HAVE_KERNEL_ROWS 1
#endif
/* The same tile with step k's MR values of A at bases[k] + off, in place:
 * a transposed patch matrix, whose MR rows (kernel positions) of one pixel
 * lie side by side in the input. The arithmetic is kernel()'s. */
static void kernel_bases(int kc, const float *const *bases, size_t off, const float *restrict Bp,
                         int bs, float *restrict C, int ldc, int load)
{
#ifdef HAVE_SIMD
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
        const float *a = bases[k] + off;
        vf b0 = VLOADU(Bp), b1 = VLOADU(Bp + VW);
        for (int i = 0; i < MR; i++) {
            vf x = VSET1(a[i]);
            c0[i] = VFMA(x, b0, c0[i]);
            c1[i] = VFMA(x, b1, c1[i]);
        }
        Bp += bs;
    }
    for (int i = 0; i < MR; i++) {
        VSTOREU(C + (size_t)i * ldc, c0[i]);
        VSTOREU(C + (size_t)i * ldc + VW, c1[i]);
    }
#else
    float c[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) c[i][j] = load ? C[(size_t)i * ldc + j] : 0.0f;
    for (int k = 0; k < kc; k++) {
        const float *a = bases[k] + off;
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) c[i][j] = fmaf(a[i], Bp[j], c[i][j]);
        Bp += bs;
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) C[(size_t)i * ldc + j] = c[i][j];
#endif
}
#ifdef HAVE_SIMD
#else
static void kernel(int kc, const float *restrict Ap, int as, const float *restrict Bp, int bs,
                   float *restrict C, int ldc, int load)
{
    float c[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) c[i][j] = load ? C[(size_t)i * ldc + j] : 0.0f;
    for (int k = 0; k < kc; k++) {
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) c[i][j] = fmaf(Ap[i], Bp[j], c[i][j]);
        Ap += as;
        Bp += bs;
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) C[(size_t)i * ldc + j] = c[i][j];
}
#endif

/* Pack a block of the patch matrix P (see internal.h) the way pack_a packs
 * a plain one. !ta: rows = pixels [i0, i0+mr), columns = (ky, kx, c) from k0;
 * ta: rows = (ky, kx, c) from i0, columns = pixels [k0, k0+kc). Each kernel row
 * (ky) of a patch is one contiguous run of K*C floats of the input. */
static const float *patch_pixel(const kiln_patches *P, long r)
{
    const int OH = P->H - P->K + 1, OW = P->W - P->K + 1;
    const long b = r / ((long)OH * OW), rem = r % ((long)OH * OW);
    const int oy = (int)(rem / OW), ox = (int)(rem % OW);
    return P->in + (((size_t)b * P->H + oy) * P->W + ox) * P->C;
}

/* bases[k] = the input at pixel r + k's patch (its top-left), k < n. */
static void patch_bases(const float **bases, const kiln_patches *P, long r, int n)
{
    const int OH = P->H - P->K + 1, OW = P->W - P->K + 1;
    const float *base = patch_pixel(P, r);
    int ox = (int)(r % ((long)OH * OW) % OW), oy = (int)(r % ((long)OH * OW) / OW);
    for (int k = 0; k < n; k++) {
        bases[k] = base;
        if (++ox < OW) {
            base += P->C;
        } else { /* the next row; after the last, the next image */
            base += (size_t)P->K * P->C;
            ox = 0;
            if (++oy == OH) { oy = 0; base += (size_t)(P->K - 1) * P->W * P->C; }
        }
    }
}

static void pack_a_patches(float *dst, int ta, const kiln_patches *P, int i0, int mr,
                           int k0, int kc)
{
    const int run = P->K * P->C;            /* floats per kernel row */
    const size_t wc = (size_t)P->W * P->C;  /* input row stride */
    if (!ta) {
        for (int i = 0; i < MR; i++) {
            if (i >= mr) {
                for (int k = 0; k < kc; k++) dst[k * MR + i] = 0.0f;
                continue;
            }
            const float *base = patch_pixel(P, P->row0 + i0 + i);
            for (int k = 0; k < kc;) {
                int col = P->col0 + k0 + k, ky = col / run, off = col - ky * run;
                int len = run - off < kc - k ? run - off : kc - k;
                const float *src = base + ky * wc + off;
                for (int t = 0; t < len; t++) dst[(k + t) * MR + i] = src[t];
                k += len;
            }
        }
    } else {
        size_t off[MR];
        int i = 0;
        for (; i < mr; i++) {
            int col = P->col0 + i0 + i, ky = col / run;
            off[i] = ky * wc + (size_t)(col - ky * run);
        }
        const int OH = P->H - P->K + 1, OW = P->W - P->K + 1;
        const long r = P->row0 + k0;
        const float *base = patch_pixel(P, r);
        int ox = (int)(r % ((long)OH * OW) % OW), oy = (int)(r % ((long)OH * OW) / OW);
        const int contiguous = mr == MR && off[MR - 1] == off[0] + MR - 1;
        for (int k = 0; k < kc; k++) {
            float *d = dst + (size_t)k * MR;
            if (contiguous) {
                const float *src = base + off[0];
                for (i = 0; i < MR; i++) d[i] = src[i];
            } else {
                for (i = 0; i < mr; i++) d[i] = base[off[i]];
                for (; i < MR; i++) d[i] = 0.0f;
            }
            /* next pixel: one step right, or the start of the next row (the
             * rows of a patch run on: the next image follows the last row) */
            if (++ox < OW) {
                base += P->C;
            } else {
                base += (size_t)(P->K) * P->C; /* to the next input row's start */
                ox = 0;
                if (++oy == OH) { oy = 0; base += (size_t)(P->K - 1) * P->W * P->C; }
            }
        }
    }
}

/* One MR x NR tile (row-major, NR columns) += the MR rows of A at rows[i]
 * (len values each) times len rows of a packed B panel (stride NR). */
static void rows_tile(int len, const float *const *rows, const float *Bp, float *tile)
{
#ifdef HAVE_KERNEL_ROWS
    kernel_rows(len, rows, Bp, NR, tile, NR, 1);
#else
    float Ap[MR * KC_ONE];
    for (int i = 0; i < MR; i++)
        for (int k = 0; k < len; k++) Ap[k * MR + i] = rows[i][k];
    kernel(len, Ap, MR, Bp, NR, tile, NR, 1);
#endif
}

void kiln_gemm_patch_rows(int n, const float *const *pix, int KH, int run, size_t stride,
                          const float *Bp, int N, float *const *Crow, int load)
{
    float tile[MR * NR] __attribute__((aligned(64)));
    const int K = KH * run, np = (N + NR - 1) / NR, kb = k_block(K);
    for (int i0 = 0; i0 < n; i0 += MR) {
        const int mr = n - i0 < MR ? n - i0 : MR;
        const float *px[MR], *rows[MR];
        for (int i = 0; i < MR; i++) px[i] = pix[i0 + (i < mr ? i : mr - 1)]; /* pad: discarded */
        for (int p = 0; p < np; p++) {
            const int j0 = p * NR, nr = N - j0 < NR ? N - j0 : NR;
            memset(tile, 0, sizeof tile);
            if (load)
                for (int i = 0; i < mr; i++) memcpy(tile + i * NR, Crow[i0 + i] + j0, sizeof(float) * nr);
            for (int k0 = 0; k0 < K; k0 += kb) {
                const int kc = K - k0 < kb ? K - k0 : kb;
                const float *Bpp = Bp + (size_t)k0 * np * NR + (size_t)p * NR * kc;
                for (int k = 0; k < kc;) { /* one piece per kernel row the block touches */
                    const int col = k0 + k, ky = col / run, off = col - ky * run;
                    const int len = run - off < kc - k ? run - off : kc - k;
                    for (int i = 0; i < MR; i++) rows[i] = px[i] + ky * stride + off;
                    rows_tile(len, rows, Bpp + (size_t)k * NR, tile);
                    k += len;
                }
            }
            for (int i = 0; i < mr; i++) memcpy(Crow[i0 + i] + j0, tile + i * NR, sizeof(float) * nr);
        }
    }
}

int kiln_gemm_k_chunk(int M, int K) { return M <= KSPLIT_M && K >= 2 * KSPLIT ? KSPLIT : K; }

/* Per-thread buffers kept between calls: OpenMP reuses its threads, and a
 * fresh allocation per product costs page faults and zeroing (15% of an
 * epoch when measured). Slot 0 packs B inside gemm_rows, slot 1 holds a B
 * packed once for kiln_gemm_1t, slot 2 is the layers' per-image scratch.
 * They are freed when their thread exits (a pthread key's destructor), so a
 * long-lived process that starts and ends threads (an OpenMP team per
 * training run of a build) holds the buffers of its live threads only,
 * never one set per thread it ever had. */
#define SLOTS 3
static _Thread_local float *tl_buf[SLOTS];
static _Thread_local size_t tl_cap[SLOTS];
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

/* At thread exit (its thread-local variables are still there then). */
static void scratch_free(void *unused)
{
    (void)unused;
    for (int i = 0; i < SLOTS; i++) {
        free(tl_buf[i]);
        tl_buf[i] = NULL;
        tl_cap[i] = 0;
    }
}

static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_free); }

static float *scratch(int slot, size_t floats)
{
    if (floats > tl_cap[slot]) {
        free(tl_buf[slot]);
        tl_cap[slot] = floats + floats / 4;
        tl_buf[slot] = kiln_aligned_alloc(sizeof(float) * tl_cap[slot]);
        /* any non-NULL value: the destructor frees every slot */
        pthread_once(&scratch_once, scratch_key_init);
        pthread_setspecific(scratch_key, &tl_cap);
    }
    return tl_buf[slot];
}

float *kiln_scratch(size_t floats) { return scratch(2, floats); }

/* One row panel [i0, i0+mr) of C (+)= op(A) * B over the K block [k0, k0+kc),
 * against B's column panel p at Bp + p*pstride with row stride bs: packed
 * ([kc][NR] panels: bs = NR, pstride = NR*kc) or in place (bs = ldb,
 * pstride = NR). Ap is room to pack A. */
static void row_panel(int ta, const float *A, int lda, const kiln_patches *P, int i0,
                      int mr, int N, int k0, int kc, const float *Bp, int bs, size_t pstride,
                      float *C, int ldc, int load, float *Ap, const float *const *bases)
{
    float tile[MR * NR] __attribute__((aligned(64)));
    const int np = (N + NR - 1) / NR;
    /* rows read in place: a plain A, or patches whose kernel rows are long
     * enough (K*C >= 32 floats) to run the kernel once per kernel row */
    const int run = P ? P->K * P->C : 0;
#ifdef HAVE_KERNEL_ROWS
    const int direct = !ta && mr == MR && (!P || run >= 32);
#else
    const int direct = 0;
    (void)direct;
#endif
    /* a transposed A holds each step's MR values contiguously: the kernel
     * reads them in place */
    const int in_place_t = !P && ta && mr == MR;
    /* a transposed patch matrix whose MR rows here lie in one kernel row:
     * read in place from each pixel's base (bases[k], k over the block) */
    size_t base_off = 0;
    int in_place_p = 0;
    if (bases && mr == MR) {
        const int c0 = P->col0 + i0, ky = c0 / run;
        in_place_p = (c0 + MR - 1) / run == ky;
        base_off = (size_t)ky * P->W * P->C + (size_t)(c0 - ky * run);
    }
    int packed = 0;
    for (int p = 0; p < np; p++) {
        int j0 = p * NR, nr = N - j0 < NR ? N - j0 : NR;
        float *Cij = C + (size_t)i0 * ldc + j0;
        const float *Bpp = Bp + (size_t)p * pstride;
#ifdef HAVE_KERNEL_ROWS
        if (direct && nr == NR) {
            const float *rows[MR];
            if (!P) {
                for (int i = 0; i < MR; i++) rows[i] = A + (size_t)(i0 + i) * lda + k0;
                kernel_rows(kc, rows, Bpp, bs, Cij, ldc, load);
                continue;
            }
            /* one call per kernel row (ky) the block [k0, k0+kc) touches */
            const size_t wc = (size_t)P->W * P->C;
            const float *base[MR];
            for (int i = 0; i < MR; i++) base[i] = patch_pixel(P, P->row0 + i0 + i);
            for (int k = 0; k < kc;) {
                int col = P->col0 + k0 + k, ky = col / run, off = col - ky * run;
                int len = run - off < kc - k ? run - off : kc - k;
                for (int i = 0; i < MR; i++) rows[i] = base[i] + ky * wc + off;
                kernel_rows(len, rows, Bpp + (size_t)k * bs, bs, Cij, ldc, load || k > 0);
                k += len;
            }
            continue;
        }
#endif
        if (in_place_p && nr == NR) {
            kernel_bases(kc, bases, base_off, Bpp, bs, Cij, ldc, load);
            continue;
        }
        if (in_place_t && nr == NR) {
            kernel(kc, A + (size_t)k0 * lda + i0, lda, Bpp, bs, Cij, ldc, load);
            continue;
        }
        if (!packed) {
            if (P) pack_a_patches(Ap, ta, P, i0, mr, k0, kc);
            else pack_a(Ap, ta, A, lda, i0, mr, k0, kc);
            packed = 1;
        }
        if (mr == MR && nr == NR) {
            kernel(kc, Ap, MR, Bpp, bs, Cij, ldc, load);
        } else {
            memset(tile, 0, sizeof tile);
            if (load)
                for (int i = 0; i < mr; i++)
                    memcpy(tile + i * NR, Cij + (size_t)i * ldc, sizeof(float) * nr);
            kernel(kc, Ap, MR, Bpp, bs, tile, NR, load);
            for (int i = 0; i < mr; i++)
                memcpy(Cij + (size_t)i * ldc, tile + i * NR, sizeof(float) * nr);
        }
    }
}


size_t kiln_gemm_packed_floats(int N, int K)
{
    return (size_t)((N + NR - 1) / NR) * NR * (size_t)(K > 0 ? K : 1);
}

/* Block k0 of the packed B starts at k0 * np * NR, panel p of it at
 * p * kc * NR further. */
void kiln_gemm_pack_b(float *dst, int tb, const float *B, int ldb, int N, int K)
{
    const int np = (N + NR - 1) / NR, kb = k_block(K);
    for (int k0 = 0; k0 < K; k0 += kb) {
        const int kc = K - k0 < kb ? K - k0 : kb;
        for (int p = 0; p < np; p++) {
            int j0 = p * NR, nr = N - j0 < NR ? N - j0 : NR;
            pack_b(dst + (size_t)k0 * np * NR + (size_t)p * NR * kc, tb, B, ldb, j0, nr, k0, kc);
        }
    }
}

void kiln_gemm_1t(int M, int N, int K, const float *A, int lda, const kiln_patches *P,
                  const float *Bp, float *C, int ldc, int accumulate)
{
    float Ap[MR * KC_ONE] __attribute__((aligned(64)));
    const int np = (N + NR - 1) / NR, kb = k_block(K);
    for (int k0 = 0; k0 < K; k0 += kb) {
        const int kc = K - k0 < kb ? K - k0 : kb;
        for (int i0 = 0; i0 < M; i0 += MR)
            row_panel(0, A, lda, P, i0, M - i0 < MR ? M - i0 : MR, N, k0, kc,
                      Bp + (size_t)k0 * np * NR, NR, (size_t)NR * kc, C, ldc, accumulate || k0 > 0, Ap, NULL);
    }
}

/* The blocked product of the rows [0, M) described above. */
static void gemm_rows(int ta, int tb, int M, int N, int K, const float *A, int lda,
                      const kiln_patches *P, const float *B, int ldb, float *C, int ldc,
                      int accumulate);

/* A product with few rows and a long K (the first convolution's weight
 * gradient: 9 x 32 over 169,000 pixels) would run on one or two threads. It
 * is split instead into K chunks of KSPLIT, each chunk's partial product
 * computed by one chain per element, and the partials added in chunk order:
 * the same additions for any thread count. The rule (M <= KSPLIT_M, K >=
 * 2*KSPLIT) depends on the shape alone, not on the micro-tile, so AVX2,
 * AVX-512 and portable builds add in the same order. */
static void gemm_ksplit(int ta, int tb, int M, int N, int K, const float *A, int lda,
                        const kiln_patches *P, const float *B, int ldb, float *C, int ldc,
                        int accumulate)
{
    const int chunks = (K + KSPLIT - 1) / KSPLIT;
    float *part = kiln_xmalloc(sizeof(float) * (size_t)chunks * M * N);
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < chunks; c++) {
        int k0 = c * KSPLIT, kc = K - k0 < KSPLIT ? K - k0 : KSPLIT;
        const float *Ac = NULL;
        kiln_patches Pc;
        if (P) { /* K runs over pixels (ta) or patch columns (!ta) */
            Pc = *P;
            if (ta) Pc.row0 += k0; else Pc.col0 += k0;
        } else {
            Ac = ta ? A + (size_t)k0 * lda : A + k0;
        }
        const float *Bc = tb ? B + k0 : B + (size_t)k0 * ldb;
        gemm_rows(ta, tb, M, N, kc, Ac, lda, P ? &Pc : NULL, Bc, ldb, part + (size_t)c * M * N, N, 0);
    }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = accumulate ? C[(size_t)i * ldc + j] : 0.0f;
            for (int c = 0; c < chunks; c++) s += part[((size_t)c * M + i) * N + j];
            C[(size_t)i * ldc + j] = s;
        }
    free(part);
}

static void gemm_any(int ta, int tb, int M, int N, int K, const float *A, int lda,
                     const kiln_patches *P, const float *B, int ldb, float *C, int ldc,
                     int accumulate)
{
    if (M <= 0 || N <= 0) return;
    if (kiln_gemm_k_chunk(M, K) < K) {
        gemm_ksplit(ta, tb, M, N, K, A, lda, P, B, ldb, C, ldc, accumulate);
        return;
    }
    gemm_rows(ta, tb, M, N, K, A, lda, P, B, ldb, C, ldc, accumulate);
}

void kiln_sgemm(int ta, int tb, int M, int N, int K, const float *A, int lda,
                const float *B, int ldb, float *C, int ldc, int accumulate)
{
    gemm_any(ta, tb, M, N, K, A, lda, NULL, B, ldb, C, ldc, accumulate);
}

void kiln_sgemm_patches(int ta, int tb, int M, int N, int K, const kiln_patches *P,
                        const float *B, int ldb, float *C, int ldc, int accumulate)
{
    gemm_any(ta, tb, M, N, K, NULL, 0, P, B, ldb, C, ldc, accumulate);
}

static void gemm_rows(int ta, int tb, int M, int N, int K, const float *A, int lda,
                      const kiln_patches *P, const float *B, int ldb, float *C, int ldc,
                      int accumulate)
{
    if (K <= 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, sizeof(float) * N);
        return;
    }
    const int np = (N + NR - 1) / NR;     /* B panels */
    const int mp = (M + MR - 1) / MR;     /* A micro-panels */
    const int kb = k_block(K);            /* K block for this product */
    const int kcmax = K < kb ? K : kb;
    /* One parallel region, no barriers inside: each thread owns a contiguous
     * range of A micro-panels (so a range of C rows). B is read in place when
     * its rows hold whole panels; otherwise each thread packs the B block it
     * needs itself (N*K per thread against M*N*K/threads of arithmetic). */
    const int b_in_place = !tb && N % NR == 0;
    #pragma omp parallel if ((long)M * N * K >= KILN_PAR_MACS)
    {
        const int T = omp_get_num_threads(), t = omp_get_thread_num();
        const int q0 = (int)((long)mp * t / T), q1 = (int)((long)mp * (t + 1) / T);
        if (q0 < q1) {
            float *Bp = b_in_place ? NULL : scratch(0, (size_t)np * NR * kcmax);
            float Ap[MR * KC_ONE] __attribute__((aligned(64)));
            const float *bases[KC_ONE];
            for (int k0 = 0; k0 < K; k0 += kb) {
                const int kc = K - k0 < kb ? K - k0 : kb;
                if (!b_in_place)
                    for (int p = 0; p < np; p++) {
                        int j0 = p * NR, nr = N - j0 < NR ? N - j0 : NR;
                        pack_b(Bp + (size_t)p * NR * kc, tb, B, ldb, j0, nr, k0, kc);
                    }
                if (P && ta) patch_bases(bases, P, P->row0 + k0, kc);
                const float *Bk = b_in_place ? B + (size_t)k0 * ldb : Bp;
                const int bs = b_in_place ? ldb : NR;
                const size_t pstride = b_in_place ? NR : (size_t)NR * kc;
                for (int q = q0; q < q1; q++) {
                    int i0 = q * MR, mr = M - i0 < MR ? M - i0 : MR;
                    row_panel(ta, A, lda, P, i0, mr, N, k0, kc, Bk, bs, pstride, C, ldc,
                              accumulate || k0 > 0, Ap, P && ta ? bases : NULL);
                }
            }
        }
    }
}

float *kiln_shared_scratch(size_t floats) { return scratch(1, floats); }
