#include "ops/creation.h"

#include <cmath>
#include <cstring>
#include "ops/derivatives.h"
#include "ops/loops.h"
#include "ops/shape.h"

namespace cr {

Tensor zeros(const Dims& shape, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  std::memset(t.raw_data(), 0, (size_t)t.numel() * itemsize(dtype));
  return t;
}

Tensor full(const Dims& shape, double value, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    T v = static_cast<T>(value);
    T* p = t.data<T>();
    parallel_for(0, t.numel(), kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = v;
    });
  });
  return t;
}

Tensor ones(const Dims& shape, DType dtype) { return full(shape, 1.0, dtype); }

void copy_into(const Tensor& dst, const Tensor& src) {
  broadcast_shapes(dst.shape(), src.shape(), "copy_");
  if (numel_of(broadcast_shapes(dst.shape(), src.shape(), "copy_")) != dst.numel())
    throw ShapeError(str("copy_: source of shape ", src.shape(), " cannot be broadcast to ", dst.shape()));
  dispatch_all(dst.dtype(), [&](auto dtag) {
    using D = decltype(dtag);
    dispatch_all(src.dtype(), [&](auto stag) {
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
  Tensor out = Tensor::empty(t.shape(), t.dtype());
  copy_into(out, t);
  return out;
}

namespace {
struct SourceDtype {
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
inline uint64_t below(uint64_t bits, uint64_t range) {
  return (uint64_t)(((unsigned __int128)bits * (unsigned __int128)range) >> 64);
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
  std::vector<int64_t> perm((size_t)n);
  for (int64_t i = 0; i < n; ++i) perm[(size_t)i] = i;
  uint64_t key, first;
  gen_or_default(g).reserve((uint64_t)n, key, first);
  // Fisher-Yates, drawing the swap partner of i from counter first + i.
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = (int64_t)below(random_bits(key, first + (uint64_t)i), (uint64_t)i + 1);
    std::swap(perm[(size_t)i], perm[(size_t)j]);
  }
  Tensor t = Tensor::empty(Dims{n}, dtype);
  dispatch_numeric(dtype, "randperm", [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(perm[(size_t)i]);
  });
  return t;
}

}  // namespace cr
