"""Higher-level derivatives of whole functions: jacobian, hessian, vjp, jvp, hvp, vhp.

The signatures, argument checks and result structure are those of ``torch.autograd.functional``:

- ``inputs`` is a Tensor or a tuple of Tensors (a list is refused, as in PyTorch), and ``func`` is
  called as ``func(*inputs)``; it returns a Tensor or a tuple of Tensors.
- A result that has one entry per input (or per output) is a Tensor when the inputs (outputs) were
  a single Tensor and a tuple when they were a tuple; a Jacobian is nested as
  ``jac[output][input]``, with each level unpacked by the same rule.
- ``create_graph=True`` records the computation, so the results can be differentiated again (and
  inputs that require grad stay connected to the graph); otherwise every result is detached.
- ``strict=True`` raises a RuntimeError where a result would be zero because an output does not
  depend on an input, instead of filling in zeros.

Everything is built on reverse mode (``chainrule.autograd.grad``). Forward-mode products (``jvp``,
``hvp``) use the double-backward trick: the vector-Jacobian product ``u -> J^T u`` is linear in
``u``, so differentiating it with respect to ``u`` in the direction ``v`` gives ``J v``.
``vectorize=True`` (which PyTorch implements with vmap) is accepted and computes the same values
row by row.
"""

from __future__ import annotations

from typing import Any, Callable

from chainrule import _core
from chainrule._core import Tensor
from chainrule._tensor import zeros
from chainrule.autograd.grad_mode import enable_grad, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_Fn = Callable[..., Any]
_TensorOrTensors = Any  # a Tensor or a tuple of Tensors


# ---- shared pieces ------------------------------------------------------------------------------
def _as_tuple(value: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    """(whether ``value`` was a tuple, ``value`` as a tuple of Tensors); TypeError for anything else."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                f"{where} has type {type(el)}."
            )
    return is_tuple, items


def _prepare(tensors: tuple[Tensor, ...], create_graph: bool, need_graph: bool) -> tuple[Tensor, ...]:
    """Fresh tensors to differentiate with respect to. With ``create_graph``, an input that already
    requires grad is passed through a differentiable view, so the results stay connected to it;
    otherwise each is detached (and requires grad when ``need_graph``)."""
    out = []
    for t in tensors:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(need_graph))
    return tuple(out)


def _finish(value: Any, create_graph: bool) -> Any:
    """Detaches every Tensor in a (nested) tuple unless the graph is kept."""
    if isinstance(value, tuple):
        return tuple(_finish(v, create_graph) for v in value)
    if isinstance(value, Tensor) and not create_graph:
        return value.detach()
    return value


def _unpack(value: Any, is_tuple: bool | tuple[bool, bool]) -> Any:
    """Undoes the tupling of single Tensors: one level for a bool, two (outer, inner) for a pair."""
    if isinstance(is_tuple, tuple):
        outer, inner = is_tuple
        if not inner:
            value = tuple(v[0] for v in value)
        if not outer:
            value = value[0]
        return value
    return value if is_tuple else value[0]


def _check_v(v: tuple[Tensor, ...], other: tuple[Tensor, ...], other_is_tuple: bool) -> None:
    if len(v) != len(other):
        if other_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (vi, oi) in enumerate(zip(v, other)):
        if tuple(vi.shape) != tuple(oi.shape):
            where = f"Entry {i} in " if other_is_tuple else ""
            raise RuntimeError(
                f"{where}v has invalid size: should be {tuple(oi.shape)} but got {tuple(vi.shape)}."
            )


def _check_requires_grad(tensors: tuple[Any, ...], kind: str, strict: bool) -> None:
    """In strict mode, refuses intermediate results that are disconnected from the inputs."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. "
                "This is not allowed in strict mode."
            )
        if t.requires_grad:
            continue
        if kind == "outputs":
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients. The outputs "
                "must be computed in a differentiable manner from the input when running in strict mode."
            )
        if kind == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the "
                "user-provided function. This is not allowed in strict mode."
            )
        if kind == "jacobian":
            raise RuntimeError(
                f"While computing the hessian, the jacobian of the user-provided function with respect "
                f"to input {i} was found to be independent of the input. This is not allowed in strict "
                "mode: the function must be twice differentiable with a jacobian that depends on the "
                "inputs (a linear function is not)."
            )
        raise RuntimeError(
            f"The hessian of the user-provided function with respect to input {i} is independent of "
            "the input. This is not allowed in strict mode: the function must be thrice "
            "differentiable with a hessian that depends on the inputs."
        )


def _grad(
    outputs: tuple[Any, ...],
    inputs: tuple[Tensor, ...],
    grad_outputs: tuple[Any, ...] | None = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
) -> tuple[Tensor | None, ...]:
    """``autograd.grad`` over the outputs that are part of a graph; None for unreached inputs."""
    from chainrule.autograd import grad

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad(
        tuple(o for o, _ in pairs),
        inputs,
        tuple(g for _, g in pairs),
        retain_graph=retain_graph,
        create_graph=create_graph,
        allow_unused=True,
    )


