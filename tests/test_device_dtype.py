"""The device idiom, Size, finfo/iinfo and the default dtype, as PyTorch code uses them."""

import pickle

import numpy as np
import pytest

import chainrule as cr


def test_device_idiom_runs_on_cpu():
    device = "cuda" if cr.cuda.is_available() else "cpu"
    x = cr.ones(2, 3, device=device).to(device)
    assert x.device == cr.device("cpu") and str(x.device) == "cpu" and x.device.type == "cpu"
    assert x.is_cpu and not x.is_cuda and x.cpu() is x
    assert x.to(device=cr.device("cpu"), dtype=cr.float64).dtype == cr.float64
    assert x.to("cpu", cr.float64).dtype == cr.float64
    assert x.to(cr.zeros(1, dtype=cr.int64)).dtype == cr.int64
    assert x.to("cpu") is x and x.to("cpu", copy=True) is not x
    for f in (cr.zeros, cr.ones, cr.randn, cr.rand):
        f(2, device="cpu")
    cr.tensor([1.0], device=cr.device("cpu"))
    cr.arange(3, device="cpu")


@pytest.mark.parametrize("dev", ["cuda", "cuda:0", "mps", 0])
def test_other_devices_raise_a_clear_error(dev):
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.zeros(2, device=dev)
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.ones(2).to(dev)
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.randn(2, device=dev)


def test_device_objects():
    assert repr(cr.device("cpu")) == "device(type='cpu')"
    assert str(cr.device("cuda:1")) == "cuda:1" and cr.device("cuda", 1).index == 1
    assert cr.device("cpu") == cr.device("cpu") and cr.device("cpu") != "cpu"
    assert pickle.loads(pickle.dumps(cr.device("cpu"))) == cr.device("cpu")
    with pytest.raises(RuntimeError):
        cr.device("gpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.ones(1).cuda()
    assert not cr.accelerator.is_available() and cr.cuda.device_count() == 0
    cr.cuda.manual_seed_all(0)  # a no-op, as in a CPU-only PyTorch


def test_size():
    x = cr.zeros(2, 3, 4)
    assert isinstance(x.shape, cr.Size) and isinstance(x.size(), tuple)
    assert repr(x.shape) == "chainrule.Size([2, 3, 4])"
    assert x.shape == (2, 3, 4) and x.size(1) == 3 and x.shape.numel() == 24
    assert isinstance(x.shape[1:], cr.Size) and x.shape[-1] == 4
    assert cr.zeros(x.shape[:2]).shape == (2, 3)


def test_finfo_iinfo():
    assert cr.finfo(cr.float32).eps == float(np.finfo(np.float32).eps)
    assert cr.finfo(cr.float64).max == float(np.finfo(np.float64).max)
    assert cr.finfo().bits == 32
    assert cr.iinfo(cr.int64).max == 2**63 - 1
    with pytest.raises(TypeError):
        cr.finfo(cr.int64)
    with pytest.raises(TypeError):
        cr.iinfo(cr.float32)


def test_default_dtype():
    assert cr.get_default_dtype() == cr.float32
    try:
        cr.set_default_dtype(cr.float64)
        assert cr.get_default_dtype() == cr.float64
        assert cr.tensor([1.5]).dtype == cr.float64
        assert cr.zeros(2).dtype == cr.float64 and cr.randn(2).dtype == cr.float64
        assert (cr.arange(3) * 0.5).dtype == cr.float64
        assert cr.tensor([1]).dtype == cr.int64
        with pytest.raises(TypeError):
            cr.set_default_dtype(cr.int64)
    finally:
        cr.set_default_dtype(cr.float32)
    assert cr.tensor([1.5]).dtype == cr.float32


def test_numpy_scalars_keep_their_width():
    assert cr.tensor(np.float64(0.5)).dtype == cr.float64
    assert cr.tensor(np.float32(0.5)).dtype == cr.float32
    assert cr.tensor(0.5).dtype == cr.float32


def test_matches_torch(torch):
    t = torch.zeros(2, 3)
    c = cr.zeros(2, 3)
    assert tuple(c.shape) == tuple(t.shape) and str(c.device) == str(t.device)
    assert repr(c.shape).replace("chainrule", "torch") == repr(t.shape)
    assert cr.finfo(cr.float32).tiny == torch.finfo(torch.float32).tiny
    assert cr.finfo(cr.float64).resolution == torch.finfo(torch.float64).resolution
    assert repr(cr.device("cuda", 1)) == repr(torch.device("cuda", 1))


def test_repr_uses_pytorchs_number_format():
    assert repr(cr.tensor([1.5, 2.25])) == "tensor([1.5000, 2.2500])"
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(cr.tensor([[1e-5, 1000.0]])) == "tensor([[1.0000e-05, 1.0000e+03]])"
    assert repr(cr.tensor([0.0, -0.5])) == "tensor([ 0.0000, -0.5000])"
    assert repr(cr.tensor([float("nan"), 1.0, float("inf")])) == "tensor([nan, 1., inf])"
    assert repr(cr.tensor(3.5)) == "tensor(3.5000)"
    assert repr(cr.tensor([1, -20])) == "tensor([  1, -20])"
    assert repr(cr.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(cr.tensor([1.0], dtype=cr.float64)) == "tensor([1.], dtype=chainrule.float64)"
    assert "..." in repr(cr.arange(2000))
    try:
        cr.set_printoptions(precision=2)
        assert repr(cr.tensor([1.2345])) == "tensor([1.23])"
    finally:
        cr.set_printoptions(profile="default")


def test_repr_matches_torch(torch):
    rng = np.random.default_rng(0)
    for arr in (
        rng.standard_normal((3, 4, 5)).astype(np.float32),
        rng.standard_normal(30).astype(np.float32),
        (rng.standard_normal((5, 40)) * 100).astype(np.float32),
        np.arange(1200),
        np.array([[True, False]]),
        np.array([-1.5, 2e9], dtype=np.float32),
    ):
        assert repr(cr.tensor(arr)) == repr(torch.tensor(arr))
