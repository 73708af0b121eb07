// Note [Capture and replay] (autograd/capture.h): the schedule, its slots and its guards.
#include "autograd/capture.h"

#include <algorithm>
#include <utility>

#include "autograd/plan.h"
#include "core/errors.h"
#include "core/forward_ad.h"
#include "core/grad_mode.h"
#include "core/node.h"
#include "core/parallel.h"
#include "ops/creation.h"
#include "ops/shape.h"

namespace cr {
namespace capture {

namespace {
thread_local Schedule* active = nullptr;
}  // namespace

Schedule* recording() { return active; }

TensorGuard TensorGuard::of(const Tensor& t, bool with_strides) {
  TensorGuard g;
  g.sizes = t.shape();
  if (with_strides) g.strides = t.strides();
  g.dtype = t.dtype();
  g.requires_grad = t.requires_grad();
  g.has_grad = t.impl()->grad_ != nullptr;
  return g;
}

bool TensorGuard::holds(const Tensor& t, bool with_strides) const {
  if (!t.defined()) return false;
  const TensorImpl* i = t.impl();
  if (i->dtype_ != dtype || i->sizes_ != sizes) return false;
  if ((with_strides || check_strides) && i->strides_ != strides) return false;
  if (i->requires_grad_ != requires_grad) return false;
  return !check_grad || (i->grad_ != nullptr) == has_grad;
}

Schedule::Schedule() = default;

Schedule::~Schedule() {
  if (recording_ && active == this) {
    active = nullptr;
    capture_detail::recording = false;
    capture_detail::tracing = prev_tracing_;
  }
}

void Schedule::begin(const TensorList& inputs) {
  if (active != nullptr)
    throw AutogradError("chainrule.compile: a step is already being traced on this thread");
  if (finished_ || recording_) throw AutogradError("chainrule.compile: this schedule was already recorded");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined()) throw ValueError("chainrule.compile: an input tensor is undefined");
    int32_t alias = -1;
    for (size_t j = 0; j < i; ++j)
      if (inputs[j].same(t)) {
        alias = (int32_t)j;
        break;
      }
    Slot s = new_slot();
    input_slots_.push_back(s);
    input_guards_.push_back(TensorGuard::of(t, true));
    input_alias_.push_back(alias);
    slot_by_impl_[t.impl()] = s;
    held_.push_back(t);
  }
  recording_ = true;
  active = this;
  capture_detail::recording = true;
  prev_tracing_ = capture_detail::tracing;
  capture_detail::tracing = true;
}

Slot Schedule::slot_of(const Tensor& t) {
  if (!t.defined()) return kNoSlot;
  auto it = slot_by_impl_.find(t.impl());
  Slot s;
  if (it != slot_by_impl_.end()) {
    s = it->second;
  } else {
    s = new_slot();
    slot_by_impl_.emplace(t.impl(), s);
    external_slots_.push_back(s);
    externals_.push_back(t);
    external_guards_.push_back(TensorGuard::of(t, false));
  }
  pending_uses_.push_back(s);
  return s;
}

Slot Schedule::add_output(const Tensor& t) {
  if (!t.defined()) return kNoSlot;
  Slot s = new_slot();
  slot_by_impl_[t.impl()] = s;
  held_.push_back(t);
  pending_uses_.push_back(s);
  return s;
}

void Schedule::add_internal(const Tensor& t) {
  if (!recording_ || !t.defined()) return;
  // Not one of the call's uses yet (add_step adds it after deciding whether the call is a scalar
  // op the fusion pass may merge). A fused chain does not fill its steps' internal slots, which
  // is safe because a schedule with a fused chain is not lowered: its nodes keep their own.
  Slot s = new_slot();
  slot_by_impl_[t.impl()] = s;
  held_.push_back(t);
  pending_internals_.push_back(s);
}

void note_internal_recorded(const Tensor& t) {
  if (Schedule* s = recording()) s->add_internal(t);
}

