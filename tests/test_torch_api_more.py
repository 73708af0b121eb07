"""More of PyTorch's everyday API: addcmul/addcdiv, as_tensor, bincount/histc/histogram,
chainrule.linalg, module backward hooks, nn.Buffer, autograd.Variable/once_differentiable,
backends queries. No-torch tests first, then comparisons with PyTorch."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.autograd import gradcheck
from helpers import to_np

rng = np.random.default_rng(0)


def test_addcmul_addcdiv_values_grads_and_inplace():
    x, a, b = (cr.tensor(rng.standard_normal((2, 3)), requires_grad=True) for _ in range(3))
    np.testing.assert_allclose(to_np(cr.addcmul(x, a, b, value=0.5)), to_np(x + 0.5 * a * b), rtol=1e-12)
    np.testing.assert_allclose(to_np(x.addcdiv(a, b, value=2)), to_np(x + 2 * a / b), rtol=1e-12)
    assert gradcheck(lambda p, q, r: cr.addcdiv(p, q, r, value=-1.5), (x, a, b))
    y = cr.zeros(2, 3, dtype=cr.float64)
    y.addcmul_(a.detach(), b.detach(), value=2.0)
    np.testing.assert_allclose(to_np(y), 2 * to_np(a) * to_np(b), rtol=1e-12)
    with pytest.raises(TypeError):
        cr.addcdiv(cr.ones(2), cr.tensor([1, 2]), cr.tensor([1, 2]))


def test_as_tensor_shares_numpy_memory():
    arr = np.arange(3.0)
    t = cr.as_tensor(arr)
    arr[0] = 7.0
    assert t.tolist()[0] == 7.0 and t.dtype == cr.float64
    x = cr.ones(2)
    assert cr.as_tensor(x) is x and cr.as_tensor([1, 2]).dtype == cr.int64
    assert cr.as_tensor(arr, dtype=cr.float32).dtype == cr.float32


def test_bincount_histc_histogram():
    assert cr.bincount(cr.tensor([0, 1, 1, 3])).tolist() == [1, 2, 0, 1]
    assert cr.bincount(cr.tensor([0, 2]), minlength=4).tolist() == [1, 0, 1, 0]
    w = cr.tensor([0.5, 1.5, 2.0], dtype=cr.float64)
    assert cr.bincount(cr.tensor([1, 1, 0]), weights=w).tolist() == [2.0, 2.0]
    assert cr.histc(cr.tensor([1.0, 2.0, 1.0, 5.0]), bins=4, min=0, max=3).tolist() == [0.0, 2.0, 1.0, 0.0]
    hist, edges = cr.histogram(cr.tensor([1.0, 2.0, 1.0]), bins=3, range=(0.0, 3.0))
    assert hist.tolist() == [0.0, 2.0, 1.0] and edges.tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(ValueError):
        cr.bincount(cr.tensor([-1, 2]))
    with pytest.raises(TypeError):
        cr.bincount(cr.tensor([1.0]))


def test_deterministic_flags_are_recorded():
    cr.use_deterministic_algorithms(True)
    assert cr.are_deterministic_algorithms_enabled()
    cr.use_deterministic_algorithms(False)
    assert not cr.are_deterministic_algorithms_enabled()


def test_linalg_without_torch():
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    A = cr.tensor(a, requires_grad=True)
    np.testing.assert_allclose(to_np(cr.linalg.inv(A)), np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(to_np(cr.linalg.det(A)), np.linalg.det(a), rtol=1e-10)
    b = rng.standard_normal((2, 3, 2))
    B = cr.tensor(b, requires_grad=True)
    np.testing.assert_allclose(to_np(cr.linalg.solve(A, B)), np.linalg.solve(a, b), rtol=1e-10)
    assert gradcheck(cr.linalg.inv, (A,))
    assert gradcheck(cr.linalg.det, (A,))
    assert gradcheck(cr.linalg.solve, (A, B))
    v = cr.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    for ord_ in (2, 1, 3, math.inf, -math.inf, 0.5):
        np.testing.assert_allclose(
            to_np(cr.linalg.vector_norm(v, ord_, dim=1)), np.linalg.norm(to_np(v), ord_, axis=1), rtol=1e-10
        )
    for ord_ in ("fro", 1, -1, math.inf, -math.inf):
        np.testing.assert_allclose(
            to_np(cr.linalg.matrix_norm(v, ord_)), np.linalg.norm(to_np(v), ord_), rtol=1e-10
        )
    with pytest.raises(cr.linalg.LinAlgError):
        cr.linalg.inv(cr.zeros(2, 2))
    with pytest.raises(ValueError):
        cr.linalg.inv(cr.zeros(2, 3))


def test_linalg_matches_torch(torch):
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((2, 3))
    for f in (
        lambda m, x, y: m.linalg.inv(x),
        lambda m, x, y: m.linalg.det(x),
        lambda m, x, y: m.linalg.solve(x, y),
        lambda m, x, y: m.linalg.norm(x),
        lambda m, x, y: m.linalg.vector_norm(y, 3, dim=-1),
        lambda m, x, y: m.linalg.matrix_norm(x, 1),
        lambda m, x, y: m.linalg.cross(x, 2 * x),
    ):
        cx, cy = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
        tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        out_c, out_t = f(cr, cx, cy), f(torch, tx, ty)
        np.testing.assert_allclose(to_np(out_c), out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(tuple(out_t.shape))
        out_c.backward(cr.tensor(g))
        out_t.backward(torch.tensor(g))
        for c, t in ((cx, tx), (cy, ty)):
            if t.grad is not None:
                np.testing.assert_allclose(to_np(c.grad), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def _hooked_linear(lib, calls, scale_pre=None):
    lib.manual_seed(0)
    lin = lib.nn.Linear(4, 3)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(np.arange(12.0).reshape(3, 4) / 10, dtype=lib.float32))
        lin.bias.zero_()
    lin.register_full_backward_hook(
        lambda m, gi, go: calls.append(
            (
                tuple(None if g is None else g.detach().numpy().copy() for g in gi),
                tuple(g.detach().numpy().copy() for g in go),
            )
        )
    )
    if scale_pre is not None:
        lin.register_full_backward_pre_hook(lambda m, go: (go[0] * scale_pre,))
    return lin


def test_full_backward_hooks():
    calls = []
    lin = _hooked_linear(cr, calls, scale_pre=2.0)
    x = cr.ones(2, 4, requires_grad=True)
    lin(x).sum().backward()
    (gi, go) = calls[0]
    np.testing.assert_allclose(go[0], np.full((2, 3), 2.0))  # the pre-hook doubled grad_output
    np.testing.assert_allclose(gi[0], 2.0 * np.ones((2, 3)) @ (np.arange(12.0).reshape(3, 4) / 10), rtol=1e-6)
    np.testing.assert_allclose(to_np(x.grad), gi[0])
    # A hook can replace grad_input.
    lin2 = nn.Linear(4, 3)
    zeroing = lin2.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    y = cr.ones(1, 4, requires_grad=True)
    lin2(y).sum().backward()
    assert to_np(y.grad).tolist() == [[0.0, 0.0, 0.0, 0.0]]
    zeroing.remove()
    # No input needs a gradient: the hook still runs, with grad_input (None,).
    seen = []
    h = lin2.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
    lin2(cr.ones(1, 4)).sum().backward()
    assert seen == [(None,)]
    h.remove()


def test_full_backward_hooks_match_torch(torch):
    got = {}
    for lib in (cr, torch):
        calls = []
        lin = _hooked_linear(lib, calls, scale_pre=3.0)
        x = lib.ones(2, 4, requires_grad=True)
        (lin(x) ** 2).sum().backward()
        got[lib.__name__] = (calls, x.grad.numpy(), lin.weight.grad.numpy())
    (cc, cx, cw), (tc, tx, tw) = got["chainrule"], got["torch"]
    np.testing.assert_allclose(cc[0][0][0], tc[0][0][0], rtol=1e-6)
    np.testing.assert_allclose(cc[0][1][0], tc[0][1][0], rtol=1e-6)
    np.testing.assert_allclose(cx, tx, rtol=1e-6)
    np.testing.assert_allclose(cw, tw, rtol=1e-6)


def test_buffer_assignment_registers():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Buffer(cr.ones(2))
            self.b = nn.Buffer(cr.zeros(1), persistent=False)

    m = M()
    assert list(m.state_dict()) == ["a"]
    assert [n for n, _ in m.named_buffers()] == ["a", "b"]
    assert not list(m.parameters())


def test_variable_once_differentiable_backends():
    x = cr.ones(2)
    assert cr.autograd.Variable(x, requires_grad=True) is x and x.requires_grad

    class Square(cr.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t

        @staticmethod
        @cr.autograd.function.once_differentiable
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return 2 * t * g

    y = cr.tensor([3.0], requires_grad=True)
    Square.apply(y).sum().backward()
    assert y.grad.tolist() == [6.0]
    assert not cr.backends.mps.is_available() and not cr.backends.cudnn.is_available()
    cr.backends.cudnn.benchmark = True  # scripts set it; nothing changes on the CPU


def test_numpy_argument_names_axis_and_keepdims():
    x = cr.arange(6.0).reshape(2, 3)
    assert x.sum(axis=1).tolist() == [3.0, 12.0]
    assert x.mean(axis=0, keepdims=True).shape == (1, 3)
    assert cr.sum(x, axis=1, keepdims=True).shape == (2, 1)
    assert x.amax(axis=1).tolist() == [2.0, 5.0] and x.argmax(axis=1).tolist() == [2, 2]
    assert cr.cat([x, x], axis=0).shape == (4, 3)
    with pytest.raises(TypeError):
        x.sum(axis=1, dim=1)


def test_where_with_only_a_condition_gives_indices(torch):
    cond = np.array([[True, False, True], [False, True, False]])
    ours = cr.where(cr.tensor(cond))
    assert [t.tolist() for t in ours] == [[0, 0, 1], [0, 2, 1]]
    theirs = torch.where(torch.tensor(cond))
    assert [t.tolist() for t in ours] == [t.tolist() for t in theirs]
    assert [t.tolist() for t in cr.where(cr.tensor(True))] == [[0]]
    with pytest.raises(TypeError):
        cr.where(cr.tensor(cond), cr.ones(2, 3))


class _Marked(cr.Tensor):
    def __init__(self, *args, **kwargs):
        raise AssertionError("as_subclass must not call cls.__init__")

    def marked(self):
        return True


def test_as_subclass_is_a_differentiable_alias():
    x = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = x.as_subclass(_Marked)
    assert type(y) is _Marked and y.marked() and isinstance(y, cr.Tensor)
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    assert y.shape == x.shape and y.dtype == x.dtype
    (y * y).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), 2 * to_np(x), rtol=1e-12)
    with cr.no_grad():
        y.add_(1.0)  # the same memory
    np.testing.assert_array_equal(to_np(x), to_np(y))
    # a strided tensor, without grad; and back from a subclass to Tensor
    z = cr.arange(6.0).reshape(2, 3).t().as_subclass(_Marked)
    assert type(z) is _Marked and z.shape == (3, 2) and not z.requires_grad
    p = nn.Parameter(cr.ones(2))
    q = p.as_subclass(cr.Tensor)
    assert type(q) is cr.Tensor and q.requires_grad
    for bad in (int, "Tensor", np.ndarray):
        with pytest.raises(TypeError):
            x.as_subclass(bad)


def test_as_subclass_matches_torch(torch):
    class Mine(torch.Tensor):
        pass

    data = rng.standard_normal((2, 3))
    tx = torch.tensor(data, requires_grad=True)
    cx = cr.tensor(data, requires_grad=True)
    ty, cy = tx.as_subclass(Mine), cx.as_subclass(_Marked)
    assert (ty.is_leaf, ty.requires_grad) == (cy.is_leaf, cy.requires_grad)
    (ty.exp() * 3).sum().backward()
    (cy.exp() * 3).sum().backward()
    np.testing.assert_allclose(to_np(cx.grad), tx.grad.numpy(), rtol=1e-12)
