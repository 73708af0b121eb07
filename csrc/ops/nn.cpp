// Softmax family and losses. Forward passes are fused kernels where it pays (softmax, log_softmax);
// losses are compositions of differentiable ops around them, so every loss has a second derivative.
// cross_entropy with class indices (Note [Fused cross-entropy]), nll_loss and the pointwise
// regression losses (Note [Pointwise losses]) are one node each, whose gradients under grad mode
// (create_graph) are computed by differentiable ops too.
#include "ops/nn.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include "autograd/capture.h"
#include "core/forward_ad.h"
#include "core/grad_mode.h"
#include "core/parallel.h"
#include "ops/activation.h"
#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace cr {

namespace {

// One contiguous row of softmax (or log_softmax): the max, one exp per element in the input's
// precision kept in the output, their sum in double, then the output times the sum's reciprocal
// (PyTorch's form), or (x - max) - log(sum). The row's result depends on the row alone, so it is
// the same for any thread count.
template <bool kLog, class T>
void softmax_row(const T* p, T* q, int64_t r) {
  T m = -std::numeric_limits<T>::infinity();
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
    Eigen::Map<const Arr> x(p, r);
    if (r) m = x.maxCoeff();  // (a NaN makes the row NaN whichever max it gives)
    Eigen::Map<Arr>(q, r) = (x - m).exp();  // vectorized (Eigen's pexp)
  } else {
    for (int64_t k = 0; k < r; ++k) m = std::max(m, p[k]);
    for (int64_t k = 0; k < r; ++k) q[k] = std::exp(p[k] - m);
  }
  // Eight interleaved partial sums in double: a fixed order (not the buffer's alignment), which
  // the compiler can keep in one vector register.
  double s8[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= r; k += 8)
    for (int l = 0; l < 8; ++l) s8[l] += (double)q[k + l];
  for (; k < r; ++k) s8[0] += (double)q[k];
  const double s = ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]));
  if constexpr (kLog) {
    const T lse = (T)std::log(s);
    for (int64_t i = 0; i < r; ++i) q[i] = p[i] - m - lse;  // (x - max) first: exact for close values
  } else {
    const T inv = (T)(1.0 / s);
    for (int64_t i = 0; i < r; ++i) q[i] *= inv;
  }
}

// y = softmax(x) (or log_softmax) along dim, for contiguous x seen as [outer, r, inner].
template <bool kLog>
Tensor softmax_kernel(const Tensor& x0, int64_t d) {
  Tensor x = x0.is_contiguous() ? x0 : contiguous_copy(x0);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  int64_t outer = 1, r = x.dim() ? x.shape()[d] : 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= x.shape()[i];
  for (int64_t i = d + 1; i < x.dim(); ++i) inner *= x.shape()[i];
  dispatch_floating(x.dtype(), kLog ? "log_softmax" : "softmax", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(r, 1));
    parallel_for(0, outer * inner, grain, [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) {
        int64_t base = (j / inner) * r * inner + j % inner;
        if (inner == 1) {
          softmax_row<kLog>(xp + base, yp + base, r);
          continue;
        }
        const T* p = xp + base;
        T* q = yp + base;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t k = 0; k < r; ++k) m = std::max(m, p[k * inner]);
        // One exp per element, in the input's precision (expf for float32, as PyTorch), kept in
        // the output; their sum in double.
        double s = 0;
        for (int64_t k = 0; k < r; ++k) {
          const T e = std::exp(p[k * inner] - m);
          q[k * inner] = e;
          s += (double)e;
        }
        if constexpr (kLog) {
          T lse = (T)std::log(s);
          for (int64_t k = 0; k < r; ++k) q[k * inner] = p[k * inner] - m - lse;
        } else {
          const T inv = (T)(1.0 / s);
          for (int64_t k = 0; k < r; ++k) q[k * inner] *= inv;
        }
      }
    });
  });
  return y;
}

struct SoftmaxDim {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  int64_t dim = 0;
};
// softmax saves its output y: dx = y * (g - sum(g * y))
const auto softmax_grad =
    with_jvp(Derivative<1, 1, SoftmaxDim>{"SoftmaxBackward0",
                                          {"self"},
                                          {[](const auto& d) {
                                            const Tensor& y = d.saved[0];
                                            Tensor gy = d.grad * y;
                                            return gy - y * sum(gy, {d.attrs.dim}, true);
                                          }},
                                          {{{"result"}}}},
             [](const auto& j) {  // y * (t - sum(y * t))
               const Tensor& y = j.out;
               return y * (j.tangent[0] - sum(y * j.tangent[0], {j.attrs.dim}, true));
             });
