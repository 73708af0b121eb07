// Elementwise math beyond arithmetic: logs and exponentials, inverse trigonometric and hyperbolic
// functions, erfinv, rounding, remainder/fmod, copysign, logaddexp, xlogy, lerp, nan_to_num and the
// floating-point predicates (isnan, isinf, ...). Each op is its kernel, its derivatives-table entry
// and, where the signature is plain, its CR_OP line; lerp, round(decimals=) and nan_to_num take
// options and are rows of bindings/register_math.cpp.
#include "ops/math.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/elementwise.h"
#include "ops/elementwise_kernels.h"
#include "ops/op_table.h"
#include "ops/operators.h"

namespace cr {

namespace {

constexpr double kLn2 = 0.69314718055994530942;
constexpr double kLn10 = 2.30258509299404568402;
constexpr double kSqrtPiOver2 = 0.88622692545275801365;  // sqrt(pi) / 2

Tensor zeros_for(const Tensor& grad) { return zeros(grad.shape(), grad.dtype()); }

/// Inverse error function: a rational first guess (Giles, "Approximating the erfinv function",
/// 2010), then two Newton steps on erf(x) = y, which bring it to full double precision.
double erfinv_scalar(double y) {
  if (std::isnan(y) || y < -1.0 || y > 1.0) return std::numeric_limits<double>::quiet_NaN();
  if (y == 1.0) return std::numeric_limits<double>::infinity();
  if (y == -1.0) return -std::numeric_limits<double>::infinity();
  double w = -std::log((1.0 - y) * (1.0 + y)), x;
  if (w < 6.25) {
    w -= 3.125;
    x = -3.6444120640178196996e-21;
    for (double c : {-1.685059138182016589e-19,  1.2858480715256400167e-18,  1.115787767802518096e-17,
                     -1.333171662854620906e-16,  2.0972767875968561637e-17,  6.6376381343583238325e-15,
                     -4.0545662729752068639e-14, -8.1519341976054721522e-14, 2.6335093153082322977e-12,
                     -1.2975133253453532498e-11, -5.4154120542946279317e-11, 1.051212273321532285e-09,
                     -4.1126339803469836976e-09, -2.9070369957882005086e-08, 4.2347877827932403518e-07,
                     -1.3654692000834678645e-06, -1.3882523362786468719e-05, 0.0001867342080340571352,
                     -0.00074070253416626697512, -0.0060336708714301490533,  0.24015818242558961693,
                     1.6536545626831027356})
      x = c + x * w;
  } else if (w < 16.0) {
    w = std::sqrt(w) - 3.25;
    x = 2.2137376921775787049e-09;
    for (double c : {9.0756561938885390979e-08, -2.7517406297064545428e-07, 1.8239629214389227755e-08,
                     1.5027403968909827627e-06, -4.013867526981545969e-06, 2.9234449089955446044e-06,
                     1.2475304481671778723e-05, -4.7318229009055733981e-05, 6.8284851459573175448e-05,
                     2.4031110387097893999e-05, -0.0003550375203628474796, 0.00095328937973738049703,
                     -0.0016882755560235047313, 0.0024914420961078508066, -0.0037512085075692412107,
                     0.005370914553590063617, 1.0052589676941592334, 3.0838856104922207635})
      x = c + x * w;
  } else {
    w = std::sqrt(w) - 5.0;
    x = -2.7109920616438573243e-11;
    for (double c : {-2.5556418169965252055e-10, 1.5076572693500548083e-09, -3.7894654401267369937e-09,
                     7.6157012080783393804e-09, -1.4960026627149240478e-08, 2.9147953450901080826e-08,
                     -6.7711997758452339498e-08, 2.2900482228026654717e-07, -9.9298272942317002539e-07,
                     4.5260625972231537039e-06, -1.9681778105531670567e-05, 7.5995277030017761139e-05,
                     -0.00021503011930044477347, -0.00013871931833623122026, 1.0103004648645343977,
                     4.8499064014085844221})
      x = c + x * w;
  }
  x *= y;
  for (int i = 0; i < 2; ++i) {
    double err = std::erf(x) - y;
    x -= err / (M_2_SQRTPI * std::exp(-x * x));
  }
  return x;
}

/// Rounding ops keep integer tensors as they are (a copy, as PyTorch) and refuse bool.
template <class F>
Tensor rounding_kernel(const Tensor& a, const char* op, const F& f) {
  if (a.dtype() == DType::Bool) throw TypeError(str(op, ": not supported for bool tensors"));
  if (a.dtype() == DType::Int64) return map_unary<int64_t, int64_t>(a, [](int64_t v) { return v; });
  return float_unary_kernel(a, op, f);
}

/// Python's modulo: the result has the divisor's sign.
template <class T>
T py_mod(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    T m = std::fmod(a, b);
    if (m != 0 && ((b < 0) != (m < 0))) m += b;
    return m;
  } else {
    T m = a % b;
    if (m != 0 && ((b < 0) != (m < 0))) m += b;
    return m;
  }
}

/// remainder and fmod: integers refuse a zero divisor (checked before anything is written).
template <bool Python>
Tensor modulo(const Tensor& a, const Tensor& b, const char* op) {
  DType dt = result_type(a, b);
  if (dt == DType::Bool) throw TypeError(str(op, ": not supported for bool tensors"));
  if (dt == DType::Int64) {
    Tensor divisor = contiguous(as_dtype(b, dt));
    const int64_t* v = divisor.data<int64_t>();
    if (std::find(v, v + divisor.numel(), int64_t{0}) != v + divisor.numel())
      throw ValueError(str(op, ": integer division by zero (ZeroDivisionError)"));
  }
  return binary_kernel(a, b, dt, op, [](auto x, auto y) {
    using T = decltype(x);
    if constexpr (Python) return py_mod<T>(x, y);
    else if constexpr (std::is_floating_point_v<T>) return std::fmod(x, y);
    else return static_cast<T>(x % y);
  });
}

DType floating_result(const Tensor& a, const Tensor& b) { return float_dtype(result_type(a, b)); }

Tensor isfinite_impl(const Tensor& a) {
  return predicate_kernel(a, [](auto v) {
    if constexpr (std::is_floating_point_v<decltype(v)>) return std::isfinite(v);
    else return true;
  });
}

struct Weight {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  double w = 0.0;
};

// ---- derivatives (Note [Derivatives table]) ----------------------------------------------------
template <class F>
Derivative<1, 1> unary_entry(const char* name, const char* saves, F formula) {
  return with_jvp(Derivative<1, 1>{name, {"self"}, {formula}, {{{saves}}}}, jvp_elementwise);
}

const auto log1p_grad =
    unary_entry("Log1PBackward0", "self", [](const auto& d) { return d.grad / (d.saved[0] + 1.0); });
const auto expm1_grad =
    unary_entry("Expm1Backward0", "result", [](const auto& d) { return d.grad * (d.saved[0] + 1.0); });
const auto log2_grad =
    unary_entry("Log2Backward0", "self", [](const auto& d) { return d.grad / (d.saved[0] * kLn2); });
const auto log10_grad =
    unary_entry("Log10Backward0", "self", [](const auto& d) { return d.grad / (d.saved[0] * kLn10); });
const auto exp2_grad =
    unary_entry("Exp2Backward0", "result", [](const auto& d) { return d.grad * (d.saved[0] * kLn2); });
// d erfinv(y) = sqrt(pi)/2 exp(erfinv(y)^2)
const auto erfinv_grad = unary_entry("ErfinvBackward0", "result", [](const auto& d) {
  const Tensor& r = d.saved[0];
  return d.grad * (exp(r * r) * kSqrtPiOver2);
});
const auto erfc_grad = unary_entry("ErfcBackward0", "self", [](const auto& d) {
  const Tensor& x = d.saved[0];
  return d.grad * (exp(-(x * x)) * -M_2_SQRTPI);
});
const auto asin_grad = unary_entry("AsinBackward0", "self", [](const auto& d) {
  const Tensor& x = d.saved[0];
  return d.grad * rsqrt(1.0 - x * x);
});
const auto acos_grad = unary_entry("AcosBackward0", "self", [](const auto& d) {
  const Tensor& x = d.saved[0];
  return -(d.grad * rsqrt(1.0 - x * x));
});
const auto atan_grad = unary_entry("AtanBackward0", "self", [](const auto& d) {
  const Tensor& x = d.saved[0];
  return d.grad / (x * x + 1.0);
});
const auto sinh_grad =
    unary_entry("SinhBackward0", "self", [](const auto& d) { return d.grad * cosh(d.saved[0]); });
const auto cosh_grad =
    unary_entry("CoshBackward0", "self", [](const auto& d) { return d.grad * sinh(d.saved[0]); });
const auto tan_grad = unary_entry("TanBackward0", "result", [](const auto& d) {
  const Tensor& y = d.saved[0];
  return d.grad * (y * y + 1.0);
});
const auto asinh_grad = unary_entry("AsinhBackward0", "self", [](const auto& d) {
  const Tensor& x = d.saved[0];
  return d.grad * rsqrt(x * x + 1.0);
});
const auto acosh_grad = unary_entry("AcoshBackward0", "self", [](const auto& d) {
  const Tensor& x = d.saved[0];
  return d.grad * rsqrt(x * x - 1.0);
});
const auto atanh_grad = unary_entry("AtanhBackward0", "self", [](const auto& d) {
  const Tensor& x = d.saved[0];
  return d.grad / (1.0 - x * x);
});

// Rounding: piecewise constant, so the gradient is zero; frac = x - trunc(x) passes it through.
const auto floor_grad =
    with_jvp(Derivative<1>{"FloorBackward0", {"self"}, {[](const auto& d) { return zeros_for(d.grad); }}},
             jvp_elementwise);
const auto ceil_grad =
    with_jvp(Derivative<1>{"CeilBackward0", {"self"}, {[](const auto& d) { return zeros_for(d.grad); }}},
             jvp_elementwise);
const auto round_grad =
    with_jvp(Derivative<1>{"RoundBackward0", {"self"}, {[](const auto& d) { return zeros_for(d.grad); }}},
             jvp_elementwise);
const auto trunc_grad =
    with_jvp(Derivative<1>{"TruncBackward0", {"self"}, {[](const auto& d) { return zeros_for(d.grad); }}},
             jvp_elementwise);
const auto frac_grad = with_jvp(
    Derivative<1>{"FracBackward0", {"self"}, {[](const auto& d) { return d.grad; }}}, jvp_elementwise);

// remainder(a, b) = a - b floor(a / b); fmod(a, b) = a - b trunc(a / b)
const auto remainder_grad =
    with_jvp(Derivative<2, 2>{"RemainderBackward0",
                              {"self", "other"},
                              {[](const auto& d) { return d.grad; },
                               [](const auto& d) { return -d.grad * floor(d.saved[0] / d.saved[1]); }},
                              {{{"self", for_grad_of(1)}, {"other", for_grad_of(1)}}}},
             jvp_elementwise);
const auto fmod_grad =
    with_jvp(Derivative<2, 2>{"FmodBackward0",
                              {"self", "other"},
                              {[](const auto& d) { return d.grad; },
                               [](const auto& d) { return -d.grad * trunc(d.saved[0] / d.saved[1]); }},
                              {{{"self", for_grad_of(1)}, {"other", for_grad_of(1)}}}},
             jvp_elementwise);
// copysign(a, b) = |a| sign(b): d/da = result / a (0 where a == 0); nothing flows to b.
const auto copysign_grad =
    with_jvp(Derivative<2, 2>{"CopysignBackward0",
                              {"self", "other"},
                              {[](const auto& d) {
                                 const Tensor &a = d.saved[0], &r = d.saved[1];
                                 return keep_where(!eq(a, 0.0), d.grad * (r / a));
                               },
                               [](const auto& d) { return zeros_for(d.grad); }},
                              {{{"self", for_grad_of(0)}, {"result", for_grad_of(0)}}}},
             jvp_elementwise);
// logaddexp(a, b) = log(e^a + e^b): d/da = 1 / (1 + e^(b - a))
const auto logaddexp_grad =
    with_jvp(Derivative<2, 2>{"LogaddexpBackward0",
                              {"self", "other"},
                              {[](const auto& d) { return d.grad / (exp(d.saved[1] - d.saved[0]) + 1.0); },
                               [](const auto& d) { return d.grad / (exp(d.saved[0] - d.saved[1]) + 1.0); }},
                              {{{"self"}, {"other"}}}},
             jvp_elementwise);
const auto logaddexp2_grad =
    with_jvp(Derivative<2, 2>{"Logaddexp2Backward0",
                              {"self", "other"},
                              {[](const auto& d) { return d.grad / (exp2(d.saved[1] - d.saved[0]) + 1.0); },
                               [](const auto& d) { return d.grad / (exp2(d.saved[0] - d.saved[1]) + 1.0); }},
                              {{{"self"}, {"other"}}}},
             jvp_elementwise);
// xlogy(a, b) = a log(b), 0 where a == 0: d/da = log(b) (0 where a == 0 and b <= 0), d/db = a / b
const auto xlogy_grad =
    with_jvp(Derivative<2, 2>{"XlogyBackward0",
                              {"self", "other"},
                              {[](const auto& d) {
                                 const Tensor &a = d.saved[0], &b = d.saved[1];
                                 Tensor g = xlogy(d.grad, b);
                                 return where(eq(a, 0.0) & (b <= 0.0), zero_like_scalar(g), g);
                               },
                               [](const auto& d) { return d.grad * d.saved[0] / d.saved[1]; }},
                              {{{"self"}, {"other"}}}},
             jvp_elementwise);
// lerp(a, b, w) = a + w (b - a)
const auto lerp_grad =
    with_jvp(Derivative<3, 3>{"LerpBackward1",
                              {"self", "end", "weight"},
                              {[](const auto& d) { return d.grad * (1.0 - d.saved[2]); },
                               [](const auto& d) { return d.grad * d.saved[2]; },
                               [](const auto& d) { return d.grad * (d.saved[1] - d.saved[0]); }},
                              {{{"self", for_grad_of(2)}, {"end", for_grad_of(2)}, {"weight"}}}},
             jvp_elementwise);
const auto lerp_scalar_grad =
    with_jvp(Derivative<2, 0, Weight>{"LerpBackward0",
                                      {"self", "end"},
                                      {[](const auto& d) { return d.grad * (1.0 - d.attrs.w); },
                                       [](const auto& d) { return d.grad * d.attrs.w; }}},
             jvp_elementwise);
const auto nan_to_num_grad =
    with_jvp(Derivative<1, 1>{"NanToNumBackward0",
                              {"self"},
                              {[](const auto& d) { return keep_where(isfinite(d.saved[0]), d.grad); }},
                              {{{"self"}}}},
             jvp_elementwise);

template <class Entry, class F>
Tensor unary_op(const Tensor& a, const char* op, const Entry& entry, bool save_result, const F& f) {
  Tensor out = float_unary_kernel(a, op, f);
  record(entry, {a}, out, {save_result ? output(out) : Save(a)});
  return out;
}

}  // namespace

// ---- logs and exponentials ---------------------------------------------------------------------
Tensor log1p(const Tensor& a) {
  return unary_op(a, "log1p", log1p_grad, false, [](auto x) { return std::log1p(x); });
}
Tensor expm1(const Tensor& a) {
  return unary_op(a, "expm1", expm1_grad, true, [](auto x) { return std::expm1(x); });
}
Tensor log2(const Tensor& a) {
  return unary_op(a, "log2", log2_grad, false, [](auto x) { return std::log2(x); });
}
Tensor log10(const Tensor& a) {
  return unary_op(a, "log10", log10_grad, false, [](auto x) { return std::log10(x); });
}
Tensor exp2(const Tensor& a) {
  return unary_op(a, "exp2", exp2_grad, true, [](auto x) { return std::exp2(x); });
}
Tensor erfinv(const Tensor& a) {
  return unary_op(a, "erfinv", erfinv_grad, true,
                  [](auto x) { return static_cast<decltype(x)>(erfinv_scalar(static_cast<double>(x))); });
}
Tensor erfc(const Tensor& a) {
  return unary_op(a, "erfc", erfc_grad, false, [](auto x) { return std::erfc(x); });
}
CR_OP(log1p, log1p, kFunction | kMethod | kInplace,
      "log1p(input) -> Tensor\n\nlog(1 + input), accurate for small input.");
