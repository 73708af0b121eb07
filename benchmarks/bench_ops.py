"""Single ops from Python: chainrule against PyTorch (CPU), one thread, the same float32 inputs.

    python -m benchmarks.bench_ops                    # every op, both engines
    python -m benchmarks.bench_ops --engines chainrule --json out.json

The ops the small training steps spend their time in: small matrix products (the moons MLP's),
softmax, and cross_entropy / mse_loss forward + backward. Each engine runs in its own interpreter
(no two thread pools in one process), in alternating rounds; a worker times each op as the median
of many calls, each call timed alone with time.perf_counter, after a warm-up. Every worker also
reports a checksum of each op's result, which must agree between the engines: the same work is
measured. Prints the medians over rounds in µs and the ratio chainrule / torch.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

import numpy as np

# name -> (kind, shapes); every op gets its inputs from one seeded generator
OPS: dict[str, tuple[str, tuple[tuple[int, ...], ...]]] = {
    "matmul 100x2 @ 2x16": ("mm", ((100, 2), (2, 16))),
    "matmul 100x16 @ 16x16": ("mm", ((100, 16), (16, 16))),
    "matmul 100x16 @ 16x1": ("mm", ((100, 16), (16, 1))),
    "matmul 64x64 @ 64x64": ("mm", ((64, 64), (64, 64))),
    "softmax 64x10": ("softmax", ((64, 10),)),
    "softmax 64x1000": ("softmax", ((64, 1000),)),
    "cross_entropy fwd+bwd 64x10": ("ce", ((64, 10),)),
    "cross_entropy fwd+bwd 64x1000": ("ce", ((64, 1000),)),
    "mse_loss fwd+bwd 64x10": ("mse", ((64, 10),)),
}


def _inputs(shapes: tuple[tuple[int, ...], ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def worker(engine: str, calls: int) -> dict[str, tuple[float, float]]:
    """Times every op in this process; returns name -> (median µs, checksum)."""
    import time

    if engine == "torch":
        import torch as lib

        functional = lib.nn.functional
    else:
        import chainrule as lib
        import chainrule.nn.functional as functional
    lib.set_num_threads(1)
    out: dict[str, tuple[float, float]] = {}
    for name, (kind, shapes) in OPS.items():
        arrays = _inputs(shapes)
        if kind == "mm":
            a, b = (lib.tensor(x) for x in arrays)

            def fn(a=a, b=b):
                return a @ b

        elif kind == "softmax":
            x = lib.tensor(arrays[0])

            def fn(x=x):
                return lib.softmax(x, 1)

        else:
            x = lib.tensor(arrays[0], requires_grad=True)
            if kind == "ce":
                y = lib.tensor(np.arange(x.shape[0]) % x.shape[1])

                def fn(x=x, y=y):
                    x.grad = None
                    loss = functional.cross_entropy(x, y)
                    loss.backward()
                    return x.grad

            else:
                t = lib.tensor(np.flip(arrays[0], 0).copy())

                def fn(x=x, t=t):
                    x.grad = None
                    loss = functional.mse_loss(x, t)
                    loss.backward()
                    return x.grad

        n = calls if shapes[0][-1] <= 100 else max(100, calls // 20)
        for _ in range(min(n, 200)):
            fn()
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        checksum = float(np.asarray(fn().detach().numpy(), dtype=np.float64).sum())
        out[name] = (statistics.median(times) * 1e6, checksum)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", default="chainrule,torch")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=20000, help="calls per op and round (big ops: 1/20)")
    ap.add_argument("--json", help="also write the medians here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.calls)))
        return 0
    engines = [e for e in args.engines.split(",") if e]
    runs: dict[str, list[dict[str, list[float]]]] = {e: [] for e in engines}
    for _ in range(args.rounds):
        for e in engines:
            cmd = [sys.executable, "-m", "benchmarks.bench_ops", "--worker", e, "--calls", str(args.calls)]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                print(f"{e}: worker failed\n{res.stderr[-2000:]}", file=sys.stderr)
                return 1
            runs[e].append(json.loads(res.stdout.strip().splitlines()[-1]))
    med = {e: {name: statistics.median(r[name][0] for r in runs[e]) for name in OPS} for e in engines}
    if len(engines) == 2:
        a, b = engines
        for name in OPS:
            ca, cb = runs[a][0][name][1], runs[b][0][name][1]
            if not np.isclose(ca, cb, rtol=1e-4, atol=1e-4):
                print(f"{name}: results differ between {a} ({ca}) and {b} ({cb})", file=sys.stderr)
                return 1
    head = " | ".join(f"{e} (µs)" for e in engines)
    print(f"| op | {head} |" + (f" {engines[0]} / {engines[1]} |" if len(engines) == 2 else ""))
    print("|---" * (len(engines) + 1 + (len(engines) == 2)) + "|")
    for name in OPS:
        cells = " | ".join(f"{med[e][name]:.3g}" for e in engines)
        ratio = f" {med[engines[0]][name] / med[engines[1]][name]:.2f}x |" if len(engines) == 2 else ""
        print(f"| {name} | {cells} |{ratio}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(med, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
