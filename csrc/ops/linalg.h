#pragma once
#include "core/tensor.h"

namespace cr {

/// torch.matmul semantics: 1-D, 2-D and batched N-D with broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b);

/// Products threaded above this many flops (Note [Deterministic GEMM] in linalg.cpp).
constexpr double kGemmParallelFlops = 4e6;

/// C[n, m] (row-major, contiguous) = op(A) op(B) on the dispatched GEMM, in the panels of Note
/// [Deterministic GEMM], spread over threads when the product has parallel_flops or more. op(A) is
/// n x k, stored row-major as A[n, k], or as A[k, n] when ta; op(B) is k x m, stored as B[k, m], or
/// B[m, k] when tb. T is float or double.
template <class T>
void gemm_contiguous(const T* A, bool ta, const T* B, bool tb, T* C, int64_t n, int64_t k, int64_t m,
                     double parallel_flops = kGemmParallelFlops);

}  // namespace cr
