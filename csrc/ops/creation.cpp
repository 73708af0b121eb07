#include "ops/creation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>
#include "autograd/plan.h"
#include "ops/derivatives.h"
#include "ops/loops.h"
#include "ops/shape.h"

namespace cr {

Tensor zeros(const Dims& shape, DType dtype) {
  CR_PLANNED_DIRECT(zeros(shape, dtype));
  Tensor t = Tensor::empty(shape, dtype);
  std::memset(t.raw_data(), 0, (size_t)t.numel() * itemsize(dtype));
  CR_OFFER_DIRECT(1, "zeros", [p = t.raw_data(), bytes = (size_t)t.numel() * itemsize(dtype), keep = t] {
    std::memset(p, 0, bytes);
  });
  return t;
}

Tensor full(const Dims& shape, double value, DType dtype) {
  CR_PLANNED_DIRECT(full(shape, value, dtype));
  Tensor t = Tensor::empty(shape, dtype);
  dispatch_storage(dtype, [&](auto tag) {
    using T = decltype(tag);
    T v = static_cast<T>(value);
    T* p = t.data<T>();
    auto fill = [p, v](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = v;
    };
    parallel_for(0, t.numel(), kElementwiseGrain, fill);
    CR_OFFER_DIRECT(1, "full",
                    [fill, n = t.numel(), keep = t] { parallel_for(0, n, kElementwiseGrain, fill); });
  });
  return t;
}

Tensor ones(const Dims& shape, DType dtype) { return full(shape, 1.0, dtype); }

void copy_into(const Tensor& dst, const Tensor& src) {
  broadcast_shapes(dst.shape(), src.shape(), "copy_");
  if (numel_of(broadcast_shapes(dst.shape(), src.shape(), "copy_")) != dst.numel())
    throw ShapeError(str("copy_: source of shape ", src.shape(), " cannot be broadcast to ", dst.shape()));
  dispatch_storage(dst.dtype(), [&](auto dtag) {
    using D = decltype(dtag);
    dispatch_storage(src.dtype(), [&](auto stag) {
      using S = decltype(stag);
      if (dst.is_contiguous() && src.is_contiguous() && src.shape() == dst.shape()) {
        D* d = dst.data<D>();
        const S* s = src.data<S>();
        if constexpr (std::is_same_v<D, S>) {
          std::memcpy(d, s, (size_t)dst.numel() * sizeof(D));
        } else {
          parallel_for(0, dst.numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) d[i] = static_cast<D>(s[i]);
          });
        }
        return;
      }
      for_each_strided<2>(dst.shape(), {dst.raw_data(), src.raw_data()},
                          {dst.strides(), broadcast_strides(src, dst.shape())},
                          {(int64_t)sizeof(D), (int64_t)sizeof(S)},
                          [&](std::array<char*, 2>& p, const std::array<int64_t, 2>& st, int64_t n) {
                            for (int64_t i = 0; i < n; ++i)
                              *(D*)(p[0] + i * st[0]) = static_cast<D>(*(const S*)(p[1] + i * st[1]));
                          });
    });
  });
}

Tensor contiguous_copy_as(const Tensor& t, DType dt) {
  Tensor out = Tensor::empty(t.shape(), dt);
  copy_into(out, t);
  return out;
}

Tensor contiguous_copy(const Tensor& t) {
  CR_PLANNED(contiguous_copy(t));
  Tensor out = Tensor::empty(t.shape(), t.dtype());
  copy_into(out, t);
  return out;
}

namespace {
struct SourceDtype {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  DType dtype = DType::Float32;
};
const Derivative<1, 0, SourceDtype> to_copy_grad{
    "ToCopyBackward0", {"self"}, {[](const auto& d) { return to_dtype(d.grad, d.attrs.dtype); }}};
const Derivative<1> clone_grad{"CloneBackward0", {"self"}, {[](const auto& d) { return d.grad; }}};
}  // namespace

Tensor to_dtype(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = Tensor::empty(t.shape(), dtype);
  copy_into(out, t);
  if (auto* n = record(to_copy_grad, {t}, out)) n->attrs.dtype = t.dtype();
  return out;
}

Tensor clone(const Tensor& t) {
  Tensor out = contiguous_copy(t);
  record(clone_grad, {t}, out);
  return out;
}

