// Writes at indexed positions, out of place (the in-place forms are bound through assign_with_):
// scatter (src or value, optional add/multiply), scatter_add, scatter_reduce (sum, prod, mean,
// amax, amin), index_add/index_copy/index_fill, masked_fill with a tensor value, masked_scatter,
// masked_select, and nonzero. Duplicate indices are applied in row-major order of the index, so
// results (and gradients) are the same for every thread count.
#include "ops/scatter.h"

#include <algorithm>
#include <limits>

#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/elementwise.h"
#include "ops/elementwise_kernels.h"
#include "ops/gather_loops.h"
#include "ops/index.h"
#include "ops/operators.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace cr {

namespace {

enum class Reduce { None, Sum, Prod, Mean, Amax, Amin };

Reduce parse_reduce(const std::string& r, bool scatter_reduce_names, const char* op) {
  if (!scatter_reduce_names) {
    if (r == "add") return Reduce::Sum;
    if (r == "multiply") return Reduce::Prod;
    throw ValueError(str(op, ": reduce argument must be either 'add' or 'multiply', got '", r, "'"));
  }
  if (r == "sum") return Reduce::Sum;
  if (r == "prod") return Reduce::Prod;
  if (r == "mean") return Reduce::Mean;
  if (r == "amax") return Reduce::Amax;
  if (r == "amin") return Reduce::Amin;
  throw ValueError(
      str(op, ": reduce argument must be one of 'sum', 'prod', 'mean', 'amax', 'amin', got '", r, "'"));
}

/// src restricted to the index's shape, contiguous, in x's dtype (PyTorch lets src be larger).
Tensor src_for(const Tensor& src, const Tensor& index, DType dt, const char* op) {
  if (src.dim() != index.dim() && !(src.dim() <= 1 && index.dim() <= 1))
    throw ShapeError(str(op, ": index tensor must have the same number of dimensions as the src tensor (",
                         index.dim(), " vs ", src.dim(), ")"));
  Tensor s = src;
  for (int64_t d = 0; d < index.dim(); ++d) {
    if (index.shape()[d] > (d < src.dim() ? src.shape()[d] : 1))
      throw ShapeError(str(op, ": expected index ", index.shape(), " to be smaller than src ", src.shape(),
                           " at dimension ", d));
    if (s.dim() > 0 && s.shape()[d] != index.shape()[d]) s = slice(s, d, 0, index.shape()[d], 1);
  }
  if (s.dim() != index.dim()) s = reshape(s, index.shape());
  return contiguous_copy_as(s, dt);
}

/// The kernel: out = a copy of x, then each src entry combined into the position the index names.
/// `src` undefined: `value` everywhere. Mean divides by the count of contributions (plus one with
/// include_self); without include_self, positions that receive anything start from scratch.
Tensor scatter_kernel(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src0, double value,
                      Reduce reduce, bool include_self, const char* op) {
  check_gather_shapes(x.shape(), dim, index, op);
  if (reduce != Reduce::None && x.dtype() == DType::Bool && reduce != Reduce::Amax && reduce != Reduce::Amin)
    throw TypeError(str(op, ": reduction not supported for bool tensors"));
  Tensor out = contiguous_copy(x);
  Tensor src = src0.defined() ? src_for(src0, index, x.dtype(), op) : Tensor();
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    const T* s = src.defined() ? src.data<T>() : nullptr;
    const T v = static_cast<T>(value);
    auto val = [&](int64_t i) { return s ? s[i] : v; };
    if (reduce == Reduce::None) {
      for_each_gather(index, dim, out.shape(), out.strides(), op,
                      [&](int64_t i, int64_t off) { o[off] = val(i); });
      return;
    }
    std::vector<int64_t> count;
    std::vector<char> touched;
    if (reduce == Reduce::Mean) count.assign((size_t)out.numel(), include_self ? 1 : 0);
    if (!include_self) touched.assign((size_t)out.numel(), 0);
    for_each_gather(index, dim, out.shape(), out.strides(), op, [&](int64_t i, int64_t off) {
      T y = val(i);
      if (!include_self && !touched[(size_t)off]) {
        touched[(size_t)off] = 1;
        o[off] = reduce == Reduce::Mean ? T(0) : y;
        if (reduce != Reduce::Mean) return;
      }
      if constexpr (std::is_same_v<T, bool>) {
        if (reduce == Reduce::Amax) o[off] = o[off] || y;
        else if (reduce == Reduce::Amin) o[off] = o[off] && y;
        else o[off] = y;
      } else {
        switch (reduce) {
          case Reduce::Sum:
          case Reduce::Mean: o[off] = static_cast<T>(o[off] + y); break;
          case Reduce::Prod: o[off] = static_cast<T>(o[off] * y); break;
          case Reduce::Amax: o[off] = (y > o[off] || y != y) && o[off] == o[off] ? y : o[off]; break;
          case Reduce::Amin: o[off] = (y < o[off] || y != y) && o[off] == o[off] ? y : o[off]; break;
          default: break;
        }
      }
      if (reduce == Reduce::Mean) ++count[(size_t)off];
    });
    if (reduce == Reduce::Mean) {
      if constexpr (!std::is_same_v<T, bool>) {
        for (int64_t k = 0; k < out.numel(); ++k)
          if (count[(size_t)k] > 0) {
            if constexpr (std::is_floating_point_v<T>) o[k] = o[k] / static_cast<T>(count[(size_t)k]);
            else {  // integer mean rounds toward negative infinity, as PyTorch's floor division
              T c = static_cast<T>(count[(size_t)k]), q = o[k] / c;
              if ((o[k] % c != 0) && ((o[k] < 0) != (c < 0))) --q;
              o[k] = q;
            }
          }
      }
    }
  });
  return out;
}

