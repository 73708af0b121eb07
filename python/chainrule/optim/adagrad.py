"""Adagrad."""

from __future__ import annotations

from typing import Any

from chainrule import _core
from chainrule._core import Tensor
from chainrule.optim.optimizer import Optimizer, ParamsT


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer 2011, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization"), diagonal variant with learning-rate decay, exactly as
    torch.optim.Adagrad:

        clr = lr / (1 + (t - 1) * lr_decay);  s = s + g * g;  p = p - clr * g / (sqrt(s) + eps)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        if not state:
            state["step"] = self._step_counter()
            init = float(group["initial_accumulator_value"])
            state["sum"] = _core._zeros(*p.shape, dtype=p.dtype) + init if init != 0 else self._zeros_like(p)
        return state

    def _validate_group(self, g: dict[str, Any]) -> None:
        if not 0.0 <= g["lr"]:
            raise ValueError(f"Invalid learning rate: {g['lr']}")
        if not 0.0 <= g["lr_decay"]:
            raise ValueError(f"Invalid lr_decay value: {g['lr_decay']}")
        if not 0.0 <= g["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {g['weight_decay']}")
        if not 0.0 <= g["initial_accumulator_value"]:
            raise ValueError(f"Invalid initial_accumulator_value value: {g['initial_accumulator_value']}")
        if not 0.0 <= g["eps"]:
            raise ValueError(f"Invalid epsilon value: {g['eps']}")

    def _step_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        sums, steps = [], []
        for p in params:
            state = self._init_state(p, group)
            sums.append(state["sum"])
            steps.append(state["step"])
        _core._adagrad_step(
            params,
            grads,
            sums,
            steps,
            float(group["lr"]),
            float(group["lr_decay"]),
            float(group["weight_decay"]),
            float(group["eps"]),
            bool(group["maximize"]),
        )
