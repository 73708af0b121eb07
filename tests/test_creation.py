"""Factories and random numbers: PyTorch's dtype rules, reproducibility under manual_seed."""

import numpy as np
import pytest

import chainrule as cr
from helpers import to_np


def test_full_infers_dtype_from_fill_value():
    assert cr.full((2, 3), 1.5).dtype == cr.float32
    assert cr.full((2,), 7).dtype == cr.int64
    assert cr.full((2,), True).dtype == cr.bool
    assert cr.full((2,), 7, dtype=cr.float64).dtype == cr.float64
    np.testing.assert_array_equal(to_np(cr.full([2, 2], 3)), np.full((2, 2), 3))


def test_arange_lengths_dtypes_and_values():
    assert cr.arange(5).dtype == cr.int64
    np.testing.assert_array_equal(to_np(cr.arange(5)), np.arange(5))
    np.testing.assert_array_equal(to_np(cr.arange(2, 11, 3)), [2, 5, 8])
    np.testing.assert_array_equal(to_np(cr.arange(5, 0, -2)), [5, 3, 1])
    f = cr.arange(0, 1, 0.3)
    assert f.dtype == cr.float32 and f.shape == (4,)  # ceil(1/0.3) = 4
    np.testing.assert_allclose(to_np(f), [0, 0.3, 0.6, 0.9], rtol=1e-6)
    assert cr.arange(0, 3, dtype=cr.float64).dtype == cr.float64
    assert cr.arange(3, 3).shape == (0,)


def test_arange_errors():
    with pytest.raises(ValueError, match="nonzero"):
        cr.arange(0, 5, 0)
    with pytest.raises(ValueError, match="inconsistent with step sign"):
        cr.arange(5, 0, 1)


def test_linspace_and_eye():
    np.testing.assert_allclose(to_np(cr.linspace(0, 1, 5)), [0, 0.25, 0.5, 0.75, 1.0])
    assert cr.linspace(-1, 1, 7).dtype == cr.float32
    assert cr.linspace(0, 1, 1).shape == (1,) and cr.linspace(0, 1, 0).shape == (0,)
    np.testing.assert_array_equal(to_np(cr.eye(3)), np.eye(3))
    np.testing.assert_array_equal(to_np(cr.eye(2, 4, dtype=cr.int64)), np.eye(2, 4))
    with pytest.raises(ValueError, match="non-negative"):
        cr.linspace(0, 1, -1)


def test_creation_matches_torch(torch):
    cases = [
        (cr.arange(1, 2.5, 0.1), torch.arange(1, 2.5, 0.1)),
        (cr.arange(-3, 7, 2), torch.arange(-3, 7, 2)),
        (cr.linspace(-2, 3, 11), torch.linspace(-2, 3, 11)),
        (cr.linspace(0, 1, 100, dtype=cr.float64), torch.linspace(0, 1, 100, dtype=torch.float64)),
        (cr.eye(3, 2), torch.eye(3, 2)),
        (cr.full((2,), 2.5), torch.full((2,), 2.5)),
        (cr.full((2,), 2), torch.full((2,), 2)),
    ]
    for c, t in cases:
        assert tuple(c.shape) == tuple(t.shape)
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(to_np(c), t.numpy(), rtol=1e-6, atol=1e-7)


def test_like_and_new_factories():
    x = cr.ones(2, 3, dtype=cr.float64)
    assert cr.zeros_like(x).dtype == cr.float64 and cr.zeros_like(x).shape == (2, 3)
    np.testing.assert_array_equal(to_np(cr.ones_like(x, dtype=cr.int64)), np.ones((2, 3)))
    np.testing.assert_array_equal(to_np(cr.full_like(x, 4)), np.full((2, 3), 4.0))
    assert cr.full_like(x, 4).dtype == cr.float64
    assert cr.empty_like(x).shape == (2, 3)
    assert cr.rand_like(x).dtype == cr.float64 and cr.randn_like(x).shape == (2, 3)
    assert cr.zeros_like(x, requires_grad=True).requires_grad
    assert x.new_zeros(4).shape == (4,) and x.new_zeros((1, 2)).dtype == cr.float64
    np.testing.assert_array_equal(to_np(x.new_ones(2, 2)), np.ones((2, 2)))
    np.testing.assert_array_equal(to_np(x.new_full((2,), 3)), [3.0, 3.0])
    t = x.new_tensor([1, 2])
    assert t.dtype == cr.float64 and to_np(t).tolist() == [1.0, 2.0]


