"""PyTorch functions that are compositions of chainrule's differentiable ops.

Each is a few calls to ops of the engine (cat, narrow, reshape, index_select, matmul, ...), so its
gradient is the engine's; none needs a kernel of its own. Tensor methods of the same names are
attached at the end (``x.roll(1)``, ``x.tile(2)``, ...).
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule import _core, _storage
from chainrule._core import ArgumentError, DTypeError, IndexingError, ShapeError, Tensor

__all__ = [
    "allclose",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_shapes",
    "broadcast_tensors",
    "cartesian_prod",
    "column_stack",
    "dstack",
    "einsum",
    "equal",
    "floor_divide",
    "hstack",
    "is_floating_point",
    "is_nonzero",
    "is_tensor",
    "isclose",
    "meshgrid",
    "numel",
    "ravel",
    "repeat_interleave",
    "roll",
    "rot90",
    "row_stack",
    "tensor_split",
    "tensordot",
    "tile",
    "unflatten",
    "vstack",
]


def _tensors(tensors: Any, op: str) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): expected a sequence of Tensors, got {type(tensors).__name__}")
    out = list(tensors)
    for i, t in enumerate(out):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected a sequence of Tensors, but element {i} is {type(t).__name__}")
    return out


def _dim(d: Any, ndim: int, op: str) -> int:
    d = operator.index(d)
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not lo <= d <= hi:
        raise IndexingError(
            f"{op}(): dimension out of range (expected to be in range of [{lo}, {hi}], but got {d})"
        )
    return d % builtins.max(ndim, 1)


# ---- predicates and comparisons -------------------------------------------------------------------
def is_tensor(obj: Any) -> bool:
    """True when ``obj`` is a chainrule Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """True for float32 and float64 tensors."""
    return input.is_floating_point()


def is_nonzero(input: Tensor) -> bool:
    """The truth value of a one-element tensor (RuntimeError for any other size, as PyTorch)."""
    if input.numel() != 1:
        raise ArgumentError(
            "Boolean value of Tensor with no values is ambiguous"
            if input.numel() == 0
            else "Boolean value of Tensor with more than one value is ambiguous"
        )
    return builtins.bool(input.item())


def numel(input: Tensor) -> int:
    """The number of elements."""
    return input.numel()


