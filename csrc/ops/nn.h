#pragma once
#include <string>
#include <vector>
#include "core/tensor.h"

namespace cr {

/// softmax / log_softmax along dim, computed with the row maximum subtracted first.
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

enum class Reduction { None, Mean, Sum };
/// 'none' | 'mean' | 'sum'; ValueError otherwise.
Reduction parse_reduction(const std::string& s, const char* op);

/// Negative log-likelihood of class indices. input (N, C, d1...) or (C,); target (N, d1...) or ().
/// weight: undefined or (C,). Rows whose target equals ignore_index contribute nothing.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction r,
                int64_t ignore_index);
/// log_softmax over the class dim followed by nll_loss, with label smoothing; a floating target
/// of the input's shape is read as class probabilities.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction r,
                     int64_t ignore_index, double label_smoothing);
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r);
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction r, double delta);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction r, double beta);
/// Stable log-sum-exp form: (1 - t) x + (1 + (pos_weight - 1) t) log(1 + exp(-x)).
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction r);
/// input: probabilities in [0, 1]; each log term is clamped to >= -100 as in PyTorch.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction r);

}  // namespace cr