def test_size_errors():
    with pytest.raises(ValueError, match="negative"):
        cr.rand(2, -1)
    with pytest.raises(ValueError):
        cr.randn(10**8, 10**8)
    with pytest.raises(TypeError, match="int"):
        cr.rand(2.5)
    with pytest.raises(TypeError):
        cr.full((2.0,), 1)
    with pytest.raises(RuntimeError, match="floating point"):
        cr.arange(3, requires_grad=True)


# ---- random -------------------------------------------------------------------------------------------
def test_manual_seed_reproduces_randn():
    cr.manual_seed(0)
    a = cr.randn(3)
    cr.manual_seed(0)
    b = cr.randn(3)
    np.testing.assert_array_equal(to_np(a), to_np(b))
    assert cr.initial_seed() == 0
    c = cr.randn(3)
    assert not np.array_equal(to_np(a), to_np(c))  # the stream moves on


def test_generator_objects_are_independent_streams():
    g1 = cr.Generator().manual_seed(5)
    g2 = cr.Generator()
    g2.manual_seed(5)
    a = cr.rand(4, generator=g1)
    cr.randn(100)  # the default generator does not disturb g2
    b = cr.rand(4, generator=g2)
    np.testing.assert_array_equal(to_np(a), to_np(b))
    assert g1.initial_seed() == 5
    np.testing.assert_array_equal(
        to_np(cr.randperm(10, generator=cr.Generator().manual_seed(1))),
        to_np(cr.randperm(10, generator=cr.Generator().manual_seed(1))),
    )


def test_generator_state_round_trip():
    g = cr.Generator().manual_seed(3)
    cr.rand(5, generator=g)
    state = g.get_state()
    a = cr.randn(4, generator=g)
    g.set_state(state)
    np.testing.assert_array_equal(to_np(cr.randn(4, generator=g)), to_np(a))


def test_randn_statistics():
    cr.manual_seed(1)
    x = to_np(cr.randn(10**6)).astype(np.float64)
    assert abs(x.mean()) < 5e-3 and abs(x.std() - 1.0) < 5e-3
    assert abs(np.mean(np.abs(x) < 1.0) - 0.6827) < 3e-3  # shape, not only moments


def test_rand_range_and_statistics():
    cr.manual_seed(2)
    for dt in (cr.float32, cr.float64):
        x = to_np(cr.rand(10**6, dtype=dt)).astype(np.float64)
        assert x.min() >= 0.0 and x.max() < 1.0
        assert abs(x.mean() - 0.5) < 3e-3 and abs(x.var() - 1 / 12) < 2e-3


def test_randint_and_randperm():
    cr.manual_seed(3)
    r = to_np(cr.randint(3, 7, (10000,)))
    assert r.dtype == np.int64 and r.min() == 3 and r.max() == 6
    assert abs(np.bincount(r - 3).min() - 2500) < 200
    assert cr.randint(5, size=(2, 2)).shape == (2, 2)
    p = to_np(cr.randperm(50))
    assert sorted(p.tolist()) == list(range(50)) and p.tolist() != list(range(50))
    with pytest.raises(ValueError, match="less than"):
        cr.randint(3, 3, (2,))


def test_inplace_fills_bump_version_and_respect_generator():
    t = cr.zeros(1000, 3).T  # non-contiguous
    v = t._version
    cr._core._uniform_(t, -2.0, 3.0)
    x = to_np(t)
    assert x.min() >= -2.0 and x.max() < 3.0 and t._version > v
    cr._core._normal_(t, 5.0, 0.1, cr.Generator().manual_seed(0))
    assert abs(to_np(t).mean() - 5.0) < 0.02
    a = cr.zeros(10, dtype=cr.float64)
    b = cr.zeros(10, dtype=cr.float64)
    cr._core._normal_(a, 0.0, 1.0, cr.Generator().manual_seed(9))
    b.normal_(generator=cr.Generator().manual_seed(9))
    np.testing.assert_array_equal(to_np(a), to_np(b))


def test_inplace_fill_on_leaf_requiring_grad_raises():
    w = cr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.uniform_()
    with cr.no_grad():
        w.uniform_(0, 1)


def test_fills_are_identical_across_thread_counts():
    prev = cr.get_num_threads() if hasattr(cr, "get_num_threads") else None
    out = []
    for n in (1, 2):
        if prev is not None:
            cr.set_num_threads(n)
        cr.manual_seed(11)
        out.append(to_np(cr.randn(300000)))
    if prev is not None:
        cr.set_num_threads(prev)
    np.testing.assert_array_equal(out[0], out[1])
