/* Private helpers shared by the trainer's source files. */
#ifndef KILN_TRAIN_INTERNAL_H
#define KILN_TRAIN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* 64-byte aligned, zeroed allocation; aborts on out-of-memory. */
void *kiln_aligned_alloc(size_t bytes);
/* Allocation that aborts with a message on out-of-memory. */
void *kiln_xmalloc(size_t bytes);
void *kiln_xcalloc(size_t n, size_t size);
void *kiln_xrealloc(void *p, size_t bytes);
/* snprintf into err (if non-NULL) and return 1: `return kiln_fail(err, n, ...)`. */
int kiln_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Number of threads to use for `threads` (0 = all cores). */
int kiln_resolve_threads(int threads);
/* Monotonic wall clock in seconds. */
double kiln_now(void);

/* The layers and their shapes, the parameter count and the activations per
 * image of a spec: everything kiln_model_build does but allocate (and refuse
 * a model too large); params and grads stay NULL. */
struct kiln_model;
int kiln_model_shape(struct kiln_model *m, const char *spec, int in_h, int in_w, int in_c, char *err, size_t errlen);

/* JSON (json.c): a number, or null when it is not finite; an array of n
 * such numbers; a number read back (null or not a number -> NaN). */
struct json_t;
struct json_t *kiln_json_num(double v);
struct json_t *kiln_json_series(const double *v, long n);
double kiln_json_get(const struct json_t *v);

/* The patch matrix of a valid KxK, stride-1 convolution over an NHWC input
 * in[B,H,W,C], never stored: row r = (b, oy, ox) over B*OH*OW pixels, column
 * (ky, kx, c) over K*K*C, value in[b, oy+ky, ox+kx, c]; OH = H-K+1. row0 and
 * col0 offset the matrix (0 for the whole of it). The GEMM packs its blocks
 * straight from the input, so no im2col buffer exists. */
typedef struct kiln_patches {
    const float *in;
    int H, W, C, K;
    long row0;
    int col0;
} kiln_patches;

/* kiln_sgemm with op(A) = P (ta: P transposed): C[M,N] (+)= op(P) * op(B). */
void kiln_sgemm_patches(int ta, int tb, int M, int N, int K, const kiln_patches *P,
                        const float *B, int ldb, float *C, int ldc, int accumulate);
/* op(B)[K,N] packed once (kiln_gemm_packed_floats(N, K) floats) for any
 * number of kiln_gemm_1t calls. */
size_t kiln_gemm_packed_floats(int N, int K);
void kiln_gemm_pack_b(float *dst, int tb, const float *B, int ldb, int N, int K);
/* On the calling thread only: C[M,N] (+)= A[M,K] * Bp, A plain rows (A, lda)
 * or, when P is not NULL, rows [P->row0, P->row0+M) of the patch matrix. The
 * same chain of fused multiply-adds per element as kiln_sgemm. */
void kiln_gemm_1t(int M, int N, int K, const float *A, int lda, const kiln_patches *P,
                  const float *Bp, float *C, int ldc, int accumulate);
/* A buffer of at least `floats` floats owned by the calling thread and kept
 * for its life: per-image scratch inside parallel loops. */
float *kiln_scratch(size_t floats);
/* A second one, for a buffer the calling thread fills before a parallel
 * loop and the loop's threads only read. */
float *kiln_shared_scratch(size_t floats);

/* C rows Crow[i], i < n, (+= when load) = the patches at pix[i] times Bp,
 * op(B)[K, N] packed by kiln_gemm_pack_b(.., N, K) with K = KH * run: row ky
 * of patch i is the run floats at pix[i] + ky * stride (a convolution's
 * patch: run = K*C floats of input row oy+ky). Any set of pixels, in any
 * order; one fused multiply-add chain per element over k = 0..K-1, the chain
 * kiln_sgemm_patches computes. */
void kiln_gemm_patch_rows(int n, const float *const *pix, int KH, int run, size_t stride,
                          const float *Bp, int N, float *const *Crow, int load);
/* The K chunk of a product C[M,N] = op(A) op(B) over depth K: kiln_sgemm
 * computes each element as one chain per chunk of this many k (from 0),
 * then adds the chunks' sums in order to 0 (or to C). */
int kiln_gemm_k_chunk(int M, int K);
/* The rows per chunk of a bias gradient (column sums, see bias_grad). */
#define KILN_BIAS_CHUNK 512

/* Starting a parallel region wakes the sleeping team: about 70 us on a VM
 * whose threads wait passively, more than a small loop's whole work (ReLU
 * over the dense layer's 32,000 floats takes 4 us). Loops under these sizes
 * run on the calling thread; every element's arithmetic is the same either
 * way, so the results do not change. */
#define KILN_PAR_ELEMS (1L << 20) /* elementwise loops: floats */
#define KILN_PAR_MACS (1L << 22)  /* products: M*N*K multiply-adds */

/* Winograd F(2x2, 3x3) for the 3x3 convolution of a conv-relu-pool block
 * (winograd.c; which shapes take it: kiln_conv_pool_winograd in train.h):
 * the filter transform U[16][C][OC], one image's pool-read outputs y[OH,OW,OC] (work: room for
 * kiln_wino_image_floats floats), and the block's convolution gradients from
 * dy[B,OH,OW,OC] (din NULL: none). */
void kiln_wino_filter(float *U, const float *w, int C, int OC);
size_t kiln_wino_image_floats(int C, int OC, int PH, int PW);
void kiln_wino_image(float *y, const float *img, const float *U, const float *bias, int W, int C, int OC,
                     int PH, int PW, float *work);
void kiln_wino_backward(float *din, float *dw, float *db, const float *in, const float *dy, const float *w,
                        int B, int H, int W, int C, int OC);
/* The same straight from the pool's gradient (no dy): dout, out, argmax
 * and mask of kiln_conv_pool_forward. */
void kiln_wino_backward_pool(float *din, float *dw, float *db, const float *dout, const float *out,
                             const int32_t *argmax, const float *mask, const float *in, const float *w,
                             int B, int H, int W, int C, int OC);

#endif
