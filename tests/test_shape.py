"""Shape ops: views share storage, gradients flow back to the input's shape, errors name shapes."""

import numpy as np
import pytest

import chainrule as cr
from helpers import check_against_torch, gradcheck, leaf, rand, to_np


# ---- views ---------------------------------------------------------------------------------------
def test_flatten_shapes_and_view_shares_memory():
    x = cr.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.flatten().shape == (24,)
    assert x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4)
    assert cr.flatten(x, start_dim=-2).shape == (2, 12)
    f = x.flatten()
    x.numpy()[0, 0, 1] = 100.0
    assert f[1].item() == 100.0 and f.is_view


def test_flatten_rejects_start_after_end():
    with pytest.raises(ValueError, match="start_dim"):
        cr.ones(2, 3).flatten(1, 0)


def test_squeeze_all_one_or_tuple_of_dims():
    x = cr.zeros(1, 3, 1, 2)
    assert x.squeeze().shape == (3, 2)
    assert x.squeeze(0).shape == (3, 1, 2)
    assert x.squeeze(1).shape == (1, 3, 1, 2)  # size 3: kept, as in PyTorch
    assert cr.squeeze(x, (0, 2)).shape == (3, 2)
    s = x.squeeze()
    x.numpy()[0, 1, 0, 1] = 7.0
    assert s[1, 1].item() == 7.0


def test_broadcast_to_is_expand_and_sums_gradient_back():
    gradcheck(lambda a: cr.broadcast_to(a, (4, 2, 3)), rand(2, 1))
    assert cr.ones(3).broadcast_to((2, 3)).shape == (2, 3)


def test_view_as_expand_as_reshape_as():
    x = cr.ones(6)
    assert x.view_as(cr.zeros(2, 3)).shape == (2, 3)
    assert x.reshape_as(cr.zeros(3, 2)).shape == (3, 2)
    assert cr.ones(1, 3).expand_as(cr.zeros(4, 3)).shape == (4, 3)


def test_bad_reshape_raises_value_error():
    with pytest.raises(ValueError, match="invalid for input of size 6"):
        cr.ones(2, 3).reshape(4, 2)


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: a.flatten(),
        lambda a: a.squeeze(),
        lambda a: a.narrow(2, 1, 2),
        lambda a: a.select(0, 1),
        lambda a: cr.movedim(a, 0, -1),
        lambda a: a.flip(0, 2),
        lambda a: a.repeat(2, 1, 3),
        lambda a: a.repeat(2, 1, 1, 2),
    ],
)
def test_shape_op_gradients(fn):
    gradcheck(fn, rand(3, 1, 4))


def test_gradients_through_non_contiguous_input():
    gradcheck(lambda a: a.transpose(0, 1).flatten(), rand(3, 4))
    gradcheck(lambda a: a.T.narrow(0, 1, 2), rand(3, 4))
    gradcheck(lambda a: cr.cat([a.T, a.T * 2.0], 1), rand(3, 4))
    gradcheck(lambda a: a.T.split(2)[1], rand(3, 4))


# ---- cat / stack ------------------------------------------------------------------------------------
def test_cat_values_and_gradients():
    a, b = rand(2, 3), rand(1, 3, seed=1)
    out = cr.cat([cr.tensor(a), cr.tensor(b)])
    np.testing.assert_array_equal(to_np(out), np.concatenate([a, b]))
    gradcheck(lambda x, y: cr.cat([x, y], dim=0), a, b)
    gradcheck(lambda x, y: cr.cat((x, y, x), dim=-1), rand(2, 3), rand(2, 1, seed=2))


def test_cat_promotes_dtypes():
    out = cr.cat([cr.tensor([1, 2]), cr.tensor([0.5])])
    assert out.dtype == cr.float32
    np.testing.assert_allclose(to_np(out), [1, 2, 0.5])
    assert cr.cat([cr.tensor([True]), cr.tensor([3])]).dtype == cr.int64


def test_cat_gradient_to_a_lower_precision_input_keeps_its_dtype():
    a = cr.tensor(np.ones(2, np.float32), requires_grad=True)
    b = cr.tensor(np.ones(3, np.float64), requires_grad=True)
    cr.cat([a, b]).sum().backward()
    assert a.grad.dtype == cr.float32 and b.grad.dtype == cr.float64


def test_cat_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\[2, 3\].*\[2, 4\]"):
        cr.cat([cr.ones(2, 3), cr.ones(2, 4)])
    with pytest.raises(ValueError, match="same number of dimensions"):
        cr.cat([cr.ones(2, 3), cr.ones(3)])


def test_cat_empty_list_and_non_tensors():
    with pytest.raises(ValueError, match="non-empty"):
        cr.cat([])
    with pytest.raises(TypeError, match="element 1"):
        cr.cat([cr.ones(2), 3])


def test_cat_skips_legacy_empty_1d_tensors():
    assert cr.cat([cr.ones(2, 3), cr.zeros(0)]).shape == (2, 3)


