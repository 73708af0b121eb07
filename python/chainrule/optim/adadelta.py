"""Adadelta."""

from __future__ import annotations

from typing import Any

from chainrule import _core
from chainrule._core import Tensor
from chainrule.optim._common import check_capturable, check_flags, check_lr, state_lists
from chainrule.optim.optimizer import Optimizer, ParamsT


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012, "ADADELTA: An Adaptive Learning Rate Method"): the step is the
    gradient scaled by the ratio of the RMS of past updates to the RMS of past gradients, times
    ``lr`` (1.0 gives the paper's method). weight_decay is an L2 penalty added to the gradient.
    Exactly as torch.optim.Adadelta:

        v = rho * v + (1 - rho) * g * g;  delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta;  p -= lr * delta

    The state holds ``step`` (a 0-d float32 tensor), ``square_avg`` and ``acc_delta``. ``foreach``
    is accepted and ignored (the step is always one fused kernel); ``differentiable=True`` is not
    supported.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            rho=rho,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,
            foreach=foreach,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _validate_group(self, g: dict[str, Any]) -> None:
        check_lr(g["lr"])
        if not 0.0 <= g["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {g['rho']}")
        if not 0.0 <= g["eps"]:
            raise ValueError(f"Invalid epsilon value: {g['eps']}")
        if not 0.0 <= g["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {g['weight_decay']}")
        check_flags("Adadelta", g)

    def _step_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        check_capturable(group)
        st = state_lists(self, params, ("square_avg", "acc_delta"))
        steps, square_avgs, acc_deltas = st["step"], st["square_avg"], st["acc_delta"]
        _core._adadelta_step(
            params,
            grads,
            square_avgs,
            acc_deltas,
            steps,
            float(group["lr"]),
            float(group["rho"]),
            float(group["eps"]),
            float(group["weight_decay"]),
            bool(group["maximize"]),
        )
