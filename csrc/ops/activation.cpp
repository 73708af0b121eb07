// Activations: fused forward kernels and their backward Nodes. The backward formulas are written
// with differentiable ops (mul, where, sigmoid, erf...) so that create_graph works; where the
// output is cheaper to reuse than the input (relu, sigmoid, tanh) the node saves the output.
#include "ops/activation.h"

#include <cmath>
#include "core/node.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/unary_node.h"
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

inline Tensor zero_of(const Tensor& g) { return scalar_tensor(0.0, g.dtype()); }
/// 1 - t
inline Tensor one_minus(const Tensor& t) { return add_scalar(neg(t), 1.0); }

}  // namespace

namespace {
// relu_backward is linear in g with the mask fixed by y: its own gradient w.r.t. g is itself, and
// w.r.t. y (a step function of the input) it is zero, as in PyTorch's threshold_backward.
struct ReluGradBackward final : Node {
  SavedTensor y;
  TensorList apply(TensorList&& g) override {
    Tensor yv = y.unpack(*this);
    Tensor gg, gy;
    if (next_edges_[0].valid()) gg = relu_backward(g[0], yv);
    if (next_edges_[1].valid()) gy = zeros(yv.shape(), yv.dtype());  // the mask is piecewise constant
    return {gg, gy};
  }
  void release_saved() override { y.reset(); }
  std::string name() const override { return "ThresholdBackwardBackward0"; }
};
}  // namespace

Tensor relu_backward(const Tensor& g, const Tensor& y) {
  Dims shape = broadcast_shapes(g.shape(), y.shape(), "relu_backward");
  Tensor yv = y.dtype() == g.dtype() ? y : contiguous_copy_as(y, g.dtype());
  Tensor out = dispatch_floating(g.dtype(), "relu_backward", [&](auto tag) {
    using T = decltype(tag);
    return map_binary<T, T, T>(g, yv, shape, [](T gv, T v) { return v > T(0) ? gv : T(0); });
  });
  if (needs_grad(g, y)) {
    auto n = std::make_shared<ReluGradBackward>();
    n->y = SavedTensor(y, false);
    set_history(n, g, y, out);
  }
  return out;
}

Tensor relu(const Tensor& x) {
  if (x.dtype() == DType::Bool) throw TypeError("relu: not implemented for dtype bool");
  Tensor out = dispatch_numeric(x.dtype(), "relu", [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T, T>(x, [](T v) { return v < T(0) ? T(0) : v; });  // NaN stays NaN
  });
  record_unary(x, out, "ReluBackward0", true, [](const Tensor& g, const Tensor& y) { return relu_backward(g, y); });
  return out;
}

Tensor leaky_relu(const Tensor& x, double slope) {
  Tensor out = float_map(x, "leaky_relu", [slope](auto v) {
    using T = decltype(v);
    return v > T(0) ? v : v * static_cast<T>(slope);
  });
  record_unary(x, out, "LeakyReluBackward0", false, [slope](const Tensor& g, const Tensor& xv) {
    return where(compare_scalar(xv, 0.0, CmpOp::Gt), g, mul_scalar(g, slope));
  });
  return out;
}

Tensor elu(const Tensor& x, double alpha) {
  Tensor out = float_map(x, "elu", [alpha](auto v) {
    using T = decltype(v);
    return v > T(0) ? v : static_cast<T>(alpha) * std::expm1(v);
  });
  // d/dx = 1 for x > 0, alpha * exp(x) otherwise.
  record_unary(x, out, "EluBackward0", false, [alpha](const Tensor& g, const Tensor& xv) {
    return where(compare_scalar(xv, 0.0, CmpOp::Gt), g, mul(g, mul_scalar(exp(xv), alpha)));
  });
  return out;
}

Tensor gelu(const Tensor& x, const std::string& approximate) {
  if (approximate == "none") {
    Tensor out = float_map(x, "gelu", [](auto v) {
      using T = decltype(v);
      return T(0.5) * v * (T(1) + std::erf(v * static_cast<T>(M_SQRT1_2)));
    });
    // d/dx = Phi(x) + x phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi(x) = exp(-x^2/2) / sqrt(2 pi)
    record_unary(x, out, "GeluBackward0", false, [](const Tensor& g, const Tensor& xv) {
      Tensor cdf = mul_scalar(add_scalar(erf(mul_scalar(xv, M_SQRT1_2)), 1.0), 0.5);
      Tensor pdf = mul_scalar(exp(mul_scalar(mul(xv, xv), -0.5)), M_2_SQRTPI * M_SQRT1_2 * 0.5);
      return mul(g, add(cdf, mul(xv, pdf)));
    });
    return out;
  }
  if (approximate == "tanh") {
    Tensor out = float_map(x, "gelu", [](auto v) {
      using T = decltype(v);
      T inner = static_cast<T>(kBeta) * (v + static_cast<T>(kKappa) * v * v * v);
      return T(0.5) * v * (T(1) + std::tanh(inner));
    });
    // PyTorch's gelu_backward (tanh): 0.5 (1 + t) + 0.5 x (1 - t^2) kBeta (1 + 3 kKappa x^2).
    record_unary(x, out, "GeluBackward0", false, [](const Tensor& g, const Tensor& xv) {
      Tensor x2 = mul(xv, xv);
      Tensor t = tanh(mul_scalar(add(xv, mul_scalar(mul(x2, xv), kKappa)), kBeta));
      Tensor left = mul_scalar(add_scalar(t, 1.0), 0.5);
      Tensor right = mul(mul_scalar(xv, 0.5 * kBeta),
                         mul(one_minus(mul(t, t)), add_scalar(mul_scalar(x2, 3.0 * kKappa), 1.0)));
      return mul(g, add(left, right));
    });
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
  Dims shape = broadcast_shapes(g.shape(), y.shape(), op);
  Tensor yv = y.dtype() == g.dtype() ? y : contiguous_copy_as(y, g.dtype());
  return dispatch_floating(g.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    return map_binary<T, T, T>(g, yv, shape, [](T gv, T v) {
      return kTanh ? gv * (T(1) - v * v) : gv * (v * (T(1) - v));
    });
  });
}

