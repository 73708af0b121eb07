#pragma once
// Whether a compiled step is being traced on this thread (see chainrule.compile). Fast paths that
// reach a kernel without going through the op registry check it and take the registry's path while
// tracing, so that every op of a traced step is recorded.
namespace cr {
namespace capture_detail {
inline thread_local bool tracing = false;
/// True while a schedule records on this thread, including inside a recorded call (where `tracing`
/// is paused): the ops that annotate their step for the schedule's fusion pass check it.
inline thread_local bool recording = false;
/// Set while a replay runs a step that made internal tensors at trace time (Note [Internal tensors
/// of a recorded call] in capture.h): where this call's internal tensors go.
struct InternalSink;
inline thread_local InternalSink* internal_sink = nullptr;
}  // namespace capture_detail
inline bool tracing() { return capture_detail::tracing; }
}  // namespace cr
