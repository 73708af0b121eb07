// Sorting and selection along one dim (ops/lanes.h: each lane on one thread, in order).
//
// Note [Sort order]
// Every op here orders values the way PyTorch's sort does: ascending, NaN after every number
// (descending: NaN first), -0.0 equal to 0.0. Ties are broken by position, always: sort is stable
// in both directions, topk returns equal values in index order, and kthvalue, median and quantile
// pick the k-th entry of the stable sort. So every result, indices included, is a function of the
// input alone (PyTorch documents the index among equal values as unspecified).
#include "ops/sort.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "ops/derivatives.h"
#include "ops/index.h"
#include "ops/lanes.h"
#include "ops/shape.h"

namespace cr {

namespace {

/// Scratch storage for a lane: bool lanes are held as bytes (std::vector<bool> has no data()).
template <class T>
using Slot = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;

template <class T, class S>
void load_lane(const T* p, const Lanes& l, int64_t j, S* buf) {
  int64_t off = l.base(j);
  for (int64_t k = 0; k < l.n; ++k, off += l.inner) buf[k] = (S)p[off];
}

/// Strict order of positions in a lane: by value (Note [Sort order]), then by position.
template <class S>
struct ByValueThenIndex {
  const S* v;
  bool descending;
  bool operator()(int64_t i, int64_t j) const {
    if (descending ? before_nan_last(v[j], v[i]) : before_nan_last(v[i], v[j])) return true;
    if (descending ? before_nan_last(v[i], v[j]) : before_nan_last(v[j], v[i])) return false;
    return i < j;
  }
};

// ---- gradients: the chosen entries receive the output gradient ------------------------------
struct PickedAttrs {
  Tensor indices;  // int64, the input's number of dims; never part of a graph
  int64_t dim = 0;
};
Tensor picked_backward(const GradArgs<0, PickedAttrs>& d) {
  const Dims& in = d.input_shape(0);
  if (in.empty()) return reshape(d.grad, in);
  const Tensor& idx = d.attrs.indices;
  Tensor g = d.grad.shape() == idx.shape() ? d.grad : reshape(d.grad, idx.shape());
  return scatter_add_into_zeros(g, in, d.attrs.dim, idx);
}
const Derivative<1, 0, PickedAttrs> picked_grads[] = {
    {"SortBackward0", {"self"}, {picked_backward}},      {"TopkBackward0", {"self"}, {picked_backward}},
    {"KthvalueBackward0", {"self"}, {picked_backward}},  {"MedianBackward1", {"self"}, {picked_backward}},
    {"NanmedianBackward1", {"self"}, {picked_backward}}, {"ModeBackward0", {"self"}, {picked_backward}},
    {"CummaxBackward0", {"self"}, {picked_backward}},    {"CumminBackward0", {"self"}, {picked_backward}}};

// The median of all elements: the gradient is shared evenly among the elements equal to it (all
// the NaNs when it is NaN), as PyTorch's.
Tensor even_share_backward(const GradArgs<2, NoAttrs>& d) {
  const Tensor &x = d.saved[0], &value = d.saved[1];
  Tensor share;
  {
    NoGradGuard ng;
    double v = item_as_double(value);
    Tensor mask = std::isnan(v) ? compare(x, x, CmpOp::Ne) : eq(x, value);
    Tensor m = to_dtype(mask, d.grad.dtype());
    share = m / sum(m, {}, false);
  }
  return share * d.grad;
}
const Derivative<1, 2> median_all_grad{
    "MedianBackward0", {"self"}, {even_share_backward}, {{{"self"}, {"result"}}}};
const Derivative<1, 2> nanmedian_all_grad{
    "NanmedianBackward0", {"self"}, {even_share_backward}, {{{"self"}, {"result"}}}};

Dims without_dim(const Dims& s, int64_t dim) {
  Dims out;
  for (size_t i = 0; i < s.size(); ++i)
    if ((int64_t)i != dim) out.push_back(s[i]);
  return out;
}

/// A reduction along dim whose value is one entry of each lane: pick(lane values, n, scratch
/// positions) returns the chosen position. Values and int64 indices, keepdim or not.
template <class Pick>
std::pair<Tensor, Tensor> reduce_by_index(const Tensor& a, int64_t dim0, bool keepdim, bool bool_ok,
                                          const char* op, Picked which, const Pick& pick) {
  int64_t dim = wrap_dim(dim0, a.dim(), op);
  Dims keep = a.shape();
  if (a.dim() > 0) keep[(size_t)dim] = 1;
  Dims out_shape = (keepdim || a.dim() == 0) ? keep : without_dim(keep, dim);
  Lanes l = lanes_of(a.shape(), dim);
  if (l.n == 0)
    throw IndexError(
        str(op, "(): expected reduction dim ", dim, " to have non-zero size (input shape ", a.shape(), ")"));
  if (!bool_ok && a.dtype() == DType::Bool) throw TypeError(str(op, "(): not implemented for dtype bool"));
  Tensor x = contiguous_data(a);
  Tensor values = Tensor::empty(out_shape, a.dtype());
  Tensor indices = Tensor::empty(out_shape, DType::Int64);
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using S = Slot<T>;
    const T* p = x.data<T>();
    T* v = values.data<T>();
    int64_t* ix = indices.data<int64_t>();
    for_lane_ranges(l, [&](int64_t b, int64_t e) {
      std::vector<S> buf((size_t)l.n);
      std::vector<int64_t> pos((size_t)l.n);
      for (int64_t j = b; j < e; ++j) {
        load_lane(p, l, j, buf.data());
        int64_t k = pick(buf.data(), l.n, pos);
        v[j] = (T)buf[(size_t)k];
        ix[j] = k;
      }
    });
  });
  record_picked(which, a, values, make_view(indices, keep, contiguous_strides(keep), 0), dim);
  return {values, indices};
}

