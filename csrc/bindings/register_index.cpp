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

}  // namespace

void register_index(OpRegistry& reg) {
  const unsigned FM = kFunction | kMethod;
  const auto input = py::arg("input");
  PyTensorClass& cls = reg.tensor_class();
  cls.def("__getitem__", [](const Tensor& t, py::handle key) { return cr::index(t, parse_index(key)); });
  cls.def("__setitem__", [](const Tensor& t, py::handle key, py::handle value) {
    cr::IndexList items = parse_index(key);
    cr::index_put_(t, items, operand(value, t, "setitem"));
  });

  reg.op(
      "gather", FM,
      [](const Tensor& t, int64_t dim, py::handle index) {
        return cr::gather(t, dim, index_tensor(index, "gather"));
      },
      "gather(input, dim, index) -> Tensor\n\nout[i][j] = input[index[i][j]][j] (for dim 0), and so on.",
      input, py::arg("dim"), py::arg("index"));
  reg.op(
      "take_along_dim", FM,
      [](const Tensor& t, py::handle index, int64_t dim) {
        return cr::gather(t, dim, index_tensor(index, "take_along_dim"));
      },
      "take_along_dim(input, indices, dim) -> Tensor\n\nValues at indices along dim.", input,
      py::arg("indices"), py::arg("dim"));
  reg.op(
      "index_select", FM,
      [](const Tensor& t, int64_t dim, py::handle index) {
        return cr::index_select(t, dim, index_tensor(index, "index_select"));
      },
      "index_select(input, dim, index) -> Tensor\n\nThe entries of input at `index` (a vector) along dim.",
      input, py::arg("dim"), py::arg("index"));
  reg.op(
      "masked_fill", FM,
      [](const Tensor& t, py::handle mask, py::handle value) {
        return cr::masked_fill(t, index_tensor(mask, "masked_fill"), fill_value(value, "masked_fill"));
      },
      "masked_fill(input, mask, value) -> Tensor\n\ninput with value where mask (bool, broadcast) is True.",
      input, py::arg("mask"), py::arg("value"));
}

}  // namespace crpy
