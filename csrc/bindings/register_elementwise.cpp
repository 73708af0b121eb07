// Elementwise ops, activations and in-place ops: module functions (PyTorch's signatures), Tensor
// methods and the operators not bound with the Tensor class itself.
#include <pybind11/numpy.h>

#include "bindings/common.h"
#include "core/grad_mode.h"
#include "ops/ops.h"

namespace crpy {

namespace {

using cr::CmpOp;

/// A Python int or float (bool included), read as a double. NumPy scalars go through operand().
inline bool py_number(py::handle o, double& v) {
  if (PyFloat_Check(o.ptr())) { v = PyFloat_AS_DOUBLE(o.ptr()); return true; }
  if (PyLong_Check(o.ptr())) {
    int overflow = 0;
    long long i = PyLong_AsLongLongAndOverflow(o.ptr(), &overflow);
    if (overflow) return false;
    v = (double)i;
    return true;
  }
  return false;
}

/// Tensor from the first operand of a binary module function: numbers follow `other` when it is a
/// tensor (cr.pow(2, x)).
inline Tensor first_operand(py::handle a, py::handle b, const char* op) {
  if (is_tensor(a)) return as_tensor_unchecked(a);
  return operand(a, is_tensor(b) ? as_tensor_unchecked(b) : Tensor(), op);
}

py::object not_implemented() { return py::reinterpret_borrow<py::object>(Py_NotImplemented); }

/// Can `o` be an elementwise operand (so == returns a tensor rather than NotImplemented)?
bool operand_like(py::handle o) {
  return is_tensor(o) || PyFloat_Check(o.ptr()) || PyLong_Check(o.ptr()) || py::isinstance<py::array>(o) ||
         PyList_Check(o.ptr()) || PyTuple_Check(o.ptr()) || py::hasattr(o, "__array__") ||
         (PyNumber_Check(o.ptr()) && py::hasattr(o, "item"));
}

Tensor compare_obj(const Tensor& self, py::handle other, CmpOp op, const char* name) {
  double v;
  if (cr::is_floating(self.dtype()) && py_number(other, v)) return cr::compare_scalar(self, v, op);
  return cr::compare(self, operand(other, self, name), op);
}

Tensor pow_obj(const Tensor& self, py::handle e) {
  double v;
  if (PyFloat_Check(e.ptr())) return cr::pow_scalar(self, PyFloat_AS_DOUBLE(e.ptr()));
  if (!PyBool_Check(e.ptr()) && cr::is_floating(self.dtype()) && py_number(e, v)) return cr::pow_scalar(self, v);
  return cr::pow(self, operand(e, self, "pow"));
}

/// clamp's bounds: None, numbers, or tensors (then the tensor overload).
Tensor clamp_obj(const Tensor& self, py::handle lo, py::handle hi) {
  if (is_tensor(lo) || is_tensor(hi)) {
    Tensor l = lo.is_none() ? Tensor() : operand(lo, self, "clamp");
    Tensor h = hi.is_none() ? Tensor() : operand(hi, self, "clamp");
    return cr::clamp(self, l, h);
  }
  auto bound = [](py::handle o, const char* which) -> std::optional<double> {
    if (o.is_none()) return std::nullopt;
    double v;
    if (py_number(o, v)) return v;
    if (PyNumber_Check(o.ptr())) return py::float_(py::reinterpret_borrow<py::object>(o)).cast<double>();
    throw cr::TypeError(cr::str("clamp: '", which, "' must be a number, a Tensor or None, got '",
                                py::str(py::type::of(o).attr("__name__")).cast<std::string>(), "'"));
  };
  return cr::clamp(self, bound(lo, "min"), bound(hi, "max"));
}

std::optional<double> opt_number(py::handle o, const char* op, const char* which) {
  if (o.is_none()) return std::nullopt;
  double v;
  if (py_number(o, v)) return v;
  if (PyNumber_Check(o.ptr()) && !is_tensor(o)) return py::float_(py::reinterpret_borrow<py::object>(o)).cast<double>();
  throw cr::TypeError(cr::str(op, ": '", which, "' must be a number or None"));
}

Tensor where_obj(const Tensor& cond, py::handle a, py::handle b) {
  Tensor ta = first_operand(a, b, "where");
  return cr::where(cond, ta, operand(b, ta, "where"));
}

// In-place arithmetic with a Python-number fast path (no 0-dim tensor) for floating self.
const Tensor& add_obj_(const Tensor& self, py::handle other, double alpha, const char* op) {
  double v;
  if (cr::is_floating(self.dtype()) && py_number(other, v)) return cr::add_scalar_(self, alpha * v);
  return cr::add_(self, operand(other, self, op), alpha);
}
const Tensor& mul_obj_(const Tensor& self, py::handle other) {
  double v;
  if (cr::is_floating(self.dtype()) && py_number(other, v)) return cr::mul_scalar_(self, v);
  return cr::mul_(self, operand(other, self, "mul_"));
}
const Tensor& div_obj_(const Tensor& self, py::handle other) {
  return cr::div_(self, operand(other, self, "div_"));
}

}  // namespace

void register_elementwise(py::module_& m, PyTensorClass& cls) {
  // ---- arithmetic ----
  m.def("add", [](py::handle a, py::handle b, double alpha) {
    Tensor ta = first_operand(a, b, "add");
    Tensor tb = operand(b, ta, "add");
    if (alpha == 1.0) return cr::add(ta, tb);
    return cr::add(ta, cr::is_floating(tb.dtype()) ? cr::mul_scalar(tb, alpha) : cr::mul(tb, cr::scalar_tensor(alpha, tb.dtype())));
  }, py::arg("input"), py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  m.def("sub", [](py::handle a, py::handle b, double alpha) {
    Tensor ta = first_operand(a, b, "sub");
    Tensor tb = operand(b, ta, "sub");
    if (alpha == 1.0) return cr::sub(ta, tb);
    return cr::sub(ta, cr::is_floating(tb.dtype()) ? cr::mul_scalar(tb, alpha) : cr::mul(tb, cr::scalar_tensor(alpha, tb.dtype())));
  }, py::arg("input"), py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  m.def("mul", [](py::handle a, py::handle b) {
    Tensor ta = first_operand(a, b, "mul");
    return cr::mul(ta, operand(b, ta, "mul"));
  }, py::arg("input"), py::arg("other"));
  m.def("div", [](py::handle a, py::handle b) {
    Tensor ta = first_operand(a, b, "div");
    return cr::div(ta, operand(b, ta, "div"));
  }, py::arg("input"), py::arg("other"));
  cls.def("add", [](const Tensor& s, py::handle o, double alpha) {
    Tensor to = operand(o, s, "add");
    if (alpha == 1.0) return cr::add(s, to);
    return cr::add(s, cr::is_floating(to.dtype()) ? cr::mul_scalar(to, alpha) : cr::mul(to, cr::scalar_tensor(alpha, to.dtype())));
  }, py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  cls.def("sub", [](const Tensor& s, py::handle o, double alpha) {
    Tensor to = operand(o, s, "sub");
    if (alpha == 1.0) return cr::sub(s, to);
    return cr::sub(s, cr::is_floating(to.dtype()) ? cr::mul_scalar(to, alpha) : cr::mul(to, cr::scalar_tensor(alpha, to.dtype())));
  }, py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  cls.def("mul", [](const Tensor& s, py::handle o) { return cr::mul(s, operand(o, s, "mul")); }, py::arg("other"));
  cls.def("div", [](const Tensor& s, py::handle o) { return cr::div(s, operand(o, s, "div")); }, py::arg("other"));

  // ---- unary math: chainrule.f(input) and Tensor.f() ----
  using Unary = Tensor (*)(const Tensor&);
  const std::pair<const char*, Unary> unary[] = {
      {"neg", &cr::neg}, {"exp", &cr::exp}, {"log", &cr::log}, {"sqrt", &cr::sqrt},
      {"rsqrt", &cr::rsqrt}, {"abs", &cr::abs}, {"sign", &cr::sign}, {"sin", &cr::sin},
      {"cos", &cr::cos}, {"erf", &cr::erf}, {"square", &cr::square}, {"reciprocal", &cr::reciprocal},
      {"logical_not", &cr::logical_not}, {"bitwise_not", &cr::bitwise_not},
      {"relu", &cr::relu}, {"sigmoid", &cr::sigmoid}, {"tanh", &cr::tanh}, {"silu", &cr::silu},
  };
  for (const auto& [name, fn] : unary) {
    m.def(name, fn, py::arg("input"));
    if (std::string(name) != "silu") cls.def(name, fn);
  }
  m.def("negative", &cr::neg, py::arg("input"));
  m.def("absolute", &cr::abs, py::arg("input"));
  cls.def("__abs__", &cr::abs);
  cls.def("__invert__", &cr::bitwise_not);

  // ---- pow ----
  m.def("pow", [](py::handle input, py::handle exponent) -> Tensor {
    if (is_tensor(input)) return pow_obj(as_tensor_unchecked(input), exponent);
    if (!is_tensor(exponent)) throw cr::TypeError("pow: expected at least one Tensor argument");
    Tensor e = as_tensor_unchecked(exponent);
    return cr::pow(operand(input, e, "pow"), e);
  }, py::arg("input"), py::arg("exponent"));
  cls.def("pow", &pow_obj, py::arg("exponent"));
  cls.def("__pow__", [](const Tensor& s, py::handle e) { return pow_obj(s, e); }, py::is_operator());
  cls.def("__rpow__", [](const Tensor& s, py::handle b) { return cr::pow(operand(b, s, "pow"), s); }, py::is_operator());

  // ---- clamp / maximum / minimum / where ----
  m.def("clamp", &clamp_obj, py::arg("input"), py::arg("min") = py::none(), py::arg("max") = py::none());
  m.def("clip", &clamp_obj, py::arg("input"), py::arg("min") = py::none(), py::arg("max") = py::none());
  cls.def("clamp", &clamp_obj, py::arg("min") = py::none(), py::arg("max") = py::none());
  cls.def("clip", &clamp_obj, py::arg("min") = py::none(), py::arg("max") = py::none());
  m.def("maximum", [](const Tensor& a, py::handle b) { return cr::maximum(a, operand(b, a, "maximum")); },
        py::arg("input"), py::arg("other"));
  m.def("minimum", [](const Tensor& a, py::handle b) { return cr::minimum(a, operand(b, a, "minimum")); },
        py::arg("input"), py::arg("other"));
  cls.def("maximum", [](const Tensor& a, py::handle b) { return cr::maximum(a, operand(b, a, "maximum")); },
          py::arg("other"));
  cls.def("minimum", [](const Tensor& a, py::handle b) { return cr::minimum(a, operand(b, a, "minimum")); },
          py::arg("other"));
  m.def("where", &where_obj, py::arg("condition"), py::arg("input"), py::arg("other"));
  cls.def("where", [](const Tensor& self, const Tensor& cond, py::handle other) {
    return cr::where(cond, self, operand(other, self, "where"));
  }, py::arg("condition"), py::arg("other"));

  // ---- comparisons (bool results) ----
  const std::pair<const char*, CmpOp> cmps[] = {{"eq", CmpOp::Eq}, {"ne", CmpOp::Ne}, {"lt", CmpOp::Lt},
                                                {"le", CmpOp::Le}, {"gt", CmpOp::Gt}, {"ge", CmpOp::Ge}};
  for (const auto& [name, op] : cmps) {
    const CmpOp o = op;
    const char* nm = name;
    m.def(name, [o, nm](const Tensor& a, py::handle b) { return compare_obj(a, b, o, nm); },
          py::arg("input"), py::arg("other"));
    cls.def(name, [o, nm](const Tensor& a, py::handle b) { return compare_obj(a, b, o, nm); }, py::arg("other"));
    std::string dunder = std::string("__") + name + "__";
    cls.def(dunder.c_str(), [o, nm](const Tensor& a, py::handle b) -> py::object {
      if (!operand_like(b)) return not_implemented();  // t == None is False, as in Python
      return py::cast(compare_obj(a, b, o, nm));
    }, py::is_operator());
  }
  m.def("greater", [](const Tensor& a, py::handle b) { return compare_obj(a, b, CmpOp::Gt, "gt"); }, py::arg("input"), py::arg("other"));
  m.def("less", [](const Tensor& a, py::handle b) { return compare_obj(a, b, CmpOp::Lt, "lt"); }, py::arg("input"), py::arg("other"));

  // ---- logic ----
  using Binary = Tensor (*)(const Tensor&, const Tensor&);
  const std::pair<const char*, Binary> logic[] = {
      {"logical_and", &cr::logical_and}, {"logical_or", &cr::logical_or}, {"logical_xor", &cr::logical_xor},
      {"bitwise_and", &cr::bitwise_and}, {"bitwise_or", &cr::bitwise_or}, {"bitwise_xor", &cr::bitwise_xor}};
  for (const auto& [name, fn] : logic) {
    Binary f = fn;
    const char* nm = name;
    m.def(name, [f, nm](const Tensor& a, py::handle b) { return f(a, operand(b, a, nm)); },
          py::arg("input"), py::arg("other"));
    cls.def(name, [f, nm](const Tensor& a, py::handle b) { return f(a, operand(b, a, nm)); }, py::arg("other"));
  }
  const std::pair<const char*, Binary> bit_ops[] = {
      {"and", &cr::bitwise_and}, {"or", &cr::bitwise_or}, {"xor", &cr::bitwise_xor}};
  for (const auto& [name, fn] : bit_ops) {
    Binary f = fn;
    std::string op = std::string("__") + name + "__", rop = std::string("__r") + name + "__";
    cls.def(op.c_str(), [f](const Tensor& a, py::handle b) { return f(a, operand(b, a, "bitwise op")); },
            py::is_operator());
    cls.def(rop.c_str(), [f](const Tensor& a, py::handle b) { return f(operand(b, a, "bitwise op"), a); },
            py::is_operator());
  }

  // ---- activations (nn.functional calls these) ----
  m.def("leaky_relu", &cr::leaky_relu, py::arg("input"), py::arg("negative_slope") = 0.01);
  m.def("elu", &cr::elu, py::arg("input"), py::arg("alpha") = 1.0);
  m.def("gelu", &cr::gelu, py::arg("input"), py::arg("approximate") = "none");
  m.def("softplus", &cr::softplus, py::arg("input"), py::arg("beta") = 1.0, py::arg("threshold") = 20.0);

  // ---- in-place (return self: the same Python object) ----
  cls.def("add_", [](const Tensor& s, py::handle o, double alpha) { return add_obj_(s, o, alpha, "add_"); },
          py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  cls.def("sub_", [](const Tensor& s, py::handle o, double alpha) { return add_obj_(s, o, -alpha, "sub_"); },
          py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  cls.def("mul_", &mul_obj_, py::arg("other"));
  cls.def("div_", &div_obj_, py::arg("other"));
  cls.def("__iadd__", [](const Tensor& s, py::handle o) { return add_obj_(s, o, 1.0, "add_"); }, py::is_operator());
  cls.def("__isub__", [](const Tensor& s, py::handle o) { return add_obj_(s, o, -1.0, "sub_"); }, py::is_operator());
  cls.def("__imul__", &mul_obj_, py::is_operator());
  cls.def("__itruediv__", &div_obj_, py::is_operator());
  cls.def("neg_", [](const Tensor& s) { return cr::neg_(s); });
  cls.def("zero_", [](const Tensor& s) { return cr::zero_(s); });
  cls.def("fill_", [](const Tensor& s, py::handle v) {
    double d;
    if (is_tensor(v)) {
      Tensor t = as_tensor_unchecked(v);
      if (t.dim() != 0)
        throw cr::ShapeError(cr::str("fill_: only supports 0-dimension value tensor but got tensor with ", t.dim(), " dimensions"));
      d = cr::item_as_double(t);
    } else if (!py_number(v, d)) {
      if (!PyNumber_Check(v.ptr())) throw cr::TypeError("fill_: value must be a number");
      d = py::float_(py::reinterpret_borrow<py::object>(v)).cast<double>();
    }
    return cr::fill_(s, d);
  }, py::arg("value"));
  auto clamp_ = [](const Tensor& s, py::handle lo, py::handle hi) {
    return cr::clamp_(s, opt_number(lo, "clamp_", "min"), opt_number(hi, "clamp_", "max"));
  };
  cls.def("clamp_", clamp_, py::arg("min") = py::none(), py::arg("max") = py::none());
  cls.def("clip_", clamp_, py::arg("min") = py::none(), py::arg("max") = py::none());
  cls.def("copy_", [](const Tensor& s, py::handle src) { return cr::copy_(s, operand(src, s, "copy_")); },
          py::arg("src"));
}

}  // namespace crpy
