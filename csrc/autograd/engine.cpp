#include "autograd/engine.h"

#include "core/forward_ad.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <thread>
#include <unordered_map>

#include "autograd/accumulate_grad.h"
#include "autograd/graph_root.h"
#include "autograd/hooks.h"
#include "autograd/plan.h"
#include "core/parallel.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/math.h"
#include "ops/reduce.h"

namespace cr {

// Note [Engine]
// 1. Discovery: an iterative DFS from a root node counts, for every reachable node, its incoming
//    edges. Each incoming edge gets its own slot in the target's input buffer, numbered in DFS
//    order, and the producer remembers which slot each of its edges writes (edge_slot).
// 2. A node is ready when all its slots are filled. Its gradient per output is the sum of its
//    slots in slot order. See Note [Determinism].
// 3. Ready nodes run on the calling thread; when more than one thread is allowed and a node makes
//    several large nodes ready at once, the extra ones go to a shared queue that pool workers
//    serve. See Note [Threads].
// 4. After a node runs, its saved tensors are freed unless keep_graph. A backward without
//    keep_graph first claims its root nodes that hold saved tensors (Node::consumed_), so that of
//    two such calls racing on one graph exactly one runs and the other fails before doing anything.
//
// Note [Determinism]
// The schedule depends on thread timing, the arithmetic must not. Slots are numbered by the
// (deterministic) discovery order and summed in that order, so a gradient is the same sum in the
// same order for any thread count. Kernels keep their half of the bargain with fixed-size chunks
// (core/parallel.h).
//
// Note [Threads]
// Inter-op: a pool of get_num_threads() - 1 workers, shared by every backward call, runs
// independent branches. Intra-op: OpenMP inside kernels. The two share the same cores, so a node
// that runs while other branches are in flight is limited to one intra-op thread; a chain of big
// nodes run alone keeps every thread for its kernels. Small nodes never leave the calling thread.

namespace {

constexpr int64_t kHandOffNumel = 16384;  // a branch smaller than this stays on its thread

// Note [Engine bookkeeping]
// A chain of tiny ops spends more on bookkeeping than on arithmetic, so the per-node state lives in
// a few flat arrays of the GraphTask rather than in a map of per-node vectors: a node's input
// buffer is slots[slot_base .. slot_base + nslots), the slot each of its edges writes is
// edge_slot[edge_base + i] (-1: no gradient flows there) and the node that edge leads to is
// tasks[edge_target[edge_base + i]]. Nodes are numbered in discovery order through an
// open-addressing table (NodeIndex), and after discovery they travel by that number (the ready
// lists and the pool's queue hold numbers, node_of[n] is the node), so running a node looks
// nothing up by its address. Everything but the slots' contents and the dependency counts is
// fixed once discovery ends, so a running node reads it without the task's lock; and a backward
// that can use one thread only (task.pooled false) takes no lock at all.
struct NodeTask {
  int dependencies = 0;
  uint32_t nslots = 0;
  uint32_t slot_base = 0;
  uint32_t edge_base = 0;
  std::vector<std::pair<uint32_t, size_t>> captures;  // (output_nr, index into captured)
  bool execute = true;
  bool target = false;  // backward(inputs=): a leaf's AccumulateGrad that must run
};

/// Node -> its number in a GraphTask, by open addressing (no allocation per node).
class NodeIndex {
 public:
  static constexpr uint32_t kAbsent = ~0u;
  uint32_t find(const Node* n) const {
    if (keys_.empty()) return kAbsent;
    for (size_t i = hash(n) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == n) return vals_[i];
      if (!keys_[i]) return kAbsent;
    }
  }
  /// The node's number, giving it `next` when it has none; second: whether it was new.
  std::pair<uint32_t, bool> insert(const Node* n, uint32_t next) {
    if ((size_ + 1) * 2 > keys_.size()) grow();
    for (size_t i = hash(n) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == n) return {vals_[i], false};
      if (!keys_[i]) {
        keys_[i] = n;
        vals_[i] = next;
        ++size_;
        return {next, true};
      }
    }
  }
  /// Empty again, keeping the table's memory.
  void clear() {
    std::fill(keys_.begin(), keys_.end(), nullptr);
    size_ = 0;
  }
  size_t capacity() const { return keys_.size(); }

 private:
  static size_t hash(const Node* n) { return (size_t)(((uintptr_t)n >> 4) * 0x9E3779B97F4A7C15ull >> 17); }
  void grow() {
    std::vector<const Node*> keys = std::move(keys_);
    std::vector<uint32_t> vals = std::move(vals_);
    size_t cap = keys.empty() ? 64 : keys.size() * 2;
    keys_.assign(cap, nullptr);
    vals_.assign(cap, 0);
    mask_ = cap - 1;
    size_ = 0;
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i]) insert(keys[i], vals[i]);
  }

  std::vector<const Node*> keys_;
  std::vector<uint32_t> vals_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

struct GraphTask {
  // Note [Engine bookkeeping]
  NodeIndex index;
  std::vector<Node*> node_of;  // by number
  std::vector<NodeTask> tasks;  // by number
  std::vector<Tensor> slots;
  std::vector<uint32_t> slot_output_nr;
  std::vector<int32_t> edge_slot;
  std::vector<uint32_t> edge_target;
  bool pooled = false;  // more than one thread may run this task's nodes
  NodeTask& at(const Node* n) { return tasks[index.find(n)]; }
  std::mutex mu;
  std::condition_variable cv;
  std::deque<uint32_t> queue;  // ready nodes handed to the pool (by number)
  int outstanding = 0;      // ready or running nodes
  std::exception_ptr error;
  bool keep_graph = false;
  bool create_graph = false;
  bool capture_mode = false;
  TensorList captured;
  std::shared_ptr<Node> root;
  std::vector<std::function<void()>> callbacks;  // Note [Engine callbacks]

  /// As a new task, keeping the arrays' memory (Note [Reused graph task]).
  void reset() {
    index.clear();
    node_of.clear();
    tasks.clear();
    slots.clear();
    slot_output_nr.clear();
    edge_slot.clear();
    edge_target.clear();
    pooled = false;
    queue.clear();
    outstanding = 0;
    error = nullptr;
    keep_graph = create_graph = capture_mode = false;
    captured.clear();
    root.reset();
    callbacks.clear();
  }
};

// Note [Reused graph task]
// A training step calls backward once on a graph of a few dozen nodes; allocating the task's mutex,
// queue, table and arrays anew each time costs about as much as running several of those nodes. A
// thread therefore keeps the task of its last backward, emptied, for the next one when nothing
// else can reach it: it ran on this thread alone (never pooled, so no worker holds or can find it),
// it succeeded, and it was small (a task of a huge graph gives its memory back).
constexpr size_t kReusedTaskMaxNodes = 4096;
thread_local std::shared_ptr<GraphTask> t_spare_task;

std::shared_ptr<GraphTask> take_task() {
  if (t_spare_task) return std::move(t_spare_task);
  return std::make_shared<GraphTask>();
}

void keep_task(std::shared_ptr<GraphTask>& task) {
  if (task->pooled || task.use_count() != 1 || task->index.capacity() > 2 * kReusedTaskMaxNodes ||
      t_spare_task)
    return;
  task->reset();
  t_spare_task = std::move(task);
}

// Note [Engine callbacks]
// queue_callback(fn), called while a backward runs (from a hook, on any of its threads), makes fn
// run once that backward has finished every node, on the thread that called backward, in the
// order queued (a callback may queue more). An exception from one ends backward with it. This is
// where data-parallel training waits for its gradient all-reduces.
thread_local GraphTask* current_task = nullptr;

struct CurrentTaskGuard {
  GraphTask* previous;
  explicit CurrentTaskGuard(GraphTask* task) : previous(current_task) { current_task = task; }
  ~CurrentTaskGuard() { current_task = previous; }
};

// ---- worker pool ----------------------------------------------------------------------------
class WorkerPool {
 public:
  static WorkerPool& get() {
    static WorkerPool* pool = new WorkerPool();  // leaked on purpose: no joins at exit
    return *pool;
  }
  void ensure(int workers) {
    std::lock_guard<std::mutex> lock(mu_);
    while ((int)threads_.size() < workers) {
      threads_.emplace_back([this] { loop(); });
      threads_.back().detach();
    }
  }
  void post(const std::shared_ptr<GraphTask>& task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(task);
    }
    cv_.notify_one();
  }

 private:
  void loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::weak_ptr<GraphTask>> tasks_;
  std::vector<std::thread> threads_;
};

// Elements a node handles: the larger of its gradients in and out.
int64_t work_estimate(const Node& n) {
  int64_t w = 0;
  for (const auto& m : n.outputs_) w = std::max(w, numel_of(m.shape));
  for (const auto& e : n.next_edges_)
    if (e.fn && e.input_nr < e.fn->outputs_.size())
      w = std::max(w, numel_of(e.fn->outputs_[e.input_nr].shape));
  return w;
}

/// The task's lock when several threads may run its nodes; nothing otherwise.
struct TaskLock {
  std::unique_lock<std::mutex> lock;
  explicit TaskLock(GraphTask& task) : lock(task.mu, std::defer_lock) {
    if (task.pooled) lock.lock();
  }
};

// The gradient of a node's output `output_nr`: the sum of its input buffer slots[base, base + n)
// that carry it, in slot order (Note [Determinism]); the summed slots are moved from.
Tensor sum_buffer(std::vector<Tensor>& slots, const std::vector<uint32_t>& slot_output_nr, uint32_t base,
                  uint32_t n, uint32_t output_nr) {
  Tensor acc;
  for (uint32_t s = base; s < base + n; ++s) {
    if (slot_output_nr[s] != output_nr || !slots[s].defined()) continue;
    acc = acc.defined() ? add(acc, slots[s]) : std::move(slots[s]);
  }
  return acc;
}

Tensor sum_slots(GraphTask& task, const NodeTask& nt, uint32_t output_nr) {
  return sum_buffer(task.slots, task.slot_output_nr, nt.slot_base, nt.nslots, output_nr);
}

