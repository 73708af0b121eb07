"""L-BFGS, with an optional strong-Wolfe line search."""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable

from chainrule import _core
from chainrule._core import Tensor
from chainrule.optim._common import check_lr, load_state_dict_with
from chainrule.optim.optimizer import Optimizer, ParamsT

# What obj_func(t) returns in the line search: the loss and the flat gradient at x + t * d.
_Evaluate = Callable[[float], "tuple[float, Tensor]"]


def _dot(a: Tensor, b: Tensor) -> float:
    return float((a @ b).item())


def _abs_max(a: Tensor) -> float:
    return float(a.abs().max().item()) if a.numel() else 0.0


def _cubic_minimizer(
    x1: float,
    f1: float,
    g1: float,
    x2: float,
    f2: float,
    g2: float,
    lo: float | None = None,
    hi: float | None = None,
) -> float:
    """The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to
    [lo, hi] (by default the interval between x1 and x2); the middle of the interval when the cubic
    has no real minimizer."""
    if lo is None or hi is None:
        lo, hi = min(x1, x2), max(x1, x2)
    # With the points ordered so that b is the larger, the cubic's stationary point closest to
    # a minimum is b - (b - a) * (gb + r - s) / (gb - ga + 2 r), where s = ga + gb - 3 (fa - fb) / (a - b)
    # and r = sqrt(s^2 - ga gb).
    s = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = s * s - g1 * g2
    if not disc >= 0:  # also when it is NaN
        return (lo + hi) / 2.0
    r = math.sqrt(disc)
    if x1 <= x2:
        a, b, ga, gb = x1, x2, g1, g2
    else:
        a, b, ga, gb = x2, x1, g2, g1
    x = b - (b - a) * ((gb + r - s) / (gb - ga + 2 * r))
    return min(max(x, lo), hi)


def _strong_wolfe_search(
    evaluate: _Evaluate,
    t: float,
    d: Tensor,
    f: float,
    g: Tensor,
    gtd: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, Tensor, float, int]:
    """A step length t along d satisfying the strong Wolfe conditions
        f(x + t d) <= f + c1 t gtd  and  |g(x + t d) . d| <= -c2 gtd,
    found as in Nocedal & Wright (Algorithms 3.5 and 3.6) and minFunc: first the step grows (by cubic
    extrapolation, at most tenfold) until an interval is bracketed, then the bracket shrinks by
    safeguarded cubic interpolation. Returns (loss, flat gradient, t, evaluations)."""
    d_scale = _abs_max(d)
    f_t, g_t = evaluate(t)
    evals = 1
    gtd_t = _dot(g_t, d)

    # Each point of the search: (step, loss, flat gradient, directional derivative).
    prev = (0.0, f, g.clone(), gtd)
    bracket: list[tuple[float, float, Tensor, float]] = []
    found = False
    it = 0
    while it < max_ls:
        if f_t > f + c1 * t * gtd or (it > 1 and f_t >= prev[1]):
            bracket = [prev, (t, f_t, g_t.clone(), gtd_t)]
            break
        if abs(gtd_t) <= -c2 * gtd:
            bracket = [(t, f_t, g_t, gtd_t)]
            found = True
            break
        if gtd_t >= 0:
            bracket = [prev, (t, f_t, g_t.clone(), gtd_t)]
            break
        # extrapolate: the cubic's minimizer, between a little and ten times past t
        t_next = _cubic_minimizer(prev[0], prev[1], prev[3], t, f_t, gtd_t, t + 0.01 * (t - prev[0]), t * 10)
        prev = (t, f_t, g_t.clone(), gtd_t)
        t = t_next
        f_t, g_t = evaluate(t)
        evals += 1
        gtd_t = _dot(g_t, d)
        it += 1
    if it >= max_ls:
        # out of evaluations while still extrapolating: the last point is taken as it is
        bracket = [(0.0, f, g, gtd), (t, f_t, g_t, gtd_t)]

    # bracket[low] has the lower loss; the other end bounds the interval.
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    stalled = False
    while not found and it < max_ls:
        (a, fa, _, ga), (b, fb, _, gb) = bracket
        if abs(b - a) * d_scale < tolerance_change:
            break
        t = _cubic_minimizer(a, fa, ga, b, fb, gb)
        # Keep the trial away from the ends: if it is within a tenth of the interval of an end
        # (twice in a row, or beyond it), move it to a tenth of the interval from that end.
        lo, hi = min(a, b), max(a, b)
        margin = 0.1 * (hi - lo)
        if min(hi - t, t - lo) < margin:
            if stalled or t >= hi or t <= lo:
                t = hi - margin if abs(t - hi) < abs(t - lo) else lo + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False

        f_t, g_t = evaluate(t)
        evals += 1
        gtd_t = _dot(g_t, d)
        it += 1
        if f_t > f + c1 * t * gtd or f_t >= bracket[low][1]:
            # not a sufficient decrease, or no better than the low end: t becomes the high end
            bracket[high] = (t, f_t, g_t.clone(), gtd_t)
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_t) <= -c2 * gtd:
                found = True
            elif gtd_t * (bracket[high][0] - bracket[low][0]) >= 0:
                # the slope points away from the high end: the old low end becomes the high end
                bracket[high] = bracket[low]
            bracket[low] = (t, f_t, g_t.clone(), gtd_t)

    t, f_t, g_t, _ = bracket[low]
    return f_t, g_t, t, evals


