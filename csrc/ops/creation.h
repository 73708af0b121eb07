#pragma once
#include "core/random.h"
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

/// Values start, start + step, ... below end (above for step < 0): ceil((end - start) / step) of
/// them. ValueError for step 0 or a step whose sign points away from end.
Tensor arange(double start, double end, double step, DType dtype);
/// `steps` evenly spaced values from start to end inclusive (PyTorch's symmetric formula).
Tensor linspace(double start, double end, int64_t steps, DType dtype);
/// n x m with ones on the diagonal.
Tensor eye(int64_t n, int64_t m, DType dtype);

// Random fills (in place, version bumped; float32/float64 except randint). `gen` null: default.
void uniform_(const Tensor& t, double low, double high, Generator* gen);
void normal_(const Tensor& t, double mean, double std, Generator* gen);
/// Integers uniform in [low, high); any numeric dtype.
void randint_(const Tensor& t, int64_t low, int64_t high, Generator* gen);
/// A random permutation of 0..n-1 (int64 unless dtype says otherwise).
Tensor randperm(int64_t n, DType dtype, Generator* gen);

/// Draws from normal(mean, std) elementwise, mean and std broadcast; mean or std may be undefined
/// (a number, given as `mean_value` / `std_value`). The result has mean's dtype (std's when mean
/// is a number). Differentiable with a zero gradient, as PyTorch. ValueError for std < 0 or NaN.
Tensor normal(const Tensor& mean, const Tensor& std, double mean_value, double std_value, Generator* gen);
/// 1 with probability p, else 0, elementwise: p a floating tensor of probabilities in [0, 1];
/// the result has p's dtype (and a zero gradient).
Tensor bernoulli(const Tensor& p, Generator* gen);
/// In place: self's elements become 1 with probability p (a number, or a tensor broadcast to
/// self's shape), else 0; any dtype. Version bumped.
void bernoulli_(const Tensor& self, double p, Generator* gen);
void bernoulli_(const Tensor& self, const Tensor& p, Generator* gen);
/// num_samples category indices (int64) per row of a 1-D or 2-D tensor of non-negative weights,
/// with or without replacement (without: never the same category twice in a row; categories of
/// weight 0 only after every positive one).
Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement, Generator* gen);

}  // namespace cr
