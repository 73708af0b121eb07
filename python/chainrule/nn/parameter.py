"""Parameter: a Tensor that a Module registers as one of its learnable parameters."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import _core
from chainrule._core import Tensor


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning one to a Module attribute registers it.

    ``Parameter(data, requires_grad=True)`` shares memory with ``data`` (no copy) and is a leaf.
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = _core._empty(0, dtype=None)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a Tensor as data, got {type(data).__name__}")
        super().__init__(data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __deepcopy__(self, memo: dict[int, Any]) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self.detach().clone(), self.requires_grad)
        if self.grad is not None:
            out.grad = self.grad.detach().clone()
        memo[id(self)] = out
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_parameter, (np.array(self.detach()), self.requires_grad))


def _rebuild_parameter(arr: np.ndarray, requires_grad: bool) -> Parameter:
    return Parameter(_core._tensor(arr, None, False), requires_grad)


class Buffer(Tensor):
    """A tensor that is module state but not a parameter: assigning one to a Module attribute
    registers it as a buffer (``persistent=False`` keeps it out of state_dict()). It shares memory
    with ``data``."""

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = _core._empty(0, dtype=None)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Buffer expects a Tensor as data, got {type(data).__name__}")
        super().__init__(data)
        self.persistent = persistent


# Their operators are Tensor's: `p * p` takes the exact Tensor's path (Note [Operator number slots]).
_core._install_number_slots(Parameter)
_core._install_number_slots(Buffer)
