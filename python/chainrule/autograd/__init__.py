"""Reverse-mode automatic differentiation: backward, grad, custom Functions, gradient checks,
Jacobians and Hessians (chainrule.autograd.functional), grad and inference modes."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

from chainrule import _core
from chainrule._core import Tensor
from chainrule._missing import module_getattr as _module_getattr
from chainrule.autograd import anomaly_mode, forward_ad, function, functional, graph
from chainrule.autograd.anomaly_mode import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from chainrule.autograd.function import Function, FunctionCtx, once_differentiable
from chainrule.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule.autograd.gradcheck import gradcheck, gradgradcheck


def Variable(data: Tensor, requires_grad: bool = False, volatile: bool = False) -> Tensor:
    """The pre-0.4 PyTorch wrapper, kept for old code: returns ``data`` itself (a Tensor already
    does what a Variable did), marked as requiring grad when asked."""
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    if requires_grad:
        data.requires_grad_(True)
    return data


__all__ = [
    "Variable",
    "function",
    "graph",
    "forward_ad",
    "once_differentiable",
    "backward",
    "grad",
    "Function",
    "FunctionCtx",
    "gradcheck",
    "gradgradcheck",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_inference_mode_enabled",
    "functional",
    "anomaly_mode",
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
]

_TensorOrTensors = Union[Tensor, Sequence[Tensor]]


def _as_tuple(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


_CREATE_GRAPH_CYCLE = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
    "gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to "
    "avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters "
    "to None after use to break the cycle and avoid the leak."
)


def backward(
    tensors: _TensorOrTensors,
    grad_tensors: _TensorOrTensors | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: _TensorOrTensors | None = None,
) -> None:
    """Accumulates the gradients of ``tensors`` into the ``.grad`` of the leaves they depend on.

    With ``inputs``, only those tensors' ``.grad`` is updated.
    """
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors)
    if grads is not None and len(grads) != len(tensors):
        raise ValueError(f"backward: got {len(tensors)} tensors and {len(grads)} gradients")
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        # PyTorch's warning, word for word: a leaf's .grad then holds a graph that saves the leaf.
        warnings.warn(_CREATE_GRAPH_CYCLE, UserWarning, stacklevel=2)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if len(inputs) == 0:
            raise RuntimeError("backward: 'inputs' argument cannot be empty")
        # Only these inputs' .grad is updated, through the engine's AccumulateGrad (hooks run).
        _core._run_backward(tensors, grads, retain_graph, create_graph, inputs, True, True)
        return
    _core._run_backward(tensors, grads, retain_graph, create_graph, None, False)


def grad(
    outputs: _TensorOrTensors,
    inputs: _TensorOrTensors,
    grad_outputs: _TensorOrTensors | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """Returns the gradients of ``outputs`` w.r.t. ``inputs`` without touching any ``.grad``."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grads = _as_tuple(grad_outputs)
    if grads is not None and len(grads) != len(outputs):
        raise ValueError(f"grad: got {len(outputs)} outputs and {len(grads)} grad_outputs")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    if len(inputs) == 0:
        raise RuntimeError("grad requires at least one input")
    result = _core._run_backward(outputs, grads, retain_graph, create_graph, inputs, allow_unused)
    if materialize_grads:
        from chainrule import zeros

        result = tuple(r if r is not None else zeros(*i.shape, dtype=i.dtype) for i, r in zip(inputs, result))
    return tuple(result)


# A missing name that PyTorch's torch.autograd has says so (and points to docs/api-coverage.md).
# Hidden from type checkers, which would otherwise accept any attribute of the module.
if not TYPE_CHECKING:
    __getattr__ = _module_getattr(__name__, "torch.autograd")
