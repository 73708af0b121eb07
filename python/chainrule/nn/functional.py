"""Functional forms of activations, losses, distances, normalization and spatial ops
(PyTorch's torch.nn.functional).

Every function keeps PyTorch's name, signature, defaults and semantics. Where the engine has a fused
kernel (relu, softmax, the common losses, batch_norm, layer_norm) the function calls it; the rest are
written with the engine's differentiable ops, so their gradients (and gradients of gradients) come
from autograd and match PyTorch's, including PyTorch's choices at kinks (hardtanh passes no gradient
at its bounds, clamp does).
"""

from __future__ import annotations

import math
import numbers
import operator
import warnings
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from chainrule import _core
from chainrule._core import ArgumentError, DTypeError, IndexingError, ShapeError, Tensor
from chainrule._core import batch_norm as batch_norm  # fused C++ kernels, re-exported
from chainrule._core import layer_norm as layer_norm
from chainrule.autograd.grad_mode import no_grad

__all__ = [
    # activations
    "relu",
    "relu_",
    "leaky_relu_",
    "elu_",
    "selu_",
    "celu_",
    "rrelu_",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "mish",
    "sigmoid",
    "tanh",
    "softplus",
    "logsigmoid",
    "hardtanh",
    "hardtanh_",
    "hardswish",
    "hardsigmoid",
    "softsign",
    "tanhshrink",
    "hardshrink",
    "softshrink",
    "threshold",
    "threshold_",
    "prelu",
    "rrelu",
    "glu",
    # softmax family
    "softmax",
    "softmin",
    "log_softmax",
    "logsumexp",
    # dropout
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
    "feature_alpha_dropout",
    # distances
    "normalize",
    "cosine_similarity",
    "pairwise_distance",
    # losses
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "multi_margin_loss",
    "cosine_embedding_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    # layers as functions
    "linear",
    "bilinear",
    "embedding",
    "one_hot",
    # normalization
    "batch_norm",
    "layer_norm",
    "rms_norm",
    "group_norm",
    "instance_norm",
    "local_response_norm",
    # spatial
    "pad",
    "unfold",
    "fold",
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "pixel_shuffle",
    "pixel_unshuffle",
    "channel_shuffle",
]


# ---- shared helpers --------------------------------------------------------------------------------
def _inplace(input: Tensor, inplace: bool, fn: Callable[[Tensor], Tensor]) -> Tensor:
    """fn(input), or with ``inplace`` the same values written into ``input`` (returned).

    In-place follows PyTorch's rules: a leaf that requires grad refuses it, and the result keeps
    the history (fn runs on a copy, so fn's saved tensors are not the ones overwritten)."""
    if not inplace:
        return fn(input)
    out = fn(input.clone() if input.requires_grad else input)
    return input.copy_(out)


def _check_reduction(reduction: str) -> None:
    if reduction not in ("none", "mean", "sum"):
        raise ArgumentError(f"{reduction} is not a valid value for reduction")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(
        "size_average and reduce args will be deprecated, please use reduction='"
        + ("none" if reduce is False else "mean" if size_average is not False else "sum")
        + "' instead.",
        stacklevel=3,
    )
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _float_tensor(x: Tensor, name: str, what: str = "input") -> None:
    if not isinstance(x, Tensor):
        raise DTypeError(f"{name}(): argument '{what}' must be Tensor, not {type(x).__name__}")
    if not x.is_floating_point():
        raise DTypeError(f"{name}(): expected a floating point {what}, got {x.dtype}")


def _clamp_min_keep_grad(x: Tensor, eps: float) -> Tensor:
    """max(x, eps) in value, while the gradient flows to x as if unclamped (PyTorch clamps such
    denominators in place under no_grad). ``x - x.detach()`` is exactly zero, so the clamped
    entries are exactly eps."""
    return _core.where(x < eps, x - x.detach() + eps, x)


