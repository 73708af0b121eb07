"""Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""

from __future__ import annotations

import math
from collections.abc import Iterable

from chainrule import _core
from chainrule._core import Tensor


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scales the gradients of ``parameters`` in place so that their joint ``norm_type``-norm is
    at most ``max_norm``; returns the norm before clipping as a 0-d tensor.

    One C++ pass computes the norm over all gradients (accumulated in float64 over fixed chunks,
    so it does not depend on the thread count), then one pass multiplies every gradient by
    ``min(max_norm / (total + 1e-6), 1)``, as PyTorch does.

    ``max_norm`` must be a non-negative number (``inf`` disables clipping); a negative or NaN
    value raises ValueError instead of flipping the signs of the gradients or filling them with
    NaN. With ``error_if_nonfinite=True`` a total norm that is ``nan``, ``inf`` or ``-inf``
    raises RuntimeError and leaves the gradients untouched; with the default ``False`` they are
    scaled by the non-finite norm, as PyTorch does. ``foreach`` only selects PyTorch's
    implementation and is accepted and ignored: the kernel always handles all gradients at once.
    """
    norm_type = float(norm_type)
    max_norm = float(max_norm)
    if not max_norm >= 0.0:  # also catches NaN
        raise ValueError(f"clip_grad_norm_: max_norm must be a non-negative number, got {max_norm}")
    grads = _grads(parameters)
    total = _core._total_norm(grads, norm_type)
    if not grads:
        return total
    # read into Python only when asked to check (a compiled step cannot read values: chainrule.compile)
    if error_if_nonfinite and (math.isnan(value := total.item()) or math.isinf(value)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    _core._clip_by_total_norm_(grads, max_norm, total)
    return total


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    """Clamps every gradient element of ``parameters`` to [-clip_value, clip_value] in place."""
    _core._clamp_abs_(_grads(parameters), float(clip_value))
