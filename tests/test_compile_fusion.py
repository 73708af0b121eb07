"""Fused scalar chains in chainrule.compile (Note [Fused scalar chains] in csrc/ops/fused.cpp):
consecutive operators with a Python number replay as one pass and one graph node, bitwise equal
to the eager ops, forward and backward, for any thread count."""

import numpy as np
import pytest

import chainrule as cr


def _chain(x):
    y = x
    for i in range(40):
        y = y * 1.0001
        y = y + 0.001
        if i % 7 == 0:
            y = y / 3.0
            y = 0.5 - y
            y = -y
            y = y - 0.25
            y = 2.0 * y
            y = 0.125 + y
    return y


def _step(x):
    x.grad = None
    y = _chain(x)
    y.sum().backward()
    return y


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
@pytest.mark.parametrize("n", [1, 16, 17, 53, 200, 1000, 70000])  # every count of whole vectors and tails
def test_fused_chain_bitwise_equal_to_eager(dtype, n):
    rng = np.random.default_rng(0)
    data = rng.standard_normal(n)
    xe = cr.tensor(data, dtype=dtype, requires_grad=True)
    ye = _step(xe)
    xc = cr.tensor(data, dtype=dtype, requires_grad=True)
    step = cr.compile(_step)
    for _ in range(3):  # the trace, then replays
        yc = step(xc)
        assert np.array_equal(yc.detach().numpy(), ye.detach().numpy())
        assert np.array_equal(xc.grad.numpy(), xe.grad.numpy())
    (sched,) = step.traces()
    assert sched.num_fused_chains == 1
    assert sched.num_fused_steps == 40 * 2 + 6 * 6
    assert "scalar_chain" in sched.step_names
    assert sched.num_steps < 10


def test_fused_chain_same_for_any_thread_count():
    data = np.random.default_rng(1).standard_normal(200000).astype(np.float32)
    results = []
    old = cr.get_num_threads()
    try:
        for nt in (1, 2, 3):
            cr.set_num_threads(nt)
            x = cr.tensor(data, requires_grad=True)
            step = cr.compile(_step)
            step(x)
            y = step(x)
            results.append((y.detach().numpy().copy(), x.grad.numpy().copy()))
    finally:
        cr.set_num_threads(old)
    for y, g in results[1:]:
        assert np.array_equal(y, results[0][0]) and np.array_equal(g, results[0][1])


def test_fused_chain_gradient_closed_form():
    x = cr.tensor(np.ones(5), dtype=cr.float64, requires_grad=True)

    @cr.compile
    def step(x):
        x.grad = None
        y = (x * 3.0 + 1.0) / 2.0
        y = 1.0 - y
        (-y).sum().backward()
        return y

    for _ in range(2):
        y = step(x)
        np.testing.assert_array_equal(y.detach().numpy(), np.full(5, 1.0 - 2.0))
        np.testing.assert_array_equal(x.grad.numpy(), np.full(5, 1.5))
    assert step.traces()[0].num_fused_chains == 1


def test_intermediate_read_elsewhere_is_not_fused():
    x = cr.tensor(np.arange(4.0), requires_grad=True)

    @cr.compile
    def step(x):
        a = x * 2.0
        b = a + 1.0  # a is read again below: a must exist, so x*2 and a+1 are not one chain
        c = b * a
        return c * 3.0 + 1.0  # a chain of two, whose output is returned

    for _ in range(2):
        out = step(x)
        np.testing.assert_allclose(
            out.detach().numpy(), ((np.arange(4.0) * 2 + 1) * np.arange(4.0) * 2) * 3 + 1
        )
    (sched,) = step.traces()
    assert sched.num_fused_chains == 1 and sched.num_fused_steps == 2


def test_strided_input_replays_op_by_op():
    base = np.random.default_rng(2).standard_normal((6, 4)).astype(np.float32)

    def f(x):
        return (x * 1.5 + 2.0) * 0.5

    step = cr.compile(f)
    xt = cr.tensor(base).t()  # not contiguous
    want = f(xt).numpy()
    for _ in range(2):
        np.testing.assert_array_equal(step(xt).numpy(), want)


def test_create_graph_through_fused_chain():
    x = cr.tensor([0.5, -1.25], dtype=cr.float64, requires_grad=True)

    @cr.compile
    def f(x):
        y = x * x
        z = (y * 3.0 + 1.0) / 4.0  # fused: d z / d y = 0.75
        (g,) = cr.autograd.grad(z.sum(), x, create_graph=True)
        return g

    for _ in range(2):
        g = f(x)
        np.testing.assert_array_equal(g.detach().numpy(), 0.75 * 2 * np.array([0.5, -1.25]))
        (gg,) = cr.autograd.grad(g.sum(), x)
        np.testing.assert_array_equal(gg.numpy(), np.full(2, 1.5))


def test_fused_chain_matches_torch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(3).standard_normal(33).astype(np.float32)
    xt = torch.tensor(data, requires_grad=True)
    yt = _chain(xt)
    yt.sum().backward()
    x = cr.tensor(data, requires_grad=True)
    step = cr.compile(_step)
    step(x)
    y = step(x)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
