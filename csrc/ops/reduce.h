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

}  // namespace cr