/// Position of the first NaN in a lane, or -1.
template <class S>
int64_t first_nan(const S* v, int64_t n) {
  for (int64_t k = 0; k < n; ++k)
    if (is_nan_value(v[k])) return k;
  return -1;
}

}  // namespace

void record_picked(Picked op, const Tensor& input, Tensor& values, const Tensor& indices, int64_t dim) {
  if (auto* n = record(picked_grads[(int)op], {input}, values)) n->attrs = PickedAttrs{detach(indices), dim};
}

// ---- sort ---------------------------------------------------------------------------------------
std::pair<Tensor, Tensor> sort(const Tensor& a, int64_t dim0, bool descending) {
  int64_t dim = wrap_dim(dim0, a.dim(), "sort");
  Tensor x = contiguous_data(a);
  Tensor values = Tensor::empty(x.shape(), x.dtype());
  Tensor indices = Tensor::empty(x.shape(), DType::Int64);
  Lanes l = lanes_of(x.shape(), dim);
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using S = Slot<T>;
    const T* p = x.data<T>();
    T* v = values.data<T>();
    int64_t* ix = indices.data<int64_t>();
    for_lane_ranges(l, [&](int64_t b, int64_t e) {
      std::vector<S> buf((size_t)l.n);
      std::vector<int64_t> pos((size_t)l.n);
      for (int64_t j = b; j < e; ++j) {
        load_lane(p, l, j, buf.data());
        std::iota(pos.begin(), pos.end(), int64_t(0));
        // ByValueThenIndex is a total order, so any sort gives the stable result.
        std::sort(pos.begin(), pos.end(), ByValueThenIndex<S>{buf.data(), descending});
        int64_t off = l.base(j);
        for (int64_t k = 0; k < l.n; ++k, off += l.inner) {
          v[off] = (T)buf[(size_t)pos[(size_t)k]];
          ix[off] = pos[(size_t)k];
        }
      }
    });
  });
  record_picked(Picked::Sort, a, values, indices, dim);
  return {values, indices};
}

