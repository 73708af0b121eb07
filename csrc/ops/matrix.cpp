// Matrix-shaped ops: diagonal (a view), diag_embed, diag, trace, tril/triu; and the named matrix
// products of PyTorch (mm, bmm, mv, dot, outer, addmm, addmv, baddbmm, addbmm, t), which check
// their operands' ranks and then run as matmul.
#include "ops/matrix.h"

#include <cmath>
#include <cstdlib>

#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/loops.h"
#include "ops/operators.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace cr {

namespace {

struct DiagAttrs {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  int64_t offset = 0, dim1 = 0, dim2 = 1;
  Dims shape;  // the shape diagonal() was taken from (for the backward of diagonal)
};

/// diagonal's sizes: the view's shape, strides and storage offset.
void diagonal_geometry(const Dims& shape, const Dims& strides, int64_t offset, int64_t d1, int64_t d2,
                       Dims& sh, Dims& st, int64_t& off) {
  int64_t n = offset >= 0 ? std::min(shape[(size_t)d1], shape[(size_t)d2] - offset)
                          : std::min(shape[(size_t)d1] + offset, shape[(size_t)d2]);
  n = std::max<int64_t>(n, 0);
  off = n == 0 ? 0 : offset >= 0 ? offset * strides[(size_t)d2] : -offset * strides[(size_t)d1];
  sh = Dims{};
  st = Dims{};
  for (size_t d = 0; d < shape.size(); ++d)
    if ((int64_t)d != d1 && (int64_t)d != d2) {
      sh.push_back(shape[d]);
      st.push_back(strides[d]);
    }
  sh.push_back(n);
  st.push_back(strides[(size_t)d1] + strides[(size_t)d2]);
}

void wrap_pair(int64_t& d1, int64_t& d2, int64_t nd, const char* op) {
  d1 = wrap_dim(d1, nd, op);
  d2 = wrap_dim(d2, nd, op);
  if (d1 == d2) throw ValueError(str(op, ": diagonal dimensions cannot be identical ", d1, ", ", d2));
}

/// zeros(shape) with g written along its (offset, d1, d2) diagonal: the adjoint of diagonal().
Tensor diagonal_scatter_zeros(const Tensor& g, const Dims& shape, int64_t offset, int64_t d1, int64_t d2);

const Derivative<1, 0, DiagAttrs> diagonal_grad{"DiagonalBackward0", {"self"}, {[](const auto& d) {
                                                  const DiagAttrs& a = d.attrs;
                                                  return diagonal_scatter_zeros(d.grad, a.shape, a.offset,
                                                                                a.dim1, a.dim2);
                                                }}};
const Derivative<1, 0, DiagAttrs> diagonal_backward_grad{
    "DiagonalBackwardBackward0", {"grad_output"}, {[](const auto& d) {
      return diagonal(d.grad, d.attrs.offset, d.attrs.dim1, d.attrs.dim2);
    }}};
const Derivative<1, 0, DiagAttrs> diag_embed_grad{"DiagEmbedBackward0", {"self"}, {[](const auto& d) {
                                                    return diagonal(d.grad, d.attrs.offset, d.attrs.dim1,
                                                                    d.attrs.dim2);
                                                  }}};

Tensor diagonal_scatter_zeros(const Tensor& g, const Dims& shape, int64_t offset, int64_t d1, int64_t d2) {
  Tensor out = zeros(shape, g.dtype());
  Dims sh, st;
  int64_t off;
  diagonal_geometry(shape, out.strides(), offset, d1, d2, sh, st, off);
  copy_into(make_view(out, sh, st, off), g);
  if (auto* n = record(diagonal_backward_grad, {g}, out)) n->attrs = DiagAttrs{offset, d1, d2, shape};
  return out;
}

struct Tri {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  int64_t k = 0;
};
const Derivative<1, 0, Tri> tril_grad{
    "TrilBackward0", {"self"}, {[](const auto& d) { return tril(d.grad, d.attrs.k); }}};
const Derivative<1, 0, Tri> triu_grad{
    "TriuBackward0", {"self"}, {[](const auto& d) { return triu(d.grad, d.attrs.k); }}};

/// Keeps entries with j - i <= k (lower) or j - i >= k (upper) of each matrix; zeros elsewhere.
template <bool Lower>
Tensor triangle(const Tensor& a, int64_t k, const char* op) {
  if (a.dim() < 2) throw ShapeError(str(op, ": input tensor must have at least 2 dimensions, got ", a.dim()));
  Tensor out = contiguous_copy(a);
  const int64_t r = a.shape()[(size_t)a.dim() - 2], c = a.shape()[(size_t)a.dim() - 1];
  const int64_t mats = r * c == 0 ? 0 : out.numel() / (r * c);
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* p = out.data<T>();
    parallel_for(0, mats, 1, [&](int64_t b, int64_t e) {
      for (int64_t m = b; m < e; ++m)
        for (int64_t i = 0; i < r; ++i)
          for (int64_t j = 0; j < c; ++j) {
            bool keep = Lower ? j - i <= k : j - i >= k;
            if (!keep) p[(m * r + i) * c + j] = T(0);
          }
    });
  });
  return out;
}

