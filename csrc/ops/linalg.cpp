// Matrix products on Eigen's GEMM, built per instruction-set level (Note [CPU dispatch] in
// kernels/kernels.h). See Note [Deterministic GEMM].
#include "ops/linalg.h"

#include <algorithm>
#include <type_traits>

#include "autograd/capture.h"
#include "autograd/plan.h"
#include "core/parallel.h"
#include "kernels/kernels.h"
#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/shape.h"

namespace cr {

// Note [Deterministic GEMM]
// Eigen is built with EIGEN_DONT_PARALLELIZE: its own threading picks block sizes from the thread
// count, which would change the order of the k-sums. Instead the output is cut into panels of a
// fixed width (gemm_panel_width() columns or rows, whichever dim is larger) and each panel is one
// single-threaded Eigen product; panels are spread over the intra-op threads. A panel's result does
// not depend on which thread ran it, so neither does the product.

namespace {

// Panel width from the split extent alone (never from the thread count): wide enough that Eigen's
// packing is amortized, narrow enough that a mid-sized product still has several panels to share,
// and equal panels (rounded to 16) so that threads get balanced work.
inline int64_t gemm_panel_width(int64_t extent) {
  int64_t target = extent <= 256 ? 64 : extent <= 1024 ? 256 : 512;
  int64_t panels = (extent + target - 1) / target;
  int64_t width = (extent + panels - 1) / panels;
  return (width + 15) / 16 * 16;
}

// A 2-D operand; one of its strides must be 1 (row- or column-major).
enum class Layout { Row, Col };
struct Operand2D {
  const char* ptr;
  int64_t rows, cols, ld;
  Layout layout;
};

// Rows [r0, r1) of a, or columns [c0, c1) of b, as a kernel operand.
kern::GemmOperand rows_of(const Operand2D& a, int64_t r0, size_t isz) {
  int64_t off = a.layout == Layout::Row ? r0 * a.ld : r0;
  return {a.ptr + off * (int64_t)isz, a.ld, a.layout == Layout::Col};
}
kern::GemmOperand cols_of(const Operand2D& b, int64_t c0, size_t isz) {
  int64_t off = b.layout == Layout::Row ? c0 : c0 * b.ld;
  return {b.ptr + off * (int64_t)isz, b.ld, b.layout == Layout::Col};
}

// C[r0:r1, c0:c1] = A[r0:r1, :] * B[:, c0:c1], single-threaded, on the chosen level's kernel.
template <class T>
void gemm_panel(const Operand2D& a, const Operand2D& b, T* C, int64_t k, int64_t m, int64_t r0, int64_t r1,
                int64_t c0, int64_t c1) {
  kern::GemmOperand pa = rows_of(a, r0, sizeof(T)), pb = cols_of(b, c0, sizeof(T));
  if constexpr (std::is_same_v<T, float>) {
    kern::table().gemm_f32(r1 - r0, k, c1 - c0, pa, pb, C + r0 * m + c0, m, false);
  } else if constexpr (std::is_same_v<T, double>) {
    kern::table().gemm_f64(r1 - r0, k, c1 - c0, pa, pb, C + r0 * m + c0, m, false);
  } else {
    // Integer products (exact in any order): a plain loop, i-k-j so that a row-major B streams.
    const T* A = static_cast<const T*>(pa.ptr);
    const T* B = static_cast<const T*>(pb.ptr);
    for (int64_t i = 0; i < r1 - r0; ++i) {
      T* row = C + (r0 + i) * m + c0;
      std::fill(row, row + (c1 - c0), T(0));
      for (int64_t q = 0; q < k; ++q) {
        const T av = pa.col_major ? A[q * pa.ld + i] : A[i * pa.ld + q];
        for (int64_t j = 0; j < c1 - c0; ++j)
          row[j] += av * (pb.col_major ? B[j * pb.ld + q] : B[q * pb.ld + j]);
      }
    }
  }
}

template <class T>
void gemm(const Operand2D& a, const Operand2D& b, T* C, int64_t n, int64_t k, int64_t m, bool threaded,
          double parallel_flops = kGemmParallelFlops) {
  if (n == 0 || m == 0) return;
  if (k == 0) {
    std::fill(C, C + n * m, T(0));
    return;
  }
  double flops = 2.0 * (double)n * (double)k * (double)m;
  bool split_cols = m >= n;
  int64_t extent = split_cols ? m : n;
  const int64_t width = gemm_panel_width(extent);
  const int64_t panels = (extent + width - 1) / width;
  auto run = [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      int64_t b0 = p * width, e = std::min(extent, b0 + width);
      if (split_cols) gemm_panel<T>(a, b, C, k, m, 0, n, b0, e);
      else gemm_panel<T>(a, b, C, k, m, b0, e, 0, m);
    }
  };
  // The serial path makes the same panel cut as the threaded one, so thread count never changes
  // the result.
  if (!threaded || flops < parallel_flops || panels == 1) run(0, panels);
  else parallel_for(0, panels, 1, run);
}

}  // namespace

