// Elementwise ops: arithmetic, unary math, pow, clamp, maximum/minimum, where, comparisons and
// logic, and the in-place family. Forward kernels and their backward Nodes live side by side.
#include "ops/elementwise.h"

#include <cmath>
#include <limits>

#include "autograd/plan.h"
#include "core/node.h"
#include "kernels/kernels.h"
#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/elementwise_kernels.h"
#include "ops/loops.h"
#include "ops/op_table.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/views.h"

namespace cr {

namespace {

inline int category(DType d) { return d == DType::Bool ? 0 : is_floating(d) ? 2 : 1; }

/// t + s for any numeric dtype (add_scalar is float-only).
inline Tensor plus_scalar(const Tensor& t, double s) {
  return is_floating(t.dtype()) ? add_scalar(t, s) : add(t, scalar_tensor(s, t.dtype()));
}

}  // namespace

DType result_type(const Tensor& a, const Tensor& b) {
  bool za = a.dim() == 0, zb = b.dim() == 0;
  if (za == zb) return promote(a.dtype(), b.dtype());
  const Tensor& dimmed = za ? b : a;
  const Tensor& zero = za ? a : b;
  if (category(zero.dtype()) > category(dimmed.dtype())) return zero.dtype();
  return dimmed.dtype();
}

/// In place: x[i] = f(x[i]) over a possibly strided tensor.
template <class T, class F>
static void update_unary(const Tensor& a, const F& f) {
  if (a.is_contiguous()) {
    T* x = a.data<T>();
    parallel_for(0, a.numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) x[i] = f(x[i]);
    });
    return;
  }
  for_each_strided<1>(a.shape(), {a.raw_data()}, {a.strides()}, {(int64_t)sizeof(T)},
                      [&](std::array<char*, 1>& p, const std::array<int64_t, 1>& s, int64_t n) {
                        for (int64_t i = 0; i < n; ++i) {
                          T* x = (T*)(p[0] + i * s[0]);
                          *x = f(*x);
                        }
                      });
}

