"""chainrule at each kernel level this CPU supports (Note [CPU dispatch] in csrc/kernels/kernels.h).

    python -m benchmarks.bench_levels [--workloads chain,mlp,matmul] [--threads 1] [--rounds 2]

Runs ``python -m benchmarks`` for chainrule alone once per level (CHAINRULE_CPU_LEVEL set in the
worker's environment), the levels interleaved over several rounds so that the machine's noise is
spread over all of them, and prints each workload's median per level and its ratio to the default
(highest) level.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scripts"))


def supported_levels() -> list[str]:
    from benchmarks.run import worker_env  # the chainrule the benchmark workers import

    code = "import chainrule as c; print(*[n for n, ok in c._core._build_info()['cpu_levels'] if ok])"
    env = worker_env(1)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return p.stdout.split()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_levels", description=__doc__)
    ap.add_argument("--workloads", default="chain,mlp,matmul")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    from compare_bench import pooled  # scripts/compare_bench.py

    levels = supported_levels()
    runs: dict[str, list[str]] = {lv: [] for lv in levels}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for lv in levels:
                out = os.path.join(tmp, f"{lv}-{r}")
                cmd = [
                    sys.executable,
                    "-m",
                    "benchmarks",
                    "--workloads",
                    args.workloads,
                    "--engines",
                    "chainrule",
                ]
                cmd += ["--threads", str(args.threads), "--out", out]
                env = dict(os.environ, CHAINRULE_CPU_LEVEL=lv)
                subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=os.path.dirname(HERE))
                runs[lv].append(out)
        res = {lv: pooled(dirs) for lv, dirs in runs.items()}
    top = levels[-1]
    names = list(res[top])
    print(f"chainrule per kernel level, {args.threads} thread(s), {args.rounds} interleaved rounds")
    print("| level | " + " | ".join(f"{n} ({res[top][n][1]})" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for lv in levels:
        cells = [f"{res[lv][n][0]:.4g} ({res[lv][n][0] / res[top][n][0]:.2f}x)" for n in names]
        print(f"| {lv} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