/// g (the gradient of the part of src the index covers) padded with zeros to src's shape.
Tensor pad_to(Tensor g, const Dims& shape) {
  for (int64_t d = 0; d < g.dim(); ++d) {
    int64_t extra = shape[(size_t)d] - g.shape()[(size_t)d];
    if (extra <= 0) continue;
    Dims z = g.shape();
    z[(size_t)d] = extra;
    g = cat({g, zeros(z, g.dtype())}, d);
  }
  return g;
}

/// Where scatter wrote: a bool tensor of x's shape.
Tensor scattered_mask(const Dims& shape, int64_t dim, const Tensor& index) {
  Tensor m = zeros(shape, DType::Bool);
  bool* p = m.data<bool>();
  for_each_gather(index, dim, shape, m.strides(), "scatter", [&](int64_t, int64_t off) { p[off] = true; });
  return m;
}

struct ScatterAttrs {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  int64_t dim = 0;
  Reduce reduce = Reduce::Sum;
  bool include_self = true;
  double alpha = 1.0;
};

// scatter(self, dim, index, src): the overwritten positions lose self's gradient; src gets the
// gradient at the positions it was written to.
const Derivative<2, 1, ScatterAttrs> scatter_grad{
    "ScatterBackward0",
    {"self", "src"},
    {[](const auto& d) { return scatter_value(d.grad, d.attrs.dim, d.saved[0], 0.0); },
     [](const auto& d) { return pad_to(gather(d.grad, d.attrs.dim, d.saved[0]), d.input_shape(1)); }},
    {{{"index"}}}};
const Derivative<1, 1, ScatterAttrs> scatter_value_grad{
    "ScatterBackward1",
    {"self"},
    {[](const auto& d) { return scatter_value(d.grad, d.attrs.dim, d.saved[0], 0.0); }},
    {{{"index"}}}};
const Derivative<2, 1, ScatterAttrs> scatter_add_grad{
    "ScatterAddBackward0",
    {"self", "src"},
    {[](const auto& d) { return d.grad; },
     [](const auto& d) { return pad_to(gather(d.grad, d.attrs.dim, d.saved[0]), d.input_shape(1)); }},
    {{{"index"}}}};
// scatter(..., reduce="add"/"multiply"): recorded, but its backward is not implemented (as PyTorch).
[[noreturn]] Tensor legacy_reduce_backward() {
  throw AutogradError(
      "scatter(): the derivative of the reduce= forms is not implemented; use scatter_reduce");
}
const Derivative<2, 0, ScatterAttrs> scatter_legacy_reduce_grad{
    "ScatterBackward0",
    {"self", "src"},
    {[](const auto&) -> Tensor { legacy_reduce_backward(); },
     [](const auto&) -> Tensor { legacy_reduce_backward(); }}};

// scatter_reduce: PyTorch's rules. sum: as scatter_add; mean: each contribution gets grad / count;
// amax/amin: the gradient is shared evenly among the entries equal to the result; prod: the
// product of the others (zeros handled without dividing by them).
Tensor no_self_where_scattered(const Tensor& g, const ScatterAttrs& a, const Tensor& index) {
  if (a.include_self) return g;
  return where(scattered_mask(g.shape(), a.dim, index), zero_like_scalar(g), g);
}

std::pair<Tensor, Tensor> scatter_reduce_backward(const Tensor& grad, const Tensor& self, const Tensor& index,
                                                  const Tensor& src, const Tensor& result,
                                                  const ScatterAttrs& a) {
  const int64_t dim = a.dim;
  switch (a.reduce) {
    case Reduce::Sum: return {no_self_where_scattered(grad, a, index), gather(grad, dim, index)};
    case Reduce::Mean: {
      Tensor n = a.include_self ? full(grad.shape(), 1.0, grad.dtype()) : zeros(grad.shape(), grad.dtype());
      n = scatter_kernel(n, dim, index, full(index.shape(), 1.0, grad.dtype()), 0, Reduce::Sum, true,
                         "scatter_reduce");
      n = masked_fill(n, eq(n, 0.0), 1.0);
      Tensor g = grad / n;
      return {no_self_where_scattered(g, a, index), gather(g, dim, index)};
    }
    case Reduce::Amax:
    case Reduce::Amin: {
      Tensor value = gather(result, dim, index);
      Tensor self_is = to_dtype(eq(self, result), grad.dtype());
      if (!a.include_self) self_is = no_self_where_scattered(self_is, a, index);
      Tensor src_is = to_dtype(eq(src_for(src, index, src.dtype(), "scatter_reduce"), value), grad.dtype());
      Tensor n = scatter_kernel(self_is, dim, index, src_is, 0, Reduce::Sum, true, "scatter_reduce");
      Tensor g = grad / n;
      return {self_is * g, src_is * gather(g, dim, index)};
    }
    case Reduce::Prod: {
      Tensor masked_self = masked_fill(self, eq(self, 0.0), 1.0);
      Tensor masked_self_result = scatter_reduce(masked_self, dim, index, src, "prod", a.include_self);
      Tensor grad_self = no_self_where_scattered(grad * masked_self_result / masked_self, a, index);
      Tensor s = src_for(src, index, src.dtype(), "scatter_reduce");
      Tensor src_zero = eq(s, 0.0);
      Tensor zeros_per_slot =
          scatter_kernel(zeros(self.shape(), grad.dtype()), dim, index, to_dtype(src_zero, grad.dtype()), 0,
                         Reduce::Sum, true, "scatter_reduce");
      Tensor single_zero = src_zero & eq(gather(zeros_per_slot, dim, index), 1.0);
      Tensor masked_src = masked_fill(s, single_zero, 1.0);
      Tensor masked_src_result = scatter_reduce(self, dim, index, masked_src, "prod", a.include_self);
      Tensor grad_src = where(single_zero, gather(grad * masked_src_result, dim, index),
                              gather(grad * result, dim, index) / masked_fill(s, src_zero, 1.0));
      return {grad_self, grad_src};
    }
    default: throw ValueError("scatter_reduce: unknown reduction");
  }
}

