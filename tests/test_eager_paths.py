"""The eager fast paths of the small-graph work: a sum over everything in one pass, mean as one
node, column and expanded one-value operands on the contiguous kernels, mid-size storages from
the block cache, a backward that takes no locks when it has nothing to hand off, and the Python
shortcuts of loss.backward() and optimizer.step().

Each path is compared with NumPy (exactly, where the arithmetic is one rounding per element) and
with the general path it replaces; a second set compares with PyTorch.
"""

from __future__ import annotations

import operator
import threading

import numpy as np
import pytest

import chainrule as cr
from helpers import check_against_torch, gradcheck, rand, to_np

OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}


# ---- sums over everything ---------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 15, 16, 17, 100, 8191, 8192, 8193, 30000])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_full_sum_matches_float64_reference(n, dtype):
    x = rand(n, seed=n, dtype=dtype)
    got = cr.tensor(x).sum()
    want = np.sum(x.astype(np.float64))
    assert got.shape == ()
    np.testing.assert_allclose(float(got), want, rtol=1e-6 if dtype == "float32" else 1e-12, atol=1e-9)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_full_sum_of_integers_is_exact(dtype):
    rng = np.random.default_rng(3)
    x = rng.integers(-1000, 1000, size=(37, 29)) if dtype == "int64" else rng.random((37, 29)) < 0.4
    got = cr.tensor(x).sum()
    assert got.dtype == cr.int64
    assert int(got) == int(x.astype(np.int64).sum())
    assert int(cr.tensor(x).sum(dim=(0, 1))) == int(x.astype(np.int64).sum())


def test_full_sum_keepdim_and_non_contiguous():
    x = rand(6, 5, 4, seed=1)
    t = cr.tensor(x)
    assert cr.sum(t, dim=(0, 1, 2), keepdim=True).shape == (1, 1, 1)
    np.testing.assert_allclose(
        to_np(cr.sum(t, dim=(0, 1, 2), keepdim=True)), x.sum(keepdims=True), rtol=1e-12
    )
    # a transposed (non-contiguous) input takes the general path and agrees
    np.testing.assert_allclose(float(t.transpose(0, 2).sum()), x.sum(), rtol=1e-12)


def test_full_sum_is_the_same_for_any_thread_count():
    x = cr.tensor(rand(200_003, seed=5, dtype=np.float32))
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        one = to_np(x.sum()).copy()
        cr.set_num_threads(2)
        two = to_np(x.sum()).copy()
    finally:
        cr.set_num_threads(before)
    assert one.tobytes() == two.tobytes()


def test_sum_and_mean_grad_fn_names_are_pytorchs():
    x = cr.ones(3, 4, requires_grad=True)
    assert x.sum().grad_fn.name() == "SumBackward0"
    assert x.sum(0).grad_fn.name() == "SumBackward1"
    assert x.mean().grad_fn.name() == "MeanBackward0"
    assert x.mean(1, keepdim=True).grad_fn.name() == "MeanBackward1"


@pytest.mark.parametrize(
    "dims,keepdim", [(None, False), (0, False), (1, True), ((0, 2), False), ((0, 1, 2), True)]
)
def test_mean_gradients(dims, keepdim):
    def fn(x):
        return x.mean() if dims is None else x.mean(dims, keepdim=keepdim)

    gradcheck(fn, rand(3, 4, 5, seed=2))
    x = cr.tensor(rand(3, 4, 5, seed=2), requires_grad=True)
    assert cr.autograd.gradgradcheck(lambda t: fn(t) * fn(t), [x])


def test_mean_value_is_sum_times_reciprocal():
    # one node, the same arithmetic as sum(x) * (1 / n) in the input's dtype
    x = rand(7, 9, seed=4, dtype=np.float32)
    t = cr.tensor(x)
    assert to_np(t.mean()).tobytes() == to_np(t.sum() * (1.0 / 63)).tobytes()
    assert to_np(t.mean(0)).tobytes() == to_np(t.sum(0) * (1.0 / 7)).tobytes()
    assert np.isnan(float(cr.zeros(0).mean()))