CR_OP(expm1, expm1, kFunction | kMethod | kInplace,
      "expm1(input) -> Tensor\n\nexp(input) - 1, accurate for small input.");
CR_OP(log2, log2, kFunction | kMethod | kInplace, "log2(input) -> Tensor\n\nBase-2 logarithm.");
CR_OP(log10, log10, kFunction | kMethod | kInplace, "log10(input) -> Tensor\n\nBase-10 logarithm.");
CR_OP(exp2, exp2, kFunction | kMethod | kInplace, "exp2(input) -> Tensor\n\n2 ** input.");
CR_OP(erfinv, erfinv, kFunction | kMethod | kInplace,
      "erfinv(input) -> Tensor\n\nInverse error function: erf(erfinv(y)) = y on (-1, 1); +-inf at +-1.");
CR_OP(erfc, erfc, kFunction | kMethod | kInplace,
      "erfc(input) -> Tensor\n\n1 - erf(input), accurate in the tails.");

// ---- trigonometric and hyperbolic --------------------------------------------------------------
Tensor asin(const Tensor& a) {
  return unary_op(a, "asin", asin_grad, false, [](auto x) { return std::asin(x); });
}
Tensor acos(const Tensor& a) {
  return unary_op(a, "acos", acos_grad, false, [](auto x) { return std::acos(x); });
}
Tensor atan(const Tensor& a) {
  return unary_op(a, "atan", atan_grad, false, [](auto x) { return std::atan(x); });
}
Tensor sinh(const Tensor& a) {
  return unary_op(a, "sinh", sinh_grad, false, [](auto x) { return std::sinh(x); });
}
Tensor cosh(const Tensor& a) {
  return unary_op(a, "cosh", cosh_grad, false, [](auto x) { return std::cosh(x); });
}
Tensor tan(const Tensor& a) {
  return unary_op(a, "tan", tan_grad, true, [](auto x) { return std::tan(x); });
}
Tensor asinh(const Tensor& a) {
  return unary_op(a, "asinh", asinh_grad, false, [](auto x) { return std::asinh(x); });
}
Tensor acosh(const Tensor& a) {
  return unary_op(a, "acosh", acosh_grad, false, [](auto x) { return std::acosh(x); });
}
Tensor atanh(const Tensor& a) {
  return unary_op(a, "atanh", atanh_grad, false, [](auto x) { return std::atanh(x); });
}
CR_OP(asin, asin, kFunction | kMethod | kInplace, "asin(input) -> Tensor\n\nArcsine, in [-pi/2, pi/2].");
CR_OP(acos, acos, kFunction | kMethod | kInplace, "acos(input) -> Tensor\n\nArccosine, in [0, pi].");
CR_OP(atan, atan, kFunction | kMethod | kInplace, "atan(input) -> Tensor\n\nArctangent, in (-pi/2, pi/2).");
CR_OP(sinh, sinh, kFunction | kMethod | kInplace, "sinh(input) -> Tensor\n\nHyperbolic sine.");
CR_OP(cosh, cosh, kFunction | kMethod | kInplace, "cosh(input) -> Tensor\n\nHyperbolic cosine.");
CR_OP(tan, tan, kFunction | kMethod | kInplace, "tan(input) -> Tensor\n\nTangent.");
CR_OP(asinh, asinh, kFunction | kMethod | kInplace, "asinh(input) -> Tensor\n\nInverse hyperbolic sine.");
CR_OP(acosh, acosh, kFunction | kMethod | kInplace, "acosh(input) -> Tensor\n\nInverse hyperbolic cosine.");
CR_OP(atanh, atanh, kFunction | kMethod | kInplace, "atanh(input) -> Tensor\n\nInverse hyperbolic tangent.");