Tensor argsort(const Tensor& a, int64_t dim, bool descending) {
  NoGradGuard ng;
  return sort(a, dim, descending).second;
}

Tensor msort(const Tensor& a) { return sort(a, 0, false).first; }

// ---- topk ---------------------------------------------------------------------------------------
std::pair<Tensor, Tensor> topk(const Tensor& a, int64_t k, int64_t dim0, bool largest, bool) {
  int64_t dim = wrap_dim(dim0, a.dim(), "topk");
  int64_t n = a.dim() == 0 ? 1 : a.size(dim);
  if (k < 0 || k > n)
    throw IndexError(str("topk(): k = ", k, " is out of range for dimension ", dim, " of size ", n,
                         " (expected 0 <= k <= ", n, ")"));
  if (a.dtype() == DType::Bool) throw TypeError("topk(): not implemented for dtype bool");
  Dims out_shape = a.shape();
  if (a.dim() > 0) out_shape[(size_t)dim] = k;  // a 0-d input gives itself, as PyTorch
  Tensor x = contiguous_data(a);
  Tensor values = Tensor::empty(out_shape, a.dtype());
  Tensor indices = Tensor::empty(out_shape, DType::Int64);
  Lanes l = lanes_of(x.shape(), dim);
  const int64_t kk = a.dim() == 0 ? 1 : k;
  Lanes lo = lanes_of(out_shape, dim);
  dispatch_numeric(a.dtype(), "topk", [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    T* v = values.data<T>();
    int64_t* ix = indices.data<int64_t>();
    for_lane_ranges(l, [&](int64_t b, int64_t e) {
      std::vector<T> buf((size_t)l.n);
      std::vector<int64_t> pos((size_t)l.n);
      for (int64_t j = b; j < e; ++j) {
        load_lane(p, l, j, buf.data());
        std::iota(pos.begin(), pos.end(), int64_t(0));
        std::partial_sort(pos.begin(), pos.begin() + kk, pos.end(), ByValueThenIndex<T>{buf.data(), largest});
        int64_t off = lo.base(j);
        for (int64_t r = 0; r < kk; ++r, off += lo.inner) {
          v[off] = buf[(size_t)pos[(size_t)r]];
          ix[off] = pos[(size_t)r];
        }
      }
    });
  });
  record_picked(Picked::Topk, a, values, indices, dim);
  return {values, indices};
}

// ---- kthvalue, median, mode -----------------------------------------------------------------------
std::pair<Tensor, Tensor> kthvalue(const Tensor& a, int64_t k, int64_t dim0, bool keepdim) {
  int64_t dim = wrap_dim(dim0, a.dim(), "kthvalue");
  int64_t n = a.dim() == 0 ? 1 : a.size(dim);
  if (n > 0 && (k < 1 || k > n))
    throw IndexError(str("kthvalue(): k = ", k, " is out of range for dimension ", dim, " of size ", n,
                         " (expected 1 <= k <= ", n, ")"));
  return reduce_by_index(a, dim, keepdim, false, "kthvalue", Picked::Kthvalue,
                         [k](const auto* v, int64_t, std::vector<int64_t>& pos) {
                           using S = std::remove_const_t<std::remove_pointer_t<decltype(v)>>;
                           std::iota(pos.begin(), pos.end(), int64_t(0));
                           std::nth_element(pos.begin(), pos.begin() + (k - 1), pos.end(),
                                            ByValueThenIndex<S>{v, false});
                           return pos[(size_t)(k - 1)];
                         });
}

