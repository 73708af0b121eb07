// Convolution (conv1d/conv2d/conv_transpose) and pooling (max, avg, adaptive) kernels with their
// backward kernels.
//
// Note [Convolution as three bilinear kernels]
// With a fixed geometry (sizes, stride, padding, dilation, groups), a convolution is a bilinear
// map y = F(x, w), and its two backward maps are bilinear too:
//   Bx(gy, w) = dL/dx   (the adjoint of F in x: a transposed convolution)
//   Bw(x, gy) = dL/dw   (the adjoint of F in w)
// Each is one fused kernel and one table entry, and each one's derivatives are again F, Bx or Bw:
//   F(x, w):   dx = Bx(g, w),   dw = Bw(x, g)
//   Bx(gy, w): dgy = F(g, w),   dw = Bw(g, gy)
//   Bw(x, gy): dx = Bx(gy, g),  dgy = F(x, g)
// so gradients of any order are exact. conv_transpose is Bx with a bias. 1-D convolutions run as
// 2-D ones with a height of 1.
//
// Note [Convolution kernels]
// Per batch item and group: im2col into a buffer private to the thread, then one Eigen GEMM
// (weight (O/G, K) x columns (K, L), K = C/G * kernel, L = output positions); a 1x1 kernel with
// stride 1 and no padding uses the input as its columns. Batch items (times groups) are spread
// over the intra-op threads; each output element is written by one GEMM whatever the thread
// count. The weight gradient sums over the batch: the batch is cut into a number of parts fixed
// by the shape alone (never by the thread count), each part accumulates its items in order, and
// the parts are added in order, so the result is bitwise the same for any set_num_threads(n).
#include "ops/conv.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/parallel.h"
#include "kernels/kernels.h"
#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace cr {

namespace {

// C (n x m) = A (n x k) * B (k x m), or += with `accumulate`; all three contiguous row-major, A
// stored transposed (k x n) when `ta`, B (m x k) when `tb`. Runs the GEMM of the instruction-set
// level chosen at import (Note [CPU dispatch] in kernels/kernels.h), single-threaded.
template <class T>
void mm_into(T* C, const T* A, bool ta, const T* B, bool tb, int64_t n, int64_t k, int64_t m,
             bool accumulate) {
  kern::GemmOperand a{A, ta ? n : k, ta}, b{B, tb ? k : m, tb};
  if constexpr (std::is_same_v<T, float>) kern::table().gemm_f32(n, k, m, a, b, C, m, accumulate);
  else kern::table().gemm_f64(n, k, m, a, b, C, m, accumulate);
}

// ---- geometry -----------------------------------------------------------------------------------
struct ConvGeom {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  int nd = 2;
  int64_t N = 0, C = 0, O = 0, G = 1;  // batch, input channels, output channels, groups
  int64_t H = 1, W = 1, kH = 1, kW = 1, oH = 1, oW = 1;
  int64_t sH = 1, sW = 1, pH = 0, pW = 0, dH = 1, dW = 1;  // pH, pW: padding before

  int64_t Cg() const { return C / G; }
  int64_t Og() const { return O / G; }
  int64_t K() const { return Cg() * kH * kW; }
  int64_t L() const { return oH * oW; }
  int64_t HW() const { return H * W; }
  bool pointwise() const {
    return kH == 1 && kW == 1 && sH == 1 && sW == 1 && pH == 0 && pW == 0 && oH == H && oW == W;
  }
  Dims in_shape() const { return nd == 2 ? Dims{N, C, H, W} : Dims{N, C, W}; }
  Dims out_shape() const { return nd == 2 ? Dims{N, O, oH, oW} : Dims{N, O, oW}; }
  Dims weight_shape() const { return nd == 2 ? Dims{O, Cg(), kH, kW} : Dims{O, Cg(), kW}; }
  std::vector<int64_t> reduce_dims() const {
    return nd == 2 ? std::vector<int64_t>{0, 2, 3} : std::vector<int64_t>{0, 2};
  }
};

inline Tensor dense(const Tensor& t) { return t.is_contiguous() ? t : contiguous_copy(t); }

// Columns of one (Cg, H, W) block: col[(c, ki, kj), (oh, ow)].
// For small planes: the input offset read by each (kernel position, output position), or -1 in
// the padding; false when the table would not fit (then rows are copied run by run).
constexpr int64_t kSmallPlaneTable = 4096;
inline bool small_plane_table(const ConvGeom& g, int32_t* idx) {
  const int64_t L = g.L();
  if (g.oW >= 8 || g.kH * g.kW * L > kSmallPlaneTable) return false;
  for (int64_t ki = 0; ki < g.kH; ++ki)
    for (int64_t kj = 0; kj < g.kW; ++kj) {
      int32_t* t = idx + (ki * g.kW + kj) * L;
      for (int64_t oh = 0; oh < g.oH; ++oh)
        for (int64_t ow = 0; ow < g.oW; ++ow) {
          const int64_t ih = oh * g.sH - g.pH + ki * g.dH, iw = ow * g.sW - g.pW + kj * g.dW;
          t[oh * g.oW + ow] = (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) ? (int32_t)(ih * g.W + iw) : -1;
        }
    }
  return true;
}

// Rows are `ld` apart (ld >= L: several items' columns side by side).
template <class T>
void im2col(const ConvGeom& g, const T* x, T* col, int64_t ld) {
  const int64_t Cg = g.Cg();
  int32_t idx[kSmallPlaneTable];
  if (small_plane_table(g, idx)) {
    const int64_t L = g.L(), KK = g.kH * g.kW;
    for (int64_t c = 0; c < Cg; ++c) {
      const T* xc = x + c * g.HW();
      for (int64_t k = 0; k < KK; ++k) {
        T* row = col + (c * KK + k) * ld;
        const int32_t* t = idx + k * L;
        for (int64_t l = 0; l < L; ++l) row[l] = t[l] >= 0 ? xc[t[l]] : T(0);
      }
    }
    return;
  }
  for (int64_t c = 0; c < Cg; ++c) {
    const T* xc = x + c * g.HW();
    for (int64_t ki = 0; ki < g.kH; ++ki)
      for (int64_t kj = 0; kj < g.kW; ++kj) {
        T* row = col + ((c * g.kH + ki) * g.kW + kj) * ld;
        const int64_t off = kj * g.dW - g.pW;  // iw = ow * sW + off
        int64_t lo = off >= 0 ? 0 : (-off + g.sW - 1) / g.sW;
        int64_t hi = g.W - off <= 0 ? 0 : (g.W - off + g.sW - 1) / g.sW;
        lo = std::min(lo, g.oW);
        hi = std::max(lo, std::min(hi, g.oW));
        if (g.sH == 1 && g.sW == 1 && g.oW == g.W && hi > lo) {
          // Stride 1, width kept: the valid rows are one contiguous run of the input plane, so
          // copy it at once and then zero the few positions that fall in the padding.
          const int64_t shift = ki * g.dH - g.pH;  // ih = oh + shift
          const int64_t r0 = std::clamp<int64_t>(-shift, 0, g.oH),
                        r1 = std::clamp<int64_t>(g.H - shift, r0, g.oH);
          std::fill(row, row + r0 * g.oW, T(0));
          std::fill(row + r1 * g.oW, row + g.oH * g.oW, T(0));
          if (r1 > r0) {
            const T* src = xc + (r0 + shift) * g.W + off;
            T* dst = row + r0 * g.oW;
            std::memcpy(dst + lo, src + lo, (size_t)((r1 - r0 - 1) * g.W + (hi - lo)) * sizeof(T));
            for (int64_t oh = r0; oh < r1; ++oh) {
              T* r = row + oh * g.oW;
              for (int64_t ow = 0; ow < lo; ++ow) r[ow] = T(0);
              for (int64_t ow = hi; ow < g.oW; ++ow) r[ow] = T(0);
            }
          }
          continue;
        }
        for (int64_t oh = 0; oh < g.oH; ++oh) {
          T* r = row + oh * g.oW;
          const int64_t ih = oh * g.sH - g.pH + ki * g.dH;
          if (ih < 0 || ih >= g.H) {
            std::fill(r, r + g.oW, T(0));
            continue;
          }
          const T* xr = xc + ih * g.W + off;
          std::fill(r, r + lo, T(0));
          if (g.sW == 1) {
            std::memcpy(r + lo, xr + lo, (size_t)(hi - lo) * sizeof(T));
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) r[ow] = xr[ow * g.sW];
          }
          std::fill(r + hi, r + g.oW, T(0));
        }
      }
  }
}

