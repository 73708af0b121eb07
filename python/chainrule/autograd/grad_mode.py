"""no_grad / enable_grad / set_grad_enabled: context managers and decorators over the engine's
thread-local grad mode."""

from __future__ import annotations

import functools

from chainrule import _core


class _GradModeContext:
    _enabled: bool

    def __enter__(self):
        self._prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self._enabled)
        return self

    def __exit__(self, *exc):
        _core._set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Disables gradient recording inside the block (or the decorated function)."""

    _enabled = False


class enable_grad(_GradModeContext):
    """Enables gradient recording inside the block, e.g. within a ``no_grad`` region."""

    _enabled = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode to ``mode``; as a function call it takes effect immediately, as a context
    manager it is restored on exit."""

    def __init__(self, mode: bool):
        self._enabled = bool(mode)
        self._prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self._enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _core._set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        mode = self._enabled
        _core._set_grad_enabled(self._prev)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper
