#include "core/storage.h"

#include <cstdlib>
#include <new>
#include "core/errors.h"

namespace cr {

std::shared_ptr<Storage> Storage::allocate(size_t nbytes) {
  auto s = std::shared_ptr<Storage>(new Storage());
  size_t rounded = (nbytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  s->data_ = std::aligned_alloc(64, rounded);
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
  if (!owner_) std::free(data_);
}

}  // namespace cr
