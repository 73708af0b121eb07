"""Functional forms of activations, softmax and losses (PyTorch's torch.nn.functional).

Every function keeps PyTorch's name, signature and semantics and calls one engine entry point;
the engine does the work (and the autograd) in C++.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from chainrule import _core
from chainrule._core import Tensor
from chainrule._core import batch_norm as batch_norm  # fused C++ kernels, re-exported
from chainrule._core import layer_norm as layer_norm

__all__ = [
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "softplus",
    "softmax",
    "log_softmax",
    "logsumexp",
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "linear",
    "dropout",
    "one_hot",
]


# ---- activations (the engine's activation kernels; looked up at call time) -----------------------
def _no_inplace(name: str, inplace: bool) -> None:
    if inplace:
        raise NotImplementedError(f"{name}(inplace=True) is not supported; use inplace=False")


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0)."""
    _no_inplace("relu", inplace)
    return _core.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """input where positive, negative_slope * input elsewhere."""
    _no_inplace("leaky_relu", inplace)
    return _core.leaky_relu(input, negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """input where positive, alpha * (exp(input) - 1) elsewhere."""
    _no_inplace("elu", inplace)
    return _core.elu(input, alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit; approximate='tanh' for the tanh approximation."""
    return _core.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """input * sigmoid(input)."""
    _no_inplace("silu", inplace)
    return _core.silu(input)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-input))."""
    return _core.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _core.tanh(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * input)) / beta, linear above threshold."""
    return _core.softplus(input, beta, threshold)


# ---- softmax family --------------------------------------------------------------------------
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


# ---- losses ----------------------------------------------------------------------------------
def _legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _warn_broadcast(name: str, input: Tensor, target: Tensor) -> None:
    if isinstance(target, Tensor) and tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"{name}: using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Mean squared error (input - target)**2, reduced."""
    _warn_broadcast("mse_loss", input, target)
    return _core._mse_loss(input, target, _legacy_reduction(size_average, reduce, reduction))


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Mean absolute error |input - target|, reduced."""
    _warn_broadcast("l1_loss", input, target)
    return _core._l1_loss(input, target, _legacy_reduction(size_average, reduce, reduction))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d**2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere, with d = input - target."""
    _warn_broadcast("huber_loss", input, target)
    return _core._huber_loss(input, target, reduction, float(delta))


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
    """-(t log p + (1 - t) log(1 - p)) with each log clamped to >= -100; input holds probabilities."""
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


# ---- layers as functions ---------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias."""
    out = _core.matmul(input, _core.transpose(weight, 0, 1) if weight.ndim == 2 else weight)
    return out if bias is None else out + bias


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p) (training only).

    The mask comes from chainrule's generator, so manual_seed makes it reproducible."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _no_inplace("dropout", inplace)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = _core.rand(*input.shape, dtype=input.dtype) >= p
    return input * keep.to(input.dtype) * (1.0 / (1.0 - p))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape tensor.shape + (num_classes,) with a 1 at each index."""
    if tensor.dtype != _core.int64:
        raise TypeError(f"one_hot is only applicable to index tensor of dtype int64, got {tensor.dtype}")
    idx = np.asarray(tensor.detach())
    if num_classes == -1:
        if idx.size == 0:
            raise ValueError("one_hot: can not infer total number of classes from empty tensor")
        num_classes = int(idx.max()) + 1
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"one_hot: class value {bad} is out of range for num_classes={num_classes}")
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None], 1, axis=-1)
    return _core._tensor(out, _core.int64, False)
