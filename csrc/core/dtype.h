#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include "core/errors.h"

namespace cr {

// Note [Storage dtypes]
// int32, int16, int8, uint8, float16 and bfloat16 are storage dtypes: tensors hold them (4 or 2 bytes per
// element) and the conversion, copy, fill and view machinery handles them natively, but arithmetic runs in
// their compute dtype (int64 for the narrow integers, float32 for the two half types). The binding layer
// converts such operands at op entry and rounds the result back (round-to-nearest-even), as PyTorch's CPU
// kernels also compute half-precision math in float32. The dispatch helpers below refuse storage dtypes, so
// a kernel that was not reached through that conversion raises instead of misreading memory.
enum class DType : uint8_t {
  Bool = 0,
  Int64 = 1,
  Float32 = 2,
  Float64 = 3,
  Int32 = 4,
  Float16 = 5,
  BFloat16 = 6,
  Int16 = 7,
  Int8 = 8,
  UInt8 = 9
};
constexpr int kNumDTypes = 10;

inline size_t itemsize(DType d) {
  // a table, not a switch: Tensor::data<T>() reads it on every op and stays small enough to inline
  static constexpr uint8_t kSize[kNumDTypes] = {1, 8, 4, 8, 4, 2, 2, 2, 1, 1};
  return (size_t)d < (size_t)kNumDTypes ? kSize[(size_t)d] : 0;
}
inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::Bool: return "bool";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int32: return "int32";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Int16: return "int16";
    case DType::Int8: return "int8";
    case DType::UInt8: return "uint8";
  }
  return "?";
}
inline bool is_floating(DType d) {
  return d == DType::Float32 || d == DType::Float64 || d == DType::Float16 || d == DType::BFloat16;
}
/// The integer dtypes narrower than int64 (int32, int16, int8, uint8).
inline bool is_narrow_int(DType d) {
  return d == DType::Int32 || d == DType::Int16 || d == DType::Int8 || d == DType::UInt8;
}
/// int32, int16, int8, uint8, float16, bfloat16 (Note [Storage dtypes]).
inline bool is_storage_dtype(DType d) {
  return is_narrow_int(d) || d == DType::Float16 || d == DType::BFloat16;
}
/// The dtype a storage dtype computes in: int64 for the narrow integers, float32 for float16 and
/// bfloat16.
inline DType compute_dtype(DType d) {
  if (is_narrow_int(d)) return DType::Int64;
  if (d == DType::Float16 || d == DType::BFloat16) return DType::Float32;
  return d;
}
/// Rank in PyTorch's promotion lattice: bool < uint8, int8 < int16 < int32 < int64 < float16,
/// bfloat16 < float32 < float64.
inline int promotion_rank(DType d) {
  switch (d) {
    case DType::Bool: return 0;
    case DType::UInt8:
    case DType::Int8: return 1;
    case DType::Int16: return 2;
    case DType::Int32: return 3;
    case DType::Int64: return 4;
    case DType::Float16:
    case DType::BFloat16: return 5;
    case DType::Float32: return 6;
    case DType::Float64: return 7;
  }
  return 0;
}
/// Type promotion as in PyTorch: the higher rank wins; float16 with bfloat16 gives float32, uint8
/// with int8 gives int16.
inline DType promote(DType a, DType b) {
  if (a == b) return a;
  int ra = promotion_rank(a), rb = promotion_rank(b);
  if (ra == rb) return ra == 1 ? DType::Int16 : DType::Float32;
  return ra > rb ? a : b;
}

/// IEEE half precision, stored as bits; converts through float with round-to-nearest-even.
struct Half {
  uint16_t bits = 0;
  Half() = default;
  Half(float f) : bits(from_float(f)) {}
  // Other numbers convert through float, as PyTorch's do (double -> float -> half).
  template <class T, std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, float>, int> = 0>
  Half(T v) : Half(static_cast<float>(v)) {}
  operator float() const { return to_float(bits); }
  static uint16_t from_float(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u));  // nan / inf
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // rounds to beyond 65504: inf
    if (ax < 0x38800000u) {  // below the smallest normal half: subnormal or zero
      // Adding 0.5 (as float) aligns the half-subnormal quantum with float's last mantissa bit, so the
      // hardware add rounds to nearest even exactly once.
      float a;
      std::memcpy(&a, &ax, 4);
      a += 0.5f;
      uint32_t r;
      std::memcpy(&r, &a, 4);
      return (uint16_t)(sign | (r - 0x3f000000u));
    }
    uint32_t odd = (ax >> 13) & 1u;
    ax += 0xc8000fffu + odd;  // rebias the exponent (-112 << 23) and round to nearest even
    return (uint16_t)(sign | (ax >> 13));
  }
  static float to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    uint32_t x;
    if (exp == 0x1f) {
      x = sign | 0x7f800000u | (man << 13);
    } else if (exp == 0) {
      float f = (float)man * 5.9604644775390625e-08f;  // man * 2^-24, exact
      std::memcpy(&x, &f, 4);
      x |= sign;
    } else {
      x = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    std::memcpy(&f, &x, 4);
    return f;
  }
};

