// Fused recurrent layers (RNN_TANH, RNN_RELU, LSTM, GRU): forward and backward through time of one
// layer and direction as one graph node.
//
// Note [Fused recurrent layers]
// A layer over a sequence of T steps is one node, not T * (a dozen) small ones:
//   forward   the input projection of every step is one GEMM, X[T*B, I] @ W_ih^T, written straight
//             into the workspace; then each step is one GEMM h @ W_hh^T and one fused pass that
//             adds the biases, applies the gate nonlinearities and updates the state row by row.
//             The workspace keeps what backward reads: the activated gates, the state before each
//             step (h, and c for LSTM), tanh(c_t) for LSTM and W_hn h + b_hn for GRU.
//   backward  walks the steps in reverse: one fused pass per step turns dh (and dc) into the
//             gradient of the gate pre-activations DG[t], one GEMM DG[t] @ W_hh carries dh to the
//             previous step. The weight gradients are then one GEMM each over all steps at once:
//             dW_ih = DG^T X, dW_hh = DG^T H_prev, dX = DG W_ih, and the bias gradients are column
//             sums of DG. (GRU has two DGs, as r multiplies W_hn h + b_hn: the hidden-side one has
//             dn * r in the n block.)
// Every buffer is indexed by time t, whichever direction the layer runs, so the all-steps GEMMs
// pair the right rows. With per-sequence lengths (packed sequences) a step outside a sequence
// leaves its state untouched, writes a zero output and a zero row of DG.
// Determinism: the GEMMs cut their output into panels of a width fixed by the shape (Note
// [Deterministic GEMM] in linalg.cpp), the fused passes split work by whole rows and the column
// sums add rows in order, so results are bitwise the same for any thread count.
// The backward is a kernel, not differentiable ops: a gradient of these gradients raises.
#include "ops/rnn.h"

// Eigen's AVX-512 logistic/tanh packets trip GCC's maybe-uninitialized analysis (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>

#include "core/parallel.h"
#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/lanes.h"
#include "ops/linalg.h"
#include "ops/loops.h"
#include "ops/shape.h"

namespace cr {

namespace {

// ---- deterministic GEMM ---------------------------------------------------------------------
template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
template <class T>
using AMap = Eigen::Map<Arr<T>>;
template <class T>
using CAMap = Eigen::Map<const Arr<T>>;

// Note [Threads in the recurrence]
// A step's work is small (a 32 x 256 x 1024 product is 17 MFLOP, its gate math 40k elements) and
// every threaded region inside the time loop ends in a barrier, once per step. On a busy machine a
// barrier waits for the other thread to be scheduled again, which can cost more than the step, so
// inside the loop only products of at least kStepParallelFlops are threaded and the gate passes
// only above kStepParallelElems elements; the all-steps products outside the loop thread as usual.
// (Measured with two threads on a shared two-core machine: threading the 17 MFLOP step product
// saved at best 5% of an LSTM's forward+backward and cost up to 5x when other processes ran.)
constexpr double kStepParallelFlops = 6.4e7;
constexpr int64_t kStepParallelElems = 1 << 17;

// The products: gemm_contiguous (linalg.h), on the dispatched GEMM in deterministic panels.
template <class T>
void gemm(const T* A, bool ta, const T* B, bool tb, T* C, int64_t n, int64_t k, int64_t m,
          double parallel_flops = kGemmParallelFlops) {
  gemm_contiguous<T>(A, ta, B, tb, C, n, k, m, parallel_flops);
}

// f(b) for every row b < rows, split across threads in whole rows (row_len elements each) when
// there are more than kStepParallelElems elements (Note [Threads in the recurrence]).
template <class F>
void for_rows(int64_t rows, int64_t row_len, const F& f) {
  int64_t grain = rows * row_len > kStepParallelElems
                      ? std::max<int64_t>(1, 16384 / std::max<int64_t>(row_len, 1))
                      : rows;
  parallel_for(0, rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) f(r);
  });
}

// Column sums of M[rows, cols] in row order, columns split across threads.
template <class T>
void column_sums(const T* M, int64_t rows, int64_t cols, T* out) {
  parallel_for(0, cols, 256, [&](int64_t c0, int64_t c1) {
    std::fill(out + c0, out + c1, T(0));
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = M + r * cols;
      for (int64_t c = c0; c < c1; ++c) out[c] += row[c];
    }
  });
}