void note_internal_replayed(const Tensor& t) {
  auto* sink = capture_detail::internal_sink;
  if (sink->next >= sink->slots.size())
    throw AutogradError(
        "chainrule.compile: a replayed call made more internal tensors than when it was traced");
  sink->frame.slots[(size_t)sink->slots[sink->next++]] = t;
}

void Schedule::add_step(const char* name, Step step) {
  std::vector<Slot> internals = std::move(pending_internals_);
  pending_internals_.clear();
  if (!internals.empty()) {
    // Note [Internal tensors of a recorded call]
    step = [inner = std::move(step), slots = internals](Frame& f) {
      capture_detail::InternalSink sink{f, slots};
      auto* prev = capture_detail::internal_sink;
      capture_detail::internal_sink = &sink;
      try {
        inner(f);
      } catch (...) {
        capture_detail::internal_sink = prev;
        throw;
      }
      capture_detail::internal_sink = prev;
      if (sink.next != slots.size())
        throw AutogradError(
            "chainrule.compile: a replayed call made fewer internal tensors than when it was traced");
    };
  }
  ScalarNote note;
  if (note_count_ == 1 && pending_uses_.size() == 2) {
    auto in = slot_by_impl_.find(note_in_), out = slot_by_impl_.find(note_out_);
    if (in != slot_by_impl_.end() && out != slot_by_impl_.end() && pending_uses_[0] == in->second &&
        pending_uses_[1] == out->second && in->second != out->second) {
      note.valid = true;
      note.op = note_op_;
      note.in = in->second;
      note.out = out->second;
      note.dtype = note_out_->dtype_;
    }
  }
  note_count_ = 0;
  note_in_ = note_out_ = nullptr;
  steps_.push_back(std::move(step));
  names_.emplace_back(name);
  pending_uses_.insert(pending_uses_.end(), internals.begin(), internals.end());
  uses_.push_back(std::move(pending_uses_));
  notes_.push_back(note);
  pending_uses_.clear();
}

void Schedule::note_scalar_op(const ScalarOp& op, const Tensor& in, const Tensor& out) {
  if (!recording_ || !in.defined() || !out.defined()) return;
  ++note_count_;
  note_op_ = op;
  note_in_ = in.impl();
  note_out_ = out.impl();
}

void note_scalar_op_recorded(ScalarOpKind kind, double c, const Tensor& in, const Tensor& out) {
  if (Schedule* s = recording()) s->note_scalar_op(ScalarOp{kind, c}, in, out);
}

void Schedule::fuse_scalar_chains() {
  // Note [Fused scalar chains] (ops/fused.cpp). A run of noted steps, each reading the previous
  // one's output, whose intermediate outputs no other step reads and fn does not return, becomes
  // one step. It keeps the original steps for a replay that scalar_chain cannot take (a strided
  // input, forward-mode AD or anomaly mode active).
  std::vector<int32_t> nuses((size_t)num_slots_, 0);
  for (const auto& u : uses_)
    for (Slot s : u) ++nuses[(size_t)s];
  for (Slot s : output_slots_)
    if (s != kNoSlot) nuses[(size_t)s] += 2;
  std::vector<Step> steps;
  std::vector<std::string> names;
  std::vector<std::vector<Slot>> uses;
  const size_t n = steps_.size();
  for (size_t k = 0; k < n;) {
    size_t j = k;
    if (notes_[k].valid)
      while (j + 1 < n && notes_[j + 1].valid && notes_[j + 1].in == notes_[j].out &&
             nuses[(size_t)notes_[j].out] == 2 && notes_[j + 1].dtype == notes_[k].dtype)
        ++j;
    if (j == k) {
      steps.push_back(std::move(steps_[k]));
      names.push_back(std::move(names_[k]));
      uses.push_back(std::move(uses_[k]));
      ++k;
      continue;
    }
    auto ops = std::make_shared<ScalarChain>();
    std::vector<Step> originals;
    std::vector<Slot> inter;
    for (size_t i = k; i <= j; ++i) {
      ops->push_back(notes_[i].op);
      originals.push_back(std::move(steps_[i]));
      if (i < j) inter.push_back(notes_[i].out);
    }
    const Slot in = notes_[k].in, out = notes_[j].out;
    std::shared_ptr<const ScalarChain> chain = std::move(ops);
    steps.push_back([chain, in, out, originals = std::move(originals), inter = std::move(inter)](Frame& f) {
      const Tensor& x = f.slots[(size_t)in];
      if (scalar_chain_applies(x)) {
        f.slots[(size_t)out] = scalar_chain(x, chain);
        return;
      }
      for (const Step& s : originals) s(f);
      for (Slot s : inter) f.slots[(size_t)s] = Tensor();
    });
    names.emplace_back("scalar_chain");
    uses.push_back({in, out});
    fused_steps_ += j - k + 1;
    ++fused_chains_;
    k = j + 1;
  }
  steps_ = std::move(steps);
  names_ = std::move(names);
  uses_ = std::move(uses);
  notes_.clear();
  notes_.shrink_to_fit();
}

