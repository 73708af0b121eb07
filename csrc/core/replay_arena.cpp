// Note [Replay arena] in replay_arena.h.
#include "core/replay_arena.h"

#include "core/errors.h"
#include "core/small_pool.h"

namespace cr {

Tensor ReplayArena::allocate(const Dims& sizes, DType dtype, size_t nbytes) {
  if (planned_) [[unlikely]]
    return take_planned(sizes, dtype);  // (the shape and dtype fix the bytes)
  Tensor out = take(sizes, dtype);
  if (!out.defined()) {
    out = Tensor(std::allocate_shared<TensorImpl>(pool::Allocator<TensorImpl>(), Storage::allocate(nbytes),
                                                  sizes, dtype));
    keep(out, nbytes);
  }
  if (plan_detail::any_recording()) [[unlikely]]
    plan_detail::note_alloc_recorded(out);
  return out;
}

Tensor ReplayArena::take_planned(const Dims& sizes, DType dtype) {
  const size_t i = next_++;
  // A plan's calls are those it recorded, on tensors of the same shapes, so they allocate the same
  // tensors in the same order; anything else is a bug, reported rather than computed wrongly.
  if (i >= planned_->size())
    throw AutogradError("chainrule.compile: a planned replay allocated more tensors than it recorded");
  const Tensor& t = (*planned_)[i];
  if (t.dtype() != dtype || !(t.shape() == sizes))
    throw AutogradError(str("chainrule.compile: a planned replay's allocation ", i, " has shape ", sizes,
                            " where the recorded one had ", t.shape()));
  ++reused_;
  return t;
}

Tensor ReplayArena::take(const Dims& sizes, DType dtype) {
  const size_t i = next_++;
  if (i >= kept_.size() || !kept_[i].defined()) return Tensor();
  const Tensor& t = kept_[i];
  const TensorImpl& impl = *t.impl();
  const bool alone = t.ptr().use_count() == 1 && impl.storage_.use_count() == 1;
  const bool as_made = !impl.grad_fn_ && !impl.grad_ && !impl.requires_grad_ && !impl.retains_grad_ &&
                       !impl.is_view_ && !impl.view_ && impl.hooks_.empty() && impl.offset_ == 0;
  if (!alone || !as_made || impl.dtype_ != dtype || !(impl.sizes_ == sizes) ||
      impl.storage_->nbytes() != sizes_[i] || !impl.storage_->owns_memory() || !impl.is_contiguous())
    return Tensor();
  ++reused_;
  return t;
}

ReplayArena::~ReplayArena() {
  for (const Tensor& t : kept_)
    if (t.defined()) t.impl()->arena_kept_.store(false, std::memory_order_relaxed);
}

void ReplayArena::keep(const Tensor& t, size_t nbytes) {
  const size_t i = next_ - 1;  // the allocation take() was just asked for
  if (i >= kept_.size()) {
    kept_.resize(i + 1);
    sizes_.resize(i + 1, 0);
  }
  bytes_ -= sizes_[i];
  if (kept_[i].defined()) kept_[i].impl()->arena_kept_.store(false, std::memory_order_relaxed);
  kept_[i] = Tensor();
  sizes_[i] = 0;
  if (nbytes > kMaxTensorBytes || bytes_ + nbytes > kMaxBytes) return;
  t.impl()->arena_kept_.store(true, std::memory_order_relaxed);
  kept_[i] = t;
  sizes_[i] = nbytes;
  bytes_ += nbytes;
}

}  // namespace cr
