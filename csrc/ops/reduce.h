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

/// True where every (any) element over dims (empty: all) is nonzero; a bool result for any dtype
/// (NaN counts as nonzero). Over no elements: all is true, any is false.
Tensor all(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim);
Tensor any(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim);
/// Number of nonzero elements over dims (empty: all), int64.
Tensor count_nonzero(const Tensor& a, const std::vector<int64_t>& dims);
/// (amin, amax) over dims (empty: all) in one call; bool inputs too.
std::pair<Tensor, Tensor> aminmax(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim);
/// sum / mean treating NaN as absent (nanmean: floating inputs only; NaN where every value is NaN).
Tensor nansum(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim);
Tensor nanmean(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim);
/// (var, mean) and (std, mean) over dims (empty: all), both differentiable.
std::pair<Tensor, Tensor> var_mean(const Tensor& a, const std::vector<int64_t>& dims, double correction,
                                   bool keepdim);
std::pair<Tensor, Tensor> std_mean(const Tensor& a, const std::vector<int64_t>& dims, double correction,
                                   bool keepdim);
/// The p-norm of a - b (broadcast, promoted; floating only).
Tensor dist(const Tensor& a, const Tensor& b, double p);
/// Pairwise p-norm distances between the rows of x1 [..., P, M] and x2 [..., R, M] (batch dims
/// broadcast): [..., P, R]. Computed from the differences (never the matrix-product expansion), so
/// small distances keep their accuracy; p >= 0, and p = inf is the largest absolute difference.
Tensor cdist(const Tensor& x1, const Tensor& x2, double p);

/// x ** p; with zero_grad_at_zero the gradient is 0 where x == 0 (the roots in std and norm).
Tensor pow_zero_safe(const Tensor& x, double p, bool zero_grad_at_zero = false);

}  // namespace cr
