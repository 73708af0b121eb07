"""In-place ops: values, the version counter, autograd rules (leaf, non-leaf rebase, views),
dtype and shape checks, and the no_grad optimizer path."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from helpers import leaf, rand, to_np


def test_inplace_arithmetic_values_and_returns_self():
    x = cr.tensor([1.0, 2.0, 3.0])
    assert x.add_(1.0)._is_same(x)
    assert x.tolist() == [2.0, 3.0, 4.0]
    x.sub_(cr.tensor([1.0, 1.0, 1.0]), alpha=2.0)
    assert x.tolist() == [0.0, 1.0, 2.0]
    x.mul_(cr.tensor([2.0]))
    assert x.tolist() == [0.0, 2.0, 4.0]
    x.div_(2)
    assert x.tolist() == [0.0, 1.0, 2.0]
    x.add_(cr.tensor([1.0, 1.0, 1.0]), alpha=0.5)
    assert x.tolist() == [0.5, 1.5, 2.5]
    x.neg_()
    assert x.tolist() == [-0.5, -1.5, -2.5]


def test_augmented_assignment_keeps_the_same_object():
    x = cr.tensor([1.0, 2.0])
    y = x
    x += 1
    x -= cr.tensor([0.5, 0.5])
    x *= 2.0
    x /= 3
    assert x is y
    np.testing.assert_allclose(to_np(x), [1.0, 5.0 / 3.0])


def test_fill_zero_clamp_copy():
    x = cr.tensor([[1.0, -2.0], [3.0, 4.0]])
    x.clamp_(min=-1.0, max=2.0)
    assert x.tolist() == [[1.0, -1.0], [2.0, 2.0]]
    x.clip_(max=1.5)
    assert x.tolist() == [[1.0, -1.0], [1.5, 1.5]]
    x.fill_(7)
    assert x.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    x.zero_()
    assert x.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    x.copy_(cr.tensor([1, 2]))  # broadcast and int64 -> float32
    assert x.tolist() == [[1.0, 2.0], [1.0, 2.0]] and x.dtype == cr.float32


def test_inplace_on_transposed_view_writes_through_to_base():
    base = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    v = base.T
    v.add_(cr.tensor([10.0, 20.0]))
    assert base.tolist() == [[11.0, 12.0], [23.0, 24.0]]
    v.mul_(2.0)
    assert base.tolist() == [[22.0, 24.0], [46.0, 48.0]]


def test_inplace_with_overlapping_source_reads_old_values():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    x.add_(x.T)
    assert x.tolist() == [[2.0, 5.0], [5.0, 8.0]]


def test_every_inplace_write_bumps_the_version():
    x = cr.tensor([1.0, 2.0])
    v0 = x._version
    ops = [
        lambda: x.add_(1.0),
        lambda: x.add_(cr.tensor([1.0, 1.0])),
        lambda: x.sub_(1.0),
        lambda: x.mul_(2.0),
        lambda: x.div_(2.0),
        lambda: x.zero_(),
        lambda: x.fill_(1.0),
        lambda: x.clamp_(min=0.0),
        lambda: x.copy_(cr.tensor([3.0, 4.0])),
        lambda: x.neg_(),
    ]
    for i, op in enumerate(ops, 1):
        op()
        assert x._version == v0 + i


def test_version_is_shared_by_views_and_detached_aliases():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    d = x.detach()
    v = x.T
    before = x._version
    d.add_(1.0)
    assert x._version == v._version == before + 1


def test_backward_through_exp_after_inplace_on_its_output_raises():
    x = leaf([0.5, 1.0])
    y = x.exp()
    y.add_(1)
    with pytest.raises(
        RuntimeError,
        match=r"ExpBackward0.*modified by an inplace operation"
        r"|modified by an inplace operation.*ExpBackward0",
    ):
        y.sum().backward()


def test_modifying_a_saved_input_through_an_alias_is_detected():
    x = leaf([0.5, 1.0])
    a = x * 1.0
    b = a * a  # saves a
    with cr.no_grad():
        a.detach().mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


def test_inplace_mul_on_non_leaf_rebases_history():
    x = leaf([1.0, 2.0])
    a = x * 2
    a.mul_(3)
    assert a.grad_fn is not None and a.requires_grad
    a.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_inplace_chain_matches_out_of_place_gradients():
    x0 = rand(3, seed=1, low=0.5, high=1.5)
    w0 = rand(3, seed=2, low=0.5, high=1.5)
    x, w = leaf(x0), leaf(w0)
    a = x.exp()
    a = a * 1.0
    a.add_(w, alpha=2.0)
    a.mul_(w)
    a.div_(x)
    a.sub_(1.0)
    a.sum().backward()
    x2, w2 = leaf(x0), leaf(w0)
    ((((x2.exp() + 2.0 * w2) * w2) / x2) - 1.0).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), to_np(x2.grad), rtol=1e-12)
    np.testing.assert_allclose(to_np(w.grad), to_np(w2.grad), rtol=1e-12)


def test_inplace_matches_torch(torch):
    x0 = rand(2, 3, seed=1, low=0.5, high=1.5)
    w0 = rand(3, seed=2, low=0.5, high=1.5)

    def run(lib, x, w):
        a = x * 2
        a.add_(w, alpha=0.5)
        a.mul_(w)
        a.div_(w + 1)
        a.clamp_(min=0.6)
        a += w
        a *= 3.0
        return a

    xc, wc = leaf(x0), leaf(w0)
    xt, wt = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    ac, at = run(cr, xc, wc), run(torch, xt, wt)
    np.testing.assert_allclose(to_np(ac), at.detach().numpy(), rtol=1e-12)
    seed = rand(2, 3, seed=5)
    ac.backward(cr.tensor(seed))
    at.backward(torch.tensor(seed))
    np.testing.assert_allclose(to_np(xc.grad), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_np(wc.grad), wt.grad.numpy(), rtol=1e-12)


def test_inplace_with_grad_operand_on_plain_tensor_records_history():
    w = leaf([1.0, 2.0])
    buf = cr.zeros(2, dtype=cr.float64)
    buf.add_(w)
    buf.mul_(w)
    assert buf.requires_grad and not buf.is_leaf
    buf.sum().backward()
    assert w.grad.tolist() == [2.0, 4.0]


def test_copy_into_plain_tensor_carries_gradient_with_broadcast():
    w = leaf([1.0, 2.0])
    buf = cr.zeros(3, 2, dtype=cr.float64)
    buf.copy_(w)
    (buf * 2).sum().backward()
    assert w.grad.tolist() == [6.0, 6.0]


def test_fill_on_non_leaf_gives_zero_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.fill_(5.0)
    assert y.tolist() == [5.0, 5.0]
    (y + x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_clamp_inplace_gradient_matches_out_of_place():
    x = leaf([-1.0, 0.5, 2.0])
    y = x * 1.0
    y.clamp_(0.0, 1.0)
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_inplace_on_leaf_requiring_grad_raises():
    x = leaf([1.0, 2.0])
    for op in [
        lambda: x.add_(1.0),
        lambda: x.mul_(cr.tensor([2.0, 2.0])),
        lambda: x.zero_(),
        lambda: x.copy_(cr.tensor([0.0, 0.0])),
        lambda: x.clamp_(min=0.0),
    ]:
        with pytest.raises(
            RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"
        ):
            op()
    assert x.tolist() == [1.0, 2.0] and x._version == 0
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x += 1


def test_inplace_on_view_rebases_the_base_history():
    # As PyTorch's CopySlices: writing into a view of a non-leaf gives the base a new history, the
    # written entries differentiate through the op, the others pass through (more cases in
    # tests/test_inplace_views.py).
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1.0
    v = y.T
    v.mul_(2.0)
    assert y.tolist() == [[2.0, 4.0], [6.0, 8.0]]
    assert y.grad_fn.name() == "CopySlices"
    v[0].add_(1.0)  # a view of the view: column 0 of y
    assert y.tolist() == [[3.0, 4.0], [7.0, 8.0]]
    (y * cr.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert x.grad.tolist() == [[2.0, 4.0], [6.0, 8.0]]


def test_no_grad_updates_leaf_in_place_like_an_optimizer():
    p = leaf([1.0, 2.0])
    (p * p).sum().backward()
    ptr = p.data_ptr()
    with cr.no_grad():
        p.add_(p.grad, alpha=-0.1)
        p.mul_(0.5)
        p.sub_(0.25)
    assert p.data_ptr() == ptr and p.is_leaf and p.requires_grad and p.grad_fn is None
    np.testing.assert_allclose(to_np(p), [0.15, 0.55])
    np.testing.assert_allclose(to_np(p.grad), [2.0, 4.0])


def test_no_grad_inplace_leaves_non_leaf_history_unchanged():
    x = leaf([1.0])
    y = x * 3
    fn = y.grad_fn
    with cr.no_grad():
        y.add_(1.0)
    assert y.grad_fn is fn


def test_result_type_that_does_not_fit_self_raises_type_error():
    a = cr.tensor([1, 2])
    with pytest.raises(TypeError, match="result type Float can't be cast to the desired output type Long"):
        a.mul_(1.5)
    with pytest.raises(TypeError, match="result type Float can't be cast to the desired output type Long"):
        a.div_(cr.tensor([2, 2]))
    with pytest.raises(TypeError, match="result type Long can't be cast to the desired output type Bool"):
        cr.tensor([True]).add_(cr.tensor([2]))
    assert a.tolist() == [1, 2] and a._version == 0


def test_integer_inplace_ops_keep_integer_dtype():
    a = cr.tensor([1, 2])
    a += 3
    a.mul_(cr.tensor([2, 3]))
    a.sub_(1, alpha=2)
    assert a.dtype == cr.int64 and a.tolist() == [6, 13]


def test_float32_self_with_float64_other_stays_float32():
    a = cr.tensor([1.0, 2.0])
    a.add_(cr.tensor([0.5, 0.5], dtype=cr.float64))
    assert a.dtype == cr.float32 and a.tolist() == [1.5, 2.5]


def test_broadcast_to_larger_than_self_raises_value_error():
    a = cr.tensor([1.0, 2.0])
    with pytest.raises(
        ValueError, match=r"output with shape \[2\] doesn't match the broadcast shape \[2, 2\]"
    ):
        a.add_(cr.ones(2, 2))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        a.mul_(cr.ones(3))
    assert a.tolist() == [1.0, 2.0]


def test_writing_into_expanded_view_raises():
    a = cr.tensor([1.0]).expand(3)
    with pytest.raises(ValueError, match="more than one element of the written-to tensor"):
        a.add_(1.0)


def test_inplace_on_numpy_backed_tensor_writes_the_array():
    arr = np.array([1.0, 2.0])
    t = cr.from_numpy(arr)
    t.mul_(3.0)
    assert arr.tolist() == [3.0, 6.0]


def test_large_inplace_update_is_correct_with_threads():
    n = 200_000
    x = cr.tensor(np.arange(n, dtype=np.float64))
    y = cr.tensor(np.ones(n))
    x.add_(y, alpha=2.0)
    np.testing.assert_array_equal(to_np(x), np.arange(n) + 2.0)
