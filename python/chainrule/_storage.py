"""Ops on int32, int16, int8, uint8, float16 and bfloat16 tensors (Note [Storage dtypes] in
``csrc/core/dtype.h``).

Tensors hold these dtypes (4 or 2 bytes an element), and conversions, copies, fills and the views
whose gradient is a view too run on them as they are. Every other op computes in the storage
dtype's compute dtype (int64 for the narrow integers, float32 for float16 and bfloat16): :func:`install` puts
each engine function and Tensor method behind a check (``_core._wrap_storage``) that sends a call
with such an operand to :func:`_call`, which converts those operands with ``Tensor.to`` (so that
gradients flow back in the tensor's own dtype), runs the op, and rounds the result back to the
dtype PyTorch's type promotion gives (round to nearest even). PyTorch's CPU kernels compute most
half-precision math in float32 too, so results agree with PyTorch's up to the rounding of
intermediate results inside fused kernels (softmax, matmul, reductions, norms).

Differences from PyTorch that follow from this design:

- indexing, ``expand``, ``select``, ``narrow``, ``split``, ``chunk`` and ``unbind`` of these dtypes
  return copies, not views (writing into the result does not change the tensor it came from;
  ``t[i] = v`` and the in-place methods of ``t`` itself do change ``t``);
- an in-place op on such a tensor computes out of place and copies the result back, so it costs a
  conversion of the whole tensor;
- integer ops on the narrow integers wrap around at the int64 range before being narrowed;
- the ``grad_fn`` of such a result is the rounding conversion (``ToCopyBackward0``), not the op's
  own node (``AddBackward0``); gradients are the same;
- ops that PyTorch refuses for mixed dtypes (``matmul`` of float16 with float32) promote instead;
- ``set_default_dtype`` takes float32 and float64 only.
"""

from __future__ import annotations

import builtins
from typing import Any

from chainrule import _core

_INT32 = _core.int32
_F16 = _core.float16
_BF16 = _core.bfloat16
_NARROW_INTS = (_INT32, _core.int16, _core.int8, _core.uint8)
_COMPUTE = {_F16: _core.float32, _BF16: _core.float32}
_COMPUTE.update({d: _core.int64 for d in _NARROW_INTS})
_Tensor = _core.Tensor

# Ops that run on the storage dtypes as they are: conversions, copies, attributes, and views whose
# gradient is again a view (so backward never computes in a storage dtype).
_NATIVE = frozenset(
    {
        "to",
        "type",
        "float",
        "double",
        "long",
        "bool",
        "int",
        "half",
        "bfloat16",
        "numpy",
        "__array__",
        "tolist",
        "item",
        "size",
        "dim",
        "ndimension",
        "numel",
        "nelement",
        "stride",
        "storage_offset",
        "data_ptr",
        "element_size",
        "is_contiguous",
        "is_floating_point",
        "is_complex",
        "is_signed",
        "requires_grad_",
        "retain_grad",
        "register_hook",
        "backward",
        "detach",
        "detach_",
        "clone",
        "contiguous",
        "view",
        "view_as",
        "reshape",
        "reshape_as",
        "transpose",
        "swapaxes",
        "swapdims",
        "permute",
        "t",
        "unsqueeze",
        "squeeze",
        "flatten",
        "unflatten",
        "movedim",
        "moveaxis",
        "copy_",
        "set_",
        "__repr__",
        "__str__",
        "__format__",
        "__len__",
        "__bool__",
        "__float__",
        "__int__",
        "__index__",
        "__reduce__",
        "__reduce_ex__",
        "__getstate__",
        "__setstate__",
        "__deepcopy__",
        "__copy__",
        "__hash__",
        "__init__",
        "__new__",
        "__iter__",
        # engine functions that reason about dtypes rather than compute with tensors
        "tensor",
        "as_tensor",
        "from_numpy",
        "_tensor",
        "is_tensor",
        "promote_types",
        "can_cast",
        "result_type",
        "is_storage",
        "is_nonzero",
        "_set_default_dtype",
        "_get_default_dtype",
        "_set_storage_handler",
        "_wrap_storage",
        "_op_registry",
        "_check_device",
    }
)

# Private engine functions that compute (the others are the engine's plumbing: backward, hooks, ...).
_PRIVATE_COMPUTE = frozenset(
    {
        "_binary_cross_entropy",
        "_binary_cross_entropy_with_logits",
        "_cross_entropy",
        "_huber_loss",
        "_l1_loss",
        "_mse_loss",
        "_nll_loss",
        "_smooth_l1_loss",
        "_total_norm",
        "_empty",
        "_zeros",
        "_ones",
    }
)

