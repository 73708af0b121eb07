#pragma once
// Node: one recorded operation. Edge: (node, input slot). SavedTensor: a tensor kept for backward,
// checked against the storage's version counter when unpacked.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/grad_mode.h"
#include "core/small_pool.h"
#include "core/tensor.h"

namespace cr {

struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;
  bool valid() const { return fn != nullptr; }
};

class SavedTensor;

// Note [Anomaly mode]
// autograd.detect_anomaly / set_detect_anomaly. While it is on, every Node records, when it is
// created, a short text of the user's stack (the forward call that made it), and the engine checks
// each node's output gradients for NaN and Inf after apply, naming the op and that forward call.
// The flag is global (as PyTorch's is) and read once per node creation and once per node run, so
// the normal path pays one relaxed load. The core has no Python: the bindings install the function
// that captures the stack.
class AnomalyMode {
 public:
  static bool is_enabled() { return enabled_.load(std::memory_order_relaxed); }
  static bool check_nan() { return check_nan_.load(std::memory_order_relaxed); }
  static void set_enabled(bool enabled, bool check_nan = true) {
    check_nan_.store(check_nan, std::memory_order_relaxed);
    enabled_.store(enabled, std::memory_order_relaxed);
  }
  /// Returns the current stack as text ("" when there is none to show).
  using StackCapture = std::string (*)();
  static void set_stack_capture(StackCapture f) { capture_.store(f); }
  static std::string capture_stack() {
    StackCapture f = capture_.load();
    return f ? f() : std::string();
  }

 private:
  static inline std::atomic<bool> enabled_{false};
  static inline std::atomic<bool> check_nan_{true};
  static inline std::atomic<StackCapture> capture_{nullptr};
};

/// Data few nodes carry, kept out of line so that a Node stays small.
struct NodeExtras {
  /// The forward call that created the node (Note [Anomaly mode]).
  std::string creation_trace;
  /// The name of the composite op whose result this node produced (e.g. "MseLossBackward0" for
  /// mse_loss, which is recorded as its primitives); empty when none.
  std::string display_name;
};

/// Shape and dtype of one forward output, so the engine can zero-fill a missing gradient.
struct OutputMeta {
  Dims shape;
  DType dtype;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node();
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// grads_of_outputs -> grads_of_inputs (one per next_edges_ entry; undefined = no gradient).
  virtual TensorList apply(TensorList&& grads) = 0;
  /// PyTorch-style name, e.g. "MulBackward0".
  virtual std::string name() const = 0;
  /// Frees saved tensors (after a backward without retain_graph).
  virtual void release_saved() {}
  /// True for nodes whose work is trivial whatever their size (they never leave their thread).
  virtual bool cheap() const { return false; }
  /// True while the node keeps saved tensors that a backward without retain_graph will free.
  virtual bool holds_saved() const { return false; }
  /// The tensors it saved for backward, with their names (for graph views and messages).
  virtual std::vector<std::pair<std::string, const SavedTensor*>> saved_tensors() const { return {}; }
  // Note [Lowered backward] (autograd/engine.cpp): a compiled replay runs a recorded backward by
  // calling the recorded nodes again with that replay's tensors in place of the saved ones.
  /// True when apply_with() computes this node's gradients from saved tensors given by the caller:
  /// nothing else it keeps depends on the values of the forward (its attributes are shapes and
  /// options, not data, random state or tensors).
  virtual bool replayable() const { return false; }
  /// Every saved slot, in order (nullptr-free; an unused slot is an undefined SavedTensor).
  virtual std::vector<const SavedTensor*> saved_slots() const { return {}; }
  /// apply() with saved_slots()[j] read as *saved[j] (null: nothing saved there; only for
  /// replayable() nodes).
  virtual TensorList apply_with(TensorList&& grads, const Tensor* const* saved) {
    (void)saved;
    return apply(std::move(grads));
  }
  /// The name users see: a composite op's name when one was set (NodeExtras), else name().
  std::string display_name() const {
    return extras_ && !extras_->display_name.empty() ? extras_->display_name : name();
  }
  /// The extras, created on first use.
  NodeExtras& extras() {
    if (!extras_) extras_ = std::make_unique<NodeExtras>();
    return *extras_;
  }

  // In pooled blocks (Note [Small block pool]): every recorded op allocates both.
  std::vector<Edge, pool::Allocator<Edge>> next_edges_;
  std::vector<OutputMeta, pool::Allocator<OutputMeta>> outputs_;
  /// Hooks registered on non-leaf outputs: (output_nr, hook), run on the summed gradient.
  std::vector<std::pair<uint32_t, TensorHook>> pre_hooks_;
  /// What the pre-hooks keep alive, by output (see HookOwner).
  std::vector<std::pair<uint32_t, HookOwner>> pre_hook_owners_;
  /// Serializes apply() when several backward calls share this node.
  std::mutex mu_;
  /// Creation order; the engine prefers later nodes first, as PyTorch does.
  uint64_t sequence_nr_;
  /// Set by the first backward without retain_graph that starts from this node (Note [Engine]):
  /// of two such calls racing on one graph, exactly one runs.
  std::atomic<bool> consumed_{false};
  /// Forward-mode AD: the tangent of each output while a dual level is open (Note [Forward AD]).
  TensorList fw_tangents_;
  /// Null for most nodes (see NodeExtras).
  std::unique_ptr<NodeExtras> extras_;
};

