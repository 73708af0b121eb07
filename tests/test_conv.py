"""Convolutions: conv1d, conv2d, conv_transpose1d/2d and the Conv/ConvTranspose modules.

Values against a naive numpy loop, float64 gradients by central differences for every option
(stride, padding incl. 'same'/'valid', dilation, groups incl. depthwise, bias), second derivatives,
bitwise determinism across thread counts, bad inputs, and PyTorch with the same weights.
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


# ---- numpy references -------------------------------------------------------------------------------
def _pairs(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


def np_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Naive N-d (1 or 2 spatial dims) cross-correlation, PyTorch's conv semantics."""
    nd = w.ndim - 2
    if x.ndim == nd + 1:
        return np_conv(x[None], w, b, stride, padding, dilation, groups)[0]
    s, d = _pairs(stride, nd), _pairs(dilation, nd)
    k = w.shape[2:]
    if padding == "valid":
        lo = hi = (0,) * nd
    elif padding == "same":
        tot = [d[i] * (k[i] - 1) for i in range(nd)]
        lo = tuple(t // 2 for t in tot)
        hi = tuple(t - t // 2 for t in tot)
    else:
        lo = hi = _pairs(padding, nd)
    xp = np.pad(x, [(0, 0), (0, 0)] + [(lo[i], hi[i]) for i in range(nd)])
    if nd == 1:
        xp, w = xp[:, :, None, :], w[:, :, None, :]
        s, d, k = (1,) + s, (1,) + d, (1,) + k
    N, C, H, W = xp.shape
    n_out, Cg = w.shape[:2]
    oh = (H - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (W - d[1] * (k[1] - 1) - 1) // s[1] + 1
    og = n_out // groups
    y = np.zeros((N, n_out, oh, ow))
    for n, o, i, j in itertools.product(range(N), range(n_out), range(oh), range(ow)):
        g = o // og
        acc = 0.0
        for c, a, bb in itertools.product(range(Cg), range(k[0]), range(k[1])):
            acc += w[o, c, a, bb] * xp[n, g * Cg + c, i * s[0] + a * d[0], j * s[1] + bb * d[1]]
        y[n, o, i, j] = acc + (0.0 if b is None else b[o])
    return y[:, :, 0, :] if nd == 1 else y


def np_conv_transpose(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Naive transposed convolution: every input element scatters weight * value into the output."""
    nd = w.ndim - 2
    s, p, op, d = (_pairs(v, nd) for v in (stride, padding, output_padding, dilation))
    k = w.shape[2:]
    if nd == 1:
        x, w = x[:, :, None, :], w[:, :, None, :]
        s, p, op, d, k = (1,) + s, (0,) + p, (0,) + op, (1,) + d, (1,) + k
    N, C, H, W = x.shape
    cg, og = C // groups, w.shape[1]
    oh = (H - 1) * s[0] - 2 * p[0] + d[0] * (k[0] - 1) + op[0] + 1
    ow = (W - 1) * s[1] - 2 * p[1] + d[1] * (k[1] - 1) + op[1] + 1
    full = np.zeros((N, og * groups, oh + 2 * p[0] + k[0] * d[0], ow + 2 * p[1] + k[1] * d[1]))
    for n, c, i, j in itertools.product(range(N), range(C), range(H), range(W)):
        g = c // cg
        for o, a, bb in itertools.product(range(og), range(k[0]), range(k[1])):
            full[n, g * og + o, i * s[0] + a * d[0], j * s[1] + bb * d[1]] += x[n, c, i, j] * w[c, o, a, bb]
    y = full[:, :, p[0] : p[0] + oh, p[1] : p[1] + ow]
    if b is not None:
        y = y + b[None, :, None, None]
    return y[:, :, 0, :] if nd == 1 else y


def _rng(seed=0):
    return np.random.default_rng(seed)


def _t(a, grad=True):
    return cr.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


# option grid: (stride, padding, dilation, groups, bias)
CONV2D_CASES = [
    (1, 0, 1, 1, True),
    (1, 1, 1, 1, False),
    (2, 1, 1, 1, True),
    ((2, 1), (1, 0), 1, 1, True),
    (1, 0, 2, 1, True),
    (2, 2, (2, 1), 2, True),
    (1, 1, 1, 2, False),
    (1, 1, 1, 4, True),  # depthwise
    (1, "same", 1, 1, True),
    (1, "same", 2, 2, False),
    (1, "valid", 1, 1, True),
    (3, 1, 1, 1, True),
]


def _conv2d_args(case, seed=0, N=2, C=4, H=6, W=5, out=4, k=(3, 2)):
    stride, padding, dilation, groups, bias = case
    rng = _rng(seed)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((out, C // groups, *k))
    b = rng.standard_normal(out) if bias else None
    return x, w, b


def _ids(cases):
    return ["s{}-p{}-d{}-g{}-b{}".format(*c) for c in cases]


# ---- values against numpy ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", CONV2D_CASES, ids=_ids(CONV2D_CASES))
def test_conv2d_matches_numpy_loop(case):
    stride, padding, dilation, groups, _ = case
    x, w, b = _conv2d_args(case)
    y = F.conv2d(_t(x), _t(w), None if b is None else _t(b), stride, padding, dilation, groups)
    ref = np_conv(x, w, b, stride, padding, dilation, groups)
    assert tuple(y.shape) == ref.shape
    np.testing.assert_allclose(to_np(y), ref, atol=1e-12)


@pytest.mark.parametrize(
    "stride,padding,dilation,groups,bias",
    [
        (1, 0, 1, 1, True),
        (2, 1, 1, 2, False),
        (1, "same", 2, 1, True),
        (3, 2, 2, 4, True),
        (1, "valid", 1, 1, False),
    ],
)
def test_conv1d_matches_numpy_loop(stride, padding, dilation, groups, bias):
    rng = _rng(1)
    x, w = rng.standard_normal((2, 4, 9)), rng.standard_normal((4, 4 // groups, 3))
    b = rng.standard_normal(4) if bias else None
    y = F.conv1d(_t(x), _t(w), None if b is None else _t(b), stride, padding, dilation, groups)
    np.testing.assert_allclose(to_np(y), np_conv(x, w, b, stride, padding, dilation, groups), atol=1e-12)


def test_unbatched_input_gives_unbatched_output():
    rng = _rng(2)
    x, w = rng.standard_normal((3, 5, 5)), rng.standard_normal((2, 3, 3, 3))
    y = cr.conv2d(_t(x), _t(w), padding=1)
    assert tuple(y.shape) == (2, 5, 5)
    np.testing.assert_allclose(to_np(y), np_conv(x, w, padding=1), atol=1e-12)
    y1 = cr.conv1d(_t(x[:, 0]), _t(w[:, :, 0]))
    assert tuple(y1.shape) == (2, 3)


def test_pointwise_conv_uses_input_directly_and_matches():
    rng = _rng(3)
    x, w, b = rng.standard_normal((3, 6, 4, 5)), rng.standard_normal((5, 6, 1, 1)), rng.standard_normal(5)
    y = F.conv2d(_t(x), _t(w), _t(b))
    np.testing.assert_allclose(to_np(y), np_conv(x, w, b), atol=1e-12)
    assert gradcheck(lambda a, c, d: F.conv2d(a, c, d), (_t(x[:1, :, :2, :3]), _t(w), _t(b)))


def test_conv_transpose2d_matches_numpy_loop():
    rng = _rng(4)
    for stride, padding, op, groups, dilation in [
        (1, 0, 0, 1, 1),
        (2, 1, 1, 1, 1),
        ((2, 3), (0, 1), (1, 2), 2, 1),
        (1, 1, 0, 2, 2),
        (2, 0, 1, 1, 2),
    ]:
        x, w, b = (
            rng.standard_normal((2, 4, 3, 4)),
            rng.standard_normal((4, 3, 3, 2)),
            rng.standard_normal(3 * groups),
        )
        w = w if groups == 1 else rng.standard_normal((4, 3, 3, 2))
        y = F.conv_transpose2d(_t(x), _t(w), _t(b), stride, padding, op, groups, dilation)
        ref = np_conv_transpose(x, w, b, stride, padding, op, groups, dilation)
        assert tuple(y.shape) == ref.shape
        np.testing.assert_allclose(to_np(y), ref, atol=1e-12)


def test_conv_transpose1d_matches_numpy_loop():
    rng = _rng(5)
    x, w, b = rng.standard_normal((2, 4, 5)), rng.standard_normal((4, 2, 3)), rng.standard_normal(4)
    y = F.conv_transpose1d(_t(x), _t(w), _t(b), 2, 1, 1, 2, 1)
    np.testing.assert_allclose(to_np(y), np_conv_transpose(x, w, b, 2, 1, 1, 2, 1), atol=1e-12)


def test_conv_transpose_is_the_input_gradient_of_conv():
    rng = _rng(6)
    x, w = _t(rng.standard_normal((2, 4, 7, 6))), _t(rng.standard_normal((6, 2, 3, 3)), grad=False)
    y = F.conv2d(x, w, None, 2, 1, 1, 2)
    g = rng.standard_normal(tuple(y.shape))
    y.backward(cr.tensor(g))
    # output_padding recovers the input size that the strided conv rounded away
    gt = F.conv_transpose2d(cr.tensor(g), w, None, 2, 1, (0, 1), 2)
    np.testing.assert_allclose(to_np(x.grad), to_np(gt), atol=1e-12)


# ---- gradients ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CONV2D_CASES, ids=_ids(CONV2D_CASES))
def test_conv2d_gradcheck(case):
    stride, padding, dilation, groups, _ = case
    x, w, b = _conv2d_args(case, seed=7, N=2, C=4, H=5, W=4, out=4, k=(3, 2))
    args = (_t(x), _t(w)) + (() if b is None else (_t(b),))

    def fn(*a):
        return F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, stride, padding, dilation, groups)

    assert gradcheck(fn, args)


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 2, 2), (1, "same", 1, 4)])
def test_conv1d_gradcheck(stride, padding, dilation, groups):
    rng = _rng(8)
    args = (
        _t(rng.standard_normal((2, 4, 7))),
        _t(rng.standard_normal((4, 4 // groups, 3))),
        _t(rng.standard_normal(4)),
    )
    assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride, padding, dilation, groups), args)


@pytest.mark.parametrize(
    "stride,padding,output_padding,groups,dilation,bias",
    [
        (1, 0, 0, 1, 1, True),
        (2, 1, 1, 1, 1, False),
        ((2, 1), (1, 0), (1, 0), 2, 1, True),
        (2, 0, 1, 1, 2, True),
    ],
)
def test_conv_transpose2d_gradcheck(stride, padding, output_padding, groups, dilation, bias):
    rng = _rng(9)
    args = [_t(rng.standard_normal((2, 4, 3, 3))), _t(rng.standard_normal((4, 2, 2, 3)))]
    if bias:
        args.append(_t(rng.standard_normal(2 * groups)))

    def fn(*a):
        b = a[2] if len(a) > 2 else None
        return F.conv_transpose2d(a[0], a[1], b, stride, padding, output_padding, groups, dilation)

    assert gradcheck(fn, tuple(args))


@pytest.mark.parametrize(
    "case", [CONV2D_CASES[0], CONV2D_CASES[5], CONV2D_CASES[7]], ids=_ids(CONV2D_CASES[:3])
)
def test_conv2d_second_derivatives(case):
    stride, padding, dilation, groups, _ = case
    x, w, b = _conv2d_args(case, seed=10, N=2, C=4, H=4, W=4, out=4, k=(2, 2))
    fn = lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups)  # noqa: E731
    assert gradgradcheck(fn, (_t(x), _t(w), _t(b)))


def test_conv_transpose2d_second_derivatives():
    rng = _rng(11)
    args = (
        _t(rng.standard_normal((1, 2, 3, 3))),
        _t(rng.standard_normal((2, 2, 2, 2))),
        _t(rng.standard_normal(2)),
    )
    assert gradgradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1), args)


def test_grad_fn_names():
    rng = _rng(12)
    x, w = _t(rng.standard_normal((1, 2, 4, 4))), _t(rng.standard_normal((3, 2, 3, 3)))
    y = F.conv2d(x, w)
    assert type(y.grad_fn).__name__ == "ConvolutionBackward0" or "ConvolutionBackward0" in repr(y.grad_fn)
    (gx,) = cr.autograd.grad(y.sum(), [x], create_graph=True)
    assert gx.requires_grad


def test_noncontiguous_inputs():
    rng = _rng(13)
    xb, wb = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3))
    x = _t(xb.transpose(0, 1, 3, 2).copy()).transpose(2, 3)
    w = _t(wb)[:, :, :, :]
    y = F.conv2d(x, w, None, 1, 1)
    np.testing.assert_allclose(to_np(y), np_conv(xb, wb, None, 1, 1), atol=1e-12)
    assert gradcheck(lambda a, c: F.conv2d(a, c, None, 1, 1), (x.detach().requires_grad_(), w))


def test_float32_matches_float64():
    rng = _rng(14)
    x, w, b = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    y32 = F.conv2d(
        cr.tensor(x.astype(np.float32)), cr.tensor(w.astype(np.float32)), cr.tensor(b.astype(np.float32))
    )
    assert y32.dtype == cr.float32
    np.testing.assert_allclose(to_np(y32), np_conv(x, w, b), atol=1e-4)


# ---- determinism across thread counts ------------------------------------------------------------------
def _conv_grads_bytes(threads, dtype):
    prev = cr.get_num_threads()
    cr.set_num_threads(threads)
    try:
        rng = _rng(15)
        x = cr.tensor(rng.standard_normal((13, 6, 10, 9)).astype(dtype), requires_grad=True)
        w = cr.tensor(rng.standard_normal((8, 3, 3, 3)).astype(dtype), requires_grad=True)
        b = cr.tensor(rng.standard_normal(8).astype(dtype), requires_grad=True)
        y = F.conv2d(x, w, b, 1, 1, 1, 2)
        w2 = cr.tensor(rng.standard_normal((8, 4, 3, 3)).astype(dtype), requires_grad=True)
        y2 = F.conv_transpose2d(y, w2, None, 2, 1, 1)
        loss = (y2 * y2).sum() + (y * y).sum()
        loss.backward()
        return [to_np(t).tobytes() for t in (y, y2, x.grad, w.grad, b.grad, w2.grad)]
    finally:
        cr.set_num_threads(prev)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_are_bitwise_identical_for_any_thread_count(dtype):
    ref = _conv_grads_bytes(1, dtype)
    for n in (2, 4):
        assert _conv_grads_bytes(n, dtype) == ref, f"results differ with {n} threads"


# ---- bad inputs -----------------------------------------------------------------------------------------
def _x(*shape):
    return cr.zeros(*shape, dtype=cr.float64)


@pytest.mark.parametrize(
    "call,err,match",
    [
        (lambda: F.conv2d(_x(2, 3, 5, 5), _x(4, 2, 3, 3)), cr.ShapeError, "to have 2 channels, but got 3"),
        (lambda: F.conv2d(_x(2, 4, 5, 5), _x(4, 2, 3, 3), groups=3), cr.ShapeError, "divisible by 3"),
        (lambda: F.conv2d(_x(2, 3, 2, 2), _x(4, 3, 3, 3)), cr.ShapeError, "Kernel size can't be greater"),
        (lambda: F.conv2d(_x(3, 5), _x(4, 3, 3, 3)), cr.ShapeError, r"3D \(unbatched\) or 4D"),
        (lambda: F.conv2d(_x(1, 2, 3, 5, 5), _x(4, 3, 3, 3)), cr.ShapeError, "input of size"),
        (lambda: F.conv2d(_x(2, 3, 5, 5), _x(4, 3, 3)), cr.ShapeError, "weight"),
        (lambda: F.conv2d(_x(2, 3, 5, 5), _x(4, 3, 3, 3), _x(3)), cr.ShapeError, "bias"),
        (lambda: F.conv2d(_x(2, 3, 5, 5), _x(4, 3, 3, 3), stride=0), cr.ArgumentError, "stride"),
        (lambda: F.conv2d(_x(2, 3, 5, 5), _x(4, 3, 3, 3), padding=-1), cr.ArgumentError, "padding"),
        (lambda: F.conv2d(_x(2, 3, 5, 5), _x(4, 3, 3, 3), dilation=0), cr.ArgumentError, "dilation"),
        (lambda: F.conv2d(_x(2, 3, 5, 5), _x(4, 3, 3, 3), groups=0), cr.ArgumentError, "groups"),
        (
            lambda: F.conv2d(_x(2, 3, 5, 5), _x(4, 3, 3, 3), padding="full"),
            cr.ArgumentError,
            "padding string",
        ),
        (
            lambda: F.conv2d(_x(2, 3, 5, 5), _x(4, 3, 3, 3), stride=2, padding="same"),
            cr.ArgumentError,
            "strided",
        ),
        (lambda: F.conv2d(_x(2, 3, 5, 5), _x(4, 3, 3, 3), stride=(1, 2, 3)), cr.ArgumentError, "stride"),
        (lambda: F.conv2d(_x(2, 3, 5, 5), _x(4, 3, 3, 3), stride="a"), cr.DTypeError, "stride"),
        (
            lambda: F.conv2d(cr.zeros(2, 3, 5, 5, dtype=cr.float32), _x(4, 3, 3, 3)),
            cr.DTypeError,
            "should be the same",
        ),
        (
            lambda: F.conv2d(cr.zeros(2, 3, 5, 5, dtype=cr.int64), cr.zeros(4, 3, 3, 3, dtype=cr.int64)),
            cr.DTypeError,
            "float",
        ),
        (lambda: F.conv1d(_x(2, 3, 2), _x(4, 3, 3)), cr.ShapeError, "Kernel size"),
        (lambda: F.conv1d(_x(2, 3, 5, 5), _x(4, 3, 3)), cr.ShapeError, "conv1d"),
        (lambda: F.conv_transpose2d(_x(2, 3, 5, 5), _x(4, 2, 3, 3)), cr.ShapeError, "to have 4 channels"),
        (
            lambda: F.conv_transpose2d(_x(2, 4, 5, 5), _x(4, 2, 3, 3), output_padding=1),
            cr.ArgumentError,
            "output padding",
        ),
        (lambda: F.conv_transpose2d(_x(2, 4, 1, 1), _x(4, 2, 1, 1), padding=1), cr.ShapeError, "too small"),
        (lambda: F.conv_transpose2d(_x(2, 4, 5, 5), _x(4, 2, 3, 3), groups=3), cr.ShapeError, "divisible"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_failed_call_leaves_tensors_unchanged():
    x, w = _t(np.ones((2, 3, 5, 5))), _t(np.ones((4, 2, 3, 3)))
    with pytest.raises(cr.ShapeError):
        F.conv2d(x, w)
    assert x.grad is None and float(x.sum()) == 150.0


# ---- modules --------------------------------------------------------------------------------------------
def test_conv2d_module_attributes_init_and_repr():
    cr.manual_seed(0)
    m = nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2)
    assert m.kernel_size == (3, 3) and m.stride == (2, 2) and m.padding == (1, 1) and m.dilation == (1, 1)
    assert m.in_channels == 4 and m.out_channels == 8 and m.groups == 2 and m.padding_mode == "zeros"
    assert tuple(m.weight.shape) == (8, 2, 3, 3) and tuple(m.bias.shape) == (8,)
    assert sorted(m.state_dict()) == ["bias", "weight"]
    bound = 1 / math.sqrt(2 * 9)  # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert float(m.weight.abs().max()) <= bound and float(m.bias.abs().max()) <= bound
    assert repr(m) == "Conv2d(4, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), groups=2)"
    m1 = nn.Conv1d(3, 5, 4, bias=False, padding="same", padding_mode="reflect")
    assert m1.bias is None and m1.kernel_size == (4,)
    assert (
        repr(m1)
        == "Conv1d(3, 5, kernel_size=(4,), stride=(1,), padding=same, bias=False, padding_mode=reflect)"
    )
    t = nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)
    assert tuple(t.weight.shape) == (4, 3, 3, 3)
    y = t(cr.zeros(1, 4, 5, 5), output_size=[12, 12])
    assert tuple(y.shape) == (1, 6, 12, 12)


@pytest.mark.parametrize(
    "kwargs,err",
    [
        (dict(groups=0), cr.ArgumentError),
        (dict(groups=3), cr.ArgumentError),
        (dict(padding="full"), cr.ArgumentError),
        (dict(padding="same", stride=2), cr.ArgumentError),
        (dict(padding_mode="mirror"), cr.ArgumentError),
    ],
)
def test_conv_module_bad_arguments(kwargs, err):
    with pytest.raises(err):
        nn.Conv2d(4, 6, 3, **kwargs)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_padding_modes_match_explicit_pad(mode):
    cr.manual_seed(1)
    m = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, dtype=cr.float64)
    x = _t(_rng(16).standard_normal((2, 2, 5, 6)))
    pad_mode = "constant" if mode == "zeros" else mode
    ref = F.conv2d(F.pad(x, [2, 2, 1, 1], mode=pad_mode), m.weight, m.bias)
    np.testing.assert_allclose(to_np(m(x)), to_np(ref), atol=1e-12)


# ---- against PyTorch ------------------------------------------------------------------------------------
def _load(cm, tm):
    cm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def _compare_module(torch, cm, tm, shape, atol=1e-10, **call):
    _load(cm, tm)
    xn = _rng(17).standard_normal(shape)
    xc, xt = _t(xn), torch.tensor(xn, requires_grad=True)
    yc, yt = cm(xc, **call), tm(xt, **call)
    assert tuple(yc.shape) == tuple(yt.shape)
    np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), atol=atol)
    g = _rng(18).standard_normal(tuple(yt.shape))
    yc.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(to_np(xc.grad), xt.grad.numpy(), atol=atol)
    tp = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        np.testing.assert_allclose(to_np(p.grad), tp[name].grad.numpy(), atol=atol, err_msg=name)


CONV_MODULES = [
    ("Conv2d", (4, 6, 3), dict(), (2, 4, 7, 6)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=2, padding=1, dilation=(1, 2), groups=2), (2, 4, 9, 8)),
    ("Conv2d", (4, 4, 3), dict(groups=4, bias=False), (3, 4, 6, 6)),
    ("Conv2d", (3, 5, 4), dict(padding="same", dilation=2), (2, 3, 9, 8)),
    ("Conv2d", (3, 5, 3), dict(padding="valid"), (3, 8, 8)),
    ("Conv2d", (3, 5, 3), dict(padding=2, padding_mode="reflect"), (2, 3, 6, 6)),
    ("Conv2d", (3, 5, 3), dict(padding=1, padding_mode="replicate"), (2, 3, 6, 6)),
    ("Conv2d", (3, 5, 3), dict(padding=(1, 2), padding_mode="circular"), (2, 3, 6, 6)),
    ("Conv2d", (3, 5, 4), dict(padding="same", padding_mode="circular"), (2, 3, 6, 6)),
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, groups=2), (2, 4, 11)),
    ("Conv1d", (3, 5, 4), dict(padding="same", padding_mode="reflect"), (2, 3, 9)),
    ("Conv1d", (3, 5, 1), dict(), (2, 3, 9)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2), (2, 4, 5, 5)),
    ("ConvTranspose2d", (4, 3, (2, 3)), dict(dilation=2, bias=False), (2, 4, 4, 5)),
    ("ConvTranspose1d", (4, 2, 3), dict(stride=3, padding=1, output_padding=2), (2, 4, 5)),
]


@pytest.mark.parametrize(
    "name,args,kwargs,shape", CONV_MODULES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV_MODULES)]
)
def test_conv_modules_match_torch_with_same_weights(torch, name, args, kwargs, shape):
    tm = getattr(torch.nn, name)(*args, **kwargs).double()
    cm = getattr(nn, name)(*args, **kwargs, dtype=cr.float64)
    assert repr(cm) == repr(tm)
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())
    assert tuple(cm.weight.shape) == tuple(tm.weight.shape)
    _compare_module(torch, cm, tm, shape)


def test_conv_transpose2d_output_size_matches_torch(torch):
    tm = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1).double()
    cm = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, dtype=cr.float64)
    _compare_module(torch, cm, tm, (2, 3, 4, 4), output_size=[8, 8])


def test_float32_modules_match_torch(torch):
    tm = torch.nn.Conv2d(8, 16, 3, padding=1)
    cm = nn.Conv2d(8, 16, 3, padding=1)
    _load(cm, tm)
    x = _rng(19).standard_normal((4, 8, 12, 12)).astype(np.float32)
    np.testing.assert_allclose(to_np(cm(cr.tensor(x))), tm(torch.tensor(x)).detach().numpy(), atol=1e-4)


def test_batchnorm2d_stays_fused_after_conv():
    m = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4))
    y = m(cr.tensor(_rng(20).standard_normal((3, 2, 5, 5)).astype(np.float32)))
    assert (
        "NativeBatchNormBackward0" in repr(y.grad_fn)
        or type(y.grad_fn).__name__ == "NativeBatchNormBackward0"
    )


def test_module_errors_name_the_layer_and_shapes():
    m = nn.Conv2d(3, 8, 3)
    with pytest.raises(cr.ShapeError, match=r"Conv2d\(3, 8, .*3 channels.*\(2, 4, 5, 5\)"):
        m(cr.zeros(2, 4, 5, 5))
    with pytest.raises(cr.ShapeError, match=r"Conv2d.*3D \(unbatched\) or 4D"):
        m(cr.zeros(5, 5))
    with pytest.raises(cr.ShapeError, match="ConvTranspose1d"):
        nn.ConvTranspose1d(4, 2, 3)(cr.zeros(2, 3, 5))
    with pytest.raises(cr.ShapeError, match="Kernel size"):
        m(cr.zeros(1, 3, 2, 2))