# Ops whose integer result is int64 whatever the integer input (PyTorch: sum of int32 is int64).
_INT64_RESULT = frozenset(
    {
        "sum",
        "nansum",
        "prod",
        "cumsum",
        "cumprod",
        "trace",
        "argmax",
        "argmin",
        "argsort",
        "nonzero",
        "argwhere",
        "count_nonzero",
        "bincount",
        "searchsorted",
        "bucketize",
    }
)

# Ops whose result has the dtype of the tensor they read values from, whatever the dtypes of
# their index, mask or fill arguments.
_SELF_TYPED = frozenset(
    {
        "__getitem__",
        "index_select",
        "gather",
        "take",
        "take_along_dim",
        "masked_select",
        "masked_fill",
        "masked_scatter",
        "scatter",
        "scatter_add",
        "scatter_reduce",
        "index_add",
        "index_copy",
        "index_fill",
        "index_put",
        "narrow",
        "select",
        "split",
        "chunk",
        "unbind",
        "expand",
        "expand_as",
        "repeat",
        "tile",
        "roll",
        "flip",
        "fliplr",
        "flipud",
        "rot90",
        "tril",
        "triu",
        "diagonal",
        "diag",
        "diag_embed",
        "full_like",
        "zeros_like",
        "ones_like",
        "empty_like",
        "rand_like",
        "randn_like",
        "randint_like",
        "fill",
        "pad",
        "constant_pad_nd",
    }
)

_INPLACE_DUNDERS = frozenset(
    {"__setitem__"}
    | {f"__i{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul")}
    | {f"__i{op}__" for op in ("and", "or", "xor", "lshift", "rshift")}
)

# Fields of a named-tuple result that hold indices (never narrowed to int32).
_INDEX_FIELDS = ("indices", "inverse_indices", "counts")


def _rank(d: Any) -> int:
    return {
        _core.bool: 0,
        _core.uint8: 1,
        _core.int8: 1,
        _core.int16: 2,
        _INT32: 3,
        _core.int64: 4,
        _F16: 5,
        _BF16: 5,
        _core.float32: 6,
        _core.float64: 7,
    }[d]


def promote_types(type1: Any, type2: Any) -> Any:
    """torch.promote_types: bool < uint8, int8 < int16 < int32 < int64 < float16, bfloat16 <
    float32 < float64; float16 with bfloat16 gives float32 and uint8 with int8 gives int16."""
    a, b = type1, type2
    if a is b:
        return a
    ra, rb = _rank(a), _rank(b)
    if ra == rb:
        return _core.int16 if ra == 1 else _core.float32
    return a if ra > rb else b


def _combine(higher: Any, lower: Any) -> Any:
    # PyTorch's rule between dimension tiers: a lower tier (0-d tensors, then Python numbers) only
    # counts when it is of a higher category (bool < integer < floating).
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is _core.bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def _scalar_dtype(x: Any) -> Any:
    if isinstance(x, builtins.bool):
        return _core.bool
    if isinstance(x, builtins.int):
        return _core.int64
    if isinstance(x, builtins.float):
        return _core._get_default_dtype()
    return None


def result_type(tensor: Any, other: Any) -> Any:
    """torch.result_type: the dtype an arithmetic op on ``tensor`` and ``other`` (tensors or Python
    numbers) gives. Tensors with dimensions decide; 0-d tensors, then Python numbers, count only
    when they are of a higher category (bool < integer < floating)."""
    return _result_type(tensor, other)


def _result_type(*operands: Any) -> Any:
    tiers: list[Any] = [None, None, None]

    def add(i: int, d: Any) -> None:
        tiers[i] = d if tiers[i] is None else promote_types(tiers[i], d)

    for x in operands:
        items = x if type(x) in (list, tuple) else (x,)
        for y in items:
            if isinstance(y, _Tensor):
                add(0 if y.dim() else 1, y.dtype)
            else:
                d = _scalar_dtype(y)
                if d is not None:
                    add(2, d)
    out = _combine(tiers[0], _combine(tiers[1], tiers[2]))
    if out is None:
        raise TypeError("result_type() needs at least one tensor or number")
    return out


def _has_storage(x: Any) -> bool:
    if isinstance(x, _Tensor):
        return x.dtype in _COMPUTE
    if type(x) in (list, tuple):
        return any(isinstance(y, _Tensor) and y.dtype in _COMPUTE for y in x)
    return False


