"""Writes through indexing and views, recorded by autograd as PyTorch does: setitem and index_put_
(IndexPutBackward0, or CopySlices through a view), in-place ops on views (the base's history is
rebased, views regenerate their grad_fn from it), and the errors PyTorch raises (leaves and views
of leaves, views made under no_grad, outputs of ops returning several views, saved tensors
modified in place, writes through expanded views)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from helpers import check_against_torch, leaf, rand, to_np

LEAF_MSG = "a leaf Variable that requires grad is being used in an in-place operation"
VIEW_OF_LEAF_MSG = "a view of a leaf Variable that requires grad is being used in an in-place operation"
NO_GRAD_VIEW_MSG = "A view was created in no_grad mode and is being modified inplace with grad mode enabled"
MULTI_MSG = "This view is the output of a function that returns multiple views"
SAVED_MSG = "one of the variables needed for gradient computation has been modified by an inplace operation"
OVERLAP_MSG = "more than one element of the written-to tensor refers to a single memory location"


def gradcheck(fn, *arrays):
    xs = [cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    assert cr.autograd.gradcheck(fn, xs, eps=1e-6, atol=1e-6, rtol=1e-4)


def idx(lib, values):
    return lib.tensor(values)


# ---- cases shared by the no-torch gradchecks and the PyTorch comparisons -------------------------
# Each takes the library (chainrule or torch) and returns a function of float64 tensors.


def basic_setitem_row(lib):
    def f(x, w):  # x [3, 4], w [4]
        y = x * 1
        y[0] = w
        return y

    return f, [(3, 4), (4,)]


def setitem_slice_broadcast(lib):
    def f(x, w):  # w [3] broadcast along the two written columns
        y = x.clone()
        y[:, 1:3] = w[:, None]
        return y

    return f, [(3, 4), (3,)]


def setitem_ellipsis_none(lib):
    def f(x, w):
        y = x * 2
        y[..., 0] = w
        y[None, 1] = y[1] * 3
        return y

    return f, [(3, 4), (3,)]


def setitem_scalar(lib):
    def f(x):
        y = x.exp()
        y = y * 1
        y[1, 2] = 5.0
        return y

    return f, [(3, 4)]


def setitem_advanced_rows(lib):
    def f(x, w):
        y = x * 1
        y[idx(lib, [2, 0])] = w
        return y

    return f, [(3, 4), (2, 4)]


def setitem_advanced_duplicates(lib):
    def f(x, w):  # both written rows get the same values: the result does not depend on the order
        y = x * 1
        y[idx(lib, [1, 1])] = w.expand(2, 4)
        return y

    return f, [(3, 4), (4,)]


def index_put_accumulate_duplicates(lib):
    def f(x, w):
        y = x * 1
        y.index_put_((idx(lib, [0, 2, 0]),), w, accumulate=True)
        return y

    return f, [(3, 4), (3, 4)]


def index_put_functional(lib):
    def f(x, w):
        return lib.index_put(x, (idx(lib, [1, 0]), idx(lib, [3, 3])), w), lib.index_put(
            x, (idx(lib, [2, 2]),), w[:, None], True
        )

    return f, [(3, 4), (2,)]


def setitem_bool_mask(lib):
    def f(x, w):
        y = x * 1
        y[lib.tensor([[True, False, True, False], [False, False, True, True], [False] * 4])] = w
        return y

    return f, [(3, 4), (4,)]


def setitem_mixed_basic_advanced(lib):
    def f(x, w):  # a view (rows 1:) then columns 0 and 2 of it
        y = x * 1
        y[1:, idx(lib, [0, 2])] = w
        return y

    return f, [(3, 4), (2, 2)]


def setitem_non_adjacent_advanced(lib):
    def f(x, w):
        y = x * 1
        y[idx(lib, [0, 1]), :, idx(lib, [1, 3])] = w  # result dims [2, 3]
        return y

    return f, [(2, 3, 4), (2, 3)]


def mul_column_view(lib):
    def f(x):
        y = x.clone()
        y[:, 0].mul_(2)
        return y

    return f, [(3, 4)]


def add_through_flat_view(lib):
    def f(x, w):
        y = x * 1
        v = y.view(-1)
        v.add_(w)
        return y, v

    return f, [(3, 4), (12,)]


def zero_transposed_row(lib):
    def f(x):
        y = x * 3
        y.transpose(0, 1)[0].zero_()
        return y

    return f, [(3, 4)]


def copy_into_narrow(lib):
    def f(x, z):
        y = x.sin()
        y.narrow(0, 1, 2).copy_(z)
        return y

    return f, [(3, 4), (2, 4)]


def view_of_view_strided(lib):
    def f(x, w):
        y = x * 1
        y[1:][:, ::2].mul_(w)  # rows 1.., every other column
        return y

    return f, [(3, 4), (2, 2)]


def view_used_after_write(lib):
    def f(x, w):
        y = x * 1
        v = y[0]
        v.mul_(w)
        out = v * 3 + y.sum()
        return out, y

    return f, [(3, 4), (4,)]


def old_view_sees_base_write(lib):
    def f(x, w):
        y = x * 1
        v = y.t()  # made before the write
        y.mul_(w)
        return v * 1

    return f, [(3, 4), (4,)]


def two_views_written(lib):
    def f(x):
        y = x * 1
        a = y[0]
        b = y[:, 1]
        a.mul_(2)
        b[1:3].add_(a[1:])
        return y, a, b

    return f, [(4, 3)]


def setitem_through_transposed_view(lib):
    def f(x, w):
        y = x * 1
        v = y.t()
        v[0] = w
        return y, v

    return f, [(3, 4), (3,)]


def write_into_base_without_grad(lib):
    def f(w):
        y = lib.zeros(3, 4, dtype=lib.float64)
        y[1].copy_(w)
        y[2, 1:] = w[:3] * 2
        return y

    return f, [(4,)]


def advanced_setitem_through_view(lib):
    def f(x, w):
        y = x * 1
        v = y[:, 1:]
        v[idx(lib, [0, 2])] = w
        return y

    return f, [(3, 4), (3,)]


def inplace_arith_chain_of_views(lib):
    def f(x, w):
        y = x.clone()
        v = y.view(2, 6)[:, 1:5].reshape(2, 2, 2)
        v.mul_(w)
        v.sub_(1)
        return y, v

    return f, [(3, 4), (2,)]


CASES = [
    basic_setitem_row,
    setitem_slice_broadcast,
    setitem_ellipsis_none,
    setitem_scalar,
    setitem_advanced_rows,
    setitem_advanced_duplicates,
    index_put_accumulate_duplicates,
    index_put_functional,
    setitem_bool_mask,
    setitem_mixed_basic_advanced,
    setitem_non_adjacent_advanced,
    mul_column_view,
    add_through_flat_view,
    zero_transposed_row,
    copy_into_narrow,
    view_of_view_strided,
    view_used_after_write,
    old_view_sees_base_write,
    two_views_written,
    setitem_through_transposed_view,
    write_into_base_without_grad,
    advanced_setitem_through_view,
    inplace_arith_chain_of_views,
]


# Plain setitem with repeated indices keeps one write, but PyTorch gives every write the gradient of
# its entry (IndexPutBackward0 gathers), which finite differences do not see: checked against
# PyTorch and by hand only.
GRADCHECK_CASES = [c for c in CASES if c is not setitem_advanced_duplicates]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=lambda c: c.__name__)
def test_gradcheck_of_writes(case):
    fn, shapes = case(cr)
    gradcheck(fn, *[rand(*s, seed=i) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_matches_torch(torch, case):
    fn_c, shapes = case(cr)
    fn_t, _ = case(torch)
    check_against_torch(torch, fn_c, fn_t, *[rand(*s, seed=i) for i, s in enumerate(shapes)])


# ---- values and gradients by hand --------------------------------------------------------------


def test_setitem_row_gradient_is_zero_where_written():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    w = leaf([10.0, 20.0])
    y = x * 1
    y[0] = w
    assert y.tolist() == [[10.0, 20.0], [3.0, 4.0]]
    assert y.grad_fn.name() == "CopySlices"
    (y * cr.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0], [3.0, 4.0]]
    assert w.grad.tolist() == [1.0, 2.0]


def test_setitem_broadcast_value_gets_summed_gradient():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w = leaf(7.0)
    y = x.clone()
    y[:, 1:] = w
    assert y.tolist() == [[1.0, 7.0, 7.0], [4.0, 7.0, 7.0]]
    y.sum().backward()
    assert w.grad.item() == 4.0
    assert x.grad.tolist() == [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]


def test_advanced_setitem_records_index_put():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([5.0, 6.0])
    y = x * 1
    y[cr.tensor([2, 0])] = w
    assert y.tolist() == [6.0, 2.0, 5.0]
    assert y.grad_fn.name() == "IndexPutBackward0"
    (y * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 0.0]
    assert w.grad.tolist() == [3.0, 1.0]


def test_duplicate_indices_last_wins_and_every_copy_gets_the_gradient():
    y = cr.zeros(3)
    w = leaf([1.0, 2.0])
    y[cr.tensor([0, 0])] = w
    assert y.tolist() == [2.0, 0.0, 0.0]
    (y * cr.tensor([5.0, 1.0, 1.0])).sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]  # as PyTorch: the gradient of the entry, for each write


def test_index_put_accumulate_adds_duplicates():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([1.0, 10.0, 100.0])
    y = x * 1
    y.index_put_((cr.tensor([0, 0, 2]),), w, accumulate=True)
    assert y.tolist() == [12.0, 2.0, 103.0]
    (y * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0]  # accumulate keeps self's gradient
    assert w.grad.tolist() == [1.0, 1.0, 3.0]


def test_index_put_functional_leaves_input_alone():
    x = leaf([1.0, 2.0, 3.0])
    y = cr.index_put(x, (cr.tensor([True, False, True]),), cr.tensor(0.0, dtype=cr.float64))
    assert y.tolist() == [0.0, 2.0, 0.0] and x.tolist() == [1.0, 2.0, 3.0]
    assert y.grad_fn.name() == "IndexPutBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]
    assert x.index_put((cr.tensor([1]),), cr.tensor([5.0], dtype=cr.float64), True).tolist() == [
        1.0,
        7.0,
        3.0,
    ]


def test_index_put_argument_errors():
    x = cr.zeros(3, 2)
    with pytest.raises(TypeError, match="expected Tensor as element 1"):
        cr.index_put(x, (cr.tensor([0]), None), cr.tensor(1.0))
    with pytest.raises(TypeError, match="dtypes match"):
        cr.index_put(x, (cr.tensor([0]),), cr.tensor([1.0, 2.0], dtype=cr.float64))
    with pytest.raises(IndexError, match="long or bool"):
        cr.index_put(x, (cr.tensor([0.0]),), cr.ones(2))
    with pytest.raises(ValueError, match="shape mismatch"):
        cr.index_put(x, (cr.tensor([0]),), cr.ones(2, 2))
    with pytest.raises(IndexError, match="out of bounds"):
        x.index_put_((cr.tensor([3]),), cr.ones(2))
    assert x.tolist() == [[0.0, 0.0]] * 3 and x._version == 0


def test_inplace_on_column_view_rebases_the_base():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x.clone()
    v = y[:, 0]
    v.mul_(2)
    assert y.tolist() == [[2.0, 2.0], [6.0, 4.0]]
    assert y.grad_fn.name() == "CopySlices"
    assert v.grad_fn.name() == "AsStridedBackward0"
    (y.sum() + (v * v).sum()).backward()
    # y = [[2a, b], [2c, d]], v = [2a, 2c]: d/da = 2 + 8a
    assert x.grad.tolist() == [[2.0 + 8.0, 1.0], [2.0 + 24.0, 1.0]]


def test_view_made_before_the_write_sees_it():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    v = y[1:]
    y.mul_(cr.tensor([2.0, 3.0, 4.0], dtype=cr.float64))
    assert v.grad_fn.name() == "AsStridedBackward0"
    v.sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 4.0]


def test_write_into_base_without_grad_makes_it_require_grad():
    y = cr.zeros(2, 3, dtype=cr.float64)
    r = y[1]  # a view made before the write
    w = leaf([1.0, 2.0, 3.0])
    y[0].copy_(w * 2)
    assert y.requires_grad and not y.is_leaf and y.grad_fn.name() == "CopySlices"
    assert r.requires_grad
    (y * y).sum().backward()
    assert w.grad.tolist() == [8.0, 16.0, 24.0]


def test_no_grad_writes_are_not_recorded():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    with cr.no_grad():
        y[0] = 10.0
        y[1:].mul_(2)
    assert y.tolist() == [10.0, 4.0, 6.0]
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_second_order_through_a_view_write():
    x = leaf([1.0, 2.0])
    y = x * x
    y[0:1].mul_(x[0:1])  # y = [a^3, b^2]
    (g,) = cr.autograd.grad(y.sum(), [x], create_graph=True)
    assert g.tolist() == [3.0, 4.0]
    (gg,) = cr.autograd.grad(g.sum(), [x])
    assert gg.tolist() == [6.0, 2.0]


# ---- errors ------------------------------------------------------------------------------------


def test_leaf_writes_raise_and_leave_it_unchanged():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(RuntimeError, match=VIEW_OF_LEAF_MSG):
        x[0] = 5.0
    with pytest.raises(RuntimeError, match=LEAF_MSG):
        x[cr.tensor([0])] = 5.0
    with pytest.raises(RuntimeError, match=VIEW_OF_LEAF_MSG):
        x.view(-1).add_(1)
    with pytest.raises(RuntimeError, match=VIEW_OF_LEAF_MSG):
        x.t()[0].mul_(cr.tensor(2.0, dtype=cr.float64))
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]] and x._version == 0
    with cr.no_grad():
        x[0] = 5.0
    assert x.tolist() == [[5.0, 5.0], [3.0, 4.0]] and x.is_leaf
    # A view made to require grad is a leaf; its views are views of a leaf too, as in PyTorch.
    w = cr.arange(6.0).reshape(2, 3).requires_grad_()
    with pytest.raises(RuntimeError, match=VIEW_OF_LEAF_MSG):
        w.T.add_(1)
    assert w.is_leaf and w.grad_fn is None and w.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_views_made_under_no_grad_refuse_recorded_writes():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    with cr.no_grad():
        v = y[1:]
    with pytest.raises(RuntimeError, match=NO_GRAD_VIEW_MSG):
        v.mul_(2)
    w = cr.zeros(3)
    with cr.no_grad():
        u = w[:2]
    with pytest.raises(RuntimeError, match=NO_GRAD_VIEW_MSG):
        u.copy_(x[:2])
    assert y.tolist() == [1.0, 2.0, 3.0] and w.tolist() == [0.0, 0.0, 0.0]
    with cr.no_grad():
        v.mul_(2)  # both inside no_grad: allowed, not recorded
    assert y.tolist() == [1.0, 4.0, 6.0]


@pytest.mark.parametrize("split", ["unbind", "split", "chunk"])
def test_outputs_of_multi_view_ops_refuse_writes(split):
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    parts = {"unbind": lambda: y.unbind(0), "split": lambda: y.split(1), "chunk": lambda: y.chunk(2)}[split]()
    with pytest.raises(
        RuntimeError, match="Output 0 of .* is a view and is being modified inplace. " + MULTI_MSG
    ):
        parts[0].mul_(2)
    with pytest.raises(RuntimeError, match=MULTI_MSG):
        parts[1][0].zero_()  # a view of such a view too
    assert y.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    a, b = cr.zeros(2, 2).unbind(0)
    a.mul_(2)  # nothing requires grad: allowed
    with pytest.raises(RuntimeError, match=MULTI_MSG):
        b.copy_(x[0])


def test_multi_view_output_after_its_base_is_written():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    a, b = y.unbind(0)
    y.mul_(2)
    with pytest.raises(RuntimeError, match="its base or another view of its base has been modified inplace"):
        _ = a.grad_fn


def test_saved_tensor_modified_through_a_view_raises_at_backward():
    x = leaf([1.0, 2.0, 3.0])
    y = x.exp()  # saves its output
    y[0] = 1.0
    with pytest.raises(RuntimeError, match=SAVED_MSG):
        y.sum().backward()
    a = x * 1
    b = a * a  # saves a
    a[1:].zero_()
    with pytest.raises(RuntimeError, match=SAVED_MSG):
        b.sum().backward()
    c = x * 1
    d = c.sin()
    c.view(3, 1)[0].mul_(2)
    with pytest.raises(RuntimeError, match=SAVED_MSG):
        d.sum().backward()


def test_write_through_expanded_view_raises_and_changes_nothing():
    for index, value in [(0, cr.arange(4.0)), ((slice(None), slice(1, None)), cr.ones(3, 3)), (0, 5.0)]:
        src = cr.arange(3.0).reshape(3, 1)
        with pytest.raises(RuntimeError, match=OVERLAP_MSG):
            src.expand(3, 4)[index] = value
        assert src.tolist() == [[0.0], [1.0], [2.0]]
    src = cr.arange(4.0)
    e = src.expand(3, 4)
    e[0] = cr.tensor([9.0, 8.0, 7.0, 6.0])  # one row of an expanded tensor has no overlap
    assert src.tolist() == [9.0, 8.0, 7.0, 6.0]


# ---- the same errors in PyTorch ---------------------------------------------------------------


def test_errors_match_torch(torch):
    def raises(fn):
        try:
            fn()
        except RuntimeError as e:
            return str(e)
        return None

    def cases(lib):
        def leaf_setitem():
            x = lib.ones(2, 2, dtype=lib.float64, requires_grad=True)
            x[0] = 5.0

        def leaf_advanced():
            x = lib.ones(2, 2, dtype=lib.float64, requires_grad=True)
            x[lib.tensor([0])] = 5.0

        def no_grad_view():
            y = lib.ones(3, dtype=lib.float64, requires_grad=True) * 1
            with lib.no_grad():
                v = y[1:]
            v.mul_(2)

        def unbind_view():
            y = lib.ones(2, 2, dtype=lib.float64, requires_grad=True) * 1
            y.unbind(0)[1].mul_(2)

        def saved():
            y = lib.ones(3, dtype=lib.float64, requires_grad=True).exp()
            y[0] = 1.0
            y.sum().backward()

        def expanded():
            lib.arange(3.0).reshape(3, 1).expand(3, 4)[0] = lib.arange(4.0)

        return [leaf_setitem, leaf_advanced, no_grad_view, unbind_view, saved, expanded]

    expected = [VIEW_OF_LEAF_MSG, LEAF_MSG, NO_GRAD_VIEW_MSG, MULTI_MSG, SAVED_MSG, OVERLAP_MSG]
    for c, t, msg in zip(cases(cr), cases(torch), expected):
        mc, mt = raises(c), raises(t)
        assert mt is not None and msg in mt, (c.__name__, mt)
        assert mc is not None and msg in mc, (c.__name__, mc)
    assert "Output 1 of Unbind" in raises(cases(cr)[3])


def test_grad_fn_names_match_torch(torch):
    def names(lib):
        x = lib.ones(3, 4, dtype=lib.float64, requires_grad=True)
        y = x * 1
        v = y[0]
        v.mul_(2)
        z = x * 1
        z[lib.tensor([0, 1])] = 1.0
        u = x * 1
        u[1:, 0] = 3.0
        fns = [y.grad_fn, v.grad_fn, z.grad_fn, u.grad_fn]
        return [f.name().split("::")[-1] for f in fns]  # PyTorch's is "torch::autograd::CopySlices"

    assert (
        names(cr) == names(torch) == ["CopySlices", "AsStridedBackward0", "IndexPutBackward0", "CopySlices"]
    )


def test_versions_match_torch(torch):
    def versions(lib):
        y = lib.zeros(3, 4, dtype=lib.float64)
        v = y[0]
        y[1] = 1.0
        v.add_(1)
        y[lib.tensor([0, 2])] = 2.0
        return [y._version, v._version]

    assert versions(cr) == versions(torch)


def test_values_after_writes_match_torch(torch):
    a = rand(4, 5)

    def run(lib):
        y = lib.tensor(a.copy())
        y[1:3, ::2] = 0.5
        y.t()[1].mul_(2)
        y[lib.tensor([0, 0, 3])] = lib.tensor(a[:3].copy())
        y.index_put_(
            (lib.tensor([1, 1]), lib.tensor([4, 4])), lib.tensor([1.0, 2.0], dtype=lib.float64), True
        )
        return y

    np.testing.assert_allclose(to_np(run(cr)), run(torch).numpy())