int64_t gate_count(RnnMode mode) {
  switch (mode) {
    case RnnMode::Lstm: return 4;
    case RnnMode::Gru: return 3;
    default: return 1;
  }
}

const char* mode_name(RnnMode mode) {
  switch (mode) {
    case RnnMode::Tanh: return "RNN_TANH";
    case RnnMode::Relu: return "RNN_RELU";
    case RnnMode::Lstm: return "LSTM";
    case RnnMode::Gru: return "GRU";
  }
  return "RNN";
}

// Sizes of one layer and direction, and where each part of the workspace lives.
struct RnnShape {
  RnnMode mode = RnnMode::Lstm;
  bool reverse = false;
  int64_t T = 0, B = 0, I = 0, H = 0, P = 0, G = 1;
  std::vector<int64_t> lengths;  // empty: every step of every sequence

  int64_t GH() const { return G * H; }
  int64_t TB() const { return T * B; }
  // Workspace offsets (elements): gates [T, B, G*H] | hprev [T, B, P] | LSTM: cprev, tanhc
  // [T, B, H] | GRU: hn [T, B, H].
  int64_t off_gates() const { return 0; }
  int64_t off_hprev() const { return TB() * GH(); }
  int64_t off_cprev() const { return off_hprev() + TB() * P; }
  int64_t off_tanhc() const { return off_cprev() + TB() * H; }
  int64_t off_hn() const { return off_cprev(); }
  int64_t ws_size() const {
    int64_t extra = mode == RnnMode::Lstm ? 2 * TB() * H : mode == RnnMode::Gru ? TB() * H : 0;
    return off_cprev() + extra;
  }
  int64_t time_of(int64_t s) const { return reverse ? T - 1 - s : s; }
  bool valid(int64_t b, int64_t t) const { return lengths.empty() || t < lengths[(size_t)b]; }
};

// Pointers of one forward call.
template <class T>
struct RnnForwardArgs {
  const T *x, *h0, *c0, *w_ih, *w_hh, *b_ih, *b_hh, *w_hr;  // h0, c0, biases, w_hr may be null
  T *ws, *out, *h, *c;                                      // h, c: the state, then h_n, c_n
};