// log_softmax saves its output y: dx = g - exp(y) * sum(g)
const auto log_softmax_grad = with_jvp(
    Derivative<1, 1, SoftmaxDim>{
        "LogSoftmaxBackward0",
        {"self"},
        {[](const auto& d) { return d.grad - exp(d.saved[0]) * sum(d.grad, {d.attrs.dim}, true); }},
        {{{"result"}}}},
    [](const auto& j) {  // t - sum(exp(y) * t)
      return j.tangent[0] - sum(exp(j.out) * j.tangent[0], {j.attrs.dim}, true);
    });

template <bool kLog>
Tensor softmax_impl(const Tensor& x, int64_t dim) {
  const char* op = kLog ? "log_softmax" : "softmax";
  if (!is_floating(x.dtype()))
    throw TypeError(str(op, "(): expected a floating point input, got ", dtype_name(x.dtype()),
                        " (pass dtype=chainrule.float32 or convert with .float())"));
  int64_t d = wrap_dim(dim, x.dim(), op);
  Tensor y = softmax_kernel<kLog>(x, d);
  if (auto* n = record(kLog ? log_softmax_grad : softmax_grad, {x}, y, {output(y)})) n->attrs.dim = d;
  return y;
}

Tensor reduce(const Tensor& loss, Reduction r) {
  switch (r) {
    case Reduction::None: return loss;
    case Reduction::Sum: return sum_all(loss);
    case Reduction::Mean: break;
  }
  return mean(loss, {}, false);
}

std::string shape_str(const Dims& d) { return str(d); }

// A class-index target, checked against its input: the target contiguous, the weights as float64
// (undefined without weights), and the input seen as rows j = (n, i) over N x inner whose class c
// sits at base(j) + c * inner.
struct ClassTarget {
  Tensor t, w;
  int64_t cd = 0, C = 0, inner = 1, rows = 0;
  int64_t base(int64_t j) const { return (j / inner) * C * inner + j % inner; }
  const int64_t* tp() const { return t.data<int64_t>(); }
  const double* wp() const { return w.defined() ? w.data<double>() : nullptr; }
};

ClassTarget check_class_target(const Tensor& input, const Tensor& target, const Tensor& weight,
                               int64_t ignore_index, const char* op) {
  if (input.dim() == 0)
    throw ShapeError(
        str(op, ": input must have at least 1 dimension (C,) or (N, C, ...), got a 0-dim tensor"));
  if (!is_floating(input.dtype()))
    throw TypeError(str(op, ": expected a floating point input, got ", dtype_name(input.dtype())));
  if (target.dtype() != DType::Int64)
    throw TypeError(
        str(op, ": expected target of dtype int64 (class indices), got ", dtype_name(target.dtype()),
            target.dtype() == DType::Bool ? ""
                                          : "; convert with target.long(), or for class probabilities pass a "
                                            "float target of the input's shape"));
  ClassTarget ct;
  ct.cd = input.dim() == 1 ? 0 : 1;
  ct.C = input.shape()[ct.cd];
  Dims want;
  for (int64_t i = 0; i < input.dim(); ++i)
    if (i != ct.cd) want.push_back(input.shape()[i]);
  if (target.shape() != want)
    throw ShapeError(str(op, ": target shape ", target.shape(), " does not match input shape ", input.shape(),
                         " (expected target shape ", want, ")"));
  if (weight.defined()) {
    if (weight.shape() != Dims{ct.C})
      throw ShapeError(str(op, ": weight should be a 1D tensor of size ", ct.C,
                           " (the number of classes), got shape ", weight.shape()));
    ct.w = contiguous_copy_as(weight, DType::Float64);
  }
  ct.t = target.is_contiguous() ? target : contiguous_copy(target);
  for (int64_t i = ct.cd + 1; i < input.dim(); ++i) ct.inner *= input.shape()[i];
  ct.rows = ct.t.numel();
  const int64_t* tp = ct.tp();
  for (int64_t j = 0; j < ct.rows; ++j) {
    int64_t v = tp[j];
    if (v != ignore_index && (v < 0 || v >= ct.C))
      throw IndexError(str(op, ": target value ", v, " is out of bounds for ", ct.C,
                           " classes (expected in [0, ", ct.C - 1, "] or ignore_index=", ignore_index, ")"));
  }
  return ct;
}

