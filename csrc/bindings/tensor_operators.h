#pragma once
// The arithmetic operators of Tensor (t + x, x * t, t += x, -t, a @ b): one function per Python
// method, shared by the methods bound in register_tensor.cpp and by the number slots of
// tensor_number_slots.cpp (Note [Operator number slots]), so both take the same path into the
// engine by construction.
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

/// Points the Tensor type's number slots (nb_add, nb_multiply, ...) at entry points that call the
/// functions above directly (Note [Operator number slots]). Called once, after every Python-side
/// wrapper of the operator methods has been installed.
void install_number_slots();

}  // namespace crpy
