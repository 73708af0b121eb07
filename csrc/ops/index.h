#pragma once
// Indexing: basic (views) and advanced (copies) indexing, index assignment, gather,
// index_select, masked_fill. See Note [Indexing] in index.cpp.
#include <vector>
#include "core/tensor.h"

namespace cr {

/// One entry of an index expression x[a, b, ...], already parsed from Python.
struct IndexItem {
  enum Kind : uint8_t { Int, Slice, None, Ellipsis, Tensor_ } kind = Int;
  int64_t start = 0;  // Int: the index; Slice: start
  int64_t stop = 0;   // Slice only
  int64_t step = 1;   // Slice only (> 0)
  bool has_start = false, has_stop = false;
  Tensor tensor;  // Tensor_: an int64 or bool index tensor

  static IndexItem integer(int64_t i) {
    IndexItem it;
    it.kind = Int;
    it.start = i;
    return it;
  }
  static IndexItem slice(bool has_start, int64_t start, bool has_stop, int64_t stop, int64_t step) {
    IndexItem it;
    it.kind = Slice;
    it.has_start = has_start;
    it.start = start;
    it.has_stop = has_stop;
    it.stop = stop;
    it.step = step;
    return it;
  }
  static IndexItem none() {
    IndexItem it;
    it.kind = None;
    return it;
  }
  static IndexItem ellipsis() {
    IndexItem it;
    it.kind = Ellipsis;
    return it;
  }
  static IndexItem tensor_index(Tensor t) {
    IndexItem it;
    it.kind = Tensor_;
    it.tensor = std::move(t);
    return it;
  }
};
using IndexList = std::vector<IndexItem>;

/// x[items] with PyTorch semantics: ints, slices, None and Ellipsis give a view of x; int64 or
/// bool tensors add advanced indexing (a copy). IndexError for out-of-range indices.
Tensor index(const Tensor& x, const IndexList& items);
/// x[items] = value (value broadcast to the indexed shape, converted to x's dtype), or += with
/// accumulate (repeated indices add up). Recorded by autograd as PyTorch's setitem / index_put_:
/// basic indexing writes through a view (CopySlices), advanced indexing records
/// IndexPutBackward0; a leaf that requires grad is refused. Bumps x's version counter.
void index_put_(const Tensor& x, const IndexList& items, const Tensor& value, bool accumulate = false,
                const char* op = "setitem");
/// Out of place: a copy of x with x[items] = values (or += with accumulate).
Tensor index_put(const Tensor& x, const IndexList& items, const Tensor& values, bool accumulate = false);

/// View of x restricted to [start, stop) with a positive step along dim (bounds clamped).
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t stop, int64_t step);
/// x with dim removed at position i (a view). IndexError when out of range.
Tensor select(const Tensor& x, int64_t dim, int64_t i);

/// out[i..] = x[..., index[i..] (at dim), ...]: index has x's ndim; IndexError when out of range.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
/// zeros(shape) with src added at the positions index names along dim (deterministic).
Tensor scatter_add_into_zeros(const Tensor& src, const Dims& shape, int64_t dim, const Tensor& index);
/// x's entries at the 1-D (or 0-d) int64 index along dim.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
/// x where mask is false, value where true (mask broadcast to x's shape). Differentiable in x.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

}  // namespace cr