// ---- rounding ----------------------------------------------------------------------------------
Tensor floor(const Tensor& a) {
  Tensor out = rounding_kernel(a, "floor", [](auto x) { return std::floor(x); });
  record(floor_grad, {a}, out);
  return out;
}
Tensor ceil(const Tensor& a) {
  Tensor out = rounding_kernel(a, "ceil", [](auto x) { return std::ceil(x); });
  record(ceil_grad, {a}, out);
  return out;
}
Tensor trunc(const Tensor& a) {
  Tensor out = rounding_kernel(a, "trunc", [](auto x) { return std::trunc(x); });
  record(trunc_grad, {a}, out);
  return out;
}
Tensor round(const Tensor& a, int64_t decimals) {
  if (decimals != 0 && !is_floating(a.dtype()))
    throw TypeError(
        str("round: decimals=", decimals, " needs a floating point tensor, got ", dtype_name(a.dtype())));
  Tensor out;
  if (decimals == 0) {
    // Halves go to the even neighbour (nearbyint under the default rounding mode), as PyTorch.
    out = rounding_kernel(a, "round", [](auto x) { return std::nearbyint(x); });
  } else {
    const double scale = std::pow(10.0, (double)std::abs(decimals));
    out = float_unary_kernel(a, "round", [&](auto x) {
      using T = decltype(x);
      const T s = static_cast<T>(scale);
      return decimals > 0 ? std::nearbyint(x * s) / s : std::nearbyint(x / s) * s;
    });
  }
  record(round_grad, {a}, out);
  return out;
}
Tensor round0(const Tensor& a) { return round(a, 0); }
Tensor frac(const Tensor& a) {
  if (!is_floating(a.dtype()))
    throw TypeError(str("frac: expected a floating point tensor, got ", dtype_name(a.dtype())));
  Tensor out = float_unary_kernel(a, "frac", [](auto x) { return x - std::trunc(x); });
  record(frac_grad, {a}, out);
  return out;
}
CR_OP(floor, floor, kFunction | kMethod | kInplace,
      "floor(input) -> Tensor\n\nLargest integer <= input; integer tensors are returned as they are.");
