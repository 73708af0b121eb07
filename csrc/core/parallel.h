#pragma once
// Intra-op parallelism. See Note [Threads] in engine.cpp for how it shares cores with the
// inter-op pool. Work is split only above a grain size, and reductions split into chunks of a
// fixed size whose partial results are combined in chunk order, so results do not depend on the
// thread count (Note [Determinism]).
#include <algorithm>
#include <cstdint>
#include <vector>
#ifdef CHAINRULE_HAS_OPENMP
#include <omp.h>
#endif

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

/// Calls f(b, e) over [begin, end), split across threads when end - begin > grain.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  int64_t n = end - begin;
  if (n <= 0) return;
#ifdef CHAINRULE_HAS_OPENMP
  int nt = intra_op_threads();
  if (nt > 1 && n > grain && !omp_in_parallel()) {
    int64_t chunks = std::min<int64_t>(nt, (n + grain - 1) / grain);
    int64_t step = (n + chunks - 1) / chunks;
#pragma omp parallel for num_threads((int)chunks) schedule(static, 1)
    for (int64_t c = 0; c < chunks; ++c) {
      int64_t b = begin + c * step, e = std::min(end, b + step);
      if (b < e) f(b, e);
    }
    return;
  }
#endif
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