// The mean-reduction denominator: the sum of w[t_j] over rows that are not ignored.
double class_denominator(const ClassTarget& ct, int64_t ignore_index) {
  double denom = 0;
  const int64_t* tp = ct.tp();
  const double* wp = ct.wp();
  for (int64_t j = 0; j < ct.rows; ++j)
    if (tp[j] != ignore_index) denom += wp ? wp[tp[j]] : 1.0;
  return denom;
}

// Per-element class weights W (input's shape) for a class-index target: row i gets
// (1 - ls) w[t_i] at its target and ls w[c] / C at every class c; ignored rows get 0. Returns the
// mean-reduction denominator (sum of w[t_i] over rows that are not ignored) in `denom`.
Tensor class_weights(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                     double ls, const char* op, double& denom) {
  ClassTarget ct = check_class_target(input, target, weight, ignore_index, op);
  const int64_t C = ct.C, inner = ct.inner;
  const int64_t* tp = ct.tp();
  const double* wp = ct.wp();
  Tensor W = zeros(input.shape(), input.dtype());
  denom = class_denominator(ct, ignore_index);
  dispatch_floating(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* Wp = W.data<T>();
    for (int64_t j = 0; j < ct.rows; ++j) {
      int64_t v = tp[j];
      if (v == ignore_index) continue;
      int64_t base = ct.base(j);
      double wt = wp ? wp[v] : 1.0;
      Wp[base + v * inner] += (T)((1.0 - ls) * wt);
      if (ls > 0)
        for (int64_t c = 0; c < C; ++c) Wp[base + c * inner] += (T)(ls * (wp ? wp[c] : 1.0) / (double)C);
    }
  });
  return W;
}

// Note [Pointwise losses]
// mse_loss, l1_loss, huber_loss and smooth_l1_loss are one node each (PyTorch's names) that saves
// only the input and the target, so a compiled step with them can be lowered (Note [Lowered
// backward]). The forward is the ops each is composed of, run without recording; the gradient is
// f'(d) g (g / numel for the mean), d = input - target, and its negative for the target, computed
// by differentiable ops, so create_graph works: f' is 2d, sign(d), clamp(d, -delta, delta) and
// clamp(d / beta, -1, 1).
struct PointwiseLoss {
  static constexpr bool kReplayInvariant = true;  // options only
  Reduction reduction = Reduction::Mean;
  double param = 0;  // huber's delta, smooth_l1's beta
};
using LossSlope = Tensor (*)(const Tensor& d, double param);

template <LossSlope slope>
Tensor pointwise_loss_grad(const GradArgs<2, PointwiseLoss>& d, bool for_target) {
  Tensor diff = sub(d.saved[0], d.saved[1]);
  double k = for_target ? -1.0 : 1.0;
  if (d.attrs.reduction == Reduction::Mean) k /= (double)diff.numel();
  return mul(slope(diff, d.attrs.param), mul_scalar(d.grad, k));
}
template <LossSlope slope>
constexpr Derivative<2, 2, PointwiseLoss> pointwise_loss_derivative(const char* name) {
  return {name,
          {"self", "target"},
          {[](const auto& d) { return pointwise_loss_grad<slope>(d, false); },
           [](const auto& d) { return pointwise_loss_grad<slope>(d, true); }},
          {{{"self"}, {"target"}}}};
}

Tensor mse_slope(const Tensor& d, double) { return mul_scalar(d, 2.0); }
Tensor l1_slope(const Tensor& d, double) { return sign(d); }
Tensor huber_slope(const Tensor& d, double delta) { return clamp(d, -delta, delta); }
Tensor smooth_l1_slope(const Tensor& d, double beta) { return clamp(mul_scalar(d, 1.0 / beta), -1.0, 1.0); }

const auto mse_loss_derivative = pointwise_loss_derivative<&mse_slope>("MseLossBackward0");
const auto l1_loss_derivative = pointwise_loss_derivative<&l1_slope>("L1LossBackward0");
const auto huber_loss_derivative = pointwise_loss_derivative<&huber_slope>("HuberLossBackward0");
const auto smooth_l1_loss_derivative = pointwise_loss_derivative<&smooth_l1_slope>("SmoothL1LossBackward0");

