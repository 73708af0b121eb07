#pragma once
// Strided iteration shared by the elementwise kernels: operands are broadcast to an iteration
// shape (stride 0 on broadcast dims), adjacent dims that are laid out alike are merged, and the
// innermost dim runs as a tight loop with a contiguous fast path the compiler can vectorize.
#include <array>
#include "core/parallel.h"
#include "core/tensor.h"

namespace cr {

/// Element strides of t broadcast to `shape` (0 on broadcast dims). t must be broadcastable.
inline Dims broadcast_strides(const Tensor& t, const Dims& shape) {
  size_t n = shape.size(), m = (size_t)t.dim();
  Dims st(n, 0);
  for (size_t i = 0; i < m; ++i) {
    size_t o = n - m + i;
    st[o] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  }
  return st;
}

constexpr int64_t kElementwiseGrain = 32768;

/// One element seen through every index: a one-element tensor, or one expanded from it (every
/// stride zero but on dims of size 1, as a reduction's gradient is).
inline bool one_value(const Tensor& t) {
  if (t.numel() == 1) return true;
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.strides()[d] != 0 && t.shape()[d] != 1) return false;
  return t.numel() > 0;
}

namespace detail {
/// The body of one row: ctx is the caller's callable.
template <int K>
using RowFn = void (*)(const void* ctx, std::array<char*, K>& p, const std::array<int64_t, K>& byte_strides,
                       int64_t n);
/// The row walk of for_each_strided, compiled once per operand count (loops.cpp) rather than once
/// per kernel: only the row body is per kernel.
template <int K>
void walk_strided(const Dims& shape, const std::array<char*, K>& base, const std::array<Dims, K>& strides,
                  const std::array<int64_t, K>& isz, RowFn<K> row, const void* ctx);
extern template void walk_strided<1>(const Dims&, const std::array<char*, 1>&, const std::array<Dims, 1>&,
                                     const std::array<int64_t, 1>&, RowFn<1>, const void*);
extern template void walk_strided<2>(const Dims&, const std::array<char*, 2>&, const std::array<Dims, 2>&,
                                     const std::array<int64_t, 2>&, RowFn<2>, const void*);
extern template void walk_strided<3>(const Dims&, const std::array<char*, 3>&, const std::array<Dims, 3>&,
                                     const std::array<int64_t, 3>&, RowFn<3>, const void*);
extern template void walk_strided<4>(const Dims&, const std::array<char*, 4>&, const std::array<Dims, 4>&,
                                     const std::array<int64_t, 4>&, RowFn<4>, const void*);
}  // namespace detail

/// Calls inner(ptrs, byte_strides, n) over rows of the iteration; K operands, operand 0 usually
/// the output. Rows are split across threads for large work (elementwise results do not depend on
/// the split). Size-1 dims are dropped and adjacent dims every operand lays out contiguously are
/// merged, so a row is as long as the layouts allow.
template <int K, class Inner>
void for_each_strided(const Dims& shape, const std::array<char*, K>& base, const std::array<Dims, K>& strides,
                      const std::array<int64_t, K>& isz, const Inner& inner) {
  detail::walk_strided<K>(
      shape, base, strides, isz,
      [](const void* ctx, std::array<char*, K>& p, const std::array<int64_t, K>& s, int64_t n) {
        (*static_cast<const Inner*>(ctx))(p, s, n);
      },
      &inner);
}

/// out[i] = f(a[i]) with out a fresh contiguous tensor of dtype To.
template <class Ti, class To, class F>
Tensor map_unary(const Tensor& a, const F& f) {
  Tensor out = Tensor::empty(a.shape(), dtype_of<To>::value);
  if (a.is_contiguous()) {
    const Ti* x = a.data<Ti>();
    To* y = out.data<To>();
    parallel_for(0, a.numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) y[i] = f(x[i]);
    });
    return out;
  }
  for_each_strided<2>(a.shape(), {out.raw_data(), a.raw_data()}, {out.strides(), a.strides()},
                      {(int64_t)sizeof(To), (int64_t)sizeof(Ti)},
                      [&](std::array<char*, 2>& p, const std::array<int64_t, 2>& s, int64_t n) {
                        To* y = (To*)p[0];
                        const char* x = p[1];
                        for (int64_t i = 0; i < n; ++i) y[i] = f(*(const Ti*)(x + i * s[1]));
                      });
  return out;
}

