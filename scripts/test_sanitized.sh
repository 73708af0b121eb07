#!/usr/bin/env bash
# Builds the extension with AddressSanitizer and UndefinedBehaviorSanitizer (-O1, frame pointers,
# debug info, no LTO, not stripped) in build/asan and runs the test suite against it:
#   ./scripts/test_sanitized.sh                 # the whole suite
#   ./scripts/test_sanitized.sh tests/test_engine.py -x
# The Python interpreter is not built with ASan, so the runtime is preloaded, together with
# libstdc++ (without it the first C++ exception thrown through the sanitized module aborts).
# Every process's reports (pytest's and those of the worker processes tests start) are written to
# build/asan/logs; the run fails when any report remains.
#
# LEAKS=1 adds LeakSanitizer. Its check runs when the test session ends, while the interpreter is
# still whole (tests/conftest.py), not at exit: at exit CPython frees some containers but not every
# object they held, so what test modules still reference would show as lost. Python objects are
# allocated by malloc (PYTHONMALLOC=malloc), so LeakSanitizer follows what they reference, and
# scripts/lsan.supp suppresses what CPython and NumPy themselves never free (each entry says why).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/asan/build.ninja ]; then
  version=$(python -c "import tomllib;print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])")
  cmake -S . -B build/asan -G Ninja -DCHAINRULE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
        -Dpybind11_DIR="$(python -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
        -DSKBUILD_PROJECT_VERSION="$version" >/dev/null
fi
ninja -C build/asan
# A private copy of the package, so the sanitized module never replaces the developer build.
rm -rf build/asan/pkg && mkdir -p build/asan/pkg && cp -r python/chainrule build/asan/pkg/
rm -f build/asan/pkg/chainrule/_core*.so build/asan/pkg/chainrule/_kernels_*.so && cp build/asan/_core*.so build/asan/_kernels_*.so build/asan/pkg/chainrule/
asan=$(gcc -print-file-name=libasan.so)
stdcxx=$(gcc -print-file-name=libstdc++.so)
py=$(python -c 'import sys; print(sys.executable)')  # the interpreter itself, not a shell shim
logs="$PWD/build/asan/logs"
rm -rf "$logs" && mkdir -p "$logs"
if [ $# -eq 0 ]; then set -- tests; fi
status=0
# allocator_may_return_null: an impossible allocation (the hostile-input tests ask for terabytes)
# raises std::bad_alloc, a MemoryError in Python, as it does without the sanitizer, instead of
# ending the process. The reference tests load PyTorch, whose own code is not sanitized; they run too, but a report
# from inside PyTorch is PyTorch's.
if [ "${LEAKS:-0}" = 1 ]; then
  export PYTHONMALLOC=malloc
  export CHAINRULE_LSAN=1
  leaks="detect_leaks=1:leak_check_at_exit=0:fast_unwind_on_malloc=0:malloc_context_size=10"
else
  leaks="detect_leaks=0"
fi
LD_PRELOAD="$asan:$stdcxx" \
  ASAN_OPTIONS="$leaks:allocator_may_return_null=1:abort_on_error=1:symbolize=1:log_path=$logs/report" \
  LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/report" \
  PYTHONPATH="$PWD/build/asan/pkg" CHAINRULE_SANITIZED=1 \
  "$py" -m pytest -q -p no:cacheprovider "$@" || status=$?
# CHAINRULE_SANITIZED: tests that measure resident memory skip themselves.
reports=$(ls "$logs" 2>/dev/null | wc -l)
if [ "$reports" -ne 0 ]; then
  echo "sanitizer reports: $reports file(s) in $logs" >&2
  for f in "$logs"/*; do echo "== $f" >&2; head -c 6000 "$f" >&2; done
  status=1
else
  echo "sanitizer reports: none"
fi
exit $status
