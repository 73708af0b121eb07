"""Python-side parts of Tensor: factories, repr, backward, hooks, conversions to Python objects.

The hot paths (operators, ops, backward traversal) are C++; this module adds the methods where a
Python implementation costs nothing that matters.
"""

from __future__ import annotations

import builtins

import numpy as np

from chainrule import _core
from chainrule._core import Tensor


def tensor(data, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Copies ``data`` (nested lists, numbers, NumPy arrays, tensors) into a new tensor.

    Python floats become float32, ints int64, bools bool; NumPy arrays keep their dtype.
    """
    return _core._tensor(data, dtype, requires_grad)


def _factory(core_fn):
    def make(*size, dtype=None, requires_grad=False, device=None, out=None):
        t = core_fn(*size, dtype=dtype)
        if requires_grad:
            t.requires_grad_(True)
        return t

    return make


zeros = _factory(_core._zeros)
ones = _factory(_core._ones)
empty = _factory(_core._empty)
zeros.__name__, ones.__name__, empty.__name__ = "zeros", "ones", "empty"
zeros.__doc__ = "A tensor filled with 0 (float32 unless dtype is given)."
ones.__doc__ = "A tensor filled with 1 (float32 unless dtype is given)."
empty.__doc__ = "A new tensor; chainrule fills it with 0 so that no stale memory is ever exposed."


# ---- autograd ----------------------------------------------------------------------------------
def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Computes the gradient of this tensor w.r.t. graph leaves and accumulates it into ``.grad``."""
    from chainrule.autograd import backward

    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` disables the hook."""

    def __init__(self, flag):
        self._flag = flag

    def remove(self) -> None:
        self._flag.disable()


def _register_hook(self, hook):
    """Registers ``hook(grad) -> Tensor or None`` to run when this tensor's gradient is computed."""
    if not callable(hook):
        raise TypeError("register_hook expects a callable")
    flag = _core._HookFlag()
    self._register_hook(hook, flag)
    return RemovableHandle(flag)


# ---- conversions and printing ------------------------------------------------------------------
def _format_data(t: Tensor) -> str:
    arr = np.asarray(t)
    if arr.dtype == np.bool_:
        body = np.array2string(arr, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)
    elif arr.dtype.kind == "i":
        body = np.array2string(arr, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)
    else:
        body = np.array2string(
            arr,
            separator=", ",
            prefix="tensor(",
            threshold=1000,
            edgeitems=3,
            precision=4,
            floatmode="maxprec_equal",
            suppress_small=False,
        )
    return body


def _repr(self) -> str:
    body = _format_data(self)
    extras = []
    if self.numel() == 0 and self.ndim > 1:
        extras.append(f"size={tuple(self.shape)}")
    if self.dtype not in (_core.float32, _core.int64, _core.bool) or (
        self.numel() == 0 and self.dtype != _core.float32
    ):
        extras.append(f"dtype={self.dtype!r}")
    if self.grad_fn is not None:
        extras.append(f"grad_fn=<{self.grad_fn.name()}>")
    elif self.requires_grad:
        extras.append("requires_grad=True")
    if extras:
        return "tensor(" + body + ", " + ", ".join(extras) + ")"
    return "tensor(" + body + ")"


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    for i in builtins.range(self.shape[0]):
        yield self[i]


def _format(self, spec):
    if self.ndim == 0:
        return format(self.item(), spec)
    return format(repr(self), spec)


def _reduce(self):
    return (_rebuild, (np.array(self.detach()), self.requires_grad))


def _rebuild(arr, requires_grad):
    return tensor(arr, requires_grad=requires_grad)


def _deepcopy(self, memo):
    if id(self) in memo:
        return memo[id(self)]
    from chainrule.autograd.grad_mode import no_grad

    with no_grad():
        out = self.clone()
    if self.is_leaf:
        out.requires_grad_(self.requires_grad)
    if self.grad is not None:
        out.grad = self.grad.clone()
    memo[id(self)] = out
    return out


Tensor.backward = _backward
Tensor.register_hook = _register_hook
Tensor.tolist = lambda self: np.asarray(self).tolist()
Tensor.__repr__ = _repr
Tensor.__str__ = _repr
Tensor.__iter__ = _iter
Tensor.__format__ = _format
Tensor.__reduce__ = _reduce
Tensor.__deepcopy__ = _deepcopy
Tensor.__array_priority__ = 1000
