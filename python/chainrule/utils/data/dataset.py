"""Datasets with torch.utils.data.dataset's names and semantics.

A map-style ``Dataset`` has ``__getitem__(index)`` and usually ``__len__``; an
``IterableDataset`` has ``__iter__``. ``TensorDataset``, ``StackDataset``, ``ConcatDataset``,
``ChainDataset`` and ``Subset`` combine them; ``random_split`` splits one at random.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from chainrule._core import Tensor

from . import _random
from ._random import GeneratorLike

__all__ = [
    "ChainDataset",
    "ConcatDataset",
    "Dataset",
    "IterableDataset",
    "StackDataset",
    "Subset",
    "TensorDataset",
    "random_split",
]

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map-style dataset: subclasses implement ``__getitem__(index)`` and, for the samplers
    that need it, ``__len__()``. ``__getitems__(indices)`` may be added to load a whole batch at
    once (the DataLoader then calls it instead of ``__getitem__`` per index). ``a + b`` is
    ``ConcatDataset([a, b])``."""

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    if TYPE_CHECKING:
        # Declared for type checkers only: a Dataset without __len__ must make len() a TypeError.
        def __len__(self) -> int: ...

    def __add__(self, other: Dataset[Any]) -> ConcatDataset[Any]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """A dataset that is a stream: subclasses implement ``__iter__``.

    With ``num_workers > 0`` every worker process iterates over its own copy of the dataset, so
    without care each element comes once per worker. ``__iter__`` shares the work out with
    ``get_worker_info()``, which is ``None`` in the main process::

        class Range(IterableDataset):
            def __init__(self, start, end):
                self.start, self.end = start, end

            def __iter__(self):
                info = get_worker_info()
                if info is None:  # the main process reads everything
                    return iter(range(self.start, self.end))
                per_worker = math.ceil((self.end - self.start) / info.num_workers)
                lo = self.start + info.id * per_worker
                return iter(range(lo, min(lo + per_worker, self.end)))

    ``len()`` works only where the subclass defines ``__len__`` (a ``TypeError`` otherwise).
    ``a + b`` is ``ChainDataset([a, b])``. Instantiating a subclass without ``__iter__`` is a
    ``TypeError`` (an abstract method).
    """

    # No __iter__ here: like collections.abc.Iterable (and PyTorch's IterableDataset), the class
    # is abstract until a subclass defines one.

    def __add__(self, other: Dataset[Any]) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Sample ``i`` is ``tuple(t[i] for t in tensors)``; every tensor must have the same first
    dimension (``ValueError`` otherwise, where PyTorch raises ``AssertionError``)."""

    tensors: tuple[Tensor, ...]

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
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class StackDataset(Dataset[Any]):
    """Several datasets of one length side by side: ``StackDataset(a, b)[i] == (a[i], b[i])``
    and ``StackDataset(x=a, y=b)[i] == {"x": a[i], "y": b[i]}`` (positional or keyword datasets,
    not both)."""

    datasets: tuple[Any, ...] | dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError(
                "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like input/output, "
                "but both types are given."
            )
        parts: Sequence[Any] = args if args else list(kwargs.values())
        if not parts:
            raise ValueError("At least one dataset should be passed")
        self._length = len(parts[0])
        if any(self._length != len(d) for d in parts):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args if args else dict(kwargs)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list[int]) -> list[Any]:
        """The samples at ``indices``, each part loaded in one call where it has __getitems__."""
        named = isinstance(self.datasets, dict)
        items = (
            list(self.datasets.items()) if isinstance(self.datasets, dict) else list(enumerate(self.datasets))
        )
        columns: list[list[Any]] = []
        for _, d in items:
            getitems = getattr(d, "__getitems__", None)
            if getitems:
                column = list(getitems(indices))
                if len(column) != len(indices):
                    raise ValueError(
                        f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(column)}"
                    )
            else:
                column = [d[i] for i in indices]
            columns.append(column)
        if named:
            keys = [k for k, _ in items]
            return [dict(zip(keys, row)) for row in zip(*columns)]
        return [tuple(row) for row in zip(*columns)]

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset[T_co]):
    """Map-style datasets one after another; ``cumulative_sizes[i]`` is the length of the first
    ``i + 1``. An empty list raises ``ValueError`` and an ``IterableDataset`` ``TypeError``
    (PyTorch raises ``AssertionError`` for both)."""

    datasets: list[Any]
    cumulative_sizes: list[int]

    @staticmethod
    def cumsum(sequence: Iterable[Any]) -> list[int]:
        """The running totals of the lengths of ``sequence``'s datasets."""
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets: Iterable[Dataset[T_co] | Sequence[T_co]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> T_co:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        if idx >= len(self):
            raise IndexError(f"index {idx} is out of range for a dataset of length {len(self)}")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = 0 if d == 0 else self.cumulative_sizes[d - 1]
        return self.datasets[d][idx - start]

    @property
    def cummulative_sizes(self) -> list[int]:
        """Old misspelt name of ``cumulative_sizes`` (deprecated, as in PyTorch)."""
        warnings.warn(
            "cummulative_sizes attribute is renamed to cumulative_sizes",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.cumulative_sizes


class ChainDataset(IterableDataset[Any]):
    """Iterable datasets one after another (lazily: each is iterated when its turn comes).
    A part that is not an ``IterableDataset`` raises ``TypeError`` when reached (PyTorch:
    ``AssertionError``); ``len()`` is the sum of the parts' lengths."""

    def __init__(self, datasets: Iterable[Dataset[Any]]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset[T_co]):
    """The elements of ``dataset`` at ``indices`` (``Subset(d, idx)[i] == d[idx[i]]``).

    A subclass that overrides ``__getitem__`` must override ``__getitems__`` too (the
    DataLoader loads batches through ``__getitems__``), or ``NotImplementedError`` is raised, as
    in PyTorch.
    """

    dataset: Any
    indices: Sequence[int]

    def __init__(self, dataset: Dataset[T_co] | Sequence[Any], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        cls = type(self)
        if cls.__getitem__ is not Subset.__getitem__ and cls.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{cls.__name__} overrides __getitem__ but not __getitems__. A subclass of Subset "
                "that overrides __getitem__ must override __getitems__ too, for example:\n\n"
                "def __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]"
            )

    def __getitem__(self, idx: Any) -> T_co:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list[T_co]:
        """The samples at ``indices``, through the dataset's own ``__getitems__`` when it has one."""
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(
    dataset: Dataset[Any] | Sequence[Any],
    lengths: Sequence[float],
    generator: GeneratorLike = None,
) -> list[Subset[Any]]:
    """Splits ``dataset`` into non-overlapping random ``Subset``\\ s of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1: then each
    split gets ``floor(len(dataset) * fraction)`` and the remainder is handed out one by one to
    the first splits (round-robin), as in PyTorch (a split of length 0 gives a warning). The
    permutation comes from ``generator`` (chainrule's global generator when ``None``). Lengths
    that do not add up, fractions outside [0, 1] and negative or non-integral counts raise
    ``ValueError``.
    """
    n = len(dataset)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        counts: list[int] = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(n * fraction))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.",
                    stacklevel=2,
                )
        lengths = counts
    if any(not isinstance(x, (int, float, np.integer, np.floating)) for x in lengths):
        raise TypeError(f"lengths must be numbers, got {list(lengths)}")
    if any(not math.isfinite(x) or int(x) != x or x < 0 for x in lengths):
        raise ValueError(
            f"lengths must be non-negative integers or fractions summing to 1, got {list(lengths)}"
        )
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = _random.randperm(n, generator)
    out: list[Subset[Any]] = []
    offset = 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset : offset + int(length)]))
        offset += int(length)
    return out
