"""Vanishing gradients in a deep MLP, and four ways out.

A 20-hidden-layer MLP on scikit-learn's digits, six ways:

  sigmoid, default init       the classic failure: sigmoid' <= 1/4, so backprop through 20 layers
                              multiplies the gradient by at most 0.25**20 ~ 9e-13 (times the weights)
  tanh, Xavier init           tanh' = 1 at 0 and Xavier keeps the variance per layer ~ constant
  ReLU, He init               ReLU' = 1 on the active half; He's factor 2 makes up for the other
  sigmoid + residual          y = x + f(x): the identity path carries the gradient past each layer
  sigmoid + LayerNorm         normalizing each layer's input keeps sigmoid in its steep middle
  sigmoid + BatchNorm         the same with batch statistics

For each it prints the gradient norm of the first and of the last layer at initialization (from
chainrule.utils.gradflow.GradientFlow), their ratio next to the 0.25**20 bound, and the loss and
validation accuracy after training; with matplotlib it saves the per-layer gradient norms and the
training curves.

    python examples/vanishing_gradients.py [--plot docs/lessons/vanishing_gradients.png] [--fast]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _lessons

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.utils.gradflow import GradientFlow

DEPTH = 20
WIDTH = 64
BOUND = 0.25**DEPTH


def build(kind: str, depth: int = DEPTH, width: int = WIDTH) -> nn.Module:
    """The MLP of one configuration: `depth` hidden layers (Linear, then the configuration's
    normalization and activation), 64 inputs, `width` units each, then Linear(width, 10)."""
    layers: list[nn.Module] = []
    fan_in = 64
    for _ in range(depth):
        lin = nn.Linear(fan_in, width)
        if kind == "tanh_xavier":
            nn.init.xavier_normal_(lin.weight, gain=nn.init.calculate_gain("tanh"))
            nn.init.zeros_(lin.bias)
            layers += [lin, nn.Tanh()]
        elif kind == "relu_he":
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)
            layers += [lin, nn.ReLU()]
        elif kind == "sigmoid_residual":
            layers.append(nn.Residual(nn.Sequential(lin, nn.Sigmoid())))  # 64 -> 64: no projection
        elif kind == "sigmoid_layernorm":
            layers += [lin, nn.LayerNorm(width), nn.Sigmoid()]
        elif kind == "sigmoid_batchnorm":
            layers += [lin, nn.BatchNorm1d(width), nn.Sigmoid()]
        else:
            layers += [lin, nn.Sigmoid()]
        fan_in = width
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


CONFIGS: dict[str, str] = {
    "sigmoid": "sigmoid, default init",
    "tanh_xavier": "tanh, Xavier init",
    "relu_he": "ReLU, He init",
    "sigmoid_residual": "sigmoid + residual",
    "sigmoid_layernorm": "sigmoid + LayerNorm",
    "sigmoid_batchnorm": "sigmoid + BatchNorm",
}


def first_last_ratio(model: nn.Module, x: cr.Tensor, y: cr.Tensor) -> tuple[float, float, list[float]]:
    """Gradient norms of the first and last Linear layers for one batch at the current weights,
    and every Linear layer's norm in forward order."""
    flow = GradientFlow(model)
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    norms = [r["grad_norm"] for r in flow.rows() if r["type"] == "Linear"]
    flow.remove()
    model.zero_grad()
    return norms[0], norms[-1], norms


def train(
    model: nn.Module, data: tuple[cr.Tensor, ...], steps: int, lr: float = 0.01
) -> tuple[list[float], float]:
    xtr, ytr, xva, yva = data
    opt = cr.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    gen = cr.Generator().manual_seed(0)
    losses = []
    model.train()
    for _ in range(steps):
        idx = cr.randint(0, xtr.shape[0], (128,), generator=gen)
        loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with cr.no_grad():
        acc = (model(xva).argmax(dim=1) == yva).float().mean().item()
    return losses, acc


def run(steps: int, configs: Callable[[], dict[str, str]] = lambda: CONFIGS) -> dict[str, dict]:
    data = _lessons.digits()
    xtr, ytr = data[0], data[1]
    results = {}
    for kind, label in configs().items():
        cr.manual_seed(0)
        model = build(kind)
        first, last, norms = first_last_ratio(model, xtr[:256], ytr[:256])
        t = time.perf_counter()
        losses, acc = train(model, data, steps)
        results[kind] = dict(
            label=label,
            first=first,
            last=last,
            ratio=first / last,
            norms=norms,
            losses=losses,
            acc=acc,
            seconds=time.perf_counter() - t,
        )
    return results


def report(results: dict[str, dict]) -> None:
    print(
        f"{DEPTH}-hidden-layer MLP (width {WIDTH}) on digits; 0.25^{DEPTH} = {BOUND:.1e} bounds the product"
    )
    print("of the sigmoid slopes alone (the weights multiply in too).\n")
    rows = []
    for r in results.values():
        rows.append(
            [
                r["label"],
                f"{r['first']:.2e}",
                f"{r['last']:.2e}",
                f"{r['ratio']:.1e}",
                f"{BOUND:.1e}" if r["label"].startswith("sigmoid,") else "-",
                f"{r['losses'][0]:.3f}",
                f"{sum(r['losses'][-10:]) / 10:.3f}",
                f"{100 * r['acc']:.1f}%",
            ]
        )
    _lessons.print_table(
        [
            "configuration",
            "|grad| first",
            "|grad| last",
            "first/last",
            "0.25^20",
            "loss start",
            "loss end",
            "val acc",
        ],
        rows,
    )


def plot(results: dict[str, dict], path: str) -> None:
    plt = _lessons.pyplot()
    if plt is None:
        return
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for r in results.values():
        ax1.plot(range(len(r["norms"])), r["norms"], "o-", ms=3, label=r["label"])
        ax2.plot(r["losses"], label=r["label"], lw=1)
    ax1.set_yscale("log")
    ax1.set_xlabel("Linear layer (0 = first)")
    ax1.set_ylabel("gradient norm at init")
    ax1.set_title("gradient norm per layer at initialization")
    ax2.set_xlabel("step")
    ax2.set_ylabel("training loss")
    ax2.set_title("training loss (SGD, momentum 0.9)")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"\nplot saved to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", default="vanishing_gradients.png", help="where to save the figure")
    parser.add_argument("--fast", action="store_true", help="fewer training steps")
    args = parser.parse_args()
    fast = args.fast or _lessons.FAST
    results = run(steps=30 if fast else 300)
    report(results)
    plot(results, args.plot)


if __name__ == "__main__":
    main()