// ---- ranges --------------------------------------------------------------------------------------
Tensor arange(double start, double end, double step, DType dtype) {
  if (step == 0) throw ValueError("arange(): step must be nonzero");
  if (!std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    throw ValueError(str("arange(): unsupported range: ", start, " -> ", end, " with step ", step));
  if ((step > 0 && start > end) || (step < 0 && start < end))
    throw ValueError(str("arange(): upper bound and larger bound inconsistent with step sign (start=", start,
                         ", end=", end, ", step=", step, ")"));
  double len_d = std::ceil((end - start) / step);
  if (len_d > 9.2e18) throw ValueError("arange(): the range has too many elements");
  int64_t n = (int64_t)len_d;
  Tensor t = Tensor::empty(Dims{n}, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    if constexpr (std::is_same_v<T, int64_t>) {
      if (start == std::floor(start) && step == std::floor(step) && std::fabs(start) < 9e15 &&
          std::fabs(step) < 9e15) {
        int64_t s0 = (int64_t)start, st = (int64_t)step;
        for (int64_t i = 0; i < n; ++i) p[i] = s0 + i * st;
        return;
      }
    }
    parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = static_cast<T>(start + (double)i * step);
    });
  });
  return t;
}

Tensor linspace(double start, double end, int64_t steps, DType dtype) {
  if (steps < 0) throw ValueError(str("linspace(): number of steps must be non-negative, got ", steps));
  Tensor t = Tensor::empty(Dims{steps}, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    if (steps == 1) {
      p[0] = static_cast<T>(start);
      return;
    }
    const double step = (end - start) / (double)(steps - 1);
    const int64_t half = steps / 2;
    for (int64_t i = 0; i < steps; ++i)
      p[i] = static_cast<T>(i < half ? start + step * (double)i : end - step * (double)(steps - i - 1));
  });
  return t;
}

Tensor eye(int64_t n, int64_t m, DType dtype) {
  if (n < 0 || m < 0) throw ValueError(str("eye(): n and m must be non-negative, got n=", n, ", m=", m));
  Tensor t = zeros(Dims{n, m}, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = static_cast<T>(1);
  });
  return t;
}

// ---- random fills --------------------------------------------------------------------------------
namespace {

// Fills t (any layout) by fill(T* contiguous_buffer, n): directly when contiguous, else via a copy.
template <class F>
void fill_through(const Tensor& t, const F& fill) {
  if (t.is_contiguous()) {
    fill(t.raw_data(), t.numel());
  } else {
    Tensor tmp = Tensor::empty(t.shape(), t.dtype());
    fill(tmp.raw_data(), tmp.numel());
    copy_into(t, tmp);
  }
  t.storage()->bump_version();
}

Generator& gen_or_default(Generator* g) { return g ? *g : *default_generator(); }

constexpr double k2pow53 = 1.0 / 9007199254740992.0;  // 2^-53
constexpr float k2pow24 = 1.0f / 16777216.0f;           // 2^-24

}  // namespace

void uniform_(const Tensor& t, double low, double high, Generator* g) {
  dispatch_floating(t.dtype(), "uniform_", [&](auto tag) {
    using T = decltype(tag);
    if (!(low <= high))
      throw ValueError(str("uniform_(): expects from <= to, but got from=", low, " > to=", high));
    fill_through(t, [&](char* raw, int64_t n) {
      uint64_t key, first;
      gen_or_default(g).reserve((uint64_t)n, key, first);
      T* p = (T*)raw;
      const double span = high - low;
      parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          uint64_t r = random_bits(key, first + (uint64_t)i);
          if constexpr (std::is_same_v<T, float>) {
            float u = (float)(r >> 40) * k2pow24;
            p[i] = (low == 0.0 && high == 1.0) ? u : (float)(low + span * (double)u);
          } else {
            p[i] = low + span * ((double)(r >> 11) * k2pow53);
          }
        }
      });
    });
  });
}

