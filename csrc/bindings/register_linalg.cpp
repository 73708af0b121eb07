// Matrix products.
#include "bindings/common.h"
#include "ops/ops.h"

namespace crpy {

void register_linalg(py::module_& m, PyTensorClass& cls) {
  m.def("matmul", [](const Tensor& a, const Tensor& b) { return cr::matmul(a, b); });
  cls.def("matmul", [](const Tensor& a, const Tensor& b) { return cr::matmul(a, b); });
}

}  // namespace crpy