// The seed gradient of backward root r: `g` checked against r, or ones for a scalar r without one.
Tensor seed_gradient(const Tensor& r, Tensor g) {
  if (!g.defined()) {
    if (r.numel() != 1)
      throw AutogradError(
          str("grad can be implicitly created only for scalar outputs (got a tensor of shape ", r.shape(),
              "); pass a gradient of the same shape"));
    return ones(r.shape(), r.dtype());
  }
  if (g.shape() != r.shape())
    throw ShapeError(
        str("backward: gradient has shape ", g.shape(), " but the tensor has shape ", r.shape()));
  return g.dtype() != r.dtype() ? to_dtype(g, r.dtype()) : g;
}

// Makes a formula's output match what the receiving edge expects.
Tensor validate(Tensor g, const Node& producer, const Node& target, uint32_t input_nr) {
  const OutputMeta& meta = target.outputs_[input_nr];
  if (g.shape() != meta.shape) {
    try {
      g = sum_to(g, meta.shape);
    } catch (const ShapeError&) {
      throw AutogradError(str("Function ", producer.name(), " returned a gradient of shape ", g.shape(),
                              " for an input of shape ", meta.shape));
    }
  }
  if (g.dtype() != meta.dtype) g = to_dtype(g, meta.dtype);
  return g;
}

// Note [Anomaly mode] (core/node.h): a node whose output gradients hold NaN or Inf is reported by
// name, with the shapes of its inputs and the forward call that created it.
std::string tuple_text(const Dims& d) {  // a shape as Python prints it: (3,), (2, 3), ()
  std::string s = "(";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + (d.size() == 1 ? ",)" : ")");
}

void check_anomaly(const Node& node, const TensorList& outs) {
  for (size_t i = 0; i < outs.size(); ++i) {
    const Tensor& g = outs[i];
    if (!g.defined() || !is_floating(g.dtype()) || g.numel() == 0) continue;
    AutoGradMode no_grad(false);
    if (item_as_double(all(isfinite(g), {}, false)) != 0) continue;
    bool nan = item_as_double(any(isnan(g), {}, false)) != 0;
    std::string shapes;
    for (size_t k = 0; k < node.next_edges_.size(); ++k) {
      const Edge& e = node.next_edges_[k];
      shapes += k ? ", " : "";
      if (e.fn && e.input_nr < e.fn->outputs_.size()) shapes += tuple_text(e.fn->outputs_[e.input_nr].shape);
      else shapes += "(no grad)";
    }
    std::string trace = node.extras_ ? node.extras_->creation_trace : std::string();
    throw AutogradError(
        str("Function '", node.display_name(), "' returned ", nan ? "nan" : "inf", " values in its ", i,
            "th output (the gradient of its input ", i, ", shape ", tuple_text(g.shape()),
            "). Input shapes: [", shapes, "]. ",
            trace.empty() ? std::string("No forward trace was recorded (the node was created before anomaly "
                                        "detection was enabled).")
                          : str("The forward call that created it:\n", trace)));
  }
}

// In anomaly mode, an error raised by a node's backward says which forward call created the node
// (PyTorch prints the same as a warning). The error keeps its type; other exceptions (a Python
// error from a custom Function) pass through unchanged.
[[noreturn]] void rethrow_with_trace(const Node& node) {
  std::string trace = node.extras_ ? node.extras_->creation_trace : std::string();
  if (trace.empty()) throw;
  std::string note = str("\nThe error was raised in the backward of ", node.display_name(),
                         "; the forward call that created it (anomaly mode):\n", trace);
  try {
    throw;
  } catch (const ShapeError& e) { throw ShapeError(e.what() + note); } catch (const TypeError& e) {
    throw TypeError(e.what() + note);
  } catch (const IndexError& e) { throw IndexError(e.what() + note); } catch (const ValueError& e) {
    throw ValueError(e.what() + note);
  } catch (const AutogradError& e) { throw AutogradError(e.what() + note); }
}

