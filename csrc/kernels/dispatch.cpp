// Picks the kernel level and loads its module (Note [CPU dispatch] in kernels.h).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <stdexcept>

#include "kernels/kernels.h"

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#if defined(CHAINRULE_KERNELS_X86) && (defined(_MSC_VER) && !defined(__clang__))
#include <intrin.h>
#elif defined(CHAINRULE_KERNELS_X86)
#include <cpuid.h>
#endif

namespace cr::kern {

namespace {

struct Level {
  const char* name;
  const char* short_name;
  const char* module;  // file name stem: _kernels_<module>
  bool supported;
};

// The folder this module (_core) was loaded from: the level modules lie beside it.
std::string own_folder() {
#if defined(_WIN32)
  HMODULE self = nullptr;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                     reinterpret_cast<LPCWSTR>(&own_folder), &self);
  char path[4096];
  DWORD n = GetModuleFileNameA(self, path, sizeof(path));
  std::string p(path, n);
  size_t cut = p.find_last_of("\\/");
#else
  Dl_info info{};
  dladdr(reinterpret_cast<void*>(&own_folder), &info);
  std::string p = info.dli_fname ? info.dli_fname : "";
  size_t cut = p.find_last_of('/');
#endif
  return cut == std::string::npos ? std::string(".") : p.substr(0, cut);
}

// Loads _kernels_<module> and returns its table, or nullptr with `error` set.
const Table* load_level(const Level& l, std::string& error) {
  using Fn = const Table* (*)();
#if defined(_WIN32)
  std::string path = own_folder() + "\\_kernels_" + l.module + ".dll";
  HMODULE h = LoadLibraryExA(path.c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH);
  if (!h) {
    error = "cannot load " + path;
    return nullptr;
  }
  Fn fn = reinterpret_cast<Fn>(reinterpret_cast<void*>(GetProcAddress(h, "chainrule_kernel_table")));
#else
  std::string path = own_folder() + "/_kernels_" + l.module + ".so";
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    error = e ? e : ("cannot load " + path);
    return nullptr;
  }
  Fn fn = reinterpret_cast<Fn>(dlsym(h, "chainrule_kernel_table"));
#endif
  if (!fn) {
    error = path + " has no kernel table";
    return nullptr;
  }
  return fn();
}

#ifdef CHAINRULE_KERNELS_X86
struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};
Regs cpuid(unsigned leaf, unsigned sub) {
  Regs r;
#if defined(_MSC_VER) && !defined(__clang__)
  int v[4];
  __cpuidex(v, (int)leaf, (int)sub);
  r.a = (unsigned)v[0], r.b = (unsigned)v[1], r.c = (unsigned)v[2], r.d = (unsigned)v[3];
#else
  __cpuid_count(leaf, sub, r.a, r.b, r.c, r.d);
#endif
  return r;
}
unsigned long long xgetbv0() {
#if defined(_MSC_VER) && !defined(__clang__)
  return _xgetbv(0);
#else
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
#endif
}
bool bit(unsigned v, int i) { return (v >> i) & 1u; }

// The x86-64 micro-architecture levels (as GCC's and Clang's -march=x86-64-vN define them), with
// the OS check that the wider registers are saved on a context switch (XCR0).
int x86_level() {
  Regs l0 = cpuid(0, 0);
  Regs l1 = l0.a >= 1 ? cpuid(1, 0) : Regs{};
  Regs l7 = l0.a >= 7 ? cpuid(7, 0) : Regs{};
  Regs e0 = cpuid(0x80000000u, 0);
  Regs e1 = e0.a >= 0x80000001u ? cpuid(0x80000001u, 0) : Regs{};
  bool v2 = bit(l1.c, 0) && bit(l1.c, 9) && bit(l1.c, 13) && bit(l1.c, 19) && bit(l1.c, 20) &&
            bit(l1.c, 23) && bit(e1.c, 0);
  if (!v2) return 1;
  bool osxsave = bit(l1.c, 27);
  unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
  bool os_avx = (xcr0 & 0x6) == 0x6;
  bool v3 = os_avx && bit(l1.c, 28) && bit(l1.c, 12) && bit(l1.c, 29) && bit(l1.c, 22) && bit(l7.b, 3) &&
            bit(l7.b, 5) && bit(l7.b, 8) && bit(e1.c, 5);
  if (!v3) return 2;
  bool os_avx512 = (xcr0 & 0xE6) == 0xE6;
  bool v4 = os_avx512 && bit(l7.b, 16) && bit(l7.b, 17) && bit(l7.b, 28) && bit(l7.b, 30) && bit(l7.b, 31);
  return v4 ? 4 : 3;
}
#endif

std::vector<Level> all_levels() {
#ifdef CHAINRULE_KERNELS_X86
  int have = x86_level();
  return {{"x86-64", "baseline", "x86_64", true},
          {"x86-64-v2", "v2", "x86_64_v2", have >= 2},
          {"x86-64-v3", "v3", "x86_64_v3", have >= 3},
          {"x86-64-v4", "v4", "x86_64_v4", have >= 4}};
#else
  return {{"generic", "baseline", "generic", true}};
#endif
}

struct Choice {
  const Table* table;
  std::string reason;
};

Choice choose() {
  std::vector<Level> ls = all_levels();
  size_t best = 0;
  for (size_t i = 0; i < ls.size(); ++i)
    if (ls[i].supported) best = i;
  std::string reason = "the highest level this CPU supports";
  const char* env = std::getenv("CHAINRULE_CPU_LEVEL");
  if (env && *env) {
    size_t want = ls.size();
    for (size_t i = 0; i < ls.size(); ++i)
      if (std::strcmp(env, ls[i].name) == 0 || std::strcmp(env, ls[i].short_name) == 0) want = i;
    if (want == ls.size()) {
      std::string names;
      for (auto& l : ls) names += std::string(names.empty() ? "" : ", ") + l.name;
      std::fprintf(stderr, "chainrule: CHAINRULE_CPU_LEVEL=%s is not a level of this build (%s); using %s\n",
                   env, names.c_str(), ls[best].name);
      reason = std::string("CHAINRULE_CPU_LEVEL=") + env + " is unknown; the highest supported level";
    } else if (want > best) {
      std::fprintf(stderr, "chainrule: CHAINRULE_CPU_LEVEL=%s needs instructions this CPU lacks; using %s\n",
                   env, ls[best].name);
      reason = std::string("CHAINRULE_CPU_LEVEL=") + env + " is above what this CPU supports";
    } else {
      best = want;
      reason = std::string("CHAINRULE_CPU_LEVEL=") + env;
    }
  }
  // A level whose module is missing or does not load falls back to the next lower one.
  std::string errors;
  for (size_t i = best + 1; i-- > 0;) {
    std::string error;
    if (const Table* t = load_level(ls[i], error)) {
      if (!errors.empty()) reason += "; " + errors;
      return {t, reason};
    }
    errors += std::string(errors.empty() ? "" : "; ") + ls[i].name + ": " + error;
  }
  throw std::runtime_error("chainrule: no kernel module could be loaded (" + errors + ")");
}

const Choice& chosen() {
  static const Choice c = choose();
  return c;
}

}  // namespace

const Table& table() {
  static const Table* t = chosen().table;
  return *t;
}

std::vector<LevelInfo> levels() {
  std::vector<LevelInfo> out;
  for (const Level& l : all_levels()) out.push_back({l.name, l.supported});
  return out;
}

std::string level_reason() { return chosen().reason; }

}  // namespace cr::kern
