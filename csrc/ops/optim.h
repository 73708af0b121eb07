#pragma once
// Fused multi-tensor optimizer steps and gradient clipping. See Note [Fused optimizer steps] in
// optim.cpp: each call updates every tensor of a parameter group in one pass over its elements,
// in place, with exactly the arithmetic (and order of operations) of PyTorch's single-tensor
// ("foreach=False") implementations.
#include <vector>
#include "core/tensor.h"

namespace cr {

struct SGDOptions {
  double lr = 1e-3, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
};
/// SGD with optional (Nesterov) momentum. `momentum_buffers` is empty when momentum == 0;
/// a buffer whose `fresh` flag is set is initialised to the gradient (PyTorch's first step).
void sgd_step(const TensorList& params, const TensorList& grads, const TensorList& momentum_buffers,
              const std::vector<bool>& fresh, const SGDOptions& o);

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false, maximize = false, decoupled_weight_decay = false;
};
/// Adam / AdamW. `steps` are 0-d float32 counters incremented in place; `max_exp_avg_sqs` is
/// empty unless amsgrad.
void adam_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
               const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, const TensorList& steps,
               const AdamOptions& o);

struct RMSpropOptions {
  double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
  bool centered = false, maximize = false;
};
/// RMSprop. `grad_avgs` is empty unless centered, `momentum_buffers` empty unless momentum > 0.
void rmsprop_step(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                  const TensorList& grad_avgs, const TensorList& momentum_buffers, const TensorList& steps,
                  const RMSpropOptions& o);

struct AdagradOptions {
  double lr = 1e-2, lr_decay = 0, weight_decay = 0, eps = 1e-10;
  bool maximize = false;
};
void adagrad_step(const TensorList& params, const TensorList& grads, const TensorList& sums,
                  const TensorList& steps, const AdagradOptions& o);

struct NAdamOptions {
  double lr = 2e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0, momentum_decay = 4e-3;
  bool decoupled_weight_decay = false, maximize = false;
};
/// NAdam (Dozat 2016). `mu_products` are one-element float counters holding the running product
/// of the momentum schedule, updated in place in their own dtype (float32 as PyTorch keeps them).
void nadam_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                const TensorList& exp_avg_sqs, const TensorList& mu_products, const TensorList& steps,
                const NAdamOptions& o);

struct RAdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool decoupled_weight_decay = false, maximize = false;
};
/// RAdam (Liu et al. 2020): Adam whose adaptive term is rectified, or left out while the
/// variance estimate is unreliable (rho_t <= 5).
void radam_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                const TensorList& exp_avg_sqs, const TensorList& steps, const RAdamOptions& o);

struct AdamaxOptions {
  double lr = 2e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool maximize = false;
};
/// Adamax (Kingma & Ba 2015, section 7.1): Adam with an infinity-norm second moment.
void adamax_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                 const TensorList& exp_infs, const TensorList& steps, const AdamaxOptions& o);

struct AdadeltaOptions {
  double lr = 1.0, rho = 0.9, eps = 1e-6, weight_decay = 0;
  bool maximize = false;
};
/// Adadelta (Zeiler 2012).
void adadelta_step(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                   const TensorList& acc_deltas, const TensorList& steps, const AdadeltaOptions& o);

/// The p-norm of all elements of all tensors together (p may be inf, -inf or 0), accumulated in
/// float64 over fixed-size chunks so the result does not depend on the thread count. Returned as
/// a 0-d tensor of the promoted dtype of the inputs (float32 for an empty list).
Tensor total_norm(const TensorList& tensors, double p);
/// Multiplies every tensor in place by min(max_norm / (total + 1e-6), 1), computed in the dtype
/// of `total` as PyTorch's clip_grad_norm_ does.
void clip_by_total_norm_(const TensorList& tensors, double max_norm, const Tensor& total);
/// Clamps every element to [-clip, clip] in place (NaN stays NaN).
void clamp_abs_(const TensorList& tensors, double clip);
/// Sets every element to zero in place.
void zero_(const TensorList& tensors);
/// Copies consecutive slices of the 1-d `vec` into `params` in place (vector_to_parameters).
void copy_from_flat_(const Tensor& vec, const TensorList& params);

}  // namespace cr