def isclose(
    input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """|input - other| <= atol + rtol * |other| elementwise, as bool; infinities are close only to
    themselves, NaNs only with ``equal_nan``."""
    if not isinstance(other, Tensor):
        other = _core._tensor(other, dtype=input.dtype)
    if input.dtype != other.dtype:
        raise DTypeError(f"isclose(): {input.dtype} did not match {other.dtype}")
    if rtol < 0 or atol < 0:
        raise ArgumentError(f"isclose(): rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    with _core_no_grad():
        same = input == other
        if input.dtype in (_core.bool, _core.int64) and not input.is_floating_point():
            if input.dtype == _core.bool:
                return same
            diff = (input - other).abs().double()
            return same | (diff <= atol + rtol * other.abs().double())
        finite = _core.isfinite(input) & _core.isfinite(other)
        close = (input - other).abs() <= atol + rtol * other.abs()
        out = same | (close & finite)
        if equal_nan:
            out = out | (_core.isnan(input) & _core.isnan(other))
        return out


def allclose(
    input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """True when every element is close (see isclose); the shapes must broadcast."""
    return _all(isclose(input, other, rtol, atol, equal_nan))


def _all(mask: Tensor) -> bool:
    return builtins.int(_core.logical_not(mask).sum().item()) == 0


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and the same values (NaN is never equal)."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    with _core_no_grad():
        return _all(input == other)


class _core_no_grad:
    """no_grad without importing chainrule.autograd (this module loads before it)."""

    def __enter__(self) -> None:
        self.prev = _core.is_grad_enabled()
        _core._set_grad_enabled(False)

    def __exit__(self, *exc: object) -> None:
        _core._set_grad_enabled(self.prev)


# ---- floor division -------------------------------------------------------------------------------
def floor_divide(input: Any, other: Any) -> Tensor:
    """input / other rounded toward negative infinity; integer operands give an integer result
    (an integer zero divisor raises, as remainder does)."""
    a = input if isinstance(input, Tensor) else _core._tensor(input)
    b = (
        other
        if isinstance(other, Tensor)
        else _core._tensor(other, dtype=a.dtype if not isinstance(other, float) else None)
    )
    if not a.is_floating_point() and not b.is_floating_point():
        if a.dtype == _core.bool and b.dtype == _core.bool:
            raise DTypeError("floor_divide(): not supported for bool tensors")
        r = _core.remainder(a, b)  # raises on an integer zero divisor
        return _core.div(a - r, b).round().to(_storage.result_type(a, b))
    return _core.floor(_core.div(a, b))


def _rfloordiv(self: Tensor, other: Any) -> Tensor:
    return floor_divide(
        other
        if isinstance(other, Tensor)
        else _core._tensor(other, dtype=self.dtype if not isinstance(other, float) else None),
        self,
    )


def _mod(self: Tensor, other: Any) -> Tensor:
    return self.remainder(other)


def _rmod(self: Tensor, other: Any) -> Tensor:
    o = (
        other
        if isinstance(other, Tensor)
        else _core._tensor(other, dtype=self.dtype if not isinstance(other, float) else None)
    )
    return _core.remainder(o, self)


# ---- stacking ---------------------------------------------------------------------------------------
def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least one dim (a 0-d tensor becomes shape [1])."""
    ts = _unpack(tensors)
    out = [t.reshape(1) if t.dim() == 0 else t for t in ts]
    return out[0] if len(out) == 1 and isinstance(tensors[0], Tensor) else tuple(out)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least two dims (new leading dims of size 1)."""
    ts = _unpack(tensors)
    out = [t.reshape(1, 1) if t.dim() == 0 else t.unsqueeze(0) if t.dim() == 1 else t for t in ts]
    return out[0] if len(out) == 1 and isinstance(tensors[0], Tensor) else tuple(out)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least three dims: [n] -> [1, n, 1], [m, n] -> [m, n, 1]."""

    def three(t: Tensor) -> Tensor:
        if t.dim() == 0:
            return t.reshape(1, 1, 1)
        if t.dim() == 1:
            return t.reshape(1, t.shape[0], 1)
        if t.dim() == 2:
            return t.unsqueeze(-1)
        return t

    ts = _unpack(tensors)
    out = [three(t) for t in ts]
    return out[0] if len(out) == 1 and isinstance(tensors[0], Tensor) else tuple(out)


def _unpack(tensors: tuple[Any, ...]) -> list[Tensor]:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return _tensors(tensors[0], "atleast")
    return _tensors(list(tensors), "atleast")


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenation along dim 1 (dim 0 for 1-D tensors)."""
    ts = [atleast_1d(t) for t in _tensors(tensors, "hstack")]
    if not ts:
        raise ArgumentError("hstack expects a non-empty TensorList")
    return _core.cat(ts, 0 if ts[0].dim() == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenation along dim 0 after making every tensor at least 2-D."""
    ts = [atleast_2d(t) for t in _tensors(tensors, "vstack")]
    if not ts:
        raise ArgumentError("vstack expects a non-empty TensorList")
    return _core.cat(ts, 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenation along dim 2 after making every tensor at least 3-D."""
    ts = [atleast_3d(t) for t in _tensors(tensors, "dstack")]
    if not ts:
        raise ArgumentError("dstack expects a non-empty TensorList")
    return _core.cat(ts, 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Columns side by side: 0-d and 1-D tensors become [n, 1] columns, then hstack."""
    ts = _tensors(tensors, "column_stack")
    if not ts:
        raise ArgumentError("column_stack expects a non-empty TensorList")
    cols = [t.reshape(-1, 1) if t.dim() <= 1 else t for t in ts]
    return _core.cat(cols, 1)


# ---- splitting and reshaping ------------------------------------------------------------------------
def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of input split along dim: into n nearly equal parts (the first size % n one longer),
    or at the given indices."""
    if input.dim() == 0:
        raise ShapeError("tensor_split(): expected at least a 1-dimensional tensor, but got a 0-d tensor")
    d = _dim(dim, input.dim(), "tensor_split")
    size = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.is_floating_point() or indices_or_sections.dim() > 1:
            raise DTypeError("tensor_split(): indices_or_sections must be an int64 0-d or 1-D tensor")
        spec = indices_or_sections.tolist()
    else:
        spec = indices_or_sections
    if isinstance(spec, int) and not isinstance(spec, builtins.bool):
        n = spec
        if n <= 0:
            raise ArgumentError(f"tensor_split(): number of sections must be larger than 0, got {n}")
        if n > builtins.max(size, 1) + 2**20:
            raise ArgumentError(
                f"tensor_split(): {n} sections is more than a tensor of {size} entries can yield"
            )
        base, extra = divmod(size, n)
        bounds, start = [], 0
        for i in range(n):
            stop = start + base + (1 if i < extra else 0)
            bounds.append((start, stop))
            start = stop
    else:
        idx = [operator.index(i) for i in spec]
        bounds, start = [], 0
        for i in idx + [size]:
            stop = builtins.min(builtins.max(i if i >= 0 else i + size, 0), size)
            bounds.append((start, builtins.max(stop, start)))
            start = stop
    return tuple(input.narrow(d, a, b - a) for a, b in bounds)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Dim ``dim`` split into ``sizes`` (one of them may be -1)."""
    d = _dim(dim, input.dim(), "unflatten")
    sizes = [operator.index(s) for s in sizes]
    if not sizes:
        raise ArgumentError("unflatten(): sizes must be non-empty")
    shape = list(input.shape)
    if sizes.count(-1) > 1:
        raise ArgumentError("unflatten(): only one dimension can be inferred")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if known == 0 or shape[d] % known:
            raise ShapeError(
                f"unflatten(): sizes {sizes} don't multiply up to the size of dim {d} ({shape[d]})"
            )
        sizes[sizes.index(-1)] = shape[d] // known
    elif known != shape[d]:
        raise ShapeError(
            f"unflatten(): provided sizes don't multiply up to the size of dim {d} ({shape[d]}) "
            "in the input tensor"
        )
    return input.reshape(*shape[:d], *sizes, *shape[d + 1 :])


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor (a view when the layout allows)."""
    return input.reshape(-1)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Entries shifted cyclically along dims (the flattened tensor when dims is None)."""
    if isinstance(shifts, int):
        shifts = (shifts,)
    shifts = tuple(operator.index(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ArgumentError(f"roll(): shifts must have one entry when dims is None, got {len(shifts)}")
        return roll(input.reshape(-1), shifts, 0).reshape(*input.shape)
    if isinstance(dims, int):
        dims = (dims,)
    dims = tuple(dims)
    if len(shifts) != len(dims):
        raise ArgumentError(
            f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}"
        )
    out = input
    for s, d0 in zip(shifts, dims):
        d = _dim(d0, input.dim(), "roll")
        n = input.shape[d]
        if n == 0:
            continue
        s %= n
        if s:
            out = _core.cat([out.narrow(d, n - s, s), out.narrow(d, 0, n - s)], d)
    return out if out is not input else input.clone()


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotation by 90 degrees k times in the plane of dims (from the first towards the second)."""
    if len(dims) != 2:
        raise ArgumentError(f"rot90(): expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.dim() < 2:
        raise ShapeError(f"rot90(): expected total dims >= 2, but got total dims = {input.dim()}")
    d0, d1 = _dim(dims[0], input.dim(), "rot90"), _dim(dims[1], input.dim(), "rot90")
    if d0 == d1:
        raise ArgumentError(
            f"rot90(): expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}"
        )
    k %= 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip(d0, d1)
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()


def tile(input: Tensor, dims: Any) -> Tensor:
    """input repeated along each dim; fewer ``dims`` than input dims are padded with leading ones."""
    if isinstance(dims, int):
        dims = (dims,)
    dims = tuple(operator.index(d) for d in dims)
    if len(dims) < input.dim():
        dims = (1,) * (input.dim() - len(dims)) + dims
    return input.repeat(*dims)


def repeat_interleave(
    input: Tensor, repeats: Any = None, dim: int | None = None, *, output_size: int | None = None
) -> Tensor:
    """Each element repeated ``repeats`` times (an int, or a tensor of one count per element)
    along dim (of the flattened input when dim is None). With only a tensor of counts, the indices
    0, 1, ... each repeated that many times."""
    if repeats is None:
        if input.dim() > 1 or input.is_floating_point():
            raise DTypeError("repeat_interleave(): repeats must be a 0-d or 1-D int64 tensor")
        return _core._tensor(_repeat_indices(input.reshape(-1).tolist()), dtype=_core.int64)
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim(dim, x.dim(), "repeat_interleave")
    if x.dim() == 0:
        x = x.reshape(1)
    n = x.shape[d]
    if isinstance(repeats, Tensor):
        if repeats.is_floating_point():
            raise DTypeError("repeat_interleave(): repeats must be an integer tensor")
        counts: list[int] = repeats.reshape(-1).tolist()
        if len(counts) == 1:
            counts = counts * n
    else:
        counts = [operator.index(repeats)] * n
    if len(counts) != n:
        raise ShapeError(
            "repeat_interleave(): repeats must have the same size as input along dim, "
            f"got {len(counts)} and {n}"
        )
    idx = _repeat_indices(counts)
    if output_size is not None and output_size != len(idx):
        raise ArgumentError(
            f"repeat_interleave(): output_size {output_size} does not match the total {len(idx)}"
        )
    return x.index_select(d, _core._tensor(idx, dtype=_core.int64))


def _repeat_indices(counts: list[int]) -> np.ndarray:
    """0, 1, ... with i repeated counts[i] times; a total too large to hold raises at once."""
    if builtins.any(c < 0 for c in counts):
        raise ArgumentError("repeat_interleave(): repeats can not be negative")
    total = builtins.sum(counts)
    if total >= 2**40:
        raise ArgumentError(
            f"repeat_interleave(): the result would have {total} elements, more than memory holds"
        )
    return np.repeat(np.arange(len(counts), dtype=np.int64), np.asarray(counts, dtype=np.int64))


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: indexing "ij" (matrix, the default) or "xy" (Cartesian,
    the first two dims swapped). Each grid is an expanded view of its input."""
    ts = list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else list(tensors)
    ts = _tensors(ts, "meshgrid")
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f'meshgrid(): indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in ts:
        if t.dim() > 1:
            raise ShapeError(f"meshgrid(): expected 0D or 1D tensors, got a {t.dim()}-D tensor")
    ts = [t.reshape(-1) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = [t.shape[0] for t in ts]
    grids = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = shape[i]
        grids.append(t.reshape(*view).expand(*shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of the 1-D inputs' entries, one per row."""
    ts = _tensors(list(tensors), "cartesian_prod")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return _core.stack([g.reshape(-1) for g in grids], 1)


def broadcast_shapes(*shapes: Any) -> Any:
    """The shape that all given shapes broadcast to."""
    out: list[int] = []
    for s in shapes:
        s = (s,) if isinstance(s, int) else tuple(s)
        for i, n in enumerate(reversed(s)):
            if i >= len(out):
                out.insert(0, n)
                continue
            j = len(out) - 1 - i
            if out[j] == 1:
                out[j] = n
            elif n != 1 and n != out[j]:
                raise ShapeError(
                    f"Shape mismatch: objects cannot be broadcast to a single shape ({out} and {list(s)})"
                )
    from chainrule._dtypes import Size

    return Size(out)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """Views of the inputs expanded to their common shape."""
    ts = _tensors(
        list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else list(tensors),
        "broadcast_tensors",
    )
    shape = broadcast_shapes(*[t.shape for t in ts])
    return tuple(t.expand(*shape) for t in ts)


# ---- contractions -------------------------------------------------------------------------------------
def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Sum of products over the last ``dims`` dims of a and the first of b (an int), or over the
    paired dims given as two lists; one matrix product."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise ArgumentError(f"tensordot(): expects dims >= 0, but got dims={dims}")
        if dims > builtins.min(a.dim(), b.dim()):
            raise ArgumentError(f"tensordot(): dims {dims} exceeds the dims of the operands")
        da = list(range(a.dim() - dims, a.dim()))
        db = list(range(dims))
    else:
        if len(dims) != 2:
            raise ArgumentError("tensordot(): dims must be an int or a pair of lists of dims")
        da_, db_ = dims
        da = [da_] if isinstance(da_, int) else list(da_)
        db = [db_] if isinstance(db_, int) else list(db_)
        if len(da) != len(db):
            raise ArgumentError("tensordot(): both dimension lists should have same length")
        da = [_dim(d, a.dim(), "tensordot") for d in da]
        db = [_dim(d, b.dim(), "tensordot") for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(
                "tensordot(): contracted dimensions need to match, but first has size "
                f"{a.shape[i]} in dim {i} "
                f"and second has size {b.shape[j]} in dim {j}"
            )
    free_a = [d for d in range(a.dim()) if d not in da]
    free_b = [d for d in range(b.dim()) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    am = a.permute(*free_a, *da).reshape(math.prod(a.shape[d] for d in free_a), k)
    bm = b.permute(*db, *free_b).reshape(k, math.prod(b.shape[d] for d in free_b))
    return (am @ bm).reshape(*[a.shape[d] for d in free_a], *[b.shape[d] for d in free_b])


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation: ``einsum("bij,bjk->bik", x, y)``. Operands may also be one list.

    Repeated letters in one operand take its diagonal; letters in no other operand and not in the
    output are summed first; the operands are then contracted pairwise, left to right, each pair as
    one batched matrix product (GEMM). ``...`` stands for broadcast dims."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ops = _tensors(list(operands), "einsum")
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out_spec = eq.split("->")
        explicit = True
    else:
        lhs, out_spec, explicit = eq, "", False
    specs = lhs.split(",")
    if len(specs) != len(ops):
        raise ArgumentError(
            f"einsum(): {len(specs)} operand specs in the equation but {len(ops)} operands given"
        )
    # Expand "..." into private upper-case-free symbols, one per broadcast dim.
    ell_syms = [chr(0x3B1 + i) for i in range(16)]  # greek letters do not clash with a-zA-Z
    n_ell = 0
    parsed: list[list[str]] = []
    for spec, t in zip(specs, ops):
        if spec.count("...") > 1 or ("." in spec.replace("...", "")):
            raise ArgumentError(f"einsum(): invalid ellipsis in '{spec}'")
        named = len(spec.replace("...", ""))
        for c in spec.replace("...", ""):
            if not c.isalpha():
                raise ArgumentError(
                    f"einsum(): invalid subscript '{c}' in the equation (letters a-z, A-Z only)"
                )
        if "..." in spec:
            k = t.dim() - named
            if k < 0:
                raise ShapeError(f"einsum(): operand '{spec}' has {t.dim()} dims, fewer than its subscripts")
            n_ell = builtins.max(n_ell, k)
            pre, post = spec.split("...")
            parsed.append(list(pre) + ell_syms[16 - k :] + list(post))
        else:
            if named != t.dim():
                raise ShapeError(
                    f"einsum(): the subscripts '{spec}' do not match an operand with {t.dim()} dims"
                )
            parsed.append(list(spec))
    ell_order = ell_syms[16 - n_ell :]
    counts: dict[str, int] = {}
    for p in parsed:
        for c in dict.fromkeys(p):
            counts[c] = counts.get(c, 0) + 1
    if explicit:
        if out_spec.count("...") > 1:
            raise ArgumentError("einsum(): invalid ellipsis in the output")
        if "..." in out_spec:
            pre, post = out_spec.split("...")
            out = list(pre) + ell_order + list(post)
        else:
            out = list(out_spec)
        for c in out:
            if c not in counts:
                raise ArgumentError(f"einsum(): output subscript '{c}' does not appear in the operands")
        if len(set(out)) != len(out):
            raise ArgumentError("einsum(): output subscripts must not repeat")
    else:
        out = ell_order + sorted(
            c for c, n in counts.items() if n == 1 and c not in ell_order and not _repeated(c, parsed)
        )
    # Sizes, checked (1 broadcasts for ellipsis dims only, as PyTorch also allows size-1 letters).
    sizes: dict[str, int] = {}
    for p, t in zip(parsed, ops):
        for c, n in zip(p, t.shape):
            if c in sizes and sizes[c] != n and n != 1 and sizes[c] != 1:
                raise ShapeError(
                    f"einsum(): subscript '{c}' has size {n} for one operand and {sizes[c]} for another"
                )
            sizes[c] = n if c not in sizes or sizes[c] == 1 else sizes[c]
    # 1. diagonals of repeated letters within one operand, then sums of letters used only there.
    terms: list[tuple[list[str], Tensor]] = []
    for p, t in zip(parsed, ops):
        p = list(p)
        while len(set(p)) != len(p):
            c = next(c for c in p if p.count(c) > 1)
            i = p.index(c)
            j = p.index(c, i + 1)
            t = _core.diagonal(t, 0, i, j)
            p = [x for k, x in enumerate(p) if k not in (i, j)] + [c]
        terms.append((p, t))
    keep = set(out)
    for idx, (p, t) in enumerate(terms):
        others = (
            set().union(*[set(q) for k, (q, _) in enumerate(terms) if k != idx]) if len(terms) > 1 else set()
        )
        lonely = [c for c in p if c not in keep and c not in others]
        if lonely:
            t = t.sum([p.index(c) for c in lonely])
            p = [c for c in p if c not in lonely]
        terms[idx] = (p, t)
    # 2. contract left to right.
    p, t = terms[0]
    for i in range(1, len(terms)):
        q, u = terms[i]
        later = set().union(*[set(r) for r, _ in terms[i + 1 :]])
        p, t = _contract(p, t, q, u, keep | later)
    # 3. sum what is left over, order as the output.
    extra = [c for c in p if c not in keep]
    if extra:
        t = t.sum([p.index(c) for c in extra])
        p = [c for c in p if c not in extra]
    if not out:
        return t.reshape(()) if t.dim() else t
    shape_out = [sizes[c] for c in out]
    t = t.permute(*[p.index(c) for c in out]) if p else t
    if tuple(t.shape) != tuple(shape_out):
        t = t.expand(*shape_out)
    return t


def _repeated(c: str, parsed: list[list[str]]) -> bool:
    return builtins.any(p.count(c) > 1 for p in parsed)


def _contract(p: list[str], a: Tensor, q: list[str], b: Tensor, keep: set[str]) -> tuple[list[str], Tensor]:
    """a (letters p) times b (letters q), summing the shared letters not in ``keep``: one bmm with
    the kept shared letters as the batch."""
    shared = [c for c in p if c in q]
    batch = [c for c in shared if c in keep]
    summed = [c for c in shared if c not in keep]
    left = [c for c in p if c not in q]
    right = [c for c in q if c not in p]
    size = {c: n for c, n in zip(p, a.shape)}
    for c, n in zip(q, b.shape):
        size[c] = builtins.max(size.get(c, 1), n)
    a = a.permute(*[p.index(c) for c in batch + left + summed]) if p else a
    b = b.permute(*[q.index(c) for c in batch + summed + right]) if q else b
    # size-1 dims broadcast against the other operand's
    a = a.expand(*[size[c] for c in batch + left + summed]) if a.dim() else a
    b = b.expand(*[size[c] for c in batch + summed + right]) if b.dim() else b
    nb = math.prod(size[c] for c in batch)
    nl = math.prod(size[c] for c in left)
    ns = math.prod(size[c] for c in summed)
    nr = math.prod(size[c] for c in right)
    am = a.reshape(nb, nl, ns)
    bm = b.reshape(nb, ns, nr)
    r = _core.matmul(am, bm).reshape(*[size[c] for c in batch + left + right])
    return batch + left + right, r


# ---- Tensor methods -------------------------------------------------------------------------------------
def _method_unflatten(self: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    return unflatten(self, dim, sizes)


def _method_roll(self: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    return roll(self, shifts, dims)


def _method_tile(self: Tensor, *dims: Any) -> Tensor:
    return tile(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)


def _method_repeat_interleave(
    self: Tensor, repeats: Any, dim: int | None = None, *, output_size: int | None = None
) -> Tensor:
    return repeat_interleave(self, repeats, dim, output_size=output_size)


def _method_tensor_split(self: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    return tensor_split(self, indices_or_sections, dim)


def _method_rot90(self: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    return rot90(self, k, dims)


def _method_ravel(self: Tensor) -> Tensor:
    return ravel(self)


def _method_isclose(
    self: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    return isclose(self, other, rtol, atol, equal_nan)


def _method_allclose(
    self: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    return allclose(self, other, rtol, atol, equal_nan)


def _method_equal(self: Tensor, other: Tensor) -> bool:
    return equal(self, other)


def _method_is_nonzero(self: Tensor) -> bool:
    return is_nonzero(self)


for _name, _fn in [
    ("unflatten", _method_unflatten),
    ("roll", _method_roll),
    ("tile", _method_tile),
    ("repeat_interleave", _method_repeat_interleave),
    ("tensor_split", _method_tensor_split),
    ("rot90", _method_rot90),
    ("ravel", _method_ravel),
    ("isclose", _method_isclose),
    ("allclose", _method_allclose),
    ("equal", _method_equal),
    ("is_nonzero", _method_is_nonzero),
    ("floor_divide", floor_divide),
    ("__floordiv__", floor_divide),
    ("__rfloordiv__", _rfloordiv),
    ("__mod__", _mod),
    ("__rmod__", _rmod),
]:
    if _name in globals() and _fn is not globals()[_name]:
        _fn.__name__ = _name
        _fn.__qualname__ = f"Tensor.{_name}"
        _fn.__doc__ = globals()[_name].__doc__
    setattr(Tensor, _name, _fn)


# ---- more of torch's namespace ------------------------------------------------------------------------
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
    """input + value * tensor1 * tensor2, broadcasting."""
    prod = tensor1 * tensor2
    return input + (prod if value == 1 else prod * value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
    """input + value * tensor1 / tensor2, broadcasting (integer tensors are refused, as PyTorch)."""
    if not tensor1.is_floating_point() and not tensor2.is_floating_point():
        raise DTypeError("addcdiv(): integer division with addcdiv is not supported; use addcmul or div")
    q = tensor1 / tensor2
    return input + (q if value == 1 else q * value)


def _addc_inplace(fn: Any, name: str) -> Any:
    def method(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
        result = fn(self, tensor1, tensor2, value=value)
        if tuple(result.shape) != tuple(self.shape):
            raise ShapeError(
                f"{name}_(): output with shape {list(self.shape)} doesn't match the broadcast shape "
                f"{list(result.shape)}"
            )
        # copy_ follows Note [In-place ops]: recorded when grad flows, refused on a leaf that needs it.
        return self.copy_(result)

    method.__name__ = f"{name}_"
    method.__doc__ = f"In-place {name}."
    return method


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """data as a tensor, sharing memory where it can: a tensor of the right dtype is returned as it
    is, a NumPy array of a supported dtype is shared (from_numpy); anything else is copied."""
    _core._check_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and data.dtype in (np.float32, np.float64, np.int64, np.bool_):
        t = _core.from_numpy(data)
        return t if dtype is None or t.dtype == dtype else t.to(dtype)
    from chainrule._tensor import tensor

    return tensor(data, dtype=dtype)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Counts of each value of a 1-D non-negative int64 tensor (sums of ``weights`` if given)."""
    if input.dim() != 1 or input.is_floating_point() or input.dtype == _core.bool:
        raise DTypeError("bincount(): input must be a 1-D int64 tensor")
    if minlength < 0:
        raise ArgumentError("bincount(): minlength should be >= 0")
    x = np.asarray(input.detach())
    if x.size and x.min() < 0:
        raise ArgumentError("bincount(): input must contain only non-negative values")
    if weights is None:
        return _core.from_numpy(np.bincount(x, minlength=minlength).astype(np.int64))
    if tuple(weights.shape) != tuple(input.shape):
        raise ShapeError("bincount(): weights should have the same shape as input")
    w = np.asarray(weights.detach())
    out = np.bincount(x, weights=w, minlength=minlength)
    return _core._tensor(out, dtype=weights.dtype if weights.is_floating_point() else _core.float64)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Histogram of ``bins`` equal bins over [min, max] (the data's range when both are 0);
    values outside are ignored."""
    if not input.is_floating_point():
        raise DTypeError("histc(): expected a floating point tensor")
    if bins <= 0:
        raise ArgumentError("histc(): bins must be > 0")
    x = np.asarray(input.detach()).reshape(-1).astype(np.float64)
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ArgumentError("histc(): max must be larger than min")
    counts, _ = np.histogram(x[(x >= lo) & (x <= hi)], bins=bins, range=(lo, hi))
    return _core._tensor(counts.astype(np.float64), dtype=input.dtype)


def histogram(
    input: Tensor, bins: Any = 100, *, range: Any = None, weight: Tensor | None = None, density: bool = False
) -> tuple[Tensor, Tensor]:
    """(hist, bin_edges) of a floating tensor: ``bins`` equal bins (over ``range`` or the data's
    range) or the given 1-D tensor of edges; optional weights and density normalization."""
    if not input.is_floating_point():
        raise DTypeError("histogram(): expected a floating point tensor")
    x = np.asarray(input.detach()).reshape(-1).astype(np.float64)
    edges: Any = (
        np.asarray(bins.detach()).astype(np.float64) if isinstance(bins, Tensor) else builtins.int(bins)
    )
    w = None if weight is None else np.asarray(weight.detach()).reshape(-1).astype(np.float64)
    hist, e = np.histogram(x, bins=edges, range=range, weights=w, density=density)
    return (_core._tensor(hist.astype(np.float64), dtype=input.dtype), _core._tensor(e, dtype=input.dtype))


_DETERMINISTIC = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted for compatibility: every chainrule kernel is already deterministic (bitwise equal
    results for any thread count), so this only records the setting."""
    _DETERMINISTIC["mode"] = builtins.bool(mode)
    _DETERMINISTIC["warn_only"] = builtins.bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """The value last given to use_deterministic_algorithms (chainrule is deterministic either way)."""
    return builtins.bool(_DETERMINISTIC["mode"])


def _type_as(self: Tensor, other: Tensor) -> Tensor:
    return self.to(other.dtype)


for _name, _fn in [
    ("addcmul", addcmul),
    ("addcdiv", addcdiv),
    ("addcmul_", _addc_inplace(addcmul, "addcmul")),
    ("addcdiv_", _addc_inplace(addcdiv, "addcdiv")),
    ("bincount", bincount),
    ("histc", histc),
    ("histogram", histogram),
    ("type_as", _type_as),
]:
    setattr(Tensor, _name, _fn)

__all__ += [
    "addcmul",
    "addcdiv",
    "as_tensor",
    "bincount",
    "histc",
    "histogram",
    "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled",
]
