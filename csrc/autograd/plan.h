#pragma once
// Note [Planned replay]
// A lowered replay (Note [Lowered backward] in engine.cpp) still does per call what the trace
// already fixed: the engine walks the nodes, gathers and checks each gradient, each formula makes
// its views again, each allocation asks the arena whether its buffer is free, and every tensor is
// handed around by reference count. Once a schedule has replayed lowered twice, the next replay
// records a plan: a flat list of calls, each with the very tensors it used,
//   - each step of the schedule other than the lowered backward: the planned ops it runs (a
//     forward op, the fused SGD step), or, when it does anything else (allocates or writes outside
//     such an op), one call that runs the step whole on a frame the plan keeps; `p.grad = None`
//     is a call of its own, and a read of a .grad that a step of this replay set needs none (the
//     plan's own calls make it the same tensor at every run);
//   - the backward's seed, each op a formula node of the lowered backward runs and the sums of a
//     parameter's gradients (the ops that say CR_PLANNED: the arithmetic, reductions and products
//     gradient formulas are made of), with its arguments as they were: the gradients it was
//     given, the views its formula made, the saved tensors. A node
//     whose formula does anything else (allocates or writes outside such an op) is one call that
//     runs the whole node, gathering its gradients and checking its outputs as the engine does;
//   - each accumulation into a parameter's .grad as it happened: the gradient taken as the buffer
//     or copied (after a step that set .grad to None), or added into the existing one.
// Every tensor a call allocates is the one it allocated while recording (the replay arena's
// planned mode), so a call's arguments are, in memory, what the calls before it computed in this
// run: a planned replay runs the same kernels on the same buffers in the same order as the replay
// it recorded, with no node, view or allocation made again. micrograd's moons step: 19 -> 12.4 µs.
// Recording refuses (and the schedule keeps replaying lowered) when an accumulation does anything
// else (into a .grad the step did not set to None first, in a storage dtype), when an input needs
// a gradient or is not contiguous, or when fn returns a tensor that is neither an input, an
// external, nor one the replay made.
// Before each run the plan checks that nothing outside it holds what it holds: every buffer and
// its storage has the reference counts they had after the last run (a .grad the user kept, a view
// of a buffer would add one), the thread count is the same and no parameter it accumulates into
// has hooks. Otherwise it is dropped and the replay runs lowered (a plan is recorded again later,
// three times at most). Inputs are copied into buffers of the plan, and a tensor it returns is a
// copy. Results are those of the lowered replay, bit for bit (tests/test_compile_plan.py).
//
// Note [Direct calls]
// A planned op's call still runs the op's own code: its checks, its dtype and layout decisions,
// the arena handing out its output, the Tensor it returns. Where that code ends in one kernel
// writing the one tensor the op allocated, the kernel offers the plan a direct call
// (CR_OFFER_DIRECT): the same kernel on the same pointers, sizes and thread split, with its
// operands kept alive by the call. The op's call becomes that direct call when the op is declared
// as one kernel's result (CR_PLANNED_DIRECT: nothing done to the output after the kernel but views,
// or what it adds to the direct call with CR_EXTEND_DIRECT, as mean scaling its sum), exactly one
// kernel offered, the offer came after every allocation the op made, and no planned op it ran is
// undeclared. A run then hands out that allocation unmade (Call::skip) and calls the kernel:
// micrograd's moons step 12.8 -> 10.2 µs with the first of these. Pointers stay valid as a plan
// runs only while every buffer is held as when it was recorded and every external has the memory
// and layout it had (Schedule::run_plan). `traces()[i].plan_listing` names each call, "(direct)"
// for these.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/plan_hooks.h"
#include "core/tensor.h"

namespace cr {
class ReplayArena;
namespace plan {

/// One call of a plan: `run`, after handing out the next `skip` planned allocations unmade (a
/// direct call writes into the buffers that the op it stands for allocated while recording).
struct Call {
  std::function<void()> run;
  std::string what;  // for listings: the op, "step <name>", "node <name>", "accumulate", "seed"
  uint32_t skip = 0;
};

/// Records a plan on this thread while it lives (one replay of a schedule).
class Recorder {
 public:
  /// Records what runs on this thread while `arena` is its replay arena.
  explicit Recorder(ReplayArena& arena);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
  static Recorder* current();

  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  void refuse(const std::string& why);
  /// Appends a call of the plan (a step run whole, or a planned op), named `what` in listings.
  void add_call(std::function<void()> call, std::string what);
  /// A trial (a formula node run op by op): a refusal inside it only ends the trial (end_trial()
  /// false), and the calls it recorded are dropped, for one call that runs the whole node.
  size_t begin_trial() {
    trial_ = true;
    trial_refused_ = false;
    no_call_needed_ = false;
    return calls_.size();
  }
  /// The step being tried does nothing a run must do again (it reads a .grad that this replay's
  /// own calls set, the same tensor every run): it needs no call.
  void mark_no_call_needed() { no_call_needed_ = true; }
  bool no_call_needed() const { return no_call_needed_; }
  bool end_trial(size_t start) {
    trial_ = false;
    if (trial_refused_) calls_.resize(start);
    return !trial_refused_;
  }
  /// While a step is run whole, its allocations and writes are its own: depth 1.
  struct Nested {
    explicit Nested(Recorder& r) : r_(r) { ++r_.depth_; }
    ~Nested() { --r_.depth_; }
    Recorder& r_;
  };

