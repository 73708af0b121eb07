// Reductions.
#include <cmath>

#include "bindings/op_registry.h"
#include "ops/ops.h"

namespace crpy {

namespace {

// PyTorch's torch.return_types.max / min: a namedtuple (values, indices).
py::object return_type(const char* name) {
  py::object nt =
      py::module_::import("collections").attr("namedtuple")(name, py::make_tuple("values", "indices"));
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
    throw cr::ValueError(
        cr::str("norm: p='", s, "' is not supported (use 'fro' or a number; 'nuc' is not implemented)"));
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
    if (!unbiased.is_none())
      throw cr::TypeError(cr::str(op, ": pass either unbiased or correction, not both"));
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

Tensor sum_obj(const Tensor& t, py::object dim, bool keepdim, py::object dtype) {
  Tensor x = with_dtype(t, dtype);
  if (dim.is_none()) return cr::sum(x, {}, false);
  return cr::sum(x, parse_dims(dim, "sum"), keepdim);
}
Tensor mean_obj(const Tensor& t, py::object dim, bool keepdim, py::object dtype) {
  Tensor x = with_dtype(t, dtype);
  if (dim.is_none()) return cr::mean(x, {}, false);
  return cr::mean(x, parse_dims(dim, "mean"), keepdim);
}
Tensor var_obj(const Tensor& t, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction) {
  double c = correction_of(dim, unbiased, correction, "var");
  return cr::var(t, parse_dims(dim, "var"), c, dim.is_none() ? false : keepdim);
}
Tensor std_obj(const Tensor& t, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction) {
  double c = correction_of(dim, unbiased, correction, "std");
  return cr::std_dev(t, parse_dims(dim, "std"), c, dim.is_none() ? false : keepdim);
}
template <bool IsMax>
py::object max_min_obj(const Tensor& t, py::handle dim, bool keepdim) {
  static py::object type = return_type(IsMax ? "max" : "min");
  reject_tensor_dim(dim, IsMax ? "max" : "min", IsMax ? "maximum" : "minimum");
  if (dim.is_none()) return py::cast(IsMax ? cr::amax(t, {}, false) : cr::amin(t, {}, false));
  int64_t d = parse_dims(dim, IsMax ? "max" : "min").at(0);
  auto r = IsMax ? cr::max_dim(t, d, keepdim) : cr::min_dim(t, d, keepdim);
  return type(r.first, r.second);
}
template <bool IsMax>
Tensor amax_amin_obj(const Tensor& t, py::handle dim, bool keepdim) {
  return IsMax ? cr::amax(t, parse_dims(dim, "amax"), keepdim)
               : cr::amin(t, parse_dims(dim, "amin"), keepdim);
}
template <bool IsMax>
Tensor argmax_argmin_obj(const Tensor& t, py::handle dim, bool keepdim) {
  bool has_dim = !dim.is_none();
  int64_t d = has_dim ? py::cast<int64_t>(dim) : 0;
  return IsMax ? cr::argmax(t, has_dim, d, keepdim) : cr::argmin(t, has_dim, d, keepdim);
}
Tensor norm_obj(const Tensor& t, py::handle p, py::handle dim, bool keepdim, py::handle dtype) {
  return cr::norm(with_dtype(t, dtype), parse_p(p), parse_dims(dim, "norm"), keepdim);
}
Tensor logsumexp_obj(const Tensor& t, py::handle dim, bool keepdim) {
  return cr::logsumexp(t, parse_dims(dim, "logsumexp"), keepdim);
}
Tensor prod_obj(const Tensor& t, py::handle dim, bool keepdim, py::handle dtype) {
  Tensor x = with_dtype(t, dtype);
  if (dim.is_none()) return cr::prod(x, {}, false);
  return cr::prod(x, {py::cast<int64_t>(dim)}, keepdim);
}

}  // namespace

void register_reduce(OpRegistry& reg) {
  const unsigned FM = kFunction | kMethod;
  const auto input = py::arg("input");
  const auto dim_none = py::arg("dim") = py::none();
  const auto keepdim = py::arg("keepdim") = false;
  const auto dtype = py::arg("dtype") = py::none();
  reg.op("sum", FM, &sum_obj,
         "sum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor\n\nSum over dim "
         "(all dims when None); bool and int64 sum to int64.",
         input, dim_none, keepdim, py::kw_only(), dtype);
  reg.op("mean", FM, &mean_obj,
         "mean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor\n\nMean over dim "
         "(floating inputs only).",
         input, dim_none, keepdim, py::kw_only(), dtype);
  reg.op("var", FM, &var_obj,
         "var(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor\n\n"
         "Variance with Bessel's correction (1 by default).",
         input, dim_none, py::arg("unbiased") = py::none(), keepdim, py::kw_only(),
         py::arg("correction") = py::none());
  reg.op("std", FM, &std_obj,
         "std(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor\n\n"
         "Standard deviation (the square root of var).",
         input, dim_none, py::arg("unbiased") = py::none(), keepdim, py::kw_only(),
         py::arg("correction") = py::none());
  reg.op("max", FM, &max_min_obj<true>,
         "max(input, dim=None, keepdim=False)\n\nThe largest value, or (values, "
         "indices) along dim.",
         input, dim_none, keepdim);
  reg.op("min", FM, &max_min_obj<false>,
         "min(input, dim=None, keepdim=False)\n\nThe smallest value, or (values, "
         "indices) along dim.",
         input, dim_none, keepdim);
  reg.op("amax", FM, &amax_amin_obj<true>,
         "amax(input, dim=(), keepdim=False) -> Tensor\n\nLargest values over dims; "
         "ties share the gradient.",
         input, py::arg("dim") = py::tuple(), keepdim);
  reg.op("amin", FM, &amax_amin_obj<false>,
         "amin(input, dim=(), keepdim=False) -> Tensor\n\nSmallest values over "
         "dims; ties share the gradient.",
         input, py::arg("dim") = py::tuple(), keepdim);
  reg.op("argmax", FM, &argmax_argmin_obj<true>,
         "argmax(input, dim=None, keepdim=False) -> Tensor\n\nIndex of the "
         "first largest value (of the flattened input when dim is None).",
         input, dim_none, keepdim);
  reg.op("argmin", FM, &argmax_argmin_obj<false>,
         "argmin(input, dim=None, keepdim=False) -> Tensor\n\nIndex of the "
         "first smallest value.",
         input, dim_none, keepdim);
  reg.op("norm", kFunction, &norm_obj,
         "norm(input, p='fro', dim=None, keepdim=False, dtype=None) -> Tensor\n\n"
         "Vector p-norm over dim.",
         input, py::arg("p") = "fro", dim_none, keepdim, dtype)
      .method(&norm_obj, "Vector p-norm over dim.", py::arg("p") = 2, dim_none, keepdim, dtype);
  reg.op("logsumexp", FM, &logsumexp_obj,
         "logsumexp(input, dim, keepdim=False) -> Tensor\n\nlog(sum(exp(input))), "
         "computed stably.",
         input, py::arg("dim"), keepdim);
  reg.op("prod", FM, &prod_obj,
         "prod(input, dim=None, keepdim=False, *, dtype=None) -> Tensor\n\nProduct over dim.", input,
         dim_none, keepdim, py::kw_only(), dtype);
}

}  // namespace crpy
