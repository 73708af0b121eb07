// Neural-network ops: activations with fused kernels, softmax family, losses, normalization.
#include "bindings/common.h"
#include "ops/ops.h"

namespace crpy {

void register_nn(py::module_&, PyTensorClass&) {}

}  // namespace crpy
