"""Sampling with tensor parameters: multinomial, bernoulli / bernoulli_, the normal overloads, and
randperm's generator. Distributions are checked by their frequencies and moments with fixed
seeds (tolerances of several standard errors), streams by reproducibility, and every misuse by its
error; PyTorch's own random streams are not reproduced.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from helpers import to_np


def gen(seed):
    return cr.Generator().manual_seed(seed)


# ---- multinomial -------------------------------------------------------------------------------------
def test_multinomial_with_replacement_follows_the_weights():
    w = np.array([0.1, 0.0, 0.6, 0.3])
    n = 20_000
    draws = to_np(cr.multinomial(cr.tensor(w * 7.0), n, replacement=True, generator=gen(0)))
    assert draws.dtype == np.int64 and draws.shape == (n,)
    freq = np.bincount(draws, minlength=4) / n
    assert freq[1] == 0.0  # weight 0 is never drawn
    np.testing.assert_allclose(freq, w, atol=0.015)  # ~4 standard errors


def test_multinomial_without_replacement_never_repeats_within_a_row():
    w = cr.tensor([[1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 0.0, 1.0, 0.0, 2.0]])
    for seed in range(20):
        out = to_np(cr.multinomial(w, 3, generator=gen(seed)))
        assert out.shape == (2, 3)
        for row in out:
            assert len(set(row.tolist())) == 3
        assert set(out[1].tolist()) == {0, 2, 4}  # the positive weights come before the zeros


def test_multinomial_without_replacement_first_draw_and_exhaustion():
    w = np.array([1.0, 3.0, 0.0, 6.0])
    rows = np.tile(w, (6000, 1))
    out = to_np(cr.multinomial(cr.tensor(rows), 4, generator=gen(1)))
    freq = np.bincount(out[:, 0], minlength=4) / len(out)
    np.testing.assert_allclose(freq, w / w.sum(), atol=0.025)
    # every row is a permutation; the weight-0 category comes last, once the others are used up
    assert (np.sort(out, axis=1) == np.arange(4)).all() and (out[:, 3] == 2).all()
    # second draw given first = 3 (weight 6): categories 0 and 1 in proportion 1 : 3
    second = out[out[:, 0] == 3, 1]
    assert abs(np.mean(second == 1) - 0.75) < 0.04


def test_multinomial_is_reproducible_with_a_seeded_generator():
    w = cr.rand(3, 10, generator=gen(5))
    a = to_np(cr.multinomial(w, 6, generator=gen(7)))
    b = to_np(w.multinomial(6, generator=gen(7)))
    np.testing.assert_array_equal(a, b)
    cr.manual_seed(3)
    c = to_np(cr.multinomial(w, 6, True))
    cr.manual_seed(3)
    np.testing.assert_array_equal(c, to_np(cr.multinomial(w, 6, True)))


def test_multinomial_shapes_and_corner_cases():
    assert cr.multinomial(cr.tensor([0.0, 2.0]), 1).tolist() == [1]
    assert cr.multinomial(cr.tensor([5.0]), 3, replacement=True).tolist() == [0, 0, 0]
    assert tuple(cr.multinomial(cr.zeros(0, 3), 2).shape) == (0, 2)
    assert cr.multinomial(cr.tensor([1.0, 2.0], dtype=cr.float64), 1).dtype == cr.int64


@pytest.mark.parametrize(
    "probs, n, kwargs, error, match",
    [
        ([-1.0, 1.0, 2.0], 1, {}, ValueError, "element < 0"),
        ([math.inf, 1.0], 1, {}, ValueError, "inf"),
        ([math.nan, 1.0], 1, {}, ValueError, "nan"),
        ([0.0, 0.0], 1, {}, ValueError, "sum of probabilities"),
        ([0.0, 0.0], 1, {"replacement": True}, ValueError, "sum of probabilities"),
        ([1.0, 1.0, 2.0], 4, {}, ValueError, "without replacement"),
        ([1.0, 2.0], 0, {}, ValueError, "n_sample <= 0"),
        ([1.0, 2.0], -1, {"replacement": True}, ValueError, "n_sample <= 0"),
        ([[[1.0, 2.0]]], 1, {}, ValueError, "1-D or 2-D"),
        (1.0, 1, {}, ValueError, "1-D or 2-D"),
        ([1, 2], 1, {}, TypeError, "floating point"),
        ([1.0, 2.0], 1.5, {}, TypeError, "integer"),
        ([1.0, 2.0], 1, {"generator": 3}, TypeError, "Generator"),
    ],
)
def test_multinomial_errors(probs, n, kwargs, error, match):
    with pytest.raises(error, match=match):
        cr.multinomial(cr.tensor(probs), n, **kwargs)


def test_multinomial_error_in_one_row_names_it():
    with pytest.raises(ValueError, match="row 1"):
        cr.multinomial(cr.tensor([[1.0, 2.0], [0.0, 0.0]]), 1)


# ---- bernoulli ---------------------------------------------------------------------------------------
def test_bernoulli_frequencies_follow_the_probabilities():
    p = cr.tensor(np.repeat([[0.0, 0.25, 0.5, 0.9, 1.0]], 8000, axis=0))
    out = to_np(cr.bernoulli(p, generator=gen(0)))
    assert set(np.unique(out)) <= {0.0, 1.0} and out.dtype == np.float64  # p's dtype
    np.testing.assert_allclose(out.mean(0), [0.0, 0.25, 0.5, 0.9, 1.0], atol=0.02)
    assert out[:, 0].max() == 0.0 and out[:, 4].min() == 1.0


def test_bernoulli_with_p_takes_any_dtype_and_keeps_it():
    x = cr.zeros(4000, dtype=cr.float64)
    out = cr.bernoulli(x, 0.3, generator=gen(1))
    assert out.dtype == cr.float64 and abs(to_np(out).mean() - 0.3) < 0.03
    i = cr.bernoulli(cr.zeros(10, dtype=cr.int64), 1.0)
    assert i.dtype == cr.int64 and i.tolist() == [1] * 10
    assert cr.tensor([0.5, 0.5]).bernoulli(p=0.0).tolist() == [0.0, 0.0]


def test_bernoulli_in_place_with_a_number_or_a_tensor():
    x = cr.zeros(2, 3)
    v = x._version
    assert x.bernoulli_(1.0) is x and x.tolist() == [[1.0] * 3] * 2 and x._version > v
    x.bernoulli_(cr.tensor([0.0, 1.0, 0.0]))  # broadcast to self
    assert x.tolist() == [[0.0, 1.0, 0.0]] * 2
    b = cr.zeros(5000, dtype=cr.bool)
    b.bernoulli_(generator=gen(2))  # p = 0.5 by default
    assert b.dtype == cr.bool and abs(to_np(b).mean() - 0.5) < 0.04
    t = cr.zeros(4, 6).transpose(0, 1)
    t.bernoulli_(1.0)  # a non-contiguous view is written through
    assert t.tolist() == [[1.0] * 4] * 6


def test_bernoulli_errors_leave_tensors_unchanged():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cr.bernoulli(cr.tensor([0.0, 1.5]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cr.bernoulli(cr.tensor([0.0, math.nan]))
    with pytest.raises(TypeError, match="floating point"):
        cr.bernoulli(cr.tensor([0, 1]))
    x = cr.zeros(2, 3)
    for bad in (1.5, -0.1, math.nan):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            x.bernoulli_(bad)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        x.bernoulli_(cr.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        x.bernoulli_(cr.tensor([0.5, 0.5, 2.0]))
    assert x.tolist() == [[0.0] * 3] * 2
    leaf = cr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.bernoulli_(0.5)


def test_bernoulli_result_requires_grad_with_a_zero_gradient():
    p = cr.tensor([0.2, 0.7], requires_grad=True)
    y = cr.bernoulli(p)
    assert y.requires_grad and y.grad_fn.name() == "BernoulliBackward0"
    y.sum().backward()
    assert p.grad.tolist() == [0.0, 0.0]


def test_bernoulli_is_reproducible():
    p = cr.full((100,), 0.5)
    np.testing.assert_array_equal(
        to_np(cr.bernoulli(p, generator=gen(4))), to_np(p.bernoulli(generator=gen(4)))
    )


# ---- normal ------------------------------------------------------------------------------------------
def test_normal_with_tensor_mean_and_std_broadcasts():
    mean = cr.tensor([[0.0], [10.0]])
    std = cr.tensor([1.0, 2.0, 0.5])
    out = cr.normal(mean.expand(2, 3).contiguous().repeat(1, 1), std, generator=gen(0))
    assert tuple(out.shape) == (2, 3)
    big = cr.normal(cr.full((20000, 2), 3.0), cr.tensor([0.5, 2.0]), generator=gen(1))
    a = to_np(big)
    np.testing.assert_allclose(a.mean(0), [3.0, 3.0], atol=0.05)
    np.testing.assert_allclose(a.std(0), [0.5, 2.0], rtol=0.03)
    assert tuple(cr.normal(mean, std).shape) == (2, 3)


def test_normal_overloads_shapes_and_dtypes():
    assert cr.normal(cr.zeros(3, dtype=cr.float64), 2.0).dtype == cr.float64
    assert tuple(cr.normal(cr.zeros(3)).shape) == (3,)  # std defaults to 1
    assert cr.normal(0.0, cr.ones(4, dtype=cr.float64)).dtype == cr.float64
    assert cr.normal(cr.zeros(3), cr.ones(3, dtype=cr.float64)).dtype == cr.float32  # mean's dtype
    out = cr.normal(0.0, 1.0, (2, 3))
    assert tuple(out.shape) == (2, 3) and out.dtype == cr.float32
    out = cr.normal(1.0, 0.0, size=(4,), dtype=cr.float64, requires_grad=True)
    assert out.tolist() == [1.0] * 4 and out.requires_grad and out.dtype == cr.float64
    assert cr.normal(5.0, cr.zeros(2)).tolist() == [5.0, 5.0]


def test_normal_statistics_for_numbers():
    a = to_np(cr.normal(-2.0, 3.0, (50000,), generator=gen(2)))
    assert abs(a.mean() + 2.0) < 0.06 and abs(a.std() - 3.0) < 0.05


def test_normal_is_reproducible_with_a_generator():
    m = cr.zeros(10)
    np.testing.assert_array_equal(
        to_np(cr.normal(m, 1.0, generator=gen(9))), to_np(cr.normal(m, 1.0, generator=gen(9)))
    )
    np.testing.assert_array_equal(
        to_np(cr.normal(0.0, 1.0, (10,), generator=gen(9))), to_np(cr.normal(m, 1.0, generator=gen(9)))
    )


def test_normal_errors():
    with pytest.raises(ValueError, match="std >= 0"):
        cr.normal(cr.zeros(3), -1.0)
    with pytest.raises(ValueError, match="std >= 0"):
        cr.normal(cr.zeros(3), math.nan)
    with pytest.raises(ValueError, match="std >= 0"):
        cr.normal(cr.zeros(3), cr.tensor([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="std >= 0"):
        cr.normal(0.0, -2.0, (3,))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        cr.normal(cr.zeros(2, 3), cr.ones(4))
    with pytest.raises(TypeError, match="size is required"):
        cr.normal(0.0, 1.0)
    with pytest.raises(TypeError, match="size"):
        cr.normal(cr.zeros(2), 1.0, (2,))
    with pytest.raises(TypeError, match="floating point"):
        cr.normal(cr.zeros(3, dtype=cr.int64), 1.0)


def test_normal_has_a_zero_gradient():
    mean = cr.zeros(3, requires_grad=True)
    std = cr.ones(3, requires_grad=True)
    y = cr.normal(mean, std)
    assert y.grad_fn.name() == "NormalBackward3"
    y.sum().backward()
    assert mean.grad.tolist() == [0.0] * 3 and std.grad.tolist() == [0.0] * 3
    assert cr.normal(mean, 1.0).grad_fn.name() == "NormalBackward1"
    assert cr.normal(0.0, std).grad_fn.name() == "NormalBackward2"


# ---- randperm ----------------------------------------------------------------------------------------
def test_randperm_with_a_generator():
    a = cr.randperm(50, generator=gen(3))
    b = cr.randperm(50, generator=gen(3))
    assert a.tolist() == b.tolist() and sorted(a.tolist()) == list(range(50)) and a.dtype == cr.int64
    assert cr.randperm(5, generator=gen(3), dtype=cr.float64).dtype == cr.float64
    with pytest.raises(TypeError, match="bool"):
        cr.randperm(3, dtype=cr.bool)
    with pytest.raises(ValueError, match="non-negative"):
        cr.randperm(-1)
    # every position takes every value about equally often
    counts = np.zeros((4, 4))
    g = gen(4)
    for _ in range(2000):
        counts[np.arange(4), to_np(cr.randperm(4, generator=g))] += 1
    np.testing.assert_allclose(counts / 2000, 0.25, atol=0.04)


@pytest.mark.parametrize(
    "fill", [lambda t: t.uniform_(-1, 1), lambda t: t.normal_(), lambda t: t.bernoulli_(0.5)]
)
def test_random_fill_of_a_non_leaf_records_a_copy_and_refuses_a_leaf(fill):
    # PyTorch: the old values no longer matter (zero gradient); a leaf that requires grad refuses
    x = cr.ones(4, requires_grad=True)
    y = x * 3
    fill(y)
    assert y.grad_fn is not None
    (y * 2).sum().backward()
    assert x.grad.tolist() == [0.0] * 4
    with pytest.raises(RuntimeError, match="leaf Variable"):
        fill(cr.ones(2, requires_grad=True))
    with cr.no_grad():
        fill(x)  # allowed without grad mode, as initializers do
