// Fused multi-tensor optimizer steps and gradient clipping.
//
// Note [Fused optimizer steps]
// An optimizer step is one call per parameter group: Python hands over the lists of parameters,
// gradients and state tensors, and the kernel walks each tensor once, reading and writing every
// element's param/state in registers (no temporaries, no Python per element). Large tensors are
// split across threads with parallel_for; elements are independent, so the result is the same
// for any thread count. Every formula follows PyTorch's single-tensor implementation operation
// by operation (scalars are cast to the tensor's dtype as PyTorch's CPU kernels do; `a + s * b`
// is add(alpha=s), `a + (s * b) * c` is addcmul, `a + (s * b) / c` is addcdiv), so float64
// trajectories agree with torch.optim to rounding. Inputs are validated before anything is
// written, so a failed call changes no tensor; params and state are bumped in version.
#include "ops/optim.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "autograd/plan.h"
#include "core/parallel.h"
#include "core/with_flags.h"
#include "kernels/kernels.h"
#include "ops/creation.h"

namespace cr {

namespace {

constexpr int64_t kGrain = 1 << 15;   // elements per thread before a tensor is split
constexpr int64_t kChunk = 1 << 14;   // fixed reduction chunk (Note [Determinism])

// A contiguous working copy of a tensor: the tensor itself when contiguous, else a copy that is
// written back once the kernel is done.
struct Contig {
  Tensor orig, work;
  explicit Contig(const Tensor& t) : orig(t), work(t.is_contiguous() ? t : contiguous_copy(t)) {}
  template <class T> T* data() const { return work.data<T>(); }
  void finish(bool written) {
    if (!written) return;
    if (!work.same(orig)) copy_into(orig, work);
    orig.storage()->bump_version();
  }
};

void check_params(const char* op, const TensorList& params, const TensorList& grads) {
  CR_CHECK(params.size() == grads.size(), ValueError, op, ": got ", params.size(), " parameters but ",
           grads.size(), " gradients");
  for (size_t i = 0; i < params.size(); ++i) {
    CR_CHECK(params[i].defined() && grads[i].defined(), ValueError, op, ": parameter ", i,
             " or its gradient is None");
    CR_CHECK(is_floating(params[i].dtype()), TypeError, op, ": parameter ", i,
             " must be float32 or float64, got ", dtype_name(params[i].dtype()));
    CR_CHECK(grads[i].shape() == params[i].shape() && grads[i].dtype() == params[i].dtype(), ValueError, op,
             ": gradient ", i, " has shape ", grads[i].shape(), " and dtype ", dtype_name(grads[i].dtype()),
             " but its parameter has shape ", params[i].shape(), " and dtype ",
             dtype_name(params[i].dtype()));
  }
}

void check_state(const char* op, const char* name, const TensorList& params, const TensorList& st) {
  CR_CHECK(st.size() == params.size(), ValueError, op, ": expected ", params.size(), " ", name,
           " tensors, got ", st.size());
  for (size_t i = 0; i < st.size(); ++i) {
    CR_CHECK(st[i].defined(), ValueError, op, ": ", name, " ", i, " is None");
    CR_CHECK(st[i].shape() == params[i].shape() && st[i].dtype() == params[i].dtype(), ValueError, op,
             ": state '", name, "' ", i, " has shape ", st[i].shape(), " and dtype ",
             dtype_name(st[i].dtype()), " but its parameter has shape ", params[i].shape(), " and dtype ",
             dtype_name(params[i].dtype()), "; load a state dict saved for these parameters");
  }
}

// Per-parameter scalars kept as one-element float tensors (the step counter, NAdam's mu_product).
void check_scalars(const char* op, const char* name, const TensorList& params, const TensorList& st) {
  CR_CHECK(st.size() == params.size(), ValueError, op, ": expected ", params.size(), " '", name,
           "' tensors, got ", st.size());
  for (size_t i = 0; i < st.size(); ++i)
    CR_CHECK(st[i].defined() && st[i].numel() == 1 && is_floating(st[i].dtype()), ValueError, op, ": state '",
             name, "' ", i, " must be a one-element float tensor");
}

void check_steps(const char* op, const TensorList& params, const TensorList& steps) {
  check_scalars(op, "step", params, steps);
}

// step_t += 1 in the counter's own dtype; returns the new value (PyTorch's _get_value(step_t)).
double increment_step(const Tensor& s) {
  double v = dispatch_floating(s.dtype(), "optimizer step", [&](auto tag) {
    using T = decltype(tag);
    T* p = s.data<T>();
    *p = *p + T(1);
    return (double)*p;
  });
  s.storage()->bump_version();
  return v;
}

// s *= factor in the scalar's own dtype (a float32 state stays float32, as in PyTorch, where
// the Python float is cast to the tensor's dtype); returns the new value.
double scale_scalar(const Tensor& s, double factor) {
  double v = dispatch_floating(s.dtype(), "optimizer step", [&](auto tag) {
    using T = decltype(tag);
    T* p = s.data<T>();
    *p = *p * T(factor);
    return (double)*p;
  });
  s.storage()->bump_version();
  return v;
}

// torch.lerp(m, g, w)'s CPU formula with the branch on |w| < 0.5 fixed for the loop.
template <bool kLow, class T> inline T lerp_fixed(T m, T g, T w) {
  return kLow ? m + w * (g - m) : g - (g - m) * (T(1) - w);
}

// torch.lerp's CPU formula: exact at both ends.
template <class T> inline T lerp(T self, T end, T w) {
  return std::abs(w) < T(0.5) ? self + w * (end - self) : end - (end - self) * (T(1) - w);
}
// torch.maximum: NaN propagates.
template <class T> inline T maximum(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  return a > b ? a : b;
}

// ---- Adam inner loop ---------------------------------------------------------------------------
// The loop itself is the chosen level's kernel (Note [CPU dispatch] in kernels/kernels.h).
template <class T>
using AdamConsts = kern::AdamConsts<T>;

template <class T>
void run_adam(T* pp, const T* gp, T* mp, T* vp, T* xp, int64_t n, const AdamConsts<T>& c, bool maximize,
              int wd_mode, bool amsgrad) {
  const kern::AdamFlags f{maximize, wd_mode, amsgrad, std::abs(c.w1) < T(0.5)};
  const kern::Table& t = kern::table();
  parallel_for(0, n, kGrain, [&](int64_t lo, int64_t hi) {
    if constexpr (std::is_same_v<T, float>) t.adam_f32(pp, gp, mp, vp, xp, lo, hi, c, f);
    else t.adam_f64(pp, gp, mp, vp, xp, lo, hi, c, f);
  });
}

}  // namespace

void sgd_step(const TensorList& params, const TensorList& grads, const TensorList& bufs,
              const std::vector<bool>& fresh, const SGDOptions& o) {
  CR_PLANNED_DIRECT(sgd_step(params, grads, bufs, fresh, o));
  const char* op = "SGD.step";
  check_params(op, params, grads);
  bool use_momentum = o.momentum != 0;
  if (use_momentum) {
    check_state(op, "momentum_buffer", params, bufs);
    CR_CHECK(fresh.size() == params.size(), ValueError, op, ": expected one 'fresh' flag per parameter");
  }
  // Each parameter's update, as a planned replay's direct call repeats it (Note [Direct calls] in
  // autograd/plan.h): the kernel on the tensors' memory, then the versions of what it wrote.
  struct Update {
    void* p;
    const void* g;
    void* b;
    int64_t n;
    bool f32;
    kern::SgdConsts<float> c32;
    kern::SgdConsts<double> c64;
    Storage *written, *buffer;
  };
  std::vector<Update> updates;
  bool direct = true;
  for (size_t i = 0; i < params.size(); ++i) {
    Contig p(params[i]), g(grads[i]);
    Contig b(use_momentum ? bufs[i] : params[i]);
    bool is_fresh = use_momentum && fresh[i];
    direct = direct && p.work.same(p.orig) && g.work.same(g.orig) && b.work.same(b.orig);
    dispatch_floating(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      T* pp = p.data<T>();
      const T* gp = g.data<T>();
      T* bp = b.data<T>();
      const kern::SgdConsts<T> c{T(o.weight_decay), T(o.momentum), T(1 - o.dampening),
                                 T(-o.lr),          o.maximize,    o.weight_decay != 0,
                                 use_momentum,      is_fresh,      o.nesterov};
      const kern::Table& t = kern::table();
      parallel_for(0, params[i].numel(), kGrain, [&](int64_t lo, int64_t hi) {
        if constexpr (std::is_same_v<T, float>) t.sgd_f32(pp, gp, bp, lo, hi, c);
        else t.sgd_f64(pp, gp, bp, lo, hi, c);
      });
      if (plan_detail::any_recording()) [[unlikely]] {
        Update u{pp,
                 gp,
                 bp,
                 params[i].numel(),
                 std::is_same_v<T, float>,
                 {},
                 {},
                 params[i].storage().get(),
                 use_momentum ? bufs[i].storage().get() : nullptr};
        if constexpr (std::is_same_v<T, float>) u.c32 = c;
        else u.c64 = c;
        updates.push_back(u);
      }
    });
    if (use_momentum) b.finish(true);
    p.finish(true);
  }
  if (direct)
    CR_OFFER_DIRECT(0, "sgd_step", [updates, keep = params, keep_g = grads, keep_b = bufs] {
      const kern::Table& t = kern::table();
      for (const Update& u : updates) {
        parallel_for(0, u.n, kGrain, [&](int64_t lo, int64_t hi) {
          if (u.f32) t.sgd_f32((float*)u.p, (const float*)u.g, (float*)u.b, lo, hi, u.c32);
          else t.sgd_f64((double*)u.p, (const double*)u.g, (double*)u.b, lo, hi, u.c64);
        });
        if (u.buffer) u.buffer->bump_version();
        u.written->bump_version();
      }
    });
}

