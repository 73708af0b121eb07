"""User-defined differentiable operations written in Python."""

from __future__ import annotations

from typing import Any

from chainrule import _core
from chainrule._core import Tensor


class FunctionCtx:
    """The ``ctx`` passed to ``forward`` and ``backward``: saves tensors and any other state."""

    def __init__(self) -> None:
        self._saved: tuple[Tensor | None, ...] | None = None
        self._released = False
        self.needs_input_grad: tuple[bool, ...] = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save Tensors or None")
        # Inputs are kept with their history (so backward can itself be differentiated); outputs
        # saved here are forward's raw results, which get their history only after forward
        # returns, so no reference cycle node -> ctx -> output -> node can form.
        self._saved = tuple(tensors)
        self._versions = tuple(t._version if isinstance(t, Tensor) else None for t in tensors)

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        if self._released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Specify retain_graph=True if you "
                "need to backward through the graph a second time."
            )
        if self._saved is None:
            return ()
        for t, v in zip(self._saved, self._versions):
            if t is not None and t._version != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: a tensor saved by {type(self).__name__} is at version "
                    f"{t._version}; expected version {v} instead."
                )
        return self._saved

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        pass

    def mark_dirty(self, *tensors: Tensor) -> None:
        pass

    def _release(self) -> None:
        self._saved = None
        self._released = True


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

        def run_backward(*grads: Any) -> tuple[Any, ...]:
            result = cls.backward(ctx, *grads)
            if not isinstance(result, tuple):
                result = (result,)
            if len(result) < n_args:
                result = result + (None,) * (n_args - len(result))
            if len(result) != n_args:
                raise RuntimeError(
                    f"{cls.__name__}.backward returned {len(result)} gradients, expected {n_args}"
                )
            return tuple(result[i] for i in tensor_positions)

        inputs = [args[i] for i in tensor_positions]
        tensor_outs = [o if isinstance(o, Tensor) else None for o in outs]
        linked = _core._make_function_node(
            f"{cls.__name__}Backward", run_backward, ctx._release, inputs, tensor_outs
        )
        result = tuple(lo if isinstance(o, Tensor) else o for o, lo in zip(outs, linked))
        return result[0] if single else result
