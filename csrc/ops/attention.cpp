// Fused scaled dot-product attention: a blocked forward with an online softmax, and a backward
// that recomputes the score tiles.
//
// Note [Fused attention]
// The score matrix (L x S per batch) is never stored. The forward walks each block of kBlockQ query
// rows over blocks of kBlockK keys, keeping per row the running maximum m, the running sum l of
// exp(s - m) and the unnormalized output; a new tile rescales them by exp(m_old - m_new) (the online
// softmax of Milakov & Gimelshein 2018, as FlashAttention uses it). It saves the output and one
// number per query row, lse = m + log(l), from which any tile of probabilities is exp(s - lse).
// Rows whose keys are all masked have l = 0: their output is 0 (as PyTorch's CPU kernel returns)
// and their lse is +inf, so every recomputed probability of the row is 0 and so are its gradients.
//
// With P = softmax(S), dropout factors Z (0 or 1/(1-p)) and O = (P * Z) V, the backward is
//   dV = (P * Z)^T dO,   dP = (dO V^T) * Z,   dS = P * (dP - D),   D = rowsum(dO * O),
//   dQ = scale * dS K,   dK = scale * dS^T Q,   d(additive mask) = dS.
// It runs as two passes so that every gradient block is written by one task in a fixed order
// (bitwise identical for any thread count, Note [Determinism]): the dK/dV pass owns a block of
// keys of one key/value batch and sums over every query batch and query block that reads it (in
// increasing order), the dQ pass owns a block of query rows and sums over key blocks. Each pass
// recomputes its score tiles; that is the price of never holding the L x S matrix. Under
// create_graph the same formulas run as differentiable ops instead (attention_backward_composed),
// so second derivatives work; that path does hold the L x S weights.
//
// Dropout: the factor of score (b, i, j) comes from random_bits(key, first + (b L + i) S + j) of a
// counter range reserved from the default generator by the forward, so the mask depends on the seed
// alone (not on the tiling or the thread count) and the backward regenerates it exactly.
#include "ops/attention.h"

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <vector>

#include "autograd/capture.h"
#include "core/parallel.h"
#include "core/random.h"
#include "ops/creation.h"
#include "ops/derivatives.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/linalg.h"
#include "ops/nn.h"
#include "ops/shape.h"

namespace cr {

namespace {

constexpr int64_t kBlockQ = 64;
constexpr int64_t kBlockK = 64;
constexpr const char* kOp = "scaled_dot_product_attention";

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMap = Eigen::Map<const RowMat<T>, 0, Eigen::OuterStride<>>;
template <class T>
using MutMap = Eigen::Map<RowMat<T>, 0, Eigen::OuterStride<>>;

struct AttnAttrs {
  double scale = 1, dropout_p = 0;
  bool is_causal = false, enable_gqa = false;
  uint64_t rng_key = 0, rng_first = 0;
  // Note [Lowered backward]: without dropout the node holds shapes and options only; with it, the
  // place of this call's random numbers, which a replay draws anew
  static constexpr bool kReplayInvariant = true;
  bool replayable() const { return dropout_p == 0; }
};

// A (..., rows, cols) operand read in place when its rows are contiguous (any row and batch
// strides, as a transposed head view has), else from a contiguous copy.
struct Operand {
  Tensor t;
  int64_t rows = 0, cols = 0, row_stride = 0;
};

Operand make_operand(const Tensor& x, DType dt) {
  Operand o;
  o.rows = x.size(x.dim() - 2);
  o.cols = x.size(x.dim() - 1);
  bool ok = x.dtype() == dt && (o.cols <= 1 || x.strides()[x.dim() - 1] == 1) &&
            (o.rows <= 1 || x.strides()[x.dim() - 2] >= std::max<int64_t>(o.cols, 1));
  o.t = ok ? x : contiguous_copy_as(x, dt);
  o.row_stride = o.rows <= 1 ? std::max<int64_t>(o.cols, 1) : o.t.strides()[o.t.dim() - 2];
  if (o.row_stride < o.cols) o.row_stride = o.cols;
  return o;
}

// The shapes of one call: the output's batch (broadcast of query's with key/value's), the
// key/value batch, and for every output batch the element offsets of its query, key, value and
// mask matrices and the index of its key/value batch.
struct Plan {
  Dims out_batch, kv_batch;
  int64_t B = 1, KB = 1, L = 0, S = 0, E = 0, Ev = 0, groups = 1;
  std::vector<int64_t> qoff, koff, voff, moff, kv_of;
  std::vector<int64_t> kv_start, kv_list;  // output batches of each key/value batch, in order
  Operand q, k, v;
  Tensor mask;  // in the working layout: bool, or floating in the compute dtype; undefined if none
  bool mask_bool = false;
  int64_t m_rs = 0, m_cs = 0;  // mask strides along L and S (0 where broadcast)
};

Dims batch_of(const Tensor& t) { return Dims(t.shape().begin(), t.shape().end() - 2); }

// Offset of a batch index (aligned right to `idx`) in a tensor with batch sizes `sizes` and
// strides `strides` (dims of size 1 broadcast).
int64_t batch_offset(const std::vector<int64_t>& idx, const Dims& sizes, const Dims& strides) {
  int64_t off = 0;
  size_t shift = idx.size() - sizes.size();
  for (size_t d = 0; d < sizes.size(); ++d)
    if (sizes[d] != 1) off += idx[d + shift] * strides[d];
  return off;
}

Plan make_plan(const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& attn_mask,
               bool is_causal, bool enable_gqa) {
  for (const Tensor* t : {&query, &key, &value})
    if (!t->defined()) throw TypeError(str(kOp, ": query, key and value must be Tensors"));
  if (query.dim() < 2 || key.dim() < 2 || value.dim() < 2)
    throw ShapeError(str(kOp, ": query, key and value need at least 2 dims (..., L, E), got shapes ",
                         query.shape(), ", ", key.shape(), " and ", value.shape()));
  if (query.dtype() != key.dtype() || query.dtype() != value.dtype())
    throw TypeError(str(kOp, ": expected query, key and value to have the same dtype, got ",
                        dtype_name(query.dtype()), ", ", dtype_name(key.dtype()), " and ",
                        dtype_name(value.dtype())));
  if (!is_floating(query.dtype()))
    throw TypeError(
        str(kOp, ": expected floating point query, key and value, got ", dtype_name(query.dtype())));
  Plan p;
  p.L = query.size(query.dim() - 2);
  p.E = query.size(query.dim() - 1);
  p.S = key.size(key.dim() - 2);
  p.Ev = value.size(value.dim() - 1);
  if (key.size(key.dim() - 1) != p.E)
    throw ShapeError(str(kOp,
                         ": query (..., L, E) and key (..., S, E) must have the same last dim E, got shapes ",
                         query.shape(), " and ", key.shape()));
  if (value.size(value.dim() - 2) != p.S)
    throw ShapeError(str(kOp,
                         ": key (..., S, E) and value (..., S, Ev) must have the same length S, got shapes ",
                         key.shape(), " and ", value.shape()));
  if (is_causal && attn_mask.defined())
    throw ValueError(str(kOp, ": is_causal and attn_mask cannot be set at the same time"));
  Dims qb = batch_of(query), kb = batch_of(key), vb = batch_of(value);
  std::string shapes = str("query ", query.shape(), ", key ", key.shape(), ", value ", value.shape());
  bool gqa = enable_gqa && query.dim() >= 3 && key.dim() >= 3 && value.dim() >= 3 &&
             query.size(query.dim() - 3) != key.size(key.dim() - 3);
  if (gqa) {
    int64_t hq = query.size(query.dim() - 3), hk = key.size(key.dim() - 3);
    if (value.size(value.dim() - 3) != hk)
      throw ShapeError(
          str(kOp, ": with enable_gqa, key and value must have the same number of heads (dim -3); ", shapes));
    if (hk == 0 || hq % hk != 0)
      throw ShapeError(str(
          kOp, ": with enable_gqa, the query heads (dim -3) must be a multiple of the key heads; ", shapes));
    p.groups = hq / hk;
  }
  try {
    p.kv_batch = broadcast_shapes(kb, vb, kOp);
    Dims kvx = p.kv_batch;
    if (gqa) kvx[kvx.size() - 1] *= p.groups;
    p.out_batch = broadcast_shapes(qb, kvx, kOp);
  } catch (const ShapeError&) {
    throw ShapeError(str(kOp, ": the batch dims of query, key and value do not broadcast; ", shapes));
  }
  p.B = numel_of(p.out_batch);
  p.KB = numel_of(p.kv_batch);

  DType dt = query.dtype();
  p.q = make_operand(query, dt);
  p.k = make_operand(key, dt);
  p.v = make_operand(value, dt);

  const size_t nb = p.out_batch.size();
  Dims mb, ms;
  if (attn_mask.defined()) {
    if (attn_mask.dtype() == DType::Bool) {
      p.mask_bool = true;
      p.mask = attn_mask;
    } else if (is_floating(attn_mask.dtype())) {
      p.mask = attn_mask.dtype() == dt ? attn_mask : contiguous_copy_as(attn_mask, dt);
    } else {
      throw TypeError(
          str(kOp, ": expected attn_mask dtype to be bool or floating, got ", dtype_name(attn_mask.dtype())));
    }
    Dims shape = p.mask.shape(), strides = p.mask.strides();
    while (shape.size() < 2) {
      shape.insert(0, 1);
      strides.insert(0, 0);
    }
    size_t md = shape.size();
    bool ok = md - 2 <= nb && (shape[md - 2] == 1 || shape[md - 2] == p.L) &&
              (shape[md - 1] == 1 || shape[md - 1] == p.S);
    for (size_t d = 0; ok && d + 2 < md; ++d) {
      int64_t want = p.out_batch[d + nb - (md - 2)];
      ok = shape[d] == 1 || shape[d] == want;
    }
    if (!ok) {
      Dims full = p.out_batch;
      full.push_back(p.L);
      full.push_back(p.S);
      throw ShapeError(str(kOp, ": attn_mask of shape ", attn_mask.shape(),
                           " does not broadcast to the scores' shape ", full, " (..., L, S); ", shapes));
    }
    p.m_rs = shape[md - 2] == 1 ? 0 : strides[md - 2];
    p.m_cs = shape[md - 1] == 1 ? 0 : strides[md - 1];
    mb = Dims(shape.begin(), shape.end() - 2);
    ms = Dims(strides.begin(), strides.end() - 2);
  }

  // Per output batch: offsets, and its key/value batch.
  p.qoff.resize((size_t)p.B);
  p.koff.resize((size_t)p.B);
  p.voff.resize((size_t)p.B);
  p.moff.assign((size_t)p.B, 0);
  p.kv_of.resize((size_t)p.B);
  const Tensor &qt = p.q.t, &kt = p.k.t, &vt = p.v.t;
  Dims qs(qt.strides().begin(), qt.strides().end() - 2), ks(kt.strides().begin(), kt.strides().end() - 2),
      vs(vt.strides().begin(), vt.strides().end() - 2);
  std::vector<int64_t> idx(nb, 0), kvidx(p.kv_batch.size(), 0);
  for (int64_t b = 0; b < p.B; ++b) {
    p.qoff[(size_t)b] = batch_offset(idx, qb, qs);
    size_t shift = nb - p.kv_batch.size();
    int64_t kvflat = 0;
    for (size_t d = 0; d < p.kv_batch.size(); ++d) {
      int64_t i = idx[d + shift];
      if (gqa && d + 1 == p.kv_batch.size()) i /= p.groups;
      kvidx[d] = p.kv_batch[d] == 1 ? 0 : i;
      kvflat = kvflat * p.kv_batch[d] + kvidx[d];
    }
    p.kv_of[(size_t)b] = kvflat;
    p.koff[(size_t)b] = batch_offset(kvidx, kb, ks);
    p.voff[(size_t)b] = batch_offset(kvidx, vb, vs);
    if (p.mask.defined()) p.moff[(size_t)b] = batch_offset(idx, mb, ms);
    for (int64_t d = (int64_t)nb - 1; d >= 0; --d) {  // next index, row-major
      if (++idx[(size_t)d] < p.out_batch[(size_t)d]) break;
      idx[(size_t)d] = 0;
    }
  }
  p.kv_start.assign((size_t)p.KB + 1, 0);
  for (int64_t b = 0; b < p.B; ++b) ++p.kv_start[(size_t)p.kv_of[(size_t)b] + 1];
  for (int64_t i = 0; i < p.KB; ++i) p.kv_start[(size_t)i + 1] += p.kv_start[(size_t)i];
  p.kv_list.resize((size_t)p.B);
  std::vector<int64_t> fill(p.kv_start.begin(), p.kv_start.end() - 1);
  for (int64_t b = 0; b < p.B; ++b) p.kv_list[(size_t)fill[(size_t)p.kv_of[(size_t)b]]++] = b;
  return p;
}

// Runs f(task) for task in [0, n): over the intra-op threads (parallel_for's chunks) when the work
// is worth it. Each task writes only its own outputs, so the schedule never changes a result.
template <class F>
void parallel_tasks(int64_t n, double work, const F& f) {
  if (work > 65536 && n > 1) {
    parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) f(t);
    });
    return;
  }
  for (int64_t t = 0; t < n; ++t) f(t);
}

