// Elementwise ops, activations and in-place ops: module functions (PyTorch's signatures), Tensor
// methods and the operators not bound with the Tensor class itself.
#include <cstring>

#include <pybind11/numpy.h>

#include "bindings/op_registry.h"
#include "bindings/tensor_operators.h"
#include "core/grad_mode.h"
#include "ops/ops.h"

namespace crpy {

namespace {

using cr::CmpOp;

/// A Python int or float (bool included), read as a double. NumPy scalars go through operand().
inline bool py_number(py::handle o, double& v) {
  if (PyFloat_Check(o.ptr())) {
    v = PyFloat_AS_DOUBLE(o.ptr());
    return true;
  }
  if (PyLong_Check(o.ptr())) {
    int overflow = 0;
    long long i = PyLong_AsLongLongAndOverflow(o.ptr(), &overflow);
    if (overflow) return false;
    v = (double)i;
    return true;
  }
  return false;
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
  if (!PyBool_Check(e.ptr()) && cr::is_floating(self.dtype()) && py_number(e, v))
    return cr::pow_scalar(self, v);
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
  if (PyNumber_Check(o.ptr()) && !is_tensor(o))
    return py::float_(py::reinterpret_borrow<py::object>(o)).cast<double>();
  throw cr::TypeError(cr::str(op, ": '", which, "' must be a number or None"));
}

py::object where_obj(const Tensor& cond, py::handle a, py::handle b) {
  if (a.is_none() && b.is_none()) {
    // where(condition): the indices of its non-zero entries, one tensor per dim.
    Tensor nz = cr::nonzero(cond);
    py::tuple out(std::max<int64_t>(cond.dim(), 1));
    if (cond.dim() == 0) {
      out[0] = py::cast(cr::zeros(Dims{nz.shape()[0]}, DType::Int64));
      return std::move(out);
    }
    for (int64_t d = 0; d < cond.dim(); ++d)
      out[(size_t)d] = py::cast(cr::contiguous_copy(cr::select(nz, 1, d)));
    return std::move(out);
  }
  if (a.is_none() || b.is_none()) throw cr::TypeError("where(): give both input and other, or neither");
  if (!is_tensor(a) && !is_tensor(b) && PyNumber_Check(a.ptr()) && PyNumber_Check(b.ptr())) {
    // Two Python numbers: the result has their own type, as PyTorch (bools -> bool, ints -> int64,
    // a float -> the default floating dtype).
    auto kind = [](py::handle o) { return PyBool_Check(o.ptr()) ? 0 : PyLong_Check(o.ptr()) ? 1 : 2; };
    int k = std::max(kind(a), kind(b));
    DType dt = k == 0 ? DType::Bool : k == 1 ? DType::Int64 : default_float_dtype();
    Tensor like = Tensor::empty(Dims{}, dt);
    return py::cast(cr::where(cond, operand(a, like, "where"), operand(b, like, "where")));
  }
  Tensor ta = first_operand(a, b, "where");
  return py::cast(cr::where(cond, ta, operand(b, ta, "where")));
}

// In-place arithmetic with a Python-number fast path (no 0-dim tensor) for floating self.
const Tensor& add_obj_(const Tensor& self, py::handle other, double alpha, const char* op) {
  if (std::strcmp(op, "sub_") == 0) refuse_bool_subtraction(other);
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

Tensor add_obj(py::handle a, py::handle b, double alpha) {
  Tensor ta = first_operand(a, b, "add");
  return cr::add(ta, operand(b, ta, "add"), alpha);
}
Tensor sub_obj(py::handle a, py::handle b, double alpha) {
  refuse_bool_subtraction(a);
  refuse_bool_subtraction(b);
  Tensor ta = first_operand(a, b, "sub");
  return cr::sub(ta, operand(b, ta, "sub"), alpha);
}
Tensor mul_obj(py::handle a, py::handle b) {
  Tensor ta = first_operand(a, b, "mul");
  return cr::mul(ta, operand(b, ta, "mul"));
}
Tensor div_obj(py::handle a, py::handle b) {
  Tensor ta = first_operand(a, b, "div");
  return cr::div(ta, operand(b, ta, "div"));
}
Tensor pow_any(py::handle input, py::handle exponent) {
  if (is_tensor(input)) return pow_obj(as_tensor_unchecked(input), exponent);
  if (!is_tensor(exponent)) throw cr::TypeError("pow: expected at least one Tensor argument");
  Tensor e = as_tensor_unchecked(exponent);
  return cr::pow(operand(input, e, "pow"), e);
}

const Tensor& fill_obj_(const Tensor& s, py::handle v) {
  double d;
  if (is_tensor(v)) {
    Tensor t = as_tensor_unchecked(v);
    if (t.dim() != 0)
      throw cr::ShapeError(cr::str("fill_: only supports 0-dimension value tensor but got tensor with ",
                                   t.dim(), " dimensions"));
    if (cr::GradMode::is_enabled() && t.requires_grad()) {
      // The value gets the sum of the output gradient, as PyTorch: self becomes the expanded value.
      return cr::assign_with_(
          s, {t},
          [&t](const Tensor& x) {
            Tensor v = t.dtype() == x.dtype() ? t : cr::to_dtype(t, x.dtype());
            return cr::expand(v, x.shape());
          },
          "fill_");
    }
    d = cr::item_as_double(t);
  } else if (!py_number(v, d)) {
    if (!PyNumber_Check(v.ptr())) throw cr::TypeError("fill_: value must be a number");
    d = py::float_(py::reinterpret_borrow<py::object>(v)).cast<double>();
  }
  return cr::fill_(s, d);
}

const Tensor& clamp_obj_(const Tensor& s, py::handle lo, py::handle hi) {
  if (is_tensor(lo) || is_tensor(hi)) {  // tensor bounds: the out-of-place clamp, written back
    std::vector<Tensor> others;
    if (is_tensor(lo)) others.push_back(as_tensor_unchecked(lo));
    if (is_tensor(hi)) others.push_back(as_tensor_unchecked(hi));
    py::object l = py::reinterpret_borrow<py::object>(lo), h = py::reinterpret_borrow<py::object>(hi);
    return cr::assign_with_(s, others, [&](const Tensor& x) { return clamp_obj(x, l, h); }, "clamp_");
  }
  return cr::clamp_(s, opt_number(lo, "clamp_", "min"), opt_number(hi, "clamp_", "max"));
}

/// A binary op whose second operand may be a Python number or array (converted like `self`).
template <Tensor (*F)(const Tensor&, const Tensor&)>
Tensor with_operand(const Tensor& a, py::handle b) {
  return F(a, operand(b, a, "binary op"));
}
template <CmpOp Op>
Tensor compare_op(const Tensor& a, py::handle b) {
  static const char* names[] = {"eq", "ne", "lt", "le", "gt", "ge"};
  return compare_obj(a, b, Op, names[(int)Op]);
}

}  // namespace

void register_elementwise(OpRegistry& reg) {
  const unsigned FM = kFunction | kMethod;
  const auto input = py::arg("input"), other = py::arg("other");

  // ---- arithmetic ----
  reg.op("add", FM, &add_obj,
         "add(input, other, *, alpha=1) -> Tensor\n\ninput + alpha * other, broadcasting.", input, other,
         py::kw_only(), py::arg("alpha") = 1.0)
      .inplace([](const Tensor& s, py::handle o, double alpha) { return add_obj_(s, o, alpha, "add_"); },
               "In-place add.", other, py::kw_only(), py::arg("alpha") = 1.0);
  reg.op("sub", FM, &sub_obj,
         "sub(input, other, *, alpha=1) -> Tensor\n\ninput - alpha * other, broadcasting.", input, other,
         py::kw_only(), py::arg("alpha") = 1.0)
      .inplace([](const Tensor& s, py::handle o, double alpha) { return add_obj_(s, o, -alpha, "sub_"); },
               "In-place sub.", other, py::kw_only(), py::arg("alpha") = 1.0)
      .alias("subtract");
  reg.op("mul", FM, &mul_obj, "mul(input, other) -> Tensor\n\nElementwise product, broadcasting.", input,
         other)
      .inplace(&mul_obj_, "In-place mul.", other)
      .alias("multiply");
  reg.op("div", FM, &div_obj,
         "div(input, other) -> Tensor\n\nTrue division (integers give float32), broadcasting.", input, other)
      .inplace(&div_obj_, "In-place div.", other)
      .alias("divide")
      .alias("true_divide");
  reg.op("neg", FM, &cr::neg, "neg(input) -> Tensor\n\n-input.", input)
      .inplace([](const Tensor& s) { return cr::neg_(s); }, "In-place neg.")
      .alias("negative");

  // ---- unary math ----
  using Unary = Tensor (*)(const Tensor&);
  const std::tuple<const char*, Unary, const char*> unary[] = {
      {"exp", &cr::exp, "exp(input) -> Tensor\n\ne ** input."},
      {"log", &cr::log, "log(input) -> Tensor\n\nNatural logarithm."},
      {"sqrt", &cr::sqrt, "sqrt(input) -> Tensor\n\nSquare root."},
      {"rsqrt", &cr::rsqrt, "rsqrt(input) -> Tensor\n\n1 / sqrt(input)."},
      {"sign", &cr::sign, "sign(input) -> Tensor\n\n-1, 0 or 1 (gradient zero)."},
      {"sin", &cr::sin, "sin(input) -> Tensor\n\nSine."},
      {"cos", &cr::cos, "cos(input) -> Tensor\n\nCosine."},
      {"erf", &cr::erf, "erf(input) -> Tensor\n\nGauss error function."},
      {"square", &cr::square, "square(input) -> Tensor\n\ninput * input."},
      {"reciprocal", &cr::reciprocal, "reciprocal(input) -> Tensor\n\n1 / input."},
      {"logical_not", &cr::logical_not, "logical_not(input) -> Tensor\n\nElementwise not, as bool."},
      {"bitwise_not", &cr::bitwise_not, "bitwise_not(input) -> Tensor\n\n~input for bool and int64 tensors."},
      {"relu", &cr::relu, "relu(input) -> Tensor\n\nmax(input, 0)."},
      {"sigmoid", &cr::sigmoid, "sigmoid(input) -> Tensor\n\n1 / (1 + exp(-input))."},
      {"tanh", &cr::tanh, "tanh(input) -> Tensor\n\nHyperbolic tangent."},
  };
  for (const auto& [name, fn, doc] : unary) {
    Unary f = fn;
    std::string op = std::string(name) + "_";
    reg.op(name, FM, fn, doc, input)
        .inplace([f, op](const Tensor& s) { return cr::assign_unary_(s, f, op.c_str()); }, doc);
    register_single_tensor_call(name, fn);  // Note [Single-tensor calls]
  }
  register_single_tensor_call("abs", &cr::abs);
  reg.op("abs", FM, &cr::abs, "abs(input) -> Tensor\n\n|input| (int64 stays int64).", input)
      .inplace([](const Tensor& s) { return cr::assign_unary_(s, &cr::abs, "abs_"); }, "In-place abs.")
      .alias("absolute");

  // ---- pow ----
  reg.op("pow", FM, &pow_any, "pow(input, exponent) -> Tensor\n\ninput ** exponent; either may be a number.",
         input, py::arg("exponent"))
      .inplace(
          [](const Tensor& s, py::handle e) {
            std::vector<Tensor> others;
            if (is_tensor(e)) others.push_back(as_tensor_unchecked(e));
            py::object ex = py::reinterpret_borrow<py::object>(e);
            return cr::assign_with_(s, others, [&](const Tensor& x) { return pow_obj(x, ex); }, "pow_");
          },
          "In-place pow.", py::arg("exponent"));

  // ---- clamp / maximum / minimum / where ----
  reg.op("clamp", FM, &clamp_obj,
         "clamp(input, min=None, max=None) -> Tensor\n\nBounds (numbers or tensors) applied "
         "elementwise; min > max gives max.",
         input, py::arg("min") = py::none(), py::arg("max") = py::none())
      .inplace(&clamp_obj_, "In-place clamp (number or tensor bounds).", py::arg("min") = py::none(),
               py::arg("max") = py::none())
      .alias("clip");
  reg.op("maximum", FM, &with_operand<&cr::maximum>,
         "maximum(input, other) -> Tensor\n\nElementwise max; NaN "
         "propagates; ties split the gradient.",
         input, other);
  reg.op("minimum", FM, &with_operand<&cr::minimum>,
         "minimum(input, other) -> Tensor\n\nElementwise min; NaN "
         "propagates; ties split the gradient.",
         input, other);
  reg.op("where", kFunction, &where_obj,
         "where(condition, input, other) -> Tensor\n\ninput where condition, else other. where(condition) "
         "alone: the indices of condition's non-zero entries, as nonzero(condition, as_tuple=True).",
         py::arg("condition"), py::arg("input") = py::none(), py::arg("other") = py::none())
      .method([](const Tensor& self, const Tensor& cond,
                 py::handle o) { return cr::where(cond, self, operand(o, self, "where")); },
              "self.where(condition, other): self where condition, else other.", py::arg("condition"), other);

  // ---- comparisons (bool results) and logic ----
  using BinaryObj = Tensor (*)(const Tensor&, py::handle);
  const std::tuple<const char*, BinaryObj, const char*, const char*> binary[] = {
      {"eq", &compare_op<CmpOp::Eq>, "eq(input, other) -> Tensor\n\ninput == other, as bool.", nullptr},
      {"ne", &compare_op<CmpOp::Ne>, "ne(input, other) -> Tensor\n\ninput != other, as bool.", "not_equal"},
      {"lt", &compare_op<CmpOp::Lt>, "lt(input, other) -> Tensor\n\ninput < other, as bool.", "less"},
      {"le", &compare_op<CmpOp::Le>, "le(input, other) -> Tensor\n\ninput <= other, as bool.", "less_equal"},
      {"gt", &compare_op<CmpOp::Gt>, "gt(input, other) -> Tensor\n\ninput > other, as bool.", "greater"},
      {"ge", &compare_op<CmpOp::Ge>, "ge(input, other) -> Tensor\n\ninput >= other, as bool.",
       "greater_equal"},
      {"logical_and", &with_operand<&cr::logical_and>,
       "logical_and(input, other) -> Tensor\n\nElementwise and, as bool.", nullptr},
      {"logical_or", &with_operand<&cr::logical_or>,
       "logical_or(input, other) -> Tensor\n\nElementwise or, as bool.", nullptr},
      {"logical_xor", &with_operand<&cr::logical_xor>,
       "logical_xor(input, other) -> Tensor\n\nElementwise xor, as bool.", nullptr},
      {"bitwise_and", &with_operand<&cr::bitwise_and>,
       "bitwise_and(input, other) -> Tensor\n\ninput & other (bool, int64).", nullptr},
      {"bitwise_or", &with_operand<&cr::bitwise_or>,
       "bitwise_or(input, other) -> Tensor\n\ninput | other (bool, int64).", nullptr},
      {"bitwise_xor", &with_operand<&cr::bitwise_xor>,
       "bitwise_xor(input, other) -> Tensor\n\ninput ^ other (bool, int64).", nullptr},
  };
  for (const auto& [name, fn, doc, alias] : binary) {
    auto row = reg.op(name, FM, fn, doc, input, other);
    if (alias) row.alias(alias);
  }

  // ---- activations (nn.functional calls these) ----
  reg.op("silu", kFunction, &cr::silu, "silu(input) -> Tensor\n\ninput * sigmoid(input).", input);
  reg.op("leaky_relu", kFunction, &cr::leaky_relu, "leaky_relu(input, negative_slope=0.01) -> Tensor", input,
         py::arg("negative_slope") = 0.01);
  reg.op("elu", kFunction, &cr::elu, "elu(input, alpha=1.0) -> Tensor", input, py::arg("alpha") = 1.0);
  reg.op("gelu", kFunction, &cr::gelu, "gelu(input, approximate='none') -> Tensor\n\n'none' (erf) or 'tanh'.",
         input, py::arg("approximate") = "none");
  reg.op("softplus", kFunction, &cr::softplus,
         "softplus(input, beta=1.0, threshold=20.0) -> Tensor\n\n"
         "log(1 + exp(beta * input)) / beta; linear above threshold.",
         input, py::arg("beta") = 1.0, py::arg("threshold") = 20.0);

  // ---- in-place only ----
  reg.inplace_only("zero", [](const Tensor& s) { return cr::zero_(s); }, "Fills self with 0.");
  reg.inplace_only("fill", &fill_obj_, "Fills self with a number (or a 0-dim tensor's value).",
                   py::arg("value"));
  reg.inplace_only(
      "copy", [](const Tensor& s, py::handle src) { return cr::copy_(s, operand(src, s, "copy_")); },
      "Copies src (broadcast, converted) into self.", py::arg("src"));

  // ---- Python operators (not ops of their own: they call the rows above) ----
  PyTensorClass& cls = reg.tensor_class();
  def_traced(cls, "__abs__", &cr::abs);
  def_traced(cls, "__invert__", &cr::bitwise_not);
  def_traced(cls, "__pow__", [](const Tensor& s, py::handle e) { return pow_obj(s, e); }, py::is_operator());
  def_traced(
      cls, "__rpow__", [](const Tensor& s, py::handle b) { return cr::pow(operand(b, s, "pow"), s); },
      py::is_operator());
  const std::pair<const char*, CmpOp> cmps[] = {{"eq", CmpOp::Eq}, {"ne", CmpOp::Ne}, {"lt", CmpOp::Lt},
                                                {"le", CmpOp::Le}, {"gt", CmpOp::Gt}, {"ge", CmpOp::Ge}};
  for (const auto& [name, op] : cmps) {
    const CmpOp o = op;
    const char* nm = name;
    std::string dunder = std::string("__") + name + "__";
    def_traced(
        cls, dunder.c_str(),
        [o, nm](const Tensor& a, py::handle b) -> py::object {
          if (!operand_like(b)) return not_implemented();  // t == None is False, as in Python
          return py::cast(compare_obj(a, b, o, nm));
        },
        py::is_operator());
  }
  using Binary = Tensor (*)(const Tensor&, const Tensor&);
  const std::pair<const char*, Binary> bit_ops[] = {
      {"and", &cr::bitwise_and}, {"or", &cr::bitwise_or}, {"xor", &cr::bitwise_xor}};
  for (const auto& [name, fn] : bit_ops) {
    Binary f = fn;
    std::string op = std::string("__") + name + "__", rop = std::string("__r") + name + "__";
    def_traced(
        cls, op.c_str(), [f](const Tensor& a, py::handle b) { return f(a, operand(b, a, "bitwise op")); },
        py::is_operator());
    def_traced(
        cls, rop.c_str(), [f](const Tensor& a, py::handle b) { return f(operand(b, a, "bitwise op"), a); },
        py::is_operator());
  }
  def_traced(
      cls, "__iadd__", [](const Tensor& s, py::handle o) { return add_obj_(s, o, 1.0, "add_"); },
      py::is_operator());
  def_traced(
      cls, "__isub__", [](const Tensor& s, py::handle o) { return add_obj_(s, o, -1.0, "sub_"); },
      py::is_operator());
  def_traced(cls, "__imul__", &mul_obj_, py::is_operator());
  def_traced(cls, "__itruediv__", &div_obj_, py::is_operator());
}

}  // namespace crpy
