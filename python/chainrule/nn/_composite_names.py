"""PyTorch's grad_fn names for functions chainrule records as several primitive ops.

``F.binary_cross_entropy`` is one op in PyTorch (``BinaryCrossEntropyBackward0``) and two in
chainrule (the elementwise loss, then the mean). Its result's ``grad_fn`` would read as the last
primitive (``MeanBackward0``); the wrappers here give that node the name PyTorch shows, so
``loss.grad_fn.name()`` and graph views read the same as PyTorch's. The primitives before it keep
their own names: a graph view shows the composite's node followed by its inner ops.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["name_composites"]


def _always(name: str) -> Callable[..., str | None]:
    return lambda *args, **kwargs: name


def _linear_name(input: Any, weight: Any, bias: Any = None, *args: Any, **kwargs: Any) -> str | None:
    # PyTorch: a 2-d input with a bias is one addmm; without a bias mm (already chainrule's name);
    # other ranks end in a view, which chainrule does not record.
    return "AddmmBackward0" if getattr(input, "ndim", 0) == 2 and bias is not None else None


# function name -> the grad_fn name PyTorch gives its result (None: leave the node as it is)
_COMPOSITES: dict[str, Callable[..., str | None]] = {
    "mse_loss": _always("MseLossBackward0"),
    "huber_loss": _always("HuberLossBackward0"),
    "smooth_l1_loss": _always("SmoothL1LossBackward0"),
    "nll_loss": _always("NllLossBackward0"),
    "cross_entropy": _always("NllLossBackward0"),
    "binary_cross_entropy": _always("BinaryCrossEntropyBackward0"),
    "binary_cross_entropy_with_logits": _always("BinaryCrossEntropyWithLogitsBackward0"),
    "linear": _linear_name,
}


def _input_nodes(args: tuple[Any, ...], kwargs: dict[str, Any]) -> set[int]:
    ids = set()
    for a in (*args, *kwargs.values()):
        fn = getattr(a, "grad_fn", None)
        if fn is not None:
            ids.add(fn._id())
    return ids


def _wrap(fn: Callable[..., Any], pick: Callable[..., str | None]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = fn(*args, **kwargs)
        node = getattr(out, "grad_fn", None)
        if node is None:
            return out
        name = pick(*args, **kwargs)
        # (a one-node loss, such as cross_entropy with class indices, has the name already)
        if name is None or node.name() == name:
            return out
        # a result that is one of the inputs (nothing recorded) keeps its node's name
        if node._id() not in _input_nodes(args, kwargs):
            node._set_name(name)
        return out

    return wrapper


def name_composites(namespace: dict[str, Any]) -> None:
    """Wraps the composite functions found in ``namespace`` (a module's globals) in place."""
    for fname, pick in _COMPOSITES.items():
        fn = namespace.get(fname)
        if fn is not None and not hasattr(fn, "__wrapped__"):
            namespace[fname] = _wrap(fn, pick)
