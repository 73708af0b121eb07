#pragma once
// A tensor seen as 1-D lanes along one dim: the scans (scan.cpp) and the sorting and selection ops
// (sort.cpp) work lane by lane. A contiguous tensor of shape [outer..., n, inner...] has
// outer * inner lanes of n elements each, `inner` apart in memory. Every lane runs on one thread,
// in order, so results never depend on the thread count (Note [Determinism] in engine.cpp).
#include <algorithm>
#include <cstdint>

#include "core/parallel.h"
#include "core/tensor.h"
#include "ops/creation.h"

namespace cr {

struct Lanes {
  int64_t outer = 1, n = 1, inner = 1;
  int64_t count() const { return outer * inner; }
  /// Offset of element 0 of lane j in a contiguous tensor; element k is at base(j) + k * inner.
  int64_t base(int64_t j) const { return (j / inner) * n * inner + j % inner; }
};

/// The lanes of `shape` along `dim` (already wrapped); a 0-d shape is one lane of one element.
inline Lanes lanes_of(const Dims& shape, int64_t dim) {
  Lanes l;
  if (shape.empty()) return l;
  for (int64_t i = 0; i < dim; ++i) l.outer *= shape[(size_t)i];
  l.n = shape[(size_t)dim];
  for (size_t i = (size_t)dim + 1; i < shape.size(); ++i) l.inner *= shape[i];
  return l;
}

/// Calls f(first, last) over ranges of lanes, split across threads when the work is large; each
/// call may keep scratch buffers for the lanes of its range.
template <class F>
void for_lane_ranges(const Lanes& l, const F& f) {
  int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(l.n, 1));
  parallel_for(0, l.count(), grain, f);
}

/// Calls f(j) for every lane j.
template <class F>
void for_each_lane(const Lanes& l, const F& f) {
  for_lane_ranges(l, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) f(j);
  });
}

/// t itself when contiguous, else a contiguous copy (no autograd).
inline Tensor contiguous_data(const Tensor& t) { return t.is_contiguous() ? t : contiguous_copy(t); }

/// NaN-aware order of sort and its relatives: NaN after every number (PyTorch's ascending order).
template <class T>
inline bool before_nan_last(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (a != a) return false;
    if (b != b) return true;
  }
  return a < b;
}
/// Equality that treats every NaN as equal to every NaN (the grouping of mode).
template <class T>
inline bool same_value(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (a != a || b != b) return a != a && b != b;
  }
  return a == b;
}
template <class T>
inline bool is_nan_value(T v) {
  if constexpr (std::is_floating_point_v<T>) return v != v;
  return false;
}

}  // namespace cr