Slot Schedule::saved_slot(const SavedTensor& st) {
  const TensorImpl* origin = st.origin();
  const TensorImpl* kept = st.peek();
  if (!recording_ || !origin || !kept) return kNoSlot;
  auto it = slot_by_impl_.find(origin);
  if (it == slot_by_impl_.end()) return kNoSlot;
  // Every tensor in slot_by_impl_ is held, so origin is that tensor, not a later one at its address;
  // what was saved must still be its data (the same view of the same storage, not written since).
  if (origin->storage_ != kept->storage_ || origin->offset_ != kept->offset_ ||
      origin->sizes_ != kept->sizes_ || origin->strides_ != kept->strides_ ||
      origin->dtype_ != kept->dtype_ || origin->storage_->version() != st.saved_version())
    return kNoSlot;
  const Slot s = it->second;
  for (size_t e = 0; e < external_slots_.size(); ++e)
    if (external_slots_[e] == s && !external_guards_[e].check_strides) {
      // the node's attributes may depend on the saved tensor's layout (a matrix product's)
      external_guards_[e].check_strides = true;
      external_guards_[e].strides = externals_[e].strides();
    }
  pending_uses_.push_back(s);
  return s;
}

bool Schedule::keeps_leaf(const TensorImpl* leaf) const {
  for (const Tensor& t : externals_)
    if (t.impl() == leaf) return true;
  return false;
}

void Schedule::guard_grad(const Tensor& t) {
  if (!recording_ || !t.defined() || grad_written_.count(t.impl()) != 0) return;
  auto it = slot_by_impl_.find(t.impl());
  if (it == slot_by_impl_.end()) return;  // not an argument yet: its first use records its state
  for (size_t i = 0; i < input_slots_.size(); ++i)
    if (input_slots_[i] == it->second) input_guards_[i].check_grad = true;
  for (size_t e = 0; e < external_slots_.size(); ++e)
    if (external_slots_[e] == it->second) external_guards_[e].check_grad = true;
}

void note_grad_read(const Tensor& t) {
  if (Schedule* s = recording()) s->guard_grad(t);
}

void Schedule::note_grad_write(const Tensor& t) {
  // (every tensor the trace has seen is held, so the address cannot be another tensor's later)
  if (recording_ && t.defined()) grad_written_.insert(t.impl());
}

void note_grad_write(const Tensor& t) {
  if (Schedule* s = recording()) s->note_grad_write(t);
}

void Schedule::finish_outputs(const TensorList& outputs) {
  output_slots_.clear();
  for (const Tensor& t : outputs) {
    const Slot s = slot_of(t);
    output_slots_.push_back(s);
    if (t.defined() && t.requires_grad() &&
        std::find(lowered_roots_.begin(), lowered_roots_.end(), s) == lowered_roots_.end())
      outputs_need_grad_ = true;
  }
  pending_uses_.clear();
}

void Schedule::compute_releases() {
  // A slot is dropped from the frame after the last step that uses it, unless fn returns it: the
  // replay then holds intermediates no longer than the eager program would.
  std::vector<int64_t> last((size_t)num_slots_, -1);
  for (size_t k = 0; k < uses_.size(); ++k)
    for (Slot s : uses_[k]) last[(size_t)s] = (int64_t)k;
  for (Slot s : output_slots_)
    if (s != kNoSlot) last[(size_t)s] = -2;
  releases_.assign(steps_.size(), {});
  for (Slot s = 0; s < num_slots_; ++s)
    if (last[(size_t)s] >= 0) releases_[(size_t)last[(size_t)s]].push_back(s);
  uses_.clear();
  uses_.shrink_to_fit();
}

