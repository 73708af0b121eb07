#include "autograd/accumulate_grad.h"

#include <algorithm>

#include "autograd/plan.h"
#include "core/replay_arena.h"
#include "core/small_pool.h"
#include "ops/creation.h"
#include "ops/elementwise.h"

namespace cr {

std::shared_ptr<Node> make_grad_accumulator(std::shared_ptr<TensorImpl> leaf) {
  // A leaf's accumulator lives as long as the graphs that reach it: made again every training step.
  return std::allocate_shared<AccumulateGrad>(pool::Allocator<AccumulateGrad>(), std::move(leaf));
}

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {
  outputs_.push_back(OutputMeta{leaf_->sizes_, leaf_->dtype_});
}

TensorList AccumulateGrad::apply(TensorList&& grads) {
  Tensor g = std::move(grads[0]);
  if (!g.defined()) return {};
  // Copies of the hooks: a Python hook may register more hooks while it runs.
  std::vector<TensorHook> hooks = leaf_->hooks_;
  bool has_post_hooks = false;
  for (auto& hook : hooks) {
    if (hook.target<PostAccumulateGradHook>()) {
      has_post_hooks = true;
      continue;
    }
    Tensor r = hook(g);
    if (r.defined()) g = std::move(r);
  }
  accumulate_into_grad(*leaf_, g);
  if (has_post_hooks) {
    Tensor leaf(leaf_);
    for (auto& hook : hooks)
      if (auto* post = hook.target<PostAccumulateGradHook>()) post->fn(leaf);
  }
  return {};
}

void add_post_accumulate_grad_hook(const Tensor& t, std::function<void(const Tensor&)> fn, HookOwner owner) {
  if (!t.requires_grad())
    throw AutogradError("cannot register a hook on a tensor that doesn't require gradient");
  if (!t.is_leaf())
    throw AutogradError("post accumulate grad hooks cannot be registered on non-leaf tensors");
  t.impl()->hooks_.push_back(PostAccumulateGradHook{std::move(fn)});
  if (owner) t.impl()->hook_owners_.push_back(std::move(owner));
}

namespace {
// A gradient that nobody else can see (beyond `others` references that do not count: a replay
// arena's never does) may become a leaf's .grad as it is; otherwise .grad gets a private copy,
// since later accumulation writes into it in place.
bool private_gradient(const Tensor& g, long others = 0) {
  return ReplayArena::other_uses(g.ptr()) - others == 1 && g.storage().use_count() == 1 &&
         g.storage()->owns_memory() && g.is_contiguous() && !g.requires_grad();
}
std::shared_ptr<TensorImpl> taken_or_copied(const Tensor& g, bool take) {
  return take ? g.ptr() : contiguous_copy(detach(g)).ptr();
}

// accumulate_into_grad while a plan is recorded (Note [Planned replay] in plan.h): what it does is
// recorded as a call, where the plan can know it will do the same at every run.
void accumulate_planned(TensorImpl& t, const Tensor& g) {
  plan::Recorder& rec = *plan::Recorder::current();
  plan::Recorder::Nested inside(rec);  // the work below is this call's
  std::lock_guard<std::mutex> lock(t.grad_mu_);
  auto& slot = t.grad_;
  TensorImpl* leaf = &t;  // an external of the schedule: alive as long as the plan
  // AccumulateGrad ran the leaf's hooks before this; the plan's call does not: it runs only while
  // the leaf has none (checked before each run).
  if (!t.hooks_.empty()) rec.refuse("a parameter with hooks");
  rec.note_leaf(leaf);
  if (!slot) {
    // (the recorder's list of the replay's tensors holds one more reference, which does not count)
    const long held =
        std::any_of(rec.allocs().begin(), rec.allocs().end(), [&](const Tensor& a) { return a.same(g); });
    const bool private_buffer = private_gradient(g, held);
    // Taken as the buffer, or a copy of it: at every run the step has just set .grad to None, as
    // now, and the same buffer comes (the copy allocates the same tensor each run).
    if (rec.grad_state(leaf) != 1) rec.refuse("a .grad set from None that the step did not set to None");
    slot = taken_or_copied(g, private_buffer);
    rec.add_call(
        [leaf, g, private_buffer] {
          std::lock_guard<std::mutex> l(leaf->grad_mu_);
          if (leaf->grad_)
            throw AutogradError("chainrule.compile: a planned replay found a .grad it had cleared");
          leaf->grad_ = taken_or_copied(g, private_buffer);
        },
        private_buffer ? "accumulate (take)" : "accumulate (copy)");
    return;
  }
  Tensor acc(slot);
  if (is_storage_dtype(slot->dtype_) || is_storage_dtype(g.dtype())) {
    rec.refuse("a gradient accumulated in a storage dtype");
    copy_into(acc, add(acc, g));
    return;
  }
  // added into the existing gradient: one a step set, or the one the leaf has when the plan starts
  if (rec.grad_state(leaf) == 0) rec.require_grad(leaf, slot);
  add_inplace_raw(acc, g);
  rec.add_call(
      [leaf, g] {
        std::lock_guard<std::mutex> l(leaf->grad_mu_);
        if (!leaf->grad_) throw AutogradError("chainrule.compile: a planned replay found no .grad to add to");
        Tensor a(leaf->grad_);
        add_inplace_raw(a, g);
      },
      "accumulate (add)");
}
}  // namespace

void accumulate_into_grad(TensorImpl& t, const Tensor& g) {
  if (plan_detail::any_recording()) [[unlikely]]
    if (plan::at_top() && !GradMode::is_enabled()) return accumulate_planned(t, g);
  std::lock_guard<std::mutex> lock(t.grad_mu_);
  auto& slot = t.grad_;
  if (GradMode::is_enabled()) {
    // create_graph: keep the gradient's own history so it can be differentiated again.
    slot = slot ? add(Tensor(slot), g).ptr() : g.ptr();
    return;
  }
  if (!slot) {
    slot = taken_or_copied(g, private_gradient(g));
  } else if (is_storage_dtype(slot->dtype_) || is_storage_dtype(g.dtype())) {
    // Sums in the compute dtype and rounds back into the buffer (Note [Storage dtypes]).
    Tensor acc(slot);
    copy_into(acc, add(acc, g));
  } else {
    Tensor acc(slot);
    add_inplace_raw(acc, g);
  }
}

}  // namespace cr