// The adjoint of im2col: adds the columns back into a (Cg, H, W) block.
template <class T>
void col2im_add(const ConvGeom& g, const T* col, T* x, int64_t ld) {
  const int64_t Cg = g.Cg();
  int32_t idx[kSmallPlaneTable];
  if (small_plane_table(g, idx)) {
    const int64_t L = g.L(), KK = g.kH * g.kW;
    for (int64_t c = 0; c < Cg; ++c) {
      T* xc = x + c * g.HW();
      for (int64_t k = 0; k < KK; ++k) {
        const T* row = col + (c * KK + k) * ld;
        const int32_t* t = idx + k * L;
        for (int64_t l = 0; l < L; ++l)
          if (t[l] >= 0) xc[t[l]] += row[l];
      }
    }
    return;
  }
  for (int64_t c = 0; c < Cg; ++c) {
    T* xc = x + c * g.HW();
    for (int64_t ki = 0; ki < g.kH; ++ki)
      for (int64_t kj = 0; kj < g.kW; ++kj) {
        const T* row = col + ((c * g.kH + ki) * g.kW + kj) * ld;
        const int64_t off = kj * g.dW - g.pW;
        int64_t lo = off >= 0 ? 0 : (-off + g.sW - 1) / g.sW;
        int64_t hi = g.W - off <= 0 ? 0 : (g.W - off + g.sW - 1) / g.sW;
        lo = std::min(lo, g.oW);
        hi = std::max(lo, std::min(hi, g.oW));
        for (int64_t oh = 0; oh < g.oH; ++oh) {
          const int64_t ih = oh * g.sH - g.pH + ki * g.dH;
          if (ih < 0 || ih >= g.H) continue;
          const T* r = row + oh * g.oW;
          T* xr = xc + ih * g.W + off;
          if (g.sW == 1) {
            for (int64_t ow = lo; ow < hi; ++ow) xr[ow] += r[ow];
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) xr[ow * g.sW] += r[ow];
          }
        }
      }
  }
}

// Per-thread column buffers, allocated before the parallel region (an allocation failure then
// raises in the calling thread instead of inside a parallel region).
template <class T>
class ColumnBuffers {
 public:
  // One slot per thread of the region parallel_for may open; a call made from inside a parallel
  // region runs inline (parallel_for opens none) and gets one slot of its own.
  ColumnBuffers(int64_t per_thread, bool needed)
      : per_(needed ? per_thread : 0), slots_(outer_parallel() ? 1 : std::max(1, intra_op_threads())),
        data_((size_t)(per_ * slots_)) {}
  T* get() {
    const int64_t t = slots_ > 1 && in_parallel_region() ? (int64_t)parallel_thread_index() : 0;
    return data_.data() + std::min(t, slots_ - 1) * per_;
  }

 private:
  static bool outer_parallel() { return in_parallel_region(); }
  int64_t per_, slots_;
  std::vector<T> data_;
};

// Batch items per GEMM: items with few output positions share one product (their columns side
// by side), so that small convolutions still make GEMMs of a useful size. From the shape only.
inline int64_t item_block(const ConvGeom& g) {
  const int64_t L = std::max<int64_t>(g.L(), 1);
  if (L >= 256 || g.N <= 1) return 1;
  return std::min<int64_t>(g.N, (512 + L - 1) / L);
}

// y = F(x, w) + b. Note [Convolution kernels].
template <class T>
void conv_forward_kernel(const ConvGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t Cg = g.Cg(), Og = g.Og(), K = g.K(), L = g.L(), HW = g.HW();
  const int64_t nb = item_block(g), blocks = (g.N + nb - 1) / nb;
  const bool pw = nb == 1 && g.pointwise();
  const int64_t items = blocks * g.G;
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, Og * K * L * nb));
  ColumnBuffers<T> bufs(K * L * nb + (nb > 1 ? Og * L * nb : 0), !pw);
  parallel_for(0, items, grain, [&](int64_t b0, int64_t e0) {
    T* col = bufs.get();
    T* ybuf = col + K * L * nb;
    for (int64_t i = b0; i < e0; ++i) {
      const int64_t blk = i / g.G, gr = i % g.G;
      const int64_t n0 = blk * nb, m = std::min(g.N, n0 + nb) - n0, ld = m * L;
      const T* Wm = w + gr * Og * K;
      if (m == 1) {
        const T* xi = x + (n0 * g.C + gr * Cg) * HW;
        const T* ci = xi;
        if (!pw) {
          im2col(g, xi, col, L);
          ci = col;
        }
        mm_into<T>(y + (n0 * g.O + gr * Og) * L, Wm, false, ci, false, Og, K, L, false);
      } else {
        for (int64_t j = 0; j < m; ++j) im2col(g, x + ((n0 + j) * g.C + gr * Cg) * HW, col + j * L, ld);
        mm_into<T>(ybuf, Wm, false, col, false, Og, K, ld, false);
        for (int64_t j = 0; j < m; ++j)
          for (int64_t o = 0; o < Og; ++o)
            std::memcpy(y + ((n0 + j) * g.O + gr * Og + o) * L, ybuf + o * ld + j * L, (size_t)L * sizeof(T));
      }
      if (b)
        for (int64_t j = 0; j < m; ++j)
          for (int64_t o = 0; o < Og; ++o) {
            T* r = y + ((n0 + j) * g.O + gr * Og + o) * L;
            const T bo = b[gr * Og + o];
            for (int64_t l = 0; l < L; ++l) r[l] += bo;
          }
    }
  });
}

