"""chainrule: reverse-mode automatic differentiation with a multithreaded C++ engine.

Conventional import: ``import chainrule as cr``. Names, signatures and semantics follow PyTorch.
"""

from typing import TYPE_CHECKING

from chainrule import _core, _storage

_storage.install()  # before any name is taken from _core (Note [Storage dtypes])
_core._install_number_slots()  # after the operator methods are final (Note [Operator number slots])
from chainrule._core import (  # noqa: E402
    ArgumentError,
    AutogradError,
    DTypeError,
    IndexingError,
    ShapeError,
    Tensor,
    bfloat16,
    bool,  # PyTorch's dtype name; shadows the builtin in this module only
    dtype,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)

# Every public function of the engine (add, exp, sum, matmul, cat, ...) is a chainrule function.
_CORE_FUNCTIONS = [
    n
    for n in dir(_core)
    if not n.startswith("_")
    and n not in ("Tensor", "Node", "dtype")
    and callable(getattr(_core, n))
    and not isinstance(getattr(_core, n), type)
]
globals().update({n: getattr(_core, n) for n in _CORE_FUNCTIONS})
if TYPE_CHECKING:
    # What type checkers see of the line above: the engine's functions as the stub _core.pyi lists them.
    from chainrule._core import *  # noqa: F403

# Order matters: Tensor's Python-side methods (_tensor) are attached before the subpackages load.
# isort: off
from chainrule._tensor import tensor, zeros, ones, empty  # noqa: E402
from chainrule._creation import *  # noqa: E402, F403
from chainrule._creation import __all__ as _creation_all  # noqa: E402
from chainrule._compose import *  # noqa: E402, F403
from chainrule._compose import __all__ as _compose_all  # noqa: E402
from chainrule._dtypes import (  # noqa: E402
    Size,
    accelerator,
    cuda,
    device,
    finfo,
    get_default_dtype,
    iinfo,
    set_default_dtype,
)
from chainrule._printing import get_printoptions, set_printoptions  # noqa: E402
from chainrule import _out  # noqa: E402

_out.install(globals())  # out= on matmul, mul, add, ... (as PyTorch's)
from chainrule._storage import promote_types, result_type  # noqa: E402
from chainrule.autograd.grad_mode import (  # noqa: E402
    enable_grad,
    inference_mode,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule import autograd  # noqa: E402
from chainrule.autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled  # noqa: E402
from chainrule import backends, linalg, nn, optim, utils  # noqa: E402
from chainrule import viz  # noqa: E402
from chainrule.serialization import load, save  # noqa: E402
from chainrule._config import show_config, __version__  # noqa: E402
from chainrule._compile import compile  # noqa: E402
from chainrule import compiler  # noqa: E402
# isort: on

float = float32  # PyTorch's aliases, shadowing the builtins in this module only
double = float64
long = int64
half = float16
int = int32
short = int16

__all__ = [
    # Exceptions: each also subclasses RuntimeError, so PyTorch-style `except RuntimeError` works.
    "ShapeError",  # (ValueError, RuntimeError): shapes that do not fit
    "DTypeError",  # (TypeError, RuntimeError): a dtype or argument type the op does not accept
    "IndexingError",  # (IndexError, RuntimeError): an index or dim out of range
    "ArgumentError",  # (ValueError, RuntimeError): another bad argument value
    "AutogradError",  # (RuntimeError): backward twice, a saved tensor modified in place, ...
    "Tensor",
    "dtype",
    "float32",
    "float64",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "short",
    "float16",
    "bfloat16",
    "bool",
    "float",
    "double",
    "long",
    "half",
    "int",
    "tensor",
    "zeros",
    "ones",
    "empty",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_inference_mode_enabled",
    "Size",
    "device",
    "cuda",
    "accelerator",
    "finfo",
    "iinfo",
    "promote_types",
    "result_type",
    "set_default_dtype",
    "set_printoptions",
    "get_printoptions",
    "get_default_dtype",
    "autograd",
    "nn",
    "linalg",
    "backends",
    "optim",
    "utils",
    "save",
    "load",
    "show_config",
    "__version__",
]
__all__ += ["is_anomaly_enabled", "is_anomaly_check_nan_enabled", "viz"]
__all__ += ["compile", "compiler"]
__all__ += _CORE_FUNCTIONS
__all__ += _creation_all
__all__ += _compose_all
__all__ = sorted(set(__all__))

from chainrule._missing import module_getattr as _module_getattr  # noqa: E402

if not TYPE_CHECKING:  # hidden from type checkers, so a misspelled name stays a type error
    __getattr__ = _module_getattr(__name__, "torch")