// Records `composed()` (the loss by ops, run here without recording) as one node of `def`.
template <class F>
Tensor pointwise_loss(const Derivative<2, 2, PointwiseLoss>& def, const Tensor& input, const Tensor& target,
                      Reduction r, double param, const F& composed) {
  Tensor out;
  {
    AutoGradMode off(false);
    fw::ComputeGuard no_tangents;  // the node's own rule gives the result its tangent
    out = composed();
  }
  if (auto* n = record(def, {input, target}, out, {input, target})) {
    n->attrs.reduction = r;
    n->attrs.param = param;
  }
  return out;
}

// The loss of a class-index target from contiguous log-probabilities (input-shaped): row j's loss
// is -(1 - ls) w[t_j] logp_j,t_j - (ls / C) sum_c w_c logp_jc, 0 for ignored rows; per row for
// reduction 'none', else their sum in double in row order, divided by the summed weights of the
// rows not ignored for 'mean' (NaN when every row is ignored, as PyTorch).
Tensor class_index_loss(const Tensor& logp, const ClassTarget& ct, Reduction r, int64_t ignore_index,
                        double ls, const char* op) {
  const int64_t C = ct.C, inner = ct.inner;
  const int64_t* tp = ct.tp();
  const double* wp = ct.wp();
  const double spread = ls / (double)C;
  Tensor out;
  dispatch_floating(logp.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* lp = logp.data<T>();
    auto row_loss = [&](int64_t j) {
      const int64_t v = tp[j];
      if (v == ignore_index) return 0.0;
      const T* row = lp + ct.base(j);
      double l = -(1.0 - ls) * (wp ? wp[v] : 1.0) * (double)row[v * inner];
      if (ls > 0) {
        double acc = 0;
        for (int64_t c = 0; c < C; ++c) acc += (wp ? wp[c] : 1.0) * (double)row[c * inner];
        l -= spread * acc;
      }
      return l;
    };
    if (r == Reduction::None) {
      out = Tensor::empty(ct.t.shape(), logp.dtype());
      T* o = out.data<T>();
      for (int64_t j = 0; j < ct.rows; ++j) o[j] = (T)row_loss(j);
      return;
    }
    double total = 0;
    for (int64_t j = 0; j < ct.rows; ++j) total += row_loss(j);
    if (r == Reduction::Mean) {
      double denom = class_denominator(ct, ignore_index);
      total = denom == 0 ? std::numeric_limits<double>::quiet_NaN() : total / denom;
    }
    out = scalar_tensor(total, logp.dtype());
  });
  return out;
}

// The incoming gradient of a class-index loss as float64, and the factor of every row for 'sum'
// and 'mean' (g, or g over the summed weights: 0 when every row is ignored, so the gradient is
// zero, not NaN); 'none' reads g per row.
struct RowGrad {
  Tensor g;
  double scale = 0;
  double at(int64_t j, Reduction r) const { return r == Reduction::None ? g.data<double>()[j] : scale; }
};
RowGrad row_grad(const Tensor& grad, const ClassTarget& ct, Reduction r, int64_t ignore_index) {
  RowGrad rg{contiguous_copy_as(grad, DType::Float64)};
  if (r == Reduction::None) return rg;  // (rows may be 0: nothing to read)
  rg.scale = rg.g.data<double>()[0];
  if (r == Reduction::Mean) {
    double denom = class_denominator(ct, ignore_index);
    rg.scale = denom == 0 ? 0.0 : rg.scale / denom;
  }
  return rg;
}

// g reshaped to broadcast against the input (class dim kept), scaled as row_grad does: for the
// gradients through differentiable ops (create_graph).
Tensor row_grad_ops(const Tensor& grad, int64_t cd, Reduction r, double denom) {
  if (r == Reduction::None) return unsqueeze(grad, cd);
  if (r == Reduction::Mean) return mul_scalar(grad, denom == 0 ? 0.0 : 1.0 / denom);
  return grad;
}

