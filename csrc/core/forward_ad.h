#pragma once
// Note [Forward AD]
// Forward-mode AD (autograd.forward_ad): while a dual level is open, every recorded op also
// computes the tangent of its outputs, J t, from the tangents of its inputs. A tangent lives on the
// node that produced the tensor (Node::fw_tangents_, one per output), so it follows the tensor's
// history: an in-place op rebases the tensor onto a new node, and that node's tangent is the new
// one. Duals are non-leaf tensors (make_dual records a view), which gives every tangent a node.
//
// How a node computes its tangents, in order of preference:
//  - its derivatives-table entry declares a JVP rule (`with_jvp` in ops/derivatives.h): the rule
//    gets the primal inputs, their tangents (zeros for inputs without one), the output and the
//    op's attributes. Elementwise ops declare `jvp_elementwise`, which reuses the entry's own
//    gradient formulas: their Jacobians are diagonal, so J t = J^T t, input by input;
//  - otherwise (no rule, a variadic op, a Python autograd.Function) the generic rule: the node's
//    backward is linear in its output gradient u, so J t is the gradient with respect to u of
//    <backward(u), t>, one double-backward through this one node.
//
// A rule cannot run inside record(): the op fills its entry's attributes on the node record()
// returns. So record() only queues the computation (pend), and the queue runs (flush) before the
// next op is queued, before a tangent is read, and before a backward frees saved tensors. Tangents
// are computed without grad mode (they carry no history), and no op run by a tangent computation
// is itself queued. Closing the level clears every tangent. The cost outside a dual level is one
// test of a flag per recorded op.
#include <functional>
#include <memory>
#include <utility>

#include "core/tensor.h"

namespace cr {
class Node;
namespace fw {

/// True while a dual level is open and no tangent computation is running on this thread.
bool active();
void enter_level();
void exit_level();
/// Runs every queued tangent computation, in the order they were queued.
void flush();
/// Queues `compute` (which fills node->fw_tangents_) after running the earlier ones.
void pend(const std::shared_ptr<Node>& node, std::function<void()> compute);
/// The tangent of t, without flushing (undefined when it has none).
Tensor tangent_of(const Tensor& t);
/// True when some input has a tangent (after a flush).
bool any_tangent(const TensorList& inputs);
/// Sets the tangent of t, a tensor with a grad_fn.
void set_tangent(const Tensor& t, const Tensor& tangent);
/// Stores the tangents of n's outputs and remembers n, so closing the level clears them.
void store(Node& n, TensorList tangents);

/// The generic rule (installed by the autograd layer, which owns the engine it needs).
using GenericJvp = TensorList (*)(Node& n, const TensorList& input_tangents);
void set_generic_jvp(GenericJvp f);
/// Queues the generic rule for n, whose inputs are `inputs` (one per next edge).
void pend_generic(const std::shared_ptr<Node>& n, const TensorList& inputs);

/// Tangents computed so far: (by a rule of the table, by the generic rule).
std::pair<uint64_t, uint64_t> counts();

/// Marks a tangent computation: ops it runs are not queued.
struct ComputeGuard {
  ComputeGuard();
  ~ComputeGuard();
  ComputeGuard(const ComputeGuard&) = delete;
  ComputeGuard& operator=(const ComputeGuard&) = delete;
  bool prev;
};

}  // namespace fw
}  // namespace cr