void normal_(const Tensor& t, double mean, double std, Generator* g) {
  dispatch_floating(t.dtype(), "normal_", [&](auto tag) {
    using T = decltype(tag);
    if (!(std >= 0.0)) throw ValueError(str("normal_(): expects std >= 0.0, but found std ", std));
    fill_through(t, [&](char* raw, int64_t n) {
      // Box-Muller: pair j uses counters 2j and 2j+1 and fills elements 2j (cos) and 2j+1 (sin).
      const int64_t pairs = (n + 1) / 2;
      uint64_t key, first;
      gen_or_default(g).reserve((uint64_t)(2 * pairs), key, first);
      T* p = (T*)raw;
      const double two_pi = 6.283185307179586476925286766559;
      parallel_for(0, pairs, kElementwiseGrain / 2, [&](int64_t b, int64_t e) {
        for (int64_t j = b; j < e; ++j) {
          uint64_t r1 = random_bits(key, first + 2 * (uint64_t)j);
          uint64_t r2 = random_bits(key, first + 2 * (uint64_t)j + 1);
          double u1 = ((double)(r1 >> 11) + 1.0) * k2pow53;  // (0, 1]
          double u2 = (double)(r2 >> 11) * k2pow53;
          double rad = std::sqrt(-2.0 * std::log(u1));
          double a = two_pi * u2;
          p[2 * j] = static_cast<T>(mean + std * rad * std::cos(a));
          if (2 * j + 1 < n) p[2 * j + 1] = static_cast<T>(mean + std * rad * std::sin(a));
        }
      });
    });
  });
}

namespace {
// floor(bits * range / 2^64): the high half of the 128-bit product.
inline uint64_t below(uint64_t bits, uint64_t range) {
#if defined(__SIZEOF_INT128__)
  return (uint64_t)(((unsigned __int128)bits * (unsigned __int128)range) >> 64);
#else  // MSVC: the same high half from 32-bit pieces
  uint64_t a_lo = (uint32_t)bits, a_hi = bits >> 32, b_lo = (uint32_t)range, b_hi = range >> 32;
  uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi, p2 = a_hi * b_lo, p3 = a_hi * b_hi;
  uint64_t mid = (p0 >> 32) + (uint32_t)p1 + (uint32_t)p2;
  return p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
#endif
}
}  // namespace

void randint_(const Tensor& t, int64_t low, int64_t high, Generator* g) {
  if (low >= high)
    throw ValueError(
        str("randint(): expects 'low' to be less than 'high', but got low=", low, " >= high=", high));
  dispatch_numeric(t.dtype(), "randint", [&](auto tag) {
    using T = decltype(tag);
    fill_through(t, [&](char* raw, int64_t n) {
      uint64_t key, first;
      gen_or_default(g).reserve((uint64_t)n, key, first);
      T* p = (T*)raw;
      const uint64_t range = (uint64_t)high - (uint64_t)low;
      parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
          p[i] =
              static_cast<T>((int64_t)((uint64_t)low + below(random_bits(key, first + (uint64_t)i), range)));
      });
    });
  });
}

Tensor randperm(int64_t n, DType dtype, Generator* g) {
  if (n < 0) throw ValueError(str("randperm(): n must be non-negative, got ", n));
  // The scratch is a tensor, so an impossible n fails like any other allocation (a MemoryError).
  Tensor scratch = Tensor::empty(Dims{n}, DType::Int64);
  int64_t* perm = scratch.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  uint64_t key, first;
  gen_or_default(g).reserve((uint64_t)n, key, first);
  // Fisher-Yates, drawing the swap partner of i from counter first + i.
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = (int64_t)below(random_bits(key, first + (uint64_t)i), (uint64_t)i + 1);
    std::swap(perm[i], perm[j]);
  }
  Tensor t = Tensor::empty(Dims{n}, dtype);
  dispatch_numeric(dtype, "randperm", [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(perm[i]);
  });
  return t;
}

}  // namespace cr

