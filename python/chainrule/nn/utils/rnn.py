"""``chainrule.nn.utils.rnn``: batching variable-length sequences.

A :class:`PackedSequence` holds a batch of sequences of different lengths, sorted longest first,
as PyTorch lays it out: ``data`` stacks the elements step by step (every sequence's first element,
then every second element of the sequences that have one, ...) and ``batch_sizes[t]`` says how
many sequences have a step t. The recurrent modules (``nn.RNN``, ``nn.LSTM``, ``nn.GRU``) accept one
and run each sequence over its own length only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from chainrule import _core
from chainrule._core import ArgumentError, ShapeError, Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "pack_sequence",
    "unpad_sequence",
    "unpack_sequence",
]


def _index(values: Any) -> Tensor:
    return _core._tensor(np.asarray(values, dtype=np.int64).reshape(-1), _core.int64, False)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation given as an int64 tensor (None stays None)."""
    if permutation is None:
        return None
    perm = np.asarray(permutation.tolist(), dtype=np.int64)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size, dtype=np.int64)
    return _index(inv)


class _PackedSequenceBase(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceBase):
    """A batch of variable-length sequences packed step by step (PyTorch's PackedSequence).

    Fields: ``data`` (sum of lengths, *), ``batch_sizes`` (int64, one per step), and
    ``sorted_indices`` / ``unsorted_indices`` (int64 permutations between the caller's batch order
    and the longest-first order of ``data``; None when the batch was already sorted). Build one
    with :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand."""

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if batch_sizes is None:
            raise ArgumentError("PackedSequence: batch_sizes must be given (use pack_padded_sequence)")
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same sequence with ``data.to(*args, **kwargs)`` (the index tensors are unchanged)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self) -> PackedSequence:
        return self

    def double(self) -> PackedSequence:
        return self.to(dtype=_core.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=_core.float32)

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def _lengths_list(lengths: Any, op: str) -> list[int]:
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise ShapeError(
                f"{op}: 'lengths' argument should be a 1D tensor, but got a {lengths.dim()}D tensor"
            )
        values = lengths.tolist()
    else:
        values = list(lengths)
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError):
        raise TypeError(f"{op}: lengths must be integers, got {values!r}") from None


def _batch_sizes(sorted_lengths: list[int]) -> list[int]:
    """batch_sizes[t] = number of sequences longer than t, for lengths sorted longest first."""
    if not sorted_lengths:
        return []
    return [sum(1 for n in sorted_lengths if n > t) for t in range(sorted_lengths[0])]


def _packed_rows(batch_sizes: list[int], time_stride: int, batch_stride: int) -> np.ndarray:
    """Row of a flattened padded (T, B) or (B, T) tensor for every element of packed data."""
    rows = [t * time_stride + b * batch_stride for t, n in enumerate(batch_sizes) for b in range(n)]
    return np.asarray(rows, dtype=np.int64)


def _pack_padded(input: Tensor, sorted_lengths: list[int], batch_first: bool) -> tuple[Tensor, Tensor]:
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    batch_sizes = _batch_sizes(sorted_lengths)
    # (t, b) sits at row t * B + b of the (T*B, *) flattening, or b * T + t when batch-first
    rows = _packed_rows(batch_sizes, 1 if batch_first else batch, steps if batch_first else 1)
    flat = input.reshape(steps * batch, *input.shape[2:])
    return flat.index_select(0, _index(rows)), _index(batch_sizes)


