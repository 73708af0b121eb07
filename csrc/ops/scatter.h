#pragma once
// Writes at indexed positions (scatter.cpp): all out of place; the in-place methods (scatter_,
// index_add_, masked_fill_, ...) are bound through assign_with_ and follow Note [In-place ops].
#include <optional>
#include <string>

#include "core/tensor.h"

namespace cr {

/// out = x; out[index[i][j]][j] = src[i][j] (dim 0; likewise for other dims). reduce "add" or
/// "multiply" combines instead of overwriting (not differentiable, as PyTorch).
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
               const std::optional<std::string>& reduce = std::nullopt);
Tensor scatter_value(const Tensor& x, int64_t dim, const Tensor& index, double value,
                     const std::optional<std::string>& reduce = std::nullopt);
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
/// reduce: "sum", "prod", "mean", "amax" or "amin"; include_self=False ignores x's values at the
/// positions that receive something.
Tensor scatter_reduce(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
                      const std::string& reduce, bool include_self = true);

/// x with alpha * source added (copied, value filled) at the 1-D index along dim.
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source, double alpha = 1.0);
Tensor index_copy(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source);
Tensor index_fill(const Tensor& x, int64_t dim, const Tensor& index, double value);

/// masked_fill with a 0-d value tensor, differentiable in the value too.
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value);
/// The entries of x where mask (broadcast together) is true, as a 1-D tensor.
Tensor masked_select(const Tensor& x, const Tensor& mask);
/// x with the positions where mask is true filled from source's entries, in order.
Tensor masked_scatter(const Tensor& x, const Tensor& mask, const Tensor& source);
/// x read as 1-D at index (negative entries count from the end), in index's shape.
Tensor take(const Tensor& x, const Tensor& index);
/// The indices of the non-zero entries, shape [count, x.dim()].
Tensor nonzero(const Tensor& x);

}  // namespace cr
