"""weight_norm, spectral_norm and orthogonal as parametrizations (PyTorch's
torch.nn.utils.parametrizations)."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import _core
from chainrule._core import IndexingError, Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn import functional as F
from chainrule.nn.modules.module import Module
from chainrule.nn.utils import parametrize

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of v over every dim but ``dim`` (kept as size-1 dims); dim=-1: over all dims
    (a 0-d tensor), as PyTorch's norm_except_dim."""
    if dim == -1:
        return _core.norm(v, 2)
    d = dim % v.ndim
    others = tuple(i for i in range(v.ndim) if i != d)
    if not others:
        return v.abs()
    return _core.norm(v, 2, others, True)


class _WeightNorm(Module):
    """weight = g * v / ||v||, with g (original0) the norm per slice along ``dim`` and v
    (original1) the direction."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrizes ``module.<name>`` as g * v / ||v|| (Salimans & Kingma, 2016).

    g is ``module.parametrizations.<name>.original0`` (the norms, of shape (size of ``dim``, 1,
    ...)); v is ``original1`` (the unnormalized weight). dim=None normalizes over the whole tensor
    (PyTorch's dim=-1 rule, kept: dim=-1 also means the whole tensor). A state_dict saved with the
    older hook form (``<name>_g``, ``<name>_v``) loads into it."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def compat_hook(state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(compat_hook)
    return module


class _SpectralNorm(Module):
    """weight / sigma, with sigma the largest singular value of the weight viewed as a matrix
    (dim ``dim`` first), estimated by power iteration on the buffers _u, _v (updated in training
    mode only, under no_grad)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexingError(
                f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            u = _core._empty(h, dtype=weight.dtype).normal_(0, 1)
            v = _core._empty(w, dtype=weight.dtype).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():
            mat = weight_mat.detach()
            for _ in range(n_power_iterations):
                F.normalize(_core.matmul(mat, self._v), dim=0, eps=self.eps, out=self._u)
                F.normalize(_core.matmul(mat.T, self._u), dim=0, eps=self.eps, out=self._v)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * _core.matmul(weight_mat, v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Divides ``module.<name>`` by its spectral norm (Miyato et al., 2018), estimated with
    ``n_power_iterations`` steps of power iteration per forward in training mode.

    The weight lives in ``module.parametrizations.<name>.original``; the iteration vectors in the
    buffers ``parametrizations.<name>.0._u`` / ``._v`` (drawn from chainrule's generator and
    refined by 15 iterations at registration). dim defaults to 0 (1 for ConvTranspose modules)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


def _orthonormalize(Q: Tensor) -> Tensor:
    """The Q factor of Q's QR decomposition, signed so that R has a positive diagonal (unique for
    full-rank input; what PyTorch's geqrf + householder_product with the sign fix gives)."""
    a = np.asarray(Q.detach())
    q, r = np.linalg.qr(a)
    d = np.sign(np.diagonal(r, axis1=-2, axis2=-1)).copy()
    d[d == 0] = 1.0
    return _core._tensor(np.ascontiguousarray(q * d[..., None, :]), dtype=Q.dtype)


class _Orthogonal(Module):
    """Q = base @ map(X) (or map(X) without trivialization), an orthogonal matrix of X's shape:
    map is the matrix exponential or the Cayley transform of the skew-symmetric part built from
    X's lower triangle, or the product of the Householder reflectors stored below X's diagonal."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        from chainrule import linalg

        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:
                X = _core.cat([X, X.new_zeros(*X.shape[:-2], n, n - k)], -1)
            A = X - X.mT
            if self.orthogonal_map == "matrix_exp":
                Q = linalg.matrix_exp(A)
            else:
                eye = _core.eye(n, dtype=A.dtype)
                Q = linalg.solve(eye - A * 0.5, eye + A * 0.5)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = linalg.householder_product(A, tau)
            # the diagonal of X holds signs (+-1), not differentiated
            Q = Q * X.detach().diagonal(0, -2, -1).trunc().unsqueeze(-2)
        if getattr(self, "base", None) is not None:
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    @no_grad()
    def right_inverse(self, Q: Tensor) -> Tensor:
        if tuple(Q.shape) != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape "
                f"{tuple(Q.shape)}."
            )
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transposed = n < k
        if transposed:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map in ("matrix_exp", "cayley"):
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False."
                )
            # Householder without trivialization: reflectors of Q's QR below the diagonal, the
            # signs of R's diagonal on it
            a = np.asarray(Q.detach())
            q, r = np.linalg.qr(a)
            sign = np.sign(np.diagonal(r, axis1=-2, axis2=-1)).copy()
            sign[sign == 0] = 1.0
            refl = _householder_vectors(a)
            idx = np.arange(k)
            refl[..., idx, idx] = sign
            out = _core._tensor(np.ascontiguousarray(refl), dtype=Q.dtype)
            return out.mT if transposed else out
        if n == k:
            eye = _core.eye(n, dtype=Q.dtype)
            orthogonal = bool(((Q.mT @ Q) - eye).abs().max() <= 1e-5)
            Q = Q.clone() if orthogonal else _orthonormalize(Q)
        else:
            extra = _core.randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype)
            Q = _orthonormalize(_core.cat([Q, extra], -1))
        self.base = Q
        neg_eye = _core.zeros_like(Q_init)
        neg_eye.diagonal(0, -2, -1).fill_(-1.0)
        return neg_eye


def _householder_vectors(a: np.ndarray) -> np.ndarray:
    """The Householder vectors of a's QR (LAPACK geqrf's lower part, each scaled to a unit first
    entry), column by column, for a (..., m, n) with m >= n."""
    out = np.array(a, dtype=a.dtype, copy=True)
    m, n = a.shape[-2:]
    flat = out.reshape(-1, m, n)
    for b in range(flat.shape[0]):
        r = flat[b].copy()
        for j in range(n):
            x = r[j:, j].copy()
            alpha = -np.copysign(np.linalg.norm(x), x[0]) if x[0] != 0 else -np.linalg.norm(x)
            v = x.copy()
            v[0] -= alpha
            if v[0] != 0:
                v = v / v[0]
            tau = 2.0 / (v @ v) if (v @ v) > 0 else 0.0
            r[j:, j:] -= tau * np.outer(v, v @ r[j:, j:])
            flat[b, j + 1 :, j] = v[1:]
    return flat.reshape(out.shape)


def orthogonal(
    module: Module,
    name: str = "weight",
    orthogonal_map: str | None = None,
    *,
    use_trivialization: bool = True,
) -> Module:
    """Constrains ``module.<name>`` (a matrix or a batch of them) to be orthogonal: Q^T Q = I
    (or Q Q^T = I when it is wide), as PyTorch's parametrizations.orthogonal.

    ``orthogonal_map``: "matrix_exp" (the default for square matrices), "cayley", or
    "householder" (the default otherwise). With ``use_trivialization`` (the default) the weight
    is ``base @ map(original)``: registering keeps the module's weight orthonormalized (its QR
    factor with R's diagonal positive) in ``base`` and starts ``original`` at the map's identity."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square else "householder"
    if orthogonal_map not in ("matrix_exp", "cayley", "householder"):
        raise ValueError(
            f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: {orthogonal_map}'
        )
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
