"""RMSprop."""

from __future__ import annotations

from typing import Any

from chainrule import _core
from chainrule._core import Tensor
from chainrule.optim.optimizer import Optimizer, ParamsT


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012, Coursera lecture 6.5), with the centered variant of Graves
    2013 ("Generating Sequences With Recurrent Neural Networks") and optional momentum on the
    normalized step, exactly as torch.optim.RMSprop (eps is added outside the square root):

        v = alpha * v + (1 - alpha) * g * g;  avg = sqrt(v - mean_g^2) if centered else sqrt(v)
        b = momentum * b + g / (avg + eps);  p = p - lr * b   (without momentum: p -= lr * g / (avg + eps))
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate_group(self, g: dict[str, Any]) -> None:
        if not 0.0 <= g["lr"]:
            raise ValueError(f"Invalid learning rate: {g['lr']}")
        if not 0.0 <= g["eps"]:
            raise ValueError(f"Invalid epsilon value: {g['eps']}")
        if not 0.0 <= g["momentum"]:
            raise ValueError(f"Invalid momentum value: {g['momentum']}")
        if not 0.0 <= g["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {g['weight_decay']}")
        if not 0.0 <= g["alpha"]:
            raise ValueError(f"Invalid alpha value: {g['alpha']}")

    def _step_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        centered, momentum = bool(group["centered"]), float(group["momentum"])
        square_avgs, grad_avgs, bufs, steps = [], [], [], []
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = self._step_counter()
                state["square_avg"] = self._zeros_like(p)
                if momentum > 0:
                    state["momentum_buffer"] = self._zeros_like(p)
                if centered:
                    state["grad_avg"] = self._zeros_like(p)
            steps.append(state["step"])
            square_avgs.append(state["square_avg"])
            if momentum > 0:
                bufs.append(state.setdefault("momentum_buffer", self._zeros_like(p)))
            if centered:
                grad_avgs.append(state.setdefault("grad_avg", self._zeros_like(p)))
        _core._rmsprop_step(
            params,
            grads,
            square_avgs,
            grad_avgs,
            bufs,
            steps,
            float(group["lr"]),
            float(group["alpha"]),
            float(group["eps"]),
            float(group["weight_decay"]),
            momentum,
            centered,
            bool(group["maximize"]),
        )
