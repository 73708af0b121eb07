// Tensor factories.
#include "bindings/common.h"
#include "ops/ops.h"

namespace crpy {

void register_creation(py::module_& m, PyTensorClass&) {
  m.def("_zeros", [](py::args shape, py::object dtype) {
    return cr::zeros(parse_shape_args(shape, "zeros"), parse_dtype(dtype, DType::Float32));
  }, py::kw_only(), py::arg("dtype") = py::none());
  m.def("_ones", [](py::args shape, py::object dtype) {
    return cr::ones(parse_shape_args(shape, "ones"), parse_dtype(dtype, DType::Float32));
  }, py::kw_only(), py::arg("dtype") = py::none());
  m.def("_empty", [](py::args shape, py::object dtype) {
    return cr::zeros(parse_shape_args(shape, "empty"), parse_dtype(dtype, DType::Float32));
  }, py::kw_only(), py::arg("dtype") = py::none());
}

}  // namespace crpy
