#pragma once
// Engine: runs backward over the graph reachable from the roots. See Note [Engine] in engine.cpp.
#include "core/node.h"

namespace cr {

/// Backward from `roots` seeded with `grad_roots` (undefined: ones for a scalar root).
/// With empty `inputs`, gradients accumulate into the .grad of every leaf reached and the result is
/// empty. With `inputs`, nothing accumulates: the gradient of each input is returned instead
/// (undefined where unused and allow_unused; RuntimeError otherwise).
TensorList run_backward(const TensorList& roots, const TensorList& grad_roots, bool keep_graph,
                        bool create_graph, const TensorList& inputs, bool allow_unused);

/// Runs a hook on a non-leaf tensor's gradient (registered on its grad_fn).
void add_tensor_hook(const Tensor& t, TensorHook hook);
/// Makes a non-leaf tensor keep its .grad after backward.
void retain_grad(const Tensor& t);

}  // namespace cr
