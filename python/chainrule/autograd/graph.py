"""``chainrule.autograd.graph``: the recorded graph's node type and saved-tensor hooks.

``saved_tensors_hooks(pack_hook, unpack_hook)`` changes how every tensor saved for backward inside
the block is kept: ``pack_hook(tensor)`` returns what to store (a copy, a compressed form, a file
name...) and ``unpack_hook(stored)`` gives the tensor back when backward needs it (Note [Saved
tensor hooks] in csrc/core/node.h). Hooks nest; the innermost applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule import _core
from chainrule._core import Node, Tensor

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks"]


class saved_tensors_hooks:
    """Context manager: tensors saved for backward inside it go through pack_hook / unpack_hook."""

    def __init__(self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Tensor]) -> None:
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("saved_tensors_hooks: pack_hook and unpack_hook must be callable")
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        _core._push_saved_tensors_hooks(self.pack_hook, self.unpack_hook)
        return self

    def __exit__(self, *exc: object) -> None:
        _core._pop_saved_tensors_hooks()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors kept in CPU memory: every chainrule tensor already is, so they are kept as they
    are (``pin_memory`` is accepted and has no effect)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(lambda t: t, lambda t: t)


def _refuse(message: str) -> Callable[..., Any]:
    def hook(*args: Any) -> Any:
        raise _core.AutogradError(message)

    return hook


class disable_saved_tensors_hooks:
    """Inside this block, saving a tensor for backward raises ``error_message`` (code that must not
    run under saved-tensor hooks says so)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> disable_saved_tensors_hooks:
        _core._push_saved_tensors_hooks(_refuse(self.error_message), _refuse(self.error_message))
        return self

    def __exit__(self, *exc: object) -> None:
        _core._pop_saved_tensors_hooks()
