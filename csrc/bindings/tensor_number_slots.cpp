// Tensor's arithmetic operators: the functions the __add__ ... methods call, and the number slots
// that reach them without pybind11's dispatch.
//
// Note [Operator number slots]
// `y * 1.0001` on a Tensor first goes through CPython's number slot nb_multiply. For a class whose
// __mul__ is a Python-level attribute, that slot is the generic one: it looks __mul__ up, calls the
// storage-dtype wrapper (Note [Storage dtypes]), which calls pybind11's dispatcher, which converts
// the arguments and finally calls the function below; the result then goes back the same way.
// For a tiny tensor that costs more than the kernel and the autograd node together.
//
// install_number_slots() therefore points the slots of the Tensor type at entry points that handle
// the common operand types themselves and call the very same functions the methods call. Python
// subclasses keep the generic slots, except those given Tensor's with install_subclass_number_slots
// (nn.Parameter and nn.Buffer, which define no operator: their operators are Tensor's methods):
//   - an exact Tensor (or such a subclass instance) of a compute dtype (bool, int64, float32,
//     float64) with another such Tensor, a Python float, int or bool, in either order;
//   - -t for such a Tensor; a @ b for two such Tensors; t += x and friends for those operands.
// Everything else (other subclasses, NumPy scalars and arrays, lists, storage dtypes, unknown types,
// and every call while a compiled step is traced, cr::tracing()) goes to the methods found in the
// type's dict when the slots were installed, following CPython's own rule for binary slots: the
// left operand's method first, then the right operand's reflected one. So results, dtypes,
// grad_fn names, errors and NotImplemented are those of the methods; the slots only skip the
// lookups and conversions in between. `Tensor.__add__(a, b)` spelled out still calls the method.
//
// A later `setattr(Tensor, "__add__", f)` makes CPython reset nb_add to its generic slot, which
// calls f: replacing a method keeps working, it just takes the slow path again.
#include "bindings/tensor_operators.h"

#include <optional>
#include <string>
#include <vector>

#include "autograd/capture.h"
#include "autograd/capture_state.h"
#include "ops/ops.h"