def test_stack_values_gradients_and_errors():
    a, b = rand(2, 3), rand(2, 3, seed=1)
    np.testing.assert_array_equal(to_np(cr.stack([cr.tensor(a), cr.tensor(b)], 1)), np.stack([a, b], 1))
    gradcheck(lambda x, y: cr.stack([x, y], dim=2), a, b)
    with pytest.raises(ValueError, match="equal size"):
        cr.stack([cr.ones(2), cr.ones(3)])
    with pytest.raises(ValueError, match="non-empty"):
        cr.stack([])


# ---- split / chunk / unbind ------------------------------------------------------------------------------
def test_split_by_size_and_sections_are_views():
    x = cr.tensor(np.arange(10.0).reshape(5, 2))
    parts = cr.split(x, 2)
    assert [tuple(p.shape) for p in parts] == [(2, 2), (2, 2), (1, 2)]
    assert isinstance(parts, tuple)
    secs = x.split([1, 4])
    assert [tuple(p.shape) for p in secs] == [(1, 2), (4, 2)]
    x.numpy()[4, 1] = -1.0
    assert secs[1][3, 1].item() == -1.0
    with pytest.raises(ValueError, match="sum exactly to 5"):
        x.split([1, 2])


def test_split_gradient_zero_fills_unused_pieces():
    x = leaf(rand(5, 2))
    a, b, c = cr.split(x, 2)
    (b * 3.0).sum().backward()
    expected = np.zeros((5, 2))
    expected[2:4] = 3.0
    np.testing.assert_array_equal(to_np(x.grad), expected)
    gradcheck(lambda t: cr.split(t, [1, 3], dim=1)[1], rand(2, 4))
    gradcheck(lambda t: cr.cat(list(t.chunk(3, 1))[::-1], 1), rand(2, 5))


def test_chunk_may_return_fewer_pieces():
    assert len(cr.ones(5).chunk(4)) == 3  # ceil(5/4)=2 per piece, like PyTorch
    assert [p.shape for p in cr.chunk(cr.ones(6, 1), 3)] == [(2, 1)] * 3
    with pytest.raises(ValueError, match="greater than 0"):
        cr.ones(3).chunk(0)


def test_unbind_views_and_gradient():
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    rows = x.unbind(1)
    assert len(rows) == 3 and rows[2].shape == (2,)
    np.testing.assert_array_equal(to_np(rows[2]), [2.0, 5.0])
    gradcheck(lambda t: t.unbind(0)[1] * 2.0, rand(3, 2))


def test_narrow_select_errors():
    with pytest.raises(ValueError, match="exceeds dimension size"):
        cr.ones(3, 4).narrow(1, 2, 3)
    with pytest.raises(IndexError, match="out of bounds"):
        cr.ones(3, 4).select(0, 3)


def test_flip_and_repeat_values():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(to_np(cr.tensor(x).flip(1)), x[:, ::-1])
    np.testing.assert_array_equal(to_np(cr.flip(cr.tensor(x), (0, 1))), x[::-1, ::-1])
    np.testing.assert_array_equal(to_np(cr.tensor(x).repeat(2, 2)), np.tile(x, (2, 2)))
    with pytest.raises(ValueError, match="can not be smaller"):
        cr.tensor(x).repeat(2)


def test_movedim_matches_numpy():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(
        to_np(cr.movedim(cr.tensor(x), (0, 1), (2, 0))), np.moveaxis(x, (0, 1), (2, 0))
    )


# ---- against PyTorch -----------------------------------------------------------------------------------
def test_shape_ops_match_torch(torch):
    a, b = rand(2, 3, 4), rand(2, 1, 4, seed=1)
    check_against_torch(torch, lambda x, y: cr.cat([x, y], 1), lambda x, y: torch.cat([x, y], 1), a, b)
    check_against_torch(torch, lambda x: x.split([1, 3], -1), lambda x: x.split([1, 3], -1), a)
    check_against_torch(torch, lambda x: x.chunk(2, 2), lambda x: x.chunk(2, 2), a)
    check_against_torch(torch, lambda x: x.unbind(1), lambda x: x.unbind(1), a)
    check_against_torch(torch, lambda x: cr.stack([x, x], -1), lambda x: torch.stack([x, x], -1), a)
    check_against_torch(torch, lambda x: x.flatten(1).T.squeeze(), lambda x: x.flatten(1).T.squeeze(), b)
    check_against_torch(
        torch, lambda x: x.flip(0, 2).repeat(1, 2, 1), lambda x: x.flip(0, 2).repeat(1, 2, 1), a
    )
    check_against_torch(torch, lambda x: cr.movedim(x, 0, 2), lambda x: torch.movedim(x, 0, 2), a)
    check_against_torch(torch, lambda x: x.narrow(2, 1, 2), lambda x: x.narrow(2, 1, 2), a)


def test_double_backward_through_cat_and_split():
    x = leaf(rand(4))
    y = cr.cat([x * x, x]).split([2, 6])[0].sum()
    (g,) = cr.autograd.grad(y, [x], create_graph=True)
    g.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [2.0, 2.0, 0.0, 0.0])