void adam_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
               const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, const TensorList& steps,
               const AdamOptions& o) {
  const char* op = o.decoupled_weight_decay ? "AdamW.step" : "Adam.step";
  check_params(op, params, grads);
  check_state(op, "exp_avg", params, exp_avgs);
  check_state(op, "exp_avg_sq", params, exp_avg_sqs);
  if (o.amsgrad) check_state(op, "max_exp_avg_sq", params, max_exp_avg_sqs);
  check_steps(op, params, steps);
  for (size_t i = 0; i < params.size(); ++i) {
    double step = increment_step(steps[i]);
    double bias_correction1 = 1 - std::pow(o.beta1, step);
    double bias_correction2 = 1 - std::pow(o.beta2, step);
    double step_size = o.lr / bias_correction1;
    double bias_correction2_sqrt = std::pow(bias_correction2, 0.5);
    Contig p(params[i]), g(grads[i]), m(exp_avgs[i]), v(exp_avg_sqs[i]);
    Contig vmax(o.amsgrad ? max_exp_avg_sqs[i] : exp_avg_sqs[i]);
    dispatch_floating(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      AdamConsts<T> c;
      c.wd = T(o.weight_decay);
      c.decay = T(1 - o.lr * o.weight_decay);
      c.w1 = T(1 - o.beta1);
      c.beta2 = T(o.beta2);
      c.one_minus_beta2 = T(1 - o.beta2);
      c.bc2_sqrt = T(bias_correction2_sqrt);
      c.eps = T(o.eps);
      c.neg_step = T(-step_size);
      int wd_mode = o.weight_decay == 0 ? 0 : (o.decoupled_weight_decay ? 2 : 1);
      run_adam<T>(p.data<T>(), g.data<T>(), m.data<T>(), v.data<T>(), o.amsgrad ? vmax.data<T>() : nullptr,
                  params[i].numel(), c, o.maximize, wd_mode, o.amsgrad);
    });
    m.finish(true);
    v.finish(true);
    if (o.amsgrad) vmax.finish(true);
    p.finish(true);
  }
}

