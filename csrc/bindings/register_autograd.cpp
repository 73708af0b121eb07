// Autograd entry points: backward/grad, grad mode, hooks, thread count, Python-defined Functions.
#include "bindings/common.h"
#include "autograd/engine.h"
#include "autograd/hooks.h"
#include "core/node.h"
#include "core/parallel.h"
#include "ops/ops.h"

#ifdef CHAINRULE_HAS_OPENMP
#include <omp.h>
#endif

namespace crpy {

namespace {

TensorList as_tensor_list(py::handle seq, const char* what) {
  TensorList out;
  if (is_tensor(seq)) { out.push_back(as_tensor_unchecked(seq)); return out; }
  if (seq.is_none()) return out;
  for (auto item : py::reinterpret_borrow<py::iterable>(seq)) {
    if (item.is_none()) { out.emplace_back(); continue; }
    if (!is_tensor(item)) throw cr::TypeError(cr::str(what, ": expected a sequence of Tensors"));
    out.push_back(as_tensor_unchecked(item));
  }
  return out;
}

struct HookFlag { bool alive = true; };

cr::TensorHook python_hook(py::function fn, std::shared_ptr<HookFlag> alive) {
  auto holder = gil_safe(std::move(fn));
  return [holder, alive](const Tensor& g) -> Tensor {
    if (!alive->alive) return Tensor();
    py::gil_scoped_acquire gil;
    py::object r = (*holder)(g);
    if (r.is_none()) return Tensor();
    if (!is_tensor(r)) throw cr::TypeError("a gradient hook must return a Tensor or None");
    Tensor out = as_tensor_unchecked(r);
    if (out.shape() != g.shape())
      throw cr::ShapeError(cr::str("hook returned a gradient of shape ", out.shape(), ", expected ", g.shape()));
    return out;
  };
}

// A Node whose backward is a Python callable (chainrule.autograd.Function).
class PyFunctionNode final : public cr::Node {
 public:
  std::shared_ptr<py::object> backward_;  // callable(*grads) -> tuple, one entry per forward input
  std::shared_ptr<py::object> release_;   // callable() dropping ctx's saved tensors
  std::string name_;
  TensorList apply(TensorList&& grads) override {
    py::gil_scoped_acquire gil;
    py::tuple args(grads.size());
    for (size_t i = 0; i < grads.size(); ++i) args[i] = py::cast(grads[i]);
    py::object r = (*backward_)(*args);
    TensorList out;
    if (is_tensor(r) || r.is_none()) {
      out.push_back(r.is_none() ? Tensor() : as_tensor_unchecked(r));
    } else {
      for (auto item : py::reinterpret_borrow<py::iterable>(r)) {
        if (item.is_none()) out.emplace_back();
        else if (is_tensor(item)) out.push_back(as_tensor_unchecked(item));
        else throw cr::TypeError(cr::str(name_, ".backward must return Tensors or None"));
      }
    }
    if (out.size() != next_edges_.size())
      throw cr::AutogradError(cr::str(name_, ".backward returned ", out.size(), " gradients, expected ",
                                      next_edges_.size(), " (one per tensor input of forward)"));
    return out;
  }
  void release_saved() override {
    if (!release_) return;
    py::gil_scoped_acquire gil;
    (*release_)();
  }
  std::string name() const override { return name_; }
};

}  // namespace

void register_autograd(py::module_& m, PyTensorClass& cls) {
  m.def("_run_backward", [](py::object tensors, py::object grads, bool keep_graph, bool create_graph,
                            py::object inputs, bool allow_unused) {
    TensorList roots = as_tensor_list(tensors, "backward");
    TensorList seeds = as_tensor_list(grads, "backward");
    if (seeds.empty()) seeds.resize(roots.size());
    TensorList ins = as_tensor_list(inputs, "grad");
    TensorList result;
    {
      py::gil_scoped_release nogil;
      result = cr::run_backward(roots, seeds, keep_graph, create_graph, ins, allow_unused);
    }
    py::tuple t(result.size());
    for (size_t i = 0; i < result.size(); ++i) t[i] = py::cast(result[i]);
    return t;
  });

  m.def("is_grad_enabled", [] { return cr::GradMode::is_enabled(); });
  m.def("_set_grad_enabled", [](bool on) { cr::GradMode::set_enabled(on); });

  m.def("set_num_threads", [](int n) {
    if (n < 1) throw cr::ValueError(cr::str("set_num_threads: expected a positive number of threads, got ", n));
    cr::set_num_threads(n);
  });
  m.def("get_num_threads", [] { return cr::get_num_threads(); });
  m.def("_has_openmp", [] {
#ifdef CHAINRULE_HAS_OPENMP
    return true;
#else
    return false;
#endif
  });

  cls.def("_register_hook", [](const Tensor& t, py::function fn, std::shared_ptr<HookFlag> alive) {
    cr::add_tensor_hook(t, python_hook(std::move(fn), std::move(alive)));
  });
  py::class_<HookFlag, std::shared_ptr<HookFlag>>(m, "_HookFlag")
      .def(py::init([] { return std::make_shared<HookFlag>(); }))
      .def("disable", [](HookFlag& f) { f.alive = false; });

  m.def("_make_function_node", [](const std::string& name, py::function backward, py::function release,
                                  py::object inputs, py::object outputs) {
    TensorList ins = as_tensor_list(inputs, "Function");
    TensorList outs = as_tensor_list(outputs, "Function");
    auto node = std::make_shared<PyFunctionNode>();
    node->name_ = name;
    node->backward_ = gil_safe(std::move(backward));
    node->release_ = gil_safe(std::move(release));
    TensorList linked;
    for (auto& o : outs) linked.push_back(o.defined() ? cr::detach(o) : o);
    cr::set_history(node, ins, linked);
    py::tuple t(linked.size());
    for (size_t i = 0; i < linked.size(); ++i) t[i] = py::cast(linked[i]);
    return t;
  });
}

}  // namespace crpy
