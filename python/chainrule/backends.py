"""``chainrule.backends``: PyTorch's backend queries, answered for a CPU-only engine."""

from __future__ import annotations

import types

from chainrule import _core

__all__ = ["cpu", "cuda", "cudnn", "mps", "openmp"]


def _ns(name: str, doc: str, **attrs: object) -> types.ModuleType:
    m = types.ModuleType(f"chainrule.backends.{name}", doc)
    for k, v in attrs.items():
        setattr(m, k, v)
    return m


mps = _ns("mps", "Apple GPUs: not available.", is_available=lambda: False, is_built=lambda: False)
cuda = _ns("cuda", "CUDA: not available.", is_built=lambda: False)
cudnn = _ns(
    "cudnn",
    "cuDNN: not available; its flags are accepted so that scripts setting them run.",
    is_available=lambda: False,
    enabled=False,
    benchmark=False,
    deterministic=False,
)
openmp = _ns("openmp", "OpenMP intra-op threads.", is_available=lambda: bool(_core._has_openmp()))
cpu = _ns("cpu", "The CPU backend.", get_cpu_capability=lambda: "DEFAULT")
