// Note [Storage dtypes], binding side: the engine's ops compute in bool, int64, float32 and float64;
// a call that gets an int32, float16 or bfloat16 tensor (or such a dtype) goes to a Python handler
// (chainrule._storage) that converts those operands to their compute dtype, calls the op and rounds
// the result back. _wrap_storage(fn, name) returns `fn` behind a check that costs a few type tests
// per argument, so calls without such operands run as before.
#include <deque>
#include <string>

#include "bindings/common.h"
#include "bindings/tensor_operators.h"

namespace crpy {

namespace {
PyObject* g_handler = nullptr;  // chainrule._storage._call(fn, name, args, kwargs)

bool storage_tensor(PyObject* o) {
  if (!PyObject_TypeCheck(o, tensor_type())) return false;
  auto* inst = reinterpret_cast<py::detail::instance*>(o);
  auto* impl = inst->get_value_and_holder().value_ptr<cr::TensorImpl>();
  return impl && cr::is_storage_dtype(impl->dtype_);
}

bool needs_conversion(PyObject* o) {
  if (storage_tensor(o) || is_storage_dtype_object(o)) return true;
  if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
    PyObject** items = PySequence_Fast_ITEMS(o);
    for (Py_ssize_t i = 0; i < n; ++i)
      if (storage_tensor(items[i])) return true;
  }
  return false;
}

// The storage-dtype handler's call of fn (self: as call_wrapped's).
PyObject* call_handler(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* fn = PyTuple_GET_ITEM(self, 0);
  Py_ssize_t total = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
  PyObject* targs = PyTuple_New(nargs);
  if (!targs) return nullptr;
  for (Py_ssize_t i = 0; i < nargs; ++i) {
    Py_INCREF(args[i]);
    PyTuple_SET_ITEM(targs, i, args[i]);
  }
  PyObject* kw = PyDict_New();
  if (!kw) {
    Py_DECREF(targs);
    return nullptr;
  }
  for (Py_ssize_t i = nargs; i < total; ++i)
    if (PyDict_SetItem(kw, PyTuple_GET_ITEM(kwnames, i - nargs), args[i]) < 0) {
      Py_DECREF(targs);
      Py_DECREF(kw);
      return nullptr;
    }
  PyObject* out = PyObject_CallFunctionObjArgs(g_handler, fn, PyTuple_GET_ITEM(self, 1), targs, kw, nullptr);
  Py_DECREF(targs);
  Py_DECREF(kw);
  return out;
}

// self: (fn, name) or, for an op with a registered single-tensor function, (fn, name, index)
PyObject* call_wrapped(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* fn = PyTuple_GET_ITEM(self, 0);
  Py_ssize_t total = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
  bool convert = false;
  if (g_handler)
    for (Py_ssize_t i = 0; i < total && !convert; ++i) convert = needs_conversion(args[i]);
  if (!convert) return PyObject_Vectorcall(fn, args, (size_t)nargs, kwnames);
  return call_handler(self, args, nargs, kwnames);
}

// Note [Single-tensor calls] in tensor_operators.h: the registered function when the call allows,
// the wrapped one otherwise.
PyObject* call_wrapped_single(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* result = nullptr;
  if (try_single_tensor_call((int)PyLong_AsLong(PyTuple_GET_ITEM(self, 2)), args, nargs, kwnames, &result))
    return result;
  return call_wrapped(self, args, nargs, kwnames);
}

}  // namespace

void register_storage(py::module_& m) {
  m.def(
      "_set_storage_handler",
      [](py::object handler) {
        Py_XDECREF(g_handler);
        g_handler = handler.is_none() ? nullptr : handler.release().ptr();
      },
      "Sets the function that runs ops on int32/float16/bfloat16 operands (chainrule._storage).",
      py::arg("handler"));
  m.def(
      "_wrap_storage",
      [](py::object fn, const std::string& name, bool method) -> py::object {
        // A PyCFunction points at its PyMethodDef without owning it: the definitions live until the
        // process ends, in a container reachable from this static (not leaked, for LeakSanitizer).
        struct WrappedDef {
          PyMethodDef def{};
          std::string name, doc;
        };
        static auto* defs = new std::deque<WrappedDef>();  // stable addresses; never destroyed
        WrappedDef& w = defs->emplace_back();
        w.name = name;
        w.def.ml_name = w.name.c_str();
        w.def.ml_meth = (PyCFunction)(void (*)(void))call_wrapped;
        w.def.ml_flags = METH_FASTCALL | METH_KEYWORDS;
        py::object doc = py::getattr(fn, "__doc__", py::none());
        if (!doc.is_none()) {
          w.doc = doc.cast<std::string>();
          w.def.ml_doc = w.doc.c_str();
        }
        // Note [Single-tensor calls]: an op with a registered function calls it directly when it can.
        const int single = single_tensor_call_index(name);
        if (single >= 0) w.def.ml_meth = (PyCFunction)(void (*)(void))call_wrapped_single;
        PyMethodDef* def = &w.def;
        py::tuple self =
            single >= 0 ? py::tuple(py::make_tuple(fn, name, single)) : py::tuple(py::make_tuple(fn, name));
        py::object mod = py::getattr(fn, "__module__", py::none());
        PyObject* f = PyCFunction_NewEx(def, self.ptr(), mod.ptr());
        if (!f) throw py::error_already_set();
        py::object func = py::reinterpret_steal<py::object>(f);
        if (!method) return func;
        PyObject* im = PyInstanceMethod_New(func.ptr());
        if (!im) throw py::error_already_set();
        return py::reinterpret_steal<py::object>(im);
      },
      "fn behind the storage-dtype check (Note [Storage dtypes]); method=True for a Tensor method.",
      py::arg("fn"), py::arg("name"), py::arg("method"));
}

}  // namespace crpy
