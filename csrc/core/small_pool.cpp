// Note [Small block pool] (core/small_pool.h).
#include "core/small_pool.h"

#include <cstdlib>

namespace cr {
namespace pool {

namespace {

constexpr size_t kClasses = kMaxPooledBytes / kAlign;

struct FreeBlock {
  FreeBlock* next;
};

struct ThreadPool {
  FreeBlock* head[kClasses] = {};
  uint32_t count[kClasses] = {};
  ThreadPool();
  ~ThreadPool();
};

// 0: not created yet, 1: alive, 2: destroyed (thread exit). Trivially destructible, so it can be
// read while the thread's other thread_locals are being destroyed (a tensor freed then goes to
// the system allocator).
thread_local int t_state = 0;
thread_local ThreadPool t_pool;

ThreadPool::ThreadPool() { t_state = 1; }
ThreadPool::~ThreadPool() {
  t_state = 2;
  for (size_t c = 0; c < kClasses; ++c)
    while (FreeBlock* b = head[c]) {
      head[c] = b->next;
      std::free(b);
    }
}

ThreadPool* this_thread_pool() {
  if (t_state == 2) return nullptr;
  return &t_pool;  // constructs it on first use
}

}  // namespace

void* allocate(size_t bytes) {
  const size_t size = block_size(bytes);
  const size_t c = size / kAlign - 1;
  if (ThreadPool* p = this_thread_pool()) {
    if (FreeBlock* b = p->head[c]) {
      p->head[c] = b->next;
      --p->count[c];
      return b;
    }
  }
  void* fresh = std::aligned_alloc(kAlign, size);
  if (!fresh) throw std::bad_alloc();
  return fresh;
}

void release(void* ptr, size_t bytes) noexcept {
  if (!ptr) return;
  const size_t c = block_size(bytes) / kAlign - 1;
  ThreadPool* p = this_thread_pool();
  if (!p || p->count[c] >= kMaxFreeBlocks) {
    std::free(ptr);
    return;
  }
  auto* b = static_cast<FreeBlock*>(ptr);
  b->next = p->head[c];
  p->head[c] = b;
  ++p->count[c];
}

}  // namespace pool
}  // namespace cr
