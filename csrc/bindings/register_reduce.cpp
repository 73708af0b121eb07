// Reductions.
#include <cmath>

#include "bindings/op_registry.h"
#include "bindings/tensor_operators.h"
#include "ops/ops.h"

namespace crpy {

py::object return_type(const char* name, std::vector<const char*> fields) {
  py::tuple names(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) names[i] = py::str(fields[i]);
  py::object nt = py::module_::import("collections").attr("namedtuple")(name, names);
  nt.attr("__module__") = "chainrule.return_types";
  return nt;
}

namespace {

// PyTorch's torch.return_types.max / min: a namedtuple (values, indices).
py::object values_indices_type(const char* name) { return return_type(name, {"values", "indices"}); }

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
  static py::object type = values_indices_type(IsMax ? "max" : "min");
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
  if (!dim.is_none() && (PyBool_Check(dim.ptr()) || !PyIndex_Check(dim.ptr())))
    throw cr::TypeError(
        cr::str("prod(): dim must be an int (prod reduces one dim, or all of them with dim=None), got ",
                py::str(py::type::of(dim).attr("__name__")).cast<std::string>()));
  Tensor x = with_dtype(t, dtype);
  if (dim.is_none()) return cr::prod(x, {}, false);
  return cr::prod(x, {py::cast<int64_t>(dim)}, keepdim);
}

// ---- logical, counting and NaN-ignoring reductions, moments, distances ----
template <bool IsAll>
Tensor all_any_obj(const Tensor& t, py::handle dim, bool keepdim) {
  std::vector<int64_t> dims = parse_dims(dim, IsAll ? "all" : "any");
  return IsAll ? cr::all(t, dims, keepdim) : cr::any(t, dims, keepdim);
}
Tensor count_nonzero_obj(const Tensor& t, py::handle dim) {
  return cr::count_nonzero(t, parse_dims(dim, "count_nonzero"));
}
py::object aminmax_obj(const Tensor& t, py::handle dim, bool keepdim) {
  static py::object type = return_type("aminmax", {"min", "max"});
  std::vector<int64_t> dims;
  if (!dim.is_none()) dims.push_back(py::cast<int64_t>(dim));
  auto r = cr::aminmax(t, dims, keepdim);
  return type(r.first, r.second);
}
Tensor nansum_obj(const Tensor& t, py::handle dim, bool keepdim, py::handle dtype) {
  return cr::nansum(with_dtype(t, dtype), parse_dims(dim, "nansum"), keepdim);
}
Tensor nanmean_obj(const Tensor& t, py::handle dim, bool keepdim, py::handle dtype) {
  if (!cr::is_floating(t.dtype()))
    throw cr::TypeError(cr::str("nanmean(): expected a floating point input, got ", cr::dtype_name(t.dtype()),
                                " (convert first, e.g. x.double())"));
  return cr::nanmean(with_dtype(t, dtype), parse_dims(dim, "nanmean"), keepdim);
}
template <bool IsStd>
py::tuple moments_obj(const Tensor& t, py::handle dim, py::handle unbiased, bool keepdim,
                      py::handle correction) {
  const char* op = IsStd ? "std_mean" : "var_mean";
  if (!cr::is_floating(t.dtype()))
    throw cr::TypeError(cr::str(op, "(): expected a floating point input, got ", cr::dtype_name(t.dtype()),
                                " (convert first, e.g. x.double())"));
  double c = correction_of(dim, unbiased, correction, op);
  std::vector<int64_t> dims = parse_dims(dim, op);
  auto r = IsStd ? cr::std_mean(t, dims, c, keepdim) : cr::var_mean(t, dims, c, keepdim);
  return py::make_tuple(r.first, r.second);
}
Tensor dist_obj(const Tensor& t, const Tensor& other, double p) { return cr::dist(t, other, p); }
Tensor cdist_obj(const Tensor& x1, const Tensor& x2, double p, const std::string& compute_mode) {
  if (compute_mode != "use_mm_for_euclid_dist_if_necessary" && compute_mode != "use_mm_for_euclid_dist" &&
      compute_mode != "donot_use_mm_for_euclid_dist")
    throw cr::ValueError(
        cr::str("cdist(): ", compute_mode,
                " is not a valid value for compute_mode (use_mm_for_euclid_dist_if_necessary, "
                "use_mm_for_euclid_dist or donot_use_mm_for_euclid_dist)"));
  return cr::cdist(x1, x2, p);
}

}  // namespace