template <class T>
void rnn_forward(const RnnShape& s, const RnnForwardArgs<T>& a) {
  const int64_t B = s.B, H = s.H, P = s.P, GH = s.GH();
  const bool lstm = s.mode == RnnMode::Lstm, gru = s.mode == RnnMode::Gru;
  T* gates = a.ws + s.off_gates();
  T* hprev = a.ws + s.off_hprev();
  // Biases: LSTM and RNN only ever see b_ih + b_hh; GRU keeps b_hn apart (it sits inside r * ...).
  std::vector<T> bias_i((size_t)GH, T(0)), bias_h((size_t)GH, T(0));
  for (int64_t j = 0; j < GH; ++j) {
    if (a.b_ih) bias_i[(size_t)j] = a.b_ih[j];
    if (a.b_hh) bias_h[(size_t)j] = a.b_hh[j];
  }
  if (!gru)
    for (int64_t j = 0; j < GH; ++j) bias_i[(size_t)j] += bias_h[(size_t)j];
  // The state starts at h0, c0 (zeros when not given).
  if (a.h0) std::copy(a.h0, a.h0 + B * P, a.h);
  else std::fill(a.h, a.h + B * P, T(0));
  if (lstm) {
    if (a.c0) std::copy(a.c0, a.c0 + B * H, a.c);
    else std::fill(a.c, a.c + B * H, T(0));
  }
  // Input projection of every step at once.
  gemm(a.x, false, a.w_ih, true, gates, s.TB(), s.I, GH);

  std::vector<T> hh((size_t)(B * GH));
  const bool proj = a.w_hr != nullptr;
  std::vector<T> m_buf(proj ? (size_t)(B * H) : 0, T(0)), hproj(proj ? (size_t)(B * P) : 0);
  const T* bi = bias_i.data();
  const T* bh = bias_h.data();
  for (int64_t step = 0; step < s.T; ++step) {
    const int64_t t = s.time_of(step);
    std::copy(a.h, a.h + B * P, hprev + t * B * P);
    if (lstm) std::copy(a.c, a.c + B * H, a.ws + s.off_cprev() + t * B * H);
    gemm(a.h, false, a.w_hh, true, hh.data(), B, P, GH, kStepParallelFlops);
    for_rows(B, GH, [&](int64_t b) {
      const int64_t row = t * B + b;
      T* out = a.out + row * P;
      if (!s.valid(b, t)) {
        std::fill(out, out + P, T(0));
        if (proj) std::fill(m_buf.data() + b * H, m_buf.data() + (b + 1) * H, T(0));
        return;
      }
      T* g = gates + row * GH;
      const T* hr = hh.data() + b * GH;
      T* h = a.h + b * P;
      if (lstm) {
        AMap<T> pre(g, GH);
        pre += CAMap<T>(hr, GH) + CAMap<T>(bi, GH);
        AMap<T> ifg(g, 2 * H), gg(g + 2 * H, H), og(g + 3 * H, H);
        ifg = ifg.logistic();
        gg = gg.tanh();
        og = og.logistic();
        AMap<T> c(a.c + b * H, H), tc(a.ws + s.off_tanhc() + row * H, H);
        c = CAMap<T>(g + H, H) * c + CAMap<T>(g, H) * gg;
        tc = c.tanh();
        T* m = proj ? m_buf.data() + b * H : h;
        AMap<T>(m, H) = og * tc;
        if (!proj) std::copy(h, h + H, out);
      } else if (gru) {
        AMap<T> rz(g, 2 * H), n(g + 2 * H, H), hn(a.ws + s.off_hn() + row * H, H);
        rz += CAMap<T>(hr, 2 * H) + (CAMap<T>(bi, 2 * H) + CAMap<T>(bh, 2 * H));
        rz = rz.logistic();
        hn = CAMap<T>(hr + 2 * H, H) + CAMap<T>(bh + 2 * H, H);
        n = (n + CAMap<T>(bi + 2 * H, H) + CAMap<T>(g, H) * hn).tanh();
        AMap<T> hv(h, H);
        hv = n + CAMap<T>(g + H, H) * (hv - n);  // (1 - z) n + z h
        std::copy(h, h + H, out);
      } else {
        AMap<T> pre(g, H);
        pre += CAMap<T>(hr, H) + CAMap<T>(bi, H);
        if (s.mode == RnnMode::Tanh) pre = pre.tanh();
        else pre = pre.max(T(0));
        std::copy(g, g + H, h);
        std::copy(h, h + H, out);
      }
    });
    if (proj) {
      gemm(m_buf.data(), false, a.w_hr, true, hproj.data(), B, H, P, kStepParallelFlops);
      for (int64_t b = 0; b < B; ++b) {
        if (!s.valid(b, t)) continue;
        std::copy(hproj.data() + b * P, hproj.data() + (b + 1) * P, a.h + b * P);
        std::copy(hproj.data() + b * P, hproj.data() + (b + 1) * P, a.out + (t * B + b) * P);
      }
    }
  }
}

// Pointers of one backward call; a null gradient output is not computed.
template <class T>
struct RnnBackwardArgs {
  const T *x, *w_ih, *w_hh, *w_hr, *ws;  // x, w_ih may be null when their consumers need no grad
  const T *g_out, *g_hn, *g_cn;
  T *dx, *dh0, *dc0, *dw_ih, *dw_hh, *db_ih, *db_hh, *dw_hr;
};