// gx = Bx(gy, w) (+ b over gx's channels, for conv_transpose).
template <class T>
void conv_backward_input_kernel(const ConvGeom& g, const T* gy, const T* w, const T* b, T* gx) {
  const int64_t Cg = g.Cg(), Og = g.Og(), K = g.K(), L = g.L(), HW = g.HW();
  const int64_t nb = item_block(g), blocks = (g.N + nb - 1) / nb;
  const bool pw = nb == 1 && g.pointwise();
  const int64_t items = blocks * g.G;
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, Og * K * L * nb));
  ColumnBuffers<T> bufs(K * L * nb + (nb > 1 ? Og * L * nb : 0), !pw);
  parallel_for(0, items, grain, [&](int64_t b0, int64_t e0) {
    T* col = bufs.get();
    T* gbuf = col + K * L * nb;
    for (int64_t i = b0; i < e0; ++i) {
      const int64_t blk = i / g.G, gr = i % g.G;
      const int64_t n0 = blk * nb, m = std::min(g.N, n0 + nb) - n0, ld = m * L;
      const T* Wm = w + gr * Og * K;
      if (m == 1) {
        T* xi = gx + (n0 * g.C + gr * Cg) * HW;
        const T* Gy = gy + (n0 * g.O + gr * Og) * L;
        if (pw) {
          mm_into<T>(xi, Wm, true, Gy, false, K, Og, L, false);
        } else {
          mm_into<T>(col, Wm, true, Gy, false, K, Og, L, false);
          std::fill(xi, xi + Cg * HW, T(0));
          col2im_add(g, col, xi, L);
        }
      } else {
        for (int64_t j = 0; j < m; ++j)
          for (int64_t o = 0; o < Og; ++o)
            std::memcpy(gbuf + o * ld + j * L, gy + ((n0 + j) * g.O + gr * Og + o) * L,
                        (size_t)L * sizeof(T));
        mm_into<T>(col, Wm, true, gbuf, false, K, Og, ld, false);
        for (int64_t j = 0; j < m; ++j) {
          T* xi = gx + ((n0 + j) * g.C + gr * Cg) * HW;
          std::fill(xi, xi + Cg * HW, T(0));
          col2im_add(g, col + j * L, xi, ld);
        }
      }
      if (b)
        for (int64_t j = 0; j < m; ++j)
          for (int64_t c = 0; c < Cg; ++c) {
            T* p = gx + ((n0 + j) * g.C + gr * Cg + c) * HW;
            const T bc = b[gr * Cg + c];
            for (int64_t k = 0; k < HW; ++k) p[k] += bc;
          }
    }
  });
}

// Parts the batch is cut into for the weight gradient: from the shape only (Note [Convolution
// kernels]), at most 16, and few enough that the partial sums stay small.
inline int64_t weight_grad_part_size(const ConvGeom& g) {
  const int64_t wnum = std::max<int64_t>(1, g.O * g.K());
  int64_t parts = std::min<int64_t>({g.N, 16, std::max<int64_t>(1, (int64_t(1) << 25) / wnum)});
  parts = std::max<int64_t>(parts, 1);
  return (g.N + parts - 1) / parts;
}

// gw = Bw(x, gy).
template <class T>
void conv_backward_weight_kernel(const ConvGeom& g, const T* x, const T* gy, T* gw) {
  const int64_t Cg = g.Cg(), Og = g.Og(), K = g.K(), L = g.L(), HW = g.HW();
  const int64_t wnum = g.O * K;
  const int64_t nb = item_block(g);
  const bool pw = nb == 1 && g.pointwise();
  // parts of at least nb items (so that their GEMMs batch), but no fewer than 4 parts when the
  // batch allows, to keep threads busy
  const int64_t per = std::max<int64_t>({1, weight_grad_part_size(g), std::min(nb, (g.N + 3) / 4)});
  const int64_t parts = g.N == 0 ? 1 : (g.N + per - 1) / per;
  std::vector<T> partial((size_t)((parts - 1) * wnum));
  auto acc_of = [&](int64_t p) { return p == 0 ? gw : partial.data() + (p - 1) * wnum; };
  ColumnBuffers<T> bufs(K * L * nb + (nb > 1 ? Og * L * nb : 0), !pw);
  parallel_for(0, parts, 1, [&](int64_t pb, int64_t pe) {
    T* col = bufs.get();
    T* gbuf = col + K * L * nb;
    for (int64_t p = pb; p < pe; ++p) {
      T* acc = acc_of(p);
      std::fill(acc, acc + wnum, T(0));
      if (L == 0) continue;
      const int64_t end = std::min(g.N, (p + 1) * per);
      for (int64_t n0 = p * per; n0 < end; n0 += nb) {
        const int64_t m = std::min(end, n0 + nb) - n0, ld = m * L;
        for (int64_t gr = 0; gr < g.G; ++gr) {
          T* A = acc + gr * Og * K;
          if (m == 1) {
            const T* xi = x + (n0 * g.C + gr * Cg) * HW;
            const T* ci = xi;
            if (!pw) {
              im2col(g, xi, col, L);
              ci = col;
            }
            mm_into<T>(A, gy + (n0 * g.O + gr * Og) * L, false, ci, true, Og, L, K, true);
          } else {
            for (int64_t j = 0; j < m; ++j) {
              im2col(g, x + ((n0 + j) * g.C + gr * Cg) * HW, col + j * L, ld);
              for (int64_t o = 0; o < Og; ++o)
                std::memcpy(gbuf + o * ld + j * L, gy + ((n0 + j) * g.O + gr * Og + o) * L,
                            (size_t)L * sizeof(T));
            }
            mm_into<T>(A, gbuf, false, col, true, Og, ld, K, true);
          }
        }
      }
    }
  });
  for (int64_t p = 1; p < parts; ++p) {
    const T* src = acc_of(p);
    for (int64_t j = 0; j < wnum; ++j) gw[j] += src[j];
  }
}

// ---- differentiable wrappers ------------------------------------------------------------------------
Tensor conv_f(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeom& g);
Tensor conv_bx(const Tensor& gy, const Tensor& w, const Tensor& b, const ConvGeom& g, bool transpose_op);
Tensor conv_bw(const Tensor& x, const Tensor& gy, const ConvGeom& g);

Tensor bias_grad(const Tensor& grad, const ConvGeom& g) { return sum(grad, g.reduce_dims(), false); }

// Note [Convolution as three bilinear kernels]
const Derivative<3, 2, ConvGeom> conv_grad{
    "ConvolutionBackward0",
    {"input", "weight", "bias"},
    {[](const auto& d) { return conv_bx(d.grad, d.saved[1], Tensor(), d.attrs, false); },
     [](const auto& d) { return conv_bw(d.saved[0], d.grad, d.attrs); },
     [](const auto& d) { return bias_grad(d.grad, d.attrs); }},
    {{{"input", for_grad_of(1)}, {"weight", for_grad_of(0)}}}};