// What the three kernels share: the plan's data as typed pointers, the scale and the dropout.
template <class T>
struct Ctx {
  const Plan& p;
  const AttnAttrs& a;
  const T *q, *k, *v;
  const T* fmask = nullptr;
  const uint8_t* bmask = nullptr;
  double keep_scale = 1;  // 1/(1-p), or 0 when p == 1

  Ctx(const Plan& plan, const AttnAttrs& attrs) : p(plan), a(attrs) {
    q = plan.q.t.template data<T>();
    k = plan.k.t.template data<T>();
    v = plan.v.t.template data<T>();
    if (plan.mask.defined()) {
      if (plan.mask_bool) bmask = plan.mask.template data<uint8_t>();
      else fmask = plan.mask.template data<T>();
    }
    keep_scale = attrs.dropout_p < 1 ? 1.0 / (1.0 - attrs.dropout_p) : 0.0;
  }
  ConstMap<T> qmat(int64_t b, int64_t i0, int64_t n) const {
    return ConstMap<T>(q + p.qoff[(size_t)b] + i0 * p.q.row_stride, n, p.E,
                       Eigen::OuterStride<>(p.q.row_stride));
  }
  ConstMap<T> kmat(int64_t b, int64_t j0, int64_t n) const {
    return ConstMap<T>(k + p.koff[(size_t)b] + j0 * p.k.row_stride, n, p.E,
                       Eigen::OuterStride<>(p.k.row_stride));
  }
  ConstMap<T> vmat(int64_t b, int64_t j0, int64_t n) const {
    return ConstMap<T>(v + p.voff[(size_t)b] + j0 * p.v.row_stride, n, p.Ev,
                       Eigen::OuterStride<>(p.v.row_stride));
  }
  /// Last key (exclusive) that query block [i0, i0 + br) sees.
  int64_t key_end(int64_t i0, int64_t br) const { return a.is_causal ? std::min(p.S, i0 + br) : p.S; }

