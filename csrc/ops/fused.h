#pragma once
// Fused chains of elementwise ops with a Python number, for chainrule.compile (Note [Fused scalar
// chains] in fused.cpp).
#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace cr {

/// One elementwise op of a floating tensor x with a number c, as the Tensor operators compute it.
enum class ScalarOpKind : uint8_t {
  Mul,   ///< x * c      (t * c, c * t: mul_scalar)
  Add,   ///< x + c      (t + c, c + t, and t - c as x + (-c): add_scalar)
  Div,   ///< x / c      (t / c: div by a 0-dim tensor of x's dtype)
  RSub,  ///< c - x      (c - t: sub from a 0-dim tensor of x's dtype)
  Neg,   ///< -x         (-t)
};
struct ScalarOp {
  ScalarOpKind kind;
  double c = 0.0;
};
using ScalarChain = std::vector<ScalarOp>;

/// ops applied in order to a contiguous float32 or float64 tensor in one pass over memory, every
/// element computed exactly as the ops one by one compute it. Differentiable: one node whose
/// backward applies the ops' derivatives in reverse order, again exactly as the ops' own backward
/// formulas do (and op by op, differentiably, under create_graph).
Tensor scalar_chain(const Tensor& a, std::shared_ptr<const ScalarChain> ops);

/// Whether scalar_chain can take `a` (contiguous float32/float64, no forward-mode tangent level or
/// anomaly mode active: those take the ops one by one).
bool scalar_chain_applies(const Tensor& a);

}  // namespace cr
