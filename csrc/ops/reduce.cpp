// Reductions. See Note [Determinism] in core/engine.cpp: every sum runs in an order fixed by the
// shape alone (rows in sequence, long rows in fixed-size chunks combined in order).
#include "ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include "autograd/plan.h"
#include "core/parallel.h"
#include "kernels/kernels.h"
#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/linalg.h"
#include "ops/loops.h"
#include "ops/shape.h"

namespace cr {

namespace {

template <class T> struct acc_type {
  using type = T;
};
template <> struct acc_type<float> {
  using type = double;
};
template <> struct acc_type<bool> {
  using type = int64_t;
};

constexpr int64_t kSumChunk = 8192;

// The sum of n contiguous values in eight interleaved partial sums (element i goes to sum i % 8),
// combined pairwise: the additions of one pass do not wait on each other, and the order is fixed
// by n alone.
template <class A, class T>
A serial_sum(const T* x, int64_t n) {
  A p[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) p[j] += (A)x[i + j];
  for (int j = 0; i < n; ++i, ++j) p[j] += (A)x[i];
  return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
}

// Sums x (contiguous, viewed as [outer, r, inner]) over the middle dim into out [outer, inner].
template <class T, class O>
void sum_middle(const T* x, O* out, int64_t outer, int64_t r, int64_t inner) {
  using A = typename acc_type<T>::type;
  if (inner == 1) {
    auto row_sum = [&](const T* row) {
      return parallel_reduce<A>(
          0, r, kSumChunk, A(0), [&](int64_t b, int64_t e) { return serial_sum<A>(row + b, e - b); },
          [](A p, A q) { return p + q; });
    };
    if (outer == 1) {
      out[0] = (O)row_sum(x);
      return;
    }
    parallel_for(0, outer, std::max<int64_t>(1, 32768 / std::max<int64_t>(r, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const T* row = x + o * r;
        out[o] = (O)(r <= kSumChunk ? serial_sum<A>(row, r) : row_sum(row));
      }
    });
    return;
  }
  // Column sums: each output element accumulates over r in a fixed order (col_sum); threads split
  // outputs.
  int64_t total = outer * inner;
  int64_t grain = std::max<int64_t>(16, 32768 / std::max<int64_t>(r, 1));
  parallel_for(0, total, grain, [&](int64_t b, int64_t e) {
    A small[64];  // (no allocation for up to 64 columns)
    std::vector<A> big;
    int64_t pos = b;
    while (pos < e) {
      int64_t o = pos / inner, i0 = pos % inner;
      int64_t i1 = std::min(inner, i0 + (e - pos));
      A* acc = small;
      if (i1 - i0 > 64) {
        big.assign((size_t)(i1 - i0), A(0));
        acc = big.data();
      } else {
        std::fill(small, small + (i1 - i0), A(0));
      }
      const T* base = x + o * r * inner;
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        // the chosen level's vectorized loop (Note [CPU dispatch] in kernels/kernels.h), same order
        if constexpr (std::is_same_v<T, float>) kern::table().col_sum_f32(base, r, inner, i0, i1, acc);
        else kern::table().col_sum_f64(base, r, inner, i0, i1, acc);
      } else {
        for (int64_t k = 0; k < r; ++k) {
          const T* rowp = base + k * inner;
          for (int64_t i = i0; i < i1; ++i) acc[(size_t)(i - i0)] += (A)rowp[i];
        }
      }
      for (int64_t i = i0; i < i1; ++i) out[o * inner + i] = (O)acc[(size_t)(i - i0)];
      pos += i1 - i0;
    }
  });
}

DType sum_dtype(DType d) { return d == DType::Bool ? DType::Int64 : d; }

// Sums contiguous x, viewed as [outer, r, inner], into a new tensor of out_shape.
Tensor sum_rows(const Tensor& x, const Dims& out_shape, int64_t outer, int64_t r, int64_t inner) {
  Tensor out = Tensor::empty(out_shape, sum_dtype(x.dtype()));
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      sum_middle<T, int64_t>(x.data<T>(), out.data<int64_t>(), outer, r, inner);
    } else {
      sum_middle<T, T>(x.data<T>(), out.data<T>(), outer, r, inner);
      if constexpr (std::is_floating_point_v<T>)
        CR_OFFER_DIRECT(1, "sum", [px = x.data<T>(), py = out.data<T>(), outer, r, inner, keep = x] {
          sum_middle<T, T>(px, py, outer, r, inner);
        });
    }
  });
  return out;
}

// One-dim sum of a contiguous tensor, into `out_shape` (of as many elements) or, when null, keepdim.
Tensor sum_one_dim(const Tensor& x, int64_t d, const Dims* out_shape = nullptr) {
  const Dims& s = x.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= s[i];
  for (int64_t i = d + 1; i < x.dim(); ++i) inner *= s[i];
  if (out_shape) return sum_rows(x, *out_shape, outer, s[d], inner);
  Dims keep = s;
  keep[d] = 1;
  return sum_rows(x, keep, outer, s[d], inner);
}

// The shape of a sum over the (sorted) dims rd without keepdim.
Dims reduced_shape(const Tensor& a, const std::vector<int64_t>& rd) {
  Dims s;
  for (int64_t i = 0; i < a.dim(); ++i)
    if (std::find(rd.begin(), rd.end(), i) == rd.end()) s.push_back(a.shape()[i]);
  return s;
}

/// A reduction's output gradient spread back over the input: reshaped to the keepdim shape, then
/// expanded to the input's shape.
inline Tensor unreduce(const Tensor& g, const Dims& keep_shape, const Dims& in_shape) {
  return expand(reshape(g, keep_shape), in_shape);
}

