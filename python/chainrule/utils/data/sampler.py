"""Samplers with torch.utils.data.sampler's names and semantics: what indices a DataLoader loads,
in what order, and how they are grouped into batches.

Random samplers draw from their ``generator`` (a ``chainrule.Generator`` or a
``numpy.random.Generator``). Without one, an iteration seeds a private generator with one draw
from chainrule's global generator, as PyTorch does, so ``chainrule.manual_seed(s)`` fixes every
later epoch's order and an epoch consumes one global draw however long it is. Draws are lazy:
iterating a sampler of ``num_samples=10**12`` starts at once and never builds the whole list.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

import numpy as np

import chainrule
from chainrule._core import ArgumentError, Tensor

from . import _random
from ._random import GeneratorLike

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]

T_co = TypeVar("T_co", covariant=True)

# Indices drawn per call to the generator by the samplers that draw with replacement.
_RANDOM_SAMPLER_CHUNK = 32
_WEIGHTED_SAMPLER_CHUNK = 1024


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class Sampler(Generic[T_co]):
    """Base class of samplers: an ``__iter__`` over indices (or over lists of indices, for a
    batch sampler) and, where the count is known, ``__len__``. There is deliberately no default
    ``__len__``: ``len()`` of a sampler without one is a ``TypeError``, and ``list(sampler)``
    still works."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """``0, 1, ..., len(data_source) - 1``, every time."""

    data_source: Sized

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Random indices into ``data_source``.

    Without replacement: a fresh permutation each iteration (``num_samples`` larger than the
    dataset chains several permutations, a smaller one cuts the last). With replacement:
    ``num_samples`` independent uniform draws from ``range(len(data_source))``, drawn lazily in
    chunks of 32. ``num_samples`` defaults to ``len(data_source)`` and must be a positive int
    (``ValueError``); ``replacement`` must be a bool (``TypeError``). Iterating over an empty
    data source raises ``ArgumentError`` (a ValueError and a RuntimeError).
    """

    data_source: Sized
    replacement: bool

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
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not _is_int(self.num_samples) or self.num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        """Indices one iteration yields (``len(data_source)`` unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        num_samples = self.num_samples
        if n == 0:
            raise ArgumentError(f"RandomSampler: cannot draw {num_samples} samples from an empty data source")
        generator = _random.private_generator(self.generator)
        if self.replacement:
            for _ in range(num_samples // _RANDOM_SAMPLER_CHUNK):
                yield from _random.randint(n, _RANDOM_SAMPLER_CHUNK, generator)
            yield from _random.randint(n, num_samples % _RANDOM_SAMPLER_CHUNK, generator)
        else:
            for _ in range(num_samples // n):
                yield from _random.randperm(n, generator)
            if num_samples % n:
                yield from _random.randperm(n, generator)[: num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a fresh random order each iteration (without replacement)."""

    indices: Sequence[int]

    def __init__(self, indices: Sequence[int], generator: GeneratorLike = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in _random.randperm(len(self.indices), self.generator):
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices into ``range(len(weights))``, index ``i`` drawn with probability
    proportional to ``weights[i]`` (weights need not sum to 1).

    With replacement the draws are independent (drawn lazily, in chunks); without, each index
    comes at most once (successive weighted draws among the remaining indices). ``num_samples``
    must be a positive int and ``replacement`` a bool (``ValueError`` for both, as PyTorch);
    ``weights`` must be 1-d (``ValueError``). Negative, infinite or NaN weights, weights summing
    to 0, and more samples without replacement than indices of non-zero weight raise
    ``ArgumentError`` (a ValueError and a RuntimeError) when iterating, where PyTorch's
    ``multinomial`` raises ``RuntimeError``.
    """

    weights: Tensor
    num_samples: int
    replacement: bool

    def __init__(
        self,
        weights: Sequence[float] | Tensor | np.ndarray,
        num_samples: int,
        replacement: bool = True,
        generator: GeneratorLike = None,
    ) -> None:
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        w = np.asarray(weights.detach() if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = chainrule.tensor(w, dtype=chainrule.float64)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def _checked_weights(self) -> np.ndarray:
        w = np.asarray(self.weights.detach(), dtype=np.float64)
        if w.size == 0:
            raise ArgumentError("WeightedRandomSampler: weights is empty")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ArgumentError("WeightedRandomSampler: weights must be finite and non-negative")
        if not w.sum() > 0:
            raise ArgumentError("WeightedRandomSampler: weights sum to 0")
        if not self.replacement:
            if self.num_samples > w.size:
                raise ArgumentError(
                    f"WeightedRandomSampler: cannot draw {self.num_samples} samples without replacement "
                    f"from {w.size} indices"
                )
            if self.num_samples > int(np.count_nonzero(w)):
                raise ArgumentError(
                    f"WeightedRandomSampler: cannot draw {self.num_samples} samples without replacement: "
                    f"only {int(np.count_nonzero(w))} indices have a non-zero weight"
                )
        return w

    def __iter__(self) -> Iterator[int]:
        w = self._checked_weights()
        generator = _random.private_generator(self.generator)
        if not self.replacement:
            # Successive weighted draws without replacement are the order of the keys E_i / w_i
            # with E_i independent Exp(1) variables (the smallest key is drawn first).
            with np.errstate(divide="ignore"):
                keys = -np.log1p(-_random.uniform(w.size, generator)) / w
            yield from (int(i) for i in np.argsort(keys, kind="stable")[: self.num_samples])
            return
        cdf = np.cumsum(w)
        total = cdf[-1]
        last = int(np.flatnonzero(w)[-1])  # rounding must never land on a trailing zero weight
        remaining = self.num_samples
        while remaining > 0:
            k = min(remaining, _WEIGHTED_SAMPLER_CHUNK)
            idx = np.searchsorted(cdf, _random.uniform(k, generator) * total, side="right")
            yield from (int(i) for i in np.minimum(idx, last))
            remaining -= k

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Groups the indices of ``sampler`` into lists of ``batch_size``; the last shorter list is
    kept unless ``drop_last``. ``batch_size`` must be a positive int and ``drop_last`` a bool
    (``ValueError`` for both, as PyTorch)."""

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]  # needs a sampler with a length
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size