template <class T>
void rnn_backward(const RnnShape& s, const RnnBackwardArgs<T>& a) {
  const int64_t B = s.B, H = s.H, P = s.P, GH = s.GH(), TB = s.TB();
  const bool lstm = s.mode == RnnMode::Lstm, gru = s.mode == RnnMode::Gru;
  const bool proj = a.w_hr != nullptr;
  const T* gates = a.ws + s.off_gates();
  const T* hprev = a.ws + s.off_hprev();
  // Every row of DG is written by the step that owns it: no zero fill.
  std::unique_ptr<T[]> dg(new T[(size_t)(TB * GH)]), dg_hidden(gru ? new T[(size_t)(TB * GH)] : nullptr);
  T* DG = dg.get();
  T* DGh = gru ? dg_hidden.get() : DG;  // the gate gradients seen from the hidden side
  std::vector<T> dh(a.g_hn, a.g_hn + B * P), dc(lstm ? (size_t)(B * H) : 0), carried((size_t)(B * P));
  if (lstm) std::copy(a.g_cn, a.g_cn + B * H, dc.begin());
  std::vector<T> dm(proj ? (size_t)(B * H) : 0), dh_all(proj ? (size_t)(TB * P) : 0),
      m_all(proj ? (size_t)(TB * H) : 0);
  const bool need_last_carry = a.dh0 != nullptr;

  for (int64_t step = s.T - 1; step >= 0; --step) {
    const int64_t t = s.time_of(step);
    for (int64_t b = 0; b < B; ++b) {
      if (!s.valid(b, t)) continue;
      const T* go = a.g_out + (t * B + b) * P;
      T* d = dh.data() + b * P;
      for (int64_t j = 0; j < P; ++j) d[j] += go[j];
    }
    if (proj) {
      // h = W_hr m: dm = dh W_hr; dW_hr gathers dh^T m over the steps (rows outside a sequence 0).
      gemm(dh.data(), false, a.w_hr, false, dm.data(), B, P, H, kStepParallelFlops);
      for (int64_t b = 0; b < B; ++b) {
        const int64_t row = t * B + b;
        T* dst_h = dh_all.data() + row * P;
        T* dst_m = m_all.data() + row * H;
        if (!s.valid(b, t)) {
          std::fill(dst_h, dst_h + P, T(0));
          std::fill(dst_m, dst_m + H, T(0));
          continue;
        }
        std::copy(dh.data() + b * P, dh.data() + (b + 1) * P, dst_h);
        const T* o = gates + row * GH + 3 * H;
        const T* tc = a.ws + s.off_tanhc() + row * H;
        for (int64_t j = 0; j < H; ++j) dst_m[j] = o[j] * tc[j];
      }
    }
    for_rows(B, GH, [&](int64_t b) {
      const int64_t row = t * B + b;
      T* dgr = DG + row * GH;
      if (!s.valid(b, t)) {
        std::fill(dgr, dgr + GH, T(0));
        if (gru) std::fill(DGh + row * GH, DGh + (row + 1) * GH, T(0));
        return;
      }
      const T* g = gates + row * GH;
      const T* d = dh.data() + b * P;
      if (lstm) {
        const T* dmr = proj ? dm.data() + b * H : d;
        const T* tc = a.ws + s.off_tanhc() + row * H;
        const T* cp = a.ws + s.off_cprev() + row * H;
        T* dcr = dc.data() + b * H;
        const T *ig = g, *fg = g + H, *gg = g + 2 * H, *og = g + 3 * H;
        for (int64_t j = 0; j < H; ++j) {
          T tcj = tc[j];
          T dct = dcr[j] + dmr[j] * og[j] * (T(1) - tcj * tcj);
          dgr[j] = dct * gg[j] * ig[j] * (T(1) - ig[j]);
          dgr[H + j] = dct * cp[j] * fg[j] * (T(1) - fg[j]);
          dgr[2 * H + j] = dct * ig[j] * (T(1) - gg[j] * gg[j]);
          dgr[3 * H + j] = dmr[j] * tcj * og[j] * (T(1) - og[j]);
          dcr[j] = dct * fg[j];
        }
      } else if (gru) {
        const T *r = g, *z = g + H, *n = g + 2 * H;
        const T* hn = a.ws + s.off_hn() + row * H;
        const T* hp = hprev + row * P;
        T* dgh = DGh + row * GH;
        for (int64_t j = 0; j < H; ++j) {
          T dnp = d[j] * (T(1) - z[j]) * (T(1) - n[j] * n[j]);
          T drp = dnp * hn[j] * r[j] * (T(1) - r[j]);
          T dzp = d[j] * (hp[j] - n[j]) * z[j] * (T(1) - z[j]);
          dgr[j] = dgh[j] = drp;
          dgr[H + j] = dgh[H + j] = dzp;
          dgr[2 * H + j] = dnp;
          dgh[2 * H + j] = dnp * r[j];
        }
      } else {
        for (int64_t j = 0; j < H; ++j) {
          T y = g[j];
          dgr[j] = s.mode == RnnMode::Tanh ? d[j] * (T(1) - y * y) : (y > T(0) ? d[j] : T(0));
        }
      }
    });
    if (step == 0 && !need_last_carry) break;
    // dh_prev = DG_hidden[t] W_hh (+ dh z for GRU), for the rows inside their sequence.
    gemm(DGh + t * B * GH, false, a.w_hh, false, carried.data(), B, GH, P, kStepParallelFlops);
    for (int64_t b = 0; b < B; ++b) {
      if (!s.valid(b, t)) continue;
      T* d = dh.data() + b * P;
      const T* cr = carried.data() + b * P;
      if (gru) {
        const T* z = gates + (t * B + b) * GH + H;
        for (int64_t j = 0; j < P; ++j) d[j] = cr[j] + d[j] * z[j];
      } else {
        std::copy(cr, cr + P, d);
      }
    }
  }
  if (a.dh0) std::copy(dh.begin(), dh.end(), a.dh0);
  if (a.dc0) std::copy(dc.begin(), dc.end(), a.dc0);
  if (a.dx) gemm(DG, false, a.w_ih, false, a.dx, TB, GH, s.I);
  if (a.dw_ih) gemm(DG, true, a.x, false, a.dw_ih, GH, TB, s.I);
  if (a.dw_hh) gemm(DGh, true, hprev, false, a.dw_hh, GH, TB, P);
  if (a.db_ih) column_sums(DG, TB, GH, a.db_ih);
  if (a.db_hh) column_sums(DGh, TB, GH, a.db_hh);
  if (a.dw_hr) gemm(dh_all.data(), true, m_all.data(), false, a.dw_hr, P, TB, H);
}

