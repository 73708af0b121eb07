// Indexing ops.
//
// Note [Indexing]
// x[items] runs in up to three steps, each a differentiable op of its own:
//   1. basic: ints, slices, None and Ellipsis give a view V of x (shared storage). Index tensors
//      keep their dims in V, untouched. Backward: zeros of x's shape with the gradient written into
//      the same view of them (BasicIndexBackward); the backward of that is basic indexing again.
//   2. advanced: the dims of V that carry index tensors are permuted to the front (V') and the
//      index tensors, broadcast to one shape B, pick rows of V': out[b, r] = V'[idx_1[b], ...,
//      idx_k[b], r]. Backward adds the gradient rows back at the same positions (index_add
//      semantics: repeated indices accumulate, in index order, so the result is deterministic).
//   3. placement: as in PyTorch and NumPy, when the index tensors sit on adjacent dims, the B dims
//      replace them in place (a permute); otherwise they lead the result.
// Ints are applied as basic selects first, as PyTorch does (x[0, :, idx] has shape [n1, len(idx)]).
#include "ops/index.h"
#include "ops/gather_loops.h"

#include <algorithm>
#include <cstring>
#include "core/parallel.h"
#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/shape.h"
#include "ops/views.h"

namespace cr {

namespace {

struct Geometry {
  Dims sizes, strides;
  int64_t offset = 0;
  std::vector<int64_t> adv_pos;  // dims of the view that carry an index tensor
  TensorList adv;                // int64 index tensors (unwrapped, unchecked), one per adv_pos
};

// True-positions of a bool mask (contiguous copy), one int64 1-D tensor per mask dim.
TensorList nonzero_columns(const Tensor& mask0) {
  Tensor mask = mask0.is_contiguous() ? mask0 : contiguous_copy(mask0);
  const bool* m = mask.data<bool>();
  int64_t n = mask.numel(), count = 0;
  for (int64_t i = 0; i < n; ++i) count += m[i] ? 1 : 0;
  int64_t nd = mask.dim();
  TensorList cols;
  for (int64_t d = 0; d < nd; ++d) cols.push_back(Tensor::empty(Dims{count}, DType::Int64));
  Dims idx((size_t)nd, 0);
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (m[i]) {
      for (int64_t d = 0; d < nd; ++d) cols[(size_t)d].data<int64_t>()[k] = idx[(size_t)d];
      ++k;
    }
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++idx[(size_t)d] < mask.shape()[(size_t)d]) break;
      idx[(size_t)d] = 0;
    }
  }
  return cols;
}