void rmsprop_step(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                  const TensorList& grad_avgs, const TensorList& bufs, const TensorList& steps,
                  const RMSpropOptions& o) {
  const char* op = "RMSprop.step";
  check_params(op, params, grads);
  check_state(op, "square_avg", params, square_avgs);
  if (o.centered) check_state(op, "grad_avg", params, grad_avgs);
  if (o.momentum > 0) check_state(op, "momentum_buffer", params, bufs);
  check_steps(op, params, steps);
  for (size_t i = 0; i < params.size(); ++i) {
    increment_step(steps[i]);
    Contig p(params[i]), g(grads[i]), sq(square_avgs[i]);
    Contig ga(o.centered ? grad_avgs[i] : params[i]);
    Contig b(o.momentum > 0 ? bufs[i] : params[i]);
    dispatch_floating(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      T* pp = p.data<T>();
      const T* gp = g.data<T>();
      T* sp = sq.data<T>();
      T* gap = ga.data<T>();
      T* bp = b.data<T>();
      const T wd = T(o.weight_decay), alpha = T(o.alpha), one_minus_alpha = T(1 - o.alpha);
      const T eps = T(o.eps), mom = T(o.momentum), neg_lr = T(-o.lr);
      parallel_for(0, params[i].numel(), kGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t k = lo; k < hi; ++k) {
          T grad = o.maximize ? -gp[k] : gp[k];
          if (o.weight_decay != 0) grad = grad + wd * pp[k];
          T square_avg = sp[k] * alpha + one_minus_alpha * grad * grad;
          sp[k] = square_avg;
          T avg;
          if (o.centered) {
            T grad_avg = lerp(gap[k], grad, one_minus_alpha);
            gap[k] = grad_avg;
            avg = std::sqrt(square_avg + T(-1) * grad_avg * grad_avg);
          } else {
            avg = std::sqrt(square_avg);
          }
          avg = avg + eps;
          if (o.momentum > 0) {
            T buf = bp[k] * mom + grad / avg;
            bp[k] = buf;
            pp[k] = pp[k] + neg_lr * buf;
          } else {
            pp[k] = pp[k] + neg_lr * grad / avg;
          }
        }
      });
    });
    sq.finish(true);
    if (o.centered) ga.finish(true);
    if (o.momentum > 0) b.finish(true);
    p.finish(true);
  }
}

