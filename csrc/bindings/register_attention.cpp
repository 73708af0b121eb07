// Fused scaled dot-product attention, with torch.nn.functional's signature (the Python function
// chainrule.nn.functional.scaled_dot_product_attention calls this one).
#include "bindings/op_registry.h"
#include "ops/attention.h"

namespace crpy {

void register_attention(OpRegistry& reg) {
  reg.op(
      "_scaled_dot_product_attention", kFunction,
      [](const Tensor& query, const Tensor& key, const Tensor& value, const std::optional<Tensor>& attn_mask,
         double dropout_p, bool is_causal, std::optional<double> scale, bool enable_gqa) {
        return cr::scaled_dot_product_attention(query, key, value, opt(attn_mask), dropout_p, is_causal,
                                                scale, enable_gqa);
      },
      "_scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, "
      "scale=None, enable_gqa=False) -> Tensor\n\nFused softmax(query @ key^T * scale + mask) @ value: a "
      "blocked "
      "kernel with an online softmax that never holds the (L, S) score matrix; the backward recomputes it.",
      py::arg("query"), py::arg("key"), py::arg("value"), py::arg("attn_mask") = py::none(),
      py::arg("dropout_p") = 0.0, py::arg("is_causal") = false, py::arg("scale") = py::none(),
      py::arg("enable_gqa") = false);
}

}  // namespace crpy
