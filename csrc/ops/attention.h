#pragma once
// Fused scaled dot-product attention (Note [Fused attention] in attention.cpp).
#include <optional>

#include "core/tensor.h"

namespace cr {

/// torch.nn.functional.scaled_dot_product_attention, fused: softmax(q k^T * scale + mask) v over
/// the last two dims of query (..., L, E), key (..., S, E) and value (..., S, Ev); batch dims
/// broadcast. attn_mask (bool: True takes part; floating: added to the scores) broadcasts to
/// (..., L, S); is_causal lets query i see keys 0..i; scale defaults to 1/sqrt(E); dropout_p drops
/// attention weights with chainrule's generator (the backward regenerates the same mask);
/// enable_gqa lets key/value have fewer heads (dim -3) than query. Rows whose keys are all masked
/// give zeros, as PyTorch's CPU kernel.
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale, bool enable_gqa);

}  // namespace cr