struct RnnAttrs {
  RnnShape shape;
};

// A gradient of the gradients of a fused layer: not supported (the backward is a kernel).
const Derivative<7, 0> rnn_double_backward{
    "RnnBackwardBackward0",
    {"grad_output", "grad_hy", "grad_cy", "input", "weight_ih", "weight_hh", "weight_hr"},
    {},
    {},
    [](const GradArgs<0, NoAttrs>&) -> TensorList {
      throw AutogradError(
          "double backward through a fused recurrent layer (RNN, LSTM, GRU and their cells) is not "
          "supported: its backward is a fused kernel");
    }};

TensorList rnn_layer_backward(const GradArgs<5, RnnAttrs>& d) {
  const RnnShape& s = d.attrs.shape;
  const bool lstm = s.mode == RnnMode::Lstm;
  // contiguous_data: a saved-tensor unpack hook may give back any layout.
  Tensor x = d.saved[0].defined() ? contiguous_data(d.saved[0]) : Tensor();
  Tensor w_ih = d.saved[1].defined() ? contiguous_data(d.saved[1]) : Tensor();
  Tensor w_hr = d.saved[3].defined() ? contiguous_data(d.saved[3]) : Tensor();
  Tensor w_hh = contiguous_data(d.saved[2]), ws = contiguous_data(d.saved[4]);
  Tensor g_out = contiguous_data(d.grads[0]), g_hn = contiguous_data(d.grads[1]);
  Tensor g_cn = lstm ? contiguous_data(d.grads[2]) : Tensor();
  const DType dt = ws.dtype();
  TensorList grads(8);
  if (d.needs(0)) grads[0] = Tensor::empty(Dims{s.T, s.B, s.I}, dt);
  if (d.needs(1)) grads[1] = Tensor::empty(Dims{s.B, s.P}, dt);
  if (d.needs(2) && lstm) grads[2] = Tensor::empty(Dims{s.B, s.H}, dt);
  if (d.needs(3)) grads[3] = Tensor::empty(Dims{s.GH(), s.I}, dt);
  if (d.needs(4)) grads[4] = Tensor::empty(Dims{s.GH(), s.P}, dt);
  if (d.needs(5)) grads[5] = Tensor::empty(Dims{s.GH()}, dt);
  if (d.needs(6)) grads[6] = Tensor::empty(Dims{s.GH()}, dt);
  if (d.needs(7) && w_hr.defined()) grads[7] = Tensor::empty(Dims{s.P, s.H}, dt);
  dispatch_floating(dt, "rnn backward", [&](auto tag) {
    using T = decltype(tag);
    auto ptr = [](const Tensor& t) -> const T* { return t.defined() ? t.data<T>() : nullptr; };
    auto out = [](const Tensor& t) -> T* { return t.defined() ? t.data<T>() : nullptr; };
    RnnBackwardArgs<T> a{ptr(x),        ptr(w_ih),     ptr(w_hh),     ptr(w_hr),
                         ptr(ws),       ptr(g_out),    ptr(g_hn),     ptr(g_cn),
                         out(grads[0]), out(grads[1]), out(grads[2]), out(grads[3]),
                         out(grads[4]), out(grads[5]), out(grads[6]), out(grads[7])};
    rnn_backward<T>(s, a);
  });
  if (GradMode::is_enabled()) {  // create_graph: these gradients have no formula of their own
    Tensor gc = d.grads.size() > 2 ? d.grads[2] : Tensor();
    record(rnn_double_backward, {d.grads[0], d.grads[1], gc, x, w_ih, w_hh, w_hr}, grads);
  }
  return grads;
}

