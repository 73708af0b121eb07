#pragma once
// Gradient hooks on tensors and retain_grad. A leaf keeps its hooks (AccumulateGrad runs them);
// a non-leaf's hooks are pre-hooks of its grad_fn, run on the summed gradient of that output.
#include "core/node.h"

namespace cr {

/// Runs a hook on a tensor's gradient (leaf: before accumulation; non-leaf: on its grad_fn).
/// `owner`: what the hook keeps alive, for garbage collectors (see HookOwner).
void add_tensor_hook(const Tensor& t, TensorHook hook, HookOwner owner = nullptr);
/// Makes a non-leaf tensor keep its .grad after backward.
void retain_grad(const Tensor& t);

}  // namespace cr
