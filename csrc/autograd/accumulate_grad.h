#pragma once
// AccumulateGrad: the sink Node of a leaf that requires grad. It runs the leaf's hooks, then adds
// the incoming gradient into leaf.grad.
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
  std::shared_ptr<TensorImpl> leaf_;
};

/// Adds g into t.grad (steals g's buffer when nobody else can see it, else copies; later gradients add
/// in place; with grad mode on, keeps g's history).
void accumulate_into_grad(TensorImpl& t, const Tensor& g);

}  // namespace cr
