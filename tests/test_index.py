"""Indexing: basic indexing gives views, advanced indexing copies and accumulates gradients."""

import numpy as np
import pytest

import chainrule as cr
from helpers import check_against_torch, gradcheck, leaf, rand, to_np

X = np.arange(60.0).reshape(3, 4, 5)


@pytest.mark.parametrize(
    "key",
    [
        1,
        -1,
        (0, 2),
        (slice(None), 1),
        (Ellipsis, 2),
        (None, 0),
        (1, None, slice(1, 3)),
        slice(0, 3, 2),
        (slice(None), slice(None, None, 3), -2),
        (Ellipsis,),
        (slice(5, 10),),
        (slice(-2, None), Ellipsis, slice(None, -1)),
    ],
)
def test_basic_indexing_matches_numpy_and_is_a_view(key):
    x = cr.tensor(X)
    y = x[key]
    np.testing.assert_array_equal(to_np(y), X[key])
    assert y.is_view
    if y.numel():
        x.numpy()[...] = -X  # modify through numpy: the view sees it
        np.testing.assert_array_equal(to_np(y), (-X)[key])


@pytest.mark.parametrize(
    "key",
    [
        [2, 0, 0],
        (slice(None), [3, 1]),
        ([0, 2], [1, 3]),
        ([[0], [2]], [1, 3]),
        (slice(None), [0, 1], [4, 2]),
        ([0, 1], slice(None), [4, 2]),
        (1, slice(None), [0, 4]),
        (Ellipsis, [1, -1]),
        (np.array([2, 1]),),
        ([0, 1], None, slice(1, 3)),
    ],
)
def test_advanced_indexing_matches_torch_shapes_and_values(key, torch):
    x = cr.tensor(X)
    t = torch.tensor(X)
    tkey = tuple(
        torch.tensor(k) if isinstance(k, (list, np.ndarray)) else k
        for k in (key if isinstance(key, tuple) else (key,))
    )
    expected = t[tkey].numpy()
    np.testing.assert_array_equal(to_np(x[key]), expected)


def test_advanced_index_values_without_torch():
    x = cr.tensor(X)
    np.testing.assert_array_equal(to_np(x[[2, 0]]), X[[2, 0]])
    np.testing.assert_array_equal(to_np(x[:, [3, 1]]), X[:, [3, 1]])
    np.testing.assert_array_equal(to_np(x[[0, 2], [1, 3]]), X[[0, 2], [1, 3]])
    np.testing.assert_array_equal(to_np(x[[0, 1], :, [4, 2]]), X[[0, 1], :, [4, 2]])
    np.testing.assert_array_equal(to_np(x[cr.tensor([-1])]), X[[-1]])
    assert not x[[0]].is_view


def test_bool_mask_indexing():
    x = cr.tensor(X)
    m = X > 40
    np.testing.assert_array_equal(to_np(x[m]), X[m])
    np.testing.assert_array_equal(to_np(x[:, cr.tensor(m[0])]), X[:, m[0]])
    rows = np.array([True, False, True])
    np.testing.assert_array_equal(to_np(x[rows]), X[rows])
    np.testing.assert_array_equal(to_np(x[:, cr.tensor([False, True, True, False])]), X[:, [1, 2]])


def test_bool_mask_shape_mismatch_is_index_error():
    with pytest.raises(IndexError, match="mask"):
        cr.tensor(X)[np.array([True, False])]


def test_out_of_range_indices_raise_index_error():
    x = cr.tensor(X)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[3]
    with pytest.raises(IndexError, match="index -6 is out of bounds"):
        x[0, 0, -6]
    with pytest.raises(IndexError, match="index 7 is out of bounds for dimension 1 with size 4"):
        x[:, [0, 7]]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0, 0]


def test_bad_index_types_and_steps():
    x = cr.tensor(X)
    with pytest.raises(TypeError, match="valid indices"):
        x[1.5]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(IndexError, match="long or bool"):
        x[cr.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., ...]


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: a[1],
        lambda a: a[:, 1:3],
        lambda a: a[None, ::2, -1],
        lambda a: a[[0, 2, 2, 0]],
        lambda a: a[:, [1, 1, 3]],
        lambda a: a[[0, 0, 2], [1, 1, 3]],
        lambda a: a[cr.tensor(rand(3, 4) > 0.2)],
        lambda a: a.T[[1, 0, 1]],
        lambda a: a.T[1:, ::2],
    ],
)
def test_index_gradients(fn):
    gradcheck(fn, rand(3, 4))


def test_repeated_advanced_indices_accumulate():
    x = leaf(np.zeros(4))
    x[[1, 1, 3, 1]].sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [0.0, 3.0, 0.0, 1.0])


def test_index_gradients_match_torch(torch):
    a = rand(3, 4, 5)
    check_against_torch(torch, lambda x: x[1:, [0, 0, 3]], lambda x: x[1:, [0, 0, 3]], a)
    check_against_torch(torch, lambda x: x[[2, 2], :, [1, 4]], lambda x: x[[2, 2], :, [1, 4]], a)
    check_against_torch(torch, lambda x: x[..., None, 1::2], lambda x: x[..., None, 1::2], a)