// Applies the basic part of `items` to x's geometry. With want_adv, index tensors are converted
// and recorded; without, they only keep their dims (used by backward, where only the view matters).
void basic_geometry(const Tensor& x, const IndexList& items, bool want_adv, Geometry& g) {
  const int64_t nd = x.dim();
  int64_t consumed = 0, ellipses = 0;
  for (const auto& it : items) {
    if (it.kind == IndexItem::Int || it.kind == IndexItem::Slice) consumed += 1;
    else if (it.kind == IndexItem::Tensor_)
      consumed += it.tensor.dtype() == DType::Bool ? it.tensor.dim() : 1;
    else if (it.kind == IndexItem::Ellipsis) ++ellipses;
  }
  if (ellipses > 1) throw IndexError("an index can only have a single ellipsis ('...')");
  if (consumed > nd)
    throw IndexError(str("too many indices for tensor of dimension ", nd, " (got ", consumed, ")"));
  const Dims& xs = x.shape();
  const Dims& xst = x.strides();
  g.sizes = Dims();
  g.strides = Dims();
  g.offset = x.offset();
  int64_t d = 0;
  for (size_t k = 0; k < items.size(); ++k) {
    const IndexItem& it = items[k];
    switch (it.kind) {
      case IndexItem::Int: {
        int64_t n = xs[(size_t)d], i = it.start;
        if (i < -n || i >= n)
          throw IndexError(str("index ", i, " is out of bounds for dimension ", d, " with size ", n));
        if (i < 0) i += n;
        g.offset += i * xst[(size_t)d];
        ++d;
        break;
      }
      case IndexItem::Slice: {
        int64_t n = xs[(size_t)d];
        if (it.step <= 0) throw ValueError("step must be greater than zero");
        int64_t start = it.has_start ? it.start : 0, stop = it.has_stop ? it.stop : n;
        if (start < 0) start += n;
        if (stop < 0) stop += n;
        start = std::min(std::max<int64_t>(start, 0), n);
        stop = std::min(std::max<int64_t>(stop, 0), n);
        int64_t len = stop > start ? (stop - start + it.step - 1) / it.step : 0;
        g.offset += start * xst[(size_t)d];
        g.sizes.push_back(len);
        g.strides.push_back(xst[(size_t)d] * it.step);
        ++d;
        break;
      }
      case IndexItem::None:
        g.sizes.push_back(1);
        g.strides.push_back(0);
        break;
      case IndexItem::Ellipsis:
        for (int64_t e = 0; e < nd - consumed; ++e, ++d) {
          g.sizes.push_back(xs[(size_t)d]);
          g.strides.push_back(xst[(size_t)d]);
        }
        break;
      case IndexItem::Tensor_: {
        const Tensor& t = it.tensor;
        if (t.dtype() == DType::Bool && t.dim() == 0) {
          // x[True] adds a dim of size 1, x[False] one of size 0 (picked by an index of that length).
          g.sizes.push_back(1);
          g.strides.push_back(0);
          if (want_adv) {
            Tensor i = zeros(Dims{*t.data<bool>() ? 1 : 0}, DType::Int64);
            g.adv_pos.push_back((int64_t)g.sizes.size() - 1);
            g.adv.push_back(i);
          }
          break;
        }
        if (t.dtype() == DType::Bool) {
          for (int64_t j = 0; j < t.dim(); ++j) {
            if (t.shape()[(size_t)j] != xs[(size_t)(d + j)]) {
              Dims sub(xs.begin() + d, xs.begin() + d + t.dim());
              throw IndexError(str("the shape of the mask ", t.shape(), " at index ", k,
                                   " does not match the shape of the indexed tensor ", sub, " (dims ", d,
                                   "..", d + t.dim() - 1, " of ", xs, ")"));
            }
          }
          TensorList cols;
          if (want_adv) cols = nonzero_columns(t);
          for (int64_t j = 0; j < t.dim(); ++j, ++d) {
            g.sizes.push_back(xs[(size_t)d]);
            g.strides.push_back(xst[(size_t)d]);
            if (want_adv) {
              g.adv_pos.push_back((int64_t)g.sizes.size() - 1);
              g.adv.push_back(cols[(size_t)j]);
            }
          }
          break;
        }
        g.sizes.push_back(xs[(size_t)d]);
        g.strides.push_back(xst[(size_t)d]);
        if (want_adv) {
          g.adv_pos.push_back((int64_t)g.sizes.size() - 1);
          g.adv.push_back(t);
        }
        ++d;
        break;
      }
    }
  }
  for (; d < nd; ++d) {
    g.sizes.push_back(xs[(size_t)d]);
    g.strides.push_back(xst[(size_t)d]);
  }
}

// A basic-index view (slices, ints, None, Ellipsis) and its gradient, itself differentiable.
// PyTorch names the node after the view: SelectBackward0 for one int, UnsqueezeBackward0 for one
// None, SliceBackward0 otherwise.
enum ViewKind { kSlice, kSelect, kUnsqueeze };
struct IndexView {
  IndexList items;
  ViewKind kind = kSlice;
};
Tensor basic_view(const Tensor& x, const IndexList& items, const Geometry& geo, ViewKind kind);
Tensor basic_view_backward(const Tensor& g, const Dims& in_shape, const IndexList& items, ViewKind kind);

Tensor index_view_grad(const GradArgs<0, IndexView>& d) {
  return basic_view_backward(d.grad, d.input_shape(0), d.attrs.items, d.attrs.kind);
}
// The gradient of the gradient: the same view of the incoming gradient.
Tensor index_view_grad_grad(const GradArgs<0, IndexView>& d) {
  Geometry geo;
  basic_geometry(d.grad, d.attrs.items, false, geo);
  return basic_view(d.grad, d.attrs.items, geo, d.attrs.kind);
}
const Derivative<1, 0, IndexView> index_view_grads[] = {{"SliceBackward0", {"self"}, {index_view_grad}},
                                                        {"SelectBackward0", {"self"}, {index_view_grad}},
                                                        {"UnsqueezeBackward0", {"self"}, {index_view_grad}}};