  /// s = (q_block * scale) k_block^T with the causal and explicit masks applied (-inf where a
  /// score is masked, mask added where it is floating). Returns true when some score is -inf.
  bool scores(int64_t b, int64_t i0, int64_t br, int64_t j0, int64_t bc, const RowMat<T>& qs,
              RowMat<T>& s) const {
    s.resize(br, bc);
    s.noalias() = qs * kmat(b, j0, bc).transpose();
    const T ninf = -std::numeric_limits<T>::infinity();
    bool any = false;
    if (a.is_causal && j0 + bc - 1 > i0) {
      for (int64_t r = 0; r < br; ++r)
        for (int64_t c = std::max<int64_t>(0, i0 + r + 1 - j0); c < bc; ++c) s(r, c) = ninf;
      any = true;
    }
    if (bmask) {
      for (int64_t r = 0; r < br; ++r) {
        const uint8_t* m = bmask + p.moff[(size_t)b] + (i0 + r) * p.m_rs + j0 * p.m_cs;
        for (int64_t c = 0; c < bc; ++c)
          if (!m[c * p.m_cs]) {
            s(r, c) = ninf;
            any = true;
          }
      }
    } else if (fmask) {
      for (int64_t r = 0; r < br; ++r) {
        const T* m = fmask + p.moff[(size_t)b] + (i0 + r) * p.m_rs + j0 * p.m_cs;
        for (int64_t c = 0; c < bc; ++c) {
          T x = s(r, c) + m[c * p.m_cs];
          s(r, c) = x;
          any |= x == ninf;
        }
      }
    }
    return any;
  }

  /// z(r, c) = the dropout factor of score (b, i0 + r, j0 + c): 0 or 1/(1-p).
  void dropout_factors(int64_t b, int64_t i0, int64_t br, int64_t j0, int64_t bc, RowMat<T>& z) const {
    z.resize(br, bc);
    const double p_drop = a.dropout_p;
    const T keep = (T)keep_scale;
    for (int64_t r = 0; r < br; ++r) {
      uint64_t base = a.rng_first + (uint64_t)(((b * p.L) + i0 + r) * p.S + j0);
      for (int64_t c = 0; c < bc; ++c) {
        double u = (double)(random_bits(a.rng_key, base + (uint64_t)c) >> 11) * 0x1.0p-53;
        z(r, c) = u >= p_drop ? keep : T(0);
      }
    }
  }