std::pair<Tensor, Tensor> median_dim(const Tensor& a, int64_t dim, bool keepdim, bool ignore_nan) {
  const char* op = ignore_nan ? "nanmedian" : "median";
  return reduce_by_index(a, dim, keepdim, false, op, ignore_nan ? Picked::Nanmedian : Picked::Median,
                         [ignore_nan](const auto* v, int64_t n, std::vector<int64_t>& pos) -> int64_t {
                           using S = std::remove_const_t<std::remove_pointer_t<decltype(v)>>;
                           int64_t nan_at = first_nan(v, n);
                           if (nan_at >= 0 && !ignore_nan) return nan_at;
                           int64_t m = 0;
                           for (int64_t k = 0; k < n; ++k) m += !is_nan_value(v[k]);
                           if (m == 0) return nan_at;
                           std::iota(pos.begin(), pos.end(), int64_t(0));
                           int64_t at = (m - 1) / 2;
                           std::nth_element(pos.begin(), pos.begin() + at, pos.end(),
                                            ByValueThenIndex<S>{v, false});
                           return pos[(size_t)at];
                         });
}

Tensor median_all(const Tensor& a, bool ignore_nan) {
  const char* op = ignore_nan ? "nanmedian" : "median";
  if (a.dtype() == DType::Bool) throw TypeError(str(op, "(): not implemented for dtype bool"));
  if (a.numel() == 0) {
    if (!is_floating(a.dtype()))
      throw IndexError(str(op, "(): an empty ", dtype_name(a.dtype()), " tensor has no median"));
  }
  Tensor out;
  if (a.numel() == 0) {
    out = full(Dims{}, std::numeric_limits<double>::quiet_NaN(), a.dtype());
  } else {
    NoGradGuard ng;
    out = median_dim(reshape(a, Dims{a.numel()}), 0, false, ignore_nan).first;
  }
  record(ignore_nan ? nanmedian_all_grad : median_all_grad, {a}, out, {a, output(out)});
  return out;
}

std::pair<Tensor, Tensor> mode(const Tensor& a, int64_t dim, bool keepdim) {
  return reduce_by_index(a, dim, keepdim, true, "mode", Picked::Mode,
                         [](const auto* v, int64_t n, std::vector<int64_t>& pos) {
                           using S = std::remove_const_t<std::remove_pointer_t<decltype(v)>>;
                           std::iota(pos.begin(), pos.end(), int64_t(0));
                           std::sort(pos.begin(), pos.end(), ByValueThenIndex<S>{v, false});
                           // The longest run of equal values; the first (smallest) among equally
                           // long ones; its last position in the sort is its last occurrence.
                           int64_t best_len = 0, best = 0, run = 0;
                           for (int64_t k = 0; k < n; ++k) {
                             ++run;
                             if (k + 1 == n || !same_value(v[pos[(size_t)k]], v[pos[(size_t)k + 1]])) {
                               if (run > best_len) {
                                 best_len = run;
                                 best = pos[(size_t)k];
                               }
                               run = 0;
                             }
                           }
                           return best;
                         });
}

// ---- unique -----------------------------------------------------------------------------------------
namespace {

/// Groups `count` items (positions 0..count-1, compared with less/equal) into runs of equal items:
/// sorted first unless `consecutive`. Fills the inverse (group of each item) and the counts, and
/// returns each group's first item in the order used.
template <class Less, class Equal>
std::vector<int64_t> group_items(int64_t count, bool consecutive, const Less& less, const Equal& equal,
                                 int64_t* inverse, std::vector<int64_t>& counts) {
  std::vector<int64_t> order((size_t)count);
  std::iota(order.begin(), order.end(), int64_t(0));
  if (!consecutive) std::stable_sort(order.begin(), order.end(), less);
  std::vector<int64_t> firsts;
  for (int64_t p = 0; p < count; ++p) {
    int64_t item = order[(size_t)p];
    if (p == 0 || !equal(order[(size_t)p - 1], item)) {
      firsts.push_back(item);
      counts.push_back(0);
    }
    ++counts.back();
    inverse[item] = (int64_t)firsts.size() - 1;
  }
  return firsts;
}

Tensor int64_vector(const std::vector<int64_t>& v) {
  Tensor t = Tensor::empty(Dims{(int64_t)v.size()}, DType::Int64);
  std::copy(v.begin(), v.end(), t.data<int64_t>());
  return t;
}

}  // namespace