template <class T>
void gemm_contiguous(const T* A, bool ta, const T* B, bool tb, T* C, int64_t n, int64_t k, int64_t m,
                     double parallel_flops) {
  Operand2D a{reinterpret_cast<const char*>(A), n, k, ta ? n : k, ta ? Layout::Col : Layout::Row};
  Operand2D b{reinterpret_cast<const char*>(B), k, m, tb ? k : m, tb ? Layout::Col : Layout::Row};
  gemm<T>(a, b, C, n, k, m, true, parallel_flops);
}
template void gemm_contiguous<float>(const float*, bool, const float*, bool, float*, int64_t, int64_t,
                                     int64_t, double);
template void gemm_contiguous<double>(const double*, bool, const double*, bool, double*, int64_t, int64_t,
                                      int64_t, double);

namespace {

// A 2-D view usable by Eigen: itself when one stride is 1, otherwise a contiguous copy.
Tensor gemm_ready(const Tensor& t) {
  const Dims& st = t.strides();
  int64_t r = t.shape()[t.dim() - 2], c = t.shape()[t.dim() - 1];
  int64_t s0 = st[t.dim() - 2], s1 = st[t.dim() - 1];
  bool row = (s1 == 1 || c == 1) && (s0 >= c || r == 1);
  bool col = (s0 == 1 || r == 1) && (s1 >= r || c == 1);
  if (row || col) return t;
  return contiguous_copy(t);
}

Operand2D operand(const Tensor& t, int64_t batch_offset) {
  int64_t r = t.shape()[t.dim() - 2], c = t.shape()[t.dim() - 1];
  int64_t s0 = t.strides()[t.dim() - 2], s1 = t.strides()[t.dim() - 1];
  Operand2D op;
  op.ptr = t.raw_data() + batch_offset * (int64_t)itemsize(t.dtype());
  op.rows = r;
  op.cols = c;
  if ((s1 == 1 || c == 1) && (s0 >= c || r == 1)) {
    op.layout = Layout::Row;
    op.ld = r == 1 ? std::max<int64_t>(c, 1) : s0;
  } else {
    op.layout = Layout::Col;
    op.ld = c == 1 ? std::max<int64_t>(r, 1) : s1;
  }
  return op;
}

Tensor matmul_2d(const Tensor& a, const Tensor& b);
Tensor matmul_3d(const Tensor& a, const Tensor& b);

// A matrix stored column by column: the transpose of a contiguous matrix, as nn.Linear's weight.T.
bool column_major(const Tensor& t) {
  return t.shape()[0] > 1 && t.shape()[1] > 1 && t.strides()[0] == 1 && t.strides()[1] == t.shape()[0];
}
// Which operands of a product were column-major (kept as attributes: an operand is saved only when
// the other one needs a gradient).
struct OperandLayouts {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  bool self_columns = false, mat2_columns = false;
};

// self @ mat2 for matrices and for batches of matrices (the last two dims). A matrix gradient comes
// out in its operand's layout (PyTorch's rule): for a column-major operand it is computed
// transposed, so the transpose that made the operand turns it back into a contiguous gradient
// (nn.Linear's weight.grad is contiguous, with no copy, and the optimizer's fused step applies).
const auto mm_grad = with_jvp(
    Derivative<2, 2, OperandLayouts>{
        "MmBackward0",
        {"self", "mat2"},
        {[](const auto& d) {
           if (d.attrs.self_columns) return transpose(matmul_2d(d.saved[1], transpose(d.grad, 0, 1)), 0, 1);
           return matmul_2d(d.grad, transpose(d.saved[1], 0, 1));
         },
         [](const auto& d) {
           if (d.attrs.mat2_columns) return transpose(matmul_2d(transpose(d.grad, 0, 1), d.saved[0]), 0, 1);
           return matmul_2d(transpose(d.saved[0], 0, 1), d.grad);
         }},
        {{{"self", for_grad_of(1)}, {"mat2", for_grad_of(0)}}}},
    [](const auto& j) {
      Tensor r;
      if (j.has[0]) r = matmul_2d(j.tangent[0], j.primal[1]);
      if (j.has[1]) {
        Tensor q = matmul_2d(j.primal[0], j.tangent[1]);
        r = r.defined() ? r + q : q;
      }
      return r;
    });
const auto bmm_grad =
    with_jvp(Derivative<2, 2>{"BmmBackward0",
                              {"self", "mat2"},
                              {[](const auto& d) { return matmul_3d(d.grad, transpose(d.saved[1], 1, 2)); },
                               [](const auto& d) { return matmul_3d(transpose(d.saved[0], 1, 2), d.grad); }},
                              {{{"self", for_grad_of(1)}, {"mat2", for_grad_of(0)}}}},
             [](const auto& j) {
               Tensor r;
               if (j.has[0]) r = matmul_3d(j.tangent[0], j.primal[1]);
               if (j.has[1]) {
                 Tensor q = matmul_3d(j.primal[0], j.tangent[1]);
                 r = r.defined() ? r + q : q;
               }
               return r;
             });

void check_dtypes(const Tensor& a, const Tensor& b, const char* op) {
  if (a.dtype() != b.dtype())
    throw TypeError(str(op, ": expected both operands to have the same dtype, got ", dtype_name(a.dtype()),
                        " and ", dtype_name(b.dtype())));
  if (a.dtype() == DType::Bool) throw TypeError(str(op, ": not implemented for bool tensors"));
}

Tensor matmul_2d(const Tensor& a0, const Tensor& b0) {
  CR_PLANNED_DIRECT(matmul_2d(a0, b0));
  check_dtypes(a0, b0, "matmul");
  int64_t n = a0.shape()[0], k = a0.shape()[1], m = b0.shape()[1];
  if (b0.shape()[0] != k)
    throw ShapeError(str("matmul: mat1 and mat2 shapes cannot be multiplied (", n, "x", k, " and ",
                         b0.shape()[0], "x", m, ")"));
  Tensor a = gemm_ready(a0), b = gemm_ready(b0);
  Tensor out = Tensor::empty(Dims{n, m}, a.dtype());
  dispatch_numeric(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    gemm<T>(operand(a, 0), operand(b, 0), out.data<T>(), n, k, m, true);
    CR_OFFER_DIRECT(1, "matmul",
                    [pa = operand(a, 0), pb = operand(b, 0), c = out.data<T>(), n, k, m,
                     keep = TensorList{a, b}] { gemm<T>(pa, pb, c, n, k, m, true); });
  });
  if (auto* node = record(mm_grad, {a0, b0}, out, {a0, b0}))
    node->attrs = {column_major(a0), column_major(b0)};
  return out;
}

Tensor matmul_3d(const Tensor& a0, const Tensor& b0) {
  check_dtypes(a0, b0, "matmul");
  int64_t B = a0.shape()[0], n = a0.shape()[1], k = a0.shape()[2], m = b0.shape()[2];
  if (b0.shape()[1] != k || b0.shape()[0] != B)
    throw ShapeError(
        str("matmul: batch shapes cannot be multiplied (", a0.shape(), " and ", b0.shape(), ")"));
  Tensor a = gemm_ready(a0), b = gemm_ready(b0);
  Tensor out = Tensor::empty(Dims{B, n, m}, a.dtype());
  dispatch_numeric(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    T* C = out.data<T>();
    bool per_batch_threads = B < intra_op_threads();
    auto one = [&](int64_t i) {
      gemm<T>(operand(a, i * a.strides()[0]), operand(b, i * b.strides()[0]), C + i * n * m, n, k, m,
              per_batch_threads);
    };
    if (per_batch_threads) {
      for (int64_t i = 0; i < B; ++i) one(i);
    } else {
      int64_t grain = std::max<int64_t>(1, (int64_t)(kGemmParallelFlops / std::max(1.0, 2.0 * n * k * m)));
      parallel_for(0, B, grain, [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) one(i);
      });
    }
  });
  record(bmm_grad, {a0, b0}, out, {a0, b0});
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  int64_t da = a.dim(), db = b.dim();
  if (da == 0 || db == 0)
    throw ShapeError(
        str("matmul: both arguments need at least 1 dimension, got shapes ", a.shape(), " and ", b.shape()));
  if (da == 1 && db == 1) {
    if (a.shape()[0] != b.shape()[0])
      throw ShapeError(str("matmul: 1-D tensors of different sizes: ", a.shape(), " and ", b.shape()));
    return reshape(matmul_2d(reshape(a, Dims{1, a.shape()[0]}), reshape(b, Dims{b.shape()[0], 1})), Dims{});
  }
  if (da == 2 && db == 2) return matmul_2d(a, b);
  if (da == 1 && db == 2) {
    if (a.shape()[0] != b.shape()[0])
      throw ShapeError(str("matmul: shapes ", a.shape(), " and ", b.shape(), " cannot be multiplied"));
    return reshape(matmul_2d(reshape(a, Dims{1, a.shape()[0]}), b), Dims{b.shape()[1]});
  }
  if (da == 2 && db == 1) {
    if (a.shape()[1] != b.shape()[0])
      throw ShapeError(str("matmul: shapes ", a.shape(), " and ", b.shape(), " cannot be multiplied"));
    return reshape(matmul_2d(a, reshape(b, Dims{b.shape()[0], 1})), Dims{a.shape()[0]});
  }
  // Batched: promote 1-D operands, broadcast batch dims, run as one 3-D product.
  Tensor A = da == 1 ? reshape(a, Dims{1, a.shape()[0]}) : a;
  Tensor Bt = db == 1 ? reshape(b, Dims{b.shape()[0], 1}) : b;
  int64_t n = A.shape()[A.dim() - 2], k = A.shape()[A.dim() - 1];
  int64_t k2 = Bt.shape()[Bt.dim() - 2], m = Bt.shape()[Bt.dim() - 1];
  if (k != k2)
    throw ShapeError(
        str("matmul: shapes ", a.shape(), " and ", b.shape(), " cannot be multiplied (", k, " vs ", k2, ")"));
  Dims ba(A.shape().begin(), A.shape().end() - 2), bb(Bt.shape().begin(), Bt.shape().end() - 2);
  Dims batch = broadcast_shapes(ba, bb, "matmul");
  int64_t B = numel_of(batch);
  Dims ea = batch, eb = batch;
  ea.push_back(n);
  ea.push_back(k);
  eb.push_back(k);
  eb.push_back(m);
  Tensor a3 = reshape(expand(A, ea), Dims{B, n, k});
  Tensor b3 = reshape(expand(Bt, eb), Dims{B, k, m});
  Dims out_shape = batch;
  if (da > 1) out_shape.push_back(n);
  if (db > 1) out_shape.push_back(m);
  // the batched product saves these views, made here (Note [Internal tensors of a recorded call])
  capture::note_internal(a3);
  capture::note_internal(b3);
  return reshape(matmul_3d(a3, b3), out_shape);
}

}  // namespace cr
