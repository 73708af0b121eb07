#include "autograd/hooks.h"

#include "ops/creation.h"
#include "ops/elementwise.h"

namespace cr {

void add_tensor_hook(const Tensor& t, TensorHook hook, HookOwner owner) {
  if (!t.requires_grad())
    throw AutogradError("cannot register a hook on a tensor that doesn't require gradient");
  if (t.grad_fn()) {
    t.grad_fn()->pre_hooks_.emplace_back(t.output_nr(), std::move(hook));
    if (owner) t.grad_fn()->pre_hook_owners_.emplace_back(t.output_nr(), std::move(owner));
  } else {
    t.impl()->hooks_.push_back(std::move(hook));
    if (owner) t.impl()->hook_owners_.push_back(std::move(owner));
  }
}

void retain_grad(const Tensor& t) {
  if (!t.requires_grad()) throw AutogradError("can't retain_grad on Tensor that has requires_grad=False");
  if (t.is_leaf() || t.impl()->retains_grad_) return;
  t.impl()->retains_grad_ = true;
  std::weak_ptr<TensorImpl> weak = t.ptr();
  t.grad_fn()->pre_hooks_.emplace_back(t.output_nr(), [weak](const Tensor& g) -> Tensor {
    auto impl = weak.lock();
    if (!impl) return Tensor();
    std::lock_guard<std::mutex> lock(impl->grad_mu_);
    if (!impl->grad_) impl->grad_ = (GradMode::is_enabled() ? g : contiguous_copy(detach(g))).ptr();
    else impl->grad_ = add(Tensor(impl->grad_), g).ptr();
    return Tensor();
  });
}

}  // namespace cr
