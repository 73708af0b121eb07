"""chainrule.save / chainrule.load: round trips, safetensors compatibility, hostile files."""

import errno
import io
import json
import os
import struct

import numpy as np
import pytest

import chainrule as cr
import chainrule.optim as optim
import chainrule.serialization as serialization
from chainrule.serialization import load, save


def _scalar(v, dtype=np.float32):
    return cr.from_numpy(np.array(v, dtype=dtype))


def _assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, cr.Tensor):
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(np.asarray(a.detach()), np.asarray(b.detach()))
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for k in a:
            assert type(k) is type(next(kk for kk in b if kk == k))
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert a == b or (a != a and b != b)


def test_nested_round_trip_keeps_types_values_and_dtypes(tmp_path):
    obj = {
        "weights": {"w": cr.tensor(np.arange(6.0).reshape(2, 3)), "b": cr.tensor([0.5, -1.5])},
        "ints": cr.tensor([[1, 2], [3, -4]]),
        "mask": cr.tensor([True, False, True]),
        "scalar": _scalar(2.5),
        "empty": cr.zeros(0, 4),
        "state": {0: {"step": _scalar(3.0), "buf": cr.tensor(np.ones(3))}, 7: {}},
        "groups": [
            {
                "lr": 0.1,
                "betas": (0.9, 0.999),
                "params": [0, 7],
                "nesterov": False,
                "name": "head",
                "none": None,
                "inf": float("inf"),
                "nan": float("nan"),
            }
        ],
        "epoch": 12,
        "tuple": (1, "two", 3.0),
    }
    save(obj, tmp_path / "ckpt.safetensors")
    back = load(tmp_path / "ckpt.safetensors")
    _assert_same(obj, back)
    assert back["weights"]["w"].dtype == cr.float64 and back["weights"]["b"].dtype == cr.float32
    assert back["scalar"].shape == ()


def test_file_object_round_trip_and_requires_grad_kept():
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    buf = io.BytesIO()
    save({"p": p, "same": p}, buf)
    back = load(io.BytesIO(buf.getvalue()))
    assert back["p"].requires_grad and back["p"] is back["same"]


def test_tensor_only_file_loads_with_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    tensors = {
        "layer.weight": cr.tensor(np.random.default_rng(0).standard_normal((3, 4))),
        "layer.bias": cr.tensor([1.0, 2.0, 3.0]),
        "count": cr.tensor([4, 5]),
        "flags": cr.tensor([True, False]),
    }
    save(tensors, tmp_path / "m.safetensors")
    arrays = st.load_file(str(tmp_path / "m.safetensors"))
    assert sorted(arrays) == sorted(tensors)
    for k, t in tensors.items():
        assert arrays[k].dtype == np.asarray(t).dtype
        np.testing.assert_array_equal(arrays[k], np.asarray(t))