// ---- derivatives (Note [Derivatives table]) ----------------------------------------------------
namespace {

struct Alpha {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  double alpha = 1.0;
};
struct Scalar {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  double s = 0.0;
};
struct Bounds {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  std::optional<double> lo, hi;
};

// self + alpha * other
const auto add_grad = with_jvp(
    Derivative<2, 0, Alpha>{
        "AddBackward0",
        {"self", "other"},
        {[](const auto& d) { return d.grad; },
         [](const auto& d) { return d.attrs.alpha == 1.0 ? d.grad : d.grad * d.attrs.alpha; }}},
    jvp_elementwise);
// self - alpha * other
const auto sub_grad = with_jvp(
    Derivative<2, 0, Alpha>{
        "SubBackward0",
        {"self", "other"},
        {[](const auto& d) { return d.grad; }, [](const auto& d) { return d.grad * -d.attrs.alpha; }}},
    jvp_elementwise);
// self * other
// (the per-input formulas serve forward mode; backward runs the joint one, which computes x * x's
// two equal gradients once: the engine then sums g*x + g*x, the same bits as before)
const auto mul_grad =
    with_jvp(Derivative<2, 2>{"MulBackward0",
                              {"self", "other"},
                              {[](const auto& d) { return d.grad * d.saved[1]; },
                               [](const auto& d) { return d.grad * d.saved[0]; }},
                              {{{"self", for_grad_of(1)}, {"other", for_grad_of(0)}}},
                              [](const auto& d) {
                                const Tensor &self = d.saved[0], &other = d.saved[1];
                                TensorList out(2);
                                if (d.needs(0)) out[0] = d.grad * other;
                                if (d.needs(1))
                                  out[1] = out[0].defined() && self.same(other) ? out[0] : d.grad * self;
                                return out;
                              }},
             jvp_elementwise);
// self / other
const auto div_grad = with_jvp(
    Derivative<2, 2>{"DivBackward0",
                     {"self", "other"},
                     {[](const auto& d) { return d.grad / d.saved[1]; },
                      [](const auto& d) { return -d.grad * d.saved[0] / (d.saved[1] * d.saved[1]); }},
                     {{{"self", for_grad_of(1)}, {"other", kAllGrads}}}},
    jvp_elementwise);
// -self
const auto neg_grad = with_jvp(
    Derivative<1>{"NegBackward0", {"self"}, {[](const auto& d) { return -d.grad; }}}, jvp_elementwise);
// self * s, self + s (a Python number)
const auto mul_scalar_grad = with_jvp(
    Derivative<1, 0, Scalar>{"MulBackward1", {"self"}, {[](const auto& d) { return d.grad * d.attrs.s; }}},
    jvp_elementwise);
const auto add_scalar_grad = with_jvp(
    Derivative<1>{"AddBackward1", {"self"}, {[](const auto& d) { return d.grad; }}}, jvp_elementwise);
// s - self (a Python number first)
const auto rsub_scalar_grad = with_jvp(
    Derivative<1>{"RsubBackward1", {"self"}, {[](const auto& d) { return -d.grad; }}}, jvp_elementwise);

// Unary math. `result` is the op's output, saved when the formula is cheaper in it.
const auto exp_grad = with_jvp(
    Derivative<1, 1>{
        "ExpBackward0", {"self"}, {[](const auto& d) { return d.grad * d.saved[0]; }}, {{{"result"}}}},
    jvp_elementwise);
const auto log_grad = with_jvp(
    Derivative<1, 1>{
        "LogBackward0", {"self"}, {[](const auto& d) { return d.grad / d.saved[0]; }}, {{{"self"}}}},
    jvp_elementwise);
const auto sqrt_grad = with_jvp(Derivative<1, 1>{"SqrtBackward0",
                                                 {"self"},
                                                 {[](const auto& d) { return d.grad / (d.saved[0] * 2.0); }},
                                                 {{{"result"}}}},
                                jvp_elementwise);
// d x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
const auto rsqrt_grad = with_jvp(Derivative<1, 1>{"RsqrtBackward0",
                                                  {"self"},
                                                  {[](const auto& d) {
                                                    const Tensor& y = d.saved[0];
                                                    return d.grad * (y * y * y * -0.5);
                                                  }},
                                                  {{{"result"}}}},
                                 jvp_elementwise);
const auto sin_grad = with_jvp(
    Derivative<1, 1>{
        "SinBackward0", {"self"}, {[](const auto& d) { return d.grad * cos(d.saved[0]); }}, {{{"self"}}}},
    jvp_elementwise);
const auto cos_grad = with_jvp(
    Derivative<1, 1>{
        "CosBackward0", {"self"}, {[](const auto& d) { return -(d.grad * sin(d.saved[0])); }}, {{{"self"}}}},
    jvp_elementwise);
// d erf(x) = 2/sqrt(pi) exp(-x^2)
const auto erf_grad = with_jvp(Derivative<1, 1>{"ErfBackward0",
                                                {"self"},
                                                {[](const auto& d) {
                                                  const Tensor& x = d.saved[0];
                                                  return d.grad * (exp(-(x * x)) * M_2_SQRTPI);
                                                }},
                                                {{{"self"}}}},
                               jvp_elementwise);
// d (1/x) = -1/x^2 = -y^2
const auto reciprocal_grad =
    with_jvp(Derivative<1, 1>{"ReciprocalBackward0",
                              {"self"},
                              {[](const auto& d) { return -(d.grad * (d.saved[0] * d.saved[0])); }},
                              {{{"result"}}}},
             jvp_elementwise);
// d|x| = sign(x): 0 at x == 0, as PyTorch
const auto abs_grad = with_jvp(
    Derivative<1, 1>{
        "AbsBackward0", {"self"}, {[](const auto& d) { return d.grad * sign(d.saved[0]); }}, {{{"self"}}}},
    jvp_elementwise);
const auto sign_grad = with_jvp(Derivative<1>{"SignBackward0", {"self"}, {[](const auto& d) {
                                                return zeros(d.grad.shape(), d.grad.dtype());
                                              }}},
                                jvp_elementwise);
const auto square_grad = with_jvp(
    Derivative<1, 1>{
        "PowBackward0", {"self"}, {[](const auto& d) { return d.grad * (d.saved[0] * 2.0); }}, {{{"self"}}}},
    jvp_elementwise);

// self ** exponent, both tensors
const auto pow_grad =
    with_jvp(Derivative<2, 3>{"PowBackward1",
                              {"self", "exponent"},
                              {[](const auto& d) {
                                 // b a^(b-1); exactly 0 where b == 0 (so 0**0 gives 0, not nan), as PyTorch
                                 const Tensor &a = d.saved[0], &b = d.saved[1];
                                 Tensor g = d.grad * (b * pow(a, plus_scalar(b, -1.0)));
                                 return where(eq(b, 0.0), zero_like_scalar(g), g);
                               },
                               [](const auto& d) {
                                 // a^b log(a); 0 where a == 0 and b >= 0 (the limit), as PyTorch
                                 const Tensor &a = d.saved[0], &b = d.saved[1], &result = d.saved[2];
                                 Tensor g = d.grad * (result * log(a));
                                 return where(eq(a, 0.0) & (b >= 0.0), zero_like_scalar(g), g);
                               }},
                              {{{"self"}, {"exponent"}, {"result", for_grad_of(1)}}}},
             jvp_elementwise);
// self ** e, e a Python number
struct Exponent {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  double e = 1.0;
};
const auto pow_scalar_grad =
    with_jvp(Derivative<1, 1, Exponent>{"PowBackward0",
                                        {"self"},
                                        {[](const auto& d) {
                                          const double e = d.attrs.e;
                                          if (e == 0.0) return zeros(d.grad.shape(), d.grad.dtype());
                                          if (e == 1.0) return d.grad;
                                          const Tensor& x = d.saved[0];
                                          if (e == 2.0) return d.grad * (x * 2.0);
                                          return d.grad * (pow_scalar(x, e - 1.0) * e);
                                        }},
                                        {{{"self"}}}},
             jvp_elementwise);

// where(condition, self, other)
const auto where_grad = with_jvp(
    Derivative<2, 1>{"WhereBackward0",
                     {"self", "other"},
                     {[](const auto& d) { return keep_where(d.saved[0], d.grad); },
                      [](const auto& d) { return where(d.saved[0], zero_like_scalar(d.grad), d.grad); }},
                     {{{"condition"}}}},
    jvp_elementwise);

// maximum/minimum: the larger (smaller) input gets the gradient; ties send half to each.
template <bool IsMax>
Tensor max_min_grad(const Tensor& grad, const Tensor& mine, const Tensor& theirs) {
  Tensor half_or_zero = keep_where(eq(mine, theirs), grad * 0.5);
  return where(IsMax ? mine > theirs : mine < theirs, grad, half_or_zero);
}
const auto maximum_grad = with_jvp(
    Derivative<2, 2>{"MaximumBackward0",
                     {"self", "other"},
                     {[](const auto& d) { return max_min_grad<true>(d.grad, d.saved[0], d.saved[1]); },
                      [](const auto& d) { return max_min_grad<true>(d.grad, d.saved[1], d.saved[0]); }},
                     {{{"self"}, {"other"}}}},
    jvp_elementwise);
const auto minimum_grad = with_jvp(
    Derivative<2, 2>{"MinimumBackward0",
                     {"self", "other"},
                     {[](const auto& d) { return max_min_grad<false>(d.grad, d.saved[0], d.saved[1]); },
                      [](const auto& d) { return max_min_grad<false>(d.grad, d.saved[1], d.saved[0]); }},
                     {{{"self"}, {"other"}}}},
    jvp_elementwise);

// clamp(self, min, max) with number bounds: the gradient passes where min <= x <= max.
const auto clamp_grad = with_jvp(Derivative<1, 1, Bounds>{"ClampBackward1",
                                                          {"self"},
                                                          {[](const auto& d) {
                                                            const Tensor& x = d.saved[0];
                                                            const Bounds& b = d.attrs;
                                                            Tensor inside = b.lo && b.hi
                                                                                ? (x >= *b.lo) & (x <= *b.hi)
                                                                            : b.lo ? x >= *b.lo
                                                                                   : x <= *b.hi;
                                                            return keep_where(inside, d.grad);
                                                          }},
                                                          {{{"self"}}}},
                                 jvp_elementwise);
// clamp(self, min, max) with tensor bounds (either may be absent).
const auto clamp_tensor_grad =
    with_jvp(Derivative<3, 3>{"ClampBackward0",
                              {"self", "min", "max"},
                              {[](const auto& d) {
                                 const Tensor &x = d.saved[0], &lo = d.saved[1], &hi = d.saved[2];
                                 Tensor inside = lo.defined() && hi.defined() ? (x >= lo) & (x <= hi)
                                                 : lo.defined()               ? x >= lo
                                                                              : x <= hi;
                                 return keep_where(inside, d.grad);
                               },
                               [](const auto& d) {
                                 const Tensor &x = d.saved[0], &lo = d.saved[1], &hi = d.saved[2];
                                 Tensor below = x < lo;
                                 if (hi.defined())
                                   below = below & (lo < hi);  // PyTorch: no gradient to min when min == max
                                 return keep_where(below, d.grad);
                               },
                               [](const auto& d) {
                                 const Tensor &x = d.saved[0], &lo = d.saved[1], &hi = d.saved[2];
                                 Tensor above = x > hi;
                                 if (lo.defined()) above = above | (lo > hi);  // min > max gives max
                                 return keep_where(above, d.grad);
                               }},
                              {{{"self"}, {"min"}, {"max"}}}},
             jvp_elementwise);

}  // namespace

