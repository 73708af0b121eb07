"""Dtype and device utilities with PyTorch's names: Size, finfo/iinfo, the default floating dtype,
``chainrule.device`` and the CPU-only ``chainrule.cuda`` / ``chainrule.accelerator`` queries."""

from __future__ import annotations

import builtins
import math
import types
from collections.abc import Iterable
from typing import Any

import numpy as np

from chainrule import _core
from chainrule._core import ArgumentError, DTypeError, Tensor

__all__ = [
    "Size",
    "finfo",
    "iinfo",
    "set_default_dtype",
    "get_default_dtype",
    "device",
    "cuda",
    "accelerator",
    "is_floating_point_dtype",
]


class Size(tuple[int, ...]):
    """A tensor's shape: a tuple of ints that prints as ``chainrule.Size([2, 3])``."""

    def __new__(cls, sizes: Iterable[int] = ()) -> Size:
        return super().__new__(cls, (int(s) for s in sizes))

    def __repr__(self) -> str:
        return f"chainrule.Size({list(self)})"

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return math.prod(self)

    def __getitem__(self, key: Any) -> Any:
        out = super().__getitem__(key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Size:
        return Size(tuple(other) + tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Size, (tuple(self),))


_FLOAT_NP: dict[str, Any] = {"float32": np.float32, "float64": np.float64, "float16": np.float16}
# bfloat16 has no NumPy type: float32's exponent range with an 8-bit significand (7 stored bits).
_BFLOAT16_INFO = {
    "bits": 16,
    "eps": 2.0**-7,
    "max": (2.0 - 2.0**-7) * 2.0**127,
    "min": -(2.0 - 2.0**-7) * 2.0**127,
    "tiny": 2.0**-126,
    "smallest_normal": 2.0**-126,
    "resolution": 0.01,
}
_INT_NP: dict[str, Any] = {
    "int64": np.int64,
    "int32": np.int32,
    "int16": np.int16,
    "int8": np.int8,
    "uint8": np.uint8,
}


class finfo:
    """Machine limits of a floating dtype (default: the default dtype): bits, eps, max, min,
    tiny (= smallest_normal), resolution."""

    def __init__(self, type: Any = None) -> None:
        d = get_default_dtype() if type is None else type
        name = str(d).rsplit(".", 1)[-1]
        self.dtype = name
        if name == "bfloat16":
            for key, value in _BFLOAT16_INFO.items():
                setattr(self, key, value)
            return
        if name not in _FLOAT_NP:
            raise DTypeError(f"finfo(): expected a floating point dtype, got {d}")
        info = np.finfo(_FLOAT_NP[name])
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = float(info.tiny)
        self.smallest_normal = float(info.smallest_normal)
        self.resolution = float(info.resolution)

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
            f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})"
        )


class iinfo:
    """Limits of an integer dtype: bits, max, min (bool is refused, as PyTorch)."""

    def __init__(self, type: Any) -> None:
        name = str(type).rsplit(".", 1)[-1]
        if name not in _INT_NP:
            raise DTypeError(f"iinfo(): expected an integer dtype, got {type}")
        info = np.iinfo(_INT_NP[name])
        self.dtype = name
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def set_default_dtype(d: Any) -> None:
    """Sets the dtype of Python floats in tensors and of floating factories (float32 or float64;
    float16 and bfloat16 are storage dtypes here and are refused as the default)."""
    _core._set_default_dtype(d)


def get_default_dtype() -> Any:
    """The dtype of Python floats in tensors and of floating factories (float32 unless set)."""
    return _core._get_default_dtype()


def is_floating_point_dtype(d: Any) -> bool:
    return str(d).rsplit(".", 1)[-1] in _FLOAT_NP or str(d) == "chainrule.bfloat16"


class device:
    """A device: ``chainrule.device("cpu")``. chainrule computes on the CPU only; any other device
    type is accepted here (so code can name it) and refused where a tensor would be put on it."""

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, builtins.bool):
            self.type, self.index = "cuda", type
            return
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string or a device, got {builtins.type(type).__name__}")
        name, sep, idx = type.partition(":")
        if name not in ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "privateuseone"):
            raise ArgumentError(
                "Expected one of cpu, cuda, mps, xpu, meta, hip, xla, mtia device type at start of device "
                f"string: {type}"
            )
        if sep:
            if index is not None:
                raise ArgumentError(
                    f"device(): type (string) must not include an index because index was passed: {type}"
                )
            if not idx.isdigit():
                raise ArgumentError(f"Invalid device string: '{type}'")
            index = int(idx)
        self.type, self.index = name, index

    def __repr__(self) -> str:
        return (
            f"device(type='{self.type}')"
            if self.index is None
            else f"device(type='{self.type}', index={self.index})"
        )

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple[Any, ...]:
        return (device, (self.type, self.index))

    def __enter__(self) -> device:
        _core._check_device(self, "device")
        return self

    def __exit__(self, *exc: object) -> None:
        return None