def test_mean_forward_mode():
    import chainrule.autograd.forward_ad as fwAD

    x, v = rand(4, 6, seed=6), rand(4, 6, seed=7)
    with fwAD.dual_level():
        d = fwAD.make_dual(cr.tensor(x), cr.tensor(v))
        full = fwAD.unpack_dual(d.mean()).tangent
        rows = fwAD.unpack_dual(d.mean(1)).tangent
    np.testing.assert_allclose(float(full), v.mean(), rtol=1e-12)
    np.testing.assert_allclose(to_np(rows), v.mean(1), rtol=1e-12)


def test_mean_of_storage_dtype():
    x = cr.ones(3, 4, dtype=cr.bfloat16, requires_grad=True)
    m = x.mean()
    assert m.dtype == cr.bfloat16 and float(m) == 1.0
    m.backward()
    assert x.grad.dtype == cr.bfloat16
    np.testing.assert_allclose(to_np(x.grad.float()), np.full((3, 4), 1 / 12), rtol=1e-2)


# ---- column and one-value operands ------------------------------------------------------------
COLUMN_CASES = [
    ((50, 1), (50, 16)),  # one value per row
    ((50, 16), (50, 1)),
    ((4, 6, 1), (4, 6, 9)),  # per row of every matrix of a batch
    ((6, 1), (4, 6, 9)),  # the same column for every matrix
    ((1, 9), (50, 9)),  # rows still work
    ((4, 1, 9), (4, 6, 9)),  # neither a row nor a column of the result: the general path
]


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("shapes", COLUMN_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_column_broadcast_is_exact(op, shapes, dtype):
    a, b = rand(*shapes[0], seed=1, dtype=dtype), rand(*shapes[1], seed=2, dtype=dtype) + 2
    got = to_np(OPS[op](cr.tensor(a), cr.tensor(b)))
    want = OPS[op](a, b)
    assert got.dtype == want.dtype
    assert np.array_equal(got, want)


@pytest.mark.parametrize("op", list(OPS))
def test_column_broadcast_gradients(op):
    gradcheck(lambda a, b: OPS[op](a, b), rand(6, 1, seed=1), rand(6, 9, seed=2) + 2)
    gradcheck(lambda a, b: OPS[op](a, b), rand(5, 6, 9, seed=3), rand(6, 1, seed=4) + 2)


@pytest.mark.parametrize("op", list(OPS))
def test_expanded_one_value_operand_is_exact(op):
    s = np.float32(1.75)
    x = rand(7, 12, seed=3, dtype=np.float32) + 2
    e = cr.tensor(s).expand(7, 12)
    assert all(st == 0 for st in e.stride())
    assert np.array_equal(to_np(OPS[op](e, cr.tensor(x))), OPS[op](s, x))
    assert np.array_equal(to_np(OPS[op](cr.tensor(x), e)), OPS[op](x, s))
    # against a non-contiguous operand: the general path, same values
    xt = cr.tensor(x.T.copy()).t()
    assert np.array_equal(to_np(OPS[op](e, xt)), OPS[op](s, x))
    # an expanded row is not one value
    row = cr.tensor(x[0]).expand(7, 12)
    assert np.array_equal(to_np(OPS[op](row, cr.tensor(x))), OPS[op](np.broadcast_to(x[0], (7, 12)), x))


def test_sum_gradient_through_a_product():
    # (p * p).sum(): the product's backward multiplies by an expanded one-value gradient
    p = cr.tensor(rand(16, 16, seed=8), requires_grad=True)
    (p * p).sum().backward()
    np.testing.assert_allclose(to_np(p.grad), 2 * to_np(p), rtol=1e-15)


# ---- storage, engine, Python shortcuts --------------------------------------------------------
@pytest.mark.parametrize("n", [257, 1000, 1600, 4000, 6000, 16000])
def test_mid_size_storages_are_not_shared(n):
    # freed blocks come back from the cache; a live tensor never shares one
    keep = []
    for i in range(6):
        t = cr.full((n - i,), float(i))
        keep.append(t)
        del t
        tmp = cr.full((n - i,), -1.0)
        del tmp
    for i, t in enumerate(keep):
        assert np.all(to_np(t) == float(i))


def test_small_graph_gradients_equal_for_any_thread_count():
    rng = np.random.default_rng(0)
    X = cr.tensor(rng.standard_normal((100, 2)).astype(np.float32))
    y = cr.tensor(np.sign(rng.standard_normal((100, 1))).astype(np.float32))

    def grads(threads):
        before = cr.get_num_threads()
        cr.set_num_threads(threads)
        try:
            W = cr.tensor(np.linspace(-1, 1, 32, dtype=np.float32).reshape(2, 16), requires_grad=True)
            V = cr.tensor(np.linspace(1, -1, 16, dtype=np.float32).reshape(16, 1), requires_grad=True)
            h = (X @ W).relu()
            loss = (1 - y * (h @ V)).relu().mean() + 1e-4 * (W * W).sum()
            loss.backward()
            return to_np(W.grad).tobytes(), to_np(V.grad).tobytes()
        finally:
            cr.set_num_threads(before)

    assert grads(1) == grads(2)


def test_backward_shortcut_keeps_retain_graph_semantics():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(to_np(x.grad), [4.0, 8.0])
    with pytest.raises(RuntimeError):
        y.backward()
    z = x.sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        z.detach().backward()


def test_optimizer_step_skips_parameters_without_gradient():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0], requires_grad=True)
    opt = cr.optim.SGD([a, b], lr=0.5)
    (a * a).sum().backward()
    opt.step()
    np.testing.assert_allclose(to_np(a), [0.0, 0.0])
    np.testing.assert_allclose(to_np(b), [3.0])


