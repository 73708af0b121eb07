"""Workload definitions and their shared inputs.

Every input and initial weight is created here once, with NumPy and fixed seeds, saved to one
.npz per workload, and loaded by every engine's worker: all engines start from identical numbers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Workload:
    name: str
    title: str
    unit: str  # unit of the reported per-sample figure
    scale: float  # seconds per step -> reported unit (e.g. 1e3 for ms)
    description: str
    per_step_count: float = 1.0  # divide the step time by this (ops per step for per-op overhead)
    variants: list = field(default_factory=lambda: [None])  # e.g. thread counts for "branchy"
    needs_data: bool = True


CHAIN_OPS = 3000
CHAIN_SIZE = 16
MLP_SIZES = (784, 256, 256, 10)
MLP_BATCH = 64
MATMUL_N = 1024
BRANCHES, BRANCH_DEPTH, BRANCH_WIDTH, BRANCH_BATCH = 8, 4, 256, 256
ADAM_TENSORS, ADAM_PARAMS = 10, 10_000_000
MOONS_SIZES = (2, 16, 16, 1)
LR_SGD = 0.1
LR_ADAM = 1e-3

WORKLOADS = {
    "moons": Workload(
        "moons",
        "micrograd's demo: MLP 2-16-16-1 on 100 two-moons points",
        "ms/step",
        1e3,
        "forward over all 100 points, SVM hinge loss mean(relu(1 - y*score)) + 1e-4*sum(p*p), "
        "backward, one SGD step (lr 0.1). ReLU hidden layers, linear output (micrograd.nn.MLP).",
    ),
    "chain": Workload(
        "chain",
        f"per-op overhead: a chain of {CHAIN_OPS} elementwise ops on a {CHAIN_SIZE}-element tensor",
        "µs/op",
        1e6,
        f"y = x; alternately y = y*1.0001 and y = y+0.001, {CHAIN_OPS} ops; y.sum().backward(). "
        f"Reported: (forward+backward time) / {CHAIN_OPS}.",
        per_step_count=CHAIN_OPS,
    ),
    "mlp": Workload(
        "mlp",
        "MLP training step 784-256-256-10, batch 64",
        "ms/step",
        1e3,
        "relu(x@W1+b1) -> relu(.@W2+b2) -> .@W3+b3, cross-entropy over integer labels, zero_grad, "
        "backward, SGD step (lr 0.1).",
    ),
    "matmul": Workload(
        "matmul",
        f"matmul forward+backward {MATMUL_N}x{MATMUL_N} float32",
        "ms",
        1e3,
        "C = A@B, C.backward(G) with A and B requiring grad (dA = G@B^T, dB = A^T@G): "
        f"6*n^3 = {6 * MATMUL_N**3 / 1e9:.2f} GFLOP per step.",
    ),
    "branchy": Workload(
        "branchy",
        f"branchy graph: {BRANCHES} independent {BRANCH_DEPTH}-layer tanh branches "
        f"({BRANCH_WIDTH} wide, batch {BRANCH_BATCH}), summed",
        "ms backward",
        1e3,
        "each branch h = tanh(h@W+b) four times from the same input; the branch outputs are summed "
        "and .sum() is backpropagated. Only backward is timed (forward runs untimed before each "
        "backward), at 1 and 2 threads.",
        variants=[1, 2],
    ),
    "adam": Workload(
        "adam",
        f"Adam step over {ADAM_PARAMS // 1_000_000}M float32 parameters in {ADAM_TENSORS} tensors",
        "ms/step",
        1e3,
        "optimizer.step() with fixed gradients (lr 1e-3, default betas/eps). Bytes moved per step "
        "counted as 28 per parameter: read param, grad, exp_avg, exp_avg_sq (16 B) and write param, "
        "exp_avg, exp_avg_sq (12 B); the gradient is only read.",
    ),
    "import": Workload(
        "import",
        "import time, resident memory after import, installed size",
        "ms import",
        1e3,
        "median over fresh interpreters of (python -c 'import X') minus (python -c 'pass'); "
        "VmRSS from /proc/self/status after the import minus a bare interpreter's; installed size "
        "is the sum of file sizes under the package directory (dependencies such as NumPy not "
        "counted there, but their import time and memory are: chainrule and autograd import NumPy).",
        needs_data=False,
    ),
}

ADAM_BYTES_PER_PARAM = 28
MATMUL_FLOP = 6 * MATMUL_N**3


def _init(rng, fan_in, shape):
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def make_data(name: str) -> dict:
    """The inputs of one workload, as a dict of NumPy arrays (float32 unless noted)."""
    rng = np.random.default_rng(12345)
    if name == "moons":
        from sklearn.datasets import make_moons

        X, y = make_moons(n_samples=100, noise=0.1, random_state=1)
        d = {"X": X.astype(np.float32), "y": (y * 2 - 1).astype(np.float32)}
        sizes = MOONS_SIZES
        for i in range(3):
            # micrograd's own initialisation: uniform(-1, 1) weights, zero biases
            d[f"W{i}"] = rng.uniform(-1, 1, size=(sizes[i], sizes[i + 1])).astype(np.float32)
            d[f"b{i}"] = np.zeros(sizes[i + 1], np.float32)
        return d
    if name == "chain":
        return {"x": rng.standard_normal(CHAIN_SIZE).astype(np.float32)}
    if name == "mlp":
        d = {
            "X": rng.standard_normal((MLP_BATCH, MLP_SIZES[0])).astype(np.float32),
            "y": rng.integers(0, MLP_SIZES[-1], size=MLP_BATCH).astype(np.int64),
        }
        for i in range(3):
            d[f"W{i}"] = _init(rng, MLP_SIZES[i], (MLP_SIZES[i], MLP_SIZES[i + 1]))
            d[f"b{i}"] = _init(rng, MLP_SIZES[i], (MLP_SIZES[i + 1],))
        return d
    if name == "matmul":
        n = MATMUL_N
        return {k: rng.standard_normal((n, n)).astype(np.float32) for k in ("A", "B", "G")}
    if name == "branchy":
        d = {"X": rng.standard_normal((BRANCH_BATCH, BRANCH_WIDTH)).astype(np.float32)}
        for b in range(BRANCHES):
            for k in range(BRANCH_DEPTH):
                d[f"W{b}_{k}"] = _init(rng, BRANCH_WIDTH, (BRANCH_WIDTH, BRANCH_WIDTH))
                d[f"b{b}_{k}"] = _init(rng, BRANCH_WIDTH, (BRANCH_WIDTH,))
        return d
    if name == "adam":
        per = ADAM_PARAMS // ADAM_TENSORS
        d = {}
        for i in range(ADAM_TENSORS):
            d[f"p{i}"] = rng.standard_normal(per, dtype=np.float32)
            d[f"g{i}"] = rng.standard_normal(per, dtype=np.float32)
        return d
    raise KeyError(name)


def write_data(names, directory: str) -> dict:
    """Creates each workload's inputs once and saves them; returns {name: path}."""
    paths = {}
    for name in names:
        if not WORKLOADS[name].needs_data:
            continue
        path = os.path.join(directory, f"{name}.npz")
        np.savez(path, **make_data(name))
        paths[name] = path
    return paths


def load_data(path: str) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}
