#pragma once
// Declarations of one level's kernels (Note [CPU dispatch] in kernels.h). The impl_*.cpp files are
// compiled once per level, into a module of their own (_kernels_<level>), with CHAINRULE_KERNEL_NS
// naming the level's namespace (x86_64_v3, ...) and the instruction-set flags of that level.
#include "kernels/kernels.h"

#ifndef CHAINRULE_KERNEL_NS
#error "the kernel implementation files are compiled per level: see CMakeLists.txt"
#endif

namespace cr::kern::CHAINRULE_KERNEL_NS {

void gemm_f32(int64_t n, int64_t k, int64_t m, const GemmOperand& a, const GemmOperand& b, float* c,
              int64_t ldc, bool accumulate);
void gemm_f64(int64_t n, int64_t k, int64_t m, const GemmOperand& a, const GemmOperand& b, double* c,
              int64_t ldc, bool accumulate);
void unary_f32(Unary op, const float* x, float* y, int64_t n);
void unary_grad_f32(UnaryGrad op, const float* g, const float* x, float* y, int64_t n);
void binary_f32(Binary op, const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n);
void binary_f64(Binary op, const double* a, int64_t sa, const double* b, int64_t sb, double* y, int64_t n);
void binary_rows_f32(Binary op, const float* a, int64_t lda, int64_t sa, const float* b, int64_t ldb,
                     int64_t sb, float* y, int64_t rows, int64_t cols);
void binary_rows_f64(Binary op, const double* a, int64_t lda, int64_t sa, const double* b, int64_t ldb,
                     int64_t sb, double* y, int64_t rows, int64_t cols);
void col_sum_f32(const float* x, int64_t r, int64_t inner, int64_t i0, int64_t i1, double* acc);
void col_sum_f64(const double* x, int64_t r, int64_t inner, int64_t i0, int64_t i1, double* acc);
void adam_f32(float* p, const float* g, float* m, float* v, float* xp, int64_t lo, int64_t hi,
              const AdamConsts<float>& c, AdamFlags f);
void adam_f64(double* p, const double* g, double* m, double* v, double* xp, int64_t lo, int64_t hi,
              const AdamConsts<double>& c, AdamFlags f);
void sgd_f32(float* p, const float* g, float* buf, int64_t lo, int64_t hi, const SgdConsts<float>& c);
void sgd_f64(double* p, const double* g, double* buf, int64_t lo, int64_t hi, const SgdConsts<double>& c);

}  // namespace cr::kern::CHAINRULE_KERNEL_NS
