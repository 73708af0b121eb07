"""Python-side parts of Tensor: factories, repr, backward, hooks, conversions to Python objects.

The hot paths (operators, ops, backward traversal) are C++; this module adds the methods where a
Python implementation costs nothing that matters.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Sequence
from typing import Any, SupportsIndex

import numpy as np

from chainrule import _core
from chainrule._core import Tensor


def tensor(
    data: Any, dtype: _core.dtype | None = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Copies ``data`` (nested lists, numbers, NumPy arrays, tensors) into a new tensor.

    Python floats become float32, ints int64, bools bool; NumPy arrays keep their dtype.
    """
    _core._check_device(device, "tensor")
    if dtype is None and isinstance(data, (list, tuple)) and _has_numpy_float64(data):
        dtype = _core.float64  # NumPy float64 scalars keep their width, as in torch.tensor
    return _core._tensor(data, dtype, requires_grad)


def _has_numpy_float64(data: Any) -> bool:
    """Whether a nested list holds a NumPy float64 scalar (and no tensor or array deciding instead)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, np.float64):
            return True
    return False


def _make(
    core_fn: Callable[..., Tensor], size: tuple[Any, ...], dtype: _core.dtype | None, requires_grad: bool
) -> Tensor:
    t = core_fn(*size, dtype=dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _create(
    name: str,
    core_fn: Callable[..., Tensor],
    size: tuple[Any, ...],
    dtype: _core.dtype | None,
    requires_grad: bool,
    out: Any,
) -> Tensor:
    if out is not None:
        return _write_out(name, _make(core_fn, size, dtype or out.dtype, False), out)
    return _make(core_fn, size, dtype, requires_grad)


def _write_out(name: str, result: Tensor, out: Any) -> Tensor:
    """``out=``: writes the result into ``out`` (same shape and dtype; chainrule never resizes) and
    returns ``out``, as PyTorch does; out= is not differentiable."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out.requires_grad:
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad."
        )
    if tuple(out.shape) != tuple(result.shape):
        raise _core.ShapeError(
            f"{name}(): out= has shape {tuple(out.shape)} but the result has shape "
            f"{tuple(result.shape)}; chainrule does not resize out= tensors"
        )
    if out.dtype != result.dtype:
        raise _core.DTypeError(f"{name}(): expected out= to have dtype {result.dtype}, got {out.dtype}")
    out.copy_(result)
    return out


def zeros(
    *size: SupportsIndex | Sequence[SupportsIndex],
    dtype: _core.dtype | None = None,
    requires_grad: bool = False,
    device: Any = None,
    out: Any = None,
) -> Tensor:
    """A tensor filled with 0 (float32 unless dtype is given)."""
    _core._check_device(device, "zeros")
    return _create("zeros", _core._zeros, size, dtype, requires_grad, out)


def ones(
    *size: SupportsIndex | Sequence[SupportsIndex],
    dtype: _core.dtype | None = None,
    requires_grad: bool = False,
    device: Any = None,
    out: Any = None,
) -> Tensor:
    """A tensor filled with 1 (float32 unless dtype is given)."""
    _core._check_device(device, "ones")
    return _create("ones", _core._ones, size, dtype, requires_grad, out)


def empty(
    *size: SupportsIndex | Sequence[SupportsIndex],
    dtype: _core.dtype | None = None,
    requires_grad: bool = False,
    device: Any = None,
    out: Any = None,
) -> Tensor:
    """A new tensor; chainrule fills it with 0 so that no stale memory is ever exposed."""
    _core._check_device(device, "empty")
    return _create("empty", _core._empty, size, dtype, requires_grad, out)


