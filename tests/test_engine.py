"""Engine behaviour: graph shapes, determinism, threads, higher order, hooks, retained graphs."""

import threading

import numpy as np
import pytest

import chainrule as cr
from conftest import skip_if_sanitized
from helpers import rand, run_python, to_np


def test_diamond_accumulates_both_paths():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    z = (y * 3.0 + y * 4.0).sum()
    z.backward()
    np.testing.assert_array_equal(to_np(x.grad), [14.0, 14.0])


def test_shared_subexpression_used_many_times():
    x = cr.tensor([3.0], requires_grad=True)
    y = x * x  # y = 9, dy/dx = 6
    z = (y + y + y * y).sum()  # dz/dy = 2 + 2y = 20
    z.backward()
    np.testing.assert_allclose(to_np(x.grad), [120.0])


def test_same_leaf_on_both_sides_of_an_op():
    x = cr.tensor([2.0, -1.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [4.0, -2.0])


def test_grad_accumulates_across_backward_calls():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * 3.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [6.0, 6.0])


def test_non_scalar_backward_needs_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2.0).backward()
    (x * 2.0).backward(cr.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(to_np(x.grad), [2.0, 20.0])


def test_backward_gradient_shape_mismatch_is_value_error():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="shape"):
        (x * 2.0).backward(cr.tensor([1.0, 2.0, 3.0]))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor([1.0]).sum().backward()


def test_second_backward_through_freed_graph_mentions_retain_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(to_np(x.grad), [4.0, 8.0])


def test_grad_does_not_touch_dot_grad_and_allow_unused():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor([5.0], requires_grad=True)
    y = (x * x).sum()
    (gx,) = cr.autograd.grad(y, x, retain_graph=True)
    np.testing.assert_array_equal(to_np(gx), [2.0, 4.0])
    assert x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        cr.autograd.grad(y, [x, w], retain_graph=True)
    gx, gw = cr.autograd.grad(y, [x, w], allow_unused=True)
    assert gw is None


def test_grad_of_intermediate_tensor():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    y = (h * h).sum()
    (gh,) = cr.autograd.grad(y, h)
    np.testing.assert_allclose(to_np(gh), [6.0, 12.0])
    assert x.grad is None


def test_third_derivative_of_x_to_the_fourth():
    x = cr.tensor(1.5, dtype=cr.float64, requires_grad=True)
    y = x * x * x * x
    (g1,) = cr.autograd.grad(y, x, create_graph=True)
    (g2,) = cr.autograd.grad(g1, x, create_graph=True)
    (g3,) = cr.autograd.grad(g2, x)
    assert g1.item() == pytest.approx(4 * 1.5**3)
    assert g2.item() == pytest.approx(12 * 1.5**2)
    assert g3.item() == pytest.approx(24 * 1.5)


def _mlp_loss(x, w1, w2):
    h = x @ w1
    h = h * h  # smooth nonlinearity made of existing ops
    return (h @ w2).sum()


def test_hessian_vector_product_through_mlp_matches_finite_differences():
    x = cr.tensor(rand(4, 3, seed=1))
    w1 = cr.tensor(rand(3, 5, seed=2), requires_grad=True)
    w2 = cr.tensor(rand(5, 2, seed=3), requires_grad=True)
    v = rand(3, 5, seed=4)
    loss = _mlp_loss(x, w1, w2)
    (g,) = cr.autograd.grad(loss, w1, create_graph=True)
    (hv,) = cr.autograd.grad((g * cr.tensor(v)).sum(), w1)
    eps = 1e-6

    def grad_at(w):
        wt = cr.tensor(w, requires_grad=True)
        (gw,) = cr.autograd.grad(_mlp_loss(x, wt, w2.detach()), wt)
        return to_np(gw)

    w = to_np(w1)
    fd = (grad_at(w + eps * v) - grad_at(w - eps * v)) / (2 * eps)
    np.testing.assert_allclose(to_np(hv), fd, rtol=1e-5, atol=1e-7)


def test_create_graph_leaves_differentiable_grad():
    x = cr.tensor([2.0], dtype=cr.float64, requires_grad=True)
    (x * x * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = cr.autograd.grad(x.grad.sum(), x)
    assert gg.item() == pytest.approx(12.0)
    x.grad = None  # x.grad's graph saves x: a reference cycle, as in PyTorch


def test_hook_replaces_gradient_of_intermediate():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.register_hook(lambda g: g * 10.0)
    y.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [20.0, 20.0])


def test_leaf_hook_sees_gradient_and_can_be_removed():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(to_np(g).copy()))
    (x * 3.0).sum().backward()
    handle.remove()
    (x * 3.0).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])


def test_hook_exception_propagates_as_python_exception():
    x = cr.tensor([1.0], requires_grad=True)
    y = x * 2.0

    def bad(g):
        raise KeyError("boom")

    y.register_hook(bad)
    with pytest.raises(KeyError, match="boom"):
        y.sum().backward()