void adagrad_step(const TensorList& params, const TensorList& grads, const TensorList& sums,
                  const TensorList& steps, const AdagradOptions& o) {
  const char* op = "Adagrad.step";
  check_params(op, params, grads);
  check_state(op, "sum", params, sums);
  check_steps(op, params, steps);
  for (size_t i = 0; i < params.size(); ++i) {
    double step = increment_step(steps[i]);
    double clr = o.lr / (1 + (step - 1) * o.lr_decay);
    Contig p(params[i]), g(grads[i]), s(sums[i]);
    dispatch_floating(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      T* pp = p.data<T>();
      const T* gp = g.data<T>();
      T* sp = s.data<T>();
      const T wd = T(o.weight_decay), eps = T(o.eps), neg_clr = T(-clr);
      parallel_for(0, params[i].numel(), kGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t k = lo; k < hi; ++k) {
          T grad = o.maximize ? -gp[k] : gp[k];
          if (o.weight_decay != 0) grad = grad + wd * pp[k];
          T sum = sp[k] + grad * grad;
          sp[k] = sum;
          T std_ = std::sqrt(sum) + eps;
          pp[k] = pp[k] + neg_clr * grad / std_;
        }
      });
    });
    s.finish(true);
    p.finish(true);
  }
}

// ---- NAdam, RAdam, Adamax, Adadelta ------------------------------------------------------------
// Same pattern as Adam: per-step scalars are computed once per parameter in double (as PyTorch
// does in Python), then cast to the tensor's dtype; the element loops are free functions over
// restrict pointers with the options as template parameters, so that each variant vectorizes.

