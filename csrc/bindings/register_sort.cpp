// Scans, sorting and selection: cumsum, cumprod, logcumsumexp, cummax, cummin, sort, argsort,
// msort, topk, kthvalue, median, nanmedian, mode, quantile, nanquantile, unique,
// unique_consecutive, searchsorted, bucketize.
#include <string>

#include "bindings/op_registry.h"
#include "ops/ops.h"

namespace crpy {

namespace {

std::optional<DType> dtype_opt(py::handle dtype) {
  if (dtype.is_none()) return std::nullopt;
  return parse_dtype(dtype, DType::Float32);
}

int64_t int_of(py::handle o, const char* op, const char* what) {
  if (PyBool_Check(o.ptr()) || !PyIndex_Check(o.ptr()))
    throw cr::TypeError(cr::str(op, "(): ", what, " must be an int, got ",
                                py::str(py::type::of(o).attr("__name__")).cast<std::string>()));
  return py::cast<int64_t>(o);
}

// A tensor, or a Python number as a 0-d tensor (int64 for ints, float64 for floats, so that the
// comparison with the sequence is exact).
Tensor value_operand(py::handle o, const char* op) {
  if (is_tensor(o)) return as_tensor_unchecked(o);
  if (PyBool_Check(o.ptr())) return cr::scalar_tensor(o.ptr() == Py_True ? 1.0 : 0.0, DType::Bool);
  if (PyLong_Check(o.ptr())) return cr::scalar_tensor((double)py::cast<int64_t>(o), DType::Int64);
  if (PyFloat_Check(o.ptr())) return cr::scalar_tensor(py::cast<double>(o), DType::Float64);
  throw cr::TypeError(cr::str(op, "(): expected a tensor or a number, got ",
                              py::str(py::type::of(o).attr("__name__")).cast<std::string>()));
}

py::object pair_of(py::object& type, const std::pair<Tensor, Tensor>& r) { return type(r.first, r.second); }

// ---- scans ----
template <bool IsProd>
Tensor cum_obj(const Tensor& t, int64_t dim, py::handle dtype) {
  return IsProd ? cr::cumprod(t, dim, dtype_opt(dtype)) : cr::cumsum(t, dim, dtype_opt(dtype));
}
template <bool IsProd>
const Tensor& cum_obj_(const Tensor& t, int64_t dim, py::handle dtype) {
  return IsProd ? cr::cumprod_(t, dim, dtype_opt(dtype)) : cr::cumsum_(t, dim, dtype_opt(dtype));
}
template <bool IsMax>
py::object cum_extreme_obj(const Tensor& t, int64_t dim) {
  static py::object type = return_type(IsMax ? "cummax" : "cummin", {"values", "indices"});
  return pair_of(type, IsMax ? cr::cummax(t, dim) : cr::cummin(t, dim));
}

// ---- sorting and selection ----
py::object sort_obj(const Tensor& t, int64_t dim, bool descending, py::handle) {
  static py::object type = return_type("sort", {"values", "indices"});
  return pair_of(type, cr::sort(t, dim, descending));
}
Tensor argsort_obj(const Tensor& t, int64_t dim, bool descending, py::handle) {
  return cr::argsort(t, dim, descending);
}
py::object topk_obj(const Tensor& t, py::handle k, int64_t dim, bool largest, bool sorted) {
  static py::object type = return_type("topk", {"values", "indices"});
  return pair_of(type, cr::topk(t, int_of(k, "topk", "k"), dim, largest, sorted));
}
py::object kthvalue_obj(const Tensor& t, py::handle k, int64_t dim, bool keepdim) {
  static py::object type = return_type("kthvalue", {"values", "indices"});
  return pair_of(type, cr::kthvalue(t, int_of(k, "kthvalue", "k"), dim, keepdim));
}
template <bool IgnoreNan>
py::object median_obj(const Tensor& t, py::handle dim, bool keepdim) {
  static py::object type = return_type(IgnoreNan ? "nanmedian" : "median", {"values", "indices"});
  if (dim.is_none()) return py::cast(cr::median_all(t, IgnoreNan));
  return pair_of(
      type, cr::median_dim(t, int_of(dim, IgnoreNan ? "nanmedian" : "median", "dim"), keepdim, IgnoreNan));
}
py::object mode_obj(const Tensor& t, int64_t dim, bool keepdim) {
  static py::object type = return_type("mode", {"values", "indices"});
  return pair_of(type, cr::mode(t, dim, keepdim));
}

cr::Interpolation interpolation_of(const std::string& s, const char* op) {
  if (s == "linear") return cr::Interpolation::Linear;
  if (s == "lower") return cr::Interpolation::Lower;
  if (s == "higher") return cr::Interpolation::Higher;
  if (s == "midpoint") return cr::Interpolation::Midpoint;
  if (s == "nearest") return cr::Interpolation::Nearest;
  throw cr::ValueError(cr::str(op,
                               "(): interpolation must be one of linear, lower, higher, midpoint or "
                               "nearest, but got ",
                               s));
}
template <bool IgnoreNan>
Tensor quantile_obj(const Tensor& t, py::handle q, py::handle dim, bool keepdim, const std::string& interp) {
  const char* op = IgnoreNan ? "nanquantile" : "quantile";
  Tensor qt;
  if (is_tensor(q)) {
    qt = as_tensor_unchecked(q);
  } else if (!PyBool_Check(q.ptr()) && (PyFloat_Check(q.ptr()) || PyLong_Check(q.ptr()))) {
    qt = cr::scalar_tensor(py::cast<double>(q), cr::is_floating(t.dtype()) ? t.dtype() : DType::Float32);
  } else {
    throw cr::TypeError(cr::str(op, "(): q must be a number or a tensor, got ",
                                py::str(py::type::of(q).attr("__name__")).cast<std::string>()));
  }
  std::optional<int64_t> d;
  if (!dim.is_none()) d = int_of(dim, op, "dim");
  return cr::quantile(t, qt, d, keepdim, interpolation_of(interp, op), IgnoreNan, op);
}

py::object unique_result(const cr::UniqueResult& r, bool return_inverse, bool return_counts) {
  if (!return_inverse && !return_counts) return py::cast(r.values);
  if (return_inverse && return_counts) return py::make_tuple(r.values, r.inverse, r.counts);
  return py::make_tuple(r.values, return_inverse ? r.inverse : r.counts);
}
std::optional<int64_t> dim_opt(py::handle dim, const char* op) {
  if (dim.is_none()) return std::nullopt;
  return int_of(dim, op, "dim");
}
py::object unique_obj(const Tensor& t, bool, bool return_inverse, bool return_counts, py::handle dim) {
  return unique_result(cr::unique(t, false, dim_opt(dim, "unique")), return_inverse, return_counts);
}
py::object unique_consecutive_obj(const Tensor& t, bool return_inverse, bool return_counts, py::handle dim) {
  return unique_result(cr::unique(t, true, dim_opt(dim, "unique_consecutive")), return_inverse,
                       return_counts);
}

// side= and right= name one choice: conflicting values raise, as PyTorch.
bool right_of(bool right, py::handle side) {
  if (side.is_none()) return right;
  std::string s = py::str(side).cast<std::string>();
  if (s != "left" && s != "right")
    throw cr::ValueError(cr::str("searchsorted(): side can only be 'left' or 'right', got '", s, "'"));
  if (s == "left" && right)
    throw cr::ValueError("searchsorted(): side='left' and right=True contradict each other");
  return s == "right";
}
Tensor searchsorted_obj(const Tensor& seq, py::handle values, bool, bool right, py::handle side,
                        const std::optional<Tensor>& sorter) {
  Tensor v = value_operand(values, "searchsorted");
  if (!is_tensor(values) && seq.dim() != 1)
    throw cr::ShapeError(cr::str(
        "searchsorted(): a number as the value needs a 1-D sorted_sequence, got shape ", seq.shape()));
  return cr::searchsorted(seq, v, right_of(right, side), opt(sorter));
}
Tensor bucketize_obj(py::handle input, const Tensor& boundaries, bool, bool right) {
  return cr::bucketize(value_operand(input, "bucketize"), boundaries, right);
}

}  // namespace

void register_sort(OpRegistry& reg) {
  const unsigned FM = kFunction | kMethod;
  const auto input = py::arg("input");
  const auto keepdim = py::arg("keepdim") = false;
  const auto dim_last = py::arg("dim") = -1;
  const auto dtype = py::arg("dtype") = py::none();

  // ---- scans ----
  reg.op("cumsum", FM, &cum_obj<false>,
         "cumsum(input, dim, *, dtype=None) -> Tensor\n\nCumulative sum along dim; integer and bool "
         "inputs give int64, dtype= converts first.",
         input, py::arg("dim"), py::kw_only(), dtype)
      .inplace(&cum_obj_<false>, "cumsum_(dim, *, dtype=None) -> Tensor\n\nIn-place cumsum.", py::arg("dim"),
               py::kw_only(), dtype);
  reg.op("cumprod", FM, &cum_obj<true>,
         "cumprod(input, dim, *, dtype=None) -> Tensor\n\nCumulative product along dim (same dtype rules as "
         "cumsum); its gradient is exact with zeros in the input.",
         input, py::arg("dim"), py::kw_only(), dtype)
      .inplace(&cum_obj_<true>, "cumprod_(dim, *, dtype=None) -> Tensor\n\nIn-place cumprod.", py::arg("dim"),
               py::kw_only(), dtype);
  reg.op("logcumsumexp", FM, &cr::logcumsumexp,
         "logcumsumexp(input, dim) -> Tensor\n\nlog(cumsum(exp(input))) along dim, computed stably "
         "(floating inputs).",
         input, py::arg("dim"));
  reg.op("cummax", FM, &cum_extreme_obj<true>,
         "cummax(input, dim) -> (values, indices)\n\nRunning maximum along dim and where it was found (the "
         "last of equal values); NaN propagates.",
         input, py::arg("dim"));
  reg.op("cummin", FM, &cum_extreme_obj<false>,
         "cummin(input, dim) -> (values, indices)\n\nRunning minimum along dim and where it was found (the "
         "last of equal values); NaN propagates.",
         input, py::arg("dim"));

  // ---- sorting ----
  reg.op("sort", FM, &sort_obj,
         "sort(input, dim=-1, descending=False, *, stable=False) -> (values, indices)\n\nSorted along dim. "
         "Always stable (equal values keep their order, descending too), whatever stable says; NaN sorts "
         "as the largest value.",
         input, dim_last, py::arg("descending") = false, py::kw_only(), py::arg("stable") = false);
  reg.op("argsort", FM, &argsort_obj,
         "argsort(input, dim=-1, descending=False, *, stable=False) -> Tensor\n\nThe indices of "
         "sort(input, dim, descending) (always stable).",
         input, dim_last, py::arg("descending") = false, py::kw_only(), py::arg("stable") = false);
  reg.op("msort", FM, &cr::msort, "msort(input) -> Tensor\n\nsort(input, dim=0).values.", input);
  reg.op("topk", FM, &topk_obj,
         "topk(input, k, dim=-1, largest=True, sorted=True) -> (values, indices)\n\nThe k largest "
         "(smallest) values along dim, always in sorted order; equal values come in index order.",
         input, py::arg("k"), dim_last, py::arg("largest") = true, py::arg("sorted") = true);
  reg.op("kthvalue", FM, &kthvalue_obj,
         "kthvalue(input, k, dim=-1, keepdim=False) -> (values, indices)\n\nThe k-th smallest value along "
         "dim (k from 1) and its index in the stable sort.",
         input, py::arg("k"), dim_last, keepdim);
  reg.op("median", FM, &median_obj<false>,
         "median(input, dim=None, keepdim=False)\n\nThe lower median: of all elements (a tensor; ties share "
         "the gradient), or (values, indices) along dim. NaN when a NaN is present.",
         input, py::arg("dim") = py::none(), keepdim);
  reg.op("nanmedian", FM, &median_obj<true>,
         "nanmedian(input, dim=None, keepdim=False)\n\nmedian ignoring NaN (NaN only where every value is "
         "NaN).",
         input, py::arg("dim") = py::none(), keepdim);
  reg.op("mode", FM, &mode_obj,
         "mode(input, dim=-1, keepdim=False) -> (values, indices)\n\nThe most frequent value along dim (the "
         "smallest of equally frequent ones) and the index of its last occurrence.",
         input, dim_last, keepdim);
  reg.op("quantile", FM, &quantile_obj<false>,
         "quantile(input, q, dim=None, keepdim=False, *, interpolation='linear') -> Tensor\n\nThe "
         "q-quantiles along dim (of all elements when None); q a number or a 0-d/1-D tensor of input's "
         "dtype in [0, 1] (1-D adds a leading dim). NaN where a NaN is present.",
         input, py::arg("q"), py::arg("dim") = py::none(), keepdim, py::kw_only(),
         py::arg("interpolation") = "linear");
  reg.op("nanquantile", FM, &quantile_obj<true>,
         "nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear') -> Tensor\n\nquantile "
         "ignoring NaN (NaN only where every value is NaN).",
         input, py::arg("q"), py::arg("dim") = py::none(), keepdim, py::kw_only(),
         py::arg("interpolation") = "linear");
  reg.op("unique", FM, &unique_obj,
         "unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None)\n\nThe distinct "
         "values (of the flattened input, or slices along dim), always sorted; with return_inverse and/or "
         "return_counts a tuple adding each element's position among them and their counts. NaNs are "
         "never equal. Not differentiable.",
         input, py::arg("sorted") = true, py::arg("return_inverse") = false, py::arg("return_counts") = false,
         py::arg("dim") = py::none());
  reg.op("unique_consecutive", FM, &unique_consecutive_obj,
         "unique_consecutive(input, return_inverse=False, return_counts=False, dim=None)\n\nunique "
         "merging only runs of equal neighbours, in input order.",
         input, py::arg("return_inverse") = false, py::arg("return_counts") = false,
         py::arg("dim") = py::none());
  reg.function("searchsorted", &searchsorted_obj,
               "searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, "
               "sorter=None) -> Tensor\n\nInsertion points keeping each row of sorted_sequence sorted "
               "(before equal entries; after them with right=True or side='right'). input: a tensor or a "
               "number. Indices are int64 even with out_int32=True (chainrule has no int32 dtype).",
               py::arg("sorted_sequence"), py::arg("input"), py::kw_only(), py::arg("out_int32") = false,
               py::arg("right") = false, py::arg("side") = py::none(), py::arg("sorter") = py::none());
  reg.function(
      "bucketize", &bucketize_obj,
      "bucketize(input, boundaries, *, out_int32=False, right=False) -> Tensor\n\nThe bucket of each "
      "value among 1-D sorted boundaries: searchsorted(boundaries, input, right=right). Indices are "
      "int64 even with out_int32=True.",
      input, py::arg("boundaries"), py::kw_only(), py::arg("out_int32") = false, py::arg("right") = false);
}

}  // namespace crpy
