"""Tiny GPT training step and fused attention memory: chainrule against PyTorch (CPU) in one run.

    python -m benchmarks.bench_gpt                 # both parts, 2 threads
    python -m benchmarks.bench_gpt --threads 1 --repeats 3 --steps 10

1. Training step of a GPT (4 layers, d_model 128, 4 heads, context 128, batch 16, character
   vocabulary of 65): forward, cross-entropy, zero_grad, backward, AdamW step. Both engines get the
   same initial weights (drawn once with NumPy) and the same batches; the first step's loss is
   compared. Each engine runs in its own process (no two OpenMP runtimes in one process), the runs
   alternate (chainrule, torch, torch, chainrule, ...) so drift of the machine hits both alike, and
   the figures are the median ms/step over every timed step and, for the ratio, the median over
   the back-to-back pairs of runs of their ratio (robust to load that changes between pairs).
2. scaled_dot_product_attention forward + backward (batch 1, 8 heads, head dim 64, float32, causal)
   at context 1024 and 2048, each in a fresh process: the peak resident memory above what the
   process held once its inputs existed (ru_maxrss). A kernel that stores the (L, S) score matrix
   needs 8 heads * L^2 * 4 bytes per copy (32 MiB at 1024, 128 MiB at 2048); the fused one does not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

VOCAB, CONTEXT, D_MODEL, HEADS, LAYERS, BATCH = 65, 128, 128, 4, 4, 16


def build_gpt(lib: Any) -> Any:
    """The same GPT for chainrule and torch (they share the names used here)."""
    nn, F = lib.nn, lib.nn.functional

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
            self.proj = nn.Linear(D_MODEL, D_MODEL)

        def forward(self, x: Any) -> Any:
            b, t, c = x.shape
            q, k, v = self.qkv(x).view(b, t, 3, HEADS, c // HEADS).permute(2, 0, 3, 1, 4).unbind(0)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).reshape(b, t, c))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1 = nn.LayerNorm(D_MODEL)
            self.attn = Attention()
            self.ln2 = nn.LayerNorm(D_MODEL)
            self.fc = nn.Linear(D_MODEL, 4 * D_MODEL)
            self.act = nn.GELU()
            self.out = nn.Linear(4 * D_MODEL, D_MODEL)

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln1(x))
            return x + self.out(self.act(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(VOCAB, D_MODEL)
            self.pos = nn.Embedding(CONTEXT, D_MODEL)
            self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
            self.ln_f = nn.LayerNorm(D_MODEL)
            self.head = nn.Linear(D_MODEL, VOCAB, bias=False)
            self.head.weight = self.tok.weight

        def forward(self, idx: Any) -> Any:
            x = self.tok(idx) + self.pos(lib.arange(idx.shape[1]))
            for blk in self.blocks:
                x = blk(x)
            return self.head(self.ln_f(x))

    return GPT()


def _engine(name: str, threads: int) -> Any:
    if name == "torch":
        import torch

        torch.set_num_threads(threads)
        return torch
    import chainrule

    chainrule.set_num_threads(threads)
    return chainrule


def _tensor(lib: Any, a: np.ndarray) -> Any:
    return lib.tensor(a)


def worker_train(engine: str, threads: int, data: str, steps: int, warmup: int) -> dict:
    lib = _engine(engine, threads)
    z = np.load(data)
    model = build_gpt(lib)
    model.load_state_dict({k[2:]: _tensor(lib, z[k]) for k in z.files if k.startswith("p.")})
    opt = lib.optim.AdamW(model.parameters(), lr=1e-3)
    xs, ys = z["x"], z["y"]
    F = lib.nn.functional
    times, losses = [], []
    for i in range(warmup + steps):
        x = _tensor(lib, xs[i % len(xs)])
        y = _tensor(lib, ys[i % len(ys)])
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        losses.append(float(loss.item()))
        if i >= warmup:
            times.append((t1 - t0) * 1e3)
    return {"times_ms": times, "first_loss": losses[0], "last_loss": losses[-1]}


def worker_ops(engine: str, threads: int, repeats: int = 15) -> dict:
    """Forward + backward of the GPT's pieces at its shapes (batch 16, context 128), median ms."""
    lib = _engine(engine, threads)
    F = lib.nn.functional
    rng = np.random.default_rng(0)

    def t(*shape: int) -> Any:
        return lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    x, h, q = (
        t(BATCH, CONTEXT, D_MODEL),
        t(BATCH, CONTEXT, 4 * D_MODEL),
        t(BATCH, HEADS, CONTEXT, D_MODEL // HEADS),
    )
    w, b, lw, lb = t(4 * D_MODEL, D_MODEL), t(4 * D_MODEL), t(D_MODEL), t(D_MODEL)
    cases = {
        "scaled_dot_product_attention (causal)": lambda: F.scaled_dot_product_attention(
            q, q, q, is_causal=True
        ),
        "gelu (16 x 128 x 512)": lambda: F.gelu(h),
        "linear 128 -> 512": lambda: F.linear(x, w, b),
        "layer_norm 128": lambda: F.layer_norm(x, (D_MODEL,), lw, lb),
    }
    out = {}
    for name, f in cases.items():
        times = []
        for i in range(repeats + 3):
            t0 = time.perf_counter()
            f().sum().backward()
            if i >= 3:
                times.append((time.perf_counter() - t0) * 1e3)
        out[name] = statistics.median(times)
    return out


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker_sdpa(engine: str, threads: int, length: int) -> dict:
    lib = _engine(engine, threads)
    rng = np.random.default_rng(0)
    shape = (1, 8, length, 64)
    q, k, v = (
        lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True) for _ in range(3)
    )
    grad = lib.tensor(rng.standard_normal(shape).astype(np.float32))
    base = _rss_mib()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    out = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    out.backward(grad)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "peak_above_inputs_mib": max(peak, peak_before) - base,
        "seconds": seconds,
        "grad_norm": float(np.linalg.norm(q.grad.numpy())),
    }


