#include "core/tensor.h"

#include <limits>
#include "core/grad_mode.h"
#include "core/node.h"
#include "core/replay_arena.h"
#include "core/small_pool.h"

namespace cr {

TensorImpl::~TensorImpl() { release_node(std::move(grad_fn_)); }

bool TensorImpl::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = sizes_.size(); i-- > 0;) {
    if (sizes_[i] == 1) continue;
    if (strides_[i] != expected) return false;
    expected *= sizes_[i];
  }
  return true;
}

Tensor Tensor::empty(const Dims& sizes, DType dtype) {
  check_shape(sizes, "empty");  // strides too: zeros(0, 2**62, 2**62) must not wrap them
  int64_t n = numel_of(sizes);
  size_t isz = itemsize(dtype);
  // (without a division; the product cannot overflow once n is at most 2^40)
  if ((uint64_t)n > (1ULL << 40) || (uint64_t)n * isz > (1ULL << 40))
    throw ValueError(str("cannot allocate a tensor of shape ", sizes, " (", dtype_name(dtype), "): ", n,
                         " elements exceed the 1 TiB limit"));
  if (ReplayArena::any_in_use()) [[unlikely]]
    if (ReplayArena* arena = ReplayArena::current()) return arena->allocate(sizes, dtype, (size_t)n * isz);
  auto storage = Storage::allocate((size_t)n * isz);
  // The TensorImpl and its control block come from the small block pool (Note [Small block pool]).
  return Tensor(
      std::allocate_shared<TensorImpl>(pool::Allocator<TensorImpl>(), std::move(storage), sizes, dtype));
}

Tensor detach(const Tensor& t) {
  auto* s = t.impl();
  auto impl = std::allocate_shared<TensorImpl>(pool::Allocator<TensorImpl>(), s->storage_, s->sizes_,
                                               s->strides_, s->offset_, s->dtype_);
  impl->is_view_ = s->is_view_;
  return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& t, Dims sizes, Dims strides, int64_t offset) {
  auto impl = std::allocate_shared<TensorImpl>(pool::Allocator<TensorImpl>(), t.storage(), std::move(sizes),
                                               std::move(strides), offset, t.dtype());
  impl->is_view_ = true;
  // Note [Views and in-place ops]: a view remembers its root base, and how it was made.
  auto meta = std::make_unique<ViewMeta>();
  const TensorImpl* src = t.impl();
  if (src->view_) {
    meta->base = src->view_->base;
    meta->creation = src->view_->creation;
  } else {
    meta->base = t.ptr();
  }
  if (meta->creation == ViewCreation::Default && !GradMode::is_enabled())
    meta->creation = ViewCreation::NoGradMode;
  meta->base_gen = meta->base->history_gen_.load(std::memory_order_relaxed);
  impl->view_ = std::move(meta);
  return Tensor(std::move(impl));
}

Tensor Tensor::view_base() const {
  if (!impl_ || !impl_->view_) return Tensor();
  return Tensor(impl_->view_->base);
}

void mark_multi_output_views(TensorList& views) {
  for (auto& v : views)
    if (v.defined() && v.impl()->view_) v.impl()->view_->creation = ViewCreation::MultiOutput;
}

void Tensor::refresh_view(TensorImpl& impl) {
  static std::mutex mu;
  std::shared_ptr<Node> old;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!impl.view_is_stale()) return;
    ViewMeta& m = *impl.view_;
    const uint32_t gen = m.base->history_gen_.load(std::memory_order_relaxed);
    if (m.base->requires_grad_) {
      std::shared_ptr<Node> fn = make_view_grad_fn(Tensor(m.base), impl);  // may raise; then stays stale
      old = std::move(impl.grad_fn_);
      impl.grad_fn_ = std::move(fn);
      impl.output_nr_ = 0;
      impl.requires_grad_ = true;
    }
    m.base_gen = gen;
  }
  release_node(std::move(old));
}

Tensor scalar_tensor(double v, DType dtype) {
  Tensor t = Tensor::empty(Dims{}, dtype);
  dispatch_storage(dtype, [&](auto tag) {
    using T = decltype(tag);
    *t.data<T>() = static_cast<T>(v);
  });
  return t;
}

double item_as_double(const Tensor& t) {
  if (t.numel() != 1)
    throw ValueError(str("a Tensor with ", t.numel(), " elements cannot be converted to a scalar"));
  return dispatch_storage(t.dtype(), [&](auto tag) -> double {
    using T = decltype(tag);
    return static_cast<double>(*t.data<T>());
  });
}

}  // namespace cr
