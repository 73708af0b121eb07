"""What the numbers were measured on: CPU, cores, memory, OS, Python, library versions."""

from __future__ import annotations

import os
import platform
import subprocess
import sys


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def cpu_flags() -> list:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("flags"):
            flags = line.split(":", 1)[1].split()
            return [
                f
                for f in ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "amx_tile")
                if f in flags
            ]
    return []


def mem_total_gib() -> float:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024**2, 1)
    return float("nan")


def machine_info() -> dict:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        affinity = os.cpu_count()
    try:
        git = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            timeout=10,
        ).stdout.strip()
    except Exception:
        git = ""
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": affinity,
        "simd": cpu_flags(),
        "mem_total_gib": mem_total_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "git_commit": git,
    }
