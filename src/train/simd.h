/* Private: a handful of vector operations over KV float lanes, for the
 * trainer's elementwise passes (pooling, masks, the block's gradients).
 * Three builds: AVX-512 (16 lanes), AVX2 + FMA (8 lanes), plain C (1 lane).
 * Every operation is exact lane by lane (a compare, a select, one rounding
 * per multiply, add or fused multiply-add), so all three give the same bits
 * as the scalar code they replace. */
#ifndef KILN_TRAIN_SIMD_H
#define KILN_TRAIN_SIMD_H
#include <math.h>
#include <stdint.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#define KV 16
typedef __m512 kv;           /* KV floats */
typedef __m512i kvi;         /* KV int32 */
typedef __mmask16 kvm;       /* KV lane flags */
static inline kv kv_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void kv_store(float *p, kv a) { _mm512_storeu_ps(p, a); }
static inline kv kv_set1(float x) { return _mm512_set1_ps(x); }
static inline kv kv_zero(void) { return _mm512_setzero_ps(); }
static inline kv kv_mul(kv a, kv b) { return _mm512_mul_ps(a, b); }
static inline kv kv_add(kv a, kv b) { return _mm512_add_ps(a, b); }
static inline kv kv_sub(kv a, kv b) { return _mm512_sub_ps(a, b); }
static inline kv kv_fma(kv a, kv b, kv c) { return _mm512_fmadd_ps(a, b, c); }
/* a > b, false when either is NaN (as C's >) */
static inline kvm kv_gt(kv a, kv b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
/* m ? b : a, lane by lane */
static inline kv kv_sel(kvm m, kv a, kv b) { return _mm512_mask_blend_ps(m, a, b); }
/* m ? a*b + c : c (one rounding) */
static inline kv kv_mfma(kvm m, kv a, kv b, kv c) { return _mm512_mask3_fmadd_ps(a, b, c, m); }
/* m ? a + b : a */
static inline kv kv_madd(kvm m, kv a, kv b) { return _mm512_mask_add_ps(a, m, a, b); }
static inline int kvm_any(kvm m) { return m != 0; }
static inline kvi kvi_load(const int32_t *p) { return _mm512_loadu_si512((const void *)p); }
static inline void kvi_store(int32_t *p, kvi a) { _mm512_storeu_si512((void *)p, a); }
/* x, x+1, ..., x+KV-1 */
static inline kvi kvi_iota(int32_t x)
{
    return _mm512_add_epi32(_mm512_set1_epi32(x),
                            _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
}
static inline kvi kvi_sel(kvm m, kvi a, kvi b) { return _mm512_mask_blend_epi32(m, a, b); }
static inline kvm kvi_eq(kvi a, kvi b) { return _mm512_cmpeq_epi32_mask(a, b); }
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define KV 8
typedef __m256 kv;
typedef __m256i kvi;
typedef __m256 kvm;          /* all-ones lanes */
static inline kv kv_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void kv_store(float *p, kv a) { _mm256_storeu_ps(p, a); }
static inline kv kv_set1(float x) { return _mm256_set1_ps(x); }
static inline kv kv_zero(void) { return _mm256_setzero_ps(); }
static inline kv kv_mul(kv a, kv b) { return _mm256_mul_ps(a, b); }
static inline kv kv_add(kv a, kv b) { return _mm256_add_ps(a, b); }
static inline kv kv_sub(kv a, kv b) { return _mm256_sub_ps(a, b); }
static inline kv kv_fma(kv a, kv b, kv c) { return _mm256_fmadd_ps(a, b, c); }
static inline kvm kv_gt(kv a, kv b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
static inline kv kv_sel(kvm m, kv a, kv b) { return _mm256_blendv_ps(a, b, m); }
static inline kv kv_mfma(kvm m, kv a, kv b, kv c) { return _mm256_blendv_ps(c, _mm256_fmadd_ps(a, b, c), m); }
static inline kv kv_madd(kvm m, kv a, kv b) { return _mm256_blendv_ps(a, _mm256_add_ps(a, b), m); }
static inline int kvm_any(kvm m) { return _mm256_movemask_ps(m) != 0; }
static inline kvi kvi_load(const int32_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
static inline void kvi_store(int32_t *p, kvi a) { _mm256_storeu_si256((__m256i *)p, a); }
static inline kvi kvi_iota(int32_t x)
{
    return _mm256_add_epi32(_mm256_set1_epi32(x), _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0));
}
static inline kvi kvi_sel(kvm m, kvi a, kvi b)
{
    return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), m));
}
static inline kvm kvi_eq(kvi a, kvi b) { return _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b)); }
#else
#define KV 1
typedef float kv;
typedef int32_t kvi;
typedef int kvm;
static inline kv kv_load(const float *p) { return *p; }
static inline void kv_store(float *p, kv a) { *p = a; }
static inline kv kv_set1(float x) { return x; }
static inline kv kv_zero(void) { return 0.0f; }
static inline kv kv_mul(kv a, kv b) { return a * b; }
static inline kv kv_add(kv a, kv b) { return a + b; }
static inline kv kv_sub(kv a, kv b) { return a - b; }
static inline kv kv_fma(kv a, kv b, kv c) { return fmaf(a, b, c); }
static inline kvm kv_gt(kv a, kv b) { return a > b; }
static inline kv kv_sel(kvm m, kv a, kv b) { return m ? b : a; }
static inline kv kv_mfma(kvm m, kv a, kv b, kv c) { return m ? fmaf(a, b, c) : c; }
static inline kv kv_madd(kvm m, kv a, kv b) { return m ? a + b : a; }
static inline int kvm_any(kvm m) { return m; }
static inline kvi kvi_load(const int32_t *p) { return *p; }
static inline void kvi_store(int32_t *p, kvi a) { *p = a; }
static inline kvi kvi_iota(int32_t x) { return x; }
static inline kvi kvi_sel(kvm m, kvi a, kvi b) { return m ? b : a; }
static inline kvm kvi_eq(kvi a, kvi b) { return a == b; }
#endif

#endif