const Derivative<1, 0, IndexView> index_view_grad_grads[] = {
    {"SliceBackward0Backward", {"grad_output"}, {index_view_grad_grad}},
    {"SelectBackward0Backward", {"grad_output"}, {index_view_grad_grad}},
    {"UnsqueezeBackward0Backward", {"grad_output"}, {index_view_grad_grad}}};

// The view of x that the basic part of `items` names, recorded as a differentiable op.
Tensor basic_view(const Tensor& x, const IndexList& items, const Geometry& geo, ViewKind kind) {
  Tensor out = make_view(x, geo.sizes, geo.strides, geo.offset);
  if (auto* n = record(index_view_grads[kind], {x}, out)) n->attrs = IndexView{items, kind};
  return out;
}

// zeros(in_shape) with g written into the view `items` names.
Tensor basic_view_backward(const Tensor& g, const Dims& in_shape, const IndexList& items, ViewKind kind) {
  Tensor z = zeros(in_shape, g.dtype());
  Geometry geo;
  basic_geometry(z, items, false, geo);
  copy_into(make_view(z, geo.sizes, geo.strides, geo.offset), g);
  if (auto* n = record(index_view_grad_grads[kind], {g}, z)) n->attrs = IndexView{items, kind};
  return z;
}

// ---- advanced indexing on leading dims ------------------------------------------------------------

// Element offsets (row-major order) of the trailing dims [k, ndim) of a tensor geometry.
std::vector<int64_t> trailing_offsets(const Dims& sizes, const Dims& strides, size_t k) {
  int64_t n = 1;
  for (size_t d = k; d < sizes.size(); ++d) n *= sizes[d];
  std::vector<int64_t> offs((size_t)n);
  if (n == 0) return offs;
  size_t nd = sizes.size() - k;
  Dims idx(nd, 0);
  int64_t cur = 0;
  for (int64_t i = 0; i < n; ++i) {
    offs[(size_t)i] = cur;
    for (size_t d = nd; d-- > 0;) {
      cur += strides[k + d];
      if (++idx[d] < sizes[k + d]) break;
      cur -= strides[k + d] * sizes[k + d];
      idx[d] = 0;
    }
  }
  return offs;
}

// Offsets (in elements) of the rows that the index tensors (contiguous int64, wrapped, shape B) pick.
std::vector<int64_t> row_offsets(const TensorList& idx, const Dims& strides) {
  int64_t nb = idx.empty() ? 1 : idx[0].numel();
  std::vector<int64_t> offs((size_t)nb, 0);
  for (size_t j = 0; j < idx.size(); ++j) {
    const int64_t* p = idx[j].data<int64_t>();
    int64_t s = strides[j];
    for (int64_t b = 0; b < nb; ++b) offs[(size_t)b] += p[b] * s;
  }
  return offs;
}

Tensor index_gather(const Tensor& src, const TensorList& idx);
Tensor index_scatter_add(const Tensor& g, const Dims& src_shape, const TensorList& idx);

// Advanced indexing: gather rows, and its gradient, scatter-add them back (itself differentiable).
struct Indices {
  TensorList idx;
};  // prepared: contiguous int64, wrapped, one shape
const Derivative<1, 0, Indices> index_grad{"IndexBackward0", {"self"}, {[](const auto& d) {
                                             return index_scatter_add(d.grad, d.input_shape(0), d.attrs.idx);
                                           }}};
const Derivative<1, 0, Indices> index_put_grad{
    "IndexPutBackward0", {"values"}, {[](const auto& d) { return index_gather(d.grad, d.attrs.idx); }}};