void Schedule::end(const TensorList& outputs) {
  if (!recording_) throw AutogradError("chainrule.compile: end() without begin()");
  finish_outputs(outputs);
  fuse_scalar_chains();
  compute_releases();
  lowered_ = lowered_backwards_ > 0 && plain_backwards_ == 0 && fused_chains_ == 0 && !outputs_need_grad_;
  slot_by_impl_.clear();
  grad_written_.clear();
  held_.clear();
  recording_ = false;
  finished_ = true;
  if (active == this) {
    active = nullptr;
    capture_detail::recording = false;
    capture_detail::tracing = prev_tracing_;
  }
}

void Schedule::abort() {
  if (active == this) {
    active = nullptr;
    capture_detail::recording = false;
    capture_detail::tracing = prev_tracing_;
  }
  recording_ = false;
  steps_.clear();
  names_.clear();
  uses_.clear();
  notes_.clear();
  note_count_ = 0;
  pending_internals_.clear();
  slot_by_impl_.clear();
  grad_written_.clear();
  held_.clear();
  externals_.clear();
}

std::string Schedule::guard_failure(const TensorList& inputs) const {
  if (!finished_) return "the schedule is not recorded";
  if (inputs.size() != input_slots_.size())
    return str("expected ", input_slots_.size(), " input tensors, got ", inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!input_guards_[i].holds(inputs[i], true))
      return str("input ", i, " differs in shape, strides, dtype, requires_grad or gradient");
    int32_t alias = -1;
    for (size_t j = 0; j < i; ++j)
      if (inputs[j].same(inputs[i])) {
        alias = (int32_t)j;
        break;
      }
    if (alias != input_alias_[i]) return str("input ", i, " aliases other inputs differently");
  }
  for (size_t e = 0; e < externals_.size(); ++e)
    if (!external_guards_[e].holds(externals_[e], false))
      return str("captured tensor ", e,
                 " changed shape, dtype, requires_grad or (for one a lowered backward reads) layout, or "
                 "gained or lost the gradient the step read");
  return "";
}

// Note [Planned replay] in plan.h.
struct Schedule::Plan {
  Frame frame;                                   // kept from run to run
  std::vector<plan::Call> calls;                 // in order
  TensorList buffers;                            // every tensor the calls allocate, in order
  std::vector<long> uses, storage_uses;          // their reference counts between runs
  std::vector<std::pair<TensorImpl*, std::shared_ptr<TensorImpl>>> grad_checks;  // leaf, its .grad
  std::vector<TensorImpl*> leaves;  // accumulated into: must have no hooks
  // Each external's memory and layout: calls keep views of externals and read their memory, so a
  // tensor given other data (`p.data = ...`) since the recording makes the plan step aside.
  std::vector<const Storage*> external_storage;
  std::vector<int64_t> external_offset;
  std::vector<Dims> external_strides;
  TensorList private_inputs;                     // the input slots' tensors: inputs are copied in
  enum class Out : uint8_t { None, Input, Kept, Copy };
  std::vector<Out> out_kind;
  std::vector<size_t> out_index;  // Input: which input
  int threads = 1;
  ReplayArena arena;  // in planned mode over `buffers`
};

size_t Schedule::plan_calls() const { return plan_ ? plan_->calls.size() : 0; }

std::vector<std::string> Schedule::plan_listing() const {
  std::vector<std::string> out;
  if (plan_)
    for (const plan::Call& c : plan_->calls) out.push_back(c.what);
  return out;
}

namespace {
constexpr int kMaxPlanRecordings = 3;  // per schedule: a plan dropped again and again stops being made
constexpr size_t kReplaysBeforePlan = 2;
}  // namespace