CR_OP(ceil, ceil, kFunction | kMethod | kInplace,
      "ceil(input) -> Tensor\n\nSmallest integer >= input; integer tensors are returned as they are.");
CR_OP(trunc, trunc, kFunction | kMethod | kInplace,
      "trunc(input) -> Tensor\n\nRounds toward zero; integer tensors are returned as they are.");
CR_OP(fix, trunc, kFunction | kMethod | kInplace, "fix(input) -> Tensor\n\nAlias of trunc.");
CR_OP(frac, frac, kFunction | kMethod | kInplace, "frac(input) -> Tensor\n\ninput - trunc(input).");

// ---- remainder, fmod, copysign, logaddexp, xlogy ------------------------------------------------
Tensor remainder(const Tensor& a, const Tensor& b) {
  Tensor out = modulo<true>(a, b, "remainder");
  record(remainder_grad, {a, b}, out, {a, b});
  return out;
}
Tensor fmod(const Tensor& a, const Tensor& b) {
  Tensor out = modulo<false>(a, b, "fmod");
  record(fmod_grad, {a, b}, out, {a, b});
  return out;
}
Tensor copysign(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(a, b, floating_result(a, b), "copysign", [](auto x, auto y) {
    if constexpr (std::is_floating_point_v<decltype(x)>) return std::copysign(x, y);
    else return x;  // never reached: the dtype is floating
  });
  record(copysign_grad, {a, b}, out, {a, output(out)});
  return out;
}
Tensor logaddexp(const Tensor& a, const Tensor& b) {
  DType dt = result_type(a, b);
  if (!is_floating(dt))
    throw TypeError(str("logaddexp: expected floating point tensors, got ", dtype_name(dt)));
  Tensor out = binary_kernel(a, b, dt, "logaddexp", [](auto x, auto y) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isinf(x) && x == y) return x;  // both -inf (or both +inf): no inf - inf
      T m = std::max(x, y);
      return m + std::log1p(std::exp(-std::abs(x - y)));
    } else {
      return x;
    }
  });
  record(logaddexp_grad, {a, b}, out, {a, b});
  return out;
}
Tensor logaddexp2(const Tensor& a, const Tensor& b) {
  DType dt = result_type(a, b);
  if (!is_floating(dt))
    throw TypeError(str("logaddexp2: expected floating point tensors, got ", dtype_name(dt)));
  Tensor out = binary_kernel(a, b, dt, "logaddexp2", [](auto x, auto y) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isinf(x) && x == y) return x;
      T m = std::max(x, y);
      return static_cast<T>(m + std::log1p(std::exp2(-std::abs(x - y))) / kLn2);
    } else {
      return x;
    }
  });
  record(logaddexp2_grad, {a, b}, out, {a, b});
  return out;
}
Tensor xlogy(const Tensor& a, const Tensor& b) {
  Tensor out = binary_kernel(a, b, floating_result(a, b), "xlogy", [](auto x, auto y) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(y)) return y;
      return x == 0 ? T(0) : x * std::log(y);
    } else {
      return x;
    }
  });
  record(xlogy_grad, {a, b}, out, {a, b});
  return out;
}
CR_OP(remainder, remainder, kFunction | kMethod | kInplace,
      "remainder(input, other) -> Tensor\n\nPython's modulo: the result has the divisor's sign.");
