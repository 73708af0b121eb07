"""Build and runtime configuration."""

from chainrule import _core

__version__ = _core._build_info()["version"]


def show_config() -> None:
    """Prints the version, Eigen version, thread count, instruction sets and the kernel level.

    The hot kernels are built for several instruction-set levels and the highest one the CPU
    supports is chosen at import; ``CHAINRULE_CPU_LEVEL`` (``baseline``/``v2``/``v3``/``v4`` on
    x86-64, or the full name) in the environment picks a lower one.
    """
    info = _core._build_info()
    lines = [
        f"chainrule {info['version']}",
        f"  Eigen: {info['eigen']}",
        f"  threads: {_core.get_num_threads()} (chainrule's own pool)",
        f"  kernels: {info['cpu_level']} ({info['cpu_level_reason']})",
        "  kernel levels built: "
        + ", ".join(f"{name}{'' if ok else ' (unsupported here)'}" for name, ok in info["cpu_levels"]),
        f"  engine -march: {info['arch'] or 'compiler default'}",
        f"  engine SIMD: {', '.join(info['simd']) or 'none (scalar)'}",
        f"  compiler: {info['compiler']}",
    ]
    print("\n".join(lines))
