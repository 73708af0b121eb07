"""Datasets and data loading with torch.utils.data's names and semantics (single process).

Shuffling is reproducible: permutations come from ``chainrule.randperm(n, generator=...)`` (the
global generator when none is given, so ``chainrule.manual_seed(s)`` before iterating fixes the
order). A ``numpy.random.Generator`` is accepted as ``generator`` too. Where the engine has no
``randperm``, a NumPy generator seeded from chainrule's global seed is used instead.
"""

from __future__ import annotations

import collections.abc
import math
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import TYPE_CHECKING, Any, Callable, Union, cast

import numpy as np

import chainrule
from chainrule import _core
from chainrule._core import Tensor

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "BatchSampler",
    "DataLoader",
    "default_collate",
    "random_split",
]


# A chainrule.Generator, a numpy.random.Generator, or None for chainrule's global generator.
GeneratorLike = Union[_core.Generator, np.random.Generator, None]

# ---- random permutations -----------------------------------------------------------------------
_fallback: dict[str, Any] = {"seed": None, "rng": None}


def _global_seed() -> int:
    for owner in (_core, chainrule):
        f = getattr(owner, "initial_seed", None)
        if f is not None:
            return int(f())
    return 0


def _randperm(n: int, generator: GeneratorLike = None) -> list[int]:
    """A random permutation of range(n) as a list of ints."""
    if isinstance(generator, np.random.Generator):
        return generator.permutation(n).tolist()
    randperm = getattr(chainrule, "randperm", None)
    if randperm is not None:
        return [int(i) for i in np.asarray(randperm(n, generator=generator))]
    if generator is not None:
        raise TypeError("generator must be a numpy.random.Generator (this chainrule build has no randperm)")
    seed = _global_seed()
    if _fallback["seed"] != seed:
        _fallback["seed"], _fallback["rng"] = seed, np.random.default_rng(seed)
    return _fallback["rng"].permutation(n).tolist()


# ---- datasets ----------------------------------------------------------------------------------
class Dataset:
    """A map-style dataset: implement ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    if TYPE_CHECKING:

        def __len__(self) -> int: ...

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _from_array(a: Any) -> Tensor:
    """A tensor copy of a NumPy array, keeping 0-d arrays 0-d."""
    a = np.asarray(a)
    t = chainrule.tensor(a)
    return t.reshape(()) if a.ndim == 0 else t


def _take(t: Tensor, index: Any) -> Tensor:
    if hasattr(Tensor, "__getitem__"):
        return t[index]
    return _from_array(np.asarray(t.detach())[index])


class TensorDataset(Dataset):
    """Samples are tuples of rows of the given tensors (all with the same first dimension)."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset expects tensors, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError("TensorDataset expects tensors with at least one dimension")
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"Size mismatch between tensors: first dimensions are {sizes}")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(_take(t, index) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The elements of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Dataset | Sequence[Any], indices: Sequence[int]) -> None:
        self.dataset: Any = dataset
        self.indices = indices

    def __getitem__(self, idx: int | list[int]) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after another."""

    def __init__(self, datasets: Iterable[Dataset | Sequence[Any]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        if idx >= len(self):
            raise IndexError(f"index {idx} is out of range for a dataset of length {len(self)}")
        d = int(np.searchsorted(self.cumulative_sizes, idx, side="right"))
        start = 0 if d == 0 else self.cumulative_sizes[d - 1]
        return self.datasets[d][idx - start]


def random_split(
    dataset: Dataset | Sequence[Any], lengths: Sequence[float], generator: GeneratorLike = None
) -> list[Subset]:
    """Splits ``dataset`` into non-overlapping random subsets of the given lengths, or of the
    given fractions (summing to 1; remainders go round-robin to the first subsets)."""
    n = len(dataset)
    if (
        math.isclose(sum(lengths), 1)
        and sum(lengths) <= 1
        and all(0 <= f <= 1 for f in lengths)
        and any(isinstance(f, float) for f in lengths)
    ):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(
            f"lengths must be non-negative integers or fractions summing to 1, got {list(lengths)}"
        )
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = _randperm(n, generator)
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset : offset + int(length)]))
        offset += int(length)
    return out


# ---- samplers ----------------------------------------------------------------------------------
class Sampler:
    """Iterates over dataset indices."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random permutation at every iteration (or ``num_samples`` draws with replacement)."""

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: GeneratorLike = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.replacement:
            # Uniform draws built from permutations keep one source of randomness.
            out: list[int] = []
            while len(out) < self.num_samples:
                out.extend(i % n for i in _randperm(n, self.generator))
            return iter(out[: self.num_samples])
        out = []
        for _ in range(self.num_samples // n):
            out.extend(_randperm(n, self.generator))
        if self.num_samples % n:
            out.extend(_randperm(n, self.generator)[: self.num_samples % n])
        return iter(out)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in random order."""

    def __init__(self, indices: Sequence[int], generator: GeneratorLike = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        return iter([self.indices[i] for i in _randperm(len(self.indices), self.generator)])

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``."""

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[int]]:  # type: ignore[override]  # batches, not indices
        batch: list[int] = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(cast(Sized, self.sampler))  # needs a sampler with a length
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size


