"""Argument checks and state handling shared by NAdam, RAdam, Adamax, Adadelta and LBFGS."""

from __future__ import annotations

from typing import Any

from chainrule._core import Tensor
from chainrule.optim.optimizer import Optimizer


def check_lr(lr: Any) -> None:
    """PyTorch's checks of a learning rate: a float, or a one-element tensor; never negative."""
    if isinstance(lr, Tensor):
        if lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        value = float(lr)
    else:
        value = lr  # anything but a number raises TypeError here, as in PyTorch
    if not 0.0 <= value:
        raise ValueError(f"Invalid learning rate: {lr}")


def check_adam_family(g: dict[str, Any]) -> None:
    """The checks torch.optim's Adam relatives make, in PyTorch's order."""
    check_lr(g["lr"])
    if not 0.0 <= g["eps"]:
        raise ValueError(f"Invalid epsilon value: {g['eps']}")
    betas = g["betas"]
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair, got {betas!r}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= g["weight_decay"]:
        raise ValueError(f"Invalid weight_decay value: {g['weight_decay']}")


def check_flags(name: str, g: dict[str, Any]) -> None:
    """``foreach`` is accepted and has no effect (every step is one fused kernel over the group);
    ``differentiable=True`` needs a step that autograd records, which a fused in-place kernel is not."""
    if g.get("differentiable", False):
        raise NotImplementedError(
            f"{name}(differentiable=True) is not supported: chainrule's optimizer steps are fused "
            "in-place kernels that autograd does not record"
        )


def check_capturable(g: dict[str, Any]) -> None:
    """``capturable=True`` asks for a step that can be captured in a device graph; PyTorch refuses
    it at the first step for CPU parameters, and chainrule's tensors are CPU tensors."""
    if g.get("capturable", False):
        raise AssertionError(
            "If capturable=True, params and state_steps must be on supported devices: "
            "['cuda', 'xpu', 'hpu', 'privateuseone', 'xla'] (chainrule's tensors are CPU tensors)"
        )


def state_lists(
    opt: Optimizer, params: list[Tensor], buffers: tuple[str, ...], init: dict[str, Any] | None = None
) -> dict[str, list[Any]]:
    """The per-parameter state a fused step takes, one list per key: "step" (a counter), then the
    ``init`` entries (name -> factory), then ``buffers`` (zeros like the parameter), each created the
    first time the parameter is stepped, in that order (the state_dict layout)."""
    init = init or {}
    keys = ["step", *init, *buffers]
    out: dict[str, list[Any]] = {k: [] for k in keys}
    for p in params:
        state = opt.state[p]
        if not state:
            state["step"] = opt._step_counter()
            for k, make in init.items():
                state[k] = make()
            for b in buffers:
                state[b] = opt._zeros_like(p)
        for k in keys:
            out[k].append(state[k])
    return out


def cast_like(param: Tensor, value: Any) -> Any:
    """Copies a saved state value for ``param``: tensors (also inside lists) are cloned and cast to
    the parameter's dtype, as torch.optim.Optimizer.load_state_dict does for every key but "step"."""
    if isinstance(value, Tensor):
        v = value.detach()
        return (v.to(param.dtype) if v.dtype != param.dtype else v).clone()
    if isinstance(value, (list, tuple)):
        return type(value)(cast_like(param, v) for v in value)
    return value


def load_state_dict_with(opt: Optimizer, state_dict: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Optimizer.load_state_dict for states whose entries ``keys`` are not shaped like their
    parameter (NAdam's 0-d mu_product, LBFGS's flat vectors and histories): those entries are
    set aside, the rest is loaded as usual, then they are restored cast with ``cast_like``."""
    aside: dict[Any, dict[str, Any]] = {}
    state: dict[Any, dict[str, Any]] = {}
    for k, v in state_dict["state"].items():
        state[k] = {name: val for name, val in v.items() if name not in keys}
        aside[k] = {name: val for name, val in v.items() if name in keys}
    Optimizer.load_state_dict(opt, {**state_dict, "state": state})
    for g, s in zip(opt.param_groups, state_dict["param_groups"]):
        for old, p in zip(s["params"], g["params"]):
            if aside.get(old):
                loaded = opt.state[p]
                # keep the saved order of the entries
                opt.state[p] = {
                    name: cast_like(p, val) if name in keys else loaded[name]
                    for name, val in state_dict["state"][old].items()
                }
