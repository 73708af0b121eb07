// Elementwise float loops and column sums, compiled per level (Note [CPU dispatch] in kernels.h).
#include <Eigen/Core>
#include <algorithm>
#include <unsupported/Eigen/SpecialFunctions>

#include "kernels/level.h"

#if defined(_MSC_VER)
#define CR_NOINLINE __declspec(noinline)
#else
#define CR_NOINLINE __attribute__((noinline))
#endif

namespace cr::kern::CHAINRULE_KERNEL_NS {
namespace {

constexpr float kSqrtHalf = 0.70710678118654752440f;         // 1 / sqrt(2)
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;       // 1 / sqrt(2 pi)

using ArrF = Eigen::Map<const Eigen::ArrayXf>;
using OutF = Eigen::Map<Eigen::ArrayXf>;

template <class T, class F>
void binary_loop(const T* __restrict a, int64_t sa, const T* __restrict b, int64_t sb, T* __restrict y,
                 int64_t n, const F& f) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
  } else if (sa == 1) {
    const T bv = *b;
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], bv);
  } else if (sb == 1) {
    const T av = *a;
    for (int64_t i = 0; i < n; ++i) y[i] = f(av, b[i]);
  } else {
    const T v = f(*a, *b);
    for (int64_t i = 0; i < n; ++i) y[i] = v;
  }
}

// Row r of y from a + r * lda and b + r * ldb (one call for a whole broadcast, not one per row).
template <class T, class F>
void rows_loop(const T* a, int64_t lda, int64_t sa, const T* b, int64_t ldb, int64_t sb, T* y, int64_t rows,
               int64_t cols, const F& f) {
  if (sa == 1 && sb == 1 && ldb == 0 && lda == cols && cols <= 64) {
    // the same short row b with every row of a (a small layer's bias): 16 of its columns at a
    // time, kept in registers down all the rows (no loop set-up per row: 100x16 + 16, 550 -> 210
    // cycles); longer rows go row by row, as a pass down columns of wide rows is several times
    // slower (256x256: 13 500 -> 54 700 cycles). Each element is f of the same two either way
    int64_t j = 0;
    for (; j + 16 <= cols; j += 16) {
      T bv[16];
      for (int q = 0; q < 16; ++q) bv[q] = b[j + q];
      for (int64_t r = 0; r < rows; ++r) {
        const T* __restrict ar = a + r * lda + j;
        T* __restrict yr = y + r * cols + j;
        for (int q = 0; q < 16; ++q) yr[q] = f(ar[q], bv[q]);
      }
    }
    if (j < cols)
      for (int64_t r = 0; r < rows; ++r)
        binary_loop(a + r * lda + j, 1, b + j, 1, y + r * cols + j, cols - j, f);
    return;
  }
  for (int64_t r = 0; r < rows; ++r) binary_loop(a + r * lda, sa, b + r * ldb, sb, y + r * cols, cols, f);
}

template <class T>
void binary_rows(Binary op, const T* a, int64_t lda, int64_t sa, const T* b, int64_t ldb, int64_t sb, T* y,
                 int64_t rows, int64_t cols) {
  switch (op) {
    case Binary::Add: return rows_loop(a, lda, sa, b, ldb, sb, y, rows, cols, [](T p, T q) { return p + q; });
    case Binary::Sub: return rows_loop(a, lda, sa, b, ldb, sb, y, rows, cols, [](T p, T q) { return p - q; });
    case Binary::Mul: return rows_loop(a, lda, sa, b, ldb, sb, y, rows, cols, [](T p, T q) { return p * q; });
    case Binary::Div: return rows_loop(a, lda, sa, b, ldb, sb, y, rows, cols, [](T p, T q) { return p / q; });
  }
}

// One row of n elements.
template <class T>
void binary(Binary op, const T* a, int64_t sa, const T* b, int64_t sb, T* y, int64_t n) {
  binary_rows<T>(op, a, 0, sa, b, 0, sb, y, 1, n);
}

// col_sum for a large matrix: row by row, 512 columns at a time, in col_sum's order (its own
// function, so that col_sum's frame stays small).
template <class T>
CR_NOINLINE void col_sum_by_rows(const T* x, int64_t r, int64_t inner, int64_t i0, int64_t i1,
                                 double* __restrict acc) {
  constexpr int64_t kChunk = 512;
  for (int64_t c0 = i0; c0 < i1; c0 += kChunk) {
    const int64_t w = std::min(kChunk, i1 - c0);
    double t[kChunk] = {};
    double* __restrict s = acc + (c0 - i0);
    int64_t k = 0;
    for (; k + 2 <= r; k += 2) {
      const T* __restrict even = x + k * inner + c0;
      const T* __restrict odd = even + inner;
      for (int64_t j = 0; j < w; ++j) {
        s[j] += (double)even[j];
        t[j] += (double)odd[j];
      }
    }
    if (k < r)
      for (int64_t j = 0; j < w; ++j) s[j] += (double)x[k * inner + c0 + j];
    for (int64_t j = 0; j < w; ++j) s[j] += t[j];
  }
}