def test_small_optimizer_step_while_another_thread_runs_python():
    # a step small enough to keep the GIL must still let other threads go on between calls
    stop = threading.Event()
    ticks = []

    def spin():
        while not stop.is_set():
            ticks.append(1)

    t = threading.Thread(target=spin)
    t.start()
    try:
        p = cr.tensor(np.ones(10, np.float32), requires_grad=True)
        opt = cr.optim.Adam([p], lr=0.1)
        for _ in range(200):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
    finally:
        stop.set()
        t.join()
    assert ticks
    assert np.all(to_np(p) < 1.0)


# ---- against PyTorch --------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", COLUMN_CASES)
def test_column_broadcast_against_torch(torch, shapes):
    for op in OPS.values():
        check_against_torch(torch, op, op, rand(*shapes[0], seed=1), rand(*shapes[1], seed=2) + 2)


def test_mean_and_sum_against_torch(torch):
    x = rand(5, 7, 3, seed=9)
    check_against_torch(torch, lambda t: t.mean(), lambda t: t.mean(), x)
    check_against_torch(torch, lambda t: t.mean((0, 2)), lambda t: t.mean((0, 2)), x)
    check_against_torch(torch, lambda t: t.sum(), lambda t: t.sum(), x)
    tx = torch.ones(3, 4, requires_grad=True)
    cx = cr.ones(3, 4, requires_grad=True)
    for f in (lambda t: t.sum(), lambda t: t.sum(0), lambda t: t.mean(), lambda t: t.mean(1)):
        assert f(cx).grad_fn.name() == f(tx).grad_fn.name()


# ---- tensor arguments: read straight from the Python object (crpy::tensor_holder) -----------------
def test_tensor_arguments_of_every_kind_reach_the_op():
    base = cr.tensor([[-1.0, 2.0], [3.0, -4.0]])
    param = cr.nn.Parameter(base.clone())  # a Python subclass of Tensor
    assert type(param) is not cr.Tensor and isinstance(param, cr.Tensor)
    view = base.t()
    for x in (base, param, view):
        np.testing.assert_array_equal(cr.relu(x).detach().numpy(), np.maximum(x.detach().numpy(), 0))
        np.testing.assert_array_equal(cr.matmul(x, base).detach().numpy(), x.detach().numpy() @ base.numpy())
    opt = cr.optim.SGD([param], lr=0.5)
    param.grad = cr.ones(2, 2)
    opt.step()
    np.testing.assert_array_equal(param.detach().numpy(), base.numpy() - 0.5)
    with pytest.raises(TypeError):
        cr.relu(None)
    with pytest.raises(TypeError):
        cr.relu(np.ones(2))
