#pragma once
// Shared pieces of the binding layer: the Tensor caster, argument conversion, dtype objects.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "core/tensor.h"

namespace py = pybind11;

namespace crpy {
/// The TensorImpl holder inside a Python Tensor (or subclass) object, read from the instance as
/// pybind11 lays it out; null when `o` is not one, or not laid out that way (pybind11's own caster
/// then decides). Saves the type-table lookups of pybind11's holder caster on every argument.
const std::shared_ptr<cr::TensorImpl>* tensor_holder(PyObject* o);
/// A new reference to the Python object of a defined tensor. A tensor that nothing else holds
/// (use_count 1: every Python Tensor holds its TensorImpl, so it has no Python object yet) gets a
/// fresh one without pybind11's searches; otherwise pybind11's holder caster finds or makes it.
PyObject* tensor_to_python(const cr::Tensor& t);
}  // namespace crpy

// cr::Tensor crosses the boundary as the Python Tensor object that owns its TensorImpl. An
// undefined Tensor is returned as None; None is NOT accepted as a Tensor argument (ops would get a
// null tensor): optional tensor arguments are declared std::optional<Tensor>.
namespace pybind11 {
namespace detail {
template <>
struct type_caster<cr::Tensor> {
  PYBIND11_TYPE_CASTER(cr::Tensor, const_name("Tensor"));
  bool load(handle src, bool convert) {
    if (src.is_none()) return false;  // pybind11's holder caster would yield a null pointer
    if (const auto* h = crpy::tensor_holder(src.ptr())) {
      value = cr::Tensor(*h);
      return true;
    }
    make_caster<std::shared_ptr<cr::TensorImpl>> inner;
    if (!inner.load(src, convert)) return false;
    value = cr::Tensor(cast_op<std::shared_ptr<cr::TensorImpl>>(inner));
    return true;
  }
  static handle cast(const cr::Tensor& t, return_value_policy policy, handle parent) {
    if (!t.defined()) return none().release();
    // (a holder caster takes shared ownership whatever the policy, as tensor_to_python does)
    if (t.ptr().use_count() == 1) return crpy::tensor_to_python(t);
    return make_caster<std::shared_ptr<cr::TensorImpl>>::cast(t.ptr(), policy, parent);
  }
};
}  // namespace detail
}  // namespace pybind11

namespace crpy {

using cr::Dims;
using cr::DType;
using cr::Tensor;
using cr::TensorList;
using PyTensorClass = py::class_<cr::TensorImpl, std::shared_ptr<cr::TensorImpl>>;

/// The Python Tensor type, for fast isinstance checks.
PyTypeObject* tensor_type();
inline bool is_tensor(py::handle o) { return PyObject_TypeCheck(o.ptr(), tensor_type()); }
inline Tensor as_tensor_unchecked(py::handle o) { return py::cast<Tensor>(o); }
/// An optional tensor argument: undefined when None.
inline Tensor opt(const std::optional<Tensor>& t) { return t ? *t : Tensor(); }

/// A Python dtype object (chainrule.float32 ...) for a DType, and back. parse_dtype also takes
/// NumPy dtypes and the Python types float/int/bool; None gives `fallback`.
py::object dtype_object(DType d);
DType parse_dtype(py::handle o, DType fallback);
/// True for the chainrule.int32 / float16 / bfloat16 dtype objects (Note [Storage dtypes]).
bool is_storage_dtype_object(PyObject* o);
/// Default dtype for Python floats and floating factories (set_default_dtype).
DType default_float_dtype();
void set_default_float_dtype(DType d);
/// Accepts None, "cpu", "cpu:0" or a device object of type cpu; anything else raises, naming the op.
void check_device(py::handle device, const char* op);

/// A Tensor from an operand: a Tensor as is; a Python number as a 0-dim tensor whose dtype follows
/// `like` (PyTorch's wrapped-number rule); arrays and lists via NumPy. TypeError otherwise.
Tensor operand(py::handle o, const Tensor& like, const char* op);
/// Raises PyTorch's error when `o` is a Python bool that would be subtracted (or subtracted from):
/// operand() turns a bool into a number of the tensor's dtype, which sub would accept.
void refuse_bool_subtraction(py::handle o);
/// The first operand of a binary module function: a tensor as is; a number follows the second
/// operand's dtype when that is a tensor (cr.pow(2, x), cr.atan2(2.0, x)).
inline Tensor first_operand(py::handle a, py::handle b, const char* op) {
  if (is_tensor(a)) return as_tensor_unchecked(a);
  return operand(a, is_tensor(b) ? as_tensor_unchecked(b) : Tensor(), op);
}
/// A Tensor from arbitrary data (tensor(...) semantics); copies.
Tensor tensor_from_data(py::handle data, py::handle dtype);
/// Shares memory with a NumPy array when its dtype is supported.
Tensor from_numpy(py::handle arr);
/// A NumPy array sharing the tensor's memory.
py::object to_numpy(const Tensor& t);

/// Shape from f(2, 3), f((2, 3)), f([2, 3]) or f(torch.Size-like); ints only.
Dims parse_shape(py::handle o, const char* op);
Dims parse_shape_args(const py::args& args, const char* op);
/// dim=None / int / tuple of ints -> list (empty for None).
std::vector<int64_t> parse_dims(py::handle o, const char* op);

/// A named-tuple class like PyTorch's torch.return_types.<name> (module chainrule.return_types).
py::object return_type(const char* name, std::vector<const char*> fields);

/// Holds a Python object; the last owner drops it with the GIL held, from any thread.
std::shared_ptr<py::object> gil_safe(py::object o);

/// Makes the Tensor type take part in garbage collection (Note [Tensor and the garbage collector]).
void tensor_type_setup(PyHeapTypeObject* heap_type);
/// Points the Tensor type's tp_dealloc at its own (Note [Tensor dealloc] in register_tensor.cpp).
void install_tensor_dealloc(PyTypeObject* type);
void register_errors(py::module_& m);
void register_dtypes(py::module_& m);
void register_storage(py::module_& m);
void register_forward_ad(py::module_& m);
void register_config(py::module_& m);
void register_tensor(py::module_& m, PyTensorClass& cls);
void register_creation(py::module_& m, PyTensorClass& cls);
class OpRegistry;
void register_tensor_ops(OpRegistry& reg);
void register_elementwise(OpRegistry& reg);
void register_math(OpRegistry& reg);
void register_matrix(OpRegistry& reg);
void register_reduce(OpRegistry& reg);
void register_sort(OpRegistry& reg);
void register_shape(OpRegistry& reg);
void register_index(OpRegistry& reg);
void register_linalg(OpRegistry& reg);
void register_nn(OpRegistry& reg);
void register_norm(OpRegistry& reg);
void register_table(OpRegistry& reg);
void register_autograd(py::module_& m, PyTensorClass& cls);
void register_optim(py::module_& m, PyTensorClass& cls);

}  // namespace crpy
