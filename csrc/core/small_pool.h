#pragma once
// Note [Small block pool]
// An elementwise op on a tiny tensor allocates a few small blocks (the storage with its data, the
// shared_ptr control blocks, the TensorImpl) and frees as many when the result dies, millions of
// times in a training loop of small tensors. glibc's aligned allocation splits and coalesces chunks
// for each of them; a per-thread free list per size class (multiples of 64 bytes up to
// kMaxPooledBytes) hands the same blocks back in a few instructions. A block freed on another
// thread joins that thread's list (blocks are interchangeable). A thread keeps at most
// kMaxCachedBytes in its lists (enough for the nodes of a few thousand recorded ops, so a training
// step's graph is recycled whole) and returns the rest to the system, so a freed large graph does
// not stay cached.
#include <cstddef>
#include <cstdint>
#include <new>

namespace cr {
namespace pool {

constexpr size_t kAlign = 64;
constexpr size_t kMaxPooledBytes = 1024;
constexpr size_t kMaxCachedBytes = size_t(4) << 20;

/// `size` bytes aligned to `align` from the system allocator (nullptr when out of memory), and its
/// release: std::aligned_alloc/std::free, or _aligned_malloc/_aligned_free on Windows, whose C
/// runtime has no aligned_alloc.
void* system_aligned_alloc(size_t align, size_t size) noexcept;
void system_aligned_free(void* p) noexcept;

/// Bytes rounded up to the block size that serves them (a multiple of 64).
constexpr size_t block_size(size_t bytes) {
  return bytes == 0 ? kAlign : (bytes + kAlign - 1) / kAlign * kAlign;
}
/// A 64-byte aligned block of block_size(bytes) bytes (bytes <= kMaxPooledBytes); throws bad_alloc.
void* allocate(size_t bytes);
/// Gives back a block from allocate(bytes), from any thread.
void release(void* p, size_t bytes) noexcept;

/// An allocator over the pool for allocate_shared and shared_ptr control blocks; requests above
/// kMaxPooledBytes go to operator new.
template <class T>
struct Allocator {
  using value_type = T;
  Allocator() = default;
  template <class U>
  Allocator(const Allocator<U>&) {}  // NOLINT: rebinding is implicit by design
  T* allocate(size_t n) {
    size_t bytes = n * sizeof(T);
    if (bytes > kMaxPooledBytes || alignof(T) > kAlign) return static_cast<T*>(::operator new(bytes));
    return static_cast<T*>(pool::allocate(bytes));
  }
  void deallocate(T* p, size_t n) noexcept {
    size_t bytes = n * sizeof(T);
    if (bytes > kMaxPooledBytes || alignof(T) > kAlign) ::operator delete(p);
    else pool::release(p, bytes);
  }
  template <class U>
  bool operator==(const Allocator<U>&) const {
    return true;
  }
  template <class U>
  bool operator!=(const Allocator<U>&) const {
    return false;
  }
};

}  // namespace pool
}  // namespace cr