_ZERO_MESSAGES = {
    "back": "The output of the user-provided function is independent of input {i}.",
    "back_trick": (
        "The gradient with respect to the input is independent of entry {i} in the grad_outputs "
        "when using the double backward trick to compute forward mode gradients."
    ),
    "double_back": "The jacobian of the user-provided function is independent of input {i}.",
    "double_back_trick": (
        "The hessian of the user-provided function is independent of entry {i} in the grad_jacobian; "
        "the double backward trick that replaces forward mode needs it."
    ),
}


def _fill_in_zeros(
    grads: tuple[Tensor | None, ...],
    refs: tuple[Tensor, ...],
    strict: bool,
    create_graph: bool,
    stage: str,
) -> tuple[Tensor, ...]:
    """Replaces missing gradients with zeros shaped like ``refs``, or raises in strict mode."""
    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_MESSAGES[stage].format(i=i) + " This is not allowed in strict mode.")
            g = _core.zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. "
                "This is not allowed in strict mode when create_graph=True."
            )
        out.append(g)
    return tuple(out)


def _single_element_v_needed(tensors: tuple[Tensor, ...], what: str) -> None:
    if len(tensors) != 1 or tensors[0].numel() != 1:
        raise RuntimeError(
            f"The vector v can only be None if the {what} is a single Tensor with a single element."
        )


def _check_scalar_output(outputs: tuple[Tensor, ...], is_tuple: bool, fn_name: str) -> None:
    if is_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {fn_name} should contain a single element"
        )


