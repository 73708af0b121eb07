"""no_grad / enable_grad / set_grad_enabled: context managers and decorators over the engine's
thread-local grad mode."""

from __future__ import annotations

import functools
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
