#pragma once
// TensorImpl: storage + geometry + dtype, plus the autograd metadata (requires_grad, grad, grad_fn,
// output_nr, hooks). Tensor: a nullable shared handle to a TensorImpl, the type every op takes.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"
#include "core/small_pool.h"
#include "core/storage.h"

namespace cr {

class Node;
class TensorImpl;
class Tensor;

/// How a differentiable view was made (Note [Views and in-place ops]): in-place ops are refused on
/// views made under no_grad and on the outputs of ops that return several views.
enum class ViewCreation : uint8_t { Default, NoGradMode, MultiOutput };

/// What a differentiable view knows about the tensor whose storage it shares.
struct ViewMeta {
  std::shared_ptr<TensorImpl> base;  // the root base (never itself a view)
  uint32_t base_gen = 0;             // base->history_gen_ when grad_fn_ was last set
  ViewCreation creation = ViewCreation::Default;
  // from the small block pool: every view an op makes (an expand in a backward formula) has one
  static void* operator new(size_t bytes) { return pool::allocate(bytes); }
  static void operator delete(void* p, size_t bytes) noexcept { pool::release(p, bytes); }
};
using TensorList = std::vector<Tensor, pool::Allocator<Tensor>>;
/// A gradient hook: returns a replacement gradient, or an undefined Tensor to keep the input.
using TensorHook = std::function<Tensor(const Tensor&)>;
/// What a hook keeps alive for its owner (the binding layer's Python callable), kept beside the hook
/// so that a garbage collector walking references can see it; the core never looks inside.
using HookOwner = std::shared_ptr<void>;

class TensorImpl {
 public:
  TensorImpl(std::shared_ptr<Storage> storage, Dims sizes, Dims strides, int64_t offset, DType dtype)
      : storage_(std::move(storage)), sizes_(std::move(sizes)), strides_(std::move(strides)), offset_(offset),
        dtype_(dtype) {}
  /// A contiguous tensor over all of `storage` (its strides computed in place, not copied in).
  TensorImpl(std::shared_ptr<Storage> storage, const Dims& sizes, DType dtype)
      : storage_(std::move(storage)), sizes_(sizes), offset_(0), dtype_(dtype) {
    set_contiguous_strides(sizes_, strides_);
  }
  ~TensorImpl();
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;

  // --- data ---
  std::shared_ptr<Storage> storage_;
  Dims sizes_;
  Dims strides_;      // in elements
  int64_t offset_;    // in elements
  DType dtype_;

  // --- autograd ---
  bool requires_grad_ = false;
  bool retains_grad_ = false;
  bool is_view_ = false;            // shares storage with a base produced by a view op
  /// A replay arena keeps a reference to this tensor, which it hands out again only once no other
  /// reference is left (Note [Replay arena]); the one reference that never reads or writes it.
  std::atomic<bool> arena_kept_{false};
  std::unique_ptr<ViewMeta> view_;  // set on differentiable views (not on detach())
  /// Bumped each time an in-place op gives this tensor a new history; its views then regenerate
  /// their grad_fn from it (Note [Views and in-place ops]).
  std::atomic<uint32_t> history_gen_{0};
  uint32_t output_nr_ = 0;
  std::shared_ptr<Node> grad_fn_;   // null for leaves
  std::shared_ptr<TensorImpl> grad_;
  std::weak_ptr<Node> grad_accumulator_;  // leaves only; the AccumulateGrad node owns the leaf
  std::vector<TensorHook> hooks_;         // leaf hooks; non-leaf hooks live on grad_fn
  std::vector<HookOwner> hook_owners_;    // what the leaf hooks keep alive (see HookOwner)
  std::mutex grad_mu_;                    // serializes accumulation into grad_

  int64_t numel() const { return numel_of(sizes_); }
  int64_t dim() const { return (int64_t)sizes_.size(); }
  bool is_leaf() const { return !grad_fn_; }
  bool is_contiguous() const;
  /// True when this view's base got a new history since the view's grad_fn was set.
  bool view_is_stale() const {
    return view_ && view_->base_gen != view_->base->history_gen_.load(std::memory_order_relaxed);
  }
  char* raw_data() const { return (char*)storage_->data() + offset_ * (int64_t)itemsize(dtype_); }
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  /// A fresh contiguous tensor; contents uninitialized. ValueError on negative or huge sizes.
  static Tensor empty(const Dims& sizes, DType dtype);

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& ptr() const { return impl_; }

  const Dims& shape() const { return impl_->sizes_; }
  const Dims& strides() const { return impl_->strides_; }
  int64_t size(int64_t d) const { return impl_->sizes_[d]; }
  int64_t dim() const { return impl_->dim(); }
  int64_t numel() const { return impl_->numel(); }
  DType dtype() const { return impl_->dtype_; }
  int64_t offset() const { return impl_->offset_; }
  bool is_contiguous() const { return impl_->is_contiguous(); }
  template <class T> T* data() const { return reinterpret_cast<T*>(impl_->raw_data()); }
  char* raw_data() const { return impl_->raw_data(); }
  const std::shared_ptr<Storage>& storage() const { return impl_->storage_; }

  bool requires_grad() const { return impl_ && (refresh(), impl_->requires_grad_); }
  const std::shared_ptr<Node>& grad_fn() const { return refresh(), impl_->grad_fn_; }
  uint32_t output_nr() const { return refresh(), impl_->output_nr_; }
  bool is_leaf() const { return refresh(), impl_->is_leaf(); }
  /// The differentiable base of this view (undefined when it is none).
  Tensor view_base() const;

  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  /// Regenerates a stale view's grad_fn from its base (Note [Views and in-place ops]).
  void refresh() const {
    if (impl_->view_is_stale()) refresh_view(*impl_);
  }
  static void refresh_view(TensorImpl& impl);

  std::shared_ptr<TensorImpl> impl_;
};

/// A new TensorImpl over the same storage and geometry with no autograd history.
Tensor detach(const Tensor& t);
/// The grad_fn of a view regenerated from its base's history (AsStridedBackward0); defined in
/// ops/views.cpp. Raises AutogradError for views whose creation forbids it.
std::shared_ptr<Node> make_view_grad_fn(const Tensor& base, TensorImpl& view);
/// Marks views (outputs of one op that returns several views) as refusing in-place writes.
void mark_multi_output_views(TensorList& views);
/// A view over t's storage with the given geometry (no autograd history).
Tensor make_view(const Tensor& t, Dims sizes, Dims strides, int64_t offset);
/// A 0-dim tensor holding a scalar.
Tensor scalar_tensor(double v, DType dtype);

/// Reads element 0 as double (numel must be 1).
double item_as_double(const Tensor& t);

}  // namespace cr