CR_OP(fmod, fmod, kFunction | kMethod | kInplace,
      "fmod(input, other) -> Tensor\n\nC's fmod: the result has the dividend's sign.");
CR_OP(copysign, copysign, kFunction | kMethod | kInplace,
      "copysign(input, other) -> Tensor\n\n|input| with the sign of other (floating result).");
CR_OP(logaddexp, logaddexp, kFunction | kMethod,
      "logaddexp(input, other) -> Tensor\n\nlog(exp(input) + exp(other)), computed stably.");
CR_OP(logaddexp2, logaddexp2, kFunction | kMethod,
      "logaddexp2(input, other) -> Tensor\n\nlog2(2**input + 2**other), computed stably.");
CR_OP(xlogy, xlogy, kFunction | kMethod | kInplace,
      "xlogy(input, other) -> Tensor\n\ninput * log(other), and 0 where input == 0 (unless other is NaN).");

// ---- lerp, nan_to_num --------------------------------------------------------------------------
static void check_lerp(const Tensor& a, const Tensor& b, const Tensor* w) {
  if (!is_floating(a.dtype()))
    throw TypeError(str("lerp: expected a floating point tensor, got ", dtype_name(a.dtype())));
  if (b.dtype() != a.dtype())
    throw TypeError(str("lerp: expected dtype ", dtype_name(a.dtype()), " for `end` but got dtype ",
                        dtype_name(b.dtype())));
  if (w && w->dtype() != a.dtype())
    throw TypeError(str("lerp: expected dtype ", dtype_name(a.dtype()), " for `weight` but got dtype ",
                        dtype_name(w->dtype())));
}

