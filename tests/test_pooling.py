"""Pooling: max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool1d/2d, adaptive_max_pool1d/2d and the modules.

Values and indices against naive numpy loops, float64 gradients by central differences for every
option (stride, padding, dilation, ceil_mode, count_include_pad, divisor_override), second
derivatives, determinism across thread counts, bad inputs, and PyTorch.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.nn import functional as F
from helpers import to_np


def _pair(v, n=2):
    return (v,) * n if isinstance(v, int) else tuple(v)


def _out_size(n, k, s, p, d, ceil):
    num = n + 2 * p - d * (k - 1) - 1
    out = (-(-num // s) if ceil else num // s) + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def np_max_pool2d(x, k, s=None, p=0, d=1, ceil=False):
    """(values, flat indices) of max pooling over the last two dims of (N, C, H, W)."""
    k, p, d = _pair(k), _pair(p), _pair(d)
    s = k if s is None else _pair(s)
    N, C, H, W = x.shape
    oh, ow = (_out_size(n, k[i], s[i], p[i], d[i], ceil) for i, n in enumerate((H, W)))
    y, idx = np.zeros((N, C, oh, ow)), np.zeros((N, C, oh, ow), dtype=np.int64)
    for n, c, i, j in itertools.product(range(N), range(C), range(oh), range(ow)):
        best, bi = -np.inf, None
        for a, b in itertools.product(range(k[0]), range(k[1])):
            h, w = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
            if 0 <= h < H and 0 <= w < W and (bi is None or x[n, c, h, w] > best):
                best, bi = x[n, c, h, w], h * W + w
        y[n, c, i, j], idx[n, c, i, j] = best, bi
    return y, idx


def np_avg_pool2d(x, k, s=None, p=0, ceil=False, include_pad=True, divisor=None):
    k, p = _pair(k), _pair(p)
    s = k if s is None else _pair(s)
    N, C, H, W = x.shape
    oh, ow = (_out_size(n, k[i], s[i], p[i], 1, ceil) for i, n in enumerate((H, W)))
    y = np.zeros((N, C, oh, ow))
    for n, c, i, j in itertools.product(range(N), range(C), range(oh), range(ow)):
        h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
        h1, w1 = min(h0 + k[0], H + p[0]), min(w0 + k[1], W + p[1])
        padded = (h1 - h0) * (w1 - w0)
        h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, H), min(w1, W)
        total = x[n, c, h0:h1, w0:w1].sum()
        div = divisor if divisor else (padded if include_pad else (h1 - h0) * (w1 - w0))
        y[n, c, i, j] = total / div
    return y


def np_adaptive(x, out, reduce):
    """Adaptive pooling over the last two dims: window i is [floor(i*n/o), ceil((i+1)*n/o))."""
    N, C, H, W = x.shape
    oh, ow = out
    y = np.zeros((N, C, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        h0, h1 = (i * H) // oh, -((-(i + 1) * H) // oh)
        w0, w1 = (j * W) // ow, -((-(j + 1) * W) // ow)
        y[:, :, i, j] = reduce(x[:, :, h0:h1, w0:w1], axis=(2, 3))
    return y


def _t(a, grad=True):
    return cr.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def _x(seed, *shape):
    # distinct values, so the maximum of every window is unique and central differences are smooth
    rng = np.random.default_rng(seed)
    return rng.permutation(np.prod(shape)).reshape(shape) / np.prod(shape) + rng.uniform(0, 1e-3, size=shape)


MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1)),
    dict(kernel_size=3, stride=2, dilation=2, ceil_mode=True),
    dict(kernel_size=2, stride=3, ceil_mode=True),
]
AVG_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), divisor_override=4),
    dict(kernel_size=2, stride=3, ceil_mode=True),
]


def _ref_max(x, c):
    return np_max_pool2d(
        x,
        c["kernel_size"],
        c.get("stride"),
        c.get("padding", 0),
        c.get("dilation", 1),
        c.get("ceil_mode", False),
    )


def _ref_avg(x, c):
    return np_avg_pool2d(
        x,
        c["kernel_size"],
        c.get("stride"),
        c.get("padding", 0),
        c.get("ceil_mode", False),
        c.get("count_include_pad", True),
        c.get("divisor_override"),
    )


# ---- values -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool2d_values_and_indices_match_numpy(case):
    x = _x(0, 2, 3, 7, 8)
    y, idx = F.max_pool2d(_t(x), return_indices=True, **case)
    ry, ridx = _ref_max(x, case)
    assert tuple(y.shape) == ry.shape and idx.dtype == cr.int64
    np.testing.assert_array_equal(to_np(y), ry)
    np.testing.assert_array_equal(to_np(idx), ridx)


@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool2d_values_match_numpy(case):
    x = _x(1, 2, 3, 7, 8)
    y = F.avg_pool2d(_t(x), **case)
    np.testing.assert_allclose(to_np(y), _ref_avg(x, case), atol=1e-14)


def test_pool1d_is_pool2d_over_a_height_of_one():
    x = _x(2, 2, 3, 11)
    y, idx = F.max_pool1d(_t(x), 3, 2, 1, ceil_mode=True, return_indices=True)
    ry, ridx = np_max_pool2d(x[:, :, None, :], (1, 3), (1, 2), (0, 1), 1, True)
    np.testing.assert_array_equal(to_np(y), ry[:, :, 0])
    np.testing.assert_array_equal(to_np(idx), ridx[:, :, 0])
    y = F.avg_pool1d(_t(x), 4, 3, 2, True, False)
    np.testing.assert_allclose(
        to_np(y), np_avg_pool2d(x[:, :, None, :], (1, 4), (1, 3), (0, 2), True, False)[:, :, 0]
    )
    np.testing.assert_allclose(
        to_np(F.adaptive_avg_pool1d(_t(x), 4)), np_adaptive(x[:, :, None], (1, 4), np.mean)[:, :, 0]
    )
    np.testing.assert_allclose(
        to_np(F.adaptive_max_pool1d(_t(x), 5)), np_adaptive(x[:, :, None], (1, 5), np.max)[:, :, 0]
    )


@pytest.mark.parametrize("out", [(1, 1), (3, 4), (7, 8), (5, 3), (2, None), 4])
def test_adaptive_pools_match_numpy(out):
    x = _x(3, 2, 3, 7, 8)
    size = tuple(8 if o is None else o for o in (out if isinstance(out, tuple) else (out, out)))
    size = (size[0], 8 if isinstance(out, tuple) and out[1] is None else size[1])
    np.testing.assert_allclose(
        to_np(F.adaptive_avg_pool2d(_t(x), out)), np_adaptive(x, size, np.mean), atol=1e-14
    )
    y, idx = F.adaptive_max_pool2d(_t(x), out, return_indices=True)
    np.testing.assert_array_equal(to_np(y), np_adaptive(x, size, np.max))
    flat = x.reshape(2, 3, -1)
    np.testing.assert_array_equal(
        np.take_along_axis(flat, to_np(idx).reshape(2, 3, -1), 2), flat_y := to_np(y).reshape(2, 3, -1)
    )
    assert flat_y.shape[-1] == size[0] * size[1]


def test_unbatched_inputs():
    x = _x(4, 3, 6, 6)
    assert tuple(F.max_pool2d(_t(x), 2).shape) == (3, 3, 3)
    assert tuple(F.avg_pool2d(_t(x), 3, 1).shape) == (3, 4, 4)
    assert tuple(F.adaptive_avg_pool2d(_t(x), 2).shape) == (3, 2, 2)
    assert tuple(F.max_pool1d(_t(x[0]), 2).shape) == (6, 3)


def test_max_pool_propagates_nan_and_handles_infinities():
    x = np.array([[[1.0, np.nan, 0.5, -np.inf, -np.inf, 2.0]]])
    y, idx = F.max_pool1d(_t(x, grad=False), 2, return_indices=True)
    assert np.isnan(to_np(y)[0, 0, 0]) and to_np(idx)[0, 0, 0] == 1
    assert to_np(y)[0, 0, 1] == 0.5 and to_np(y)[0, 0, 2] == 2.0


def test_adaptive_avg_pool_to_one_is_the_mean():
    x = _x(5, 4, 3, 5, 6)
    np.testing.assert_allclose(
        to_np(F.adaptive_avg_pool2d(_t(x), 1))[..., 0, 0], x.mean(axis=(2, 3)), atol=1e-14
    )


# ---- gradients ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool2d_gradcheck(case):
    assert gradcheck(lambda x: F.max_pool2d(x, **case), (_t(_x(6, 2, 2, 6, 7)),))


@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool2d_gradcheck(case):
    assert gradcheck(lambda x: F.avg_pool2d(x, **case), (_t(_x(7, 2, 2, 6, 7)),))


@pytest.mark.parametrize("out", [(1, 1), (3, 4), (4, 5)])
def test_adaptive_pools_gradcheck(out):
    x = _t(_x(8, 2, 2, 5, 6))
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, out), (x,))
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, out), (x,))


def test_pool1d_gradcheck():
    x = _t(_x(9, 2, 3, 9))
    assert gradcheck(lambda x: F.max_pool1d(x, 3, 2, 1, 2, True), (x,))
    assert gradcheck(lambda x: F.avg_pool1d(x, 3, 2, 1, True, False), (x,))
    assert gradcheck(lambda x: F.adaptive_avg_pool1d(x, 4), (x,))
    assert gradcheck(lambda x: F.adaptive_max_pool1d(x, 4), (x,))


def test_max_pool_gradient_goes_to_the_argmax_and_overlaps_add():
    x = _t(np.array([[[[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]]))
    F.max_pool2d(x, 2, 1).sum().backward()  # the 1 is the max of both top windows
    # ties (the all-zero bottom windows) go to the first element of the window, as in PyTorch
    np.testing.assert_array_equal(to_np(x.grad)[0, 0], [[0, 2, 0], [1, 1, 0], [0, 0, 0]])


def test_second_derivatives():
    x = _t(_x(10, 1, 2, 5, 5))
    assert gradgradcheck(lambda x: F.max_pool2d(x, 2, 1) ** 2, (x,))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, True, False) ** 2, (x,))
    assert gradgradcheck(lambda x: F.adaptive_avg_pool2d(x, 3) ** 2, (x,))
    assert gradgradcheck(lambda x: F.adaptive_max_pool2d(x, 2) ** 2, (x,))


def test_results_are_identical_for_any_thread_count():
    def run(n):
        prev = cr.get_num_threads()
        cr.set_num_threads(n)
        try:
            x = cr.tensor(_x(11, 6, 5, 13, 12).astype(np.float32), requires_grad=True)
            y = F.max_pool2d(x, 3, 2, 1).sum() + F.avg_pool2d(x, 3, 2, 1).pow(2).sum()
            y = y + F.adaptive_avg_pool2d(x, (3, 5)).pow(2).sum() + F.adaptive_max_pool2d(x, 4).sum()
            y.backward()
            return to_np(y).tobytes(), to_np(x.grad).tobytes()
        finally:
            cr.set_num_threads(prev)

    ref = run(1)
    assert run(2) == ref and run(4) == ref


# ---- bad inputs -----------------------------------------------------------------------------------------
def _z(*shape):
    return cr.zeros(*shape, dtype=cr.float64)


@pytest.mark.parametrize(
    "call,err,match",
    [
        (lambda: F.max_pool2d(_z(4, 4), 2), cr.ShapeError, r"3D \(unbatched\) or 4D"),
        (lambda: F.max_pool2d(_z(1, 2, 3, 4, 4), 2), cr.ShapeError, "max_pool2d"),
        (lambda: F.max_pool2d(_z(1, 2, 4, 4), 0), cr.ArgumentError, "kernel_size"),
        (lambda: F.max_pool2d(_z(1, 2, 4, 4), 2, 0), cr.ArgumentError, "stride"),
        (lambda: F.max_pool2d(_z(1, 2, 4, 4), 2, dilation=0), cr.ArgumentError, "dilation"),
        (lambda: F.max_pool2d(_z(1, 2, 4, 4), 3, padding=2), cr.ArgumentError, "half"),
        (lambda: F.max_pool2d(_z(1, 2, 4, 4), 3, padding=-1), cr.ArgumentError, "padding"),
        (lambda: F.max_pool2d(_z(1, 2, 2, 2), 3), cr.ShapeError, "too small"),
        (lambda: F.max_pool2d(_z(1, 0, 4, 4), 2), cr.ShapeError, "non-zero size"),
        (lambda: F.max_pool2d(_z(1, 2, 4, 4), (2, 2, 2)), cr.ArgumentError, "kernel_size"),
        (lambda: F.max_pool2d(_z(1, 2, 4, 4), "2"), cr.DTypeError, "kernel_size"),
        (lambda: F.max_pool2d(cr.zeros(1, 2, 4, 4, dtype=cr.int64), 2), cr.DTypeError, "float"),
        (lambda: F.avg_pool2d(_z(1, 2, 4, 4), 3, padding=2), cr.ArgumentError, "half"),
        (lambda: F.avg_pool2d(_z(1, 2, 4, 4), 2, divisor_override=0), cr.ArgumentError, "divisor"),
        (lambda: F.avg_pool1d(_z(2, 4), 5), cr.ShapeError, "too small"),
        (lambda: F.adaptive_avg_pool2d(_z(1, 2, 4, 4), -1), cr.ArgumentError, "output_size"),
        (lambda: F.adaptive_avg_pool2d(_z(1, 2, 0, 4), 2), cr.ShapeError, "non-zero size"),
        (lambda: F.adaptive_max_pool2d(_z(4), 2), cr.ShapeError, "adaptive_max_pool2d"),
        (lambda: F.adaptive_avg_pool2d(_z(1, 2, 4, 4), (1, 2, 3)), cr.ArgumentError, "output_size"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()


# ---- modules and PyTorch -----------------------------------------------------------------------------------
POOL_MODULES = [
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 9, 8)),
    ("MaxPool2d", ((2, 3),), dict(stride=(2, 1), dilation=(1, 2)), (2, 3, 9, 8)),
    ("MaxPool2d", (2,), dict(return_indices=True), (3, 8, 8)),
    ("MaxPool1d", (3,), dict(stride=2, padding=1, return_indices=True), (2, 3, 10)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False), (2, 3, 9, 8)),
    ("AvgPool2d", ((3, 2),), dict(padding=(1, 0), divisor_override=5), (2, 3, 9, 8)),
    ("AvgPool1d", (4,), dict(stride=3, padding=2, ceil_mode=True), (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, 5),), dict(), (2, 3, 9, 8)),
    ("AdaptiveAvgPool2d", ((None, 3),), dict(), (2, 3, 9, 8)),
    ("AdaptiveAvgPool1d", (4,), dict(), (2, 3, 10)),
    ("AdaptiveMaxPool2d", (3,), dict(return_indices=True), (2, 3, 9, 8)),
    ("AdaptiveMaxPool1d", (4,), dict(), (2, 3, 10)),
]


@pytest.mark.parametrize(
    "name,args,kwargs,shape", POOL_MODULES, ids=[f"{p[0]}-{i}" for i, p in enumerate(POOL_MODULES)]
)
def test_pool_modules_match_torch(torch, name, args, kwargs, shape):
    tm, cm = getattr(torch.nn, name)(*args, **kwargs), getattr(nn, name)(*args, **kwargs)
    assert repr(cm) == repr(tm)
    xn = np.random.default_rng(12).standard_normal(shape)
    xc, xt = _t(xn), torch.tensor(xn, requires_grad=True)
    yc, yt = cm(xc), tm(xt)
    if isinstance(yt, tuple):
        np.testing.assert_array_equal(to_np(yc[1]), yt[1].numpy())
        yc, yt = yc[0], yt[0]
    np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), atol=1e-12)
    g = np.random.default_rng(13).standard_normal(tuple(yt.shape))
    yc.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(to_np(xc.grad), xt.grad.numpy(), atol=1e-12)


def test_functional_pools_match_torch_float32(torch):
    x = np.random.default_rng(14).standard_normal((4, 8, 15, 13)).astype(np.float32)
    xc, xt = cr.tensor(x), torch.tensor(x)
    TF = torch.nn.functional
    for fc, ft in [
        (
            lambda a: F.max_pool2d(a, 3, 2, 1, ceil_mode=True),
            lambda a: TF.max_pool2d(a, 3, 2, 1, ceil_mode=True),
        ),
        (lambda a: F.avg_pool2d(a, 3, 2, 1), lambda a: TF.avg_pool2d(a, 3, 2, 1)),
        (lambda a: F.adaptive_avg_pool2d(a, (4, 3)), lambda a: TF.adaptive_avg_pool2d(a, (4, 3))),
        (lambda a: F.adaptive_max_pool2d(a, 5), lambda a: TF.adaptive_max_pool2d(a, 5)),
    ]:
        np.testing.assert_allclose(to_np(fc(xc)), ft(xt).numpy(), atol=1e-6)


def test_pool_modules_attributes():
    m = nn.MaxPool2d(3)
    assert m.kernel_size == 3 and m.stride == 3 and m.padding == 0 and m.dilation == 1 and not m.ceil_mode
    a = nn.AvgPool1d(3, 2)
    assert a.kernel_size == (3,) and a.stride == (2,) and a.padding == (0,)
    assert nn.AdaptiveAvgPool2d((2, 3)).output_size == (2, 3)
    assert list(nn.AdaptiveMaxPool2d(2).state_dict()) == []
    assert math.isclose(float(nn.AvgPool2d(2)(cr.ones(1, 1, 2, 2)).sum()), 1.0)