// out[b, r...] = src[idx_0[b], ..., idx_{k-1}[b], r...]; idx contiguous int64 of one shape B,
// already wrapped and bounds-checked against src's leading dims.
Tensor index_gather(const Tensor& src, const TensorList& idx) {
  const size_t k = idx.size();
  Dims out_shape = idx[0].shape();
  for (size_t d = k; d < (size_t)src.dim(); ++d) out_shape.push_back(src.shape()[d]);
  Tensor out = Tensor::empty(out_shape, src.dtype());
  std::vector<int64_t> roff = trailing_offsets(src.shape(), src.strides(), k);
  std::vector<int64_t> boff = row_offsets(idx, src.strides());
  const int64_t nr = (int64_t)roff.size(), nb = (int64_t)boff.size();
  dispatch_all(src.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* s = src.data<T>();
    T* o = out.data<T>();
    bool contiguous_rows = true;
    for (int64_t r = 0; r < nr; ++r)
      if (roff[(size_t)r] != r) {
        contiguous_rows = false;
        break;
      }
    parallel_for(0, nb, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(nr, 1)),
                 [&](int64_t b0, int64_t b1) {
                   for (int64_t b = b0; b < b1; ++b) {
                     const T* row = s + boff[(size_t)b];
                     T* dst = o + b * nr;
                     if (contiguous_rows) std::memcpy(dst, row, (size_t)nr * sizeof(T));
                     else
                       for (int64_t r = 0; r < nr; ++r) dst[r] = row[roff[(size_t)r]];
                   }
                 });
  });
  if (auto* n = record(index_grad, {src}, out)) n->attrs.idx = idx;
  return out;
}

// zeros(src_shape) with g's rows added at the rows idx names, in index order (deterministic).
Tensor index_scatter_add(const Tensor& g0, const Dims& src_shape, const TensorList& idx) {
  Tensor out = zeros(src_shape, g0.dtype());
  Tensor g = g0.is_contiguous() ? g0 : contiguous_copy(g0);
  std::vector<int64_t> boff = row_offsets(idx, out.strides());
  int64_t nr = 1;
  for (size_t d = idx.size(); d < src_shape.size(); ++d) nr *= src_shape[d];
  const int64_t nb = (int64_t)boff.size();
  dispatch_all(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* s = g.data<T>();
    T* o = out.data<T>();
    // Threads split the row elements; each walks every index in order, so sums never race and
    // always add in the same order.
    parallel_for(0, nr, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(nb, 1)),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t b = 0; b < nb; ++b) {
                     T* dst = o + boff[(size_t)b];
                     const T* row = s + b * nr;
                     for (int64_t r = r0; r < r1; ++r) {
                       if constexpr (std::is_same_v<T, bool>) dst[r] = dst[r] || row[r];
                       else dst[r] += row[r];
                     }
                   }
                 });
  });
  if (auto* n = record(index_put_grad, {g0}, out)) n->attrs.idx = idx;
  return out;
}

// Broadcasts the index tensors to one shape, wraps negatives and checks bounds against `sizes`.
TensorList prepare_indices(const TensorList& adv, const std::vector<int64_t>& sizes,
                           const std::vector<int64_t>& dims_for_msg) {
  Dims b = adv[0].shape();
  for (size_t j = 1; j < adv.size(); ++j) {
    try {
      b = broadcast_shapes(b, adv[j].shape(), "index");
    } catch (const ShapeError&) {
      std::string shapes;
      for (size_t i = 0; i < adv.size(); ++i) shapes += str(i ? ", " : "", adv[i].shape());
      throw IndexError(
          str("shape mismatch: indexing tensors could not be broadcast together with shapes ", shapes));
    }
  }
  TensorList out;
  for (size_t j = 0; j < adv.size(); ++j) {
    Tensor t = adv[j];
    if (t.dtype() != DType::Int64)
      throw IndexError(
          str("tensors used as indices must be long or bool tensors, got ", dtype_name(t.dtype())));
    Tensor c = Tensor::empty(b, DType::Int64);
    copy_into(c, t);
    int64_t* p = c.data<int64_t>();
    const int64_t n = sizes[j], cnt = c.numel();
    for (int64_t i = 0; i < cnt; ++i) {
      int64_t v = p[i];
      if (v < -n || v >= n)
        throw IndexError(
            str("index ", v, " is out of bounds for dimension ", dims_for_msg[j], " with size ", n));
      if (v < 0) p[i] = v + n;
    }
    out.push_back(c);
  }
  return out;
}

ViewKind view_kind(const IndexList& items) {
  size_t n_int = 0, n_none = 0, n_other = 0;
  for (const auto& it : items) {
    if (it.kind == IndexItem::Int) ++n_int;
    else if (it.kind == IndexItem::None) ++n_none;
    else if (it.kind == IndexItem::Slice && (it.has_start || it.has_stop || it.step != 1)) ++n_other;
  }
  if (n_int == 1 && n_none == 0 && n_other == 0) return kSelect;
  if (n_none == 1 && n_int == 0 && n_other == 0) return kUnsqueeze;
  return kSlice;
}