// ---- forward: arithmetic ----------------------------------------------------------------------
// a op b on the chosen level's kernel (Note [CPU dispatch] in kernels/kernels.h) when both are
// float32 or float64 of the result dtype, each either contiguous of the result's shape or one
// value (one element, or one expanded to any shape); an undefined tensor otherwise (the caller's
// generic loop handles the rest).
// One operand the full shape, the other repeated over it in whole rows or columns of the result
// (viewed as [rows, cols], cols its last dim): a bias row of shape (C,) or (1, C) against (R, C), or
// a column of shape (R, 1) against (R, C), repeated again over leading dims. The chosen level's
// row kernel (binary_rows) takes whole stretches of rows, instead of the strided walk. Undefined for
// other shapes.
static Tensor row_broadcast_binary(const Tensor& a, const Tensor& b, const Dims& shape, DType dt,
                                   kern::Binary k) {
  if (shape.size() < 2) return Tensor();
  const int64_t cols = shape.back();
  auto is_row = [&](const Tensor& t) {
    return t.dim() >= 1 && t.numel() == cols && t.shape().back() == cols;
  };
  // (..., R, 1) whose leading dims end like the result's: one value per row of the result.
  auto is_col = [&](const Tensor& t) {
    if (t.dim() < 2 || t.shape().back() != 1) return false;
    const size_t off = shape.size() - (size_t)t.dim();
    for (size_t i = 0; i + 1 < (size_t)t.dim(); ++i)
      if (t.shape()[i] != shape[off + i]) return false;
    return true;
  };
  const bool full_a = a.shape() == shape, full_b = b.shape() == shape;
  const bool b_row = full_a && is_row(b), a_row = full_b && is_row(a);
  const bool b_col = full_a && !b_row && is_col(b), a_col = full_b && !a_row && is_col(a);
  if (cols < 8 || !(a_row || b_row || a_col || b_col)) return Tensor();
  Tensor out = Tensor::empty(shape, dt);
  const int64_t rows = out.numel() / cols;
  // Per row r, each operand starts at base + (r % period) * step and moves by inc per element.
  struct Walk {
    int64_t period, step, inc;
  };
  auto walk = [&](bool row, bool col, const Tensor& t) {
    if (row) return Walk{1, 0, 1};
    if (col) return Walk{t.numel(), 1, 0};
    return Walk{rows, cols, 1};
  };
  const Walk wa = walk(a_row, a_col, a), wb = walk(b_row, b_col, b);
  // A column repeated over leading dims wraps every `period` rows: one kernel call per stretch of
  // rows that wraps neither operand (the whole range, for a row or a plain column).
  const int64_t period = a_col ? wa.period : b_col ? wb.period : rows;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / cols);
  const kern::Table& t = kern::table();
  auto run = [&](auto* py, const auto* pa, const auto* pb, auto kernel) {
    auto body = [=](int64_t s, int64_t e) {
      for (int64_t r = s; r < e;) {
        const int64_t stop = std::min(e, (r / period + 1) * period);
        kernel(k, pa + (r % wa.period) * wa.step, wa.step, wa.inc, pb + (r % wb.period) * wb.step, wb.step,
               wb.inc, py + r * cols, stop - r, cols);
        r = stop;
      }
    };
    parallel_for(0, rows, grain, body);
    CR_OFFER_DIRECT(1, "broadcast",
                    [body, rows, grain, keep = TensorList{a, b}] { parallel_for(0, rows, grain, body); });
  };
  if (dt == DType::Float32) run(out.data<float>(), a.data<float>(), b.data<float>(), t.binary_rows_f32);
  else run(out.data<double>(), a.data<double>(), b.data<double>(), t.binary_rows_f64);
  return out;
}

static Tensor dispatched_binary(const Tensor& a, const Tensor& b, DType dt, kern::Binary k, const char* op) {
  if ((dt != DType::Float32 && dt != DType::Float64) || a.dtype() != dt || b.dtype() != dt) return Tensor();
  // 0: the operand stays on its one value; 1: it walks the result's shape.
  int64_t sa = 1, sb = 1;
  Dims shape;
  // The common case first: two contiguous operands of one shape, nothing to broadcast.
  const bool same = a.shape() == b.shape() && a.is_contiguous() && b.is_contiguous();
  if (!same) {
    const bool a_one = one_value(a), b_one = one_value(b);
    if (!(a_one || a.is_contiguous()) || !(b_one || b.is_contiguous())) return Tensor();
    shape = broadcast_shapes(a.shape(), b.shape(), op);
    sa = a_one ? 0 : a.shape() == shape ? 1 : -1;  // -1: neither
    sb = b_one ? 0 : b.shape() == shape ? 1 : -1;
    if (sa < 0 || sb < 0)
      return a.is_contiguous() && b.is_contiguous() ? row_broadcast_binary(a, b, shape, dt, k) : Tensor();
  }
  Tensor out = Tensor::empty(same ? a.shape() : shape, dt);
  const kern::Table& t = kern::table();
  auto run = [&](const auto* pa, const auto* pb, auto* py, auto kernel) {
    const int64_t n = out.numel();
    auto body = [=](int64_t s, int64_t e) { kernel(k, pa + s * sa, sa, pb + s * sb, sb, py + s, e - s); };
    parallel_for(0, n, kElementwiseGrain, body);
    CR_OFFER_DIRECT(1, "binary",
                    [body, n, keep = TensorList{a, b}] { parallel_for(0, n, kElementwiseGrain, body); });
  };
  if (dt == DType::Float32) run(a.data<float>(), b.data<float>(), out.data<float>(), t.binary_f32);
  else run(a.data<double>(), b.data<double>(), out.data<double>(), t.binary_f64);
  return out;
}

const char* const kBoolSubtraction =
    "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, "
    "use the `~` or `logical_not()` operator instead.";

// a + alpha * b (a - alpha * b for sub) in one pass.
static Tensor add_impl(const Tensor& a, const Tensor& b, double alpha, bool is_sub) {
  const char* op = is_sub ? "sub" : "add";
  DType dt = result_type(a, b);
  // PyTorch refuses a bool operand of `-`, not only two bool tensors.
  if (is_sub && (a.dtype() == DType::Bool || b.dtype() == DType::Bool)) throw TypeError(kBoolSubtraction);
  if (dt == DType::Bool && alpha != 1.0)
    throw TypeError(str(op, ": boolean alpha only supported for boolean results (got alpha=", alpha, ")"));
  if (!is_floating(dt) && !(std::isfinite(alpha) && std::floor(alpha) == alpha))
    throw TypeError(
        str(op, ": for integral input tensors, argument alpha must not be a floating point number"));
  const double scale = is_sub ? -alpha : alpha;
  Tensor out;
  if (dt == DType::Bool) out = binary_kernel(a, b, dt, op, [](auto x, auto y) { return x || y; });
  else if (scale == 1.0) {
    out = dispatched_binary(a, b, dt, kern::Binary::Add, op);
    if (!out.defined()) out = binary_kernel(a, b, dt, op, [](auto x, auto y) { return x + y; });
  } else if (scale == -1.0) {
    out = dispatched_binary(a, b, dt, kern::Binary::Sub, op);
    if (!out.defined()) out = binary_kernel(a, b, dt, op, [](auto x, auto y) { return x - y; });
  } else
    out = binary_kernel(a, b, dt, op,
                        [scale](auto x, auto y) { return x + static_cast<decltype(x)>(scale) * y; });
  if (auto* n = record(is_sub ? sub_grad : add_grad, {a, b}, out)) n->attrs.alpha = alpha;
  return out;
}

Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  CR_PLANNED_DIRECT(add(a, b, alpha));
  if (is_storage_dtype(a.dtype()) || is_storage_dtype(b.dtype())) {
    // The engine sums the gradients of storage-dtype tensors here (Note [Storage dtypes]).
    DType out = result_type(a, b);
    Tensor r =
        add_impl(to_dtype(a, compute_dtype(a.dtype())), to_dtype(b, compute_dtype(b.dtype())), alpha, false);
    return to_dtype(r, out);
  }
  return add_impl(a, b, alpha, false);
}
Tensor sub(const Tensor& a, const Tensor& b, double alpha) { return add_impl(a, b, alpha, true); }