// conv_transpose's forward (Bx with a bias) and conv's input gradient (Bx without).
Tensor bx_grad_gy(const GradArgs<2, ConvGeom>& d) { return conv_f(d.grad, d.saved[1], Tensor(), d.attrs); }
Tensor bx_grad_w(const GradArgs<2, ConvGeom>& d) { return conv_bw(d.grad, d.saved[0], d.attrs); }
Tensor bx_grad_b(const GradArgs<2, ConvGeom>& d) {
  ConvGeom g = d.attrs;
  return sum(d.grad, g.reduce_dims(), false);
}
const Derivative<3, 2, ConvGeom> conv_transpose_grad{
    "ConvolutionBackward0",
    {"input", "weight", "bias"},
    {bx_grad_gy, bx_grad_w, bx_grad_b},
    {{{"input", for_grad_of(1)}, {"weight", for_grad_of(0)}}}};
const Derivative<3, 2, ConvGeom> conv_bx_grad{
    "ConvolutionBackwardBackward0",
    {"grad_output", "weight", "bias"},
    {bx_grad_gy, bx_grad_w, bx_grad_b},
    {{{"grad_output", for_grad_of(1)}, {"weight", for_grad_of(0)}}}};
const Derivative<2, 2, ConvGeom> conv_bw_grad{
    "ConvolutionBackwardBackward0",
    {"input", "grad_output"},
    {[](const auto& d) { return conv_bx(d.saved[1], d.grad, Tensor(), d.attrs, false); },
     [](const auto& d) { return conv_f(d.saved[0], d.grad, Tensor(), d.attrs); }},
    {{{"input", for_grad_of(1)}, {"grad_output", for_grad_of(0)}}}};

Tensor conv_f(const Tensor& x0, const Tensor& w0, const Tensor& b0, const ConvGeom& g) {
  Tensor x = dense(x0), w = dense(w0), b = b0.defined() ? dense(b0) : Tensor();
  Tensor y = Tensor::empty(g.out_shape(), x.dtype());
  dispatch_floating(x.dtype(), "convolution", [&](auto tag) {
    using T = decltype(tag);
    conv_forward_kernel<T>(g, x.data<T>(), w.data<T>(), b.defined() ? b.data<T>() : nullptr, y.data<T>());
  });
  if (auto* n = record(conv_grad, {x0, w0, b0}, y, {x0, w0})) n->attrs = g;
  return y;
}

Tensor conv_bx(const Tensor& gy0, const Tensor& w0, const Tensor& b0, const ConvGeom& g, bool transpose_op) {
  Tensor gy = dense(gy0), w = dense(w0), b = b0.defined() ? dense(b0) : Tensor();
  Tensor gx = Tensor::empty(g.in_shape(), gy.dtype());
  dispatch_floating(gy.dtype(), "convolution_backward", [&](auto tag) {
    using T = decltype(tag);
    conv_backward_input_kernel<T>(g, gy.data<T>(), w.data<T>(), b.defined() ? b.data<T>() : nullptr,
                                  gx.data<T>());
  });
  if (auto* n = record(transpose_op ? conv_transpose_grad : conv_bx_grad, {gy0, w0, b0}, gx, {gy0, w0}))
    n->attrs = g;
  return gx;
}

Tensor conv_bw(const Tensor& x0, const Tensor& gy0, const ConvGeom& g) {
  Tensor x = dense(x0), gy = dense(gy0);
  Tensor gw = Tensor::empty(g.weight_shape(), x.dtype());
  dispatch_floating(x.dtype(), "convolution_backward", [&](auto tag) {
    using T = decltype(tag);
    conv_backward_weight_kernel<T>(g, x.data<T>(), gy.data<T>(), gw.data<T>());
  });
  if (auto* n = record(conv_bw_grad, {x0, gy0}, gw, {x0, gy0})) n->attrs = g;
  return gw;
}

// ---- argument checks --------------------------------------------------------------------------------
std::string spatial(const IntList& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " x " : "") + std::to_string(v[i]);
  return s;
}

void check_list(const IntList& v, int nd, const char* op, const char* what) {
  if ((int)v.size() != nd)
    throw ValueError(
        str(op, ": expected ", what, " to have ", nd, " value", nd == 1 ? "" : "s", ", got ", v.size()));
}

void check_floating_same(const Tensor& a, const Tensor& b, const char* op, const char* what) {
  if (!b.defined()) return;
  if (b.dtype() != a.dtype())
    throw TypeError(str(op, ": input type (", dtype_name(a.dtype()), ") and ", what, " type (",
                        dtype_name(b.dtype()), ") should be the same"));
}

void check_floating(const Tensor& t, const char* op) {
  if (!is_floating(t.dtype())) dispatch_floating(t.dtype(), op, [](auto) {});  // throws the usual message
}

}  // namespace