// Note [Fused cross-entropy]
// cross_entropy with class indices is one node (NllLossBackward0, PyTorch's name for it) that
// saves only its input, target and weight. The forward is log_softmax's kernel and one pass over
// the rows; row j's loss is (1 - ls) w[t_j] (lse_j - x_j,t_j) + (ls / C) sum_c w_c (lse_j - x_jc),
// written -(1 - ls) w_t logp_t - (ls / C) sum_c w_c logp_c, summed in double in row order. The
// gradient is g_j (p_jc s_j - W_jc), with p = softmax(x), W the class weights of the row (as
// class_weights builds them), s_j = sum_c W_jc and g_j the incoming gradient of the row (g, g /
// denominator or g[j]); without grad mode it is one pass over softmax's output, with grad mode
// (create_graph) the same formula through differentiable ops. Composed of log_softmax, a
// product with a dense W and three reductions, it made six nodes and two input-sized temporaries,
// and saved tensors made inside it, so a compiled step with it could not be lowered.
struct CrossEntropyAttrs {
  static constexpr bool kReplayInvariant = true;  // options only (Note [Lowered backward])
  Reduction reduction = Reduction::Mean;
  int64_t ignore_index = -100;
  double ls = 0.0;
};

Tensor cross_entropy_grad_ops(const GradArgs<3, CrossEntropyAttrs>& d) {
  const CrossEntropyAttrs& a = d.attrs;
  const Tensor& x = d.saved[0];
  double denom = 0;
  Tensor W = class_weights(x, d.saved[1], d.saved[2], a.ignore_index, a.ls, "cross_entropy", denom);
  const int64_t cd = x.dim() == 1 ? 0 : 1;
  return (softmax(x, cd) * sum(W, {cd}, true) - W) * row_grad_ops(d.grad, cd, a.reduction, denom);
}

Tensor cross_entropy_grad(const GradArgs<3, CrossEntropyAttrs>& d) {
  if (GradMode::is_enabled()) return cross_entropy_grad_ops(d);
  const CrossEntropyAttrs& a = d.attrs;
  const Tensor& x = d.saved[0];
  ClassTarget ct = check_class_target(x, d.saved[1], d.saved[2], a.ignore_index, "cross_entropy");
  Tensor p = softmax_kernel<false>(x, ct.cd);  // contiguous, x's shape: becomes the gradient
  const RowGrad rg = row_grad(d.grad, ct, a.reduction, a.ignore_index);
  const int64_t C = ct.C, inner = ct.inner;
  const int64_t* tp = ct.tp();
  const double* wp = ct.wp();
  const double ls = a.ls, spread = ls / (double)C;
  double wsum = (double)C;
  if (wp) {
    wsum = 0;
    for (int64_t c = 0; c < C; ++c) wsum += wp[c];
  }
  dispatch_floating(x.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    T* pp = p.data<T>();
    parallel_for(0, ct.rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(C, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t j = b; j < e; ++j) {
                     T* row = pp + ct.base(j);
                     const int64_t v = tp[j];
                     if (v == a.ignore_index) {
                       for (int64_t c = 0; c < C; ++c) row[c * inner] = T(0);
                       continue;
                     }
                     const double gj = rg.at(j, a.reduction);
                     const double wt = wp ? wp[v] : 1.0;
                     const T k = (T)(gj * ((1.0 - ls) * wt + spread * wsum));  // g_j s_j
                     for (int64_t c = 0; c < C; ++c) row[c * inner] *= k;
                     if (ls > 0)
                       for (int64_t c = 0; c < C; ++c)
                         row[c * inner] -= (T)(gj * spread * (wp ? wp[c] : 1.0));
                     row[v * inner] -= (T)(gj * (1.0 - ls) * wt);
                   }
                 });
  });
  return p;
}

const Derivative<1, 3, CrossEntropyAttrs> cross_entropy_derivative{
    "NllLossBackward0", {"self"}, {&cross_entropy_grad}, {{{"self"}, {"target"}, {"weight"}}}};

Tensor cross_entropy_indices(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction r,
                             int64_t ignore_index, double ls) {
  const char* op = "cross_entropy";
  ClassTarget ct = check_class_target(input, target, weight, ignore_index, op);
  Tensor out = class_index_loss(softmax_kernel<true>(input, ct.cd), ct, r, ignore_index, ls, op);
  if (auto* n = record(cross_entropy_derivative, {input}, out, {input, target, weight})) {
    n->attrs.reduction = r;
    n->attrs.ignore_index = ignore_index;
    n->attrs.ls = ls;
  }
  return out;
}

