#pragma once
// Intra-op parallelism on a small pool of our own (Note [Pool] in parallel.cpp). See Note [Threads]
// in engine.cpp for how it shares cores with the inter-op pool. Work is split only above a grain size, and
// reductions split into chunks of a fixed size whose partial results are combined in chunk order, so results
// do not depend on the thread count (Note [Determinism]).
#include <algorithm>
#include <cstdint>
#include <vector>

namespace cr {

/// Threads for both pools: the backward inter-op pool and intra-op kernels.
int get_num_threads();
void set_num_threads(int n);
/// Threads a kernel on this thread may use now (1 inside inter-op workers).
int intra_op_threads();

/// Limits intra-op threads on this thread for a scope.
class IntraOpLimit {
 public:
  explicit IntraOpLimit(int n);
  ~IntraOpLimit();

 private:
  int prev_;
};

/// Marks a thread of the backward inter-op pool as running nodes for a scope. While any is, the
/// intra-op pool's threads sleep instead of spinning between jobs: they would take the core that
/// thread needs (Note [Adaptive spinning] in parallel.cpp).
class InterOpActive {
 public:
  InterOpActive();
  ~InterOpActive();
  InterOpActive(const InterOpActive&) = delete;
  InterOpActive& operator=(const InterOpActive&) = delete;
};

/// True on a thread while it runs a chunk of parallel_for (a nested parallel_for runs inline).
bool in_parallel_region();
/// Inside a parallel_for chunk: the running thread's index in the team, in [0, intra_op_threads())
/// (0 for the calling thread); 0 outside.
int parallel_thread_index();

namespace detail {
using ChunkFn = void (*)(const void* ctx, int64_t b, int64_t e);
/// Runs fn(ctx, b, e) for the chunks [begin + c * step, min(end, begin + (c + 1) * step)),
/// c in [0, nchunks), on the calling thread and up to `helpers` pool threads. See Note [Pool].
void run_chunks(int64_t begin, int64_t end, int64_t step, int64_t nchunks, int helpers, ChunkFn fn,
                const void* ctx);
}  // namespace detail

/// Chunks per thread that parallel_for aims for, so that a thread the OS preempts holds back
/// little work: the others take the remaining chunks.
constexpr int64_t kChunksPerThread = 4;

/// Calls f(b, e) over [begin, end), split across threads when end - begin > grain. Elements must
/// be independent: the split (never the result) depends on the thread count.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  int64_t n = end - begin;
  if (n <= 0) return;
  // (the size first: work of one chunk reads no thread-local state)
  int nt;
  if (n > grain && (nt = intra_op_threads()) > 1 && !in_parallel_region()) {
    int64_t chunks =
        std::min<int64_t>((int64_t)nt * kChunksPerThread, (n + grain - 1) / std::max<int64_t>(grain, 1));
    int64_t step = (n + chunks - 1) / chunks;
    chunks = (n + step - 1) / step;
    if (chunks > 1) {
      detail::run_chunks(
          begin, end, step, chunks, nt - 1,
          [](const void* ctx, int64_t b, int64_t e) { (*static_cast<const F*>(ctx))(b, e); }, &f);
      return;
    }
  }
  f(begin, end);
}

/// Deterministic reduction: [begin, end) is cut into chunks of exactly `chunk` elements (the last
/// may be shorter) whatever the thread count; partial(b, e) -> Acc per chunk; partials are then
/// combined left to right with combine(acc, part).
template <class Acc, class Partial, class Combine>
Acc parallel_reduce(int64_t begin, int64_t end, int64_t chunk, Acc init, const Partial& partial,
                    const Combine& combine) {
  int64_t n = end - begin;
  if (n <= 0) return init;
  int64_t nchunks = (n + chunk - 1) / chunk;
  if (nchunks == 1) return combine(init, partial(begin, end));
  std::vector<Acc> parts((size_t)nchunks, init);
  parallel_for(0, nchunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      int64_t b = begin + c * chunk;
      parts[(size_t)c] = partial(b, std::min(end, b + chunk));
    }
  });
  Acc acc = init;
  for (auto& p : parts) acc = combine(acc, p);
  return acc;
}

}  // namespace cr