def pack_padded_sequence(
    input: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Packs a padded (T, B, *) batch (or (B, T, *) with batch_first) whose sequence b has
    ``lengths[b]`` valid steps. With ``enforce_sorted`` the lengths must be non-increasing;
    otherwise the batch is sorted here (stably, longest first) and the permutation kept in
    ``sorted_indices``. Differentiable in ``input``."""
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.dim() < 2:
        raise ShapeError(
            f"{op}: expected input with at least 2 dims (T, B, *), got shape {tuple(input.shape)}"
        )
    lens = _lengths_list(lengths, op)
    batch_dim = 0 if batch_first else 1
    batch = input.shape[batch_dim]
    steps = input.shape[1 - batch_dim]
    if len(lens) != batch:
        raise ShapeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(lens)} (batch_size={batch})"
        )
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise ArgumentError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can "
                "pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this "
                "requirement if you do not need ONNX exportability."
            )
    else:
        order = np.argsort(-np.asarray(lens, dtype=np.int64), kind="stable")
        sorted_indices = _index(order)
        input = input.index_select(batch_dim, sorted_indices)
        lens = [lens[i] for i in order]
    if lens and lens[-1] <= 0:
        raise ArgumentError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if lens and lens[0] > steps:
        raise ShapeError(
            f"{op}: a length of {lens[0]} exceeds the padded sequence length {steps} of the input"
        )
    data, batch_sizes = _pack_padded(input, lens, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def _padded_rows(batch_sizes: list[int], order: list[int], total: int, batch_first: bool) -> np.ndarray:
    """For each position of a padded (total, B) (or (B, total)) result, the packed row it comes
    from, or the padding row (one past the data) where the sequence has ended. ``order[b]`` is the
    packed (sorted) position of output batch entry b."""
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)]).astype(np.int64)
    pad = int(offsets[-1])
    batch = len(order)
    rows = np.full((total, batch), pad, dtype=np.int64)
    for t, n in enumerate(batch_sizes):
        for b, s in enumerate(order):
            if s < n:
                rows[t, b] = offsets[t] + s
    return rows.T.reshape(-1) if batch_first else rows.reshape(-1)


def _unpack(
    data: Tensor,
    batch_sizes: list[int],
    order: list[int],
    total: int,
    batch_first: bool,
    padding_value: float,
) -> Tensor:
    pad = _core.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    rows = _padded_rows(batch_sizes, order, total, batch_first)
    out = _core.cat([data, pad], 0).index_select(0, _index(rows))
    lead = (len(order), total) if batch_first else (total, len(order))
    return out.reshape(*lead, *data.shape[1:])


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """The inverse of :func:`pack_padded_sequence`: (padded (T, B, *) or (B, T, *), lengths), in
    the batch order the sequences were packed from, padded with ``padding_value`` up to the longest
    sequence or ``total_length``. Differentiable in ``sequence.data``."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    batch_sizes = [int(v) for v in sequence.batch_sizes.tolist()]
    max_len = len(batch_sizes)
    if total_length is not None:
        if total_length < max_len:
            raise ArgumentError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {max_len}"
            )
    total = max_len if total_length is None else int(total_length)
    batch = batch_sizes[0] if batch_sizes else 0
    unsorted = sequence.unsorted_indices
    order = list(range(batch)) if unsorted is None else [int(v) for v in unsorted.tolist()]
    padded = _unpack(sequence.data, batch_sizes, order, total, batch_first, padding_value)
    sorted_lengths = [sum(1 for n in batch_sizes if n > b) for b in range(batch)]
    return padded, _index([sorted_lengths[s] for s in order])


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


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Packs a list of (L_i, *) tensors: ``pack_padded_sequence(pad_sequence(sequences), lengths)``.
    With ``enforce_sorted`` they must come longest first."""
    seqs = list(sequences)
    if not seqs:
        raise ArgumentError("pack_sequence: received an empty list of sequences")
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.dim() >= 1 else 0 for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False
) -> list[Tensor]:
    """The list of sequences of a padded batch, each cut to its length (the inverse of pad_sequence)."""
    lens = _lengths_list(lengths, "unpad_sequence")
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    if len(lens) != padded_sequences.shape[0]:
        raise ShapeError(
            f"unpad_sequence: expected {padded_sequences.shape[0]} lengths (one per sequence), "
            f"got {len(lens)}"
        )
    return [padded_sequences[b, :n] for b, n in enumerate(lens)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences of a PackedSequence, in the order they were packed from."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
