/* The 3x3 convolution of a conv -> relu -> 2x2 max-pool block by Winograd
 * F(2x2, 3x3), forward and backward (NHWC). Each pool window is one output
 * tile: tile (py, px) reads the 4x4 input patch at (2py, 2px) and gives the
 * 2x2 outputs the window pools, so only the pixels the pool reads are
 * computed, as in the direct block. Per tile, with d the input patch and g a
 * filter (one input channel to one output channel):
 *   U = G g G^T  (4x4)   V = B^T d B  (4x4)   y = A^T [sum_c U . V] A  (2x2)
 * 16 products of [tiles x C] by [C x OC] replace the direct sum's 9 per
 * output pixel: 2.25x fewer multiply-adds for the article's second
 * convolution, not counting the transforms.
 *
 * Winograd rounds differently from the direct sum, so the block's results
 * are not the direct block's bits; they are the same bits for any thread
 * count and any instruction set: every element is a fixed chain of
 * additions, subtractions and fused multiply-adds, lane by lane (simd.h),
 * and the register tiles only group elements, never reorder a chain.
 *
 * The backward is the exact gradient of this forward: with Y = A dy A^T per
 * tile, dU = sum over tiles of V^T Y and dV = Y U^T; dw = G^T dU G and
 * din = B dV B^T added into each tile's 4x4 patch. */
#include "kiln/train.h"
#include "internal.h"
#include "simd.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { NX = 16, /* transformed elements per tile */
       IMG_CHUNK = 16 /* images per chain of dw's sums */ };

/* register tiles of the products, per instruction set: R rows by NV
 * vectors of KV (the forward's M = V U, dw's dU += V^T Y, din's dV = Y U^T) */
#if KV == 16
enum { FW_R = 5, FW_NV = 4, DU_R = 4, DU_NV = 4, DV_R = 5, DV_NV = 2 };
#elif KV == 8
enum { FW_R = 5, FW_NV = 2, DU_R = 4, DU_NV = 2, DV_R = 5, DV_NV = 2 };
#else
enum { FW_R = 4, FW_NV = 4, DU_R = 4, DU_NV = 4, DV_R = 4, DV_NV = 4 };
#endif

int kiln_conv_pool_winograd(int C, int K, int OC)
{
    /* channels in whole vectors on every build (16 lanes at most) */
    return K == 3 && C > 0 && OC > 0 && C % 16 == 0 && OC % 16 == 0;
}

/* ------------------------------------------------------------ the products */

/* Rows o[r] (R of them, the first `rows` stored), NV vectors from column n:
 * o[r][n..] = (acc ? o[r][n..] : 0) + sum_k a[r][k*ks] * b[k*ldb + n..], one
 * chain of fused multiply-adds per element over k = 0..K-1 in order. */
static inline __attribute__((always_inline)) void
block(float *const *o, int n, const float *const *a, int ks, const float *b, int ldb, int K, int acc,
      int R, int NV, int rows)
{
    kv s[16][4];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < NV; v++) s[r][v] = acc ? kv_load(o[r] + n + v * KV) : kv_zero();
    for (int k = 0; k < K; k++) {
        kv bv[4];
        for (int v = 0; v < NV; v++) bv[v] = kv_load(b + (size_t)k * ldb + n + v * KV);
        for (int r = 0; r < R; r++) {
            const kv x = kv_set1(a[r][(size_t)k * ks]);
            for (int v = 0; v < NV; v++) s[r][v] = kv_fma(x, bv[v], s[r][v]);
        }
    }
    for (int r = 0; r < rows; r++)
        for (int v = 0; v < NV; v++) kv_store(o[r] + n + v * KV, s[r][v]);
}

/* out[M,N] (ldo) (+)= A B, A(i, k) = A[i*as + k*ks], B[K,N] (ldb), N a
 * multiple of KV: rows in groups of R (a short last group repeats its last
 * row and stores it once), columns in tiles of NV vectors, then single ones. */
