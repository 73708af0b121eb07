"""Build and runtime configuration."""

from chainrule import _core

__version__ = _core._build_info()["version"]


def show_config() -> None:
    """Prints the version, Eigen version, OpenMP status, thread count and SIMD flags."""
    info = _core._build_info()
    lines = [
        f"chainrule {info['version']}",
        f"  Eigen: {info['eigen']}",
        f"  OpenMP: {'on' if info['openmp'] else 'off'}",
        f"  threads: {_core.get_num_threads()}",
        f"  -march: {info['arch'] or 'compiler default'}",
        f"  SIMD: {', '.join(info['simd']) or 'none (scalar)'}",
        f"  compiler: {info['compiler']}",
    ]
    print("\n".join(lines))
