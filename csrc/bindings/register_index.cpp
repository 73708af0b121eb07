// Indexing: __getitem__, __setitem__, gather, index_select, masked_fill.
#include <pybind11/numpy.h>

#include "bindings/op_registry.h"
#include "core/node.h"
#include "ops/ops.h"

namespace crpy {

namespace {

[[noreturn]] void bad_index(py::handle o) {
  throw cr::TypeError(
      cr::str("only integers, slices (`:`), ellipsis (`...`), None and long or bool tensors "
              "are valid indices (got ",
              py::str(py::type::of(o).attr("__name__")).cast<std::string>(), ")"));
}

int64_t slice_part(py::handle o, int64_t dflt) {
  if (o.is_none()) return dflt;
  if (PyBool_Check(o.ptr()) || !PyIndex_Check(o.ptr()))
    throw cr::TypeError("slice indices must be integers or None");
  Py_ssize_t v = PyNumber_AsSsize_t(o.ptr(), nullptr);  // clamps on overflow
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  return (int64_t)v;
}

// An array-like index (list, NumPy array) as an int64 or bool tensor.
Tensor array_index(py::handle o) {
  py::module_ np = py::module_::import("numpy");
  py::array arr;
  try {
    arr = py::array::ensure(np.attr("asarray")(o));
  } catch (py::error_already_set&) { bad_index(o); }
  if (!arr) bad_index(o);
  char kind = arr.dtype().kind();
  if (kind == 'b') return tensor_from_data(arr, py::str("bool"));
  if (kind == 'i' || kind == 'u') return tensor_from_data(arr, py::str("int64"));
  if (arr.size() == 0 && kind == 'f') return tensor_from_data(arr, py::str("int64"));  // x[[]]
  throw cr::IndexError(cr::str("arrays used as indices must be of integer or boolean type, got ",
                               py::str(arr.dtype()).cast<std::string>()));
}

void parse_item(py::handle o, cr::IndexList& out) {
  PyObject* p = o.ptr();
  if (PyLong_Check(p) && !PyBool_Check(p)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(p, &overflow);
    if (overflow) throw cr::IndexError("index is too large");
    out.push_back(cr::IndexItem::integer(v));
  } else if (PySlice_Check(p)) {
    py::slice s = py::reinterpret_borrow<py::slice>(o);
    py::object step_o = s.attr("step");
    int64_t step = slice_part(step_o, 1);
    if (step <= 0) throw cr::ValueError("step must be greater than zero");
    py::object a = s.attr("start"), b = s.attr("stop");
    out.push_back(cr::IndexItem::slice(!a.is_none(), slice_part(a, 0), !b.is_none(), slice_part(b, 0), step));
  } else if (p == Py_None) {
    out.push_back(cr::IndexItem::none());
  } else if (p == Py_Ellipsis) {
    out.push_back(cr::IndexItem::ellipsis());
  } else if (is_tensor(o)) {
    Tensor t = as_tensor_unchecked(o);
    if (t.dtype() != DType::Int64 && t.dtype() != DType::Bool)
      throw cr::IndexError(
          cr::str("tensors used as indices must be long or bool tensors, got ", cr::dtype_name(t.dtype())));
    out.push_back(cr::IndexItem::tensor_index(t));
  } else if (PyBool_Check(p)) {
    out.push_back(cr::IndexItem::tensor_index(cr::scalar_tensor(p == Py_True ? 1.0 : 0.0, DType::Bool)));
  } else if (PyList_Check(p) || py::isinstance<py::array>(o)) {
    out.push_back(cr::IndexItem::tensor_index(array_index(o)));
  } else if (PyIndex_Check(p) && !PyFloat_Check(p)) {  // NumPy integer scalars
    Py_ssize_t v = PyNumber_AsSsize_t(p, PyExc_IndexError);
    if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
    out.push_back(cr::IndexItem::integer(v));
  } else {
    bad_index(o);
  }
}

cr::IndexList parse_index(py::handle key) {
  cr::IndexList items;
  if (PyTuple_Check(key.ptr())) {
    py::tuple t = py::reinterpret_borrow<py::tuple>(key);
    items.reserve(t.size());
    for (auto item : t) parse_item(item, items);
  } else {
    parse_item(key, items);
  }
  return items;
}

Tensor index_tensor(py::handle o, const char* op) {
  if (is_tensor(o)) return as_tensor_unchecked(o);
  if (PyList_Check(o.ptr()) || PyTuple_Check(o.ptr()) || py::isinstance<py::array>(o)) return array_index(o);
  throw cr::TypeError(cr::str(op, "(): index must be a Tensor, got ",
                              py::str(py::type::of(o).attr("__name__")).cast<std::string>()));
}

double fill_value(py::handle v, const char* op) {
  if (is_tensor(v)) {
    Tensor t = as_tensor_unchecked(v);
    if (t.dim() != 0)
      throw cr::ValueError(cr::str(op, "() only supports a 0-dimensional value tensor, but got tensor with ",
                                   t.dim(), " dimension(s)"));
    return cr::item_as_double(t);
  }
  if (PyBool_Check(v.ptr()) || PyLong_Check(v.ptr()) || PyFloat_Check(v.ptr()) || PyNumber_Check(v.ptr()))
    return py::cast<double>(py::float_(py::reinterpret_borrow<py::object>(v)));
  throw cr::TypeError(cr::str(op, "(): value must be a number or a 0-dim Tensor"));
}

Tensor masked_fill_obj(const Tensor& t, py::handle mask, py::handle value) {
  Tensor m = index_tensor(mask, "masked_fill");
  if (is_tensor(value)) {
    Tensor v = as_tensor_unchecked(value);
    if (v.dim() != 0)
      throw cr::ValueError(
          cr::str("masked_fill() only supports a 0-dimensional value tensor, but got tensor with ", v.dim(),
                  " dimension(s)"));
    return cr::masked_fill(t, m, v);
  }
  return cr::masked_fill(t, m, fill_value(value, "masked_fill"));
}

Tensor scatter_obj(const Tensor& t, int64_t dim, py::handle index, py::handle src, py::handle value,
                   std::optional<std::string> reduce) {
  Tensor i = index_tensor(index, "scatter");
  if (!src.is_none() && !value.is_none())
    throw cr::TypeError("scatter(): give either src or value, not both");
  py::handle what = src.is_none() ? value : src;
  if (what.is_none()) throw cr::TypeError("scatter(): missing the src (or value) argument");
  if (is_tensor(what)) return cr::scatter(t, dim, i, as_tensor_unchecked(what), reduce);
  return cr::scatter_value(t, dim, i, fill_value(what, "scatter"), reduce);
}

py::object nonzero_obj(const Tensor& t, bool as_tuple) {
  Tensor nz = cr::nonzero(t);
  if (!as_tuple) return py::cast(nz);
  py::tuple out(std::max<int64_t>(t.dim(), 1));
  if (t.dim() == 0) {
    out[0] = py::cast(cr::zeros(Dims{nz.shape()[0]}, DType::Int64));
    return std::move(out);
  }
  for (int64_t d = 0; d < t.dim(); ++d) out[(size_t)d] = py::cast(cr::contiguous_copy(cr::select(nz, 1, d)));
  return std::move(out);
}

// index_put's indices: a tuple or list of long or bool tensors, one per leading dim; values in
// input's dtype, as PyTorch.
cr::IndexList put_indices(py::handle indices, const Tensor& input, const Tensor& values, const char* op) {
  if (!PyTuple_Check(indices.ptr()) && !PyList_Check(indices.ptr()))
    throw cr::TypeError(cr::str(op, "(): indices must be a tuple of tensors, got ",
                                py::str(py::type::of(indices).attr("__name__")).cast<std::string>()));
  py::sequence seq = py::reinterpret_borrow<py::sequence>(indices);
  if (seq.size() == 0) throw cr::ValueError(cr::str(op, "(): indices must contain at least one tensor"));
  cr::IndexList items;
  size_t i = 0;
  for (py::handle o : seq) {
    if (!is_tensor(o))
      throw cr::TypeError(cr::str(op, "(): expected Tensor as element ", i, " in argument 1, but got ",
                                  py::str(py::type::of(o).attr("__name__")).cast<std::string>()));
    Tensor t = as_tensor_unchecked(o);
    if (t.dtype() != DType::Int64 && t.dtype() != DType::Bool)
      throw cr::IndexError(cr::str(op, "(): tensors used as indices must be long or bool tensors, got ",
                                   cr::dtype_name(t.dtype())));
    items.push_back(cr::IndexItem::tensor_index(t));
    ++i;
  }
  if (values.dtype() != input.dtype())
    throw cr::TypeError(cr::str(op, "(): Index put requires the source and destination dtypes match, got ",
                                cr::dtype_name(input.dtype()), " for the destination and ",
                                cr::dtype_name(values.dtype()), " for the source."));
  return items;
}

Tensor index_put_obj(const Tensor& input, py::handle indices, const Tensor& values, bool accumulate) {
  return cr::index_put(input, put_indices(indices, input, values, "index_put"), values, accumulate);
}

}  // namespace

void register_index(OpRegistry& reg) {
  const unsigned FM = kFunction | kMethod;
  const auto input = py::arg("input");
  PyTensorClass& cls = reg.tensor_class();
  def_traced(cls, "__getitem__",
             [](const Tensor& t, py::handle key) { return cr::index(t, parse_index(key)); });
  def_traced(cls, "__setitem__", [](const Tensor& t, py::handle key, py::handle value) {
    cr::IndexList items = parse_index(key);
    cr::index_put_(t, items, operand(value, t, "setitem"));
  });
  reg.op("index_put", FM, &index_put_obj,
         "index_put(input, indices, values, accumulate=False) -> Tensor\n\nA copy of input with "
         "input[indices] = values (indices: a tuple of long or bool tensors, values broadcast to the indexed "
         "shape, in input's dtype); with accumulate, the values are added instead and repeated indices add "
         "up. Differentiable in input (zero gradient at the written entries unless accumulate) and values "
         "(the gradient of the entries each one was written to, summed).",
         input, py::arg("indices"), py::arg("values"), py::arg("accumulate") = false)
      .inplace(
          [](const Tensor& self, py::handle indices, const Tensor& values, bool accumulate) {
            cr::index_put_(self, put_indices(indices, self, values, "index_put_"), values, accumulate,
                           "index_put_");
            return self;
          },
          "In-place index_put: self[indices] = values (or += with accumulate).", py::arg("indices"),
          py::arg("values"), py::arg("accumulate") = false);

  reg.op(
      "gather", FM,
      [](const Tensor& t, int64_t dim, py::handle index) {
        return cr::gather(t, dim, index_tensor(index, "gather"));
      },
      "gather(input, dim, index) -> Tensor\n\nout[i][j] = input[index[i][j]][j] (for dim 0), and so on.",
      input, py::arg("dim"), py::arg("index"));
  reg.op(
      "take_along_dim", FM,
      [](const Tensor& t, py::handle index, std::optional<int64_t> dim) {
        Tensor idx = index_tensor(index, "take_along_dim");
        if (!dim) return cr::gather(cr::reshape(t, Dims{t.numel()}), 0, cr::reshape(idx, Dims{idx.numel()}));
        if (idx.dim() != t.dim())
          throw cr::ShapeError(
              cr::str("take_along_dim(): input and indices should have the same number of "
                      "dimensions, but got ",
                      t.dim(), " and ", idx.dim()));
        if (t.dim() == 0) return cr::gather(t, *dim, idx);
        // The dims other than `dim` broadcast between input and indices, as PyTorch.
        int64_t d = cr::wrap_dim(*dim, t.dim(), "take_along_dim");
        Dims ts = t.shape(), is = idx.shape();
        Dims tb = ts, ib = is;
        for (int64_t k = 0; k < t.dim(); ++k) {
          if (k == d) continue;
          int64_t a = ts[(size_t)k], b = is[(size_t)k];
          if (a != b && a != 1 && b != 1)
            throw cr::ShapeError(cr::str("take_along_dim(): shapes ", ts, " and ", is,
                                         " cannot be broadcast outside dim ", d));
          tb[(size_t)k] = ib[(size_t)k] = std::max(a, b);
        }
        return cr::gather(tb == ts ? t : cr::expand(t, tb), d,
                          ib == is ? idx : cr::contiguous_copy(cr::expand(idx, ib)));
      },
      "take_along_dim(input, indices, dim=None) -> Tensor\n\nValues at indices along dim (the other dims "
      "broadcast); of the flattened input when dim is None.",
      input, py::arg("indices"), py::arg("dim") = py::none());
  reg.op(
      "index_select", FM,
      [](const Tensor& t, int64_t dim, py::handle index) {
        return cr::index_select(t, dim, index_tensor(index, "index_select"));
      },
      "index_select(input, dim, index) -> Tensor\n\nThe entries of input at `index` (a vector) along dim.",
      input, py::arg("dim"), py::arg("index"));
  reg.op("masked_fill", FM, &masked_fill_obj,
         "masked_fill(input, mask, value) -> Tensor\n\ninput with value (a number or a 0-d tensor, which "
         "then gets the gradient of the filled positions) where mask (bool, broadcast) is True.",
         input, py::arg("mask"), py::arg("value"))
      .inplace(
          [](const Tensor& self, py::handle mask, py::handle value) {
            py::object m = py::reinterpret_borrow<py::object>(mask);
            std::vector<Tensor> others{};
            if (is_tensor(value)) others.push_back(as_tensor_unchecked(value));
            py::object v = py::reinterpret_borrow<py::object>(value);
            return cr::assign_with_(
                self, others, [&](const Tensor& x) { return masked_fill_obj(x, m, v); }, "masked_fill_");
          },
          "In-place masked_fill.", py::arg("mask"), py::arg("value"));

  // ---- scatter family (ops/scatter.h) ----
  reg.op("scatter", FM, &scatter_obj,
         "scatter(input, dim, index, src=None, value=None, *, reduce=None) -> Tensor\n\nout[index[i][j]][j] "
         "= "
         "src[i][j] (dim 0; src may be a number); reduce='add'/'multiply' combines instead.",
         input, py::arg("dim"), py::arg("index"), py::arg("src") = py::none(), py::arg("value") = py::none(),
         py::kw_only(), py::arg("reduce") = py::none())
      .inplace(
          [](const Tensor& self, int64_t dim, py::handle index, py::handle src, py::handle value,
             std::optional<std::string> reduce) {
            std::vector<Tensor> others;
            if (is_tensor(src)) others.push_back(as_tensor_unchecked(src));
            py::object s = py::reinterpret_borrow<py::object>(src),
                       v = py::reinterpret_borrow<py::object>(value);
            return cr::assign_with_(
                self, others, [&](const Tensor& x) { return scatter_obj(x, dim, index, s, v, reduce); },
                "scatter_");
          },
          "In-place scatter.", py::arg("dim"), py::arg("index"), py::arg("src") = py::none(),
          py::arg("value") = py::none(), py::kw_only(), py::arg("reduce") = py::none());
  reg.op(
         "scatter_add", FM,
         [](const Tensor& t, int64_t dim, py::handle index, const Tensor& src) {
           return cr::scatter_add(t, dim, index_tensor(index, "scatter_add"), src);
         },
         "scatter_add(input, dim, index, src) -> Tensor\n\ninput with src added at the positions index names "
         "along dim (duplicates accumulate).",
         input, py::arg("dim"), py::arg("index"), py::arg("src"))
      .inplace(
          [](const Tensor& self, int64_t dim, py::handle index, const Tensor& src) {
            Tensor i = index_tensor(index, "scatter_add_");
            return cr::assign_with_(
                self, {src}, [&](const Tensor& x) { return cr::scatter_add(x, dim, i, src); },
                "scatter_add_");
          },
          "In-place scatter_add.", py::arg("dim"), py::arg("index"), py::arg("src"));
  reg.op(
         "scatter_reduce", FM,
         [](const Tensor& t, int64_t dim, py::handle index, const Tensor& src, const std::string& reduce,
            bool include_self) {
           return cr::scatter_reduce(t, dim, index_tensor(index, "scatter_reduce"), src, reduce,
                                     include_self);
         },
         "scatter_reduce(input, dim, index, src, reduce, *, include_self=True) -> Tensor\n\nCombines src "
         "into "
         "input at the positions index names: reduce is 'sum', 'prod', 'mean', 'amax' or 'amin'.",
         input, py::arg("dim"), py::arg("index"), py::arg("src"), py::arg("reduce"), py::kw_only(),
         py::arg("include_self") = true)
      .inplace(
          [](const Tensor& self, int64_t dim, py::handle index, const Tensor& src, const std::string& reduce,
             bool include_self) {
            Tensor i = index_tensor(index, "scatter_reduce_");
            return cr::assign_with_(
                self, {src},
                [&](const Tensor& x) { return cr::scatter_reduce(x, dim, i, src, reduce, include_self); },
                "scatter_reduce_");
          },
          "In-place scatter_reduce.", py::arg("dim"), py::arg("index"), py::arg("src"), py::arg("reduce"),
          py::kw_only(), py::arg("include_self") = true);
  reg.op(
         "index_add", FM,
         [](const Tensor& t, int64_t dim, py::handle index, const Tensor& source, double alpha) {
           return cr::index_add(t, dim, index_tensor(index, "index_add"), source, alpha);
         },
         "index_add(input, dim, index, source, *, alpha=1) -> Tensor\n\ninput with alpha * source added at "
         "the "
         "entries index names along dim (duplicates accumulate).",
         input, py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(), py::arg("alpha") = 1.0)
      .inplace(
          [](const Tensor& self, int64_t dim, py::handle index, const Tensor& source, double alpha) {
            Tensor i = index_tensor(index, "index_add_");
            return cr::assign_with_(
                self, {source}, [&](const Tensor& x) { return cr::index_add(x, dim, i, source, alpha); },
                "index_add_");
          },
          "In-place index_add.", py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(),
          py::arg("alpha") = 1.0);
  reg.op(
         "index_copy", FM,
         [](const Tensor& t, int64_t dim, py::handle index, const Tensor& source) {
           return cr::index_copy(t, dim, index_tensor(index, "index_copy"), source);
         },
         "index_copy(input, dim, index, source) -> Tensor\n\ninput with source's slices copied to the "
         "entries "
         "index names along dim.",
         input, py::arg("dim"), py::arg("index"), py::arg("source"))
      .inplace(
          [](const Tensor& self, int64_t dim, py::handle index, const Tensor& source) {
            Tensor i = index_tensor(index, "index_copy_");
            return cr::assign_with_(
                self, {source}, [&](const Tensor& x) { return cr::index_copy(x, dim, i, source); },
                "index_copy_");
          },
          "In-place index_copy.", py::arg("dim"), py::arg("index"), py::arg("source"));
  reg.op(
         "index_fill", FM,
         [](const Tensor& t, int64_t dim, py::handle index, py::handle value) {
           return cr::index_fill(t, dim, index_tensor(index, "index_fill"), fill_value(value, "index_fill"));
         },
         "index_fill(input, dim, index, value) -> Tensor\n\ninput with value at the entries index names "
         "along dim.",
         input, py::arg("dim"), py::arg("index"), py::arg("value"))
      .inplace(
          [](const Tensor& self, int64_t dim, py::handle index, py::handle value) {
            Tensor i = index_tensor(index, "index_fill_");
            double v = fill_value(value, "index_fill_");
            return cr::assign_with_(
                self, {}, [&](const Tensor& x) { return cr::index_fill(x, dim, i, v); }, "index_fill_");
          },
          "In-place index_fill.", py::arg("dim"), py::arg("index"), py::arg("value"));
  reg.op(
      "masked_select", FM,
      [](const Tensor& t, py::handle mask) {
        return cr::masked_select(t, index_tensor(mask, "masked_select"));
      },
      "masked_select(input, mask) -> Tensor\n\nThe entries where mask (broadcast with input) is True, as "
      "1-D.",
      input, py::arg("mask"));
  reg.op(
         "masked_scatter", FM,
         [](const Tensor& t, py::handle mask, const Tensor& source) {
           return cr::masked_scatter(t, index_tensor(mask, "masked_scatter"), source);
         },
         "masked_scatter(input, mask, source) -> Tensor\n\ninput with source's entries, in order, where mask "
         "is "
         "True.",
         input, py::arg("mask"), py::arg("source"))
      .inplace(
          [](const Tensor& self, py::handle mask, const Tensor& source) {
            Tensor m = index_tensor(mask, "masked_scatter_");
            return cr::assign_with_(
                self, {source}, [&](const Tensor& x) { return cr::masked_scatter(x, m, source); },
                "masked_scatter_");
          },
          "In-place masked_scatter.", py::arg("mask"), py::arg("source"));
  reg.op(
      "nonzero", FM, &nonzero_obj,
      "nonzero(input, *, as_tuple=False) -> Tensor\n\nIndices of the non-zero entries: shape [count, ndim], "
      "or one 1-D tensor per dim with as_tuple=True.",
      input, py::kw_only(), py::arg("as_tuple") = false);
  reg.op(
      "argwhere", FM, [](const Tensor& t) { return cr::nonzero(t); },
      "argwhere(input) -> Tensor\n\nIndices of the non-zero entries, shape [count, ndim].", input);
  reg.op(
      "take", FM,
      [](const Tensor& t, py::handle index) {
        Tensor i = index_tensor(index, "take");
        return cr::take(t, i);
      },
      "take(input, index) -> Tensor\n\ninput read as 1-D at index (negative entries count from the end); "
      "the result has index's shape.",
      input, py::arg("index"));
}

}  // namespace crpy
