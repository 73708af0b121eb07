"""Flatten and Unflatten: merge a range of dims into one, or split one dim into several."""

from __future__ import annotations

from collections.abc import Sequence

from chainrule._core import IndexingError, ShapeError, Tensor
from chainrule.nn.modules.module import Module

__all__ = ["Flatten", "Unflatten"]


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
            raise IndexingError(
                f"Flatten: dims start_dim={self.start_dim}, end_dim={self.end_dim} are out of range "
                f"for input of shape {shape}"
            )
        if s > e:
            raise ShapeError(
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


class Unflatten(Module):
    """Splits dim ``dim`` into ``unflattened_size`` (one entry may be -1, inferred):
    Unflatten(1, (2, 5)) maps (N, 10) to (N, 2, 5)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}"
            )
        for idx, elem in enumerate(unflattened_size):
            if not isinstance(elem, int) or isinstance(elem, bool):
                raise TypeError(
                    "unflattened_size must be tuple of ints, "
                    f"but found element of type {type(elem).__name__} at pos {idx}"
                )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        shape = tuple(input.shape)
        nd = len(shape)
        if not -nd <= self.dim < nd:
            raise IndexingError(
                f"Unflatten: Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
                f"but got {self.dim})"
            )
        d = self.dim % nd
        sizes = list(self.unflattened_size)
        known = 1
        for s in sizes:
            if s != -1:
                known *= s
        if (
            sizes.count(-1) > 1
            or (sizes.count(-1) == 0 and known != shape[d])
            or (sizes.count(-1) == 1 and (known == 0 or shape[d] % known))
        ):
            raise ShapeError(
                f"unflatten: Provided sizes {list(self.unflattened_size)} don't multiply up to the size of "
                f"dim {self.dim} ({shape[d]}) in the input tensor"
            )
        if -1 in sizes:
            sizes[sizes.index(-1)] = shape[d] // known
        return input.reshape(shape[:d] + tuple(sizes) + shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
