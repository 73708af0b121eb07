// Shape ops. Most are views: they share storage (and so the version counter) with their input.
#include "ops/shape.h"

#include <limits>

#include <algorithm>
#include <numeric>
#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/index.h"
#include "ops/reduce.h"

namespace cr {

Dims infer_shape(const Dims& requested, int64_t numel, const char* op) {
  Dims out = requested;
  int64_t known = 1, infer = -1;
  bool zero = false, overflow = false;  // the product of the given sizes, without overflowing int64
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer >= 0) throw ValueError(str(op, ": only one dimension can be inferred (-1) in ", requested));
      infer = (int64_t)i;
    } else if (out[i] < 0) {
      throw ValueError(str(op, ": invalid shape dimension ", out[i], " in ", requested));
    } else if (out[i] == 0) {
      zero = true;
    } else if (!overflow) {
      if (known > std::numeric_limits<int64_t>::max() / out[i]) overflow = true;
      else known *= out[i];
    }
  }
  if (zero) known = 0;
  else if (overflow)  // more elements than any tensor can hold, so never the input's count
    throw ShapeError(str(op, ": shape ", requested, " is invalid for input of size ", numel));
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      throw ShapeError(str(op, ": shape ", requested, " is invalid for input of size ", numel));
    out[infer] = numel / known;
  } else if (known != numel) {
    throw ShapeError(str(op, ": shape ", requested, " is invalid for input of size ", numel));
  }
  return out;
}