// ---- convolution -------------------------------------------------------------------------------------
Tensor convolution(const Tensor& input, const Tensor& weight, const Tensor& bias, int nd,
                   const IntList& stride, const IntList& padding, const std::string& padding_str,
                   const IntList& dilation, int64_t groups, const char* op) {
  if (!input.defined() || !weight.defined()) throw TypeError(str(op, ": input and weight must be Tensors"));
  check_list(stride, nd, op, "stride");
  check_list(dilation, nd, op, "dilation");
  if (padding_str.empty()) check_list(padding, nd, op, "padding");
  check_floating(input, op);
  check_floating_same(input, weight, op, "weight");
  check_floating_same(input, bias, op, "bias");
  bool unbatched = false;
  if (input.dim() != nd + 1 && input.dim() != nd + 2)
    throw ShapeError(str("Expected ", nd + 1, "D (unbatched) or ", nd + 2, "D (batched) input to ", op,
                         ", but got input of size: ", input.shape()));
  unbatched = input.dim() == nd + 1;
  if (weight.dim() != nd + 2)
    throw ShapeError(str(op, ": expected weight to be ", nd + 2, "-D (out_channels, in_channels / groups, ",
                         nd == 2 ? "kH, kW" : "kW", "), but got weight of size ", weight.shape()));
  for (auto s : stride)
    if (s <= 0)
      throw ValueError(str(op, ": non-positive stride is not supported, got stride=", Dims(stride)));
  for (auto d : dilation)
    if (d <= 0)
      throw ValueError(str(op, ": dilation should be greater than zero, got dilation=", Dims(dilation)));
  if (padding_str.empty())
    for (auto p : padding)
      if (p < 0)
        throw ValueError(str(op, ": negative padding is not supported, got padding=", Dims(padding)));
  if (!padding_str.empty() && padding_str != "same" && padding_str != "valid")
    throw ValueError(str(op, ": invalid padding string '", padding_str, "', expected 'same' or 'valid'"));
  if (padding_str == "same")
    for (auto s : stride)
      if (s != 1) throw ValueError(str(op, ": padding='same' is not supported for strided convolutions"));
  if (groups <= 0) throw ValueError(str(op, ": non-positive groups is not supported, got groups=", groups));
  const int64_t O = weight.size(0);
  for (int64_t d = 0; d < weight.dim(); ++d)
    if (weight.size(d) == 0)
      throw ShapeError(str(op, ": weight of size ", weight.shape(), " has an empty dimension"));
  if (O % groups != 0)
    throw ShapeError(str(op, ": given groups=", groups, ", expected weight to be divisible by ", groups,
                         " at dimension 0, but got weight of size ", weight.shape(), " instead"));
  const int64_t C = input.size(unbatched ? 0 : 1);
  if (weight.size(1) * groups != C) {
    throw ShapeError(str(op, ": given groups=", groups, ", weight of size ", weight.shape(),
                         ", expected input", input.shape(), " to have ", weight.size(1) * groups,
                         " channels, but got ", C, " channels instead"));
  }
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != O))
    throw ShapeError(str(op, ": given weight of size ", weight.shape(),
                         ", expected bias to be 1-dimensional with ", O, " elements, but got bias of size ",
                         bias.shape(), " instead"));
  // geometry
  IntList lo(nd), hi(nd), in(nd), k(nd), out(nd);
  for (int i = 0; i < nd; ++i) {
    in[i] = input.size(input.dim() - nd + i);
    k[i] = weight.size(2 + i);
    const int64_t span = dilation[i] * (k[i] - 1);
    if (padding_str == "same") {
      lo[i] = span / 2;
      hi[i] = span - lo[i];
    } else if (padding_str == "valid") {
      lo[i] = hi[i] = 0;
    } else {
      lo[i] = hi[i] = padding[i];
    }
  }
  bool too_small = false;
  IntList padded(nd), eff(nd);
  for (int i = 0; i < nd; ++i) {
    padded[i] = in[i] + lo[i] + hi[i];
    eff[i] = dilation[i] * (k[i] - 1) + 1;
    too_small = too_small || padded[i] < eff[i];
  }
  if (too_small)
    throw ShapeError(str(op, ": calculated padded input size per channel: (", spatial(padded),
                         "). Kernel size: (", spatial(eff),
                         "). Kernel size can't be greater than actual input size"));
  for (int i = 0; i < nd; ++i) out[i] = (padded[i] - eff[i]) / stride[i] + 1;

  Tensor x = unbatched ? unsqueeze(input, 0) : input;
  ConvGeom g;
  g.nd = nd;
  g.N = x.size(0);
  g.C = C;
  g.O = O;
  g.G = groups;
  const int off = nd == 2 ? 0 : -1;  // 1-D: only the width
  if (nd == 2) {
    g.H = in[0];
    g.kH = k[0];
    g.oH = out[0];
    g.sH = stride[0];
    g.pH = lo[0];
    g.dH = dilation[0];
  }
  g.W = in[1 + off];
  g.kW = k[1 + off];
  g.oW = out[1 + off];
  g.sW = stride[1 + off];
  g.pW = lo[1 + off];
  g.dW = dilation[1 + off];
  check_shape(g.out_shape(), op);
  Tensor y = conv_f(x, weight, bias, g);
  return unbatched ? squeeze(y, {0}, false) : y;
}

Tensor conv_transpose(const Tensor& input, const Tensor& weight, const Tensor& bias, int nd,
                      const IntList& stride, const IntList& padding, const IntList& output_padding,
                      int64_t groups, const IntList& dilation, const char* op) {
  if (!input.defined() || !weight.defined()) throw TypeError(str(op, ": input and weight must be Tensors"));
  check_list(stride, nd, op, "stride");
  check_list(padding, nd, op, "padding");
  check_list(output_padding, nd, op, "output_padding");
  check_list(dilation, nd, op, "dilation");
  check_floating(input, op);
  check_floating_same(input, weight, op, "weight");
  check_floating_same(input, bias, op, "bias");
  if (input.dim() != nd + 1 && input.dim() != nd + 2)
    throw ShapeError(str("Expected ", nd + 1, "D (unbatched) or ", nd + 2, "D (batched) input to ", op,
                         ", but got input of size: ", input.shape()));
  const bool unbatched = input.dim() == nd + 1;
  if (weight.dim() != nd + 2)
    throw ShapeError(str(op, ": expected weight to be ", nd + 2, "-D (in_channels, out_channels / groups, ",
                         nd == 2 ? "kH, kW" : "kW", "), but got weight of size ", weight.shape()));
  for (auto s : stride)
    if (s <= 0)
      throw ValueError(str(op, ": non-positive stride is not supported, got stride=", Dims(stride)));
  for (auto d : dilation)
    if (d <= 0)
      throw ValueError(str(op, ": dilation should be greater than zero, got dilation=", Dims(dilation)));
  for (auto p : padding)
    if (p < 0) throw ValueError(str(op, ": negative padding is not supported, got padding=", Dims(padding)));
  for (int i = 0; i < nd; ++i)
    if (output_padding[i] < 0 || (output_padding[i] >= stride[i] && output_padding[i] >= dilation[i]))
      throw ValueError(
          str(op, ": output padding must be non-negative and smaller than either stride or dilation, ",
              "but got output_padding=", Dims(output_padding), ", stride=", Dims(stride),
              ", dilation=", Dims(dilation)));
  if (groups <= 0) throw ValueError(str(op, ": non-positive groups is not supported, got groups=", groups));
  for (int64_t d = 0; d < weight.dim(); ++d)
    if (weight.size(d) == 0)
      throw ShapeError(str(op, ": weight of size ", weight.shape(), " has an empty dimension"));
  const int64_t Cin = input.size(unbatched ? 0 : 1);
  if (weight.size(0) != Cin)
    throw ShapeError(str(op, ": given transposed=1, weight of size ", weight.shape(), ", expected input",
                         input.shape(), " to have ", weight.size(0), " channels, but got ", Cin,
                         " channels instead"));
  if (Cin % groups != 0)
    throw ShapeError(str(op, ": given groups=", groups, ", expected weight to be divisible by ", groups,
                         " at dimension 0, but got weight of size ", weight.shape(), " instead"));
  const int64_t Cout = weight.size(1) * groups;
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != Cout))
    throw ShapeError(str(op, ": given transposed=1, weight of size ", weight.shape(),
                         ", expected bias to be 1-dimensional with ", Cout,
                         " elements, but got bias of size ", bias.shape(), " instead"));
  IntList in(nd), k(nd), out(nd);
  for (int i = 0; i < nd; ++i) {
    in[i] = input.size(input.dim() - nd + i);
    k[i] = weight.size(2 + i);
    out[i] = (in[i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) + output_padding[i] + 1;
  }
  for (int i = 0; i < nd; ++i)
    if (out[i] <= 0 || in[i] <= 0)
      throw ShapeError(str(op, ": given input size per channel: (", spatial(in),
                           "), calculated output size per channel: (", spatial(out),
                           "). Output size is too small"));
  Tensor x = unbatched ? unsqueeze(input, 0) : input;
  ConvGeom g;  // the convolution whose input gradient this is
  g.nd = nd;
  g.N = x.size(0);
  g.C = Cout;
  g.O = Cin;
  g.G = groups;
  const int off = nd == 2 ? 0 : -1;
  if (nd == 2) {
    g.H = out[0];
    g.kH = k[0];
    g.oH = in[0];
    g.sH = stride[0];
    g.pH = padding[0];
    g.dH = dilation[0];
  }
  g.W = out[1 + off];
  g.kW = k[1 + off];
  g.oW = in[1 + off];
  g.sW = stride[1 + off];
  g.pW = padding[1 + off];
  g.dW = dilation[1 + off];
  check_shape(g.in_shape(), op);
  Tensor y = conv_bx(x, weight, bias, g, true);
  return unbatched ? squeeze(y, {0}, false) : y;
}