namespace {

template <class T>
struct NAdamConsts {
  T wd, decay, w1, beta2, one_minus_beta2, bc2, eps, grad_coef, avg_coef;
};

template <class T, bool kMax, bool kWd, bool kDecoupled, bool kLow>
void nadam_loop(T* __restrict pp, const T* __restrict gp, T* __restrict mp, T* __restrict vp, int64_t lo,
                int64_t hi, const NAdamConsts<T> c) {
  for (int64_t k = lo; k < hi; ++k) {
    T grad = kMax ? -gp[k] : gp[k];
    T param = pp[k];
    if constexpr (kWd && kDecoupled) param = param * c.decay;
    if constexpr (kWd && !kDecoupled) grad = grad + c.wd * param;
    T exp_avg = lerp_fixed<kLow>(mp[k], grad, c.w1);
    T exp_avg_sq = vp[k] * c.beta2 + c.one_minus_beta2 * grad * grad;
    mp[k] = exp_avg;
    vp[k] = exp_avg_sq;
    T denom = std::sqrt(exp_avg_sq / c.bc2) + c.eps;
    param = param + c.grad_coef * grad / denom;
    pp[k] = param + c.avg_coef * exp_avg / denom;
  }
}

template <class T>
struct RAdamConsts {
  T wd, decay, w1, beta2, one_minus_beta2, bc1, bc2_sqrt, eps, lr, rect;
};

template <class T, bool kMax, bool kWd, bool kDecoupled, bool kLow, bool kRect>
void radam_loop(T* __restrict pp, const T* __restrict gp, T* __restrict mp, T* __restrict vp, int64_t lo,
                int64_t hi, const RAdamConsts<T> c) {
  for (int64_t k = lo; k < hi; ++k) {
    T grad = kMax ? -gp[k] : gp[k];
    T param = pp[k];
    if constexpr (kWd && kDecoupled) param = param * c.decay;
    if constexpr (kWd && !kDecoupled) grad = grad + c.wd * param;
    T exp_avg = lerp_fixed<kLow>(mp[k], grad, c.w1);
    T exp_avg_sq = vp[k] * c.beta2 + c.one_minus_beta2 * grad * grad;
    mp[k] = exp_avg;
    vp[k] = exp_avg_sq;
    T corrected = exp_avg / c.bc1;
    if constexpr (kRect) {
      T adaptive = c.bc2_sqrt / (std::sqrt(exp_avg_sq) + c.eps);
      pp[k] = param - corrected * c.lr * adaptive * c.rect;
    } else {
      pp[k] = param - corrected * c.lr;
    }
  }
}

template <class T>
struct AdamaxConsts {
  T wd, w1, beta2, eps, neg_clr;
};

template <class T, bool kMax, bool kWd, bool kLow>
void adamax_loop(T* __restrict pp, const T* __restrict gp, T* __restrict mp, T* __restrict up, int64_t lo,
                 int64_t hi, const AdamaxConsts<T> c) {
  for (int64_t k = lo; k < hi; ++k) {
    T grad = kMax ? -gp[k] : gp[k];
    T param = pp[k];
    if constexpr (kWd) grad = grad + c.wd * param;
    T exp_avg = lerp_fixed<kLow>(mp[k], grad, c.w1);
    // the exponentially weighted infinity norm; NaN propagates as in torch.maximum
    T exp_inf = maximum(up[k] * c.beta2, std::abs(grad) + c.eps);
    mp[k] = exp_avg;
    up[k] = exp_inf;
    pp[k] = param + c.neg_clr * exp_avg / exp_inf;
  }
}

template <class T>
struct AdadeltaConsts {
  T wd, rho, one_minus_rho, eps, neg_lr;
};

template <class T, bool kMax, bool kWd>
void adadelta_loop(T* __restrict pp, const T* __restrict gp, T* __restrict sp, T* __restrict ap, int64_t lo,
                   int64_t hi, const AdadeltaConsts<T> c) {
  for (int64_t k = lo; k < hi; ++k) {
    T grad = kMax ? -gp[k] : gp[k];
    T param = pp[k];
    if constexpr (kWd) grad = grad + c.wd * param;
    T square_avg = sp[k] * c.rho + c.one_minus_rho * grad * grad;
    T std_ = std::sqrt(square_avg + c.eps);
    T delta = std::sqrt(ap[k] + c.eps) / std_ * grad;
    sp[k] = square_avg;
    ap[k] = ap[k] * c.rho + c.one_minus_rho * delta * delta;
    pp[k] = param + c.neg_lr * delta;
  }
}

}  // namespace

