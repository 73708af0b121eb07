#pragma once
// AccumulateGrad: the sink Node of a leaf that requires grad. It runs the leaf's hooks, then adds
// the incoming gradient into leaf.grad.
#include <functional>
#include <memory>
#include <string>

#include "core/node.h"

namespace cr {

class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf);
  TensorList apply(TensorList&& grads) override;
  std::string name() const override { return "AccumulateGrad"; }
  /// Usually steals the incoming buffer; accumulating is one pass, never worth a thread hand-off.
  bool cheap() const override { return true; }
  /// Note [Lowered backward]: nothing saved; the leaf's hooks would run from a replay.
  bool replayable() const override { return leaf_->hooks_.empty(); }
  std::shared_ptr<TensorImpl> leaf_;
};

/// A leaf hook that runs after the gradient has been added into leaf.grad, with the leaf itself
/// (Tensor.register_post_accumulate_grad_hook). It is kept in the leaf's hook list beside the
/// gradient hooks, so that it lives and is collected like them; the pre-accumulation pass skips it.
struct PostAccumulateGradHook {
  std::function<void(const Tensor&)> fn;
  Tensor operator()(const Tensor&) const { return Tensor(); }
};

/// Registers fn(leaf) to run after each accumulation into leaf.grad. AutogradError on a tensor that
/// does not require grad or is not a leaf. `owner`: what fn keeps alive (see HookOwner).
void add_post_accumulate_grad_hook(const Tensor& t, std::function<void(const Tensor&)> fn,
                                   HookOwner owner = nullptr);

/// Adds g into t.grad (steals g's buffer when nobody else can see it, else copies; later gradients add
/// in place; with grad mode on, keeps g's history).
void accumulate_into_grad(TensorImpl& t, const Tensor& g);

}  // namespace cr