// nll_loss is one node too (NllLossBackward0), saving its input, target and weight: row j's loss
// is -w[t_j] x_j,t_j, reduced as cross_entropy's; the gradient is -g_j w[t_j] at each row's
// target and zero elsewhere (under grad mode, the same through differentiable ops).
struct NllAttrs {
  static constexpr bool kReplayInvariant = true;  // options only (Note [Lowered backward])
  Reduction reduction = Reduction::Mean;
  int64_t ignore_index = -100;
};

Tensor nll_grad(const GradArgs<3, NllAttrs>& d) {
  const NllAttrs& a = d.attrs;
  const Tensor& x = d.saved[0];
  if (GradMode::is_enabled()) {
    double denom = 0;
    Tensor W = class_weights(x, d.saved[1], d.saved[2], a.ignore_index, 0.0, "nll_loss", denom);
    return W * neg(row_grad_ops(d.grad, x.dim() == 1 ? 0 : 1, a.reduction, denom));
  }
  ClassTarget ct = check_class_target(x, d.saved[1], d.saved[2], a.ignore_index, "nll_loss");
  const RowGrad rg = row_grad(d.grad, ct, a.reduction, a.ignore_index);
  Tensor out = zeros(x.shape(), x.dtype());  // contiguous
  const int64_t* tp = ct.tp();
  const double* wp = ct.wp();
  dispatch_floating(x.dtype(), "nll_loss", [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    for (int64_t j = 0; j < ct.rows; ++j) {
      const int64_t v = tp[j];
      if (v != a.ignore_index)
        o[ct.base(j) + v * ct.inner] = (T)(-rg.at(j, a.reduction) * (wp ? wp[v] : 1.0));
    }
  });
  return out;
}

const Derivative<1, 3, NllAttrs> nll_loss_derivative{
    "NllLossBackward0", {"self"}, {&nll_grad}, {{{"self"}, {"target"}, {"weight"}}}};

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  if (a.shape() != b.shape())
    throw ShapeError(str(op, ": target size ", b.shape(), " must be the same as input size ", a.shape()));
}

void check_floating_target(const Tensor& t, const char* op) {
  if (!is_floating(t.dtype()))
    throw TypeError(str(op, ": expected a floating point target, got ", dtype_name(t.dtype()),
                        " (convert with .float())"));
}

// binary_cross_entropy(p, t), elementwise
const Derivative<2, 2> binary_cross_entropy_grad{"BinaryCrossEntropyBackward0",
                                                 {"self", "target"},
                                                 {[](const auto& d) {
                                                    // PyTorch's formula: g (p - t) / max(p (1 - p), 1e-12)
                                                    const Tensor &p = d.saved[0], &t = d.saved[1];
                                                    Tensor eps = scalar_tensor(1e-12, p.dtype());
                                                    Tensor den = (1.0 - p) * p;
                                                    return d.grad * (p - t) / where(den < eps, eps, den);
                                                  },
                                                  [](const auto& d) {
                                                    // d/dt = log(1 - p) - log(p), each clamped to >= -100
                                                    const Tensor& p = d.saved[0];
                                                    Tensor lo = scalar_tensor(-100.0, p.dtype());
                                                    auto clamped_log = [&](const Tensor& v) {
                                                      Tensor l = log(v);
                                                      return where(l < lo, lo, l);
                                                    };
                                                    return d.grad * (clamped_log(1.0 - p) - clamped_log(p));
                                                  }},
                                                 {{{"self"}, {"target", for_grad_of(0)}}}};

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl<false>(x, dim); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl<true>(x, dim); }

