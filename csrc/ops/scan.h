#pragma once
// Scans along one dim: cumulative sums, products, log-sum-exps, maxima and minima.
#include <optional>
#include <utility>

#include "core/tensor.h"

namespace cr {

/// Cumulative sum along dim. Integer and bool inputs give int64; `dtype` converts first.
Tensor cumsum(const Tensor& a, int64_t dim, std::optional<DType> dtype = std::nullopt);
/// Cumulative product along dim (same dtype rules as cumsum); the gradient is exact with zeros.
Tensor cumprod(const Tensor& a, int64_t dim, std::optional<DType> dtype = std::nullopt);
/// log(cumsum(exp(a))) along dim, computed stably; floating inputs only.
Tensor logcumsumexp(const Tensor& a, int64_t dim);
/// Running maximum / minimum along dim and the index where it was found (the last index among
/// equal values; NaN propagates, as PyTorch).
std::pair<Tensor, Tensor> cummax(const Tensor& a, int64_t dim);
std::pair<Tensor, Tensor> cummin(const Tensor& a, int64_t dim);
/// In place: self = cumsum(self, dim) / cumprod(self, dim) (Note [In-place ops]); `dtype`, when
/// given, must be self's dtype.
const Tensor& cumsum_(const Tensor& self, int64_t dim, std::optional<DType> dtype = std::nullopt);
const Tensor& cumprod_(const Tensor& self, int64_t dim, std::optional<DType> dtype = std::nullopt);

/// The first-order linear recurrence along dim: out_k = a_k * out_{k-1} + b_k (out_{-1} = 0), or
/// with `reverse`, out_k = b_k + a_{k+1} * out_{k+1} (out_n = 0). a and b: one floating dtype, one
/// shape. Differentiable to any order; the gradients of cumprod and logcumsumexp are built on it.
Tensor linear_recurrence(const Tensor& a, const Tensor& b, int64_t dim, bool reverse);

}  // namespace cr
