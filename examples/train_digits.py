"""An idiomatic training loop: scikit-learn's digits, an MLP, validation, an LR schedule,
checkpoints with resume, and a loss/accuracy plot.

    python examples/train_digits.py [--epochs 20] [--checkpoint digits.ckpt] [--resume]
                                    [--stop-after N] [--plot docs/lessons/train_digits.png] [--fast]

Each epoch ends with a checkpoint (model, optimizer, scheduler, epoch and history, written with
chainrule.save); --resume continues from it. tqdm shows progress bars when it is installed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _lessons

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.utils.data import DataLoader, TensorDataset


def progress(it: Iterable[Any], desc: str) -> Iterable[Any]:
    try:
        from tqdm import tqdm
    except ImportError:
        return it
    return tqdm(it, desc=desc, leave=False)


def build() -> nn.Module:
    return nn.Sequential(
        nn.Linear(64, 128),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, float]:
    model.eval()
    total, correct, loss_sum = 0, 0, 0.0
    with cr.no_grad():
        for x, y in loader:
            out = model(x)
            loss_sum += F.cross_entropy(out, y, reduction="sum").item()
            correct += int((out.argmax(dim=1) == y).sum().item())
            total += y.shape[0]
    return loss_sum / total, correct / total


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--checkpoint", default="digits.ckpt")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--plot", default="train_digits.png")
    parser.add_argument("--fast", action="store_true", help="3 epochs")
    parser.add_argument(
        "--stop-after", type=int, default=None, help="stop after this epoch (as if interrupted)"
    )
    args = parser.parse_args(argv)
    epochs = 3 if (args.fast or _lessons.FAST) and args.epochs == 20 else args.epochs

    cr.manual_seed(0)
    xtr, ytr, xva, yva = _lessons.digits()
    train_set = TensorDataset(xtr, ytr)
    val_loader = DataLoader(TensorDataset(xva, yva), batch_size=256)

    model = build()
    opt = cr.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = cr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_acc": [], "lr": []}
    start = 0
    if args.resume and os.path.exists(args.checkpoint):
        ckpt = cr.load(args.checkpoint, weights_only=False)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        history, start = ckpt["history"], ckpt["epoch"]
        cr.set_rng_state(ckpt["rng"])
        print(f"resumed from {args.checkpoint} after epoch {start}")

    rows = []
    stop = epochs if args.stop_after is None else min(epochs, args.stop_after)
    for epoch in range(start, stop):
        model.train()
        # one shuffling seed per epoch, so a resumed run sees the batches an unbroken one would
        train_loader = DataLoader(
            train_set, batch_size=64, shuffle=True, generator=cr.Generator().manual_seed(epoch)
        )
        seen, loss_sum = 0, 0.0
        for x, y in progress(train_loader, f"epoch {epoch + 1}"):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * y.shape[0]
            seen += y.shape[0]
        val_loss, val_acc = evaluate(model, val_loader)
        history["train_loss"].append(loss_sum / seen)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        history["lr"].append(sched.get_last_lr()[0])
        sched.step()
        cr.save(
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "epoch": epoch + 1,
                "history": history,
                "rng": cr.get_rng_state(),
            },
            args.checkpoint,
        )
        rows.append(
            [
                str(epoch + 1),
                f"{history['lr'][-1]:.2e}",
                f"{history['train_loss'][-1]:.4f}",
                f"{val_loss:.4f}",
                f"{100 * val_acc:.1f}%",
            ]
        )
    if rows:
        _lessons.print_table(["epoch", "lr", "train loss", "val loss", "val acc"], rows)
    print(f"final validation accuracy: {100 * history['val_acc'][-1]:.1f}% (checkpoint: {args.checkpoint})")

    plt = _lessons.pyplot()
    if plt is not None:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
        ep = range(1, len(history["train_loss"]) + 1)
        ax1.plot(ep, history["train_loss"], label="train")
        ax1.plot(ep, history["val_loss"], label="validation")
        ax1.set_xlabel("epoch")
        ax1.set_ylabel("cross-entropy")
        ax1.legend()
        ax2.plot(ep, [100 * a for a in history["val_acc"]])
        ax2.set_xlabel("epoch")
        ax2.set_ylabel("validation accuracy (%)")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        plt.close(fig)
        print(f"plot saved to {args.plot}")
    return history


if __name__ == "__main__":
    main()