// Each output element sums its column in two chains, the even rows (onto what acc holds) and the
// odd rows, each in order, then adds the two: the additions of a chain wait on each other, two
// chains keep twice as many in flight. Up to 64K elements, columns go in blocks of 16 whose sums
// stay in registers down all the rows (a 100x16 bias gradient: 1100 -> 300 cycles); a larger
// matrix goes row by row, 512 columns at a time (down columns of one that leaves the cache it
// would take 1.4x as long). A column's sum is the same whichever loop computes it.
template <class T>
void col_sum(const T* x, int64_t r, int64_t inner, int64_t i0, int64_t i1, double* __restrict acc) {
  if (r * (i1 - i0) > (int64_t(1) << 16)) return col_sum_by_rows(x, r, inner, i0, i1, acc);
  constexpr int64_t kBlock = 16;
  int64_t i = i0;
  for (; i + kBlock <= i1; i += kBlock) {
    double s[kBlock], t[kBlock] = {};
    for (int64_t j = 0; j < kBlock; ++j) s[j] = acc[i - i0 + j];
    int64_t k = 0;
    for (; k + 2 <= r; k += 2) {
      const T* __restrict even = x + k * inner + i;
      const T* __restrict odd = even + inner;
      for (int64_t j = 0; j < kBlock; ++j) {
        s[j] += (double)even[j];
        t[j] += (double)odd[j];
      }
    }
    if (k < r)
      for (int64_t j = 0; j < kBlock; ++j) s[j] += (double)x[k * inner + i + j];
    for (int64_t j = 0; j < kBlock; ++j) acc[i - i0 + j] = s[j] + t[j];
  }
  for (; i < i1; ++i) {
    double s = acc[i - i0], t = 0;
    int64_t k = 0;
    for (; k + 2 <= r; k += 2) {
      s += (double)x[k * inner + i];
      t += (double)x[(k + 1) * inner + i];
    }
    if (k < r) s += (double)x[k * inner + i];
    acc[i - i0] = s + t;
  }
}

}  // namespace

void unary_f32(Unary op, const float* x, float* y, int64_t n) {
  ArrF v(x, n);
  OutF out(y, n);
  switch (op) {
    case Unary::Gelu: out = 0.5f * v * (1.0f + (v * kSqrtHalf).erf()); return;
    case Unary::Sigmoid: out = v.logistic(); return;
    case Unary::Tanh: out = v.tanh(); return;
    case Unary::Silu: out = v * v.logistic(); return;
    case Unary::Relu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];  // NaN stays NaN
      return;
  }
}

void unary_grad_f32(UnaryGrad op, const float* g, const float* x, float* y, int64_t n) {
  switch (op) {
    case UnaryGrad::Gelu: {
      ArrF gv(g, n), v(x, n);
      OutF out(y, n);
      // d/dx x Phi(x) = Phi(x) + x phi(x)
      out = gv * (0.5f * (1.0f + (v * kSqrtHalf).erf()) + v * ((-0.5f * v * v).exp() * kInvSqrt2Pi));
      return;
    }
    case UnaryGrad::Sigmoid:
      for (int64_t i = 0; i < n; ++i) y[i] = g[i] * (x[i] * (1.0f - x[i]));
      return;
    case UnaryGrad::Tanh:
      for (int64_t i = 0; i < n; ++i) y[i] = g[i] * (1.0f - x[i] * x[i]);
      return;
    case UnaryGrad::Relu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? g[i] : 0.0f;
      return;
  }
}

void binary_f32(Binary op, const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  binary<float>(op, a, sa, b, sb, y, n);
}
void binary_f64(Binary op, const double* a, int64_t sa, const double* b, int64_t sb, double* y, int64_t n) {
  binary<double>(op, a, sa, b, sb, y, n);
}
void binary_rows_f32(Binary op, const float* a, int64_t lda, int64_t sa, const float* b, int64_t ldb,
                     int64_t sb, float* y, int64_t rows, int64_t cols) {
  binary_rows<float>(op, a, lda, sa, b, ldb, sb, y, rows, cols);
}
void binary_rows_f64(Binary op, const double* a, int64_t lda, int64_t sa, const double* b, int64_t ldb,
                     int64_t sb, double* y, int64_t rows, int64_t cols) {
  binary_rows<double>(op, a, lda, sa, b, ldb, sb, y, rows, cols);
}
void col_sum_f32(const float* x, int64_t r, int64_t inner, int64_t i0, int64_t i1, double* acc) {
  col_sum<float>(x, r, inner, i0, i1, acc);
}
void col_sum_f64(const double* x, int64_t r, int64_t inner, int64_t i0, int64_t i1, double* acc) {
  col_sum<double>(x, r, inner, i0, i1, acc);
}

}  // namespace cr::kern::CHAINRULE_KERNEL_NS