def test_double_backward_through_indexing():
    x = leaf(rand(4))
    y = (x[1:3] * x[1:3]).sum() + x[[0, 0]].sum() * x[0]
    (g,) = cr.autograd.grad(y, [x], create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [4.0, 2.0, 2.0, 0.0])


# ---- setitem ---------------------------------------------------------------------------------------
def test_setitem_basic_numbers_tensors_and_arrays():
    x = cr.zeros(3, 4)
    v0 = x._version
    x[0] = 1.0
    x[1, 1:3] = cr.tensor([5.0, 6.0])
    x[2] = np.arange(4.0)
    x[:, -1] = 9
    expected = np.zeros((3, 4))
    expected[0] = 1
    expected[1, 1:3] = [5, 6]
    expected[2] = np.arange(4.0)
    expected[:, -1] = 9
    np.testing.assert_array_equal(to_np(x), expected)
    assert x._version > v0


def test_setitem_advanced_and_mask():
    x = cr.tensor(np.arange(12.0).reshape(3, 4))
    x[[0, 2], [1, 3]] = cr.tensor([-1.0, -2.0])
    x[x.numpy() < 2] = 0.0
    ref = np.arange(12.0).reshape(3, 4)
    ref[[0, 2], [1, 3]] = [-1, -2]
    ref[ref < 2] = 0
    np.testing.assert_array_equal(to_np(x), ref)
    x[:, [0, 1]] = cr.tensor([[7.0], [8.0], [9.0]])
    ref[:, [0, 1]] = [[7], [8], [9]]
    np.testing.assert_array_equal(to_np(x), ref)


def test_setitem_overlapping_value_is_read_before_write():
    x = cr.tensor(np.arange(5.0))
    x[1:] = x[:-1]
    np.testing.assert_array_equal(to_np(x), [0, 0, 1, 2, 3])


def test_setitem_shape_mismatch_leaves_tensor_unchanged():
    x = cr.zeros(3)
    with pytest.raises(ValueError, match="shape mismatch"):
        x[:2] = cr.ones(3)
    np.testing.assert_array_equal(to_np(x), np.zeros(3))


def test_setitem_on_leaf_requiring_grad_raises_unless_no_grad():
    w = cr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 1.0
    with cr.no_grad():
        w[0] = 1.0
    assert w[0].item() == 1.0
    # On a non-leaf the write is recorded, as PyTorch's setitem (tests/test_inplace_views.py):
    # the written entry's gradient is zero.
    y = w * 2.0
    y[0] = 0.0
    y.sum().backward()
    assert w.grad.tolist() == [0.0, 2.0, 2.0]


def test_setitem_after_save_is_caught_by_version_counter():
    x = cr.ones(3)
    w = cr.ones(3, requires_grad=True)
    y = (w * x).sum()
    x[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


# ---- gather / index_select / masked_fill -------------------------------------------------------------
def test_gather_values_and_gradient():
    a = rand(3, 4)
    idx = np.array([[0, 0, 3], [1, 2, 1], [3, 3, 3]])
    out = cr.gather(cr.tensor(a), 1, cr.tensor(idx))
    np.testing.assert_array_equal(to_np(out), np.take_along_axis(a, idx, 1))
    gradcheck(lambda t: t.gather(1, cr.tensor(idx)), a)
    gradcheck(lambda t: t.T.gather(0, cr.tensor(idx.T[:, :2])), a)
    with pytest.raises(IndexError, match="out of bounds"):
        cr.gather(cr.tensor(a), 1, cr.tensor([[4]]))


def test_index_select_values_gradient_and_errors():
    a = rand(3, 4)
    idx = cr.tensor([3, 0, 3])
    np.testing.assert_array_equal(to_np(cr.index_select(cr.tensor(a), 1, idx)), a[:, [3, 0, 3]])
    gradcheck(lambda t: t.index_select(1, idx), a)
    gradcheck(lambda t: t.T.index_select(0, idx), a)
    with pytest.raises(IndexError, match="out of bounds"):
        cr.tensor(a).index_select(0, cr.tensor([3]))


def test_masked_fill_values_and_gradient():
    a = rand(3, 4)
    m = cr.tensor(a > 0)
    np.testing.assert_array_equal(to_np(cr.tensor(a).masked_fill(m, -1.0)), np.where(a > 0, -1.0, a))
    gradcheck(lambda t: t.masked_fill(m, 2.0), a)
    gradcheck(lambda t: t.masked_fill(cr.tensor([True, False, True, False]), 0.0), a)


def test_gather_index_select_masked_fill_match_torch(torch):
    a = rand(3, 4)
    idx = np.array([[0, 0], [2, 1], [3, 3]])
    check_against_torch(
        torch, lambda t: t.gather(1, cr.tensor(idx)), lambda t: t.gather(1, torch.tensor(idx)), a
    )
    check_against_torch(
        torch,
        lambda t: t.index_select(0, cr.tensor([2, 2, 0])),
        lambda t: t.index_select(0, torch.tensor([2, 2, 0])),
        a,
    )
    check_against_torch(
        torch,
        lambda t: t.masked_fill(cr.tensor(a > 0), 0.5),
        lambda t: t.masked_fill(torch.tensor(a > 0), 0.5),
        a,
    )