struct KeepShape {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  Dims keep_shape;
};
// PyTorch's names: SumBackward0 for a sum over everything, SumBackward1 for one over dims.
Tensor sum_backward(const GradArgs<0, KeepShape>& d) {
  return unreduce(d.grad, d.attrs.keep_shape, d.input_shape(0));
}
Tensor sum_jvp(const JvpArgs<1, 0, KeepShape>& j) {
  return reshape(sum_to(j.tangent[0], j.attrs.keep_shape), j.out.shape());
}
const auto sum_all_grad =
    with_jvp(Derivative<1, 0, KeepShape>{"SumBackward0", {"self"}, {&sum_backward}}, &sum_jvp);
const auto sum_grad =
    with_jvp(Derivative<1, 0, KeepShape>{"SumBackward1", {"self"}, {&sum_backward}}, &sum_jvp);

// mean = sum * (1 / n), as one node (MeanBackward0 / MeanBackward1): the gradient is the output
// gradient times 1 / n, spread back over the input.
struct MeanAttrs {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  Dims keep_shape;
  double scale = 1.0;
};
Tensor mean_backward(const GradArgs<0, MeanAttrs>& d) {
  return unreduce(d.grad * d.attrs.scale, d.attrs.keep_shape, d.input_shape(0));
}
Tensor mean_jvp(const JvpArgs<1, 0, MeanAttrs>& j) {
  return reshape(sum_to(j.tangent[0], j.attrs.keep_shape), j.out.shape()) * j.attrs.scale;
}
const auto mean_all_grad =
    with_jvp(Derivative<1, 0, MeanAttrs>{"MeanBackward0", {"self"}, {&mean_backward}}, &mean_jvp);
const auto mean_grad =
    with_jvp(Derivative<1, 0, MeanAttrs>{"MeanBackward1", {"self"}, {&mean_backward}}, &mean_jvp);

}  // namespace

std::vector<int64_t> reduce_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op) {
  std::vector<int64_t> out;
  out.reserve(dims.empty() ? (size_t)ndim : dims.size());  // one allocation
  if (dims.empty()) {
    for (int64_t i = 0; i < ndim; ++i) out.push_back(i);
    return out;
  }
  for (auto d : dims) {
    int64_t w = wrap_dim(d, ndim, op);
    if (ndim == 0) continue;
    if (std::find(out.begin(), out.end(), w) != out.end())
      throw ValueError(str(op, ": dim ", w, " appears multiple times in the list of dims"));
    out.push_back(w);
  }
  std::sort(out.begin(), out.end());
  return out;
}

static Tensor sum_raw(const Tensor& a, const std::vector<int64_t>& rd, Dims& keep_shape) {
  keep_shape = a.shape();
  for (auto d : rd) keep_shape[d] = 1;
  Tensor x = a.is_contiguous() ? a : contiguous_copy(a);
  if (x.dim() == 0 || (int64_t)rd.size() == x.dim()) {
    Tensor flat = reshape(x, Dims{x.numel()});
    Tensor s = sum_one_dim(flat, 0);
    return reshape(s, keep_shape);
  }
  // Reduce from the last requested dim to the first so every step stays contiguous.
  for (size_t i = rd.size(); i-- > 0;) x = sum_one_dim(x, rd[i]);
  return x;
}

// The sum of a over the (wrapped, sorted) dims rd, with no autograd record; keep_shape gets the
// keepdim shape.
static Tensor sum_unrecorded(const Tensor& a, const std::vector<int64_t>& rd, bool keepdim,
                             Dims& keep_shape) {
  NoGradGuard ng;
  if (rd.size() == (size_t)a.dim() && a.is_contiguous()) {
    // Over everything: one pass straight into the result.
    keep_shape = Dims((size_t)a.dim(), 1);
    return sum_rows(a, keepdim ? keep_shape : Dims{}, 1, a.numel(), 1);
  }
  if (rd.size() == 1 && a.is_contiguous()) {
    // Over one dim (a bias gradient's rows): one pass, straight into the result's shape.
    keep_shape = a.shape();
    keep_shape[rd[0]] = 1;
    if (keepdim) return sum_one_dim(a, rd[0]);
    const Dims s = reduced_shape(a, rd);
    return sum_one_dim(a, rd[0], &s);
  }
  Tensor out = sum_raw(a, rd, keep_shape);
  return detach(keepdim ? out : reshape(out, reduced_shape(a, rd)));
}

Tensor sum(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  CR_PLANNED_DIRECT(sum(a, dims, keepdim));
  std::vector<int64_t> rd = reduce_dims(dims, a.dim(), "sum");
  Dims keep_shape;
  Tensor out = sum_unrecorded(a, rd, keepdim, keep_shape);
  if (auto* n = record(dims.empty() ? sum_all_grad : sum_grad, {a}, out))
    n->attrs.keep_shape = std::move(keep_shape);
  return out;
}

Tensor sum_all(const Tensor& a) { return sum(a, {}, false); }

Tensor sum_to(const Tensor& g, const Dims& shape) {
  if (g.shape() == shape) return g;
  CR_PLANNED_DIRECT(
      sum_to(g, shape));  // (after the return above: a plan keeping g would change its use count)
  int64_t lead = g.dim() - (int64_t)shape.size();
  if (lead < 0) throw ShapeError(str("sum_to: cannot reduce shape ", g.shape(), " to ", shape));
  std::vector<int64_t> dims;
  dims.reserve((size_t)g.dim());
  bool only_leading = true;  // then the sum without keepdim has `shape` already (a bias gradient)
  for (int64_t i = 0; i < g.dim(); ++i) {
    if (i < lead) {
      dims.push_back(i);
      continue;
    }
    int64_t want = shape[i - lead];
    if (want == g.shape()[i]) continue;
    if (want != 1) throw ShapeError(str("sum_to: cannot reduce shape ", g.shape(), " to ", shape));
    dims.push_back(i);
    only_leading = false;
  }
  if (dims.empty()) return reshape(g, shape);
  if (only_leading) return sum(g, dims, false);
  return reshape(sum(g, dims, true), shape);
}

