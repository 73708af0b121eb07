"""A small ResNet on scikit-learn's 8x8 handwritten digits, trained with chainrule.

BasicBlocks (two 3x3 convolutions with BatchNorm2d and a skip connection, a strided 1x1
convolution on the skip path where the shape changes), a global average pool
(F.adaptive_avg_pool2d) and a linear head. Fixed seed; prints progress (with tqdm when it is
installed) and the test accuracy.

    python examples/resnet_digits.py            # full run (about half a minute on 2 cores)
    python examples/resnet_digits.py --epochs 2 # quicker
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

try:  # progress bars when tqdm is there, plain prints otherwise
    from tqdm import tqdm as _tqdm
except ImportError:  # pragma: no cover - depends on the environment
    _tqdm = None


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus the input (through a strided 1x1 conv + BN when the shape
    changes), then ReLU."""

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False), nn.BatchNorm2d(channels)
            )

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.downsample is None else self.downsample(x)
        return F.relu(out + skip)


class ResNet(nn.Module):
    """1x8x8 -> 16x8x8 -> 32x4x4 -> 64x2x2 -> global average pool -> 10 classes."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.layer1 = BasicBlock(16, 16)
        self.layer2 = BasicBlock(16, 32, stride=2)
        self.layer3 = BasicBlock(32, 64, stride=2)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def load_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits as (N, 1, 8, 8) float32 in [0, 1], split 80/20 with a fixed permutation."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_train = int(0.8 * len(x))
    tr, te = order[:n_train], order[n_train:]
    return x[tr], y[tr], x[te], y[te]


def _progress(it: Iterable[Any], total: int, desc: str) -> Iterator[Any]:
    if _tqdm is not None:
        yield from _tqdm(it, total=total, desc=desc, leave=False)
    else:
        yield from it


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 256) -> float:
    model.eval()
    correct = 0
    with cr.no_grad():
        for i in range(0, len(x), batch):
            pred = model(cr.tensor(x[i : i + batch])).argmax(1)
            correct += int((np.asarray(pred) == y[i : i + batch]).sum())
    return correct / len(x)


def train(
    epochs: int = 6, batch_size: int = 32, lr: float = 3e-3, seed: int = 0, verbose: bool = True
) -> float:
    """Trains the ResNet and returns its test accuracy."""
    cr.manual_seed(seed)
    x_tr, y_tr, x_te, y_te = load_data(seed)
    model = ResNet()
    opt = cr.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    steps = (len(x_tr) + batch_size - 1) // batch_size
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = rng.permutation(len(x_tr))
        total, seen = 0.0, 0
        for i in _progress(range(0, len(x_tr), batch_size), steps, f"epoch {epoch}"):
            idx = order[i : i + batch_size]
            logits = model(cr.tensor(x_tr[idx]))
            loss = F.cross_entropy(logits, cr.tensor(y_tr[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
            seen += len(idx)
        acc = evaluate(model, x_te, y_te)
        if verbose:
            print(
                f"epoch {epoch}/{epochs}  train loss {total / seen:.4f}  test accuracy {acc:.4f}  "
                f"({time.perf_counter() - start:.1f} s)",
                flush=True,
            )
    acc = evaluate(model, x_te, y_te)
    if verbose:
        print(f"test accuracy: {acc:.4f} on {len(x_te)} images", flush=True)
    return acc


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train(args.epochs, args.batch_size, args.lr, args.seed)


if __name__ == "__main__":
    main()
