"""User-defined differentiable operations written in Python."""

from __future__ import annotations

from typing import Any

from chainrule import _core
from chainrule._core import Tensor


class FunctionCtx:
    """The ``ctx`` passed to ``forward`` and ``backward``: saves tensors and any other state."""

    def __init__(self) -> None:
        self._saved: tuple[Tensor | None, ...] = ()
        self._handle: Any = None  # the node's saved tensors, once the node exists
        self._non_differentiable: tuple[Tensor, ...] = ()
        self._dirty: tuple[Tensor, ...] = ()
        self.needs_input_grad: tuple[bool, ...] = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save Tensors or None")
        self._saved = tuple(tensors)

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The saved tensors. In backward they come from the node, which checks each against the
        version it had when saved (an in-place change in between raises) and has freed them after
        a backward without ``retain_graph``."""
        if self._handle is not None:
            return tuple(self._handle.unpack())
        return self._saved

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Marks outputs that get no gradient: they are returned with ``requires_grad=False``."""
        self._non_differentiable = tuple(tensors)

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Marks inputs that forward modified in place (and returns): their history is rebased
        onto this Function's node."""
        self._dirty = tuple(tensors)


class Function:
    """Base class for custom ops: subclass with static ``forward(ctx, *args)`` and
    ``backward(ctx, *grad_outputs)``, then call ``MyFn.apply(*args)``.

    ``backward`` returns one gradient (or None) per argument of ``forward``.
    """

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Function subclasses must implement forward")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("Function subclasses must implement backward")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        ctx = FunctionCtx()
        tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        prev = _core.is_grad_enabled()
        _core._set_grad_enabled(False)
        try:
            outputs = cls.forward(ctx, *args)
        finally:
            _core._set_grad_enabled(prev)
        single = isinstance(outputs, Tensor)
        outs = (outputs,) if single else tuple(outputs)
        if not (prev and any(ctx.needs_input_grad)):
            return outputs
        n_args = len(args)

        def differentiable(o: Any) -> bool:
            return isinstance(o, Tensor) and not any(o is t for t in ctx._non_differentiable)

        # The node has one output per differentiable floating output; backward gets one gradient
        # per output of forward, as in PyTorch: zeros for the others that are tensors (None
        # without materialize_grads), None for non-tensors.
        linked_positions = [i for i, o in enumerate(outs) if differentiable(o) and o.is_floating_point()]

        def run_backward(*node_grads: Any) -> tuple[Any, ...]:
            grads: list[Any] = [None] * len(outs)
            for pos, g in zip(linked_positions, node_grads):
                grads[pos] = g
            if ctx.materialize_grads:
                for i, o in enumerate(outs):
                    if grads[i] is None and isinstance(o, Tensor):
                        grads[i] = _core.zeros_like(o)
            result = cls.backward(ctx, *grads)
            if not isinstance(result, tuple):
                result = (result,)
            if len(result) > n_args and all(r is None for r in result[n_args:]):
                result = result[:n_args]  # extra trailing Nones are allowed, as in PyTorch
            if len(result) != n_args:
                raise _core.AutogradError(
                    f"function {cls.__name__}Backward returned an incorrect number of gradients "
                    f"(expected {n_args}, got {len(result)})"
                )
            return tuple(result[i] for i in tensor_positions)

        inputs = [args[i] for i in tensor_positions]
        tensor_outs = [o if differentiable(o) else None for o in outs]
        dirty = [any(o is t for t in ctx._dirty) for o in outs]
        linked, ctx._handle = _core._make_function_node(
            f"{cls.__name__}Backward", run_backward, inputs, tensor_outs, ctx._saved, dirty
        )
        ctx._saved = ()
        result = tuple(lo if differentiable(o) else o for o, lo in zip(outs, linked))
        return result[0] if single else result


def once_differentiable(fn: Any) -> Any:
    """Decorates a Function's backward that is not itself differentiable: it runs without
    recording a graph, so a double backward through it fails (its gradients have no history)
    instead of silently using a wrong one."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        prev = _core.is_grad_enabled()
        _core._set_grad_enabled(False)
        try:
            return fn(ctx, *args)
        finally:
            _core._set_grad_enabled(prev)

    return wrapper
