// Elementwise ops beyond the arithmetic operators bound with the Tensor class.
#include "bindings/common.h"
#include "ops/ops.h"

namespace crpy {

void register_elementwise(py::module_& m, PyTensorClass& cls) {
  m.def("add", [](py::handle a, py::handle b) {
    Tensor ta = operand(a, Tensor(), "add");
    return cr::add(ta, operand(b, ta, "add"));
  });
  m.def("sub", [](py::handle a, py::handle b) {
    Tensor ta = operand(a, Tensor(), "sub");
    return cr::sub(ta, operand(b, ta, "sub"));
  });
  m.def("mul", [](py::handle a, py::handle b) {
    Tensor ta = operand(a, Tensor(), "mul");
    return cr::mul(ta, operand(b, ta, "mul"));
  });
  m.def("div", [](py::handle a, py::handle b) {
    Tensor ta = operand(a, Tensor(), "div");
    return cr::div(ta, operand(b, ta, "div"));
  });
  m.def("neg", [](const Tensor& a) { return cr::neg(a); });
  (void)cls;
}

}  // namespace crpy
