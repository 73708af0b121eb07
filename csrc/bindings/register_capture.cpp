// chainrule.compile's C++ side (Note [Capture and replay] in autograd/capture.h): the schedule as a
// Python object (chainrule._core._CaptureSchedule), and the Python-object recipes of traced().
#include <mutex>
#include <unordered_set>

#include "bindings/capture_wrap.h"

namespace crpy {
namespace capture_wrap {

const char* interned_name(const std::string& name) {
  static std::mutex mu;
  static std::unordered_set<std::string> names;  // its elements never move
  std::lock_guard<std::mutex> lock(mu);
  return names.insert(name).first->c_str();
}

void missing_tensor() {
  throw cr::AutogradError(
      "chainrule.compile: a replayed step found no tensor where the traced step had one (a .grad or an "
      "optional tensor that the guards did not cover changed). Call reset() on the compiled function to "
      "trace it again.");
}

namespace {
bool plain_container(py::handle o) {
  return PyTuple_CheckExact(o.ptr()) || PyList_CheckExact(o.ptr()) || PyDict_CheckExact(o.ptr());
}
}  // namespace

PyRecipe py_recipe(Schedule& s, py::handle o) {
  PyRecipe r;
  if (is_tensor(o)) {
    r.kind = PyRecipe::Kind::Tensor;
    r.slot = s.slot_of(as_tensor_unchecked(o));
    return r;
  }
  if (plain_container(o)) {
    bool any = false;
    if (PyDict_CheckExact(o.ptr())) {
      py::dict d = py::reinterpret_borrow<py::dict>(o);
      py::list keys;
      for (auto kv : d) {
        keys.append(kv.first);
        r.items.push_back(py_recipe(s, kv.second));
        any |= r.items.back().kind != PyRecipe::Kind::Object;
      }
      if (any) {
        r.kind = PyRecipe::Kind::Dict;
        r.value = py::tuple(keys);
        return r;
      }
    } else {
      for (py::handle x : o) {
        r.items.push_back(py_recipe(s, x));
        any |= r.items.back().kind != PyRecipe::Kind::Object;
      }
      if (any) {
        r.kind = PyTuple_CheckExact(o.ptr()) ? PyRecipe::Kind::Tuple : PyRecipe::Kind::List;
        return r;
      }
    }
    r.items.clear();
  }
  r.kind = PyRecipe::Kind::Object;
  r.value = py::reinterpret_borrow<py::object>(o);
  return r;
}

py::object py_build(const PyRecipe& r, const Frame& f) {
  switch (r.kind) {
    case PyRecipe::Kind::Object: return r.value;
    case PyRecipe::Kind::Tensor:
      return py::cast(r.slot == cr::capture::kNoSlot ? Tensor() : f.slots[(size_t)r.slot]);
    case PyRecipe::Kind::Tuple: {
      py::tuple t(r.items.size());
      for (size_t i = 0; i < r.items.size(); ++i) t[i] = py_build(r.items[i], f);
      return std::move(t);
    }
    case PyRecipe::Kind::List: {
      py::list l(r.items.size());
      for (size_t i = 0; i < r.items.size(); ++i) l[i] = py_build(r.items[i], f);
      return std::move(l);
    }
    case PyRecipe::Kind::Dict: {
      py::dict d;
      py::tuple keys = py::reinterpret_borrow<py::tuple>(r.value);
      for (size_t i = 0; i < r.items.size(); ++i) d[keys[i]] = py_build(r.items[i], f);
      return std::move(d);
    }
  }
  return py::none();
}

void py_tensors(py::handle o, std::vector<Tensor>& out) {
  if (is_tensor(o)) {
    out.push_back(as_tensor_unchecked(o));
  } else if (PyTuple_Check(o.ptr()) || PyList_Check(o.ptr())) {
    for (py::handle x : o) py_tensors(x, out);
  } else if (PyDict_Check(o.ptr())) {
    for (auto kv : py::reinterpret_borrow<py::dict>(o)) py_tensors(kv.second, out);
  }
}

}  // namespace capture_wrap

namespace {
// True when the constructor was called by the user's code, directly or through chainrule's public
// tensor()/as_tensor()/from_numpy() (chainrule's own layers make legitimate constants from shapes this way).
bool called_from_user_code() {
  PyFrameObject* top = PyEval_GetFrame();
  if (top == nullptr) return false;
  py::object frame = py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(top));
  for (int i = 0; i < 3 && !frame.is_none(); ++i) {
    py::object name = frame.attr("f_globals").attr("get")("__name__", "");
    std::string mod = py::isinstance<py::str>(name) ? name.cast<std::string>() : std::string();
    if (mod != "chainrule" && mod.rfind("chainrule.", 0) != 0) return true;
    if (mod != "chainrule._tensor" && mod != "chainrule._creation" && mod != "chainrule._compose" &&
        mod != "chainrule")
      return false;
    frame = frame.attr("f_back");
  }
  return false;
}
}  // namespace

