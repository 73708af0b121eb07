// Note [Guard keys of compiled functions]
// Each call of a chainrule.compile function keys its cache on the Python state the function reads
// (python/chainrule/_compile.py, _Reads): its closure cells, the globals it names, its bound self.
// Building that key as nested Python tuples cost about 3 µs a call for micrograd's moons step, a
// tenth of the whole compiled step. Here the same key is written as one bytes object: each value
// appends a tag and its payload, so two keys are equal exactly when every value they were made of
// keys equal:
//   - a Python number, bool, None or string (or an instance of a subclass): its type and its value,
//     bit for bit (so 0.0 and -0.0 are different constants);
//   - a tensor: its identity;
//   - a list or tuple whose first item is a tensor: the identity of every item;
//   - an optimizer: its identity, the size of its state, and for every parameter group each
//     hyperparameter's name and value and the identities of its parameters;
//   - a module: its identity, and for it and every submodule (each once, in the order of
//     Module.modules()) the training flag and the identities of its parameters;
//   - anything else: nothing but a tag (changes inside such an object are not guarded).
// A value that has no exact byte form (an integer beyond 64 bits, a hyperparameter that is a tuple
// or another object) is kept as the object itself: the key is then (bytes, objects...).
#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "autograd/capture.h"
#include "bindings/common.h"
#include "core/grad_mode.h"