static inline __attribute__((always_inline)) void
product(float *out, int ldo, const float *A, int as, int ks, const float *B, int ldb, int M, int N, int K,
        int acc, int R, int NV)
{
    for (int i0 = 0; i0 < M; i0 += R) {
        const int rows = M - i0 < R ? M - i0 : R;
        const float *a[16];
        float *o[16];
        for (int r = 0; r < R; r++) {
            const int i = i0 + (r < rows ? r : rows - 1);
            a[r] = A + (size_t)i * as;
            o[r] = out + (size_t)i * ldo;
        }
        int n = 0;
        for (; n + NV * KV <= N; n += NV * KV) block(o, n, a, ks, B, ldb, K, acc, R, NV, rows);
        for (; n < N; n += KV) block(o, n, a, ks, B, ldb, K, acc, R, 1, rows);
    }
}

/* ---------------------------------------------------------- the transforms */

/* U[16][C][OC] = G g G^T for every (c, oc) of w[(ky*3+kx)*C + c][OC]. */
void kiln_wino_filter(float *U, const float *w, int C, int OC)
{
    for (int c = 0; c < C; c++)
        for (int o = 0; o < OC; o++) {
            float g[3][3], t[4][3];
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 3; x++) g[y][x] = w[((size_t)(y * 3 + x) * C + c) * OC + o];
            for (int x = 0; x < 3; x++) {
                t[0][x] = g[0][x];
                t[1][x] = 0.5f * (g[0][x] + g[1][x] + g[2][x]);
                t[2][x] = 0.5f * (g[0][x] - g[1][x] + g[2][x]);
                t[3][x] = g[2][x];
            }
            for (int i = 0; i < 4; i++) {
                const float u[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]),
                                    0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
                for (int j = 0; j < 4; j++) U[((size_t)(i * 4 + j) * C + c) * OC + o] = u[j];
            }
        }
}

/* V[16][T][C] = B^T d B for the PH*PW tiles of one image img[H,W,C]. */
static void input_transform(float *V, const float *img, int W, int C, int PH, int PW)
{
    const int T = PH * PW;
    for (int ty = 0; ty < PH; ty++)
        for (int tx = 0; tx < PW; tx++) {
            const int t = ty * PW + tx;
            for (int c = 0; c < C; c += KV) {
                kv d[4][4], r[4][4];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++)
                        d[i][j] = kv_load(img + ((size_t)(2 * ty + i) * W + 2 * tx + j) * C + c);
                for (int j = 0; j < 4; j++) {
                    r[0][j] = kv_sub(d[0][j], d[2][j]);
                    r[1][j] = kv_add(d[1][j], d[2][j]);
                    r[2][j] = kv_sub(d[2][j], d[1][j]);
                    r[3][j] = kv_sub(d[1][j], d[3][j]);
                }
                for (int i = 0; i < 4; i++) {
                    const kv v[4] = {kv_sub(r[i][0], r[i][2]), kv_add(r[i][1], r[i][2]),
                                     kv_sub(r[i][2], r[i][1]), kv_sub(r[i][1], r[i][3])};
                    for (int j = 0; j < 4; j++) kv_store(V + ((size_t)(i * 4 + j) * T + t) * C + c, v[j]);
                }
            }
        }
}

/* The 2x2 outputs of tile (py, px) from its products m[16] (vectors of OC at
 * column q, m[x] at M + x*ldm): y = A^T m A + bias, into y[OH,OW,OC]. */
static inline void output_tile(float *y, const float *M, size_t ldm, const float *bias, int q, int py, int px,
                               int OW, int OC)
{
    kv m[4][4], r[2][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) m[i][j] = kv_load(M + (size_t)(i * 4 + j) * ldm + q);
    for (int j = 0; j < 4; j++) {
        r[0][j] = kv_add(kv_add(m[0][j], m[1][j]), m[2][j]);
        r[1][j] = kv_sub(kv_sub(m[1][j], m[2][j]), m[3][j]);
    }
    const kv bv = kv_load(bias + q);
    for (int i = 0; i < 2; i++) {
        float *row = y + ((size_t)(2 * py + i) * OW + 2 * px) * OC + q;
        kv_store(row, kv_add(kv_add(kv_add(r[i][0], r[i][1]), r[i][2]), bv));
        kv_store(row + OC, kv_add(kv_sub(kv_sub(r[i][1], r[i][2]), r[i][3]), bv));
    }
}