// ---- sampling from tensors of parameters --------------------------------------------------------
namespace cr {

namespace {

// Random draws have no useful derivative: PyTorch records them with a zero gradient, so that the
// result still requires grad when a parameter does.
Tensor zero_grad_of(const Dims& shape, const Tensor& grad) { return zeros(shape, grad.dtype()); }
const Derivative<2, 0> normal_both_grad{
    "NormalBackward3",
    {"mean", "std"},
    {[](const auto& d) { return zero_grad_of(d.input_shape(0), d.grad); },
     [](const auto& d) { return zero_grad_of(d.input_shape(1), d.grad); }}};
const Derivative<1, 0> normal_mean_grad{
    "NormalBackward1", {"mean"}, {[](const auto& d) { return zero_grad_of(d.input_shape(0), d.grad); }}};
const Derivative<1, 0> normal_std_grad{
    "NormalBackward2", {"std"}, {[](const auto& d) { return zero_grad_of(d.input_shape(0), d.grad); }}};
const Derivative<1, 0> bernoulli_grad{
    "BernoulliBackward0", {"self"}, {[](const auto& d) { return zero_grad_of(d.input_shape(0), d.grad); }}};

/// A uniform double in [0, 1) from 64 random bits.
inline double unit_double(uint64_t bits) { return (double)(bits >> 11) * k2pow53; }

/// Checks that every element of a floating tensor lies in [lo, hi] (NaN fails).
bool all_within(const Tensor& t, double lo, double hi) {
  bool ok = true;
  dispatch_floating(t.dtype(), "check", [&](auto tag) {
    using T = decltype(tag);
    Tensor c = t.is_contiguous() ? t : contiguous_copy(t);
    const T* p = c.data<T>();
    for (int64_t i = 0, n = c.numel(); i < n && ok; ++i) ok = (double)p[i] >= lo && (double)p[i] <= hi;
  });
  return ok;
}

/// out[i] = u_i < p_i with u_i uniform, as T; p (contiguous doubles) of out's element count.
template <class T>
void bernoulli_fill(T* out, const double* p, int64_t n, Generator* g) {
  uint64_t key, first;
  gen_or_default(g).reserve((uint64_t)n, key, first);
  parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      out[i] = static_cast<T>(unit_double(random_bits(key, first + (uint64_t)i)) < p[i] ? 1 : 0);
  });
}

}  // namespace

Tensor normal(const Tensor& mean, const Tensor& std, double mean_value, double std_value, Generator* g) {
  for (const Tensor* t : {&mean, &std})
    if (t->defined() && !is_floating(t->dtype()))
      throw TypeError(str("normal(): mean and std must be floating point, got ", dtype_name(t->dtype())));
  if (std.defined() ? !all_within(std, 0.0, std::numeric_limits<double>::infinity()) : !(std_value >= 0.0))
    throw ValueError(std.defined() ? std::string("normal(): expects every element of std >= 0.0")
                                   : str("normal(): expects std >= 0.0, but found std ", std_value));
  DType dt = mean.defined() ? mean.dtype() : std.dtype();
  Dims shape = mean.defined() && std.defined() ? broadcast_shapes(mean.shape(), std.shape(), "normal")
               : mean.defined()                ? mean.shape()
                                               : std.shape();
  Tensor out;
  {
    NoGradGuard ng;
    Tensor z = Tensor::empty(shape, dt);
    normal_(z, 0.0, 1.0, g);
    Tensor s = std.defined() ? mul(to_dtype(std, dt), z) : mul_scalar(z, std_value);
    out = mean.defined() ? add(to_dtype(mean, dt), s) : add_scalar(s, mean_value);
    if (out.shape() != shape) out = contiguous_copy(expand(out, shape));
    out = detach(out);
  }
  if (mean.defined() && std.defined()) record(normal_both_grad, {mean, std}, out);
  else if (mean.defined()) record(normal_mean_grad, {mean}, out);
  else record(normal_std_grad, {std}, out);
  return out;
}

Tensor bernoulli(const Tensor& p, Generator* g) {
  if (!is_floating(p.dtype()))
    throw TypeError(str("bernoulli(): expected a floating point tensor of probabilities, got ",
                        dtype_name(p.dtype()), " (convert first, or pass p=)"));
  if (!all_within(p, 0.0, 1.0))
    throw ValueError("bernoulli(): every probability must be in [0, 1] (found one outside it, or NaN)");
  Tensor probs = contiguous_copy_as(p, DType::Float64);
  Tensor out = Tensor::empty(p.shape(), p.dtype());
  dispatch_floating(p.dtype(), "bernoulli", [&](auto tag) {
    using T = decltype(tag);
    bernoulli_fill<T>(out.data<T>(), probs.data<double>(), out.numel(), g);
  });
  record(bernoulli_grad, {p}, out);
  return out;
}

void bernoulli_(const Tensor& self, double p, Generator* g) {
  if (!(p >= 0.0 && p <= 1.0))
    throw ValueError(str("bernoulli_(): expects p to be in [0, 1], but got p=", p));
  bernoulli_(self, scalar_tensor(p, DType::Float64), g);
}

