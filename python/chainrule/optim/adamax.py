"""Adamax."""

from __future__ import annotations

from typing import Any

from chainrule import _core
from chainrule._core import Tensor
from chainrule.optim._common import check_adam_family, check_capturable, check_flags, state_lists
from chainrule.optim.optimizer import Optimizer, ParamsT


class Adamax(Optimizer):
    """Adamax (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization", section 7.1): Adam
    with the second moment replaced by an exponentially weighted infinity norm. weight_decay is an
    L2 penalty added to the gradient. Exactly as torch.optim.Adamax:

        m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
        p -= lr / (1 - beta1^t) * m / u

    The state holds ``step`` (a 0-d float32 tensor), ``exp_avg`` and ``exp_inf``. ``foreach`` is
    accepted and ignored (the step is always one fused kernel); ``differentiable=True`` is not
    supported.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _validate_group(self, g: dict[str, Any]) -> None:
        check_adam_family(g)
        check_flags("Adamax", g)

    def _step_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        check_capturable(group)
        st = state_lists(self, params, ("exp_avg", "exp_inf"))
        steps, exp_avgs, exp_infs = st["step"], st["exp_avg"], st["exp_inf"]
        beta1, beta2 = group["betas"]
        _core._adamax_step(
            params,
            grads,
            exp_avgs,
            exp_infs,
            steps,
            float(group["lr"]),
            float(beta1),
            float(beta2),
            float(group["eps"]),
            float(group["weight_decay"]),
            bool(group["maximize"]),
        )
