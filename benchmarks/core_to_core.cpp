// Core-to-core round trip: two threads, pinned to two CPUs, pass a cache line back and forth.
//
//   g++ -O2 -pthread benchmarks/core_to_core.cpp -o /tmp/core_to_core && /tmp/core_to_core [CPU_A CPU_B [N]]
//
// Prints the mean round trip in ns over N exchanges (CPUs 0 and 1 and 200000 by default). On a
// virtual machine it says where the hypervisor placed the two vCPUs: close (cores sharing a cache)
// or far apart, where every cache line one core writes and the other reads costs several times
// more. The 2-thread regimes in RESULTS.md follow it. Linux only (thread affinity).
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace {

alignas(64) std::atomic<long> g_flag{0};

bool pin(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int a = argc > 2 ? std::atoi(argv[1]) : 0, b = argc > 2 ? std::atoi(argv[2]) : 1;
  const long n = argc > 3 ? std::atol(argv[3]) : 200000;
  if (n < 1) {
    std::fprintf(stderr, "the number of exchanges must be positive\n");
    return 1;
  }
  std::atomic<bool> pinned{true};
  std::thread other([&] {
    if (!pin(b)) pinned = false;
    for (long i = 0; i < n; ++i) {
      while (g_flag.load(std::memory_order_acquire) != 2 * i + 1) {}
      g_flag.store(2 * i + 2, std::memory_order_release);
    }
  });
  if (!pin(a)) pinned = false;
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    g_flag.store(2 * i + 1, std::memory_order_release);
    while (g_flag.load(std::memory_order_acquire) != 2 * i + 2) {}
  }
  const auto t1 = std::chrono::steady_clock::now();
  other.join();
  if (!pinned) {
    std::fprintf(stderr, "could not pin the threads to CPUs %d and %d\n", a, b);
    return 1;
  }
  std::printf("core-to-core round trip, CPUs %d and %d: %.1f ns\n", a, b,
              std::chrono::duration<double, std::nano>(t1 - t0).count() / (double)n);
  return 0;
}
