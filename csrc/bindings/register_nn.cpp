// Neural-network ops: softmax family and losses (torch.nn.functional names live in
// python/chainrule/nn/functional.py; the engine entry points here are underscored).
#include "bindings/op_registry.h"
#include "ops/ops.h"

namespace crpy {

namespace {

Tensor opt_tensor(py::handle o, const Tensor& like, const char* op) {
  return o.is_none() ? Tensor() : operand(o, like, op);
}

Tensor softmax_arg(const Tensor& t, py::handle dtype) {
  return dtype.is_none() ? t : cr::to_dtype(t, parse_dtype(dtype, t.dtype()));
}

}  // namespace

void register_nn(OpRegistry& reg) {
  const unsigned FM = kFunction | kMethod;
  const auto input = py::arg("input"), target = py::arg("target");
  const auto reduction = py::arg("reduction") = "mean";
  reg.op(
      "softmax", FM,
      [](const Tensor& t, int64_t dim, py::handle dtype) { return cr::softmax(softmax_arg(t, dtype), dim); },
      "softmax(input, dim, dtype=None) -> Tensor\n\nexp(input) normalized to sum to 1 along dim.", input,
      py::arg("dim"), py::arg("dtype") = py::none());
  reg.op(
      "log_softmax", FM,
      [](const Tensor& t, int64_t dim, py::handle dtype) {
        return cr::log_softmax(softmax_arg(t, dtype), dim);
      },
      "log_softmax(input, dim, dtype=None) -> Tensor\n\nlog(softmax(input, dim)), computed stably.", input,
      py::arg("dim"), py::arg("dtype") = py::none());

  // Losses: nn.functional's names call these (they parse the legacy size_average/reduce arguments).
  reg.op(
      "_nll_loss", kFunction,
      [](const Tensor& x, const Tensor& t, py::handle weight, const std::string& r, int64_t ignore_index) {
        return cr::nll_loss(x, t, opt_tensor(weight, x, "nll_loss"), cr::parse_reduction(r, "nll_loss"),
                            ignore_index);
      },
      "Negative log likelihood of class-index targets.", input, target, py::arg("weight") = py::none(),
      reduction, py::arg("ignore_index") = -100);
  reg.op(
      "_cross_entropy", kFunction,
      [](const Tensor& x, py::handle target, py::handle weight, const std::string& r, int64_t ignore_index,
         double label_smoothing) {
        Tensor t = operand(target, Tensor(), "cross_entropy");
        return cr::cross_entropy(x, t, opt_tensor(weight, x, "cross_entropy"),
                                 cr::parse_reduction(r, "cross_entropy"), ignore_index, label_smoothing);
      },
      "Cross entropy of logits with class-index or probability targets.", input, target,
      py::arg("weight") = py::none(), reduction, py::arg("ignore_index") = -100,
      py::arg("label_smoothing") = 0.0);
  reg.op(
      "_mse_loss", kFunction,
      [](const Tensor& x, py::handle t, const std::string& r) {
        return cr::mse_loss(x, operand(t, x, "mse_loss"), cr::parse_reduction(r, "mse_loss"));
      },
      "Mean squared error.", input, target, reduction);
  reg.op(
      "_l1_loss", kFunction,
      [](const Tensor& x, py::handle t, const std::string& r) {
        return cr::l1_loss(x, operand(t, x, "l1_loss"), cr::parse_reduction(r, "l1_loss"));
      },
      "Mean absolute error.", input, target, reduction);
  reg.op(
      "_huber_loss", kFunction,
      [](const Tensor& x, py::handle t, const std::string& r, double delta) {
        return cr::huber_loss(x, operand(t, x, "huber_loss"), cr::parse_reduction(r, "huber_loss"), delta);
      },
      "Huber loss: quadratic below delta, linear above.", input, target, reduction, py::arg("delta") = 1.0);
  reg.op(
      "_smooth_l1_loss", kFunction,
      [](const Tensor& x, py::handle t, const std::string& r, double beta) {
        return cr::smooth_l1_loss(x, operand(t, x, "smooth_l1_loss"),
                                  cr::parse_reduction(r, "smooth_l1_loss"), beta);
      },
      "Smooth L1 loss (Huber divided by beta).", input, target, reduction, py::arg("beta") = 1.0);
  reg.op(
      "_binary_cross_entropy_with_logits", kFunction,
      [](const Tensor& x, py::handle t, py::handle weight, py::handle pos_weight, const std::string& r) {
        const char* op = "binary_cross_entropy_with_logits";
        return cr::binary_cross_entropy_with_logits(x, operand(t, x, op), opt_tensor(weight, x, op),
                                                    opt_tensor(pos_weight, x, op),
                                                    cr::parse_reduction(r, op));
      },
      "Binary cross entropy of logits, computed stably.", input, target, py::arg("weight") = py::none(),
      py::arg("pos_weight") = py::none(), reduction);
  reg.op(
      "_binary_cross_entropy", kFunction,
      [](const Tensor& x, py::handle t, py::handle weight, const std::string& r) {
        const char* op = "binary_cross_entropy";
        return cr::binary_cross_entropy(x, operand(t, x, op), opt_tensor(weight, x, op),
                                        cr::parse_reduction(r, op));
      },
      "Binary cross entropy of probabilities (logs clamped to >= -100).", input, target,
      py::arg("weight") = py::none(), reduction);
}

}  // namespace crpy
