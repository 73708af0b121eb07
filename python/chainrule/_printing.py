"""Tensor printing in PyTorch's layout: a common number format for all elements (fixed with 4
decimals, integers written ``1.``, scientific when the magnitudes span too much), right-aligned
columns, rows wrapped at the line width, long tensors summarized with ``...``.
``set_printoptions`` adjusts it as ``torch.set_printoptions`` does."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "format_tensor_data"]


@dataclass
class _Options:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_PROFILES: dict[str, dict[str, Any]] = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}

PRINT_OPTS = _Options()


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Printing options: digits after the point, the element count above which a tensor is
    summarized, items kept at each end when summarized, the line width, a profile ("default",
    "short", "full") and sci_mode (True/False forces scientific/fixed, None decides per tensor)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions(): unknown profile '{profile}' (default, short or full)")
        for k, v in _PROFILES[profile].items():
            setattr(PRINT_OPTS, k, v)
    if precision is not None:
        PRINT_OPTS.precision = int(precision)
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = int(edgeitems)
    if linewidth is not None:
        PRINT_OPTS.linewidth = int(linewidth)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current printing options."""
    return dict(
        precision=PRINT_OPTS.precision,
        threshold=PRINT_OPTS.threshold,
        edgeitems=PRINT_OPTS.edgeitems,
        linewidth=PRINT_OPTS.linewidth,
        sci_mode=PRINT_OPTS.sci_mode,
    )


class _Formatter:
    """One number format for every element that will be printed."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not self.floating:
            self.width = max((len(self._plain(v)) for v in values.reshape(-1)), default=1)
            return
        finite = values[np.isfinite(values)].astype(np.float64)
        signed = finite[finite != 0]
        nonzero = np.abs(signed)
        p = PRINT_OPTS.precision
        if finite.size == 0:
            self.precision = p
            return
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if self.int_mode:
            if nonzero.size and (nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1.0e8):
                self.sci_mode = True
        elif nonzero.size and (
            nonzero.max() / nonzero.min() > 1000.0 or nonzero.max() > 1.0e8 or nonzero.min() < 1.0e-4
        ):
            self.sci_mode = True
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode
        self.precision = p
        # The column width comes from the non-zero finite values only, as PyTorch's.
        self.width = max((len(self.format_value(v, pad=False)) for v in signed), default=1)

    @staticmethod
    def _plain(v: Any) -> str:
        if isinstance(v, (bool, np.bool_)):
            return "True" if v else "False"
        return str(int(v))

    def format_value(self, v: Any, pad: bool = True) -> str:
        if not self.floating:
            s = self._plain(v)
        else:
            f = float(v)
            if math.isnan(f):
                s = "nan"
            elif math.isinf(f):
                s = "inf" if f > 0 else "-inf"
            elif self.sci_mode:
                s = f"{f:.{self.precision}e}"
            elif self.int_mode:
                s = f"{f:.0f}"
                if s not in ("inf", "-inf", "nan"):
                    s += "."
            else:
                s = f"{f:.{self.precision}f}"
        return s.rjust(self.width) if pad else s


def _summarized_items(arr: np.ndarray, summarize: bool) -> np.ndarray:
    """The elements that will be printed (both ends of each dim when summarized)."""
    if not summarize or arr.ndim == 0:
        return arr.reshape(-1)
    e = PRINT_OPTS.edgeitems
    parts = []
    if arr.shape[0] > 2 * e:
        rows = [*arr[:e], *arr[-e:]]
    else:
        rows = list(arr)
    for r in rows:
        parts.append(_summarized_items(np.asarray(r), summarize))
    return np.concatenate(parts) if parts else np.array([], dtype=arr.dtype)


def _format_1d(arr: np.ndarray, fmt: _Formatter, indent: int, summarize: bool) -> str:
    e = PRINT_OPTS.edgeitems
    per_line = max(int(math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width + 2))), 1)
    if summarize and arr.shape[0] > 2 * e:
        items = [fmt.format_value(v) for v in arr[:e]] + [" ..."] + [fmt.format_value(v) for v in arr[-e:]]
    else:
        items = [fmt.format_value(v) for v in arr]
    lines = [items[i : i + per_line] for i in range(0, len(items), per_line)]
    body = (",\n" + " " * (indent + 1)).join(", ".join(line) for line in lines)
    return "[" + body + "]"


def _format_nd(arr: np.ndarray, fmt: _Formatter, indent: int, summarize: bool) -> str:
    if arr.ndim == 0:
        return fmt.format_value(arr.item(), pad=False)
    if arr.ndim == 1:
        return _format_1d(arr, fmt, indent, summarize)
    e = PRINT_OPTS.edgeitems
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    if summarize and arr.shape[0] > 2 * e:
        rows = (
            [_format_nd(arr[i], fmt, indent + 1, summarize) for i in range(e)]
            + ["..."]
            + [_format_nd(arr[i], fmt, indent + 1, summarize) for i in range(arr.shape[0] - e, arr.shape[0])]
        )
    else:
        rows = [_format_nd(arr[i], fmt, indent + 1, summarize) for i in range(arr.shape[0])]
    return "[" + sep.join(rows) + "]"


def add_suffixes(text: str, suffixes: list[str], indent: int = 7) -> str:
    """``text`` (which starts with "tensor(") with ", suffix" parts, wrapped at the line width."""
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(parts) + ")"


def format_tensor_data(arr: np.ndarray, indent: int = 7) -> str:
    """The data part of a tensor's repr (what goes inside ``tensor(...)``)."""
    if arr.size == 0:
        return "[]"
    summarize = arr.size > PRINT_OPTS.threshold
    fmt = _Formatter(_summarized_items(arr, summarize))
    return _format_nd(arr, fmt, indent, summarize)
