"""Conv1d, Conv2d, ConvTranspose1d and ConvTranspose2d over the fused convolution kernels
(csrc/ops/conv.cpp).

Parameters, attributes, defaults, init and state_dict keys are PyTorch's, so a PyTorch state_dict
loads: weight is (out_channels, in_channels / groups, *kernel_size) for a convolution and
(in_channels, out_channels / groups, *kernel_size) for a transposed one, bias is (out_channels,).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from chainrule import _core
from chainrule._core import ArgumentError, DTypeError, ShapeError, Tensor
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    """An int repeated n times, or a sequence of n ints, as a tuple (PyTorch's _single/_pair)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        out = tuple(int(v) for v in value)
        if len(out) == 1 and n > 1:
            out = out * n
        if len(out) != n:
            raise ArgumentError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
        return out
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return (value,) * n


class _ConvNd(Module):
    _nd = 2
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int],
        padding: str | int | Sequence[int],
        dilation: int | Sequence[int],
        transposed: bool,
        output_padding: int | Sequence[int],
        groups: int,
        bias: bool,
        padding_mode: str,
        device: Any = None,
        dtype: _core.dtype | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        _core._check_device(device, name)
        n = self._nd
        if not isinstance(groups, int) or groups <= 0:
            raise ArgumentError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels <= 0 or out_channels <= 0:
            raise ArgumentError(
                f"{name}: in_channels and out_channels must be positive, got {in_channels} and {out_channels}"
            )
        if in_channels % groups != 0:
            raise ArgumentError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups != 0:
            raise ArgumentError(
                f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ArgumentError(
                f"{name}: padding_mode must be one of {_PADDING_MODES}, but got padding_mode='{padding_mode}'"
            )
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size")
        self.stride = _ntuple(stride, n, "stride")
        self.dilation = _ntuple(dilation, n, "dilation")
        if any(k <= 0 for k in self.kernel_size):
            raise ArgumentError(f"{name}: kernel_size must be positive, got {self.kernel_size}")
        if any(s <= 0 for s in self.stride):
            raise ArgumentError(f"{name}: stride must be positive, got {self.stride}")
        if any(d <= 0 for d in self.dilation):
            raise ArgumentError(f"{name}: dilation must be positive, got {self.dilation}")
        self.padding: str | tuple[int, ...]
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ArgumentError(
                    f"{name}: invalid padding string {padding!r}, should be one of {{'same', 'valid'}}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ArgumentError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, n, "padding")
            if any(p < 0 for p in self.padding):
                raise ArgumentError(f"{name}: padding must be non-negative, got {self.padding}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.transposed = transposed
        self.output_padding = _ntuple(output_padding, n, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad amounts for padding_mode != 'zeros': (before, after) of the last dim first.
        if isinstance(self.padding, str):
            pads: list[int] = [0, 0] * n
            if self.padding == "same":
                for d, k, i in zip(self.dilation, self.kernel_size, range(n - 1, -1, -1)):
                    total = d * (k - 1)
                    left = total // 2
                    pads[2 * i] = left
                    pads[2 * i + 1] = total - left
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(self.padding) for _ in range(2)]
        if transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(_core._empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(_core._empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _check_input(self, input: Tensor) -> None:
        """The layer's own message for the two commonest mistakes: wrong rank, wrong channels."""
        n = self._nd
        if not isinstance(input, Tensor):
            raise DTypeError(f"{type(self).__name__}: expected a Tensor input, got {type(input).__name__}")
        if input.dim() not in (n + 1, n + 2):
            raise ShapeError(
                f"{type(self).__name__}({self.extra_repr()}): expected {n + 1}D (unbatched) or {n + 2}D "
                f"(batched) input, got input of shape {tuple(input.shape)}"
            )
        channels = input.shape[0 if input.dim() == n + 1 else 1]
        if channels != self.in_channels:
            raise ShapeError(
                f"{type(self).__name__}({self.extra_repr()}): expected input with "
                f"{self.in_channels} channels, got input of shape {tuple(input.shape)} ({channels} channels)"
            )

    def reset_parameters(self) -> None:
        """PyTorch's init: kaiming_uniform_(weight, a=sqrt(5)) and
        bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        n = self._nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: _core.dtype | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            False,
            0,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        conv = F.conv2d if self._nd == 2 else F.conv1d
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) or (C_in, L) input: weight (out_channels,
    in_channels / groups, kernel_size), padding an int, a tuple, 'same' or 'valid', padding_mode
    'zeros', 'reflect', 'replicate' or 'circular' (as PyTorch)."""

    _nd = 1


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W) input: weight (out_channels,
    in_channels / groups, kH, kW), padding an int, a pair, 'same' or 'valid', padding_mode
    'zeros', 'reflect', 'replicate' or 'circular' (as PyTorch)."""

    _nd = 2


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: _core.dtype | None = None,
    ) -> None:
        if padding_mode != "zeros":
            raise ArgumentError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ArgumentError(f"{type(self).__name__}: padding must be an int or a tuple of ints")
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            True,
            output_padding,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        """output_padding that gives output_size (its last nd entries), as PyTorch computes it."""
        if output_size is None:
            return self.output_padding
        n = self._nd
        size = list(output_size)
        if len(size) == n + 2 or (len(size) == n + 1 and input.dim() == n + 1):
            size = size[-n:]
        if len(size) != n:
            raise ShapeError(
                f"{type(self).__name__}: output_size must have {n} or {n + 2} elements "
                f"(got {len(output_size)})"
            )
        pads = []
        for d in range(n):
            in_d = input.shape[input.dim() - n + d]
            min_size = (
                (in_d - 1) * self.stride[d]
                - 2 * self.padding[d]
                + self.dilation[d] * (self.kernel_size[d] - 1)
                + 1
            )
            max_size = min_size + self.stride[d] - 1
            if not min_size <= size[d] <= max_size:
                raise ShapeError(
                    f"{type(self).__name__}: requested an output size of {list(size)}, but valid sizes range "
                    f"from {min_size} to {max_size} in dim {d} (for an input of {list(input.shape)})"
                )
            pads.append(size[d] - min_size)
        return tuple(pads)

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        self._check_input(input)
        conv = F.conv_transpose2d if self._nd == 2 else F.conv_transpose1d
        output_padding = self._output_padding(input, output_size)
        return conv(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution (the gradient of Conv1d with respect to its input): weight
    (in_channels, out_channels / groups, kernel_size)."""

    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution (the gradient of Conv2d with respect to its input): weight
    (in_channels, out_channels / groups, kH, kW); forward(input, output_size=None) picks the
    output_padding that gives output_size."""

    _nd = 2