bool Schedule::replay_recording_plan(const TensorList& inputs, TensorList& outputs) {
  for (const Tensor& t : inputs)
    if (t.requires_grad() || !t.is_contiguous() || t.offset() != 0) {
      plan_note_ = "an input needs a gradient or is not contiguous";
      return false;
    }
  for (int32_t a : input_alias_)
    if (a >= 0) {
      plan_note_ = "two inputs are the same tensor";
      return false;
    }
  if (inputs_share_externals(inputs)) {
    plan_note_ = "an input shares memory with a tensor the step reads otherwise";
    return false;
  }
  ++plan_recordings_;
  auto p = std::make_unique<Plan>();
  Frame& f = p->frame;
  f.lowered = true;
  f.slots.resize((size_t)num_slots_);
  for (size_t i = 0; i < inputs.size(); ++i) {
    p->private_inputs.push_back(contiguous_copy(detach(inputs[i])));
    f.slots[(size_t)input_slots_[i]] = p->private_inputs.back();
  }
  for (size_t e = 0; e < externals_.size(); ++e) f.slots[(size_t)external_slots_[e]] = externals_[e];
  std::vector<uint32_t> input_versions;
  for (const Tensor& t : p->private_inputs) input_versions.push_back(t.storage()->version());
  GradMode::set_enabled(false);
  // The caller's inputs get what the steps wrote into their copies (when a step raises, too).
  auto write_back = [&] {
    bool wrote = false;
    for (size_t i = 0; i < input_versions.size(); ++i)
      if (p->private_inputs[i].storage()->version() != input_versions[i]) {
        copy_into(inputs[i], p->private_inputs[i]);
        wrote = true;
      }
    return wrote;
  };
  bool ok = false;
  {
    ReplayArena::Scope arena_scope(&arena_);
    plan::Recorder rec(arena_);
    try {
      for (size_t k = 0; k < steps_.size(); ++k) {
        if (k < lowered_step_.size() && lowered_step_[k]) {
          steps_[k](f);  // its ops and accumulations are the plan's calls
          continue;
        }
        // A step whose work is planned ops (a forward op) is their calls: the step's own code,
        // which rebuilds its arguments from the frame and stores its result there, would find and
        // store the same tensors every run. A step that allocates or writes otherwise, or runs no
        // planned op (a .grad setter, an optimizer step), is one call.
        const size_t start = rec.begin_trial();
        steps_[k](f);
        if (rec.end_trial(start) && (rec.calls().size() > start || rec.no_call_needed())) continue;
        Frame* frame = &f;
        rec.add_call([this, k, frame] { steps_[k](*frame); }, "step " + names_[k]);
      }
    } catch (...) {
      write_back();
      throw;
    }
    ok = rec.ok();
    plan_note_ = ok ? "" : rec.why();
    // A step that writes into an input writes into the caller's tensor, not into a copy: this
    // replay's writes go back to the caller's tensors, and there is no plan.
    if (write_back()) {
      if (ok) plan_note_ = "the step writes into an input";
      ok = false;
    }
    if (ok) {
      p->calls = std::move(rec.calls());
      p->buffers = std::move(rec.allocs());
      p->grad_checks = std::move(rec.grad_checks());
      p->leaves = std::move(rec.leaves());
    }
  }
  // The outputs: an input is returned as the caller's tensor, an external as itself, a tensor the
  // replay made as a copy (the plan's buffer is overwritten by the next run).
  outputs.clear();
  for (Slot s : output_slots_) {
    Plan::Out kind = Plan::Out::None;
    size_t index = 0;
    Tensor t = s == kNoSlot ? Tensor() : f.slots[(size_t)s];
    if (t.defined()) {
      auto in = std::find(input_slots_.begin(), input_slots_.end(), s);
      if (in != input_slots_.end()) {
        kind = Plan::Out::Input;
        index = (size_t)(in - input_slots_.begin());
        t = inputs[index];
      } else if (std::find(external_slots_.begin(), external_slots_.end(), s) != external_slots_.end()) {
        kind = Plan::Out::Kept;
      } else if (auto v = std::find_if(p->private_inputs.begin(), p->private_inputs.end(),
                                       [&](const Tensor& c) { return c.storage() == t.storage(); });
                 v != p->private_inputs.end()) {
        // a view of an input: of the caller's tensor (laid out as the copy: contiguous, offset 0)
        const Tensor& caller = inputs[(size_t)(v - p->private_inputs.begin())];
        t = make_view(caller, t.shape(), t.strides(), t.offset());
        if (ok) plan_note_ = "the function returns a view of an input";
        ok = false;
      } else if (std::any_of(p->buffers.begin(), p->buffers.end(),
                             [&](const Tensor& b) { return b.storage() == t.storage(); })) {
        kind = Plan::Out::Copy;  // a buffer of the plan, or a view of one (loss.detach())
        t = contiguous_copy(t);
      } else if (ok) {
        ok = false;
        plan_note_ = "the function returns a tensor that is not an input, an external or one the replay made";
      }
    }
    p->out_kind.push_back(kind);
    p->out_index.push_back(index);
    outputs.push_back(std::move(t));
  }
  if (!ok) return true;
  p->threads = intra_op_threads();
  for (const Tensor& e : externals_) {
    p->external_storage.push_back(e.storage().get());
    p->external_offset.push_back(e.offset());
    p->external_strides.push_back(e.strides());
  }
  for (const Tensor& b : p->buffers) {
    p->uses.push_back(b.ptr().use_count());
    p->storage_uses.push_back(b.storage().use_count());
  }
  p->arena.set_planned(&p->buffers);
  plan_ = std::move(p);
  return true;
}

