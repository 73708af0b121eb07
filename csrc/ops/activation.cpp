// Activations: fused forward kernels and their backward Nodes. The backward formulas are written
// with differentiable ops (mul, where, sigmoid, erf...) so that create_graph works; where the
// output is cheaper to reuse than the input (relu, sigmoid, tanh) the node saves the output.
#include "ops/activation.h"

#include <cmath>

#include "autograd/plan.h"
#include "core/node.h"
#include "core/parallel.h"
#include "kernels/kernels.h"
#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/reduce.h"

namespace cr {

namespace {

// sqrt(2/pi) and the cubic coefficient of GELU's tanh approximation, as PyTorch.
constexpr double kBeta = M_SQRT2 * M_2_SQRTPI * 0.5;
constexpr double kKappa = 0.044715;

/// out = f(x) in floating dtype (integer inputs are converted to float32 first).
template <class F>
Tensor float_map(const Tensor& a, const char* op, const F& f) {
  DType dt = is_floating(a.dtype()) ? a.dtype() : DType::Float32;
  Tensor x = a.dtype() == dt ? a : contiguous_copy_as(a, dt);
  return dispatch_floating(dt, op, [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T, T>(x, [&](T v) { return static_cast<T>(f(v)); });
  });
}

bool plain_f32(const Tensor& t) { return t.dtype() == DType::Float32 && t.is_contiguous(); }

/// out = f(x): the chosen level's vectorized kernel `k` (Note [CPU dispatch] in kernels/kernels.h)
/// for contiguous float32, else element by element (`scalar`, as float_map).
template <class Scalar>
Tensor float_map_vec(const Tensor& x, const char* op, kern::Unary k, const Scalar& scalar) {
  if (!plain_f32(x)) return float_map(x, op, scalar);
  Tensor out = Tensor::empty(x.shape(), DType::Float32);
  const float* xp = x.data<float>();
  float* yp = out.data<float>();
  auto body = [k, xp, yp, f = kern::table().unary_f32](int64_t b, int64_t e) { f(k, xp + b, yp + b, e - b); };
  parallel_for(0, x.numel(), kElementwiseGrain, body);
  CR_OFFER_DIRECT(1, op, [body, n = x.numel(), keep = x] { parallel_for(0, n, kElementwiseGrain, body); });
  return out;
}

/// out = g * f'(.) with the chosen level's kernel `k` when g and x are float32 of one shape and x
/// is contiguous (a strided or broadcast g, as sum's, is copied contiguous first: one copy beats a
/// scalar loop); an undefined tensor otherwise.
Tensor grad_map_vec(const Tensor& g, const Tensor& x, kern::UnaryGrad k) {
  if (!plain_f32(x) || g.dtype() != DType::Float32 || g.shape() != x.shape()) return Tensor();
  Tensor gc = g.is_contiguous() ? g : contiguous_copy(g);
  Tensor out = Tensor::empty(x.shape(), DType::Float32);
  const float* gp = gc.data<float>();
  const float* xp = x.data<float>();
  float* yp = out.data<float>();
  auto body = [k, gp, xp, yp, f = kern::table().unary_grad_f32](int64_t b, int64_t e) {
    f(k, gp + b, xp + b, yp + b, e - b);
  };
  parallel_for(0, x.numel(), kElementwiseGrain, body);
  if (gc.same(g))  // (a copy of g would be made again by each run)
    CR_OFFER_DIRECT(1, "unary_grad", [body, n = x.numel(), keep = TensorList{g, x}] {
      parallel_for(0, n, kElementwiseGrain, body);
    });
  return out;
}

}  // namespace

// ---- derivatives (Note [Derivatives table]) ----------------------------------------------------
namespace {

struct Slope {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  double slope = 0.01;
};
struct EluAlpha {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  double alpha = 1.0;
};
struct Softplus {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  double beta = 1.0, threshold = 20.0;
};

// relu saves its output: the mask y > 0 is the same as x > 0, and the output is already there.
const auto relu_grad =
    with_jvp(Derivative<1, 1>{"ReluBackward0",
                              {"self"},
                              {[](const auto& d) { return relu_backward(d.grad, d.saved[0]); }},
                              {{{"result"}}}},
             jvp_elementwise);
// relu_backward(grad, y) is linear in grad with the mask fixed by y: its gradient w.r.t. grad is
// itself, and w.r.t. y (a step function of the input) zero, as PyTorch's threshold_backward.
const auto relu_backward_grad =
    with_jvp(Derivative<2, 1>{"ThresholdBackwardBackward0",
                              {"grad_output", "self"},
                              {[](const auto& d) { return relu_backward(d.grad, d.saved[0]); },
                               [](const auto& d) { return zeros(d.saved[0].shape(), d.saved[0].dtype()); }},
                              {{{"self"}}}},
             jvp_elementwise);
const auto leaky_relu_grad = with_jvp(
    Derivative<1, 1, Slope>{
        "LeakyReluBackward0",
        {"self"},
        {[](const auto& d) { return where(d.saved[0] > 0.0, d.grad, d.grad * d.attrs.slope); }},
        {{{"self"}}}},
    jvp_elementwise);
// d/dx = 1 for x > 0, alpha * exp(x) otherwise
const auto elu_grad =
    with_jvp(Derivative<1, 1, EluAlpha>{"EluBackward0",
                                        {"self"},
                                        {[](const auto& d) {
                                          const Tensor& x = d.saved[0];
                                          return where(x > 0.0, d.grad, d.grad * (exp(x) * d.attrs.alpha));
                                        }},
                                        {{{"self"}}}},
             jvp_elementwise);
// d/dx = Phi(x) + x phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi(x) = exp(-x^2/2) / sqrt(2 pi),
// computed by the fused gelu_backward below (one pass instead of a dozen elementwise ops).
Tensor gelu_backward(const Tensor& g, const Tensor& x);
const auto gelu_grad =
    with_jvp(Derivative<1, 1>{"GeluBackward0",
                              {"self"},
                              {[](const auto& d) { return gelu_backward(d.grad, d.saved[0]); }},
                              {{{"self"}}}},
             jvp_elementwise);
// gelu_backward(g, x) = g gelu'(x):   d/dg = gelu'(x),   d/dx = g gelu''(x) = g phi(x) (2 - x^2)
const auto gelu_backward_grad =
    with_jvp(Derivative<2, 2>{"GeluBackwardBackward0",
                              {"grad_output", "self"},
                              {[](const auto& d) { return gelu_backward(d.grad, d.saved[1]); },
                               [](const auto& d) {
                                 const Tensor &g = d.saved[0], &x = d.saved[1];
                                 Tensor pdf = exp(x * x * -0.5) * (M_2_SQRTPI * M_SQRT1_2 * 0.5);
                                 return d.grad * g * pdf * (2.0 - x * x);
                               }},
                              {{{"grad_output", for_grad_of(1)}, {"self"}}}},
             jvp_elementwise);
// PyTorch's gelu_backward (tanh): 0.5 (1 + t) + 0.5 x (1 - t^2) kBeta (1 + 3 kKappa x^2)
const auto gelu_tanh_grad = with_jvp(
    Derivative<1, 1>{"GeluBackward0",
                     {"self"},
                     {[](const auto& d) {
                       const Tensor& x = d.saved[0];
                       Tensor x2 = x * x;
                       Tensor t = tanh((x + x2 * x * kKappa) * kBeta);
                       Tensor left = (t + 1.0) * 0.5;
                       Tensor right = x * (0.5 * kBeta) * ((1.0 - t * t) * (x2 * (3.0 * kKappa) + 1.0));
                       return d.grad * (left + right);
                     }},
                     {{{"self"}}}},
    jvp_elementwise);
// sigmoid and tanh save their output and call the fused gradient kernels below.
const auto sigmoid_grad =
    with_jvp(Derivative<1, 1>{"SigmoidBackward0",
                              {"self"},
                              {[](const auto& d) { return sigmoid_backward(d.grad, d.saved[0]); }},
                              {{{"result"}}}},
             jvp_elementwise);
const auto tanh_grad =
    with_jvp(Derivative<1, 1>{"TanhBackward0",
                              {"self"},
                              {[](const auto& d) { return tanh_backward(d.grad, d.saved[0]); }},
                              {{{"result"}}}},
             jvp_elementwise);
// tanh_backward(g, y) = g (1 - y^2):   d/dg = 1 - y^2,   d/dy = -2 g y
const auto tanh_backward_grad =
    with_jvp(Derivative<2, 2>{"TanhBackwardBackward0",
                              {"grad_output", "output"},
                              {[](const auto& d) { return tanh_backward(d.grad, d.saved[1]); },
                               [](const auto& d) { return d.grad * (d.saved[0] * d.saved[1] * -2.0); }},
                              {{{"grad_output", for_grad_of(1)}, {"output"}}}},
             jvp_elementwise);
// sigmoid_backward(g, y) = g y (1 - y):   d/dg = y (1 - y),   d/dy = g (1 - 2y)
const auto sigmoid_backward_grad = with_jvp(
    Derivative<2, 2>{"SigmoidBackwardBackward0",
                     {"grad_output", "output"},
                     {[](const auto& d) { return sigmoid_backward(d.grad, d.saved[1]); },
                      [](const auto& d) { return d.grad * (d.saved[0] * (d.saved[1] * -2.0 + 1.0)); }},
                     {{{"grad_output", for_grad_of(1)}, {"output"}}}},
    jvp_elementwise);
// d/dx x s(x) = s (1 + x (1 - s))
const auto silu_grad = with_jvp(Derivative<1, 1>{"SiluBackward0",
                                                 {"self"},
                                                 {[](const auto& d) {
                                                   const Tensor& x = d.saved[0];
                                                   Tensor s = sigmoid(x);
                                                   return d.grad * (s * (x * (1.0 - s) + 1.0));
                                                 }},
                                                 {{{"self"}}}},
                                jvp_elementwise);
// d/dx = sigmoid(beta x), and 1 in the linear region beta x > threshold
const auto softplus_grad =
    with_jvp(Derivative<1, 1, Softplus>{"SoftplusBackward0",
                                        {"self"},
                                        {[](const auto& d) {
                                          Tensor bx = d.saved[0] * d.attrs.beta;
                                          return where(bx > d.attrs.threshold, d.grad, d.grad * sigmoid(bx));
                                        }},
                                        {{{"self"}}}},
             jvp_elementwise);

}  // namespace

Tensor relu_backward(const Tensor& g, const Tensor& y) {
  CR_PLANNED_DIRECT(relu_backward(g, y));
  Dims shape = broadcast_shapes(g.shape(), y.shape(), "relu_backward");
  // A strided gradient (a mean's, expanded from one number) is read in place by the loop below:
  // the vector kernel would need a contiguous copy of it first, and a select is exact either way.
  Tensor out = g.is_contiguous() ? grad_map_vec(g, y, kern::UnaryGrad::Relu) : Tensor();
  if (!out.defined()) {
    Tensor yv = y.dtype() == g.dtype() ? y : contiguous_copy_as(y, g.dtype());
    out = dispatch_floating(g.dtype(), "relu_backward", [&](auto tag) {
      using T = decltype(tag);
      auto f = [](T gv, T v) { return v > T(0) ? gv : T(0); };
      Tensor r = map_binary<T, T, T>(g, yv, shape, f);
      // one gradient value for every element (a mean's, expanded): read again at each run
      if (yv.same(y) && y.is_contiguous() && y.shape() == shape && one_value(g))
        CR_OFFER_DIRECT(1, "relu_backward",
                        [f, gp = g.data<T>(), yp = y.data<T>(), op = r.data<T>(), n = r.numel(),
                         keep = TensorList{g, y}] {
                          const T gv = *gp;
                          for (int64_t i = 0; i < n; ++i) op[i] = f(gv, yp[i]);
                        });
      return r;
    });
  }
  record(relu_backward_grad, {g, y}, out, {y});
  return out;
}

Tensor relu(const Tensor& x) {
  CR_PLANNED_DIRECT(relu(x));
  if (x.dtype() == DType::Bool) throw TypeError("relu: not implemented for dtype bool");
  Tensor out = plain_f32(x)
                   ? float_map_vec(x, "relu", kern::Unary::Relu, [](float v) { return v; })
                   : dispatch_numeric(x.dtype(), "relu", [&](auto tag) {
                       using T = decltype(tag);
                       return map_unary<T, T>(x, [](T v) { return v < T(0) ? T(0) : v; });  // NaN stays NaN
                     });
  record(relu_grad, {x}, out, {output(out)});
  return out;
}

Tensor leaky_relu(const Tensor& x, double slope) {
  Tensor out = float_map(x, "leaky_relu", [slope](auto v) {
    using T = decltype(v);
    return v > T(0) ? v : v * static_cast<T>(slope);
  });
  if (auto* n = record(leaky_relu_grad, {x}, out, {x})) n->attrs.slope = slope;
  return out;
}

Tensor elu(const Tensor& x, double alpha) {
  Tensor out = float_map(x, "elu", [alpha](auto v) {
    using T = decltype(v);
    return v > T(0) ? v : static_cast<T>(alpha) * std::expm1(v);
  });
  // d/dx = 1 for x > 0, alpha * exp(x) otherwise.
  if (auto* n = record(elu_grad, {x}, out, {x})) n->attrs.alpha = alpha;
  return out;
}

Tensor gelu(const Tensor& x, const std::string& approximate) {
  if (approximate == "none") {
    Tensor out = float_map_vec(x, "gelu", kern::Unary::Gelu, [](auto v) {
      using T = decltype(v);
      return T(0.5) * v * (T(1) + std::erf(v * static_cast<T>(M_SQRT1_2)));
    });
    // d/dx = Phi(x) + x phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi(x) = exp(-x^2/2) / sqrt(2 pi)
    record(gelu_grad, {x}, out, {x});
    return out;
  }
  if (approximate == "tanh") {
    Tensor out = float_map(x, "gelu", [](auto v) {
      using T = decltype(v);
      T inner = static_cast<T>(kBeta) * (v + static_cast<T>(kKappa) * v * v * v);
      return T(0.5) * v * (T(1) + std::tanh(inner));
    });
    // PyTorch's gelu_backward (tanh): 0.5 (1 + t) + 0.5 x (1 - t^2) kBeta (1 + 3 kKappa x^2).
    record(gelu_tanh_grad, {x}, out, {x});
    return out;
  }
  throw ValueError(str("gelu: approximate must be 'none' or 'tanh', got '", approximate, "'"));
}

// ---- fused gradients of sigmoid and tanh, themselves differentiable --------------------------
namespace {

// One pass over (g, y) instead of three or four elementwise ops; the Node differentiates the
// formula in both g and y, so gradients of gradients still work.
template <bool kTanh>
Tensor act_grad_kernel(const Tensor& g, const Tensor& y, const char* op) {
  if (Tensor out = grad_map_vec(g, y, kTanh ? kern::UnaryGrad::Tanh : kern::UnaryGrad::Sigmoid);
      out.defined())
    return out;
  Dims shape = broadcast_shapes(g.shape(), y.shape(), op);
  Tensor yv = y.dtype() == g.dtype() ? y : contiguous_copy_as(y, g.dtype());
  return dispatch_floating(g.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return map_binary<T, T, T>(g, yv, shape,
                               [](T gv, T v) { return kTanh ? gv * (T(1) - v * v) : gv * (v * (T(1) - v)); });
  });
}

}  // namespace

