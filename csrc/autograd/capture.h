#pragma once
// Note [Capture and replay]
// chainrule.compile(fn) runs fn once eagerly while recording every kernel call it makes into a
// Schedule, then replays that schedule from C++ on later calls. A recorded call (a Step) is the
// bound C++ function together with its non-tensor arguments, kept as constants, and its tensor
// arguments, kept as slots. A slot is one of
//   - an input: a tensor argument of fn, bound anew on each replay;
//   - produced: the output of an earlier step of the same replay;
//   - external: a tensor fn reached without computing it (a parameter, an optimizer's state, a
//     constant made during the trace), held by reference, so in-place updates of it (an optimizer
//     step) reach the very tensor the rest of the program sees.
// Replaying the forward steps builds a fresh autograd graph, so a recorded backward (one step that
// runs the engine) differentiates the new graph; reads of `.grad` are steps too, so an optimizer
// step reads the gradients of this replay, not the trace's.
//
// Python control flow is frozen at trace time. What a replay checks before it runs (its guards):
// the inputs' shapes, strides, dtypes, requires_grad and aliasing, and for every external tensor
// the shape, dtype and requires_grad as the trace first saw them; for a tensor whose .grad the
// traced code read, also whether it had a gradient (so a step traced before the first backward,
// when every .grad was None, is not replayed once gradients exist). The Python side adds the guards it can
// see (grad mode, optimizers' hyperparameters, modules' training flags, Python scalars the function reads).
//
// The core of the schedule knows nothing of Python: a Step is a std::function over a Frame. The
// binding layer (bindings/capture_wrap.h) builds steps from pybind11 functions.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autograd/capture_state.h"
#include "core/replay_arena.h"
#include "core/tensor.h"
#include "ops/fused.h"

namespace cr {
class SavedTensor;
namespace capture {

using Slot = int32_t;
constexpr Slot kNoSlot = -1;

/// The tensors of one replay, indexed by slot.
struct Frame {
  std::vector<Tensor> slots;
  /// This replay runs its recorded backward calls lowered (Note [Lowered backward] in
  /// autograd/engine.cpp), with grad mode off throughout.
  bool lowered = false;
};

/// One recorded call: reads its tensor arguments from the frame, runs, writes its outputs into it.
using Step = std::function<void(Frame&)>;
}  // namespace capture

/// Where a replayed call's internal tensors go: the slots its trace gave them, in order (Note
/// [Internal tensors of a recorded call]).
struct capture_detail::InternalSink {
  capture::Frame& frame;
  const std::vector<capture::Slot>& slots;
  size_t next = 0;
};

namespace capture {

/// What a replay requires of a tensor the trace did not compute (an input or an external).
struct TensorGuard {
  Dims sizes;
  Dims strides;
  DType dtype = DType::Float32;
  bool requires_grad = false;
  bool has_grad = false;
  bool check_grad = false;     // set when the traced code read .grad (its Python branched on it)
  bool check_strides = false;  // set for an external a lowered backward reads as saved
  static TensorGuard of(const Tensor& t, bool with_strides);
  bool holds(const Tensor& t, bool with_strides) const;
};

class Schedule {
 public:
  Schedule();
  Schedule(const Schedule&) = delete;
  Schedule& operator=(const Schedule&) = delete;
  ~Schedule();

  // --- recording (on the tracing thread, between begin() and end()) ---
  /// Starts recording on this thread with `inputs` as the input slots; sets cr::tracing().
  void begin(const TensorList& inputs);
  /// Stops recording; `outputs` are the tensors fn returned (an unknown one becomes an external).
  void end(const TensorList& outputs);
  /// Stops recording and forgets what was recorded (fn raised).
  void abort();
  bool recording() const { return recording_; }
  bool finished() const { return finished_; }