const Derivative<2, 4, ScatterAttrs> scatter_reduce_grad{
    "ScatterReduceBackward0",
    {"self", "src"},
    {},
    {{{"self"}, {"src"}, {"result"}, {"index"}}},
    [](const auto& d) {
      auto [gs, gsrc] =
          scatter_reduce_backward(d.grad, d.saved[0], d.saved[3], d.saved[1], d.saved[2], d.attrs);
      return TensorList{gs, d.needs(1) ? pad_to(gsrc, d.input_shape(1)) : gsrc};
    }};

// index_add(self, dim, index, source, alpha) / index_copy / index_fill: a scatter along dim with
// the 1-D index broadcast over the other dims.
const Derivative<2, 1, ScatterAttrs> index_add_grad{"IndexAddBackward0",
                                                    {"self", "source"},
                                                    {[](const auto& d) { return d.grad; },
                                                     [](const auto& d) {
                                                       Tensor g =
                                                           index_select(d.grad, d.attrs.dim, d.saved[0]);
                                                       return d.attrs.alpha == 1.0 ? g : g * d.attrs.alpha;
                                                     }},
                                                    {{{"index"}}}};
const Derivative<2, 1, ScatterAttrs> index_copy_grad{
    "IndexCopyBackward0",
    {"self", "source"},
    {[](const auto& d) { return index_fill(d.grad, d.attrs.dim, d.saved[0], 0.0); },
     [](const auto& d) { return index_select(d.grad, d.attrs.dim, d.saved[0]); }},
    {{{"index"}}}};
const Derivative<1, 1, ScatterAttrs> index_fill_grad{
    "IndexFillBackward0",
    {"self"},
    {[](const auto& d) { return index_fill(d.grad, d.attrs.dim, d.saved[0], 0.0); }},
    {{{"index"}}}};

// masked_scatter(self, mask, source): self keeps the gradient where mask is false; source gets
// the gradient of the positions its entries went to, in order (zeros for unused entries).
struct MaskAttrs {
  Tensor mask;  // detached, broadcast to the result's shape
  Dims source_shape;
};
const Derivative<2, 0, MaskAttrs> masked_scatter_grad{
    "MaskedScatterBackward0",
    {"self", "source"},
    {[](const auto& d) { return where(d.attrs.mask, zero_like_scalar(d.grad), d.grad); },
     [](const auto& d) {
       Tensor used = masked_select(d.grad, d.attrs.mask);
       int64_t total = numel_of(d.attrs.source_shape);
       if (used.numel() < total) used = cat({used, zeros(Dims{total - used.numel()}, used.dtype())}, 0);
       return reshape(used, d.attrs.source_shape);
     }}};
const Derivative<1, 0, MaskAttrs> masked_select_grad{"MaskedSelectBackward0", {"self"}, {[](const auto& d) {
                                                       Tensor z = zeros(d.attrs.mask.shape(), d.grad.dtype());
                                                       return masked_scatter(z, d.attrs.mask, d.grad);
                                                     }}};

/// The 1-D index of index_add/copy/fill viewed along dim and expanded to `shape` (a gather index).
Tensor along_dim(const Tensor& index, int64_t dim, const Dims& shape) {
  Dims v(shape.size(), 1);
  if (!shape.empty()) v[(size_t)dim] = index.numel();
  Dims e = shape;
  if (!shape.empty()) e[(size_t)dim] = index.numel();
  return contiguous_copy(expand(reshape(index, v), e));
}

void check_index_vector(const Tensor& index, const char* op) {
  if (index.dtype() != DType::Int64)
    throw TypeError(str(op, ": expected an int64 index tensor, got ", dtype_name(index.dtype())));
  if (index.dim() > 1) throw ShapeError(str(op, ": index should be a vector, got shape ", index.shape()));
}

