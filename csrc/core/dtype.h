#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include "core/errors.h"

namespace cr {

enum class DType : uint8_t { Bool = 0, Int64 = 1, Float32 = 2, Float64 = 3 };

inline size_t itemsize(DType d) {
  switch (d) {
    case DType::Bool: return 1;
    case DType::Int64: return 8;
    case DType::Float32: return 4;
    case DType::Float64: return 8;
  }
  return 0;
}
inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::Bool: return "bool";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}
inline bool is_floating(DType d) { return d == DType::Float32 || d == DType::Float64; }

/// Type promotion: bool < int64 < float32 < float64, as in PyTorch for these four dtypes.
inline DType promote(DType a, DType b) { return a > b ? a : b; }

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

/// Calls f(T{}) with T the C++ type of `d`.
template <class F>
decltype(auto) dispatch_all(DType d, F&& f) {
  switch (d) {
    case DType::Bool: return f(bool{});
    case DType::Int64: return f(int64_t{});
    case DType::Float32: return f(float{});
    case DType::Float64: break;
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
  }
  throw TypeError(str(op, ": not implemented for dtype bool"));
}
/// Calls f(T{}) for float32/float64; other dtypes raise TypeError.
template <class F>
decltype(auto) dispatch_floating(DType d, const char* op, F&& f) {
  if (d == DType::Float32) return f(float{});
  if (d == DType::Float64) return f(double{});
  throw TypeError(str(op, ": expected a floating point tensor (float32 or float64), got ", dtype_name(d)));
}

}  // namespace cr
