#include "core/storage.h"

#if !defined(_WIN32)
#include <pthread.h>
#endif

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>
#include <unordered_map>
#include <vector>
#include "core/errors.h"
#include "core/small_pool.h"

namespace cr {

// Note [Large block cache]
// A training step frees and allocates the same large buffers every step (activations, gradients).
// Given back to malloc, blocks above its mmap threshold are unmapped, and a heap's free top is
// trimmed, so the next step touches fresh pages: each 4 KiB page is a page fault and a page of
// zeroing, and the faults of all threads serialize on the process's memory map. A backward of
// eight 256x256 branches on two threads took 870 faults per step and 20% of its time. Below the
// mmap threshold, glibc's aligned allocation of a few KiB consolidates its free lists first (3% of
// a small MLP's training step). Freed storages between kCacheMinBytes (the largest the small block
// pool serves) and kCacheMaxBytes are therefore kept, by rounded size, for the next allocation of
// that size; the cache holds at most kCacheLimitBytes (a block that does not fit
// goes back to malloc). Under AddressSanitizer it is off, so that a use after free is still seen.
//
// A thread takes back a block it freed itself when one of the latest few it can take is: its lines
// may still be in this core's cache, where another thread's block is in another core's (written
// lines that the other core must hand over first). Taking simply the latest block, the branches of
// that same backward on two threads drifted after a few steps into a regime where every product and
// tanh gradient ran 15-20% slower (each thread writing into blocks the other had just freed): 12.4
// ms a backward instead of 10.8, 1.70x the one-thread time instead of 1.95x.
namespace {

#if defined(__SANITIZE_ADDRESS__)
#define CHAINRULE_BLOCK_CACHE_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHAINRULE_BLOCK_CACHE_DISABLED 1
#endif
#endif

constexpr size_t kCacheMinBytes = pool::kMaxPooledBytes;
constexpr size_t kCacheMaxBytes = size_t(16) << 20;
constexpr size_t kCacheLimitBytes = size_t(64) << 20;
constexpr size_t kPageBytes = size_t(64) << 10;  // from here on, sizes round to whole pages
constexpr size_t kAffinityWindow = 16;  // how many of the latest freed blocks take() looks through

// Sizes round up so that near sizes share blocks: to whole 4 KiB pages from kPageBytes, below that
// to an eighth of the size's power of two (at most 12.5% more), and to 64 bytes at least.
size_t rounded_size(size_t nbytes) {
  size_t r = (nbytes + 63) / 64 * 64;
  if (r >= kPageBytes) return (r + 4095) / 4096 * 4096;
  if (r > kCacheMinBytes) {
    size_t step = 1;
    while (step * 2 <= r) step *= 2;
    step /= 8;
    return (r + step - 1) / step * step;
  }
  return r == 0 ? 64 : r;
}

class BlockCache {
 public:
  void* take(size_t bytes) {
    if (bytes < kCacheMinBytes || bytes > kCacheMaxBytes) return nullptr;
    Guard g(lock_);
    auto it = free_.find(bytes);
    if (it == free_.end() || it->second.empty()) return nullptr;
    // The latest block this thread freed, among the last kAffinityWindow; else the latest.
    auto& blocks = it->second;
    const std::thread::id me = std::this_thread::get_id();
    size_t pick = blocks.size() - 1;
    for (size_t k = blocks.size(), seen = 0; k-- > 0 && seen < kAffinityWindow; ++seen) {
      if (blocks[k].freed_by == me) {
        pick = k;
        break;
      }
    }
    void* p = blocks[pick].data;
    blocks.erase(blocks.begin() + (ptrdiff_t)pick);
    held_ -= bytes;
    return p;
  }
  /// Keeps p for a later take(bytes); false when it does not fit (the caller frees it).
  bool give(void* p, size_t bytes) {
    if (bytes < kCacheMinBytes || bytes > kCacheMaxBytes) return false;
    Guard g(lock_);
    if (held_ + bytes > kCacheLimitBytes) return false;
    try {
      free_[bytes].push_back({p, std::this_thread::get_id()});
    } catch (...) { return false; }
    held_ += bytes;
    return true;
  }
  /// In a forked child: another thread of the parent may have held the lock at the fork. The
  /// cached blocks stay valid (the child has a copy of the heap), so only the lock is reset.
  void after_fork() { lock_.clear(); }

 private:
  struct Guard {
    std::atomic_flag& f;
    explicit Guard(std::atomic_flag& flag) : f(flag) {
      while (f.test_and_set(std::memory_order_acquire)) {}
    }
    ~Guard() { f.clear(std::memory_order_release); }
  };
  struct Block {
    void* data;
    std::thread::id freed_by;
  };
  std::atomic_flag lock_ = ATOMIC_FLAG_INIT;
  std::unordered_map<size_t, std::vector<Block>> free_;
  size_t held_ = 0;
};

BlockCache& block_cache() {
  // Leaked on purpose: storages may be freed during static destruction at exit.
  static BlockCache* cache = [] {
    auto* c = new BlockCache;
#if !defined(_WIN32)  // no fork() on Windows
    pthread_atfork(nullptr, nullptr, [] { block_cache().after_fork(); });
#endif
    return c;
  }();
  return *cache;
}

void* allocate_data(size_t bytes) {
#ifndef CHAINRULE_BLOCK_CACHE_DISABLED
  if (void* p = block_cache().take(bytes)) return p;
#endif
  return pool::system_aligned_alloc(64, bytes);
}

void free_data(void* p, size_t bytes) {
#ifndef CHAINRULE_BLOCK_CACHE_DISABLED
  if (p && block_cache().give(p, bytes)) return;
#endif
  pool::system_aligned_free(p);
}

}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t nbytes) {
  // Small storages (Note [Small block pool]): the Storage and its data share one pooled block (the
  // Storage in the first 64 bytes, so the data stays 64-byte aligned), and the control block is
  // pooled too. Frees give both back to the pool.
  static_assert(sizeof(Storage) <= pool::kAlign, "the Storage must fit in the block's header");
  const size_t block = pool::kAlign + pool::block_size(nbytes);
  if (block <= pool::kMaxPooledBytes) {
    void* mem = pool::allocate(block);
    Storage* raw = new (mem) Storage();
    raw->data_ = static_cast<char*>(mem) + pool::kAlign;
    raw->nbytes_ = nbytes;
    auto release = [block](Storage* st) {
      st->data_ = nullptr;  // inside the block: not the destructor's to free
      st->~Storage();
      pool::release(st, block);
    };
    try {
      return std::shared_ptr<Storage>(raw, release, pool::Allocator<Storage>());
    } catch (...) {  // the shared_ptr constructor already ran `release` on raw
      throw ValueError(str("cannot allocate ", nbytes, " bytes: out of memory"));
    }
  }
  auto s = std::shared_ptr<Storage>(new Storage());
  s->data_ = allocate_data(rounded_size(nbytes));
  if (!s->data_) throw ValueError(str("cannot allocate ", nbytes, " bytes: out of memory"));
  s->nbytes_ = nbytes;
  return s;
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, std::shared_ptr<void> owner) {
  auto s = std::shared_ptr<Storage>(new Storage());
  s->data_ = data;
  s->nbytes_ = nbytes;
  s->owner_ = std::move(owner);
  if (!s->owner_) s->owner_ = std::shared_ptr<void>(nullptr, [](void*) {});
  return s;
}

Storage::~Storage() {
  if (!owner_) free_data(data_, rounded_size(nbytes_));
}

}  // namespace cr
