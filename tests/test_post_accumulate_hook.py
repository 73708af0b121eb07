"""Tensor.register_post_accumulate_grad_hook: hook(tensor) after the leaf's .grad is accumulated."""

import gc
import weakref

import numpy as np
import pytest

import chainrule as cr


def _mlp_parameters(lib, seed=0):
    rng = np.random.default_rng(seed)
    names = ["w1", "b1", "w2", "b2"]
    shapes = [(4, 3), (4,), (2, 4), (2,)]
    return {n: lib.tensor(rng.standard_normal(s), requires_grad=True) for n, s in zip(names, shapes)}


def _mlp_loss(lib, p, x):
    h = lib.tanh(x @ p["w1"].T + p["b1"])
    return ((h @ p["w2"].T + p["b2"]) ** 2).sum()


def _record(params):
    calls = []
    for name, t in params.items():
        t.register_post_accumulate_grad_hook(
            lambda tensor, name=name: calls.append((name, tensor.grad.detach().numpy().copy()))
        )
    return calls


def test_hook_sees_the_accumulated_grad_and_the_leaf_itself():
    w = cr.ones(3, requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append((t is w, t.grad.tolist())))
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    assert seen == [(True, [2.0, 2.0, 2.0]), (True, [5.0, 5.0, 5.0])]


def test_hook_runs_after_gradient_hooks():
    w = cr.ones(2, requires_grad=True)
    order = []
    w.register_post_accumulate_grad_hook(lambda t: order.append(("post", t.grad.tolist())))
    w.register_hook(lambda g: order.append(("grad", g.tolist())) or g * 10)
    (w * 1.0).sum().backward()
    assert order == [("grad", [1.0, 1.0]), ("post", [10.0, 10.0])]


def test_hook_may_modify_grad_in_place_and_zero_it():
    w = cr.ones(2, requires_grad=True)

    def halve(t):
        t.grad.mul_(0.5)

    w.register_post_accumulate_grad_hook(halve)
    (w * 4).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]


def test_remove_disables_the_hook():
    w = cr.ones(2, requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(1))
    w.sum().backward()
    handle.remove()
    w.sum().backward()
    assert seen == [1]


def test_not_called_when_leaf_gets_no_gradient():
    a = cr.ones(2, requires_grad=True)
    b = cr.ones(2, requires_grad=True)
    seen = []
    b.register_post_accumulate_grad_hook(lambda t: seen.append(1))
    a.sum().backward()
    assert seen == []


def test_errors_on_non_leaf_no_grad_bad_return_and_non_callable():
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        cr.ones(2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(TypeError, match="callable"):
        x.register_post_accumulate_grad_hook(3)
    x.register_post_accumulate_grad_hook(lambda t: 1)
    with pytest.raises(TypeError, match="must return None"):
        (x * 2).sum().backward()


def test_exception_in_hook_propagates_from_backward():
    w = cr.ones(2, requires_grad=True)

    def boom(t):
        raise ValueError("boom from hook")

    w.register_post_accumulate_grad_hook(boom)
    with pytest.raises(ValueError, match="boom from hook"):
        w.sum().backward()


def test_hook_runs_from_worker_threads():
    cr.set_num_threads(2)
    try:
        leaves = [cr.ones(200, 200, requires_grad=True) for _ in range(4)]
        seen = []
        for i, t in enumerate(leaves):
            t.register_post_accumulate_grad_hook(lambda tensor, i=i: seen.append(i))
        loss = sum((t @ t).sum() for t in leaves)
        loss.backward()
        assert sorted(seen) == [0, 1, 2, 3]
    finally:
        cr.set_num_threads(1)


def test_hook_closure_referencing_the_tensor_is_collected():
    w = cr.ones(2, requires_grad=True)
    holder = type("Holder", (), {})()
    holder.tensor = w  # a reference cycle: w -> hook -> holder -> w
    w.register_post_accumulate_grad_hook(lambda t, holder=holder: None)
    del holder
    ref = weakref.ref(w)
    del w
    gc.collect()
    assert ref() is None


def test_each_leaf_called_once_per_backward_with_its_grad():
    p = _mlp_parameters(cr)
    calls = _record(p)
    x = cr.tensor(np.random.default_rng(1).standard_normal((5, 3)))
    _mlp_loss(cr, p, x).backward()
    assert sorted(n for n, _ in calls) == sorted(p)
    for name, g in calls:
        np.testing.assert_array_equal(g, p[name].grad.numpy())


def test_call_order_and_values_match_torch(torch):
    torch.set_default_dtype(torch.float64)
    try:
        x = np.random.default_rng(1).standard_normal((5, 3))
        p_cr, p_t = _mlp_parameters(cr), _mlp_parameters(torch)
        calls_cr, calls_t = _record(p_cr), _record(p_t)
        _mlp_loss(cr, p_cr, cr.tensor(x)).backward()
        _mlp_loss(torch, p_t, torch.tensor(x)).backward()
    finally:
        torch.set_default_dtype(torch.float32)
    assert [n for n, _ in calls_cr] == [n for n, _ in calls_t]
    for (_, a), (_, b) in zip(calls_cr, calls_t):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# ---- engine callbacks (chainrule._core._queue_callback), what DistributedDataParallel waits in ----
def test_queued_callbacks_run_after_backward_in_order():
    from chainrule import _core

    a = cr.ones(2, requires_grad=True)
    b = cr.ones(2, requires_grad=True)
    log = []

    def hook(t):
        log.append("hook")
        _core._queue_callback(lambda: log.append(("first", a.grad.tolist(), b.grad.tolist())))
        _core._queue_callback(lambda: _core._queue_callback(lambda: log.append("queued by a callback")))

    a.register_post_accumulate_grad_hook(hook)
    (a * 2 + b * 3).sum().backward()
    assert log == ["hook", ("first", [2.0, 2.0], [3.0, 3.0]), "queued by a callback"]


def test_queue_callback_outside_backward_raises():
    from chainrule import _core

    with pytest.raises(RuntimeError, match="during the backward pass"):
        _core._queue_callback(lambda: None)


def test_exception_in_a_callback_ends_backward_with_it():
    from chainrule import _core

    w = cr.ones(2, requires_grad=True)

    def boom():
        raise KeyError("from the callback")

    w.register_post_accumulate_grad_hook(lambda t: _core._queue_callback(boom))
    with pytest.raises(KeyError, match="from the callback"):
        w.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]
