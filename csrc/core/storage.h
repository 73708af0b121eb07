#pragma once
// Storage: a reference-counted, 64-byte-aligned buffer. It also carries the version counter that
// every in-place write bumps: views and detached aliases share the storage, so they share the
// counter, which is what lets backward detect a saved tensor modified through any alias.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/plan_hooks.h"

namespace cr {

class Storage {
 public:
  /// Allocates `nbytes` (uninitialized) aligned to 64 bytes; ValueError-free: callers check sizes.
  static std::shared_ptr<Storage> allocate(size_t nbytes);
  /// Wraps memory owned by someone else (e.g. a NumPy array); `owner` keeps it alive.
  static std::shared_ptr<Storage> wrap(void* data, size_t nbytes, std::shared_ptr<void> owner);

  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  uint32_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() {
    version_.fetch_add(1, std::memory_order_relaxed);
    if (plan_detail::any_recording()) [[unlikely]]
      plan_detail::note_write_recorded();
  }
  bool owns_memory() const { return !owner_; }

 private:
  Storage() = default;
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  std::shared_ptr<void> owner_;
  std::atomic<uint32_t> version_{0};
};

}  // namespace cr