const std::array<SavedSlot, 5> kRnnSaves{
    {{"input", for_grad_of(3)}, {"weight_ih", for_grad_of(0)}, {"weight_hh"}, {"weight_hr"}, {"workspace"}}};
const std::array<const char*, 8> kRnnInputs{"input",     "hx",      "cx",      "weight_ih",
                                            "weight_hh", "bias_ih", "bias_hh", "weight_hr"};
const Derivative<8, 5, RnnAttrs> rnn_tanh_grad{
    "RnnTanhBackward0", kRnnInputs, {}, kRnnSaves, rnn_layer_backward};
const Derivative<8, 5, RnnAttrs> rnn_relu_grad{
    "RnnReluBackward0", kRnnInputs, {}, kRnnSaves, rnn_layer_backward};
const Derivative<8, 5, RnnAttrs> lstm_grad{"LstmBackward0", kRnnInputs, {}, kRnnSaves, rnn_layer_backward};
const Derivative<8, 5, RnnAttrs> gru_grad{"GruBackward0", kRnnInputs, {}, kRnnSaves, rnn_layer_backward};

const Derivative<8, 5, RnnAttrs>& grad_entry(RnnMode mode) {
  switch (mode) {
    case RnnMode::Tanh: return rnn_tanh_grad;
    case RnnMode::Relu: return rnn_relu_grad;
    case RnnMode::Lstm: return lstm_grad;
    case RnnMode::Gru: return gru_grad;
  }
  return lstm_grad;
}

void check_tensor(const Tensor& t, const char* op, const char* what, const Dims& expected, DType dtype) {
  if (t.shape() != expected)
    throw ShapeError(str(op, ": expected ", what, " of shape ", expected, ", got ", t.shape()));
  if (t.dtype() != dtype)
    throw TypeError(str(op, ": expected ", what, " to have dtype ", dtype_name(dtype),
                        " like the input, got ", dtype_name(t.dtype())));
}

}  // namespace

RnnMode rnn_mode_from_name(const std::string& name) {
  if (name == "RNN_TANH") return RnnMode::Tanh;
  if (name == "RNN_RELU") return RnnMode::Relu;
  if (name == "LSTM") return RnnMode::Lstm;
  if (name == "GRU") return RnnMode::Gru;
  throw ValueError(str("rnn: unknown mode '", name, "' (expected RNN_TANH, RNN_RELU, LSTM or GRU)"));
}

