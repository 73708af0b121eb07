"""BatchNorm1d / 2d / 3d over the fused batch_norm kernel (csrc/ops/norm.cpp)."""

from __future__ import annotations

from typing import Any

from chainrule import _core
from chainrule._core import Tensor
from chainrule.nn import init
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _BatchNorm(Module):
    _version = 2
    _expected_dims: tuple = ()
    _expected_text = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: _core.dtype | None = None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        if num_features <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be positive, got {num_features}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(_core._ones(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(_core._zeros(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _core._zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", _core._ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", _core._zeros((), dtype=_core.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() not in self._expected_dims:
            raise ValueError(
                f"{type(self).__name__}: expected {self._expected_text} input, got input of shape "
                f"{tuple(input.shape)} ({input.dim()}D)"
            )
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: expected input with num_features={self.num_features} "
                f"channels at dim 1, got input of shape {tuple(input.shape)}"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        tracked = None
        count = self.training and self.track_running_stats and self.num_batches_tracked is not None
        if count and self.momentum is None:  # cumulative average: the factor depends on the count
            tracked = int(self.num_batches_tracked) + 1
            factor = 1.0 / tracked
        # Batch statistics in training, and in eval when no running stats are kept.
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_running = not self.training or self.track_running_stats
        out = _core.batch_norm(
            input,
            self.running_mean if use_running else None,
            self.running_var if use_running else None,
            self.weight,
            self.bias,
            bn_training,
            factor,
            self.eps,
        )
        if tracked is not None:
            init._fill_(self.num_batches_tracked, tracked)
        elif count:
            # counted in place, without reading the count into Python (chainrule.compile replays it)
            self.num_batches_tracked.add_(1)
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) inputs (Ioffe & Szegedy, 2015), per channel C.

    Training normalizes with the batch statistics and updates running_mean / running_var
    (unbiased) with ``momentum`` (None: cumulative average); eval uses the running statistics.
    """

    _expected_dims = (2, 3)
    _expected_text = "2D (N, C) or 3D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) inputs, per channel C."""

    _expected_dims = (4,)
    _expected_text = "4D (N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalization over (N, C, D, H, W) inputs, per channel C."""

    _expected_dims = (5,)
    _expected_text = "5D (N, C, D, H, W)"
