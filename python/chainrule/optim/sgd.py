"""Stochastic gradient descent."""

from __future__ import annotations

from typing import Any

from chainrule import _core
from chainrule._core import Tensor
from chainrule.optim.optimizer import Optimizer, ParamsT


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (Polyak 1964, heavy ball) and Nesterov
    momentum in the formulation of Sutskever et al. 2013, "On the importance of initialization and
    momentum in deep learning", exactly as torch.optim.SGD implements them:

        g = grad (+ weight_decay * p);  b = momentum * b + (1 - dampening) * g  (b = g at step 1)
        g = g + momentum * b if nesterov else b;  p = p - lr * g
    """

    _reads_own_grads = True  # its fused step reads each .grad when given no gradients

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate_group(self, g: dict[str, Any]) -> None:
        if g["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {g['lr']}")
        if g["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {g['momentum']}")
        if g["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {g['weight_decay']}")
        if g["nesterov"] and (g["momentum"] <= 0 or g["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _step_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        bufs, fresh = [], []
        if group["momentum"] != 0:
            for p in params:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                fresh.append(buf is None)
                if buf is None:
                    buf = state["momentum_buffer"] = self._zeros_like(p)
                bufs.append(buf)
        _core._sgd_step(
            params,
            grads,
            bufs,
            fresh,
            float(group["lr"]),
            float(group["momentum"]),
            float(group["dampening"]),
            float(group["weight_decay"]),
            bool(group["nesterov"]),
            bool(group["maximize"]),
        )
