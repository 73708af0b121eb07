// Autograd of in-place writes through views.
//
// Note [Views and in-place ops]
// A view (make_view) shares its base's storage and remembers its root base (ViewMeta; a view of a
// view has the same base, detach() gives no base). Every view of a base is then, element for
// element, a strided window on the base's storage, and that is all the autograd of writes needs:
//  * an in-place op on a view V of base B, recorded, computes its out-of-place result r (whose
//    history reaches B's old history through V's grad_fn), writes r's values into V, and gives B a
//    new grad_fn, CopySlices(B_old, r): B_new is B_old with V's window replaced by r. Backward:
//    d/dB_old = the gradient with V's window zeroed; d/dr = the gradient's V window.
//  * any in-place op that gives a tensor a new history bumps its history_gen_. A view whose base
//    moved on is stale: the next look at its grad_fn (Tensor::grad_fn, requires_grad, ...)
//    regenerates it as AsStridedBackward0 of the base (its window of the base, whose backward adds
//    the gradient back into a zero base at the window), so later uses of every view see the write.
//  * as PyTorch, in-place writes are refused on a view of a leaf that requires grad, on views made
//    under no_grad (when autograd is involved) and on the outputs of ops that return several views
//    (unbind, split, chunk); a view of such a view inherits how it was made.
// The windows are taken on a buffer laid out like the base's storage, so bases and views of any
// strides (transposed, sliced with steps, expanded) work the same way.
#include "ops/views.h"

#include <algorithm>
#include "core/node.h"
#include "ops/creation.h"
#include "ops/derivatives.h"

