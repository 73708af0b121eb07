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

/// Resolves a requested shape against numel (one -1 allowed). ShapeError on mismatch.
Dims infer_shape(const Dims& requested, int64_t numel, const char* op);

}  // namespace cr