// ---- differentiable building blocks ---------------------------------------------------------
// ---- x ** p with an optional zero gradient at 0 (the roots in std and norm) ----------------
namespace {

struct PowAttrs {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  double p = 1.0;
  bool zero_at_zero = false;
};
const auto pow_zero_safe_grad = with_jvp(
    Derivative<1, 1, PowAttrs>{"PowBackward0",
                               {"self"},
                               {[](const auto& d) {
                                 const Tensor& x = d.saved[0];
                                 const double p = d.attrs.p;
                                 if (!d.attrs.zero_at_zero) return d.grad * (pow_zero_safe(x, p - 1.0) * p);
                                 // x ** (p - 1) is taken of 1 where x is 0, so no inf enters the graph of a
                                 // second derivative
                                 Tensor at_zero = eq(x, 0.0);
                                 Tensor safe = where(at_zero, scalar_tensor(1.0, x.dtype()), x);
                                 return keep_where(!at_zero, d.grad * (pow_zero_safe(safe, p - 1.0) * p));
                               }},
                               {{{"self"}}}},
    jvp_elementwise);

}  // namespace

Tensor pow_zero_safe(const Tensor& x, double p, bool zero_grad_at_zero) {
  Tensor out = dispatch_floating(x.dtype(), "pow", [&](auto tag) {
    using T = decltype(tag);
    if (p == 2.0) return map_unary<T, T>(x, [](T v) { return v * v; });
    if (p == 1.0) return map_unary<T, T>(x, [](T v) { return v; });
    if (p == 0.5) return map_unary<T, T>(x, [](T v) { return std::sqrt(v); });
    T pp = (T)p;
    return map_unary<T, T>(x, [pp](T v) { return std::pow(v, pp); });
  });
  if (auto* n = record(pow_zero_safe_grad, {x}, out, {x})) n->attrs = PowAttrs{p, zero_grad_at_zero};
  return out;
}

// ---- reductions beyond sum ------------------------------------------------------------------
namespace {

// A tensor seen as [outer, r, inner] (contiguous), reducing the middle dim. One reduced dim is
// used in place; several are permuted to the end and copied, so that r covers all of them.
struct Rows {
  Tensor x;
  int64_t outer = 1, r = 1, inner = 1;
  Dims keep_shape, out_shape;
};

Rows as_rows(const Tensor& a, const std::vector<int64_t>& rd, bool keepdim) {
  NoGradGuard ng;
  Rows rows;
  rows.keep_shape = a.shape();
  for (auto d : rd) rows.keep_shape[d] = 1;
  for (int64_t i = 0; i < a.dim(); ++i)
    if (keepdim || std::find(rd.begin(), rd.end(), i) == rd.end())
      rows.out_shape.push_back(rows.keep_shape[i]);
  if (rd.size() <= 1) {
    rows.x = a.is_contiguous() ? a : contiguous_copy(a);
    if (rd.empty()) return rows;  // 0-dim input
    int64_t d = rd[0];
    for (int64_t i = 0; i < d; ++i) rows.outer *= a.shape()[i];
    rows.r = a.shape()[d];
    for (int64_t i = d + 1; i < a.dim(); ++i) rows.inner *= a.shape()[i];
    return rows;
  }
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < a.dim(); ++i)
    if (std::find(rd.begin(), rd.end(), i) == rd.end()) {
      perm.push_back(i);
      rows.outer *= a.shape()[i];
    }
  for (auto d : rd) {
    perm.push_back(d);
    rows.r *= a.shape()[d];
  }
  Tensor p = permute(a, perm);
  rows.x = p.is_contiguous() ? p : contiguous_copy(p);
  return rows;
}

// Calls f(out_index, row_pointer, stride) for every (outer, inner) row; each row runs in
// sequence on one thread, so results never depend on the thread count.
template <class T, class F>
void for_each_row(const Rows& rows, const F& f) {
  const T* x = rows.x.data<T>();
  int64_t total = rows.outer * rows.inner, inner = rows.inner, r = rows.r;
  int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(r, 1));
  parallel_for(0, total, grain, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) {
      int64_t o = j / inner, i = j % inner;
      f(j, x + o * r * inner + i, inner);
    }
  });
}

void check_nonempty(const Rows& rows, const Tensor& a, const char* op) {
  if (rows.r == 0 && rows.outer * rows.inner > 0)
    throw ValueError(str(op, "(): cannot reduce over a dimension of size 0 (input shape ", a.shape(),
                         "); specify a non-empty dim"));
  if (a.numel() == 0 && rows.outer * rows.inner == 0 && rows.r == 0)
    throw ValueError(str(op, "(): cannot reduce a tensor with no elements (input shape ", a.shape(), ")"));
}

// Index of the extreme element of a row: the first one; NaN beats everything.
template <class T, bool kMax>
int64_t extreme_index(const T* p, int64_t n, int64_t stride) {
  int64_t best = 0;
  T bv = p[0];
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(bv)) return 0;
  }
  for (int64_t k = 1; k < n; ++k) {
    T v = p[k * stride];
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(v)) return k;
    }
    if (kMax ? v > bv : v < bv) {
      bv = v;
      best = k;
    }
  }
  return best;
}

