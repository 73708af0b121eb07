// Fused normalization: batch norm and layer norm forward kernels and their backward Node.
//
// Note [Normalization statistics]
// Mean and variance come from one deterministic pass: the elements of one channel (batch norm)
// or one row (layer norm) are cut into chunks of kStatChunk elements; each chunk gives
// (count, mean, M2) computed in double in two sweeps while it is in cache, and the chunks are
// merged left to right with Chan et al.'s pairwise formula. The result depends on the shape only,
// never on the thread count, and stays accurate when |mean| >> std (no sum-of-squares
// cancellation).
//
// Note [Normalization backward]
// With xhat = (x - mean) * invstd over a set S of n elements and y = xhat * w + b:
//   grad_b = sum(g),  grad_w = sum(g * xhat)            (over everything but the param dims)
//   grad_x = invstd * (gy - mean_S(gy) - xhat * mean_S(gy * xhat)),   gy = g * w.
// The formula is written with differentiable ops. Under create_graph the statistics are
// recomputed from x with differentiable ops as well, so the first derivative is an exact
// differentiable function of (g, x, w) and second derivatives are right; a plain backward reuses
// the statistics saved by the forward.
#include "ops/norm.h"

#include <cmath>
#include <limits>

#include "autograd/capture.h"
#include "core/parallel.h"
#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/elementwise.h"
#include "ops/loops.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace cr {

namespace {

constexpr int64_t kStatChunk = 4096;

struct Moments {
  double n = 0, mean = 0, m2 = 0;
};

inline Moments merge(const Moments& a, const Moments& b) {
  if (a.n == 0) return b;
  if (b.n == 0) return a;
  Moments r;
  r.n = a.n + b.n;
  double d = b.mean - a.mean;
  r.mean = a.mean + d * (b.n / r.n);
  r.m2 = a.m2 + b.m2 + d * d * (a.n * b.n / r.n);
  return r;
}

// Visits elements [b, e) of a set laid out as rows of `len` contiguous values `stride` apart,
// one contiguous segment at a time: f(pointer, length).
template <class T, class F>
inline void for_segments(const T* base, int64_t len, int64_t stride, int64_t b, int64_t e, const F& f) {
  int64_t k = b;
  while (k < e) {
    int64_t r = k / len, l = k % len;
    int64_t n = std::min(len - l, e - k);
    f(base + r * stride + l, n);
    k += n;
  }
}

template <class T>
Moments chunk_moments(const T* base, int64_t len, int64_t stride, int64_t b, int64_t e) {
  double s = 0;
  for_segments(base, len, stride, b, e, [&](const T* p, int64_t n) {
    for (int64_t i = 0; i < n; ++i) s += (double)p[i];
  });
  Moments m;
  m.n = (double)(e - b);
  m.mean = s / m.n;
  double m2 = 0;
  for_segments(base, len, stride, b, e, [&](const T* p, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      double d = (double)p[i] - m.mean;
      m2 += d * d;
    }
  });
  m.m2 = m2;
  return m;
}

// Moments of `count` elements laid out as rows of `len` values `stride` apart. Note [Normalization
// statistics].
template <class T>
Moments moments(const T* base, int64_t len, int64_t stride, int64_t count) {
  return parallel_reduce<Moments>(
      0, count, kStatChunk, Moments{},
      [&](int64_t b, int64_t e) { return chunk_moments(base, len, stride, b, e); }, merge);
}

// Backward of the fused training-mode batch norm and of layer norm. Note [Normalization backward].
// x is viewed as view_shape ((N, C, L) or (M, D)); the statistics reduce stat_dims, the parameter
// gradients param_dims; weight is viewed as param_view ((1, C, 1) or (1, D)).
struct NormAttrs {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  Dims view_shape, param_view;
  std::vector<int64_t> stat_dims, param_dims;
  double count = 1, eps = 0;
  bool has_weight = false;
};

