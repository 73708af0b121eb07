"""Exploding gradients: a deep ReLU net with too-large initialization, and gradient clipping.

A 10-layer ReLU MLP on scikit-learn's digits whose weights start twice as large as He's
initialization (std = 2 * sqrt(2 / fan_in)): every layer doubles the activations and the
gradients, so the first loss is ~900 and the gradients are huge. Plain SGD takes one enormous
step, the next loss is ~1e5, then ~1e18, then NaN. The same run with
nn.utils.clip_grad_norm_(params, 1.0) or nn.utils.clip_grad_value_(params, 0.01) takes bounded
steps and trains. Finally the unclipped run is repeated under autograd.detect_anomaly(), which
stops at the first backward node whose gradient is not finite and names it, with the line of the
forward call that created it.

    python examples/exploding_gradients.py [--plot docs/lessons/exploding_gradients.png] [--fast]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _lessons

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F

DEPTH = 10
SCALE = 2.0  # times He's standard deviation


def build() -> nn.Module:
    cr.manual_seed(0)
    layers: list[nn.Module] = []
    fan_in = 64
    for _ in range(DEPTH):
        lin = nn.Linear(fan_in, 64)
        nn.init.normal_(lin.weight, 0.0, SCALE * math.sqrt(2.0 / fan_in))
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.ReLU()]
        fan_in = 64
    layers.append(nn.Linear(64, 10))
    return nn.Sequential(*layers)


def train(clip: str | None, steps: int, data: tuple[cr.Tensor, ...]) -> tuple[list[float], list[float]]:
    """Losses and total gradient norms (before clipping) of `steps` SGD steps."""
    xtr, ytr = data[0], data[1]
    model = build()
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    gen = cr.Generator().manual_seed(0)
    losses, norms = [], []
    for _ in range(steps):
        idx = cr.randint(0, xtr.shape[0], (128,), generator=gen)
        loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        if clip == "norm":
            total = nn.utils.clip_grad_norm_(model.parameters(), 1.0).item()
        else:
            grads = [p.grad.reshape(-1) for p in model.parameters() if p.grad is not None]
            total = cr.cat(grads).norm().item()
            if clip == "value":
                nn.utils.clip_grad_value_(model.parameters(), 0.01)
        opt.step()
        losses.append(loss.item())
        norms.append(total)
    return losses, norms


def first_nonfinite(values: list[float]) -> int | None:
    return next((i for i, v in enumerate(values) if not math.isfinite(v)), None)


def pinpoint(data: tuple[cr.Tensor, ...], steps: int) -> str:
    """The unclipped run again, under detect_anomaly: the first non-finite gradient stops it."""
    xtr, ytr = data[0], data[1]
    model = build()
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    gen = cr.Generator().manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Anomaly Detection has been enabled..."
        with cr.autograd.detect_anomaly():
            for step in range(steps):
                idx = cr.randint(0, xtr.shape[0], (128,), generator=gen)
                loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
                opt.zero_grad()
                try:
                    loss.backward()
                except RuntimeError as e:
                    return f"step {step} (loss {loss.item():.3g}): {e}"
                opt.step()
    return "no anomaly found"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", default="exploding_gradients.png", help="where to save the figure")
    parser.add_argument("--fast", action="store_true", help="fewer training steps")
    args = parser.parse_args()
    steps = 30 if (args.fast or _lessons.FAST) else 200
    data = _lessons.digits()
    runs = {
        "no clipping": train(None, steps, data),
        "clip_grad_norm_(1.0)": train("norm", steps, data),
        "clip_grad_value_(0.01)": train("value", steps, data),
    }
    print(f"{DEPTH}-layer ReLU MLP, init std {SCALE} x He, SGD lr 0.01, {steps} steps\n")
    rows = []
    for name, (losses, norms) in runs.items():
        bad = first_nonfinite(losses)
        rows.append(
            [
                name,
                f"{losses[0]:.3g}",
                " ".join(f"{v:.2g}" for v in losses[1:4]),
                f"{norms[0]:.2g}",
                "never" if bad is None else f"step {bad}",
                f"{losses[-1]:.3g}",
            ]
        )
    _lessons.print_table(["run", "loss 0", "loss 1..3", "|grad| 0", "first NaN loss", "final loss"], rows)
    print("\ndetect_anomaly on the unclipped run:\n" + pinpoint(data, steps))

    plt = _lessons.pyplot()
    if plt is not None:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
        for name, (losses, norms) in runs.items():
            ax1.plot([v if math.isfinite(v) else float("nan") for v in losses], label=name)
            ax2.plot([v if math.isfinite(v) else float("nan") for v in norms], label=name)
        ax1.set_yscale("log")
        ax1.set_title("training loss (NaN: line ends)")
        ax1.set_xlabel("step")
        ax2.set_yscale("log")
        ax2.set_title("total gradient norm before clipping")
        ax2.set_xlabel("step")
        ax1.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        plt.close(fig)
        print(f"\nplot saved to {args.plot}")


if __name__ == "__main__":
    main()
