"""Flatten: merges a range of dims into one."""

from __future__ import annotations

from chainrule._core import Tensor
from chainrule.nn.modules.module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    """Flattens dims start_dim..end_dim (inclusive) into one; (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        shape = tuple(input.shape)
        nd = max(len(shape), 1)
        s = self.start_dim + nd if self.start_dim < 0 else self.start_dim
        e = self.end_dim + nd if self.end_dim < 0 else self.end_dim
        if not (0 <= s < nd and 0 <= e < nd):
            raise IndexError(
                f"Flatten: dims start_dim={self.start_dim}, end_dim={self.end_dim} are out of range "
                f"for input of shape {shape}"
            )
        if s > e:
            raise ValueError(
                f"Flatten: start_dim ({self.start_dim}) cannot come after end_dim ({self.end_dim})"
            )
        if not shape:
            return input.reshape(1)
        merged = 1
        for d in shape[s : e + 1]:
            merged *= d
        return input.reshape(shape[:s] + (merged,) + shape[e + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
