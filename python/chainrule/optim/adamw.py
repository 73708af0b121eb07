"""AdamW."""

from __future__ import annotations

from chainrule.optim.adam import Adam
from chainrule.optim.optimizer import ParamsT


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019, "Decoupled Weight Decay
    Regularization"): the parameter is first shrunk by ``p *= 1 - lr * weight_decay``, then the
    Adam update (Kingma & Ba 2015; AMSGrad of Reddi et al. 2018 with ``amsgrad=True``) is applied
    with the raw gradient, exactly as torch.optim.AdamW."""

    _decoupled = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