namespace cr {

namespace {

/// A view's window on its base: both geometries, in storage elements.
struct Window {
  static constexpr bool kReplayInvariant = true;  // Note [Lowered backward]
  Dims base_sizes, base_strides;
  int64_t base_offset = 0;
  Dims view_sizes, view_strides;
  int64_t view_offset = 0;
};

Window window_of(const TensorImpl& base, const TensorImpl& view) {
  return Window{base.sizes_, base.strides_, base.offset_, view.sizes_, view.strides_, view.offset_};
}

/// A zero buffer laid out like the base's storage, with the base's and the view's geometry on it.
struct Buffer {
  Tensor base, view;
};
Buffer buffer(const Window& w, DType dt) {
  int64_t lo = w.base_offset, hi = w.base_offset;
  bool empty = false;
  for (size_t d = 0; d < w.base_sizes.size(); ++d) {
    if (w.base_sizes[d] == 0) empty = true;
    int64_t span = (w.base_sizes[d] - 1) * w.base_strides[d];
    (span < 0 ? lo : hi) += span;
  }
  int64_t n = empty ? 0 : hi - lo + 1;
  Tensor buf = zeros(Dims{n}, dt);
  return Buffer{make_view(buf, w.base_sizes, w.base_strides, w.base_offset - lo),
                make_view(buf, w.view_sizes, w.view_strides, w.view_offset - lo)};
}

Tensor window_gather(const Tensor& x, const Window& w);
Tensor window_scatter_add(const Tensor& g, const Window& w);
Tensor window_zeroed(const Tensor& g, const Window& w);

const Derivative<1, 0, Window> as_strided_grad{
    "AsStridedBackward0", {"self"}, {[](const auto& d) { return window_scatter_add(d.grad, d.attrs); }}};
const Derivative<1, 0, Window> as_strided_grad_grad{
    "AsStridedBackward0Backward", {"grad_output"}, {[](const auto& d) {
      return window_gather(d.grad, d.attrs);
    }}};
const Derivative<1, 0, Window> window_zeroed_grad{
    "CopySlicesBackward", {"grad_output"}, {[](const auto& d) { return window_zeroed(d.grad, d.attrs); }}};
// CopySlices(base_old, src): base_old with the view's window replaced by src.
const Derivative<2, 0, Window> copy_slices_grad{
    "CopySlices",
    {"self", "src"},
    {[](const auto& d) { return window_zeroed(d.grad, d.attrs); },
     [](const auto& d) { return window_gather(d.grad, d.attrs); }}};

/// x (of the base's shape) read through the view's window: the view's values.
Tensor window_gather(const Tensor& x, const Window& w) {
  Buffer b = buffer(w, x.dtype());
  copy_into(b.base, x);
  Tensor out = contiguous_copy(b.view);
  if (auto* n = record(as_strided_grad, {x}, out)) n->attrs = w;
  return out;
}

/// Zeros of the base's shape with g (of the view's shape) added at the view's window; elements the
/// view repeats (stride 0) add up.
Tensor window_scatter_add(const Tensor& g0, const Window& w) {
  Buffer b = buffer(w, g0.dtype());
  Tensor g = g0.is_contiguous() ? g0 : contiguous_copy(g0);
  const Tensor& v = b.view;
  const int64_t n = v.numel(), nd = v.dim();
  if (n > 0) {
    dispatch_floating(g.dtype(), "as_strided backward", [&](auto tag) {
      using T = decltype(tag);
      const T* src = g.data<T>();
      T* dst = v.data<T>();
      Dims idx((size_t)nd, 0);
      int64_t off = 0;
      for (int64_t i = 0; i < n; ++i) {
        dst[off] += src[i];
        for (int64_t d = nd - 1; d >= 0; --d) {
          off += v.strides()[(size_t)d];
          if (++idx[(size_t)d] < v.shape()[(size_t)d]) break;
          off -= v.strides()[(size_t)d] * v.shape()[(size_t)d];
          idx[(size_t)d] = 0;
        }
      }
    });
  }
  Tensor out = contiguous_copy(b.base);
  if (auto* n2 = record(as_strided_grad_grad, {g0}, out)) n2->attrs = w;
  return out;
}

/// g (of the base's shape) with the view's window set to zero.
Tensor window_zeroed(const Tensor& g, const Window& w) {
  Buffer b = buffer(w, g.dtype());
  copy_into(b.base, g);
  copy_into(b.view, make_view(scalar_tensor(0.0, g.dtype()), w.view_sizes, Dims(w.view_sizes.size(), 0), 0));
  Tensor out = contiguous_copy(b.base);
  if (auto* n = record(window_zeroed_grad, {g}, out)) n->attrs = w;
  return out;
}

/// "Unbind" for UnbindBackward0: how PyTorch names the op in its messages about views.
std::string op_name(const Node& fn) {
  std::string s = fn.name();
  size_t k = s.rfind("Backward");
  if (k != std::string::npos && k > 0) s.resize(k);
  return s;
}

/// PyTorch's message for an in-place write that a view's creation forbids; `indirect` when the
/// write went to its base or another view of it.
std::string view_rebase_message(const TensorImpl& v, bool indirect) {
  const std::string modified = indirect ? "its base or another view of its base has been" : "is being";
  const Node* fn = v.grad_fn_.get();
  const std::string output = fn ? str("Output ", v.output_nr_, " of ", op_name(*fn)) : std::string();
  if (v.view_->creation == ViewCreation::MultiOutput) {
    std::string head = fn ? str(output, " is a view and ", modified, " modified inplace.")
                          : str("A view was created in no_grad mode and ", modified,
                                " modified inplace with grad mode enabled.");
    return head +
           " This view is the output of a function that returns multiple views. Such functions do not "
           "allow the output views to be modified inplace. You should replace the inplace operation by an "
           "out-of-place one.";
  }
  std::string prefix = fn ? output + " is a view of a view which was created in" : "A view was created in";
  return prefix + " no_grad mode and " + modified +
         " modified inplace with grad mode enabled. Given that this use case is ambiguous and "
         "error-prone, it is forbidden. You can clarify your code by moving both the view and the "
         "inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or "
         "both outside (if you want the inplace to be tracked).";
}

}  // namespace

std::shared_ptr<Node> make_view_grad_fn(const Tensor& base, TensorImpl& view) {
  if (view.view_->creation != ViewCreation::Default) throw AutogradError(view_rebase_message(view, true));
  auto n = std::make_shared<FormulaNode<Derivative<1, 0, Window>>>(as_strided_grad);
  n->next_edges_.push_back(gradient_edge(base));
  n->attrs = window_of(*base.impl(), view);
  n->outputs_.push_back(OutputMeta{view.sizes_, view.dtype_});
  return n;
}

bool check_inplace(const Tensor& self, const Tensor& other, const char* op) {
  if (!GradMode::is_enabled() || !is_floating(self.dtype())) return false;
  Tensor base = self.view_base();
  const bool base_rg = base.defined() && base.requires_grad();
  const bool self_rg = self.requires_grad();
  if (!self_rg && !base_rg && !(other.defined() && other.requires_grad())) return false;
  if (base.defined()) {
    if (self.impl()->view_->creation != ViewCreation::Default)
      throw AutogradError(str(op, ": ", view_rebase_message(*self.impl(), false)));
    // As PyTorch: a view that requires grad (itself made to, or through its base) of a leaf.
    if ((base_rg || self_rg) && base.is_leaf())
      throw AutogradError(str(op,
                              ": a view of a leaf Variable that requires grad is being used in an in-place "
                              "operation. Wrap the update in `with chainrule.no_grad():` or use an "
                              "out-of-place op."));
  }
  if (self_rg && self.is_leaf())
    throw AutogradError(str(op,
                            ": a leaf Variable that requires grad is being used in an in-place operation. "
                            "Wrap the update in `with chainrule.no_grad():` or use an out-of-place op."));
  return true;
}

void rebase_history(const Tensor& self, const Tensor& r) {
  Tensor base = self.view_base();
  Tensor target = base.defined() ? base : self;
  TensorImpl* impl = target.impl();
  std::shared_ptr<Node> old = impl->grad_fn_;
  if (base.defined()) {
    if (auto* n = record(copy_slices_grad, {base, r}, target)) n->attrs = window_of(*impl, *self.impl());
  } else {
    impl->grad_fn_ = r.grad_fn();
    impl->output_nr_ = r.output_nr();
    impl->requires_grad_ = true;
  }
  impl->history_gen_.fetch_add(1, std::memory_order_relaxed);
  release_node(std::move(old));
}

}  // namespace cr
