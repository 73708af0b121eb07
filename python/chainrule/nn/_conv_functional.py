"""Convolution and pooling functions (PyTorch's torch.nn.functional names, signatures and defaults).

Each one runs a fused C++ kernel with its own backward kernel: the convolutions (conv1d, conv2d,
conv_transpose1d, conv_transpose2d) are the engine's functions themselves; the pooling functions
expand PyTorch's options and call the engine's pooling kernels over the last one or two dims.
Indices returned by max pooling are flat positions in each input plane, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule import _core
from chainrule._core import Tensor
from chainrule._core import conv1d as conv1d  # fused C++ kernels, re-exported
from chainrule._core import conv2d as conv2d
from chainrule._core import conv_transpose1d as conv_transpose1d
from chainrule._core import conv_transpose2d as conv_transpose2d

__all__ = [
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "max_pool1d",
    "max_pool2d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
]

_Size = int | Sequence[int]
_OptSize = int | None | Sequence[int | None]


def max_pool1d_with_indices(
    input: Tensor,
    kernel_size: _Size,
    stride: _Size | None = None,
    padding: _Size = 0,
    dilation: _Size = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> tuple[Tensor, Tensor]:
    """Max pooling over the last dim of (N, C, L) or (C, L): (values, indices)."""
    out, idx = _core._max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode)
    return out, idx


def max_pool2d_with_indices(
    input: Tensor,
    kernel_size: _Size,
    stride: _Size | None = None,
    padding: _Size = 0,
    dilation: _Size = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> tuple[Tensor, Tensor]:
    """Max pooling over the last two dims of (N, C, H, W) or (C, H, W): (values, indices), the
    indices flat in each H x W plane."""
    out, idx = _core._max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode)
    return out, idx


def max_pool1d(
    input: Tensor,
    kernel_size: _Size,
    stride: _Size | None = None,
    padding: _Size = 0,
    dilation: _Size = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max pooling over the last dim; stride defaults to kernel_size, padding is at most half the
    kernel, ceil_mode rounds the output size up. With return_indices: (values, indices)."""
    out, idx = _core._max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, idx) if return_indices else out


def max_pool2d(
    input: Tensor,
    kernel_size: _Size,
    stride: _Size | None = None,
    padding: _Size = 0,
    dilation: _Size = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max pooling over the last two dims; stride defaults to kernel_size, padding is at most half
    the kernel, ceil_mode rounds the output size up. With return_indices: (values, indices)."""
    out, idx = _core._max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, idx) if return_indices else out


def avg_pool1d(
    input: Tensor,
    kernel_size: _Size,
    stride: _Size | None = None,
    padding: _Size = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Average pooling over the last dim; count_include_pad counts the zero padding in the divisor."""
    out: Tensor = _core._avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad)
    return out


def avg_pool2d(
    input: Tensor,
    kernel_size: _Size,
    stride: _Size | None = None,
    padding: _Size = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Average pooling over the last two dims; count_include_pad counts the zero padding in the
    divisor, divisor_override (non-zero) replaces the divisor."""
    out: Tensor = _core._avg_pool(
        input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    return out


def adaptive_avg_pool1d(input: Tensor, output_size: _OptSize) -> Tensor:
    """Average pooling of the last dim to output_size windows: window i covers
    [floor(i * L / out), ceil((i + 1) * L / out))."""
    out: Tensor = _core._adaptive_avg_pool(input, 1, output_size)
    return out


def adaptive_avg_pool2d(input: Tensor, output_size: _OptSize) -> Tensor:
    """Average pooling of the last two dims to output_size (an int, or a pair whose None entries
    keep that input size)."""
    out: Tensor = _core._adaptive_avg_pool(input, 2, output_size)
    return out


def adaptive_max_pool1d_with_indices(
    input: Tensor, output_size: _OptSize, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """Adaptive max pooling over the last dim: (values, indices)."""
    out, idx = _core._adaptive_max_pool(input, 1, output_size)
    return out, idx


def adaptive_max_pool2d_with_indices(
    input: Tensor, output_size: _OptSize, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """Adaptive max pooling over the last two dims: (values, indices flat in each plane)."""
    out, idx = _core._adaptive_max_pool(input, 2, output_size)
    return out, idx


def adaptive_max_pool1d(input: Tensor, output_size: _OptSize, return_indices: bool = False) -> Any:
    """Max pooling of the last dim to output_size windows (see adaptive_avg_pool1d)."""
    out, idx = _core._adaptive_max_pool(input, 1, output_size)
    return (out, idx) if return_indices else out


def adaptive_max_pool2d(input: Tensor, output_size: _OptSize, return_indices: bool = False) -> Any:
    """Max pooling of the last two dims to output_size (None entries keep that input size)."""
    out, idx = _core._adaptive_max_pool(input, 2, output_size)
    return (out, idx) if return_indices else out