/// out = f(a, b) broadcast, out a fresh contiguous tensor of dtype To.
template <class Ta, class Tb, class To, class F>
Tensor map_binary(const Tensor& a, const Tensor& b, const Dims& shape, const F& f) {
  Tensor out = Tensor::empty(shape, dtype_of<To>::value);
  int64_t n = out.numel();
  To* y = out.data<To>();
  if (a.is_contiguous() && b.is_contiguous()) {
    const Ta* x = a.data<Ta>();
    const Tb* z = b.data<Tb>();
    if (a.shape() == shape && b.shape() == shape) {
      parallel_for(0, n, kElementwiseGrain, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) y[i] = f(x[i], z[i]);
      });
      return out;
    }
    if (a.shape() == shape && b.numel() == 1) {
      const Tb zv = *z;
      parallel_for(0, n, kElementwiseGrain, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) y[i] = f(x[i], zv);
      });
      return out;
    }
    if (b.shape() == shape && a.numel() == 1) {
      const Ta xv = *x;
      parallel_for(0, n, kElementwiseGrain, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) y[i] = f(xv, z[i]);
      });
      return out;
    }
  }
  for_each_strided<3>(shape, {out.raw_data(), a.raw_data(), b.raw_data()},
                      {out.strides(), broadcast_strides(a, shape), broadcast_strides(b, shape)},
                      {(int64_t)sizeof(To), (int64_t)sizeof(Ta), (int64_t)sizeof(Tb)},
                      [&](std::array<char*, 3>& p, const std::array<int64_t, 3>& s, int64_t m) {
                        To* yy = (To*)p[0];
                        const char* xa = p[1];
                        const char* xb = p[2];
                        if (s[1] == (int64_t)sizeof(Ta) && s[2] == 0) {
                          const Tb zv = *(const Tb*)xb;
                          for (int64_t i = 0; i < m; ++i) yy[i] = f(((const Ta*)xa)[i], zv);
                        } else if (s[1] == 0 && s[2] == (int64_t)sizeof(Tb)) {
                          const Ta xv = *(const Ta*)xa;
                          for (int64_t i = 0; i < m; ++i) yy[i] = f(xv, ((const Tb*)xb)[i]);
                        } else {
                          for (int64_t i = 0; i < m; ++i)
                            yy[i] = f(*(const Ta*)(xa + i * s[1]), *(const Tb*)(xb + i * s[2]));
                        }
                      });
  return out;
}

/// In place: a[i] = f(a[i], b[i]) with b broadcast to a's shape (a may be strided).
template <class T, class F>
void update_binary(const Tensor& a, const Tensor& b, const F& f) {
  for_each_strided<2>(a.shape(), {a.raw_data(), b.raw_data()}, {a.strides(), broadcast_strides(b, a.shape())},
                      {(int64_t)sizeof(T), (int64_t)sizeof(T)},
                      [&](std::array<char*, 2>& p, const std::array<int64_t, 2>& s, int64_t n) {
                        if (s[0] == (int64_t)sizeof(T) && s[1] == (int64_t)sizeof(T)) {
                          T* x = (T*)p[0];
                          const T* y = (const T*)p[1];
                          for (int64_t i = 0; i < n; ++i) x[i] = f(x[i], y[i]);
                        } else {
                          for (int64_t i = 0; i < n; ++i) {
                            T* x = (T*)(p[0] + i * s[0]);
                            *x = f(*x, *(const T*)(p[1] + i * s[1]));
                          }
                        }
                      });
}

}  // namespace cr
