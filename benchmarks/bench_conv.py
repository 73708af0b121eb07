"""Convolution benchmark: chainrule against PyTorch (CPU) on the same inputs and weights.

    python -m benchmarks.bench_conv [--threads 2] [--repeats 7] [--rounds 2] [--quick]

Workloads (float32, forward + backward, the input requiring grad too):
  conv2d  Conv2d(64, 64, 3, padding=1) on a (32, 64, 32, 32) batch; backward of y with a fixed
          output gradient.
  block   a ResNet BasicBlock with 64 channels on (32, 64, 32, 32): conv3x3-BN-ReLU-conv3x3-BN,
          plus the input, ReLU (BatchNorm in training mode); backward of sum(out * g).
Each engine runs in its own process (one OpenMP runtime per process) with the same thread count;
the processes alternate for --rounds rounds, each taking --repeats timed samples after a warm-up.
Reported: the median over all samples of each engine and the ratio chainrule / torch (below 1:
chainrule is faster). The first step's outputs and gradients are compared between the engines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

SHAPE = (32, 64, 32, 32)
QUICK_SHAPE = (4, 16, 8, 8)


def make_data(shape: tuple[int, ...], seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs and weights, float32, drawn once with NumPy so that both engines get the same."""
    rng = np.random.default_rng(seed)
    n, c, h, w = shape
    bound = 1 / np.sqrt(c * 9)
    return {
        "x": rng.standard_normal(shape).astype(np.float32),
        "g": rng.standard_normal(shape).astype(np.float32),
        "w": rng.uniform(-bound, bound, (c, c, 3, 3)).astype(np.float32),
        "b": rng.uniform(-bound, bound, c).astype(np.float32),
        "w1": rng.uniform(-bound, bound, (c, c, 3, 3)).astype(np.float32),
        "w2": rng.uniform(-bound, bound, (c, c, 3, 3)).astype(np.float32),
    }


# ---- one engine, in its own process ----------------------------------------------------------------
def _steps(engine: str, data: dict[str, np.ndarray], threads: int) -> dict[str, Any]:
    """{workload: (step function, function returning the first-step results)}."""
    if engine == "torch":
        import torch as lib

        lib.set_num_threads(threads)
        nn, F = lib.nn, lib.nn.functional

        def tensor(a: np.ndarray, grad: bool = False) -> Any:
            return lib.tensor(a, requires_grad=grad)
    else:
        import chainrule as lib

        lib.set_num_threads(threads)
        from chainrule import nn
        from chainrule.nn import functional as F

        def tensor(a: np.ndarray, grad: bool = False) -> Any:
            return lib.tensor(a, requires_grad=grad)

    c = data["x"].shape[1]
    x, g = tensor(data["x"], True), tensor(data["g"])
    conv = nn.Conv2d(c, c, 3, padding=1)
    conv.load_state_dict({"weight": tensor(data["w"]), "bias": tensor(data["b"])})

    def conv_step() -> Any:
        x.grad = None
        conv.zero_grad()
        y = conv(x)
        y.backward(g)
        return y

    conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
    conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
    conv1.load_state_dict({"weight": tensor(data["w1"])})
    conv2.load_state_dict({"weight": tensor(data["w2"])})
    bn1, bn2 = nn.BatchNorm2d(c), nn.BatchNorm2d(c)
    params = (
        list(conv1.parameters()) + list(conv2.parameters()) + list(bn1.parameters()) + list(bn2.parameters())
    )

    def block_step() -> Any:
        x.grad = None
        for p in params:
            p.grad = None
        out = F.relu(bn1(conv1(x)))
        out = F.relu(bn2(conv2(out)) + x)
        (out * g).sum().backward()
        return out

    def results(step: Any, mods: list[Any]) -> dict[str, float]:
        y = step()
        r = {"out_sum": float(y.detach().double().sum()), "x_grad_norm": float(x.grad.double().norm())}
        for i, m in enumerate(mods):
            r[f"w{i}_grad_norm"] = float(m.weight.grad.double().norm())
        return r

    return {
        "conv2d": (conv_step, lambda: results(conv_step, [conv])),
        "block": (block_step, lambda: results(block_step, [conv1, conv2])),
    }


def run_engine(engine: str, data_file: str, threads: int, repeats: int, warmup: int) -> dict[str, Any]:
    data = dict(np.load(data_file))
    out: dict[str, Any] = {}
    for name, (step, first) in _steps(engine, data, threads).items():
        checks = first()
        for _ in range(warmup):
            step()
        samples, cpu = [], []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            step()
            samples.append((time.perf_counter() - t) * 1e3)
            cpu.append((time.process_time() - c) * 1e3)
        out[name] = {"samples_ms": samples, "cpu_ms": cpu, "checks": checks}
    return out


# ---- the driver -----------------------------------------------------------------------------------------
def _worker(engine: str, data_file: str, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[k] = str(args.threads)
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bench_conv",
        "--engine",
        engine,
        "--data",
        data_file,
        "--threads",
        str(args.threads),
        "--repeats",
        str(args.repeats),
        "--warmup",
        str(args.warmup),
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"{engine} worker failed:\n{p.stderr}")
    result: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="tiny shapes, for a smoke test")
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.engine:  # a worker
        print(json.dumps(run_engine(args.engine, args.data, args.threads, args.repeats, args.warmup)))
        return 0

    shape = QUICK_SHAPE if args.quick else SHAPE
    engines = ["chainrule", "torch"]
    samples: dict[str, dict[str, list[float]]] = {e: {} for e in engines}
    cpu: dict[str, dict[str, list[float]]] = {e: {} for e in engines}
    checks: dict[str, dict[str, dict[str, float]]] = {e: {} for e in engines}
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        data_file = os.path.join(tmp, "data.npz")
        np.savez(data_file, **make_data(shape))
        for r in range(args.rounds):
            for e in engines if r % 2 == 0 else engines[::-1]:
                res = _worker(e, data_file, args)
                for name, v in res.items():
                    samples[e].setdefault(name, []).extend(v["samples_ms"])
                    cpu[e].setdefault(name, []).extend(v["cpu_ms"])
                    checks[e][name] = v["checks"]

    print(
        f"conv benchmark: input {shape}, float32, {args.threads} threads for both engines, "
        f"{args.rounds} rounds x {args.repeats} samples; load average at start {load[0]:.2f}"
    )
    print("wall: median wall-clock ms per step; cpu: median process CPU ms per step (all threads)")
    print(
        f"{'workload':<10} {'chainrule wall':>15} {'torch wall':>11} {'ratio':>7}   "
        f"{'chainrule cpu':>14} {'torch cpu':>10} {'ratio':>7}  checks"
    )
    for name in samples["chainrule"]:
        mc, mt = statistics.median(samples["chainrule"][name]), statistics.median(samples["torch"][name])
        cc, ct = statistics.median(cpu["chainrule"][name]), statistics.median(cpu["torch"][name])
        ref = checks["torch"][name]
        ok = all(abs(checks["chainrule"][name][k] - ref[k]) <= 1e-3 * max(1.0, abs(ref[k])) for k in ref)
        print(
            f"{name:<10} {mc:>15.2f} {mt:>11.2f} {mc / mt:>6.3f}x   "
            f"{cc:>14.2f} {ct:>10.2f} {cc / ct:>6.3f}x  {'agree' if ok else 'DIFFER'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
