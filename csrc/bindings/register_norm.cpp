// Fused normalization kernels (batch norm, layer norm), with torch.nn.functional's signatures.
#include "bindings/common.h"
#include "core/node.h"
#include "ops/ops.h"

namespace crpy {

void register_norm(py::module_& m, PyTensorClass&) {
  m.def("batch_norm",
        [](const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
           const Tensor& bias, bool training, double momentum, double eps) {
          return cr::batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps);
        },
        py::arg("input"), py::arg("running_mean"), py::arg("running_var"), py::arg("weight") = py::none(),
        py::arg("bias") = py::none(), py::arg("training") = false, py::arg("momentum") = 0.1,
        py::arg("eps") = 1e-5,
        "Batch normalization over (N, C, *) inputs; updates the running stats in place when training.");
  m.def("layer_norm",
        [](const Tensor& input, py::handle normalized_shape, const Tensor& weight, const Tensor& bias, double eps) {
          return cr::layer_norm(input, parse_shape(normalized_shape, "layer_norm"), weight, bias, eps);
        },
        py::arg("input"), py::arg("normalized_shape"), py::arg("weight") = py::none(), py::arg("bias") = py::none(),
        py::arg("eps") = 1e-5, "Layer normalization over the trailing normalized_shape dims.");

  // Module.to(dtype) converts parameters in place while keeping their identity (PyTorch's
  // `param.data = new`): `dst` takes over src's storage, geometry and dtype. This is the setter
  // half of Tensor.data and belongs in register_tensor.cpp once that binds `data`.
  m.def("_set_tensor_data", [](const Tensor& dst, const Tensor& src) {
    if (!dst.defined() || !src.defined()) throw cr::TypeError("_set_tensor_data: expected two tensors");
    auto* d = dst.impl();
    auto* s = src.impl();
    if (d->requires_grad_ && !cr::is_floating(s->dtype_))
      throw cr::TypeError(cr::str("_set_tensor_data: a tensor that requires grad cannot take ", cr::dtype_name(s->dtype_),
                                  " data"));
    if (d->dtype_ != s->dtype_) {
      d->grad_.reset();
      d->grad_accumulator_.reset();
    }
    d->storage_ = s->storage_;
    d->sizes_ = s->sizes_;
    d->strides_ = s->strides_;
    d->offset_ = s->offset_;
    d->dtype_ = s->dtype_;
  }, py::arg("dst"), py::arg("src"));
}

}  // namespace crpy