void nadam_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                const TensorList& exp_avg_sqs, const TensorList& mu_products, const TensorList& steps,
                const NAdamOptions& o) {
  const char* op = "NAdam.step";
  check_params(op, params, grads);
  check_state(op, "exp_avg", params, exp_avgs);
  check_state(op, "exp_avg_sq", params, exp_avg_sqs);
  check_scalars(op, "mu_product", params, mu_products);
  check_steps(op, params, steps);
  for (size_t i = 0; i < params.size(); ++i) {
    double step = increment_step(steps[i]);
    double bias_correction2 = 1 - std::pow(o.beta2, step);
    // the momentum schedule mu_t = beta1 * (1 - 0.5 * 0.96^(t * psi)) and its running product
    double mu = o.beta1 * (1.0 - 0.5 * std::pow(0.96, step * o.momentum_decay));
    double mu_next = o.beta1 * (1.0 - 0.5 * std::pow(0.96, (step + 1) * o.momentum_decay));
    double mu_product = scale_scalar(mu_products[i], mu);
    double mu_product_next = mu_product * mu_next;
    Contig p(params[i]), g(grads[i]), m(exp_avgs[i]), v(exp_avg_sqs[i]);
    dispatch_floating(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      NAdamConsts<T> c;
      c.wd = T(o.weight_decay);
      c.decay = T(1 - o.lr * o.weight_decay);
      c.w1 = T(1 - o.beta1);
      c.beta2 = T(o.beta2);
      c.one_minus_beta2 = T(1 - o.beta2);
      c.bc2 = T(bias_correction2);
      c.eps = T(o.eps);
      c.grad_coef = T(-o.lr * (1.0 - mu) / (1.0 - mu_product));
      c.avg_coef = T((-o.lr * mu_next) / (1.0 - mu_product_next));
      T *pp = p.data<T>(), *mp = m.data<T>(), *vp = v.data<T>();
      const T* gp = g.data<T>();
      with_flags(
          [&](auto... flag) {
            parallel_for(0, params[i].numel(), kGrain, [&](int64_t lo, int64_t hi) {
              nadam_loop<T, decltype(flag)::value...>(pp, gp, mp, vp, lo, hi, c);
            });
          },
          o.maximize, o.weight_decay != 0, o.decoupled_weight_decay, std::abs(c.w1) < T(0.5));
    });
    m.finish(true);
    v.finish(true);
    p.finish(true);
  }
}

void radam_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                const TensorList& exp_avg_sqs, const TensorList& steps, const RAdamOptions& o) {
  const char* op = "RAdam.step";
  check_params(op, params, grads);
  check_state(op, "exp_avg", params, exp_avgs);
  check_state(op, "exp_avg_sq", params, exp_avg_sqs);
  check_steps(op, params, steps);
  for (size_t i = 0; i < params.size(); ++i) {
    double step = increment_step(steps[i]);
    double bias_correction1 = 1 - std::pow(o.beta1, step);
    double bias_correction2 = 1 - std::pow(o.beta2, step);
    // length of the approximated simple moving average, and its limit
    double rho_inf = 2 / (1 - o.beta2) - 1;
    double rho_t = rho_inf - 2 * step * std::pow(o.beta2, step) / bias_correction2;
    bool rectified = rho_t > 5.0;
    double rect =
        rectified
            ? std::pow((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t), 0.5)
            : 0.0;
    Contig p(params[i]), g(grads[i]), m(exp_avgs[i]), v(exp_avg_sqs[i]);
    dispatch_floating(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      RAdamConsts<T> c;
      c.wd = T(o.weight_decay);
      c.decay = T(1 - o.lr * o.weight_decay);
      c.w1 = T(1 - o.beta1);
      c.beta2 = T(o.beta2);
      c.one_minus_beta2 = T(1 - o.beta2);
      c.bc1 = T(bias_correction1);
      c.bc2_sqrt = T(std::pow(bias_correction2, 0.5));
      c.eps = T(o.eps);
      c.lr = T(o.lr);
      c.rect = T(rect);
      T *pp = p.data<T>(), *mp = m.data<T>(), *vp = v.data<T>();
      const T* gp = g.data<T>();
      with_flags(
          [&](auto... flag) {
            parallel_for(0, params[i].numel(), kGrain, [&](int64_t lo, int64_t hi) {
              radam_loop<T, decltype(flag)::value...>(pp, gp, mp, vp, lo, hi, c);
            });
          },
          o.maximize, o.weight_decay != 0, o.decoupled_weight_decay, std::abs(c.w1) < T(0.5), rectified);
    });
    m.finish(true);
    v.finish(true);
    p.finish(true);
  }
}