// Layer norm's backward without create_graph, fused: one pass per row for the input's gradient,
// and the weight and bias gradients summed over fixed chunks of rows combined in chunk order (the
// same sums for any thread count, Note [Determinism]). Accumulates in double.
template <class T>
TensorList layer_norm_backward_fused(const GradArgs<4, NormAttrs>& d, int64_t M, int64_t D) {
  auto dense = [](const Tensor& t) { return t.is_contiguous() ? t : contiguous_copy(t); };
  Tensor x = dense(d.saved[0]), g = dense(d.grad);
  Tensor mean = dense(d.saved[2]), rstd = dense(d.saved[3]);
  Tensor w = d.attrs.has_weight ? dense(d.saved[1]) : Tensor();
  const T *xp = x.data<T>(), *gp = g.data<T>(), *mp = mean.data<T>(), *rp = rstd.data<T>();
  const T* wp = w.defined() ? w.data<T>() : nullptr;
  TensorList grads(3);
  if (d.needs(0)) {
    Tensor dx = Tensor::empty(Dims{M, D}, x.dtype());
    T* dp = dx.data<T>();
    parallel_for(0, M, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(D, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const T *xr = xp + r * D, *gr = gp + r * D;
                     const double mu = (double)mp[r], rs = (double)rp[r];
                     double sgy = 0, sgyx = 0;
                     for (int64_t j = 0; j < D; ++j) {
                       double gy = (double)gr[j] * (wp ? (double)wp[j] : 1.0);
                       sgy += gy;
                       sgyx += gy * (((double)xr[j] - mu) * rs);
                     }
                     const double mg = sgy / (double)D, mgx = sgyx / (double)D;
                     T* dr = dp + r * D;
                     for (int64_t j = 0; j < D; ++j) {
                       double gy = (double)gr[j] * (wp ? (double)wp[j] : 1.0);
                       double xhat = ((double)xr[j] - mu) * rs;
                       dr[j] = (T)((gy - mg - xhat * mgx) * rs);
                     }
                   }
                 });
    grads[0] = reshape(dx, d.input_shape(0));
  }
  if (d.needs(1) || d.needs(2)) {
    using Acc = std::vector<double>;  // [d weight (D), d bias (D)]
    constexpr int64_t kRows = 64;
    Acc tot = parallel_reduce<Acc>(
        0, M, kRows, Acc((size_t)(2 * D), 0.0),
        [&](int64_t b, int64_t e) {
          Acc p((size_t)(2 * D), 0.0);
          for (int64_t r = b; r < e; ++r) {
            const T *xr = xp + r * D, *gr = gp + r * D;
            const double mu = (double)mp[r], rs = (double)rp[r];
            for (int64_t j = 0; j < D; ++j) {
              p[(size_t)j] += (double)gr[j] * (((double)xr[j] - mu) * rs);
              p[(size_t)(D + j)] += (double)gr[j];
            }
          }
          return p;
        },
        [](Acc acc, const Acc& p) {
          for (size_t i = 0; i < acc.size(); ++i) acc[i] += p[i];
          return acc;
        });
    for (int k = 1; k <= 2; ++k) {
      if (!d.needs((size_t)k)) continue;
      Tensor t = Tensor::empty(Dims{D}, x.dtype());
      T* tp = t.data<T>();
      for (int64_t j = 0; j < D; ++j) tp[j] = (T)tot[(size_t)((k - 1) * D + j)];
      grads[(size_t)k] = reshape(t, d.input_shape((size_t)k));
    }
  }
  return grads;
}

