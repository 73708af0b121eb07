"""The main demo: micrograd's two-moons classifier, trained with chainrule.

    python -m chainrule.demo [--steps 100] [--points 100] [--seed 1]

An MLP 2 -> 16 -> 16 -> 1 (ReLU) learns to separate two interleaved half circles with an SVM
hinge loss plus L2 regularization, full-batch SGD with a decaying learning rate, exactly the setup
of micrograd's demo notebook. It prints loss and accuracy as it trains.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
import chainrule.optim as optim


def make_moons(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (the layout of scikit-learn's make_moons), labels in {-1, 1}."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    outer = np.linspace(0, math.pi, n_out)
    inner = np.linspace(0, math.pi, n_in)
    x = np.concatenate(
        [
            np.stack([np.cos(outer), np.sin(outer)], axis=1),
            np.stack([1 - np.cos(inner), 1 - np.sin(inner) - 0.5], axis=1),
        ]
    )
    y = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    x += rng.normal(scale=noise, size=x.shape)
    perm = rng.permutation(n)
    return x[perm].astype(np.float32), y[perm].astype(np.float32)


def build_model() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))


def hinge_loss(
    scores: cr.Tensor, y: cr.Tensor, model: nn.Module, alpha: float = 1e-4
) -> tuple[cr.Tensor, cr.Tensor]:
    data_loss = F.relu(1.0 - y * scores).mean()
    reg_loss = alpha * sum((p * p).sum() for p in model.parameters())
    accuracy = ((scores > 0) == (y > 0)).float().mean()
    return data_loss + reg_loss, accuracy


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every", type=int, default=10, help="print every N steps")
    args = parser.parse_args(argv)

    cr.manual_seed(args.seed)
    x_np, y_np = make_moons(args.points, noise=0.1, seed=args.seed)
    x = cr.tensor(x_np)
    y = cr.tensor(y_np).reshape(-1, 1)
    model = build_model()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"two moons: {args.points} points, MLP 2-16-16-1 ({n_params} parameters), hinge loss + L2")
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0 - 0.9 * k / args.steps)
    start = time.perf_counter()
    acc = 0.0
    for step in range(args.steps):
        loss, accuracy = hinge_loss(model(x), y, model)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        acc = accuracy.item()
        if step % args.every == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {acc * 100:5.1f}%")
    elapsed = time.perf_counter() - start
    print(
        f"trained {args.steps} steps in {elapsed:.3f} s ({elapsed / args.steps * 1e3:.2f} ms/step); "
        f"final accuracy {acc * 100:.1f}%"
    )
    return acc


if __name__ == "__main__":
    main()
