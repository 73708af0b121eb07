#include "core/node.h"

#include "core/forward_ad.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace cr {

namespace {
std::atomic<uint64_t> g_sequence{0};
constexpr size_t kTrimAfterNodes = 100000;  // graphs freed at once above this size trim the heap
}  // namespace

const char* const kSecondBackwardMessage =
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward.";

Node::Node() : sequence_nr_(g_sequence.fetch_add(1, std::memory_order_relaxed)) {
  if (AnomalyMode::is_enabled()) {  // Note [Anomaly mode]
    std::string trace = AnomalyMode::capture_stack();
    if (!trace.empty()) extras().creation_trace = std::move(trace);
  }
}

Node::~Node() {
  for (auto& e : next_edges_) release_node(std::move(e.fn));
}

// Note [Iterative destruction]
// A graph is a chain of shared_ptrs: node -> edge -> node, and node -> saved tensor -> grad_fn.
// Letting destructors recurse would overflow the stack on a long chain, so every place that drops
// a Node reference goes through release_node: the first call on a thread becomes the "drainer"
// and frees nodes one at a time from a thread-local stack; nested calls only push.
void release_node(std::shared_ptr<Node>&& n) {
  if (!n) return;
  thread_local std::vector<std::shared_ptr<Node>> pending;
  thread_local bool draining = false;
  if (n.use_count() > 1 && !draining) {
    n.reset();
    return;
  }
  pending.push_back(std::move(n));
  if (draining) return;
  draining = true;
  size_t freed = 0;
  while (!pending.empty()) {
    std::shared_ptr<Node> x = std::move(pending.back());
    pending.pop_back();
    x.reset();
    ++freed;
  }
  pending.shrink_to_fit();
  draining = false;
  // A large graph is many small allocations; glibc keeps their memory in its heap after they are
  // freed, so RSS would stay at the peak. Hand it back once a big graph is gone.
#ifdef __GLIBC__
  if (freed >= kTrimAfterNodes) malloc_trim(0);
#endif
}

bool needs_grad(const TensorList& ts) {
  if (!GradMode::is_enabled()) return false;
  for (const auto& t : ts)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

std::shared_ptr<Node> grad_accumulator(const Tensor& leaf) {
  auto* impl = leaf.impl();
  std::lock_guard<std::mutex> lock(impl->grad_mu_);
  if (auto acc = impl->grad_accumulator_.lock()) return acc;
  auto acc = make_grad_accumulator(leaf.ptr());
  impl->grad_accumulator_ = acc;
  return acc;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return Edge{};
  if (t.grad_fn()) return Edge{t.grad_fn(), t.output_nr()};
  return Edge{grad_accumulator(t), 0};
}

void add_output(const std::shared_ptr<Node>& node, Tensor& out) {
  add_output(std::shared_ptr<Node>(node), out);
}

void add_output(std::shared_ptr<Node>&& node, Tensor& out) {
  auto* impl = out.impl();
  Node* n = node.get();
  impl->output_nr_ = (uint32_t)n->outputs_.size();
  impl->grad_fn_ = std::move(node);
  impl->requires_grad_ = true;
  n->outputs_.push_back(OutputMeta{impl->sizes_, impl->dtype_});
}

void set_history(const std::shared_ptr<Node>& node, const TensorList& inputs, TensorList& outputs) {
  node->next_edges_.reserve(inputs.size());
  for (const auto& t : inputs) node->next_edges_.push_back(gradient_edge(t));
  for (auto& o : outputs)
    if (o.defined() && is_floating(o.dtype())) add_output(node, o);
  if (fw::active() && !node->outputs_.empty()) fw::pend_generic(node, inputs);
}

// ---------------------------------------------------------------------------------------------
namespace {
std::vector<std::shared_ptr<SavedTensorHooks>>& hook_stack() {
  thread_local std::vector<std::shared_ptr<SavedTensorHooks>> stack;
  return stack;
}
}  // namespace

std::shared_ptr<SavedTensorHooks> current_saved_tensor_hooks() {
  auto& s = hook_stack();
  return s.empty() ? nullptr : s.back();
}
void push_saved_tensor_hooks(std::shared_ptr<SavedTensorHooks> hooks) {
  hook_stack().push_back(std::move(hooks));
}
void pop_saved_tensor_hooks() {
  auto& s = hook_stack();
  if (!s.empty()) s.pop_back();
}

SavedTensor::SavedTensor(const Tensor& t, bool is_output) {
  if (!t.defined()) return;
  was_defined_ = true;
  origin_ = t.impl();
  is_output_ = is_output;
  requires_grad_ = t.requires_grad();
  version_ = t.storage()->version();
  output_nr_ = t.output_nr();
  // A leaf view is kept detached: holding it would hold its base, whose later history may lead
  // back to the node that saves it (a reference cycle).
  if (!is_output && t.is_leaf() && !t.impl()->view_) {
    data_ = t.ptr();
    is_leaf_ = true;
  } else {
    data_ = detach(t).ptr();
    if (!is_output) grad_fn_ = t.grad_fn();
  }
  if (auto hooks = current_saved_tensor_hooks()) {
    // The hook sees the tensor itself (an output without its grad_fn, which would be a cycle).
    Tensor given = is_output ? Tensor(data_) : t;
    std::shared_ptr<TensorImpl> keep = std::move(data_);
    packed_ = hooks->pack(given);
    hooks_ = std::move(hooks);
    (void)keep;  // released here: only what pack() returned is kept
  }
}

Tensor SavedTensor::unpack(const Node& owner) const {
  if (!was_defined_) return Tensor();
  if (released_) throw AutogradError(kSecondBackwardMessage);
  if (hooks_) {
    Tensor got = hooks_->unpack(packed_);
    if (!got.defined()) throw AutogradError("saved tensor unpack hook returned no tensor");
    if (!requires_grad_ || !GradMode::is_enabled()) return got;
    if (is_leaf_) return got;
    Tensor t = detach(got);
    auto* impl = t.impl();
    impl->requires_grad_ = true;
    impl->output_nr_ = output_nr_;
    impl->grad_fn_ = is_output_ ? const_cast<Node&>(owner).shared_from_this() : grad_fn_;
    return t;
  }
  uint32_t now = data_->storage_->version();
  if (now != version_)
    throw AutogradError(
        str("one of the variables needed for gradient computation has been modified "
            "by an inplace operation: [",
            owner.name(), "] saved tensor of shape ", data_->sizes_, " (", dtype_name(data_->dtype_),
            ") is at version ", now, "; expected version ", version_,
            " instead. Use an out-of-place op or clone() before modifying it."));
  if (is_leaf_ || !requires_grad_ || !GradMode::is_enabled()) return Tensor(data_);
  // Gradient of a gradient: relink the saved value to the history it had when saved.
  Tensor t = detach(Tensor(data_));
  auto* impl = t.impl();
  impl->requires_grad_ = true;
  impl->output_nr_ = output_nr_;
  impl->grad_fn_ = is_output_ ? const_cast<Node&>(owner).shared_from_this() : grad_fn_;
  return t;
}

void SavedTensor::reset() {
  if (!was_defined_) return;
  released_ = true;
  data_.reset();
  packed_.reset();
  hooks_.reset();
  release_node(std::move(grad_fn_));
}

}  // namespace cr
