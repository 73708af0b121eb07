"""Data-parallel training of an MLP on scikit-learn's digits with DistributedDataParallel.

    python -m chainrule.distributed.run -n 2 examples/ddp_digits.py [--epochs 10] [--batch-size 32]
    python examples/ddp_digits.py            # one process (mpi4py is still needed)

Each of the N processes trains on its own share of every epoch (DistributedSampler) with batch
--batch-size, so the global batch is N x batch-size; DistributedDataParallel averages the
gradients during backward, so every replica takes the same optimizer steps. Rank 0 evaluates
and prints; the validation accuracy does not depend on N beyond the change of global batch.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _lessons

import chainrule as cr
import chainrule.distributed as dist
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.nn.parallel import DistributedDataParallel
from chainrule.utils.data import DataLoader, DistributedSampler, TensorDataset


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32, help="per process")
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args(argv)

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    cr.set_num_threads(1)
    cr.manual_seed(rank)  # different on purpose: DDP broadcasts rank 0's initial parameters

    xtr, ytr, xva, yva = _lessons.digits()
    train_set = TensorDataset(xtr, ytr)
    sampler = DistributedSampler(train_set, shuffle=True, seed=0)  # rank and world from the group
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)

    model = DistributedDataParallel(
        nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    )
    opt = cr.optim.Adam(model.parameters(), lr=args.lr)
    acc = 0.0
    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        loss_sum = cr.zeros(2, dtype=cr.float64)  # [sum of losses, samples], reduced over ranks
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += cr.tensor([loss.item() * y.shape[0], y.shape[0]], dtype=cr.float64)
        dist.all_reduce(loss_sum)
        model.eval()
        with cr.no_grad():
            acc = float((model(xva).argmax(dim=1) == yva).float().mean().item())
        if rank == 0:
            train_loss = loss_sum[0].item() / loss_sum[1].item()
            print(f"epoch {epoch + 1:2d}  train loss {train_loss:.4f}  val acc {acc:.3f}", flush=True)
    if rank == 0:
        print(
            f"{world} process(es), global batch {world * args.batch_size}: "
            f"{time.perf_counter() - start:.2f} s, final val acc {acc:.3f}"
        )
    dist.destroy_process_group()
    return acc


if __name__ == "__main__":
    main()
