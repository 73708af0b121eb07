#include "core/storage.h"

#include <cstdlib>
#include <new>
#include "core/errors.h"
#include "core/small_pool.h"

namespace cr {

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
  size_t rounded = (nbytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  s->data_ = pool::system_aligned_alloc(64, rounded);
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
  if (!owner_) pool::system_aligned_free(data_);
}

}  // namespace cr
