"""Module backward hooks (register_full_backward_hook / register_full_backward_pre_hook).

A hooked call routes the module's tensor inputs and its tensor outputs through identity
autograd Functions. The outputs' identity sees grad_output first: it runs the pre-hooks (which
may replace it) and keeps it. The inputs' identity then sees grad_input and runs the hooks with
both (a hook may replace grad_input). When no input needs a gradient, the hooks run from the
outputs' identity with grad_input all None, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from chainrule._core import Tensor
from chainrule.autograd.function import Function, FunctionCtx


class _Identity(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, on_backward: Any, *tensors: Tensor) -> Any:
        ctx.on_backward = on_backward  # type: ignore[attr-defined]
        outs = tuple(t.detach() for t in tensors)
        return outs if len(outs) != 1 else outs[0]

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> Any:
        return (None, *ctx.on_backward(grads))  # type: ignore[attr-defined]


class BackwardHooks:
    """The hook state of one call of a module."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.n_inputs = 0
        self.input_positions: list[int] = []
        self.slots: list[int] = []
        self.grad_output: tuple[Any, ...] = ()

    def wrap_inputs(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        self.n_inputs = sum(isinstance(a, Tensor) for a in args)
        self.input_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        tensor_args = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.slots = [tensor_args.index(i) for i in self.input_positions]  # places in grad_input
        if not self.input_positions:
            return args
        wrapped = _Identity.apply(self._on_input_grads, *(args[i] for i in self.input_positions))
        if isinstance(wrapped, Tensor):
            wrapped = (wrapped,)
        out = list(args)
        for i, w in zip(self.input_positions, wrapped):
            out[i] = w
        return tuple(out)

    def wrap_outputs(self, out: Any) -> Any:
        single = isinstance(out, Tensor)
        items = (out,) if single else out if isinstance(out, tuple) else None
        if items is None:
            return out
        positions = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        if not positions:
            return out
        wrapped = _Identity.apply(self._on_output_grads, *(items[i] for i in positions))
        if isinstance(wrapped, Tensor):
            wrapped = (wrapped,)
        new = list(items)
        for i, w in zip(positions, wrapped):
            new[i] = w
        return new[0] if single else tuple(new)

    def _on_output_grads(self, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        for hook in list(self.module.__dict__.get("_backward_pre_hooks", {}).values()):
            result = hook(self.module, grads)
            if result is not None:
                grads = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        self.grad_output = grads
        if not self.input_positions:
            self._run_hooks((None,) * max(self.n_inputs, 1))
        return grads

    def _on_input_grads(self, grads: tuple[Any, ...]) -> tuple[Any, ...]:
        full: list[Any] = [None] * self.n_inputs
        for k, slot in enumerate(self.slots):
            full[slot] = grads[k]
        replaced = self._run_hooks(tuple(full))
        if replaced is None:
            return grads
        return tuple(replaced[slot] for slot in self.slots)

    def _run_hooks(self, grad_input: tuple[Any, ...]) -> tuple[Any, ...] | None:
        replaced = None
        for hook in list(self.module.__dict__.get("_backward_hooks", {}).values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                replaced = grad_input
        return replaced