size_t kiln_wino_image_floats(int C, int OC, int PH, int PW)
{
    return (size_t)NX * PH * PW * (C + OC);
}

/* y[OH,OW,OC] of one image at the pixels the pool reads, [0, 2PH) x [0, 2PW):
 * bias + the Winograd sum over the image's tiles, U from kiln_wino_filter,
 * work: kiln_wino_image_floats floats of the caller's scratch. Each U[x]
 * (C*OC floats) serves all the image's tiles while it is in L1. */
void kiln_wino_image(float *y, const float *img, const float *U, const float *bias, int W, int C, int OC,
                     int PH, int PW, float *work)
{
    const int T = PH * PW, OW = W - 2;
    float *V = work, *M = work + (size_t)NX * T * C;
    input_transform(V, img, W, C, PH, PW);
    /* M[x][T][OC] = V[x][T][C] U[x][C][OC] */
    for (int x = 0; x < NX; x++)
        product(M + (size_t)x * T * OC, OC, V + (size_t)x * T * C, C, 1, U + (size_t)x * C * OC, OC, T, OC, C, 0,
                FW_R, FW_NV);
    for (int t = 0; t < T; t++)
        for (int q = 0; q < OC; q += KV)
            output_tile(y, M + (size_t)t * OC, (size_t)T * OC, bias, q, t / PW, t % PW, OW, OC);
}

/* ---------------------------------------------------------------- backward */

/* Where the gradient at the convolution's output comes from: dy[B,OH,OW,OC]
 * (zero but at the windows' maxima), or straight from the pool's: dout,
 * out, argmax and mask (NULL: none) of kiln_conv_pool_forward, dy at a
 * window's pixel = its maximum's gradient (0 when out <= 0) where argmax
 * names the pixel, else 0 (kiln_conv_pool_backward_pool's values). */
typedef struct {
    const float *dy, *dout, *out, *mask;
    const int32_t *argmax;
} grad_src;

/* Y[16][T][OC] = A dy A^T per tile of image b, and bs[OC] += the tile's
 * four dy, tile by tile, pixels in row-major order. */
static void grad_transform(float *Y, float *bs, const grad_src *src, int b, int OH, int OW, int OC, int PH, int PW)
{
    const int T = PH * PW;
    const size_t per_y = (size_t)OH * OW * OC, per_out = (size_t)T * OC;
    for (int t = 0; t < T; t++) {
        const int py = t / PW, px = t % PW;
        for (int q = 0; q < OC; q += KV) {
            const kv z = kv_zero();
            const int i00 = ((2 * py) * OW + 2 * px) * OC + q;
            kv y00, y01, y10, y11;
            if (src->dy) {
                const float *d = src->dy + b * per_y + i00;
                y00 = kv_load(d);
                y01 = kv_load(d + OC);
                y10 = kv_load(d + (size_t)OW * OC);
                y11 = kv_load(d + (size_t)OW * OC + OC);
            } else {
                const size_t j = b * per_out + (size_t)t * OC + q;
                kv g = kv_load(src->dout + j);
                if (src->mask) g = kv_mul(g, kv_load(src->mask + j));
                g = kv_sel(kv_gt(kv_load(src->out + j), z), z, g);
                const kvi am = kvi_load(src->argmax + j);
                y00 = kv_sel(kvi_eq(am, kvi_iota(i00)), z, g);
                y01 = kv_sel(kvi_eq(am, kvi_iota(i00 + OC)), z, g);
                y10 = kv_sel(kvi_eq(am, kvi_iota(i00 + OW * OC)), z, g);
                y11 = kv_sel(kvi_eq(am, kvi_iota(i00 + OW * OC + OC)), z, g);
            }
            kv bsum = kv_load(bs + q);
            bsum = kv_add(kv_add(kv_add(kv_add(bsum, y00), y01), y10), y11);
            kv_store(bs + q, bsum);
            /* rows of A dy: y0, y0 + y1, y0 - y1, -y1 */
            const kv r[4][2] = {{y00, y01}, {kv_add(y00, y10), kv_add(y01, y11)},
                                {kv_sub(y00, y10), kv_sub(y01, y11)}, {kv_sub(z, y10), kv_sub(z, y11)}};
            for (int i = 0; i < 4; i++) {
                const kv v[4] = {r[i][0], kv_add(r[i][0], r[i][1]), kv_sub(r[i][0], r[i][1]), kv_sub(z, r[i][1])};
                for (int j = 0; j < 4; j++) kv_store(Y + ((size_t)(i * 4 + j) * T + t) * OC + q, v[j]);
            }
        }
    }
}