UniqueResult unique(const Tensor& a, bool consecutive, std::optional<int64_t> dim) {
  const char* op = consecutive ? "unique_consecutive" : "unique";
  NoGradGuard ng;
  UniqueResult r;
  std::vector<int64_t> counts;
  if (!dim) {
    Tensor x = contiguous_data(a);
    int64_t n = x.numel();
    r.inverse = Tensor::empty(a.shape(), DType::Int64);
    dispatch_all(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* p = x.data<T>();
      auto firsts = group_items(
          n, consecutive, [&](int64_t i, int64_t j) { return before_nan_last(p[i], p[j]); },
          [&](int64_t i, int64_t j) { return p[i] == p[j]; }, r.inverse.data<int64_t>(), counts);
      r.values = Tensor::empty(Dims{(int64_t)firsts.size()}, x.dtype());
      T* v = r.values.data<T>();
      for (size_t g = 0; g < firsts.size(); ++g) v[g] = p[firsts[g]];
    });
    r.counts = int64_vector(counts);
    return r;
  }
  if (a.dim() == 0) throw IndexError(str(op, "(): dim ", *dim, " was given, but the input is a 0-d tensor"));
  int64_t d = wrap_dim(*dim, a.dim(), op);
  int64_t slices = a.size(d);
  if (a.numel() == 0) {
    if (slices != 0)
      throw ShapeError(str(op, "(): input of shape ", a.shape(), " has 0-sized dimensions other than dim ", d,
                           ", so there is nothing to compare"));
    r.values = Tensor::empty(a.shape(), a.dtype());
    r.inverse = Tensor::empty(Dims{0}, DType::Int64);
    r.counts = Tensor::empty(Dims{0}, DType::Int64);
    return r;
  }
  Tensor moved = contiguous_copy(movedim(a, {d}, {0}));  // [slices, rest...]
  int64_t width = moved.numel() / slices;
  r.inverse = Tensor::empty(Dims{slices}, DType::Int64);
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = moved.data<T>();
    auto less = [&](int64_t i, int64_t j) {
      const T *x = p + i * width, *y = p + j * width;
      for (int64_t c = 0; c < width; ++c) {
        if (before_nan_last(x[c], y[c])) return true;
        if (before_nan_last(y[c], x[c])) return false;
      }
      return false;
    };
    auto equal = [&](int64_t i, int64_t j) {
      const T *x = p + i * width, *y = p + j * width;
      for (int64_t c = 0; c < width; ++c)
        if (!(x[c] == y[c])) return false;
      return true;
    };
    auto firsts = group_items(slices, consecutive, less, equal, r.inverse.data<int64_t>(), counts);
    Dims shape = moved.shape();
    shape[0] = (int64_t)firsts.size();
    Tensor out = Tensor::empty(shape, a.dtype());
    T* o = out.data<T>();
    for (size_t g = 0; g < firsts.size(); ++g)
      std::copy(p + firsts[g] * width, p + (firsts[g] + 1) * width, o + (int64_t)g * width);
    r.values = contiguous_copy(movedim(out, {0}, {d}));
  });
  r.counts = int64_vector(counts);
  return r;
}

