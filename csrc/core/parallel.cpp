#include "core/parallel.h"

#include <atomic>
#include <cstdlib>
#include <thread>

namespace cr {
namespace {
int default_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    int v = std::atoi(env);
    if (v > 0) return v;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? (int)hc : 1;
}
std::atomic<int> g_threads{default_threads()};
thread_local int t_intra_limit = 0;  // 0: no limit
}  // namespace

int get_num_threads() { return g_threads.load(std::memory_order_relaxed); }
void set_num_threads(int n) { g_threads.store(n < 1 ? 1 : n, std::memory_order_relaxed); }
int intra_op_threads() {
  int n = get_num_threads();
  return t_intra_limit > 0 ? std::min(n, t_intra_limit) : n;
}
IntraOpLimit::IntraOpLimit(int n) : prev_(t_intra_limit) { t_intra_limit = n; }
IntraOpLimit::~IntraOpLimit() { t_intra_limit = prev_; }

}  // namespace cr
