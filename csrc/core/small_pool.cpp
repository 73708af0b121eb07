// Note [Small block pool] (core/small_pool.h).
#include "core/small_pool.h"

#include <cstdlib>
#if defined(_WIN32)
#include <malloc.h>
#endif

// Under AddressSanitizer every block goes to the system allocator, so that a use after free is
// still reported (a pooled block would be reused silently).
#if defined(__SANITIZE_ADDRESS__)
#define CHAINRULE_POOL_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHAINRULE_POOL_DISABLED 1
#endif
#endif

namespace cr {
namespace pool {

void* system_aligned_alloc(size_t align, size_t size) noexcept {
#if defined(_WIN32)
  return _aligned_malloc(size, align);
#else
  return std::aligned_alloc(align, size);
#endif
}
void system_aligned_free(void* p) noexcept {
#if defined(_WIN32)
  _aligned_free(p);
#else
  std::free(p);
#endif
}

namespace {

constexpr size_t kClasses = kMaxPooledBytes / kAlign;

struct FreeBlock {
  FreeBlock* next;
};

// Trivially constructible and destructible, so reaching it costs one thread-local lookup and it
// stays readable while the thread's other thread_locals are destroyed (a tensor freed then goes to
// the system allocator). The lists are emptied at thread exit by a Cleanup, made on first use.
struct ThreadPool {
  FreeBlock* head[kClasses];
  size_t cached_bytes;
  bool registered;
  bool closed;  // the thread is exiting: no more caching
};
thread_local ThreadPool t_pool{};

struct Cleanup {
  ~Cleanup() {
    ThreadPool& p = t_pool;
    p.closed = true;
    for (size_t c = 0; c < kClasses; ++c)
      while (FreeBlock* b = p.head[c]) {
        p.head[c] = b->next;
        system_aligned_free(b);
      }
    p.cached_bytes = 0;
  }
};

void register_cleanup(ThreadPool& p) {
  thread_local Cleanup cleanup;
  (void)cleanup;
  p.registered = true;
}

}  // namespace

void* allocate(size_t bytes) {
  const size_t size = block_size(bytes);
  const size_t c = size / kAlign - 1;
  ThreadPool& p = t_pool;
#ifdef CHAINRULE_POOL_DISABLED
  (void)c;
  (void)p;
#else
  if (FreeBlock* b = p.head[c]) {
    p.head[c] = b->next;
    p.cached_bytes -= size;
    return b;
  }
#endif
  void* fresh = system_aligned_alloc(kAlign, size);
  if (!fresh) throw std::bad_alloc();
  return fresh;
}

void release(void* ptr, size_t bytes) noexcept {
  if (!ptr) return;
  const size_t size = block_size(bytes);
  ThreadPool& p = t_pool;
#ifdef CHAINRULE_POOL_DISABLED
  p.closed = true;
#endif
  if (p.closed || p.cached_bytes + size > kMaxCachedBytes) {
    system_aligned_free(ptr);
    return;
  }
  if (!p.registered) register_cleanup(p);
  auto* b = static_cast<FreeBlock*>(ptr);
  const size_t c = size / kAlign - 1;
  b->next = p.head[c];
  p.head[c] = b;
  p.cached_bytes += size;
}

}  // namespace pool
}  // namespace cr
