"""DistributedSampler with torch.utils.data.distributed's semantics: each of ``num_replicas``
processes loads its own share of the dataset."""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator, Sized
from typing import Any

from chainrule import _core

from . import _random
from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _process_group_value(name: str) -> int:
    """``chainrule.distributed.<name>()`` when that package exists and is initialized."""
    try:
        dist: Any = importlib.import_module("chainrule.distributed")
    except ImportError:
        dist = None
    available = dist is not None and getattr(dist, "is_available", lambda: False)()
    if not available or not getattr(dist, "is_initialized", lambda: False)():
        raise RuntimeError(
            "Requires distributed package to be available: pass num_replicas and rank explicitly "
            "(chainrule has no initialized process group to read them from)"
        )
    return int(getattr(dist, name)())


class DistributedSampler(Sampler[int]):
    """The share of ``dataset``'s indices that replica ``rank`` of ``num_replicas`` loads.

    Every replica sees ``num_samples = ceil(len(dataset) / num_replicas)`` indices: the index
    list is padded by repeating its start so that it divides evenly (or, with ``drop_last``,
    cut to ``floor(len(dataset) / num_replicas)`` per replica), and replica ``rank`` takes
    every ``num_replicas``-th index from position ``rank``. With ``shuffle`` the list is first
    permuted by a generator seeded with ``seed + epoch``, the same on every replica, so the
    shares never overlap; call ``set_epoch(epoch)`` before each epoch for a new order.

    ``num_replicas`` and ``rank`` default to the process group's world size and rank, so
    without one they must be given (``RuntimeError`` otherwise, as PyTorch without its
    distributed package). A rank outside ``[0, num_replicas - 1]`` raises ``ValueError``.
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None:
            num_replicas = _process_group_value("get_world_size")
        if rank is None:
            rank = _process_group_value("get_rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = n // num_replicas
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            g = _core.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = _random.randperm(n, g)
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[: self.total_size]
        elif len(indices) < self.total_size:
            repeats = math.ceil(self.total_size / len(indices))
            indices = (indices * repeats)[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch, which with ``shuffle`` seeds the next iteration's permutation."""
        self.epoch = epoch
