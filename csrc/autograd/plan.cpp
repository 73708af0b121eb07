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

void Recorder::add_call(std::function<void()> call, std::string what) {
  if (ok_) calls_.push_back(Call{std::move(call), std::move(what), 0});
}

void Recorder::note_grad_set(const TensorImpl* leaf, bool to_none) { grad_state_[leaf] = to_none ? 1 : 2; }

int Recorder::grad_state(const TensorImpl* leaf) const {
  auto it = grad_state_.find(leaf);
  return it == grad_state_.end() ? 0 : it->second;
}

void Recorder::require_grad(TensorImpl* leaf, std::shared_ptr<TensorImpl> grad) {
  grad_checks_.emplace_back(leaf, std::move(grad));
}

void OpScope::enter(bool direct_ok) {
  rec_ = Recorder::current();
  if (!rec_) return;
  outermost_ = rec_->depth_ == 0;
  ++rec_->depth_;
  // a planned op inside the outermost one that may do more than its kernel: no direct call
  if (!outermost_ && !direct_ok) rec_->op_direct_ok_ = false;
  if (outermost_) rec_->op_direct_ok_ = direct_ok;
}

void OpScope::leave() {
  Recorder& r = *rec_;
  --r.depth_;
  if (!outermost_) return;
  // Note [Direct calls]: the op's call becomes the direct one offered inside it, when the op said
  // its result is that kernel's, only one was offered, after all of the op's allocations, and the
  // op's call is still the plan's.
  if (r.op_open_ && r.op_direct_ok_ && r.op_offers_ == 1 &&
      r.op_direct_.skip == r.allocs_.size() - r.op_allocs_ && r.op_call_ < r.calls_.size())
    r.calls_[r.op_call_] = std::move(r.op_direct_);
  r.op_open_ = false;
  r.op_offers_ = 0;
  r.op_direct_ = Call();
}

void OpScope::record(std::function<void()> call, const char* what) {
  Recorder& r = *rec_;
  if (!r.ok_) return;
  r.op_call_ = r.calls_.size();
  r.op_allocs_ = r.allocs_.size();
  r.op_open_ = true;
  r.op_offers_ = 0;
  std::string name(what);
  r.add_call(std::move(call), name.substr(0, name.find('(')));
}

void offer_direct(std::function<void()> run, size_t allocs, const char* what) {
  Recorder* r = Recorder::current();
  if (!r || !r->op_open_ || !r->ok_) return;  // (inside no planned op: a step or node run whole)
  if (++r->op_offers_ == 1)
    r->op_direct_ = Call{std::move(run), std::string(what) + " (direct)", (uint32_t)allocs};
}

void extend_direct(std::function<void()> after, const char* what) {
  Recorder* r = Recorder::current();
  if (!r || !r->op_open_ || !r->ok_ || r->op_offers_ != 1) return;
  r->op_direct_.run = [first = std::move(r->op_direct_.run), after = std::move(after)] {
    first();
    after();
  };
  r->op_direct_.what = std::string(what) + " (direct)";
}

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