# ---- products -----------------------------------------------------------------------------------
def vjp(
    func: _Fn,
    inputs: _TensorOrTensors,
    v: _TensorOrTensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Returns ``(func(*inputs), v^T J)``: the vector-Jacobian product of ``func`` at ``inputs``.

    ``v`` has the shape of the outputs (it may be None when the output has one element). As
    ``torch.autograd.functional.vjp``.
    """
    with enable_grad():
        inputs_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
        xs = _prepare(xs, create_graph, need_graph=True)
        outputs_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function", "vjp")
        _check_requires_grad(outs, "outputs", strict)
        vs: tuple[Tensor, ...] | None = None
        if v is not None:
            _, vs = _as_tuple(v, "v", "vjp")
            vs = _prepare(vs, create_graph, need_graph=False)
            _check_v(vs, outs, outputs_tuple)
        else:
            _single_element_v_needed(outs, "user-provided function returns")
    with set_grad_enabled(True if create_graph else _core.is_grad_enabled()):
        result = _fill_in_zeros(_grad(outs, xs, vs, create_graph), xs, strict, create_graph, "back")
    return (
        _unpack(_finish(outs, create_graph), outputs_tuple),
        _unpack(_finish(result, create_graph), inputs_tuple),
    )


def jvp(
    func: _Fn,
    inputs: _TensorOrTensors,
    v: _TensorOrTensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Returns ``(func(*inputs), J v)``: the Jacobian-vector product of ``func`` at ``inputs``.

    ``v`` has the shape of the inputs (it may be None when the input has one element). Computed by
    the double-backward trick, as ``torch.autograd.functional.jvp`` does.
    """
    with enable_grad():
        inputs_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
        xs = _prepare(xs, create_graph, need_graph=True)
        vs: tuple[Tensor, ...] | None = None
        if v is not None:
            _, vs = _as_tuple(v, "v", "jvp")
            vs = _prepare(vs, create_graph, need_graph=False)
            _check_v(vs, xs, inputs_tuple)
        else:
            _single_element_v_needed(xs, "input to the user-provided function")
        outputs_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function", "jvp")
        _check_requires_grad(outs, "outputs", strict)
        # u -> J^T u is linear, so its value at u = 0 is irrelevant: only its graph is used.
        us = tuple(_core.zeros_like(o, requires_grad=True) for o in outs)
        grad_inputs = _grad(outs, xs, us, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else _core.is_grad_enabled()):
        result = _fill_in_zeros(
            _grad(grad_inputs, us, vs, create_graph), outs, strict, create_graph, "back_trick"
        )
    return (
        _unpack(_finish(outs, create_graph), outputs_tuple),
        _unpack(_finish(result, create_graph), outputs_tuple),
    )


def vhp(
    func: _Fn,
    inputs: _TensorOrTensors,
    v: _TensorOrTensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Returns ``(func(*inputs), v^T H)`` for a ``func`` with a single-element output, where H is
    its Hessian at ``inputs``. As ``torch.autograd.functional.vhp``."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(
    func: _Fn,
    inputs: _TensorOrTensors,
    v: _TensorOrTensors | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Returns ``(func(*inputs), H v)`` for a ``func`` with a single-element output, where H is its
    Hessian at ``inputs``, computed with the double-backward trick. As
    ``torch.autograd.functional.hvp`` (for a twice-differentiable func, H is symmetric and this
    equals ``vhp``)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(
    func: _Fn, inputs: _TensorOrTensors, v: Any, create_graph: bool, strict: bool, fn_name: str
) -> tuple[Any, Any]:
    with enable_grad():
        inputs_tuple, xs = _as_tuple(inputs, "inputs", fn_name)
        xs = _prepare(xs, create_graph, need_graph=True)
        vs: tuple[Tensor, ...] | None = None
        if v is not None:
            _, vs = _as_tuple(v, "v", fn_name)
            vs = _prepare(vs, create_graph, need_graph=False)
            _check_v(vs, xs, inputs_tuple)
        else:
            _single_element_v_needed(xs, "input to the user-provided function")
        outputs_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function", fn_name)
        _check_requires_grad(outs, "outputs", strict)
        _check_scalar_output(outs, outputs_tuple, fn_name)
        jac = _grad(outs, xs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        if fn_name == "hvp":
            # H v as the derivative, with respect to u, of (u^T H) in the direction v.
            us = tuple(_core.zeros_like(x, requires_grad=True) for x in xs)
            double_back = _grad(jac, xs, us, create_graph=True)
            _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(True if create_graph else _core.is_grad_enabled()):
        if fn_name == "hvp":
            grads = _grad(double_back, us, vs, create_graph)
            result = _fill_in_zeros(grads, xs, strict, create_graph, "double_back_trick")
        else:
            result = _fill_in_zeros(_grad(jac, xs, vs, create_graph), xs, strict, create_graph, "double_back")
    return (
        _unpack(_finish(outs, create_graph), outputs_tuple),
        _unpack(_finish(result, create_graph), inputs_tuple),
    )


# ---- full matrices ------------------------------------------------------------------------------
def jacobian(
    func: _Fn,
    inputs: _TensorOrTensors,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs``: for output i and input j, a Tensor of shape
    ``output_i.shape + input_j.shape``, nested as ``jac[i][j]`` (each level a plain Tensor when
    there is a single output or input). As ``torch.autograd.functional.jacobian``.

    Computed one output element at a time in reverse mode. ``vectorize=True`` and
    ``strategy="forward-mode"`` (which PyTorch only allows together) give the same values by the
    same computation.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                'jacobian: create_graph=True and strategy="forward-mode" are not supported together; '
                'set create_graph=False or strategy="reverse-mode".'
            )
        if strict:
            raise RuntimeError(
                'jacobian: strict=True and strategy="forward-mode" are not supported together; '
                'set strict=False or strategy="reverse-mode".'
            )
        if not vectorize:
            raise NotImplementedError(
                'jacobian: strategy="forward-mode" is only implemented with vectorize=True.'
            )
    with enable_grad():
        inputs_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
        xs = _prepare(xs, create_graph, need_graph=True)
        outputs_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError(
                "jacobian: strict=True and vectorize=True are not supported together; "
                "set strict=False or vectorize=False."
            )
        result = []
        for i, out in enumerate(outs):
            rows: list[list[Tensor]] = [[] for _ in xs]
            flat = out.reshape(-1)
            for k in range(out.numel()):
                grads = _grad((flat[k],), xs, retain_graph=True, create_graph=create_graph)
                for j, (g, x) in enumerate(zip(grads, xs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of input {j}. "
                                "This is not allowed in strict mode."
                            )
                        g = _core.zeros_like(x)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(
                            f"The jacobian of the user-provided function is independent of input {j}. "
                            "This is not allowed in strict mode when create_graph=True."
                        )
                    rows[j].append(g)
            per_input = []
            for x, row in zip(xs, rows):
                shape = tuple(out.shape) + tuple(x.shape)
                if row:
                    per_input.append(_core.stack(row, 0).view(shape))
                else:  # an output with no elements: an empty Jacobian
                    per_input.append(zeros(*shape, dtype=x.dtype))
            result.append(tuple(per_input))
        return _unpack(_finish(tuple(result), create_graph), (outputs_tuple, inputs_tuple))


def hessian(
    func: _Fn,
    inputs: _TensorOrTensors,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of a ``func`` with a single-element output: for inputs i and j, a Tensor of shape
    ``input_i.shape + input_j.shape``, nested as ``h[i][j]`` (a plain Tensor for a single input).
    As ``torch.autograd.functional.hessian``; computed as the Jacobian of the gradient."""
    inputs_tuple, xs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*args: Tensor) -> Tensor:
        out = func(*args)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict)
        _check_scalar_output(outs, out_tuple, "hessian")
        return out.squeeze()

    def gradient(*args: Tensor) -> Any:
        if outer_jacobian_strategy == "forward-mode":
            args = tuple(a.requires_grad_(True) for a in args)
        jac = jacobian(scalar_func, args, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(
        gradient,
        xs,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return _unpack(result, (inputs_tuple, inputs_tuple))