Tensor mul(const Tensor& a, const Tensor& b) {
  CR_PLANNED_DIRECT(mul(a, b));
  DType dt = result_type(a, b);
  Tensor out = dispatched_binary(a, b, dt, kern::Binary::Mul, "mul");
  if (!out.defined())
    out = dt == DType::Bool ? binary_kernel(a, b, dt, "mul", [](auto x, auto y) { return x && y; })
                            : binary_kernel(a, b, dt, "mul", [](auto x, auto y) { return x * y; });
  record(mul_grad, {a, b}, out, {a, b});
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  CR_PLANNED_DIRECT(div(a, b));
  DType dt = float_dtype(result_type(a, b));
  Tensor out = dispatched_binary(a, b, dt, kern::Binary::Div, "div");
  if (!out.defined()) out = binary_kernel(a, b, dt, "div", [](auto x, auto y) { return x / y; });
  record(div_grad, {a, b}, out, {a, b});
  return out;
}

// Offers map_unary's contiguous loop, y[i] = f(x[i]) (Note [Direct calls] in autograd/plan.h).
template <class T, class F>
static void offer_map_direct(const Tensor& a, const Tensor& out, const F& f, const char* what) {
  if (!a.is_contiguous()) return;
  CR_OFFER_DIRECT(1, what, [f, x = a.data<T>(), y = out.data<T>(), n = a.numel(), keep = a] {
    parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) y[i] = f(x[i]);
    });
  });
}

Tensor neg(const Tensor& a) {
  CR_PLANNED_DIRECT(neg(a));
  if (a.dtype() == DType::Bool)
    throw TypeError("neg: negation of a bool tensor is not supported; use logical_not or ~");
  Tensor out = dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    auto f = [](T x) { return static_cast<T>(-x); };
    Tensor r = map_unary<T, T>(a, f);
    if constexpr (std::is_floating_point_v<T>) offer_map_direct<T>(a, r, f, "neg");
    return r;
  });
  record(neg_grad, {a}, out);
  return out;
}

Tensor mul_scalar(const Tensor& a, double s) {
  CR_PLANNED_DIRECT(mul_scalar(a, s));
  Tensor out = dispatch_floating(a.dtype(), "mul", [&](auto tag) {
    using T = decltype(tag);
    T v = static_cast<T>(s);
    auto f = [v](T x) { return x * v; };
    Tensor r = map_unary<T, T>(a, f);
    offer_map_direct<T>(a, r, f, "mul_scalar");
    return r;
  });
  if (auto* n = record(mul_scalar_grad, {a}, out)) n->attrs.s = s;
  return out;
}

Tensor add_scalar(const Tensor& a, double s) {
  CR_PLANNED_DIRECT(add_scalar(a, s));
  Tensor out = dispatch_floating(a.dtype(), "add", [&](auto tag) {
    using T = decltype(tag);
    T v = static_cast<T>(s);
    auto f = [v](T x) { return x + v; };
    Tensor r = map_unary<T, T>(a, f);
    offer_map_direct<T>(a, r, f, "add_scalar");
    return r;
  });
  record(add_scalar_grad, {a}, out);
  return out;
}

Tensor rsub_scalar(const Tensor& a, double s) {
  CR_PLANNED_DIRECT(rsub_scalar(a, s));
  Tensor out = dispatch_floating(a.dtype(), "rsub", [&](auto tag) {
    using T = decltype(tag);
    T v = static_cast<T>(s);
    auto f = [v](T x) { return v - x; };
    Tensor r = map_unary<T, T>(a, f);
    offer_map_direct<T>(a, r, f, "rsub_scalar");
    return r;
  });
  record(rsub_scalar_grad, {a}, out);
  return out;
}

void add_inplace_raw(const Tensor& acc, const Tensor& g) {
  Tensor src = as_dtype(g, acc.dtype());
  dispatch_all(acc.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (acc.is_contiguous() && src.is_contiguous() && acc.shape() == src.shape()) {
      T* x = acc.data<T>();
      const T* y = src.data<T>();
      parallel_for(0, acc.numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) x[i] = static_cast<T>(x[i] + y[i]);
      });
    } else {
      update_binary<T>(acc, src, [](T x, T y) { return static_cast<T>(x + y); });
    }
  });
}

// ---- unary math --------------------------------------------------------------------------------
Tensor exp(const Tensor& a) {
  Tensor out = float_unary_kernel(a, "exp", [](auto x) { return std::exp(x); });
  record(exp_grad, {a}, out, {output(out)});
  return out;
}

Tensor log(const Tensor& a) {
  Tensor out = float_unary_kernel(a, "log", [](auto x) { return std::log(x); });
  record(log_grad, {a}, out, {a});
  return out;
}

Tensor sqrt(const Tensor& a) {
  Tensor out = float_unary_kernel(a, "sqrt", [](auto x) { return std::sqrt(x); });
  // d sqrt(x) = 1 / (2 sqrt(x))
  record(sqrt_grad, {a}, out, {output(out)});
  return out;
}

Tensor rsqrt(const Tensor& a) {
  Tensor out = float_unary_kernel(a, "rsqrt", [](auto x) { return decltype(x)(1) / std::sqrt(x); });
  // d x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
  record(rsqrt_grad, {a}, out, {output(out)});
  return out;
}

Tensor rsqrt_eps(const Tensor& v, double eps) {
  Tensor out = dispatch_floating(v.dtype(), "rsqrt", [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T, T>(v, [eps](T x) { return static_cast<T>(1.0 / std::sqrt((double)x + eps)); });
  });
  record(rsqrt_grad, {v}, out, {output(out)});  // d/dv (v + eps)^(-1/2) = -1/2 out^3, as rsqrt
  return out;
}

Tensor sin(const Tensor& a) {
  Tensor out = float_unary_kernel(a, "sin", [](auto x) { return std::sin(x); });
  record(sin_grad, {a}, out, {a});
  return out;
}

Tensor cos(const Tensor& a) {
  Tensor out = float_unary_kernel(a, "cos", [](auto x) { return std::cos(x); });
  record(cos_grad, {a}, out, {a});
  return out;
}

Tensor erf(const Tensor& a) {
  Tensor out = float_unary_kernel(a, "erf", [](auto x) { return std::erf(x); });
  // d erf(x) = 2/sqrt(pi) exp(-x^2)
  record(erf_grad, {a}, out, {a});
  return out;
}

Tensor reciprocal(const Tensor& a) {
  Tensor out = float_unary_kernel(a, "reciprocal", [](auto x) { return decltype(x)(1) / x; });
  // d (1/x) = -1/x^2 = -y^2
  record(reciprocal_grad, {a}, out, {output(out)});
  return out;
}

Tensor abs(const Tensor& a) {
  Tensor out = dispatch_numeric(a.dtype(), "abs", [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T, T>(a, [](T x) -> T {
      if constexpr (std::is_floating_point_v<T>) return std::abs(x);  // abs(-0.0) == +0.0
      else return x < 0 ? static_cast<T>(-x) : x;
    });
  });
  // d|x| = sign(x); 0 at x == 0, as PyTorch.
  record(abs_grad, {a}, out, {a});
  return out;
}

