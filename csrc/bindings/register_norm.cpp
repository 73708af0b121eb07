// Fused normalization kernels (batch norm, layer norm), with torch.nn.functional's signatures.
#include "bindings/op_registry.h"
#include "ops/ops.h"

namespace crpy {

void register_norm(OpRegistry& reg) {
  reg.op(
      "batch_norm", kFunction,
      [](const Tensor& input, const std::optional<Tensor>& running_mean,
         const std::optional<Tensor>& running_var, const std::optional<Tensor>& weight,
         const std::optional<Tensor>& bias, bool training, double momentum, double eps) {
        return cr::batch_norm(input, opt(running_mean), opt(running_var), opt(weight), opt(bias), training,
                              momentum, eps);
      },
      "batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, "
      "eps=1e-05) -> Tensor\n\nBatch normalization over (N, C, *) inputs; updates the running stats in place "
      "when "
      "training.",
      py::arg("input"), py::arg("running_mean"), py::arg("running_var"), py::arg("weight") = py::none(),
      py::arg("bias") = py::none(), py::arg("training") = false, py::arg("momentum") = 0.1,
      py::arg("eps") = 1e-5);
  reg.op(
      "layer_norm", kFunction,
      [](const Tensor& input, py::handle normalized_shape, const std::optional<Tensor>& weight,
         const std::optional<Tensor>& bias, double eps) {
        return cr::layer_norm(input, parse_shape(normalized_shape, "layer_norm"), opt(weight), opt(bias),
                              eps);
      },
      "layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05) -> Tensor\n\nLayer "
      "normalization "
      "over the trailing normalized_shape dims.",
      py::arg("input"), py::arg("normalized_shape"), py::arg("weight") = py::none(),
      py::arg("bias") = py::none(), py::arg("eps") = 1e-5);
}

}  // namespace crpy