void check_source(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source, const char* op) {
  int64_t want = x.dim() == 0 ? 0 : x.dim();
  if (source.dim() != want && !(x.dim() == 0 && source.dim() <= 1))
    throw ShapeError(str(op, ": source ", source.shape(), " must have as many dims as self ", x.shape()));
  for (int64_t d = 0; d < x.dim(); ++d) {
    int64_t expect = d == dim ? index.numel() : x.shape()[d];
    if (source.shape()[d] != expect)
      throw ShapeError(str(op, ": source ", source.shape(), " does not fit self ", x.shape(),
                           " and an index of ", index.numel(), " entries along dim ", dim));
  }
  if (x.dim() == 0 && source.numel() != index.numel())
    throw ShapeError(str(op, ": source and index must have the same number of elements"));
}

Tensor index_scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source, double value,
                     Reduce reduce, double alpha, const char* op) {
  Tensor src = source;
  if (src.defined() && alpha != 1.0) {
    NoGradGuard ng;
    src = mul(src, scalar_tensor(alpha, src.dtype()));
  }
  if (x.dim() == 0) {
    Tensor idx = reshape(index, Dims{index.numel()});
    Tensor s = src.defined() ? reshape(src, Dims{index.numel()}) : Tensor();
    return reshape(scatter_kernel(reshape(x, Dims{1}), 0, idx, s, value, reduce, true, op), Dims{});
  }
  Dims shape = src.defined() ? src.shape() : x.shape();
  return scatter_kernel(x, dim, along_dim(index, dim, shape), src, value, reduce, true, op);
}

}  // namespace

// ---- scatter family ----------------------------------------------------------------------------
Tensor scatter(const Tensor& x, int64_t dim0, const Tensor& index, const Tensor& src,
               const std::optional<std::string>& reduce) {
  int64_t dim = wrap_dim(dim0, x.dim(), "scatter");
  if (src.dtype() != x.dtype())
    throw TypeError(str("scatter(): expected self and src to have the same dtype, got ",
                        dtype_name(x.dtype()), " and ", dtype_name(src.dtype())));
  if (reduce) {
    Reduce r = parse_reduce(*reduce, false, "scatter()");
    Tensor out = scatter_kernel(x, dim, index, src, 0, r, true, "scatter()");
    record(scatter_legacy_reduce_grad, {x, src}, out);
    return out;
  }
  Tensor out = scatter_kernel(x, dim, index, src, 0, Reduce::None, true, "scatter()");
  if (auto* n = record(scatter_grad, {x, src}, out, {index})) n->attrs.dim = dim;
  return out;
}

Tensor scatter_value(const Tensor& x, int64_t dim0, const Tensor& index, double value,
                     const std::optional<std::string>& reduce) {
  int64_t dim = wrap_dim(dim0, x.dim(), "scatter");
  Reduce r = reduce ? parse_reduce(*reduce, false, "scatter()") : Reduce::None;
  Tensor out = scatter_kernel(x, dim, index, Tensor(), value, r, true, "scatter()");
  if (r != Reduce::None) {
    Tensor none;
    record(scatter_legacy_reduce_grad, {x, none}, out);
    return out;
  }
  if (auto* n = record(scatter_value_grad, {x}, out, {index})) n->attrs.dim = dim;
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim0, const Tensor& index, const Tensor& src) {
  int64_t dim = wrap_dim(dim0, x.dim(), "scatter_add");
  if (src.dtype() != x.dtype())
    throw TypeError(str("scatter_add(): expected self and src to have the same dtype, got ",
                        dtype_name(x.dtype()), " and ", dtype_name(src.dtype())));
  Tensor out = scatter_kernel(x, dim, index, src, 0, Reduce::Sum, true, "scatter_add()");
  if (auto* n = record(scatter_add_grad, {x, src}, out, {index})) n->attrs.dim = dim;
  return out;
}