void adamax_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                 const TensorList& exp_infs, const TensorList& steps, const AdamaxOptions& o) {
  const char* op = "Adamax.step";
  check_params(op, params, grads);
  check_state(op, "exp_avg", params, exp_avgs);
  check_state(op, "exp_inf", params, exp_infs);
  check_steps(op, params, steps);
  for (size_t i = 0; i < params.size(); ++i) {
    double step = increment_step(steps[i]);
    double clr = o.lr / (1 - std::pow(o.beta1, step));
    Contig p(params[i]), g(grads[i]), m(exp_avgs[i]), u(exp_infs[i]);
    dispatch_floating(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      AdamaxConsts<T> c{T(o.weight_decay), T(1 - o.beta1), T(o.beta2), T(o.eps), T(-clr)};
      T *pp = p.data<T>(), *mp = m.data<T>(), *up = u.data<T>();
      const T* gp = g.data<T>();
      with_flags(
          [&](auto... flag) {
            parallel_for(0, params[i].numel(), kGrain, [&](int64_t lo, int64_t hi) {
              adamax_loop<T, decltype(flag)::value...>(pp, gp, mp, up, lo, hi, c);
            });
          },
          o.maximize, o.weight_decay != 0, std::abs(c.w1) < T(0.5));
    });
    m.finish(true);
    u.finish(true);
    p.finish(true);
  }
}

void adadelta_step(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                   const TensorList& acc_deltas, const TensorList& steps, const AdadeltaOptions& o) {
  const char* op = "Adadelta.step";
  check_params(op, params, grads);
  check_state(op, "square_avg", params, square_avgs);
  check_state(op, "acc_delta", params, acc_deltas);
  check_steps(op, params, steps);
  for (size_t i = 0; i < params.size(); ++i) {
    increment_step(steps[i]);
    Contig p(params[i]), g(grads[i]), sq(square_avgs[i]), acc(acc_deltas[i]);
    dispatch_floating(params[i].dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      AdadeltaConsts<T> c{T(o.weight_decay), T(o.rho), T(1 - o.rho), T(o.eps), T(-o.lr)};
      T *pp = p.data<T>(), *sp = sq.data<T>(), *ap = acc.data<T>();
      const T* gp = g.data<T>();
      with_flags(
          [&](auto... flag) {
            parallel_for(0, params[i].numel(), kGrain, [&](int64_t lo, int64_t hi) {
              adadelta_loop<T, decltype(flag)::value...>(pp, gp, sp, ap, lo, hi, c);
            });
          },
          o.maximize, o.weight_decay != 0);
    });
    sq.finish(true);
    acc.finish(true);
    p.finish(true);
  }
}

// ---- clipping and helpers ----------------------------------------------------------------------

Tensor total_norm(const TensorList& tensors, double p) {
  const double inf = std::numeric_limits<double>::infinity();
  DType out_dtype = DType::Float32;
  for (size_t i = 0; i < tensors.size(); ++i) {
    CR_CHECK(tensors[i].defined() && is_floating(tensors[i].dtype()), TypeError, "clip_grad_norm_: gradient ",
             i, " must be a float32 or float64 tensor");
    out_dtype = i == 0 ? tensors[i].dtype() : promote(out_dtype, tensors[i].dtype());
  }
  enum Kind {
    kMax,
    kMin,
    kCount,
    kOne,
    kTwo,
    kGeneral
  } kind = p == inf    ? kMax
           : p == -inf ? kMin
           : p == 0    ? kCount
           : p == 1    ? kOne
           : p == 2    ? kTwo
                       : kGeneral;
  double acc = kind == kMin ? inf : 0.0;
  auto combine = [&](double a, double b) {
    if (kind == kMax) return (std::isnan(a) || std::isnan(b)) ? std::nan("") : std::max(a, b);
    if (kind == kMin) return (std::isnan(a) || std::isnan(b)) ? std::nan("") : std::min(a, b);
    return a + b;
  };
  for (const Tensor& t0 : tensors) {
    Tensor t = t0.is_contiguous() ? t0 : contiguous_copy(t0);
    double part = dispatch_floating(t.dtype(), "clip_grad_norm_", [&](auto tag) {
      using T = decltype(tag);
      const T* x = t.data<T>();
      return parallel_reduce<double>(
          0, t.numel(), kChunk, kind == kMin ? inf : 0.0,
          [&](int64_t lo, int64_t hi) {
            double s = kind == kMin ? inf : 0.0;
            for (int64_t k = lo; k < hi; ++k) {
              double a = std::abs((double)x[k]);
              switch (kind) {
                case kMax: s = (std::isnan(a) || std::isnan(s)) ? a + s : std::max(s, a); break;
                case kMin: s = (std::isnan(a) || std::isnan(s)) ? a + s : std::min(s, a); break;
                case kCount: s += a != 0 ? 1.0 : 0.0; break;
                case kOne: s += a; break;
                case kTwo: s += a * a; break;
                case kGeneral: s += std::pow(a, p); break;
              }
            }
            return s;
          },
          combine);
    });
    acc = combine(acc, part);
  }
  double norm = kind == kTwo ? std::sqrt(acc) : kind == kGeneral ? std::pow(acc, 1.0 / p) : acc;
  if (tensors.empty()) norm = 0.0;
  return scalar_tensor(norm, out_dtype);
}

