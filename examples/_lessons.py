"""Shared bits of the lesson examples: the digits data, fast mode and optional plotting."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

import chainrule as cr

# CHAINRULE_EXAMPLES_FAST=1 (or --fast) runs each example on fewer steps: the claims still hold,
# the curves are shorter. The test suite uses it.
FAST = os.environ.get("CHAINRULE_EXAMPLES_FAST", "") not in ("", "0")


def digits(seed: int = 0, val_fraction: float = 0.2) -> tuple[cr.Tensor, cr.Tensor, cr.Tensor, cr.Tensor]:
    """scikit-learn's bundled 8x8 digits (1797 images, 10 classes), standardized, split into
    train and validation sets with a fixed permutation."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = d.data.astype(np.float32)
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6)
    y = d.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(len(x) * val_fraction)
    val, train = order[:n_val], order[n_val:]
    return cr.tensor(x[train]), cr.tensor(y[train]), cr.tensor(x[val]), cr.tensor(y[val])


def pyplot() -> Any:
    """matplotlib.pyplot with a file backend, or None (with a note) when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no plot saved; pip install matplotlib to get one)")
        return None
    return plt


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
