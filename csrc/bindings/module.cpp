// Wires the extension module: one register_<concept> per file, called in dependency order.
#include "bindings/common.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "chainrule's C++ engine";
  auto cls = crpy::PyTensorClass(m, "Tensor");
  crpy::register_errors(m);
  crpy::register_dtypes(m);
  crpy::register_config(m);
  crpy::register_tensor(m, cls);
  crpy::register_creation(m, cls);
  crpy::register_elementwise(m, cls);
  crpy::register_reduce(m, cls);
  crpy::register_shape(m, cls);
  crpy::register_index(m, cls);
  crpy::register_linalg(m, cls);
  crpy::register_nn(m, cls);
  crpy::register_norm(m, cls);
  crpy::register_autograd(m, cls);
  crpy::register_optim(m, cls);
}