bool Schedule::inputs_share_externals(const TensorList& inputs) const {
  for (const Tensor& t : inputs)
    for (const Tensor& e : externals_)
      if (t.storage() == e.storage()) return true;
  return false;
}

bool Schedule::run_plan(const TensorList& inputs, TensorList& outputs) {
  Plan& p = *plan_;
  // (an input that is a parameter would be read from the plan's copy, not as updated in place)
  if (intra_op_threads() != p.threads || AnomalyMode::is_enabled() || inputs_share_externals(inputs))
    return false;
  for (size_t k = 0; k < p.buffers.size(); ++k)
    if (p.buffers[k].ptr().use_count() != p.uses[k] ||
        p.buffers[k].storage().use_count() != p.storage_uses[k])
      return false;
  for (const auto& [leaf, grad] : p.grad_checks)
    if (leaf->grad_ != grad) return false;
  for (const TensorImpl* leaf : p.leaves)
    if (!leaf->hooks_.empty()) return false;
  for (size_t e = 0; e < externals_.size(); ++e) {
    const TensorImpl& x = *externals_[e].impl();
    if (x.storage_.get() != p.external_storage[e] || x.offset_ != p.external_offset[e] ||
        !(x.strides_ == p.external_strides[e]))
      return false;
  }
  for (size_t i = 0; i < inputs.size(); ++i) copy_into(p.private_inputs[i], inputs[i]);
  GradMode::set_enabled(false);
  {
    fw::flush();
    fw::ComputeGuard no_tangents;
    ReplayArena::Scope arena_scope(&p.arena);
    for (const plan::Call& call : p.calls) {
      if (call.skip) p.arena.skip_planned(call.skip);
      call.run();
    }
  }
  outputs.clear();
  outputs.reserve(output_slots_.size());
  for (size_t o = 0; o < output_slots_.size(); ++o) {
    switch (p.out_kind[o]) {
      case Plan::Out::None: outputs.emplace_back(); break;
      case Plan::Out::Input: outputs.push_back(inputs[p.out_index[o]]); break;
      case Plan::Out::Kept: outputs.push_back(p.frame.slots[(size_t)output_slots_[o]]); break;
      case Plan::Out::Copy:
        outputs.push_back(contiguous_copy(p.frame.slots[(size_t)output_slots_[o]]));
        break;
    }
  }
  return true;
}

