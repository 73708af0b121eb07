"""chainrule.save / chainrule.load: checkpoints in the safetensors layout, never pickle.

File layout (https://github.com/huggingface/safetensors):

    8 bytes   little-endian u64 N: length of the header
    N bytes   JSON header: {name: {"dtype": "F32"|"F64"|"F16"|"BF16"|"I64"|"I32"|"BOOL", "shape": [...],
                                   "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
    rest      raw little-endian tensor data; offsets are relative to the start of this part

Any nesting of dicts, lists and tuples holding tensors and plain values (int, float, str, bool,
None) is saved: tensors become entries of the header (named after their path, so a flat
``{name: tensor}`` state dict keeps its names and loads with ``safetensors.numpy.load_file``),
and the structure, with the type of every key and value (an optimizer state dict's int keys stay
ints), is a JSON string in ``__metadata__["chainrule"]``. ``load`` checks every size and offset
against the file before allocating anything, rejects malformed files with ValueError and never
executes code. Its checks of the layout are at least as strict as the ``safetensors`` package's, so
no file reads one way here and another way there: duplicate keys anywhere in the header are
rejected (JSON parsers disagree on which duplicate wins), and the data ranges, sorted by offset,
must tile the data section exactly, without overlaps or gaps and up to its last byte.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import struct
import zipfile
from typing import IO, Any, Union

import numpy as np

from chainrule import _core
from chainrule._core import Tensor

__all__ = ["save", "load"]

_DTYPES: dict[str, np.dtype[Any]] = {
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I64": np.dtype("<i8"),
    "BOOL": np.dtype("?"),
    "F16": np.dtype("<f2"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BF16": np.dtype("<u2"),  # bfloat16 has no NumPy type: its bits, the top half of a float32
}
_CODES = {
    _core.float32: "F32",
    _core.float64: "F64",
    _core.int64: "I64",
    _core.bool: "BOOL",
    _core.float16: "F16",
    _core.int32: "I32",
    _core.int16: "I16",
    _core.int8: "I8",
    _core.uint8: "U8",
    _core.bfloat16: "BF16",
}
_META_KEY = "chainrule"
_FORMAT_VERSION = 1
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors limit

# A path, or a binary file object (written to by save, read from by load).
FileLike = Union[str, "os.PathLike[str]", IO[bytes]]


# ---- save ---------------------------------------------------------------------------------------
class _Writer:
    def __init__(self) -> None:
        self.tensors: dict[str, Tensor] = {}
        self.by_id: dict[int, str] = {}

    def name_for(self, t: Tensor, path: str) -> str:
        if id(t) in self.by_id:
            return self.by_id[id(t)]
        name = path or "tensor"
        k = 1
        while name in self.tensors or name == "__metadata__":
            name = f"{path}#{k}"
            k += 1
        self.tensors[name] = t
        self.by_id[id(t)] = name
        return name

    def encode(self, obj: Any, path: str) -> Any:
        if isinstance(obj, Tensor):
            node: dict[str, Any] = {"T": self.name_for(obj, path)}
            if obj.requires_grad:
                node["g"] = True
            return node
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"F": repr(obj)}
        if isinstance(obj, (np.integer, np.floating, np.bool_)):
            return self.encode(obj.item(), path)
        if isinstance(obj, list):
            return {"L": [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, tuple):
            return {"U": [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if isinstance(k, Tensor) or isinstance(k, (list, dict)):
                    raise TypeError(f"chainrule.save: dict keys must be plain values, got {type(k).__name__}")
                items.append([self.encode(k, ""), self.encode(v, _join(path, k))])
            return {"D": items}
        if isinstance(obj, np.ndarray):
            raise TypeError("chainrule.save: convert NumPy arrays to tensors first (chainrule.from_numpy)")
        raise TypeError(
            f"chainrule.save: cannot save an object of type {type(obj).__name__}; supported are "
            "tensors, dicts, lists, tuples, int, float, str, bool and None"
        )


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def save(obj: Any, f: FileLike) -> None:
    """Writes ``obj`` (a tensor, or dicts/lists/tuples of tensors and plain values) to the path or
    binary file object ``f`` in the safetensors layout."""
    w = _Writer()
    structure = w.encode(obj, "")
    header: dict[str, Any] = {}
    blobs: list[bytes] = []
    offset = 0
    for name, t in w.tensors.items():
        code = _CODES.get(t.dtype)
        if code is None:
            raise TypeError(f"chainrule.save: unsupported dtype {t.dtype}")
        if code == "BF16":  # exact: every bfloat16 is a float32 whose low 16 bits are zero
            wide = np.ascontiguousarray(np.asarray(t.detach().float()), dtype=np.float32)
            arr = (wide.view(np.uint32) >> 16).astype(_DTYPES[code])
        else:
            arr = np.array(np.asarray(t.detach()), dtype=_DTYPES[code], order="C", copy=True)
        data = arr.tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {
        "format": "pt",
        _META_KEY: json.dumps(
            {"version": _FORMAT_VERSION, "root": structure}, separators=(",", ":"), allow_nan=False
        ),
    }
    raw = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # keep the data 8-byte aligned, as safetensors writers do
    payload = [struct.pack("<Q", len(raw)), raw, *blobs]
    if hasattr(f, "write"):
        for part in payload:
            f.write(part)
        return
    tmp = os.fspath(f) + ".tmp"
    fh = open(tmp, "wb")  # from here on the temporary file is ours to remove
    try:
        with fh:
            for part in payload:
                fh.write(part)
        os.replace(tmp, f)  # a crash mid-write never leaves a half-written checkpoint behind
    except BaseException:
        # A failed write (disk full, interrupt) or move (the target is a directory) leaves
        # neither a partial file nor the temporary one behind; an older checkpoint stays intact.
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


# ---- load ---------------------------------------------------------------------------------------
def _bad(msg: str) -> ValueError:
    return ValueError(f"chainrule.load: {msg}")


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for json.loads, which would otherwise keep the last duplicate."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _read_all(f: FileLike) -> bytes:
    if hasattr(f, "read"):
        return f.read()
    with open(f, "rb") as fh:
        return fh.read()


def _parse(buf: bytes) -> tuple[dict[str, Tensor], dict[str, str]]:
    size = len(buf)
    if size < 8:
        raise _bad(f"file is truncated ({size} bytes; a header length needs 8)")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > size - 8 or n > _MAX_HEADER:
        raise _bad(
            f"header length {n} exceeds the file size ({size} bytes) or the 100 MB limit; "
            "the file is truncated or not a safetensors file"
        )
    try:
        header = json.loads(buf[8 : 8 + n].decode("utf-8"), object_pairs_hook=_unique_keys)
    except _DuplicateKey as e:
        raise _bad(f"header has the key {e.key!r} more than once") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _bad(f"header is not valid JSON ({e.__class__.__name__})") from None
    if not isinstance(header, dict):
        raise _bad("header must be a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise _bad("__metadata__ must map strings to strings")
    data_start = 8 + n
    data_len = size - data_start
    spans = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) - {"dtype", "shape", "data_offsets"} or len(info) != 3:
            raise _bad(f"entry {name!r} must have exactly dtype, shape and data_offsets")
        dt, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if dt not in _DTYPES:
            raise _bad(f"entry {name!r} has unsupported dtype {dt!r} (expected one of {sorted(_DTYPES)})")
        if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
            raise _bad(f"entry {name!r} has an invalid shape {shape!r}")
        if (
            not isinstance(offs, list)
            or len(offs) != 2
            or not all(type(o) is int for o in offs)
            or not 0 <= offs[0] <= offs[1] <= data_len
        ):
            raise _bad(
                f"entry {name!r} has data_offsets {offs!r} outside the data section ({data_len} bytes)"
            )
        numel = math.prod(shape)
        if numel * _DTYPES[dt].itemsize != offs[1] - offs[0]:
            raise _bad(
                f"entry {name!r}: shape {shape} of {dt} needs {numel * _DTYPES[dt].itemsize} bytes but "
                f"data_offsets span {offs[1] - offs[0]}"
            )
        spans.append((offs[0], offs[1], name))
    # As the safetensors format requires: sorted by (begin, end), each range starts where the
    # previous one ended, the first at 0, and the last ends with the data section.
    spans.sort()
    covered, prev = 0, None
    for begin, end, name in spans:
        if begin < covered:
            raise _bad(f"entries {prev!r} and {name!r} overlap in the data section")
        if begin > covered:
            raise _bad(
                f"entry {name!r} starts at byte {begin} of the data section but the data before it "
                f"ends at byte {covered}; the data ranges must be contiguous, without gaps"
            )
        covered, prev = end, name
    if covered != data_len:
        raise _bad(
            f"the tensors cover {covered} bytes of the data section but it has {data_len}; "
            "the data ranges must cover it completely"
        )
    tensors = {}
    for name, info in header.items():
        dt = _DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        if dt == np.dtype("?"):
            raw = np.frombuffer(buf, dtype=np.uint8, count=end - begin, offset=data_start + begin)
            if raw.size and raw.max() > 1:
                raise _bad(f"entry {name!r}: BOOL data holds bytes other than 0 and 1")
        arr = np.frombuffer(buf, dtype=dt, count=(end - begin) // dt.itemsize, offset=data_start + begin)
        arr = arr.astype(dt.newbyteorder("="), copy=True).reshape(info["shape"])
        if info["dtype"] == "BF16":
            wide = (arr.astype(np.uint32) << 16).view(np.float32)
            tensors[name] = _core.from_numpy(wide).to(_core.bfloat16)
        else:
            tensors[name] = _core.from_numpy(arr)  # arr is a private native-endian copy
    return tensors, meta


class _Reader:
    def __init__(self, tensors: dict[str, Tensor]):
        self.tensors = tensors

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, dict) and len(node) in (1, 2):
            if "T" in node:
                name = node["T"]
                if not isinstance(name, str) or name not in self.tensors:
                    raise _bad(f"structure refers to a missing tensor {name!r}")
                t = self.tensors[name]
                if node.get("g") is True and t.is_floating_point() and not t.requires_grad:
                    t.requires_grad_(True)
                return t
            if len(node) == 1:
                ((tag, v),) = node.items()
                if tag == "F" and v in ("nan", "inf", "-inf"):
                    return float(v)
                if tag in ("L", "U") and isinstance(v, list):
                    items = [self.decode(x) for x in v]
                    return items if tag == "L" else tuple(items)
                if tag == "D" and isinstance(v, list):
                    out = {}
                    for kv in v:
                        if not isinstance(kv, list) or len(kv) != 2:
                            raise _bad("malformed dict entry in the structure")
                        k = self.decode(kv[0])
                        try:
                            out[k] = self.decode(kv[1])
                        except TypeError:
                            raise _bad("unhashable dict key in the structure") from None
                    return out
        raise _bad(f"malformed structure node {str(node)[:80]!r}")


# ---- files that are not safetensors -------------------------------------------------------------
# PyTorch's legacy torch.save format starts with this number, pickled with protocol 2.
_TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."


def _foreign_format(buf: bytes) -> str | None:
    """What a file that failed to parse is, when it is recognisably a pickle-based checkpoint:
    "zip" (torch.save's zip archive, holding data.pkl), "legacy" (torch.save before the zip
    format, or with ``_use_new_zipfile_serialization=False``) or "pickle" (any other pickle)."""
    if buf[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(buf)) as z:
                names = z.namelist()
        except Exception:  # unreadable as a zip archive: the original error stands
            return None
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            return "zip"
        return None
    if buf.startswith(_TORCH_LEGACY_MAGIC):
        return "legacy"
    if len(buf) >= 2 and buf[0] == 0x80 and 2 <= buf[1] <= 5:
        return "pickle"
    return None


def _conversion_hint(kind: str, f: FileLike) -> str:
    if isinstance(f, (str, os.PathLike)):
        name = src = repr(os.fspath(f))
    else:
        name, src = "this file", "path"
    what = {
        "zip": "a PyTorch checkpoint written by torch.save (a zip archive holding a pickle, data.pkl)",
        "legacy": "a PyTorch checkpoint written by torch.save in its legacy pickle format",
        "pickle": "a Python pickle (such as an old torch.save checkpoint)",
    }[kind]
    return (
        f"{name} is {what}, not a safetensors file. chainrule reads only safetensors files and "
        "never unpickles, since unpickling can run arbitrary code. Convert the checkpoint once "
        "where PyTorch is installed (a state dict: use model.state_dict() for a pickled module):\n"
        "    import torch\n"
        "    from safetensors.torch import save_file\n"
        f'    sd = torch.load({src}, map_location="cpu")\n'
        '    save_file({k: v.contiguous() for k, v in sd.items()}, "model.safetensors")\n'
        "or, without the safetensors package:\n"
        "    import chainrule, torch\n"
        f'    sd = torch.load({src}, map_location="cpu")\n'
        "    chainrule.save({k: chainrule.from_numpy(v.detach().numpy()) for k, v in sd.items()},\n"
        '                   "model.safetensors")\n'
        'then chainrule.load("model.safetensors"). chainrule reads float32, float64, int64 and '
        "bool tensors: convert others first (v.float() for float16 or bfloat16, v.long() for int32)."
    )


def load(f: FileLike, map_location: Any = None, weights_only: bool = True) -> Any:
    """Reads an object written by ``save`` (or any safetensors file with F32/F64/F16/BF16/I64/I32/BOOL
    tensors, returned as ``{name: tensor}``). Raises ValueError for a truncated, corrupt or
    malformed file, and says how to convert one written by ``torch.save`` (a pickle, which
    chainrule never loads). ``map_location`` and ``weights_only`` are accepted for compatibility:
    tensors live on the CPU and no code is ever executed."""
    buf = _read_all(f)
    try:
        tensors, meta = _parse(buf)
    except ValueError:
        kind = _foreign_format(buf)
        if kind is None:
            raise
        raise _bad(_conversion_hint(kind, f)) from None
    if _META_KEY not in meta:
        return tensors
    try:
        doc = json.loads(meta[_META_KEY], object_pairs_hook=_unique_keys)
    except _DuplicateKey as e:
        raise _bad(f"the chainrule structure in __metadata__ has the key {e.key!r} more than once") from None
    except (ValueError, RecursionError):
        raise _bad("the chainrule structure in __metadata__ is not valid JSON") from None
    if not isinstance(doc, dict) or "root" not in doc:
        raise _bad("the chainrule structure in __metadata__ has no root")
    try:
        return _Reader(tensors).decode(doc["root"])
    except RecursionError:
        raise _bad("the structure is nested too deeply") from None
