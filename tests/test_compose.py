"""Functions composed from engine ops (chainrule/_compose.py): einsum, tensordot, stacking,
splitting, roll/tile/repeat_interleave, meshgrid, isclose/allclose/equal; values and gradients
against NumPy and float64 gradchecks (no PyTorch needed), then against PyTorch."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck
from helpers import to_np

rng = np.random.default_rng(0)


def _t(*shape, grad=True):
    return cr.tensor(rng.standard_normal(shape), requires_grad=grad)


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ijk,ikl,ilm->jm", [(2, 3, 4), (2, 4, 5), (2, 5, 3)]),
    ("ij,ij->i", [(2, 3), (2, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("i...->...", [(2, 3, 4)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_matches_numpy_and_gradchecks(eq, shapes):
    xs = [_t(*s) for s in shapes]
    out = cr.einsum(eq, *xs)
    np.testing.assert_allclose(to_np(out), np.einsum(eq, *[to_np(x) for x in xs]), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *a: cr.einsum(eq, *a), tuple(xs))


def test_einsum_accepts_a_list_and_checks_its_equation():
    a, b = _t(2, 3), _t(3, 4)
    np.testing.assert_allclose(to_np(cr.einsum("ij,jk->ik", [a, b])), to_np(a @ b), rtol=1e-12)
    with pytest.raises(ValueError):
        cr.einsum("ij,jk->ik", a)  # one operand for two specs
    with pytest.raises(ValueError):
        cr.einsum("ij,jk->ik", a, _t(4, 4))  # j: 3 vs 4
    with pytest.raises(ValueError):
        cr.einsum("ij->iz", a)  # z in no operand


def test_tensordot_int_and_pairs():
    a, b = _t(2, 3, 4), _t(3, 4, 5)
    np.testing.assert_allclose(to_np(cr.tensordot(a, b, 2)), np.tensordot(to_np(a), to_np(b), 2), rtol=1e-12)
    c = _t(4, 3, 5)
    out = cr.tensordot(a, c, dims=([1, 2], [1, 0]))
    np.testing.assert_allclose(to_np(out), np.tensordot(to_np(a), to_np(c), ([1, 2], [1, 0])), rtol=1e-12)
    assert gradcheck(lambda x, y: cr.tensordot(x, y, dims=([1, 2], [1, 0])), (a, c))
    with pytest.raises(ValueError):
        cr.tensordot(a, c, dims=([1], [2]))


def test_stacking():
    a, b = cr.arange(3.0), cr.arange(3.0) + 10
    assert to_np(cr.hstack([a, b])).tolist() == [0, 1, 2, 10, 11, 12]
    assert tuple(cr.vstack([a, b]).shape) == (2, 3)
    assert tuple(cr.dstack([a, b]).shape) == (1, 3, 2)
    assert tuple(cr.column_stack([a, b]).shape) == (3, 2)
    assert tuple(cr.atleast_3d(cr.tensor(1.0)).shape) == (1, 1, 1)
    x, y = _t(2, 3), _t(2, 2)
    assert gradcheck(lambda p, q: cr.hstack([p, q]), (x, y))


def test_tensor_split_sections_and_indices():
    x = cr.arange(7)
    assert [to_np(p).tolist() for p in cr.tensor_split(x, 3)] == [[0, 1, 2], [3, 4], [5, 6]]
    assert [to_np(p).tolist() for p in x.tensor_split([1, 5])] == [[0], [1, 2, 3, 4], [5, 6]]
    assert [p.numel() for p in cr.tensor_split(x, [5, 2])] == [5, 0, 5]


def test_roll_tile_repeat_interleave_unflatten():
    x = cr.arange(6).reshape(2, 3)
    assert to_np(cr.roll(x, 1)).tolist() == [[5, 0, 1], [2, 3, 4]]
    assert to_np(x.roll(-1, 1)).tolist() == [[1, 2, 0], [4, 5, 3]]
    assert to_np(x.roll((1, 1), (0, 1))).tolist() == [[5, 3, 4], [2, 0, 1]]
    assert tuple(x.tile(2).shape) == (2, 6) and tuple(cr.tile(x, (2, 1, 1)).shape) == (2, 2, 3)
    assert to_np(cr.repeat_interleave(cr.tensor([1, 2]), 2)).tolist() == [1, 1, 2, 2]
    assert to_np(x.repeat_interleave(cr.tensor([1, 2]), dim=0)).tolist() == [[0, 1, 2], [3, 4, 5], [3, 4, 5]]
    assert to_np(cr.repeat_interleave(cr.tensor([2, 0, 1]))).tolist() == [0, 0, 2]
    assert tuple(cr.arange(12).unflatten(0, (3, -1)).shape) == (3, 4)
    w = _t(2, 3)
    assert gradcheck(lambda t: cr.roll(t, (1, 2), (0, 1)), (w,))
    assert gradcheck(lambda t: t.repeat_interleave(cr.tensor([2, 1]), dim=0), (w,))
    with pytest.raises(ValueError):
        cr.unflatten(cr.arange(12), 0, (5, -1))


def test_meshgrid_indexing():
    a, b = cr.arange(3), cr.arange(2)
    gi, gj = cr.meshgrid(a, b, indexing="ij")
    assert tuple(gi.shape) == (3, 2)
    gx, gy = cr.meshgrid(a, b, indexing="xy")
    assert tuple(gx.shape) == (2, 3)
    assert to_np(gx).tolist() == [[0, 1, 2], [0, 1, 2]] and to_np(gy).tolist() == [[0, 0, 0], [1, 1, 1]]


def test_isclose_allclose_equal():
    a = cr.tensor([1.0, float("nan"), float("inf"), 2.0])
    b = cr.tensor([1.0 + 1e-9, float("nan"), float("inf"), 2.1])
    assert to_np(cr.isclose(a, b)).tolist() == [True, False, True, False]
    assert to_np(cr.isclose(a, b, equal_nan=True)).tolist() == [True, True, True, False]
    assert cr.allclose(cr.ones(3), cr.ones(3) + 1e-9) and not cr.allclose(a, b)
    assert cr.equal(cr.arange(3), cr.arange(3)) and not cr.equal(cr.arange(3), cr.arange(4))
    assert cr.ones(2).allclose(cr.ones(2))


def test_compositions_match_torch(torch):
    x = rng.standard_normal((3, 4))
    cx, tx = cr.tensor(x), torch.tensor(x)
    pairs = [
        (lambda m, t: m.roll(t, (1, -2), (0, 1)), None),
        (lambda m, t: m.tile(t, (2, 1, 2)), None),
        (lambda m, t: m.rot90(t, 1, (0, 1)), None),
        (lambda m, t: m.rot90(t, 3, (1, 0)), None),
        (lambda m, t: m.vstack([t, t]), None),
        (lambda m, t: m.column_stack([t[0], t[1]]), None),
        (lambda m, t: m.cartesian_prod(t[0], t[1]), None),
    ]
    for f, _ in pairs:
        np.testing.assert_allclose(to_np(f(cr, cx)), f(torch, tx).numpy(), rtol=1e-12)
    for eq, shapes in EINSUM_CASES:
        arrs = [rng.standard_normal(s) for s in shapes]
        np.testing.assert_allclose(
            to_np(cr.einsum(eq, *[cr.tensor(a) for a in arrs])),
            torch.einsum(eq, *[torch.tensor(a) for a in arrs]).numpy(),
            rtol=1e-10,
            atol=1e-12,
        )
    for n in (1, 2, 3, 5):
        ours = [p.numel() for p in cr.tensor_split(cr.arange(7), n)]
        theirs = [p.numel() for p in torch.tensor_split(torch.arange(7), n)]
        assert ours == theirs


def test_floor_division_and_modulo_operators():
    a, b = cr.tensor([7, -7, 8]), cr.tensor([2, 2, -3])
    assert (a // b).tolist() == [3, -4, -3] and (a // b).dtype == cr.int64
    assert (a % b).tolist() == [1, 1, -1]
    assert (7 // cr.tensor([2, 3])).tolist() == [3, 2] and (5 % cr.tensor([3])).tolist() == [2]
    assert (cr.tensor([7.5, -7.5]) // 2.0).tolist() == [3.0, -4.0]
    assert cr.floor_divide(cr.tensor([5]), 2).tolist() == [2]
    with pytest.raises(ValueError):
        cr.tensor([1]) // cr.tensor([0])