// ---- pooling -----------------------------------------------------------------------------------------
// Note [Pooling windows]
// Every pooling op is described per spatial dim by its windows: output position o reads input
// positions start[o] + i * dil for i in [0, len[o]) that fall inside the input. Max pooling:
// start = o * stride - pad, len = kernel; average pooling: the window clipped to the input, and a
// divisor (the product of per-dim factors, or divisor_override); adaptive pooling: start =
// floor(o * in / out), end = ceil((o + 1) * in / out). 1-D pooling is 2-D with a height of 1.
namespace {

struct PoolGeom {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  int64_t H = 1, W = 1, oH = 1, oW = 1, dH = 1, dW = 1;
  IntList hs, hl, ws, wl;          // window start and length per output row / column
  std::vector<double> hdiv, wdiv;  // average pooling: per-dim divisor factors
  double divisor = 0;              // divisor_override (0: none)
  Dims in_shape, out_shape;
  int64_t planes() const { return H * W == 0 ? 0 : numel_of(in_shape) / (H * W); }
};

template <class T>
void max_pool_kernel(const PoolGeom& g, const T* x, T* y, int64_t* idx) {
  const int64_t HW = g.H * g.W, OL = g.oH * g.oW;
  parallel_for(0, g.planes(), std::max<int64_t>(1, 16384 / std::max<int64_t>(1, OL)),
               [&](int64_t b, int64_t e) {
                 for (int64_t p = b; p < e; ++p) {
                   const T* xp = x + p * HW;
                   T* yp = y + p * OL;
                   int64_t* ip = idx + p * OL;
                   for (int64_t oh = 0; oh < g.oH; ++oh)
                     for (int64_t ow = 0; ow < g.oW; ++ow) {
                       T best = -std::numeric_limits<T>::infinity();
                       int64_t bi = -1;
                       for (int64_t i = 0; i < g.hl[oh]; ++i) {
                         const int64_t h = g.hs[oh] + i * g.dH;
                         if (h < 0 || h >= g.H) continue;
                         for (int64_t j = 0; j < g.wl[ow]; ++j) {
                           const int64_t w = g.ws[ow] + j * g.dW;
                           if (w < 0 || w >= g.W) continue;
                           const T v = xp[h * g.W + w];
                           if (bi < 0 || v > best || std::isnan(v)) {
                             best = v;
                             bi = h * g.W + w;
                           }
                         }
                       }
                       yp[oh * g.oW + ow] = best;
                       ip[oh * g.oW + ow] = bi < 0 ? 0 : bi;
                     }
                 }
               });
}

template <class T>
void avg_pool_kernel(const PoolGeom& g, const T* x, T* y) {
  const int64_t HW = g.H * g.W, OL = g.oH * g.oW;
  parallel_for(0, g.planes(), std::max<int64_t>(1, 16384 / std::max<int64_t>(1, OL)),
               [&](int64_t b, int64_t e) {
                 for (int64_t p = b; p < e; ++p) {
                   const T* xp = x + p * HW;
                   T* yp = y + p * OL;
                   for (int64_t oh = 0; oh < g.oH; ++oh)
                     for (int64_t ow = 0; ow < g.oW; ++ow) {
                       T s = 0;
                       for (int64_t h = g.hs[oh]; h < g.hs[oh] + g.hl[oh]; ++h)
                         for (int64_t w = g.ws[ow]; w < g.ws[ow] + g.wl[ow]; ++w) s += xp[h * g.W + w];
                       const double div = g.divisor != 0 ? g.divisor : g.hdiv[oh] * g.wdiv[ow];
                       yp[oh * g.oW + ow] = s / (T)div;
                     }
                 }
               });
}

// The adjoint of avg_pool_kernel.
template <class T>
void avg_pool_adjoint_kernel(const PoolGeom& g, const T* gy, T* gx) {
  const int64_t HW = g.H * g.W, OL = g.oH * g.oW;
  parallel_for(0, g.planes(), std::max<int64_t>(1, 16384 / std::max<int64_t>(1, HW)),
               [&](int64_t b, int64_t e) {
                 for (int64_t p = b; p < e; ++p) {
                   T* xp = gx + p * HW;
                   const T* yp = gy + p * OL;
                   std::fill(xp, xp + HW, T(0));
                   for (int64_t oh = 0; oh < g.oH; ++oh)
                     for (int64_t ow = 0; ow < g.oW; ++ow) {
                       const double div = g.divisor != 0 ? g.divisor : g.hdiv[oh] * g.wdiv[ow];
                       const T v = yp[oh * g.oW + ow] / (T)div;
                       for (int64_t h = g.hs[oh]; h < g.hs[oh] + g.hl[oh]; ++h)
                         for (int64_t w = g.ws[ow]; w < g.ws[ow] + g.wl[ow]; ++w) xp[h * g.W + w] += v;
                     }
                 }
               });
}

Tensor avg_fwd(const Tensor& x, const PoolGeom& g, bool adaptive);
Tensor avg_adj(const Tensor& gy, const PoolGeom& g, bool adaptive);
Tensor max_scatter(const Tensor& gy, const Tensor& idx, const PoolGeom& g);
Tensor max_gather(const Tensor& gx, const Tensor& idx, const PoolGeom& g);

const Derivative<1, 0, PoolGeom> avg_pool_grad{
    "AvgPool2DBackward0", {"self"}, {[](const auto& d) { return avg_adj(d.grad, d.attrs, false); }}};
const Derivative<1, 0, PoolGeom> adaptive_avg_pool_grad{
    "AdaptiveAvgPool2DBackward0", {"self"}, {[](const auto& d) { return avg_adj(d.grad, d.attrs, true); }}};
const Derivative<1, 0, PoolGeom> avg_pool_backward_grad{
    "AvgPool2DBackwardBackward0", {"grad_output"}, {[](const auto& d) {
      return avg_fwd(d.grad, d.attrs, false);
    }}};
const Derivative<1, 0, PoolGeom> adaptive_avg_pool_backward_grad{
    "AdaptiveAvgPool2DBackwardBackward0", {"grad_output"}, {[](const auto& d) {
      return avg_fwd(d.grad, d.attrs, true);
    }}};
const Derivative<1, 1, PoolGeom> max_pool_grad{
    "MaxPool2DWithIndicesBackward0",
    {"self"},
    {[](const auto& d) { return max_scatter(d.grad, d.saved[0], d.attrs); }},
    {{{"indices"}}}};
const Derivative<1, 1, PoolGeom> adaptive_max_pool_grad{
    "AdaptiveMaxPool2DBackward0",
    {"self"},
    {[](const auto& d) { return max_scatter(d.grad, d.saved[0], d.attrs); }},
    {{{"indices"}}}};
const Derivative<1, 1, PoolGeom> max_scatter_grad{
    "MaxPool2DWithIndicesBackwardBackward0",
    {"grad_output"},
    {[](const auto& d) { return max_gather(d.grad, d.saved[0], d.attrs); }},
    {{{"indices"}}}};
const Derivative<1, 1, PoolGeom> max_gather_grad{
    "MaxPool2DWithIndicesBackwardBackward1",
    {"grad_input"},
    {[](const auto& d) { return max_scatter(d.grad, d.saved[0], d.attrs); }},
    {{{"indices"}}}};

Tensor avg_fwd(const Tensor& x0, const PoolGeom& g, bool adaptive) {
  Tensor x = dense(x0);
  Tensor y = Tensor::empty(g.out_shape, x.dtype());
  dispatch_floating(x.dtype(), "avg_pool", [&](auto tag) {
    using T = decltype(tag);
    avg_pool_kernel<T>(g, x.data<T>(), y.data<T>());
  });
  if (auto* n = record(adaptive ? adaptive_avg_pool_grad : avg_pool_grad, {x0}, y)) n->attrs = g;
  return y;
}

Tensor avg_adj(const Tensor& gy0, const PoolGeom& g, bool adaptive) {
  Tensor gy = dense(gy0);
  Tensor gx = Tensor::empty(g.in_shape, gy.dtype());
  dispatch_floating(gy.dtype(), "avg_pool_backward", [&](auto tag) {
    using T = decltype(tag);
    avg_pool_adjoint_kernel<T>(g, gy.data<T>(), gx.data<T>());
  });
  if (auto* n = record(adaptive ? adaptive_avg_pool_backward_grad : avg_pool_backward_grad, {gy0}, gx))
    n->attrs = g;
  return gx;
}

Tensor max_scatter(const Tensor& gy0, const Tensor& idx, const PoolGeom& g) {
  Tensor gy = dense(gy0);
  Tensor gx = zeros(g.in_shape, gy.dtype());
  const int64_t HW = g.H * g.W, OL = g.oH * g.oW;
  dispatch_floating(gy.dtype(), "max_pool_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* yp = gy.data<T>();
    const int64_t* ip = idx.data<int64_t>();
    T* xp = gx.data<T>();
    parallel_for(0, g.planes(), std::max<int64_t>(1, 16384 / std::max<int64_t>(1, OL)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t p = b; p < e; ++p)
                     for (int64_t o = 0; o < OL; ++o) xp[p * HW + ip[p * OL + o]] += yp[p * OL + o];
                 });
  });
  if (auto* n = record(max_scatter_grad, {gy0}, gx, {idx})) n->attrs = g;
  return gx;
}

