"""Padding modules: constant (and zero), reflection, replication and circular, for 1, 2 or 3
trailing dims. ``padding`` is an int (the same on every side) or a tuple (left, right[, top,
bottom[, front, back]])."""

from __future__ import annotations

from collections.abc import Sequence

from chainrule._core import Tensor
from chainrule.nn import functional as F
from chainrule.nn.modules.module import Module

__all__ = [
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
]


def _ntuple(padding: int | Sequence[int], n: int) -> tuple[int, ...]:
    # a sequence is kept as given (as in PyTorch, a shorter one pads fewer dims)
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    return tuple(padding)


class _PadNd(Module):
    _mode = "constant"
    _dims = 1

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = _ntuple(padding, self._dims)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with ``value``."""

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with ``value``."""

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with ``value``."""

    _dims = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dim with zeros."""

    _dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Pads the last 2 dims with zeros."""

    _dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last 3 dims with zeros."""

    _dims = 3


class ReflectionPad1d(_PadNd):
    """Mirrors the last dim at its edges (the edge is not repeated)."""

    _mode, _dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Mirrors the last 2 dims at their edges."""

    _mode, _dims = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Mirrors the last 3 dims at their edges."""

    _mode, _dims = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Repeats the edge values of the last dim."""

    _mode, _dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Repeats the edge values of the last 2 dims."""

    _mode, _dims = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Repeats the edge values of the last 3 dims."""

    _mode, _dims = "replicate", 3


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        n = self._dims
        if input.dim() not in (n + 1, n + 2):
            raise ValueError(f"expected {n + 1}D or {n + 2}D input (got {input.dim()}D input)")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Wraps the last dim around (periodic padding)."""

    _dims = 1


class CircularPad2d(_CircularPadNd):
    """Wraps the last 2 dims around."""

    _dims = 2


class CircularPad3d(_CircularPadNd):
    """Wraps the last 3 dims around."""

    _dims = 3
