"""chainrule: reverse-mode automatic differentiation with a multithreaded C++ engine.

Conventional import: ``import chainrule as cr``. Names, signatures and semantics follow PyTorch.
"""
from chainrule import _core
from chainrule._core import (
    Tensor,
    bool,  # noqa: A004 - PyTorch's dtype names
    dtype,
    float32,
    float64,
    from_numpy,
    get_num_threads,
    int64,
    is_grad_enabled,
    set_num_threads,
)
from chainrule._tensor import (
    tensor,
    zeros,
    ones,
    empty,
)
from chainrule.autograd.grad_mode import enable_grad, no_grad, set_grad_enabled
from chainrule import autograd
from chainrule._config import show_config, __version__

float = float32  # noqa: A001 - PyTorch's alias
double = float64
long = int64

__all__ = [
    "Tensor", "dtype", "float32", "float64", "int64", "bool", "float", "double", "long",
    "tensor", "zeros", "ones", "empty", "from_numpy",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "set_num_threads", "get_num_threads", "autograd", "show_config", "__version__",
]
