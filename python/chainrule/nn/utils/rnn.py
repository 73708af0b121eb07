"""``chainrule.nn.utils.rnn``: batching variable-length sequences."""

from __future__ import annotations

from collections.abc import Sequence

from chainrule import _core
from chainrule._core import ArgumentError, ShapeError, Tensor

__all__ = ["pad_sequence"]


def pad_sequence(
    sequences: Sequence[Tensor] | Tensor,
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stacks tensors of shape (L_i, *) into (max L, B, *) (or (B, max L, *) with batch_first),
    filling with ``padding_value`` on the right (or the left) of the shorter ones. Differentiable."""
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    seqs = list(sequences)
    if not seqs:
        raise ArgumentError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ArgumentError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    trailing = tuple(seqs[0].shape[1:])
    for s in seqs:
        if not isinstance(s, Tensor) or s.dim() < 1:
            raise TypeError("pad_sequence: expected a sequence of tensors with at least one dim")
        if tuple(s.shape[1:]) != trailing:
            raise ShapeError(f"pad_sequence: the trailing shapes differ: {tuple(s.shape[1:])} and {trailing}")
    longest = max(s.shape[0] for s in seqs)
    rows = []
    for s in seqs:
        missing = longest - s.shape[0]
        if missing:
            pad = _core.full((missing, *trailing), padding_value, dtype=s.dtype)
            s = _core.cat([s, pad] if padding_side == "right" else [pad, s], 0)
        rows.append(s)
    out = _core.stack(rows, 0)
    return out if batch_first else out.transpose(0, 1)
