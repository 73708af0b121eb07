#pragma once
// The elementwise forward kernels shared by the elementwise families (elementwise.cpp, math.cpp):
// dtype conversion of operands, float-only unary maps and broadcasting binary maps. Autograd is
// the callers' business: they record the node on the original operands.
#include "core/tensor.h"
#include "ops/creation.h"
#include "ops/loops.h"
#include "ops/shape.h"

namespace cr {

/// `t` in dtype `dt`: itself when it already is, else a contiguous converted copy (no autograd).
inline Tensor as_dtype(const Tensor& t, DType dt) { return t.dtype() == dt ? t : contiguous_copy_as(t, dt); }

/// Dtype for ops that only make sense on floats (exp, sin...): integers and bools give float32.
inline DType float_dtype(DType d) { return is_floating(d) ? d : DType::Float32; }

/// out = f(a, b) broadcast, both operands converted to `dt` first; f gets and returns `dt` values.
template <class F>
Tensor binary_kernel(const Tensor& a0, const Tensor& b0, DType dt, const char* op, const F& f) {
  Dims shape = broadcast_shapes(a0.shape(), b0.shape(), op);
  Tensor a = as_dtype(a0, dt), b = as_dtype(b0, dt);
  return dispatch_all(dt, [&](auto tag) {
    using T = decltype(tag);
    return map_binary<T, T, T>(a, b, shape, [&](T x, T y) { return static_cast<T>(f(x, y)); });
  });
}

/// out = f(x) computed in floating dtype (integer inputs are converted to float32 first).
template <class F>
Tensor float_unary_kernel(const Tensor& a, const char* op, const F& f) {
  DType dt = float_dtype(a.dtype());
  Tensor x = as_dtype(a, dt);
  return dispatch_floating(dt, op, [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T, T>(x, [&](T v) { return static_cast<T>(f(v)); });
  });
}

/// out = pred(x) as a bool tensor, for any input dtype.
template <class F>
Tensor predicate_kernel(const Tensor& a, const F& pred) {
  return dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T, bool>(a, [&](T v) { return static_cast<bool>(pred(v)); });
  });
}

}  // namespace cr
