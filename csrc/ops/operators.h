#pragma once
// C++ operators on Tensor, so that backward formulas read like the math they implement:
// `-grad * a / (b * b)` instead of neg(div(mul(grad, a), mul(b, b))). Each operator is exactly one
// differentiable op (add, sub, mul, div, neg, add_scalar, mul_scalar, compare...), so a formula
// written with them records a graph under create_graph like any other code.
#include "ops/creation.h"
#include "ops/elementwise.h"

namespace cr {

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }

// Scalar forms, for floating tensors (the scalar takes the tensor's dtype).
inline Tensor operator+(const Tensor& a, double s) { return add_scalar(a, s); }
inline Tensor operator+(double s, const Tensor& a) { return add_scalar(a, s); }
inline Tensor operator-(const Tensor& a, double s) { return add_scalar(a, -s); }
inline Tensor operator-(double s, const Tensor& a) { return add_scalar(neg(a), s); }
inline Tensor operator*(const Tensor& a, double s) { return mul_scalar(a, s); }
inline Tensor operator*(double s, const Tensor& a) { return mul_scalar(a, s); }
inline Tensor operator/(const Tensor& a, double s) { return div(a, scalar_tensor(s, a.dtype())); }
inline Tensor operator/(double s, const Tensor& a) { return div(scalar_tensor(s, a.dtype()), a); }

// Comparisons give bool masks (never differentiable); & and | combine masks.
inline Tensor operator<(const Tensor& a, const Tensor& b) { return compare(a, b, CmpOp::Lt); }
inline Tensor operator<=(const Tensor& a, const Tensor& b) { return compare(a, b, CmpOp::Le); }
inline Tensor operator>(const Tensor& a, const Tensor& b) { return compare(a, b, CmpOp::Gt); }
inline Tensor operator>=(const Tensor& a, const Tensor& b) { return compare(a, b, CmpOp::Ge); }
inline Tensor operator<(const Tensor& a, double s) { return compare_scalar(a, s, CmpOp::Lt); }
inline Tensor operator<=(const Tensor& a, double s) { return compare_scalar(a, s, CmpOp::Le); }
inline Tensor operator>(const Tensor& a, double s) { return compare_scalar(a, s, CmpOp::Gt); }
inline Tensor operator>=(const Tensor& a, double s) { return compare_scalar(a, s, CmpOp::Ge); }
inline Tensor operator&(const Tensor& a, const Tensor& b) { return logical_and(a, b); }
inline Tensor operator|(const Tensor& a, const Tensor& b) { return logical_or(a, b); }
inline Tensor operator!(const Tensor& a) { return logical_not(a); }

/// Named comparisons with a scalar (== and != stay identity comparisons elsewhere in C++ habits).
inline Tensor eq(const Tensor& a, double s) { return compare_scalar(a, s, CmpOp::Eq); }
inline Tensor eq(const Tensor& a, const Tensor& b) { return compare(a, b, CmpOp::Eq); }

/// A 0-dim zero of t's dtype (broadcasts in where()).
inline Tensor zero_like_scalar(const Tensor& t) { return scalar_tensor(0.0, t.dtype()); }
/// mask ? t : 0
inline Tensor keep_where(const Tensor& mask, const Tensor& t) { return where(mask, t, zero_like_scalar(t)); }

}  // namespace cr