  /// Probabilities of a score tile from the saved per-row log-sum-exp.
  void probs(const RowMat<T>& s, const T* lse, bool any_masked, RowMat<T>& pr) const {
    pr.resize(s.rows(), s.cols());
    for (int64_t r = 0; r < s.rows(); ++r) {
      if (std::isinf(lse[r])) {
        pr.row(r).setZero();
        continue;
      }
      pr.row(r) = (s.row(r).array() - lse[r]).exp();
    }
    if (any_masked) pr = (s.array() == -std::numeric_limits<T>::infinity()).select(T(0), pr);
  }
};

template <class T>
void forward_kernel(const Ctx<T>& c, T* out, T* lse) {
  const Plan& p = c.p;
  const int64_t nq = (p.L + kBlockQ - 1) / kBlockQ;
  const double work = (double)p.B * p.L * p.S * (p.E + p.Ev);
  parallel_tasks(p.B * nq, work, [&](int64_t task) {
    const int64_t b = task / nq, i0 = (task % nq) * kBlockQ, br = std::min(kBlockQ, p.L - i0);
    RowMat<T> qs = c.qmat(b, i0, br) * (T)c.a.scale;
    RowMat<T> s, pr, z, o = RowMat<T>::Zero(br, p.Ev);
    std::vector<T> m((size_t)br, -std::numeric_limits<T>::infinity()), l((size_t)br, T(0));
    const int64_t jend = c.key_end(i0, br);
    for (int64_t j0 = 0; j0 < jend; j0 += kBlockK) {
      const int64_t bc = std::min(kBlockK, jend - j0);
      bool any = c.scores(b, i0, br, j0, bc, qs, s);
      pr.resize(br, bc);
      for (int64_t r = 0; r < br; ++r) {
        T mnew = std::max(m[(size_t)r], s.row(r).maxCoeff());
        if (mnew == -std::numeric_limits<T>::infinity()) {  // every key so far masked (or NaN)
          pr.row(r).setZero();
          if (s.row(r).hasNaN()) l[(size_t)r] = std::numeric_limits<T>::quiet_NaN();  // NaN stays NaN
          continue;
        }
        T alpha = std::exp(m[(size_t)r] - mnew);
        pr.row(r) = (s.row(r).array() - mnew).exp();
        if (any)
          pr.row(r) = (s.row(r).array() == -std::numeric_limits<T>::infinity()).select(T(0), pr.row(r));
        l[(size_t)r] = l[(size_t)r] * alpha + pr.row(r).sum();
        if (alpha != T(1)) o.row(r) *= alpha;
        m[(size_t)r] = mnew;
      }
      if (c.a.dropout_p > 0) {
        c.dropout_factors(b, i0, br, j0, bc, z);
        pr.array() *= z.array();
      }
      o.noalias() += pr * c.vmat(b, j0, bc);
    }
    T* ob = out + (b * p.L + i0) * p.Ev;
    for (int64_t r = 0; r < br; ++r) {
      T* orow = ob + r * p.Ev;
      if (l[(size_t)r] == T(0)) {
        for (int64_t e = 0; e < p.Ev; ++e) orow[e] = T(0);
        lse[b * p.L + i0 + r] = std::numeric_limits<T>::infinity();
        continue;
      }
      T inv = T(1) / l[(size_t)r];
      for (int64_t e = 0; e < p.Ev; ++e) orow[e] = o(r, e) * inv;
      lse[b * p.L + i0 + r] = m[(size_t)r] + std::log(l[(size_t)r]);
    }
  });
}