Tensor max_gather(const Tensor& gx0, const Tensor& idx, const PoolGeom& g) {
  Tensor gx = dense(gx0);
  Tensor gy = Tensor::empty(g.out_shape, gx.dtype());
  const int64_t HW = g.H * g.W, OL = g.oH * g.oW;
  dispatch_floating(gx.dtype(), "max_pool_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = gx.data<T>();
    const int64_t* ip = idx.data<int64_t>();
    T* yp = gy.data<T>();
    parallel_for(0, g.planes(), std::max<int64_t>(1, 16384 / std::max<int64_t>(1, OL)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t p = b; p < e; ++p)
                     for (int64_t o = 0; o < OL; ++o) yp[p * OL + o] = xp[p * HW + ip[p * OL + o]];
                 });
  });
  if (auto* n = record(max_gather_grad, {gx0}, gy, {idx})) n->attrs = g;
  return gy;
}

// Checks the rank ((C, *spatial) or (N, C, *spatial)), the dtype and that no non-batch dim is empty.
void check_pool_input(const Tensor& input, int nd, const char* op) {
  if (!input.defined()) throw TypeError(str(op, ": input must be a Tensor"));
  if (input.dim() != nd + 1 && input.dim() != nd + 2)
    throw ShapeError(str(op, ": expected ", nd + 1, "D (unbatched) or ", nd + 2,
                         "D (batched) input, but got input of size: ", input.shape()));
  check_floating(input, op);
  for (int64_t d = input.dim() == nd + 2 ? 1 : 0; d < input.dim(); ++d)
    if (input.size(d) == 0)
      throw ShapeError(str(op,
                           ": expected input to have non-zero size for non-batch dimensions, but input has "
                           "sizes ",
                           input.shape(), " with dimension ", d, " being empty"));
}

int64_t pooling_output_size(int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dil, bool ceil_mode) {
  const int64_t num = in + 2 * pad - dil * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// Spatial sizes of the input (height 1 for 1-D) and the output shape for given spatial sizes.
void spatial_sizes(const Tensor& input, int nd, int64_t& H, int64_t& W) {
  H = nd == 2 ? input.size(input.dim() - 2) : 1;
  W = input.size(input.dim() - 1);
}
Dims out_shape_of(const Tensor& input, int nd, int64_t oH, int64_t oW) {
  Dims s = input.shape();
  s[s.size() - 1] = oW;
  if (nd == 2) s[s.size() - 2] = oH;
  return s;
}

// kernel, stride (empty: kernel), padding, dilation checked and expanded to (H, W) pairs.
struct PoolArgs {
  int64_t k[2] = {1, 1}, s[2] = {1, 1}, p[2] = {0, 0}, d[2] = {1, 1};
};
PoolArgs pool_args(int nd, const IntList& kernel, const IntList& stride, const IntList& padding,
                   const IntList& dilation, const char* op) {
  check_list(kernel, nd, op, "kernel_size");
  if (!stride.empty()) check_list(stride, nd, op, "stride");
  check_list(padding, nd, op, "padding");
  check_list(dilation, nd, op, "dilation");
  PoolArgs a;
  for (int i = 0; i < nd; ++i) {
    const int j = nd == 2 ? i : 1;
    a.k[j] = kernel[i];
    a.s[j] = stride.empty() ? kernel[i] : stride[i];
    a.p[j] = padding[i];
    a.d[j] = dilation[i];
    if (a.k[j] <= 0)
      throw ValueError(str(op, ": kernel_size must be greater than zero, but got ", Dims(kernel)));
    if (a.s[j] <= 0) throw ValueError(str(op, ": stride must be greater than zero, but got ", Dims(stride)));
    if (a.d[j] <= 0)
      throw ValueError(str(op, ": dilation must be greater than zero, but got ", Dims(dilation)));
    if (a.p[j] < 0) throw ValueError(str(op, ": padding must be non-negative, but got ", Dims(padding)));
  }
  return a;
}

void check_output_size(const Tensor& input, int64_t oH, int64_t oW, const char* op) {
  if (oH < 1 || oW < 1)
    throw ShapeError(str(op, ": given input size ", input.shape(), ", the calculated output size (", oH,
                         " x ", oW, ") is too small"));
}

}  // namespace