/// bfloat16: the top 16 bits of a float32, rounded to nearest even.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float f) : bits(from_float(f)) {}
  // Other numbers convert through float, as PyTorch's do (double -> float -> bfloat16).
  template <class T, std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, float>, int> = 0>
  BFloat16(T v) : BFloat16(static_cast<float>(v)) {}
  operator float() const {
    uint32_t x = (uint32_t)bits << 16;
    float f;
    std::memcpy(&f, &x, 4);
    return f;
  }
  static uint16_t from_float(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);  // quiet nan
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
  }
};

template <class T> struct dtype_of;
template <> struct dtype_of<bool> {
  static constexpr DType value = DType::Bool;
};
template <> struct dtype_of<int64_t> {
  static constexpr DType value = DType::Int64;
};
template <> struct dtype_of<float> {
  static constexpr DType value = DType::Float32;
};
template <> struct dtype_of<double> {
  static constexpr DType value = DType::Float64;
};
template <> struct dtype_of<int32_t> {
  static constexpr DType value = DType::Int32;
};
template <> struct dtype_of<int16_t> {
  static constexpr DType value = DType::Int16;
};
template <> struct dtype_of<int8_t> {
  static constexpr DType value = DType::Int8;
};
template <> struct dtype_of<uint8_t> {
  static constexpr DType value = DType::UInt8;
};
template <> struct dtype_of<Half> {
  static constexpr DType value = DType::Float16;
};
template <> struct dtype_of<BFloat16> {
  static constexpr DType value = DType::BFloat16;
};

[[noreturn]] inline void storage_dtype_error(DType d, const char* op) {
  throw TypeError(str(op, ": ", dtype_name(d), " is a storage dtype here; convert with .to(",
                      dtype_name(compute_dtype(d)), ") first (Note [Storage dtypes])"));
}
/// Calls f(T{}) with T the C++ type of `d`, storage dtypes included (Half, BFloat16, int32_t): for
/// the conversion, copy and fill kernels only.
template <class F>
decltype(auto) dispatch_storage(DType d, F&& f) {
  switch (d) {
    case DType::Bool: return f(bool{});
    case DType::Int64: return f(int64_t{});
    case DType::Float32: return f(float{});
    case DType::Int32: return f(int32_t{});
    case DType::Int16: return f(int16_t{});
    case DType::Int8: return f(int8_t{});
    case DType::UInt8: return f(uint8_t{});
    case DType::Float16: return f(Half{});
    case DType::BFloat16: return f(BFloat16{});
    case DType::Float64: break;
  }
  return f(double{});
}

/// Calls f(T{}) with T the C++ type of `d`.
template <class F>
decltype(auto) dispatch_all(DType d, F&& f) {
  switch (d) {
    case DType::Bool: return f(bool{});
    case DType::Int64: return f(int64_t{});
    case DType::Float32: return f(float{});
    case DType::Float64: break;
    case DType::Int32:
    case DType::Int16:
    case DType::Int8:
    case DType::UInt8:
    case DType::Float16:
    case DType::BFloat16: storage_dtype_error(d, "kernel");
  }
  return f(double{});
}
/// Calls f(T{}) for the numeric dtypes (int64, float32, float64); bool raises TypeError.
template <class F>
decltype(auto) dispatch_numeric(DType d, const char* op, F&& f) {
  switch (d) {
    case DType::Int64: return f(int64_t{});
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Bool: break;
    case DType::Int32:
    case DType::Int16:
    case DType::Int8:
    case DType::UInt8:
    case DType::Float16:
    case DType::BFloat16: storage_dtype_error(d, op);
  }
  throw TypeError(str(op, ": not implemented for dtype bool"));
}
/// Calls f(T{}) for float32/float64; other dtypes raise TypeError.
template <class F>
decltype(auto) dispatch_floating(DType d, const char* op, F&& f) {
  if (d == DType::Float32) return f(float{});
  if (d == DType::Float64) return f(double{});
  if (is_storage_dtype(d)) storage_dtype_error(d, op);
  throw TypeError(str(op, ": expected a floating point tensor (float32 or float64), got ", dtype_name(d)));
}

}  // namespace cr
