// Reductions.
#include <cmath>

#include "bindings/common.h"
#include "ops/ops.h"

namespace crpy {

namespace {

// PyTorch's torch.return_types.max / min: a namedtuple (values, indices).
py::object return_type(const char* name) {
  py::object nt = py::module_::import("collections").attr("namedtuple")(name, py::make_tuple("values", "indices"));
  nt.attr("__module__") = "chainrule.return_types";
  return nt;
}

DType float_dtype_arg(const Tensor& t, py::handle dtype) { return parse_dtype(dtype, t.dtype()); }

Tensor with_dtype(const Tensor& t, py::handle dtype) {
  return dtype.is_none() ? t : cr::to_dtype(t, float_dtype_arg(t, dtype));
}

double parse_p(py::handle p) {
  if (p.is_none()) return 2.0;
  if (py::isinstance<py::str>(p)) {
    std::string s = p.cast<std::string>();
    if (s == "fro") return 2.0;
    throw cr::ValueError(cr::str("norm: p='", s, "' is not supported (use 'fro' or a number; 'nuc' is not implemented)"));
  }
  if (PyFloat_Check(p.ptr()) || PyLong_Check(p.ptr())) return p.cast<double>();
  throw cr::TypeError("norm: p must be a number, float('inf'), or 'fro'");
}

// var/std accept (dim, unbiased, keepdim) and PyTorch's newer correction= keyword; a bool in the
// dim slot is the old var(input, unbiased) overload.
double correction_of(py::handle& dim, py::handle unbiased, py::handle correction, const char* op) {
  if (PyBool_Check(dim.ptr())) {
    if (!unbiased.is_none()) throw cr::TypeError(cr::str(op, ": unbiased given twice"));
    unbiased = dim;
    dim = py::none();
  }
  if (!correction.is_none()) {
    if (!unbiased.is_none()) throw cr::TypeError(cr::str(op, ": pass either unbiased or correction, not both"));
    return correction.cast<double>();
  }
  if (unbiased.is_none()) return 1.0;
  return unbiased.cast<bool>() ? 1.0 : 0.0;
}

void reject_tensor_dim(py::handle dim, const char* op, const char* other) {
  if (is_tensor(dim))
    throw cr::TypeError(cr::str(op, "(input, other) with a tensor second argument is the elementwise ", other,
                                "; use chainrule.", other, "(input, other)"));
}

}  // namespace

void register_reduce(py::module_& m, PyTensorClass& cls) {
  auto sum = [](const Tensor& t, py::object dim, bool keepdim, py::object dtype) {
    Tensor x = with_dtype(t, dtype);
    if (dim.is_none()) return cr::sum(x, {}, false);
    return cr::sum(x, parse_dims(dim, "sum"), keepdim);
  };
  m.def("sum", sum, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
        py::arg("dtype") = py::none());
  cls.def("sum", sum, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("dtype") = py::none());

  auto mean = [](const Tensor& t, py::object dim, bool keepdim, py::object dtype) {
    Tensor x = with_dtype(t, dtype);
    if (dim.is_none()) return cr::mean(x, {}, false);
    return cr::mean(x, parse_dims(dim, "mean"), keepdim);
  };
  m.def("mean", mean, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
        py::arg("dtype") = py::none());
  cls.def("mean", mean, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("dtype") = py::none());

  auto var = [](const Tensor& t, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction) {
    double c = correction_of(dim, unbiased, correction, "var");
    return cr::var(t, parse_dims(dim, "var"), c, dim.is_none() ? false : keepdim);
  };
  auto stdf = [](const Tensor& t, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction) {
    double c = correction_of(dim, unbiased, correction, "std");
    return cr::std_dev(t, parse_dims(dim, "std"), c, dim.is_none() ? false : keepdim);
  };
  for (auto [name, fn] : {std::make_pair("var", +var), std::make_pair("std", +stdf)}) {
    m.def(name, fn, py::arg("input"), py::arg("dim") = py::none(), py::arg("unbiased") = py::none(),
          py::arg("keepdim") = false, py::kw_only(), py::arg("correction") = py::none());
    cls.def(name, fn, py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false,
            py::kw_only(), py::arg("correction") = py::none());
  }

  static py::object max_type = return_type("max");
  static py::object min_type = return_type("min");
  auto max = [](const Tensor& t, py::handle dim, bool keepdim) -> py::object {
    reject_tensor_dim(dim, "max", "maximum");
    if (dim.is_none()) return py::cast(cr::amax(t, {}, false));
    auto r = cr::max_dim(t, parse_dims(dim, "max").at(0), keepdim);
    return max_type(r.first, r.second);
  };
  auto min = [](const Tensor& t, py::handle dim, bool keepdim) -> py::object {
    reject_tensor_dim(dim, "min", "minimum");
    if (dim.is_none()) return py::cast(cr::amin(t, {}, false));
    auto r = cr::min_dim(t, parse_dims(dim, "min").at(0), keepdim);
    return min_type(r.first, r.second);
  };
  for (auto [name, fn] : {std::make_pair("max", +max), std::make_pair("min", +min)}) {
    m.def(name, fn, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false);
    cls.def(name, fn, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  }

  auto amax = [](const Tensor& t, py::handle dim, bool keepdim) { return cr::amax(t, parse_dims(dim, "amax"), keepdim); };
  auto amin = [](const Tensor& t, py::handle dim, bool keepdim) { return cr::amin(t, parse_dims(dim, "amin"), keepdim); };
  for (auto [name, fn] : {std::make_pair("amax", +amax), std::make_pair("amin", +amin)}) {
    m.def(name, fn, py::arg("input"), py::arg("dim") = py::tuple(), py::arg("keepdim") = false);
    cls.def(name, fn, py::arg("dim") = py::tuple(), py::arg("keepdim") = false);
  }

  auto argmax = [](const Tensor& t, py::handle dim, bool keepdim) {
    if (dim.is_none()) return cr::argmax(t, false, 0, keepdim);
    return cr::argmax(t, true, py::cast<int64_t>(dim), keepdim);
  };
  auto argmin = [](const Tensor& t, py::handle dim, bool keepdim) {
    if (dim.is_none()) return cr::argmin(t, false, 0, keepdim);
    return cr::argmin(t, true, py::cast<int64_t>(dim), keepdim);
  };
  for (auto [name, fn] : {std::make_pair("argmax", +argmax), std::make_pair("argmin", +argmin)}) {
    m.def(name, fn, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false);
    cls.def(name, fn, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  }

  auto norm = [](const Tensor& t, py::handle p, py::handle dim, bool keepdim, py::handle dtype) {
    return cr::norm(with_dtype(t, dtype), parse_p(p), parse_dims(dim, "norm"), keepdim);
  };
  m.def("norm", norm, py::arg("input"), py::arg("p") = "fro", py::arg("dim") = py::none(),
        py::arg("keepdim") = false, py::arg("dtype") = py::none());
  cls.def("norm", norm, py::arg("p") = 2, py::arg("dim") = py::none(), py::arg("keepdim") = false,
          py::arg("dtype") = py::none());

  auto logsumexp = [](const Tensor& t, py::handle dim, bool keepdim) {
    return cr::logsumexp(t, parse_dims(dim, "logsumexp"), keepdim);
  };
  m.def("logsumexp", logsumexp, py::arg("input"), py::arg("dim"), py::arg("keepdim") = false);
  cls.def("logsumexp", logsumexp, py::arg("dim"), py::arg("keepdim") = false);

  auto prod = [](const Tensor& t, py::handle dim, bool keepdim, py::handle dtype) {
    Tensor x = with_dtype(t, dtype);
    if (dim.is_none()) return cr::prod(x, {}, false);
    return cr::prod(x, {py::cast<int64_t>(dim)}, keepdim);
  };
  m.def("prod", prod, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
        py::arg("dtype") = py::none());
  cls.def("prod", prod, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("dtype") = py::none());
}

}  // namespace crpy
