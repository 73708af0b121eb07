"""NAdam."""

from __future__ import annotations

from typing import Any

from chainrule import _core
from chainrule._core import Tensor
from chainrule.optim._common import (
    check_adam_family,
    check_capturable,
    check_flags,
    load_state_dict_with,
    state_lists,
)
from chainrule.optim.optimizer import Optimizer, ParamsT


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum (Dozat 2016, "Incorporating Nesterov Momentum into
    Adam"), with the momentum schedule ``mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))``
    and, with ``decoupled_weight_decay=True``, the decoupled decay of Loshchilov & Hutter 2019
    (NAdamW). Exactly as torch.optim.NAdam:

        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g;  P_t = mu_1 ... mu_t
        p -= lr * ((1 - mu_t) / (1 - P_t) * g + mu_{t+1} / (1 - P_t * mu_{t+1}) * m)
                / (sqrt(v / (1 - beta2^t)) + eps)

    The state holds ``step``, ``mu_product`` (0-d float32 tensors, as PyTorch keeps them),
    ``exp_avg`` and ``exp_avg_sq``. ``foreach`` is accepted and ignored (the step is always one
    fused kernel); ``differentiable=True`` is not supported.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
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
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _validate_group(self, g: dict[str, Any]) -> None:
        check_adam_family(g)
        if not 0.0 <= g["momentum_decay"]:
            raise ValueError(f"Invalid momentum_decay value: {g['momentum_decay']}")
        check_flags("NAdam", g)

    def _step_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        check_capturable(group)
        st = state_lists(
            self, params, ("exp_avg", "exp_avg_sq"), {"mu_product": lambda: self._step_counter() + 1.0}
        )
        steps, mu_products = st["step"], st["mu_product"]
        exp_avgs, exp_avg_sqs = st["exp_avg"], st["exp_avg_sq"]
        beta1, beta2 = group["betas"]
        _core._nadam_step(
            params,
            grads,
            exp_avgs,
            exp_avg_sqs,
            mu_products,
            steps,
            float(group["lr"]),
            float(beta1),
            float(beta2),
            float(group["eps"]),
            float(group["weight_decay"]),
            float(group["momentum_decay"]),
            bool(group["decoupled_weight_decay"]),
            bool(group["maximize"]),
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """As Optimizer.load_state_dict; ``mu_product`` is cast to the parameter's dtype, as
        PyTorch casts every floating state but ``step``."""
        load_state_dict_with(self, state_dict, ("mu_product",))
