"""autograd.graph.saved_tensors_hooks: every tensor saved for backward inside the block goes
through pack/unpack; gradients are unchanged; hooks nest and apply to custom Functions too."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd.graph import disable_saved_tensors_hooks, save_on_cpu, saved_tensors_hooks


def _loss(x, w):
    return (cr.tanh(x @ w) * x.sum()).exp().sum()


def test_pack_and_unpack_see_every_saved_tensor_and_grads_are_unchanged():
    rng = np.random.default_rng(0)
    xa, wa = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    x, w = cr.tensor(xa, requires_grad=True), cr.tensor(wa, requires_grad=True)
    _loss(x, w).backward()
    ref = (x.grad.numpy().copy(), w.grad.numpy().copy())

    packed, unpacked = [], []

    def pack(t):
        packed.append(tuple(t.shape))
        return ("stored", t.detach().clone())  # any object may be stored

    def unpack(obj):
        unpacked.append(obj[0])
        return obj[1]

    x2, w2 = cr.tensor(xa, requires_grad=True), cr.tensor(wa, requires_grad=True)
    with saved_tensors_hooks(pack, unpack):
        y = _loss(x2, w2)
    assert packed, "nothing was packed"
    y.backward()
    assert len(unpacked) >= 1 and set(unpacked) == {"stored"}
    np.testing.assert_allclose(x2.grad.numpy(), ref[0], rtol=1e-12)
    np.testing.assert_allclose(w2.grad.numpy(), ref[1], rtol=1e-12)


def test_hooks_apply_only_inside_the_block_and_nest():
    calls = []
    x = cr.ones(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: calls.append("outer") or t, lambda t: t):
        with saved_tensors_hooks(lambda t: calls.append("inner") or t, lambda t: t):
            a = x * x
        b = x * x
    c = x * x
    (a + b + c).sum().backward()
    assert calls.count("inner") == 2 and calls.count("outer") == 2
    assert x.grad.tolist() == [6.0, 6.0, 6.0]


def test_custom_function_saved_tensors_go_through_the_hooks():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t**3

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return 3 * t * t * g

    seen = []
    x = cr.tensor([2.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: seen.append(1) or t, lambda t: t):
        y = Cube.apply(x)
    y.backward()
    assert seen and x.grad.tolist() == [12.0]


def test_unpack_must_return_a_tensor_and_disable_refuses_saving():
    x = cr.ones(2, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: "not a tensor"):
        y = (x * x).sum()
    with pytest.raises(TypeError):
        y.backward()
    with disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            x * x
    with save_on_cpu():
        z = (x * x).sum()
    z.backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_matches_torch(torch):
    rng = np.random.default_rng(1)
    xa, wa = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    grads = {}
    for lib in (cr, torch):
        x, w = lib.tensor(xa, requires_grad=True), lib.tensor(wa, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t * 1, lambda t: t):
            y = (lib.tanh(x @ w) * x.sum()).exp().sum()
        y.backward()
        grads[lib.__name__] = (x.grad.numpy(), w.grad.numpy())
    for a, b in zip(grads["chainrule"], grads["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
