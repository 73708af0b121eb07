"""DistributedDataParallel benchmark: weak scaling 1 -> 2 processes, overlap of all-reduce with
backward, and the all-reduce latency/bandwidth that feed an alpha-beta model.

    python -m benchmarks.bench_ddp [--steps 60] [--warmup 10] [--json out.json]

Workload: an MLP 784-256-256-10 (float32), batch 64 per process, SGD; one thread per process.
The script launches itself with ``mpiexec -n 1`` and ``-n 2`` (the worker mode is --worker) and
reports, from the median step of each run:
  scaling efficiency  t_step(1 process) / t_step(2 processes): 1.0 means the global batch doubles
                      at no cost per step (weak scaling).
  hidden fraction     1 - t_exposed / t_allreduce: t_exposed is the time the last hook of backward
                      waits for the buckets still in flight, t_allreduce the time of the same
                      bucket all-reduces issued back to back with nothing to overlap: the share
                      of communication that ran during backward.
  skew                how far apart (median) the 2 ranks start their last bucket: the part of
                      t_exposed that is one rank waiting for the other, not communication.
  DDP overhead        t_backward(DDP) - t_backward(local) - t_exposed: the Python bookkeeping of
                      the hooks (copies into and out of the bucket buffers).
  alpha, beta         alpha: the median all-reduce time of 8 bytes; beta: the slope of time over
                      size between 1 MiB and 8 MiB (2 processes, shared memory).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def worker(steps: int, warmup: int) -> dict[str, Any]:
    import chainrule as cr
    import chainrule.distributed as dist
    import chainrule.nn as nn
    import chainrule.nn.functional as F
    from chainrule.nn.parallel import DistributedDataParallel

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    cr.set_num_threads(1)
    cr.manual_seed(0)
    rng = np.random.default_rng(rank)
    x = cr.tensor(rng.standard_normal((64, 784)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 10, 64))

    def make() -> nn.Module:
        return nn.Sequential(
            nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
        )

    exposed: list[float] = []
    skew: list[float] = []

    def timed(model: nn.Module, opt: Any, n: int) -> tuple[list[float], list[float]]:
        step_t, bwd_t = [], []
        for i in range(n + warmup):
            dist.barrier()
            t0 = time.perf_counter()
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            opt.step()
            t3 = time.perf_counter()
            if i >= warmup:
                step_t.append(t3 - t0)
                bwd_t.append(t2 - t1)
                if isinstance(model, DistributedDataParallel):
                    exposed.append(model._last_exposed_wait_s)
                    # when each rank started its last bucket (perf_counter is CLOCK_MONOTONIC,
                    # one clock for every process of this machine): the ranks' drift
                    launches = [cr.zeros(1, dtype=cr.float64) for _ in range(world)]
                    dist.all_gather(launches, cr.tensor([model._last_launch_time], dtype=cr.float64))
                    times = [t.item() for t in launches]
                    skew.append(max(times) - min(times))
        return step_t, bwd_t

    local = make()
    local_step, local_bwd = timed(local, cr.optim.SGD(local.parameters(), lr=0.01), steps)
    ddp = DistributedDataParallel(make())
    ddp_step, ddp_bwd = timed(ddp, cr.optim.SGD(ddp.parameters(), lr=0.01), steps)

    # the same buckets reduced back to back, after backward (no overlap)
    flats = [cr.from_numpy(b.flat) for b in ddp._buckets]
    ar_t = []
    for i in range(steps + warmup):
        dist.barrier()
        t0 = time.perf_counter()
        works = [dist.all_reduce(f, async_op=True) for f in flats]
        for w in works:
            assert w is not None
            w.wait()
        if i >= warmup:
            ar_t.append(time.perf_counter() - t0)

    sizes = [2**k for k in range(1, 22, 2)]  # float32 elements: 8 B .. 8 MiB
    latency = {}
    for n in sizes:
        buf = cr.zeros(n)
        reps = 30 if n < 2**16 else 8
        samples = []
        for _ in range(reps):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(buf)
            samples.append(time.perf_counter() - t0)
        latency[n * 4] = statistics.median(samples)
    result = {
        "world": world,
        "buckets": [int(b.flat.size) * 4 for b in ddp._buckets],
        "step_local_ms": _median_ms(local_step),
        "step_ddp_ms": _median_ms(ddp_step),
        "backward_local_ms": _median_ms(local_bwd),
        "backward_ddp_ms": _median_ms(ddp_bwd),
        "allreduce_buckets_ms": _median_ms(ar_t),
        "exposed_wait_ms": _median_ms(exposed),
        "last_bucket_skew_ms": _median_ms(skew),
        "allreduce_latency_s": latency,
    }
    dist.destroy_process_group()
    return result if rank == 0 else {}


def _launch(n: int, steps: int, warmup: int) -> dict[str, Any]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.path.join(ROOT, "python"))
    cmd = [sys.executable, "-m", "chainrule.distributed.run", "-n", str(n), os.path.abspath(__file__)]
    cmd += ["--worker", "--steps", str(steps), "--warmup", str(warmup)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stdout + out.stderr)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return dict(json.loads(line[len("RESULT ") :]))


def _fit(latency: dict[str, float]) -> tuple[float, float]:
    sizes = sorted(latency, key=float)
    alpha = latency[sizes[0]]
    big = [k for k in sizes if float(k) >= 2**20]
    n = np.array([float(k) for k in big])
    t = np.array([latency[k] for k in big])
    beta = float(np.polyfit(n, t, 1)[0]) if len(big) >= 2 else t[-1] / n[-1]
    return float(alpha), max(beta, 1e-15)


def ring_allreduce_s(nbytes: float, p: int, alpha: float, beta: float) -> float:
    """Ring all-reduce: 2(p-1) steps, each one latency plus nbytes/p bytes on the wire."""
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes * beta


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--json", default=None)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        res = worker(args.steps, args.warmup)
        if res:
            print("RESULT", json.dumps(res), flush=True)
        return res

    one = _launch(1, args.steps, args.warmup)
    two = _launch(2, args.steps, args.warmup)
    hidden = (
        1.0 - two["exposed_wait_ms"] / two["allreduce_buckets_ms"] if two["allreduce_buckets_ms"] > 0 else 0.0
    )
    overhead = two["backward_ddp_ms"] - two["backward_local_ms"] - two["exposed_wait_ms"]
    alpha, beta = _fit(two["allreduce_latency_s"])
    grad_bytes = float(sum(two["buckets"]))
    compute_s = one["step_local_ms"] / 1e3
    model = {}
    for p in (2, 8, 64):
        comm = sum(ring_allreduce_s(b, p, alpha, beta) for b in two["buckets"])
        exposed = max(0.0, comm - one["backward_local_ms"] / 1e3)  # at best hidden behind backward
        model[p] = {
            "allreduce_ms": comm * 1e3,
            "efficiency_no_overlap": compute_s / (compute_s + comm),
            "efficiency_full_overlap": compute_s / (compute_s + exposed),
        }
    summary = {
        "step_1proc_ms": one["step_ddp_ms"],
        "step_2proc_ms": two["step_ddp_ms"],
        "scaling_efficiency": one["step_ddp_ms"] / two["step_ddp_ms"],
        "backward_local_ms": two["backward_local_ms"],
        "backward_ddp_ms": two["backward_ddp_ms"],
        "allreduce_buckets_ms": two["allreduce_buckets_ms"],
        "hidden_fraction": max(0.0, min(1.0, hidden)),
        "exposed_wait_ms": two["exposed_wait_ms"],
        "ddp_overhead_ms": overhead,
        "buckets_bytes": two["buckets"],
        "grad_bytes": grad_bytes,
        "alpha_us": alpha * 1e6,
        "beta_GBps": (1.0 / beta / 1e9) if beta > 0 else float("inf"),
        "ring_model_measured_link": model,
        "one": one,
        "two": two,
    }
    print(f"MLP 784-256-256-10, batch 64/process, 1 thread/process, {args.steps} steps (medians)")
    print(f"  step, 1 process (DDP)      {summary['step_1proc_ms']:8.3f} ms")
    print(f"  step, 2 processes (DDP)    {summary['step_2proc_ms']:8.3f} ms")
    print(f"  scaling efficiency 1->2    {summary['scaling_efficiency']:8.3f}")
    print(f"  backward local / DDP       {two['backward_local_ms']:8.3f} / {two['backward_ddp_ms']:.3f} ms")
    print(
        f"  bucket all-reduces alone   {two['allreduce_buckets_ms']:8.3f} ms  ({len(two['buckets'])} buckets)"
    )
    print(f"  exposed wait at the end    {two['exposed_wait_ms']:8.3f} ms")
    print(f"  ranks' skew at last bucket {two['last_bucket_skew_ms']:8.3f} ms")
    print(f"  hidden fraction            {summary['hidden_fraction']:8.3f}")
    print(f"  DDP hook overhead          {overhead:8.3f} ms")
    print(f"  alpha {summary['alpha_us']:.2f} us, bandwidth {summary['beta_GBps']:.2f} GB/s (2 processes)")
    for p, m in model.items():
        print(
            f"  ring model p={p:3d}: all-reduce {m['allreduce_ms']:.3f} ms, efficiency "
            f"{m['efficiency_no_overlap']:.3f} (no overlap) .. {m['efficiency_full_overlap']:.3f} (overlap)"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    return summary


if __name__ == "__main__":
    main()
