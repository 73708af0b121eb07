"""``chainrule.autograd.forward_ad``: forward-mode AD with PyTorch's API.

    with fwAD.dual_level():
        x = fwAD.make_dual(primal, tangent)
        y = f(x)
        jvp = fwAD.unpack_dual(y).tangent

Every op run inside the level computes its output's tangent as it runs (Note [Forward AD] in
``csrc/core/forward_ad.h``): by the JVP rule its entry in the derivatives table declares
(elementwise ops, reductions, matmul, activations, softmax), or, for ops without one, by
differentiating that op's backward formula once more. Tangents carry no history, and ops run
with grad mode off (``no_grad``) do not propagate them. A dual is a differentiable view of its
primal, so reverse mode still works through it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from chainrule import _core
from chainrule._core import ArgumentError, ShapeError, Tensor

__all__ = [
    "dual_level",
    "make_dual",
    "unpack_dual",
    "UnpackedDualTensor",
    "enter_dual_level",
    "exit_dual_level",
]

_open = [False]


class UnpackedDualTensor(NamedTuple):
    """What unpack_dual returns: the primal value and its tangent (None without one)."""

    primal: Tensor
    tangent: Tensor | None


def enter_dual_level() -> int:
    """Opens a new level (dual_level does this for a with-block) and returns its index."""
    if _open[0]:
        raise ArgumentError("forward_ad: nested dual levels are not supported")
    _core._fw_enter_level()
    _open[0] = True
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Closes the current level: every tangent computed in it is dropped."""
    if not _open[0]:
        raise ArgumentError("forward_ad: no dual level is open")
    _core._fw_exit_level()
    _open[0] = False


class dual_level:
    """Context manager for a forward-AD level: duals made inside carry tangents until it exits."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: object) -> None:
        exit_dual_level()


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A tensor equal to ``tensor`` that carries ``tangent`` (same shape, floating) through the
    ops applied to it inside the current dual level."""
    if not _open[0]:
        raise ArgumentError("make_dual: must be called inside a forward_ad.dual_level() block")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual: expected tensors for the primal and the tangent")
    if not tensor.is_floating_point():
        raise _core.DTypeError(f"make_dual: expected a floating point primal, got {tensor.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise ShapeError(
            f"make_dual: the tangent's shape {tuple(tangent.shape)} must match the primal's "
            f"{tuple(tensor.shape)}"
        )
    with _core_enable_grad():
        base = tensor if tensor.requires_grad else tensor.detach().requires_grad_(True)
        dual = base.view_as(base)
    _core._fw_set_tangent(dual, tangent.detach().to(tensor.dtype))
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent) of ``tensor``: its tangent is the directional derivative along the
    tangents of the duals it was computed from (None when it depends on none)."""
    if not _open[0] or not isinstance(tensor, Tensor) or tensor.grad_fn is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(tensor, _core._fw_tangent(tensor))


class _core_enable_grad:
    def __enter__(self) -> None:
        self.prev = _core.is_grad_enabled()
        _core._set_grad_enabled(True)

    def __exit__(self, *exc: Any) -> None:
        _core._set_grad_enabled(self.prev)
