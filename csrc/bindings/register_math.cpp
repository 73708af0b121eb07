// The elementwise math ops with options (ops/math.h): round(decimals=), lerp, nan_to_num. The
// plain ones (log1p, floor, remainder, isnan, ...) are op-table entries bound by register_table.
#include <pybind11/numpy.h>

#include "bindings/op_registry.h"
#include "ops/ops.h"

namespace crpy {

namespace {

/// A Python number (int, float, bool or a NumPy scalar) as a double; nullopt for anything else.
std::optional<double> number_arg(py::handle o) {
  if (is_tensor(o) || !PyNumber_Check(o.ptr()) || PyComplex_Check(o.ptr())) return std::nullopt;
  if (py::isinstance<py::array>(o) && py::array(py::reinterpret_borrow<py::object>(o)).ndim() != 0)
    return std::nullopt;
  return py::float_(py::reinterpret_borrow<py::object>(o)).cast<double>();
}

Tensor lerp_obj(const Tensor& self, const Tensor& end, py::handle weight) {
  if (is_tensor(weight)) return cr::lerp(self, end, as_tensor_unchecked(weight));
  if (auto w = number_arg(weight)) return cr::lerp(self, end, *w);
  throw cr::TypeError("lerp: weight must be a number or a Tensor");
}

const Tensor& lerp_obj_(const Tensor& self, const Tensor& end, py::handle weight) {
  std::vector<Tensor> others{end};
  if (is_tensor(weight)) others.push_back(as_tensor_unchecked(weight));
  else if (!number_arg(weight)) throw cr::TypeError("lerp_: weight must be a number or a Tensor");
  py::object w = py::reinterpret_borrow<py::object>(weight);
  return cr::assign_with_(self, others, [&](const Tensor& x) { return lerp_obj(x, end, w); }, "lerp_");
}

}  // namespace

void register_math(OpRegistry& reg) {
  const auto FMI = kFunction | kMethod;
  py::arg input("input");

  reg.op(
         "round", FMI, [](const Tensor& t, int64_t decimals) { return cr::round(t, decimals); },
         "round(input, *, decimals=0) -> Tensor\n\nRounds half to even, at `decimals` decimal places "
         "(negative: to tens, hundreds, ...); integer tensors are returned as they are.",
         input, py::kw_only(), py::arg("decimals") = 0)
      .inplace(
          [](const Tensor& self, int64_t decimals) {
            return cr::assign_with_(
                self, {}, [decimals](const Tensor& x) { return cr::round(x, decimals); }, "round_");
          },
          "In-place round.", py::kw_only(), py::arg("decimals") = 0);

  reg.op("lerp", FMI, &lerp_obj,
         "lerp(input, end, weight) -> Tensor\n\ninput + weight * (end - input); weight a number or a "
         "tensor, all of one floating dtype.",
         input, py::arg("end"), py::arg("weight"))
      .inplace(&lerp_obj_, "In-place lerp.", py::arg("end"), py::arg("weight"));

  reg.op(
         "nan_to_num", FMI,
         [](const Tensor& t, std::optional<double> nan, std::optional<double> posinf,
            std::optional<double> neginf) { return cr::nan_to_num(t, nan.value_or(0.0), posinf, neginf); },
         "nan_to_num(input, nan=0.0, posinf=None, neginf=None) -> Tensor\n\nReplaces NaN, +inf and -inf "
         "(by default with 0, the dtype's largest and its lowest finite value).",
         input, py::arg("nan") = 0.0, py::arg("posinf") = py::none(), py::arg("neginf") = py::none())
      .inplace(
          [](const Tensor& self, std::optional<double> nan, std::optional<double> posinf,
             std::optional<double> neginf) {
            return cr::assign_with_(
                self, {},
                [&](const Tensor& x) { return cr::nan_to_num(x, nan.value_or(0.0), posinf, neginf); },
                "nan_to_num_");
          },
          "In-place nan_to_num.", py::arg("nan") = 0.0, py::arg("posinf") = py::none(),
          py::arg("neginf") = py::none());
}

}  // namespace crpy