_CPU = device("cpu")


def _no_cuda(*args: Any, **kwargs: Any) -> Any:
    raise ArgumentError(
        "chainrule runs on the CPU only: CUDA is not available (chainrule.cuda.is_available() is False)"
    )


def _no_accelerator(*args: Any, **kwargs: Any) -> Any:
    raise ArgumentError("Cannot access accelerator device when none is available (chainrule runs on the CPU)")


def _cuda_module() -> types.ModuleType:
    m = types.ModuleType("chainrule.cuda", "CPU-only answers to torch.cuda's queries.")
    m.is_available = lambda: False  # type: ignore[attr-defined]
    m.device_count = lambda: 0  # type: ignore[attr-defined]
    m.is_initialized = lambda: False  # type: ignore[attr-defined]
    m.is_bf16_supported = lambda *a, **k: False  # type: ignore[attr-defined]
    m.manual_seed = lambda seed: None  # type: ignore[attr-defined]
    m.manual_seed_all = lambda seed: None  # type: ignore[attr-defined]
    m.seed = lambda: None  # type: ignore[attr-defined]
    m.seed_all = lambda: None  # type: ignore[attr-defined]
    m.synchronize = _no_cuda  # type: ignore[attr-defined]  # PyTorch without CUDA raises too
    m.empty_cache = lambda: None  # type: ignore[attr-defined]
    m.current_device = _no_cuda  # type: ignore[attr-defined]
    m.get_device_name = _no_cuda  # type: ignore[attr-defined]
    m.set_device = _no_cuda  # type: ignore[attr-defined]
    m.memory_allocated = lambda device=None: 0  # type: ignore[attr-defined]
    m.max_memory_allocated = lambda device=None: 0  # type: ignore[attr-defined]
    m.reset_peak_memory_stats = lambda device=None: None  # type: ignore[attr-defined]
    return m


def _accelerator_module() -> types.ModuleType:
    m = types.ModuleType(
        "chainrule.accelerator", "torch.accelerator's queries: no accelerator, the CPU computes."
    )
    m.is_available = lambda: False  # type: ignore[attr-defined]
    m.device_count = lambda: 0  # type: ignore[attr-defined]
    m.current_accelerator = lambda check_available=False: None  # type: ignore[attr-defined]
    m.synchronize = _no_accelerator  # type: ignore[attr-defined]
    return m


cuda = _cuda_module()
accelerator = _accelerator_module()


# ---- Tensor: device and dtype conversions ---------------------------------------------------------------
_core_to = Tensor.to
_core_shape = Tensor.shape
_core_size = Tensor.size


def _parse_to(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    copy = kwargs.pop("copy", False)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, device)) or (isinstance(a, int) and not isinstance(a, builtins.bool)):
            dev = a
        elif isinstance(a, builtins.bool):
            pass  # non_blocking / copy given positionally
        elif a is not None:
            dtype = a
    return (dev, dtype), copy


def _to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """self.to(dtype), to(device), to(device, dtype), to(other), to(device=..., dtype=...,
    non_blocking=..., copy=...): self itself when nothing changes (unless copy=True)."""
    (dev, dtype), copy = _parse_to(args, dict(kwargs))
    _core._check_device(dev, "to")
    out = self if dtype is None else _core_to(self, dtype)
    if copy and out is self:
        out = self.clone()
    return out


def _cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    """self (it already is on the CPU)."""
    return self


def _cuda(self: Tensor, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Tensor:
    return _no_cuda()


def _device_of(self: Tensor) -> device:
    return _CPU


def _is_cpu(self: Tensor) -> bool:
    return True


def _is_cuda(self: Tensor) -> bool:
    return False


def _get_device(self: Tensor) -> int:
    """-1: the tensor is in CPU memory (PyTorch's convention)."""
    return -1


def _shape(self: Tensor) -> Size:
    return Size(_core_shape.__get__(self))


def _size(self: Tensor, dim: int | None = None) -> Any:
    if dim is None:
        return Size(_core_size(self))
    return _core_size(self, dim)


for _name, _fn in [("to", _to), ("cpu", _cpu), ("cuda", _cuda), ("size", _size), ("get_device", _get_device)]:
    _fn.__name__ = _name
    _fn.__qualname__ = f"Tensor.{_name}"
    setattr(Tensor, _name, _fn)
for _name, _getter, _doc in [
    ("device", _device_of, "The tensor's device: always chainrule.device('cpu')."),
    ("shape", _shape, "The tensor's shape, a chainrule.Size."),
    ("is_cpu", _is_cpu, "True: chainrule tensors live in CPU memory."),
    ("is_cuda", _is_cuda, "False: chainrule has no CUDA tensors."),
]:
    setattr(Tensor, _name, property(_getter, doc=_doc))