namespace crpy {

/// A result that nothing else holds has no Python object yet, so pybind11's search for one is
/// skipped, and the instance is laid out as pybind11 lays out a single-type instance with a small
/// holder (what its make_new_instance and init_instance do, without their two type-table lookups).
PyObject* tensor_to_python(const Tensor& t) {
  namespace pd = py::detail;
  static const pd::type_info* tinfo = pd::get_type_info(typeid(cr::TensorImpl));
  static const bool simple = tinfo && tinfo->simple_ancestors &&
                             tinfo->holder_size_in_ptrs <= pd::instance_simple_holder_in_ptrs() &&
                             pd::all_type_info(tinfo->type).size() == 1;
  if (!t.defined()) return py::none().release().ptr();
  if (!simple || t.ptr().use_count() != 1)
    return pd::make_caster<std::shared_ptr<cr::TensorImpl>>::cast(t.ptr(), py::return_value_policy::move, {})
        .ptr();
  PyObject* self = tinfo->type->tp_alloc(tinfo->type, 0);
  if (!self) throw py::error_already_set();
  auto* inst = reinterpret_cast<pd::instance*>(self);
  inst->simple_layout = true;
  inst->simple_holder_constructed = false;
  inst->simple_instance_registered = false;
  inst->owned = true;
  inst->simple_value_holder[0] = t.impl();
  pd::value_and_holder vh = inst->get_value_and_holder(tinfo);
  pd::register_instance(inst, t.impl(), tinfo);
  vh.set_instance_registered();
  new (std::addressof(vh.holder<std::shared_ptr<cr::TensorImpl>>())) std::shared_ptr<cr::TensorImpl>(t.ptr());
  vh.set_holder_constructed();
  return self;
}

// ---- the operators, as the methods define them ------------------------------------------------
// With a Python float and a floating tensor, each also tells a schedule being recorded what it
// computed, so consecutive ones can be fused (Note [Fused scalar chains] in ops/fused.cpp).
using cr::ScalarOpKind;
using cr::capture::note_scalar_op;

namespace {
/// The float value of o when it is a Python float and s is floating, else nullopt.
std::optional<double> float_operand(const Tensor& s, py::handle o) {
  if (PyFloat_Check(o.ptr()) && cr::is_floating(s.dtype())) return PyFloat_AS_DOUBLE(o.ptr());
  return std::nullopt;
}
Tensor noted(Tensor out, ScalarOpKind kind, double c, const Tensor& in) {
  note_scalar_op(kind, c, in, out);
  return out;
}
// s + c and s * c are commutative: the reflected operators share them.
Tensor add_float(const Tensor& s, double c) { return noted(cr::add_scalar(s, c), ScalarOpKind::Add, c, s); }
Tensor mul_float(const Tensor& s, double c) { return noted(cr::mul_scalar(s, c), ScalarOpKind::Mul, c, s); }
}  // namespace

Tensor tensor_add(const Tensor& s, py::handle o) {
  if (auto c = float_operand(s, o)) return add_float(s, *c);
  return cr::add(s, operand(o, s, "add"));
}
Tensor tensor_radd(const Tensor& s, py::handle o) {
  if (auto c = float_operand(s, o)) return add_float(s, *c);
  return cr::add(operand(o, s, "add"), s);
}
Tensor tensor_sub(const Tensor& s, py::handle o) {
  refuse_bool_subtraction(o);
  if (auto c = float_operand(s, o)) return add_float(s, -*c);
  return cr::sub(s, operand(o, s, "sub"));
}
Tensor tensor_rsub(const Tensor& s, py::handle o) {
  refuse_bool_subtraction(o);
  if (auto c = float_operand(s, o)) return noted(cr::rsub_scalar(s, *c), ScalarOpKind::RSub, *c, s);
  // a Python int that a double holds exactly, as the floating tensor's dtype rounds it
  if (PyLong_CheckExact(o.ptr()) && cr::is_floating(s.dtype())) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(o.ptr(), &overflow);
    if (!overflow && v >= -(1LL << 53) && v <= (1LL << 53)) return cr::rsub_scalar(s, (double)v);
  }
  return cr::sub(operand(o, s, "sub"), s);
}
Tensor tensor_mul(const Tensor& s, py::handle o) {
  if (auto c = float_operand(s, o)) return mul_float(s, *c);
  return cr::mul(s, operand(o, s, "mul"));
}
Tensor tensor_rmul(const Tensor& s, py::handle o) {
  if (auto c = float_operand(s, o)) return mul_float(s, *c);
  return cr::mul(operand(o, s, "mul"), s);
}
Tensor tensor_truediv(const Tensor& s, py::handle o) {
  Tensor out = cr::div(s, operand(o, s, "div"));
  if (auto c = float_operand(s, o)) note_scalar_op(ScalarOpKind::Div, *c, s, out);
  return out;
}
Tensor tensor_rtruediv(const Tensor& s, py::handle o) { return cr::div(operand(o, s, "div"), s); }
Tensor tensor_matmul(const Tensor& s, py::handle o) { return cr::matmul(s, operand(o, s, "matmul")); }
Tensor tensor_rmatmul(const Tensor& s, py::handle o) { return cr::matmul(operand(o, s, "matmul"), s); }
Tensor tensor_neg(const Tensor& s) {
  Tensor out = cr::neg(s);
  if (cr::is_floating(s.dtype())) note_scalar_op(ScalarOpKind::Neg, 0.0, s, out);
  return out;
}