void clip_by_total_norm_(const TensorList& tensors, double max_norm, const Tensor& total) {
  for (size_t i = 0; i < tensors.size(); ++i)
    CR_CHECK(tensors[i].defined() && is_floating(tensors[i].dtype()), TypeError, "clip_grad_norm_: gradient ",
             i, " must be a float32 or float64 tensor");
  // clip_coef = max_norm / (total + 1e-6), clamped to 1, in the dtype of the total norm.
  double coef = dispatch_floating(total.dtype(), "clip_grad_norm_", [&](auto tag) {
    using T = decltype(tag);
    T c = T(max_norm) / (T(item_as_double(total)) + T(1e-6));
    return (double)(c > T(1) ? T(1) : c);  // NaN stays NaN, like torch.clamp
  });
  for (const Tensor& t : tensors) {
    Contig c(t);
    dispatch_floating(t.dtype(), "clip_grad_norm_", [&](auto tag) {
      using T = decltype(tag);
      T* x = c.data<T>();
      const T s = T(coef);
      parallel_for(0, t.numel(), kGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t k = lo; k < hi; ++k) x[k] = x[k] * s;
      });
    });
    c.finish(true);
  }
}

void clamp_abs_(const TensorList& tensors, double clip) {
  for (size_t i = 0; i < tensors.size(); ++i)
    CR_CHECK(tensors[i].defined() && is_floating(tensors[i].dtype()), TypeError,
             "clip_grad_value_: gradient ", i, " must be a float32 or float64 tensor");
  for (const Tensor& t : tensors) {
    Contig c(t);
    dispatch_floating(t.dtype(), "clip_grad_value_", [&](auto tag) {
      using T = decltype(tag);
      T* x = c.data<T>();
      const T lo_v = T(-clip), hi_v = T(clip);
      parallel_for(0, t.numel(), kGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t k = lo; k < hi; ++k) {
          T v = x[k];
          x[k] = std::isnan(v) ? v : v < lo_v ? lo_v : v > hi_v ? hi_v : v;
        }
      });
    });
    c.finish(true);
  }
}

void zero_(const TensorList& tensors) {
  for (const Tensor& t : tensors) {
    if (!t.defined()) continue;
    Contig c(t);
    std::memset(c.work.raw_data(), 0, (size_t)t.numel() * itemsize(t.dtype()));
    c.finish(true);
  }
}

void copy_from_flat_(const Tensor& vec, const TensorList& params) {
  CR_CHECK(vec.defined() && vec.dim() == 1, ValueError, "vector_to_parameters: expected a 1-d tensor, got ",
           vec.defined() ? vec.dim() : 0, " dims");
  int64_t total = 0;
  for (const Tensor& p : params) total += p.numel();
  CR_CHECK(total == vec.numel(), ValueError, "vector_to_parameters: the vector has ", vec.numel(),
           " elements but the parameters have ", total, " in all");
  int64_t offset = 0;
  for (const Tensor& p : params) {
    Tensor slice = make_view(vec, {p.numel()}, {vec.strides()[0]}, vec.offset() + offset * vec.strides()[0]);
    Tensor src = make_view(contiguous_copy(slice), p.shape(), contiguous_strides(p.shape()), 0);
    copy_into(p, src);
    p.storage()->bump_version();
    offset += p.numel();
  }
}

}  // namespace cr