/* din[H,W,C] of one image = B dV B^T added into each tile's 4x4 patch, tiles
 * in row-major order, onto zeros. dV[16][T][C]. */
static void input_grad(float *din, const float *dV, int H, int W, int C, int PH, int PW)
{
    const int T = PH * PW;
    memset(din, 0, sizeof(float) * (size_t)H * W * C);
    for (int t = 0; t < T; t++) {
        const int py = t / PW, px = t % PW;
        for (int c = 0; c < C; c += KV) {
            kv x[4][4], r[4][4];
            const kv z = kv_zero();
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) x[i][j] = kv_load(dV + ((size_t)(i * 4 + j) * T + t) * C + c);
            /* rows of B x: x0, x1 - x2 + x3, x1 + x2 - x0, -x3 */
            for (int j = 0; j < 4; j++) {
                r[0][j] = x[0][j];
                r[1][j] = kv_add(kv_sub(x[1][j], x[2][j]), x[3][j]);
                r[2][j] = kv_sub(kv_add(x[1][j], x[2][j]), x[0][j]);
                r[3][j] = kv_sub(z, x[3][j]);
            }
            for (int i = 0; i < 4; i++) {
                const kv v[4] = {r[i][0], kv_add(kv_sub(r[i][1], r[i][2]), r[i][3]),
                                 kv_sub(kv_add(r[i][1], r[i][2]), r[i][0]), kv_sub(z, r[i][3])};
                float *row = din + ((size_t)(2 * py + i) * W + 2 * px) * C + c;
                for (int j = 0; j < 4; j++) kv_store(row + (size_t)j * C, kv_add(kv_load(row + (size_t)j * C), v[j]));
            }
        }
    }
}

/* dw[(ky*3+kx)*C + c][OC] = G^T dU G for every (c, oc). */
static void filter_grad(float *dw, const float *dU, int C, int OC)
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
                const float g[3] = {t[i][0] + 0.5f * (t[i][1] + t[i][2]), 0.5f * (t[i][1] - t[i][2]),
                                    0.5f * (t[i][1] + t[i][2]) + t[i][3]};
                for (int x = 0; x < 3; x++) dw[((size_t)(i * 3 + x) * C + c) * OC + o] = g[x];
            }
        }
}

/* din[B,H,W,C] (NULL: none), dw[9C,OC], db[OC] of the Winograd block from
 * dy[B,OH,OW,OC], the gradient at the convolution's output (zero but where
 * the pool took a maximum). dw and db: one chain per element over the
 * tiles of IMG_CHUNK images in order, then the chunks' sums added in order
 * to 0; threads take whole chunks, so the sums do not depend on how many. */