namespace {
// Subclasses given the number slots too (install_subclass_number_slots): their operators are
// Tensor's own, so they take the same paths as an exact Tensor.
constexpr int kMaxPlainSubclasses = 8;
PyTypeObject* g_plain_subclasses[kMaxPlainSubclasses] = {};
int g_num_plain_subclasses = 0;

/// Tensor itself, or a subclass whose operators are Tensor's.
bool plain_tensor_type(PyTypeObject* t) {
  if (t == tensor_type()) return true;
  for (int i = 0; i < g_num_plain_subclasses; ++i)
    if (g_plain_subclasses[i] == t) return true;
  return false;
}
}  // namespace

const std::shared_ptr<cr::TensorImpl>* fast_tensor(PyObject* o) {
  if (!plain_tensor_type(Py_TYPE(o))) return nullptr;
  auto vh = reinterpret_cast<py::detail::instance*>(o)->get_value_and_holder();
  if (!vh.holder_constructed()) return nullptr;
  const auto& h = vh.holder<std::shared_ptr<cr::TensorImpl>>();
  if (!h || cr::is_storage_dtype(h->dtype_)) return nullptr;
  return &h;
}

namespace {

// ---- operands the slots handle themselves ----------------------------------------------------
/// A Python float, int or bool (exactly those types: NumPy scalars and int subclasses go the
/// methods' way).
bool fast_number(PyObject* o) { return PyFloat_CheckExact(o) || PyLong_CheckExact(o) || PyBool_Check(o); }

/// The result of a fast path as a new reference (null with the Python error set).
template <class F>
PyObject* run(F&& f) {
  try {
    return tensor_to_python(f());
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
}

// ---- the methods the slots fall back to ------------------------------------------------------
enum Binary { kAdd, kSub, kMul, kDiv, kMatmul, kBinaryCount };
enum Inplace { kIAdd, kISub, kIMul, kIDiv, kInplaceCount };

struct BinaryNames {
  const char* name;
  const char* rname;
};
constexpr BinaryNames kBinaryNames[kBinaryCount] = {{"__add__", "__radd__"},
                                                    {"__sub__", "__rsub__"},
                                                    {"__mul__", "__rmul__"},
                                                    {"__truediv__", "__rtruediv__"},
                                                    {"__matmul__", "__rmatmul__"}};
constexpr const char* kInplaceNames[kInplaceCount] = {"__iadd__", "__isub__", "__imul__", "__itruediv__"};

// The type's methods when the slots were installed (strong references, kept for the process).
PyObject* g_method[kBinaryCount] = {};
PyObject* g_rmethod[kBinaryCount] = {};
PyObject* g_imethod[kInplaceCount] = {};
PyObject* g_neg = nullptr;

PyObject* call_method(PyObject* method, PyObject* self, PyObject* other) {
  return PyObject_CallFunctionObjArgs(method, self, other, nullptr);
}

/// CPython's rule for a binary slot shared by both operands' type: the left operand's method when
/// it is a Tensor, then (for a right operand of another type) the right operand's reflected one.
PyObject* call_methods(Binary op, PyObject* a, PyObject* b) {
  const bool a_ours = plain_tensor_type(Py_TYPE(a)), b_ours = plain_tensor_type(Py_TYPE(b));
  if (a_ours) {
    PyObject* r = call_method(g_method[op], a, b);
    if (r != Py_NotImplemented || b_ours) return r;
    Py_DECREF(r);
  }
  if (b_ours) return call_method(g_rmethod[op], b, a);
  Py_RETURN_NOTIMPLEMENTED;
}

using TensorOp = Tensor (*)(const Tensor&, py::handle);
constexpr TensorOp kForward[kBinaryCount] = {&tensor_add, &tensor_sub, &tensor_mul, &tensor_truediv,
                                             &tensor_matmul};
constexpr TensorOp kReflected[kBinaryCount] = {&tensor_radd, &tensor_rsub, &tensor_rmul, &tensor_rtruediv,
                                               &tensor_rmatmul};

template <Binary op>
PyObject* binary_slot(PyObject* a, PyObject* b) {
  if (!cr::tracing()) {
    if (const auto* ta = fast_tensor(a)) {
      if (fast_tensor(b) || (op != kMatmul && fast_number(b)))
        return run([&] { return kForward[op](Tensor(*ta), b); });
    } else if (const auto* tb = fast_tensor(b)) {
      if (op != kMatmul && fast_number(a)) return run([&] { return kReflected[op](Tensor(*tb), a); });
    }
  }
  return call_methods(op, a, b);
}

PyObject* negative_slot(PyObject* a) {
  if (!cr::tracing())
    if (const auto* ta = fast_tensor(a)) return run([&] { return tensor_neg(Tensor(*ta)); });
  return PyObject_CallFunctionObjArgs(g_neg, a, nullptr);
}

// In-place forms, as register_elementwise.cpp's add_obj_, mul_obj_ and div_obj_ define them: a
// Python number on a floating tensor takes the scalar kernel, anything else becomes an operand.
bool number_value(PyObject* o, double& v) {
  if (PyFloat_CheckExact(o)) {
    v = PyFloat_AS_DOUBLE(o);
    return true;
  }
  int overflow = 0;
  long long i = PyLong_AsLongLongAndOverflow(o, &overflow);  // exact int or bool here
  if (overflow || (i == -1 && PyErr_Occurred())) {
    PyErr_Clear();
    return false;
  }
  v = (double)i;
  return true;
}

void inplace_op(Inplace op, const Tensor& s, PyObject* o) {
  double v;
  const bool number = !fast_tensor(o);
  if (op == kIAdd || op == kISub) {
    const double alpha = op == kIAdd ? 1.0 : -1.0;
    const char* name = op == kIAdd ? "add_" : "sub_";
    if (op == kISub) refuse_bool_subtraction(o);
    if (number && cr::is_floating(s.dtype()) && number_value(o, v)) cr::add_scalar_(s, alpha * v);
    else cr::add_(s, operand(o, s, name), alpha);
  } else if (op == kIMul) {
    if (number && cr::is_floating(s.dtype()) && number_value(o, v)) cr::mul_scalar_(s, v);
    else cr::mul_(s, operand(o, s, "mul_"));
  } else {
    cr::div_(s, operand(o, s, "div_"));
  }
}

template <Inplace op>
PyObject* inplace_slot(PyObject* a, PyObject* b) {
  if (!cr::tracing())
    if (const auto* ta = fast_tensor(a))
      if (fast_tensor(b) || fast_number(b)) {
        try {
          inplace_op(op, Tensor(*ta), b);
        } catch (...) {
          py::detail::try_translate_exceptions();
          return nullptr;
        }
        Py_INCREF(a);
        return a;
      }
  return call_method(g_imethod[op], a, b);
}

// Note [Single-tensor calls]: the registered functions, by index (a handful; looked up by name
// only when a wrapper is made).
struct SingleTensorCall {
  std::string name;
  SingleTensorFn fn;
};
std::vector<SingleTensorCall>& single_tensor_calls() {
  static auto* calls = new std::vector<SingleTensorCall>();  // never destroyed: wrappers outlive it
  return *calls;
}

PyObject* method_of(PyTypeObject* type, const char* name) {
  PyObject* m = PyDict_GetItemString(type->tp_dict, name);  // borrowed
  if (!m) throw cr::ValueError(cr::str("Tensor has no method ", name, " to take the operator from"));
  Py_INCREF(m);
  return m;
}

}  // namespace

void register_single_tensor_call(const char* name, SingleTensorFn fn) {
  auto& calls = single_tensor_calls();
  for (auto& c : calls)
    if (c.name == name) {
      c.fn = fn;
      return;
    }
  calls.push_back({name, fn});
}

int single_tensor_call_index(const std::string& name) {
  const auto& calls = single_tensor_calls();
  for (size_t i = 0; i < calls.size(); ++i)
    if (calls[i].name == name) return (int)i;
  return -1;
}

bool try_single_tensor_call(int index, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                            PyObject** result) {
  if (nargs != 1 || kwnames || cr::tracing()) return false;
  // A subclass instance too (nn.Parameter): the bound function takes it as the Tensor it is.
  const auto* t = tensor_holder(args[0]);
  if (!t || cr::is_storage_dtype((*t)->dtype_)) return false;
  const SingleTensorFn fn = single_tensor_calls()[(size_t)index].fn;
  *result = run([&] { return fn(Tensor(*t)); });
  return true;
}

namespace {
void set_number_slots(PyTypeObject* type) {
  PyNumberMethods* nb = type->tp_as_number;
  if (!nb) throw cr::ValueError("the Tensor type has no number methods");
  nb->nb_add = &binary_slot<kAdd>;
  nb->nb_subtract = &binary_slot<kSub>;
  nb->nb_multiply = &binary_slot<kMul>;
  nb->nb_true_divide = &binary_slot<kDiv>;
  nb->nb_matrix_multiply = &binary_slot<kMatmul>;
  nb->nb_negative = &negative_slot;
  nb->nb_inplace_add = &inplace_slot<kIAdd>;
  nb->nb_inplace_subtract = &inplace_slot<kISub>;
  nb->nb_inplace_multiply = &inplace_slot<kIMul>;
  nb->nb_inplace_true_divide = &inplace_slot<kIDiv>;
  PyType_Modified(type);
}

/// The operator method names the slots stand for.
std::vector<const char*> operator_names() {
  std::vector<const char*> names;
  for (const auto& b : kBinaryNames) {
    names.push_back(b.name);
    names.push_back(b.rname);
  }
  for (const char* n : kInplaceNames) names.push_back(n);
  names.push_back("__neg__");
  return names;
}
}  // namespace

void install_subclass_number_slots(py::handle subclass) {
  if (!PyType_Check(subclass.ptr()))
    throw cr::TypeError("_install_number_slots expects a subclass of Tensor");
  auto* type = reinterpret_cast<PyTypeObject*>(subclass.ptr());
  PyTypeObject* tensor = tensor_type();
  if (type == tensor || !PyType_IsSubtype(type, tensor))
    throw cr::TypeError("_install_number_slots expects a subclass of Tensor");
  if (!g_method[kAdd]) throw cr::ValueError("Tensor's number slots must be installed first");
  if (plain_tensor_type(type)) return;
  // Only a subclass that defines none of the operators (nor does a class between it and Tensor)
  // can take Tensor's slots.
  PyObject* mro = type->tp_mro;
  for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(mro); ++k) {
    auto* cls = reinterpret_cast<PyTypeObject*>(PyTuple_GET_ITEM(mro, k));
    if (cls == tensor) break;
    for (const char* name : operator_names())
      if (PyDict_GetItemString(cls->tp_dict, name))
        throw cr::ValueError(cr::str(type->tp_name, " defines ", name, ": its operators are not Tensor's"));
  }
  if (g_num_plain_subclasses == kMaxPlainSubclasses)
    throw cr::ValueError("too many Tensor subclasses with the operator slots");
  set_number_slots(type);
  g_plain_subclasses[g_num_plain_subclasses++] = type;
}

void install_number_slots() {
  PyTypeObject* type = tensor_type();
  if (!type->tp_as_number) throw cr::ValueError("the Tensor type has no number methods");
  for (int i = 0; i < kBinaryCount; ++i) {
    Py_XDECREF(g_method[i]);
    Py_XDECREF(g_rmethod[i]);
    g_method[i] = method_of(type, kBinaryNames[i].name);
    g_rmethod[i] = method_of(type, kBinaryNames[i].rname);
  }
  for (int i = 0; i < kInplaceCount; ++i) {
    Py_XDECREF(g_imethod[i]);
    g_imethod[i] = method_of(type, kInplaceNames[i]);
  }
  Py_XDECREF(g_neg);
  g_neg = method_of(type, "__neg__");
  set_number_slots(type);
}

}  // namespace crpy
