// Autograd entry points: backward/grad, grad mode, hooks, thread count, Python-defined Functions.
#include "autograd/accumulate_grad.h"
#include "autograd/engine.h"
#include "autograd/hooks.h"
#include "bindings/capture_wrap.h"
#include "bindings/common.h"
#include "core/node.h"
#include "core/parallel.h"
#include "ops/ops.h"

namespace crpy {

namespace {

TensorList as_tensor_list(py::handle seq, const char* what) {
  TensorList out;
  if (is_tensor(seq)) {
    out.push_back(as_tensor_unchecked(seq));
    return out;
  }
  if (seq.is_none()) return out;
  for (auto item : py::reinterpret_borrow<py::iterable>(seq)) {
    if (item.is_none()) {
      out.emplace_back();
      continue;
    }
    if (!is_tensor(item)) throw cr::TypeError(cr::str(what, ": expected a sequence of Tensors"));
    out.push_back(as_tensor_unchecked(item));
  }
  return out;
}

struct HookFlag {
  bool alive = true;
};

struct PostAccumulateGradHookHandle {
  std::shared_ptr<HookFlag> alive;
};

cr::TensorHook python_hook(std::shared_ptr<py::object> holder, std::shared_ptr<HookFlag> alive) {
  return [holder, alive](const Tensor& g) -> Tensor {
    if (!alive->alive) return Tensor();
    py::gil_scoped_acquire gil;
    py::object r = (*holder)(g);
    if (r.is_none()) return Tensor();
    if (!is_tensor(r)) throw cr::TypeError("a gradient hook must return a Tensor or None");
    Tensor out = as_tensor_unchecked(r);
    if (out.shape() != g.shape())
      throw cr::ShapeError(
          cr::str("hook returned a gradient of shape ", out.shape(), ", expected ", g.shape()));
    if (out.dtype() != g.dtype())
      throw cr::TypeError(
          cr::str("hook '", py::str(py::getattr(*holder, "__name__", py::str("hook"))).cast<std::string>(),
                  "' has changed the type of value: expected ", cr::dtype_name(g.dtype()), ", got ",
                  cr::dtype_name(out.dtype())));
    return out;
  };
}

// A Node whose backward is a Python callable (chainrule.autograd.Function). The tensors its ctx
// saved are SavedTensors like any other node's: version-checked when unpacked, freed after backward.
class PyFunctionNode final : public cr::Node {
 public:
  std::shared_ptr<py::object> backward_;  // callable(*grads) -> tuple, one entry per forward input
  std::vector<cr::SavedTensor> saved_;
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
    for (auto& s : saved_) s.reset();
  }
  bool holds_saved() const override {
    for (const auto& s : saved_)
      if (s.live()) return true;
    return false;
  }
  std::vector<std::pair<std::string, const cr::SavedTensor*>> saved_tensors() const override {
    std::vector<std::pair<std::string, const cr::SavedTensor*>> out;
    for (size_t i = 0; i < saved_.size(); ++i) out.emplace_back(cr::str("saved_", i), &saved_[i]);
    return out;
  }
  std::string name() const override { return name_; }
};

/// ctx's view of its node's saved tensors. Weak, so that node -> backward -> ctx -> node is no cycle.
struct SavedTensorsHandle {
  std::weak_ptr<PyFunctionNode> node;
  py::tuple unpack() const {
    auto n = node.lock();
    if (!n) throw cr::AutogradError(cr::kSecondBackwardMessage);
    py::tuple t(n->saved_.size());
    for (size_t i = 0; i < n->saved_.size(); ++i) t[i] = py::cast(n->saved_[i].unpack(*n));
    return t;
  }
};

// Note [Anomaly mode] (core/node.h): the stack capture the core calls at node creation while
// anomaly detection is on; a Python function (chainrule.autograd.anomaly_mode) formats the stack.
std::shared_ptr<py::object>& anomaly_capture_fn() {
  static auto* fn = new std::shared_ptr<py::object>();  // leaked on purpose: no teardown at exit
  return *fn;
}

std::string capture_python_stack() {
  if (!Py_IsInitialized()) return {};
  py::gil_scoped_acquire gil;
  auto fn = anomaly_capture_fn();
  if (!fn) return {};
  try {
    py::object r = (*fn)();
    return r.is_none() ? std::string() : py::str(r).cast<std::string>();
  } catch (py::error_already_set&) {
    return {};  // a failed capture must not fail the op
  }
}

py::tuple shape_of(const cr::Dims& d) {
  py::tuple t(d.size());
  for (size_t i = 0; i < d.size(); ++i) t[i] = py::int_(d[i]);
  return t;
}

// Graph introspection on Node (grad_fn) for graph views and anomaly reports. Added to the class
// that register_tensor made, as methods and properties.
void extend_node_class(py::module_& m) {
  py::object node_cls = m.attr("Node");
  py::object property = py::module_::import("builtins").attr("property");
  auto method = [&](const char* name, py::cpp_function f) { py::setattr(node_cls, name, f); };
  method("name", py::cpp_function([](const cr::Node& n) { return n.display_name(); }, py::is_method(node_cls),
                                  py::name("name"),
                                  py::doc("The op's backward name, as PyTorch's (e.g. 'MulBackward0').")));
  method("_sequence_nr",
         py::cpp_function([](const cr::Node& n) { return n.sequence_nr_; }, py::is_method(node_cls),
                          py::name("_sequence_nr"), py::doc("Creation order of the node.")));
  method("_id", py::cpp_function([](const cr::Node& n) { return (uintptr_t)&n; }, py::is_method(node_cls),
                                 py::name("_id"), py::doc("A number identifying the node while it lives.")));
  method("_set_name",
         py::cpp_function([](cr::Node& n, const std::string& name) { n.extras().display_name = name; },
                          py::is_method(node_cls), py::name("_set_name"),
                          py::doc("Shows the node under a composite op's name.")));
  method("_saved_tensors_info",
         py::cpp_function(
             [](const cr::Node& n) {
               py::list out;
               for (const auto& [name, s] : n.saved_tensors()) {
                 const cr::TensorImpl* d = s->peek();
                 const char* state = s->released() ? "freed" : s->packed_by_hooks() ? "packed" : "live";
                 out.append(py::make_tuple(
                     name, d ? py::object(shape_of(d->sizes_)) : py::object(py::none()),
                     d ? py::object(py::str(cr::dtype_name(d->dtype_))) : py::object(py::none()), state));
               }
               return out;
             },
             py::is_method(node_cls), py::name("_saved_tensors_info"),
             py::doc("[(name, shape or None, dtype name or None, 'live' | 'freed' | 'packed')] of the saved "
                     "tensors.")));
  method("_output_metadata", py::cpp_function(
                                 [](const cr::Node& n) {
                                   py::list out;
                                   for (const auto& o : n.outputs_)
                                     out.append(py::make_tuple(shape_of(o.shape), cr::dtype_name(o.dtype)));
                                   return out;
                                 },
                                 py::is_method(node_cls), py::name("_output_metadata"),
                                 py::doc("[(shape, dtype name)] of the forward outputs.")));
  py::setattr(node_cls, "_creation_trace",
              property(py::cpp_function(
                  [](const cr::Node& n) -> py::object {
                    if (!n.extras_ || n.extras_->creation_trace.empty()) return py::none();
                    return py::str(n.extras_->creation_trace);
                  },
                  py::is_method(node_cls))));
  py::setattr(
      node_cls, "variable",
      property(py::cpp_function(
          [](const cr::Node& n) -> py::object {
            auto* acc = dynamic_cast<const cr::AccumulateGrad*>(&n);
            if (!acc)
              throw py::attribute_error(cr::str("'", n.name(), "' object has no attribute 'variable'"));
            return py::cast(Tensor(acc->leaf_));
          },
          py::is_method(node_cls))));
}

// loss.backward() while chainrule.compile traces: lowered when the graph allows (Note [Lowered
// backward] in autograd/engine.cpp). The backward runs now as usual; the recorded step runs the
// lowered program when the whole replay is lowered, and the engine otherwise. False (nothing done)
// when the graph cannot be lowered: the caller records the ordinary step.
bool record_lowered_backward(cr::capture::Schedule& s, const TensorList& roots, TensorList seeds) {
  using cr::capture::Slot;
  if (seeds.empty()) seeds.resize(roots.size());
  if (seeds.size() != roots.size()) return false;  // the ordinary path raises the error
  std::string why;
  auto plan = cr::lower_backward(
      roots, [&s](const cr::SavedTensor& st) { return s.saved_slot(st); },
      [&s](const cr::TensorImpl* leaf) { return s.keeps_leaf(leaf); }, &why);
  if (!plan) {
    s.note_backward(false, why);
    return false;
  }
  std::vector<Slot> root_slots, seed_slots;
  for (const Tensor& r : roots) root_slots.push_back(s.slot_of(r));
  for (const Tensor& g : seeds) seed_slots.push_back(s.slot_of(g));
  {
    cr::capture::PauseTracing pause;
    py::gil_scoped_release nogil;
    cr::run_backward(roots, seeds, false, false, {}, false);
  }
  s.add_step("_run_backward", [plan, root_slots, seed_slots](cr::capture::Frame& f) {
    TensorList rs, gs;
    for (Slot k : root_slots) rs.push_back(f.slots[(size_t)k]);
    for (Slot k : seed_slots) gs.push_back(k == cr::capture::kNoSlot ? Tensor() : f.slots[(size_t)k]);
    if (f.lowered) {
      cr::run_lowered(*plan, f.slots, rs, gs);
      return;
    }
    py::gil_scoped_release nogil;
    cr::run_backward(rs, gs, false, false, {}, false);
  });
  s.note_backward(true, "", root_slots);
  return true;
}
}  // namespace