bool Schedule::replay(const TensorList& inputs, TensorList& outputs) {
  if (!finished_) throw AutogradError("chainrule.compile: the schedule is not recorded");
  if (active != nullptr && active->recording_)
    throw AutogradError("chainrule.compile: a compiled step cannot be replayed while another is traced");
  if (inputs.size() != input_slots_.size()) return false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!input_guards_[i].holds(inputs[i], true)) return false;
    if (input_alias_[i] >= 0 && !inputs[(size_t)input_alias_[i]].same(inputs[i])) return false;
  }
  for (size_t e = 0; e < externals_.size(); ++e)
    if (!external_guards_[e].holds(externals_[e], false)) return false;
  // A replay needs no aliasing check beyond the trace's: two distinct inputs now the same tensor
  // changes what in-place steps see, so it fails the guard above only when the trace had no alias;
  // check the converse too.
  for (size_t i = 0; i < inputs.size(); ++i)
    if (input_alias_[i] < 0)
      for (size_t j = 0; j < i; ++j)
        if (inputs[j].same(inputs[i])) return false;

  AutoGradMode restore(GradMode::is_enabled());  // steps may switch grad mode; leave it as found
  // A replay inside a step of another (from a Python hook) fills only its own internal slots.
  struct SinkScope {
    capture_detail::InternalSink* prev = capture_detail::internal_sink;
    SinkScope() { capture_detail::internal_sink = nullptr; }
    ~SinkScope() { capture_detail::internal_sink = prev; }
  } sink_scope;
  if (lowered_) GradMode::set_enabled(false);
  // Note [Replay arena]: a lowered replay's tensors come from the previous one's, unless another
  // replay of this schedule (a hook's, another thread's) is using them.
  struct ArenaUse {
    std::atomic<bool>* busy = nullptr;
    ~ArenaUse() {
      if (busy) busy->store(false, std::memory_order_release);
    }
  } arena_use;
  ReplayArena* arena = nullptr;
  if (lowered_ && !arena_busy_.exchange(true, std::memory_order_acquire)) {
    arena_use.busy = &arena_busy_;
    arena = &arena_;
    // Note [Planned replay]: run the plan, or record one once replays have settled.
    if (plan_) {
      if (run_plan(inputs, outputs)) return true;
      plan_.reset();
      plan_note_ =
          "dropped: a tensor it holds was held elsewhere, one it reads was given other data, or the thread "
          "count changed";
      lowered_replays_ = 0;
    } else if (++lowered_replays_ > kReplaysBeforePlan && plan_recordings_ < kMaxPlanRecordings &&
               !AnomalyMode::is_enabled()) {
      lowered_replays_ = 0;
      if (replay_recording_plan(inputs, outputs)) return true;
    }
  }
  // (a plan keeps its own frame: a replay's is made only here)
  Frame f;
  f.slots.resize((size_t)num_slots_);
  for (size_t i = 0; i < inputs.size(); ++i) f.slots[(size_t)input_slots_[i]] = inputs[i];
  for (size_t e = 0; e < externals_.size(); ++e) f.slots[(size_t)external_slots_[e]] = externals_[e];
  f.lowered = lowered_;  // Note [Lowered backward]: no step records a node
  ReplayArena::Scope arena_scope(arena);
  for (size_t k = 0; k < steps_.size(); ++k) {
    steps_[k](f);
    for (Slot s : releases_[k]) f.slots[(size_t)s] = Tensor();
  }
  outputs.clear();
  outputs.reserve(output_slots_.size());
  for (Slot s : output_slots_) outputs.push_back(s == kNoSlot ? Tensor() : f.slots[(size_t)s]);
  return true;
}

void refuse_host_read(const char* what) {
  if (!tracing()) return;
  throw AutogradError(
      str(what,
          " inside a function being compiled by chainrule.compile: the function is traced once and "
          "replayed without running its Python code, so a value read into Python would stay frozen at "
          "its value in the first call. Return the tensor from the compiled function and read it "
          "outside (loss = step(); print(loss.item())), or call the function without compile."));
}

void refuse_while_tracing(const char* what, const char* why) {
  if (!tracing()) return;
  throw AutogradError(str(what, " cannot be captured by chainrule.compile: ", why));
}

}  // namespace capture
}  // namespace cr