void bernoulli_(const Tensor& self, const Tensor& p, Generator* g) {
  if (!is_floating(p.dtype()))
    throw TypeError(str("bernoulli_(): p must be a floating point tensor, got ", dtype_name(p.dtype())));
  if (broadcast_shapes(self.shape(), p.shape(), "bernoulli_") != self.shape())
    throw ShapeError(str("bernoulli_(): p of shape ", p.shape(), " cannot be broadcast to ", self.shape()));
  if (!all_within(p, 0.0, 1.0))
    throw ValueError("bernoulli_(): every probability must be in [0, 1] (found one outside it, or NaN)");
  Tensor probs = contiguous_copy_as(expand(p, self.shape()), DType::Float64);
  fill_through(self, [&](char* raw, int64_t n) {
    dispatch_all(self.dtype(), [&](auto tag) {
      using T = decltype(tag);
      bernoulli_fill<T>((T*)raw, probs.data<double>(), n, g);
    });
  });
}

Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement, Generator* g) {
  if (probs.dim() != 1 && probs.dim() != 2)
    throw ShapeError(
        str("multinomial(): expected a 1-D or 2-D tensor of probabilities, got shape ", probs.shape()));
  if (!is_floating(probs.dtype()))
    throw TypeError(
        str("multinomial(): expected floating point probabilities, got ", dtype_name(probs.dtype())));
  if (num_samples <= 0)
    throw ValueError(str("multinomial(): cannot sample n_sample <= 0 samples (got ", num_samples, ")"));
  const int64_t rows = probs.dim() == 2 ? probs.size(0) : 1, cats = probs.shape().back();
  if (!replacement && num_samples > cats)
    throw ValueError(
        str("multinomial(): cannot sample n_sample > prob_dist.size(-1) samples without "
            "replacement (",
            num_samples, " > ", cats, ")"));
  Tensor w = contiguous_copy_as(probs, DType::Float64);
  const double* wp = w.data<double>();
  for (int64_t r = 0; r < rows; ++r) {
    double total = 0;
    for (int64_t c = 0; c < cats; ++c) {
      double v = wp[r * cats + c];
      if (!(v >= 0.0) || std::isinf(v))
        throw ValueError("multinomial(): probability tensor contains either inf, nan or element < 0");
      total += v;
    }
    if (!(total > 0.0))
      throw ValueError(str("multinomial(): invalid multinomial distribution (sum of probabilities <= 0)",
                           rows > 1 ? str(" in row ", r) : std::string()));
  }
  Tensor out = Tensor::empty(probs.dim() == 2 ? Dims{rows, num_samples} : Dims{num_samples}, DType::Int64);
  int64_t* o = out.data<int64_t>();
  const int64_t per_row = replacement ? num_samples : cats;
  uint64_t key, first;
  gen_or_default(g).reserve((uint64_t)(rows * per_row), key, first);
  parallel_for(0, rows, 1, [&](int64_t rb, int64_t re) {
    std::vector<double> acc((size_t)cats);
    std::vector<int64_t> order((size_t)cats);
    for (int64_t r = rb; r < re; ++r) {
      const double* row = wp + r * cats;
      const uint64_t base = first + (uint64_t)(r * per_row);
      if (replacement) {
        // Inverse of the cumulative distribution: the first category whose running total exceeds u.
        double total = 0;
        int64_t last_positive = 0;
        for (int64_t c = 0; c < cats; ++c) {
          total += row[c];
          acc[(size_t)c] = total;
          if (row[c] > 0) last_positive = c;
        }
        for (int64_t s = 0; s < num_samples; ++s) {
          double u = unit_double(random_bits(key, base + (uint64_t)s)) * total;
          int64_t c = std::upper_bound(acc.begin(), acc.end(), u) - acc.begin();
          o[r * num_samples + s] = std::min(c, last_positive);
        }
      } else {
        // Each category gets an exponential arrival time of rate equal to its weight; the first
        // num_samples arrivals are a draw without replacement, in order (weight 0: never arrives,
        // ordered by index after the others).
        for (int64_t c = 0; c < cats; ++c) {
          double u = 1.0 - unit_double(random_bits(key, base + (uint64_t)c));  // (0, 1]
          acc[(size_t)c] = row[c] > 0 ? -std::log(u) / row[c] : std::numeric_limits<double>::infinity();
        }
        std::iota(order.begin(), order.end(), int64_t(0));
        std::partial_sort(order.begin(), order.begin() + num_samples, order.end(), [&](int64_t a, int64_t b) {
          return acc[(size_t)a] < acc[(size_t)b] || (acc[(size_t)a] == acc[(size_t)b] && a < b);
        });
        for (int64_t s = 0; s < num_samples; ++s) o[r * num_samples + s] = order[(size_t)s];
      }
    }
  });
  return out;
}

}  // namespace cr
