// Note [Planned replay] in plan.h.
#include "autograd/plan.h"

#include "core/errors.h"
#include "core/replay_arena.h"

namespace cr {
namespace plan {
Recorder::Recorder(ReplayArena& arena) : arena_(arena) {
  prev_ = arena.recorder();
  arena.set_recorder(this);
  plan_detail::g_recording.fetch_add(1, std::memory_order_relaxed);
}

Recorder::~Recorder() {
  arena_.set_recorder(prev_);
  plan_detail::g_recording.fetch_sub(1, std::memory_order_relaxed);
}

Recorder* Recorder::current() {
  ReplayArena* a = ReplayArena::current();
  return a ? a->recorder() : nullptr;
}

void Recorder::refuse(const std::string& why) {
  if (trial_) {
    trial_refused_ = true;
    return;
  }
  if (!ok_) return;
  ok_ = false;
  why_ = node_.empty() ? why : str(why, " (in ", node_, ")");
}

void Recorder::add_call(std::function<void()> call) {
  if (ok_) calls_.push_back(std::move(call));
}

void Recorder::note_grad_set(const TensorImpl* leaf, bool to_none) { grad_state_[leaf] = to_none ? 1 : 2; }

int Recorder::grad_state(const TensorImpl* leaf) const {
  auto it = grad_state_.find(leaf);
  return it == grad_state_.end() ? 0 : it->second;
}

void Recorder::require_grad(TensorImpl* leaf, std::shared_ptr<TensorImpl> grad) {
  grad_checks_.emplace_back(leaf, std::move(grad));
}

void OpScope::enter() {
  rec_ = Recorder::current();
  if (!rec_) return;
  outermost_ = rec_->depth_ == 0;
  ++rec_->depth_;
}

void OpScope::leave() { --rec_->depth_; }

void OpScope::record(std::function<void()> call) { rec_->add_call(std::move(call)); }

void note_node(std::string name) {
  if (Recorder* r = Recorder::current()) r->node_ = std::move(name);
}

bool at_top() {
  Recorder* r = Recorder::current();
  return r && r->depth_ == 0;
}

void note_grad_set(const TensorImpl* leaf, bool to_none) {
  if (Recorder* r = Recorder::current()) r->note_grad_set(leaf, to_none);
}

}  // namespace plan

namespace plan_detail {
void note_alloc_recorded(const Tensor& t) {
  plan::Recorder* r = plan::Recorder::current();
  if (!r) return;
  if (r->depth_ == 0) r->refuse("a tensor allocated outside a planned op");
  r->allocs_.push_back(t);
}

void note_write_recorded() {
  plan::Recorder* r = plan::Recorder::current();
  if (r && r->depth_ == 0) r->refuse("an in-place write outside a planned op");
}
}  // namespace plan_detail
}  // namespace cr