Tensor scatter_reduce(const Tensor& x, int64_t dim0, const Tensor& index, const Tensor& src,
                      const std::string& reduce, bool include_self) {
  int64_t dim = wrap_dim(dim0, x.dim(), "scatter_reduce");
  Reduce r = parse_reduce(reduce, true, "scatter_reduce()");
  if (src.dtype() != x.dtype())
    throw TypeError(str("scatter_reduce(): expected self and src to have the same dtype, got ",
                        dtype_name(x.dtype()), " and ", dtype_name(src.dtype())));
  Tensor out = scatter_kernel(x, dim, index, src, 0, r, include_self, "scatter_reduce()");
  if (auto* n = record(scatter_reduce_grad, {x, src}, out, {x, src, output(out), index}))
    n->attrs = ScatterAttrs{dim, r, include_self, 1.0};
  return out;
}

// ---- index_add / index_copy / index_fill -------------------------------------------------------
Tensor index_add(const Tensor& x, int64_t dim0, const Tensor& index, const Tensor& source, double alpha) {
  int64_t dim = wrap_dim(dim0, x.dim(), "index_add");
  check_index_vector(index, "index_add()");
  if (source.dtype() != x.dtype())
    throw TypeError(str("index_add(): self (", dtype_name(x.dtype()), ") and source (",
                        dtype_name(source.dtype()), ") must have the same dtype"));
  check_source(x, dim, index, source, "index_add()");
  Tensor out = index_scatter(x, dim, index, source, 0, Reduce::Sum, alpha, "index_add()");
  if (auto* n = record(index_add_grad, {x, source}, out, {index})) {
    n->attrs.dim = dim;
    n->attrs.alpha = alpha;
  }
  return out;
}

Tensor index_copy(const Tensor& x, int64_t dim0, const Tensor& index, const Tensor& source) {
  int64_t dim = wrap_dim(dim0, x.dim(), "index_copy");
  check_index_vector(index, "index_copy()");
  if (source.dtype() != x.dtype())
    throw TypeError(str("index_copy(): self (", dtype_name(x.dtype()), ") and source (",
                        dtype_name(source.dtype()), ") must have the same dtype"));
  check_source(x, dim, index, source, "index_copy()");
  Tensor out = index_scatter(x, dim, index, source, 0, Reduce::None, 1.0, "index_copy()");
  if (auto* n = record(index_copy_grad, {x, source}, out, {index})) n->attrs.dim = dim;
  return out;
}

Tensor index_fill(const Tensor& x, int64_t dim0, const Tensor& index, double value) {
  int64_t dim = wrap_dim(dim0, x.dim(), "index_fill");
  check_index_vector(index, "index_fill()");
  Tensor out = index_scatter(x, dim, index, Tensor(), value, Reduce::None, 1.0, "index_fill()");
  if (auto* n = record(index_fill_grad, {x}, out, {index})) n->attrs.dim = dim;
  return out;
}

// ---- masked ops --------------------------------------------------------------------------------
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value) {
  if (value.dim() != 0)
    throw ShapeError(str("masked_fill(): only supports a 0-dimensional value tensor, but got tensor with ",
                         value.dim(), " dimension(s)"));
  if (mask.dtype() != DType::Bool)
    throw TypeError(str("masked_fill(): expected a bool mask, got ", dtype_name(mask.dtype())));
  if (!value.requires_grad() || !GradMode::is_enabled()) {
    Tensor v = to_dtype(value, DType::Float64);
    return masked_fill(x, mask, *v.data<double>());
  }
  // The value takes part in autograd: where() sends it the gradient of every masked position.
  Tensor v = value.dtype() == x.dtype() ? value : to_dtype(value, x.dtype());
  return where(mask, v, x);
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  if (mask.dtype() != DType::Bool)
    throw TypeError(str("masked_select(): expected a bool mask, got ", dtype_name(mask.dtype())));
  Dims b = broadcast_shapes(x.shape(), mask.shape(), "masked_select");
  Tensor xb = contiguous_copy(expand(x, b));
  Tensor mb = contiguous_copy(expand(mask, b));
  const bool* m = mb.data<bool>();
  int64_t n = std::count(m, m + mb.numel(), true);
  Tensor out = Tensor::empty(Dims{n}, x.dtype());
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* s = xb.data<T>();
    T* o = out.data<T>();
    for (int64_t i = 0, k = 0; i < mb.numel(); ++i)
      if (m[i]) o[k++] = s[i];
  });
  if (x.shape() != b) {
    // The gradient goes through the broadcast: record on the expanded input.
    if (needs_grad(x)) {
      Tensor xe = expand(x, b);
      if (auto* node = record(masked_select_grad, {xe}, out)) node->attrs.mask = mb;
    }
    return out;
  }
  if (auto* node = record(masked_select_grad, {x}, out)) node->attrs.mask = mb;
  return out;
}

