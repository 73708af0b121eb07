"""Data-parallel training across processes (torch.nn.parallel)."""

from chainrule.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
