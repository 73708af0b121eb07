#pragma once
// Convolution and pooling over one or two spatial dims (conv.cpp). Each op takes `nd`, the number
// of spatial dims (1 or 2), and per-dim options already expanded to nd entries.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace cr {

using IntList = std::vector<int64_t>;

/// torch.conv1d / torch.conv2d: input (N, C, *spatial) or unbatched (C, *spatial), weight
/// (O, C / groups, *kernel), optional bias (O,). `padding_str` is "" (use `padding`), "same" or
/// "valid". `op` names the function in messages.
Tensor convolution(const Tensor& input, const Tensor& weight, const Tensor& bias, int nd,
                   const IntList& stride, const IntList& padding, const std::string& padding_str,
                   const IntList& dilation, int64_t groups, const char* op);

/// torch.conv_transpose1d / conv_transpose2d: input (N, C, *spatial), weight (C, O / groups, *kernel).
Tensor conv_transpose(const Tensor& input, const Tensor& weight, const Tensor& bias, int nd,
                      const IntList& stride, const IntList& padding, const IntList& output_padding,
                      int64_t groups, const IntList& dilation, const char* op);

/// Max pooling: (values, indices), indices flat into each input plane. Empty stride: the kernel.
std::pair<Tensor, Tensor> max_pool(const Tensor& input, int nd, const IntList& kernel, const IntList& stride,
                                   const IntList& padding, const IntList& dilation, bool ceil_mode,
                                   const char* op);

/// Average pooling; divisor_override 0 means none.
Tensor avg_pool(const Tensor& input, int nd, const IntList& kernel, const IntList& stride,
                const IntList& padding, bool ceil_mode, bool count_include_pad, int64_t divisor_override,
                const char* op);

/// Adaptive pooling to `output_size` (an entry < 0: that input size).
Tensor adaptive_avg_pool(const Tensor& input, int nd, const IntList& output_size, const char* op);
std::pair<Tensor, Tensor> adaptive_max_pool(const Tensor& input, int nd, const IntList& output_size,
                                            const char* op);

}  // namespace cr
