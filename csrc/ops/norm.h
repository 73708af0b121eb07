#pragma once
// Fused normalization: batch norm over (N, C, *) and layer norm over trailing dims.
#include <vector>
#include "core/tensor.h"

namespace cr {

/// torch.nn.functional.batch_norm. `input` is (N, C, *); running_mean/running_var/weight/bias are
/// (C,) or undefined. In training the batch statistics normalize the input (one deterministic
/// pass per channel) and, when given, the running stats are updated in place:
///   running = (1 - momentum) * running + momentum * batch_stat   (variance unbiased).
/// Otherwise the running stats normalize the input (plain differentiable elementwise math).
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum, double eps);

/// torch.nn.functional.layer_norm: normalizes over the trailing dims given by normalized_shape,
/// then applies the optional elementwise weight and bias (both of shape normalized_shape).
Tensor layer_norm(const Tensor& input, const Dims& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps);

}  // namespace cr