// amax/amin: ties split the gradient evenly.
struct ReducedDims {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  Dims keep_shape;
  std::vector<int64_t> dims;
};
Tensor amax_amin_backward(const GradArgs<2, ReducedDims>& d) {
  const Tensor &x = d.saved[0], &result = d.saved[1];
  Tensor share;
  {
    NoGradGuard ng;
    Tensor mask = to_dtype(eq(x, reshape(result, d.attrs.keep_shape)), d.grad.dtype());
    share = mask / sum(mask, d.attrs.dims, true);
  }
  return share * unreduce(d.grad, d.attrs.keep_shape, d.input_shape(0));
}
// The tangent of amax/amin: the mean of the tangents at the positions that attain the extremum
// (PyTorch's rule, matching the gradient's even split among ties).
template <class A>
Tensor jvp_amax_amin(const A& j) {
  const Dims& keep = j.attrs.keep_shape;
  Tensor hit = to_dtype(eq(j.primal[0], reshape(j.out, keep)), j.out.dtype());
  return reshape(sum_to(hit * j.tangent[0], keep) / sum_to(hit, keep), j.out.shape());
}
const auto amax_grad = with_jvp(
    Derivative<1, 2, ReducedDims>{"AmaxBackward0", {"self"}, {amax_amin_backward}, {{{"self"}, {"result"}}}},
    jvp_amax_amin);
const auto amin_grad = with_jvp(
    Derivative<1, 2, ReducedDims>{"AminBackward0", {"self"}, {amax_amin_backward}, {{{"self"}, {"result"}}}},
    jvp_amax_amin);

// One-hot of `idx` (keepdim shape) along `dim` of `shape`, as a constant of dtype dt.
Tensor onehot_along(const Tensor& idx, int64_t dim, const Dims& shape, DType dt) {
  Tensor out = zeros(shape, dt);
  int64_t outer = 1, r = shape[dim], inner = 1;
  for (int64_t i = 0; i < dim; ++i) outer *= shape[i];
  for (int64_t i = dim + 1; i < (int64_t)shape.size(); ++i) inner *= shape[i];
  Tensor ic = idx.is_contiguous() ? idx : contiguous_copy(idx);
  const int64_t* ip = ic.data<int64_t>();
  dispatch_floating(dt, "max", [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    for (int64_t j = 0; j < outer * inner; ++j) {
      int64_t oo = j / inner, i = j % inner;
      o[oo * r * inner + ip[j] * inner + i] = T(1);
    }
  });
  return out;
}

// max/min along a dim: the gradient goes to the selected index.
struct Selected {
  Tensor indices;  // int64, keepdim shape; never part of a graph
  Dims keep_shape;
  int64_t dim = 0;
};
const Derivative<1, 0, Selected> max_dim_grad{"MaxBackward0", {"self"}, {[](const auto& d) {
                                                const Dims& in_shape = d.input_shape(0);
                                                Tensor sel;
                                                {
                                                  NoGradGuard ng;
                                                  sel = onehot_along(d.attrs.indices, d.attrs.dim, in_shape,
                                                                     d.grad.dtype());
                                                }
                                                return sel * unreduce(d.grad, d.attrs.keep_shape, in_shape);
                                              }}};

Tensor aminmax(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim, bool is_max) {
  const char* op = is_max ? "amax" : "amin";
  std::vector<int64_t> rd = reduce_dims(dims, a.dim(), op);
  Rows rows = as_rows(a, rd, keepdim);
  check_nonempty(rows, a, op);
  Tensor out = Tensor::empty(rows.out_shape, a.dtype());
  dispatch_numeric(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    for_each_row<T>(rows, [&](int64_t j, const T* p, int64_t s) {
      o[j] = p[(is_max ? extreme_index<T, true>(p, rows.r, s) : extreme_index<T, false>(p, rows.r, s)) * s];
    });
  });
  if (auto* n = record(is_max ? amax_grad : amin_grad, {a}, out, {a, output(out)}))
    n->attrs = ReducedDims{rows.keep_shape, rd};
  return out;
}

std::pair<Tensor, Tensor> minmax_dim(const Tensor& a, int64_t dim, bool keepdim, bool is_max) {
  const char* op = is_max ? "max" : "min";
  std::vector<int64_t> rd = reduce_dims({dim}, a.dim(), op);
  Rows rows = as_rows(a, rd, keepdim);
  check_nonempty(rows, a, op);
  Tensor values = Tensor::empty(rows.out_shape, a.dtype());
  Tensor indices = Tensor::empty(rows.out_shape, DType::Int64);
  dispatch_numeric(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* v = values.data<T>();
    int64_t* ix = indices.data<int64_t>();
    for_each_row<T>(rows, [&](int64_t j, const T* p, int64_t s) {
      int64_t k = is_max ? extreme_index<T, true>(p, rows.r, s) : extreme_index<T, false>(p, rows.r, s);
      v[j] = p[k * s];
      ix[j] = k;
    });
  });
  if (!rd.empty()) {
    if (auto* n = record(max_dim_grad, {a}, values))
      n->attrs = Selected{make_view(indices, rows.keep_shape, contiguous_strides(rows.keep_shape), 0),
                          rows.keep_shape, rd[0]};
  } else {
    record(is_max ? amax_grad : amin_grad, {a}, values,
           {a, output(values)});  // 0-dim input: the value itself
  }
  return {values, indices};
}