  /// A step set leaf.grad to None (to_none) or to a tensor.
  void note_grad_set(const TensorImpl* leaf, bool to_none);
  /// 0: no step of this replay set leaf.grad yet; 1: set to None; 2: set to a tensor.
  int grad_state(const TensorImpl* leaf) const;
  /// The plan may run only while leaf.grad is `grad` when it starts.
  void require_grad(TensorImpl* leaf, std::shared_ptr<TensorImpl> grad);
  /// A leaf the plan accumulates into: it may run only while the leaf has no hooks.
  void note_leaf(TensorImpl* leaf) { leaves_.push_back(leaf); }
  std::vector<TensorImpl*>& leaves() { return leaves_; }

  std::vector<Call>& calls() { return calls_; }
  TensorList& allocs() { return allocs_; }
  std::vector<std::pair<TensorImpl*, std::shared_ptr<TensorImpl>>>& grad_checks() { return grad_checks_; }

 private:
  friend class OpScope;
  friend void offer_direct(std::function<void()>, size_t, const char*);
  friend void extend_direct(std::function<void()>, const char*);
  friend void note_node(std::string);
  friend bool at_top();
  friend void plan_detail::note_alloc_recorded(const Tensor&);
  friend void plan_detail::note_write_recorded();
  ReplayArena& arena_;
  Recorder* prev_ = nullptr;
  int depth_ = 0;
  bool ok_ = true;
  bool trial_ = false, trial_refused_ = false, no_call_needed_ = false;
  std::string why_;
  std::string node_;
  std::vector<Call> calls_;
  // The outermost planned op running now (Note [Direct calls]): its call's index, the allocations
  // before it, whether it may become a direct call and still can, and the direct calls offered.
  size_t op_call_ = 0, op_allocs_ = 0;
  bool op_open_ = false, op_direct_ok_ = false;
  int op_offers_ = 0;
  Call op_direct_;
  TensorList allocs_;
  std::unordered_map<const TensorImpl*, int> grad_state_;
  std::vector<std::pair<TensorImpl*, std::shared_ptr<TensorImpl>>> grad_checks_;
  std::vector<TensorImpl*> leaves_;
};

/// At the top of each planned op: the outermost planned call on a recording thread becomes a call
/// of the plan (record()); calls it makes are part of it.
class OpScope {
 public:
  /// direct_ok: the op's result is what one direct call offered inside it computes (CR_PLANNED_DIRECT).
  explicit OpScope(bool direct_ok) {
    if (plan_detail::any_recording()) [[unlikely]]
      enter(direct_ok);
  }
  ~OpScope() {
    if (rec_) leave();
  }
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;
  /// Whether this call is one the plan records (the outermost on a recording thread).
  bool outermost() const { return outermost_; }
  void record(std::function<void()> call, const char* what);

 private:
  void enter(bool direct_ok);
  void leave();
  Recorder* rec_ = nullptr;
  bool outermost_ = false;
};

/// Offered by the code that runs a planned op's one kernel (Note [Direct calls]): `run` computes
/// what the op computes, into the output it allocated (`allocs` tensors since the op began). The
/// plan takes it instead of the op's call when the op is the outermost, allocated exactly that and
/// offered nothing else.
void offer_direct(std::function<void()> run, size_t allocs, const char* what);

/// Called by an op declared CR_PLANNED_DIRECT that does more after the kernel that offered its
/// direct call (mean scales its sum): the direct call runs `after` too.
void extend_direct(std::function<void()> after, const char* what);

/// The recording thread runs node `name`'s formula now (for the refusal message).
void note_node(std::string name);
/// Whether this thread records a plan and is outside any planned call.
bool at_top();
/// A step set leaf.grad (Recorder::note_grad_set), on the recording thread if any.
void note_grad_set(const TensorImpl* leaf, bool to_none);

}  // namespace plan
}  // namespace cr

/// Records the enclosing op's call (a call expression of the op on its own arguments, which are
/// copied) when it is a call of a plan being recorded (Note [Planned replay]).
#define CR_PLANNED(call)                       \
  ::cr::plan::OpScope cr_plan_scope_(false);   \
  if (cr_plan_scope_.outermost()) [[unlikely]] \
  cr_plan_scope_.record([=] { (void)(call); }, #call)

/// CR_PLANNED for an op whose result is computed by one kernel into the one tensor it allocates,
/// with nothing done to it after (no in-place pass, no other op but views): that kernel's direct
/// call, when it offers one, becomes the op's call (Note [Direct calls]).
#define CR_PLANNED_DIRECT(call)                \
  ::cr::plan::OpScope cr_plan_scope_(true);    \
  if (cr_plan_scope_.outermost()) [[unlikely]] \
  cr_plan_scope_.record([=] { (void)(call); }, #call)

/// Adds `after` to the direct call offered in the op running now (plan::extend_direct).
#define CR_EXTEND_DIRECT(what, ...)                      \
  do {                                                   \
    if (::cr::plan_detail::any_recording()) [[unlikely]] \
      ::cr::plan::extend_direct(__VA_ARGS__, what);      \
  } while (0)

/// Offers `run` as the direct call of the op running now (plan::offer_direct), while a plan records:
/// it must compute what the kernel just computed, into the output allocated `allocs` tensors ago.
#define CR_OFFER_DIRECT(allocs, what, ...)                 \
  do {                                                     \
    if (::cr::plan_detail::any_recording()) [[unlikely]]   \
      ::cr::plan::offer_direct(__VA_ARGS__, allocs, what); \
  } while (0)