// Note [Fused attention]: the dK/dV pass over key blocks, then the dQ (and mask) pass over query
// blocks.
template <class T>
void backward_kernel(const Ctx<T>& c, const T* dout, const T* lse, const T* drow, T* dq, T* dk, T* dv,
                     T* dmask) {
  const Plan& p = c.p;
  const T scale = (T)c.a.scale;
  const bool drop = c.a.dropout_p > 0;
  const double work = (double)p.B * p.L * p.S * (p.E + p.Ev);
  auto dout_mat = [&](int64_t b, int64_t i0, int64_t n) {
    return ConstMap<T>(dout + (b * p.L + i0) * p.Ev, n, p.Ev,
                       Eigen::OuterStride<>(std::max<int64_t>(p.Ev, 1)));
  };
  auto ds_tile = [&](int64_t b, int64_t i0, int64_t br, int64_t j0, int64_t bc, const RowMat<T>& pr,
                     const RowMat<T>& z, RowMat<T>& dp) {
    dp.noalias() = dout_mat(b, i0, br) * c.vmat(b, j0, bc).transpose();
    if (drop) dp.array() *= z.array();
    for (int64_t r = 0; r < br; ++r) dp.row(r).array() -= drow[b * p.L + i0 + r];
    dp.array() *= pr.array();  // now dS
  };

  const int64_t nk = (p.S + kBlockK - 1) / kBlockK;
  if (dk || dv)
    parallel_tasks(p.KB * nk, work, [&](int64_t task) {
      const int64_t kb = task / nk, j0 = (task % nk) * kBlockK, bc = std::min(kBlockK, p.S - j0);
      RowMat<T> gk = RowMat<T>::Zero(bc, p.E), gv = RowMat<T>::Zero(bc, p.Ev);
      RowMat<T> qs, s, pr, z, ds;
      for (int64_t li = p.kv_start[(size_t)kb]; li < p.kv_start[(size_t)kb + 1]; ++li) {
        const int64_t b = p.kv_list[(size_t)li];
        const int64_t istart = c.a.is_causal ? (j0 / kBlockQ) * kBlockQ : 0;
        for (int64_t i0 = istart; i0 < p.L; i0 += kBlockQ) {
          const int64_t br = std::min(kBlockQ, p.L - i0);
          qs = c.qmat(b, i0, br) * scale;
          bool any = c.scores(b, i0, br, j0, bc, qs, s);
          c.probs(s, lse + b * p.L + i0, any, pr);
          if (drop) {
            c.dropout_factors(b, i0, br, j0, bc, z);
            gv.noalias() += (pr.array() * z.array()).matrix().transpose() * dout_mat(b, i0, br);
          } else {
            gv.noalias() += pr.transpose() * dout_mat(b, i0, br);
          }
          ds.resize(br, bc);
          ds_tile(b, i0, br, j0, bc, pr, z, ds);
          gk.noalias() += ds.transpose() * qs;
        }
      }
      if (dk)
        MutMap<T>(dk + (kb * p.S + j0) * p.E, bc, p.E, Eigen::OuterStride<>(std::max<int64_t>(p.E, 1))) = gk;
      if (dv)
        MutMap<T>(dv + (kb * p.S + j0) * p.Ev, bc, p.Ev, Eigen::OuterStride<>(std::max<int64_t>(p.Ev, 1))) =
            gv;
    });

  if (!dq && !dmask) return;
  const int64_t nq = (p.L + kBlockQ - 1) / kBlockQ;
  parallel_tasks(p.B * nq, work, [&](int64_t task) {
    const int64_t b = task / nq, i0 = (task % nq) * kBlockQ, br = std::min(kBlockQ, p.L - i0);
    RowMat<T> qs = c.qmat(b, i0, br) * scale;
    RowMat<T> gq = RowMat<T>::Zero(br, p.E), s, pr, z, ds;
    const int64_t jend = c.key_end(i0, br);
    for (int64_t j0 = 0; j0 < jend; j0 += kBlockK) {
      const int64_t bc = std::min(kBlockK, jend - j0);
      bool any = c.scores(b, i0, br, j0, bc, qs, s);
      c.probs(s, lse + b * p.L + i0, any, pr);
      if (drop) c.dropout_factors(b, i0, br, j0, bc, z);
      ds.resize(br, bc);
      ds_tile(b, i0, br, j0, bc, pr, z, ds);
      if (dmask)
        MutMap<T>(dmask + (b * p.L + i0) * p.S + j0, br, bc,
                  Eigen::OuterStride<>(std::max<int64_t>(p.S, 1))) = ds;
      gq.noalias() += ds * c.kmat(b, j0, bc);
    }
    if (dq) {
      gq *= scale;
      MutMap<T>(dq + (b * p.L + i0) * p.E, br, p.E, Eigen::OuterStride<>(std::max<int64_t>(p.E, 1))) = gq;
    }
  });
}

Dims with_tail(Dims batch, int64_t a, int64_t b) {
  batch.push_back(a);
  batch.push_back(b);
  return batch;
}

// (..., Hk, S, D) -> (..., Hk * groups, S, D): each key/value head repeated for its query heads.
Tensor repeat_heads(const Tensor& t, int64_t groups) {
  if (groups == 1) return t;
  Dims shape = t.shape(), wide = t.shape();
  const size_t h = shape.size() - 3;
  Tensor x = unsqueeze(t, (int64_t)h + 1);
  Dims ex = x.shape();
  ex[h + 1] = groups;
  wide[h] *= groups;
  return reshape(expand(x, ex), wide);
}

