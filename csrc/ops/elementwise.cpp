// Elementwise arithmetic: forward kernels and their backward Nodes.
#include "ops/elementwise.h"

#include "core/node.h"
#include "ops/creation.h"
#include "ops/loops.h"
#include "ops/reduce.h"

namespace cr {

namespace {

// The inputs in dtype `dt` (no autograd: callers record the node on the originals).
inline Tensor as_dtype(const Tensor& t, DType dt) { return t.dtype() == dt ? t : contiguous_copy_as(t, dt); }

}  // namespace

template <class F>
static Tensor binary_kernel(const Tensor& a0, const Tensor& b0, DType dt, const char* op, const F& f) {
  Dims shape = broadcast_shapes(a0.shape(), b0.shape(), op);
  Tensor a = as_dtype(a0, dt), b = as_dtype(b0, dt);
  return dispatch_all(dt, [&](auto tag) {
    using T = decltype(tag);
    return map_binary<T, T, T>(a, b, shape, [&](T x, T y) { return static_cast<T>(f(x, y)); });
  });
}

// ---- backward nodes -------------------------------------------------------------------------
namespace {

struct AddBackward final : Node {
  Dims a_shape, b_shape;
  double alpha = 1.0;  // d/db of a + alpha * b
  TensorList apply(TensorList&& g) override {
    Tensor ga, gb;
    if (next_edges_[0].valid()) ga = sum_to(g[0], a_shape);
    if (next_edges_[1].valid()) gb = sum_to(alpha == 1.0 ? g[0] : mul_scalar(g[0], alpha), b_shape);
    return {ga, gb};
  }
  std::string name() const override { return alpha == 1.0 ? "AddBackward0" : "SubBackward0"; }
};

struct MulBackward final : Node {
  SavedTensor a, b;
  Dims a_shape, b_shape;
  TensorList apply(TensorList&& g) override {
    Tensor ga, gb;
    if (next_edges_[0].valid()) ga = sum_to(mul(g[0], b.unpack(*this)), a_shape);
    if (next_edges_[1].valid()) gb = sum_to(mul(g[0], a.unpack(*this)), b_shape);
    return {ga, gb};
  }
  void release_saved() override { a.reset(); b.reset(); }
  std::string name() const override { return "MulBackward0"; }
};

struct DivBackward final : Node {
  SavedTensor a, b;
  Dims a_shape, b_shape;
  TensorList apply(TensorList&& g) override {
    Tensor bv = b.unpack(*this);
    Tensor ga, gb;
    if (next_edges_[0].valid()) ga = sum_to(div(g[0], bv), a_shape);
    if (next_edges_[1].valid()) {
      // d(a/b)/db = -a / b^2
      gb = sum_to(neg(div(mul(g[0], a.unpack(*this)), mul(bv, bv))), b_shape);
    }
    return {ga, gb};
  }
  void release_saved() override { a.reset(); b.reset(); }
  std::string name() const override { return "DivBackward0"; }
};

struct NegBackward final : Node {
  TensorList apply(TensorList&& g) override { return {neg(g[0])}; }
  std::string name() const override { return "NegBackward0"; }
};

struct MulScalarBackward final : Node {
  double s;
  TensorList apply(TensorList&& g) override { return {mul_scalar(g[0], s)}; }
  std::string name() const override { return "MulBackward1"; }
};

struct AddScalarBackward final : Node {
  TensorList apply(TensorList&& g) override { return {std::move(g[0])}; }
  std::string name() const override { return "AddBackward1"; }
};

template <class N>
std::shared_ptr<N> binary_node(const Tensor& a, const Tensor& b) {
  auto n = std::make_shared<N>();
  n->a_shape = a.shape();
  n->b_shape = b.shape();
  return n;
}

}  // namespace

// ---- forward --------------------------------------------------------------------------------
static Tensor add_impl(const Tensor& a, const Tensor& b, double alpha, const char* op) {
  DType dt = promote(a.dtype(), b.dtype());
  Tensor out;
  if (alpha == 1.0) {
    out = binary_kernel(a, b, dt, op, [](auto x, auto y) { return x + y; });
  } else {
    if (dt == DType::Bool)
      throw TypeError("sub: subtraction of two bool tensors is not supported; use logical_xor or ~");
    out = binary_kernel(a, b, dt, op, [](auto x, auto y) { return x - y; });
  }
  if (needs_grad(a, b) && is_floating(dt)) {
    auto n = binary_node<AddBackward>(a, b);
    n->alpha = alpha;
    set_history(n, a, b, out);
  }
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) { return add_impl(a, b, 1.0, "add"); }
Tensor sub(const Tensor& a, const Tensor& b) { return add_impl(a, b, -1.0, "sub"); }

Tensor mul(const Tensor& a, const Tensor& b) {
  DType dt = promote(a.dtype(), b.dtype());
  Tensor out = dt == DType::Bool ? binary_kernel(a, b, dt, "mul", [](auto x, auto y) { return x && y; })
                                 : binary_kernel(a, b, dt, "mul", [](auto x, auto y) { return x * y; });
  if (needs_grad(a, b) && is_floating(dt)) {
    auto n = binary_node<MulBackward>(a, b);
    if (b.requires_grad()) n->a = SavedTensor(a, false);
    if (a.requires_grad()) n->b = SavedTensor(b, false);
    set_history(n, a, b, out);
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  DType dt = promote(a.dtype(), b.dtype());
  if (!is_floating(dt)) dt = DType::Float32;
  Tensor out = binary_kernel(a, b, dt, "div", [](auto x, auto y) { return x / y; });
  if (needs_grad(a, b)) {
    auto n = binary_node<DivBackward>(a, b);
    if (b.requires_grad()) n->a = SavedTensor(a, false);
    n->b = SavedTensor(b, false);
    set_history(n, a, b, out);
  }
  return out;
}

Tensor neg(const Tensor& a) {
  if (a.dtype() == DType::Bool)
    throw TypeError("neg: negation of a bool tensor is not supported; use logical_not or ~");
  Tensor out = dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return map_unary<T, T>(a, [](T x) { return static_cast<T>(-x); });
  });
  if (needs_grad(a)) set_history(std::make_shared<NegBackward>(), a, out);
  return out;
}

Tensor mul_scalar(const Tensor& a, double s) {
  Tensor out = dispatch_floating(a.dtype(), "mul", [&](auto tag) {
    using T = decltype(tag);
    T v = static_cast<T>(s);
    return map_unary<T, T>(a, [v](T x) { return x * v; });
  });
  if (needs_grad(a)) {
    auto n = std::make_shared<MulScalarBackward>();
    n->s = s;
    set_history(n, a, out);
  }
  return out;
}

Tensor add_scalar(const Tensor& a, double s) {
  Tensor out = dispatch_floating(a.dtype(), "add", [&](auto tag) {
    using T = decltype(tag);
    T v = static_cast<T>(s);
    return map_unary<T, T>(a, [v](T x) { return x + v; });
  });
  if (needs_grad(a)) set_history(std::make_shared<AddScalarBackward>(), a, out);
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

}  // namespace cr