Reduction parse_reduction(const std::string& s, const char* op) {
  if (s == "mean") return Reduction::Mean;
  if (s == "sum") return Reduction::Sum;
  if (s == "none") return Reduction::None;
  throw ValueError(
      str(op, ": '", s, "' is not a valid value for reduction (expected 'none', 'mean' or 'sum')"));
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction r,
                int64_t ignore_index) {
  const char* op = "nll_loss";
  ClassTarget ct = check_class_target(input, target, weight, ignore_index, op);
  Tensor x = input.is_contiguous() ? input : contiguous_copy(input);
  Tensor out = class_index_loss(x, ct, r, ignore_index, 0.0, op);
  if (auto* n = record(nll_loss_derivative, {input}, out, {input, target, weight})) {
    n->attrs.reduction = r;
    n->attrs.ignore_index = ignore_index;
  }
  return out;
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction r,
                     int64_t ignore_index, double ls) {
  const char* op = "cross_entropy";
  if (ls < 0.0 || ls > 1.0)
    throw ValueError(str(op, ": label_smoothing must be between 0.0 and 1.0, got ", ls));
  if (input.dim() == 0)
    throw ShapeError(
        str(op, ": input must have at least 1 dimension (C,) or (N, C, ...), got a 0-dim tensor"));
  int64_t cd = input.dim() == 1 ? 0 : 1;
  if (is_floating(target.dtype()) && target.shape() == input.shape()) {
    // Class probabilities: loss = -sum_c w_c t'_c log_softmax(x)_c, t' = (1 - ls) t + ls / C.
    int64_t C = input.shape()[cd];
    Tensor lsm = log_softmax(input, cd);
    Tensor t = ls > 0 ? add_scalar(mul_scalar(target, 1.0 - ls), ls / (double)C) : target;
    if (weight.defined()) {
      if (weight.shape() != Dims{C})
        throw ShapeError(
            str(op, ": weight should be a 1D tensor of size ", C, ", got shape ", weight.shape()));
      Dims ws(input.dim(), 1);
      ws[cd] = C;
      Tensor w = reshape(weight, ws);
      capture::note_internal(w);
      if (ls > 0) capture::note_internal(t);
      t = mul(t, w);
    }
    // the nodes above save these, made here (Note [Internal tensors of a recorded call])
    capture::note_internal(lsm);
    if (ls > 0 || weight.defined()) capture::note_internal(t);
    Tensor loss = neg(sum(mul(lsm, t), {cd}, false));
    if (r == Reduction::None) return loss;
    Tensor total = sum_all(loss);
    if (r == Reduction::Sum) return total;
    return mul_scalar(total, (double)C / (double)input.numel());
  }
  if (is_floating(target.dtype()))
    throw TypeError(str(op, ": a floating point target must have the input's shape ", input.shape(),
                        " (class probabilities), got ", target.shape(),
                        "; for class indices use an int64 target (target.long())"));
  if (!is_floating(input.dtype()))
    throw TypeError(str(op, ": expected a floating point input, got ", dtype_name(input.dtype())));
  return cross_entropy_indices(input, target, weight, r, ignore_index, ls);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r) {
  return pointwise_loss(mse_loss_derivative, input, target, r, 0.0, [&] {
    Tensor d = sub(input, target);
    return reduce(mul(d, d), r);
  });
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r) {
  return pointwise_loss(l1_loss_derivative, input, target, r, 0.0,
                        [&] { return reduce(abs(sub(input, target)), r); });
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction r, double delta) {
  if (!(delta > 0)) throw ValueError(str("huber_loss: delta must be positive, got ", delta));
  return pointwise_loss(huber_loss_derivative, input, target, r, delta, [&] {
    Tensor d = sub(input, target);
    Tensor ad = abs(d);
    Tensor quad = mul_scalar(mul(d, d), 0.5);
    Tensor lin = mul_scalar(add_scalar(ad, -0.5 * delta), delta);
    Tensor small = compare(ad, scalar_tensor(delta, ad.dtype()), CmpOp::Lt);
    return reduce(where(small, quad, lin), r);
  });
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction r, double beta) {
  if (beta < 0) throw ValueError(str("smooth_l1_loss: beta must be non-negative, got ", beta));
  if (beta == 0.0) return l1_loss(input, target, r);
  return pointwise_loss(smooth_l1_loss_derivative, input, target, r, beta, [&] {
    Tensor d = sub(input, target);
    Tensor ad = abs(d);
    Tensor quad = mul_scalar(mul(d, d), 0.5 / beta);
    Tensor lin = add_scalar(ad, -0.5 * beta);
    Tensor small = compare(ad, scalar_tensor(beta, ad.dtype()), CmpOp::Lt);
    return reduce(where(small, quad, lin), r);
  });
}

// ---- binary cross entropy with logits, to the last bit in both dtypes ------------------------------
// log(1 + e^x) = max(x, 0) + log1p(e^-|x|) has no threshold (softplus keeps PyTorch's, which is
// exact only to ~1e-9 in float64), and the loss of a logit x and target t is computed as
//   max(x, 0) - x t + log1p(e^-|x|)
// in one pass: the first two terms cancel exactly when the prediction is right (x = 25, t = 1), so
// a confident correct logit gives its true, tiny loss instead of 0 or a rounding error.
namespace {

template <class T>
T log1p_exp_scalar(T x) {
  return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x)));
}

