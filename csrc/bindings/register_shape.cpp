// Shape and view ops.
#include "bindings/common.h"
#include "ops/ops.h"

namespace crpy {

void register_shape(py::module_& m, PyTensorClass& cls) {
  cls.def("reshape", [](const Tensor& t, py::args shape) { return cr::reshape(t, parse_shape_args(shape, "reshape")); });
  cls.def("view", [](const Tensor& t, py::args shape) { return cr::view(t, parse_shape_args(shape, "view")); });
  cls.def("expand", [](const Tensor& t, py::args shape) { return cr::expand(t, parse_shape_args(shape, "expand")); });
  cls.def("transpose", [](const Tensor& t, int64_t d0, int64_t d1) { return cr::transpose(t, d0, d1); });
  cls.def("permute", [](const Tensor& t, py::args dims) {
    Dims d = parse_shape_args(dims, "permute");
    return cr::permute(t, d.vec());
  });
  cls.def("unsqueeze", [](const Tensor& t, int64_t d) { return cr::unsqueeze(t, d); });
  m.def("reshape", [](const Tensor& t, py::handle shape) { return cr::reshape(t, parse_shape(shape, "reshape")); });
  m.def("transpose", [](const Tensor& t, int64_t d0, int64_t d1) { return cr::transpose(t, d0, d1); });
  m.def("permute", [](const Tensor& t, py::handle dims) { return cr::permute(t, parse_shape(dims, "permute").vec()); });
  m.def("unsqueeze", [](const Tensor& t, int64_t d) { return cr::unsqueeze(t, d); });
}

}  // namespace crpy
