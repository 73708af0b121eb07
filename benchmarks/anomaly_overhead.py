"""What anomaly detection costs: the per-op "chain" workload with the mode off and on.

    python -m benchmarks.anomaly_overhead [--rounds 5] [--repeats 10] [--baseline PATH]

The chain workload of the main benchmark (3000 alternating y*1.0001 and y+0.001 on a 16-element
tensor, then y.sum().backward(); reported per op) runs here

  off              anomaly mode off: the normal path (one relaxed load per node creation and run)
  on, no NaN check detect_anomaly(check_nan=False): a Python stack captured per recorded op
  on               detect_anomaly(): the stack, plus a NaN/Inf check of every node's gradients

each in its own process, the modes alternating round by round, so that the machine's drift hits
each alike. With --baseline
PATH (a python/ directory holding another chainrule build, e.g. one without anomaly detection),
the "off" workload also runs there, in a subprocess, for the before/after comparison of the
normal path. Best and median times; ratios against "off" are the figures (absolute times on a
shared machine are noise; the best time is the least disturbed by other processes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHAIN_OPS = 3000
CHAIN_SIZE = 16

# One subprocess per (mode, build, round): a mode never runs after another in the same process,
# and rounds alternate the modes, so that drift on a shared machine hits each alike.
_CODE = """
import json, sys, time, warnings
import numpy as np
import chainrule as cr
cr.set_num_threads(1)
mode, repeats = sys.argv[1], int(sys.argv[2])
x = cr.tensor(np.random.default_rng(0).standard_normal({size}).astype(np.float32), requires_grad=True)
def step():
    x.grad = None
    y = x
    for _ in range({half}):
        y = y * 1.0001
        y = y + 0.001
    y.sum().backward()
warnings.simplefilter("ignore")
if mode != "off":
    cr.autograd.set_detect_anomaly(True, check_nan=(mode == "on"))
for _ in range(3):
    step()
out = []
for _ in range(repeats):
    t = time.perf_counter()
    step()
    out.append(time.perf_counter() - t)
print(json.dumps(out))
"""


def _chainrule_path() -> str:
    """The folder holding the chainrule to measure: the source tree's python/ when the extension
    is built there (the developer loop), otherwise the installed package's."""
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python")
    built = os.path.isdir(os.path.join(src, "chainrule")) and any(
        f.startswith("_core") and f.endswith((".so", ".pyd"))
        for f in os.listdir(os.path.join(src, "chainrule"))
    )
    if built:
        return src
    import importlib.util

    spec = importlib.util.find_spec("chainrule")
    if spec is None or spec.origin is None:
        raise SystemExit("chainrule is not installed and not built in python/")
    return os.path.dirname(os.path.dirname(spec.origin))


def _times(pythonpath: str, mode: str, repeats: int) -> list[float]:
    code = _CODE.format(size=CHAIN_SIZE, half=CHAIN_OPS // 2)
    env = dict(os.environ, PYTHONPATH=pythonpath, OMP_NUM_THREADS="1")
    res = subprocess.run(
        [sys.executable, "-c", code, mode, str(repeats)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="anomaly detection overhead on the chain workload")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per round")
    parser.add_argument("--baseline", default=None, help="python/ directory of another chainrule build")
    args = parser.parse_args(argv)

    here = _chainrule_path()
    runs = {"off": (here, "off"), "on, no NaN check": (here, "trace"), "on": (here, "on")}
    if args.baseline:
        runs["off, baseline build"] = (args.baseline, "off")
    samples: dict[str, list[float]] = {m: [] for m in runs}
    for _ in range(args.rounds):
        for m, (path, mode) in runs.items():
            samples[m] += _times(path, mode, args.repeats)

    best_off = min(samples["off"])
    med_off = statistics.median(samples["off"])
    n = args.rounds * args.repeats
    print(f"chain workload: {CHAIN_OPS} ops on {CHAIN_SIZE} elements, forward + backward; {n} steps per mode")
    print(f"{'mode':<22}{'best µs/op':>12}{'median µs/op':>14}{'best vs off':>13}{'median vs off':>15}")
    for m, s in samples.items():
        best, med = min(s), statistics.median(s)
        print(
            f"{m:<22}{1e6 * best / CHAIN_OPS:>12.3f}{1e6 * med / CHAIN_OPS:>14.3f}"
            f"{best / best_off:>12.2f}x{med / med_off:>14.2f}x"
        )


if __name__ == "__main__":
    main()
