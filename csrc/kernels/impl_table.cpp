// This level's table of kernels, the one symbol its module exports (Note [CPU dispatch] in
// kernels.h).
#include "kernels/level.h"

#if defined(_WIN32)
#define CHAINRULE_KERNEL_EXPORT __declspec(dllexport)
#else
#define CHAINRULE_KERNEL_EXPORT __attribute__((visibility("default")))
#endif

extern "C" CHAINRULE_KERNEL_EXPORT const cr::kern::Table* chainrule_kernel_table() {
  namespace L = cr::kern::CHAINRULE_KERNEL_NS;
  static const cr::kern::Table t{CHAINRULE_KERNEL_LEVEL_NAME,
                                 &L::gemm_f32,
                                 &L::gemm_f64,
                                 &L::unary_f32,
                                 &L::unary_grad_f32,
                                 &L::binary_f32,
                                 &L::binary_f64,
                                 &L::binary_rows_f32,
                                 &L::binary_rows_f64,
                                 &L::col_sum_f32,
                                 &L::col_sum_f64,
                                 &L::adam_f32,
                                 &L::adam_f64,
                                 &L::sgd_f32,
                                 &L::sgd_f64};
  return &t;
}
