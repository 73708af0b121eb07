#pragma once
#include <vector>
#include "core/tensor.h"

namespace cr {

/// Sum over `dims` (all dims when empty and `all` is true).
Tensor sum(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim);
Tensor sum_all(const Tensor& a);
/// Sums a broadcast gradient back to `shape` (the inverse of expand). ShapeError if impossible.
Tensor sum_to(const Tensor& g, const Dims& shape);

/// Normalizes a dim list: wraps negatives, rejects duplicates; empty -> all dims.
std::vector<int64_t> reduce_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op);

/// Mean over `dims` (empty: all). TypeError for integer inputs, as PyTorch.
Tensor mean(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim);
/// Variance with Bessel-style `correction` (1 = unbiased, 0 = biased) over `dims` (empty: all).
Tensor var(const Tensor& a, const std::vector<int64_t>& dims, double correction, bool keepdim);
/// Standard deviation (named std_dev: `std` would shadow the std namespace inside cr).
Tensor std_dev(const Tensor& a, const std::vector<int64_t>& dims, double correction, bool keepdim);
/// Largest / smallest value over dims; the gradient is split evenly among ties.
Tensor amax(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim);
Tensor amin(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim);
/// max/min along one dim: (values, indices); the gradient goes to the selected index (the first
/// occurrence; NaN counts as the extreme value).
std::pair<Tensor, Tensor> max_dim(const Tensor& a, int64_t dim, bool keepdim);
std::pair<Tensor, Tensor> min_dim(const Tensor& a, int64_t dim, bool keepdim);
/// Index (int64) of the first largest / smallest value; has_dim false flattens.
Tensor argmax(const Tensor& a, bool has_dim, int64_t dim, bool keepdim);
Tensor argmin(const Tensor& a, bool has_dim, int64_t dim, bool keepdim);
/// Vector p-norm over dims (empty: all); p may be +-inf, 0, 1, 2 or any other real.
Tensor norm(const Tensor& a, double p, const std::vector<int64_t>& dims, bool keepdim);
/// log(sum(exp(a))) over dims, computed with the maximum subtracted first.
Tensor logsumexp(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim);
/// Product over dims (empty: all).
Tensor prod(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim);

/// x ** p; with zero_grad_at_zero the gradient is 0 where x == 0 (the roots in std and norm).
Tensor pow_zero_safe(const Tensor& x, double p, bool zero_grad_at_zero = false);

}  // namespace cr