def _normalize_dim(dim: int, ndim: int, name: str) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexingError(
            f"{name}(): Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim % n


def _broadcast_shape(*shapes: Sequence[int]) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise ShapeError(
            "shapes " + ", ".join(str(tuple(s)) for s in shapes) + " cannot be broadcast together"
        ) from None


def _index(values: Sequence[int] | np.ndarray) -> Tensor:
    return _core._tensor(np.ascontiguousarray(values, dtype=np.int64), _core.int64, False)


# ---- activations -----------------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0); the gradient at 0 is 0."""
    # (the common call without inplace skips _inplace's frame)
    return _inplace(input, True, _core.relu) if inplace else _core.relu(input)


def relu_(input: Tensor) -> Tensor:
    """In-place relu."""
    return relu(input, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place leaky_relu."""
    return leaky_relu(input, negative_slope, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place elu."""
    return elu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """In-place selu."""
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place celu."""
    return celu(input, alpha, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place rrelu."""
    return rrelu(input, lower, upper, training, inplace=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """input where positive, negative_slope * input elsewhere."""
    return _inplace(input, inplace, lambda x: _core.leaky_relu(x, negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """input where positive, alpha * (exp(input) - 1) elsewhere."""
    return _inplace(input, inplace, lambda x: _core.elu(x, alpha))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(input, alpha) with PyTorch's constants alpha = 1.6732632423543772848170429916717,
    scale = 1.0507009873554804934193349852946 (Klambauer et al., 2017)."""
    return _inplace(input, inplace, lambda x: _core.elu(x, _SELU_ALPHA) * _SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """input where positive, alpha * (exp(input / alpha) - 1) elsewhere (Barron, 2017)."""
    alpha = float(alpha)
    if alpha == 0.0:
        raise ArgumentError("ZeroDivisionError: alpha cannot be 0 for CELU")

    def fn(x: Tensor) -> Tensor:
        return _core.where(x > 0, x, _core.elu(x / alpha, alpha))

    return _inplace(input, inplace, fn)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit x * Phi(x); approximate='tanh' for the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return _core.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """input * sigmoid(input)."""
    # (the common call without inplace skips _inplace's frame)
    return _inplace(input, True, _core.silu) if inplace else _core.silu(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """input * tanh(softplus(input)) (Misra, 2019)."""
    return _inplace(input, inplace, lambda x: x * _core.tanh(_core.softplus(x, 1.0, math.inf)))


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-input))."""
    return _core.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _core.tanh(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * input)) / beta, linear above threshold."""
    return _core.softplus(input, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(input)), computed as min(x, 0) - log1p(exp(-|x|)): exact for large |x| (no
    overflow, no loss of the tiny tail)."""
    x = input
    # Each branch is exact on its side of 0; the other branch is never selected (its value may be
    # infinite, its gradient is zero).
    neg = x - _core.softplus(x, 1.0, math.inf)
    pos = -_core.softplus(-x, 1.0, math.inf)
    return _core.where(x < 0, neg, pos)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """input clamped to [min_val, max_val]; as in PyTorch the gradient is zero at and beyond the
    bounds (clamp passes it at the bounds)."""
    if min_val > max_val:
        raise ArgumentError("min_val cannot be greater than max_val")

    def fn(x: Tensor) -> Tensor:
        inside = (x > min_val) & (x < max_val)
        return _core.where(inside, x, _core.clamp(x.detach(), min_val, max_val))

    return _inplace(input, inplace, fn)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place hardtanh."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(input, 0), 6), i.e. hardtanh(input, 0, 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """input * relu6(input + 3) / 6 (Howard et al., 2019); as in PyTorch the gradient is 0 up to
    -3 (included), input / 3 + 0.5 below 3 and 1 from 3 on."""

    def fn(x: Tensor) -> Tensor:
        middle = _core.where(x < 3.0, x * (x + 3.0) / 6.0, x)
        return _core.where(x <= -3.0, 0.0, middle)

    return _inplace(input, inplace, fn)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(input + 3) / 6; gradient 1/6 strictly inside (-3, 3), zero elsewhere."""

    def fn(x: Tensor) -> Tensor:
        inside = (x > -3.0) & (x < 3.0)
        return _core.where(inside, x + 3.0, _core.clamp(x.detach() + 3.0, 0.0, 6.0)) / 6.0

    return _inplace(input, inplace, fn)


def softsign(input: Tensor) -> Tensor:
    """input / (1 + |input|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """input - tanh(input)."""
    return input - _core.tanh(input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input where |input| > lambd, 0 elsewhere."""
    return _core.where((input > lambd) | (input < -lambd), input, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input - lambd above lambd, input + lambd below -lambd, 0 in between."""
    if lambd < 0:
        raise ArgumentError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _core.where(input > lambd, input - lambd, _core.where(input < -lambd, input + lambd, 0.0))


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """input where input > threshold, value elsewhere (value cast to the input's dtype)."""
    if not input.is_floating_point() and input.dtype != _core.bool:
        value = math.trunc(value)
    return _inplace(input, inplace, lambda x: _core.where(x > threshold, x, value))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place threshold."""
    return globals()["threshold"](input, threshold, value, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """input where positive, weight * input elsewhere; weight has one element or one per channel
    (dim 1 of the input)."""
    if weight.ndim > 1:
        raise ShapeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}"
        )
    n = weight.numel()
    w = weight
    if n != 1:
        channels = input.shape[1] if input.ndim > 1 else 1
        if channels != n:
            raise ShapeError(
                "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                f"{n} and channel size = {channels}."
            )
        w = weight.reshape((1, n) + (1,) * (input.ndim - 2))
    elif input.ndim > 0 and weight.ndim == 1:
        w = weight.reshape(())
    return _core.where(input > 0, input, w * input)


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomized leaky relu (Xu et al., 2015): in training each non-positive element is scaled by
    a slope drawn from U(lower, upper) (chainrule's generator); in eval by (lower + upper) / 2."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)

    def fn(x: Tensor) -> Tensor:
        slope = _core.rand(*x.shape, dtype=x.dtype) * (upper - lower) + lower
        return x * _core.where(x <= 0, slope, 1.0).detach()

    return _inplace(input, inplace, fn)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), where a and b are the two halves of input along dim."""
    if input.ndim == 0:
        raise ShapeError("glu does not support scalars because halving size must be even")
    d = _normalize_dim(dim, input.ndim, "glu")
    size = input.shape[d]
    if size % 2:
        raise ShapeError(f"Halving dimension must be even, but dimension {d} is size {size}")
    a = _core.narrow(input, d, 0, size // 2)
    b = _core.narrow(input, d, size // 2, size // 2)
    return a * _core.sigmoid(b)


# ---- softmax family --------------------------------------------------------------------------------
def _softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
        "as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _core.dtype | None = None
) -> Tensor:
    """exp(input) / sum(exp(input)) along dim, computed stably (the maximum is subtracted first)."""
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return _core.softmax(input, dim, dtype)


def softmin(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _core.dtype | None = None
) -> Tensor:
    """softmax(-input) along dim."""
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    if dtype is not None:
        input = input.to(dtype)
    return _core.softmax(-input, dim, None)


def log_softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _core.dtype | None = None
) -> Tensor:
    """input - logsumexp(input) along dim, computed stably."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return _core.log_softmax(input, dim, dtype)


def logsumexp(input: Tensor, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over dim, computed stably."""
    return _core.logsumexp(input, dim, keepdim)


# ---- dropout ---------------------------------------------------------------------------------------
def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:  # NaN fails too
        raise ArgumentError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape: Sequence[int], p: float, dtype: _core.dtype) -> Tensor:
    """1.0 with probability 1 - p, else 0.0 (from chainrule's generator)."""
    return (_core.rand(*shape, dtype=dtype) >= p).to(dtype)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p) (training only).

    The mask comes from chainrule's generator, so manual_seed makes it reproducible."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _inplace(input, inplace, lambda x: x * 0.0)
    return _inplace(input, inplace, lambda x: x * _keep_mask(x.shape, p, x.dtype) * (1.0 / (1.0 - p)))


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, alpha: bool) -> Tensor:
    # one draw per (sample, channel), broadcast over the remaining dims
    if not training or p == 0.0 or input.numel() == 0:
        return input
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _masked_dropout(input, p, inplace, alpha, mask_shape)


def _masked_dropout(input: Tensor, p: float, inplace: bool, alpha: bool, mask_shape: Sequence[int]) -> Tensor:
    if p == 1.0:
        return _inplace(input, inplace, lambda x: x * 0.0)
    keep = _keep_mask(mask_shape, p, input.dtype)
    if not alpha:
        return _inplace(input, inplace, lambda x: x * keep * (1.0 / (1.0 - p)))
    # Alpha dropout (Klambauer et al., 2017): dropped units take SELU's negative saturation value,
    # then an affine map restores zero mean and unit variance.
    sat = 1.7580993408473766
    a = 1.0 / math.sqrt((sat * sat * p + 1) * (1 - p))
    b = (keep - 1.0) * (sat * a) + sat * a * p
    return _inplace(input, inplace, lambda x: x * (keep * a) + b)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes whole channels of (N, C, L) or (C, L) input with probability p, scaling the rest by
    1 / (1 - p)."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise ShapeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that dropout1d "
            "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
            "dimension, and an optional batch dimension (i.e. 2D or 3D inputs)."
        )
    if input.ndim == 2:
        if not training or p == 0.0 or input.numel() == 0:
            return input
        return _masked_dropout(input, p, inplace, False, (input.shape[0], 1))
    return _feature_dropout(input, p, training, inplace, alpha=False)


def _warn_feature_dims(name: str, ndim: int, expected: tuple[int, int], spatial: int) -> None:
    if ndim not in expected:
        warnings.warn(
            f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result in an "
            f"error in a future release. To retain the behavior and silence this warning, please use "
            f"dropout instead. Note that {name} exists to provide channel-wise dropout on inputs with "
            f"{spatial} spatial dimensions, a channel dimension, and an optional batch dimension "
            f"(i.e. {expected[0]}D or {expected[1]}D inputs).",
            stacklevel=3,
        )


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes whole channels of (N, C, H, W) input with probability p, scaling the rest by
    1 / (1 - p). As in PyTorch, a 3-D input is taken as (N, C, L), with a warning."""
    _check_p(p)
    _warn_feature_dims("dropout2d", input.ndim, (3, 4), 2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
            "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
            "This behavior will change in a future release to interpret the input as one without a "
            "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
            "please switch to using dropout1d instead.",
            stacklevel=2,
        )
    if input.ndim < 2:
        raise ShapeError(f"dropout2d: expected an input with at least 2 dims, got {input.ndim}D")
    return _feature_dropout(input, p, training, inplace, alpha=False)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    _check_p(p)
    _warn_feature_dims("dropout3d", input.ndim, (4, 5), 3)
    if input.ndim == 4:
        if not training or p == 0.0 or input.numel() == 0:
            return input
        return _masked_dropout(input, p, inplace, False, (input.shape[0], 1, 1, 1))
    if input.ndim < 2:
        raise ShapeError(f"dropout3d: expected an input with at least 2 dims, got {input.ndim}D")
    return _feature_dropout(input, p, training, inplace, alpha=False)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps zero mean and unit variance (training only)."""
    _check_p(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    return _masked_dropout(input, p, inplace, True, tuple(input.shape))


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout of whole channels (dim 1)."""
    _check_p(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if input.ndim < 2:
        raise ShapeError(
            "Feature dropout requires at least 2 dimensions in the input, got " + str(input.ndim)
        )
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _masked_dropout(input, p, inplace, True, mask_shape)


# ---- distances -------------------------------------------------------------------------------------
def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None
) -> Tensor:
    """input / max(||input||_p, eps) along dim."""
    _normalize_dim(dim, input.ndim, "normalize")
    denom = _core.clamp(_core.norm(input, p, dim, True), eps)
    result = input / denom
    if out is not None:
        with no_grad():
            out.copy_(result)
        return out
    return result


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along dim, after broadcasting.

    As in PyTorch, each input is divided by its own (clamped) norm first, and the clamp does not
    stop the gradient."""
    shape = _broadcast_shape(x1.shape, x2.shape)
    d = _normalize_dim(dim, len(shape), "cosine_similarity")
    a = _core.broadcast_to(x1, shape)
    b = _core.broadcast_to(x2, shape)
    na = _clamp_min_keep_grad(_core.norm(a, 2, d, True), eps)
    nb = _clamp_min_keep_grad(_core.norm(b, 2, d, True), eps)
    return ((a / na) * (b / nb)).sum(d)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim (after broadcasting)."""
    ndim = max(x1.ndim, x2.ndim)
    diff = x1 - x2 + eps
    if ndim == 0:
        diff = diff.reshape(1)
        out = _core.norm(diff, p, 0, keepdim)
        return out if keepdim else out.reshape(())
    return _core.norm(diff, p, ndim - 1, keepdim)


# ---- losses ----------------------------------------------------------------------------------------
def _warn_broadcast(name: str, input: Tensor, target: Tensor) -> None:
    if isinstance(target, Tensor) and tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"{name}: using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )


def _weighted_loss(input: Tensor, weight: Tensor, loss: Tensor, reduction: str, by_weight: bool) -> Tensor:
    """loss * weight (weight of the input's shape); 'mean' divides by sum(weight) when by_weight
    (mse_loss, l1_loss) and by the element count otherwise (huber_loss), as PyTorch does."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ShapeError("Weights and input must have the same size.")
    if reduction not in ("none", "mean", "sum"):
        raise ArgumentError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
    weighted = loss * weight
    if reduction == "mean" and by_weight:
        return weighted.sum() / weight.sum()
    return _reduce(weighted, reduction)


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error (input - target)**2, reduced; ``weight`` scales each element."""
    _warn_broadcast("mse_loss", input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if weight is None:
        return _core._mse_loss(input, target, reduction)
    return _weighted_loss(input, weight, (input - target) ** 2, reduction, by_weight=True)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error |input - target|, reduced; ``weight`` scales each element."""
    _warn_broadcast("l1_loss", input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if weight is None:
        return _core._l1_loss(input, target, reduction)
    return _weighted_loss(input, weight, (input - target).abs(), reduction, by_weight=True)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """0.5 d**2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere, with d = input - target."""
    _warn_broadcast("huber_loss", input, target)
    if weight is None:
        return _core._huber_loss(input, target, reduction, float(delta))
    loss = _core._huber_loss(input, target, "none", float(delta))
    return _weighted_loss(input, weight, loss, reduction, by_weight=False)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 d**2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (beta=0: l1_loss)."""
    _warn_broadcast("smooth_l1_loss", input, target)
    if not beta >= 0:  # NaN fails too
        raise ArgumentError("smooth_l1_loss does not support negative values for beta")
    return _core._smooth_l1_loss(
        input, target, _legacy_reduction(size_average, reduce, reduction), float(beta)
    )


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """log_softmax over the class dim (1, or 0 for an input of shape (C,)) then the negative
    log-likelihood of the target: int64 class indices, or class probabilities of the input's shape."""
    return _core._cross_entropy(
        input,
        target,
        weight,
        _legacy_reduction(size_average, reduce, reduction),
        int(ignore_index),
        float(label_smoothing),
    )


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-input[n, target[n]] (times weight[target[n]]), reduced; mean divides by the summed weights."""
    return _core._nll_loss(
        input, target, weight, _legacy_reduction(size_average, reduce, reduction), int(ignore_index)
    )


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) with each log clamped to >= -100; input holds probabilities.
    ``weight`` (broadcast to the input) scales each element."""
    return _core._binary_cross_entropy(
        input, target, weight, _legacy_reduction(size_average, reduce, reduction)
    )


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + binary cross entropy in one stable expression (no overflow for large logits)."""
    return _core._binary_cross_entropy_with_logits(
        input, target, weight, pos_weight, _legacy_reduction(size_average, reduce, reduction)
    )


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Kullback-Leibler divergence with ``input`` as log-probabilities: target * (log target - input)
    (0 where target is 0), or exp(target) * (target - input) with ``log_target``.

    'batchmean' divides the sum by the batch size (the mathematical KL divergence); 'mean', which
    divides by the number of elements, warns as in PyTorch."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            stacklevel=2,
        )
    if reduction != "batchmean":
        _check_reduction(reduction)
    if log_target:
        loss = _core.exp(target) * (target - input)
    else:
        # x log x with 0 log 0 = 0 (the log reads 1 where target is 0, so no inf/nan gradient)
        safe = _core.where(target == 0, 1.0, target)
        loss = target * _core.log(safe) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim != 0 else total
    return _reduce(loss, reduction)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -target * (input1 - input2) + margin), reduced; target holds 1 or -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise ShapeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: {tuple(target.shape)} "
        )
    loss = _core.clamp(-target * (input1 - input2) + margin, 0.0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """input where target is 1, max(0, margin - input) where target is -1, reduced."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    margin_part = _core.where(target != 1, _core.clamp(margin - input, 0.0), 0.0)
    self_part = _core.where(target != -1, input, 0.0)
    return _reduce(margin_part + self_part, reduction)


def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """log(1 + exp(-target * input)), reduced; target holds 1 or -1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return _reduce(_core.softplus(-input * target, 1.0, math.inf), reduction)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-(t log sigmoid(x) + (1 - t) log sigmoid(-x)) (times weight), averaged over classes, reduced."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    return _reduce(loss, reduction)


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss: sum over i != y of max(0, margin - x[y] + x[i])**p (times
    weight[y]), divided by the number of classes, reduced over the batch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ArgumentError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ArgumentError("weight must be one-dimensional")
    if input.ndim > 2 or target.ndim > 1:
        raise ShapeError(
            f"multi_margin_loss: expected input of shape (N, C) or (C,) and target (N,) or (), got "
            f"{tuple(input.shape)} and {tuple(target.shape)}"
        )
    x = input.reshape(1, -1) if input.ndim < 2 else input
    y = target.reshape(-1)
    n, c = x.shape
    if y.shape[0] != n:
        raise ShapeError(
            f"inconsistent target size: {tuple(target.shape)} for input of size: {tuple(input.shape)}"
        )
    if y.dtype != _core.int64:
        raise DTypeError(f"multi_margin_loss: expected int64 target, got {y.dtype}")
    if not _core._is_tracing():  # (a compiled step relies on gather's bounds check at each replay)
        ys = np.asarray(y.detach())
        if ys.size and (ys.min() < 0 or ys.max() >= c):
            raise IndexingError("target out of range")
    if weight is not None and weight.numel() != c:
        raise ShapeError(f"inconsistent weight size, expected {c} but got {tuple(weight.shape)}")
    col = y.reshape(n, 1)
    z = margin - _core.gather(x, 1, col) + x
    h = _core.relu(z)  # only z > 0 counts (and carries gradient)
    if p == 2:
        h = h * h
    is_target = _core.arange(c).reshape(1, c) == col
    h = _core.where(is_target, 0.0, h)
    if weight is not None:
        h = h * _core.index_select(weight, 0, y).reshape(n, 1)
    loss = h.sum(1) / c
    if input.ndim < 2 and reduction == "none":
        loss = loss.reshape(target.shape) if target.ndim == 0 else loss
    return _reduce(loss, reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1, reduced.
    The cosine adds 1e-12 to each squared norm, as PyTorch does."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    tdim = target.ndim
    if tdim not in (0, 1):
        raise ShapeError("0D or 1D target tensor expected, multi-target not supported")
    if tdim == 1 and (input1.ndim != 2 or input2.ndim != 2):
        raise ShapeError(
            "1D target tensor expects 2D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}."
        )
    if tdim == 0 and (input1.ndim != 1 or input2.ndim != 1):
        raise ShapeError(
            "0D target tensor expects 1D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}."
        )
    eps = 1e-12
    prod = (input1 * input2).sum(tdim)
    mag1 = (input1 * input1).sum(tdim) + eps
    mag2 = (input2 * input2).sum(tdim) + eps
    cos = prod / _core.sqrt(mag1 * mag2)
    pos = _core.where(target == 1, 1 - cos, 0.0)
    neg = _core.where(target == -1, _core.clamp(cos - margin, 0.0), 0.0)
    return _reduce(pos + neg, reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, margin + d(a, p) - d(a, n)) with d = pairwise_distance(p, eps); ``swap`` uses
    min(d(a, n), d(p, n)) (Balntas et al., 2016)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_triplet_dims(anchor, positive, negative)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = _core.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(_core.clamp(margin + d_pos - d_neg, 0.0), reduction)


def _check_triplet_dims(anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    a, p, n = anchor.ndim, positive.ndim, negative.ndim
    if not (a == p == n):
        raise ShapeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs"
        )


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """Triplet loss with any distance (default pairwise_distance): max(0, margin + d(a, p) - d(a, n))."""
    _check_reduction(reduction)
    if margin <= 0:
        raise ArgumentError(
            f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} instead"
        )
    _check_triplet_dims(anchor, positive, negative)
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = _core.minimum(d_neg, dist(positive, negative))
    return _reduce(_core.clamp(margin + d_pos - d_neg, 0.0), reduction)


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Poisson negative log-likelihood: exp(input) - target * input (log_input), or
    input - target * log(input + eps); ``full`` adds Stirling's term for target > 1."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = _core.exp(input) - target * input
    else:
        loss = input - target * _core.log(input + eps)
    if full:
        big = target > 1
        t = _core.where(big, target, 2.0)  # the term is dropped where target <= 1
        stirling = t * _core.log(t) - t + 0.5 * _core.log(2 * math.pi * t)
        loss = loss + _core.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """0.5 (log max(var, eps) + (input - target)**2 / max(var, eps)) (+ 0.5 log(2 pi) with
    ``full``), reduced. var has the input's shape, or one dim fewer / one dim of size 1
    (homoscedastic), or is a float. The clamp at eps does not stop var's gradient (PyTorch
    clamps a copy under no_grad)."""
    if not isinstance(var, Tensor):
        if float(var) < 0:
            raise ArgumentError("var has negative entry/entries")
        var = _core.full(tuple(input.shape), float(var), dtype=input.dtype)
    elif not _core._is_tracing() and bool(np.any(np.asarray((var < 0).detach()))):
        # (a check of values: a compiled step cannot read them, so its replays do not check)
        raise ArgumentError("var has negative entry/entries")
    vshape, ishape = tuple(var.shape), tuple(input.shape)
    if vshape != ishape:
        if ishape[:-1] == vshape:
            var = var.unsqueeze(-1)
        elif len(ishape) == len(vshape) and sum(b for a, b in zip(ishape, vshape) if a != b) == 1:
            pass
        else:
            raise ArgumentError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ArgumentError(reduction + " is not valid")
    v = _clamp_min_keep_grad(var, eps)
    loss = 0.5 * (_core.log(v) + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---- layers as functions ---------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias (weight of shape (out, in), or (in,) for a 1-D result per row)."""
    out = _core.matmul(input, _core.transpose(weight, 0, 1) if weight.ndim == 2 else weight)
    return out if bias is None else out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    if weight.ndim != 3:
        raise ShapeError(f"bilinear(): weight must be three-dimensional, but got {weight.ndim}D")
    out_f, in1, in2 = weight.shape
    if input1.ndim != input2.ndim:
        raise ShapeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}")
    for i in range(input1.ndim - 1):
        if input1.shape[i] != input2.shape[i]:
            raise ShapeError(
                f"bilinear(): input batch dimensions do not match at dim {i}: got "
                f"{input1.shape[i]} and {input2.shape[i]}"
            )
    if input1.ndim == 0 or input1.shape[-1] != in1:
        got = input1.shape[-1] if input1.ndim else 0
        raise ShapeError(f"bilinear(): input1 size does not match weight size: got {got} but expected {in1}")
    if input2.shape[-1] != in2:
        raise ShapeError(
            f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but expected {in2}"
        )
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_f):
        raise ShapeError(
            f"bilinear(): bias size does not match weight size: got {tuple(bias.shape)} but expected "
            f"({out_f},)"
        )
    lead = tuple(input1.shape[:-1])
    a = input1.reshape(-1, in1)
    b = input2.reshape(-1, in2)
    # (N, in1) @ (in1, out * in2) -> (N, out, in2), then contract with input2 over in2
    t = _core.matmul(a, weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    y = (t * b.unsqueeze(1)).sum(2)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out_f,))


def _embedding_renorm_(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rescales, in place and outside autograd, the rows of weight looked up by indices whose
    norm exceeds max_norm to norm max_norm (PyTorch's embedding_renorm_, 1e-7 included)."""
    rows = np.unique(indices)
    if rows.size == 0:
        return
    with no_grad():
        idx = _index(rows)
        sel = _core.index_select(weight, 0, idx)
        norms = np.asarray(_core.norm(sel, norm_type, 1, False).detach(), dtype=np.float64)
        big = norms > max_norm
        if not big.any():
            return
        scale = np.where(big, max_norm / (norms + 1e-7), 1.0)
        scale_t = _core._tensor(scale.reshape(-1, 1), None, False).to(weight.dtype)
        weight[_index(rows[big])] = (sel * scale_t)[_index(np.nonzero(big)[0])]


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """weight[input]: int64 indices of any shape -> (*input.shape, embedding_dim).

    The row at ``padding_idx`` gets no gradient. With ``max_norm``, the looked-up rows of weight
    whose ``norm_type``-norm exceeds it are rescaled in place (not recorded by autograd) before the
    lookup. ``scale_grad_by_freq`` divides each row's gradient by how often its index occurs in
    the batch. Gradients are dense: ``sparse=True`` is not supported."""
    if not isinstance(input, Tensor) or input.dtype != _core.int64:
        got = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise DTypeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
            f"Long; but got {got} instead (while checking arguments for embedding)"
        )
    if weight.ndim != 2:
        raise ShapeError("'weight' must be 2-D")
    if sparse:
        raise NotImplementedError(
            "embedding(sparse=True): chainrule has no sparse gradients; use sparse=False"
        )
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx >= num or padding_idx < -num:
            raise ArgumentError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            padding_idx += num
    flat = input.reshape(-1)
    if max_norm is not None:  # rescales rows of weight in place: reads the indices on the host
        idx = np.asarray(flat.detach())
        if idx.size and (idx.min() < 0 or idx.max() >= num):
            bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
            raise IndexingError(
                f"index out of range in self: index {bad} is out of bounds for dimension 0 with size {num}"
            )
        _embedding_renorm_(weight, idx, float(max_norm), float(norm_type))
    # Everything below is tensor ops, so that chainrule.compile can record the lookup (its bounds
    # check runs in index_select at every replay).
    try:
        out = _core.index_select(weight, 0, flat)
    except IndexingError as e:
        raise IndexingError(str(e).replace("index_select(): ", "index out of range in self: ", 1)) from None
    if (padding_idx is not None or scale_grad_by_freq) and out.requires_grad:
        # same values; the gradient of each looked-up row is scaled (0 for padding rows, 1/count
        # with scale_grad_by_freq) by mixing the row with its detached copy
        with no_grad():
            ones = _core._ones(flat.shape[0], dtype=_core.float64)
            scale = ones.reshape(-1, 1)
            if scale_grad_by_freq:  # how often each row's index occurs: sums of exact ones
                counts = _core._zeros(num, dtype=_core.float64).index_add(0, flat, ones)
                scale = scale / counts.index_select(0, flat).reshape(-1, 1)
            if padding_idx is not None:
                scale = scale * (flat != padding_idx).reshape(-1, 1).to(_core.float64)
            s = scale.to(out.dtype)
        frozen = out.detach()
        out = frozen + (out - frozen) * s
    return out.reshape(tuple(input.shape) + (weight.shape[1],))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape tensor.shape + (num_classes,) with a 1 at each index; num_classes=-1
    takes max(tensor) + 1."""
    if not isinstance(tensor, Tensor) or tensor.dtype != _core.int64:
        raise DTypeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes > 0 and _core._is_tracing():
        # tensor ops only, so that chainrule.compile records it: rows of the identity, whose
        # lookup checks the class values at each replay (IndexError)
        eye = _core.eye(num_classes, dtype=_core.int64)
        rows = _core.index_select(eye, 0, tensor.reshape(-1))
        return rows.reshape(tuple(tensor.shape) + (num_classes,))
    idx = np.asarray(tensor.detach())
    if idx.size == 0:
        if num_classes <= 0:
            raise ArgumentError("Can not infer total number of classes from empty tensor.")
        return _core._zeros(*(idx.shape + (num_classes,)), dtype=_core.int64)
    if idx.min() < 0:
        bad = int(idx.min())
        raise IndexingError(f"Class values must be non-negative (class value {bad} is out of range).")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1
    elif idx.max() >= num_classes:
        raise IndexingError(
            f"Class values must be smaller than num_classes (class value {int(idx.max())} is out of range "
            f"for num_classes={num_classes})."
        )
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None], 1, axis=-1)
    return _core._tensor(out, _core.int64, False)


# ---- normalization ---------------------------------------------------------------------------------
def rms_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """input / sqrt(mean(input**2 over the trailing normalized_shape dims) + eps) * weight
    (Zhang & Sennrich, 2019); eps=None takes the machine epsilon of the input's dtype."""
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k :]) != tuple(shape) or input.ndim < k:
        raise ShapeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(str(s) for s in shape)}], but got input of size{list(input.shape)}"
        )
    if weight is not None and tuple(weight.shape) != tuple(shape):
        raise ShapeError(
            f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
            f"{list(weight.shape)} and normalized_shape = {list(shape)}"
        )
    if eps is None:
        eps = float(np.finfo(np.float64 if input.dtype == _core.float64 else np.float32).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    out = input * _core.rsqrt((input * input).mean(dims, keepdim=True) + eps)
    return out if weight is None else out * weight


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalizes each group of num_groups consecutive-channel blocks of each sample (biased
    variance), then scales and shifts per channel (Wu & He, 2018)."""
    if input.ndim < 2:
        raise ShapeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise ShapeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(input.shape)} and num_groups={num_groups}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.shape[0] != c):
            raise ShapeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, but "
                f"got {name} of shape {list(t.shape)} and input of shape {list(input.shape)}"
            )
    if input.numel() == 0:
        return input * 1.0
    grouped = input.reshape(n, num_groups, -1)
    out = _core.layer_norm(grouped, (grouped.shape[2],), None, None, eps).reshape(tuple(input.shape))
    affine_shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(affine_shape)
    if bias is not None:
        out = out + bias.reshape(affine_shape)
    return out


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalizes each channel of each sample over its spatial dims (Ulyanov et al., 2016).

    With use_input_stats, the statistics are the sample's own (biased variance), and given running
    buffers are updated in place with momentum from the batch average of the per-sample mean and
    unbiased variance; otherwise the running statistics normalize."""
    if input.ndim < 2:
        raise ShapeError(f"instance_norm: expected an input with at least 2 dims, got {input.ndim}D")
    n, c = input.shape[0], input.shape[1]
    spatial = 1
    for s in input.shape[2:]:
        spatial *= s
    affine_shape = (1, c) + (1,) * (input.ndim - 2)
    if use_input_stats:
        if spatial <= 1:
            raise ArgumentError(
                f"Expected more than 1 spatial element when training, got input size {tuple(input.shape)}"
            )
        flat = input.reshape(n, c, spatial)
        out = _core.layer_norm(flat, (spatial,), None, None, eps).reshape(tuple(input.shape))
        if running_mean is not None or running_var is not None:
            with no_grad():
                d = flat.detach()
                mean = d.mean(2)
                var_unbiased = d.var(2, unbiased=True) if spatial > 1 else d.var(2, unbiased=False)
                if running_mean is not None:
                    new_mean = (running_mean * (1 - momentum) + mean * momentum).mean(0)
                    running_mean.copy_(new_mean.to(running_mean.dtype))
                if running_var is not None:
                    new_var = (running_var * (1 - momentum) + var_unbiased * momentum).mean(0)
                    running_var.copy_(new_var.to(running_var.dtype))
    else:
        if running_mean is None or running_var is None:
            raise ArgumentError(
                "Expected running_mean and running_var to be defined when use_input_stats is false"
            )
        out = (input - running_mean.reshape(affine_shape)) / _core.sqrt(
            running_var.reshape(affine_shape) + eps
        )
    if weight is not None:
        out = out * weight.reshape(affine_shape)
    if bias is not None:
        out = out + bias.reshape(affine_shape)
    return out


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """input / (k + alpha * mean of input**2 over a window of ``size`` neighbouring channels,
    zero-padded) ** beta (Krizhevsky et al., 2012)."""
    if input.ndim < 3:
        raise ArgumentError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    sq = input * input
    before, after = size // 2, (size - 1) // 2
    padded = pad(sq.reshape(input.shape[0], c, -1).transpose(1, 2), (before, after))
    window = _core.narrow(padded, 2, 0, c)
    for i in range(1, size):
        window = window + _core.narrow(padded, 2, i, c)
    div = (window / size).transpose(1, 2).reshape(tuple(input.shape))
    return input / (div * alpha + k) ** beta


# ---- padding ---------------------------------------------------------------------------------------
def _pad_source_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each output position along a padded dim, the input position it reads."""
    pos = np.arange(-before, size + after)
    if mode == "reflect":
        if size == 1:
            return np.zeros_like(pos)
        period = 2 * (size - 1)
        m = np.mod(pos, period)
        return np.where(m < size, m, period - m)
    return np.clip(pos, 0, size - 1)  # replicate


_NON_CONSTANT_PAD = {2: (2, 3), 4: (3, 4), 6: (4, 5)}


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pads (or, with negative amounts, crops) the last len(pad) // 2 dims: ``pad`` lists
    (before, after) for the last dim first, then the one before it, and so on.

    mode 'constant' fills with ``value`` (default 0) and pads any number of dims; 'reflect'
    (mirror without repeating the edge, amount < size), 'replicate' (repeat the edge) and
    'circular' (wrap around, amount <= size) pad the last 1, 2 or 3 dims of a batched or unbatched
    input, as PyTorch allows."""
    if not isinstance(pad, (tuple, list)):
        raise DTypeError(f"pad(): argument 'pad' must be tuple of ints, but got {type(pad).__name__}")
    for i, p in enumerate(pad):
        if isinstance(p, bool) or not isinstance(p, numbers.Integral):
            raise DTypeError(
                "pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                f"{type(p).__name__} at pos {i}"
            )
    pads = [int(p) for p in pad]
    if len(pads) % 2:
        raise ArgumentError("Padding length must be divisible by 2")
    if len(pads) // 2 > input.ndim:
        raise ArgumentError(
            "Padding length should be less than or equal to two times the input dimension but got "
            f"padding length {len(pads)} and input of dimension {input.ndim}"
        )
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    npad = len(pads) // 2
    dims = [input.ndim - 1 - i for i in range(npad)]  # pads[2i], pads[2i+1] go to dims[i]
    if mode == "constant":
        return _constant_pad(input, pads, dims, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise ArgumentError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if len(pads) not in _NON_CONSTANT_PAD or input.ndim not in _NON_CONSTANT_PAD[len(pads)]:
        raise NotImplementedError(
            f"Padding size {len(pads)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    # check every dim before any work, so errors name the first offending dim as PyTorch does
    for i, d in enumerate(dims):
        before, after = pads[2 * i], pads[2 * i + 1]
        size = input.shape[d]
        out = size + before + after
        if mode == "reflect" and (before >= size or after >= size):
            raise ArgumentError(
                "Argument #4: Padding size should be less than the corresponding input dimension, but "
                f"got: padding ({before}, {after}) at dimension {d} of input {list(input.shape)}"
            )
        if mode == "circular":
            if before > size or after > size:
                raise ArgumentError("Padding value causes wrapping around more than once.")
            if out < 0:
                raise ArgumentError("Negative padding value is resulting in an empty dimension")
        elif size == 0 or out < 1:
            label = "DHW"[-npad:][npad - 1 - i] if npad <= 3 else str(d)
            raise ShapeError(f"input ({label}: {size}) is too small. Calculated output {label}: {out}")
    result = input
    for i, d in enumerate(dims):
        before, after = pads[2 * i], pads[2 * i + 1]
        if before == 0 and after == 0:
            continue
        size = input.shape[d]
        if mode == "circular":
            # PyTorch crops first, then wraps around what is left
            start, stop = max(-before, 0), size - max(-after, 0)
            kept = max(stop - start, 0)
            if kept == 0 and (before > 0 or after > 0):
                raise ArgumentError("Negative padding value is resulting in an empty dimension")
            src = start + np.mod(np.arange(-max(before, 0), kept + max(after, 0)), max(kept, 1))
        else:
            src = _pad_source_index(size, before, after, mode)
        result = _core.index_select(result, d, _index(src))
    return result


def _constant_pad(input: Tensor, pads: list[int], dims: list[int], value: float) -> Tensor:
    shape = list(input.shape)
    for i, d in enumerate(dims):
        out = shape[d] + pads[2 * i] + pads[2 * i + 1]
        if out < 0:
            raise ShapeError(
                f"The input size {shape[d]}, plus negative padding {pads[2 * i]} and {pads[2 * i + 1]} "
                f"resulted in a negative output size, which is invalid. Check dimension {d} of your input."
            )
    if not input.is_floating_point():
        value = bool(value) if input.dtype == _core.bool else math.trunc(value)
    result = input
    for i, d in enumerate(dims):
        before, after = pads[2 * i], pads[2 * i + 1]
        size = result.shape[d]
        # crop first (negative amounts), then add blocks of value on either side
        start, stop = max(-before, 0), size - max(-after, 0)
        if start or stop != size:
            result = _core.narrow(result, d, start, max(stop - start, 0))
        blocks = []
        for amount in (before, after):
            block_shape = list(result.shape)
            block_shape[d] = max(amount, 0)
            blocks.append(_core.full(tuple(block_shape), value, dtype=input.dtype))
        if before > 0 or after > 0:
            result = _core.cat([blocks[0], result, blocks[1]], d)
    return input.clone() if result is input else result


# ---- sliding blocks (im2col / col2im) --------------------------------------------------------------
def _pair(value: int | Sequence[int], name: str, op: str) -> tuple[int, int]:
    if isinstance(value, numbers.Integral):
        return (int(value), int(value))
    vals = [int(v) for v in cast("Sequence[int]", value)]
    if len(vals) != 2:
        raise ArgumentError(f"{op}: It is expected {name} equals to 2, but got size {len(vals)}")
    return (vals[0], vals[1])


def _block_args(
    kernel_size: Any, dilation: Any, padding: Any, stride: Any, op: str
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
    k = _pair(kernel_size, "kernel_size", op)
    d = _pair(dilation, "dilation", op)
    p = _pair(padding, "padding", op)
    s = _pair(stride, "stride", op)
    if min(k) <= 0:
        raise ArgumentError(
            f"kernel size should be greater than zero, but got kernel_height: {k[0]} kernel_width: {k[1]}"
        )
    if min(s) <= 0:
        raise ArgumentError(
            f"stride should be greater than zero, but got stride_height: {s[0]} stride_width: {s[1]}"
        )
    if min(d) <= 0:
        raise ArgumentError(
            f"dilation should be greater than zero, but got dilation_height: {d[0]} dilation_width: {d[1]}"
        )
    if min(p) < 0:
        raise ArgumentError(f"padding should be non-negative, but got pad_height: {p[0]} pad_width: {p[1]}")
    return k, d, p, s


def _blocks(size: int, k: int, d: int, p: int, s: int) -> int:
    return (size + 2 * p - (d * (k - 1) + 1)) // s + 1


def unfold(
    input: Tensor,
    kernel_size: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    stride: int | Sequence[int] = 1,
) -> Tensor:
    """im2col: the sliding (kh, kw) blocks of a (N, C, H, W) or (C, H, W) input as columns,
    (N, C * kh * kw, L) with L the number of block positions (row-major); channel-major rows."""
    if input.ndim not in (3, 4):
        # (PyTorch's error for fewer dims is an IndexError)
        error = IndexingError if input.ndim < 3 else ShapeError
        raise error(
            "Expected 3D or 4D (batch mode) tensor for input with possibly 0 batch size and non-zero "
            f"dimensions for input, but got: {list(input.shape)}"
        )
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = _block_args(kernel_size, dilation, padding, stride, "unfold")
    batched = input.ndim == 4
    x = input if batched else input.unsqueeze(0)
    n, c, h, w = x.shape
    oh, ow = _blocks(h, kh, dh, ph, sh), _blocks(w, kw, dw, pw, sw)
    if oh < 1 or ow < 1:
        raise ShapeError(
            f"Given input with spatial size ({h}, {w}), kernel_size=({kh}, {kw}), dilation=({dh}, {dw}), "
            f"padding=({ph}, {pw}), calculated shape of the array of sliding blocks as ({oh}, {ow}), but "
            "its components must be at least one."
        )
    if ph or pw:
        x = pad(x, (pw, pw, ph, ph))
    cols = []
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dh, j * dw
            cols.append(x[:, :, r0 : r0 + sh * (oh - 1) + 1 : sh, c0 : c0 + sw * (ow - 1) + 1 : sw])
    out = _core.stack(cols, 2).reshape(n, c * kh * kw, oh * ow)
    return out if batched else out.squeeze(0)


def _spread(x: Tensor, dim: int, stride: int) -> Tensor:
    """Inserts stride - 1 zeros between consecutive entries along dim (length (L - 1) * stride + 1)."""
    if stride == 1:
        return x
    length = x.shape[dim]
    zeros = _core.zeros_like(x)
    inter = _core.stack([x] + [zeros] * (stride - 1), dim + 1)
    shape = list(x.shape)
    shape[dim] = length * stride
    return _core.narrow(inter.reshape(tuple(shape)), dim, 0, (length - 1) * stride + 1)


def fold(
    input: Tensor,
    output_size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    stride: int | Sequence[int] = 1,
) -> Tensor:
    """col2im, the adjoint of unfold: sums the columns of a (N, C * kh * kw, L) or
    (C * kh * kw, L) input back into (N, C, H, W) / (C, H, W), adding where blocks overlap."""
    if input.ndim not in (2, 3):
        raise ShapeError(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
            f"dimensions for input, but got: {list(input.shape)}"
        )
    (H, W) = _pair(output_size, "output_size", "fold")
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = _block_args(kernel_size, dilation, padding, stride, "fold")
    batched = input.ndim == 3
    x = input if batched else input.unsqueeze(0)
    n, ckk, length = x.shape
    if ckk % (kh * kw):
        raise ShapeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={ckk} and kernel_size=({kh}, {kw})."
        )
    oh, ow = _blocks(H, kh, dh, ph, sh), _blocks(W, kw, dw, pw, sw)
    if oh < 1 or ow < 1 or oh * ow != length:
        raise ShapeError(
            f"Given output_size=({H}, {W}), kernel_size=({kh}, {kw}), dilation=({dh}, {dw}), "
            f"padding=({ph}, {pw}), stride=({sh}, {sw}), expected size of input's dimension 2 to match "
            f"the calculated number of sliding blocks {oh} * {ow} = {oh * ow}, but got "
            f"input.size(2)={length}."
        )
    c = ckk // (kh * kw)
    blocks = x.reshape(n, c, kh * kw, oh, ow)
    hp, wp = H + 2 * ph, W + 2 * pw
    span_h, span_w = sh * (oh - 1) + 1, sw * (ow - 1) + 1
    total = None
    for i in range(kh):
        for j in range(kw):
            b = _spread(_spread(blocks[:, :, i * kw + j], 2, sh), 3, sw)
            top, left = i * dh, j * dw
            # (blocks that reach past the padded canvas are cut off by negative padding)
            placed = pad(b, (left, wp - left - span_w, top, hp - top - span_h))
            total = placed if total is None else total + placed
    assert total is not None
    out = total[:, :, ph : ph + H, pw : pw + W] if (ph or pw) else total
    return out if batched else out.squeeze(0)


# ---- resampling ------------------------------------------------------------------------------------
_INTERP_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _source_scale(in_size: int, out_size: int, align_corners: bool, scale: float | None) -> float:
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else in_size / out_size


def _nearest_index(in_size: int, out_size: int, scale: float | None, exact: bool) -> np.ndarray:
    dst = np.arange(out_size)
    if not exact and out_size == in_size:
        return dst
    if not exact and out_size == 2 * in_size:
        return dst >> 1
    # PyTorch computes this index in float32 arithmetic; so does this, to pick the same neighbour.
    s = (
        np.float32(1.0 / scale)
        if scale is not None and scale > 0
        else np.float32(in_size) / np.float32(out_size)
    )
    pos = (dst.astype(np.float32) + np.float32(0.5 if exact else 0.0)) * s
    return np.minimum(np.floor(pos).astype(np.int64), in_size - 1)


def _linear_taps(
    in_size: int, out_size: int, align_corners: bool, scale: float | None, dtype: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Indices i0, i1 and weights l0, l1 (in the input's precision) of linear interpolation."""
    dst = np.arange(out_size)
    if in_size == out_size:
        return dst, dst, np.ones(out_size, dtype), np.zeros(out_size, dtype)
    ratio = dtype(_source_scale(in_size, out_size, align_corners, scale))
    dst_f = dst.astype(dtype)
    src = ratio * dst_f if align_corners else np.maximum(ratio * (dst_f + dtype(0.5)) - dtype(0.5), dtype(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    l1 = np.clip(src - i0.astype(dtype), dtype(0), dtype(1)).astype(dtype)
    i1 = i0 + (i0 < in_size - 1)
    return i0, i1, (dtype(1) - l1).astype(dtype), l1


def _cubic_taps(
    in_size: int, out_size: int, align_corners: bool, scale: float | None, dtype: Any
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Four clamped indices and Keys cubic-convolution weights (A = -0.75) per output position."""
    dst = np.arange(out_size).astype(dtype)
    ratio = dtype(_source_scale(in_size, out_size, align_corners, scale))
    src = ratio * dst if align_corners else ratio * (dst + dtype(0.5)) - dtype(0.5)
    fl = np.floor(src)
    t = (src - fl).astype(dtype)
    base = fl.astype(np.int64)
    a = dtype(-0.75)

    def near(x: np.ndarray) -> np.ndarray:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: np.ndarray) -> np.ndarray:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    idx = [np.clip(base - 1 + k, 0, in_size - 1) for k in range(4)]
    return idx, [w.astype(dtype) for w in weights]


def _resample_dim(
    x: Tensor, dim: int, out_size: int, mode: str, align_corners: bool, scale: float | None
) -> Tensor:
    in_size = x.shape[dim]
    if mode in ("nearest", "nearest-exact"):
        return _core.index_select(
            x, dim, _index(_nearest_index(in_size, out_size, scale, mode == "nearest-exact"))
        )
    np_dtype = np.float64 if x.dtype == _core.float64 else np.float32
    view = [1] * x.ndim
    view[dim] = out_size

    def w(v: np.ndarray) -> Tensor:
        return _core._tensor(v.reshape(view), None, False)

    if mode == "area":
        starts = (np.arange(out_size) * in_size) // out_size
        ends = -((-(np.arange(out_size) + 1) * in_size) // out_size)
        width = int((ends - starts).max())
        total = None
        for k in range(width):
            idx = np.minimum(starts + k, ends - 1)
            valid = (starts + k < ends).astype(np_dtype)
            term = _core.index_select(x, dim, _index(idx)) * w(valid)
            total = term if total is None else total + term
        assert total is not None
        return total / w((ends - starts).astype(np_dtype))
    if mode == "bicubic":
        idxs, weights = _cubic_taps(in_size, out_size, align_corners, scale, np_dtype)
        total = None
        for idx, wt in zip(idxs, weights):
            term = _core.index_select(x, dim, _index(idx)) * w(wt)
            total = term if total is None else total + term
        assert total is not None
        return total
    i0, i1, l0, l1 = _linear_taps(in_size, out_size, align_corners, scale, np_dtype)
    return _core.index_select(x, dim, _index(i0)) * w(l0) + _core.index_select(x, dim, _index(i1)) * w(l1)


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resamples the spatial dims (all after N, C) to ``size`` or by ``scale_factor``.

    Modes: 'nearest' (PyTorch's legacy floor rule), 'nearest-exact', 'linear' (3-D input),
    'bilinear' and 'bicubic' (4-D), 'trilinear' (5-D), 'area' (adaptive average). For the
    interpolating modes ``align_corners=True`` maps the corner pixels onto each other; the default
    False maps pixel centers. Given a scale_factor, the output size is floor(size * scale) and the
    scale itself drives the sampling unless ``recompute_scale_factor``."""
    if mode not in _INTERP_MODES:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
            "nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
            f"(got {mode})"
        )
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ArgumentError(
                "align_corners option can only be set with the interpolating modes: linear | bilinear | "
                "bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    if antialias:
        raise NotImplementedError("interpolate(antialias=True) is not supported")
    dim = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ArgumentError("only one of size or scale_factor should be defined")
    scales: list[float] | None
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ArgumentError(
                    "Input and output must have the same number of spatial dimensions, but got input with "
                    f"spatial dimensions of {list(input.shape[2:])} and output size of {size}. Please "
                    "provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                    "(o1, o2, ...,oK) format."
                )
            if not all(isinstance(s, numbers.Integral) for s in size):
                raise DTypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}"
                )
            out_sizes = [int(s) for s in size]
        else:
            out_sizes = [operator.index(cast(int, size))] * dim
        scales = None
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ArgumentError(
                    "Input and scale_factor must have the same number of spatial dimensions, but got input "
                    f"with spatial dimensions of {list(input.shape[2:])} and scale_factor of shape "
                    f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "scale_factor in (s1, s2, ...,sK) format."
                )
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(cast(float, scale_factor))] * dim
        out_sizes = [int(math.floor(input.shape[i + 2] * scales[i])) for i in range(dim)]
    else:
        raise ArgumentError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ArgumentError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" or recompute_scale_factor:
        scales = None
    if dim not in (1, 2, 3) or (mode in _MODE_DIMS and _MODE_DIMS[mode] != dim):
        want = _MODE_DIMS.get(mode)
        if want is not None and dim in (1, 2, 3):
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {want + 2}D input")
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
            f"nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got {mode})"
        )
    if not input.is_floating_point() and mode != "nearest" and mode != "nearest-exact":
        raise DTypeError(f"interpolate: mode {mode!r} needs a floating point input, got {input.dtype}")
    for i, s in enumerate(out_sizes):
        if s <= 0 or input.shape[i + 2] <= 0:
            raise ArgumentError(
                f"Input and output sizes should be greater than 0, but got input (spatial: "
                f"{list(input.shape[2:])}) and output (spatial: {out_sizes})"
            )
    out = input
    for i in range(dim):
        scale = scales[i] if scales is not None else None
        out = _resample_dim(out, i + 2, out_sizes[i], mode, bool(align_corners), scale)
    return out * 1 if out is input else out


def upsample(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """Deprecated alias of interpolate (warns, as PyTorch)."""
    warnings.warn(
        "`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2
    )
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: Tensor, size: int | Sequence[int] | None = None, scale_factor: float | None = None
) -> Tensor:
    """Deprecated: interpolate(..., mode='nearest')."""
    warnings.warn(
        "`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(
    input: Tensor, size: int | Sequence[int] | None = None, scale_factor: float | None = None
) -> Tensor:
    """Deprecated: interpolate(..., mode='bilinear', align_corners=True)."""
    warnings.warn(
        "`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _min3_msg(name: str, ndim: int) -> str:
    return f"{name} expects input to have at least 3 dimensions, but got input with {ndim} dimension(s)"


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C * r**2, H, W) -> (*, C, H * r, W * r) (Shi et al., 2016)."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise ShapeError(_min3_msg("pixel_shuffle", input.ndim))
    if r <= 0:
        raise ArgumentError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ShapeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    oc = c // (r * r)
    k = len(lead)
    x = input.reshape(tuple(lead) + (oc, r, r, h, w))
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(tuple(lead) + (oc, h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r**2, H, W), the inverse of pixel_shuffle."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise ShapeError(_min3_msg("pixel_unshuffle", input.ndim))
    if r <= 0:
        raise ArgumentError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise ShapeError(
            f"pixel_unshuffle expects height and width to be divisible by downscale_factor, but got "
            f"height={h}, width={w} and downscale_factor={r}"
        )
    k = len(lead)
    x = input.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(tuple(lead) + (c * r * r, h // r, w // r))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleaves the channels (dim 1) of ``groups`` groups: (N, g * k, *) viewed as (N, g, k, *)
    and transposed to (N, k, g, *) (Zhang et al., 2017)."""
    if input.ndim < 3:
        raise ShapeError(_min3_msg("channel_shuffle", input.ndim))
    if groups <= 0:
        raise ArgumentError(
            f"Number of groups to divide channels in must be positive. Value of groups:{groups}"
        )
    n, c = input.shape[0], input.shape[1]
    if c % groups:
        raise ShapeError(
            f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups."
        )
    rest = tuple(input.shape[2:])
    x = input.reshape((n, groups, c // groups) + rest).transpose(1, 2)
    return x.reshape((n, c) + rest)


from typing import TYPE_CHECKING as _TYPE_CHECKING  # noqa: E402

from chainrule._missing import module_getattr as _module_getattr  # noqa: E402

if not _TYPE_CHECKING:  # a name PyTorch has and chainrule lacks says so (see docs/api-coverage.md)
    __getattr__ = _module_getattr(__name__, "torch.nn.functional")


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value over the last two dims (..., L, E) x (..., S, E).

    ``attn_mask``: bool (True takes part) or floating (added to the scores), broadcast to (..., L, S);
    ``is_causal``: query i attends to keys 0..i (not with attn_mask); ``scale`` defaults to
    1/sqrt(E); ``enable_gqa``: key/value may have fewer heads (dim -3) that query's heads share;
    ``dropout_p``: attention weights are dropped with chainrule's generator (reproducible under
    ``manual_seed``). One fused kernel (blocked, with an online softmax) that never holds the
    (L, S) score matrix; rows whose keys are all masked give zeros, as PyTorch's CPU kernel."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise DTypeError(f"scaled_dot_product_attention: {name} must be a Tensor, got {type(t).__name__}")
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        got = type(attn_mask).__name__
        raise DTypeError(f"scaled_dot_product_attention: attn_mask must be a Tensor or None, got {got}")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise ShapeError("scaled_dot_product_attention: query, key and value need at least 2 dims")
    if is_causal and attn_mask is not None:
        raise ArgumentError(
            "scaled_dot_product_attention: _is_causal and attn_mask cannot be set at the same time"
        )
    if not 0.0 <= dropout_p <= 1.0:
        raise ArgumentError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got {dropout_p}")
    if enable_gqa and query.dim() >= 3 and key.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        if key.shape[-3] == 0 or query.shape[-3] % key.shape[-3] != 0:
            raise ShapeError("scaled_dot_product_attention: query heads must be a multiple of key heads")
    return _core._scaled_dot_product_attention(
        query,
        key,
        value,
        attn_mask,
        float(dropout_p),
        bool(is_causal),
        None if scale is None else float(scale),
        bool(enable_gqa),
    )


from chainrule.nn._attention import multi_head_attention_forward as multi_head_attention_forward  # noqa: E402

__all__ += ["scaled_dot_product_attention", "multi_head_attention_forward"]

from chainrule.nn._conv_functional import *  # noqa: E402, F403 - convolution and pooling
from chainrule.nn._conv_functional import __all__ as _conv_all  # noqa: E402

__all__ += _conv_all

from chainrule.nn._composite_names import name_composites as _name_composites  # noqa: E402

_name_composites(globals())  # PyTorch's grad_fn names for composites (MseLossBackward0, ...)
