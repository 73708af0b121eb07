"""chainrule.load on a checkpoint written by torch.save (a pickle) explains how to convert it."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest

import chainrule as cr


def _zip_with_data_pkl() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"w": [1.0, 2.0]}, protocol=2))
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/data/0", b"\0" * 8)
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


def _load_error(data: bytes, tmp_path, as_path=True) -> str:
    if as_path:
        path = tmp_path / "ckpt.pt"
        path.write_bytes(data)
        source = str(path)
    else:
        source = io.BytesIO(data)
    with pytest.raises(ValueError) as e:
        cr.load(source)
    assert isinstance(e.value, ValueError)
    return str(e.value)


def test_zip_archive_with_data_pkl_is_named_a_pytorch_checkpoint(tmp_path):
    msg = _load_error(_zip_with_data_pkl(), tmp_path)
    assert "PyTorch checkpoint written by torch.save" in msg
    assert "ckpt.pt" in msg
    assert "from safetensors.torch import save_file" in msg
    assert "chainrule.save" in msg and "chainrule.from_numpy" in msg
    assert "never unpickles" in msg


def test_legacy_torch_pickle_is_named_a_pytorch_checkpoint(tmp_path):
    magic = 0x1950A86A20F9469CFC6C  # the number legacy torch.save writes first
    data = pickle.dumps(magic, protocol=2) + pickle.dumps(1001, protocol=2)
    msg = _load_error(data, tmp_path)
    assert "legacy pickle format" in msg and "save_file" in msg


def test_plain_pickle_is_named_a_pickle(tmp_path):
    for protocol in (2, 4, 5):
        msg = _load_error(pickle.dumps({"w": [1.0]}, protocol=protocol), tmp_path, as_path=False)
        assert "Python pickle" in msg and "this file" in msg and "save_file" in msg


def test_other_bad_files_keep_their_own_errors(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not a checkpoint")
    for data in (buf.getvalue(), b"PK\x03\x04 broken zip", b"\x00\x01 junk", b""):
        msg = _load_error(data, tmp_path)
        assert "torch.save" not in msg and "pickle" not in msg


def test_no_code_runs_while_recognising_a_pickle(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled')",))

    msg = _load_error(pickle.dumps(Boom(), protocol=4), tmp_path)
    assert "Python pickle" in msg


def test_valid_files_still_load(tmp_path):
    path = tmp_path / "ok.safetensors"
    cr.save({"w": cr.tensor([1.0, 2.0])}, str(path))
    np.testing.assert_array_equal(np.asarray(cr.load(str(path))["w"]), [1.0, 2.0])


@pytest.mark.parametrize("zip_format", [True, False])
def test_torch_save_files_get_the_conversion_message(torch, tmp_path, zip_format):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2, 3)}, path, _use_new_zipfile_serialization=zip_format)
    msg = _load_error(path.read_bytes(), tmp_path)
    assert "torch.save" in msg and ("zip archive" if zip_format else "legacy") in msg


def test_the_suggested_conversions_work(torch, tmp_path):
    model = torch.nn.Linear(3, 2)
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    with pytest.raises(ValueError):
        cr.load(str(path))
    # the route without the safetensors package
    sd = torch.load(path, map_location="cpu")
    out = tmp_path / "model.safetensors"
    cr.save({k: cr.from_numpy(v.detach().numpy()) for k, v in sd.items()}, str(out))
    loaded = cr.load(str(out))
    assert set(loaded) == {"weight", "bias"}
    np.testing.assert_array_equal(np.asarray(loaded["weight"]), model.weight.detach().numpy())
    # the safetensors route
    st = pytest.importorskip("safetensors.torch")
    out2 = tmp_path / "model2.safetensors"
    st.save_file({k: v.contiguous() for k, v in sd.items()}, str(out2))
    loaded2 = cr.load(str(out2))
    np.testing.assert_array_equal(np.asarray(loaded2["bias"]), model.bias.detach().numpy())