namespace crpy {
namespace {

enum class Kind : uint8_t { Other, Scalar, Tensor, Optimizer, Module, Sequence };

struct GuardTypes {
  py::object optimizer, module;  // chainrule.optim.Optimizer, chainrule.nn.Module
};
GuardTypes& guard_types() {
  static GuardTypes* t = new GuardTypes();  // never destroyed: no Python object is released at exit
  return *t;
}

/// An attribute name as an interned Python string, made once.
#define CR_ATTR(name)                                             \
  ([]() -> py::handle {                                           \
    static PyObject* const s = PyUnicode_InternFromString(#name); \
    return s;                                                     \
  }())

bool is_subtype(PyTypeObject* t, const py::object& base) {
  return base && PyType_Check(base.ptr()) && PyType_IsSubtype(t, (PyTypeObject*)base.ptr());
}

Kind kind_of(PyTypeObject* t) {
  if (t == &PyFloat_Type || t == &PyLong_Type || t == &PyBool_Type || t == &PyUnicode_Type ||
      t == Py_TYPE(Py_None))
    return Kind::Scalar;
  if (t == tensor_type()) return Kind::Tensor;
  if (t == &PyList_Type || t == &PyTuple_Type) return Kind::Sequence;
  // Per thread, so that no lock is taken; each type seen is kept alive, so that its address is
  // not reused by another type.
  thread_local std::unordered_map<PyTypeObject*, Kind> cache;
  auto it = cache.find(t);
  if (it != cache.end()) return it->second;
  // (the exact types were answered above; these are their subclasses and the rest)
  Kind k = Kind::Other;
  if (PyType_IsSubtype(t, &PyLong_Type) || PyType_IsSubtype(t, &PyFloat_Type) ||
      PyType_IsSubtype(t, &PyUnicode_Type) || PyType_IsSubtype(t, &PyComplex_Type))
    k = Kind::Scalar;
  else if (PyType_IsSubtype(t, tensor_type())) k = Kind::Tensor;
  else if (is_subtype(t, guard_types().optimizer)) k = Kind::Optimizer;
  else if (is_subtype(t, guard_types().module)) k = Kind::Module;
  Py_INCREF((PyObject*)t);
  cache.emplace(t, k);
  return k;
}

class KeyWriter {
 public:
  KeyWriter() = default;
  KeyWriter(const KeyWriter&) = delete;  // (buf_ may point into the writer itself)
  KeyWriter& operator=(const KeyWriter&) = delete;

  void value(PyObject* v) {
    switch (kind_of(Py_TYPE(v))) {
      case Kind::Scalar: return scalar(v);
      case Kind::Tensor: return tagged('T', v);
      case Kind::Sequence: return sequence(v);
      case Kind::Optimizer: return optimizer(v);
      case Kind::Module: return module(v);
      case Kind::Other: tag('N'); return;
    }
  }
  /// Whether the key written equals `key`, a key finish() made before (or -1 when comparing
  /// raised, with the error cleared): its bytes compared in place when no object was kept.
  int matches(PyObject* key) {
    if (side_.empty() && PyBytes_CheckExact(key))
      return (size_t)PyBytes_GET_SIZE(key) == size_ && std::memcmp(PyBytes_AS_STRING(key), buf_, size_) == 0;
    py::object mine = finish();
    int r = PyObject_RichCompareBool(mine.ptr(), key, Py_EQ);
    if (r < 0) PyErr_Clear();
    return r;
  }
  /// The key: the bytes alone, or a tuple of the bytes and the objects kept as themselves.
  py::object finish() {
    py::bytes b(buf_, size_);
    if (side_.empty()) return std::move(b);
    py::tuple t(side_.size() + 1);
    t[0] = std::move(b);
    for (size_t i = 0; i < side_.size(); ++i) t[i + 1] = std::move(side_[i]);
    return std::move(t);
  }

 private:
  // (tags and words: stores of a fixed size, inlined)
  void tag(char c) {
    if (size_ + 1 > capacity_) [[unlikely]]
      grow(size_ + 1);
    buf_[size_++] = c;
  }
  void word(uint64_t w) {
    if (size_ + sizeof w > capacity_) [[unlikely]]
      grow(size_ + sizeof w);
    std::memcpy(buf_ + size_, &w, sizeof w);
    size_ += sizeof w;
  }
  void put(const void* p, size_t n) {
    if (size_ + n > capacity_) [[unlikely]]
      grow(size_ + n);
    std::memcpy(buf_ + size_, p, n);
    size_ += n;
  }
  void grow(size_t need) {
    std::string bigger(std::max(2 * capacity_, need), '\0');
    std::memcpy(bigger.data(), buf_, size_);
    heap_ = std::move(bigger);
    buf_ = heap_.data();
    capacity_ = heap_.size();
  }
  void tagged(char c, const void* p) {
    tag(c);
    word((uint64_t)(uintptr_t)p);
  }
  void object(PyObject* v) {  // kept as itself: compared by ==, as the Python key did
    tag('O');
    side_.push_back(py::reinterpret_borrow<py::object>(v));
  }
  void scalar(PyObject* v) {
    tagged('S', Py_TYPE(v));
    if (v == Py_None) return;
    // (the exact types first: PyComplex_Check walks the type's bases)
    if (PyUnicode_CheckExact(v)) return text(v);
    if (PyFloat_Check(v)) {
      double d = PyFloat_AS_DOUBLE(v);
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      return word(bits);
    }
    if (PyLong_Check(v)) {
      int overflow = 0;
      long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
      if (overflow != 0) return object(v);
      if (x == -1 && PyErr_Occurred()) throw py::error_already_set();
      return word((uint64_t)x);
    }
    if (PyUnicode_Check(v)) return text(v);
    if (PyComplex_Check(v)) {
      Py_complex c = PyComplex_AsCComplex(v);
      uint64_t bits[2];
      std::memcpy(bits, &c, sizeof bits);
      word(bits[0]);
      return word(bits[1]);
    }
    object(v);  // (kind_of names no other scalar type)
  }
  void text(PyObject* v) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(v, &n);
    if (s == nullptr) {  // a lone surrogate: no UTF-8 form
      PyErr_Clear();
      return object(v);
    }
    word((uint64_t)n);
    put(s, (size_t)n);
  }
  /// The items of a list or tuple by identity (a list read by index: no iterator object).
  void identities(PyObject* seq) {
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    word((uint64_t)n);
    PyObject** items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; ++i) word((uint64_t)(uintptr_t)items[i]);
  }
  void sequence(PyObject* v) {
    // (the items are read as identities; only the first is looked into)
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
    if (n == 0) return tag('N');
    auto first = py::reinterpret_borrow<py::object>(PySequence_Fast_GET_ITEM(v, 0));
    if (!is_tensor(first)) return tag('N');
    tag('L');
    identities(v);
  }
  void optimizer(PyObject* v) {
    py::handle opt(v);
    tagged('P', v);
    word((uint64_t)py::len(opt.attr(CR_ATTR(state))));
    py::object groups = opt.attr(CR_ATTR(param_groups));
    if (PyList_CheckExact(groups.ptr())) {
      // (by index; a group is held while it is keyed, in case a value's key code drops it)
      for (Py_ssize_t i = 0; i < PyList_GET_SIZE(groups.ptr()); ++i)
        param_group(py::reinterpret_borrow<py::object>(PyList_GET_ITEM(groups.ptr(), i)));
    } else {
      for (py::handle group : groups) param_group(py::reinterpret_borrow<py::object>(group));
    }
  }
  void param_group(const py::object& group) {
    if (!PyDict_Check(group.ptr())) return object(group.ptr());
    tag('g');
    static PyObject* const params_name = CR_ATTR(params).ptr();
    PyObject *name_ref, *value_ref;
    Py_ssize_t pos = 0;
    while (PyDict_Next(group.ptr(), &pos, &name_ref, &value_ref)) {
      // (held while keyed: a subclass's conversion may run Python code that changes the group)
      const auto name_obj = py::reinterpret_borrow<py::object>(name_ref);
      const auto value_obj = py::reinterpret_borrow<py::object>(value_ref);
      PyObject* const name = name_obj.ptr();
      PyObject* const value = value_obj.ptr();
      scalar(name);
      // (two interned strings are equal only when they are the same object)
      const bool is_params =
          name == params_name ||
          (PyUnicode_Check(name) && !(PyUnicode_CheckExact(name) && PyUnicode_CHECK_INTERNED(name)) &&
           PyUnicode_CompareWithASCIIString(name, "params") == 0);
      if (is_params) {
        tag('p');
        if (PyList_CheckExact(value) || PyTuple_CheckExact(value)) {
          identities(value);
        } else {
          py::handle ps(value);
          word((uint64_t)py::len(ps));
          for (py::handle p : ps) word((uint64_t)(uintptr_t)p.ptr());
        }
      } else if (kind_of(Py_TYPE(value)) == Kind::Scalar) {
        scalar(value);
      } else if (PyObject_TypeCheck(value, tensor_type())) {  // a tensor learning rate: by identity
        tagged('T', value);
      } else {
        object(value);
      }
    }
  }
  void module(PyObject* v) {
    // Module.modules(): this module, then each child's modules depth first, each module once
    // (iterative: a deeply nested model cannot exhaust the C++ stack)
    tagged('M', v);
    std::unordered_set<PyObject*> seen;
    std::vector<py::object> todo{py::reinterpret_borrow<py::object>(v)};
    while (!todo.empty()) {
      py::object mod = std::move(todo.back());
      todo.pop_back();
      if (!seen.insert(mod.ptr()).second) {
        tagged('r', mod.ptr());  // met again: only where
        continue;
      }
      tagged('m', mod.ptr());
      tag(py::bool_(mod.attr(CR_ATTR(training))) ? 1 : 0);
      py::dict params = mod.attr(CR_ATTR(_parameters));
      word((uint64_t)params.size());
      for (auto kv : params) word((uint64_t)(uintptr_t)kv.second.ptr());
      py::dict children = mod.attr(CR_ATTR(_modules));
      const size_t first = todo.size();
      for (auto kv : children)
        if (!kv.second.is_none()) todo.push_back(py::reinterpret_borrow<py::object>(kv.second));
      word((uint64_t)(todo.size() - first));  // with the order above, the key tells the tree apart
      std::reverse(todo.begin() + (std::ptrdiff_t)first, todo.end());
    }
  }

