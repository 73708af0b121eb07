"""Random draws for samplers, splits and worker seeds, from one kind of generator argument.

A ``generator`` here is a ``chainrule.Generator``, a ``numpy.random.Generator``, or ``None`` for
chainrule's global generator (so ``chainrule.manual_seed(s)`` fixes every draw made with
``None``). Anything else raises ``TypeError``, as PyTorch does for a generator of the wrong type.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

import chainrule
from chainrule import _core

# A chainrule.Generator, a numpy.random.Generator, or None for chainrule's global generator.
GeneratorLike = Union[_core.Generator, np.random.Generator, None]

# Seeds are drawn from [0, 2**63), the range of a non-negative int64 (as PyTorch draws them).
_SEED_HIGH = 2**63 - 1


def check_generator(generator: Any) -> None:
    """Raises TypeError unless ``generator`` is None, a chainrule.Generator or a NumPy Generator."""
    if generator is not None and not isinstance(generator, (_core.Generator, np.random.Generator)):
        raise TypeError(
            "generator must be a chainrule.Generator, a numpy.random.Generator or None, "
            f"got {type(generator).__name__}"
        )


def randperm(n: int, generator: GeneratorLike = None) -> list[int]:
    """A random permutation of range(n) as a list of ints."""
    check_generator(generator)
    if isinstance(generator, np.random.Generator):
        return [int(i) for i in generator.permutation(n)]
    return [int(i) for i in np.asarray(chainrule.randperm(n, generator=generator))]


def randint(high: int, size: int, generator: GeneratorLike = None) -> list[int]:
    """``size`` independent uniform draws from range(high), as a list of ints."""
    check_generator(generator)
    if size == 0:
        return []
    if isinstance(generator, np.random.Generator):
        return [int(i) for i in generator.integers(0, high, size)]
    return [int(i) for i in np.asarray(chainrule.randint(0, high, (size,), generator=generator))]


def uniform(size: int, generator: GeneratorLike = None) -> np.ndarray:
    """``size`` independent float64 draws from [0, 1)."""
    check_generator(generator)
    if isinstance(generator, np.random.Generator):
        return generator.random(size)
    return np.asarray(chainrule.rand(size, generator=generator, dtype=chainrule.float64))


def draw_seed(generator: GeneratorLike = None) -> int:
    """One seed in [0, 2**63) drawn from ``generator`` (one draw: it advances the generator)."""
    check_generator(generator)
    if isinstance(generator, np.random.Generator):
        return int(generator.integers(0, _SEED_HIGH))
    return int(chainrule.randint(0, _SEED_HIGH, (), generator=generator).item())


def private_generator(generator: GeneratorLike = None) -> GeneratorLike:
    """``generator`` itself, or for None a fresh chainrule.Generator seeded with one draw from the
    global generator: an iteration then consumes one global draw however many indices it makes."""
    check_generator(generator)
    if generator is not None:
        return generator
    g = _core.Generator()
    g.manual_seed(draw_seed(None))
    return g