void warn_trace_constant(const char* what) {
  if (!cr::tracing() || !called_from_user_code()) return;
  std::string msg = cr::str(
      what,
      " inside a function being compiled by chainrule.compile makes a constant of the trace: every "
      "replay reuses the tensor made now. Pass changing data (a batch) as an argument of the function.");
  if (PyErr_WarnEx(PyExc_UserWarning, msg.c_str(), 1) < 0) throw py::error_already_set();
}

void register_capture(py::module_& m) {
  using cr::capture::Schedule;
  py::class_<Schedule, std::shared_ptr<Schedule>>(
      m, "_CaptureSchedule",
      "A recorded step of chainrule.compile (Note [Capture and replay]): begin(inputs), run the\n"
      "function, end(outputs); then replay(inputs) runs the recorded calls from C++.")
      .def(py::init([] { return std::make_shared<Schedule>(); }))
      .def("begin", &Schedule::begin, py::arg("inputs"),
           "Starts recording the calls of this thread; `inputs` become the input slots.")
      .def("end", &Schedule::end, py::arg("outputs"),
           "Stops recording; `outputs` are the tensors the function returned.")
      .def("abort", &Schedule::abort, "Stops recording and discards the steps.")
      .def(
          "replay",
          [](Schedule& s, const TensorList& inputs) -> py::object {
            TensorList outs;
            if (!s.replay(inputs, outs)) return py::none();
            py::list l(outs.size());
            for (size_t i = 0; i < outs.size(); ++i) l[i] = py::cast(outs[i]);
            return std::move(l);
          },
          py::arg("inputs"),
          "Runs the recorded steps on `inputs` and returns the output tensors, or None when a guard\n"
          "does not hold (the caller traces again).")
      .def_property_readonly("planned", &Schedule::planned,
                             "True when the next replay may run a plan (Note [Planned replay]).")
      .def_property_readonly("plan_calls", &Schedule::plan_calls,
                             "How many calls the plan has (0 without one).")
      .def_property_readonly(
          "plan_listing", &Schedule::plan_listing,
          "What each call of the plan runs, in order: an op (\"(direct)\" when it runs "
          "its kernel on the recorded buffers), a step or node run whole, an accumulation.")
      .def_property_readonly("plan_note", &Schedule::plan_note,
                             "Why the last recording of a plan refused, or why the last plan was dropped.")
      .def("guard_failure", &Schedule::guard_failure, py::arg("inputs"),
           "Why replay(inputs) would refuse; empty when it would run.")
      .def_property_readonly("num_steps", &Schedule::num_steps)
      .def_property_readonly("num_slots", &Schedule::num_slots)
      .def_property_readonly("num_externals", &Schedule::num_externals)
      .def_property_readonly("num_inputs", &Schedule::num_inputs)
      .def_property_readonly("recording", &Schedule::recording)
      .def_property_readonly("step_names", &Schedule::step_names)
      .def_property_readonly("num_fused_steps", &Schedule::num_fused_steps,
                             "Recorded steps merged into scalar chains (Note [Fused scalar chains]).")
      .def_property_readonly("num_fused_chains", &Schedule::num_fused_chains,
                             "Scalar chains the fused steps became.")
      .def_property_readonly("externals", &Schedule::externals)
      .def_property_readonly(
          "arena_stats",
          [](const Schedule& s) {
            const cr::ReplayArena& a = s.arena();
            return py::dict(py::arg("kept") = a.size(), py::arg("bytes") = a.bytes(),
                            py::arg("allocations") = a.allocations(), py::arg("reused") = a.reused());
          },
          "The buffers lowered replays keep for the next (Note [Replay arena]): how many and their bytes,\n"
          "and of the last lowered replay's allocations, how many there were and how many a kept buffer\n"
          "served.")
      .def_property_readonly("lowered", &Schedule::lowered,
                             "True when replays run the recorded backward without graph nodes (Note [Lowered "
                             "backward]).")
      .def_property_readonly("lowering_note", &Schedule::lowering_note,
                             "Why a recorded backward was not lowered (empty when every one was).");
  m.def("_is_tracing", [] { return cr::tracing(); }, "True while chainrule.compile traces on this thread.");
}

}  // namespace crpy