Tensor sign(const Tensor& a) {
  Tensor out = dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T, T>(a, [](T x) -> T {
      if constexpr (std::is_same_v<T, bool>) return x;
      else return static_cast<T>((T(0) < x) - (x < T(0)));  // NaN gives 0, as PyTorch
    });
  });
  record(sign_grad, {a}, out);
  return out;
}

Tensor square(const Tensor& a) {
  if (a.dtype() == DType::Bool) {  // pow(x, 2): bool with an integer promotes to int64, as PyTorch
    Tensor i = to_dtype(a, DType::Int64);
    return mul(i, i);
  }
  Tensor out = dispatch_numeric(a.dtype(), "square", [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T, T>(a, [](T x) { return static_cast<T>(x * x); });
  });
  record(square_grad, {a}, out, {a});
  return out;
}

// ---- pow ---------------------------------------------------------------------------------------
namespace {

int64_t int_pow(int64_t base, int64_t e) {
  int64_t r = 1;
  while (e > 0) {
    if (e & 1) r = (int64_t)((uint64_t)r * (uint64_t)base);
    base = (int64_t)((uint64_t)base * (uint64_t)base);
    e >>= 1;
  }
  return r;
}

}  // namespace

Tensor pow(const Tensor& a, const Tensor& b) {
  DType dt = result_type(a, b);
  if (dt == DType::Bool) dt = DType::Int64;
  Dims shape = broadcast_shapes(a.shape(), b.shape(), "pow");
  Tensor x = as_dtype(a, dt), y = as_dtype(b, dt);
  Tensor out;
  if (dt == DType::Int64) {
    Tensor yc = y.is_contiguous() ? y : contiguous_copy(y);
    const int64_t* e = yc.data<int64_t>();
    for (int64_t i = 0, n = yc.numel(); i < n; ++i)
      if (e[i] < 0) throw ValueError("pow: integers to negative integer powers are not allowed");
    out = map_binary<int64_t, int64_t, int64_t>(x, y, shape,
                                                [](int64_t p, int64_t q) { return int_pow(p, q); });
  } else {
    out = dispatch_floating(dt, "pow", [&](auto tag) {
      using T = decltype(tag);
      return map_binary<T, T, T>(x, y, shape, [](T p, T q) { return std::pow(p, q); });
    });
  }
  record(pow_grad, {a, b}, out, {a, b, output(out)});
  return out;
}

Tensor pow_scalar(const Tensor& a, double e) {
  DType dt = float_dtype(a.dtype());
  Tensor x = as_dtype(a, dt);
  Tensor out = dispatch_floating(dt, "pow", [&](auto tag) {
    using T = decltype(tag);
    if (e == 2.0) return map_unary<T, T>(x, [](T v) { return v * v; });
    if (e == 1.0) return map_unary<T, T>(x, [](T v) { return v; });
    if (e == 0.0) return map_unary<T, T>(x, [](T) { return T(1); });
    if (e == 0.5) return map_unary<T, T>(x, [](T v) { return std::sqrt(v); });
    if (e == 3.0) return map_unary<T, T>(x, [](T v) { return v * v * v; });
    if (e == -1.0) return map_unary<T, T>(x, [](T v) { return T(1) / v; });
    const T te = static_cast<T>(e);
    return map_unary<T, T>(x, [te](T v) { return std::pow(v, te); });
  });
  if (auto* n = record(pow_scalar_grad, {a}, out, {e == 0.0 || e == 1.0 ? Save() : Save(a)})) n->attrs.e = e;
  return out;
}

// ---- atan2, hypot -------------------------------------------------------------------------------
// Each is a kernel, its derivatives-table entry and its op-table line: the whole op.

/// atan2(self, other): the angle of the point (other, self); integer inputs give float32.
Tensor atan2(const Tensor& a, const Tensor& b);
const auto atan2_grad = with_jvp(Derivative<2, 2>{"Atan2Backward0",
                                                  {"self", "other"},
                                                  {[](const auto& d) {
                                                     const Tensor &y = d.saved[0], &x = d.saved[1];
                                                     return d.grad * x / (x * x + y * y);
                                                   },
                                                   [](const auto& d) {
                                                     const Tensor &y = d.saved[0], &x = d.saved[1];
                                                     return -d.grad * y / (x * x + y * y);
                                                   }},
                                                  {{{"self"}, {"other"}}}},
                                 jvp_elementwise);
Tensor atan2(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(a, b, float_dtype(result_type(a, b)), "atan2",
                             [](auto y, auto x) { return std::atan2(y, x); });
  record(atan2_grad, {a, b}, out, {a, b});
  return out;
}
CR_OP(atan2, atan2, kFunction | kMethod | kInplace,
      "atan2(input, other) -> Tensor\n\nThe angle of the point (other, input), in (-pi, pi], elementwise.");

/// hypot(self, other) = sqrt(self^2 + other^2) without overflow; floating inputs only, as PyTorch.
Tensor hypot(const Tensor& a, const Tensor& b);
const auto hypot_grad =
    with_jvp(Derivative<2, 3>{"HypotBackward0",
                              {"self", "other"},
                              {[](const auto& d) { return d.grad * d.saved[0] / d.saved[2]; },
                               [](const auto& d) { return d.grad * d.saved[1] / d.saved[2]; }},
                              {{{"self", for_grad_of(0)}, {"other", for_grad_of(1)}, {"result"}}}},
             jvp_elementwise);
Tensor hypot(const Tensor& a, const Tensor& b) {
  DType dt = result_type(a, b);
  if (!is_floating(dt))
    throw TypeError(str("hypot: not implemented for ", dtype_name(dt), " tensors; convert with .float()"));
  Tensor out = binary_kernel(a, b, dt, "hypot", [](auto x, auto y) { return std::hypot(x, y); });
  record(hypot_grad, {a, b}, out, {a, b, output(out)});
  return out;
}
CR_OP(hypot, hypot, kFunction | kMethod | kInplace,
      "hypot(input, other) -> Tensor\n\nsqrt(input**2 + other**2) elementwise, without overflow.");

// ---- where ---------------------------------------------------------------------------------------
Tensor where(const Tensor& cond, const Tensor& a0, const Tensor& b0) {
  if (cond.dtype() != DType::Bool)
    throw TypeError(str("where: expected condition to be a bool tensor, got ", dtype_name(cond.dtype()),
                        " (use cond != 0 or cond.bool())"));
  DType dt = result_type(a0, b0);
  Dims shape = broadcast_shapes(broadcast_shapes(cond.shape(), a0.shape(), "where"), b0.shape(), "where");
  Tensor a = as_dtype(a0, dt), b = as_dtype(b0, dt);
  Tensor out = Tensor::empty(shape, dt);
  dispatch_all(dt, [&](auto tag) {
    using T = decltype(tag);
    for_each_strided<4>(shape, {out.raw_data(), cond.raw_data(), a.raw_data(), b.raw_data()},
                        {out.strides(), broadcast_strides(cond, shape), broadcast_strides(a, shape),
                         broadcast_strides(b, shape)},
                        {(int64_t)sizeof(T), 1, (int64_t)sizeof(T), (int64_t)sizeof(T)},
                        [&](std::array<char*, 4>& p, const std::array<int64_t, 4>& s, int64_t n) {
                          T* y = (T*)p[0];
                          for (int64_t i = 0; i < n; ++i)
                            y[i] = *(const bool*)(p[1] + i * s[1]) ? *(const T*)(p[2] + i * s[2])
                                                                   : *(const T*)(p[3] + i * s[3]);
                        });
  });
  record(where_grad, {a0, b0}, out, {cond});
  return out;
}

