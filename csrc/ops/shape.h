#pragma once
#include <vector>
#include "core/tensor.h"

namespace cr {

/// Views when the layout allows, a copy otherwise; -1 infers one size.
Tensor reshape(const Tensor& a, const Dims& shape);
/// Always a view; ShapeError when the strides make that impossible.
Tensor view(const Tensor& a, const Dims& shape);
Tensor expand(const Tensor& a, const Dims& shape);
Tensor transpose(const Tensor& a, int64_t d0, int64_t d1);
Tensor permute(const Tensor& a, const std::vector<int64_t>& dims);
Tensor unsqueeze(const Tensor& a, int64_t dim);
/// Differentiable contiguous(): returns `a` itself when already contiguous.
Tensor contiguous(const Tensor& a);

/// reshape over dims [start_dim, end_dim] merged into one (a view when the layout allows).
Tensor flatten(const Tensor& a, int64_t start_dim = 0, int64_t end_dim = -1);
/// Removes size-1 dims: all of them when `dims` is empty and `all`, else those listed (if size 1).
Tensor squeeze(const Tensor& a, const std::vector<int64_t>& dims, bool all);
Tensor broadcast_to(const Tensor& a, const Dims& shape);
/// Concatenation along dim with dtype promotion; shape [0] tensors are skipped as in PyTorch.
Tensor cat(const TensorList& ts, int64_t dim);
Tensor stack(const TensorList& ts, int64_t dim);
/// Views of consecutive pieces along dim with the given sizes (which must sum to the dim's size).
TensorList split_with_sizes(const Tensor& a, const std::vector<int64_t>& sizes, int64_t dim);
/// Pieces of `size` along dim (the last may be smaller).
TensorList split(const Tensor& a, int64_t size, int64_t dim);
TensorList chunk(const Tensor& a, int64_t chunks, int64_t dim);
/// View of `length` entries from `start` along dim.
Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length);
/// Views x[..., i, ...] for every i along dim.
TensorList unbind(const Tensor& a, int64_t dim);
Tensor movedim(const Tensor& a, const std::vector<int64_t>& src, const std::vector<int64_t>& dst);
/// A copy with the order of entries reversed along each of `dims`.
Tensor flip(const Tensor& a, const std::vector<int64_t>& dims);
/// Tiles a along each dim (repeats has at least a.dim() entries).
Tensor repeat(const Tensor& a, const Dims& repeats);

/// Resolves a requested shape against numel (one -1 allowed). ShapeError on mismatch.
Dims infer_shape(const Dims& requested, int64_t numel, const char* op);

}  // namespace cr
