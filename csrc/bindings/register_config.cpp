// Build facts for chainrule.show_config(), and the kernel level (Note [CPU dispatch]).
#include <Eigen/Core>

#include <chrono>
#include <utility>
#include <vector>

#include "bindings/common.h"
#include "core/grad_mode.h"
#include "core/parallel.h"
#include "kernels/kernels.h"

#ifndef CHAINRULE_VERSION
#define CHAINRULE_VERSION "0.0.0"
#endif
#ifndef CHAINRULE_ARCH_NAME
#define CHAINRULE_ARCH_NAME ""
#endif

namespace crpy {

// glibc's layout, read with GCC's __builtin_thread_pointer (musl allocates a dlopen'ed module's TLS
// apart for the threads already running, so there the probe would not mean the same).
#if defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) && defined(__GNUC__) && \
    !defined(__clang__) && __GNUC__ >= 11
#define CHAINRULE_TLS_PROBE 1
#else
#define CHAINRULE_TLS_PROBE 0
#endif

namespace {
// Where the dynamic loader put this module's thread-local block (see the TLS note in
// CMakeLists.txt): "static" when it sits in the thread's static TLS area, just below the thread
// pointer (a thread-local read is then a few instructions), "dynamic" when it was allocated apart
// (each read is a call into the loader), "unknown" on other platforms.
const char* tls_placement() {
#if CHAINRULE_TLS_PROBE
  const auto tp = reinterpret_cast<uintptr_t>(__builtin_thread_pointer());
  const auto var = reinterpret_cast<uintptr_t>(&cr::GradMode::enabled_);
  return var < tp && tp - var < (uintptr_t(1) << 16) ? "static" : "dynamic";
#else
  return "unknown";
#endif
}
}  // namespace

void register_config(py::module_& m) {
  // The kernel level is chosen (and its module loaded) at import, so that a missing module is an
  // ImportError here, not an error in the middle of the first op.
  cr::kern::table();
  m.def("_build_info", [] {
    py::dict d;
    d["version"] = CHAINRULE_VERSION;
    d["eigen"] = cr::str(EIGEN_WORLD_VERSION, ".", EIGEN_MAJOR_VERSION, ".", EIGEN_MINOR_VERSION);
    d["openmp"] = false;  // intra-op threads come from chainrule's own pool (core/parallel.h)
    d["arch"] = CHAINRULE_ARCH_NAME;
    // Note [CPU dispatch]: the kernel level chosen at import, and every level this build has.
    d["cpu_level"] = cr::kern::table().level;
    d["cpu_level_reason"] = cr::kern::level_reason();
    py::list levels;
    for (const auto& l : cr::kern::levels()) levels.append(py::make_tuple(l.name, l.supported));
    d["cpu_levels"] = levels;
    d["tls"] = tls_placement();
    py::list simd;
#if defined(__SSE2__) || defined(_M_X64)
    simd.append("SSE2");
#endif
#ifdef __SSE4_2__
    simd.append("SSE4.2");
#endif
#ifdef __AVX__
    simd.append("AVX");
#endif
#ifdef __AVX2__
    simd.append("AVX2");
#endif
#ifdef __FMA__
    simd.append("FMA");
#endif
#ifdef __AVX512F__
    simd.append("AVX-512F");
#endif
#ifdef __ARM_NEON
    simd.append("NEON");
#endif
    d["simd"] = simd;
    d["eigen_simd"] = Eigen::SimdInstructionSetsInUse();
#if defined(__clang__)
    d["compiler"] = cr::str("clang ", __clang_major__, ".", __clang_minor__);
#elif defined(__GNUC__)
    d["compiler"] = cr::str("gcc ", __GNUC__, ".", __GNUC_MINOR__);
#else
    d["compiler"] = "unknown";
#endif
    return d;
  });
  // Which thread ran each chunk of a parallel_for over n elements with the given grain, and in
  // which order: (team index, that thread's count of chunks before it) per element, each chunk
  // taking busy_us microseconds. For tests of the pool (Note [Home chunks] in core/parallel.cpp).
  m.def(
      "_chunk_owners",
      [](int64_t n, int64_t grain, double busy_us) {
        CR_CHECK(n >= 0 && n <= (int64_t(1) << 20) && grain >= 1, ValueError,
                 "_chunk_owners: expected 0 <= n <= 2**20 and grain >= 1");
        std::vector<std::pair<int, int64_t>> owner((size_t)n, {-1, -1});
        std::vector<int64_t> count((size_t)cr::intra_op_threads() + 1, 0);
        py::gil_scoped_release release;
        cr::parallel_for(0, n, grain, [&](int64_t b, int64_t e) {
          const int t = cr::parallel_thread_index();
          const auto until =
              std::chrono::steady_clock::now() + std::chrono::duration<double, std::micro>(busy_us);
          while (std::chrono::steady_clock::now() < until) {}
          for (int64_t i = b; i < e; ++i) owner[(size_t)i] = {t, count[(size_t)t]};
          ++count[(size_t)t];
        });
        return owner;
      },
      py::arg("n"), py::arg("grain") = 1, py::arg("busy_us") = 0.0);
}

}  // namespace crpy