// Runs ready node number n and delivers its outputs. Returns the numbers of the nodes made ready
// by it. `grads` is the caller's buffer for the node's output gradients, reused from node to node
// (empty on return). (Nodes travel by number: no lookup of a node's number by its address.)
void run_node(GraphTask& task, uint32_t n, std::vector<uint32_t>& ready, TensorList& grads) {
  Node* node = task.node_of[n];
  NodeTask* nt = &task.tasks[n];  // fixed after discovery (Note [Engine bookkeeping])
  struct Clear {  // drops the gradients on every way out, keeps the buffer
    TensorList& g;
    ~Clear() { g.clear(); }
  } clear{grads};
  size_t nout = node->outputs_.size();
  grads.clear();
  grads.resize(nout);
  bool any = node == task.root.get();
  for (uint32_t k = 0; k < nout; ++k) {
    grads[k] =
        (nout == 1 && nt->nslots == 1) ? std::move(task.slots[nt->slot_base]) : sum_slots(task, *nt, k);
    any = any || grads[k].defined();
  }
  for (size_t s = nt->slot_base; s < nt->slot_base + nt->nslots; ++s) task.slots[s] = Tensor();
  for (auto& [k, hook] : node->pre_hooks_) {
    if (!grads[k].defined()) continue;
    Tensor r = hook(grads[k]);
    if (r.defined()) grads[k] = std::move(r);
  }
  for (auto& [k, idx] : nt->captures) task.captured[idx] = grads[k];

  TensorList outs;
  if (nt->execute && any) {
    for (uint32_t k = 0; k < nout; ++k)
      if (!grads[k].defined()) grads[k] = zeros(node->outputs_[k].shape, node->outputs_[k].dtype);
    std::lock_guard<std::mutex> lock(node->mu_);
    if (AnomalyMode::is_enabled()) {
      try {
        outs = node->apply(std::move(grads));
      } catch (...) { rethrow_with_trace(*node); }
    } else {
      outs = node->apply(std::move(grads));
    }
    if (!task.keep_graph) node->release_saved();
    if (outs.size() != node->next_edges_.size())
      throw AutogradError(str("Function ", node->name(), " returned ", outs.size(), " gradients, expected ",
                              node->next_edges_.size()));
    if (AnomalyMode::is_enabled() && AnomalyMode::check_nan()) check_anomaly(*node, outs);
  }
  const auto& edges = node->next_edges_;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (outs[i].defined() && edges[i].fn)
      outs[i] = validate(std::move(outs[i]), *node, *edges[i].fn, edges[i].input_nr);
  }
  TaskLock lock(task);
  for (size_t i = 0; i < edges.size(); ++i) {
    const int32_t slot = task.edge_slot[nt->edge_base + i];
    if (slot < 0) continue;
    const uint32_t t = task.edge_target[nt->edge_base + i];
    NodeTask& tt = task.tasks[t];
    if (i < outs.size()) task.slots[tt.slot_base + (uint32_t)slot] = std::move(outs[i]);
    if (--tt.dependencies == 0) ready.push_back(t);
  }
}

// Drives the task on this thread until no work is left for it. `local` holds nodes this thread
// owns; big extra branches are handed to the pool.
void drive(const std::shared_ptr<GraphTask>& task_ptr, std::vector<uint32_t> local, bool is_owner) {
  GraphTask& task = *task_ptr;
  CurrentTaskGuard current(&task);
  const bool pooled = task.pooled;
  std::vector<uint32_t> ready;
  TensorList grads;
  for (;;) {
    uint32_t node = 0;
    if (!local.empty()) {
      node = local.back();
      local.pop_back();
    } else {
      std::unique_lock<std::mutex> lock(task.mu);
      if (!task.queue.empty()) {
        node = task.queue.front();
        task.queue.pop_front();
      } else if (!is_owner || task.outstanding == 0) {
        return;
      } else {
        task.cv.wait(lock, [&] { return !task.queue.empty() || task.outstanding == 0; });
        continue;
      }
    }
    ready.clear();
    bool failed = false, concurrent = false;
    {
      TaskLock lock(task);
      failed = task.error != nullptr;
      concurrent = pooled && (!is_owner || task.outstanding > (int)local.size() + 1);
    }
    if (!failed) {
      try {
        IntraOpLimit limit(concurrent ? 1 : 0);
        run_node(task, node, ready, grads);
      } catch (...) {
        TaskLock lock(task);
        if (!task.error) task.error = std::current_exception();
        ready.clear();
      }
    }
    // When this node opened several branches and at least one has real work, keep the last big
    // one here and hand the others to the pool (a small node can open a big branch: the sum that
    // starts a branch has a scalar output). Accumulation nodes never leave. With a single ready
    // node nothing changes hands, so a chain of ops stays on this thread.
    const auto& node_of = task.node_of;  // (fixed after discovery)
    std::sort(ready.begin(), ready.end(),
              [&](uint32_t a, uint32_t b) { return node_of[a]->sequence_nr_ < node_of[b]->sequence_nr_; });
    int keep = -1;
    if (pooled && ready.size() > 1)
      for (size_t i = 0; i < ready.size(); ++i)
        if (!node_of[ready[i]]->cheap() && work_estimate(*node_of[ready[i]]) >= kHandOffNumel) keep = (int)i;
    bool posted = false;
    {
      TaskLock lock(task);
      task.outstanding += (int)ready.size() - 1;
      for (size_t i = 0; i < ready.size(); ++i) {
        const uint32_t r = ready[i];
        if (keep >= 0 && (int)i != keep && !node_of[r]->cheap()) {
          task.queue.push_back(r);
          posted = true;
        } else {
          local.push_back(r);
        }
      }
      // the kept branch runs next
      if (keep >= 0) {
        auto it = std::find(local.begin(), local.end(), ready[keep]);
        std::iter_swap(it, local.end() - 1);
      }
      if (task.outstanding == 0) task.cv.notify_all();
    }
    if (posted) {
      task.cv.notify_all();
      WorkerPool::get().ensure(get_num_threads() - 1);
      WorkerPool::get().post(task_ptr);
    }
  }
}