namespace {

// Strides that view `sizes`/`strides` as `shape` without copying, or false (PyTorch's rule: each
// run of merged old dims must be contiguous in memory).
bool view_strides(const Dims& sizes, const Dims& strides, const Dims& shape, Dims& out) {
  int64_t numel = numel_of(sizes);
  out = Dims(shape.size(), 0);
  if (sizes.empty() || numel == 0) {
    out = contiguous_strides(shape);
    return true;
  }
  int64_t view_d = (int64_t)shape.size() - 1;
  int64_t chunk_base_stride = strides.empty() ? 1 : strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = (int64_t)sizes.size() - 1; d >= 0; --d) {
    tensor_numel *= sizes[d];
    if (d == 0 || (sizes[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

// Views and layout changes: the gradient goes back through the inverse layout change.
const Derivative<1> view_grad{
    "ViewBackward0", {"self"}, {[](const auto& d) { return reshape(d.grad, d.input_shape(0)); }}};
const Derivative<1> expand_grad{
    "ExpandBackward0", {"self"}, {[](const auto& d) { return sum_to(d.grad, d.input_shape(0)); }}};
struct TwoDims {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  int64_t d0 = 0, d1 = 0;
};
const Derivative<1, 0, TwoDims> transpose_grad{"TransposeBackward0", {"self"}, {[](const auto& d) {
                                                 return transpose(d.grad, d.attrs.d0, d.attrs.d1);
                                               }}};
struct DimList {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  std::vector<int64_t> dims;
};
const Derivative<1, 0, DimList> permute_grad{"PermuteBackward0",
                                             {"self"},  // dims: the inverse permutation
                                             {[](const auto& d) { return permute(d.grad, d.attrs.dims); }}};
const Derivative<1, 0, DimList> flip_grad{
    "FlipBackward0", {"self"}, {[](const auto& d) { return flip(d.grad, d.attrs.dims); }}};

}  // namespace

Tensor view(const Tensor& a, const Dims& shape0) {
  Dims shape = infer_shape(shape0, a.numel(), "view");
  Dims st;
  if (!view_strides(a.shape(), a.strides(), shape, st))
    throw ShapeError(str("view: size ", shape, " is not compatible with the input's size ", a.shape(),
                         " and stride ", a.strides(),
                         " (at least one dimension spans two contiguous "
                         "subspaces); use .reshape(...) instead"));
  Tensor out = make_view(a, shape, st, a.offset());
  if (!needs_grad(a)) return out;
  record(view_grad, {a}, out);
  return out;
}

Tensor reshape(const Tensor& a, const Dims& shape0) {
  Dims shape = infer_shape(shape0, a.numel(), "reshape");
  if (shape == a.shape()) {
    Tensor out = make_view(a, a.shape(), a.strides(), a.offset());
    if (!needs_grad(a)) return out;
    record(view_grad, {a}, out);
    return out;
  }
  Dims st;
  Tensor out = view_strides(a.shape(), a.strides(), shape, st) ? make_view(a, shape, st, a.offset()) : [&] {
    Tensor c = contiguous_copy(a);
    return make_view(c, shape, contiguous_strides(shape), 0);
  }();
  if (!needs_grad(a)) return out;
  record(view_grad, {a}, out);
  return out;
}

Tensor expand(const Tensor& a, const Dims& shape0) {
  if ((int64_t)shape0.size() < a.dim())
    throw ShapeError(str("expand: the number of sizes provided (", shape0.size(),
                         ") must be greater or equal to the number of dimensions in the tensor (", a.dim(),
                         ")"));
  size_t lead = shape0.size() - (size_t)a.dim();
  Dims shape = shape0, st(shape0.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      if (shape[i] < 0)
        throw ValueError(str("expand: -1 is not allowed in a leading, non-existing dimension ", i));
      continue;
    }
    int64_t have = a.shape()[i - lead];
    if (shape[i] == -1) shape[i] = have;
    if (have == shape[i]) st[i] = a.strides()[i - lead];
    else if (have != 1)
      throw ShapeError(str("expand: the expanded size of the tensor (", shape[i],
                           ") must match the existing size (", have, ") at non-singleton dimension ", i,
                           ". Target sizes: ", shape0, ". Tensor sizes: ", a.shape()));
  }
  if (shape == a.shape()) return a;
  check_shape(shape, "expand");  // a negative size, or 2**32 x 2**32 elements, must not wrap numel
  Tensor out = make_view(a, shape, st, a.offset());
  if (!needs_grad(a)) return out;
  record(expand_grad, {a}, out);
  return out;
}

Tensor transpose(const Tensor& a, int64_t d0, int64_t d1) {
  int64_t nd = a.dim();
  if (nd == 0) {
    wrap_dim(d0, 0, "transpose");
    wrap_dim(d1, 0, "transpose");
    return a;
  }
  d0 = wrap_dim(d0, nd, "transpose");
  d1 = wrap_dim(d1, nd, "transpose");
  Dims sh = a.shape(), st = a.strides();
  std::swap(sh[d0], sh[d1]);
  std::swap(st[d0], st[d1]);
  Tensor out = make_view(a, sh, st, a.offset());
  if (!needs_grad(a)) return out;
  if (auto* n = record(transpose_grad, {a}, out)) n->attrs = TwoDims{d0, d1};
  return out;
}

Tensor permute(const Tensor& a, const std::vector<int64_t>& dims) {
  int64_t nd = a.dim();
  if ((int64_t)dims.size() != nd)
    throw ValueError(
        str("permute: number of dims don't match: the tensor has ", nd, " dims, ", dims.size(), " given"));
  std::vector<int64_t> p(dims.size()), inverse(dims.size());
  std::vector<bool> seen(dims.size(), false);
  Dims sh(nd), st(nd);
  for (int64_t i = 0; i < nd; ++i) {
    int64_t d = wrap_dim(dims[i], nd, "permute");
    if (seen[d]) throw ValueError(str("permute: repeated dim ", d, " in the permutation"));
    seen[d] = true;
    p[i] = d;
    inverse[d] = i;
    sh[i] = a.shape()[d];
    st[i] = a.strides()[d];
  }
  Tensor out = make_view(a, sh, st, a.offset());
  if (!needs_grad(a)) return out;
  if (auto* n = record(permute_grad, {a}, out)) n->attrs.dims = std::move(inverse);
  return out;
}

Tensor unsqueeze(const Tensor& a, int64_t dim) {
  int64_t nd = a.dim();
  int64_t d = wrap_dim(dim, nd + 1, "unsqueeze");
  Dims sh = a.shape();
  sh.insert((size_t)d, 1);
  return reshape(a, sh);
}

Tensor contiguous(const Tensor& a) {
  if (a.is_contiguous()) return a;
  return clone(a);
}

Tensor flatten(const Tensor& a, int64_t start_dim, int64_t end_dim) {
  if (a.dim() == 0) {
    wrap_dim(start_dim, 0, "flatten");
    wrap_dim(end_dim, 0, "flatten");
    return reshape(a, Dims{1});
  }
  int64_t s = wrap_dim(start_dim, a.dim(), "flatten"), e = wrap_dim(end_dim, a.dim(), "flatten");
  if (s > e)
    throw ValueError(str("flatten(): start_dim (", start_dim, ") cannot come after end_dim (", end_dim, ")"));
  if (s == e) return a;
  Dims sh;
  for (int64_t d = 0; d < s; ++d) sh.push_back(a.shape()[d]);
  int64_t m = 1;
  for (int64_t d = s; d <= e; ++d) m *= a.shape()[d];
  sh.push_back(m);
  for (int64_t d = e + 1; d < a.dim(); ++d) sh.push_back(a.shape()[d]);
  return reshape(a, sh);
}

Tensor squeeze(const Tensor& a, const std::vector<int64_t>& dims, bool all) {
  std::vector<bool> drop((size_t)a.dim(), false);
  if (all && dims.empty()) {
    for (int64_t d = 0; d < a.dim(); ++d) drop[(size_t)d] = a.shape()[d] == 1;
  } else {
    for (auto d0 : dims) {
      int64_t d = wrap_dim(d0, a.dim(), "squeeze");
      if (a.dim() > 0 && a.shape()[d] == 1) drop[(size_t)d] = true;
    }
  }
  Dims sh;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (!drop[(size_t)d]) sh.push_back(a.shape()[d]);
  return reshape(a, sh);
}

Tensor broadcast_to(const Tensor& a, const Dims& shape) { return expand(a, shape); }

namespace {

// cat: each input gets its slice of the gradient (in its own dtype).
struct CatAttrs {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  int64_t dim = 0;
  std::vector<int64_t> offsets, lengths;  // along dim; length -1: a skipped shape-[0] input
  std::vector<DType> dtypes;
};
const VariadicDerivative<CatAttrs> cat_grad{
    "CatBackward0", [](const auto& d, size_t i) {
      const CatAttrs& a = d.attrs;
      if (a.lengths[i] < 0) return zeros(Dims{0}, a.dtypes[i]);
      Tensor gi = slice(d.grad, a.dim, a.offsets[i], a.offsets[i] + a.lengths[i], 1);
      return gi.dtype() == a.dtypes[i] ? gi : to_dtype(gi, a.dtypes[i]);
    }};
// split and unbind: the outputs' gradients put back together.
struct SplitDim {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  int64_t dim = 0;
};
const Derivative<1, 0, SplitDim> split_grad{
    "SplitWithSizesBackward0", {"self"}, {[](const auto& d) { return cat(d.grads, d.attrs.dim); }}};
const Derivative<1, 0, SplitDim> unbind_grad{
    "UnbindBackward0", {"self"}, {[](const auto& d) { return stack(d.grads, d.attrs.dim); }}};

}  // namespace

Tensor cat(const TensorList& ts, int64_t dim0) {
  if (ts.empty()) throw ValueError("cat(): expected a non-empty list of Tensors");
  // PyTorch's legacy rule: 1-D empty tensors are skipped whatever the other shapes are.
  auto skipped = [](const Tensor& t) { return t.dim() == 1 && t.shape()[0] == 0; };
  int64_t ref = -1;
  DType dt = ts[0].dtype();
  for (size_t i = 0; i < ts.size(); ++i) {
    if (!ts[i].defined()) throw TypeError(str("cat(): expected a Tensor at position ", i, ", got None"));
    dt = promote(dt, ts[i].dtype());
    if (ref < 0 && !skipped(ts[i])) ref = (int64_t)i;
  }
  if (ref < 0) {  // every input is a skipped shape-[0] tensor: the result is one too, with history
    Tensor out = zeros(Dims{0}, dt);
    std::vector<DType> dtypes;
    for (const auto& t : ts) dtypes.push_back(t.dtype());
    if (auto* n = record(cat_grad, ts, out))
      n->attrs = CatAttrs{0, std::vector<int64_t>(ts.size(), 0), std::vector<int64_t>(ts.size(), -1),
                          std::move(dtypes)};
    return out;
  }
  const Tensor& r = ts[(size_t)ref];
  if (r.dim() == 0)
    throw ShapeError(str("cat(): zero-dimensional tensor (at position ", ref, ") cannot be concatenated"));
  int64_t dim = wrap_dim(dim0, r.dim(), "cat");
  auto shapes = [&] {
    std::string s;
    for (size_t i = 0; i < ts.size(); ++i) s += str(i ? ", " : "", ts[i].shape());
    return s;
  };
  Dims out_shape = r.shape();
  out_shape[dim] = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    const Tensor& t = ts[i];
    if (skipped(t)) continue;
    if (t.dim() != r.dim())
      throw ShapeError(str("cat(): tensors must have the same number of dimensions: got ", r.dim(), " and ",
                           t.dim(), " (tensor number ", i, "; shapes ", shapes(), ")"));
    for (int64_t d = 0; d < r.dim(); ++d)
      if (d != dim && t.shape()[d] != r.shape()[d])
        throw ShapeError(str("cat(): sizes of tensors must match except in dimension ", dim,
                             ". Expected size ", r.shape()[d], " but got size ", t.shape()[d],
                             " for tensor number ", i, " in the list (shapes ", shapes(), ")"));
    if (t.shape()[dim] > std::numeric_limits<int64_t>::max() - out_shape[dim])  // sizes are >= 0
      throw ValueError(str("cat(): the result has too many elements along dimension ", dim,
                           " (the size calculation overflows int64; shapes ", shapes(), ")"));
    out_shape[dim] += t.shape()[dim];
  }
  Tensor out = Tensor::empty(out_shape, dt);
  std::vector<int64_t> offsets(ts.size(), 0), lengths(ts.size(), -1);
  std::vector<DType> dtypes(ts.size());
  int64_t off = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    dtypes[i] = ts[i].dtype();
    if (skipped(ts[i])) continue;
    int64_t len = ts[i].shape()[dim];
    offsets[i] = off;
    lengths[i] = len;
    if (len > 0) {
      Dims sh = out_shape;
      sh[dim] = len;
      copy_into(make_view(out, sh, out.strides(), off * out.strides()[dim]), ts[i]);
    }
    off += len;
  }
  if (auto* n = record(cat_grad, ts, out))
    n->attrs = CatAttrs{dim, std::move(offsets), std::move(lengths), std::move(dtypes)};
  return out;
}

Tensor stack(const TensorList& ts, int64_t dim0) {
  if (ts.empty()) throw ValueError("stack(): expected a non-empty list of Tensors");
  for (size_t i = 0; i < ts.size(); ++i) {
    if (!ts[i].defined()) throw TypeError(str("stack(): expected a Tensor at position ", i, ", got None"));
    if (ts[i].shape() != ts[0].shape())
      throw ShapeError(str("stack(): expects each tensor to be equal size, but got ", ts[0].shape(),
                           " at entry 0 and ", ts[i].shape(), " at entry ", i));
  }
  int64_t dim = wrap_dim(dim0, ts[0].dim() + 1, "stack");
  TensorList us;
  us.reserve(ts.size());
  for (const auto& t : ts) us.push_back(unsqueeze(t, dim));
  return cat(us, dim);
}

TensorList split_with_sizes(const Tensor& a, const std::vector<int64_t>& sizes, int64_t dim0) {
  if (a.dim() == 0) throw ShapeError("split(): cannot split a 0-dim tensor");
  int64_t dim = wrap_dim(dim0, a.dim(), "split");
  int64_t total = 0;
  for (auto s : sizes) {
    if (s < 0) throw ValueError(str("split(): split sizes must be non-negative, got ", Dims(sizes)));
    if (s > a.shape()[dim] - total) {  // already past the dimension (and never overflowing int64)
      total = -1;
      break;
    }
    total += s;
  }
  if (total != a.shape()[dim])
    throw ShapeError(str("split_with_sizes expects split_sizes to sum exactly to ", a.shape()[dim],
                         " (input tensor's size at dimension ", dim, "), but got split_sizes=", Dims(sizes)));
  TensorList outs;
  int64_t off = 0;
  for (auto s : sizes) {
    Dims sh = a.shape();
    sh[dim] = s;
    outs.push_back(make_view(a, sh, a.strides(), a.offset() + off * a.strides()[dim]));
    off += s;
  }
  if (auto* n = record(split_grad, {a}, outs)) n->attrs.dim = dim;
  mark_multi_output_views(outs);  // in-place writes on them are refused, as PyTorch
  return outs;
}

TensorList split(const Tensor& a, int64_t size, int64_t dim0) {
  if (a.dim() == 0) throw ShapeError("split(): cannot split a 0-dim tensor");
  int64_t dim = wrap_dim(dim0, a.dim(), "split");
  int64_t n = a.shape()[dim];
  if (size < 0) throw ValueError(str("split(): split_size must be non-negative, got ", size));
  if (size == 0 && n > 0)
    throw ValueError(
        str("split(): split_size can only be 0 if dimension size is 0, but got dimension size of ", n));
  std::vector<int64_t> sizes;
  if (n == 0) sizes.push_back(0);
  for (int64_t off = 0; off < n; off += size) sizes.push_back(std::min(size, n - off));
  return split_with_sizes(a, sizes, dim);
}

TensorList chunk(const Tensor& a, int64_t chunks, int64_t dim0) {
  if (chunks <= 0) throw ValueError(str("chunk(): chunks must be greater than 0, got ", chunks));
  if (a.dim() == 0) throw ShapeError("chunk(): cannot chunk a 0-dim tensor");
  int64_t dim = wrap_dim(dim0, a.dim(), "chunk");
  int64_t n = a.shape()[dim];
  return split(a, (n + chunks - 1) / chunks, dim);
}

Tensor narrow(const Tensor& a, int64_t dim0, int64_t start, int64_t length) {
  if (a.dim() == 0) throw ShapeError("narrow(): cannot be applied to a 0-dim tensor");
  int64_t dim = wrap_dim(dim0, a.dim(), "narrow");
  int64_t n = a.shape()[dim];
  if (start < -n || start > n)
    throw IndexError(
        str("narrow(): start (", start, ") is out of range for dimension ", dim, " with size ", n));
  if (start < 0) start += n;
  if (length < 0) throw ValueError(str("narrow(): length must be non-negative, got ", length));
  if (start + length > n)
    throw ValueError(
        str("narrow(): start (", start, ") + length (", length, ") exceeds dimension size (", n, ")"));
  return slice(a, dim, start, start + length, 1);
}

TensorList unbind(const Tensor& a, int64_t dim0) {
  if (a.dim() == 0) throw ShapeError("unbind(): dimension specified as 0 but tensor has no dimensions");
  int64_t dim = wrap_dim(dim0, a.dim(), "unbind");
  Dims sh, st;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (d != dim) {
      sh.push_back(a.shape()[d]);
      st.push_back(a.strides()[d]);
    }
  TensorList outs;
  for (int64_t i = 0; i < a.shape()[dim]; ++i)
    outs.push_back(make_view(a, sh, st, a.offset() + i * a.strides()[dim]));
  if (auto* n = record(unbind_grad, {a}, outs)) n->attrs.dim = dim;
  mark_multi_output_views(outs);  // in-place writes on them are refused, as PyTorch
  return outs;
}

Tensor movedim(const Tensor& a, const std::vector<int64_t>& src, const std::vector<int64_t>& dst) {
  int64_t nd = a.dim();
  if (src.size() != dst.size())
    throw ValueError(str("movedim(): invalid source or destination dims: source (", Dims(src),
                         ") and destination (", Dims(dst), ") must have the same number of elements"));
  std::vector<int64_t> perm((size_t)nd, -1);
  std::vector<bool> used((size_t)nd, false);
  for (size_t i = 0; i < src.size(); ++i) {
    int64_t s = wrap_dim(src[i], nd, "movedim"), d = wrap_dim(dst[i], nd, "movedim");
    if (nd == 0) continue;
    if (perm[(size_t)d] != -1 || used[(size_t)s])
      throw ValueError("movedim(): repeated dim in source or destination");
    perm[(size_t)d] = s;
    used[(size_t)s] = true;
  }
  int64_t next = 0;
  for (int64_t d = 0; d < nd; ++d) {
    if (perm[(size_t)d] != -1) continue;
    while (used[(size_t)next]) ++next;
    perm[(size_t)d] = next;
    used[(size_t)next] = true;
  }
  return permute(a, perm);
}

Tensor flip(const Tensor& a, const std::vector<int64_t>& dims) {
  std::vector<int64_t> ds = reduce_dims(dims.empty() ? std::vector<int64_t>{} : dims, a.dim(), "flip");
  if (dims.empty()) ds.clear();
  Dims st = a.strides();
  int64_t off = a.offset();
  for (auto d : ds) {
    if (a.shape()[d] > 0) off += (a.shape()[d] - 1) * st[d];
    st[d] = -st[d];
  }
  Tensor out = contiguous_copy(make_view(a, a.shape(), st, off));
  if (auto* n = record(flip_grad, {a}, out)) n->attrs.dims = std::move(ds);
  return out;
}

Tensor repeat(const Tensor& a, const Dims& repeats) {
  if ((int64_t)repeats.size() < a.dim())
    throw ValueError(str("repeat(): number of dimensions of repeat dims (", repeats.size(),
                         ") can not be smaller than number of dimensions of tensor (", a.dim(), ")"));
  for (auto r : repeats)
    if (r < 0) throw ValueError(str("repeat(): repeats must be non-negative, got ", repeats));
  size_t n = repeats.size(), lead = n - (size_t)a.dim();
  Dims inter, expanded, final_shape;
  for (size_t i = 0; i < n; ++i) {
    int64_t s = i < lead ? 1 : a.shape()[i - lead];
    inter.push_back(1);
    inter.push_back(s);
    expanded.push_back(repeats[i]);
    expanded.push_back(s);
    if (s != 0 && repeats[i] > std::numeric_limits<int64_t>::max() / s)  // both are >= 0
      throw ValueError(str("repeat(): repeats ", repeats, " give too many elements for a tensor of shape ",
                           a.shape(), " (the size calculation overflows int64)"));
    final_shape.push_back(repeats[i] * s);
  }
  check_shape(final_shape, "repeat()");
  return reshape(expand(reshape(a, inter), expanded), final_shape);
}

}  // namespace cr
