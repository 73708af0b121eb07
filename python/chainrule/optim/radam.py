"""RAdam."""

from __future__ import annotations

from typing import Any

from chainrule import _core
from chainrule._core import Tensor
from chainrule.optim._common import check_adam_family, check_capturable, check_flags, state_lists
from chainrule.optim.optimizer import Optimizer, ParamsT


class RAdam(Optimizer):
    """RAdam (Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and Beyond"): Adam
    whose adaptive term is multiplied by a rectification factor ``r_t``, and left out entirely
    while the length of the approximated moving average ``rho_t`` is at most 5 (the first steps).
    With ``decoupled_weight_decay=True`` the decay is decoupled as in AdamW (Loshchilov & Hutter
    2019). Exactly as torch.optim.RAdam:

        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        rho_t > 5:  p -= lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t
        otherwise:  p -= lr * m / (1 - beta1^t)

    The state holds ``step`` (a 0-d float32 tensor), ``exp_avg`` and ``exp_avg_sq``. ``foreach`` is
    accepted and ignored (the step is always one fused kernel); ``differentiable=True`` is not
    supported.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            decoupled_weight_decay=decoupled_weight_decay,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _validate_group(self, g: dict[str, Any]) -> None:
        check_adam_family(g)
        check_flags("RAdam", g)

    def _step_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        check_capturable(group)
        st = state_lists(self, params, ("exp_avg", "exp_avg_sq"))
        steps, exp_avgs, exp_avg_sqs = st["step"], st["exp_avg"], st["exp_avg_sq"]
        beta1, beta2 = group["betas"]
        _core._radam_step(
            params,
            grads,
            exp_avgs,
            exp_avg_sqs,
            steps,
            float(group["lr"]),
            float(beta1),
            float(beta2),
            float(group["eps"]),
            float(group["weight_decay"]),
            bool(group["decoupled_weight_decay"]),
            bool(group["maximize"]),
        )
