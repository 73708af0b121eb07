"""Anomaly detection for the autograd engine (PyTorch's ``torch.autograd.anomaly_mode``).

While anomaly mode is on, every recorded op keeps a short traceback of the forward call that
created it (``grad_fn._creation_trace``), and backward raises ``RuntimeError`` as soon as a node
produces NaN or Inf in one of its output gradients, naming the op (its ``grad_fn`` name), the shapes
of its inputs and the file and line of that forward call. The flag is checked in C++ once per node
creation and once per node run; with the mode off nothing else is paid (see Note [Anomaly mode] in
``csrc/core/node.h``).
"""

from __future__ import annotations

import functools
import linecache
import os
import sys
import warnings
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, TypeVar

from chainrule import _core

__all__ = [
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
]

_F = TypeVar("_F", bound=Callable[..., Any])

# Frames from the library itself are left out of the recorded trace, so that it starts at the
# user's line. The package directory is everything under python/chainrule.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_MAX_FRAMES = 8


def _user_frame(frame: FrameType) -> bool:
    filename = frame.f_code.co_filename
    return not filename.startswith(_PACKAGE_DIR) and not filename.startswith("<frozen")


def _capture_stack() -> str:
    """The innermost user frames of the current Python stack, outermost first, formatted like a
    traceback (``File "x.py", line 12, in f`` and the source line); files below the working
    directory are shown relative to it."""
    frame: FrameType | None = sys._getframe(1)
    frames: list[FrameType] = []
    while frame is not None and len(frames) < _MAX_FRAMES:
        if _user_frame(frame):
            frames.append(frame)
        frame = frame.f_back
    lines = []
    cwd = os.getcwd() + os.sep
    for f in reversed(frames):
        filename, lineno, name = f.f_code.co_filename, f.f_lineno, f.f_code.co_name
        shown = filename[len(cwd) :] if filename.startswith(cwd) else filename  # short below the cwd
        lines.append(f'  File "{shown}", line {lineno}, in {name}')
        source = linecache.getline(filename, lineno).strip()
        if source:
            lines.append(f"    {source}")
    return "\n".join(lines)


_core._set_anomaly_stack_capture(_capture_stack)


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on (``torch.is_anomaly_enabled``)."""
    return bool(_core._is_anomaly_enabled())


def is_anomaly_check_nan_enabled() -> bool:
    """True while anomaly detection also checks gradients for NaN and Inf
    (``torch.is_anomaly_check_nan_enabled``)."""
    return bool(_core._is_anomaly_check_nan_enabled())


def _set(mode: bool, check_nan: bool) -> None:
    if not isinstance(mode, bool):
        raise TypeError(f"set_detect_anomaly: mode must be a bool, got {type(mode).__name__}")
    _core._set_anomaly_enabled(mode, bool(check_nan))


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on, as PyTorch's.

    Ops recorded inside remember the forward call that created them; a backward run inside that
    produces NaN or Inf in some node's gradient raises ``RuntimeError`` naming that node, its input
    shapes and that forward call (with ``check_nan=False`` only the traces are recorded). The
    previous setting is restored on exit. It warns, as PyTorch does, that the mode slows programs
    down: use it for debugging. Unlike PyTorch's class, an instance can also decorate a function.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = is_anomaly_enabled()
        self.check_nan = check_nan
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
            "enabled for debugging.",
            stacklevel=2,
        )

    def __enter__(self) -> None:
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        _set(True, self.check_nan)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _set(self.prev, self.prev_check_nan)

    def __call__(self, fn: _F) -> _F:
        check_nan = self.check_nan

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev, prev_check_nan = is_anomaly_enabled(), is_anomaly_check_nan_enabled()
            _set(True, check_nan)
            try:
                return fn(*args, **kwargs)
            finally:
                _set(prev, prev_check_nan)

        return wrapper  # type: ignore[return-value]


class set_detect_anomaly:
    """Turns anomaly detection on or off, as PyTorch's: as a call (the setting stays) or as a
    context manager (the previous setting comes back on exit)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _set(self.prev, self.prev_check_nan)
