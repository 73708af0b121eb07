#pragma once
// Whether a compiled step is being traced on this thread (see chainrule.compile). Fast paths that
// reach a kernel without going through the op registry check it and take the registry's path while
// tracing, so that every op of a traced step is recorded.
namespace cr {
namespace capture_detail {
inline thread_local bool tracing = false;
}
inline bool tracing() { return capture_detail::tracing; }
}  // namespace cr
