// Reductions.
#include "bindings/common.h"
#include "ops/ops.h"

namespace crpy {

void register_reduce(py::module_& m, PyTensorClass& cls) {
  auto sum = [](const Tensor& t, py::object dim, bool keepdim, py::object dtype) {
    Tensor x = dtype.is_none() ? t : cr::to_dtype(t, parse_dtype(dtype, t.dtype()));
    if (dim.is_none()) return cr::sum(x, {}, false);
    return cr::sum(x, parse_dims(dim, "sum"), keepdim);
  };
  m.def("sum", sum, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
        py::arg("dtype") = py::none());
  cls.def("sum", sum, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("dtype") = py::none());
}

}  // namespace crpy
