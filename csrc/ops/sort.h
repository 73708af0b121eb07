#pragma once
// Sorting and selection: sort, argsort, topk, kthvalue, median, mode, unique, searchsorted,
// bucketize and quantile. See Note [Sort order] in sort.cpp.
#include <optional>
#include <utility>

#include "core/tensor.h"

namespace cr {

/// Values sorted along dim and their int64 indices. Always stable (equal values keep their
/// order, in both directions); NaN sorts after every number (first when descending).
std::pair<Tensor, Tensor> sort(const Tensor& a, int64_t dim, bool descending);
Tensor argsort(const Tensor& a, int64_t dim, bool descending);
/// sort(a, 0) values.
Tensor msort(const Tensor& a);
/// The k largest (smallest) values along dim, in order, with their indices; equal values come in
/// index order. 0 <= k <= size of dim, else IndexError.
std::pair<Tensor, Tensor> topk(const Tensor& a, int64_t k, int64_t dim, bool largest, bool sorted);
/// The k-th smallest value along dim (1-based), with its index: the k-th entry of the stable sort.
std::pair<Tensor, Tensor> kthvalue(const Tensor& a, int64_t k, int64_t dim, bool keepdim);
/// The lower median along dim with its index (NaN and the first NaN's index when a lane has one);
/// `ignore_nan`: nanmedian, the median of the lane's numbers.
std::pair<Tensor, Tensor> median_dim(const Tensor& a, int64_t dim, bool keepdim, bool ignore_nan);
/// The lower median of every element; the gradient is shared evenly among the elements equal to it.
Tensor median_all(const Tensor& a, bool ignore_nan);
/// The most frequent value along dim (the smallest of equally frequent ones) and the index of its
/// last occurrence.
std::pair<Tensor, Tensor> mode(const Tensor& a, int64_t dim, bool keepdim);

struct UniqueResult {
  Tensor values, inverse, counts;
};
/// The distinct values (dim none: of the flattened input; else the distinct slices along dim), in
/// ascending order, with each input element's (slice's) position among them and their counts.
/// `consecutive`: only runs of equal neighbours are merged, in input order. NaNs are never equal.
UniqueResult unique(const Tensor& a, bool consecutive, std::optional<int64_t> dim);

/// For each value, the index where it would be inserted into its row of `sorted_sequence` (1-D,
/// or one row per leading index of `values`) to keep it sorted: before equal entries, or after
/// them with `right`. `sorter` (undefined: none) gives the sequence's sorting permutation.
Tensor searchsorted(const Tensor& sorted_sequence, const Tensor& values, bool right, const Tensor& sorter);
/// searchsorted(boundaries, values, right) with 1-D boundaries.
Tensor bucketize(const Tensor& values, const Tensor& boundaries, bool right);

enum class Interpolation { Linear, Lower, Higher, Midpoint, Nearest };
/// Quantiles of a along dim (none: of all elements) at each q in [0, 1]; q is a 0-d or 1-D tensor of
/// a's dtype, and a 1-D q adds a leading dim. NaN in a lane gives NaN, unless `ignore_nan`
/// (nanquantile), which uses the lane's numbers. Differentiable through the sorted values.
Tensor quantile(const Tensor& a, const Tensor& q, std::optional<int64_t> dim, bool keepdim,
                Interpolation interpolation, bool ignore_nan, const char* op);

/// The ops whose values are entries of their input chosen by an index along one dim.
enum class Picked { Sort, Topk, Kthvalue, Median, Nanmedian, Mode, Cummax, Cummin };
/// Records `values` = input's entries at `indices` along dim (indices: int64 with input's number of
/// dims; values: their shape, or that shape with dim removed): the gradient goes to those entries.
void record_picked(Picked op, const Tensor& input, Tensor& values, const Tensor& indices, int64_t dim);

}  // namespace cr
