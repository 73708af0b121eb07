// Scans along one dim. See ops/lanes.h: each lane is scanned on one thread, in order.
//
// Note [Scan gradients]
// cumsum's gradient is the reverse cumulative sum of the output gradient. cumprod's and
// logcumsumexp's are written with the linear recurrence out_k = a_k * out_{k-1} + b_k and its
// reverse, which never divide:
//   cumprod:       d/dx_i = (prod_{j<i} x_j) * S_i,  S_i = g_i + x_{i+1} * S_{i+1}
//                  (exact with zeros in the input, where dividing the output by x_i is not);
//   logcumsumexp:  d/dx_i = exp(x_i - y_i) * T_i,  T_i = g_i + exp(y_i - y_{i+1}) * T_{i+1}
//                  (every factor is at most 1, so nothing overflows).
// The recurrence's own gradient is again a recurrence (the other direction), so every order of
// derivative is exact.
#include "ops/scan.h"

#include <cmath>
#include <limits>

#include "ops/derivatives.h"
#include "ops/lanes.h"
#include "ops/op_table.h"
#include "ops/shape.h"
#include "ops/sort.h"

namespace cr {

namespace {

template <class T> struct scan_acc {
  using type = T;
};
template <> struct scan_acc<float> {
  using type = double;
};

DType scan_dtype(const Tensor& a, std::optional<DType> dtype) {
  if (dtype) return *dtype;
  return is_floating(a.dtype()) ? a.dtype() : DType::Int64;
}

/// x shifted one place along dim (towards higher indices), `fill` entering at index 0.
Tensor shift_right(const Tensor& t, int64_t dim, double fill) {
  int64_t n = t.size(dim);
  if (n == 0) return t;
  Dims s = t.shape();
  s[(size_t)dim] = 1;
  Tensor first = full(s, fill, t.dtype());
  if (n == 1) return first;
  return cat({first, narrow(t, dim, 0, n - 1)}, dim);
}

/// A scan of a 0-d tensor is the scan of its one-element view.
template <class F>
Tensor on_0d(const Tensor& a, const F& f) {
  Tensor r = f(reshape(a, Dims{1}));
  return reshape(r, Dims{});
}

struct ScanDim {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  int64_t dim = 0;
};

// ---- cumsum / cumprod ----------------------------------------------------------------------
template <bool kProd>
Tensor cum_kernel(const Tensor& x0, int64_t dim) {
  Tensor x = contiguous_data(x0);
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  Lanes l = lanes_of(x.shape(), dim);
  dispatch_numeric(x.dtype(), kProd ? "cumprod" : "cumsum", [&](auto tag) {
    using T = decltype(tag);
    using A = typename scan_acc<T>::type;
    const T* p = x.data<T>();
    T* o = out.data<T>();
    for_each_lane(l, [&](int64_t j) {
      int64_t off = l.base(j);
      A acc = kProd ? A(1) : A(0);
      for (int64_t k = 0; k < l.n; ++k, off += l.inner) {
        if constexpr (kProd) acc *= (A)p[off];
        else acc += (A)p[off];
        o[off] = (T)acc;
      }
    });
  });
  return out;
}

const Derivative<1, 0, ScanDim> cumsum_grad{"CumsumBackward0", {"self"}, {[](const auto& d) {
                                              int64_t dim = d.attrs.dim;
                                              return flip(cumsum(flip(d.grad, {dim}), dim), {dim});
                                            }}};

// Note [Scan gradients]: (prod_{j<i} x_j) * S_i with S the reverse recurrence of (x, grad).
const Derivative<1, 2, ScanDim> cumprod_grad{"CumprodBackward0",
                                             {"self"},
                                             {[](const auto& d) {
                                               const Tensor &x = d.saved[0], &y = d.saved[1];
                                               int64_t dim = d.attrs.dim;
                                               Tensor before = shift_right(y, dim, 1.0);
                                               return before * linear_recurrence(x, d.grad, dim, true);
                                             }},
                                             {{{"self"}, {"result"}}}};

// ---- linear recurrence -------------------------------------------------------------------------
struct Recurrence {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  int64_t dim = 0;
  bool reverse = false;
};
// out = LR(a, b): d/db = LR'(a, w) (the other direction); d/da_k = out_{k-1} * (d/db)_k going
// forward, (d/db)_{k-1} * out_k going backward. See Note [Scan gradients].
TensorList linear_recurrence_backward(const GradArgs<2, Recurrence>& d) {
  const Tensor &a = d.saved[0], &out = d.saved[1];
  int64_t dim = d.attrs.dim;
  Tensor gb = linear_recurrence(a, d.grad, dim, !d.attrs.reverse);
  Tensor ga;
  if (d.needs(0)) ga = d.attrs.reverse ? shift_right(gb, dim, 0.0) * out : shift_right(out, dim, 0.0) * gb;
  return {ga, gb};
}
const Derivative<2, 2, Recurrence> linear_recurrence_grad{"LinearRecurrenceBackward0",
                                                          {"a", "b"},
                                                          {nullptr, nullptr},
                                                          {{{"a"}, {"result"}}},
                                                          linear_recurrence_backward};

// ---- logcumsumexp -------------------------------------------------------------------------------
template <class A>
A log_add_exp(A a, A b) {
  if (std::isnan(a) || std::isnan(b)) return a + b;
  if (a == b) return a + (A)0.69314718055994530942;  // also +-inf
  A m = std::max(a, b);
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

// Note [Scan gradients]: exp(x - y) * T with T the reverse recurrence of (exp(y_{k-1} - y_k), grad).
// Where y is -inf (nothing but -inf so far) both factors are 0; the exponents are masked rather
// than the results, so no NaN enters the graph.
const Derivative<1, 2, ScanDim> logcumsumexp_grad{
    "LogcumsumexpBackward0",
    {"self"},
    {[](const auto& d) {
      const Tensor &x = d.saved[0], &y = d.saved[1];
      int64_t dim = d.attrs.dim, n = x.size(dim);
      Tensor ninf = scalar_tensor(-std::numeric_limits<double>::infinity(), y.dtype());
      Tensor y_ninf = eq(y, -std::numeric_limits<double>::infinity());
      Tensor ratio;
      if (n <= 1) {
        ratio = zeros(x.shape(), x.dtype());
      } else {
        Tensor prev = narrow(y, dim, 0, n - 1), cur = narrow(y, dim, 1, n - 1);
        Tensor step = exp(where(narrow(y_ninf, dim, 1, n - 1), ninf, prev - cur));  // k = 1..n-1
        Dims first = x.shape();
        first[(size_t)dim] = 1;
        ratio = cat({zeros(first, x.dtype()), step}, dim);  // ratio_0 is never read
      }
      Tensor t = linear_recurrence(ratio, d.grad, dim, true);
      return exp(where(y_ninf, ninf, x - y)) * t;
    }},
    {{{"self"}, {"result"}}}};

// ---- cummax / cummin ----------------------------------------------------------------------------
template <bool kMax>
std::pair<Tensor, Tensor> cum_extreme(const Tensor& a, int64_t dim0) {
  const char* op = kMax ? "cummax" : "cummin";
  int64_t dim = wrap_dim(dim0, a.dim(), op);
  if (a.dim() == 0) {
    Tensor v1 = reshape(a, Dims{1});
    auto r = cum_extreme<kMax>(v1, 0);
    return {reshape(r.first, Dims{}), reshape(r.second, Dims{})};
  }
  Tensor x = contiguous_data(a);
  Tensor values = Tensor::empty(x.shape(), x.dtype());
  Tensor indices = Tensor::empty(x.shape(), DType::Int64);
  Lanes l = lanes_of(x.shape(), dim);
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    T* v = values.data<T>();
    int64_t* ix = indices.data<int64_t>();
    for_each_lane(l, [&](int64_t j) {
      int64_t off = l.base(j);
      T best = T();
      int64_t at = 0;
      for (int64_t k = 0; k < l.n; ++k, off += l.inner) {
        T cur = p[off];
        // Ties move the index forward; a NaN wins and stays (a later NaN moves the index too).
        bool take =
            k == 0 || is_nan_value(cur) || (!is_nan_value(best) && (kMax ? !(cur < best) : !(best < cur)));
        if (take) {
          best = cur;
          at = k;
        }
        v[off] = best;
        ix[off] = at;
      }
    });
  });
  record_picked(kMax ? Picked::Cummax : Picked::Cummin, a, values, indices, dim);
  return {values, indices};
}

// In place through assign_unary_ (Note [In-place ops]), which takes a plain function: the dim and
// dtype of the call travel beside it, on this thread.
thread_local int64_t t_scan_dim = 0;
Tensor cumsum_at_scan_dim(const Tensor& x) { return cumsum(x, t_scan_dim); }
Tensor cumprod_at_scan_dim(const Tensor& x) { return cumprod(x, t_scan_dim); }

void check_inplace_dtype(const Tensor& self, std::optional<DType> dtype, const char* op) {
  if (dtype && *dtype != self.dtype())
    throw TypeError(str(op, ": dtype ", dtype_name(*dtype), " differs from the tensor's dtype ",
                        dtype_name(self.dtype()),
                        "; an in-place scan keeps the tensor's dtype (use the "
                        "out-of-place op with dtype=)"));
}

}  // namespace