def test_backward_calls_in_a_row_after_failures_nesting_and_a_large_graph():
    # A thread reuses the bookkeeping of its last backward (Note [Reused graph task] in
    # csrc/autograd/engine.cpp): nothing of one call may leak into the next.
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor([3.0], requires_grad=True)

    def step(scale):
        x.grad = None
        (x * scale).sum().backward()
        return x.grad.tolist()

    assert step(2.0) == [2.0, 2.0]
    y = x * 5.0
    y.register_hook(lambda g: (_ for _ in ()).throw(KeyError("boom")))
    with pytest.raises(KeyError):
        y.sum().backward()
    assert step(3.0) == [3.0, 3.0]

    def nested(g):  # a backward of another graph while this one runs
        with cr.enable_grad():
            (w * 2.0).sum().backward()
        return g * 10.0

    y = x * 1.0
    y.register_hook(nested)
    x.grad = None
    y.sum().backward()
    assert x.grad.tolist() == [10.0, 10.0] and w.grad.tolist() == [2.0]
    assert step(4.0) == [4.0, 4.0]

    big = x
    for _ in range(10000):  # more nodes than a kept task may hold
        big = big * 1.0
    x.grad = None
    big.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    assert step(5.0) == [5.0, 5.0]

    ran = []
    y = x * 1.0
    y.register_hook(lambda g: cr._core._queue_callback(lambda: ran.append(1)))
    y.sum().backward()
    assert ran == [1]
    assert step(6.0) == [6.0, 6.0] and ran == [1]  # the callback ran once, not again


def test_retain_grad_keeps_intermediate_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_array_equal(to_np(y.grad), [4.0, 8.0])
    assert y.retains_grad


def test_no_grad_context_and_decorator():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.no_grad():
        y = x * 2.0
        with cr.enable_grad():
            z = x * 2.0
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @cr.no_grad()
    def f(t):
        return t * 2.0

    assert not f(x).requires_grad
    assert cr.is_grad_enabled()
    cr.set_grad_enabled(False)
    assert not cr.is_grad_enabled()
    cr.set_grad_enabled(True)
    with cr.set_grad_enabled(False):
        assert not (x * 2.0).requires_grad
    assert cr.is_grad_enabled()


def _branchy_grads(threads):
    cr.set_num_threads(threads)
    try:
        rng = np.random.default_rng(0)
        x = cr.tensor(rng.standard_normal((128, 128)).astype(np.float32))
        ws = [
            cr.tensor(rng.standard_normal((128, 128)).astype(np.float32) * 0.1, requires_grad=True)
            for _ in range(8)
        ]
        total = None
        for w in ws:
            h = x
            for _ in range(3):
                h = h @ w
                h = h * h * 0.01 + h
            total = h.sum() if total is None else total + h.sum()
        total.backward()
        return [to_np(w.grad).copy() for w in ws]
    finally:
        cr.set_num_threads(2)


def test_gradients_bitwise_identical_for_any_thread_count():
    ref = _branchy_grads(1)
    for n in (2, 3, 4):
        for a, b in zip(ref, _branchy_grads(n)):
            assert np.array_equal(a, b), f"gradients differ with {n} threads"


def test_set_num_threads_rejects_non_positive():
    with pytest.raises(ValueError):
        cr.set_num_threads(0)
    assert cr.get_num_threads() >= 1


def test_concurrent_backward_from_python_threads_on_shared_leaf():
    w = cr.tensor(np.ones((64, 64), dtype=np.float32), requires_grad=True)
    errors = []

    def work(k):
        try:
            x = cr.tensor(np.full((8, 64), float(k), dtype=np.float32))
            for _ in range(20):
                (x @ w).sum().backward()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # d/dw sum(x @ w) = x^T @ ones: every entry gets 8 * k per call, 20 calls per thread.
    expected = sum(8.0 * k * 20 for k in range(1, 5))
    np.testing.assert_allclose(to_np(w.grad), np.full((64, 64), expected))


def test_million_op_chain_runs_backward_and_frees_without_recursion():
    res = run_python(
        """
        import sys, chainrule as cr
        sys.setrecursionlimit(200)
        x = cr.tensor([1.0], requires_grad=True)
        y = x
        for _ in range(1_000_000):
            y = y * 1.0
        y.sum().backward()
        assert x.grad.item() == 1.0
        del y
        z = x
        for _ in range(1_000_000):
            z = z + 1.0
        del z  # freeing an un-run graph must not recurse either
        print("ok")
    """,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "ok" in res.stdout


@skip_if_sanitized
def test_memory_flat_over_many_training_iterations():
    res = run_python(
        """
        import gc, numpy as np, chainrule as cr
        def rss():
            with open('/proc/self/status') as f:
                for line in f:
                    if line.startswith('VmRSS'):
                        return int(line.split()[1])
        import chainrule.nn.functional as F
        rng = np.random.default_rng(0)
        x = cr.tensor(rng.standard_normal((32, 16)).astype(np.float32))
        t = cr.tensor(rng.integers(0, 3, 32))
        w1 = cr.tensor(rng.standard_normal((16, 32)).astype(np.float32), requires_grad=True)
        w2 = cr.tensor(rng.standard_normal((32, 3)).astype(np.float32), requires_grad=True)
        opt = cr.optim.Adam([w1, w2], lr=1e-3)

        class Square(cr.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * a

            @staticmethod
            def backward(ctx, g):
                (a,) = ctx.saved_tensors
                return 2.0 * a * g

        def step():
            # ops that save their outputs (tanh, sigmoid, softmax) and a Python Function
            h = (x @ w1).tanh()
            h = Square.apply(h) + F.relu(h).sigmoid()
            loss = F.cross_entropy(h @ w2, t)
            opt.zero_grad()
            loss.backward()
            opt.step()
        for _ in range(1000):
            step()
        gc.collect()
        before = rss()
        for _ in range(10000):
            step()
        gc.collect()
        after = rss()
        print(before, after)
        assert after - before < 2048, (before, after)  # KiB
    """,
        timeout=600,
    )
    assert res.returncode == 0, res.stdout + res.stderr[-2000:]