  // The key is the first size_ bytes of buf_: the writer's own array (no allocation for a key of
  // up to 1 KiB), or heap_ once it outgrew it.
  char inline_[1024];
  char* buf_ = inline_;
  size_t capacity_ = sizeof inline_;
  std::string heap_;
  size_t size_ = 0;
  std::vector<py::object> side_;
};

// The key of what a compiled function reads: the contents of its closure cells, of its globals
// ((dict, name) pairs) and of its objects and their __dict__ values.
void write_reads(KeyWriter& w, const py::list& cells, const py::list& globals, const py::list& objects) {
  for (py::handle c : cells) {
    if (!PyCell_Check(c.ptr())) throw py::type_error("_guard_key: cells must be closure cells");
    // a new reference: another thread may set the cell meanwhile (free-threaded Python)
    auto v = py::reinterpret_steal<py::object>(PyCell_Get(c.ptr()));
    w.value(v ? v.ptr() : Py_None);  // an empty cell keys as None
  }
  for (py::handle g : globals) {
    if (!PyTuple_Check(g.ptr()) || PyTuple_GET_SIZE(g.ptr()) != 2 ||
        !PyDict_Check(PyTuple_GET_ITEM(g.ptr(), 0)))
      throw py::type_error("_guard_key: globals must be (dict, name) pairs");
    PyObject* d = PyTuple_GET_ITEM(g.ptr(), 0);
    PyObject* name = PyTuple_GET_ITEM(g.ptr(), 1);
    py::object v;
    if (PyDict_CheckExact(d) && PyUnicode_CheckExact(name)) {  // (no bound method made per call)
      v = py::reinterpret_borrow<py::object>(PyDict_GetItemWithError(d, name));
      if (!v && PyErr_Occurred()) throw py::error_already_set();
    } else {
      v = py::reinterpret_borrow<py::dict>(d).attr(CR_ATTR(get))(py::handle(name));
    }
    w.value(v ? v.ptr() : Py_None);  // a missing name keys as None, as dict.get gives
  }
  for (py::handle o : objects) {
    w.value(o.ptr());
    py::object d = py::getattr(o, CR_ATTR(__dict__), py::none());
    if (PyDict_Check(d.ptr()))
      for (auto kv : py::reinterpret_borrow<py::dict>(d)) w.value(kv.second.ptr());
  }
}

// Note [Fast replay]
// A training loop calls its compiled step with no arguments and the same guard key every time.
// CompiledFunction (python/chainrule/_compile.py) then hands the call to a _FastReplay made from
// its last replay: one C++ call that writes the key of the function's reads, compares it in place
// with the last one, and replays that schedule. Anything else (a changed key, a guard the schedule
// refuses, tracing) answers `miss` and the Python path runs as before. For micrograd's moons step
// the Python path around a replay took about 2.2 µs.
class FastReplay {
 public:
  FastReplay(py::bytes key, bool grad_enabled, std::shared_ptr<cr::capture::Schedule> schedule,
             bool returns_tensor, py::object miss)
      : key_(std::move(key)), grad_enabled_(grad_enabled), schedule_(std::move(schedule)),
        returns_tensor_(returns_tensor), miss_(std::move(miss)) {}

