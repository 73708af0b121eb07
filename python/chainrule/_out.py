"""``out=`` for the functions PyTorch programs call with it (``torch.matmul(a, b, out=c)``).

The result is computed as usual and copied into ``out`` (converted to its dtype, as PyTorch casts
into an out tensor), which is returned. As in PyTorch, an out= call is not differentiable: it
raises when grad mode is on and an argument requires grad. ``out`` must already have the
result's shape (PyTorch would resize it; chainrule tensors are not resizable)."""

from __future__ import annotations

import functools
from typing import Any, Callable

from chainrule import _core
from chainrule._core import AutogradError, ShapeError, Tensor

# Module functions that take out= in PyTorch and are common in tutorials and training code.
OUT_FUNCTIONS = (
    "add sub mul div true_divide matmul mm bmm mv dot cat stack exp log sqrt abs neg pow clamp "
    "maximum minimum sigmoid tanh sin cos floor ceil round sum mean prod cumsum where"
).split()


def _requires_grad(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor) and a.requires_grad:
            return True
        if isinstance(a, (list, tuple)) and any(isinstance(t, Tensor) and t.requires_grad for t in a):
            return True
    return False


def with_out(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, out: Tensor | None = None, **kwargs: Any) -> Any:
        if out is None:
            return fn(*args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
        if _core.is_grad_enabled() and (out.requires_grad or _requires_grad(args, kwargs)):
            raise AutogradError(
                f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                "but one of the arguments requires grad."
            )
        result = fn(*args, **kwargs)
        if tuple(out.shape) != tuple(result.shape):
            raise ShapeError(
                f"{name}(): out has shape {tuple(out.shape)} but the result has shape {tuple(result.shape)} "
                "(chainrule does not resize out tensors)"
            )
        prev = _core.is_grad_enabled()
        _core._set_grad_enabled(False)
        try:
            out.copy_(result)
        finally:
            _core._set_grad_enabled(prev)
        return out

    return wrapper


def install(namespace: dict[str, Any]) -> None:
    """Replaces each of OUT_FUNCTIONS in ``namespace`` (chainrule's globals) by its out= form."""
    for name in OUT_FUNCTIONS:
        fn = namespace.get(name)
        if callable(fn):
            namespace[name] = with_out(name, fn)
