// Reductions. See Note [Determinism] in core/engine.cpp: every sum runs in an order fixed by the
// shape alone (rows in sequence, long rows in fixed-size chunks combined in order).
#include "ops/reduce.h"

#include <algorithm>
#include "core/node.h"
#include "core/parallel.h"
#include "ops/creation.h"
#include "ops/shape.h"

namespace cr {

namespace {

template <class T> struct acc_type { using type = T; };
template <> struct acc_type<float> { using type = double; };
template <> struct acc_type<bool> { using type = int64_t; };

constexpr int64_t kSumChunk = 8192;

// Sums x (contiguous, viewed as [outer, r, inner]) over the middle dim into out [outer, inner].
template <class T, class O>
void sum_middle(const T* x, O* out, int64_t outer, int64_t r, int64_t inner) {
  using A = typename acc_type<T>::type;
  if (inner == 1) {
    auto row_sum = [&](const T* row) {
      return parallel_reduce<A>(0, r, kSumChunk, A(0),
          [&](int64_t b, int64_t e) { A s = 0; for (int64_t i = b; i < e; ++i) s += (A)row[i]; return s; },
          [](A p, A q) { return p + q; });
    };
    if (outer == 1) { out[0] = (O)row_sum(x); return; }
    parallel_for(0, outer, std::max<int64_t>(1, 32768 / std::max<int64_t>(r, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const T* row = x + o * r;
        A s = 0;
        if (r <= kSumChunk) { for (int64_t i = 0; i < r; ++i) s += (A)row[i]; }
        else s = row_sum(row);
        out[o] = (O)s;
      }
    });
    return;
  }
  // Column sums: each output element accumulates over r in order; threads split outputs.
  int64_t total = outer * inner;
  int64_t grain = std::max<int64_t>(16, 32768 / std::max<int64_t>(r, 1));
  parallel_for(0, total, grain, [&](int64_t b, int64_t e) {
    std::vector<A> acc;
    int64_t pos = b;
    while (pos < e) {
      int64_t o = pos / inner, i0 = pos % inner;
      int64_t i1 = std::min(inner, i0 + (e - pos));
      acc.assign((size_t)(i1 - i0), A(0));
      const T* base = x + o * r * inner;
      for (int64_t k = 0; k < r; ++k) {
        const T* rowp = base + k * inner;
        for (int64_t i = i0; i < i1; ++i) acc[(size_t)(i - i0)] += (A)rowp[i];
      }
      for (int64_t i = i0; i < i1; ++i) out[o * inner + i] = (O)acc[(size_t)(i - i0)];
      pos += i1 - i0;
    }
  });
}

DType sum_dtype(DType d) { return d == DType::Bool ? DType::Int64 : d; }

// One-dim sum of a contiguous tensor, keepdim.
Tensor sum_one_dim(const Tensor& x, int64_t d) {
  Dims out_shape = x.shape();
  int64_t r = out_shape[d];
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= out_shape[i];
  for (int64_t i = d + 1; i < x.dim(); ++i) inner *= out_shape[i];
  out_shape[d] = 1;
  Tensor out = Tensor::empty(out_shape, sum_dtype(x.dtype()));
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) sum_middle<T, int64_t>(x.data<T>(), out.data<int64_t>(), outer, r, inner);
    else sum_middle<T, T>(x.data<T>(), out.data<T>(), outer, r, inner);
  });
  return out;
}

struct SumBackward final : Node {
  Dims in_shape, keep_shape;
  TensorList apply(TensorList&& g) override {
    return {expand(reshape(g[0], keep_shape), in_shape)};
  }
  std::string name() const override { return "SumBackward1"; }
};

}  // namespace

std::vector<int64_t> reduce_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op) {
  std::vector<int64_t> out;
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

Tensor sum(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  std::vector<int64_t> rd = reduce_dims(dims, a.dim(), "sum");
  Dims keep_shape;
  Tensor out;
  {
    NoGradGuard ng;
    out = sum_raw(a, rd, keep_shape);
    if (!keepdim) {
      Dims s;
      for (int64_t i = 0; i < a.dim(); ++i)
        if (std::find(rd.begin(), rd.end(), i) == rd.end()) s.push_back(a.shape()[i]);
      out = detach(reshape(out, s));
    } else {
      out = detach(out);
    }
  }
  if (needs_grad(a)) {
    auto n = std::make_shared<SumBackward>();
    n->in_shape = a.shape();
    n->keep_shape = keep_shape;
    set_history(n, a, out);
  }
  return out;
}

Tensor sum_all(const Tensor& a) { return sum(a, {}, false); }

Tensor sum_to(const Tensor& g, const Dims& shape) {
  if (g.shape() == shape) return g;
  int64_t lead = g.dim() - (int64_t)shape.size();
  if (lead < 0) throw ShapeError(str("sum_to: cannot reduce shape ", g.shape(), " to ", shape));
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < g.dim(); ++i) {
    if (i < lead) { dims.push_back(i); continue; }
    int64_t want = shape[i - lead];
    if (want == g.shape()[i]) continue;
    if (want != 1) throw ShapeError(str("sum_to: cannot reduce shape ", g.shape(), " to ", shape));
    dims.push_back(i);
  }
  if (dims.empty()) return reshape(g, shape);
  return reshape(sum(g, dims, true), shape);
}

}  // namespace cr