  /// The slot of a tensor argument: an input's, the latest step output that is this tensor, or a
  /// new external slot holding it by reference. kNoSlot for an undefined tensor.
  Slot slot_of(const Tensor& t);
  /// A new slot for a step's output (the tensor is now known under this slot).
  Slot add_output(const Tensor& t);
  /// A tensor made inside the call being recorded, which a node may save (Note [Internal tensors
  /// of a recorded call]): an output of the step too, filled by the replayed call.
  void add_internal(const Tensor& t);
  /// A call is about to be recorded: internal tensors noted by a call that failed are forgotten.
  void begin_call() { pending_internals_.clear(); }
  /// Appends a step; the slots read and written since the previous add_step are its uses.
  void add_step(const char* name, Step step);
  /// The traced code read t.grad: a replay then also requires t to have (or lack) a gradient as
  /// it had when the trace first saw it.
  void guard_grad(const Tensor& t);
  /// The traced code set t.grad (to None or a tensor): later reads of it in the trace see what the
  /// trace itself put there, so they need no guard on the gradient t had before the call.
  void note_grad_write(const Tensor& t);
  /// The call being recorded computed out = op(in) (Note [Fused scalar chains] in ops/fused.cpp).
  /// The step gets the note when it is the call's only one and the step's only tensors are in and out.
  void note_scalar_op(const ScalarOp& op, const Tensor& in, const Tensor& out);
  /// The slot of the tensor a node saved, when it is one the schedule knows (the same tensor,
  /// unchanged since it was saved), as a use of the step being recorded; kNoSlot otherwise.
  Slot saved_slot(const SavedTensor& st);
  /// Whether `leaf` is held by the schedule as an external (the same tensor at every replay).
  bool keeps_leaf(const TensorImpl* leaf) const;
  /// A backward call was recorded, lowered or not (Note [Lowered backward] in autograd/engine.cpp).
  /// `roots`: the slots of a lowered backward's roots (fn may return those: a loss is read, not
  /// differentiated again).
  void note_backward(bool lowered, std::string why = "", const std::vector<Slot>& roots = {}) {
    if (lowered && !steps_.empty()) {  // the step just added runs the lowered backward
      lowered_step_.resize(steps_.size(), 0);
      lowered_step_.back() = 1;
    }
    ++(lowered ? lowered_backwards_ : plain_backwards_);
    lowered_roots_.insert(lowered_roots_.end(), roots.begin(), roots.end());
    if (!lowered && lowering_note_.empty())
      lowering_note_ = why.empty() ? "a backward call with options" : why;
  }
  /// Why a backward call was not lowered (the first one's reason; empty when all were).
  const std::string& lowering_note() const { return lowering_note_; }
  /// Replays run lowered: every backward call was lowered, nothing was fused into scalar chains
  /// (their replay records one node for the chain, which a lowered backward would not run), and
  /// the only tensors fn returns that require grad are roots of those backward calls (a lowered
  /// replay records no graph: a returned loss comes back without history).
  bool lowered() const { return lowered_; }

  // --- replay ---
  /// Runs the schedule on `inputs`; false (and nothing run) when a guard does not hold.
  bool replay(const TensorList& inputs, TensorList& outputs);
  /// Which guard failed, for diagnostics ("" when all hold).
  std::string guard_failure(const TensorList& inputs) const;

  size_t num_steps() const { return steps_.size(); }
  /// How many recorded steps the fusion pass merged into scalar chains, and into how many chains.
  size_t num_fused_steps() const { return fused_steps_; }
  size_t num_fused_chains() const { return fused_chains_; }
  size_t num_slots() const { return (size_t)num_slots_; }
  size_t num_externals() const { return externals_.size(); }
  size_t num_inputs() const { return input_slots_.size(); }
  const std::vector<std::string>& step_names() const { return names_; }
  /// The external tensors, for the Python side's garbage-collector traversal and tests.
  const TensorList& externals() const { return externals_; }
  /// The buffers a lowered replay keeps for the next one (Note [Replay arena]).
  const ReplayArena& arena() const { return arena_; }
  /// Whether the next replay may run a plan (Note [Planned replay] in plan.h), how many calls it
  /// has, and why the last recording of one refused or why the last plan was dropped ("" if none).
  bool planned() const { return plan_ != nullptr; }
  size_t plan_calls() const;
  /// What each call of the plan runs, in order (empty without one).
  std::vector<std::string> plan_listing() const;
  const std::string& plan_note() const { return plan_note_; }

 private:
  Slot new_slot() { return num_slots_++; }
  void finish_outputs(const TensorList& outputs);
  void compute_releases();
  void fuse_scalar_chains();
  struct Plan;
  /// A lowered replay that also records a plan; false (and nothing run) when it cannot try.
  bool replay_recording_plan(const TensorList& inputs, TensorList& outputs);
  /// Runs the plan when what it holds is as it left it; false (and nothing run) otherwise.
  bool run_plan(const TensorList& inputs, TensorList& outputs);
  /// Whether an input shares its memory with an external.
  bool inputs_share_externals(const TensorList& inputs) const;

  /// A step that applies one ScalarOp to the output of another (fusion candidates).
  struct ScalarNote {
    bool valid = false;
    ScalarOp op{};
    Slot in = kNoSlot, out = kNoSlot;
    DType dtype = DType::Float32;
  };

  bool recording_ = false;
  bool finished_ = false;
  bool prev_tracing_ = false;
  int32_t num_slots_ = 0;

