#pragma once
#include "core/tensor.h"

namespace cr {

Tensor zeros(const Dims& shape, DType dtype);
Tensor ones(const Dims& shape, DType dtype);
Tensor full(const Dims& shape, double value, DType dtype);
/// Copy into a fresh contiguous tensor of another dtype (autograd-aware: float->float keeps grad).
Tensor to_dtype(const Tensor& t, DType dtype);
/// Differentiable copy (clone()): a fresh contiguous tensor.
Tensor clone(const Tensor& t);
/// Non-differentiable contiguous copy of the data.
Tensor contiguous_copy(const Tensor& t);
/// A contiguous copy converted to dtype (no autograd).
Tensor contiguous_copy_as(const Tensor& t, DType dtype);
/// Writes src (broadcast) into dst's elements, converting dtype; no autograd, no version bump.
void copy_into(const Tensor& dst, const Tensor& src);

}  // namespace cr
