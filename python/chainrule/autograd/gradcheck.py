"""Finite-difference checks of analytical gradients (first and second order)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from chainrule import _core
from chainrule._core import Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck when an analytical gradient disagrees with the numerical one."""


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _differentiable_outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> tuple[Tensor, ...]:
    out = fn(*inputs)
    return tuple(o for o in _as_tuple(out) if isinstance(o, Tensor) and o.dtype.is_floating_point)


def _numerical_jacobian(
    fn: Callable[..., Any], inputs: Sequence[Any], wrt: list[int], eps: float
) -> list[list[np.ndarray]]:
    """Central differences: one column per perturbed element of each input in ``wrt``."""
    from chainrule.autograd.grad_mode import no_grad

    with no_grad():
        outs = _differentiable_outputs(fn, inputs)
        jac = [[np.zeros((inputs[i].numel(), o.numel())) for o in outs] for i in wrt]
        for k, i in enumerate(wrt):
            x = inputs[i]
            flat = x.detach().numpy().reshape(-1) if x.is_contiguous() else None
            arr = x.detach().numpy()
            for j in range(x.numel()):
                idx = np.unravel_index(j, arr.shape) if arr.ndim else ()
                orig = arr[idx].item() if arr.ndim else arr.item()
                arr[idx] = orig + eps
                plus = [
                    o.detach().numpy().astype(np.float64).reshape(-1).copy()
                    for o in _differentiable_outputs(fn, inputs)
                ]
                arr[idx] = orig - eps
                minus = [
                    o.detach().numpy().astype(np.float64).reshape(-1).copy()
                    for o in _differentiable_outputs(fn, inputs)
                ]
                arr[idx] = orig
                for m in range(len(outs)):
                    jac[k][m][j, :] = (plus[m] - minus[m]) / (2 * eps)
            del flat
    return jac


def _analytical_jacobian(
    fn: Callable[..., Any], inputs: Sequence[Any], wrt: list[int]
) -> list[list[np.ndarray]]:
    from chainrule.autograd import grad

    outs = _differentiable_outputs(fn, inputs)
    jac = [[np.zeros((inputs[i].numel(), o.numel())) for o in outs] for i in wrt]
    for m, o in enumerate(outs):
        for j in range(o.numel()):
            seed = np.zeros(o.numel(), dtype=np.float64)
            seed[j] = 1.0
            g_out = _core._tensor(seed.reshape(o.shape), o.dtype, False)
            gs = grad(o, [inputs[i] for i in wrt], g_out, retain_graph=True, allow_unused=True)
            for k, g in enumerate(gs):
                if g is not None:
                    jac[k][m][:, j] = g.detach().numpy().astype(np.float64).reshape(-1)
    return jac


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    **_ignored: Any,
) -> bool:
    """Compares gradients from backward with central differences, for every input that requires
    grad. Inputs should be float64 (float32 is too coarse for finite differences)."""
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: at least one input tensor must require grad")
    for i in wrt:
        if inputs[i].dtype != _core.float64:
            import warnings

            warnings.warn(
                "gradcheck: input is not float64; the check may fail from rounding alone", stacklevel=2
            )
    numerical = _numerical_jacobian(fn, inputs, wrt, eps)
    analytical = _analytical_jacobian(fn, inputs, wrt)
    for k, i in enumerate(wrt):
        for m in range(len(numerical[k])):
            a, n = analytical[k][m], numerical[k][m]
            if not np.allclose(a, n, atol=atol, rtol=rtol):
                if raise_exception:
                    diff = np.abs(a - n).max()
                    raise GradcheckError(
                        f"Jacobian mismatch for output {m} with respect to input {i} "
                        f"(max abs difference {diff:.3g}),\nnumerical:\n{n}\nanalytical:\n{a}"
                    )
                return False
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    **_ignored: Any,
) -> bool:
    """Checks second derivatives: gradcheck applied to the function that maps the inputs (and the
    output gradients) to the first-order gradients computed with create_graph=True."""
    from chainrule.autograd import grad

    inputs = _as_tuple(inputs)
    outs = _differentiable_outputs(fn, inputs)
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = tuple(
            _core._tensor(rng.standard_normal(o.shape) if o.ndim else rng.standard_normal(), o.dtype, True)
            for o in outs
        )
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_order(*args: Any) -> tuple[Tensor, ...]:
        # The numerical pass calls this under no_grad; the first-order gradients need a graph.
        from chainrule.autograd.grad_mode import enable_grad

        with enable_grad():
            xs, gos = args[:n_in], args[n_in:]
            ys = _differentiable_outputs(fn, xs)
            gs = grad(ys, [xs[i] for i in wrt], gos, create_graph=True, allow_unused=True)
            return tuple(g for g in gs if g is not None)

    return gradcheck(
        first_order,
        tuple(inputs) + tuple(grad_outputs),
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
    )
