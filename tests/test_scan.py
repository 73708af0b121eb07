"""Scans along a dim: cumsum, cumprod, logcumsumexp, cummax, cummin (and cumsum_, cumprod_).

Values are checked by hand and with NumPy, gradients by central differences (float64, first and
second order), and everything once more against PyTorch where it is installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from helpers import check_against_torch, rand, to_np


def grad_of(fn, values):
    x = cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)
    fn(x).sum().backward()
    return to_np(x.grad)


def assert_gradchecks(fn, *arrays):
    xs = [cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    assert cr.autograd.gradcheck(fn, xs)
    assert cr.autograd.gradgradcheck(fn, xs)


# ---- cumsum / cumprod values and dtypes ------------------------------------------------------------
def test_cumsum_and_cumprod_values_along_each_dim():
    a = np.arange(1.0, 13.0).reshape(3, 4)
    x = cr.tensor(a)
    np.testing.assert_array_equal(to_np(cr.cumsum(x, 0)), np.cumsum(a, 0))
    np.testing.assert_array_equal(to_np(x.cumsum(-1)), np.cumsum(a, 1))
    np.testing.assert_allclose(to_np(cr.cumprod(x, dim=1)), np.cumprod(a, 1))
    np.testing.assert_allclose(to_np(x.transpose(0, 1).cumprod(0)), np.cumprod(a.T, 0))


def test_integer_and_bool_scans_give_int64_and_dtype_converts_first():
    assert cr.cumsum(cr.tensor([True, False, True]), 0).tolist() == [1, 1, 2]
    assert cr.cumsum(cr.tensor([True, True]), 0).dtype == cr.int64
    assert cr.cumprod(cr.tensor([2, 3, 4]), 0).tolist() == [2, 6, 24]
    y = cr.cumsum(cr.tensor([1, 2, 3]), 0, dtype=cr.float64)
    assert y.dtype == cr.float64 and y.tolist() == [1.0, 3.0, 6.0]
    # a float32 input summed in float64 keeps its gradient (converted back to float32)
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    x.cumsum(0, dtype=cr.float64).sum().backward()
    assert x.grad.dtype == cr.float32 and x.grad.tolist() == [2.0, 1.0]


def test_float32_cumsum_accumulates_in_double():
    x = np.full(100_000, 0.1, dtype=np.float32)
    last = cr.cumsum(cr.tensor(x), 0)[-1].item()
    assert abs(last - 10_000.0) < 1e-2  # a float32 running sum is off by about 1


def test_scans_of_0d_and_empty_tensors():
    assert cr.cumsum(cr.tensor(3.0), 0).shape == () and cr.cumsum(cr.tensor(3.0), -1).item() == 3.0
    assert cr.cumprod(cr.tensor(3.0), 0).item() == 3.0
    assert cr.logcumsumexp(cr.tensor(2.0), 0).item() == 2.0
    v, i = cr.cummax(cr.tensor(5.0), 0)
    assert v.item() == 5.0 and i.item() == 0 and i.shape == ()
    assert tuple(cr.cumsum(cr.zeros(0, 3), 0).shape) == (0, 3)
    assert tuple(cr.cummin(cr.zeros(3, 0), 1).indices.shape) == (3, 0)


def test_scan_dim_out_of_range_and_missing_dim():
    with pytest.raises(IndexError, match="out of range"):
        cr.cumsum(cr.zeros(2, 3), 2)
    with pytest.raises(IndexError, match="out of range"):
        cr.cumsum(cr.tensor(1.0), 1)
    with pytest.raises(TypeError):
        cr.cumsum(cr.zeros(2, 3))


# ---- gradients -------------------------------------------------------------------------------------
def test_cumsum_gradient_is_the_reverse_cumsum():
    np.testing.assert_array_equal(grad_of(lambda x: cr.cumsum(x, 0), [1.0, 2.0, 3.0]), [3.0, 2.0, 1.0])
    assert_gradchecks(lambda x: cr.cumsum(x, 1), rand(3, 4))


def test_cumprod_gradient_with_zeros_is_exact():
    # y = [2, 0, 0, 0, 0]; d(sum y)/dx_1 = 2 + 2*3 + 0 ... = 2 * (1 + 3 + 0) = 8, others 1 or 0
    np.testing.assert_allclose(
        grad_of(lambda x: cr.cumprod(x, 0), [2.0, 0.0, 3.0, 0.0, 4.0]), [1, 8, 0, 0, 0]
    )
    np.testing.assert_allclose(grad_of(lambda x: cr.cumprod(x, 0), [0.0, 2.0, 3.0]), [1 + 2 + 6, 0, 0])
    np.testing.assert_allclose(grad_of(lambda x: cr.cumprod(x, 0), [2.0, 3.0, 0.0]), [1 + 3, 2, 6])


@pytest.mark.parametrize(
    "values",
    [[2.0, 0.0, 3.0, 0.0, 4.0], [0.0, 0.5, -2.0], [1.5, -0.5, 0.0], [0.0, 0.0, 0.0], [0.7, 1.3, -0.4]],
)
def test_cumprod_first_and_second_derivatives_with_zeros(values):
    assert_gradchecks(lambda x: cr.cumprod(x, 0), values)


def test_cumprod_gradients_on_2d_and_transposed_inputs():
    a = rand(4, 5, seed=2)
    a[1, 2] = 0.0
    assert_gradchecks(lambda x: cr.cumprod(x, 1), a)
    assert_gradchecks(lambda x: cr.cumprod(x.transpose(0, 1), 0), a)


def test_logcumsumexp_is_stable_for_large_and_small_values():
    y = cr.logcumsumexp(cr.tensor([1000.0, 1000.0, -1000.0], dtype=cr.float64), 0)
    np.testing.assert_allclose(to_np(y), [1000.0, 1000.0 + math.log(2), 1000.0 + math.log(2)])
    g = grad_of(lambda x: cr.logcumsumexp(x, 0), [1000.0, 1000.0, -1000.0])
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [2.0, 1.0, 0.0], atol=1e-12)  # 1 + 1/2 + 1/2, 1/2 + 1/2, 0


def test_logcumsumexp_of_negative_infinity():
    ninf = -math.inf
    y = cr.logcumsumexp(cr.tensor([ninf, 0.0, ninf, 1.0], dtype=cr.float64), 0)
    np.testing.assert_allclose(to_np(y), [ninf, 0.0, 0.0, math.log(1 + math.e)])
    g = grad_of(lambda x: cr.logcumsumexp(x, 0), [ninf, 0.0, ninf, 1.0])
    # -inf entries have zero gradient (PyTorch gives NaN for the first); the rest as computed
    np.testing.assert_allclose(g, [0.0, 2.0 + 1 / (1 + math.e), 0.0, math.e / (1 + math.e)])
    assert cr.logcumsumexp(cr.tensor([ninf, ninf]), 0).tolist() == [ninf, ninf]


def test_logcumsumexp_gradients_and_integer_input():
    assert_gradchecks(lambda x: cr.logcumsumexp(x, 0), rand(5, 3, seed=4, low=-3, high=3))
    assert_gradchecks(lambda x: cr.logcumsumexp(x, -1), rand(2, 6, seed=5, low=-30, high=30))
    with pytest.raises(TypeError, match="floating point"):
        cr.logcumsumexp(cr.tensor([1, 2]), 0)


# ---- cummax / cummin ------------------------------------------------------------------------------
def test_cummax_and_cummin_take_the_last_index_among_equal_values():
    v, i = cr.cummax(cr.tensor([1.0, 1.0, 0.0, 1.0]), 0)
    assert v.tolist() == [1.0, 1.0, 1.0, 1.0] and i.tolist() == [0, 1, 1, 3]
    v, i = cr.cummin(cr.tensor([1, 1, 2, 1]), 0)
    assert v.tolist() == [1, 1, 1, 1] and i.tolist() == [0, 1, 1, 3]
    r = cr.cummax(cr.tensor([True, False, True]), 0)
    assert r.values.tolist() == [True, True, True] and r.indices.tolist() == [0, 0, 2]
    assert type(r).__name__ == "cummax" and r.indices.dtype == cr.int64


def test_cummax_and_cummin_propagate_nan():
    nan = math.nan
    v, i = cr.cummax(cr.tensor([1.0, nan, 3.0, 2.0]), 0)
    assert np.isnan(to_np(v)[1:]).all() and i.tolist() == [0, 1, 1, 1]
    v, i = cr.cummin(cr.tensor([1.0, nan, 3.0, nan, -5.0]), 0)
    assert np.isnan(to_np(v)[1:]).all() and i.tolist() == [0, 1, 1, 3, 3]


def test_cummax_gradient_goes_to_the_running_maximum():
    # the maximum 3 at index 1 is selected three times
    np.testing.assert_array_equal(
        grad_of(lambda x: cr.cummax(x, 0).values, [1.0, 3.0, 2.0, 0.0]), [1, 3, 0, 0]
    )
    np.testing.assert_array_equal(grad_of(lambda x: cr.cummin(x, 0)[0], [1.0, 3.0, 0.5, 2.0]), [2, 0, 2, 0])
    assert_gradchecks(lambda x: cr.cummin(x, 1).values, rand(3, 5, seed=6))


# ---- in place ----------------------------------------------------------------------------------------
def test_cumsum_and_cumprod_in_place():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    v = x._version
    assert x.cumsum_(0) is x and x.tolist() == [[1.0, 2.0], [4.0, 6.0]] and x._version > v
    assert x.cumprod_(1) is x and x.tolist() == [[1.0, 2.0], [4.0, 24.0]]
    i = cr.tensor([1, 2, 3])
    i.cumsum_(0)
    assert i.tolist() == [1, 3, 6] and i.dtype == cr.int64


def test_in_place_scan_records_history_on_a_non_leaf():
    leaf = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = leaf * 2
    y.cumsum_(0)
    y.sum().backward()
    assert leaf.grad.tolist() == [6.0, 4.0, 2.0]


def test_in_place_scan_errors_leave_the_tensor_unchanged():
    b = cr.tensor([True, True])
    with pytest.raises(TypeError):
        b.cumsum_(0)  # the int64 result cannot be cast back to bool
    assert b.tolist() == [True, True]
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="dtype"):
        x.cumsum_(0, dtype=cr.float64)
    with pytest.raises(IndexError):
        x.cumprod_(1)
    assert x.tolist() == [1.0, 2.0]
    leaf = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.cumsum_(0)


# ---- determinism -------------------------------------------------------------------------------------
def test_scans_do_not_depend_on_the_thread_count():
    x = cr.tensor(rand(64, 2000, seed=9, dtype=np.float32))
    old = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        one = [to_np(f(x, 1)) for f in (cr.cumsum, cr.cumprod, cr.logcumsumexp)]
        cr.set_num_threads(2)
        two = [to_np(f(x, 1)) for f in (cr.cumsum, cr.cumprod, cr.logcumsumexp)]
    finally:
        cr.set_num_threads(old)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


# ---- against PyTorch ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp"])
def test_scans_match_torch(torch, name, dim):
    a = rand(4, 6, seed=11, dtype=np.float64)
    a[2, 3] = 0.0
    check_against_torch(
        torch,
        lambda x: getattr(cr, name)(x, dim),
        lambda x: getattr(torch, name)(x, dim),
        a,
        atol=1e-10,
        rtol=1e-9,
    )


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_match_torch_with_ties(torch, name):
    a = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, 0.0], [2.0, 2.0, 1.0, 1.0, 5.0, 5.0]])
    c = getattr(cr, name)(cr.tensor(a), 1)
    t = getattr(torch, name)(torch.tensor(a), 1)
    np.testing.assert_array_equal(to_np(c.values), t.values.numpy())
    np.testing.assert_array_equal(to_np(c.indices), t.indices.numpy())


def test_cumprod_gradient_with_zeros_matches_torch(torch):
    a = np.array([[2.0, 0.0, 3.0, 0.0, 4.0], [0.0, 1.5, -2.0, 0.5, 1.0]])
    check_against_torch(torch, lambda x: cr.cumprod(x, 1), lambda x: torch.cumprod(x, 1), a, atol=1e-12)