void WorkerPool::loop() {
  fw::ComputeGuard no_tangents;  // backward formulas carry no tangents (Note [Forward AD])
  GradMode::set_enabled(false);
  for (;;) {
    std::shared_ptr<GraphTask> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !tasks_.empty(); });
      task = tasks_.front().lock();
      tasks_.pop_front();
    }
    if (!task) continue;
    AutoGradMode mode(task->create_graph);
    InterOpActive active;
    drive(task, {}, /*is_owner=*/false);
  }
}

// Other threads only ever run a node that drive() hands off, and it hands off only when a node
// makes several ready at once, one of them is big (kHandOffNumel) and another is not cheap (an
// AccumulateGrad never leaves): a discovered graph without such a fork runs on one thread,
// lock-free. A linear layer's fork (the input's branch and its weight's AccumulateGrad) is not one.
bool has_big_fork(const GraphTask& task) {
  for (const Node* n : task.node_of) {
    const auto& edges = n->next_edges_;
    if (edges.size() < 2) continue;
    const Node* first = nullptr;  // the first node of the fork that is not cheap
    bool two = false, big = false;
    for (const Edge& e : edges) {
      if (!e.fn || e.fn->cheap()) continue;
      if (!first) first = e.fn.get();
      else if (e.fn.get() != first) two = true;
      big = big || work_estimate(*e.fn) >= kHandOffNumel;
    }
    if (two && big) return true;
  }
  return false;
}

// Numbers the nodes reachable from the root, counts their incoming edges and lays out their input
// buffers (Note [Engine bookkeeping]). Returns the numbers in postorder.
std::vector<uint32_t> discover(GraphTask& task) {
  // A frame: the node's number (low 32 bits) and its next edge (high 32 bits), one 8-byte word
  // written and read whole (as a struct of two fields it was pushed as two 4-byte stores and read
  // back as one 8-byte load, which waited for both stores to retire: a fifth of discover's time)
  struct Frame {
    uint64_t word;
    uint32_t node() const { return (uint32_t)word; }
    uint32_t next() const { return (uint32_t)(word >> 32); }
  };
  auto number = [&task](Node* n) {
    auto [idx, inserted] = task.index.insert(n, (uint32_t)task.tasks.size());
    if (inserted) {
      task.node_of.push_back(n);
      task.tasks.emplace_back();
    }
    return std::make_pair(idx, inserted);
  };
  std::vector<Frame> stack;
  std::vector<uint32_t> postorder;
  stack.push_back({number(task.root.get()).first});
  while (!stack.empty()) {
    Frame& f = stack.back();
    const uint32_t n = f.node();
    const auto& edges = task.node_of[n]->next_edges_;
    if (f.next() == 0) {
      task.tasks[n].edge_base = (uint32_t)task.edge_slot.size();
      task.edge_slot.resize(task.edge_slot.size() + edges.size(), -1);
      task.edge_target.resize(task.edge_target.size() + edges.size(), 0);
    }
    if (f.next() == edges.size()) {
      postorder.push_back(n);
      stack.pop_back();
      continue;
    }
    const size_t i = f.next();
    f.word += uint64_t(1) << 32;
    Node* target = edges[i].fn.get();
    if (!target) continue;
    auto [t, inserted] = number(target);  // may grow tasks: index, don't hold references
    const uint32_t e = task.tasks[n].edge_base + (uint32_t)i;
    task.edge_slot[e] = (int32_t)task.tasks[t].nslots++;
    task.edge_target[e] = t;
    task.tasks[t].dependencies++;
    if (inserted) stack.push_back({t});  // invalidates f
  }
  uint32_t total = 0;
  for (auto& nt : task.tasks) {
    nt.slot_base = total;
    total += nt.nslots;
  }
  task.slots.resize(total);
  task.slot_output_nr.resize(total);
  for (uint32_t n = 0; n < task.tasks.size(); ++n) {
    const auto& edges = task.node_of[n]->next_edges_;
    for (size_t i = 0; i < edges.size(); ++i) {
      const uint32_t e = task.tasks[n].edge_base + (uint32_t)i;
      if (task.edge_slot[e] < 0) continue;
      task.slot_output_nr[task.tasks[task.edge_target[e]].slot_base + (uint32_t)task.edge_slot[e]] =
          edges[i].input_nr;
    }
  }
  return postorder;
}

// autograd.grad and backward(inputs=): only nodes on a path to a captured input or a target
// AccumulateGrad run; no other AccumulateGrad does.
void mark_needed(GraphTask& task, const std::vector<uint32_t>& postorder) {
  std::vector<char> needed(task.tasks.size(), 0);
  for (uint32_t n : postorder) {
    NodeTask& nt = task.tasks[n];
    bool exec = nt.target;
    const size_t nedges = task.node_of[n]->next_edges_.size();
    for (size_t i = 0; i < nedges; ++i) {
      const uint32_t e = nt.edge_base + (uint32_t)i;
      if (task.edge_slot[e] >= 0 && needed[task.edge_target[e]]) exec = true;
    }
    nt.execute = exec;
    needed[n] = exec || !nt.captures.empty();
  }
}

}  // namespace

void queue_callback(std::function<void()> callback) {
  GraphTask* task = current_task;
  if (!task) throw AutogradError("queue_callback can only be called during the backward pass");
  std::lock_guard<std::mutex> lock(task->mu);
  task->callbacks.push_back(std::move(callback));
}

