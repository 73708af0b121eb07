"""``chainrule.compiler``: the helpers of ``torch.compiler`` that apply to ``chainrule.compile``."""

from __future__ import annotations

from chainrule import _core
from chainrule._compile import _LIVE, compile

__all__ = ["compile", "reset", "is_compiling", "is_dynamo_compiling"]


def reset() -> None:
    """Forgets the traces of every compiled function and module: each traces again on its next
    call (``torch.compiler.reset``)."""
    for fn in list(_LIVE):
        fn.reset()


def is_compiling() -> bool:
    """True while a compiled function is being traced (its first call with given inputs), so that
    code can leave out work it only wants to run eagerly; False otherwise, replays included."""
    return bool(_core._is_tracing())


def is_dynamo_compiling() -> bool:
    """The same as ``is_compiling`` (chainrule has one tracer)."""
    return is_compiling()
