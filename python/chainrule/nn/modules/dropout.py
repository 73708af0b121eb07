"""Dropout."""

from __future__ import annotations

import chainrule
from chainrule._core import Tensor
from chainrule.nn.modules.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """In training, zeroes each element with probability p and scales the rest by 1/(1-p); in eval,
    the identity. The mask comes from chainrule.rand, so manual_seed makes it reproducible."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return input
        if self.p == 1.0:
            return input * 0.0
        keep = chainrule.rand(*input.shape, dtype=input.dtype) >= self.p
        return input * keep * (1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
