#pragma once
#include <optional>
#include "core/tensor.h"

namespace cr {

/// PyTorch's result type for a binary op on these four dtypes: bool < int64 < float32 < float64,
/// except that a 0-dim tensor only decides the dtype when it is of a higher category
/// (bool / integer / floating) than the dimensioned operand (float32[3] + float64[] -> float32).
DType result_type(const Tensor& a, const Tensor& b);

// Arithmetic with broadcasting and type promotion (bool < int64 < float32 < float64).
/// a + alpha * b and a - alpha * b, one pass (PyTorch's alpha=; integral inputs need an integral alpha).
Tensor add(const Tensor& a, const Tensor& b, double alpha = 1.0);
/// PyTorch's refusal of a bool operand of `-` (a Python bool included), raised by sub and by the
/// bindings that turn a Python bool into a number.
extern const char* const kBoolSubtraction;
Tensor sub(const Tensor& a, const Tensor& b, double alpha = 1.0);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division: integer inputs give float32
Tensor neg(const Tensor& a);
/// a * s and a + s for a floating tensor (no 0-dim tensor for the scalar).
Tensor mul_scalar(const Tensor& a, double s);
Tensor add_scalar(const Tensor& a, double s);
/// s - a for a floating tensor a and a Python number s (PyTorch's RsubBackward1).
Tensor rsub_scalar(const Tensor& a, double s);

/// acc += g in place with no autograd and no version bump (gradient accumulation).
void add_inplace_raw(const Tensor& acc, const Tensor& g);

// ---- unary math: integer/bool inputs give float32 (as PyTorch), except abs/sign/square ----
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor rsqrt(const Tensor& a);
/// 1 / sqrt(v + eps) for a floating v, in one pass (the normalization formulas use it).
Tensor rsqrt_eps(const Tensor& v, double eps);
Tensor sin(const Tensor& a);
Tensor cos(const Tensor& a);
Tensor erf(const Tensor& a);
Tensor reciprocal(const Tensor& a);
Tensor abs(const Tensor& a);     // int64 stays int64; bool: TypeError
Tensor sign(const Tensor& a);    // gradient is zero
Tensor square(const Tensor& a);  // int64 stays int64

/// a ** b with broadcasting. Integer ** negative integer raises ValueError.
Tensor pow(const Tensor& a, const Tensor& b);
/// a ** e with a floating tensor and a scalar exponent; fast paths for 0, 0.5, 1, 2, 3, -1.
Tensor pow_scalar(const Tensor& a, double e);

/// Elementwise clamp with scalar bounds (either may be absent). min > max gives max everywhere.
Tensor clamp(const Tensor& a, std::optional<double> lo, std::optional<double> hi);
/// Clamp with tensor bounds (either may be undefined), broadcasting.
Tensor clamp(const Tensor& a, const Tensor& lo, const Tensor& hi);
/// Elementwise max/min, NaN-propagating; ties send half the gradient to each input.
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
/// cond ? a : b, broadcasting all three; cond must be bool.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// ---- comparisons and logic: bool results, never differentiable ----
enum class CmpOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge };
Tensor compare(const Tensor& a, const Tensor& b, CmpOp op);
/// a <op> s for a floating tensor, the scalar in a's dtype (no 0-dim tensor).
Tensor compare_scalar(const Tensor& a, double s, CmpOp op);
Tensor logical_not(const Tensor& a);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
/// ~a, a & b, a | b, a ^ b: logical on bool, bitwise on int64; TypeError on floating tensors.
Tensor bitwise_not(const Tensor& a);
Tensor bitwise_and(const Tensor& a, const Tensor& b);
Tensor bitwise_or(const Tensor& a, const Tensor& b);
Tensor bitwise_xor(const Tensor& a, const Tensor& b);

// ---- in-place ops (see Note [In-place ops] in elementwise.cpp); each returns self ----
const Tensor& add_(const Tensor& self, const Tensor& other, double alpha = 1.0);
const Tensor& sub_(const Tensor& self, const Tensor& other, double alpha = 1.0);
const Tensor& mul_(const Tensor& self, const Tensor& other);
const Tensor& div_(const Tensor& self, const Tensor& other);
/// self += s (self *= s) for a floating self: no 0-dim tensor on the fast path.
const Tensor& add_scalar_(const Tensor& self, double s);
const Tensor& mul_scalar_(const Tensor& self, double s);
const Tensor& neg_(const Tensor& self);
const Tensor& zero_(const Tensor& self);
const Tensor& fill_(const Tensor& self, double value);
const Tensor& clamp_(const Tensor& self, std::optional<double> lo, std::optional<double> hi);
/// Writes src (broadcast, converted to self's dtype) into self.
const Tensor& copy_(const Tensor& self, const Tensor& src);

}  // namespace cr
