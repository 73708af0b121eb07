// Matrix products.
#include "bindings/op_registry.h"
#include "ops/ops.h"

namespace crpy {

void register_linalg(OpRegistry& reg) {
  reg.op(
      "matmul", kFunction | kMethod, [](const Tensor& a, const Tensor& b) { return cr::matmul(a, b); },
      "matmul(input, other) -> Tensor\n\nMatrix product with NumPy's rules for 1-d and batched operands.",
      py::arg("input"), py::arg("other"));
}

}  // namespace crpy