Tensor arg_extreme(const Tensor& a, bool has_dim, int64_t dim, bool keepdim, bool is_max) {
  const char* op = is_max ? "argmax" : "argmin";
  Tensor x = a;
  std::vector<int64_t> rd;
  if (has_dim) {
    rd = reduce_dims({dim}, a.dim(), op);
  } else {
    NoGradGuard ng;
    x = reshape(a, Dims{a.numel()});
    rd = {0};
  }
  Rows rows = as_rows(x, rd, keepdim);
  // As PyTorch: IndexError for an empty reduced dim (or an empty input without dim); an empty
  // result when only the other dims are empty.
  if (!has_dim && a.numel() == 0)
    throw IndexError(str(op, "(): expected a dim for an input with no elements (input shape ", a.shape(),
                         "); pass dim= to reduce a non-empty dim"));
  if (rows.r == 0)
    throw IndexError(str(op, "(): expected reduction dim ", rd.empty() ? 0 : rd[0],
                         " to have non-zero size (input shape ", a.shape(), ")"));
  Tensor out = Tensor::empty(rows.out_shape, DType::Int64);
  dispatch_numeric(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    int64_t* o = out.data<int64_t>();
    for_each_row<T>(rows, [&](int64_t j, const T* p, int64_t s) {
      o[j] = is_max ? extreme_index<T, true>(p, rows.r, s) : extreme_index<T, false>(p, rows.r, s);
    });
  });
  if (!has_dim && keepdim) return reshape(out, Dims(a.dim(), 1));
  return out;
}

// d lse / dx = exp(x - lse)
const auto logsumexp_grad =
    with_jvp(Derivative<1, 2, KeepShape>{"LogsumexpBackward0",
                                         {"self"},
                                         {[](const auto& d) {
                                           const Tensor &x = d.saved[0], &result = d.saved[1];
                                           const Dims& keep = d.attrs.keep_shape;
                                           return exp(x - reshape(result, keep)) *
                                                  unreduce(d.grad, keep, d.input_shape(0));
                                         }},
                                         {{{"self"}, {"result"}}}},
             [](const auto& j) {
               const Dims& keep = j.attrs.keep_shape;
               Tensor w = exp(j.primal[0] - reshape(j.out, keep));
               return reshape(sum_to(w * j.tangent[0], keep), j.out.shape());
             });

double reduced_count(const Tensor& a, const std::vector<int64_t>& rd) {
  double n = 1;
  for (auto d : rd) n *= (double)a.shape()[d];
  return n;
}

}  // namespace

Tensor mean(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  CR_PLANNED_DIRECT(mean(a, dims, keepdim));
  if (!is_floating(a.dtype()))
    throw TypeError(
        str("mean(): could not infer output dtype. Input dtype must be either a floating point "
            "or complex dtype. Got: ",
            dtype_name(a.dtype()), " (convert first, e.g. x.float().mean() or mean(x, dtype=float32))"));
  std::vector<int64_t> rd = reduce_dims(dims, a.dim(), "mean");
  const double scale = 1.0 / reduced_count(a, rd);
  Dims keep_shape;
  Tensor out = sum_unrecorded(a, rd, keepdim, keep_shape);
  dispatch_floating(out.dtype(), "mean", [&](auto tag) {
    using T = decltype(tag);
    const T v = static_cast<T>(scale);  // as mul_scalar rounds it
    T* p = out.data<T>();
    auto scale_sum = [p, v, n = out.numel()] {
      for (int64_t i = 0; i < n; ++i) p[i] = p[i] * v;
    };
    scale_sum();
    CR_EXTEND_DIRECT("mean", scale_sum);
  });
  if (auto* n = record(dims.empty() ? mean_all_grad : mean_grad, {a}, out)) {
    n->attrs.keep_shape = std::move(keep_shape);
    n->attrs.scale = scale;
  }
  return out;
}

namespace {
struct VarAttrs {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  Dims keep_shape;
  std::vector<int64_t> dims;
  double divisor = 1.0;  // n - correction, as is: the gradient divides by it even when <= 0, as PyTorch
};
// var = sum((x - mean)^2) / max(0, n - correction); d var / dx = 2 (x - mean) / (n - correction)
const auto var_grad =
    with_jvp(Derivative<1, 1, VarAttrs>{"VarBackward0",
                                        {"self"},
                                        {[](const auto& d) {
                                          const Tensor& x = d.saved[0];
                                          Tensor centered = sub(x, mean(x, d.attrs.dims, true));
                                          Tensor g = unreduce(d.grad, d.attrs.keep_shape, x.shape());
                                          return g * centered * (2.0 / d.attrs.divisor);
                                        }},
                                        {{{"self"}}}},
             [](const auto& j) {
               const Tensor& x = j.primal[0];
               Tensor centered = sub(x, mean(x, j.attrs.dims, true));
               return reshape(sum_to(centered * j.tangent[0], j.attrs.keep_shape), j.out.shape()) *
                      (2.0 / j.attrs.divisor);
             });
}  // namespace

Tensor var(const Tensor& a, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  if (!is_floating(a.dtype()))
    throw TypeError(str("var(): expected a floating point input, got ", dtype_name(a.dtype()),
                        " (convert first, e.g. x.double())"));
  std::vector<int64_t> rd = reduce_dims(dims, a.dim(), "var");
  double n = reduced_count(a, rd);
  Tensor out;
  {
    NoGradGuard ng;
    Tensor d = sub(a, mean(a, dims, true));
    out = mul_scalar(sum(mul(d, d), dims, keepdim), 1.0 / std::max(0.0, n - correction));
  }
  if (auto* node = record(var_grad, {a}, out, {a})) {
    Dims keep = a.shape();
    for (int64_t d : rd) keep[(size_t)d] = 1;
    node->attrs = VarAttrs{keep, rd, n - correction};
  }
  return out;
}

Tensor std_dev(const Tensor& a, const std::vector<int64_t>& dims, double correction, bool keepdim) {
  return pow_zero_safe(var(a, dims, correction, keepdim), 0.5, true);
}

