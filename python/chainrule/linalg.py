"""``chainrule.linalg``: PyTorch's linear-algebra namespace for what training code uses.

Norms are compositions of differentiable ops. inv, solve and det run NumPy's LAPACK routines in
the forward and write their backward with chainrule ops (so gradients of gradients work):

    inv:   Y = A^-1,        dA = -Y^T G Y^T
    solve: X = A^-1 B,      dB = A^-T G,   dA = -dB X^T
    det:   d = det(A),      dA = g d A^-T
    svd:   A = U S V^T,     dA = U [J S + S K + diag(gS)] V^T + the parts of gU, gV outside
                            span(U), span(V) (J, K: the skew parts of U^T gU, V^T gV over
                            S_k^2 - S_j^2; see _Svd.backward)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from chainrule import _core
from chainrule._core import ArgumentError, DTypeError, ShapeError, Tensor
from chainrule.autograd.function import Function, FunctionCtx

__all__ = [
    "LinAlgError",
    "vector_norm",
    "matrix_norm",
    "norm",
    "inv",
    "solve",
    "det",
    "matmul",
    "vecdot",
    "multi_dot",
    "diagonal",
    "cross",
    "svd",
    "svdvals",
]


class LinAlgError(RuntimeError):
    """A matrix that is singular (or otherwise not invertible) where an inverse is needed."""


matmul = _core.matmul


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of the matrices in A's last two dims (a view)."""
    return _core.diagonal(A, offset, dim1, dim2)


def _dims(dim: Any) -> list[int] | None:
    if dim is None:
        return None
    return [dim] if isinstance(dim, int) else list(dim)