std::pair<Tensor, Tensor> max_pool(const Tensor& input, int nd, const IntList& kernel, const IntList& stride,
                                   const IntList& padding, const IntList& dilation, bool ceil_mode,
                                   const char* op) {
  check_pool_input(input, nd, op);
  PoolArgs a = pool_args(nd, kernel, stride, padding, dilation, op);
  for (int j = 0; j < 2; ++j)
    if (a.p[j] * 2 > a.k[j])
      throw ValueError(str(op, ": pad should be at most half of effective kernel size, but got pad=", a.p[j],
                           ", kernel_size=", a.k[j], " and dilation=", a.d[j]));
  PoolGeom g;
  spatial_sizes(input, nd, g.H, g.W);
  g.oH = pooling_output_size(g.H, a.k[0], a.p[0], a.s[0], a.d[0], ceil_mode);
  g.oW = pooling_output_size(g.W, a.k[1], a.p[1], a.s[1], a.d[1], ceil_mode);
  check_output_size(input, g.oH, g.oW, op);
  g.dH = a.d[0];
  g.dW = a.d[1];
  for (int64_t o = 0; o < g.oH; ++o) {
    g.hs.push_back(o * a.s[0] - a.p[0]);
    g.hl.push_back(a.k[0]);
  }
  for (int64_t o = 0; o < g.oW; ++o) {
    g.ws.push_back(o * a.s[1] - a.p[1]);
    g.wl.push_back(a.k[1]);
  }
  g.in_shape = input.shape();
  g.out_shape = out_shape_of(input, nd, g.oH, g.oW);
  Tensor x = dense(input);
  Tensor y = Tensor::empty(g.out_shape, x.dtype());
  Tensor idx = Tensor::empty(g.out_shape, DType::Int64);
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    max_pool_kernel<T>(g, x.data<T>(), y.data<T>(), idx.data<int64_t>());
  });
  if (auto* n = record(max_pool_grad, {input}, y, {idx})) n->attrs = g;
  return {y, idx};
}

Tensor avg_pool(const Tensor& input, int nd, const IntList& kernel, const IntList& stride,
                const IntList& padding, bool ceil_mode, bool count_include_pad, int64_t divisor_override,
                const char* op) {
  check_pool_input(input, nd, op);
  PoolArgs a = pool_args(nd, kernel, stride, padding, IntList((size_t)nd, 1), op);
  for (int j = 0; j < 2; ++j)
    if (a.p[j] * 2 > a.k[j])
      throw ValueError(str(op, ": pad should be at most half of kernel size, but got pad=", a.p[j],
                           " and kernel_size=", a.k[j]));
  PoolGeom g;
  spatial_sizes(input, nd, g.H, g.W);
  g.oH = pooling_output_size(g.H, a.k[0], a.p[0], a.s[0], 1, ceil_mode);
  g.oW = pooling_output_size(g.W, a.k[1], a.p[1], a.s[1], 1, ceil_mode);
  check_output_size(input, g.oH, g.oW, op);
  auto windows = [&](int64_t in, int64_t out, int j, IntList& st, IntList& ln, std::vector<double>& dv) {
    for (int64_t o = 0; o < out; ++o) {
      int64_t s = o * a.s[j] - a.p[j];
      int64_t e = std::min(s + a.k[j], in + a.p[j]);
      const int64_t padded = e - s;
      s = std::max<int64_t>(s, 0);
      e = std::min(e, in);
      st.push_back(s);
      ln.push_back(std::max<int64_t>(e - s, 0));
      dv.push_back(count_include_pad ? (double)padded : (double)std::max<int64_t>(e - s, 0));
    }
  };
  windows(g.H, g.oH, 0, g.hs, g.hl, g.hdiv);
  windows(g.W, g.oW, 1, g.ws, g.wl, g.wdiv);
  g.divisor = (double)divisor_override;
  g.in_shape = input.shape();
  g.out_shape = out_shape_of(input, nd, g.oH, g.oW);
  return avg_fwd(input, g, false);
}

namespace {
PoolGeom adaptive_geom(const Tensor& input, int nd, const IntList& output_size, const char* op) {
  check_pool_input(input, nd, op);
  check_list(output_size, nd, op, "output_size");
  PoolGeom g;
  spatial_sizes(input, nd, g.H, g.W);
  const int64_t oh = nd == 2 ? output_size[0] : 1, ow = output_size[(size_t)nd - 1];
  g.oH = oh < 0 ? g.H : oh;
  g.oW = ow < 0 ? g.W : ow;
  auto windows = [](int64_t in, int64_t out, IntList& st, IntList& ln, std::vector<double>& dv) {
    for (int64_t o = 0; o < out; ++o) {
      const int64_t s = (o * in) / out, e = ((o + 1) * in + out - 1) / out;
      st.push_back(s);
      ln.push_back(e - s);
      dv.push_back((double)(e - s));
    }
  };
  windows(g.H, g.oH, g.hs, g.hl, g.hdiv);
  windows(g.W, g.oW, g.ws, g.wl, g.wdiv);
  g.in_shape = input.shape();
  g.out_shape = out_shape_of(input, nd, g.oH, g.oW);
  return g;
}
}  // namespace

Tensor adaptive_avg_pool(const Tensor& input, int nd, const IntList& output_size, const char* op) {
  PoolGeom g = adaptive_geom(input, nd, output_size, op);
  return avg_fwd(input, g, true);
}

std::pair<Tensor, Tensor> adaptive_max_pool(const Tensor& input, int nd, const IntList& output_size,
                                            const char* op) {
  PoolGeom g = adaptive_geom(input, nd, output_size, op);
  Tensor x = dense(input);
  Tensor y = Tensor::empty(g.out_shape, x.dtype());
  Tensor idx = Tensor::empty(g.out_shape, DType::Int64);
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    max_pool_kernel<T>(g, x.data<T>(), y.data<T>(), idx.data<int64_t>());
  });
  if (auto* n = record(adaptive_max_pool_grad, {input}, y, {idx})) n->attrs = g;
  return {y, idx};
}

}  // namespace cr
