#pragma once
#include <string>
#include "core/tensor.h"

namespace cr {

// Activations: fused forward kernels; backward formulas written with differentiable ops, so
// gradients of gradients work. Integer inputs give float32 (relu keeps integer dtypes).
Tensor relu(const Tensor& x);
/// g where y > 0, else 0: relu's gradient given its output y (differentiable in g).
Tensor relu_backward(const Tensor& g, const Tensor& y);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
/// approximate: "none" (exact, erf) or "tanh"; anything else is a ValueError.
Tensor gelu(const Tensor& x, const std::string& approximate = "none");
Tensor silu(const Tensor& x);
/// 1 / (1 + exp(-x)), computed without overflow for large |x|.
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
/// g * (1 - y^2) and g * y * (1 - y): the gradients of tanh and sigmoid from their output y,
/// fused and differentiable in g and y.
Tensor tanh_backward(const Tensor& g, const Tensor& y);
Tensor sigmoid_backward(const Tensor& g, const Tensor& y);
/// log(1 + exp(beta x)) / beta, and x itself where beta x > threshold.
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);

}  // namespace cr