# ---- autograd ----------------------------------------------------------------------------------
def _backward(
    self: Tensor,
    gradient: Tensor | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensor | Sequence[Tensor] | None = None,
) -> None:
    """Computes the gradient of this tensor w.r.t. graph leaves and accumulates it into ``.grad``."""
    if gradient is None and inputs is None and not create_graph:
        # loss.backward(): straight to the engine (what autograd.backward would end up calling).
        _core._run_backward((self,), None, bool(retain_graph), False, None, False)
        return
    from chainrule.autograd import backward

    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` disables the hook."""

    def __init__(self, flag: _core._HookFlag) -> None:
        self._flag = flag

    def remove(self) -> None:
        self._flag.disable()


def _register_hook(self: Tensor, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
    """Registers ``hook(grad) -> Tensor or None`` to run when this tensor's gradient is computed."""
    if not callable(hook):
        raise TypeError("register_hook expects a callable")
    flag = _core._HookFlag()
    self._register_hook(hook, flag)
    return RemovableHandle(flag)


# ---- conversions and printing ------------------------------------------------------------------
def _format_data(t: Tensor) -> str:
    from chainrule._printing import format_tensor_data

    return format_tensor_data(_as_numpy(t.detach()))


def _as_numpy(t: Tensor) -> np.ndarray:
    # bfloat16 has no NumPy dtype: printing and tolist read it through float32, which holds it exactly.
    return np.asarray(t.float() if t.dtype == _core.bfloat16 else t)


def _repr(self: Tensor) -> str:
    body = _format_data(self)
    extras: list[str] = []
    if self.numel() == 0 and self.ndim > 1:
        extras.append(f"size={tuple(self.shape)}")
    default = _core._get_default_dtype()
    if self.dtype not in (default, _core.int64, _core.bool) or (self.numel() == 0 and self.dtype != default):
        extras.append(f"dtype={self.dtype!r}")
    if self.grad_fn is not None:
        extras.append(f"grad_fn=<{self.grad_fn.name()}>")
    elif self.requires_grad:
        extras.append("requires_grad=True")
    from chainrule._printing import add_suffixes

    return add_suffixes("tensor(" + body, extras)


def _iter(self: Tensor) -> Iterator[Tensor]:
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    for i in builtins.range(self.shape[0]):
        yield self[i]


def _format(self: Tensor, spec: str) -> str:
    if self.ndim == 0:
        return format(self.item(), spec)
    return format(repr(self), spec)


def _reduce(self: Tensor) -> tuple[Any, ...]:
    if self.dtype == _core.bfloat16:
        return (_rebuild, (np.array(self.detach().float()), self.requires_grad, "bfloat16"))
    return (_rebuild, (np.array(self.detach()), self.requires_grad))


def _rebuild(arr: np.ndarray, requires_grad: bool, dtype: str | None = None) -> Tensor:
    return tensor(arr, dtype=None if dtype is None else getattr(_core, dtype), requires_grad=requires_grad)


def _deepcopy(self: Tensor, memo: dict[int, Any]) -> Tensor:
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


def _tolist(self: Tensor) -> Any:
    """The data as (nested) Python lists of numbers; a 0-d tensor gives a number."""
    return _as_numpy(self).tolist()


def _as_subclass(self: Tensor, cls: type) -> Any:
    """``self`` as an instance of ``cls``, a subclass of Tensor, without calling ``cls.__init__``:
    a differentiable alias of ``self`` (the same memory, so in-place changes of one show in the
    other; gradients flow back to ``self``), as ``torch.Tensor.as_subclass``."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"as_subclass(): cls must be a subclass of Tensor, got {cls!r}")
    out = Tensor.__new__(cls)
    Tensor.__init__(out, self.view_as(self), _share=True)
    return out


# _core.pyi declares these as Tensor methods: the stub is generated from the class as patched here.
_PYTHON_METHODS: dict[str, Callable[..., Any]] = {
    "backward": _backward,
    "register_hook": _register_hook,
    "tolist": _tolist,
    "as_subclass": _as_subclass,
    "__repr__": _repr,
    "__str__": _repr,
    "__iter__": _iter,
    "__format__": _format,
    "__reduce__": _reduce,
    "__deepcopy__": _deepcopy,
}
for _name, _method in _PYTHON_METHODS.items():
    setattr(Tensor, _name, _method)
Tensor.__array_priority__ = 1000