  // The function's reads come with each call, not kept here: an object the function reads may
  // hold the compiled function itself, and a cycle through this object would never be collected.
  py::object operator()(const py::list& cells, const py::list& globals, const py::list& objects) {
    if (cr::tracing() || cr::GradMode::is_enabled() != grad_enabled_) return miss_;
    KeyWriter w;
    write_reads(w, cells, globals, objects);
    if (w.matches(key_.ptr()) != 1) return miss_;
    cr::TensorList outs;
    if (!schedule_->replay({}, outs)) return miss_;
    ++replays_;
    if (!returns_tensor_) return py::none();
    return py::cast(outs.at(0));
  }

 private:
  py::bytes key_;
  bool grad_enabled_;
  std::shared_ptr<cr::capture::Schedule> schedule_;
  bool returns_tensor_;
  py::object miss_;  // a module-level sentinel of _compile.py

 public:
  const py::object& miss() const { return miss_; }
  size_t replays_ = 0;  // calls it replayed
};

// Note [Compiled function calls]
// CompiledFunction (python/chainrule/_compile.py) derives from this type, whose tp_call hands a
// call without arguments straight to the fast replay it holds (Note [Fast replay]): no Python frame
// for CompiledFunction.__call__ (about 0.3 µs of micrograd's 6 µs compiled moons step). Any other
// call, or a miss, goes to the instance's Python method `_call`. The type takes part in garbage
// collection: what the function reads may hold the compiled function itself.
struct CompiledBase {
  PyObject_HEAD PyObject* fast;        // a _FastReplay, or null
  FastReplay* replay;    // its C++ object
  PyObject* read_lists;  // (cells, globals, objects), or null
};

int compiled_traverse(PyObject* self, visitproc visit, void* arg) {
  auto* o = reinterpret_cast<CompiledBase*>(self);
  Py_VISIT(o->fast);
  Py_VISIT(o->read_lists);
  return 0;
}

int compiled_clear(PyObject* self) {
  auto* o = reinterpret_cast<CompiledBase*>(self);
  o->replay = nullptr;
  Py_CLEAR(o->fast);
  Py_CLEAR(o->read_lists);
  return 0;
}

void compiled_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  compiled_clear(self);
  Py_TYPE(self)->tp_free(self);
}