// Note [Saved tensor hooks] (core/node.h), with Python callables: pack(tensor) -> any object,
// unpack(object) -> tensor. Both are called with the GIL from whichever thread saves or unpacks.
class PySavedTensorHooks final : public cr::SavedTensorHooks {
 public:
  PySavedTensorHooks(py::object pack, py::object unpack)
      : pack_(gil_safe(std::move(pack))), unpack_(gil_safe(std::move(unpack))) {}
  std::shared_ptr<void> pack(const Tensor& t) override {
    py::gil_scoped_acquire gil;
    return gil_safe((*pack_)(t));
  }
  Tensor unpack(const std::shared_ptr<void>& packed) override {
    py::gil_scoped_acquire gil;
    py::object r = (*unpack_)(*static_cast<py::object*>(packed.get()));
    if (!is_tensor(r))
      throw cr::TypeError(cr::str("saved tensor unpack hook must return a Tensor, got ",
                                  py::str(py::type::of(r).attr("__name__")).cast<std::string>()));
    return as_tensor_unchecked(r);
  }

 private:
  std::shared_ptr<py::object> pack_, unpack_;
};

void register_autograd(py::module_& m, PyTensorClass& cls) {
  extend_node_class(m);
  cr::AnomalyMode::set_stack_capture(&capture_python_stack);
  m.def(
      "_set_anomaly_enabled", [](bool on, bool check_nan) { cr::AnomalyMode::set_enabled(on, check_nan); },
      py::arg("enabled"), py::arg("check_nan") = true,
      "Note [Anomaly mode]: turns anomaly detection on or off.");
  m.def("_is_anomaly_enabled", [] { return cr::AnomalyMode::is_enabled(); });
  m.def("_is_anomaly_check_nan_enabled", [] { return cr::AnomalyMode::check_nan(); });
  m.def(
      "_set_anomaly_stack_capture",
      [](py::object fn) { anomaly_capture_fn() = fn.is_none() ? nullptr : gil_safe(std::move(fn)); },
      "Sets the function () -> str that describes the user's stack when a node is created in anomaly mode.");
  m.def(
      "_push_saved_tensors_hooks",
      [](py::function pack, py::function unpack) {
        cr::capture::refuse_while_tracing("Saved tensor hooks (autograd.graph.saved_tensors_hooks)",
                                          "they would not be installed by a replay; enter them outside the "
                                          "compiled function.");
        cr::push_saved_tensor_hooks(std::make_shared<PySavedTensorHooks>(std::move(pack), std::move(unpack)));
      },
      "Makes (pack, unpack) the saved-tensor hooks of this thread until the matching pop.");
  m.def("_pop_saved_tensors_hooks", []() { cr::pop_saved_tensor_hooks(); }, "Undoes the last push.");
  auto run_backward =
      traced("_run_backward", [](py::object tensors, py::object grads, bool keep_graph, bool create_graph,
                                 py::object inputs, bool allow_unused, bool accumulate) {
        TensorList roots = as_tensor_list(tensors, "backward");
        TensorList seeds = as_tensor_list(grads, "backward");
        if (seeds.empty()) seeds.resize(roots.size());
        TensorList ins = as_tensor_list(inputs, "grad");
        TensorList result;
        {
          py::gil_scoped_release nogil;
          result = cr::run_backward(roots, seeds, keep_graph, create_graph, ins, allow_unused, accumulate);
        }
        py::tuple t(result.size());
        for (size_t i = 0; i < result.size(); ++i) t[i] = py::cast(result[i]);
        return t;
      });
  m.def(
      "_run_backward",
      [run_backward](py::object tensors, py::object grads, bool keep_graph, bool create_graph,
                     py::object inputs, bool allow_unused, bool accumulate) {
        cr::capture::Schedule* s = cr::tracing() ? cr::capture::recording() : nullptr;
        if (s && !keep_graph && !create_graph && inputs.is_none() && !accumulate) {
          if (record_lowered_backward(*s, as_tensor_list(tensors, "backward"),
                                      as_tensor_list(grads, "backward")))
            return py::tuple();
        } else if (s) {
          s->note_backward(false);
        }
        return run_backward(std::move(tensors), std::move(grads), keep_graph, create_graph, std::move(inputs),
                            allow_unused, accumulate);
      },
      "Runs backward (Tensor.backward, autograd.backward and autograd.grad end here).", py::arg("tensors"),
      py::arg("grad_tensors"), py::arg("keep_graph"), py::arg("create_graph"), py::arg("inputs"),
      py::arg("allow_unused"), py::arg("accumulate") = false);

  m.def(
      "_queue_callback",
      [](py::function fn) {
        auto holder = gil_safe(std::move(fn));
        cr::queue_callback([holder] {
          py::gil_scoped_acquire gil;
          (*holder)();
        });
      },
      py::arg("callback"),
      "Runs callback() once the backward now running has finished, on the thread that called\n"
      "backward (PyTorch's Variable._execution_engine.queue_callback). RuntimeError outside a backward.");
  m.def("is_grad_enabled", [] { return cr::GradMode::is_enabled(); });
  m.def("_set_grad_enabled", [](bool on) {
    cr::GradMode::set_enabled(on);
    if (!cr::tracing() || !cr::capture::recording()) return;
    // A lowered replay keeps grad mode off throughout (Note [Lowered backward]).
    cr::capture::recording()->add_step("_set_grad_enabled", [on](cr::capture::Frame& f) {
      if (!f.lowered) cr::GradMode::set_enabled(on);
    });
  });

  m.def("set_num_threads", [](int n) {
    if (n < 1)
      throw cr::ValueError(cr::str("set_num_threads: expected a positive number of threads, got ", n));
    cr::set_num_threads(n);
  });
  m.def("get_num_threads", [] { return cr::get_num_threads(); });
  m.def("_has_openmp", [] {
    return false;  // intra-op threads come from chainrule's own pool (core/parallel.h)
  });

  def_traced(cls, "_register_hook", [](const Tensor& t, py::function fn, std::shared_ptr<HookFlag> alive) {
    auto holder = gil_safe(std::move(fn));
    cr::add_tensor_hook(t, python_hook(holder, std::move(alive)), holder);
  });
  // Tensor.register_post_accumulate_grad_hook: hook(tensor) after the leaf's .grad was accumulated.
  def_traced(
      cls, "register_post_accumulate_grad_hook",
      [](const Tensor& t, py::object fn) {
        if (!PyCallable_Check(fn.ptr()))
          throw cr::TypeError("register_post_accumulate_grad_hook expects a callable");
        auto holder = gil_safe(std::move(fn));
        auto alive = std::make_shared<HookFlag>();
        cr::add_post_accumulate_grad_hook(
            t,
            [holder, alive](const Tensor& leaf) {
              if (!alive->alive) return;
              py::gil_scoped_acquire gil;
              py::object r = (*holder)(leaf);
              if (!r.is_none())
                throw cr::TypeError(cr::str("post accumulate grad hooks must return None, got '",
                                            py::str(py::type::of(r).attr("__name__")).cast<std::string>(),
                                            "'"));
            },
            holder);
        return PostAccumulateGradHookHandle{std::move(alive)};
      },
      py::arg("hook"),
      "Registers hook(tensor) to run after this leaf's .grad has been accumulated during backward\n"
      "(PyTorch's Tensor.register_post_accumulate_grad_hook). The hook must return None. Returns a\n"
      "handle whose remove() disables the hook.");
  py::class_<PostAccumulateGradHookHandle>(m, "_PostAccumulateGradHookHandle")
      .def("remove", [](PostAccumulateGradHookHandle& h) { h.alive->alive = false; }, "Disables the hook.");
  py::class_<HookFlag, std::shared_ptr<HookFlag>>(m, "_HookFlag")
      .def(py::init([] { return std::make_shared<HookFlag>(); }))
      .def("disable", [](HookFlag& f) { f.alive = false; });

  py::class_<SavedTensorsHandle>(m, "_SavedTensorsHandle").def("unpack", &SavedTensorsHandle::unpack);
  // Wires a Function's node: edges to `inputs`, outputs linked (detached aliases, or for outputs
  // marked dirty the modified input itself, whose history is rebased), the ctx's saved tensors kept
  // as SavedTensors (outputs without a reference cycle). Returns (linked outputs, saved handle).
  m.def("_make_function_node", [](const std::string& name, py::function backward, py::object inputs,
                                  py::object outputs, py::object saved, std::vector<bool> dirty) {
    cr::capture::refuse_while_tracing(
        "A custom autograd.Function",
        "its forward and backward are Python code that a replay would not run. "
        "Compile a function that calls it from outside, or write it with chainrule ops.");
    TensorList ins = as_tensor_list(inputs, "Function");
    TensorList outs = as_tensor_list(outputs, "Function");
    TensorList to_save = as_tensor_list(saved, "save_for_backward");
    auto node = std::make_shared<PyFunctionNode>();
    node->name_ = name;
    node->backward_ = gil_safe(std::move(backward));
    TensorList linked;
    for (size_t k = 0; k < outs.size(); ++k) {
      const Tensor& o = outs[k];
      bool is_dirty = k < dirty.size() && dirty[k] && o.defined();
      if (is_dirty && o.requires_grad() && o.is_leaf())
        throw cr::AutogradError(cr::str(name,
                                        ": a leaf Variable that requires grad has been used in an in-place "
                                        "operation (marked dirty)."));
      linked.push_back(!o.defined() || is_dirty ? o : cr::detach(o));
    }
    cr::set_history(node, ins, linked);
    for (const Tensor& t : to_save) {
      size_t k = 0;
      while (k < outs.size() && !(outs[k].defined() && outs[k].same(t))) ++k;
      node->saved_.push_back(k < outs.size() ? cr::SavedTensor(linked[k], true) : cr::SavedTensor(t, false));
    }
    py::tuple t(linked.size());
    for (size_t i = 0; i < linked.size(); ++i) t[i] = py::cast(linked[i]);
    return py::make_tuple(t, SavedTensorsHandle{node});
  });
}

}  // namespace crpy