// ---- maximum / minimum -------------------------------------------------------------------------
namespace {

template <bool IsMax>
Tensor max_min(const Tensor& a, const Tensor& b, const char* op) {
  DType dt = result_type(a, b);
  Tensor out = binary_kernel(a, b, dt, op, [](auto x, auto y) -> decltype(x) {
    if (x != x) return x;  // NaN propagates, as PyTorch's maximum/minimum
    if (y != y) return y;
    if constexpr (IsMax) return x > y ? x : y;
    else return x < y ? x : y;
  });
  record(IsMax ? maximum_grad : minimum_grad, {a, b}, out, {a, b});
  return out;
}

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return max_min<true>(a, b, "maximum"); }
Tensor minimum(const Tensor& a, const Tensor& b) { return max_min<false>(a, b, "minimum"); }

// ---- clamp -------------------------------------------------------------------------------------
namespace {

bool is_integral(double v) { return std::isfinite(v) && std::floor(v) == v; }

}  // namespace

Tensor clamp(const Tensor& a, std::optional<double> lo, std::optional<double> hi) {
  if (!lo && !hi) throw ValueError("clamp: at least one of 'min' or 'max' must not be None");
  if (a.dtype() == DType::Bool) throw TypeError("clamp: not implemented for dtype bool");
  DType dt = a.dtype();
  if (!is_floating(dt) && ((lo && !is_integral(*lo)) || (hi && !is_integral(*hi)))) dt = DType::Float32;
  Tensor x = as_dtype(a, dt);
  Tensor out = dispatch_numeric(dt, "clamp", [&](auto tag) {
    using T = decltype(tag);
    const bool has_lo = lo.has_value(), has_hi = hi.has_value();
    const T l = has_lo ? static_cast<T>(*lo) : T(0), h = has_hi ? static_cast<T>(*hi) : T(0);
    // NaN inputs stay NaN (every comparison with NaN is false); min > max gives max.
    return map_unary<T, T>(x, [=](T v) {
      if (has_lo) v = v < l ? l : v;
      if (has_hi) v = v > h ? h : v;
      return v;
    });
  });
  if (auto* n = record(clamp_grad, {a}, out, {a})) n->attrs = Bounds{lo, hi};
  return out;
}

Tensor clamp(const Tensor& a, const Tensor& lo, const Tensor& hi) {
  if (!lo.defined() && !hi.defined())
    throw ValueError("clamp: at least one of 'min' or 'max' must not be None");
  if (a.dtype() == DType::Bool) throw TypeError("clamp: not implemented for dtype bool");
  Tensor out;
  {
    NoGradGuard ng;
    out = a;
    if (lo.defined()) out = maximum(out, lo);
    if (hi.defined()) out = minimum(out, hi);
    if (out.same(a)) out = contiguous_copy(a);
  }
  record(clamp_tensor_grad, {a, lo, hi}, out, {a, lo, hi});
  return out;
}

// ---- comparisons and logic ---------------------------------------------------------------------
template <class T>
static Tensor compare_typed(const Tensor& a, const Tensor& b, const Dims& shape, CmpOp op) {
  switch (op) {
    case CmpOp::Eq: return map_binary<T, T, bool>(a, b, shape, [](T x, T y) { return x == y; });
    case CmpOp::Ne: return map_binary<T, T, bool>(a, b, shape, [](T x, T y) { return x != y; });
    case CmpOp::Lt: return map_binary<T, T, bool>(a, b, shape, [](T x, T y) { return x < y; });
    case CmpOp::Le: return map_binary<T, T, bool>(a, b, shape, [](T x, T y) { return x <= y; });
    case CmpOp::Gt: return map_binary<T, T, bool>(a, b, shape, [](T x, T y) { return x > y; });
    case CmpOp::Ge: break;
  }
  return map_binary<T, T, bool>(a, b, shape, [](T x, T y) { return x >= y; });
}

static const char* cmp_name(CmpOp op) {
  static const char* names[] = {"eq", "ne", "lt", "le", "gt", "ge"};
  return names[(int)op];
}

Tensor compare(const Tensor& a0, const Tensor& b0, CmpOp op) {
  DType dt = result_type(a0, b0);
  Dims shape = broadcast_shapes(a0.shape(), b0.shape(), cmp_name(op));
  Tensor a = as_dtype(a0, dt), b = as_dtype(b0, dt);
  return dispatch_all(dt, [&](auto tag) { return compare_typed<decltype(tag)>(a, b, shape, op); });
}

Tensor compare_scalar(const Tensor& a, double s, CmpOp op) {
  if (!is_floating(a.dtype())) {
    DType sd = is_integral(s) ? DType::Int64 : DType::Float32;
    return compare(a, scalar_tensor(s, sd), op);
  }
  return dispatch_floating(a.dtype(), cmp_name(op), [&](auto tag) {
    using T = decltype(tag);
    const T v = static_cast<T>(s);
    switch (op) {
      case CmpOp::Eq: return map_unary<T, bool>(a, [v](T x) { return x == v; });
      case CmpOp::Ne: return map_unary<T, bool>(a, [v](T x) { return x != v; });
      case CmpOp::Lt: return map_unary<T, bool>(a, [v](T x) { return x < v; });
      case CmpOp::Le: return map_unary<T, bool>(a, [v](T x) { return x <= v; });
      case CmpOp::Gt: return map_unary<T, bool>(a, [v](T x) { return x > v; });
      case CmpOp::Ge: break;
    }
    return map_unary<T, bool>(a, [v](T x) { return x >= v; });
  });
}

Tensor logical_not(const Tensor& a) {
  return dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T, bool>(a, [](T x) { return !(x != T(0)); });
  });
}

template <class F>
static Tensor logical_binary(const Tensor& a0, const Tensor& b0, const char* op, const F& f) {
  Dims shape = broadcast_shapes(a0.shape(), b0.shape(), op);
  Tensor a = as_dtype(a0, DType::Bool), b = as_dtype(b0, DType::Bool);
  return map_binary<bool, bool, bool>(a, b, shape, f);
}

Tensor logical_and(const Tensor& a, const Tensor& b) {
  return logical_binary(a, b, "logical_and", [](bool x, bool y) { return x && y; });
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return logical_binary(a, b, "logical_or", [](bool x, bool y) { return x || y; });
}
Tensor logical_xor(const Tensor& a, const Tensor& b) {
  return logical_binary(a, b, "logical_xor", [](bool x, bool y) { return x != y; });
}

static DType bitwise_dtype(const Tensor& a, const Tensor& b, const char* op) {
  DType dt = result_type(a, b);
  if (is_floating(dt))
    throw TypeError(str(op, ": not implemented for floating point tensors (got ", dtype_name(a.dtype()),
                        " and ", dtype_name(b.dtype()), "); use bool or int64 tensors"));
  return dt;
}

