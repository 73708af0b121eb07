"""Flattening parameters to one vector and back, as torch.nn.utils."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

import chainrule
from chainrule import _core
from chainrule._core import Tensor


def _as_list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    params = list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"expected an iterable of Tensors, got an element of type {type(p).__name__}")
    return params


def parameters_to_vector(parameters: Tensor | Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-d tensor (differentiable when
    chainrule.cat is available)."""
    params = _as_list(parameters)
    cat = getattr(chainrule, "cat", None)
    if cat is not None:
        return cat([p.reshape(-1) for p in params])
    arrays = [np.asarray(p.detach()).reshape(-1) for p in params]
    dtype = np.result_type(*arrays) if arrays else np.float32
    return chainrule.tensor(
        np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)
    )


def vector_to_parameters(vec: Tensor, parameters: Tensor | Iterable[Tensor]) -> None:
    """Copies consecutive slices of the 1-d ``vec`` into ``parameters`` in place."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    _core._copy_from_flat_(vec.detach(), _as_list(parameters))
