"""Embedding: a lookup table of learnable vectors."""

from __future__ import annotations

from typing import Any

import numpy as np

import chainrule
from chainrule import _core
from chainrule._core import Tensor
from chainrule.nn import init
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """weight[input]: (*,) int64 indices -> (*, embedding_dim). weight ~ N(0, 1) initially; the row
    at padding_idx starts at zero and receives no gradient."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        _weight: Tensor | None = None,
        device: Any = None,
        dtype: _core.dtype | None = None,
    ):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Padding_idx must be within num_embeddings ({num_embeddings}), got {padding_idx}"
                )
            if padding_idx < 0:
                padding_idx += num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(_core._empty(num_embeddings, embedding_dim, dtype=dtype))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                    f"{(num_embeddings, embedding_dim)}"
                )
            self.weight = Parameter(_weight)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            rows = np.array(self.weight.detach())
            rows[self.padding_idx] = 0
            init._copy_(self.weight, rows)

    @classmethod
    def from_pretrained(
        cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        if embeddings.dim() != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        emb = cls(rows, cols, padding_idx=padding_idx, _weight=embeddings)
        emb.weight.requires_grad_(not freeze)
        return emb

    def forward(self, input: Tensor) -> Tensor:
        if input.dtype != chainrule.int64:
            raise TypeError(f"Embedding: expected int64 indices, got {input.dtype}")
        flat = input.reshape(-1)
        out = chainrule.index_select(self.weight, 0, flat)
        if self.padding_idx is not None and self.weight.requires_grad:
            # same values, but rows looked up at padding_idx take their value from a detached copy,
            # so that row of weight gets no gradient
            keep = (flat != self.padding_idx).unsqueeze(1)
            out = chainrule.where(keep, out, out.detach())
        return out.reshape(*input.shape, self.embedding_dim)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
