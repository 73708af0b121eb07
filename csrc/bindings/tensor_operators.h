#pragma once
// The arithmetic operators of Tensor (t + x, x * t, t += x, -t, a @ b): one function per Python
// method, shared by the methods bound in register_tensor.cpp and by the number slots of
// tensor_number_slots.cpp (Note [Operator number slots]), so both take the same path into the
// engine by construction.
#include <string>

#include "bindings/common.h"

namespace crpy {

// self <op> other (the __op__ methods) and other <op> self (the __rop__ methods): `other` is a
// Tensor, a Python number, a NumPy scalar or array, or a list (as `operand` takes them).
Tensor tensor_add(const Tensor& self, py::handle other);
Tensor tensor_radd(const Tensor& self, py::handle other);
Tensor tensor_sub(const Tensor& self, py::handle other);
Tensor tensor_rsub(const Tensor& self, py::handle other);
Tensor tensor_mul(const Tensor& self, py::handle other);
Tensor tensor_rmul(const Tensor& self, py::handle other);
Tensor tensor_truediv(const Tensor& self, py::handle other);
Tensor tensor_rtruediv(const Tensor& self, py::handle other);
Tensor tensor_matmul(const Tensor& self, py::handle other);
Tensor tensor_rmatmul(const Tensor& self, py::handle other);
Tensor tensor_neg(const Tensor& self);

/// The TensorImpl holder of an exact Tensor (not a subclass) of a compute dtype; null otherwise.
const std::shared_ptr<cr::TensorImpl>* fast_tensor(PyObject* o);

// Note [Single-tensor calls]
// `loss.sum()`, `h.relu()` and `F.relu(h)` reach their op through the storage-dtype wrapper
// (Note [Storage dtypes]) and pybind11's dispatcher, which parses the optional arguments the call
// does not pass: for a tiny tensor, more than the op. An op bound with one tensor parameter, or
// whose call without further arguments means one function of the tensor (sum and mean over every
// element), registers that function here under its Python name; the wrapper of that name then
// calls it directly when it gets exactly one positional argument, a Tensor (or an instance of a
// subclass, such as nn.Parameter) of a compute dtype, and no compiled step is being traced
// (cr::tracing()). Every other call takes the bound
// function as before, so results, errors and recorded steps are the same either way.
using SingleTensorFn = Tensor (*)(const Tensor&);
void register_single_tensor_call(const char* name, SingleTensorFn fn);
/// The index of name's function among those registered, or -1.
int single_tensor_call_index(const std::string& name);
/// Whether the call is one the note above describes; if so, *result is registered function `index`
/// on args[0] (a new reference, or null with the Python error set). False leaves *result alone.
bool try_single_tensor_call(int index, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                            PyObject** result);

/// Points the Tensor type's number slots (nb_add, nb_multiply, ...) at entry points that call the
/// functions above directly (Note [Operator number slots]). Called once, after every Python-side
/// wrapper of the operator methods has been installed.
void install_number_slots();
/// The same slots for a subclass of Tensor that defines none of the operator methods (nn.Parameter,
/// nn.Buffer), after install_number_slots(): its instances then take the exact Tensor's paths.
/// Raises for a type that is not such a subclass.
void install_subclass_number_slots(py::handle subclass);

}  // namespace crpy