void register_reduce(OpRegistry& reg) {
  const unsigned FM = kFunction | kMethod;
  const auto input = py::arg("input");
  const auto dim_none = py::arg("dim") = py::none();
  const auto keepdim = py::arg("keepdim") = false;
  const auto dtype = py::arg("dtype") = py::none();
  // Note [Single-tensor calls]: t.sum() and t.mean(), over every element.
  register_single_tensor_call("sum", [](const Tensor& t) { return cr::sum(t, {}, false); });
  register_single_tensor_call("mean", [](const Tensor& t) { return cr::mean(t, {}, false); });
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
  reg.op("all", FM, &all_any_obj<true>,
         "all(input, dim=None, keepdim=False) -> Tensor\n\nTrue where every element over dim (an int, a "
         "tuple, or None for all) is nonzero; a bool result for any dtype, true over no elements.",
         input, dim_none, keepdim);
  reg.op("any", FM, &all_any_obj<false>,
         "any(input, dim=None, keepdim=False) -> Tensor\n\nTrue where some element over dim (an int, a "
         "tuple, or None for all) is nonzero; a bool result for any dtype, false over no elements.",
         input, dim_none, keepdim);
  reg.op("count_nonzero", FM, &count_nonzero_obj,
         "count_nonzero(input, dim=None) -> Tensor\n\nNumber of nonzero elements over dim (an int, a "
         "tuple, or None for all), as int64.",
         input, dim_none);
  reg.op("aminmax", FM, &aminmax_obj,
         "aminmax(input, *, dim=None, keepdim=False) -> (min, max)\n\namin and amax in one call, as a "
         "named tuple; ties share the gradient.",
         input, py::kw_only(), dim_none, keepdim);
  reg.op("nansum", FM, &nansum_obj,
         "nansum(input, dim=None, keepdim=False, *, dtype=None) -> Tensor\n\nSum over dim treating NaN as "
         "zero (NaN entries get no gradient).",
         input, dim_none, keepdim, py::kw_only(), dtype);
  reg.op("nanmean", FM, &nanmean_obj,
         "nanmean(input, dim=None, keepdim=False, *, dtype=None) -> Tensor\n\nMean over dim of the "
         "non-NaN entries (NaN where there are none); floating inputs only.",
         input, dim_none, keepdim, py::kw_only(), dtype);
  reg.op("var_mean", kFunction, &moments_obj<false>,
         "var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> (Tensor, Tensor)"
         "\n\nvar and mean over dim in one call (a tuple); both differentiable.",
         input, dim_none, py::arg("unbiased") = py::none(), keepdim, py::kw_only(),
         py::arg("correction") = py::none());
  reg.op("std_mean", kFunction, &moments_obj<true>,
         "std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> (Tensor, Tensor)"
         "\n\nstd and mean over dim in one call (a tuple); both differentiable.",
         input, dim_none, py::arg("unbiased") = py::none(), keepdim, py::kw_only(),
         py::arg("correction") = py::none());
  reg.op("dist", FM, &dist_obj,
         "dist(input, other, p=2) -> Tensor\n\nThe p-norm of input - other (broadcast; floating inputs).",
         input, py::arg("other"), py::arg("p") = 2.0);
  reg.op("cdist", kFunction, &cdist_obj,
         "cdist(x1, x2, p=2.0, compute_mode='use_mm_for_euclid_dist_if_necessary') -> Tensor\n\n"
         "p-norm distances between the rows of x1 [..., P, M] and x2 [..., R, M]: [..., P, R]. Always "
         "computed from the differences (every compute_mode), so small distances stay accurate.",
         py::arg("x1"), py::arg("x2"), py::arg("p") = 2.0,
         py::arg("compute_mode") = "use_mm_for_euclid_dist_if_necessary");
  reg.op("prod", FM, &prod_obj,
         "prod(input, dim=None, keepdim=False, *, dtype=None) -> Tensor\n\nProduct over dim.", input,
         dim_none, keepdim, py::kw_only(), dtype);
}

}  // namespace crpy
