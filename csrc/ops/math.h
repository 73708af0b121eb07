#pragma once
// Elementwise math beyond arithmetic (math.cpp). Integer and bool inputs give float32 results
// where the op only makes sense on floats, as PyTorch.
#include <optional>

#include "core/tensor.h"

namespace cr {

Tensor log1p(const Tensor& a);
Tensor expm1(const Tensor& a);
Tensor log2(const Tensor& a);
Tensor log10(const Tensor& a);
Tensor exp2(const Tensor& a);
Tensor erfinv(const Tensor& a);
Tensor erfc(const Tensor& a);
Tensor asin(const Tensor& a);
Tensor acos(const Tensor& a);
Tensor atan(const Tensor& a);
Tensor sinh(const Tensor& a);
Tensor cosh(const Tensor& a);
Tensor tan(const Tensor& a);
Tensor asinh(const Tensor& a);
Tensor acosh(const Tensor& a);
Tensor atanh(const Tensor& a);

/// Rounding: integer tensors come back unchanged (a copy), bool raises; the gradient is zero.
Tensor floor(const Tensor& a);
Tensor ceil(const Tensor& a);
Tensor trunc(const Tensor& a);
/// Round half to even, at `decimals` decimal places (negative: tens, hundreds...).
Tensor round(const Tensor& a, int64_t decimals = 0);
Tensor frac(const Tensor& a);

/// Python's modulo (sign of the divisor) and C's fmod (sign of the dividend); an integer zero
/// divisor raises ValueError.
Tensor remainder(const Tensor& a, const Tensor& b);
Tensor fmod(const Tensor& a, const Tensor& b);
Tensor copysign(const Tensor& a, const Tensor& b);
Tensor logaddexp(const Tensor& a, const Tensor& b);
Tensor logaddexp2(const Tensor& a, const Tensor& b);
/// a * log(b), 0 where a == 0 (NaN where b is NaN).
Tensor xlogy(const Tensor& a, const Tensor& b);

/// a + w (b - a); a, b (and a tensor w) of one floating dtype.
Tensor lerp(const Tensor& a, const Tensor& b, double w);
Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& w);
/// NaN -> nan, +inf -> posinf (default: the dtype's max), -inf -> neginf (default: lowest).
Tensor nan_to_num(const Tensor& a, std::optional<double> nan = std::nullopt,
                  std::optional<double> posinf = std::nullopt, std::optional<double> neginf = std::nullopt);

// Predicates: bool results, never differentiable.
Tensor isnan(const Tensor& a);
Tensor isinf(const Tensor& a);
Tensor isfinite(const Tensor& a);
Tensor isposinf(const Tensor& a);
Tensor isneginf(const Tensor& a);
Tensor signbit(const Tensor& a);

}  // namespace cr