TensorList rnn_layer(RnnMode mode, const Tensor& input, const Tensor& h0, const Tensor& c0,
                     const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
                     const Tensor& w_hr, bool reverse, const std::vector<int64_t>& lengths) {
  const char* op = mode_name(mode);
  if (!input.defined() || !w_ih.defined() || !w_hh.defined())
    throw TypeError(str(op, ": input, weight_ih and weight_hh must be tensors"));
  if (input.dim() != 3)
    throw ShapeError(str(op, ": expected input of shape (seq_len, batch, input_size) with 3 dims, got shape ",
                         input.shape()));
  const DType dt = input.dtype();
  if (!is_floating(dt))
    throw TypeError(str(op, ": expected a floating point input (float32 or float64), got ", dtype_name(dt)));
  const bool lstm = mode == RnnMode::Lstm;
  if (w_hr.defined() && !lstm) throw ValueError(str(op, ": weight_hr (projections) is only for LSTM"));
  if (c0.defined() && !lstm) throw ValueError(str(op, ": only LSTM has a cell state"));
  RnnShape s;
  s.mode = mode;
  s.reverse = reverse;
  s.G = gate_count(mode);
  s.T = input.size(0);
  s.B = input.size(1);
  s.I = input.size(2);
  if (w_ih.dim() != 2 || w_ih.size(0) % s.G != 0 || w_ih.size(1) != s.I)
    throw ShapeError(str(op, ": expected weight_ih of shape (", s.G, " * hidden_size, input_size=", s.I,
                         ") for input of shape ", input.shape(), ", got ", w_ih.shape()));
  s.H = w_ih.size(0) / s.G;
  s.P = w_hr.defined() ? (w_hr.dim() == 2 ? w_hr.size(0) : -1) : s.H;
  if (w_hr.defined()) check_tensor(w_hr, op, "weight_hr (proj_size, hidden_size)", Dims{s.P, s.H}, dt);
  check_tensor(w_ih, op, "weight_ih", Dims{s.GH(), s.I}, dt);
  check_tensor(w_hh, op, "weight_hh", Dims{s.GH(), s.P}, dt);
  if (b_ih.defined()) check_tensor(b_ih, op, "bias_ih", Dims{s.GH()}, dt);
  if (b_hh.defined()) check_tensor(b_hh, op, "bias_hh", Dims{s.GH()}, dt);
  if (h0.defined()) check_tensor(h0, op, "hx (batch, hidden)", Dims{s.B, s.P}, dt);
  if (c0.defined()) check_tensor(c0, op, "cx (batch, hidden_size)", Dims{s.B, s.H}, dt);
  if (!lengths.empty()) {
    if ((int64_t)lengths.size() != s.B)
      throw ShapeError(str(op, ": expected ", s.B, " lengths (one per batch entry), got ", lengths.size()));
    for (int64_t L : lengths)
      if (L < 0 || L > s.T)
        throw ValueError(str(op, ": every length must be in [0, ", s.T, "] (the sequence length), got ", L));
    s.lengths = lengths;
  }

  Tensor x = contiguous_data(input), wi = contiguous_data(w_ih), wh = contiguous_data(w_hh);
  Tensor wr = w_hr.defined() ? contiguous_data(w_hr) : Tensor();
  Tensor bi = b_ih.defined() ? contiguous_data(b_ih) : Tensor();
  Tensor bh = b_hh.defined() ? contiguous_data(b_hh) : Tensor();
  Tensor h0c = h0.defined() ? contiguous_data(h0) : Tensor();
  Tensor c0c = c0.defined() ? contiguous_data(c0) : Tensor();
  Tensor ws = Tensor::empty(Dims{s.ws_size()}, dt);
  TensorList outs{Tensor::empty(Dims{s.T, s.B, s.P}, dt), Tensor::empty(Dims{s.B, s.P}, dt),
                  lstm ? Tensor::empty(Dims{s.B, s.H}, dt) : Tensor()};
  dispatch_floating(dt, op, [&](auto tag) {
    using T = decltype(tag);
    auto ptr = [](const Tensor& t) -> const T* { return t.defined() ? t.data<T>() : nullptr; };
    RnnForwardArgs<T> a{
        ptr(x),       ptr(h0c),          ptr(c0c),          ptr(wi),
        ptr(wh),      ptr(bi),           ptr(bh),           ptr(wr),
        ws.data<T>(), outs[0].data<T>(), outs[1].data<T>(), lstm ? outs[2].data<T>() : nullptr};
    rnn_forward<T>(s, a);
  });
  if (!lstm) outs.pop_back();
  if (auto* n =
          record(grad_entry(mode), {input, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr}, outs, {x, wi, wh, wr, ws}))
    n->attrs.shape = s;
  if (!lstm) outs.emplace_back();
  return outs;
}

}  // namespace cr