/// t * s for any numeric dtype.
Tensor scaled(const Tensor& t, double s) {
  if (s == 1.0) return t;
  return is_floating(t.dtype()) ? mul_scalar(t, s) : mul(t, scalar_tensor(s, t.dtype()));
}

/// beta * input + alpha * product; beta == 0 ignores input's values (NaN included), as PyTorch.
Tensor add_product(const Tensor& input, const Tensor& product, double beta, double alpha, const char* op) {
  if (!is_floating(product.dtype()) && (beta != std::floor(beta) || alpha != std::floor(alpha)))
    throw TypeError(str(op, ": for integral input tensors, beta and alpha must be integers, got beta=", beta,
                        ", alpha=", alpha));
  Dims out_shape = broadcast_shapes(input.shape(), product.shape(), op);
  if (out_shape != product.shape())
    throw ShapeError(str(op, ": input of shape ", input.shape(),
                         " does not broadcast to the product's shape ", product.shape()));
  Tensor p = scaled(product, alpha);
  if (beta == 0.0) return p;
  return add(scaled(input, beta), p);
}

void need_dim(const Tensor& t, int64_t nd, const char* op, const char* what) {
  if (t.dim() != nd)
    throw ShapeError(str(op, ": ", what, " must be a ", nd, "-D tensor, got ", t.dim(), "-D"));
}

}  // namespace

// ---- diagonals ---------------------------------------------------------------------------------
Tensor diagonal(const Tensor& a, int64_t offset, int64_t dim1, int64_t dim2) {
  if (a.dim() < 2)
    throw ShapeError(str("diagonal: expected a tensor with at least 2 dimensions, got ", a.dim()));
  wrap_pair(dim1, dim2, a.dim(), "diagonal");
  Dims sh, st;
  int64_t off;
  diagonal_geometry(a.shape(), a.strides(), offset, dim1, dim2, sh, st, off);
  Tensor out = make_view(a, sh, st, a.offset() + off);
  if (auto* n = record(diagonal_grad, {a}, out)) n->attrs = DiagAttrs{offset, dim1, dim2, a.shape()};
  return out;
}

Tensor diag_embed(const Tensor& a, int64_t offset, int64_t dim1, int64_t dim2) {
  if (a.dim() < 1) throw ShapeError("diag_embed: expected a tensor with at least 1 dimension");
  const int64_t nd = a.dim() + 1;
  wrap_pair(dim1, dim2, nd, "diag_embed");
  const int64_t n = a.shape().back() + std::abs(offset);
  Dims shape(a.shape().begin(), a.shape().end() - 1);
  int64_t lo = std::min(dim1, dim2), hi = std::max(dim1, dim2);
  shape.insert((size_t)lo, n);
  shape.insert((size_t)hi, n);
  Tensor out;
  {
    NoGradGuard ng;
    out = diagonal_scatter_zeros(a, shape, offset, dim1, dim2);
  }
  if (auto* node = record(diag_embed_grad, {a}, out)) node->attrs = DiagAttrs{offset, dim1, dim2, shape};
  return out;
}