// The fields are read and written under the object's critical section where there is no GIL
// (free-threaded CPython: another thread may set _fast while a call reads it); with the GIL these
// are plain reads and writes.
#ifdef Py_GIL_DISABLED
#define CR_LOCKED(self, ...)         \
  do {                               \
    Py_BEGIN_CRITICAL_SECTION(self); \
    __VA_ARGS__;                     \
    Py_END_CRITICAL_SECTION();       \
  } while (0)
#else
#define CR_LOCKED(self, ...) \
  do { __VA_ARGS__; } while (0)
#endif

PyObject* compiled_call(PyObject* self, PyObject* args, PyObject* kwargs) {
  auto* o = reinterpret_cast<CompiledBase*>(self);
  if (PyTuple_GET_SIZE(args) == 0 && (kwargs == nullptr || PyDict_GET_SIZE(kwargs) == 0)) {
    // (both held while the replay runs: a hook it runs may reset the compiled function)
    py::object lists, fast;
    FastReplay* replay = nullptr;
    CR_LOCKED(
        self, if (o->replay != nullptr && o->read_lists != nullptr) {
          lists = py::reinterpret_borrow<py::object>(o->read_lists);
          fast = py::reinterpret_borrow<py::object>(o->fast);
          replay = o->replay;
        });
    if (replay != nullptr) {
      py::object out;
      try {
        out = (*replay)(py::reinterpret_borrow<py::list>(PyTuple_GET_ITEM(lists.ptr(), 0)),
                        py::reinterpret_borrow<py::list>(PyTuple_GET_ITEM(lists.ptr(), 1)),
                        py::reinterpret_borrow<py::list>(PyTuple_GET_ITEM(lists.ptr(), 2)));
      } catch (...) {
        py::detail::try_translate_exceptions();
        return nullptr;
      }
      if (!out.is(replay->miss())) return out.release().ptr();
    }
  }
  PyObject* method = PyObject_GetAttr(self, CR_ATTR(_call).ptr());
  if (method == nullptr) return nullptr;
  PyObject* result = PyObject_Call(method, args, kwargs);
  Py_DECREF(method);
  return result;
}

/// A field of the object as a new reference (None when unset).
template <PyObject* CompiledBase::* Field>
PyObject* compiled_get(PyObject* self, void*) {
  auto* o = reinterpret_cast<CompiledBase*>(self);
  PyObject* v = nullptr;
  CR_LOCKED(self, v = o->*Field != nullptr ? o->*Field : Py_None; Py_INCREF(v));
  return v;
}

int compiled_set_fast(PyObject* self, PyObject* value, void*) {
  auto* o = reinterpret_cast<CompiledBase*>(self);
  FastReplay* replay = nullptr;
  if (value != nullptr && value != Py_None) {
    try {
      replay = py::cast<FastReplay*>(py::handle(value));
    } catch (const py::cast_error&) {
      PyErr_SetString(PyExc_TypeError, "_fast must be a _FastReplay or None");
      return -1;
    }
  }
  PyObject* old = nullptr;
  if (replay != nullptr) Py_INCREF(value);
  CR_LOCKED(self, old = o->fast; o->fast = replay != nullptr ? value : nullptr; o->replay = replay);
  Py_XDECREF(old);
  return 0;
}