Tensor bitwise_not(const Tensor& a) {
  if (a.dtype() == DType::Bool) return logical_not(a);
  if (a.dtype() != DType::Int64)
    throw TypeError(str("bitwise_not (~): not implemented for dtype ", dtype_name(a.dtype()),
                        "; use a bool or int64 tensor"));
  return map_unary<int64_t, int64_t>(a, [](int64_t x) { return ~x; });
}
template <class F>
static Tensor bitwise_kernel(const Tensor& a0, const Tensor& b0, const char* op, const F& f) {
  DType dt = bitwise_dtype(a0, b0, op);
  Dims shape = broadcast_shapes(a0.shape(), b0.shape(), op);
  Tensor a = as_dtype(a0, dt), b = as_dtype(b0, dt);
  if (dt == DType::Bool)
    return map_binary<bool, bool, bool>(a, b, shape,
                                        [&](bool x, bool y) { return static_cast<bool>(f(x, y)); });
  return map_binary<int64_t, int64_t, int64_t>(a, b, shape, f);
}

Tensor bitwise_and(const Tensor& a, const Tensor& b) {
  return bitwise_kernel(a, b, "bitwise_and (&)", [](auto x, auto y) { return x & y; });
}
Tensor bitwise_or(const Tensor& a, const Tensor& b) {
  return bitwise_kernel(a, b, "bitwise_or (|)", [](auto x, auto y) { return x | y; });
}
Tensor bitwise_xor(const Tensor& a, const Tensor& b) {
  return bitwise_kernel(a, b, "bitwise_xor (^)", [](auto x, auto y) { return x ^ y; });
}

// ---- in-place ops ------------------------------------------------------------------------------
// Note [In-place ops]
// Every in-place write bumps the storage's version counter, which views and detached aliases
// share, so a SavedTensor of any alias notices the write when backward unpacks it.
// Autograd follows PyTorch:
//  * grad mode on, self a leaf that requires grad: refused (its .grad would describe a value that
//    no longer exists). Under no_grad it is allowed: that is how optimizers update parameters,
//    and that path writes straight into self's memory without allocating.
//  * grad mode on, self or `other` requires grad: the out-of-place result r is computed with
//    autograd, its values are copied into self's memory, and self's history is rebased onto r
//    (grad_fn, output_nr), so later ops differentiate through the new value. Formulas that save
//    self (mul_, div_, clamp_) run on clone(self), whose memory the write does not touch.
//  * on a view, the base's history is rebased instead (Note [Views and in-place ops] in views.cpp).
// Checks all run before the first write, so a failed call leaves self as it was.
namespace {

const char* torch_type_name(DType d) {
  switch (d) {
    case DType::Bool: return "Bool";
    case DType::Int64: return "Long";
    case DType::Float32: return "Float";
    case DType::Float64: break;
  }
  return "Double";
}

bool can_cast(DType from, DType to) {
  if (is_floating(from) && !is_floating(to)) return false;
  if (from != DType::Bool && to == DType::Bool) return false;
  return true;
}

void check_cast(DType result, const Tensor& self, const char* op) {
  if (!can_cast(result, self.dtype()))
    throw TypeError(str(op, ": result type ", torch_type_name(result),
                        " can't be cast to the desired output type ", torch_type_name(self.dtype())));
}

/// ValueError when several elements of self share one memory location (e.g. an expanded view).
void check_no_internal_overlap(const Tensor& self, const char* op) {
  for (int64_t d = 0; d < self.dim(); ++d)
    if (self.strides()[d] == 0 && self.shape()[d] > 1)
      throw ValueError(str(op,
                           ": unsupported operation: more than one element of the written-to tensor refers "
                           "to a single memory location (shape ",
                           self.shape(),
                           "). Please clone() the tensor "
                           "before performing the operation."));
}

void check_broadcast_to_self(const Tensor& self, const Tensor& other, const char* op) {
  Dims bs = broadcast_shapes(self.shape(), other.shape(), op);
  if (bs != self.shape())
    throw ShapeError(
        str(op, ": output with shape ", self.shape(), " doesn't match the broadcast shape ", bs));
}

/// The autograd checks of Note [In-place ops]; true when the op must be recorded.
bool record_inplace(const Tensor& self, const Tensor& other, const char* op) {
  return check_inplace(self, other, op);
}

/// Makes r (the out-of-place result, same shape as self) self's new value and history (on a view,
/// its base's: Note [Views and in-place ops]). A result without history (a constant written into
/// a tensor that requires grad) still cuts self's old history: its gradient there is zero.
void rebase_onto(const Tensor& self, Tensor r, bool copy_values) {
  if (r.dtype() != self.dtype()) r = to_dtype(r, self.dtype());
  if (!r.requires_grad()) {
    Tensor history = mul_scalar(self, 0.0);
    if (copy_values) copy_into(self, r);
    r = history;
    copy_values = false;
  }
  if (!r.grad_fn()) r = clone(r);
  if (copy_values) copy_into(self, r);
  self.storage()->bump_version();
  rebase_history(self, r);
}

/// `other` safe to read while self is written: a copy when it shares memory in another layout.
Tensor unaliased(const Tensor& self, const Tensor& other) {
  if (other.storage() != self.storage()) return other;
  if (other.offset() == self.offset() && other.shape() == self.shape() && other.strides() == self.strides())
    return other;
  return contiguous_copy(other);
}

enum class Arith { Add, Mul, Div };

const Tensor& arith_(const Tensor& self, const Tensor& other0, Arith kind, double alpha, const char* op) {
  DType rt = result_type(self, other0);
  if (kind == Arith::Div) rt = float_dtype(rt);
  if (kind == Arith::Add && alpha != 1.0 && !is_floating(rt) && !is_integral(alpha))
    throw TypeError(
        str(op, ": for integral input tensors, argument alpha must not be a floating point number"));
  if (kind == Arith::Add && alpha != 1.0 && rt == DType::Bool)
    throw TypeError(str(op, ": subtraction of bool tensors is not supported; use logical_xor or ~"));
  check_cast(rt, self, op);
  check_broadcast_to_self(self, other0, op);
  check_no_internal_overlap(self, op);
  // other scaled by alpha (add_/sub_), in its own dtype.
  auto scaled = [&](const Tensor& o) {
    if (alpha == 1.0) return o;
    return is_floating(o.dtype()) ? mul_scalar(o, alpha) : mul(o, scalar_tensor(alpha, o.dtype()));
  };
  auto out_of_place = [&](const Tensor& s, const Tensor& o) {
    switch (kind) {
      case Arith::Add: return add(s, scaled(o));
      case Arith::Mul: return mul(s, o);
      case Arith::Div: break;
    }
    return div(s, o);
  };
  if (record_inplace(self, other0, op)) {
    rebase_onto(self, out_of_place(kind == Arith::Add ? self : clone(self), other0), true);
    return self;
  }
  Tensor other = unaliased(self, other0);
  if (rt == self.dtype() && other.dtype() == self.dtype() && self.dtype() != DType::Bool) {
    dispatch_numeric(self.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      const T a = static_cast<T>(alpha);
      switch (kind) {
        case Arith::Add:
          if (alpha == 1.0) update_binary<T>(self, other, [](T x, T y) { return static_cast<T>(x + y); });
          else update_binary<T>(self, other, [a](T x, T y) { return static_cast<T>(x + a * y); });
          break;
        case Arith::Mul: update_binary<T>(self, other, [](T x, T y) { return static_cast<T>(x * y); }); break;
        case Arith::Div: update_binary<T>(self, other, [](T x, T y) { return static_cast<T>(x / y); }); break;
      }
    });
  } else {
    Tensor r;
    {
      NoGradGuard ng;
      r = out_of_place(self, other);
    }
    copy_into(self, r);
  }
  self.storage()->bump_version();
  return self;
}