template <bool kTanh>
struct ActGradBackward final : Node {
  SavedTensor g, y;
  Dims g_shape, y_shape;
  TensorList apply(TensorList&& gg) override {
    Tensor gv = g.unpack(*this), yv = y.unpack(*this);
    Tensor d_g, d_y;
    // tanh: out = g (1 - y^2)   -> d/dg = 1 - y^2,   d/dy = -2 g y
    // sigmoid: out = g y (1 - y) -> d/dg = y (1 - y), d/dy = g (1 - 2y)
    if (next_edges_[0].valid())
      d_g = sum_to(kTanh ? tanh_backward(gg[0], yv) : sigmoid_backward(gg[0], yv), g_shape);
    if (next_edges_[1].valid()) {
      Tensor dy = kTanh ? mul_scalar(mul(gv, yv), -2.0) : mul(gv, add_scalar(mul_scalar(yv, -2.0), 1.0));
      d_y = sum_to(mul(gg[0], dy), y_shape);
    }
    return {d_g, d_y};
  }
  void release_saved() override { g.reset(); y.reset(); }
  std::string name() const override { return kTanh ? "TanhBackwardBackward0" : "SigmoidBackwardBackward0"; }
};

template <bool kTanh>
Tensor act_grad(const Tensor& g, const Tensor& y, const char* op) {
  Tensor out = act_grad_kernel<kTanh>(g, y, op);
  if (needs_grad(g, y)) {
    auto n = std::make_shared<ActGradBackward<kTanh>>();
    n->g_shape = g.shape();
    n->y_shape = y.shape();
    if (y.requires_grad()) n->g = SavedTensor(g, false);
    n->y = SavedTensor(y, false);
    set_history(n, g, y, out);
  }
  return out;
}

}  // namespace

Tensor tanh_backward(const Tensor& g, const Tensor& y) { return act_grad<true>(g, y, "tanh_backward"); }
Tensor sigmoid_backward(const Tensor& g, const Tensor& y) { return act_grad<false>(g, y, "sigmoid_backward"); }

Tensor sigmoid(const Tensor& x) {
  Tensor out = float_map(x, "sigmoid", [](auto v) {
    using T = decltype(v);
    if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
    T e = std::exp(v);  // never overflows for v < 0
    return e / (T(1) + e);
  });
  record_unary(x, out, "SigmoidBackward0", true, [](const Tensor& g, const Tensor& y) { return sigmoid_backward(g, y); });
  return out;
}

Tensor tanh(const Tensor& x) {
  Tensor out = float_map(x, "tanh", [](auto v) { return std::tanh(v); });
  record_unary(x, out, "TanhBackward0", true, [](const Tensor& g, const Tensor& y) { return tanh_backward(g, y); });
  return out;
}

Tensor silu(const Tensor& x) {
  Tensor out = float_map(x, "silu", [](auto v) {
    using T = decltype(v);
    return v / (T(1) + std::exp(-v));
  });
  // d/dx x s(x) = s (1 + x (1 - s))
  record_unary(x, out, "SiluBackward0", false, [](const Tensor& g, const Tensor& xv) {
    Tensor s = sigmoid(xv);
    return mul(g, mul(s, add_scalar(mul(xv, one_minus(s)), 1.0)));
  });
  return out;
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  Tensor out = float_map(x, "softplus", [beta, threshold](auto v) {
    using T = decltype(v);
    T bx = v * static_cast<T>(beta);
    return bx > static_cast<T>(threshold) ? v : std::log1p(std::exp(bx)) / static_cast<T>(beta);
  });
  // d/dx = sigmoid(beta x), and 1 in the linear region beta x > threshold.
  record_unary(x, out, "SoftplusBackward0", false, [beta, threshold](const Tensor& g, const Tensor& xv) {
    Tensor bx = mul_scalar(xv, beta);
    return where(compare_scalar(bx, threshold, CmpOp::Gt), g, mul(g, sigmoid(bx)));
  });
  return out;
}

}  // namespace cr