int compiled_set_lists(PyObject* self, PyObject* value, void*) {
  auto* o = reinterpret_cast<CompiledBase*>(self);
  if (value != nullptr && value != Py_None) {
    if (!PyTuple_CheckExact(value) || PyTuple_GET_SIZE(value) != 3 ||
        !PyList_Check(PyTuple_GET_ITEM(value, 0)) || !PyList_Check(PyTuple_GET_ITEM(value, 1)) ||
        !PyList_Check(PyTuple_GET_ITEM(value, 2))) {
      PyErr_SetString(PyExc_TypeError, "_read_lists must be a tuple of three lists or None");
      return -1;
    }
    Py_INCREF(value);
  } else {
    value = nullptr;
  }
  PyObject* old = nullptr;
  CR_LOCKED(self, old = o->read_lists; o->read_lists = value);
  Py_XDECREF(old);
  return 0;
}

PyGetSetDef compiled_getset[] = {
    {"_fast", compiled_get<&CompiledBase::fast>, compiled_set_fast,
     "The replay of the last call when it took no arguments (a _FastReplay), or None.", nullptr},
    {"_read_lists", compiled_get<&CompiledBase::read_lists>, compiled_set_lists,
     "The function's reads handed to the fast replay: (cells, globals, objects), or None.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyTypeObject* compiled_base_type() {
  static PyTypeObject t = [] {
    PyTypeObject x{PyVarObject_HEAD_INIT(nullptr, 0)};
    x.tp_name = "chainrule._core._CompiledBase";
    x.tp_basicsize = sizeof(CompiledBase);
    x.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC;
    x.tp_doc =
        "Base of chainrule's compiled functions: calls without arguments replay from C++ "
        "(Note [Compiled function calls]).";
    x.tp_traverse = compiled_traverse;
    x.tp_clear = compiled_clear;
    x.tp_dealloc = compiled_dealloc;
    x.tp_call = compiled_call;
    x.tp_getset = compiled_getset;
    x.tp_new = PyType_GenericNew;
    return x;
  }();
  return &t;
}
}  // namespace

void register_guard_key(py::module_& m) {
  py::class_<FastReplay>(
      m, "_FastReplay",
      "The replay of a compiled function's last call, when it is called again the same way "
      "(Note [Fast replay]).")
      .def(py::init<py::bytes, bool, std::shared_ptr<cr::capture::Schedule>, bool, py::object>(),
           py::arg("key"), py::arg("grad_enabled"), py::arg("schedule"), py::arg("returns_tensor"),
           py::arg("miss"))
      .def("__call__", &FastReplay::operator(), py::arg("cells"), py::arg("globals"), py::arg("objects"),
           "The step's result, or `miss` when the key, grad mode or the schedule's guards differ.")
      .def_readonly("replays", &FastReplay::replays_, "How many calls it replayed.");
  PyTypeObject* base = compiled_base_type();
  if (PyType_Ready(base) < 0) throw py::error_already_set();
  m.add_object("_CompiledBase", py::handle((PyObject*)base));
  m.def(
      "_set_guard_types",
      [](py::object optimizer, py::object module) {
        guard_types().optimizer = std::move(optimizer);
        guard_types().module = std::move(module);
      },
      py::arg("optimizer"), py::arg("module"),
      "Names the optimizer and module base classes that _guard_key keys by their state.");
  m.def(
      "_guard_key",
      [](const py::list& cells, const py::list& globals, const py::list& objects, const py::tuple& values) {
        KeyWriter w;
        write_reads(w, cells, globals, objects);
        for (py::handle v : values) w.value(v.ptr());
        return w.finish();
      },
      py::arg("cells"), py::arg("globals"), py::arg("objects"), py::arg("values") = py::tuple(),
      "The guard key of chainrule.compile's reads (Note [Guard keys of compiled functions]): the\n"
      "contents of `cells` (closure cells), of `globals` ((dict, name) pairs), of `objects` and their\n"
      "__dict__ values, and `values`, as bytes (with the objects it keeps as themselves: a tuple).");
}

}  // namespace crpy
