"""Datasets and data loading with torch.utils.data's names and semantics.

The submodules are PyTorch's: ``dataset`` (Dataset, IterableDataset, TensorDataset,
StackDataset, ConcatDataset, ChainDataset, Subset, random_split), ``sampler`` (Sampler,
SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler, BatchSampler),
``dataloader`` (DataLoader, get_worker_info, default_collate, default_convert) and
``distributed`` (DistributedSampler); everything is importable from ``chainrule.utils.data`` too.

Randomness is reproducible: shuffling, random samplers and ``random_split`` draw from their
``generator`` (a ``chainrule.Generator``, or a ``numpy.random.Generator``) or, without one, from
chainrule's global generator, so ``chainrule.manual_seed(s)`` before iterating fixes the order.
DataLoader workers are separate processes (``num_workers > 0``), seeded per worker from one base
seed per epoch; see ``DataLoader``.
"""

from chainrule.utils.data import dataloader, dataset, distributed, sampler
from chainrule.utils.data._random import GeneratorLike
from chainrule.utils.data._utils.collate import default_collate, default_convert
from chainrule.utils.data._utils.worker import WorkerInfo, get_worker_info
from chainrule.utils.data.dataloader import DataLoader
from chainrule.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from chainrule.utils.data.distributed import DistributedSampler
from chainrule.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "GeneratorLike",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "dataloader",
    "dataset",
    "default_collate",
    "default_convert",
    "distributed",
    "get_worker_info",
    "random_split",
    "sampler",
]

from typing import TYPE_CHECKING as _TYPE_CHECKING

from chainrule._missing import module_getattr as _module_getattr

if not _TYPE_CHECKING:  # a name PyTorch has and chainrule lacks says so (see docs/api-coverage.md)
    __getattr__ = _module_getattr(__name__, "torch.utils.data")
