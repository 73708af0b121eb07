"""LayerNorm over the fused layer_norm kernel (csrc/ops/norm.cpp)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from chainrule import _core
from chainrule._core import Tensor
from chainrule.nn import init
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter

__all__ = ["LayerNorm"]


class LayerNorm(Module):
    """Layer normalization (Ba et al., 2016) over the trailing ``normalized_shape`` dims, with an
    elementwise weight (ones) and bias (zeros) of that shape when ``elementwise_affine``."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: _core.dtype | None = None,
    ):
        super().__init__()
        dims = (
            (normalized_shape,) if isinstance(normalized_shape, (int, numbers.Integral)) else normalized_shape
        )
        self.normalized_shape = tuple(int(s) for s in dims)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_core._ones(*self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(_core._zeros(*self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return _core.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )
