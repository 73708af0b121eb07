"""Shared test helpers: one reference check against PyTorch, gradient checks, subprocess runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np

import chainrule as cr


def moons_mlp(seed=0, n=50):
    """micrograd's moons MLP (2-16-16-1, ReLU) on n random points: (params, forward, loss_of),
    forward() giving the scores and loss_of(scores) the hinge loss plus 1e-4 * sum(p * p)."""
    import chainrule.nn.functional as F

    rng = np.random.default_rng(seed)
    X = cr.tensor(rng.standard_normal((n, 2)).astype(np.float32))
    y = cr.tensor(np.sign(rng.standard_normal((n, 1))).astype(np.float32))
    shapes = [(2, 16), (16, 16), (16, 1)]
    Ws = [cr.tensor((rng.standard_normal(s) * 0.5).astype(np.float32), requires_grad=True) for s in shapes]
    bs = [cr.tensor(np.zeros(s[1], np.float32), requires_grad=True) for s in shapes]
    params = [p for pair in zip(Ws, bs) for p in pair]

    def forward():
        h = X
        for i in range(3):
            h = h @ Ws[i] + bs[i]
            if i < 2:
                h = F.relu(h)
        return h

    def loss_of(h):
        reg = (params[0] * params[0]).sum()
        for p in params[1:]:
            reg = reg + (p * p).sum()
        return F.relu(1 - y * h).mean() + 1e-4 * reg

    return params, forward, loss_of


def arrays(ts):
    """Copies of the tensors' values (detached), as NumPy arrays."""
    return [np.array(t.detach().numpy(), copy=True) for t in ts]


def assert_bitwise(a, b):
    """Two lists of arrays with the same dtypes, shapes and bits."""
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x, y), float(np.abs(x.astype(np.float64) - y).max())


def rand(*shape, seed=0, dtype=np.float64, low=-1.0, high=1.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, size=shape).astype(dtype)


def leaf(arr, requires_grad=True):
    """A chainrule leaf tensor holding a copy of ``arr`` (dtype kept)."""
    return cr.tensor(np.array(arr), requires_grad=requires_grad)


def to_np(t):
    return np.asarray(t.detach()) if isinstance(t, cr.Tensor) else np.asarray(t)


def check_against_torch(torch, fn_cr, fn_torch, *arrays, atol=1e-6, rtol=1e-5, grad=True, seed=1):
    """Runs fn on the same inputs in chainrule and PyTorch; compares outputs and, when ``grad``,
    the gradient of every floating input for the same random output gradient."""
    xs = [cr.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    ts = [torch.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    out_c = fn_cr(*xs)
    out_t = fn_torch(*ts)
    outs_c = out_c if isinstance(out_c, (tuple, list)) else (out_c,)
    outs_t = out_t if isinstance(out_t, (tuple, list)) else (out_t,)
    assert len(outs_c) == len(outs_t)
    for c, t in zip(outs_c, outs_t):
        assert tuple(c.shape) == tuple(t.shape), (c.shape, t.shape)
        np.testing.assert_allclose(to_np(c), t.detach().numpy(), atol=atol, rtol=rtol)
    if not grad:
        return
    rng = np.random.default_rng(seed)
    seeds = [
        rng.standard_normal(tuple(t.shape)).astype(t.detach().numpy().dtype)
        for t in outs_t
        if t.dtype.is_floating_point
    ]
    float_c = [c for c in outs_c if c.dtype.is_floating_point]
    float_t = [t for t in outs_t if t.dtype.is_floating_point]
    cr.autograd.backward(float_c, [cr.tensor(s) for s in seeds])
    torch.autograd.backward(float_t, [torch.tensor(s) for s in seeds])
    for x, t in zip(xs, ts):
        if t.requires_grad:
            if t.grad is None:
                assert x.grad is None or np.allclose(to_np(x.grad), 0)
            else:
                assert x.grad is not None
                np.testing.assert_allclose(to_np(x.grad), t.grad.numpy(), atol=atol, rtol=rtol)


def gradcheck(fn, *arrays, eps=1e-6, atol=1e-5, rtol=1e-3):
    """float64 central-difference check of fn's gradient w.r.t. every array."""
    xs = [cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    assert cr.autograd.gradcheck(fn, xs, eps=eps, atol=atol, rtol=rtol)


def run_python(code: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs code in a fresh interpreter, so a crash fails the test instead of killing the run."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
    )