// The layout of an advanced index: V' = permute(V, perm) has the indexed dims first; the result
// [B, R] is permuted by `out_perm` (empty: identity) to place B.
struct AdvancedPlan {
  std::vector<int64_t> perm;  // empty: identity
  std::vector<int64_t> out_perm;
  TensorList idx;             // prepared index tensors (shape B)
};

AdvancedPlan plan_advanced(const Geometry& geo) {
  AdvancedPlan p;
  const size_t k = geo.adv_pos.size();
  const int64_t nd = (int64_t)geo.sizes.size();
  std::vector<int64_t> sizes;
  for (auto pos : geo.adv_pos) sizes.push_back(geo.sizes[(size_t)pos]);
  p.idx = prepare_indices(geo.adv, sizes, geo.adv_pos);
  bool adjacent = true;
  for (size_t j = 1; j < k; ++j)
    if (geo.adv_pos[j] != geo.adv_pos[j - 1] + 1) adjacent = false;
  std::vector<int64_t> perm(geo.adv_pos.begin(), geo.adv_pos.end());
  for (int64_t d = 0; d < nd; ++d)
    if (std::find(geo.adv_pos.begin(), geo.adv_pos.end(), d) == geo.adv_pos.end()) perm.push_back(d);
  bool identity = true;
  for (int64_t d = 0; d < nd; ++d)
    if (perm[(size_t)d] != d) identity = false;
  if (!identity) p.perm = perm;
  int64_t first = geo.adv_pos[0];
  if (adjacent && first > 0) {
    const int64_t nb = p.idx[0].dim(), out_nd = nb + nd - (int64_t)k;
    for (int64_t d = 0; d < first; ++d) p.out_perm.push_back(nb + d);
    for (int64_t d = 0; d < nb; ++d) p.out_perm.push_back(d);
    for (int64_t d = nb + first; d < out_nd; ++d) p.out_perm.push_back(d);
  }
  return p;
}

bool is_identity_view(const Tensor& x, const Geometry& geo) {
  return geo.sizes == x.shape() && geo.strides == x.strides() && geo.offset == x.offset();
}

}  // namespace

Tensor index(const Tensor& x, const IndexList& items) {
  Geometry geo;
  basic_geometry(x, items, true, geo);
  Tensor v = (!geo.adv.empty() && is_identity_view(x, geo)) ? x : basic_view(x, items, geo, view_kind(items));
  if (geo.adv.empty()) return v;
  AdvancedPlan plan = plan_advanced(geo);
  if (!plan.perm.empty()) v = permute(v, plan.perm);
  Tensor out = index_gather(v, plan.idx);
  if (!plan.out_perm.empty()) out = permute(out, plan.out_perm);
  return out;
}

namespace {

// value (leading size-1 dims beyond the target's rank dropped, differentiably) checked to
// broadcast to `target`, as PyTorch's setitem and index_put_ do.
Tensor fit_value(const Tensor& value, const Dims& target, const char* op) {
  Tensor val = value;
  size_t lead = 0;
  while (val.dim() - (int64_t)lead > (int64_t)target.size() && val.shape()[lead] == 1) ++lead;
  if (lead > 0) val = reshape(val, Dims(val.shape().begin() + (int64_t)lead, val.shape().end()));
  Dims b;
  bool ok = val.dim() <= (int64_t)target.size();
  if (ok) {
    try {
      b = broadcast_shapes(target, val.shape(), op);
    } catch (const ShapeError&) { ok = false; }
  }
  if (!ok || b != target)
    throw ShapeError(str(op, ": shape mismatch: value tensor of shape ", value.shape(),
                         " cannot be broadcast to indexing result of shape ", target));
  return val;
}

// dst (the view with the indexed dims first) [idx[b], r] = src[b, r] (or += with accumulate); src
// contiguous [B, R] in dst's dtype. Repeated indices: the last one wins, or all add up in index
// order; threads split the row elements, so the result never depends on the thread count.
void scatter_rows(const Tensor& dst, const TensorList& idx, const Tensor& src, bool accumulate) {
  std::vector<int64_t> roff = trailing_offsets(dst.shape(), dst.strides(), idx.size());
  std::vector<int64_t> boff = row_offsets(idx, dst.strides());
  const int64_t nr = (int64_t)roff.size(), nb = (int64_t)boff.size();
  dispatch_all(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* s = src.data<T>();
    T* o = dst.data<T>();
    parallel_for(0, nr, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(nb, 1)),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t b = 0; b < nb; ++b)
                     for (int64_t r = r0; r < r1; ++r) {
                       T& d = o[boff[(size_t)b] + roff[(size_t)r]];
                       const T v = s[b * nr + r];
                       if (!accumulate) d = v;
                       else if constexpr (std::is_same_v<T, bool>) d = d || v;
                       else d = static_cast<T>(d + v);
                     }
                 });
  });
}

