"""``chainrule.autograd.forward_ad``: forward-mode AD with PyTorch's API.

    with fwAD.dual_level():
        x = fwAD.make_dual(primal, tangent)
        y = f(x)
        jvp = fwAD.unpack_dual(y).tangent

Tangents are computed from the recorded reverse-mode graph with the double-backward trick: for
the duals x_i that y depends on, J_i t_i summed over i is the gradient, with respect to a dummy
output gradient u, of sum_i <J_i^T u, t_i>. Each op's derivative therefore comes from its entry in
the derivatives table (its reverse formula, differentiated once more); no separate forward rules
exist to drift from the backward ones. The cost is two backward passes per ``unpack_dual``.
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

# One entry per open level: the duals made at that level, as (dual, tangent) pairs.
_levels: list[list[tuple[Tensor, Tensor]]] = []


class UnpackedDualTensor(NamedTuple):
    """What unpack_dual returns: the primal value and its tangent (None without one)."""

    primal: Tensor
    tangent: Tensor | None


def enter_dual_level() -> int:
    """Opens a new level (dual_level does this for a with-block) and returns its index."""
    if _levels:
        raise ArgumentError("forward_ad: nested dual levels are not supported (as in PyTorch)")
    _levels.append([])
    return len(_levels) - 1


def exit_dual_level(*, level: int | None = None) -> None:
    """Closes the current level: its duals lose their tangents."""
    if not _levels:
        raise ArgumentError("forward_ad: no dual level is open")
    _levels.pop()


class dual_level:
    """Context manager for a forward-AD level: duals made inside carry tangents until it exits."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: object) -> None:
        exit_dual_level()


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A tensor equal to ``tensor`` that carries ``tangent`` (same shape, floating) through the
    ops applied to it inside the current dual level."""
    if not _levels:
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
        dual = tensor.view_as(tensor) if tensor.requires_grad else tensor.detach().requires_grad_(True)
    _levels[-1].append((dual, tangent.detach().to(tensor.dtype)))
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent) of ``tensor``: its tangent is the directional derivative along the
    tangents of the duals it was computed from (None when it depends on none)."""
    if not _levels or not isinstance(tensor, Tensor):
        return UnpackedDualTensor(tensor, None)
    duals = _levels[-1]
    for d, t in duals:
        if d is tensor:
            return UnpackedDualTensor(tensor, t)
    if not tensor.requires_grad or not tensor.is_floating_point() or not duals:
        return UnpackedDualTensor(tensor, None)
    from chainrule.autograd import grad

    with _core_enable_grad():
        u = _core.zeros_like(tensor, requires_grad=True)
        vjps = grad([tensor], [d for d, _ in duals], [u], create_graph=True, allow_unused=True)
        terms = [(g * t).sum() for g, (_, t) in zip(vjps, duals) if g is not None]
        if not terms:
            return UnpackedDualTensor(tensor, None)
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        if not total.requires_grad:  # linear in u with no path: the tangent is zero
            return UnpackedDualTensor(tensor, _core.zeros_like(tensor))
        (jvp,) = grad([total], [u], allow_unused=True)
    tangent = _core.zeros_like(tensor) if jvp is None else jvp.detach()
    return UnpackedDualTensor(tensor, tangent)


class _core_enable_grad:
    def __enter__(self) -> None:
        self.prev = _core.is_grad_enabled()
        _core._set_grad_enabled(True)

    def __exit__(self, *exc: Any) -> None:
        _core._set_grad_enabled(self.prev)
