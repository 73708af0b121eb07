#!/usr/bin/env bash
# Builds the extension with AddressSanitizer and UndefinedBehaviorSanitizer (-O1, frame pointers,
# debug info, no LTO, not stripped) in build/asan and runs the test suite against it:
#   ./scripts/test_sanitized.sh                 # the whole suite
#   ./scripts/test_sanitized.sh tests/test_engine.py -x
# The Python interpreter is not built with ASan, so the runtime is preloaded, together with
# libstdc++ (without it the first C++ exception thrown through the sanitized module aborts).
# Leak detection is off: CPython itself keeps memory until exit.
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
export LD_PRELOAD="$asan:$stdcxx"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export PYTHONPATH="$PWD/build/asan/pkg"
export CHAINRULE_SANITIZED=1  # tests that measure resident memory skip themselves
# The reference tests load PyTorch, whose own code is not sanitized; they run too, but a report
# from inside PyTorch is PyTorch's.
if [ $# -eq 0 ]; then set -- tests; fi
python -m pytest -q -p no:cacheprovider "$@"