// The gradient of a repeated head back to its key/value head: sums each group of query heads.
Tensor sum_head_groups(const Tensor& g, int64_t groups) {
  if (groups == 1) return g;
  Dims shape = g.shape(), split;
  const size_t h = shape.size() - 3;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i == h) {
      split.push_back(shape[i] / groups);
      split.push_back(groups);
    } else {
      split.push_back(shape[i]);
    }
  }
  return sum(reshape(g, split), {(int64_t)h + 1}, false);
}

// Note [Fused attention], backward with create_graph: the same formulas written with differentiable
// ops of (query, key, value, mask, grad), so that second derivatives work. Unlike the kernels, this
// path holds the (L, S) weights. Fully masked rows (lse = +inf) get zero weights through a constant
// row mask rather than a softmax of -inf, whose NaNs would leak into the gradients.
TensorList attention_backward_composed(const GradArgs<6, AttnAttrs>& d, const Plan& p) {
  const AttnAttrs& a = d.attrs;
  const DType dt = d.saved[0].dtype();
  const Tensor &q = d.saved[0], &mask = d.saved[3];
  Tensor k = repeat_heads(d.saved[1], p.groups), v = repeat_heads(d.saved[2], p.groups);
  Tensor s = matmul(q, transpose(k, -2, -1)) * a.scale;
  Tensor ninf = scalar_tensor(-std::numeric_limits<double>::infinity(), dt), zero = scalar_tensor(0.0, dt);
  if (a.is_causal) {
    Tensor allowed = Tensor::empty(Dims{p.L, p.S}, DType::Bool);
    uint8_t* ap = allowed.data<uint8_t>();
    for (int64_t i = 0; i < p.L; ++i)
      for (int64_t j = 0; j < p.S; ++j) ap[i * p.S + j] = j <= i;
    s = where(allowed, s, ninf);
  } else if (mask.defined() && mask.dtype() == DType::Bool) {
    s = where(mask, s, ninf);
  } else if (mask.defined()) {
    s = s + mask;
  }
  // rows with no key at all: lse = +inf (the forward's marker)
  Tensor dead = Tensor::empty(with_tail(p.out_batch, p.L, 1), DType::Bool);
  {
    Tensor lse = d.saved[5].is_contiguous() ? d.saved[5] : contiguous_copy(d.saved[5]);
    uint8_t* dp = dead.data<uint8_t>();
    dispatch_floating(lse.dtype(), kOp, [&](auto tag) {
      using T = decltype(tag);
      const T* lp = lse.data<T>();
      for (int64_t r = 0; r < p.B * p.L; ++r) dp[r] = std::isinf(lp[r]) && lp[r] > 0;
    });
  }
  Tensor probs = where(dead, zero, softmax(where(dead, zero, s), -1));
  Tensor dropped = probs;
  Tensor z;
  if (a.dropout_p > 0) {
    z = Tensor::empty(with_tail(p.out_batch, p.L, p.S), dt);
    dispatch_floating(dt, kOp, [&](auto tag) {
      using T = decltype(tag);
      Ctx<T> c(p, a);
      RowMat<T> tile;
      T* zp = z.data<T>();
      for (int64_t b = 0; b < p.B; ++b) {
        c.dropout_factors(b, 0, p.L, 0, p.S, tile);
        for (int64_t i = 0; i < p.L * p.S; ++i) zp[b * p.L * p.S + i] = tile.data()[i];
      }
    });
    dropped = probs * z;
  }
  const Tensor& g = d.grad;
  TensorList grads(4);
  if (d.needs(2)) grads[2] = sum_head_groups(matmul(transpose(dropped, -2, -1), g), p.groups);
  if (d.needs(0) || d.needs(1) || d.needs(3)) {
    Tensor dp = matmul(g, transpose(v, -2, -1));
    if (z.defined()) dp = dp * z;
    Tensor ds = probs * (dp - sum(dp * probs, {-1}, true));
    if (d.needs(0)) grads[0] = matmul(ds, k) * a.scale;
    if (d.needs(1)) grads[1] = sum_head_groups(matmul(transpose(ds, -2, -1), q) * a.scale, p.groups);
    if (d.needs(3)) grads[3] = ds;
  }
  return grads;
}

