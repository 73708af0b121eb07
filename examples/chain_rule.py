"""The chain rule by hand, next to chainrule's gradients and finite differences.

1. A small composite, y = sin(x^2) * exp(-x): each local derivative written out, multiplied along
   the chain, and compared with x.grad and with a central difference.
2. A 2-layer net, L = (w2 . tanh(W1 x + b1) + b2 - t)^2 / 2: backpropagation written with numpy,
   layer by layer, compared with the library's gradients and with finite differences.
3. The recorded graph of the net, as Graphviz DOT text (chainrule.viz.to_dot).

    python examples/chain_rule.py
"""

from __future__ import annotations

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _lessons
import numpy as np

import chainrule as cr
from chainrule import viz


def composite(x0: float = 0.7) -> float:
    print("1. y = sin(x^2) * exp(-x) at x =", x0)
    x = cr.tensor(x0, dtype=cr.float64, requires_grad=True)
    u = x * x
    s = cr.sin(u)
    e = cr.exp(-x)
    y = s * e
    y.backward()

    # by hand: y = s(u(x)) * e(x)
    u_, s_, e_ = x0 * x0, math.sin(x0 * x0), math.exp(-x0)
    du_dx = 2 * x0  # u = x^2
    ds_du = math.cos(u_)  # s = sin(u)
    de_dx = -e_  # e = exp(-x)
    dy_ds, dy_de = e_, s_  # y = s * e
    by_hand = dy_ds * ds_du * du_dx + dy_de * de_dx

    def f(v: float) -> float:
        return math.sin(v * v) * math.exp(-v)

    h = 1e-6
    fd = (f(x0 + h) - f(x0 - h)) / (2 * h)
    _lessons.print_table(
        ["factor", "value"],
        [
            ["du/dx = 2x", f"{du_dx:.6f}"],
            ["ds/du = cos(u)", f"{ds_du:.6f}"],
            ["dy/ds = e", f"{dy_ds:.6f}"],
            ["de/dx = -exp(-x)", f"{de_dx:.6f}"],
            ["dy/de = s", f"{dy_de:.6f}"],
        ],
    )
    print(f"\ndy/dx = e*cos(u)*2x + s*(-exp(-x)) = {by_hand:.12f}")
    print(f"chainrule x.grad                   = {x.grad.item():.12f}")
    print(f"central difference (h = 1e-6)      = {fd:.12f}\n")
    return abs(by_hand - x.grad.item())


def two_layer(seed: int = 0) -> float:
    print("2. L = (w2 . tanh(W1 x + b1) + b2 - t)^2 / 2, 3 inputs, 4 hidden units")
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal(3), 0.5
    W1, b1 = rng.standard_normal((4, 3)), rng.standard_normal(4)
    w2, b2 = rng.standard_normal(4), rng.standard_normal()

    # forward, keeping what backward needs
    z = W1 @ x + b1
    h = np.tanh(z)
    y = w2 @ h + b2
    L = 0.5 * (y - t) ** 2
    # backward, one local derivative at a time
    dL_dy = y - t
    dL_dw2 = dL_dy * h
    dL_db2 = dL_dy
    dL_dh = dL_dy * w2
    dL_dz = dL_dh * (1 - h**2)  # tanh' = 1 - tanh^2
    dL_dW1 = np.outer(dL_dz, x)
    dL_db1 = dL_dz
    hand = {"W1": dL_dW1, "b1": dL_db1, "w2": dL_dw2, "b2": np.array(dL_db2)}

    params = {
        k: cr.tensor(v, dtype=cr.float64, requires_grad=True)
        for k, v in {"W1": W1, "b1": b1, "w2": w2, "b2": np.array(b2)}.items()
    }
    xt = cr.tensor(x, dtype=cr.float64)
    out = params["w2"] @ cr.tanh(params["W1"] @ xt + params["b1"]) + params["b2"]
    loss = 0.5 * (out - t) ** 2
    loss.backward(retain_graph=True)

    def loss_at(values: dict[str, np.ndarray]) -> float:
        hh = np.tanh(values["W1"] @ x + values["b1"])
        return float(0.5 * (values["w2"] @ hh + values["b2"] - t) ** 2)

    base = {"W1": W1, "b1": b1, "w2": w2, "b2": np.array(b2)}
    rows, worst = [], 0.0
    for name, g in hand.items():
        fd = np.zeros_like(g, dtype=np.float64)
        for i in np.ndindex(g.shape):
            plus = {k: v.copy() for k, v in base.items()}
            minus = {k: v.copy() for k, v in base.items()}
            plus[name][i] += 1e-6
            minus[name][i] -= 1e-6
            fd[i] = (loss_at(plus) - loss_at(minus)) / 2e-6
        lib = params[name].grad.numpy()
        worst = max(worst, float(np.max(np.abs(lib - g))))
        rows.append(
            [
                name,
                str(g.shape),
                f"{np.max(np.abs(lib - g)):.1e}",
                f"{np.max(np.abs(fd - g)):.1e}",
                f"{np.linalg.norm(g):.6f}",
            ]
        )
    print(f"L = {L:.6f} (chainrule: {loss.item():.6f})")
    _lessons.print_table(["param", "shape", "|library - hand|", "|finite diff - hand|", "|grad|"], rows)
    print("\n3. the recorded graph (chainrule.viz.to_dot):\n")
    print(viz.to_dot(loss, params=params, show_saved=True))
    return worst


def main() -> None:
    err1 = composite()
    err2 = two_layer()
    print(f"largest difference between the hand-derived and library gradients: {max(err1, err2):.1e}")


if __name__ == "__main__":
    main()