Tensor lerp(const Tensor& a, const Tensor& b, double w) {
  check_lerp(a, b, nullptr);
  Tensor out = binary_kernel(a, b, a.dtype(), "lerp", [w](auto x, auto y) {
    using T = decltype(x);
    const T wt = static_cast<T>(w);
    // The form that is exact at both ends (PyTorch's): from the nearer end.
    return std::abs(wt) < T(0.5) ? x + wt * (y - x) : y - (y - x) * (T(1) - wt);
  });
  if (auto* n = record(lerp_scalar_grad, {a, b}, out)) n->attrs.w = w;
  return out;
}

Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& w) {
  check_lerp(a, b, &w);
  Dims shape = broadcast_shapes(broadcast_shapes(a.shape(), b.shape(), "lerp"), w.shape(), "lerp");
  Tensor out;
  {
    NoGradGuard ng;
    Tensor diff = sub(b, a);
    Tensor small = abs(w) < 0.5;
    // a + w (b - a) near a, b - (1 - w)(b - a) near b, as the scalar form.
    out = where(small, add(a, mul(w, diff)), sub(b, mul(diff, add_scalar(neg(w), 1.0))));
    if (out.shape() != shape) out = contiguous(expand(out, shape));
  }
  record(lerp_grad, {a, b, w}, out, {a, b, w});
  return out;
}

