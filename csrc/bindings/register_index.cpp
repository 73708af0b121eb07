// Indexing: __getitem__, __setitem__, gather, index_select.
#include "bindings/common.h"
#include "ops/ops.h"

namespace crpy {

void register_index(py::module_&, PyTensorClass&) {}

}  // namespace crpy