// ---- searchsorted / bucketize -------------------------------------------------------------------
Tensor searchsorted(const Tensor& seq0, const Tensor& vals0, bool right, const Tensor& sorter0) {
  if (seq0.dim() == 0)
    throw ShapeError("searchsorted(): sorted_sequence must have at least one dimension, got a 0-d tensor");
  if (seq0.dtype() == DType::Bool || vals0.dtype() == DType::Bool)
    throw TypeError("searchsorted(): not implemented for dtype bool");
  if (seq0.dim() > 1) {
    bool ok = vals0.dim() == seq0.dim();
    for (int64_t i = 0; ok && i + 1 < seq0.dim(); ++i) ok = seq0.size(i) == vals0.size(i);
    if (!ok)
      throw ShapeError(str("searchsorted(): sorted_sequence of shape ", seq0.shape(),
                           " must be 1-D, or share all dimensions but the last with the values (shape ",
                           vals0.shape(), ")"));
  }
  if (sorter0.defined()) {
    if (sorter0.dtype() != DType::Int64)
      throw TypeError(
          str("searchsorted(): sorter must be an int64 tensor, got ", dtype_name(sorter0.dtype())));
    if (sorter0.shape() != seq0.shape())
      throw ShapeError(str("searchsorted(): sorter of shape ", sorter0.shape(),
                           " must have the shape of sorted_sequence ", seq0.shape()));
  }
  const int64_t n = seq0.shape().back();
  const int64_t row_len = seq0.dim() == 1 ? 0 : vals0.shape().back();  // values per row (0: one row)
  Tensor sorter = sorter0.defined() ? contiguous_data(sorter0) : Tensor();
  const int64_t* sp = sorter.defined() ? sorter.data<int64_t>() : nullptr;
  if (sp)
    for (int64_t i = 0, m = sorter.numel(); i < m; ++i)
      if (sp[i] < 0 || sp[i] >= n)
        throw IndexError(str("searchsorted(): sorter index ", sp[i], " is out of range for a sequence of ", n,
                             " elements"));
  Tensor out = Tensor::empty(vals0.shape(), DType::Int64);
  int64_t* o = out.data<int64_t>();
  const bool ints = seq0.dtype() == DType::Int64 && vals0.dtype() == DType::Int64;
  auto run = [&](auto tag) {
    using T = decltype(tag);
    DType dt = dtype_of<T>::value;
    Tensor seq = contiguous_copy_as(seq0, dt), vals = contiguous_copy_as(vals0, dt);
    const T* s = seq.data<T>();
    const T* v = vals.data<T>();
    parallel_for(0, vals.numel(), 4096, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        int64_t row = row_len ? i / row_len : 0;
        const T* r = s + row * n;
        const int64_t* rs = sp ? sp + row * n : nullptr;
        const T x = v[i];
        int64_t lo = 0, hi = n;
        while (lo < hi) {
          int64_t mid = lo + (hi - lo) / 2;
          T m = rs ? r[rs[mid]] : r[mid];
          // Written so that a NaN value goes after every entry, as PyTorch's search does.
          bool go_right = right ? !(m > x) : !(m >= x);
          if (go_right) lo = mid + 1;
          else hi = mid;
        }
        o[i] = lo;
      }
    });
  };
  if (ints) run(int64_t{});
  else run(double{});
  return out;
}

Tensor bucketize(const Tensor& values, const Tensor& boundaries, bool right) {
  if (boundaries.dim() != 1)
    throw ShapeError(str("bucketize(): boundaries must be 1-D, got shape ", boundaries.shape()));
  return searchsorted(boundaries, values, right, Tensor());
}