TensorList norm_backward(const GradArgs<4, NormAttrs>& d) {
  const NormAttrs& a = d.attrs;
  if (!GradMode::is_enabled() && a.view_shape.size() == 2 && a.stat_dims == std::vector<int64_t>{1} &&
      d.grad.dtype() == d.saved[0].dtype() &&
      (d.grad.dtype() == DType::Float32 || d.grad.dtype() == DType::Float64)) {
    const int64_t M = a.view_shape[0], D = a.view_shape[1];
    if (d.grad.dtype() == DType::Float32) return layer_norm_backward_fused<float>(d, M, D);
    return layer_norm_backward_fused<double>(d, M, D);
  }
  const double inv_n = 1.0 / a.count;
  Tensor x = reshape(d.saved[0], a.view_shape), g = reshape(d.grad, a.view_shape);
  Tensor mu = d.saved[2], rstd = d.saved[3];
  if (GradMode::is_enabled()) {  // create_graph: the statistics again, with their history
    mu = sum(x, a.stat_dims, true) * inv_n;
    Tensor xc = x - mu;
    rstd = rsqrt_eps(sum(xc * xc, a.stat_dims, true) * inv_n, a.eps);
  }
  Tensor xhat = (x - mu) * rstd;
  TensorList grads(3);
  if (d.needs(0)) {
    Tensor gy = a.has_weight ? g * reshape(d.saved[1], a.param_view) : g;
    Tensor mean_gy = sum(gy, a.stat_dims, true) * inv_n;
    Tensor mean_gyx = sum(gy * xhat, a.stat_dims, true) * inv_n;
    grads[0] = reshape((gy - mean_gy - xhat * mean_gyx) * rstd, d.input_shape(0));
  }
  if (d.needs(1)) grads[1] = reshape(sum(g * xhat, a.param_dims, false), d.input_shape(1));
  if (d.needs(2)) grads[2] = reshape(sum(g, a.param_dims, false), d.input_shape(2));
  return grads;
}
const std::array<SavedSlot, 4> kNormSaves{{{"input"}, {"weight"}, {"mean"}, {"invstd"}}};
const Derivative<3, 4, NormAttrs> batch_norm_grad{
    "NativeBatchNormBackward0", {"input", "weight", "bias"}, {}, kNormSaves, norm_backward};
const Derivative<3, 4, NormAttrs> layer_norm_grad{
    "NativeLayerNormBackward0", {"input", "weight", "bias"}, {}, kNormSaves, norm_backward};

void check_param(const Tensor& p, const Tensor& input, int64_t numel, const char* op, const char* what,
                 const char* expect) {
  if (!p.defined()) return;
  if (p.numel() != numel)
    throw ShapeError(str(op, ": expected ", what, " to have ", numel, " elements (", expect,
                         ") but got shape ", p.shape(), " for input of shape ", input.shape()));
  if (p.dtype() != input.dtype())
    throw TypeError(str(op, ": expected ", what, " to have dtype ", dtype_name(input.dtype()),
                        " like the input, got ", dtype_name(p.dtype())));
}

// Contiguous, same-dtype data of an optional parameter (or null).
template <class T>
const T* param_data(const Tensor& p, Tensor& keep) {
  if (!p.defined()) return nullptr;
  keep = p.is_contiguous() ? p : contiguous_copy(p);
  return keep.data<T>();
}

}  // namespace

