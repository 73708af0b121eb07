// GEMM on Eigen's kernels, compiled per level (Note [CPU dispatch] in kernels.h).
#include <Eigen/Core>
#include <algorithm>

#include "kernels/level.h"

namespace cr::kern::CHAINRULE_KERNEL_NS {
namespace {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ColMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using Stride = Eigen::OuterStride<>;

template <class T, class MA, class MB>
void product(const MA& A, const MB& B, T* c, int64_t n, int64_t m, int64_t ldc, bool accumulate) {
  Eigen::Map<RowMat<T>, 0, Stride> C(c, n, m, Stride(ldc));
  if (accumulate) C.noalias() += A * B;
  else C.noalias() = A * B;
}

template <class T>
void gemm(int64_t n, int64_t k, int64_t m, const GemmOperand& a, const GemmOperand& b, T* c, int64_t ldc,
          bool accumulate) {
  if (n == 0 || m == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < n; ++i) std::fill(c + i * ldc, c + i * ldc + m, T(0));
    return;
  }
  using RM = Eigen::Map<const RowMat<T>, 0, Stride>;
  using CM = Eigen::Map<const ColMat<T>, 0, Stride>;
  const T* pa = static_cast<const T*>(a.ptr);
  const T* pb = static_cast<const T*>(b.ptr);
  if (!a.col_major) {
    RM A(pa, n, k, Stride(a.ld));
    if (!b.col_major) product<T>(A, RM(pb, k, m, Stride(b.ld)), c, n, m, ldc, accumulate);
    else product<T>(A, CM(pb, k, m, Stride(b.ld)), c, n, m, ldc, accumulate);
  } else {
    CM A(pa, n, k, Stride(a.ld));
    if (!b.col_major) product<T>(A, RM(pb, k, m, Stride(b.ld)), c, n, m, ldc, accumulate);
    else product<T>(A, CM(pb, k, m, Stride(b.ld)), c, n, m, ldc, accumulate);
  }
}

}  // namespace

void gemm_f32(int64_t n, int64_t k, int64_t m, const GemmOperand& a, const GemmOperand& b, float* c,
              int64_t ldc, bool accumulate) {
  gemm<float>(n, k, m, a, b, c, ldc, accumulate);
}
void gemm_f64(int64_t n, int64_t k, int64_t m, const GemmOperand& a, const GemmOperand& b, double* c,
              int64_t ldc, bool accumulate) {
  gemm<double>(n, k, m, a, b, c, ldc, accumulate);
}

}  // namespace cr::kern::CHAINRULE_KERNEL_NS