def _convert(x: Any, track: list[Any] | None = None) -> Any:
    if isinstance(x, _Tensor):
        d = x.dtype
        if d in _COMPUTE:
            if track is not None:
                c = x.detach().to(_COMPUTE[d])
                track.append((x, c))
                return c
            return x.to(_COMPUTE[d])
        return x
    if type(x) in (list, tuple) and _has_storage(x):
        return type(x)(_convert(y, track) for y in x)
    if isinstance(x, _core.dtype) and x in _COMPUTE:
        return _COMPUTE[x]
    return x


def _round_back(r: Any, target: Any) -> Any:
    compute = _COMPUTE[target]
    if isinstance(r, _Tensor):
        return r.to(target) if r.dtype is compute else r
    if isinstance(r, tuple) and hasattr(r, "_fields"):
        return type(r)(
            *(
                x if target in _NARROW_INTS and f in _INDEX_FIELDS else _round_back(x, target)
                for f, x in zip(r._fields, r, strict=True)
            )
        )
    if type(r) in (list, tuple):
        return type(r)(_round_back(x, target) for x in r)
    return r


def _first_tensor(args: tuple[Any, ...]) -> Any:
    for a in args:
        if isinstance(a, _Tensor):
            return a
    return None


def _target(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The storage dtype the result rounds back to, or None."""
    explicit = kwargs.get("dtype")
    if explicit is None:
        explicit = next((a for a in args if isinstance(a, _core.dtype)), None)
    if explicit is not None:
        return explicit if explicit in _COMPUTE else None
    if name in _SELF_TYPED:
        first = _first_tensor(args)
        d = first.dtype if first is not None else None
    else:
        d = _result_type(*args, *(v for v in kwargs.values() if isinstance(v, _Tensor)))
    if d in _NARROW_INTS and name in _INT64_RESULT:
        return None
    return d if d in _COMPUTE else None


def _call(fn: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Runs `fn` on operands of a storage dtype through their compute dtype (see the module doc)."""
    if _updates_in_place(name):
        # Update converted copies of every tensor (lists included), then copy them back.
        track: list[Any] = []
        out = fn(*(_convert(a, track) for a in args), **{k: _convert(v, track) for k, v in kwargs.items()})
        with _no_grad():
            for orig, conv in track:
                orig.copy_(conv)
        return out
    inplace = name in _INPLACE_DUNDERS or (name.endswith("_") and not name.endswith("__"))
    if inplace and args and isinstance(args[0], _Tensor):
        self = args[0]
        rest = tuple(_convert(a) for a in args[1:])
        kw = {k: _convert(v) for k, v in kwargs.items()}
        if self.dtype not in _COMPUTE:
            return fn(self, *rest, **kw)
        tmp = self.to(_COMPUTE[self.dtype])
        out = fn(tmp, *rest, **kw)
        self.copy_(tmp)
        return None if name == "__setitem__" else (self if out is tmp else out)
    target = _target(name, args, kwargs)
    requires_grad = False
    if "dtype" in kwargs and kwargs["dtype"] in _COMPUTE and kwargs.get("requires_grad"):
        # A factory: make the tensor, round it, then make the result the leaf that requires grad.
        requires_grad = True
        kwargs = {k: v for k, v in kwargs.items() if k != "requires_grad"}
    out = fn(*(_convert(a) for a in args), **{k: _convert(v) for k, v in kwargs.items()})
    if target is not None:
        out = _round_back(out, target)
    if requires_grad and isinstance(out, _Tensor):
        out = out.detach().requires_grad_(True)
    return out


def _no_grad() -> Any:
    from chainrule.autograd.grad_mode import no_grad

    return no_grad()


def _wrapped(name: str) -> bool:
    if name in _NATIVE:
        return False
    if name.startswith("_") and not name.startswith("__"):
        return name in _PRIVATE_COMPUTE or _updates_in_place(name)
    return True


def _updates_in_place(name: str) -> bool:
    # The engine's private kernels that update tensors (or lists of them) in place: optimizer
    # steps, initializers, gradient clipping.
    return (
        name.startswith("_") and not name.startswith("__") and (name.endswith("_step") or name.endswith("_"))
    )


def install() -> None:
    """Puts every engine function and Tensor method that computes behind the storage-dtype check."""
    for name in dir(_core):
        obj = getattr(_core, name)
        if not _wrapped(name) or isinstance(obj, type) or type(obj).__name__ != "builtin_function_or_method":
            continue
        setattr(_core, name, _core._wrap_storage(obj, name, False))
    for name, obj in list(vars(_Tensor).items()):
        if not _wrapped(name) or type(obj).__name__ != "instancemethod":
            continue
        setattr(_Tensor, name, _core._wrap_storage(obj, name, True))
    _core._set_storage_handler(_call)