// ---- batch norm -----------------------------------------------------------------------------
static Tensor batch_norm_eval(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                              const Tensor& weight, const Tensor& bias, double eps, const Dims& param_view) {
  // Plain differentiable elementwise math: (x - running_mean) * (w / sqrt(running_var + eps)) + b.
  Tensor scale = rsqrt_eps(reshape(running_var, param_view), eps);
  if (weight.defined()) scale = mul(scale, reshape(weight, param_view));
  Tensor y = mul(sub(input, reshape(running_mean, param_view)), scale);
  if (bias.defined()) y = add(y, reshape(bias, param_view));
  return y;
}

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  if (!input.defined()) throw TypeError("batch_norm: input must be a Tensor");
  if (input.dim() < 2)
    throw ShapeError(
        str(op, ": expected input of shape (N, C, *) with at least 2 dims, got shape ", input.shape()));
  if (!is_floating(input.dtype()))
    throw TypeError(
        str(op, ": expected a floating point input (float32 or float64), got ", dtype_name(input.dtype())));
  if (!(eps >= 0)) throw ValueError(str(op, ": eps must be non-negative, got ", eps));
  const int64_t N = input.size(0), C = input.size(1);
  int64_t L = 1;
  for (int64_t d = 2; d < input.dim(); ++d) L *= input.size(d);
  std::string expect = str("num_features C=", C, " of input shape ", input.shape());
  check_param(weight, input, C, op, "weight", expect.c_str());
  check_param(bias, input, C, op, "bias", expect.c_str());
  for (const Tensor* r : {&running_mean, &running_var}) {
    if (!r->defined()) continue;
    const char* what = r == &running_mean ? "running_mean" : "running_var";
    if (r->numel() != C)
      throw ShapeError(str(op, ": expected ", what, " to have ", C, " elements (", expect, ") but got shape ",
                           r->shape()));
    if (!is_floating(r->dtype()))
      throw TypeError(
          str(op, ": expected ", what, " to be a floating point tensor, got ", dtype_name(r->dtype())));
  }
  Dims param_view(input.dim(), 1);
  param_view[1] = C;

  if (!training) {
    if (!running_mean.defined() || !running_var.defined())
      throw ValueError("batch_norm: running_mean and running_var must be given when training=False");
    return batch_norm_eval(input, running_mean, running_var, weight, bias, eps, param_view);
  }
  const int64_t count = N * L;
  if (count <= 1)
    throw ValueError(
        str("Expected more than 1 value per channel when training, got input size ", input.shape()));

  Tensor x = input.is_contiguous() ? input : contiguous_copy(input);
  Tensor out = Tensor::empty(input.shape(), input.dtype());
  Tensor mean = Tensor::empty(Dims{1, C, 1}, input.dtype());
  Tensor invstd = Tensor::empty(Dims{1, C, 1}, input.dtype());
  std::vector<double> batch_mean((size_t)C), batch_var((size_t)C);
  dispatch_floating(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* mp = mean.data<T>();
    T* ip = invstd.data<T>();
    // Channels in parallel; each channel's statistics are a fixed-chunk reduction (Note [Normalization
    // statistics]).
    parallel_for(0, C, std::max<int64_t>(1, 32768 / std::max<int64_t>(count, 1)), [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        Moments m = moments(xp + c * L, L, C * L, count);
        batch_mean[(size_t)c] = m.mean;
        batch_var[(size_t)c] = m.m2 / m.n;
        mp[c] = (T)m.mean;
        ip[c] = (T)(1.0 / std::sqrt(m.m2 / m.n + eps));
      }
    });
    Tensor wk, bk;
    const T* wp = param_data<T>(weight, wk);
    const T* bp = param_data<T>(bias, bk);
    T* op_ = out.data<T>();
    parallel_for(0, N * C, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(L, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     int64_t c = r % C;
                     T mu = mp[c];
                     T scale = wp ? (T)(ip[c] * wp[c]) : ip[c];
                     T shift = bp ? bp[c] : T(0);
                     const T* xr = xp + r * L;
                     T* yr = op_ + r * L;
                     for (int64_t l = 0; l < L; ++l) yr[l] = (xr[l] - mu) * scale + shift;
                   }
                 });
  });

  // Running statistics (in place, outside autograd): running = (1 - m) * running + m * batch.
  if (running_mean.defined() || running_var.defined()) {
    double unbias = (double)count / (double)(count - 1);
    auto update = [&](const Tensor& r, const std::vector<double>& batch, double factor) {
      if (!r.defined()) return;
      Tensor old = contiguous_copy_as(r, DType::Float64);
      Tensor upd = Tensor::empty(Dims{C}, DType::Float64);
      const double* o = old.data<double>();
      double* u = upd.data<double>();
      for (int64_t c = 0; c < C; ++c) u[c] = (1.0 - momentum) * o[c] + momentum * batch[(size_t)c] * factor;
      copy_into(r, reshape(upd, r.shape()));
      r.storage()->bump_version();
    };
    update(running_mean, batch_mean, 1.0);
    update(running_var, batch_var, unbias);
  }

  capture::note_internal(mean);  // Note [Internal tensors of a recorded call]
  capture::note_internal(invstd);
  if (auto* n = record(batch_norm_grad, {input, weight, bias}, out, {input, weight, mean, invstd}))
    n->attrs = NormAttrs{Dims{N, C, L}, Dims{1, C, 1}, {0, 2}, {0, 2}, (double)count, eps, weight.defined()};
  return out;
}

