#pragma once
// Engine: runs backward over the graph reachable from the roots. See Note [Engine] in engine.cpp.
#include <functional>
#include <memory>
#include <string>

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

/// A backward recorded for replay without the engine (Note [Lowered backward] in engine.cpp).
struct LoweredBackward;
/// The backward from `roots` as a fixed program over the nodes it would run, for a compiled replay:
/// `saved_slot` gives the replay slot that holds a saved tensor (-1: none), `leaf_kept` whether a
/// leaf that gets a gradient is held by the replay as the same tensor. Null, with the reason in
/// *why, when some node cannot be run that way (see the Note).
std::shared_ptr<const LoweredBackward> lower_backward(
    const TensorList& roots, const std::function<int32_t(const SavedTensor&)>& saved_slot,
    const std::function<bool(const TensorImpl*)>& leaf_kept, std::string* why);
/// Runs a lowered backward: `slots` are the replay's tensors, `roots` and `grad_roots` this
/// replay's roots and seeds (undefined seeds: ones), as run_backward would with empty inputs.
void run_lowered(const LoweredBackward& plan, const std::vector<Tensor>& slots, const TensorList& roots,
                 const TensorList& grad_roots);

/// Runs `callback` on the calling thread once the backward now running has finished every node
/// (Note [Engine callbacks] in engine.cpp). AutogradError outside a backward.
void queue_callback(std::function<void()> callback);

}  // namespace cr