def test_file_written_by_safetensors_loads_as_dict(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    st.save_file({"a": np.arange(4, dtype=np.float32), "b": np.eye(2)}, str(tmp_path / "x.safetensors"))
    back = load(tmp_path / "x.safetensors")
    assert sorted(back) == ["a", "b"] and back["b"].dtype == cr.float64
    np.testing.assert_array_equal(np.asarray(back["a"]), np.arange(4, dtype=np.float32))


def test_optimizer_state_dict_round_trip_resumes_bitwise(tmp_path):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    target = cr.tensor(rng.standard_normal((3, 2)))

    def train(opt, params, steps):
        for _ in range(steps):
            opt.zero_grad()
            d = params[0] - target
            ((d * d).sum() + (params[1] * params[1] * params[1]).sum()).backward()
            opt.step()

    ref = [cr.tensor(x.copy(), requires_grad=True) for x in init]
    train(optim.Adam(ref, lr=0.05, amsgrad=True), ref, 20)

    params = [cr.tensor(x.copy(), requires_grad=True) for x in init]
    opt = optim.Adam(params, lr=0.05, amsgrad=True)
    train(opt, params, 10)
    save({"params": params, "optim": opt.state_dict()}, tmp_path / "ckpt")
    ck = load(tmp_path / "ckpt")
    assert sorted(ck["optim"]["state"]) == [0, 1]
    resumed = [cr.tensor(np.asarray(t).copy(), requires_grad=True) for t in ck["params"]]
    opt2 = optim.Adam(resumed, lr=0.05, amsgrad=True)
    opt2.load_state_dict(ck["optim"])
    train(opt2, resumed, 10)
    for a, b in zip(resumed, ref):
        np.testing.assert_array_equal(np.asarray(a.detach()), np.asarray(b.detach()))


def test_saving_unsupported_objects_raises_type_error(tmp_path):
    with pytest.raises(TypeError, match="cannot save an object of type object"):
        save({"x": object()}, tmp_path / "f")
    with pytest.raises(TypeError, match="NumPy arrays"):
        save([np.zeros(2)], tmp_path / "f")


class _FailingFile:
    """Stands in for the file save writes: the ``fail_at``-th write raises ``exc``."""

    def __init__(self, fh, fail_at, exc):
        self.fh, self.fail_at, self.exc, self.calls = fh, fail_at, exc, 0

    def write(self, b):
        self.calls += 1
        if self.calls == self.fail_at:
            raise self.exc
        return self.fh.write(b)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


@pytest.mark.parametrize(
    "exc",
    [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()],
    ids=["enospc", "interrupt"],
)
def test_failed_write_leaves_no_temporary_file_and_keeps_old_checkpoint(tmp_path, monkeypatch, exc):
    path = tmp_path / "ckpt.safetensors"
    save({"w": cr.tensor([1.0, 2.0])}, path)
    real_open = open
    monkeypatch.setattr(
        serialization, "open", lambda p, mode: _FailingFile(real_open(p, mode), 3, exc), raising=False
    )
    with pytest.raises(type(exc)):
        save({"w": cr.tensor([5.0, 6.0, 7.0])}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    assert load(path)["w"].tolist() == [1.0, 2.0]


def test_failed_save_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "ckpt"
    target.mkdir()  # the final move onto a directory fails after the data is written
    with pytest.raises(OSError):
        save({"w": cr.tensor([1.0])}, target)
    assert os.listdir(tmp_path) == ["ckpt"] and os.listdir(target) == []
    with pytest.raises(TypeError):
        save({"x": object()}, tmp_path / "f")
    with pytest.raises(FileNotFoundError):
        save({"w": cr.tensor([1.0])}, tmp_path / "missing" / "f")
    assert os.listdir(tmp_path) == ["ckpt"]


# ---- hostile and corrupt files -----------------------------------------------------------------
def _file(header, data=b"", raw_header=None, length=None):
    raw = raw_header if raw_header is not None else json.dumps(header).encode()
    n = len(raw) if length is None else length
    return struct.pack("<Q", n) + raw + data


def _load_bytes(b):
    return load(io.BytesIO(b))


def _good():
    buf = io.BytesIO()
    save({"a": cr.tensor([1.0, 2.0]), "b": cr.tensor([3, 4])}, buf)
    return buf.getvalue()


def test_truncated_files_raise_value_error():
    good = _good()
    with pytest.raises(ValueError, match="truncated"):
        _load_bytes(good[:5])
    with pytest.raises(ValueError, match="header length"):
        _load_bytes(good[:20])
    with pytest.raises(ValueError, match="outside the data section"):
        _load_bytes(good[:-3])


def test_huge_header_length_raises_without_allocating():
    with pytest.raises(ValueError, match="header length 18446744073709551615 exceeds"):
        _load_bytes(struct.pack("<Q", 2**64 - 1) + b"{}")


def test_non_json_header_raises_value_error():
    with pytest.raises(ValueError, match="not valid JSON"):
        _load_bytes(_file(None, raw_header=b"\xff\xfe not json"))
    with pytest.raises(ValueError, match="JSON object"):
        _load_bytes(_file([1, 2]))
    with pytest.raises(ValueError, match="not valid JSON"):
        _load_bytes(_file(None, raw_header=b"[" * 100000 + b"]" * 100000))


def test_offsets_out_of_range_raise_value_error():
    hdr = {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}
    with pytest.raises(ValueError, match="outside the data section"):
        _load_bytes(_file(hdr, b"\0" * 8))
    hdr = {"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}
    with pytest.raises(ValueError, match="outside the data section"):
        _load_bytes(_file(hdr, b"\0" * 8))
    hdr = {"a": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}
    with pytest.raises(ValueError, match="outside the data section"):
        _load_bytes(_file(hdr, b"\0" * 8))


def test_overlapping_offsets_raise_value_error():
    hdr = {
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
    }
    with pytest.raises(ValueError, match="overlap"):
        _load_bytes(_file(hdr, b"\0" * 12))


def _entry(begin, end, dtype="F32"):
    n = (end - begin) // {"F32": 4, "I64": 8}[dtype]
    return f'{{"dtype":"{dtype}","shape":[{n}],"data_offsets":[{begin},{end}]}}'


_D8 = struct.pack("<2f", 1.0, 2.0)
# (id, file, what chainrule's error says, whether the safetensors package rejects it too)
_HOSTILE = [
    (
        "dup-tensor",
        _file(None, _D8, f'{{"a":{_entry(0, 4)},"a":{_entry(4, 8)}}}'.encode()),
        "'a' more than once",
        True,
    ),
    (
        "dup-identical",
        _file(None, _D8, f'{{"a":{_entry(0, 8)},"a":{_entry(0, 8)}}}'.encode()),
        "'a' more",
        False,
    ),
    (
        "dup-field",
        _file(None, _D8, b'{"a":{"dtype":"I64","dtype":"F32","shape":[2],"data_offsets":[0,8]}}'),
        "'dtype' more than once",
        True,
    ),
    (
        "dup-metadata",
        _file(None, _D8, f'{{"__metadata__":{{}},"__metadata__":{{}},"a":{_entry(0, 8)}}}'.encode()),
        "'__metadata__' more than once",
        True,
    ),
    (
        "dup-metadata-key",
        _file(None, _D8, f'{{"__metadata__":{{"k":"1","k":"2"}},"a":{_entry(0, 8)}}}'.encode()),
        "'k' more than once",
        False,
    ),
    (
        "dup-structure-key",
        _file({"__metadata__": {"chainrule": '{"version":1,"root":{"L":[],"L":[1]}}'}}),
        "structure in __metadata__ has the key 'L' more than once",
        False,
    ),
    ("overlap", _file(None, _D8, f'{{"a":{_entry(0, 8)},"b":{_entry(4, 8)}}}'.encode()), "overlap", True),
    ("same-range", _file(None, _D8, f'{{"a":{_entry(0, 8)},"b":{_entry(0, 8)}}}'.encode()), "overlap", True),
    (
        "empty-inside",
        _file(None, _D8, f'{{"a":{_entry(0, 8)},"z":{_entry(4, 4)}}}'.encode()),
        "overlap",
        True,
    ),
    (
        "leading-gap",
        _file(None, _D8, f'{{"a":{_entry(4, 8)}}}'.encode()),
        "starts at byte 4 .* ends at byte 0",
        True,
    ),
    (
        "gap-between",
        _file(None, _D8 + _D8[:4], f'{{"a":{_entry(0, 4)},"b":{_entry(8, 12)}}}'.encode()),
        "'b' starts at byte 8 .* ends at byte 4; the data ranges must be contiguous",
        True,
    ),
    ("trailing-bytes", _file(None, _D8, f'{{"a":{_entry(0, 4)}}}'.encode()), "cover 4 bytes .* has 8", True),
    ("no-tensors-trailing", _file({}, b"xx"), "cover 0 bytes .* has 2", True),
    (
        "empty-beyond-end",
        _file(None, _D8 + b"\0" * 4, f'{{"a":{_entry(0, 8)},"z":{_entry(12, 12)}}}'.encode()),
        "starts at byte 12",
        True,
    ),
]
# Layouts both loaders accept, with the values they must both read.
_ACCEPTED = [
    (
        "reversed-order",
        _file(None, _D8, f'{{"b":{_entry(4, 8)},"a":{_entry(0, 4)}}}'.encode()),
        {"a": [1.0], "b": [2.0]},
    ),
    (
        "empty-tensors",
        _file(
            None,
            _D8,
            f'{{"y":{_entry(0, 0)},"a":{_entry(0, 4)},"z":{_entry(4, 4)},"b":{_entry(4, 8)}}}'.encode(),
        ),
        {"y": [], "a": [1.0], "z": [], "b": [2.0]},
    ),
    ("padded-header", _file(None, _D8, f'{{"a":{_entry(0, 8)}}}    '.encode()), {"a": [1.0, 2.0]}),
    ("metadata-only", _file({"__metadata__": {"k": "v"}}), {}),
]


@pytest.mark.parametrize("data, match", [c[1:3] for c in _HOSTILE], ids=[c[0] for c in _HOSTILE])
def test_hostile_layouts_raise_value_error_before_reading_data(data, match, monkeypatch):
    def no_read(*args, **kwargs):
        raise AssertionError("tensor data was read from a rejected file")

    monkeypatch.setattr(serialization.np, "frombuffer", no_read)
    with pytest.raises(ValueError, match=match):
        _load_bytes(data)


@pytest.mark.parametrize("data, expected", [c[1:] for c in _ACCEPTED], ids=[c[0] for c in _ACCEPTED])
def test_valid_layouts_load(data, expected):
    back = _load_bytes(data)
    assert {k: v.tolist() for k, v in back.items()} == expected


@pytest.mark.parametrize(
    "data, st_rejects, expected",
    [(c[1], c[3], None) for c in _HOSTILE] + [(c[1], False, c[2]) for c in _ACCEPTED],
    ids=[c[0] for c in _HOSTILE] + [c[0] for c in _ACCEPTED],
)
def test_layouts_agree_with_safetensors_package(tmp_path, data, st_rejects, expected):
    """Both loaders read a file the same way or chainrule rejects it; never the reverse."""
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "f.safetensors"
    path.write_bytes(data)
    if st_rejects:
        with pytest.raises(Exception, match="(?i)offset|duplicate|covered|incomplete"):
            st.load_file(str(path))
        return
    arrays = st.load_file(str(path))  # accepted there: chainrule reads the same values or rejects
    if expected is not None:
        assert {k: v.tolist() for k, v in arrays.items()} == expected
        assert {k: v.tolist() for k, v in load(path).items()} == expected


def test_wrong_dtype_raises_value_error():
    hdr = {"a": {"dtype": "U16", "shape": [2], "data_offsets": [0, 4]}}
    with pytest.raises(ValueError, match="unsupported dtype 'U16'"):
        _load_bytes(_file(hdr, b"\0" * 4))


def test_shape_not_matching_byte_count_raises_value_error():
    hdr = {"a": {"dtype": "F64", "shape": [3], "data_offsets": [0, 16]}}
    with pytest.raises(ValueError, match="needs 24 bytes but data_offsets span 16"):
        _load_bytes(_file(hdr, b"\0" * 16))
    hdr = {"a": {"dtype": "F64", "shape": [2**40, 2**40], "data_offsets": [0, 16]}}
    with pytest.raises(ValueError, match="needs"):
        _load_bytes(_file(hdr, b"\0" * 16))
    hdr = {"a": {"dtype": "F64", "shape": [-2, -1], "data_offsets": [0, 16]}}
    with pytest.raises(ValueError, match="invalid shape"):
        _load_bytes(_file(hdr, b"\0" * 16))


def test_malformed_entries_and_bool_bytes_raise_value_error():
    with pytest.raises(ValueError, match="exactly dtype, shape and data_offsets"):
        _load_bytes(_file({"a": {"dtype": "F32"}}))
    hdr = {"a": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}
    with pytest.raises(ValueError, match="BOOL data"):
        _load_bytes(_file(hdr, b"\x00\x07"))


def test_corrupt_structure_metadata_raises_value_error():
    hdr = {"__metadata__": {"chainrule": json.dumps({"version": 1, "root": {"T": "missing"}})}}
    with pytest.raises(ValueError, match="missing tensor"):
        _load_bytes(_file(hdr))
    hdr = {"__metadata__": {"chainrule": "{not json"}}
    with pytest.raises(ValueError, match="not valid JSON"):
        _load_bytes(_file(hdr))
    hdr = {"__metadata__": {"chainrule": json.dumps({"version": 1, "root": {"X": 1}})}}
    with pytest.raises(ValueError, match="malformed structure"):
        _load_bytes(_file(hdr))
    deep = '{"version":1,"root":' + '{"L":[' * 5000 + "null" + "]}" * 5000 + "}"
    hdr = {"__metadata__": {"chainrule": deep}}
    with pytest.raises(ValueError, match="nested too deeply|not valid JSON"):
        _load_bytes(_file(hdr))


def test_random_byte_corruption_never_crashes():
    good = _good()
    rng = np.random.default_rng(0)
    for _ in range(300):
        b = bytearray(good)
        for i in rng.integers(0, len(b), size=3):
            b[i] = int(rng.integers(0, 256))
        try:
            _load_bytes(bytes(b))
        except ValueError:
            pass