TensorList attention_backward(const GradArgs<6, AttnAttrs>& d) {
  if (GradMode::is_enabled()) {
    Plan p = make_plan(d.saved[0], d.saved[1], d.saved[2], d.saved[3], d.attrs.is_causal, d.attrs.enable_gqa);
    return attention_backward_composed(d, p);
  }
  const Tensor &query = d.saved[0], &key = d.saved[1], &value = d.saved[2], &mask = d.saved[3];
  Tensor out = d.saved[4], lse = d.saved[5];
  Plan p = make_plan(query, key, value, mask, d.attrs.is_causal, d.attrs.enable_gqa);
  Tensor g = d.grad.dtype() == out.dtype() && d.grad.is_contiguous()
                 ? d.grad
                 : contiguous_copy_as(d.grad, out.dtype());
  Tensor outc = out.is_contiguous() ? out : contiguous_copy(out);
  TensorList grads(4);
  Tensor dq, dk, dv, dmask;
  if (d.needs(0)) dq = Tensor::empty(with_tail(p.out_batch, p.L, p.E), query.dtype());
  if (d.needs(1)) dk = Tensor::empty(with_tail(p.kv_batch, p.S, p.E), query.dtype());
  if (d.needs(2)) dv = Tensor::empty(with_tail(p.kv_batch, p.S, p.Ev), query.dtype());
  if (d.needs(3)) dmask = zeros(with_tail(p.out_batch, p.L, p.S), query.dtype());
  dispatch_floating(query.dtype(), kOp, [&](auto tag) {
    using T = decltype(tag);
    Ctx<T> c(p, d.attrs);
    // D = rowsum(dO * O) per query row.
    std::vector<T> drow((size_t)(p.B * p.L));
    const T *gp = g.data<T>(), *op = outc.data<T>();
    parallel_for(0, p.B * p.L, std::max<int64_t>(1, 16384 / std::max<int64_t>(p.Ev, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     T acc = 0;
                     for (int64_t x = 0; x < p.Ev; ++x) acc += gp[r * p.Ev + x] * op[r * p.Ev + x];
                     drow[(size_t)r] = acc;
                   }
                 });
    backward_kernel<T>(c, gp, lse.data<T>(), drow.data(), dq.defined() ? dq.data<T>() : nullptr,
                       dk.defined() ? dk.data<T>() : nullptr, dv.defined() ? dv.data<T>() : nullptr,
                       dmask.defined() ? dmask.data<T>() : nullptr);
  });
  grads[0] = dq;
  grads[1] = dk;
  grads[2] = dv;
  grads[3] = dmask;
  return grads;
}

const Derivative<4, 6, AttnAttrs> attention_grad{
    "ScaledDotProductFlashAttentionForCpuBackward0",
    {"query", "key", "value", "attn_mask"},
    {},
    {{{"query"}, {"key"}, {"value"}, {"attn_mask"}, {"out"}, {"logsumexp"}}},
    attention_backward};

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale, bool enable_gqa) {
  if (!(dropout_p >= 0 && dropout_p <= 1))
    throw ValueError(str(kOp, ": dropout_p must be in [0, 1], got ", dropout_p));
  Plan p = make_plan(query, key, value, attn_mask, is_causal, enable_gqa);
  AttnAttrs a;
  a.scale = scale ? *scale : (p.E > 0 ? 1.0 / std::sqrt((double)p.E) : 1.0);
  if (!std::isfinite(a.scale)) throw ValueError(str(kOp, ": scale must be finite, got ", a.scale));
  a.dropout_p = dropout_p;
  a.is_causal = is_causal;
  a.enable_gqa = enable_gqa;
  if (dropout_p > 0) default_generator()->reserve((uint64_t)(p.B * p.L * p.S), a.rng_key, a.rng_first);
  Tensor out = Tensor::empty(with_tail(p.out_batch, p.L, p.Ev), query.dtype());
  Tensor lse = Tensor::empty(Dims{p.B, p.L}, query.dtype());
  dispatch_floating(query.dtype(), kOp, [&](auto tag) {
    using T = decltype(tag);
    Ctx<T> c(p, a);
    forward_kernel<T>(c, out.data<T>(), lse.data<T>());
  });
  capture::note_internal(lse);  // Note [Internal tensors of a recorded call]
  if (auto* n = record(attention_grad, {query, key, value, attn_mask}, out,
                       {query, key, value, attn_mask, output(out), lse}))
    n->attrs = a;
  return out;
}

}  // namespace cr
