#pragma once
// What the core tells a planned replay's recorder (Note [Planned replay] in autograd/plan.h): a
// tensor allocated and a storage written in place. One relaxed load of a global while no recorder
// runs, which is always, outside the one replay of a compiled step that records its plan.
#include <atomic>

namespace cr {
class Tensor;
namespace plan_detail {
/// How many threads record a plan now.
inline std::atomic<int> g_recording{0};
inline bool any_recording() { return g_recording.load(std::memory_order_relaxed) != 0; }
/// A tensor Tensor::empty made on this thread (while it records).
void note_alloc_recorded(const Tensor& t);
/// An in-place write on this thread (while it records).
void note_write_recorded();
}  // namespace plan_detail
}  // namespace cr
