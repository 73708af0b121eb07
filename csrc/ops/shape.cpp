// Shape ops. Most are views: they share storage (and so the version counter) with their input.
#include "ops/shape.h"

#include <algorithm>
#include <numeric>
#include "core/node.h"
#include "ops/creation.h"
#include "ops/reduce.h"

namespace cr {

Dims infer_shape(const Dims& requested, int64_t numel, const char* op) {
  Dims out = requested;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer >= 0) throw ValueError(str(op, ": only one dimension can be inferred (-1) in ", requested));
      infer = (int64_t)i;
    } else if (out[i] < 0) {
      throw ValueError(str(op, ": invalid shape dimension ", out[i], " in ", requested));
    } else {
      known *= out[i];
    }
  }
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
  if (sizes.empty() || numel == 0) { out = contiguous_strides(shape); return true; }
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

struct ViewBackward final : Node {
  Dims in_shape;
  TensorList apply(TensorList&& g) override { return {reshape(g[0], in_shape)}; }
  std::string name() const override { return "ViewBackward0"; }
};
struct ExpandBackward final : Node {
  Dims in_shape;
  TensorList apply(TensorList&& g) override { return {sum_to(g[0], in_shape)}; }
  std::string name() const override { return "ExpandBackward0"; }
};
struct TransposeBackward final : Node {
  int64_t d0, d1;
  TensorList apply(TensorList&& g) override { return {transpose(g[0], d0, d1)}; }
  std::string name() const override { return "TransposeBackward0"; }
};
struct PermuteBackward final : Node {
  std::vector<int64_t> inverse;
  TensorList apply(TensorList&& g) override { return {permute(g[0], inverse)}; }
  std::string name() const override { return "PermuteBackward0"; }
};

Tensor record_view(Tensor out, const Tensor& in, std::shared_ptr<Node> node) {
  if (needs_grad(in)) set_history(node, in, out);
  return out;
}

}  // namespace

Tensor view(const Tensor& a, const Dims& shape0) {
  Dims shape = infer_shape(shape0, a.numel(), "view");
  Dims st;
  if (!view_strides(a.shape(), a.strides(), shape, st))
    throw ShapeError(str("view: size ", shape, " is not compatible with the input's size ", a.shape(),
                         " and stride ", a.strides(), " (at least one dimension spans two contiguous "
                         "subspaces); use .reshape(...) instead"));
  Tensor out = make_view(a, shape, st, a.offset());
  if (!needs_grad(a)) return out;
  auto n = std::make_shared<ViewBackward>();
  n->in_shape = a.shape();
  return record_view(out, a, n);
}

Tensor reshape(const Tensor& a, const Dims& shape0) {
  Dims shape = infer_shape(shape0, a.numel(), "reshape");
  if (shape == a.shape()) {
    Tensor out = make_view(a, a.shape(), a.strides(), a.offset());
    if (!needs_grad(a)) return out;
    auto n = std::make_shared<ViewBackward>();
    n->in_shape = a.shape();
    return record_view(out, a, n);
  }
  Dims st;
  Tensor out = view_strides(a.shape(), a.strides(), shape, st)
                   ? make_view(a, shape, st, a.offset())
                   : [&] { Tensor c = contiguous_copy(a); return make_view(c, shape, contiguous_strides(shape), 0); }();
  if (!needs_grad(a)) return out;
  auto n = std::make_shared<ViewBackward>();
  n->in_shape = a.shape();
  return record_view(out, a, n);
}

Tensor expand(const Tensor& a, const Dims& shape0) {
  if ((int64_t)shape0.size() < a.dim())
    throw ShapeError(str("expand: the number of sizes provided (", shape0.size(),
                         ") must be greater or equal to the number of dimensions in the tensor (", a.dim(), ")"));
  size_t lead = shape0.size() - (size_t)a.dim();
  Dims shape = shape0, st(shape0.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      if (shape[i] < 0) throw ValueError(str("expand: -1 is not allowed in a leading, non-existing dimension ", i));
      continue;
    }
    int64_t have = a.shape()[i - lead];
    if (shape[i] == -1) shape[i] = have;
    if (have == shape[i]) st[i] = a.strides()[i - lead];
    else if (have != 1)
      throw ShapeError(str("expand: the expanded size of the tensor (", shape[i], ") must match the existing size (",
                           have, ") at non-singleton dimension ", i, ". Target sizes: ", shape0,
                           ". Tensor sizes: ", a.shape()));
  }
  if (shape == a.shape()) return a;
  Tensor out = make_view(a, shape, st, a.offset());
  if (!needs_grad(a)) return out;
  auto n = std::make_shared<ExpandBackward>();
  n->in_shape = a.shape();
  return record_view(out, a, n);
}

Tensor transpose(const Tensor& a, int64_t d0, int64_t d1) {
  int64_t nd = a.dim();
  if (nd == 0) { wrap_dim(d0, 0, "transpose"); wrap_dim(d1, 0, "transpose"); return a; }
  d0 = wrap_dim(d0, nd, "transpose");
  d1 = wrap_dim(d1, nd, "transpose");
  Dims sh = a.shape(), st = a.strides();
  std::swap(sh[d0], sh[d1]);
  std::swap(st[d0], st[d1]);
  Tensor out = make_view(a, sh, st, a.offset());
  if (!needs_grad(a)) return out;
  auto n = std::make_shared<TransposeBackward>();
  n->d0 = d0;
  n->d1 = d1;
  return record_view(out, a, n);
}

Tensor permute(const Tensor& a, const std::vector<int64_t>& dims) {
  int64_t nd = a.dim();
  if ((int64_t)dims.size() != nd)
    throw ValueError(str("permute: number of dims don't match: the tensor has ", nd, " dims, ", dims.size(), " given"));
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
  auto n = std::make_shared<PermuteBackward>();
  n->inverse = inverse;
  return record_view(out, a, n);
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

}  // namespace cr