Tensor cumsum(const Tensor& a, int64_t dim0, std::optional<DType> dtype) {
  int64_t dim = wrap_dim(dim0, a.dim(), "cumsum");
  DType dt = scan_dtype(a, dtype);
  Tensor x = a.dtype() == dt ? a : to_dtype(a, dt);
  if (x.dim() == 0) return on_0d(x, [&](const Tensor& v) { return cumsum(v, 0); });
  Tensor out = cum_kernel<false>(x, dim);
  if (auto* n = record(cumsum_grad, {x}, out)) n->attrs.dim = dim;
  return out;
}

Tensor cumprod(const Tensor& a, int64_t dim0, std::optional<DType> dtype) {
  int64_t dim = wrap_dim(dim0, a.dim(), "cumprod");
  DType dt = scan_dtype(a, dtype);
  Tensor x = a.dtype() == dt ? a : to_dtype(a, dt);
  if (x.dim() == 0) return on_0d(x, [&](const Tensor& v) { return cumprod(v, 0); });
  Tensor out = cum_kernel<true>(x, dim);
  if (auto* n = record(cumprod_grad, {x}, out, {x, output(out)})) n->attrs.dim = dim;
  return out;
}

Tensor logcumsumexp(const Tensor& a, int64_t dim0) {
  int64_t dim = wrap_dim(dim0, a.dim(), "logcumsumexp");
  if (!is_floating(a.dtype()))
    throw TypeError(str("logcumsumexp(): expected a floating point input, got ", dtype_name(a.dtype()),
                        " (convert first, e.g. x.double())"));
  if (a.dim() == 0) return on_0d(a, [&](const Tensor& v) { return logcumsumexp(v, 0); });
  Tensor x = contiguous_data(a);
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  Lanes l = lanes_of(x.shape(), dim);
  dispatch_floating(x.dtype(), "logcumsumexp", [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    T* o = out.data<T>();
    for_each_lane(l, [&](int64_t j) {
      int64_t off = l.base(j);
      double acc = -std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < l.n; ++k, off += l.inner) {
        acc = log_add_exp(acc, (double)p[off]);
        o[off] = (T)acc;
      }
    });
  });
  if (auto* n = record(logcumsumexp_grad, {a}, out, {a, output(out)})) n->attrs.dim = dim;
  return out;
}