Tensor masked_scatter(const Tensor& x, const Tensor& mask, const Tensor& source) {
  if (mask.dtype() != DType::Bool)
    throw TypeError(str("masked_scatter(): expected a bool mask, got ", dtype_name(mask.dtype())));
  if (source.dtype() != x.dtype())
    throw TypeError(str("masked_scatter(): expected self and source to have the same dtype, got ",
                        dtype_name(x.dtype()), " and ", dtype_name(source.dtype())));
  Dims b = broadcast_shapes(x.shape(), mask.shape(), "masked_scatter");
  if (b != x.shape() && needs_grad(x)) return masked_scatter(expand(x, b), mask, source);
  Tensor out = contiguous_copy(expand(x, b));
  Tensor mb = contiguous_copy(expand(mask, b));
  Tensor src = contiguous_copy(source);
  const bool* m = mb.data<bool>();
  int64_t need = std::count(m, m + mb.numel(), true);
  if (need > src.numel())
    throw ShapeError(
        str("masked_scatter(): the mask selects ", need, " elements but source has only ", src.numel()));
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* s = src.data<T>();
    T* o = out.data<T>();
    for (int64_t i = 0, k = 0; i < mb.numel(); ++i)
      if (m[i]) o[i] = s[k++];
  });
  if (auto* n = record(masked_scatter_grad, {x, source}, out)) {
    n->attrs.mask = mb;
    n->attrs.source_shape = source.shape();
  }
  return out;
}

Tensor take(const Tensor& x, const Tensor& index) {
  if (index.dtype() != DType::Int64)
    throw TypeError(str("take(): expected an int64 index tensor, got ", dtype_name(index.dtype())));
  const int64_t n = x.numel();
  Tensor flat = contiguous_copy(reshape(index, Dims{index.numel()}));
  int64_t* p = flat.data<int64_t>();
  for (int64_t i = 0; i < flat.numel(); ++i) {
    if (p[i] < -n || p[i] >= n)
      throw IndexError(str("take(): index ", p[i], " is out of range for a tensor of ", n, " elements"));
    if (p[i] < 0) p[i] += n;
  }
  return reshape(index_select(reshape(x, Dims{n}), 0, flat), index.shape());
}

Tensor nonzero(const Tensor& x) {
  Tensor c = contiguous_copy_as(x, DType::Bool);
  const bool* p = c.data<bool>();
  const int64_t nd = x.dim(), n = c.numel();
  int64_t count = std::count(p, p + n, true);
  Tensor out = Tensor::empty(Dims{count, nd}, DType::Int64);
  int64_t* o = out.data<int64_t>();
  Dims pos((size_t)nd, 0);
  for (int64_t i = 0; i < n; ++i) {
    if (p[i]) {
      std::copy(pos.begin(), pos.end(), o);
      o += nd;
    }
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++pos[(size_t)d] < x.shape()[(size_t)d]) break;
      pos[(size_t)d] = 0;
    }
  }
  return out;
}

}  // namespace cr
