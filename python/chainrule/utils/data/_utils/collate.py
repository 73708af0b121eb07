"""Collation: merging samples into batches (``default_collate``) and converting single samples
(``default_convert``), with torch.utils.data's rules.

``collate(batch, collate_fn_map=...)`` dispatches on the type of the batch's first element: an
exact type match in ``collate_fn_map`` first, then the first entry the element is an instance of,
then the containers (mappings, namedtuples, sequences), which are collated field by field.

chainrule has four dtypes (float32, float64, int64, bool), so NumPy arrays and scalars of other
dtypes become the nearest of them (float16 -> float32, narrow or unsigned ints -> int64).
"""

from __future__ import annotations

import collections.abc
import copy
from collections.abc import Sequence
from typing import Any, Callable, Union

import numpy as np

import chainrule
from chainrule._core import Tensor

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

CollateFnMap = dict[Union[type, tuple[type, ...]], Callable[..., Any]]

_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _string_dtype(a: np.ndarray | np.generic) -> bool:
    """Arrays of strings, bytes or Python objects cannot become tensors."""
    return a.dtype.kind in "SaUO"


def _array_to_tensor(a: Any) -> Tensor:
    """A tensor copy of a NumPy array or scalar, keeping 0-d values 0-d."""
    a = np.asarray(a)
    t = chainrule.tensor(a)
    return t.reshape(()) if a.ndim == 0 else t


# ---- the per-type rules ----------------------------------------------------------------------------
def collate_tensor_fn(batch: Sequence[Tensor], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Tensors are stacked along a new first dimension (all must have one shape)."""
    return chainrule.stack(list(batch))


def collate_numpy_array_fn(batch: Sequence[np.ndarray], *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """NumPy arrays become tensors and are stacked; arrays of strings or objects are refused."""
    if _string_dtype(batch[0]):
        raise TypeError(_ERROR.format(batch[0].dtype))
    return collate([_array_to_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(
    batch: Sequence[np.generic], *, collate_fn_map: CollateFnMap | None = None
) -> Tensor:
    """NumPy scalars become a 1-d tensor of their dtype."""
    return chainrule.tensor(np.array(batch))


def collate_float_fn(batch: Sequence[float], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Python floats become a float64 tensor (as PyTorch does)."""
    return chainrule.tensor(list(batch), dtype=chainrule.float64)


def collate_int_fn(batch: Sequence[int], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Python ints become an int64 tensor, bools a bool tensor."""
    return chainrule.tensor(list(batch))


def collate_str_fn(batch: Sequence[str | bytes], *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """Strings and bytes are left as they are (the sequence of them is the batch)."""
    return batch


default_collate_fn_map: CollateFnMap = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


# ---- dispatch ----------------------------------------------------------------------------------------
def collate(batch: Sequence[Any], *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """Collates ``batch`` (a sequence of samples) with the rules in ``collate_fn_map``.

    The first element decides: a type in ``collate_fn_map`` (exact match, then ``isinstance``)
    uses its function; a mapping gives a mapping of the same type with each key collated; a
    namedtuple gives the same namedtuple with each field collated; any other sequence (all of the
    same length, else ``RuntimeError``) gives a list of collated positions, or the same sequence
    type when it can be built from a list (tuples become lists, as in PyTorch).
    Anything else raises ``TypeError``. An empty batch raises ``IndexError``.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for key, fn in collate_fn_map.items():
            if isinstance(elem, key):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                # A copy of the first sample keeps the mapping's type and any extra state it has.
                out: Any = copy.copy(elem)
                out.update(collated)
                return out
            return elem_type(collated)
        except TypeError:  # a mapping type that cannot be built or updated from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        positions = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return positions
        try:
            return elem_type(positions)
        except TypeError:  # a sequence type that cannot be built from a list
            return positions
    raise TypeError(_ERROR.format(elem_type))


def default_collate(batch: Sequence[Any]) -> Any:
    """Merges a list of samples into a batch, as ``torch.utils.data.default_collate``.

    Tensors are stacked (new first dimension); NumPy arrays become tensors and are stacked; NumPy
    scalars give a tensor of their dtype; Python floats a float64 tensor, ints an int64 tensor and
    bools a bool tensor; strings and bytes stay as they are. Dicts (any mapping), namedtuples,
    tuples and lists are collated position by position: ``[(x0, y0), (x1, y1)]`` gives
    ``[collate([x0, x1]), collate([y0, y1])]`` (a list for tuples, the same type for namedtuples
    and lists). Shapes that differ raise ``RuntimeError``; unsupported types ``TypeError``.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """Converts one sample without batching (the ``collate_fn`` when ``batch_size=None``), as
    ``torch.utils.data.default_convert``: NumPy arrays (not of strings or objects) and NumPy
    scalars become tensors; mappings, namedtuples and sequences are converted element by element
    (tuples become lists); tensors, numbers, strings and anything else are returned as they are."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.bool_, np.number)):
        return data if _string_dtype(data) else _array_to_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                out: Any = copy.copy(data)
                out.update(converted)
                return out
            mapping_type: Any = type(data)
            return mapping_type(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        items = [default_convert(d) for d in data]
        try:
            return type(data)(items)  # type: ignore[call-arg]
        except TypeError:
            return items
    return data
