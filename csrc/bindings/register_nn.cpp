// Neural-network ops: softmax family and losses (torch.nn.functional names live in
// python/chainrule/nn/functional.py; the engine entry points here are underscored).
#include "bindings/common.h"
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

void register_nn(py::module_& m, PyTensorClass& cls) {
  auto softmax = [](const Tensor& t, int64_t dim, py::handle dtype) { return cr::softmax(softmax_arg(t, dtype), dim); };
  auto log_softmax = [](const Tensor& t, int64_t dim, py::handle dtype) {
    return cr::log_softmax(softmax_arg(t, dtype), dim);
  };
  m.def("softmax", softmax, py::arg("input"), py::arg("dim"), py::arg("dtype") = py::none());
  m.def("log_softmax", log_softmax, py::arg("input"), py::arg("dim"), py::arg("dtype") = py::none());
  cls.def("softmax", softmax, py::arg("dim"), py::arg("dtype") = py::none());
  cls.def("log_softmax", log_softmax, py::arg("dim"), py::arg("dtype") = py::none());

  m.def("_nll_loss", [](const Tensor& input, const Tensor& target, py::handle weight, const std::string& reduction,
                        int64_t ignore_index) {
    return cr::nll_loss(input, target, opt_tensor(weight, input, "nll_loss"), cr::parse_reduction(reduction, "nll_loss"),
                        ignore_index);
  });
  m.def("_cross_entropy", [](const Tensor& input, py::handle target, py::handle weight, const std::string& reduction,
                             int64_t ignore_index, double label_smoothing) {
    Tensor t = operand(target, Tensor(), "cross_entropy");
    return cr::cross_entropy(input, t, opt_tensor(weight, input, "cross_entropy"),
                             cr::parse_reduction(reduction, "cross_entropy"), ignore_index, label_smoothing);
  });
  m.def("_mse_loss", [](const Tensor& input, py::handle target, const std::string& reduction) {
    return cr::mse_loss(input, operand(target, input, "mse_loss"), cr::parse_reduction(reduction, "mse_loss"));
  });
  m.def("_l1_loss", [](const Tensor& input, py::handle target, const std::string& reduction) {
    return cr::l1_loss(input, operand(target, input, "l1_loss"), cr::parse_reduction(reduction, "l1_loss"));
  });
  m.def("_huber_loss", [](const Tensor& input, py::handle target, const std::string& reduction, double delta) {
    return cr::huber_loss(input, operand(target, input, "huber_loss"), cr::parse_reduction(reduction, "huber_loss"), delta);
  });
  m.def("_smooth_l1_loss", [](const Tensor& input, py::handle target, const std::string& reduction, double beta) {
    return cr::smooth_l1_loss(input, operand(target, input, "smooth_l1_loss"),
                              cr::parse_reduction(reduction, "smooth_l1_loss"), beta);
  });
  m.def("_binary_cross_entropy_with_logits", [](const Tensor& input, py::handle target, py::handle weight,
                                                py::handle pos_weight, const std::string& reduction) {
    const char* op = "binary_cross_entropy_with_logits";
    return cr::binary_cross_entropy_with_logits(input, operand(target, input, op), opt_tensor(weight, input, op),
                                                opt_tensor(pos_weight, input, op), cr::parse_reduction(reduction, op));
  });
  m.def("_binary_cross_entropy", [](const Tensor& input, py::handle target, py::handle weight,
                                    const std::string& reduction) {
    const char* op = "binary_cross_entropy";
    return cr::binary_cross_entropy(input, operand(target, input, op), opt_tensor(weight, input, op),
                                    cr::parse_reduction(reduction, op));
  });
}

}  // namespace crpy
