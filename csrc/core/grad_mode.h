#pragma once
// GradMode: the thread-local switch behind no_grad()/enable_grad(). Engine workers set it to the
// task's create_graph flag while they run backward formulas.
namespace cr {

struct GradMode {
  static bool is_enabled() { return enabled_; }
  static void set_enabled(bool on) { enabled_ = on; }
  inline static thread_local bool enabled_ = true;
};

/// RAII guard: sets grad mode for a scope and restores the previous value.
class AutoGradMode {
 public:
  explicit AutoGradMode(bool on) : prev_(GradMode::is_enabled()) { GradMode::set_enabled(on); }
  ~AutoGradMode() { GradMode::set_enabled(prev_); }

 private:
  bool prev_;
};
struct NoGradGuard : AutoGradMode {
  NoGradGuard() : AutoGradMode(false) {}
};

}  // namespace cr
