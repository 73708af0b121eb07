"""Two builds of chainrule, one step of a workload, alternated process by process.

    python -m benchmarks.ab_builds BEFORE_DIR AFTER_DIR [--workloads moons,chain] [--modes eager,compiled]
                                   [--threads 1] [--rounds 8]

BEFORE_DIR and AFTER_DIR are the folders that hold each build's ``chainrule`` package (a checkout's
``python/`` after ``scripts/dev_build.sh``; a git worktree of the older commit builds from ccache in
seconds). Each round starts one fresh process per build, in turn; a process sets the workload up as
``python -m benchmarks`` does (same data, same step), warms it up and reports the best of 9 samples
of about 0.1 s each. Printed per workload and mode: the best round of each build and their ratio,
then the median round of each.

Why the best round: on a shared machine the speed switches between regimes for seconds at a time
(up to 1.8x apart on the 2-core machine of benchmarks/RESULTS.md), so a median over a few rounds
mostly says which build drew more slow rounds; the fastest round of each compares the builds in the
same, quiet regime. Rounds alternate so that a regime lasting several rounds hits both builds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs in the child: the workload's step, timed. argv: workload mode threads
CHILD = r"""
import sys, time
from benchmarks import engines, workloads as W
wl, mode, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
eng = engines.ChainruleCompiled() if mode == "compiled" else engines.Chainrule()
eng.set_threads(threads)
bench = eng.setup(wl, W.make_data(wl))
bench.check()
step = bench.step
t0, n = time.perf_counter(), 0
while time.perf_counter() - t0 < 0.3:
    step()
    n += 1
reps = max(1, n // 3)
best = float("inf")
for _ in range(9):
    t0 = time.perf_counter()
    for _ in range(reps):
        step()
    best = min(best, (time.perf_counter() - t0) / reps)
print(best * W.WORKLOADS[wl].scale / W.WORKLOADS[wl].per_step_count)
"""


def run_once(package_dir: str, workload: str, mode: str, threads: int) -> float:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_dir, ROOT]))
    env["OMP_NUM_THREADS"] = str(threads)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, workload, mode, str(threads)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{package_dir}: {workload} {mode} failed:\n{out.stderr}")
    return float(out.stdout.split()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ab_builds", description=__doc__)
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--workloads", default="moons,chain")
    ap.add_argument("--modes", default="eager,compiled")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=8)
    args = ap.parse_args(argv)
    from benchmarks import workloads as W

    for wl in args.workloads.split(","):
        if wl not in W.WORKLOADS:
            raise SystemExit(f"unknown workload {wl!r}; one of {', '.join(W.WORKLOADS)}")
        unit = W.WORKLOADS[wl].unit
        for mode in args.modes.split(","):
            before, after = [], []
            for _ in range(args.rounds):
                before.append(run_once(args.before, wl, mode, args.threads))
                after.append(run_once(args.after, wl, mode, args.threads))
            b, a = min(before), min(after)
            mb, ma = statistics.median(before), statistics.median(after)
            print(
                f"{wl} {mode} ({args.threads} thread(s), {args.rounds} rounds): "
                f"best {b:.4g} -> {a:.4g} {unit}, after/before {a / b:.3f}; "
                f"median round {mb:.4g} -> {ma:.4g}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