/// In-place unary update on the fast path: floating self, nothing to record, no overlap.
template <class F>
bool fast_unary_(const Tensor& self, const F& f) {
  if (!is_floating(self.dtype())) return false;
  if (GradMode::is_enabled() && (self.requires_grad() || self.view_base().requires_grad())) return false;
  check_no_internal_overlap(self, "in-place op");
  dispatch_floating(self.dtype(), "in-place op", [&](auto tag) {
    using T = decltype(tag);
    update_unary<T>(self, [&](T x) { return static_cast<T>(f(x)); });
  });
  self.storage()->bump_version();
  return true;
}

}  // namespace

namespace {

/// self = compute(x, recorded), where x is self (a clone of it when recorded, so the formula's saved
/// input is not the memory being written), following Note [In-place ops]; `other` is the op's other
/// input.
template <class Compute>
const Tensor& assign_(const Tensor& self, const Tensor& other, const Compute& compute, const char* op) {
  check_no_internal_overlap(self, op);
  if (record_inplace(self, other, op)) {
    Tensor r = compute(clone(self), true);
    check_cast(r.dtype(), self, op);
    rebase_onto(self, r, true);
    return self;
  }
  Tensor r;
  {
    NoGradGuard ng;
    r = compute(self, false);
  }
  check_cast(r.dtype(), self, op);
  copy_into(self, r);
  self.storage()->bump_version();
  return self;
}

}  // namespace

const Tensor& assign_binary_(const Tensor& self, const Tensor& other,
                             Tensor (*f)(const Tensor&, const Tensor&), const char* op) {
  check_broadcast_to_self(self, other, op);
  // Written straight into self's memory, other must not alias it in another layout; a recorded
  // result is computed out of place, from other itself (so other keeps its gradient).
  auto compute = [&](const Tensor& x, bool recorded) {
    return f(x, recorded ? other : unaliased(self, other));
  };
  return assign_(self, other, compute, op);
}

const Tensor& assign_unary_(const Tensor& self, Tensor (*f)(const Tensor&), const char* op) {
  return assign_(self, Tensor(), [f](const Tensor& x, bool) { return f(x); }, op);
}

const Tensor& assign_with_(const Tensor& self, const std::vector<Tensor>& others,
                           const std::function<Tensor(const Tensor&)>& f, const char* op) {
  // The first operand that requires grad decides recording, as for a binary op.
  Tensor other;
  for (const Tensor& o : others)
    if (o.defined() && o.requires_grad()) {
      other = o;
      break;
    }
  auto compute = [&](const Tensor& x, bool) {
    Tensor r = f(x);
    if (r.shape() != self.shape())
      throw ShapeError(
          str(op, ": output with shape ", self.shape(), " doesn't match the broadcast shape ", r.shape()));
    return r;
  };
  return assign_(self, other, compute, op);
}

const Tensor& add_(const Tensor& self, const Tensor& other, double alpha) {
  return arith_(self, other, Arith::Add, alpha, "add_");
}
const Tensor& sub_(const Tensor& self, const Tensor& other, double alpha) {
  return arith_(self, other, Arith::Add, -alpha, "sub_");
}
const Tensor& mul_(const Tensor& self, const Tensor& other) {
  return arith_(self, other, Arith::Mul, 1.0, "mul_");
}
const Tensor& div_(const Tensor& self, const Tensor& other) {
  return arith_(self, other, Arith::Div, 1.0, "div_");
}

const Tensor& add_scalar_(const Tensor& self, double s) {
  if (fast_unary_(self, [s](auto x) { return x + static_cast<decltype(x)>(s); })) return self;
  DType sd = is_floating(self.dtype()) ? self.dtype() : is_integral(s) ? DType::Int64 : DType::Float32;
  return add_(self, scalar_tensor(s, sd), 1.0);
}

const Tensor& mul_scalar_(const Tensor& self, double s) {
  if (fast_unary_(self, [s](auto x) { return x * static_cast<decltype(x)>(s); })) return self;
  DType sd = is_floating(self.dtype()) ? self.dtype() : is_integral(s) ? DType::Int64 : DType::Float32;
  return mul_(self, scalar_tensor(s, sd));
}

const Tensor& neg_(const Tensor& self) {
  if (self.dtype() == DType::Bool)
    throw TypeError("neg_: negation of a bool tensor is not supported; use logical_not or ~");
  if (record_inplace(self, Tensor(), "neg_")) {
    check_no_internal_overlap(self, "neg_");
    rebase_onto(self, neg(self), true);
    return self;
  }
  check_no_internal_overlap(self, "neg_");
  dispatch_numeric(self.dtype(), "neg_", [&](auto tag) {
    using T = decltype(tag);
    update_unary<T>(self, [](T x) { return static_cast<T>(-x); });
  });
  self.storage()->bump_version();
  return self;
}

const Tensor& fill_(const Tensor& self, double value) {
  check_no_internal_overlap(self, "fill_");
  bool rec = record_inplace(self, Tensor(), "fill_");
  Tensor history;
  if (rec) history = mul_scalar(self, 0.0);  // the new value does not depend on the old one
  dispatch_all(self.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T v = static_cast<T>(value);
    update_unary<T>(self, [v](T) { return v; });
  });
  if (rec) rebase_onto(self, history, false);
  else self.storage()->bump_version();
  return self;
}

const Tensor& zero_(const Tensor& self) { return fill_(self, 0.0); }

const Tensor& clamp_(const Tensor& self, std::optional<double> lo, std::optional<double> hi) {
  if (!lo && !hi) throw ValueError("clamp_: at least one of 'min' or 'max' must not be None");
  if (self.dtype() == DType::Bool) throw TypeError("clamp_: not implemented for dtype bool");
  if (!is_floating(self.dtype()) && ((lo && !is_integral(*lo)) || (hi && !is_integral(*hi))))
    check_cast(DType::Float32, self, "clamp_");
  check_no_internal_overlap(self, "clamp_");
  if (record_inplace(self, Tensor(), "clamp_")) {
    rebase_onto(self, clamp(clone(self), lo, hi), true);
    return self;
  }
  dispatch_numeric(self.dtype(), "clamp_", [&](auto tag) {
    using T = decltype(tag);
    const bool has_lo = lo.has_value(), has_hi = hi.has_value();
    const T l = has_lo ? static_cast<T>(*lo) : T(0), h = has_hi ? static_cast<T>(*hi) : T(0);
    update_unary<T>(self, [=](T v) {
      if (has_lo) v = v < l ? l : v;
      if (has_hi) v = v > h ? h : v;
      return v;
    });
  });
  self.storage()->bump_version();
  return self;
}

const Tensor& copy_(const Tensor& self, const Tensor& src) {
  check_broadcast_to_self(self, src, "copy_");
  check_no_internal_overlap(self, "copy_");
  if (record_inplace(self, src, "copy_")) {
    rebase_onto(self, clone(expand(to_dtype(src, self.dtype()), self.shape())), true);
    return self;
  }
  copy_into(self, unaliased(self, src));
  self.storage()->bump_version();
  return self;
}

}  // namespace cr