std::pair<Tensor, Tensor> cummax(const Tensor& a, int64_t dim) { return cum_extreme<true>(a, dim); }
std::pair<Tensor, Tensor> cummin(const Tensor& a, int64_t dim) { return cum_extreme<false>(a, dim); }

const Tensor& cumsum_(const Tensor& self, int64_t dim, std::optional<DType> dtype) {
  check_inplace_dtype(self, dtype, "cumsum_");
  t_scan_dim = wrap_dim(dim, self.dim(), "cumsum_");
  return assign_unary_(self, &cumsum_at_scan_dim, "cumsum_");
}

const Tensor& cumprod_(const Tensor& self, int64_t dim, std::optional<DType> dtype) {
  check_inplace_dtype(self, dtype, "cumprod_");
  t_scan_dim = wrap_dim(dim, self.dim(), "cumprod_");
  return assign_unary_(self, &cumprod_at_scan_dim, "cumprod_");
}

Tensor linear_recurrence(const Tensor& a0, const Tensor& b0, int64_t dim0, bool reverse) {
  int64_t dim = wrap_dim(dim0, b0.dim(), "linear_recurrence");
  if (a0.shape() != b0.shape() || a0.dtype() != b0.dtype() || !is_floating(b0.dtype()))
    throw ShapeError(str("linear_recurrence: a and b must share one shape and floating dtype, got ",
                         a0.shape(), " ", dtype_name(a0.dtype()), " and ", b0.shape(), " ",
                         dtype_name(b0.dtype())));
  if (b0.dim() == 0)
    return reshape(linear_recurrence(reshape(a0, Dims{1}), reshape(b0, Dims{1}), 0, reverse), Dims{});
  Tensor a = contiguous_data(a0), b = contiguous_data(b0);
  Tensor out = Tensor::empty(b.shape(), b.dtype());
  Lanes l = lanes_of(b.shape(), dim);
  dispatch_floating(b.dtype(), "linear_recurrence", [&](auto tag) {
    using T = decltype(tag);
    using A = typename scan_acc<T>::type;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* o = out.data<T>();
    const int64_t s = l.inner, n = l.n;
    for_each_lane(l, [&](int64_t j) {
      const int64_t base = l.base(j);
      A acc = 0;
      if (!reverse) {
        for (int64_t k = 0; k < n; ++k) {
          int64_t off = base + k * s;
          acc = (k == 0 ? A(0) : (A)pa[off] * acc) + (A)pb[off];
          o[off] = (T)acc;
        }
      } else {
        for (int64_t k = n - 1; k >= 0; --k) {
          int64_t off = base + k * s;
          acc = (A)pb[off] + (k == n - 1 ? A(0) : (A)pa[off + s] * acc);
          o[off] = (T)acc;
        }
      }
    });
  });
  if (auto* n = record(linear_recurrence_grad, {a0, b0}, out, {a0, output(out)}))
    n->attrs = Recurrence{dim, reverse};
  return out;
}

}  // namespace cr