/// The error for a backward through freed saved tensors.
extern const char* const kSecondBackwardMessage;

/// Drops a node reference without recursing: destroying a million-node chain frees it iteratively.
void release_node(std::shared_ptr<Node>&& n);

// Note [Saved tensor hooks]
// autograd.graph.saved_tensors_hooks(pack, unpack) lets a user decide how a saved tensor is kept
// (offloaded, compressed, recomputed): while such a pair is active on a thread, every SavedTensor
// created there hands its tensor to pack() and keeps only the returned object; unpack() gives a
// tensor back when backward needs it. The hooks travel with the SavedTensor, so a backward on
// another thread (or after the context has exited) still uses them. With hooks, the in-place
// modification check is the hook's business (PyTorch's rule too): nothing is compared.
struct SavedTensorHooks {
  virtual ~SavedTensorHooks() = default;
  virtual std::shared_ptr<void> pack(const Tensor& t) = 0;
  virtual Tensor unpack(const std::shared_ptr<void>& packed) = 0;
};
/// The innermost active hooks on this thread (null when none).
std::shared_ptr<SavedTensorHooks> current_saved_tensor_hooks();
void push_saved_tensor_hooks(std::shared_ptr<SavedTensorHooks> hooks);
void pop_saved_tensor_hooks();

class SavedTensor {
 public:
  SavedTensor() = default;
  /// Saves t for backward. Outputs of the saving node are kept without their grad_fn (that would
  /// be a reference cycle node -> tensor -> node); unpack() relinks them.
  SavedTensor(const Tensor& t, bool is_output);
  SavedTensor(const SavedTensor&) = default;
  SavedTensor& operator=(const SavedTensor&) = default;
  ~SavedTensor() { release_node(std::move(grad_fn_)); }
  /// Returns the saved tensor; RuntimeError if freed by an earlier backward or modified in place.
  Tensor unpack(const Node& owner) const;
  void reset();
  bool defined() const { return was_defined_; }
  /// Saved and not yet freed.
  bool live() const { return was_defined_ && !released_; }
  /// Freed by a backward without retain_graph.
  bool released() const { return released_; }
  /// Held by saved-tensor hooks (only the packed object is kept).
  bool packed_by_hooks() const { return hooks_ != nullptr; }
  /// The kept data, for shape and dtype (null when undefined, freed or packed by hooks).
  const TensorImpl* peek() const { return data_.get(); }
  /// The tensor that was saved (its address only: it may be gone; Note [Lowered backward]).
  const TensorImpl* origin() const { return origin_; }
  /// The storage version when saved.
  uint32_t saved_version() const { return version_; }

 private:
  std::shared_ptr<TensorImpl> data_;
  std::shared_ptr<SavedTensorHooks> hooks_;  // Note [Saved tensor hooks]: data_ is then empty
  std::shared_ptr<void> packed_;
  std::shared_ptr<Node> grad_fn_;  // non-leaf, non-output: history at save time
  const TensorImpl* origin_ = nullptr;
  uint32_t version_ = 0;
  uint32_t output_nr_ = 0;
  bool requires_grad_ = false;
  bool is_output_ = false;
  bool is_leaf_ = false;
  bool was_defined_ = false;
  bool released_ = false;
};

/// The edge a gradient for `t` flows along: its grad_fn, or its leaf accumulator.
Edge gradient_edge(const Tensor& t);
/// The gradient sink of a leaf that requires grad (created once, then shared).
std::shared_ptr<Node> grad_accumulator(const Tensor& leaf);
/// Makes the sink node for a leaf. The core only needs the interface; autograd's AccumulateGrad
/// (autograd/accumulate_grad.cpp) defines it.
std::shared_ptr<Node> make_grad_accumulator(std::shared_ptr<TensorImpl> leaf);

/// True when an op on these inputs must record a node.
inline bool needs_grad(const Tensor& a) { return GradMode::is_enabled() && a.requires_grad(); }
inline bool needs_grad(const Tensor& a, const Tensor& b) {
  return GradMode::is_enabled() && (a.requires_grad() || b.requires_grad());
}
bool needs_grad(const TensorList& ts);

/// Wires a new node: edges to the inputs, then marks `outputs` as produced by it.
void set_history(const std::shared_ptr<Node>& node, const TensorList& inputs, TensorList& outputs);
/// Marks `out` as the node's next output (grad_fn, output_nr, requires_grad).
void add_output(const std::shared_ptr<Node>& node, Tensor& out);
/// The same, handing the node's reference to the output (no count taken and dropped).
void add_output(std::shared_ptr<Node>&& node, Tensor& out);

}  // namespace cr
