#pragma once
#include "core/tensor.h"

namespace cr {

/// torch.matmul semantics: 1-D, 2-D and batched N-D with broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace cr