Tensor amax(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  return aminmax(a, dims, keepdim, true);
}
Tensor amin(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  return aminmax(a, dims, keepdim, false);
}
std::pair<Tensor, Tensor> max_dim(const Tensor& a, int64_t dim, bool keepdim) {
  return minmax_dim(a, dim, keepdim, true);
}
std::pair<Tensor, Tensor> min_dim(const Tensor& a, int64_t dim, bool keepdim) {
  return minmax_dim(a, dim, keepdim, false);
}
Tensor argmax(const Tensor& a, bool has_dim, int64_t dim, bool keepdim) {
  return arg_extreme(a, has_dim, dim, keepdim, true);
}
Tensor argmin(const Tensor& a, bool has_dim, int64_t dim, bool keepdim) {
  return arg_extreme(a, has_dim, dim, keepdim, false);
}

Tensor norm(const Tensor& a, double p, const std::vector<int64_t>& dims, bool keepdim) {
  if (!is_floating(a.dtype()))
    throw TypeError(str("norm(): input dtype should be floating point, got ", dtype_name(a.dtype()),
                        " (convert first, e.g. x.float())"));
  if (p == 2.0) return pow_zero_safe(sum(mul(a, a), dims, keepdim), 0.5, true);
  Tensor ab = abs(a);
  if (p == 1.0) return sum(ab, dims, keepdim);
  if (std::isinf(p)) {
    std::vector<int64_t> rd = reduce_dims(dims, a.dim(), "norm");
    if (a.numel() == 0 && reduced_count(a, rd) == 0)
      throw ValueError(
          str("norm(): the ", p > 0 ? "inf" : "-inf",
              " norm of an empty reduction has no identity (the reduced dims must have non-zero size)"));
    return p > 0 ? amax(ab, dims, keepdim) : amin(ab, dims, keepdim);
  }
  if (p == 0.0) {
    Tensor nz;
    {
      NoGradGuard ng;
      nz = to_dtype(
          sum(to_dtype(compare(a, scalar_tensor(0.0, a.dtype()), CmpOp::Ne), DType::Int64), dims, keepdim),
          a.dtype());
    }
    return add(sum(mul_scalar(a, 0.0), dims, keepdim), nz);  // zero gradient, as PyTorch
  }
  return pow_zero_safe(sum(pow_zero_safe(ab, p), dims, keepdim), 1.0 / p, true);
}

Tensor logsumexp(const Tensor& a0, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor a = is_floating(a0.dtype()) ? a0 : to_dtype(a0, DType::Float32);
  std::vector<int64_t> rd = reduce_dims(dims, a.dim(), "logsumexp");
  Rows rows = as_rows(a, rd, keepdim);
  Tensor out = Tensor::empty(rows.out_shape, a.dtype());
  dispatch_floating(a.dtype(), "logsumexp", [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    for_each_row<T>(rows, [&](int64_t j, const T* p, int64_t s) {
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t k = 0; k < rows.r; ++k) m = std::max(m, p[k * s]);
      if (std::isinf(m)) m = T(0);
      double acc = 0;
      for (int64_t k = 0; k < rows.r; ++k) acc += std::exp((double)(p[k * s] - m));
      o[j] = (T)(std::log(acc) + (double)m);
    });
  });
  if (auto* n = record(logsumexp_grad, {a}, out, {a, output(out)})) n->attrs.keep_shape = rows.keep_shape;
  return out;
}

namespace {
// d prod / dx_i = prod / x_i. With a zero in the input, prod_{j != i} x_j is computed without
// dividing, from an r x r matrix per row (x with its diagonal set to 1): O(r^2), only on that path.
Tensor prod_backward(const GradArgs<2, ReducedDims>& d) {
  const Tensor& xv = d.saved[0];
  const Dims& in_shape = d.input_shape(0);
  const Dims& keep_shape = d.attrs.keep_shape;
  const std::vector<int64_t>& rd = d.attrs.dims;
  bool has_zero;
  {
    NoGradGuard ng;
    has_zero = item_as_double(sum(to_dtype(eq(xv, 0.0), DType::Int64), {}, false)) > 0;
  }
  if (!has_zero)
    return unreduce(d.saved[1], keep_shape, in_shape) / xv * unreduce(d.grad, keep_shape, in_shape);
  std::vector<int64_t> perm;
  Dims moved;
  int64_t outer = 1, r = 1;
  for (int64_t i = 0; i < xv.dim(); ++i)
    if (std::find(rd.begin(), rd.end(), i) == rd.end()) {
      perm.push_back(i);
      outer *= xv.shape()[i];
      moved.push_back(xv.shape()[i]);
    }
  for (auto k : rd) {
    perm.push_back(k);
    r *= xv.shape()[k];
    moved.push_back(xv.shape()[k]);
  }
  Tensor rows = reshape(permute(xv, perm), Dims{outer, r});
  Tensor eye = zeros(Dims{r, r}, xv.dtype());
  dispatch_floating(xv.dtype(), "prod", [&](auto tag) {
    using T = decltype(tag);
    for (int64_t i = 0; i < r; ++i) eye.data<T>()[i * r + i] = T(1);
  });
  Tensor xr = expand(reshape(rows, Dims{outer, r, 1}), Dims{outer, r, r});
  Tensor m =
      where(compare(eye, scalar_tensor(1.0, xv.dtype()), CmpOp::Eq), scalar_tensor(1.0, xv.dtype()), xr);
  Tensor others = prod(m, {1}, false);  // [outer, r]
  // back to the input layout
  Tensor o = reshape(others, moved);
  std::vector<int64_t> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = (int64_t)i;
  o = permute(o, inv);
  return o * unreduce(d.grad, keep_shape, in_shape);
}
const Derivative<1, 2, ReducedDims> prod_grad{
    "ProdBackward0", {"self"}, {prod_backward}, {{{"self"}, {"result"}}}};
}  // namespace

