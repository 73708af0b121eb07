"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, quantile,
nanquantile, unique, unique_consecutive, searchsorted, bucketize.

The order is PyTorch's (NaN after every number, first when descending) and ties are always
broken by position (Note [Sort order] in csrc/ops/sort.cpp); these tests pin both without PyTorch,
then compare with PyTorch where it is installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from helpers import check_against_torch, rand, to_np

nan, inf = math.nan, math.inf


def grad_of(fn, values):
    x = cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)
    fn(x).sum().backward()
    return to_np(x.grad)


def assert_gradchecks(fn, *arrays):
    xs = [cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    assert cr.autograd.gradcheck(fn, xs)
    assert cr.autograd.gradgradcheck(fn, xs)


def same(a, b):
    np.testing.assert_array_equal(to_np(a), np.asarray(b))


# ---- sort --------------------------------------------------------------------------------------------
def test_sort_is_stable_in_both_directions():
    x = cr.tensor([1.0, 0.5, 1.0, 0.5, 1.0])
    r = cr.sort(x)
    same(r.values, [0.5, 0.5, 1.0, 1.0, 1.0])
    same(r.indices, [1, 3, 0, 2, 4])
    r = x.sort(descending=True)
    same(r.values, [1.0, 1.0, 1.0, 0.5, 0.5])
    same(r.indices, [0, 2, 4, 1, 3])  # equal values keep their order descending too
    assert type(r).__name__ == "sort" and r.indices.dtype == cr.int64


def test_sort_puts_nan_last_ascending_and_first_descending():
    v = cr.tensor([3.0, nan, 1.0, -inf, 1.0, inf, nan, 0.0])
    r = cr.sort(v, stable=True)
    same(r.indices, [3, 7, 2, 4, 0, 5, 1, 6])
    r = cr.sort(v, descending=True, stable=True)
    same(r.indices, [1, 6, 5, 0, 2, 4, 7, 3])
    same(cr.argsort(v), [3, 7, 2, 4, 0, 5, 1, 6])


def test_sort_treats_negative_zero_as_zero_and_sorts_bool_and_int():
    same(cr.sort(cr.tensor([0.0, -0.0, 0.0, -0.0])).indices, [0, 1, 2, 3])
    r = cr.sort(cr.tensor([True, False, True]))
    same(r.values, [False, True, True])
    same(r.indices, [1, 0, 2])
    same(cr.sort(cr.tensor([[3, 1, 2], [0, 5, -4]]), dim=0).values, [[0, 1, -4], [3, 5, 2]])


def test_sort_gradient_goes_back_to_the_original_positions():
    x = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
    v = cr.sort(x, descending=True).values
    (v * cr.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 100.0, 10.0]
    assert_gradchecks(lambda t: cr.sort(t.transpose(0, 1), 0).values, rand(3, 4, seed=1))
    assert cr.sort(x)[0].grad_fn.name() == "SortBackward0"


def test_msort_sorts_along_the_first_dim():
    same(cr.msort(cr.tensor([[3.0, 1.0], [1.0, 2.0]])), [[1.0, 1.0], [3.0, 2.0]])
    assert cr.tensor([2.0, 1.0]).msort().tolist() == [1.0, 2.0]


def test_sort_dim_out_of_range():
    with pytest.raises(IndexError, match="out of range"):
        cr.sort(cr.zeros(2, 3), 2)
    with pytest.raises(IndexError, match="out of range"):
        cr.tensor(1.0).sort(1)


# ---- topk and kthvalue -------------------------------------------------------------------------------
def test_topk_returns_sorted_values_with_ties_in_index_order():
    r = cr.topk(cr.tensor([1.0, 3.0, 3.0, 2.0, 3.0]), 2)
    same(r.values, [3.0, 3.0])
    same(r.indices, [1, 2])
    r = cr.tensor([1.0, 3.0, 1.0, 2.0, 1.0]).topk(2, largest=False)
    same(r.values, [1.0, 1.0])
    same(r.indices, [0, 2])
    assert type(r).__name__ == "topk"


def test_topk_treats_nan_as_largest_and_takes_every_k_from_0_to_n():
    same(cr.topk(cr.tensor([1.0, nan, 3.0]), 2).indices, [1, 2])
    same(cr.topk(cr.tensor([1.0, nan, 3.0]), 2, largest=False).indices, [0, 2])
    assert tuple(cr.topk(cr.zeros(3, 4), 0).values.shape) == (3, 0)
    same(cr.topk(cr.tensor([[5.0, 1.0, 4.0]]), 3, sorted=False).indices, [[0, 2, 1]])
    assert cr.topk(cr.tensor(2.0), 1).values.item() == 2.0


def test_topk_errors():
    with pytest.raises(IndexError, match="out of range"):
        cr.topk(cr.zeros(3), 4)
    with pytest.raises(IndexError, match="out of range"):
        cr.topk(cr.zeros(3), -1)
    with pytest.raises(TypeError, match="bool"):
        cr.topk(cr.tensor([True, False]), 1)


def test_topk_gradient_reaches_the_selected_entries():
    np.testing.assert_array_equal(grad_of(lambda t: cr.topk(t, 2).values, [1.0, 5.0, 3.0, 4.0]), [0, 1, 0, 1])
    assert_gradchecks(lambda t: cr.topk(t, 2, dim=0, largest=False).values, rand(4, 3, seed=2))


def test_kthvalue_is_the_kth_entry_of_the_stable_sort():
    r = cr.kthvalue(cr.tensor([3.0, 1.0, 2.0, 1.0, 5.0]), 2)
    assert r.values.item() == 1.0 and r.indices.item() == 3
    r = cr.tensor([[3.0, 1.0], [0.0, 4.0]]).kthvalue(1, 0, True)
    same(r.values, [[0.0, 1.0]])
    same(r.indices, [[1, 0]])
    assert cr.kthvalue(cr.tensor([3.0, nan, 2.0]), 3).indices.item() == 1
    np.testing.assert_array_equal(grad_of(lambda t: cr.kthvalue(t, 2).values, [4.0, 1.0, 3.0]), [0, 0, 1])


def test_kthvalue_errors():
    with pytest.raises(IndexError, match="out of range"):
        cr.kthvalue(cr.zeros(3), 0)
    with pytest.raises(IndexError, match="out of range"):
        cr.kthvalue(cr.zeros(3), 4)
    with pytest.raises(IndexError, match="non-zero size"):
        cr.kthvalue(cr.zeros(2, 0), 1)
    assert tuple(cr.kthvalue(cr.zeros(0, 3), 1).values.shape) == (0,)


# ---- median, nanmedian, mode -------------------------------------------------------------------------
def test_median_is_the_lower_median():
    assert cr.median(cr.tensor([4.0, 1.0, 3.0, 2.0])).item() == 2.0
    assert cr.tensor([3, 1, 2, 5]).median().item() == 2
    r = cr.median(cr.tensor([[2.0, 1.0, 2.0, 2.0, 3.0]]), 1)
    assert r.values.tolist() == [2.0] and r.indices.tolist() == [2]
    assert type(r).__name__ == "median"
    r = cr.median(cr.tensor([[1.0, 5.0], [3.0, 0.0]]), 0, keepdim=True)
    assert r.values.tolist() == [[1.0, 0.0]] and r.indices.tolist() == [[0, 1]]


def test_median_propagates_nan_and_nanmedian_ignores_it():
    x = cr.tensor([[4.0, nan, 3.0, 2.0], [nan, nan, nan, nan], [1.0, 2.0, 3.0, 4.0]])
    assert math.isnan(cr.median(x).item())
    r = cr.median(x, 1)
    assert np.isnan(to_np(r.values)[:2]).all() and r.values[2].item() == 2.0
    assert r.indices.tolist() == [1, 0, 1]  # the first NaN
    r = cr.nanmedian(x, 1)
    assert r.values[0].item() == 3.0 and math.isnan(r.values[1].item()) and r.values[2].item() == 2.0
    assert r.indices.tolist() == [2, 0, 1]
    assert cr.nanmedian(x).item() == 3.0  # of 1, 2, 2, 3, 3, 4, 4
    assert type(r).__name__ == "nanmedian"


def test_median_of_all_elements_shares_the_gradient_among_ties():
    np.testing.assert_allclose(grad_of(cr.median, [1.0, 2.0, 2.0, 3.0, 2.0]), [0, 1 / 3, 1 / 3, 0, 1 / 3])
    np.testing.assert_allclose(grad_of(cr.nanmedian, [1.0, 2.0, 2.0, 3.0, nan]), [0, 0.5, 0.5, 0, 0])
    np.testing.assert_array_equal(
        grad_of(lambda t: cr.median(t, 0).values, [1.0, 2.0, 2.0, 3.0, 2.0]), [0, 0, 1, 0, 0]
    )
    assert cr.median(cr.tensor([1.0, 2.0], requires_grad=True)).grad_fn.name() == "MedianBackward0"


def test_median_of_empty_and_errors():
    assert math.isnan(cr.median(cr.zeros(0)).item())
    with pytest.raises(IndexError, match="non-zero size"):
        cr.median(cr.zeros(0, 2), 0)
    with pytest.raises(IndexError, match="empty"):
        cr.median(cr.tensor(np.zeros(0, dtype=np.int64)))
    with pytest.raises(TypeError, match="bool"):
        cr.median(cr.tensor([True]))


def test_mode_takes_the_smallest_most_frequent_value_and_its_last_index():
    r = cr.mode(cr.tensor([[1.0, 2.0, 2.0, 1.0, 3.0]]))
    assert r.values.tolist() == [1.0] and r.indices.tolist() == [3]
    r = cr.mode(cr.tensor([3, 1, 3, 1, 2, 1, 3]))
    assert r.values.item() == 1 and r.indices.item() == 5
    r = cr.tensor([True, False, True]).mode()
    assert r.values.item() is True and r.indices.item() == 2
    r = cr.mode(cr.tensor([nan, 1.0, nan, 1.0, nan]))  # NaNs count together
    assert math.isnan(r.values.item()) and r.indices.item() == 4
    assert type(r).__name__ == "mode"
    with pytest.raises(IndexError, match="non-zero size"):
        cr.mode(cr.zeros(0))


# ---- quantile ----------------------------------------------------------------------------------------
def test_quantile_interpolations():
    x = cr.tensor([1.0, 2.0, 3.0, 4.0])
    got = [
        cr.quantile(x, 0.4, interpolation=m).item()
        for m in ("linear", "lower", "higher", "midpoint", "nearest")
    ]
    np.testing.assert_allclose(got, [2.2, 2.0, 3.0, 2.5, 2.0])
    # nearest rounds half to even: ranks 0.5, 1.5, 2.5, 3.5
    y = cr.arange(5.0)
    got = [cr.quantile(y, q, interpolation="nearest").item() for q in (0.125, 0.375, 0.625, 0.875)]
    assert got == [0.0, 2.0, 2.0, 4.0]


def test_quantile_shapes_with_a_tensor_q_and_keepdim():
    x = cr.tensor([[1.0, 2.0, 3.0, 4.0]])
    r = cr.quantile(x, cr.tensor([0.25, 0.5]), dim=1, keepdim=True)
    assert tuple(r.shape) == (2, 1, 1)
    np.testing.assert_allclose(to_np(r).ravel(), [1.75, 2.5])
    assert tuple(cr.quantile(x, cr.tensor(0.25), dim=1).shape) == (1,)
    assert tuple(cr.quantile(x, 0.5, keepdim=True).shape) == (1, 1)
    assert tuple(x.quantile(cr.tensor([0.1, 0.2, 0.3])).shape) == (3,)


def test_quantile_nan_and_nanquantile():
    x = cr.tensor([1.0, nan, 3.0, 4.0])
    assert math.isnan(cr.quantile(x, 0.5).item())
    assert cr.nanquantile(x, 0.5).item() == 3.0
    assert math.isnan(cr.nanquantile(cr.tensor([nan, nan]), 0.5).item())


def test_quantile_gradient_follows_the_interpolation():
    np.testing.assert_allclose(grad_of(lambda t: cr.quantile(t, 0.4), [3.0, 1.0, 2.0, 4.0]), [0.2, 0, 0.8, 0])
    # equal values: the two entries the stable sort puts at ranks 1 and 2
    np.testing.assert_allclose(grad_of(lambda t: cr.quantile(t, 0.5), [1.0, 1.0, 1.0, 1.0]), [0, 0.5, 0.5, 0])
    assert_gradchecks(lambda t: cr.quantile(t, 0.3, dim=0), rand(5, 3, seed=3))


def test_quantile_errors():
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cr.quantile(x, 1.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cr.quantile(x, nan)
    with pytest.raises(TypeError, match="dtype"):
        cr.quantile(x, cr.tensor([0.5], dtype=cr.float64))
    with pytest.raises(ValueError, match="1-D"):
        cr.quantile(x, cr.tensor([[0.5]]))
    with pytest.raises(TypeError, match="float32 or float64"):
        cr.quantile(cr.tensor([1, 2]), 0.5)
    with pytest.raises(ValueError, match="non-empty"):
        cr.quantile(cr.zeros(0), 0.5)
    with pytest.raises(ValueError, match="interpolation"):
        cr.quantile(x, 0.5, interpolation="cubic")


# ---- unique ------------------------------------------------------------------------------------------
def test_unique_sorted_with_inverse_and_counts():
    x = cr.tensor([3, 1, 2, 1, 3])
    same(cr.unique(x), [1, 2, 3])
    v, inv, cnt = cr.unique(x, return_inverse=True, return_counts=True)
    same(v, [1, 2, 3])
    same(inv, [2, 0, 1, 0, 2])
    same(cnt, [2, 1, 2])
    v, cnt = x.unique(return_counts=True)
    same(cnt, [2, 1, 2])
    v, inv = cr.unique(cr.tensor([[3, 1], [1, 3]]), return_inverse=True)
    same(inv, [[1, 0], [0, 1]])  # the input's shape
    same(cr.unique(x, sorted=False), [1, 2, 3])  # always sorted


def test_unique_nan_is_never_equal_and_negative_zero_is_zero():
    v, cnt = cr.unique(cr.tensor([nan, 1.0, nan]), return_counts=True)
    assert to_np(v)[0] == 1.0 and np.isnan(to_np(v)[1:]).all()
    same(cnt, [1, 1, 1])
    assert cr.unique(cr.tensor([0.0, -0.0])).tolist() == [0.0]


def test_unique_along_a_dim():
    x = cr.tensor([[3, 1], [1, 3], [3, 1]])
    v, inv, cnt = cr.unique(x, dim=0, return_inverse=True, return_counts=True)
    same(v, [[1, 3], [3, 1]])
    same(inv, [1, 0, 1])
    same(cnt, [1, 2])
    same(cr.unique(cr.tensor([[3, 1, 3], [1, 3, 1]]), dim=1), [[1, 3], [3, 1]])
    with pytest.raises(IndexError, match="0-d"):
        cr.unique(cr.tensor(1.0), dim=0)
    with pytest.raises(ValueError, match="0-sized"):
        cr.unique(cr.zeros(0, 3), dim=1)
    assert tuple(cr.unique(cr.zeros(0, 3), dim=0).shape) == (0, 3)


def test_unique_consecutive_merges_only_neighbours():
    v, inv, cnt = cr.unique_consecutive(
        cr.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True, return_counts=True
    )
    same(v, [1, 2, 3, 1, 2])
    same(inv, [0, 0, 1, 1, 2, 3, 3, 4])
    same(cnt, [2, 2, 1, 2, 1])
    v, cnt = cr.tensor([[1, 1], [1, 1], [2, 2]]).unique_consecutive(dim=0, return_counts=True)
    same(v, [[1, 1], [2, 2]])
    same(cnt, [2, 1])


def test_unique_of_0d_and_empty():
    v, inv, cnt = cr.unique(cr.tensor(2.0), return_inverse=True, return_counts=True)
    assert v.tolist() == [2.0] and inv.shape == () and inv.item() == 0 and cnt.tolist() == [1]
    v, inv, cnt = cr.unique(cr.zeros(0, 3), return_inverse=True, return_counts=True)
    assert tuple(v.shape) == (0,) and tuple(inv.shape) == (0, 3) and tuple(cnt.shape) == (0,)


# ---- searchsorted / bucketize ------------------------------------------------------------------------
def test_searchsorted_left_right_and_side():
    s = cr.tensor([1.0, 2.0, 2.0, 3.0])
    v = cr.tensor([0.0, 2.0, 2.5, 3.0, 4.0])
    same(cr.searchsorted(s, v), [0, 1, 3, 3, 4])
    same(cr.searchsorted(s, v, right=True), [0, 3, 3, 4, 4])
    same(cr.searchsorted(s, v, side="right"), [0, 3, 3, 4, 4])
    same(cr.searchsorted(s, v, side="left"), [0, 1, 3, 3, 4])
    assert cr.searchsorted(s, 2).item() == 1 and cr.searchsorted(s, 2.5).shape == ()
    assert cr.searchsorted(s, cr.tensor([nan])).tolist() == [4]  # NaN goes last


def test_searchsorted_rows_sorter_and_dtypes():
    s = cr.tensor([[1.0, 3.0], [2.0, 4.0]])
    same(cr.searchsorted(s, cr.tensor([[2.0, 2.0, 5.0], [3.0, 0.0, 1.0]])), [[1, 1, 2], [1, 0, 0]])
    same(cr.searchsorted(cr.tensor([3.0, 1.0, 2.0]), cr.tensor([2.5]), sorter=cr.tensor([1, 2, 0])), [2])
    same(cr.searchsorted(cr.tensor([1, 3]), cr.tensor([2.5])), [1])  # compared in the promoted type
    r = cr.searchsorted(cr.tensor([1.0, 3.0]), cr.tensor([2.0]), out_int32=True)
    assert r.dtype == cr.int64  # chainrule has no int32
    assert cr.searchsorted(cr.zeros(0), cr.tensor([1.0])).tolist() == [0]


def test_searchsorted_errors():
    with pytest.raises(ValueError, match="contradict"):
        cr.searchsorted(cr.zeros(3), cr.zeros(2), right=True, side="left")
    with pytest.raises(ValueError, match="side"):
        cr.searchsorted(cr.zeros(3), cr.zeros(2), side="up")
    with pytest.raises(ValueError, match="share all dimensions"):
        cr.searchsorted(cr.zeros(2, 3), cr.zeros(3, 3))
    with pytest.raises(ValueError, match="1-D"):
        cr.searchsorted(cr.zeros(2, 3), 1.0)
    with pytest.raises(ValueError, match="at least one dimension"):
        cr.searchsorted(cr.tensor(1.0), cr.zeros(2))
    with pytest.raises(IndexError, match="out of range"):
        cr.searchsorted(cr.zeros(3), cr.zeros(2), sorter=cr.tensor([0, 1, 5]))
    with pytest.raises(TypeError, match="bool"):
        cr.searchsorted(cr.tensor([False, True]), cr.tensor([True]))


def test_bucketize():
    b = cr.tensor([1.0, 2.0, 3.0])
    same(cr.bucketize(cr.tensor([[0.0, 2.0, 2.5], [3.0, 4.0, nan]]), b), [[0, 1, 2], [2, 3, 3]])
    same(cr.bucketize(cr.tensor([0.0, 2.0, 2.5, 3.0, 4.0]), b, right=True), [0, 2, 2, 3, 3])
    assert cr.bucketize(2.5, b).item() == 2
    with pytest.raises(ValueError, match="1-D"):
        cr.bucketize(cr.zeros(2), cr.zeros(1, 3))


# ---- determinism and non-differentiable outputs ------------------------------------------------------
def test_selection_results_do_not_depend_on_the_thread_count():
    x = cr.tensor(np.random.default_rng(0).integers(0, 50, size=(300, 200)).astype(np.float32))
    old = cr.get_num_threads()
    try:
        outs = []
        for n in (1, 2):
            cr.set_num_threads(n)
            outs.append(
                [
                    to_np(t)
                    for t in (
                        *cr.sort(x, 1),
                        *cr.topk(x, 7, 1),
                        *cr.median(x, 1),
                        *cr.mode(x, 1),
                        *cr.kthvalue(x, 9, 1),
                    )
                ]
            )
    finally:
        cr.set_num_threads(old)
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_indices_and_unique_results_do_not_require_grad():
    x = cr.tensor([2.0, 1.0, 2.0], requires_grad=True)
    assert not cr.sort(x).indices.requires_grad and not cr.argsort(x).requires_grad
    assert not cr.unique(x).requires_grad
    assert not cr.searchsorted(x.detach().sort().values, x).requires_grad


# ---- against PyTorch ---------------------------------------------------------------------------------
def test_sort_and_topk_match_torch_with_ties_and_nan(torch):
    a = np.array([[1.0, nan, 3.0, 3.0, -inf, 0.0, 3.0], [2.0, 2.0, inf, nan, nan, -1.0, 2.0]])
    for desc in (False, True):
        c = cr.sort(cr.tensor(a), descending=desc, stable=True)
        t = torch.sort(torch.tensor(a), descending=desc, stable=True)
        np.testing.assert_array_equal(to_np(c.values), t.values.numpy())
        np.testing.assert_array_equal(to_np(c.indices), t.indices.numpy())
    for largest in (False, True):
        c = cr.topk(cr.tensor(a), 3, largest=largest)
        t = torch.topk(torch.tensor(a), 3, largest=largest)
        np.testing.assert_array_equal(to_np(c.values), t.values.numpy())


@pytest.mark.parametrize("q", [0.0, 0.3, 0.5, 1.0])
@pytest.mark.parametrize("mode", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_matches_torch(torch, q, mode):
    a = rand(4, 7, seed=5)
    check_against_torch(
        torch,
        lambda x: cr.quantile(x, q, dim=1, interpolation=mode),
        lambda x: torch.quantile(x, q, dim=1, interpolation=mode),
        a,
        atol=1e-12,
    )


def test_unique_matches_torch(torch):
    a = np.random.default_rng(1).integers(0, 4, size=(6, 3))
    for dim in (None, 0, 1):
        c = cr.unique(cr.tensor(a), return_inverse=True, return_counts=True, dim=dim)
        t = torch.unique(torch.tensor(a), return_inverse=True, return_counts=True, dim=dim)
        for x, y in zip(c, t):
            np.testing.assert_array_equal(to_np(x), y.numpy())
        c = cr.unique_consecutive(cr.tensor(a), return_inverse=True, return_counts=True, dim=dim)
        t = torch.unique_consecutive(torch.tensor(a), return_inverse=True, return_counts=True, dim=dim)
        for x, y in zip(c, t):
            np.testing.assert_array_equal(to_np(x), y.numpy())


def test_median_mode_and_kthvalue_match_torch(torch):
    a = rand(5, 9, seed=8)
    for name, args in (("median", (1,)), ("nanmedian", (0,)), ("mode", (1,)), ("kthvalue", (3, 1))):
        c = getattr(cr, name)(cr.tensor(a), *args)
        t = getattr(torch, name)(torch.tensor(a), *args)
        np.testing.assert_array_equal(to_np(c.values), t.values.numpy())
        np.testing.assert_array_equal(to_np(c.indices), t.indices.numpy())
    check_against_torch(torch, cr.median, torch.median, a)
