"""weight_norm and spectral_norm as parametrizations (PyTorch's torch.nn.utils.parametrizations)."""

from __future__ import annotations

from typing import Any

from chainrule import _core
from chainrule._core import IndexingError, Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn import functional as F
from chainrule.nn.modules.module import Module
from chainrule.nn.utils import parametrize

__all__ = ["weight_norm", "spectral_norm"]


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
