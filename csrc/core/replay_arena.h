#pragma once
// Note [Replay arena]
// A lowered replay of a compiled step (Note [Lowered backward] in autograd/engine.cpp) makes the
// same tensors, in the same order and of the same shapes, every time it runs. Its arena keeps the
// small ones it made (up to kMaxTensorBytes each, kMaxBytes in all) from one replay to the next,
// and the next replay's Tensor::empty hands the n-th of them out again as its n-th allocation:
// buffers planned by the first replay, with no allocation or free per op after it.
// A kept tensor is handed out only when nothing else can see it: the arena holds the only
// reference to it and to its storage (a tensor a replay returned, a gradient a parameter keeps, a
// view of it or a NumPy array over it all hold one), and it is as Tensor::empty made it (no
// history, gradient, hooks or view metadata; its own storage, contiguous, same shape and dtype).
// Otherwise that allocation is a fresh tensor, which the arena keeps in its place instead. The
// arena's reference is a passive one (it neither reads nor writes a tensor it does not hand out),
// so a check for a buffer nobody else sees may leave it out (other_uses()). Only the
// thread running the replay uses the arena (ReplayArena::Scope); a lowered replay records no graph,
// so a kept tensor holds no autograd history alive between replays.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <vector>

#include "core/tensor.h"

namespace cr {
namespace plan {
class Recorder;
}

class ReplayArena {
 public:
  static constexpr size_t kMaxTensorBytes = size_t(64) << 10;
  static constexpr size_t kMaxBytes = size_t(16) << 20;

  ReplayArena() = default;
  ReplayArena(const ReplayArena&) = delete;
  ReplayArena& operator=(const ReplayArena&) = delete;
  ~ReplayArena();

  /// The references to `t` that others hold: its use count, less the arena's own when it keeps t.
  /// A replay's gradient that only the arena keeps besides its holder may become a leaf's .grad
  /// without a copy (accumulate_into_grad), as it would outside a replay.
  static long other_uses(const std::shared_ptr<TensorImpl>& t) {
    return t.use_count() - (t->arena_kept_.load(std::memory_order_relaxed) ? 1 : 0);
  }

  /// Makes this arena the one Tensor::empty draws from on this thread, from its first tensor on.
  class Scope {
   public:
    explicit Scope(ReplayArena* arena) : prev_(current_), counted_(arena != nullptr) {
      if (arena) {
        arena->next_ = arena->reused_ = 0;
        in_use_.fetch_add(1, std::memory_order_relaxed);
      }
      current_ = arena;
    }
    ~Scope() {
      current_ = prev_;
      if (counted_) in_use_.fetch_sub(1, std::memory_order_relaxed);
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    ReplayArena* prev_;
    bool counted_;
  };

  /// Whether a replay on any thread uses an arena: a plain load, which spares every op outside a
  /// replay the thread-local lookup of current().
  static bool any_in_use() { return in_use_.load(std::memory_order_relaxed) != 0; }
  /// The arena of the replay running on this thread, or null.
  static ReplayArena* current() { return current_; }

  /// Tensor::empty's tensor (of nbytes bytes) during a replay: the one kept for this allocation
  /// when it can be handed out as a fresh tensor, or a new one, then kept in its place.
  Tensor allocate(const Dims& sizes, DType dtype, size_t nbytes);

  /// Planned mode (Note [Planned replay] in autograd/plan.h): the n-th allocation of a replay is
  /// (*buffers)[n], whoever else holds it (the plan checked that before it ran); null ends it.
  void set_planned(const TensorList* buffers) { planned_ = buffers; }
  /// Planned mode: the next n allocations are made by a call that writes into them directly.
  void skip_planned(size_t n) {
    next_ += n;
    reused_ += n;
  }
  /// The plan recorder of the replay using this arena (kept here, not in a thread-local of its
  /// own: the module's thread-local block is near the size past which every access gets slower).
  void set_recorder(plan::Recorder* r) { recorder_ = r; }
  plan::Recorder* recorder() const { return recorder_; }

  /// How many tensors it keeps, and their bytes.
  size_t size() const { return kept_.size() - std::count(sizes_.begin(), sizes_.end(), size_t(0)); }
  size_t bytes() const { return bytes_; }
  /// Of the last replay's allocations: how many there were, and how many a kept tensor served.
  size_t allocations() const { return next_; }
  size_t reused() const { return reused_; }

 private:
  Tensor take(const Dims& sizes, DType dtype);
  Tensor take_planned(const Dims& sizes, DType dtype);
  void keep(const Tensor& t, size_t nbytes);

  std::vector<Tensor> kept_;
  std::vector<size_t> sizes_;  // bytes of each kept tensor (0 where none is kept)
  size_t next_ = 0;
  size_t reused_ = 0;
  size_t bytes_ = 0;
  const TensorList* planned_ = nullptr;
  plan::Recorder* recorder_ = nullptr;
  static inline thread_local ReplayArena* current_ = nullptr;
  static inline std::atomic<int> in_use_{0};
};

}  // namespace cr