def vector_norm(
    x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """The vector ord-norm over ``dim`` (all elements when None): ord may be any real, inf, -inf or 0
    (the count of non-zeros)."""
    if not x.is_floating_point():
        raise DTypeError(f"linalg.vector_norm: expected a floating point tensor, got {x.dtype}")
    if dtype is not None:
        x = x.to(dtype)
    dims = _dims(dim)
    a = x.abs()
    if ord == math.inf:
        return a.amax(dims if dims is not None else list(range(x.dim())), keepdim) if x.dim() else a
    if ord == -math.inf:
        return a.amin(dims if dims is not None else list(range(x.dim())), keepdim) if x.dim() else a
    if ord == 0:
        # The count of non-zeros; its gradient is zero, but it stays connected to x as PyTorch's.
        nz = (a != 0).to(x.dtype) + a * 0.0
        return nz.sum(dims, keepdim) if dims is not None else nz.sum()
    if dims is None and keepdim:
        dims = list(range(x.dim()))
    if ord == 2:
        return _core.norm(x, 2, dims, keepdim) if dims is not None else _core.norm(x, 2)
    p = a.pow(float(ord))
    s = p.sum(dims, keepdim) if dims is not None else p.sum()
    return s.pow(1.0 / float(ord))


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Sequence[int] = (-2, -1), keepdim: bool = False) -> Tensor:
    """Frobenius ("fro"), 1/-1 (max/min column abs sum) or inf/-inf (max/min row abs sum) norm of
    the matrices in dims ``dim``."""
    if A.dim() < 2:
        raise ShapeError(f"linalg.matrix_norm: expected a tensor with 2 or more dimensions, got {A.dim()}")
    d0, d1 = (d % A.dim() for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        sum_dim, red_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = A.abs().sum(sum_dim, keepdim=True)
        out = s.amax(red_dim, keepdim=True) if ord in (1, math.inf) else s.amin(red_dim, keepdim=True)
        return out if keepdim else out.squeeze((d0, d1))
    raise ArgumentError(f"linalg.matrix_norm: order {ord!r} is not supported (fro, 1, -1, inf, -inf)")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Vector norm (1-D input, or an int dim), matrix norm (2-D input, or a pair of dims), or the
    2-norm of the flattened input when ord and dim are both None."""
    if dtype is not None:
        A = A.to(dtype)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim)
    dims = _dims(dim)
    if (dims is not None and len(dims) == 2) or (dims is None and A.dim() == 2):
        return matrix_norm(A, ord, tuple(dims) if dims else (-2, -1), keepdim)
    return vector_norm(A, ord, dim, keepdim)


def _square(A: Tensor, op: str) -> None:
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError(
            f"linalg.{op}: A must be batches of square matrices, but they are {tuple(A.shape[-2:])}"
        )
    if not A.is_floating_point():
        raise DTypeError(f"linalg.{op}: expected a floating point tensor, got {A.dtype}")


def _lapack(op: str, f: Any, *arrays: np.ndarray) -> np.ndarray:
    try:
        return np.asarray(f(*arrays))
    except np.linalg.LinAlgError as e:
        raise LinAlgError(f"linalg.{op}: the input is singular ({e})") from None


class _Inv(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor) -> Tensor:
        y = _lapack("inv", np.linalg.inv, np.asarray(A.detach()))
        out = _core._tensor(y.astype(np.asarray(A.detach()).dtype), dtype=A.dtype)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: FunctionCtx, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        yt = y.mT
        return -(yt @ g @ yt)


class _Solve(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor, B: Tensor) -> Tensor:
        a, b = np.asarray(A.detach()), np.asarray(B.detach())
        x = _lapack("solve", np.linalg.solve, a, b)
        out = _core._tensor(x.astype(a.dtype), dtype=A.dtype)
        ctx.save_for_backward(A, out)
        return out

    @staticmethod
    def backward(ctx: FunctionCtx, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        A, x = ctx.saved_tensors
        gb = solve(A.mT, g)
        ga = -(gb @ x.mT) if ctx.needs_input_grad[0] else None
        return ga, gb


class _Det(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor) -> Tensor:
        a = np.asarray(A.detach())
        d = np.linalg.det(a)
        out = _core._tensor(np.asarray(d, dtype=a.dtype), dtype=A.dtype)
        ctx.save_for_backward(A, out)
        return out

    @staticmethod
    def backward(ctx: FunctionCtx, g: Tensor) -> Tensor:
        A, d = ctx.saved_tensors
        return (g * d).unsqueeze(-1).unsqueeze(-1) * inv(A).mT


class _SvdResult(NamedTuple):
    """What linalg.svd returns, like torch.return_types.linalg_svd."""

    U: Tensor
    S: Tensor
    Vh: Tensor


_SvdResult.__name__ = _SvdResult.__qualname__ = "linalg_svd"
_SvdResult.__module__ = "chainrule.return_types"


class _Svd(Function):
    """Reduced SVD (U: m x k, S: k, Vh: k x n, k = min(m, n)) of each matrix in A."""

    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        a = np.asarray(A.detach())
        try:
            u, s, vh = np.linalg.svd(a, full_matrices=False)
        except np.linalg.LinAlgError as e:
            raise LinAlgError(f"linalg.svd: the algorithm failed to converge ({e})") from None
        dt = A.dtype
        U, S, Vh = (_core._tensor(np.ascontiguousarray(x).astype(a.dtype), dtype=dt) for x in (u, s, vh))
        ctx.save_for_backward(U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx: FunctionCtx, gU: Tensor | None, gS: Tensor | None, gVh: Tensor | None) -> Tensor:
        U, S, Vh = ctx.saved_tensors
        m, n, k = U.shape[-2], Vh.shape[-1], S.shape[-1]
        if gU is None and gVh is None:
            assert gS is not None  # backward runs only when some output has a gradient
            return (U * gS.unsqueeze(-2)) @ Vh
        V = Vh.mT
        gU = _core.zeros_like(U) if gU is None else gU
        gV = _core.zeros_like(V) if gVh is None else gVh.mT
        s_row = S.unsqueeze(-2)  # (.., 1, k)
        # E[j, l] = S_l^2 - S_j^2 off the diagonal (1 on it, where the skew parts are zero)
        eye = _core.eye(k, dtype=S.dtype)
        E = (s_row * s_row - (S * S).unsqueeze(-1)) + eye
        UtgU, VtgV = U.mT @ gU, V.mT @ gV
        J = (UtgU - UtgU.mT) / E
        K = (VtgV - VtgV.mT) / E
        inner = J * s_row + S.unsqueeze(-1) * K
        if gS is not None:
            inner = inner + _core.diag_embed(gS)
        gA = U @ inner @ Vh
        if m > k:
            gA = gA + ((gU - U @ UtgU) / s_row) @ Vh
        if n > k:
            gA = gA + U @ ((gV - V @ VtgV) / s_row).mT
        return gA


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None) -> Any:
    """(U, S, Vh) with A = U diag(S) Vh, singular values in descending order (torch.linalg.svd).

    With ``full_matrices`` (the default) U and Vh are square, completed with orthonormal columns
    that gradients ignore (as PyTorch's: only the first min(m, n) columns are defined up to sign).
    Signs follow LAPACK and may differ from another library's; U S Vh and S do not."""
    if A.dim() < 2:
        raise ShapeError(f"linalg.svd: the input must have at least 2 dimensions, got {A.dim()}")
    if not A.is_floating_point():
        raise DTypeError(f"linalg.svd: expected a floating point tensor, got {A.dtype}")
    U, S, Vh = _Svd.apply(A)
    if full_matrices:
        m, n = A.shape[-2], A.shape[-1]
        k = min(m, n)
        if m > k or n > k:
            a = np.asarray(A.detach())
            u_full, _, vh_full = np.linalg.svd(a, full_matrices=True)
            if m > k:
                extra = _core._tensor(np.ascontiguousarray(u_full[..., :, k:]).astype(a.dtype), dtype=A.dtype)
                U = _core.cat([U, extra], -1)
            if n > k:
                extra = _core._tensor(
                    np.ascontiguousarray(vh_full[..., k:, :]).astype(a.dtype), dtype=A.dtype
                )
                Vh = _core.cat([Vh, extra], -2)
    return _SvdResult(U, S, Vh)


def svdvals(A: Tensor, *, driver: str | None = None) -> Tensor:
    """The singular values of each matrix in A, in descending order (differentiable)."""
    return svd(A, full_matrices=False)[1]


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix in A; LinAlgError when one is singular."""
    _square(A, "inv")
    return _Inv.apply(A)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (X A = B when left=False); B a matrix (batch) or a vector (batch)."""
    _square(A, "solve")
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1])
    if vector:
        return _Solve.apply(A, B.unsqueeze(-1)).squeeze(-1)
    if B.shape[-2] != A.shape[-1]:
        raise ShapeError(f"linalg.solve: incompatible shapes of A {tuple(A.shape)} and B {tuple(B.shape)}")
    return _Solve.apply(A, B)


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix in A."""
    _square(A, "det")
    return _Det.apply(A)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Dot products along dim, broadcasting the other dims."""
    return (x * y).sum(dim)


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of a chain of matrices (the first and last may be vectors), left to right."""
    ts = list(tensors)
    if len(ts) < 2:
        raise ArgumentError("linalg.multi_dot(): expected at least 2 tensors")
    out = ts[0]
    for t in ts[1:]:
        out = out @ t
    return out


def cross(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along dim, broadcasting."""
    if x.shape[dim] != 3 or y.shape[dim] != 3:
        raise ShapeError(f"linalg.cross: inputs dimension {dim} must have length 3")
    x0, x1, x2 = (x.select(dim, i) for i in range(3))
    y0, y1, y2 = (y.select(dim, i) for i in range(3))
    return _core.stack([x1 * y2 - x2 * y1, x2 * y0 - x0 * y2, x0 * y1 - x1 * y0], dim)
