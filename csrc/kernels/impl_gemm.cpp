// GEMM on Eigen's kernels, compiled per level (Note [CPU dispatch] in kernels.h).
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "kernels/level.h"

namespace cr::kern::CHAINRULE_KERNEL_NS {
namespace {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ColMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using Stride = Eigen::OuterStride<>;

template <class T, class MA, class MB>
void product(const MA& A, const MB& B, T* c, int64_t n, int64_t m, int64_t ldc, bool accumulate) {
  Eigen::Map<RowMat<T>, 0, Stride> C(c, n, m, Stride(ldc));
  if (accumulate) C.noalias() += A * B;
  else C.noalias() = A * B;
}

// Note [Small GEMM]
// Below kSmallGemmMacs multiply-adds, Eigen's packing and blocking cost more than the arithmetic:
// a 100x16 by 16x16 product called from Python took 0.99 us through Eigen and takes 0.62 us here
// (an elementwise op with the same output, 0.33 us). Such products run a direct loop instead.
// Each output element is its sum over p = 0..k-1 in order, one fused multiply-add per term where
// the level has FMA (a multiply and an add otherwise), starting from zero (or from C when
// accumulating). So an element's value depends only on its row of A and column of B: not on
// alignment, on the operands' layouts, or on which of the loops below computed it
// (tests/test_small_gemm.py). Which path a product takes depends on its shape alone, so results
// stay the same for any thread count (Note [Deterministic GEMM] in ops/linalg.cpp). Columns left
// over from the 16-wide blocks (a matrix-vector product: all of them) run one chain per element;
// with a column-major A (a transposed operand: the weight gradient h.T @ g of a one-output layer)
// a vector of rows at a time, each lane its own chain (16x100 by 100x1: 0.67 -> 0.50 µs); with a
// row-major float A on AVX-512, 16 rows at a time whose 16x16 tiles are transposed in registers
// (100x16 by 16x1: 880 -> 650 cycles). A column-major B is copied to rows first, 16x16 tiles
// transposed in registers (100x16 by 16x16 with B = W.T: 1730 -> 1370 cycles).
constexpr int64_t kSmallGemmMacs = int64_t(1) << 15;
// B is copied to row-major when it is column-major and has at most this many elements (a stack
// buffer of 8 KiB at most: the caller may be a thread with a small stack).
constexpr int64_t kSmallGemmPack = 1024;

template <class T>
inline T madd(T a, T b, T c) {
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
  return std::fma(a, b, c);
#else
  return a * b + c;  // (no fused multiply-add on this level, so none can be formed either)
#endif
}

// One register of the level's vectors, with a fused multiply-add spelled out (intrinsics), so that
// a lane rounds exactly as madd does at any optimization level. Levels without FMA instructions
// use plain lanes and madd.
template <class T>
struct Simd;
#if defined(__AVX512F__)
template <>
struct Simd<float> {
  using V = __m512;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V fma(float a, V b, V c) { return _mm512_fmadd_ps(_mm512_set1_ps(a), b, c); }
};
template <>
struct Simd<double> {
  using V = __m512d;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
  static V fma(double a, V b, V c) { return _mm512_fmadd_pd(_mm512_set1_pd(a), b, c); }
};
#elif defined(__FMA__) && defined(__AVX__)
template <>
struct Simd<float> {
  using V = __m256;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V fma(float a, V b, V c) { return _mm256_fmadd_ps(_mm256_set1_ps(a), b, c); }
};
template <>
struct Simd<double> {
  using V = __m256d;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  static V fma(double a, V b, V c) { return _mm256_fmadd_pd(_mm256_set1_pd(a), b, c); }
};
#else
template <class T>
struct Simd {
  struct V {
    T x[16 / sizeof(T)];
  };
  static V zero() { return V{}; }
  static V load(const T* p) {
    V v;
    std::memcpy(v.x, p, sizeof(v.x));
    return v;
  }
  static void store(T* p, const V& v) { std::memcpy(p, v.x, sizeof(v.x)); }
  static V fma(T a, const V& b, V c) {
    for (size_t l = 0; l < sizeof(c.x) / sizeof(T); ++l) c.x[l] = madd(a, b.x[l], c.x[l]);
    return c;
  }
};
#endif

#if defined(__AVX512F__)
// A 16x16 tile of floats transposed in registers: r[i] (row i) becomes column i. Copies only, so
// the products that use it round exactly as without it.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {  // pairs of rows interleaved, within each 128-bit lane
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // then pairs of pairs: r[i + c], lane L, is column 4L + c of rows i..i+3
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
  }
  for (int c = 0; c < 4; ++c) {  // then the four lanes of the four row groups
    const __m512 a0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88),
                 a1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
    const __m512 b0 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
    const __m512 b1 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
    t[c] = _mm512_shuffle_f32x4(a0, b0, 0x88);
    t[4 + c] = _mm512_shuffle_f32x4(a1, b1, 0x88);
    t[8 + c] = _mm512_shuffle_f32x4(a0, b0, 0xdd);
    t[12 + c] = _mm512_shuffle_f32x4(a1, b1, 0xdd);
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}
#endif