namespace {
Tensor gelu_backward(const Tensor& g, const Tensor& x) {
  if (Tensor out = grad_map_vec(g, x, kern::UnaryGrad::Gelu); out.defined()) {
    record(gelu_backward_grad, {g, x}, out, {g, x});
    return out;
  }
  Dims shape = broadcast_shapes(g.shape(), x.shape(), "gelu_backward");
  Tensor xv = x.dtype() == g.dtype() ? x : contiguous_copy_as(x, g.dtype());
  Tensor out = dispatch_floating(g.dtype(), "gelu_backward", [&](auto tag) {
    using T = decltype(tag);
    return map_binary<T, T, T>(g, xv, shape, [](T gv, T v) {
      T cdf = T(0.5) * (T(1) + std::erf(v * static_cast<T>(M_SQRT1_2)));
      T pdf = std::exp(T(-0.5) * v * v) * static_cast<T>(M_2_SQRTPI * M_SQRT1_2 * 0.5);
      return gv * (cdf + v * pdf);
    });
  });
  record(gelu_backward_grad, {g, x}, out, {g, x});
  return out;
}
}  // namespace

Tensor tanh_backward(const Tensor& g, const Tensor& y) {
  Tensor out = act_grad_kernel<true>(g, y, "tanh_backward");
  record(tanh_backward_grad, {g, y}, out, {g, y});
  return out;
}
Tensor sigmoid_backward(const Tensor& g, const Tensor& y) {
  Tensor out = act_grad_kernel<false>(g, y, "sigmoid_backward");
  record(sigmoid_backward_grad, {g, y}, out, {g, y});
  return out;
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = float_map_vec(x, "sigmoid", kern::Unary::Sigmoid, [](auto v) {
    using T = decltype(v);
    if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
    T e = std::exp(v);  // never overflows for v < 0
    return e / (T(1) + e);
  });
  record(sigmoid_grad, {x}, out, {output(out)});
  return out;
}

Tensor tanh(const Tensor& x) {
  Tensor out = float_map_vec(x, "tanh", kern::Unary::Tanh, [](auto v) { return std::tanh(v); });
  record(tanh_grad, {x}, out, {output(out)});
  return out;
}

Tensor silu(const Tensor& x) {
  Tensor out = float_map_vec(x, "silu", kern::Unary::Silu, [](auto v) {
    using T = decltype(v);
    return v / (T(1) + std::exp(-v));
  });
  // d/dx x s(x) = s (1 + x (1 - s))
  record(silu_grad, {x}, out, {x});
  return out;
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  Tensor out = float_map(x, "softplus", [beta, threshold](auto v) {
    using T = decltype(v);
    T bx = v * static_cast<T>(beta);
    return bx > static_cast<T>(threshold) ? v : std::log1p(std::exp(bx)) / static_cast<T>(beta);
  });
  // d/dx = sigmoid(beta x), and 1 in the linear region beta x > threshold.
  if (auto* n = record(softplus_grad, {x}, out, {x})) n->attrs = Softplus{beta, threshold};
  return out;
}

}  // namespace cr