// ---- layer norm -----------------------------------------------------------------------------
Tensor layer_norm(const Tensor& input, const Dims& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const char* op = "layer_norm";
  if (!input.defined()) throw TypeError("layer_norm: input must be a Tensor");
  if (!is_floating(input.dtype()))
    throw TypeError(
        str(op, ": expected a floating point input (float32 or float64), got ", dtype_name(input.dtype())));
  if (!(eps >= 0)) throw ValueError(str(op, ": eps must be non-negative, got ", eps));
  const int64_t k = (int64_t)normalized_shape.size();
  if (k == 0) throw ValueError("layer_norm: normalized_shape must have at least one dimension");
  bool match = input.dim() >= k;
  for (int64_t i = 0; match && i < k; ++i) match = input.size(input.dim() - k + i) == normalized_shape[i];
  if (!match)
    throw ShapeError(str(op, ": expected input with shape [*, ", normalized_shape,
                         "] (trailing dims equal to ", "normalized_shape), but got input of shape ",
                         input.shape()));
  for (const Tensor* p : {&weight, &bias}) {
    if (!p->defined()) continue;
    const char* what = p == &weight ? "weight" : "bias";
    if (p->shape() != normalized_shape)
      throw ShapeError(str(op, ": expected ", what, " of shape ", normalized_shape,
                           " (normalized_shape), got ", p->shape()));
    if (p->dtype() != input.dtype())
      throw TypeError(str(op, ": expected ", what, " to have dtype ", dtype_name(input.dtype()),
                          " like the input, got ", dtype_name(p->dtype())));
  }
  const int64_t D = numel_of(normalized_shape);
  const int64_t M = D == 0 ? 0 : input.numel() / D;
  Tensor x = input.is_contiguous() ? input : contiguous_copy(input);
  Tensor out = Tensor::empty(input.shape(), input.dtype());
  Tensor mean = Tensor::empty(Dims{M, 1}, input.dtype());
  Tensor invstd = Tensor::empty(Dims{M, 1}, input.dtype());
  if (D > 0) {
    dispatch_floating(input.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      const T* xp = x.data<T>();
      T* mp = mean.data<T>();
      T* ip = invstd.data<T>();
      Tensor wk, bk;
      const T* wp = param_data<T>(weight, wk);
      const T* bp = param_data<T>(bias, bk);
      T* yp = out.data<T>();
      parallel_for(0, M, std::max<int64_t>(1, kElementwiseGrain / D), [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          const T* xr = xp + r * D;
          Moments m = moments(xr, D, D, D);
          T mu = (T)m.mean;
          T rs = (T)(1.0 / std::sqrt(m.m2 / m.n + eps));
          mp[r] = mu;
          ip[r] = rs;
          T* yr = yp + r * D;
          for (int64_t d = 0; d < D; ++d) {
            T v = (xr[d] - mu) * rs;
            if (wp) v = v * wp[d];
            if (bp) v = v + bp[d];
            yr[d] = v;
          }
        }
      });
    });
  }
  capture::note_internal(mean);  // Note [Internal tensors of a recorded call]
  capture::note_internal(invstd);
  if (auto* n = record(layer_norm_grad, {input, weight, bias}, out, {input, weight, mean, invstd}))
    n->attrs =
        NormAttrs{Dims{M, D}, Dims{1, D}, {1}, {0}, (double)std::max<int64_t>(D, 1), eps, weight.defined()};
  return out;
}

}  // namespace cr