// An advanced index_put: the plan, the shape of the indexed result, and accumulate.
struct PutPlan {
  AdvancedPlan plan;
  Dims result_shape;
  bool accumulate = false;
};

// The indexed result's shape [B, R] (before out_perm) for a view of shape `sizes`.
Dims indexed_shape(const AdvancedPlan& plan, const Dims& sizes, Dims* unpermuted) {
  std::vector<int64_t> perm = plan.perm;
  Dims br = plan.idx[0].shape();
  const size_t k = plan.idx.size();
  for (size_t d = k; d < sizes.size(); ++d) br.push_back(sizes[perm.empty() ? d : (size_t)perm[d]]);
  if (unpermuted) *unpermuted = br;
  Dims result = br;
  if (!plan.out_perm.empty())
    for (size_t d = 0; d < br.size(); ++d) result[d] = br[(size_t)plan.out_perm[d]];
  return result;
}

// val broadcast to the result shape, brought to [B, R] order, contiguous, in dtype (no history).
Tensor rows_of(const Tensor& val, const PutPlan& p, DType dtype) {
  NoGradGuard ng;
  Tensor v = make_view(val, p.result_shape, broadcast_strides(val, p.result_shape), val.offset());
  if (!p.plan.out_perm.empty()) {
    std::vector<int64_t> inv(p.plan.out_perm.size());
    for (size_t d = 0; d < inv.size(); ++d) inv[(size_t)p.plan.out_perm[d]] = (int64_t)d;
    v = permute(v, inv);
  }
  return contiguous_copy_as(v, dtype);
}

Tensor index_put_out(const Tensor& self, const PutPlan& p, const Tensor& val);

// The indexed entries of g (shape of the indexed result): advanced indexing with the plan.
Tensor gather_plan(const Tensor& g, const AdvancedPlan& plan) {
  Tensor t = plan.perm.empty() ? g : permute(g, plan.perm);
  Tensor out = index_gather(t, plan.idx);
  return plan.out_perm.empty() ? out : permute(out, plan.out_perm);
}

const Derivative<2, 0, PutPlan> index_put_full_grad{
    "IndexPutBackward0",
    {"self", "values"},
    {[](const auto& d) {
       // Written entries lose their gradient (accumulate keeps it: they still add self's value).
       if (d.attrs.accumulate) return d.grad;
       PutPlan zero = d.attrs;
       return index_put_out(d.grad, zero, scalar_tensor(0.0, d.grad.dtype()));
     },
     [](const auto& d) { return gather_plan(d.grad, d.attrs.plan); }}};

// self with the plan's entries set to (or, accumulating, increased by) val: out of place, recorded.
Tensor index_put_out(const Tensor& self, const PutPlan& p, const Tensor& val) {
  Tensor out = contiguous_copy(self);
  Tensor dst = out;
  if (!p.plan.perm.empty()) {
    NoGradGuard ng;
    dst = permute(out, p.plan.perm);
  }
  scatter_rows(dst, p.plan.idx, rows_of(val, p, out.dtype()), p.accumulate);
  if (auto* n = record(index_put_full_grad, {self, val}, out)) n->attrs = p;
  return out;
}

}  // namespace

