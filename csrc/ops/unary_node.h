#pragma once
// A one-input backward Node whose gradient is formula(grad_out, saved), the saved tensor being the
// input or the output. Shared by the elementwise math and the activations.
#include <string>

#include "core/node.h"

namespace cr {

template <class Formula>
struct UnaryBackward final : Node {
  SavedTensor saved;
  const char* name_;
  Formula formula_;
  UnaryBackward(const char* name, Formula f) : name_(name), formula_(std::move(f)) {}
  TensorList apply(TensorList&& g) override { return {formula_(g[0], saved.unpack(*this))}; }
  void release_saved() override { saved.reset(); }
  std::string name() const override { return name_; }
};

/// Records a unary node saving the input (save_output = false) or the output.
template <class Formula>
void record_unary(const Tensor& a, Tensor& out, const char* name, bool save_output, Formula f) {
  if (!needs_grad(a) || !is_floating(out.dtype())) return;
  auto n = std::make_shared<UnaryBackward<Formula>>(name, std::move(f));
  if (!save_output) n->saved = SavedTensor(a, false);
  set_history(n, a, out);
  if (save_output) n->saved = SavedTensor(out, true);
}

}  // namespace cr