Tensor log1p_exp(const Tensor& x);
const Derivative<1, 1> log1p_exp_grad{"SoftplusBackward0",
                                      {"self"},
                                      {[](const auto& d) { return d.grad * sigmoid(d.saved[0]); }},
                                      {{{"self"}}}};
Tensor log1p_exp(const Tensor& x) {
  Tensor out = dispatch_floating(x.dtype(), "softplus", [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T, T>(x, [](T v) { return log1p_exp_scalar(v); });
  });
  record(log1p_exp_grad, {x}, out, {x});
  return out;
}

Tensor bce_with_logits_elementwise(const Tensor& x, const Tensor& t);
// d/dx = sigmoid(x) - t,  d/dt = -x
const Derivative<2, 2> bce_with_logits_grad{"BinaryCrossEntropyWithLogitsBackward0",
                                            {"self", "target"},
                                            {[](const auto& d) {
                                               // sigmoid(x) - t, as (1 - t) sigmoid(x) - t sigmoid(-x): no
                                               // cancellation when x and t agree
                                               const Tensor &x = d.saved[0], &t = d.saved[1];
                                               return d.grad * ((1.0 - t) * sigmoid(x) - t * sigmoid(-x));
                                             },
                                             [](const auto& d) { return -d.grad * d.saved[0]; }},
                                            {{{"self"}, {"target", for_grad_of(0)}}}};
Tensor bce_with_logits_elementwise(const Tensor& x, const Tensor& t0) {
  Tensor t = t0.dtype() == x.dtype() ? t0 : to_dtype(t0, x.dtype());
  Tensor out = dispatch_floating(x.dtype(), "binary_cross_entropy_with_logits", [&](auto tag) {
    using T = decltype(tag);
    return map_binary<T, T, T>(x, t, x.shape(), [](T v, T y) {
      return (std::max(v, T(0)) - v * y) + std::log1p(std::exp(-std::abs(v)));
    });
  });
  record(bce_with_logits_grad, {x, t}, out, {x, t});
  return out;
}

}  // namespace

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction r) {
  const char* op = "binary_cross_entropy_with_logits";
  check_same_shape(input, target, op);
  check_floating_target(target, op);
  if (!is_floating(input.dtype()))
    throw TypeError(str(op, ": expected a floating point input, got ", dtype_name(input.dtype())));
  Tensor loss = bce_with_logits_elementwise(input, target);
  // pos_weight p scales the positive term: + (p - 1) t log(1 + e^-x), as PyTorch.
  if (pos_weight.defined()) loss = loss + (pos_weight - 1.0) * target * log1p_exp(-input);
  if (weight.defined()) loss = mul(loss, weight);
  return reduce(loss, r);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction r) {
  const char* op = "binary_cross_entropy";
  check_same_shape(input, target, op);
  check_floating_target(target, op);
  if (!is_floating(input.dtype()))
    throw TypeError(str(op, ": expected a floating point input, got ", dtype_name(input.dtype())));
  DType dt = promote(input.dtype(), target.dtype());
  Tensor p = contiguous_copy_as(input, dt), t = contiguous_copy_as(target, dt);
  Tensor loss = Tensor::empty(input.shape(), dt);
  dispatch_floating(dt, op, [&](auto tag) {
    using T = decltype(tag);
    const T* pp = p.data<T>();
    const T* tp = t.data<T>();
    T* lp = loss.data<T>();
    for (int64_t i = 0; i < p.numel(); ++i) {
      T pv = pp[i];
      if (!(pv >= T(0) && pv <= T(1)))
        throw ValueError(str(op, ": all elements of input should be between 0 and 1 (probabilities), got ",
                             pv, "; use binary_cross_entropy_with_logits for logits"));
      T lo = std::max<T>(std::log(pv), T(-100)), l1 = std::max<T>(std::log1p(-pv), T(-100));
      lp[i] = -(tp[i] * lo + (T(1) - tp[i]) * l1);
    }
  });
  record(binary_cross_entropy_grad, {input, target}, loss, {input, target});
  if (weight.defined()) loss = mul(loss, weight);
  return reduce(loss, r);
}

}  // namespace cr
