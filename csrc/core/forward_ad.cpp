#include "core/forward_ad.h"

#include <atomic>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "core/grad_mode.h"
#include "core/node.h"

namespace cr::fw {
namespace {
std::atomic<int> g_level{0};
thread_local bool t_computing = false;
struct Pending {
  std::shared_ptr<Node> node;
  std::function<void()> compute;
};
std::vector<Pending>& queue() {
  thread_local std::vector<Pending> q;
  return q;
}
std::mutex g_nodes_mu;
std::vector<std::weak_ptr<Node>>& nodes_with_tangents() {
  static std::vector<std::weak_ptr<Node>> v;
  return v;
}
GenericJvp g_generic = nullptr;
std::atomic<uint64_t> g_total{0}, g_by_generic{0};
}  // namespace

bool active() { return g_level.load(std::memory_order_relaxed) > 0 && !t_computing; }

ComputeGuard::ComputeGuard() : prev(t_computing) { t_computing = true; }
ComputeGuard::~ComputeGuard() { t_computing = prev; }

void enter_level() {
  if (g_level.load() > 0) throw AutogradError("forward_ad: nested dual levels are not supported");
  g_level.store(1);
}

void exit_level() {
  if (g_level.load() == 0) throw AutogradError("forward_ad: no dual level is open");
  queue().clear();
  std::vector<std::weak_ptr<Node>> nodes;
  {
    std::lock_guard<std::mutex> lock(g_nodes_mu);
    nodes.swap(nodes_with_tangents());
  }
  for (auto& w : nodes)
    if (auto n = w.lock()) n->fw_tangents_.clear();
  g_level.store(0);
}

void flush() {
  auto& q = queue();
  if (q.empty() || t_computing) return;
  std::vector<Pending> work;
  work.swap(q);
  ComputeGuard computing;
  NoGradGuard no_grad;
  for (auto& p : work) {
    p.compute();
    g_total.fetch_add(1, std::memory_order_relaxed);
  }
}

void pend(const std::shared_ptr<Node>& node, std::function<void()> compute) {
  flush();
  queue().push_back(Pending{node, std::move(compute)});
}

Tensor tangent_of(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return Tensor();
  const auto& fn = t.grad_fn();
  if (!fn) return Tensor();
  uint32_t k = t.output_nr();
  return k < fn->fw_tangents_.size() ? fn->fw_tangents_[k] : Tensor();
}

bool any_tangent(const TensorList& inputs) {
  flush();
  for (const auto& t : inputs)
    if (tangent_of(t).defined()) return true;
  return false;
}

void store(Node& n, TensorList tangents) {
  tangents.resize(n.outputs_.size());
  n.fw_tangents_ = std::move(tangents);
  std::lock_guard<std::mutex> lock(g_nodes_mu);
  nodes_with_tangents().push_back(n.weak_from_this());
}

void set_tangent(const Tensor& t, const Tensor& tangent) {
  flush();
  const auto& fn = t.grad_fn();
  if (!fn) throw AutogradError("forward_ad: a tangent needs a tensor with a grad_fn");
  TensorList ts = fn->fw_tangents_;
  ts.resize(fn->outputs_.size());
  ts[t.output_nr()] = tangent;
  store(*fn, std::move(ts));
}

std::pair<uint64_t, uint64_t> counts() {
  uint64_t generic = g_by_generic.load();
  return {g_total.load() - generic, generic};
}

void set_generic_jvp(GenericJvp f) { g_generic = f; }

void pend_generic(const std::shared_ptr<Node>& n, const TensorList& inputs) {
  if (!g_generic || !any_tangent(inputs)) return;
  pend(n, [n, inputs] {
    TensorList tin;
    tin.reserve(inputs.size());
    for (const auto& t : inputs) tin.push_back(tangent_of(t));
    store(*n, g_generic(*n, tin));
    g_by_generic.fetch_add(1, std::memory_order_relaxed);
  });
}

}  // namespace cr::fw
