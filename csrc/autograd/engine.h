#pragma once
// Engine: runs backward over the graph reachable from the roots. See Note [Engine] in engine.cpp.
#include <functional>

#include "core/node.h"

namespace cr {

/// Backward from `roots` seeded with `grad_roots` (undefined: ones for a scalar root).
/// With empty `inputs`, gradients accumulate into the .grad of every leaf reached and the result is
/// empty. With `inputs`, nothing accumulates: the gradient of each input is returned instead
/// (undefined where unused and allow_unused; RuntimeError otherwise). With `inputs` and
/// `accumulate` (backward(inputs=...)), gradients accumulate into the .grad of those inputs only:
/// a leaf's through its AccumulateGrad (so its hooks run), a non-leaf's directly; unused inputs
/// are skipped and nothing is returned.
TensorList run_backward(const TensorList& roots, const TensorList& grad_roots, bool keep_graph,
                        bool create_graph, const TensorList& inputs, bool allow_unused,
                        bool accumulate = false);

/// Runs `callback` on the calling thread once the backward now running has finished every node
/// (Note [Engine callbacks] in engine.cpp). AutogradError outside a backward.
void queue_callback(std::function<void()> callback);

}  // namespace cr