class LBFGS(Optimizer):
    """L-BFGS (Nocedal 1980, "Updating Quasi-Newton Matrices with Limited Storage"; Liu & Nocedal
    1989), as torch.optim.LBFGS, which follows minFunc: each ``step(closure)`` runs up to
    ``max_iter`` iterations (and ``max_eval`` evaluations of ``closure``) on all parameters viewed
    as one flat vector. The direction is the two-loop recursion over the last ``history_size``
    curvature pairs (a pair is kept only when ``y . s > 1e-10``), scaled by ``y . s / y . y``; the
    first step is ``min(1, 1 / |g|_1) * lr``, later ones ``lr``, or the step that the strong-Wolfe
    line search (``line_search_fn="strong_wolfe"``) finds. The iterations stop when the largest
    gradient entry is at most ``tolerance_grad``, or the step, the change of the loss or the
    directional derivative falls below ``tolerance_change``.

    Only one parameter group is supported. The state (kept under the first parameter, as PyTorch
    does) holds ``func_evals``, ``n_iter``, the flat direction ``d``, step ``t``, the histories
    ``old_dirs``, ``old_stps``, ``ro``, ``al``, ``H_diag``, ``prev_flat_grad`` and ``prev_loss``;
    the scalars among them are Python floats where PyTorch keeps 0-d tensors. Those scalars (dot
    products, step lengths, the line search's tests) are computed in float64 whatever the
    parameters' dtype, so float32 runs agree with PyTorch's (which does that arithmetic in float32)
    to float32 rounding, not always evaluation for evaluation; float64 runs agree step for step.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params: list[Tensor] = self.param_groups[0]["params"]

    def _validate_group(self, g: dict[str, Any]) -> None:
        check_lr(g["lr"])

    # ---- the parameters as one flat vector ---------------------------------------------------
    def _flat_grad(self) -> Tensor:
        parts = [
            _core._zeros(p.numel(), dtype=p.dtype) if p.grad is None else p.grad.reshape(-1)
            for p in self._params
        ]
        return _core.cat(parts, 0)

    def _add_to_params(self, step: float, direction: Tensor) -> None:
        offset = 0
        for p in self._params:
            n = p.numel()
            p.add_(direction[offset : offset + n].reshape(p.shape), alpha=step)
            offset += n

    def _evaluate(self, closure: Callable[[], Any]) -> Any:
        from chainrule.autograd.grad_mode import enable_grad

        with enable_grad():
            return closure()

    def _directional_evaluate(
        self, closure: Callable[[], Any], x: list[Tensor], d: Tensor, t: float
    ) -> tuple[float, Tensor]:
        """The loss and flat gradient at x + t * d; the parameters are then restored to x."""
        self._add_to_params(t, d)
        loss = float(self._evaluate(closure))
        flat_grad = self._flat_grad()
        for p, saved in zip(self._params, x):
            p.copy_(saved)
        return loss, flat_grad

    # ---- the step ------------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Runs up to ``max_iter`` L-BFGS iterations. ``closure`` must clear the gradients,
        compute the loss, call ``backward()`` and return the loss; it is called with grad enabled.
        Returns the loss of the first evaluation."""
        from chainrule.autograd.grad_mode import no_grad

        if len(self.param_groups) != 1:
            raise AssertionError(f"Expected exactly one param_group, but got {len(self.param_groups)}")
        with no_grad():
            return self._step(closure)

    def _step(self, closure: Callable[[], Any]) -> Any:
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if _abs_max(flat_grad) <= tolerance_grad:
            return orig_loss

        d: Tensor = state.get("d")  # type: ignore[assignment]
        t: float = state.get("t")  # type: ignore[assignment]
        old_dirs: list[Tensor] = state.get("old_dirs")  # type: ignore[assignment]
        old_stps: list[Tensor] = state.get("old_stps")  # type: ignore[assignment]
        ro: list[float] = state.get("ro")  # type: ignore[assignment]
        H_diag: float = state.get("H_diag")  # type: ignore[assignment]
        prev_flat_grad: Tensor | None = state.get("prev_flat_grad")
        prev_loss: float | None = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # ---- direction
            if state["n_iter"] == 1:
                d = flat_grad.neg()
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1.0
            else:
                assert prev_flat_grad is not None
                y = flat_grad.sub(prev_flat_grad)
                s = d.mul(t)
                ys = _dot(y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / _dot(y, y)
                # two-loop recursion: d = -H g with H the L-BFGS inverse Hessian approximation
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = flat_grad.neg()
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = _dot(old_stps[i], q) * ro[i]
                    q.add_(old_dirs[i], alpha=-al[i])
                d = q.mul(H_diag)
                for i in range(len(old_dirs)):
                    be_i = _dot(old_dirs[i], d) * ro[i]
                    d.add_(old_stps[i], alpha=al[i] - be_i)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone()
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss

            # ---- step length
            if state["n_iter"] == 1:
                g_l1 = float(flat_grad.abs().sum().item())
                t = min(1.0, 1.0 / g_l1 if g_l1 != 0 else math.inf) * lr
            else:
                t = lr
            gtd = _dot(flat_grad, d)
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = [p.clone() for p in self._params]
                evaluate = partial(self._directional_evaluate, closure, x_init, d)
                loss, flat_grad, t, ls_func_evals = _strong_wolfe_search(
                    evaluate, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_to_params(t, d)
                opt_cond = _abs_max(flat_grad) <= tolerance_grad
            else:
                self._add_to_params(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    # no need to evaluate after the last iteration (the next step() does)
                    loss = float(self._evaluate(closure))
                    flat_grad = self._flat_grad()
                    opt_cond = _abs_max(flat_grad) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---- stopping
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if _abs_max(d) * abs(t) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = d
        state["t"] = t
        state["old_dirs"] = old_dirs
        state["old_stps"] = old_stps
        state["ro"] = ro
        state["H_diag"] = H_diag
        state["prev_flat_grad"] = prev_flat_grad
        state["prev_loss"] = prev_loss
        return orig_loss

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """As Optimizer.load_state_dict; the flat vectors and histories are cast to the
        parameters' dtype, as PyTorch casts every floating state."""
        load_state_dict_with(self, state_dict, ("d", "old_dirs", "old_stps", "prev_flat_grad", "ro", "al"))
