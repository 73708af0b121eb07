#pragma once
#include "core/tensor.h"

namespace cr {

// Arithmetic with broadcasting and type promotion (bool < int64 < float32 < float64).
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division: integer inputs give float32
Tensor neg(const Tensor& a);
/// a + alpha * b, scaled add used by backward formulas.
Tensor mul_scalar(const Tensor& a, double s);
Tensor add_scalar(const Tensor& a, double s);

/// acc += g in place with no autograd and no version bump (gradient accumulation).
void add_inplace_raw(const Tensor& acc, const Tensor& g);

}  // namespace cr