/// packed (k x m, row-major) = B, a column-major k x m matrix with leading dimension ld.
template <class T>
void pack_rows(const T* pb, int64_t ld, int64_t k, int64_t m, T* packed) {
  int64_t p0 = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    for (; p0 + 16 <= k; p0 += 16) {
      int64_t j0 = 0;
      for (; j0 + 16 <= m; j0 += 16) {
        __m512 r[16];
        for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_ps(pb + (j0 + j) * ld + p0);
        transpose16(r);
        for (int q = 0; q < 16; ++q) _mm512_storeu_ps(packed + (p0 + q) * m + j0, r[q]);
      }
      for (int64_t p = p0; p < p0 + 16; ++p)
        for (int64_t j = j0; j < m; ++j) packed[p * m + j] = pb[j * ld + p];
    }
  }
#endif
  for (int64_t p = p0; p < k; ++p)
    for (int64_t j = 0; j < m; ++j) packed[p * m + j] = pb[j * ld + p];
}

// Rows [i, i + R) by columns [j0, j0 + kSmallW) of C, with B row-major (leading dim ldb). The
// accumulators stay in registers; R rows give R independent chains of multiply-adds.
constexpr int64_t kSmallW = 16;

template <int R, class T>
inline void small_block(int64_t i, int64_t j0, int64_t k, const T* pa, int64_t ai, int64_t ap, const T* pb,
                        int64_t ldb, T* c, int64_t ldc, bool accumulate) {
  using S = Simd<T>;
  using V = typename S::V;
  constexpr int64_t L = sizeof(V) / sizeof(T);  // lanes of a vector
  constexpr int NV = kSmallW / L;  // vectors per row
  static_assert(kSmallW % L == 0);
  V acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = accumulate ? S::load(c + (i + r) * ldc + j0 + v * L) : S::zero();
  for (int64_t p = 0; p < k; ++p) {
    V bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = S::load(pb + p * ldb + j0 + v * L);
    for (int r = 0; r < R; ++r) {
      const T av = pa[(i + r) * ai + p * ap];
      for (int v = 0; v < NV; ++v) acc[r][v] = S::fma(av, bv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) S::store(c + (i + r) * ldc + j0 + v * L, acc[r][v]);
}

// Rows [i, i + R * L) of column j of C when A is column-major (a column of A is contiguous): R
// vectors of L rows, each lane its own element's chain of multiply-adds in k order, as madd's.
template <int R, class T>
inline void small_column_rows(int64_t i, int64_t j, int64_t k, const T* pa, int64_t ap, const T* pb,
                              int64_t bp, int64_t bj, T* c, int64_t ldc, bool accumulate) {
  using S = Simd<T>;
  using V = typename S::V;
  constexpr int64_t L = sizeof(V) / sizeof(T);
  T lanes[R * L];
  V acc[R];
  for (int r = 0; r < R; ++r) {
    if (accumulate) {
      for (int64_t l = 0; l < L; ++l) lanes[r * L + l] = c[(i + r * L + l) * ldc + j];
      acc[r] = S::load(lanes + r * L);
    } else {
      acc[r] = S::zero();
    }
  }
  for (int64_t p = 0; p < k; ++p) {
    const T bv = pb[p * bp + j * bj];
    for (int r = 0; r < R; ++r) acc[r] = S::fma(bv, S::load(pa + p * ap + i + r * L), acc[r]);
  }
  for (int r = 0; r < R; ++r) S::store(lanes + r * L, acc[r]);
  for (int64_t l = 0; l < R * L; ++l) c[(i + l) * ldc + j] = lanes[l];
}

// Rows [i, i + R) of column j of C, one chain of multiply-adds per element, R chains interleaved
// (eight keep the two scalar multiply-add units busy through their latency).
template <int R, class T>
inline void small_column_chains(int64_t i, int64_t j, int64_t k, const T* pa, int64_t ai, int64_t ap,
                                const T* pb, int64_t bp, int64_t bj, T* c, int64_t ldc, bool accumulate) {
  T s[R];
  for (int r = 0; r < R; ++r) s[r] = accumulate ? c[(i + r) * ldc + j] : T(0);
  for (int64_t p = 0; p < k; ++p) {
    const T bv = pb[p * bp + j * bj];
    for (int r = 0; r < R; ++r) s[r] = madd(pa[(i + r) * ai + p * ap], bv, s[r]);
  }
  for (int r = 0; r < R; ++r) c[(i + r) * ldc + j] = s[r];
}

#if defined(__AVX512F__)
// Rows [i, i + 16) of columns [j, j + G) of C when A is row-major (ap == 1): 16 columns of the 16
// rows of A at a time transposed in registers, so that a vector holds one column of A's rows and
// each lane runs its own element's chain of multiply-adds in k order.
template <int G>
inline void small_columns_tile(int64_t i, int64_t j, int64_t k, const float* pa, int64_t lda, const float* pb,
                               int64_t bp, int64_t bj, float* c, int64_t ldc, bool accumulate) {
  alignas(64) float lanes[G][16];
  __m512 acc[G];
  const bool direct = G == 1 && ldc == 1;  // (a matrix-vector product: the 16 outputs are contiguous)
  for (int jj = 0; jj < G; ++jj) {
    if (!accumulate) {
      acc[jj] = _mm512_setzero_ps();
    } else if (direct) {
      acc[jj] = _mm512_loadu_ps(c + i + j);
    } else {
      for (int l = 0; l < 16; ++l) lanes[jj][l] = c[(i + l) * ldc + j + jj];
      acc[jj] = _mm512_load_ps(lanes[jj]);
    }
  }
  int64_t p0 = 0;
  for (; p0 + 16 <= k; p0 += 16) {
    __m512 r[16];
    for (int l = 0; l < 16; ++l) r[l] = _mm512_loadu_ps(pa + (i + l) * lda + p0);
    transpose16(r);
#pragma GCC unroll 16
    for (int q = 0; q < 16; ++q)
      for (int jj = 0; jj < G; ++jj)
        acc[jj] = _mm512_fmadd_ps(r[q], _mm512_set1_ps(pb[(p0 + q) * bp + (j + jj) * bj]), acc[jj]);
  }
  if (p0 < k) {  // the last k % 16 columns of A: masked loads, and only their vectors used
    const int kt = (int)(k - p0);
    const __mmask16 mask = (__mmask16)((1u << kt) - 1u);
    __m512 r[16];
    for (int l = 0; l < 16; ++l) r[l] = _mm512_maskz_loadu_ps(mask, pa + (i + l) * lda + p0);
    transpose16(r);
#pragma GCC unroll 16
    for (int q = 0; q < 16; ++q) {
      if (q == kt) break;
      for (int jj = 0; jj < G; ++jj)
        acc[jj] = _mm512_fmadd_ps(r[q], _mm512_set1_ps(pb[(p0 + q) * bp + (j + jj) * bj]), acc[jj]);
    }
  }
  if (direct) return _mm512_storeu_ps(c + i + j, acc[0]);
  if constexpr (G > 1) {  // back to rows: row l of the transposed tile is C's row i + l (G columns)
    __m512 r[16];
    for (int jj = 0; jj < 16; ++jj) r[jj] = jj < G ? acc[jj] : _mm512_setzero_ps();
    transpose16(r);
    const __mmask16 mask = (__mmask16)((1u << G) - 1u);
    for (int l = 0; l < 16; ++l) _mm512_mask_storeu_ps(c + (i + l) * ldc + j, mask, r[l]);
    return;
  }
  for (int jj = 0; jj < G; ++jj) {
    _mm512_store_ps(lanes[jj], acc[jj]);
    for (int l = 0; l < 16; ++l) c[(i + l) * ldc + j + jj] = lanes[jj][l];
  }
}

// Rows [0, 16 * (n / 16)) of columns [j0, j1) (row-major A), in tiles of 16 rows by up to eight
// columns. Returns the rows done.
inline int64_t small_columns_tiled(int64_t n, int64_t k, int64_t j0, int64_t j1, const float* pa, int64_t lda,
                                   const float* pb, int64_t bp, int64_t bj, float* c, int64_t ldc,
                                   bool accumulate) {
  const int64_t rows = n / 16 * 16;
  for (int64_t i = 0; i < rows; i += 16) {
    int64_t j = j0;
    for (; j + 8 <= j1; j += 8) small_columns_tile<8>(i, j, k, pa, lda, pb, bp, bj, c, ldc, accumulate);
    if (j + 4 <= j1) small_columns_tile<4>(i, j, k, pa, lda, pb, bp, bj, c, ldc, accumulate), j += 4;
    if (j + 2 <= j1) small_columns_tile<2>(i, j, k, pa, lda, pb, bp, bj, c, ldc, accumulate), j += 2;
    if (j < j1) small_columns_tile<1>(i, j, k, pa, lda, pb, bp, bj, c, ldc, accumulate);
  }
  return rows;
}
#endif

// Columns [j0, j1) one element at a time (each its own chain), four rows interleaved; with a
// column-major A, whole vectors of rows at a time; with a row-major float A where the level has
// AVX-512, 16 rows at a time in transposed tiles.
template <class T>
void small_columns(int64_t n, int64_t k, int64_t j0, int64_t j1, const T* pa, int64_t ai, int64_t ap,
                   const T* pb, int64_t bp, int64_t bj, T* c, int64_t ldc, bool accumulate) {
  constexpr int64_t L = sizeof(typename Simd<T>::V) / sizeof(T);
  int64_t tiled = 0;  // rows done for every column
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>)
    if (ap == 1 && j0 < j1) tiled = small_columns_tiled(n, k, j0, j1, pa, ai, pb, bp, bj, c, ldc, accumulate);
#endif
  for (int64_t j = j0; j < j1; ++j) {
    int64_t i = tiled;
    if (ai == 1) {
      for (; i + 4 * L <= n; i += 4 * L)
        small_column_rows<4, T>(i, j, k, pa, ap, pb, bp, bj, c, ldc, accumulate);
      for (; i + L <= n; i += L) small_column_rows<1, T>(i, j, k, pa, ap, pb, bp, bj, c, ldc, accumulate);
    }
    for (; i + 8 <= n; i += 8) small_column_chains<8, T>(i, j, k, pa, ai, ap, pb, bp, bj, c, ldc, accumulate);
    for (; i + 4 <= n; i += 4) small_column_chains<4, T>(i, j, k, pa, ai, ap, pb, bp, bj, c, ldc, accumulate);
    for (; i + 2 <= n; i += 2) small_column_chains<2, T>(i, j, k, pa, ai, ap, pb, bp, bj, c, ldc, accumulate);
    for (; i < n; ++i) {
      T s = accumulate ? c[i * ldc + j] : T(0);
      for (int64_t p = 0; p < k; ++p) s = madd(pa[i * ai + p * ap], pb[p * bp + j * bj], s);
      c[i * ldc + j] = s;
    }
  }
}

template <class T>
bool small_gemm(int64_t n, int64_t k, int64_t m, const GemmOperand& a, const GemmOperand& b, T* c,
                int64_t ldc, bool accumulate) {
  if (n > kSmallGemmMacs || k > kSmallGemmMacs || m > kSmallGemmMacs || n * k * m > kSmallGemmMacs)
    return false;  // (each factor checked first: the product of three large ones would overflow)
  const T* pa = static_cast<const T*>(a.ptr);
  const T* pb = static_cast<const T*>(b.ptr);
  const int64_t ai = a.col_major ? 1 : a.ld, ap = a.col_major ? a.ld : 1;
  int64_t bp = b.col_major ? 1 : b.ld, bj = b.col_major ? b.ld : 1;
  const int64_t wide = m < kSmallW ? 0 : m / kSmallW * kSmallW;  // columns done in blocks
  T packed[kSmallGemmPack];
  if (wide && b.col_major) {
    if (k * m > kSmallGemmPack) {
      small_columns<T>(n, k, 0, m, pa, ai, ap, pb, bp, bj, c, ldc, accumulate);
      return true;
    }
    pack_rows<T>(pb, b.ld, k, m, packed);
    pb = packed;
    bp = m;
    bj = 1;
  }
  for (int64_t j0 = 0; j0 < wide; j0 += kSmallW) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) small_block<4, T>(i, j0, k, pa, ai, ap, pb, bp, c, ldc, accumulate);
    for (; i < n; ++i) small_block<1, T>(i, j0, k, pa, ai, ap, pb, bp, c, ldc, accumulate);
  }
  small_columns<T>(n, k, wide, m, pa, ai, ap, pb, bp, bj, c, ldc, accumulate);
  return true;
}