static void wino_backward(float *din, float *dw, float *db, const float *in, const grad_src *src, const float *w,
                          int B, int H, int W, int C, int OC)
{
    const int OW = W - 2, PH = (H - 2) / 2, PW = OW / 2, T = PH * PW;
    const size_t nu = (size_t)NX * C * OC, per_in = (size_t)H * W * C;
    const int chunks = (B + IMG_CHUNK - 1) / IMG_CHUNK;
    float *part = kiln_xcalloc((size_t)chunks * (nu + OC), sizeof(float));
    float *Ut = NULL;
    if (din) { /* Ut[16][OC][C] = U transposed */
        float *U = kiln_xmalloc(sizeof(float) * nu);
        kiln_wino_filter(U, w, C, OC);
        Ut = kiln_shared_scratch(nu);
        for (int x = 0; x < NX; x++)
            for (int c = 0; c < C; c++)
                for (int o = 0; o < OC; o++) Ut[((size_t)x * OC + o) * C + c] = U[((size_t)x * C + c) * OC + o];
        free(U);
    }
    #pragma omp parallel if ((long)B * T * C * OC * 2 >= KILN_PAR_MACS)
    {
        const int nth = omp_get_num_threads(), th = omp_get_thread_num();
        const int c0 = chunks * th / nth, c1 = chunks * (th + 1) / nth;
        float *V = NULL, *Y = NULL, *dV = NULL;
        if (c0 < c1) {
            V = kiln_scratch((size_t)NX * T * (2 * C + OC));
            Y = V + (size_t)NX * T * C;
            dV = Y + (size_t)NX * T * OC;
        }
        for (int ch = c0; ch < c1; ch++) {
            float *dU = part + (size_t)ch * (nu + OC), *bs = dU + nu;
            const int b1 = (ch + 1) * IMG_CHUNK < B ? (ch + 1) * IMG_CHUNK : B;
            for (int b = ch * IMG_CHUNK; b < b1; b++) {
                input_transform(V, in + (size_t)b * per_in, W, C, PH, PW);
                grad_transform(Y, bs, src, b, H - 2, OW, OC, PH, PW);
                /* dU[x][C][OC] += V[x][T][C]^T Y[x][T][OC] */
                for (int x = 0; x < NX; x++)
                    product(dU + (size_t)x * C * OC, OC, V + (size_t)x * T * C, 1, C, Y + (size_t)x * T * OC, OC,
                            C, OC, T, 1, DU_R, DU_NV);
                if (!din) continue;
                /* dV[x][T][C] = Y[x][T][OC] Ut[x][OC][C] */
                for (int x = 0; x < NX; x++)
                    product(dV + (size_t)x * T * C, C, Y + (size_t)x * T * OC, OC, 1, Ut + (size_t)x * OC * C, C,
                            T, C, OC, 0, DV_R, DV_NV);
                input_grad(din + (size_t)b * per_in, dV, H, W, C, PH, PW);
            }
        }
    }
    float *dU = kiln_xmalloc(sizeof(float) * nu);
    for (size_t i = 0; i < nu; i++) {
        float s = 0.0f;
        for (int ch = 0; ch < chunks; ch++) s += part[(size_t)ch * (nu + OC) + i];
        dU[i] = s;
    }
    for (int o = 0; o < OC; o++) {
        float s = 0.0f;
        for (int ch = 0; ch < chunks; ch++) s += part[(size_t)ch * (nu + OC) + nu + o];
        db[o] = s;
    }
    filter_grad(dw, dU, C, OC);
    free(dU);
    free(part);
}

void kiln_wino_backward(float *din, float *dw, float *db, const float *in, const float *dy, const float *w,
                        int B, int H, int W, int C, int OC)
{
    const grad_src src = {dy, NULL, NULL, NULL, NULL};
    wino_backward(din, dw, db, in, &src, w, B, H, W, C, OC);
}

void kiln_wino_backward_pool(float *din, float *dw, float *db, const float *dout, const float *out,
                             const int32_t *argmax, const float *mask, const float *in, const float *w,
                             int B, int H, int W, int C, int OC)
{
    const grad_src src = {NULL, dout, out, mask, argmax};
    wino_backward(din, dw, db, in, &src, w, B, H, W, C, OC);
}
