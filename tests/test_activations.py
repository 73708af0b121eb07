"""Activations: values (closed form and PyTorch), gradients, second order, stability, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from helpers import check_against_torch, gradcheck, leaf, rand, to_np

F = cr._core  # the _core functions nn.functional wraps

ACTS = [
    ("relu", lambda x: F.relu(x), lambda t, x: t.relu(x)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda t, x: t.nn.functional.leaky_relu(x, 0.2)),
    ("leaky_relu_default", lambda x: F.leaky_relu(x), lambda t, x: t.nn.functional.leaky_relu(x)),
    ("elu", lambda x: F.elu(x, 1.5), lambda t, x: t.nn.functional.elu(x, 1.5)),
    ("gelu", lambda x: F.gelu(x), lambda t, x: t.nn.functional.gelu(x)),
    (
        "gelu_tanh",
        lambda x: F.gelu(x, approximate="tanh"),
        lambda t, x: t.nn.functional.gelu(x, approximate="tanh"),
    ),
    ("silu", lambda x: F.silu(x), lambda t, x: t.nn.functional.silu(x)),
    ("sigmoid", lambda x: F.sigmoid(x), lambda t, x: t.sigmoid(x)),
    ("tanh", lambda x: F.tanh(x), lambda t, x: t.tanh(x)),
    ("softplus", lambda x: F.softplus(x), lambda t, x: t.nn.functional.softplus(x)),
    (
        "softplus_beta",
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda t, x: t.nn.functional.softplus(x, beta=2.0, threshold=3.0),
    ),
]
IDS = [a[0] for a in ACTS]


@pytest.mark.parametrize("name,fn,_t", ACTS, ids=IDS)
def test_activation_gradcheck(name, fn, _t):
    gradcheck(fn, rand(3, 4, seed=3, low=-3, high=3))


@pytest.mark.parametrize("name,fn,_t", ACTS, ids=IDS)
def test_activation_gradcheck_non_contiguous_input(name, fn, _t):
    gradcheck(lambda x: fn(x.T), rand(4, 3, seed=4, low=-3, high=3))


SMOOTH = [a for a in ACTS if a[0] != "relu" and not a[0].startswith("leaky")]


@pytest.mark.parametrize("name,fn,_t", SMOOTH, ids=[a[0] for a in SMOOTH])
def test_activation_second_order_gradcheck(name, fn, _t):
    # gradcheck of the create_graph gradient (grad mode forced on: the numerical pass runs
    # under no_grad).
    def first_grad(x):
        with cr.enable_grad():
            (g,) = cr.autograd.grad(fn(x).sum(), [x], create_graph=True)
        return g

    gradcheck(first_grad, rand(5, seed=6, low=-2, high=2))


@pytest.mark.parametrize("name,fn,_t", SMOOTH, ids=[a[0] for a in SMOOTH])
def test_activation_second_order_matches_torch(torch, name, fn, _t):
    v = rand(6, seed=8, low=-3, high=3)
    x = cr.tensor(v, requires_grad=True)
    (g,) = cr.autograd.grad(fn(x).sum(), [x], create_graph=True)
    (h,) = cr.autograd.grad((g * g).sum(), [x])
    xt = torch.tensor(v, requires_grad=True)
    (gt,) = torch.autograd.grad(_t(torch, xt).sum(), [xt], create_graph=True)
    (ht,) = torch.autograd.grad((gt * gt).sum(), [xt], allow_unused=True)
    np.testing.assert_allclose(to_np(g), gt.detach().numpy(), rtol=1e-6, atol=1e-9)
    expect = np.zeros(6) if ht is None else ht.numpy()
    np.testing.assert_allclose(to_np(h), expect, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,fn,tfn", ACTS, ids=IDS)
def test_activation_matches_torch(torch, name, fn, tfn, dtype):
    x = rand(4, 6, seed=7, low=-25, high=25).astype(dtype)
    x[0, :3] = [0.0, 1e-3, -1e-3]
    check_against_torch(torch, fn, lambda t: tfn(torch, t), x, atol=1e-5)


def test_activation_methods_and_module_functions_exist():
    x = cr.tensor([-1.0, 0.5])
    assert x.relu().tolist() == [0.0, 0.5]
    np.testing.assert_allclose(to_np(x.sigmoid()), 1 / (1 + np.exp([1.0, -0.5])), rtol=1e-6)
    np.testing.assert_allclose(to_np(cr.tanh(x)), np.tanh([-1.0, 0.5]), rtol=1e-6)
    assert cr.relu(x).tolist() == [0.0, 0.5]


def test_closed_form_values_without_torch():
    v = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    x = cr.tensor(v)
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(to_np(F.gelu(x)), 0.5 * v * (1 + erf(v / math.sqrt(2))))
    k = math.sqrt(2 / math.pi)
    np.testing.assert_allclose(
        to_np(F.gelu(x, approximate="tanh")), 0.5 * v * (1 + np.tanh(k * (v + 0.044715 * v**3)))
    )
    np.testing.assert_allclose(to_np(F.elu(x, 2.0)), np.where(v > 0, v, 2.0 * np.expm1(v)))
    np.testing.assert_allclose(to_np(F.leaky_relu(x, 0.1)), np.where(v > 0, v, 0.1 * v))
    np.testing.assert_allclose(to_np(F.silu(x)), v / (1 + np.exp(-v)))
    np.testing.assert_allclose(to_np(F.softplus(x)), np.log1p(np.exp(v)))


def test_closed_form_gradients_without_torch():
    v = np.array([-1.0, 0.5, 2.0])
    x = leaf(v)
    F.sigmoid(x).sum().backward()
    s = 1 / (1 + np.exp(-v))
    np.testing.assert_allclose(to_np(x.grad), s * (1 - s))
    x = leaf(v)
    F.tanh(x).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), 1 - np.tanh(v) ** 2)
    x = leaf(v)
    F.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]


def test_relu_gradient_at_zero_is_zero():
    x = leaf([0.0, -0.0, 1.0])
    F.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_relu_gradient_from_a_strided_output_gradient(dtype, threads):
    # A mean's gradient reaches relu expanded from one number (stride 0); a transposed one has
    # strides too. Both are read in place and give the same numbers as a contiguous gradient.
    rng = np.random.default_rng(4)
    xs = rng.standard_normal((70, 33)).astype(dtype)
    xs[0, :5] = [0.0, -0.0, np.nan, np.inf, -np.inf]
    old = cr.get_num_threads()
    cr.set_num_threads(threads)
    try:
        x = cr.tensor(xs, requires_grad=True)
        F.relu(x).mean().backward()
        want = np.where(xs > 0, np.array(1 / xs.size, dtype), np.array(0, dtype))
        assert to_np(x.grad).dtype == np.dtype(dtype)
        np.testing.assert_array_equal(to_np(x.grad), want)

        gs = rng.standard_normal((33, 70)).astype(dtype)
        x2 = cr.tensor(xs, requires_grad=True)
        F.relu(x2).backward(cr.tensor(gs).t())  # a transposed (strided) gradient
        np.testing.assert_array_equal(to_np(x2.grad), np.where(xs > 0, gs.T, np.array(0, dtype)))
    finally:
        cr.set_num_threads(old)


def test_sigmoid_is_stable_for_large_inputs():
    x = leaf([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    y = F.sigmoid(x)
    out = to_np(y)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [0.0, math.exp(-50.0), 0.5, 1.0, 1.0], atol=1e-30)
    y.sum().backward()
    assert np.all(np.isfinite(to_np(x.grad)))
    assert np.all(np.isfinite(to_np(F.silu(cr.tensor([-1000.0, 1000.0])))))


def test_softplus_is_linear_above_threshold():
    x = leaf([25.0, 1000.0])
    y = F.softplus(x)
    assert y.tolist() == [25.0, 1000.0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        F.gelu(cr.tensor([1.0]), approximate="fast")


def test_relu_keeps_integer_dtype_and_nan():
    r = F.relu(cr.tensor([-1, 2]))
    assert r.dtype == cr.int64 and r.tolist() == [0, 2]
    assert math.isnan(F.relu(cr.tensor([math.nan])).item())


def test_sigmoid_of_integers_is_float32():
    assert F.sigmoid(cr.tensor([0])).dtype == cr.float32
    assert F.sigmoid(cr.tensor([0])).tolist() == [0.5]


def test_activation_saving_output_does_not_leak_a_cycle():
    import gc
    import weakref

    x = leaf([0.5])
    y = F.sigmoid(x)
    ref = weakref.ref(y)
    node = y.grad_fn
    del y
    gc.collect()
    assert ref() is None
    assert node.name() == "SigmoidBackward0"


@pytest.mark.parametrize("fn", [cr.tanh, cr.sigmoid, cr.relu])
def test_fused_activation_gradients_are_differentiable_twice(fn):
    x = cr.tensor([0.3, -0.7, 1.2, 2.5], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradgradcheck(lambda t: fn(t) * t, [x])


def test_relu_second_derivative_is_zero_not_an_error():
    x = cr.tensor([-1.0, 0.5, 2.0], dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(cr.relu(x).sum(), x, create_graph=True)
    assert g.requires_grad
    (gg,) = cr.autograd.grad(g.sum(), x)
    assert gg.tolist() == [0.0, 0.0, 0.0]