TensorList run_backward(const TensorList& roots, const TensorList& grad_roots, bool keep_graph,
                        bool create_graph, const TensorList& inputs, bool allow_unused, bool accumulate) {
  fw::flush();  // tangents read saved tensors, which this backward may free
  fw::ComputeGuard no_tangents;
  if (roots.size() != grad_roots.size())
    throw ValueError(str("backward: got ", roots.size(), " tensors and ", grad_roots.size(), " gradients"));
  auto task = take_task();
  task->keep_graph = keep_graph;
  task->create_graph = create_graph;
  task->capture_mode = !inputs.empty();
  TensorList seeds;
  auto root = std::make_shared<GraphRoot>(TensorList{});
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    if (!r.requires_grad())
      throw AutogradError(
          str("element ", i, " of tensors does not require grad and does not have a grad_fn"));
    root->next_edges_.push_back(gradient_edge(r));
    seeds.push_back(seed_gradient(r, grad_roots[i]));
  }
  root->grads_ = std::move(seeds);
  task->root = root;

  if (task->capture_mode) {
    task->captured.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].defined() || !inputs[i].requires_grad())
        throw AutogradError(str("grad: input ", i, " does not require grad"));
    }
  }
  std::vector<uint32_t> postorder = discover(*task);
  task->pooled = get_num_threads() > 1 && has_big_fork(*task);
  if (task->capture_mode) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      Edge e = inputs[i].grad_fn() ? Edge{inputs[i].grad_fn(), inputs[i].output_nr()}
                                   : Edge{inputs[i].impl()->grad_accumulator_.lock(), 0};
      const uint32_t idx = e.fn ? task->index.find(e.fn.get()) : NodeIndex::kAbsent;
      if (idx == NodeIndex::kAbsent) {
        if (!allow_unused && !accumulate)
          throw AutogradError(str("One of the differentiated Tensors (input ", i,
                                  ") appears to not have been used in the graph. Set allow_unused=True "
                                  "if this is the desired behavior."));
        continue;
      }
      if (accumulate && inputs[i].is_leaf()) {
        task->tasks[idx].target = true;  // its AccumulateGrad runs, hooks and all
        continue;
      }
      // A non-leaf input keeps its .grad from now on (retain_grad, as PyTorch); the capture only
      // makes the nodes on its path run.
      if (accumulate) retain_grad(inputs[i]);
      task->tasks[idx].captures.push_back({e.input_nr, i});
    }
    mark_needed(*task, postorder);
  }

  if (!keep_graph) {
    // Two backward calls without retain_graph racing on one graph: the first to claim a root node
    // that holds saved tensors runs, the other fails here, before it has freed anything (it would
    // otherwise fail midway, and could make the first fail too). See Note [Engine].
    std::vector<Node*> claimed;
    for (const Edge& e : root->next_edges_) {
      Node* n = e.fn.get();
      if (!n || !n->holds_saved() || !task->at(n).execute ||
          std::find(claimed.begin(), claimed.end(), n) != claimed.end())
        continue;
      if (n->consumed_.exchange(true)) {
        for (Node* c : claimed) c->consumed_ = false;
        throw AutogradError(kSecondBackwardMessage);
      }
      claimed.push_back(n);
    }
  }
  {
    AutoGradMode mode(create_graph);
    task->outstanding = 1;
    drive(task, {0}, /*is_owner=*/true);  // (the root is number 0: discover numbers it first)
  }
  // The pool may still hold a reference; wait until every in-flight node has finished.
  {
    std::unique_lock<std::mutex> lock(task->mu);
    task->cv.wait(lock, [&] { return task->outstanding == 0; });
  }
  if (task->error) std::rethrow_exception(task->error);
  {
    CurrentTaskGuard current(task.get());
    AutoGradMode mode(create_graph);
    for (size_t i = 0;; ++i) {
      std::function<void()> callback;
      {
        std::lock_guard<std::mutex> lock(task->mu);
        if (i >= task->callbacks.size()) break;
        callback = task->callbacks[i];
      }
      callback();
    }
  }
  if (!task->capture_mode) {
    keep_task(task);
    return {};
  }
  if (accumulate) return {};  // leaves: their AccumulateGrad ran; non-leaves: their retain_grad hook
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!task->captured[i].defined() && !allow_unused)
      throw AutogradError(str("One of the differentiated Tensors (input ", i,
                              ") appears to not have been used in the graph. Set allow_unused=True "
                              "if this is the desired behavior."));
  }
  return std::move(task->captured);
}

