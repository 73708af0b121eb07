"""Thread scaling under CPU contention: 1 vs 2 intra-op threads, alone and beside a busy process.

Runs an MLP training step (784-256-256-10, batch 64, SGD) and a 1024x1024 matmul forward+backward
for chainrule and PyTorch, each configuration in a fresh subprocess, with and without a competing
process that spins a pure-Python loop (not pinned to any core). Prints medians (ms) and the
2-thread/1-thread ratio, plus the machine's load average, which other work may raise.

    PYTHONPATH=python python -m benchmarks.bench_contention [--repeats 40] [--engines chainrule,torch]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np


def _spin(stop: Any) -> None:
    x = 0
    while not stop.is_set():
        for i in range(10000):
            x += i * i


def _lib(engine: str, threads: int) -> Any:
    if engine == "torch":
        import torch

        torch.set_num_threads(threads)
        return torch
    import chainrule

    chainrule.set_num_threads(threads)
    return chainrule


def _time(fn: Any, repeats: int, warmup: int) -> float:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def worker(engine: str, threads: int, repeats: int) -> dict[str, float]:
    lib = _lib(engine, threads)
    rng = np.random.default_rng(0)

    def t(a: np.ndarray, grad: bool = False) -> Any:
        x = lib.tensor(a.astype(np.float32))
        if grad:
            x.requires_grad_(True)
        return x

    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = t(rng.standard_normal((64, 784)))
    y = lib.tensor(rng.integers(0, 10, 64))

    def mlp_step() -> None:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    a = t(rng.standard_normal((1024, 1024)), True)
    b = t(rng.standard_normal((1024, 1024)), True)

    def matmul_step() -> None:
        a.grad = None
        b.grad = None
        (a @ b).sum().backward()

    return {
        "mlp": _time(mlp_step, repeats, 5),
        "matmul": _time(matmul_step, max(5, repeats // 6), 2),
    }


def _run(engine: str, threads: int, repeats: int) -> dict[str, float]:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    mod = "benchmarks.bench_contention"
    cmd = [sys.executable, "-m", mod, "--worker", engine, str(threads), str(repeats)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=40)
    p.add_argument("--engines", default="chainrule,torch")
    p.add_argument("--worker", nargs=3, metavar=("ENGINE", "THREADS", "REPEATS"))
    args = p.parse_args(argv)
    if args.worker:
        e, th, rep = args.worker
        print(json.dumps(worker(e, int(th), int(rep))))
        return 0
    engines = [e for e in args.engines.split(",") if e]
    print(f"cpus={os.cpu_count()} load before={os.getloadavg()}")
    rows = []
    for busy in (False, True):
        stop = mp.Event()
        spinner = None
        if busy:
            spinner = mp.Process(target=_spin, args=(stop,), daemon=True)
            spinner.start()
            time.sleep(0.5)
        try:
            for engine in engines:
                r = {th: _run(engine, th, args.repeats) for th in (1, 2)}
                for wl in ("mlp", "matmul"):
                    rows.append((busy, engine, wl, r[1][wl], r[2][wl], r[2][wl] / r[1][wl]))
        finally:
            if spinner is not None:
                stop.set()
                spinner.join()
    print(f"load after={os.getloadavg()}")
    print(f"{'busy':<6}{'engine':<11}{'workload':<10}{'1 thr ms':>10}{'2 thr ms':>10}{'2/1':>7}")
    for busy, engine, wl, t1, t2, ratio in rows:
        print(f"{'yes' if busy else 'no':<6}{engine:<11}{wl:<10}{t1:>10.2f}{t2:>10.2f}{ratio:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