Tensor prod(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  std::vector<int64_t> rd = reduce_dims(dims, a.dim(), "prod");
  Rows rows = as_rows(a, rd, keepdim);
  DType odt = a.dtype() == DType::Bool ? DType::Int64 : a.dtype();
  Tensor x = rows.x.dtype() == odt ? rows.x : contiguous_copy_as(rows.x, odt);
  rows.x = x;
  Tensor out = Tensor::empty(rows.out_shape, odt);
  dispatch_numeric(odt, "prod", [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    for_each_row<T>(rows, [&](int64_t j, const T* p, int64_t s) {
      T acc = T(1);
      for (int64_t k = 0; k < rows.r; ++k) acc *= p[k * s];
      o[j] = acc;
    });
  });
  if (!rd.empty()) {
    if (auto* n = record(prod_grad, {a}, out, {a, output(out)})) n->attrs = ReducedDims{rows.keep_shape, rd};
  } else if (needs_grad(a)) {
    return clone(a);
  }
  return out;
}

}  // namespace cr

// ---- logical and counting reductions ------------------------------------------------------------
namespace cr {

namespace {

// Counts the nonzero elements of each row; all/any stop at the first element that decides.
enum class Truth { All, Any, Count };
Tensor truth_reduce(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim, Truth kind,
                    const char* op) {
  std::vector<int64_t> rd = reduce_dims(dims, a.dim(), op);
  Rows rows = as_rows(a, rd, keepdim);
  Tensor out = Tensor::empty(rows.out_shape, kind == Truth::Count ? DType::Int64 : DType::Bool);
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_row<T>(rows, [&](int64_t j, const T* p, int64_t s) {
      if (kind == Truth::Count) {
        int64_t c = 0;
        for (int64_t k = 0; k < rows.r; ++k) c += p[k * s] != T(0);
        out.data<int64_t>()[j] = c;
        return;
      }
      const bool want = kind == Truth::Any;  // the element value that decides
      bool r = !want;
      for (int64_t k = 0; k < rows.r; ++k)
        if ((p[k * s] != T(0)) == want) {
          r = want;
          break;
        }
      out.data<bool>()[j] = r;
    });
  });
  return out;
}

Tensor isnan_mask(const Tensor& a) { return compare(a, a, CmpOp::Ne); }

// cdist forward: out[b, i, j] = ||x1[b, i] - x2[b, j]||_p, accumulated in double.
struct CdistAttrs {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  double p = 2.0;
};

template <class T>
void cdist_kernel(const T* x1, const T* x2, T* out, int64_t batches, int64_t P, int64_t R, int64_t M,
                  double p) {
  parallel_for(0, batches * P, std::max<int64_t>(1, 32768 / std::max<int64_t>(R * M, 1)),
               [&](int64_t b0, int64_t e0) {
                 for (int64_t bi = b0; bi < e0; ++bi) {
                   int64_t b = bi / P;
                   const T* u = x1 + bi * M;
                   for (int64_t j = 0; j < R; ++j) {
                     const T* v = x2 + (b * R + j) * M;
                     double acc = 0;
                     for (int64_t m = 0; m < M; ++m) {
                       double d = std::abs((double)u[m] - (double)v[m]);
                       if (p == 2.0) acc += d * d;
                       else if (p == 1.0) acc += d;
                       else if (p == 0.0) acc += d != 0.0;
                       else if (std::isinf(p)) acc = std::max(acc, d);
                       else acc += std::pow(d, p);
                     }
                     if (p == 2.0) acc = std::sqrt(acc);
                     else if (p != 1.0 && p != 0.0 && !std::isinf(p)) acc = std::pow(acc, 1.0 / p);
                     out[bi * R + j] = (T)acc;
                   }
                 }
               });
}

// d dist_ij / d x1_i = sign(x1_i - x2_j) * |x1_i - x2_j|^(p-1) / dist_ij^(p-1), and the opposite
// for x2_j; every entry with a zero distance (or, below p = 1, a zero difference) gets 0. For p = 2
// that is W (x1_i - x2_j) with W = g / dist, summed with two matrix products instead of the
// [B, P, R, M] differences.
TensorList cdist_backward(const GradArgs<3, CdistAttrs>& d) {
  const Tensor &x1 = d.saved[0], &x2 = d.saved[1], &dist = d.saved[2];
  const double p = d.attrs.p;
  const Tensor& g = d.grad;
  Tensor zero_dist = eq(dist, 0.0);
  if (p == 0.0) return {zeros(x1.shape(), x1.dtype()), zeros(x2.shape(), x2.dtype())};
  if (p == 2.0) {
    Tensor w = keep_where(!zero_dist, g / where(zero_dist, scalar_tensor(1.0, dist.dtype()), dist));
    Tensor g1, g2;
    if (d.needs(0)) g1 = x1 * sum(w, {2}, true) - matmul(w, x2);
    if (d.needs(1)) g2 = x2 * unsqueeze(sum(w, {1}, false), 2) - matmul(transpose(w, 1, 2), x1);
    return {g1, g2};
  }
  Tensor diff = unsqueeze(x1, 2) - unsqueeze(x2, 1);  // [B, P, R, M]
  Tensor s = sign(diff);
  Tensor contrib;
  if (p == 1.0) {
    contrib = s * unsqueeze(g, 3);
  } else if (std::isinf(p)) {
    Tensor at_max = to_dtype(eq(abs(diff), unsqueeze(dist, 3)), diff.dtype());
    contrib = s * at_max * unsqueeze(g, 3);
  } else {
    Tensor zero_diff = eq(diff, 0.0);
    Tensor one = scalar_tensor(1.0, diff.dtype());
    Tensor mag = keep_where(!zero_diff, s * pow_scalar(where(zero_diff, one, abs(diff)), p - 1.0));
    Tensor scale = keep_where(!zero_dist, g / pow_scalar(where(zero_dist, one, dist), p - 1.0));
    contrib = mag * unsqueeze(scale, 3);
  }
  Tensor g1, g2;
  if (d.needs(0)) g1 = sum(contrib, {2}, false);
  if (d.needs(1)) g2 = -sum(contrib, {1}, false);
  return {g1, g2};
}
const Derivative<2, 3, CdistAttrs> cdist_grad{
    "CdistBackward0", {"x1", "x2"}, {nullptr, nullptr}, {{{"x1"}, {"x2"}, {"result"}}}, cdist_backward};

}  // namespace