// Note [Lowered backward]
// A compiled step (Note [Capture and replay] in capture.h) records loss.backward() by running it
// once, eagerly, on the traced graph. Replaying it through the engine means a new graph each call:
// every forward op records a node, and the engine discovers the graph, counts dependencies and
// takes locks before any gradient is computed. A lowered backward does the engine's work once, at
// trace time: the traced graph is discovered as run_backward would (same slots, same summation
// order, so the same sums bit for bit), and kept with its nodes; a replay then runs those nodes in
// a fixed order with apply_with(), giving each its saved tensors from this replay's slots instead
// of the ones it saved during the trace. The replay's forward records no nodes at all.
// That holds only when every node can be run again that way, so lowering refuses a graph with
//   - a node that is not replayable() (a Python autograd.Function, an op whose attributes hold
//     tensors, data or random state) or has hooks on its outputs (retain_grad, register_hook);
//   - a saved tensor that is not a tensor of the replay (a temporary made inside an op);
//   - a leaf whose AccumulateGrad is not the same tensor at every replay (an input of the compiled
//     function, a tensor created inside it), or that has hooks;
//   - a fork that run_backward would hand to other threads (work of kHandOffNumel or more), so a
//     lowered backward runs on one thread, as the engine would have run it.
struct LoweredBackward {
  std::shared_ptr<GraphRoot> root;          // number 0; one edge per root tensor
  std::vector<std::shared_ptr<Node>> nodes;  // by discovery number
  std::vector<uint32_t> order;              // the run order (reverse postorder), the root left out
  std::vector<uint32_t> slot_base, nslots, edge_base;
  std::vector<int32_t> edge_slot;
  std::vector<uint32_t> edge_target, slot_output_nr;
  uint32_t total_slots = 0;
  std::vector<std::vector<int32_t>> saved;  // per node: the replay slot of each saved tensor (-1: none)
  // Per node: run under its lock. A formula node's apply_with() reads only what was fixed when it
  // was recorded (attributes, edges) and the tensors it is given, so it needs none; an
  // AccumulateGrad writes its leaf's .grad, which another thread's backward may write too.
  std::vector<uint8_t> locked;
};

std::shared_ptr<const LoweredBackward> lower_backward(
    const TensorList& roots, const std::function<int32_t(const SavedTensor&)>& saved_slot,
    const std::function<bool(const TensorImpl*)>& leaf_kept, std::string* why) {
  auto refuse = [why](std::string reason) {
    if (why) *why = std::move(reason);
    return nullptr;
  };
  GraphTask task;
  auto root = std::make_shared<GraphRoot>(TensorList{});
  for (const Tensor& r : roots) {
    if (!r.defined() || !r.requires_grad() || !r.grad_fn()) return refuse("a root without a grad_fn");
    root->next_edges_.push_back(gradient_edge(r));
  }
  task.root = root;
  std::vector<uint32_t> postorder = discover(task);
  if (has_big_fork(task)) return refuse("branches big enough for other threads");
  auto plan = std::make_shared<LoweredBackward>();
  plan->root = root;
  const size_t n = task.node_of.size();
  plan->nodes.resize(n);
  plan->saved.resize(n);
  plan->locked.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    Node* node = task.node_of[i];
    if (i == 0) {
      plan->nodes[i] = root;
      continue;
    }
    if (!node->pre_hooks_.empty()) return refuse(str(node->name(), " has hooks"));
    if (!node->replayable()) return refuse(str(node->name(), " cannot run again on other tensors"));
    if (auto* acc = dynamic_cast<AccumulateGrad*>(node)) {
      if (!leaf_kept(acc->leaf_.get())) return refuse("a leaf that is not the same tensor at every call");
      plan->locked[i] = 1;
    } else {
      for (const SavedTensor* st : node->saved_slots()) {
        int32_t slot = -1;
        if (st->defined() && (slot = saved_slot(*st)) < 0)
          return refuse(str(node->name(), " saved a tensor that the replay does not have"));
        plan->saved[i].push_back(slot);
      }
    }
    plan->nodes[i] = node->shared_from_this();
  }
  for (size_t k = postorder.size(); k-- > 0;)
    if (postorder[k] != 0) plan->order.push_back(postorder[k]);
  for (const NodeTask& nt : task.tasks) {
    plan->slot_base.push_back(nt.slot_base);
    plan->nslots.push_back(nt.nslots);
    plan->edge_base.push_back(nt.edge_base);
  }
  plan->edge_slot = std::move(task.edge_slot);
  plan->edge_target = std::move(task.edge_target);
  plan->slot_output_nr = std::move(task.slot_output_nr);
  plan->total_slots = (uint32_t)task.slots.size();
  return plan;
}