Tensor nan_to_num(const Tensor& a, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf) {
  Tensor out;
  if (!is_floating(a.dtype())) {
    out = a.dtype() == DType::Bool ? map_unary<bool, bool>(a, [](bool v) { return v; })
                                   : map_unary<int64_t, int64_t>(a, [](int64_t v) { return v; });
  } else {
    out = dispatch_floating(a.dtype(), "nan_to_num", [&](auto tag) {
      using T = decltype(tag);
      const T n = static_cast<T>(nan.value_or(0.0));
      const T pi = posinf ? static_cast<T>(*posinf) : std::numeric_limits<T>::max();
      const T ni = neginf ? static_cast<T>(*neginf) : std::numeric_limits<T>::lowest();
      return map_unary<T, T>(a, [=](T x) {
        return std::isnan(x)                              ? n
               : x == std::numeric_limits<T>::infinity()  ? pi
               : x == -std::numeric_limits<T>::infinity() ? ni
                                                          : x;
      });
    });
  }
  record(nan_to_num_grad, {a}, out, {a});
  return out;
}

// ---- predicates (bool results, not differentiable) ----------------------------------------------
Tensor isnan(const Tensor& a) {
  return predicate_kernel(a, [](auto v) { return v != v; });
}
Tensor isinf(const Tensor& a) {
  return predicate_kernel(a, [](auto v) {
    if constexpr (std::is_floating_point_v<decltype(v)>) return std::isinf(v);
    else return false;
  });
}
Tensor isfinite(const Tensor& a) { return isfinite_impl(a); }
Tensor isposinf(const Tensor& a) {
  return predicate_kernel(a, [](auto v) {
    if constexpr (std::is_floating_point_v<decltype(v)>)
      return v == std::numeric_limits<decltype(v)>::infinity();
    else return false;
  });
}
Tensor isneginf(const Tensor& a) {
  return predicate_kernel(a, [](auto v) {
    if constexpr (std::is_floating_point_v<decltype(v)>)
      return v == -std::numeric_limits<decltype(v)>::infinity();
    else return false;
  });
}
Tensor signbit(const Tensor& a) {
  return predicate_kernel(a, [](auto v) {
    if constexpr (std::is_floating_point_v<decltype(v)>) return std::signbit(v);
    else if constexpr (std::is_same_v<decltype(v), bool>) return false;
    else return v < 0;
  });
}
CR_OP(isnan, isnan, kFunction | kMethod, "isnan(input) -> Tensor\n\nWhere input is NaN, as bool.");
CR_OP(isinf, isinf, kFunction | kMethod, "isinf(input) -> Tensor\n\nWhere input is +-inf, as bool.");
CR_OP(isfinite, isfinite, kFunction | kMethod,
      "isfinite(input) -> Tensor\n\nWhere input is neither NaN nor +-inf.");
CR_OP(isposinf, isposinf, kFunction | kMethod, "isposinf(input) -> Tensor\n\nWhere input is +inf, as bool.");
CR_OP(isneginf, isneginf, kFunction | kMethod, "isneginf(input) -> Tensor\n\nWhere input is -inf, as bool.");
CR_OP(signbit, signbit, kFunction | kMethod,
      "signbit(input) -> Tensor\n\nWhere the sign bit is set (-0.0 included).");

}  // namespace cr