# ---- collation ---------------------------------------------------------------------------------
def _stack(tensors: Sequence[Tensor]) -> Tensor:
    stack = getattr(chainrule, "stack", None)
    if stack is not None:
        return stack(tensors)
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {sorted(shapes)}")
    return chainrule.tensor(np.stack([np.asarray(t.detach()) for t in tensors]))


def default_collate(batch: Sequence[Any]) -> Any:
    """Merges a list of samples into a batch: tensors, NumPy arrays and numbers are stacked into
    tensors (Python floats as float64, ints as int64, as PyTorch does); dicts, tuples, lists and
    namedtuples are collated field by field; strings stay lists."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUS":
            raise TypeError(
                f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                f"lists; found array of dtype {elem.dtype}"
            )
        return chainrule.tensor(np.stack(batch))
    if isinstance(elem, np.generic):
        return chainrule.tensor(np.array(batch))
    if isinstance(elem, bool):
        return chainrule.tensor(batch)
    if isinstance(elem, int):
        return chainrule.tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return chainrule.tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        mapping_type: Any = type(elem)
        try:
            return mapping_type(collated)
        except TypeError:  # a Mapping type that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(
        f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}"
    )


def default_convert(data: Any) -> Any:
    """Converts one sample (no batching): NumPy arrays become tensors, containers recursively."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OUS":
        return _from_array(data)
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return [default_convert(d) for d in data]
    return data


# ---- loader ------------------------------------------------------------------------------------
class DataLoader:
    """Iterates over ``dataset`` in batches of ``batch_size`` (``None``: one sample at a time,
    not collated). Loading happens in the calling process; ``num_workers`` and ``pin_memory``
    are accepted for compatibility and ignored."""

    def __init__(
        self,
        dataset: Dataset | Sequence[Any],
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable[Any] | None = None,
        batch_sampler: Sampler | Iterable[list[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        generator: GeneratorLike = None,
        **kwargs: Any,
    ) -> None:
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler: Iterable[Any] = sampler
        self.batch_sampler: Iterable[Any] | None = batch_sampler
        self.num_workers = num_workers
        self.generator = generator
        self.collate_fn = (
            collate_fn
            if collate_fn is not None
            else (default_collate if batch_sampler is not None else default_convert)
        )

    def __iter__(self) -> Iterator[Any]:
        if self.batch_sampler is None:
            for idx in self.sampler:
                yield self.collate_fn(self.dataset[idx])
            return
        for indices in self.batch_sampler:
            yield self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self) -> int:
        if self.batch_sampler is None:
            return len(cast(Sized, self.sampler))
        return len(cast(Sized, self.batch_sampler))
