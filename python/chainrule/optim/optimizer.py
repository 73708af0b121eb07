"""Optimizer base class with PyTorch's semantics (param groups, state, state_dict)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from copy import deepcopy
from typing import TYPE_CHECKING, Any, Callable, Union

from chainrule import _core
from chainrule._core import Tensor


class _RequiredParameter:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

# What optimizers take as ``params``: tensors, or dicts of per-group hyperparameters with "params".
ParamsT = Union[Iterable[Tensor], Iterable[dict[str, Any]]]

if TYPE_CHECKING:
    from chainrule.autograd.grad_mode import enable_grad


def _enable_grad() -> enable_grad:
    from chainrule.autograd.grad_mode import enable_grad

    return enable_grad()


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of tensors, or of dicts each holding ``"params"`` and per-group
    hyperparameters that override ``defaults``. Subclasses implement ``_step_group(group)``, which
    runs one fused C++ kernel over all parameters of the group that have a gradient.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors "
                "or dicts, but got " + type(params).__name__
            )
        param_groups: list[Any] = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ---- groups ----------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Adds a group of parameters with its own hyperparameters (defaults fill the rest)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is " + type(p).__name__
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Raises ValueError for invalid hyperparameters (subclasses check theirs)."""

    # ---- steps ---------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets the gradients of all parameters: to None (default) or to zero in place."""
        if set_to_none and not _core._is_tracing():  # (a trace records each assignment instead)
            for group in self.param_groups:
                _core._clear_grads(group["params"])
            return
        to_zero = []
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    # set without reading it first: a step compiled with chainrule.compile then
                    # does not depend on whether the gradients existed before the call
                    p.grad = None
                    continue
                g = p.grad
                if g is None:
                    continue
                if g.grad_fn is not None:
                    g.detach_()
                elif g.requires_grad:
                    g.requires_grad_(False)
                to_zero.append(g)
        if to_zero:
            _core._zero_(to_zero)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Performs one update of every parameter group; ``closure`` (re-evaluating the model with
        grad enabled and returning the loss) runs first and its loss is returned."""
        loss = None
        if closure is not None:
            with _enable_grad():
                loss = closure()
        # An optimizer whose fused step reads each parameter's .grad itself gets the parameters
        # that have one and an empty list of gradients: no Python object per gradient. A traced
        # step (chainrule.compile) reads them here, so that the trace records the reads.
        own_grads = self._reads_own_grads and not _core._is_tracing()
        for group in self.param_groups:
            with_grad = _core._with_grad(group["params"]) if own_grads else None
            if with_grad is not None:
                if with_grad:
                    self._step_group(group, with_grad, [])
                continue
            params, grads = [], []
            for p in group["params"]:
                g = p.grad
                if g is not None:
                    params.append(p)
                    grads.append(g)
            if params:
                self._step_group(group, params, grads)
        return loss

    # True where _step_group passes `grads` on to a fused step that reads each parameter's .grad
    # when the list is empty (SGD, Adam, AdamW)
    _reads_own_grads = False

    def _step_group(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]
    ) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- state dict ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {param_index: {...}}, "param_groups": [{..., "params": [indices]}]}``, with
        parameters numbered in group order as PyTorch does; state tensors are copies."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = {k: _copy_value(v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores state and hyperparameters saved by ``state_dict`` (tensors are copied and cast
        to each parameter's dtype, except the step counters)."""
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the "
                "size of optimizer's group"
            )
        id_map = {}
        for g, s in zip(groups, saved_groups):
            for old, p in zip(s["params"], g["params"]):
                id_map[old] = p
        new_state: dict[Any, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                new_state[p] = {name: _cast_state(p, name, val) for name, val in v.items()}
            else:
                new_state[k] = deepcopy(v)
        new_groups = []
        for g, s in zip(groups, saved_groups):
            ng = {k: v for k, v in s.items() if k != "params"}
            if "betas" in ng and isinstance(ng["betas"], list):
                ng["betas"] = tuple(ng["betas"])
            ng["params"] = g["params"]
            new_groups.append(ng)
        self.state = new_state
        self.param_groups = new_groups

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # ---- helpers for subclasses --------------------------------------------------------------
    @staticmethod
    def _zeros_like(p: Tensor) -> Tensor:
        return _core._zeros(*p.shape, dtype=p.dtype)

    @staticmethod
    def _step_counter() -> Tensor:
        # PyTorch keeps the step count as a 0-d float32 tensor.
        return _core._zeros(dtype=_core.float32)


def _copy_value(v: Any) -> Any:
    if isinstance(v, Tensor):
        return v.detach().clone()
    return deepcopy(v)


def _cast_state(param: Tensor, name: str, value: Any) -> Any:
    if isinstance(value, Tensor):
        if name == "step":
            return value.detach().clone()
        v = value.detach()
        if v.dtype != param.dtype:
            v = v.to(param.dtype)
        out = v.clone()
        if tuple(out.shape) != tuple(param.shape):
            raise ValueError(
                f"loaded state '{name}' has shape {tuple(out.shape)} but its parameter "
                f"has shape {tuple(param.shape)}"
            )
        return out
    return deepcopy(value)
