"""no_grad / enable_grad / set_grad_enabled / inference_mode: context managers and decorators over
the engine's thread-local grad mode."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Generator
from typing import Any, Callable, Literal, TypeVar, cast

from chainrule import _core

_F = TypeVar("_F", bound=Callable[..., Any])
_C = TypeVar("_C", bound="_GradModeContext")


class _GradModeContext:
    _enabled: bool
    _prev: bool

    def __enter__(self: _C) -> _C:
        self._prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self._enabled)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        _core._set_grad_enabled(self._prev)
        return False

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return cast(_F, wrapper)


class no_grad(_GradModeContext):
    """Disables gradient recording inside the block (or the decorated function)."""

    _enabled = False


class enable_grad(_GradModeContext):
    """Enables gradient recording inside the block, e.g. within a ``no_grad`` region."""

    _enabled = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode to ``mode``; as a function call it takes effect immediately, as a context
    manager it is restored on exit."""

    def __init__(self, mode: bool) -> None:
        self._enabled = bool(mode)
        self._prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self._enabled)

    def __enter__(self) -> set_grad_enabled:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        _core._set_grad_enabled(self._prev)
        return False

    def __call__(self, fn: _F) -> _F:
        mode = self._enabled
        _core._set_grad_enabled(self._prev)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return cast(_F, wrapper)


# ---- inference mode ----------------------------------------------------------------------------
class _InferenceState(threading.local):
    enabled = False


_inference_state = _InferenceState()


def is_inference_mode_enabled() -> bool:
    """Whether the calling thread is inside an ``inference_mode()`` block, as
    ``torch.is_inference_mode_enabled``."""
    return _inference_state.enabled


class inference_mode:
    """Context manager and decorator for code that computes without ever differentiating, as
    ``torch.inference_mode``.

    Inside ``inference_mode()`` (or ``inference_mode(True)``) no graph is recorded, so results do
    not require grad, and ``is_inference_mode_enabled()`` is True. ``inference_mode(False)`` leaves
    inference mode and turns gradient recording on, as it does in PyTorch. Both are restored on
    exit. Usable bare (``@inference_mode``) or called (``@inference_mode()``) as a decorator,
    including on generator functions.

    chainrule implements it with grad mode: tensors made inside are ordinary tensors (PyTorch's
    "inference tensors", which refuse later use in autograd, have no counterpart), and
    ``enable_grad()`` inside the block records a graph again.
    """

    def __new__(cls, mode: bool | Callable[..., Any] = True) -> Any:
        if mode is None or isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # used bare as a decorator: @inference_mode

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)
        self._prev: list[tuple[bool, bool]] = []

    def __enter__(self) -> None:
        self._prev.append((_core.is_grad_enabled(), _inference_state.enabled))
        _core._set_grad_enabled(not self.mode)
        _inference_state.enabled = self.mode

    def __exit__(self, *exc: object) -> Literal[False]:
        grad, inference = self._prev.pop()
        _core._set_grad_enabled(grad)
        _inference_state.enabled = inference
        return False

    def clone(self) -> inference_mode:
        """A fresh context manager with the same mode."""
        return self.__class__(self.mode)

    def __call__(self, fn: _F) -> _F:
        if inspect.isgeneratorfunction(fn):
            return cast(_F, self._wrap_generator(fn))

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return fn(*args, **kwargs)

        return cast(_F, wrapper)

    def _wrap_generator(self, fn: Callable[..., Generator[Any, Any, Any]]) -> Callable[..., Any]:
        # Each resumption of the generator runs in the mode; the caller's code between them does not.
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            with self.clone():
                gen = fn(*args, **kwargs)
            try:
                with self.clone():
                    item = next(gen)
                while True:
                    try:
                        sent = yield item
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException as e:
                        with self.clone():
                            item = gen.throw(e)
                    else:
                        with self.clone():
                            item = gen.send(sent)
            except StopIteration as stop:
                return stop.value

        return wrapper
