"""chainrule.save / chainrule.load: round trips, safetensors compatibility, hostile files."""

import io
import json
import struct

import numpy as np
import pytest

import chainrule as cr
import chainrule.optim as optim
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


def test_wrong_dtype_raises_value_error():
    hdr = {"a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}
    with pytest.raises(ValueError, match="unsupported dtype 'F16'"):
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
