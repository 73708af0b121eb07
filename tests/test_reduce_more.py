"""Reductions beyond sum and mean: all, any, count_nonzero, aminmax, nansum, nanmean, var_mean,
std_mean, dist and cdist; and PyTorch's errors for prod with a tuple dim and argmax over empty dims.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from helpers import check_against_torch, rand, to_np

nan = math.nan


def grad_of(fn, values):
    x = cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)
    fn(x).sum().backward()
    return to_np(x.grad)


# ---- all / any / count_nonzero -----------------------------------------------------------------------
def test_all_and_any_count_nan_as_true_and_give_bool():
    x = cr.tensor([[1.0, 0.0], [nan, 2.0]])
    assert cr.all(x).item() is False and cr.any(x).item() is True
    assert cr.all(x, 1).tolist() == [False, True]
    assert x.any(dim=0).tolist() == [True, True]
    assert cr.all(cr.tensor([nan])).item() is True
    assert cr.all(cr.tensor([1, 2])).dtype == cr.bool


def test_all_and_any_over_tuples_keepdim_and_nothing():
    x = cr.ones(2, 3, 4, dtype=cr.int64)
    assert tuple(cr.all(x, (0, 2)).shape) == (3,)
    assert tuple(cr.any(x, [0, 2], keepdim=True).shape) == (1, 3, 1)
    assert tuple(cr.all(x, None, True).shape) == (1, 1, 1)
    assert cr.all(cr.zeros(0, 3)).item() is True and cr.any(cr.zeros(0, 3)).item() is False
    assert cr.all(cr.zeros(0, 3), 0).tolist() == [True, True, True]
    with pytest.raises(ValueError, match="multiple times"):
        cr.all(x, (0, 0))
    with pytest.raises(IndexError, match="out of range"):
        cr.any(x, 3)


def test_count_nonzero():
    x = cr.tensor([[0.0, 1.0], [2.0, 0.0], [nan, 3.0]])
    assert cr.count_nonzero(x).item() == 4 and cr.count_nonzero(x).dtype == cr.int64
    assert cr.count_nonzero(x, 0).tolist() == [2, 2]
    assert x.count_nonzero(dim=(0, 1)).item() == 4
    assert cr.count_nonzero(cr.tensor([True, False, True])).item() == 2


# ---- aminmax -----------------------------------------------------------------------------------------
def test_aminmax_returns_named_min_and_max():
    x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    r = cr.aminmax(x)
    assert type(r).__name__ == "aminmax" and r.min.item() == 1.0 and r.max.item() == 6.0
    r = x.aminmax(dim=1, keepdim=True)
    assert r.min.tolist() == [[1.0], [4.0]] and r.max.tolist() == [[3.0], [6.0]]
    r = cr.aminmax(cr.tensor([True, False]))
    assert r.min.item() is False and r.max.item() is True
    assert tuple(cr.aminmax(x, keepdim=True).min.shape) == (1, 1)


def test_aminmax_gradient_is_shared_among_ties_and_errors():
    np.testing.assert_allclose(grad_of(lambda t: cr.aminmax(t).max, [1.0, 3.0, 1.0, 3.0]), [0, 0.5, 0, 0.5])
    with pytest.raises(ValueError, match="cannot reduce"):
        cr.aminmax(cr.zeros(0, 3))
    with pytest.raises(TypeError):
        cr.aminmax(cr.zeros(3), 0)  # dim is keyword-only
    assert tuple(cr.aminmax(cr.zeros(0, 3), dim=1).max.shape) == (0,)


# ---- nansum / nanmean --------------------------------------------------------------------------------
def test_nansum_and_nanmean_skip_nan():
    x = cr.tensor([[1.0, nan, 2.0], [nan, nan, nan]])
    assert cr.nansum(x).item() == 3.0
    assert cr.nansum(x, 1).tolist() == [3.0, 0.0]
    m = cr.nanmean(x, 1)
    assert m[0].item() == 1.5 and math.isnan(m[1].item())
    assert tuple(x.nanmean(None, True).shape) == (1, 1)
    assert cr.nansum(cr.tensor([1, 2]), dtype=cr.float64).dtype == cr.float64
    assert cr.nansum(cr.tensor([True, True])).item() == 2
    assert math.isnan(cr.nanmean(cr.zeros(0)).item())


def test_nan_entries_get_no_gradient():
    np.testing.assert_array_equal(grad_of(cr.nansum, [1.0, nan, 2.0]), [1, 0, 1])
    np.testing.assert_allclose(grad_of(cr.nanmean, [1.0, nan, 2.0]), [0.5, 0, 0.5])
    np.testing.assert_array_equal(grad_of(lambda t: cr.nanmean(t, 0), [nan, nan]), [0, 0])


def test_nanmean_of_integers_raises():
    with pytest.raises(TypeError, match="floating point"):
        cr.nanmean(cr.tensor([1, 2]))
    with pytest.raises(TypeError, match="floating point"):
        cr.nanmean(cr.tensor([1, 2]), dtype=cr.float64)


# ---- var_mean / std_mean -----------------------------------------------------------------------------
def test_var_mean_and_std_mean_return_a_tuple_of_both():
    x = cr.tensor([1.0, 2.0, 3.0, 4.0])
    v, m = cr.var_mean(x)
    assert math.isclose(v.item(), 5 / 3, rel_tol=1e-6) and m.item() == 2.5
    v, m = cr.var_mean(x, False)  # unbiased=False, positionally
    assert math.isclose(v.item(), 1.25, rel_tol=1e-6)
    s, m = cr.std_mean(cr.tensor([[1.0, 2.0, 3.0, 4.0]]), 1, correction=0, keepdim=True)
    assert tuple(s.shape) == (1, 1) and math.isclose(s.item(), math.sqrt(1.25), rel_tol=1e-6)
    assert type(cr.var_mean(x)) is tuple
    with pytest.raises(TypeError, match="floating point"):
        cr.std_mean(cr.tensor([1, 2]))


def test_var_mean_both_outputs_are_differentiable():
    a = rand(3, 4, seed=1)
    xs = [cr.tensor(a, requires_grad=True)]
    assert cr.autograd.gradcheck(lambda t: cr.var_mean(t, 1), xs)
    assert cr.autograd.gradcheck(lambda t: cr.std_mean(t, 0, correction=2), xs)


# ---- dist / cdist ------------------------------------------------------------------------------------
def test_dist_for_several_p():
    a, b = cr.tensor([1.0, 2.0]), cr.tensor([[0.0, 0.0], [1.0, 1.0]])
    assert math.isclose(cr.dist(a, b).item(), math.sqrt(6), rel_tol=1e-6)
    c = cr.tensor([0.0, 0.0])
    assert cr.dist(a, c, 1).item() == 3.0 and cr.dist(a, c, math.inf).item() == 2.0
    assert cr.dist(a, cr.tensor([1.0, 0.0]), 0).item() == 1.0
    assert math.isclose(a.dist(c, -1).item(), 2 / 3, rel_tol=1e-6)
    assert cr.dist(a, c.double()).dtype == cr.float64
    with pytest.raises(TypeError, match="floating point"):
        cr.dist(cr.tensor([1, 2]), cr.tensor([0, 0]))


def test_cdist_values_batches_and_shapes():
    x1 = cr.tensor([[0.0, 0.0], [3.0, 4.0]])
    x2 = cr.tensor([[0.0, 0.0], [1.0, 1.0], [3.0, 0.0]])
    np.testing.assert_allclose(
        to_np(cr.cdist(x1, x2)), [[0, math.sqrt(2), 3], [5, math.sqrt(13), 4]], rtol=1e-6
    )
    np.testing.assert_allclose(to_np(cr.cdist(x1, x2, p=1)), [[0, 2, 3], [7, 5, 4]])
    np.testing.assert_allclose(to_np(cr.cdist(x1, x2, p=math.inf)), [[0, 1, 3], [4, 3, 4]])
    np.testing.assert_allclose(to_np(cr.cdist(x1, x2, p=0)), [[0, 2, 1], [2, 2, 1]])
    assert tuple(cr.cdist(cr.zeros(2, 1, 3, 4), cr.zeros(5, 6, 4)).shape) == (2, 5, 3, 6)
    assert tuple(cr.cdist(cr.zeros(0, 3), cr.zeros(4, 3)).shape) == (0, 4)
    assert cr.cdist(cr.ones(2, 0), cr.ones(3, 0)).tolist() == [[0.0] * 3] * 2


def test_cdist_keeps_small_distances_between_large_points_accurate():
    # The matrix-product expansion |a|^2 + |b|^2 - 2ab loses every digit here; the differences don't.
    rng = np.random.default_rng(0)
    base = rng.uniform(-1, 1, size=(30, 3)) * 1e8
    a = base + rng.uniform(-1e-3, 1e-3, size=base.shape)
    b = base[:28] + rng.uniform(-1e-3, 1e-3, size=(28, 3))
    ref = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    got = to_np(cr.cdist(cr.tensor(a), cr.tensor(b)))
    np.testing.assert_allclose(got, ref, rtol=1e-9)
    near = np.diag(ref[:28, :28])
    assert np.all(near < 1e-2) and np.allclose(np.diag(got[:28, :28]), near, rtol=1e-6)


def test_cdist_gradient_is_zero_at_zero_distance():
    x1 = cr.tensor([[1.0, -1.0], [2.0, 1.0]], requires_grad=True)
    cr.cdist(x1, cr.tensor([[1.0, -1.0]])).sum().backward()
    np.testing.assert_allclose(to_np(x1.grad), [[0.0, 0.0], [1 / math.sqrt(5), 2 / math.sqrt(5)]])


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.7, math.inf])
def test_cdist_first_and_second_derivatives(p):
    rng = np.random.default_rng(3)
    xs = [cr.tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 3, 4), (1, 5, 4))]
    assert cr.autograd.gradcheck(lambda a, b: cr.cdist(a, b, p), xs)
    assert cr.autograd.gradgradcheck(lambda a, b: cr.cdist(a, b, p), xs)


def test_cdist_errors():
    with pytest.raises(ValueError, match="columns"):
        cr.cdist(cr.zeros(2, 3), cr.zeros(2, 4))
    with pytest.raises(ValueError, match="at least 2 dims"):
        cr.cdist(cr.zeros(3), cr.zeros(2, 3))
    with pytest.raises(ValueError, match="non-negative"):
        cr.cdist(cr.zeros(2, 3), cr.zeros(2, 3), p=-1.0)
    with pytest.raises(ValueError, match="compute_mode"):
        cr.cdist(cr.zeros(2, 3), cr.zeros(2, 3), compute_mode="fast")
    with pytest.raises(TypeError, match="one dtype"):
        cr.cdist(cr.zeros(2, 3), cr.zeros(2, 3, dtype=cr.float64))
    with pytest.raises(TypeError, match="floating point"):
        cr.cdist(cr.zeros(2, 3, dtype=cr.int64), cr.zeros(2, 3, dtype=cr.int64))


# ---- prod and argmax: PyTorch's errors ---------------------------------------------------------------
def test_prod_with_a_tuple_dim_is_a_type_error():
    with pytest.raises(TypeError, match="dim must be an int"):
        cr.prod(cr.ones(2, 3), (0, 1))
    with pytest.raises(TypeError, match="dim must be an int"):
        cr.ones(2, 3).prod([0])


def test_argmax_and_argmin_over_empty_dims():
    assert tuple(cr.argmax(cr.zeros(0, 3), 1).shape) == (0,)
    assert tuple(cr.zeros(0, 3).argmin(dim=1, keepdim=True).shape) == (0, 1)
    with pytest.raises(IndexError, match="non-zero size"):
        cr.argmax(cr.zeros(3, 0), 1)
    with pytest.raises(IndexError, match="expected a dim"):
        cr.argmin(cr.zeros(0, 3))


# ---- against PyTorch ---------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.0, math.inf])
def test_cdist_matches_torch(torch, p):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3))
    check_against_torch(
        torch,
        lambda x, y: cr.cdist(x, y, p),
        lambda x, y: torch.cdist(x, y, p, compute_mode="donot_use_mm_for_euclid_dist"),
        a,
        b,
        atol=1e-10,
    )


def test_nan_reductions_match_torch(torch):
    a = rand(3, 5, seed=6)
    a[0, 1] = a[2, 3] = nan
    check_against_torch(torch, lambda x: cr.nansum(x, 1), lambda x: torch.nansum(x, 1), a)
    check_against_torch(torch, lambda x: cr.nanmean(x, 0), lambda x: torch.nanmean(x, 0), a)
    for name in ("all", "any", "count_nonzero"):
        np.testing.assert_array_equal(
            to_np(getattr(cr, name)(cr.tensor(a), 1)), getattr(torch, name)(torch.tensor(a), 1)
        )