  std::vector<Slot> input_slots_;
  std::vector<TensorGuard> input_guards_;
  std::vector<int32_t> input_alias_;  // index of an earlier input that is the same tensor, or -1

  std::vector<Slot> external_slots_;
  TensorList externals_;
  std::vector<TensorGuard> external_guards_;

  std::vector<Step> steps_;
  std::vector<std::string> names_;
  std::vector<std::vector<Slot>> uses_;      // per step, the slots it reads or writes (recording)
  std::vector<std::vector<Slot>> releases_;  // per step, slots no later step or output needs
  std::vector<Slot> output_slots_;
  std::vector<ScalarNote> notes_;  // per step (recording)
  size_t fused_steps_ = 0, fused_chains_ = 0;
  size_t lowered_backwards_ = 0, plain_backwards_ = 0;
  bool outputs_need_grad_ = false;
  bool lowered_ = false;
  std::vector<Slot> lowered_roots_;
  std::string lowering_note_;
  ReplayArena arena_;
  std::atomic<bool> arena_busy_{false};  // a replay on this thread or another draws from arena_
  std::vector<uint8_t> lowered_step_;    // per step (may be shorter): 1 for a lowered backward
  std::unique_ptr<Plan> plan_;
  size_t lowered_replays_ = 0;  // since the last plan was recorded or dropped
  int plan_recordings_ = 0;
  std::string plan_note_;

  // Recording only: which slot each tensor seen so far has, and every tensor seen, held so that no
  // address is reused while recording (a freed temporary's address must not alias a new tensor).
  std::unordered_map<const TensorImpl*, Slot> slot_by_impl_;
  std::unordered_set<const TensorImpl*> grad_written_;  // tensors whose .grad the trace has set
  TensorList held_;
  std::vector<Slot> pending_uses_;
  std::vector<Slot> pending_internals_;  // the internal tensors of the call being recorded
  // The notes of the call being recorded: the last one and how many.
  ScalarOp note_op_{};
  const TensorImpl* note_in_ = nullptr;
  const TensorImpl* note_out_ = nullptr;
  int note_count_ = 0;
};

/// The schedule being recorded on this thread, or null.
Schedule* recording();

/// While a recorded call runs eagerly, the calls it makes itself (a Python hook run by backward,
/// a kernel calling back into Python) are part of it, not steps of their own.
class PauseTracing {
 public:
  PauseTracing() : prev_(capture_detail::tracing) { capture_detail::tracing = false; }
  ~PauseTracing() { capture_detail::tracing = prev_; }
  PauseTracing(const PauseTracing&) = delete;
  PauseTracing& operator=(const PauseTracing&) = delete;

 private:
  bool prev_;
};

/// Schedule::note_scalar_op on the schedule being recorded on this thread, if any: the Tensor
/// operators with a Python number call it after computing out (one thread-local test otherwise).
void note_scalar_op_recorded(ScalarOpKind kind, double c, const Tensor& in, const Tensor& out);
inline void note_scalar_op(ScalarOpKind kind, double c, const Tensor& in, const Tensor& out) {
  if (capture_detail::recording) note_scalar_op_recorded(kind, c, in, out);
}
// Note [Internal tensors of a recorded call]
// A lowered backward (Note [Lowered backward] in engine.cpp) gives each node the tensors it saved
// from this replay's slots, so a node that saved a tensor made inside its op (layer_norm's and
// batch_norm's mean and inverse standard deviation) would stop lowering. Such an op names those
// tensors with note_internal(): while a call is traced they become extra outputs of its step (new
// slots, which the node's saved tensors are then found in); when a replay runs that step, each
// call of note_internal() stores the tensor into the next of those slots, in the same order. A
// replayed call that names a different number of them than its trace did raises AutogradError.
void note_internal_recorded(const Tensor& t);
void note_internal_replayed(const Tensor& t);
inline void note_internal(const Tensor& t) {
  if (capture_detail::internal_sink) note_internal_replayed(t);
  else if (capture_detail::recording && !capture_detail::tracing) note_internal_recorded(t);
}

/// Schedule::guard_grad on the schedule being recorded on this thread, if any.
void note_grad_read(const Tensor& t);
/// Schedule::note_grad_write on the schedule being recorded on this thread, if any.
void note_grad_write(const Tensor& t);
/// Raises AutogradError while tracing: `what` (Tensor.item(), float(tensor)...) would read a value
/// into Python, which a replay could not update.
void refuse_host_read(const char* what);
/// Raises AutogradError while tracing: `what` cannot be recorded; `why` says what to do instead.
void refuse_while_tracing(const char* what, const char* why);

}  // namespace capture
}  // namespace cr