void index_put_(const Tensor& x, const IndexList& items, const Tensor& value0, bool accumulate,
                const char* op) {
  Geometry geo;
  basic_geometry(x, items, true, geo);
  // A value aliasing x (x[1:] = x[:-1]) is copied first, so the write never reads what it wrote.
  Tensor value = value0.storage() == x.storage() ? clone(value0) : value0;
  if (geo.adv.empty()) {
    // Basic indexing writes through a view of x, as PyTorch's x[i].copy_(v): on a tensor that
    // requires grad, x's history is rebased (Note [Views and in-place ops]).
    Tensor val = fit_value(value, geo.sizes, op);
    Tensor v = basic_view(x, items, geo, view_kind(items));
    if (accumulate) add_(v, val);
    else copy_(v, val);
    return;
  }
  Tensor v = is_identity_view(x, geo) ? x : basic_view(x, items, geo, view_kind(items));
  PutPlan p;
  p.plan = plan_advanced(geo);
  p.accumulate = accumulate;
  p.result_shape = indexed_shape(p.plan, v.shape(), nullptr);
  Tensor val = fit_value(value, p.result_shape, op);
  if (check_inplace(v, val, op)) {
    Tensor r = index_put_out(v, p, val.dtype() == x.dtype() ? val : to_dtype(val, x.dtype()));
    copy_into(v, r);
    x.storage()->bump_version();
    rebase_history(v, r);
    return;
  }
  Tensor dst = v;
  if (!p.plan.perm.empty()) {
    NoGradGuard ng;
    dst = permute(v, p.plan.perm);
  }
  scatter_rows(dst, p.plan.idx, rows_of(val, p, x.dtype()), accumulate);
  x.storage()->bump_version();
}

Tensor index_put(const Tensor& x, const IndexList& items, const Tensor& values, bool accumulate) {
  Geometry geo;
  basic_geometry(x, items, true, geo);
  if (geo.adv.empty() || !is_identity_view(x, geo)) {
    Tensor out = clone(x);
    index_put_(out, items, values, accumulate, "index_put");
    return out;
  }
  PutPlan p;
  p.plan = plan_advanced(geo);
  p.accumulate = accumulate;
  p.result_shape = indexed_shape(p.plan, x.shape(), nullptr);
  return index_put_out(x, p, fit_value(values, p.result_shape, "index_put"));
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t stop, int64_t step) {
  int64_t d = wrap_dim(dim, x.dim(), "slice");
  if (x.dim() == 0) throw IndexError("slice() cannot be applied to a 0-dim tensor");
  IndexList items((size_t)d, IndexItem::slice(false, 0, false, 0, 1));
  items.push_back(IndexItem::slice(true, start, true, stop, step));
  Geometry geo;
  basic_geometry(x, items, false, geo);
  return basic_view(x, items, geo, kSlice);
}

Tensor select(const Tensor& x, int64_t dim, int64_t i) {
  if (x.dim() == 0) throw IndexError("select() cannot be applied to a 0-dim tensor");
  int64_t d = wrap_dim(dim, x.dim(), "select");
  IndexList items((size_t)d, IndexItem::slice(false, 0, false, 0, 1));
  items.push_back(IndexItem::integer(i));
  Geometry geo;
  basic_geometry(x, items, false, geo);
  return basic_view(x, items, geo, kSelect);
}

// ---- gather / scatter_add --------------------------------------------------------------------------
namespace {

struct GatherDim {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  int64_t dim = 0;
};
const Derivative<1, 1, GatherDim> gather_grad{
    "GatherBackward0",
    {"self"},
    {[](const auto& d) { return scatter_add_into_zeros(d.grad, d.input_shape(0), d.attrs.dim, d.saved[0]); }},
    {{{"index"}}}};
const Derivative<1, 1, GatherDim> gather_backward_grad{
    "ScatterAddBackward0",
    {"src"},
    {[](const auto& d) { return gather(d.grad, d.attrs.dim, d.saved[0]); }},
    {{{"index"}}}};

}  // namespace

Tensor gather(const Tensor& x, int64_t dim0, const Tensor& index) {
  int64_t dim = wrap_dim(dim0, x.dim(), "gather");
  check_gather_shapes(x.shape(), dim, index, "gather");
  Tensor out = Tensor::empty(index.shape(), x.dtype());
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* s = x.data<T>();
    T* o = out.data<T>();
    for_each_gather(index, dim, x.shape(), x.strides(), "gather",
                    [&](int64_t i, int64_t off) { o[i] = s[off]; });
  });
  if (auto* n = record(gather_grad, {x}, out, {index})) n->attrs.dim = dim;
  return out;
}

