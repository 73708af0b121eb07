#pragma once
// Hot kernels built for several instruction-set levels, one chosen at import.
//
// Note [CPU dispatch]
// The engine itself is compiled for one target (the build machine with -march=native for a source
// build; a portable baseline for the wheels). The loops that decide training speed (GEMM, the
// vectorized activations and their gradients, contiguous float arithmetic, column sums and the
// fused optimizer steps) live in csrc/kernels/impl_*.cpp, which the build compiles once per level
// (on x86-64: baseline, v2, v3 = AVX2+FMA, v4 = AVX-512; elsewhere one level). Each level is a
// module of its own next to _core (_kernels_x86_64_v3.so, ...) that exports one function, its
// table. Separate modules, not object files linked into _core: the inline functions and template
// instances that Eigen and the standard library put in every object file have the same names at
// every level, and a linker keeps one copy of each, possibly one built with AVX-512, for all
// levels. dispatch.cpp reads what the CPU supports (cpuid, and whether the OS saves the wider
// registers) and loads the highest level it can run; CHAINRULE_CPU_LEVEL=<name> in the
// environment picks a lower one (a higher one than the CPU has is refused with a warning).
// chainrule.show_config() names the level chosen.
//
// Every function here is single-threaded on the range it is given; the callers split work across
// threads as before, so a level changes how fast a chunk runs, never how work is split. Results
// are bitwise identical for any thread count at a given level; different levels may differ in the
// last bits (FMA contraction, vector widths).
#include <cstdint>
#include <string>
#include <vector>

namespace cr::kern {

/// y = f(x), float32.
enum class Unary : int { Gelu, Sigmoid, Tanh, Silu, Relu };
/// y = g * f'(.): Gelu takes the input x, Sigmoid, Tanh and Relu the output y.
enum class UnaryGrad : int { Gelu, Sigmoid, Tanh, Relu };
/// y = a op b.
enum class Binary : int { Add, Sub, Mul, Div };

/// One GEMM operand: element (i, j) is at ptr[i * ld + j] (row-major) or ptr[j * ld + i].
struct GemmOperand {
  const void* ptr;
  int64_t ld;
  bool col_major;
};

template <class T>
struct AdamConsts {
  T wd, decay, w1, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step;
};
struct AdamFlags {
  bool maximize;
  int wd_mode;  // 0 none, 1 L2 (Adam), 2 decoupled (AdamW)
  bool amsgrad;
  bool lerp_low;  // |1 - beta1| < 0.5: the branch of torch.lerp's formula
};
template <class T>
struct SgdConsts {
  T wd, mom, one_minus_damp, neg_lr;
  bool maximize, weight_decay, momentum, fresh, nesterov;
};

struct Table {
  const char* level;
  /// C (n x m, row-major, leading dim ldc) = A (n x k) * B (k x m), or += when accumulate.
  void (*gemm_f32)(int64_t n, int64_t k, int64_t m, const GemmOperand& a, const GemmOperand& b, float* c,
                   int64_t ldc, bool accumulate);
  void (*gemm_f64)(int64_t n, int64_t k, int64_t m, const GemmOperand& a, const GemmOperand& b, double* c,
                   int64_t ldc, bool accumulate);
  void (*unary_f32)(Unary op, const float* x, float* y, int64_t n);
  void (*unary_grad_f32)(UnaryGrad op, const float* g, const float* x, float* y, int64_t n);
  /// y[i] = a[i * sa] op b[i * sb], sa and sb 0 (a scalar) or 1.
  void (*binary_f32)(Binary op, const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n);
  void (*binary_f64)(Binary op, const double* a, int64_t sa, const double* b, int64_t sb, double* y,
                     int64_t n);
  /// y[r * cols + i] = a[r * lda + i * sa] op b[r * ldb + i * sb] for r < rows, i < cols; sa and sb
  /// 0 or 1 (a bias row added to every row of a matrix: ldb 0, sb 1).
  void (*binary_rows_f32)(Binary op, const float* a, int64_t lda, int64_t sa, const float* b, int64_t ldb,
                          int64_t sb, float* y, int64_t rows, int64_t cols);
  void (*binary_rows_f64)(Binary op, const double* a, int64_t lda, int64_t sa, const double* b, int64_t ldb,
                          int64_t sb, double* y, int64_t rows, int64_t cols);
  /// acc[i - i0] += the sum of x[k * inner + i] for k in [0, r), i in [i0, i1): the even k onto acc
  /// and the odd k from zero, each in order, then added (impl_elementwise.cpp).
  void (*col_sum_f32)(const float* x, int64_t r, int64_t inner, int64_t i0, int64_t i1, double* acc);
  void (*col_sum_f64)(const double* x, int64_t r, int64_t inner, int64_t i0, int64_t i1, double* acc);
  /// One Adam/AdamW update of elements [lo, hi); xp (max_exp_avg_sq) only with amsgrad.
  void (*adam_f32)(float* p, const float* g, float* m, float* v, float* xp, int64_t lo, int64_t hi,
                   const AdamConsts<float>& c, AdamFlags f);
  void (*adam_f64)(double* p, const double* g, double* m, double* v, double* xp, int64_t lo, int64_t hi,
                   const AdamConsts<double>& c, AdamFlags f);
  /// One SGD update of elements [lo, hi); buf only with momentum.
  void (*sgd_f32)(float* p, const float* g, float* buf, int64_t lo, int64_t hi, const SgdConsts<float>& c);
  void (*sgd_f64)(double* p, const double* g, double* buf, int64_t lo, int64_t hi,
                  const SgdConsts<double>& c);
};

/// The kernels of the level chosen at import (Note [CPU dispatch]).
const Table& table();

struct LevelInfo {
  std::string name;
  bool supported;  // the CPU (and OS) can run it
};
/// Every level this build has, lowest first.
std::vector<LevelInfo> levels();
/// Why the level is what it is: "highest supported", or the environment variable's effect.
std::string level_reason();

}  // namespace cr::kern