Tensor all(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  return truth_reduce(a, dims, keepdim, Truth::All, "all");
}
Tensor any(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  return truth_reduce(a, dims, keepdim, Truth::Any, "any");
}
Tensor count_nonzero(const Tensor& a, const std::vector<int64_t>& dims) {
  return truth_reduce(a, dims, false, Truth::Count, "count_nonzero");
}

std::pair<Tensor, Tensor> aminmax(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  if (a.dtype() == DType::Bool) {
    std::vector<int64_t> rd = reduce_dims(dims, a.dim(), "aminmax");
    check_nonempty(as_rows(a, rd, keepdim), a, "aminmax");
    return {all(a, dims, keepdim), any(a, dims, keepdim)};
  }
  return {aminmax(a, dims, keepdim, false), aminmax(a, dims, keepdim, true)};
}

Tensor nansum(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  if (!is_floating(a.dtype())) return sum(a, dims, keepdim);
  Tensor nan;
  {
    NoGradGuard ng;
    nan = isnan_mask(a);
  }
  return sum(masked_fill(a, nan, 0.0), dims, keepdim);
}

Tensor nanmean(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  if (!is_floating(a.dtype()))
    throw TypeError(str("nanmean(): expected a floating point input, got ", dtype_name(a.dtype()),
                        " (convert first, e.g. x.double())"));
  Tensor count;
  {
    NoGradGuard ng;
    count = to_dtype(sum(logical_not(isnan_mask(a)), dims, keepdim), a.dtype());
  }
  return nansum(a, dims, keepdim) / count;
}

std::pair<Tensor, Tensor> var_mean(const Tensor& a, const std::vector<int64_t>& dims, double correction,
                                   bool keepdim) {
  return {var(a, dims, correction, keepdim), mean(a, dims, keepdim)};
}
std::pair<Tensor, Tensor> std_mean(const Tensor& a, const std::vector<int64_t>& dims, double correction,
                                   bool keepdim) {
  return {std_dev(a, dims, correction, keepdim), mean(a, dims, keepdim)};
}

Tensor dist(const Tensor& a, const Tensor& b, double p) {
  DType dt = result_type(a, b);
  if (!is_floating(dt))
    throw TypeError(str("dist(): expected floating point inputs, got ", dtype_name(a.dtype()), " and ",
                        dtype_name(b.dtype()), " (convert first, e.g. x.double())"));
  return norm(sub(a, b), p, {}, false);
}

Tensor cdist(const Tensor& x1, const Tensor& x2, double p) {
  if (x1.dim() < 2 || x2.dim() < 2)
    throw ShapeError(
        str("cdist(): expected inputs with at least 2 dims, got shapes ", x1.shape(), " and ", x2.shape()));
  if (!is_floating(x1.dtype()) || !is_floating(x2.dtype()))
    throw TypeError(str("cdist(): expected floating point inputs, got ", dtype_name(x1.dtype()), " and ",
                        dtype_name(x2.dtype())));
  if (x1.dtype() != x2.dtype())
    throw TypeError(str("cdist(): expected inputs of one dtype, got ", dtype_name(x1.dtype()), " and ",
                        dtype_name(x2.dtype()), " (convert one first)"));
  const int64_t M = x1.shape().back(), P = x1.size(x1.dim() - 2), R = x2.size(x2.dim() - 2);
  if (x2.shape().back() != M)
    throw ShapeError(str("cdist(): x1 and x2 must have the same number of columns, got shapes ", x1.shape(),
                         " and ", x2.shape()));
  if (!(p >= 0.0)) throw ValueError(str("cdist(): p must be non-negative, got ", p));
  Dims b1(x1.shape().begin(), x1.shape().end() - 2), b2(x2.shape().begin(), x2.shape().end() - 2);
  Dims batch = broadcast_shapes(b1, b2, "cdist");
  int64_t nb = numel_of(batch);
  Dims s1 = batch, s2 = batch, so = batch;
  for (int64_t v : {P, M}) s1.push_back(v);
  for (int64_t v : {R, M}) s2.push_back(v);
  for (int64_t v : {P, R}) so.push_back(v);
  // Batch dims broadcast and flattened (differentiably: expand sums its gradient back).
  Tensor a = reshape(expand(x1, s1), Dims{nb, P, M}), b = reshape(expand(x2, s2), Dims{nb, R, M});
  Tensor ac = a.is_contiguous() ? a : contiguous_copy(a), bc = b.is_contiguous() ? b : contiguous_copy(b);
  Tensor out = Tensor::empty(Dims{nb, P, R}, x1.dtype());
  dispatch_floating(x1.dtype(), "cdist", [&](auto tag) {
    using T = decltype(tag);
    cdist_kernel<T>(ac.data<T>(), bc.data<T>(), out.data<T>(), nb, P, R, M, p);
  });
  if (auto* n = record(cdist_grad, {a, b}, out, {a, b, output(out)})) n->attrs.p = p;
  return reshape(out, so);
}

}  // namespace cr
