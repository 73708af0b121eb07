// Fused multi-tensor optimizer steps and gradient clipping (Note [Fused optimizer steps] in
// ops/optim.cpp). Private entry points used by chainrule.optim and chainrule.nn.utils: each takes
// whole lists of tensors and releases the GIL while the kernel runs, when it is big enough to be
// worth it.
#include <optional>

#include "bindings/capture_wrap.h"
#include "bindings/common.h"
#include "ops/ops.h"

namespace crpy {

namespace {
/// Releases the GIL while a step over `ts` runs, when they hold kMinElements or more: below that
/// the release and re-acquire (two lock handoffs) cost more than a small model's whole step.
class ReleaseGilFor {
 public:
  static constexpr int64_t kMinElements = int64_t(1) << 16;
  explicit ReleaseGilFor(const TensorList& ts) {
    int64_t n = 0;
    for (const Tensor& t : ts)
      if (t.defined()) n += t.numel();
    if (n >= kMinElements) release_.emplace();
  }

 private:
  std::optional<py::gil_scoped_release> release_;
};

/// A step's gradients: `grads`, or each parameter's .grad when `grads` is empty (Optimizer.step
/// outside a trace passes none, so that no Python object is made for a gradient).
TensorList grads_of(const TensorList& params, const TensorList& grads) {
  if (!grads.empty() || params.empty()) return grads;
  TensorList out;
  out.reserve(params.size());
  for (const Tensor& p : params) {
    if (!p.defined() || !p.impl()->grad_)
      throw cr::ValueError(
          "optimizer step: a parameter without a gradient (pass its gradient, or none for any)");
    out.emplace_back(p.impl()->grad_);
  }
  return out;
}
}  // namespace

void register_optim(py::module_& m, PyTensorClass&) {
  using py::arg;
  m.def(
      "_clear_grads",
      [](const py::iterable& params) {
        for (py::handle h : params) py::cast<cr::TensorImpl*>(h)->grad_.reset();
      },
      arg("params"), "Sets .grad to None on every tensor of `params` (Optimizer.zero_grad outside a trace).");
  m.def(
      "_with_grad",
      [](const py::iterable& params) -> py::object {
        py::list out;
        for (py::handle h : params) {
          const cr::TensorImpl* p = py::cast<cr::TensorImpl*>(h);
          if (!p->grad_) continue;
          // a storage dtype's step runs on converted copies (chainrule._storage), which have no .grad
          if (cr::is_storage_dtype(p->dtype_)) return py::none();
          out.append(h);
        }
        return std::move(out);
      },
      arg("params"),
      "The tensors of `params` whose .grad is set (no Python object made for a gradient); None when\n"
      "one of them has a storage dtype (float16, bfloat16...), whose step needs its gradients passed.");
  def_traced(
      m, "_sgd_step",
      [](const TensorList& params, const TensorList& grads, const TensorList& bufs,
         const std::vector<bool>& fresh, double lr, double momentum, double dampening, double weight_decay,
         bool nesterov, bool maximize) {
        cr::SGDOptions o{lr, momentum, dampening, weight_decay, nesterov, maximize};
        TensorList gs = grads_of(params, grads);
        ReleaseGilFor nogil(params);
        cr::sgd_step(params, gs, bufs, fresh, o);
      },
      arg("params"), arg("grads"), arg("momentum_buffers"), arg("fresh"), arg("lr"), arg("momentum"),
      arg("dampening"), arg("weight_decay"), arg("nesterov"), arg("maximize"));

  def_traced(
      m, "_adam_step",
      [](const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
         const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, const TensorList& steps, double lr,
         double beta1, double beta2, double eps, double weight_decay, bool amsgrad, bool maximize,
         bool decoupled) {
        cr::AdamOptions o{lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled};
        TensorList gs = grads_of(params, grads);
        ReleaseGilFor nogil(params);
        cr::adam_step(params, gs, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, o);
      },
      arg("params"), arg("grads"), arg("exp_avgs"), arg("exp_avg_sqs"), arg("max_exp_avg_sqs"), arg("steps"),
      arg("lr"), arg("beta1"), arg("beta2"), arg("eps"), arg("weight_decay"), arg("amsgrad"), arg("maximize"),
      arg("decoupled_weight_decay"));

  def_traced(
      m, "_rmsprop_step",
      [](const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
         const TensorList& grad_avgs, const TensorList& bufs, const TensorList& steps, double lr,
         double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize) {
        cr::RMSpropOptions o{lr, alpha, eps, weight_decay, momentum, centered, maximize};
        ReleaseGilFor nogil(params);
        cr::rmsprop_step(params, grads, square_avgs, grad_avgs, bufs, steps, o);
      },
      arg("params"), arg("grads"), arg("square_avgs"), arg("grad_avgs"), arg("momentum_buffers"),
      arg("steps"), arg("lr"), arg("alpha"), arg("eps"), arg("weight_decay"), arg("momentum"),
      arg("centered"), arg("maximize"));

  def_traced(
      m, "_adagrad_step",
      [](const TensorList& params, const TensorList& grads, const TensorList& sums, const TensorList& steps,
         double lr, double lr_decay, double weight_decay, double eps, bool maximize) {
        cr::AdagradOptions o{lr, lr_decay, weight_decay, eps, maximize};
        ReleaseGilFor nogil(params);
        cr::adagrad_step(params, grads, sums, steps, o);
      },
      arg("params"), arg("grads"), arg("sums"), arg("steps"), arg("lr"), arg("lr_decay"), arg("weight_decay"),
      arg("eps"), arg("maximize"));

  def_traced(
      m, "_nadam_step",
      [](const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
         const TensorList& exp_avg_sqs, const TensorList& mu_products, const TensorList& steps, double lr,
         double beta1, double beta2, double eps, double weight_decay, double momentum_decay, bool decoupled,
         bool maximize) {
        cr::NAdamOptions o{lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled, maximize};
        ReleaseGilFor nogil(params);
        cr::nadam_step(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps, o);
      },
      arg("params"), arg("grads"), arg("exp_avgs"), arg("exp_avg_sqs"), arg("mu_products"), arg("steps"),
      arg("lr"), arg("beta1"), arg("beta2"), arg("eps"), arg("weight_decay"), arg("momentum_decay"),
      arg("decoupled_weight_decay"), arg("maximize"));

  def_traced(
      m, "_radam_step",
      [](const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
         const TensorList& exp_avg_sqs, const TensorList& steps, double lr, double beta1, double beta2,
         double eps, double weight_decay, bool decoupled, bool maximize) {
        cr::RAdamOptions o{lr, beta1, beta2, eps, weight_decay, decoupled, maximize};
        ReleaseGilFor nogil(params);
        cr::radam_step(params, grads, exp_avgs, exp_avg_sqs, steps, o);
      },
      arg("params"), arg("grads"), arg("exp_avgs"), arg("exp_avg_sqs"), arg("steps"), arg("lr"), arg("beta1"),
      arg("beta2"), arg("eps"), arg("weight_decay"), arg("decoupled_weight_decay"), arg("maximize"));

  def_traced(
      m, "_adamax_step",
      [](const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
         const TensorList& exp_infs, const TensorList& steps, double lr, double beta1, double beta2,
         double eps, double weight_decay, bool maximize) {
        cr::AdamaxOptions o{lr, beta1, beta2, eps, weight_decay, maximize};
        ReleaseGilFor nogil(params);
        cr::adamax_step(params, grads, exp_avgs, exp_infs, steps, o);
      },
      arg("params"), arg("grads"), arg("exp_avgs"), arg("exp_infs"), arg("steps"), arg("lr"), arg("beta1"),
      arg("beta2"), arg("eps"), arg("weight_decay"), arg("maximize"));

  def_traced(
      m, "_adadelta_step",
      [](const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
         const TensorList& acc_deltas, const TensorList& steps, double lr, double rho, double eps,
         double weight_decay, bool maximize) {
        cr::AdadeltaOptions o{lr, rho, eps, weight_decay, maximize};
        ReleaseGilFor nogil(params);
        cr::adadelta_step(params, grads, square_avgs, acc_deltas, steps, o);
      },
      arg("params"), arg("grads"), arg("square_avgs"), arg("acc_deltas"), arg("steps"), arg("lr"), arg("rho"),
      arg("eps"), arg("weight_decay"), arg("maximize"));

  def_traced(
      m, "_total_norm",
      [](const TensorList& tensors, double p) {
        ReleaseGilFor nogil(tensors);
        return cr::total_norm(tensors, p);
      },
      arg("tensors"), arg("norm_type"));
  def_traced(
      m, "_clip_by_total_norm_",
      [](const TensorList& tensors, double max_norm, const Tensor& total) {
        ReleaseGilFor nogil(tensors);
        cr::clip_by_total_norm_(tensors, max_norm, total);
      },
      arg("tensors"), arg("max_norm"), arg("total_norm"));
  def_traced(
      m, "_clamp_abs_",
      [](const TensorList& tensors, double clip) {
        ReleaseGilFor nogil(tensors);
        cr::clamp_abs_(tensors, clip);
      },
      arg("tensors"), arg("clip_value"));
  def_traced(
      m, "_zero_",
      [](const TensorList& tensors) {
        ReleaseGilFor nogil(tensors);
        cr::zero_(tensors);
      },
      arg("tensors"));
  def_traced(
      m, "_copy_from_flat_",
      [](const Tensor& vec, const TensorList& params) {
        ReleaseGilFor nogil(params);
        cr::copy_from_flat_(vec, params);
      },
      arg("vec"), arg("parameters"));
}

}  // namespace crpy