template <class T>
void gemm(int64_t n, int64_t k, int64_t m, const GemmOperand& a, const GemmOperand& b, T* c, int64_t ldc,
          bool accumulate) {
  if (n == 0 || m == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < n; ++i) std::fill(c + i * ldc, c + i * ldc + m, T(0));
    return;
  }
  if (small_gemm<T>(n, k, m, a, b, c, ldc, accumulate)) return;
  using RM = Eigen::Map<const RowMat<T>, 0, Stride>;
  using CM = Eigen::Map<const ColMat<T>, 0, Stride>;
  const T* pa = static_cast<const T*>(a.ptr);
  const T* pb = static_cast<const T*>(b.ptr);
  if (!a.col_major) {
    RM A(pa, n, k, Stride(a.ld));
    if (!b.col_major) product<T>(A, RM(pb, k, m, Stride(b.ld)), c, n, m, ldc, accumulate);
    else product<T>(A, CM(pb, k, m, Stride(b.ld)), c, n, m, ldc, accumulate);
  } else {
    CM A(pa, n, k, Stride(a.ld));
    if (!b.col_major) product<T>(A, RM(pb, k, m, Stride(b.ld)), c, n, m, ldc, accumulate);
    else product<T>(A, CM(pb, k, m, Stride(b.ld)), c, n, m, ldc, accumulate);
  }
}

}  // namespace

void gemm_f32(int64_t n, int64_t k, int64_t m, const GemmOperand& a, const GemmOperand& b, float* c,
              int64_t ldc, bool accumulate) {
  gemm<float>(n, k, m, a, b, c, ldc, accumulate);
}
void gemm_f64(int64_t n, int64_t k, int64_t m, const GemmOperand& a, const GemmOperand& b, double* c,
              int64_t ldc, bool accumulate) {
  gemm<double>(n, k, m, a, b, c, ldc, accumulate);
}

}  // namespace cr::kern::CHAINRULE_KERNEL_NS