def _run_worker(args: list[str], threads: int) -> dict:
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)})
    cmd = [sys.executable, "-m", "benchmarks.bench_gpt", "--threads", str(threads), *args]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _make_data(path: str) -> None:
    import chainrule

    model = build_gpt(chainrule)
    rng = np.random.default_rng(0)
    arrays = {}
    for name, p in model.state_dict().items():
        shape = tuple(p.shape)
        arrays["p." + name] = (
            (rng.standard_normal(shape) * 0.02).astype(np.float32)
            if len(shape) == 2
            else (np.ones(shape) if name.endswith("weight") else np.zeros(shape)).astype(np.float32)
        )
    arrays["p.head.weight"] = arrays["p.tok.weight"]
    tokens = rng.integers(0, VOCAB, size=(8, BATCH, CONTEXT + 1))
    arrays["x"], arrays["y"] = tokens[..., :-1], tokens[..., 1:]
    np.savez(path, **arrays)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="tiny GPT step and attention memory, chainrule vs torch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="alternating runs per engine")
    ap.add_argument("--steps", type=int, default=10, help="timed steps per run")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--worker", choices=["chainrule", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--task", choices=["train", "sdpa", "ops"], help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--length", type=int, default=1024, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.worker:
        if a.task == "train":
            res = worker_train(a.worker, a.threads, a.data, a.steps, a.warmup)
        elif a.task == "ops":
            res = worker_ops(a.worker, a.threads)
        else:
            res = worker_sdpa(a.worker, a.threads, a.length)
        print(json.dumps(res))
        return 0

    print(f"threads {a.threads}; load average {os.getloadavg()}")
    lines = []
    if not a.skip_train:
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "gpt.npz")
            _make_data(data)
            samples: dict[str, list[float]] = {"chainrule": [], "torch": []}
            pair_ratios: list[float] = []
            first: dict[str, float] = {}
            order = ["chainrule", "torch"]
            for r in range(a.repeats):
                run_median: dict[str, float] = {}
                for eng in order if r % 2 == 0 else order[::-1]:
                    res = _run_worker(
                        [
                            "--worker",
                            eng,
                            "--task",
                            "train",
                            "--data",
                            data,
                            "--steps",
                            str(a.steps),
                            "--warmup",
                            str(a.warmup),
                        ],
                        a.threads,
                    )
                    samples[eng] += res["times_ms"]
                    first[eng] = res["first_loss"]
                    run_median[eng] = statistics.median(res["times_ms"])
                    print(f"  {eng}: median {run_median[eng]:.1f} ms/step")
                pair_ratios.append(run_median["chainrule"] / run_median["torch"])
        med = {e: statistics.median(s) for e, s in samples.items()}
        ratio = statistics.median(pair_ratios)
        lines += [
            f"GPT training step ({LAYERS} layers, d_model {D_MODEL}, {HEADS} heads, context {CONTEXT}, batch "
            f"{BATCH}, AdamW), {a.threads} threads, {a.repeats} alternating runs x {a.steps} steps per "
            "engine:",
            "",
            "| engine | median ms/step | min | max | first loss |",
            "|---|---|---|---|---|",
        ]
        for e in ("chainrule", "torch"):
            s = samples[e]
            lines.append(f"| {e} | {med[e]:.1f} | {min(s):.1f} | {max(s):.1f} | {first[e]:.6f} |")
        pairs = ", ".join(f"{x:.2f}" for x in pair_ratios)
        lines += [
            "",
            f"chainrule / torch = {ratio:.3f}x (target <= 0.9x): the median of the ratios of back-to-back "
            f"runs ({pairs}), which drift of the machine's load disturbs least",
            "",
        ]
        ops = {e: _run_worker(["--worker", e, "--task", "ops"], a.threads) for e in ("chainrule", "torch")}
        lines += [
            "The step's pieces at its shapes, forward + backward, median ms:",
            "",
            "| piece | chainrule | torch | chainrule / torch |",
            "|---|---|---|---|",
        ]
        for name, ms in ops["chainrule"].items():
            lines.append(f"| {name} | {ms:.2f} | {ops['torch'][name]:.2f} | {ms / ops['torch'][name]:.2f}x |")
        lines.append("")
    if not a.skip_memory:
        lines += [
            "scaled_dot_product_attention forward + backward (1 x 8 heads x L x 64, float32, causal), peak "
            "resident memory above the inputs, fresh process each:",
            "",
            "| L | chainrule MiB | torch MiB | chainrule s | torch s | one (8, L, L) float32 matrix, MiB |",
            "|---|---|---|---|---|---|",
        ]
        for length in (1024, 2048):
            r = {
                e: _run_worker(["--worker", e, "--task", "sdpa", "--length", str(length)], a.threads)
                for e in ("chainrule", "torch")
            }
            cm, tm = r["chainrule"], r["torch"]
            matrix_mib = 8 * length * length * 4 / 2**20
            lines.append(
                f"| {length} | {cm['peak_above_inputs_mib']:.1f} | {tm['peak_above_inputs_mib']:.1f} | "
                f"{cm['seconds']:.3f} | {tm['seconds']:.3f} | {matrix_mib:.0f} |"
            )
        lines.append("")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