void run_lowered(const LoweredBackward& plan, const std::vector<Tensor>& slots, const TensorList& roots,
                 const TensorList& grad_roots) {
  fw::flush();
  fw::ComputeGuard no_tangents;
  AutoGradMode mode(false);
  // Recording a plan (Note [Planned replay] in plan.h): the seeds are a call of the plan; a formula
  // node's ops record themselves (a trial), or, when it does more than planned ops, the node is one
  // call, with the gathering of its gradients and the checks of its outputs; an AccumulateGrad's
  // sum of its gradients (planned adds) and what it does with it record themselves. Every call
  // keeps the tensors it gets now.
  plan::Recorder* rec = plan_detail::any_recording() && plan::at_top() ? plan::Recorder::current() : nullptr;
  std::vector<Tensor> buf(plan.total_slots);
  // Node n's output gradients, checked against the edges they go along, as run_node does.
  auto checked = [&plan](uint32_t n, TensorList& outs) {
    const auto& edges = plan.nodes[n]->next_edges_;
    for (size_t i = 0; i < edges.size() && i < outs.size(); ++i)
      if (plan.edge_slot[plan.edge_base[n] + i] >= 0 && outs[i].defined() && edges[i].fn)
        outs[i] = validate(std::move(outs[i]), *plan.nodes[n], *edges[i].fn, edges[i].input_nr);
  };
  auto deliver = [&](uint32_t n, TensorList& outs) {
    const size_t nedges = plan.nodes[n]->next_edges_.size();
    for (size_t i = 0; i < nedges && i < outs.size(); ++i) {
      const int32_t slot = plan.edge_slot[plan.edge_base[n] + i];
      if (slot < 0) continue;
      buf[plan.slot_base[plan.edge_target[plan.edge_base[n] + i]] + (uint32_t)slot] = std::move(outs[i]);
    }
  };
  // (The lambdas a plan keeps capture nothing of this frame but `plan`, which outlives the plan.)
  auto seed = [checked](const TensorList& rs, const TensorList& gs) {
    TensorList seeds(rs.size());
    for (size_t i = 0; i < rs.size(); ++i) seeds[i] = seed_gradient(rs[i], i < gs.size() ? gs[i] : Tensor());
    checked(0, seeds);
    return seeds;
  };
  {
    TensorList seeds;
    if (rec) {
      // its ops (a `ones`) record themselves, or it is one call
      const size_t start = rec->begin_trial();
      seeds = seed(roots, grad_roots);
      if (!rec->end_trial(start))
        rec->add_call([seed, rs = roots, gs = grad_roots] { (void)seed(rs, gs); }, "seed");
    } else {
      seeds = seed(roots, grad_roots);
    }
    deliver(0, seeds);
  }
  // Node n's gradients from its slots `in`, summed where several edges bring one (in slot order,
  // as sum_buffer does).
  // (`in` is moved from when it is an rvalue.)
  auto gather = [&plan](uint32_t n, auto&& in) {
    const size_t nout = plan.nodes[n]->outputs_.size();
    const uint32_t base = plan.slot_base[n];
    TensorList grads(nout);
    for (uint32_t s = 0; s < (uint32_t)in.size(); ++s) {
      if (!in[s].defined()) continue;
      Tensor& acc = grads[plan.slot_output_nr[base + s]];
      if (acc.defined()) acc = add(acc, in[s]);
      else if constexpr (std::is_rvalue_reference_v<decltype(in)>) acc = std::move(in[s]);
      else acc = in[s];
    }
    return grads;
  };
  // Node n's formula on its gradients, its outputs checked; nothing when no gradient is defined.
  auto apply = [&plan, checked](uint32_t n, TensorList grads, const std::vector<const Tensor*>& sv) {
    Node* node = plan.nodes[n].get();
    TensorList outs;
    bool any = false;
    for (const Tensor& g : grads) any = any || g.defined();
    if (!any) return outs;
    for (size_t k = 0; k < grads.size(); ++k)
      if (!grads[k].defined()) grads[k] = zeros(node->outputs_[k].shape, node->outputs_[k].dtype);
    std::unique_lock<std::mutex> lock(node->mu_, std::defer_lock);
    if (plan.locked[n]) lock.lock();
    if (AnomalyMode::is_enabled()) {
      try {
        outs = node->apply_with(std::move(grads), sv.data());
      } catch (...) { rethrow_with_trace(*node); }
      if (AnomalyMode::check_nan()) check_anomaly(*node, outs);
    } else {
      outs = node->apply_with(std::move(grads), sv.data());
    }
    checked(n, outs);
    return outs;
  };
  std::vector<const Tensor*> saved;  // into the replay's slots: no tensor is copied
  std::vector<Tensor> in;            // a node's slots, taken from buf
  for (uint32_t n : plan.order) {
    Node* node = plan.nodes[n].get();
    const uint32_t base = plan.slot_base[n], ns = plan.nslots[n];
    in.assign(std::make_move_iterator(buf.begin() + base), std::make_move_iterator(buf.begin() + base + ns));
    const std::vector<int32_t>& where = plan.saved[n];
    saved.assign(where.size(), nullptr);
    for (size_t j = 0; j < where.size(); ++j)
      if (where[j] >= 0) saved[j] = &slots[(size_t)where[j]];
    TensorList outs;
    if (!rec) {
      outs = apply(n, gather(n, std::move(in)), saved);
    } else {
      plan::note_node(node->name());
      if (dynamic_cast<AccumulateGrad*>(node) == nullptr) {
        // op by op where every op it runs has a plan (no node, no views made again), else whole
        std::vector<Tensor> kept = in;
        const size_t start = rec->begin_trial();
        outs = apply(n, gather(n, std::move(in)), saved);
        if (!rec->end_trial(start))
          rec->add_call([gather, apply, n, kept, sv = saved] { (void)apply(n, gather(n, kept), sv); },
                        "node " + node->name());
      } else {
        // the sum of its gradients is planned adds, and what it does with them records itself
        outs = apply(n, gather(n, std::move(in)), saved);
      }
    }
    deliver(n, outs);
  }
}

}  // namespace cr
