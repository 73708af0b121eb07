// Note [Fused scalar chains]
// chainrule.compile records `y = x * 1.0001 + 0.001 ...` as one step per operator. When consecutive
// steps each apply one of the operators with a Python number (ScalarOpKind) to the previous step's
// result, and nothing else reads the results in between, the schedule replays them as one
// scalar_chain (autograd/capture.cpp): one pass over memory instead of one per op, one graph node
// instead of one per op, and no intermediate tensors.
//
// Bitwise equal to the ops one by one, for any thread count: each element goes through the same
// IEEE operations in the same order, with the number converted to the tensor's dtype as the op
// converts it (mul_scalar and add_scalar cast it; div and rsub make a 0-dim tensor of the dtype).
// The backward applies the ops' own gradient formulas in reverse: Mul: g * c, Add: g, Div: g / c,
// RSub: g * -1 (SubBackward0's -alpha), Neg: -g. This file is compiled without floating-point
// contraction, so the compiler cannot fuse a multiply and an add into one rounding.
#include "ops/fused.h"

#include <algorithm>
#include <cstring>

#include "core/forward_ad.h"
#include "core/node.h"
#include "core/parallel.h"
#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/operators.h"

namespace cr {
namespace {

constexpr int64_t kBlock = 256;  // elements kept in a local buffer while every op runs over them

// Every element goes through all the ops while it is in registers, R values at a time (R
// independent chains hide an op's latency): whole 64-byte vectors where the compiler has vector
// types, single elements for a block's tail. In memory, each op's load waited for the previous
// op's store, and a chain of thousands of ops on one vector took several times as long. Each
// element sees the same IEEE operations in the same order as the ops one by one, so the same bits.
#if defined(__GNUC__) || defined(__clang__)
template <class T>
struct Vec64 {
  typedef T type __attribute__((vector_size(64)));
  static constexpr int64_t kLanes = 64 / sizeof(T);
};
#else
template <class T>
struct Vec64 {  // no vector types: elements one by one
  typedef T type;
  static constexpr int64_t kLanes = 1;
};
#endif

/// Every op of the chain (in reverse for the backward) on the R values of type X (vectors or
/// single elements of T) starting at v.
template <bool kForward, int R, class X, class T>
void chain_values(const ScalarChain& ops, T* v) {
  X x[R];
  std::memcpy(x, v, sizeof x);
  auto apply = [&x](const ScalarOp& op) {
    const T c = static_cast<T>(op.c);
    switch (op.kind) {
      case ScalarOpKind::Mul:
        for (int j = 0; j < R; ++j) x[j] = x[j] * c;
        break;
      case ScalarOpKind::Add:  // its gradient is the incoming one
        if (kForward)
          for (int j = 0; j < R; ++j) x[j] = x[j] + c;
        break;
      case ScalarOpKind::Div:
        for (int j = 0; j < R; ++j) x[j] = x[j] / c;
        break;
      case ScalarOpKind::RSub:  // SubBackward0's -alpha
        for (int j = 0; j < R; ++j) x[j] = kForward ? c - x[j] : x[j] * static_cast<T>(-1.0);
        break;
      case ScalarOpKind::Neg:
        for (int j = 0; j < R; ++j) x[j] = -x[j];
        break;
    }
  };
  if (kForward)
    for (const ScalarOp& op : ops) apply(op);
  else
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) apply(*it);
  std::memcpy(v, x, sizeof x);
}

template <bool kForward, class T>
void chain_block(const ScalarChain& ops, T* v, int64_t n) {
  using V = typename Vec64<T>::type;
  constexpr int64_t W = Vec64<T>::kLanes;
  static_assert(sizeof(V) == W * sizeof(T), "whole elements per vector");
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) chain_values<kForward, 4, V>(ops, v + i);
  switch ((n - i) / W) {
    case 3: chain_values<kForward, 3, V>(ops, v + i), i += 3 * W; break;
    case 2: chain_values<kForward, 2, V>(ops, v + i), i += 2 * W; break;
    case 1: chain_values<kForward, 1, V>(ops, v + i), i += W; break;
    default: break;
  }
  for (; i < n; ++i) chain_values<kForward, 1, T>(ops, v + i);
}

template <class T>
void forward_block(const ScalarChain& ops, T* v, int64_t n) {
  chain_block<true>(ops, v, n);
}
template <class T>
void backward_block(const ScalarChain& ops, T* g, int64_t n) {
  chain_block<false>(ops, g, n);
}

/// out = block(in) over contiguous memory, in blocks of kBlock elements split across threads.
template <class T, class Block>
void run_blocks(const T* in, T* out, int64_t n, const Block& block) {
  const int64_t nblocks = (n + kBlock - 1) / kBlock;
  parallel_for(0, nblocks, std::max<int64_t>(1, kElementwiseGrain / kBlock), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const int64_t s = k * kBlock, m = std::min(kBlock, n - s);
      T* v = out + s;
      std::copy(in + s, in + s + m, v);
      block(v, m);
    }
  });
}

struct ChainAttrs {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  std::shared_ptr<const ScalarChain> ops;
};

/// The gradient op by op with the ops' own formulas (differentiable: used under create_graph).
Tensor chain_grad_by_ops(const ScalarChain& ops, Tensor g) {
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
    switch (it->kind) {
      case ScalarOpKind::Mul: g = g * it->c; break;
      case ScalarOpKind::Add: break;
      case ScalarOpKind::Div: g = div(g, scalar_tensor(it->c, g.dtype())); break;
      case ScalarOpKind::RSub: g = g * -1.0; break;
      case ScalarOpKind::Neg: g = neg(g); break;
    }
  }
  return g;
}

const Derivative<1, 0, ChainAttrs> scalar_chain_grad{
    "CompiledScalarChainBackward0", {"self"}, {[](const auto& d) -> Tensor {
      const ScalarChain& ops = *d.attrs.ops;
      if (GradMode::is_enabled() || !is_floating(d.grad.dtype())) return chain_grad_by_ops(ops, d.grad);
      Tensor g = contiguous(d.grad);
      Tensor out = Tensor::empty(g.shape(), g.dtype());
      if (g.dtype() == DType::Float32)
        run_blocks(g.data<float>(), out.data<float>(), g.numel(),
                   [&](float* v, int64_t m) { backward_block(ops, v, m); });
      else
        run_blocks(g.data<double>(), out.data<double>(), g.numel(),
                   [&](double* v, int64_t m) { backward_block(ops, v, m); });
      return out;
    }}};

}  // namespace

bool scalar_chain_applies(const Tensor& a) {
  return a.defined() && (a.dtype() == DType::Float32 || a.dtype() == DType::Float64) && a.is_contiguous() &&
         !fw::active() && !AnomalyMode::is_enabled();
}

Tensor scalar_chain(const Tensor& a, std::shared_ptr<const ScalarChain> ops) {
  if (!scalar_chain_applies(a))
    throw ValueError("scalar_chain: expected a contiguous float32 or float64 tensor");
  Tensor out = Tensor::empty(a.shape(), a.dtype());
  if (a.dtype() == DType::Float32)
    run_blocks(a.data<float>(), out.data<float>(), a.numel(),
               [&](float* v, int64_t m) { forward_block(*ops, v, m); });
  else
    run_blocks(a.data<double>(), out.data<double>(), a.numel(),
               [&](double* v, int64_t m) { forward_block(*ops, v, m); });
  if (auto* n = record(scalar_chain_grad, {a}, out)) n->attrs.ops = std::move(ops);
  return out;
}

}  // namespace cr