Tensor scatter_add_into_zeros(const Tensor& src0, const Dims& shape, int64_t dim0, const Tensor& index) {
  int64_t dim = wrap_dim(dim0, (int64_t)shape.size(), "scatter_add");
  check_gather_shapes(shape, dim, index, "scatter_add");
  Tensor out = zeros(shape, src0.dtype());
  Tensor src = src0.is_contiguous() ? src0 : contiguous_copy(src0);
  if (src.shape() != index.shape())
    throw ShapeError(
        str("scatter_add(): src of shape ", src.shape(), " must match the index shape ", index.shape()));
  dispatch_numeric(src.dtype(), "scatter_add", [&](auto tag) {
    using T = decltype(tag);
    const T* s = src.data<T>();
    T* o = out.data<T>();
    for_each_gather(index, dim, shape, out.strides(), "scatter_add",
                    [&](int64_t i, int64_t off) { o[off] += s[i]; });
  });
  if (auto* n = record(gather_backward_grad, {src0}, out, {index})) n->attrs.dim = dim;
  return out;
}

Tensor index_select(const Tensor& x, int64_t dim0, const Tensor& index) {
  if (index.dtype() != DType::Int64)
    throw TypeError(str("index_select(): expected an int64 index tensor, got ", dtype_name(index.dtype())));
  if (index.dim() > 1)
    throw ShapeError(str("index_select(): index is supposed to be a vector, got shape ", index.shape()));
  if (x.dim() == 0) {
    wrap_dim(dim0, 0, "index_select");
    Tensor v = reshape(x, Dims{1});
    return reshape(index_select(v, 0, index), Dims{});
  }
  int64_t dim = wrap_dim(dim0, x.dim(), "index_select");
  Tensor idx = index.dim() == 0 ? reshape(index, Dims{1}) : index;
  {
    // index_select (and so nn.Embedding) takes indices in [0, size), as PyTorch: no wrapping.
    const int64_t size = x.shape()[(size_t)dim];
    Tensor ic = idx.is_contiguous() ? idx : contiguous_copy(idx);
    const int64_t* p = ic.data<int64_t>();
    for (int64_t i = 0, n = ic.numel(); i < n; ++i)
      if (p[i] < 0 || p[i] >= size)
        throw IndexError(str("index_select(): index ", p[i], " is out of bounds for dimension ", dim,
                             " with size ", size));
  }
  TensorList prepared = prepare_indices({idx}, {x.shape()[(size_t)dim]}, {dim});
  std::vector<int64_t> perm{dim};
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d != dim) perm.push_back(d);
  Tensor v = dim == 0 ? x : permute(x, perm);
  Tensor out = index_gather(v, prepared);
  if (dim == 0) return out;
  std::vector<int64_t> back;
  for (int64_t d = 1; d <= dim; ++d) back.push_back(d);
  back.push_back(0);
  for (int64_t d = dim + 1; d < x.dim(); ++d) back.push_back(d);
  // back maps result position -> out dim: [1..dim, 0, dim+1..]
  return permute(out, back);
}

// ---- masked_fill -----------------------------------------------------------------------------------
namespace {
struct Mask {
  Tensor mask;
};  // detached: never part of a graph
const Derivative<1, 0, Mask> masked_fill_grad{
    "MaskedFillBackward0", {"self"}, {[](const auto& d) { return masked_fill(d.grad, d.attrs.mask, 0.0); }}};
}  // namespace

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  if (mask.dtype() != DType::Bool)
    throw TypeError(str("masked_fill(): expected a bool mask, got ", dtype_name(mask.dtype())));
  // Out of place, input and mask broadcast together (the result may be larger than the input), as
  // PyTorch; the gradient is summed back to the input's shape.
  Dims b = broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
  Tensor out = dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T v = static_cast<T>(value);
    return map_binary<T, bool, T>(x, mask, b, [v](T a, bool m) { return m ? v : a; });
  });
  if (auto* n = record(masked_fill_grad, {x}, out)) n->attrs.mask = detach(mask);
  return out;
}

}  // namespace cr
