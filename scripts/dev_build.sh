#!/usr/bin/env bash
# Incremental developer build. Configures once into build/dev, then rebuilds only what changed
# (a one-file C++ change takes seconds) and puts the extension next to the Python sources, so
#   PYTHONPATH=python python -m pytest tests
# runs against the working tree without installing anything. No LTO here (release builds have it).
set -euo pipefail
cd "$(dirname "$0")/.."
# With ccache on PATH, compiles are cached under paths relative to the checkout, so a second
# checkout of the same sources (a git worktree) builds from the cache in seconds.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
if [ ! -f build/dev/build.ninja ]; then
  version=$(python -c "import tomllib;print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])")
  cmake -S . -B build/dev -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -Dpybind11_DIR="$(python -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
        -DSKBUILD_PROJECT_VERSION="$version" -DCHAINRULE_LTO=OFF -DCHAINRULE_UNITY=OFF "${launcher[@]}" "$@" >/dev/null
fi
ninja -C build/dev
# Replaced by rename, not overwritten: a running process that has the old module mapped keeps it.
for so in build/dev/_core*.so build/dev/_kernels_*.so; do cp "$so" "python/chainrule/.$(basename "$so").tmp" && mv -f "python/chainrule/.$(basename "$so").tmp" "python/chainrule/$(basename "$so")"; done