Tensor diag(const Tensor& a, int64_t offset) {
  if (a.dim() == 1) return diag_embed(a, offset, 0, 1);
  if (a.dim() == 2) return contiguous(diagonal(a, offset, 0, 1));
  throw ShapeError(str("diag: expected a 1-D or 2-D tensor, got ", a.dim(), "-D"));
}

Tensor trace(const Tensor& a) {
  need_dim(a, 2, "trace", "input");
  if (a.dtype() == DType::Bool) throw TypeError("trace: not implemented for bool tensors");
  return sum_all(diagonal(a, 0, 0, 1));
}

Tensor tril(const Tensor& a, int64_t k) {
  Tensor out = triangle<true>(a, k, "tril");
  if (auto* n = record(tril_grad, {a}, out)) n->attrs.k = k;
  return out;
}

Tensor triu(const Tensor& a, int64_t k) {
  Tensor out = triangle<false>(a, k, "triu");
  if (auto* n = record(triu_grad, {a}, out)) n->attrs.k = k;
  return out;
}

// ---- named matrix products ---------------------------------------------------------------------
Tensor mm(const Tensor& a, const Tensor& b) {
  need_dim(a, 2, "mm", "self");
  need_dim(b, 2, "mm", "mat2");
  return matmul(a, b);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  need_dim(a, 3, "bmm", "batch1");
  need_dim(b, 3, "bmm", "batch2");
  if (a.shape()[0] != b.shape()[0])
    throw ShapeError(
        str("bmm: batch1 and batch2 must have the same batch size, got ", a.shape(), " and ", b.shape()));
  return matmul(a, b);
}

Tensor mv(const Tensor& a, const Tensor& v) {
  need_dim(a, 2, "mv", "self");
  need_dim(v, 1, "mv", "vec");
  return matmul(a, v);
}

Tensor dot(const Tensor& a, const Tensor& b) {
  if (a.dim() != 1 || b.dim() != 1)
    throw ShapeError(str("dot: 1D tensors expected, but got ", a.dim(), "D and ", b.dim(), "D tensors"));
  if (a.shape()[0] != b.shape()[0])
    throw ShapeError(str("dot: inconsistent tensor size, expected tensor [", a.shape()[0], "] and src [",
                         b.shape()[0], "] to have the same number of elements"));
  return matmul(a, b);
}

Tensor outer(const Tensor& a, const Tensor& b) {
  need_dim(a, 1, "outer", "input");
  need_dim(b, 1, "outer", "vec2");
  return mul(unsqueeze(a, 1), unsqueeze(b, 0));
}

Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, double beta, double alpha) {
  return add_product(input, mm(m1, m2), beta, alpha, "addmm");
}

Tensor addmv(const Tensor& input, const Tensor& m, const Tensor& v, double beta, double alpha) {
  return add_product(input, mv(m, v), beta, alpha, "addmv");
}

Tensor baddbmm(const Tensor& input, const Tensor& b1, const Tensor& b2, double beta, double alpha) {
  return add_product(input, bmm(b1, b2), beta, alpha, "baddbmm");
}

Tensor addbmm(const Tensor& input, const Tensor& b1, const Tensor& b2, double beta, double alpha) {
  return add_product(input, sum(bmm(b1, b2), {0}, false), beta, alpha, "addbmm");
}

Tensor t(const Tensor& a) {
  if (a.dim() > 2)
    throw ShapeError(str("t() expects a tensor with <= 2 dimensions, but self is ", a.dim(), "D"));
  return a.dim() < 2 ? a : transpose(a, 0, 1);
}

}  // namespace cr
