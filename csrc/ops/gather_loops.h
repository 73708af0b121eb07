#pragma once
// The loop behind gather, scatter and their relatives (index.cpp, scatter.cpp): walks an int64
// index tensor and hands each position the matching offset into another tensor along `dim`.
#include "core/errors.h"
#include "core/tensor.h"
#include "ops/creation.h"

namespace cr {

// Calls f(linear position in index, offset into `other` with dim replaced by the index value)
// over index in row-major order; `other` has geometry (sizes for bounds, strides).
template <class F>
inline void for_each_gather(const Tensor& index, int64_t dim, const Dims& other_sizes,
                            const Dims& other_strides, const char* op, const F& f) {
  const int64_t nd = index.dim(), n = index.numel();
  if (n == 0) return;
  Tensor idx = index.is_contiguous() ? index : contiguous_copy(index);
  const int64_t* p = idx.data<int64_t>();
  const int64_t lim = nd == 0 ? 1 : other_sizes[(size_t)dim];
  Dims pos((size_t)nd, 0);
  int64_t base = 0;  // offset of pos in `other`, without the dim term
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = p[i];
    // gather/scatter take indices in [0, size): a negative one is an error, as in PyTorch (only
    // tensor indexing, x[idx], counts from the end).
    if (v < 0 || v >= lim)
      throw IndexError(str(op, ": index ", v, " is out of bounds for dimension ", dim, " with size ", lim));
    f(i, base + (nd == 0 ? 0 : v * other_strides[(size_t)dim]));
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (d != dim) base += other_strides[(size_t)d];
      if (++pos[(size_t)d] < index.shape()[(size_t)d]) break;
      if (d != dim) base -= other_strides[(size_t)d] * index.shape()[(size_t)d];
      pos[(size_t)d] = 0;
    }
  }
}

inline void check_gather_shapes(const Dims& xs, int64_t dim, const Tensor& index, const char* op) {
  if (index.dtype() != DType::Int64)
    throw TypeError(str(op, "(): expected an int64 index tensor, got ", dtype_name(index.dtype())));
  if (index.dim() != (int64_t)xs.size() && !(xs.empty() && index.dim() <= 1))
    throw ShapeError(str(op, "(): index tensor must have the same number of dimensions as the input tensor (",
                         index.dim(), " vs ", xs.size(), ")"));
  for (int64_t d = 0; d < index.dim() && d < (int64_t)xs.size(); ++d)
    if (d != dim && index.shape()[(size_t)d] > xs[(size_t)d])
      throw ShapeError(str(op, "(): size does not match at dimension ", d, ": expected index ", index.shape(),
                           " to be smaller than self ", xs, " apart from dimension ", dim));
}

}  // namespace cr