// ---- quantile -----------------------------------------------------------------------------------
Tensor quantile(const Tensor& a, const Tensor& q, std::optional<int64_t> dim, bool keepdim,
                Interpolation interpolation, bool ignore_nan, const char* op) {
  if (!is_floating(a.dtype()))
    throw TypeError(str(op, "(): input must be float32 or float64, got ", dtype_name(a.dtype()),
                        " (convert first, e.g. x.double())"));
  if (q.dtype() != a.dtype())
    throw TypeError(str(op, "(): q must have the input's dtype (", dtype_name(a.dtype()), "), got ",
                        dtype_name(q.dtype())));
  if (q.dim() > 1)
    throw ShapeError(str(op, "(): q must be a number, a 0-d or a 1-D tensor, got shape ", q.shape()));
  int64_t d = dim ? wrap_dim(*dim, a.dim(), op) : 0;
  if (a.numel() == 0) throw ValueError(str(op, "(): input must be non-empty, got shape ", a.shape()));
  std::vector<double> qs;
  {
    Tensor qc = contiguous_copy_as(q, DType::Float64);
    const double* qp = qc.data<double>();
    for (int64_t i = 0; i < qc.numel(); ++i) {
      if (!(qp[i] >= 0.0 && qp[i] <= 1.0)) throw ValueError(str(op, "(): q must be in [0, 1], got ", qp[i]));
      qs.push_back(qp[i]);
    }
  }
  // The lanes, last: [..., n], sorted (differentiably: the gradient reaches the input through it).
  Tensor x = (!dim || a.dim() == 0) ? reshape(a, Dims{a.numel()}) : movedim(a, {d}, {-1});
  Tensor sorted = sort(x, -1, false).first;
  const int64_t n = sorted.shape().back(), nq = (int64_t)qs.size();
  Dims idx_shape = sorted.shape();
  idx_shape[idx_shape.size() - 1] = nq;
  Tensor lo_t = Tensor::empty(idx_shape, DType::Int64), hi_t = Tensor::empty(idx_shape, DType::Int64);
  Tensor w_t = Tensor::empty(idx_shape, a.dtype());
  Tensor sc = contiguous_data(detach(sorted));
  Lanes l = lanes_of(sc.shape(), sc.dim() - 1);
  dispatch_floating(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* s = sc.data<T>();
    int64_t *lo = lo_t.data<int64_t>(), *hi = hi_t.data<int64_t>();
    T* w = w_t.data<T>();
    for_each_lane(l, [&](int64_t j) {
      const T* lane = s + j * n;
      int64_t valid = 0;  // numbers come first in the sort, NaNs last
      while (valid < n && !std::isnan(lane[valid])) ++valid;
      for (int64_t i = 0; i < nq; ++i) {
        int64_t at = j * nq + i;
        if ((valid < n && !ignore_nan) || valid == 0) {
          // NaN: the last entry of the sort, or (nothing but NaN, nanquantile) the first, as PyTorch
          lo[at] = hi[at] = valid == 0 && ignore_nan ? 0 : n - 1;
          w[at] = T(0);
          continue;
        }
        // The rank in the input's precision, as PyTorch computes it (0.1f * 10 is exactly 1).
        T rank = (T)qs[(size_t)i] * (T)(valid - 1);
        T below = std::floor(rank), above = std::ceil(rank);
        T weight = 0;
        switch (interpolation) {
          case Interpolation::Linear: weight = rank - below; break;
          case Interpolation::Lower: above = below; break;
          case Interpolation::Higher: below = above; break;
          case Interpolation::Midpoint: weight = below == above ? T(0) : T(0.5); break;
          case Interpolation::Nearest: below = above = std::nearbyint(rank); break;  // half to even
        }
        lo[at] = std::min<int64_t>((int64_t)below, valid - 1);
        hi[at] = std::min<int64_t>((int64_t)above, valid - 1);
        w[at] = weight;
      }
    });
  });
  Tensor below = gather(sorted, -1, lo_t), above = gather(sorted, -1, hi_t);
  // PyTorch's lerp: from the nearer end, so that weight 0 and 1 give the end values exactly.
  Tensor step = above - below;
  Tensor r = where(compare_scalar(w_t, 0.5, CmpOp::Lt), below + step * w_t,
                   above - step * (1.0 - w_t));  // [..., nq]
  bool q_dim = q.dim() == 1;
  if (q_dim) r = movedim(r, {r.dim() - 1}, {0});
  else r = reshape(r, without_dim(r.shape(), r.dim() - 1));
  if (!keepdim || a.dim() == 0) return r;
  if (!dim) {
    Dims s(q_dim ? 1 : 0, nq);
    for (int64_t i = 0; i < a.dim(); ++i) s.push_back(1);
    return reshape(r, s);
  }
  return unsqueeze(r, d + (q_dim ? 1 : 0));
}

}  // namespace cr
