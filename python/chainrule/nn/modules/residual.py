"""Residual: a skip connection around a module."""

from __future__ import annotations

from chainrule._core import Tensor
from chainrule.nn.modules.linear import Linear
from chainrule.nn.modules.module import Module

__all__ = ["Residual"]


class Residual(Module):
    """forward(x) = shortcut(x) + fn(x), where shortcut is ``projection`` when given and the
    identity otherwise. ``Residual(fn, in_features=a, out_features=b)`` with a != b builds the
    projection as Linear(a, b, bias=False). The wrapped module is ``.fn``, the projection
    ``.projection`` (None for the identity)."""

    def __init__(
        self,
        fn: Module,
        projection: Module | None = None,
        *,
        in_features: int | None = None,
        out_features: int | None = None,
    ):
        super().__init__()
        if not callable(fn):
            raise TypeError(f"Residual: fn must be a Module or callable, got {type(fn).__name__}")
        if projection is not None and (in_features is not None or out_features is not None):
            raise ValueError("Residual: give either projection or in_features/out_features, not both")
        if (in_features is None) != (out_features is None):
            raise ValueError("Residual: in_features and out_features must be given together")
        if (
            projection is None
            and in_features is not None
            and out_features is not None
            and in_features != out_features
        ):
            projection = Linear(in_features, out_features, bias=False)
        self.fn = fn
        self.projection = projection

    def forward(self, x: Tensor) -> Tensor:
        y = self.fn(x)
        shortcut = x if self.projection is None else self.projection(x)
        if tuple(shortcut.shape) != tuple(y.shape):
            if self.projection is None:
                raise ValueError(
                    f"Residual: fn maps shape {tuple(x.shape)} to {tuple(y.shape)}, so x cannot be added to "
                    "fn(x); pass projection=<module mapping x to fn(x)'s shape> or "
                    "in_features=/out_features= to add a Linear projection"
                )
            raise ValueError(
                f"Residual: projection gives shape {tuple(shortcut.shape)} but fn gives {tuple(y.shape)}"
            )
        return shortcut + y
