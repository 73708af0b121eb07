"""Softmax family and losses: closed forms, gradients, PyTorch reference, stability, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from helpers import check_against_torch, gradcheck, leaf, rand, to_np


def _flat(fn):
    """0-dim results as shape (1,): the shared helpers seed gradients through cr.tensor, which
    currently turns a 0-dim NumPy array into shape (1,)."""

    def wrapped(*xs):
        out = fn(*xs)
        return out.reshape(1) if out.ndim == 0 else out

    return wrapped


def gradgrad(fn, *arrays):
    """Second-order check: central differences of fn's create_graph gradient (fixed output grad)."""

    def first_order(*xs):
        with cr.enable_grad():
            y = fn(*xs)
            go = cr.tensor(np.random.default_rng(5).standard_normal(tuple(y.shape))).reshape(tuple(y.shape))
            return tuple(cr.autograd.grad(y, xs, go, create_graph=True))

    gradcheck(first_order, *arrays)


LOGITS = rand(4, 5, seed=1, low=-2, high=2)
TARGET = np.array([0, 3, 4, 1])
LOGITS3 = rand(2, 3, 4, seed=2, low=-2, high=2)  # (N, C, d1)
TARGET3 = np.array([[0, 2, 1, 1], [2, 0, 0, 1]])
WEIGHT = np.array([0.5, 2.0, 1.0, 1.5, 0.7])


# ---- softmax family ----------------------------------------------------------------------------
def test_softmax_rows_sum_to_one_and_log_softmax_is_its_log():
    x = cr.tensor(LOGITS)
    s = F.softmax(x, dim=1)
    np.testing.assert_allclose(to_np(s).sum(1), np.ones(4), rtol=1e-12)
    np.testing.assert_allclose(to_np(F.log_softmax(x, 1)), np.log(to_np(s)), rtol=1e-10)
    np.testing.assert_allclose(to_np(x.softmax(0)).sum(0), np.ones(5), rtol=1e-12)


def test_softmax_is_stable_for_huge_logits():
    x = cr.tensor([[1e4, 0.0, -1e4]])
    np.testing.assert_allclose(to_np(cr.softmax(x, -1)), [[1.0, 0.0, 0.0]])
    assert np.all(np.isfinite(to_np(cr.log_softmax(x, -1))))


def test_softmax_dtype_argument_and_int_input_error():
    assert F.softmax(cr.tensor([1, 2]), dim=0, dtype=cr.float64).dtype == cr.float64
    with pytest.raises(TypeError, match="floating point"):
        cr.softmax(cr.tensor([1, 2]), 0)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gradcheck_softmax_and_log_softmax(dim):
    gradcheck(lambda x: cr.softmax(x, dim), LOGITS)
    gradcheck(lambda x: cr.log_softmax(x, dim), LOGITS)
    gradcheck(lambda x: x.T.softmax(dim), LOGITS)  # non-contiguous
    gradcheck(lambda x: x.log_softmax(1), LOGITS3)


def test_double_backward_softmax_family():
    gradgrad(lambda x: cr.softmax(x, 1), rand(2, 3, seed=3))
    gradgrad(lambda x: cr.log_softmax(x, 0), rand(2, 3, seed=4))


def test_softmax_family_matches_torch(torch):
    check_against_torch(torch, lambda x: cr.softmax(x, 1), lambda x: torch.softmax(x, 1), LOGITS3)
    check_against_torch(torch, lambda x: cr.log_softmax(x, -1), lambda x: torch.log_softmax(x, -1), LOGITS3)
    check_against_torch(
        torch, lambda x: x.transpose(0, 2).log_softmax(0), lambda x: x.transpose(0, 2).log_softmax(0), LOGITS3
    )


# ---- cross entropy / nll ---------------------------------------------------------------------------
def test_cross_entropy_of_uniform_logits_is_log_c():
    x = cr.tensor(np.zeros((3, 7)))
    loss = F.cross_entropy(x, cr.tensor([0, 6, 3]))
    assert math.isclose(loss.item(), math.log(7), rel_tol=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    x = leaf(LOGITS)
    F.cross_entropy(x, cr.tensor(TARGET)).backward()
    p = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
    p[np.arange(4), TARGET] -= 1
    np.testing.assert_allclose(to_np(x.grad), p / 4, rtol=1e-10)


def test_cross_entropy_huge_logits_are_finite():
    x = leaf(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]]))
    loss = F.cross_entropy(x, cr.tensor([1, 0]))
    loss.backward()
    assert math.isfinite(loss.item()) and math.isclose(loss.item(), 2e4, rel_tol=1e-9)
    assert np.all(np.isfinite(to_np(x.grad)))


def test_cross_entropy_ignore_index_rows_get_no_gradient():
    x = leaf(LOGITS)
    loss = F.cross_entropy(x, cr.tensor([0, -100, 4, -100]))
    loss.backward()
    np.testing.assert_array_equal(to_np(x.grad)[[1, 3]], 0.0)
    ref = F.cross_entropy(cr.tensor(LOGITS[[0, 2]]), cr.tensor([0, 4]))
    assert math.isclose(loss.item(), ref.item(), rel_tol=1e-12)


def test_cross_entropy_is_one_node_that_saves_input_target_weight():
    x = leaf(LOGITS)
    y = cr.tensor(TARGET)
    w = cr.tensor(np.linspace(0.5, 2.0, LOGITS.shape[1]))
    loss = F.cross_entropy(x, y, weight=w, label_smoothing=0.1)
    fn = loss.grad_fn
    assert fn.name() == "NllLossBackward0"  # PyTorch's name for cross_entropy's node
    assert [f.name() for f, _ in fn.next_functions] == ["AccumulateGrad"]
    assert [info[0] for info in fn._saved_tensors_info()] == ["self", "target", "weight"]


def test_cross_entropy_all_targets_ignored_mean_is_nan_with_zero_gradient():
    x = leaf(LOGITS)
    loss = F.cross_entropy(x, cr.tensor([1, 1, 1, 1]), ignore_index=1)
    loss.backward()
    assert math.isnan(loss.item())
    np.testing.assert_array_equal(to_np(x.grad), 0.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_an_empty_batch(reduction):
    x = leaf(np.zeros((0, 3)))
    loss = F.cross_entropy(x, cr.tensor(np.zeros(0, np.int64)), reduction=reduction)
    loss.backward(cr.ones(loss.shape) if reduction == "none" else None)
    assert x.grad.shape == (0, 3)
    if reduction == "none":
        assert loss.shape == (0,)
    else:
        assert math.isnan(loss.item()) if reduction == "mean" else loss.item() == 0.0


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradients_match_log_softmax_then_nll(reduction):
    """The fused node against the composition it replaces, first and second order, with weights,
    an ignored class, label smoothing and a spatial dim."""
    rng = np.random.default_rng(5)
    xv = rng.standard_normal((3, 4, 2))
    t = cr.tensor(np.array([[0, 2], [1, 3], [2, 2]]))
    w = cr.tensor(np.array([0.5, 1.0, 2.0, 1.5]))
    gv = rng.standard_normal((3, 2)) if reduction == "none" else np.array(1.3)

    def run(fused):
        x = leaf(xv)
        if fused:
            loss = F.cross_entropy(x, t, weight=w, ignore_index=3, reduction=reduction)
        else:
            loss = F.nll_loss(F.log_softmax(x, 1), t, weight=w, ignore_index=3, reduction=reduction)
        (g,) = cr.autograd.grad(loss, x, cr.tensor(gv), create_graph=True)
        (gg,) = cr.autograd.grad((g * g).sum(), x)
        return to_np(loss), to_np(g), to_np(gg)

    for a, b in zip(run(True), run(False)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _huber(d):
    return cr.where(d.abs() < 0.6, 0.5 * d * d, 0.6 * (d.abs() - 0.3))


def _smooth_l1(d):
    return cr.where(d.abs() < 0.6, 0.5 * d * d / 0.6, d.abs() - 0.3)


_POINTWISE = {  # name -> (grad_fn name, the loss of d = x - t by ops)
    "mse_loss": ("MseLossBackward0", lambda d: d * d),
    "l1_loss": ("L1LossBackward0", lambda d: d.abs()),
    "huber_loss": ("HuberLossBackward0", _huber),
    "smooth_l1_loss": ("SmoothL1LossBackward0", _smooth_l1),
}


@pytest.mark.parametrize("name", list(_POINTWISE))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_pointwise_loss_is_one_node_with_the_gradients_of_its_composition(name, reduction):
    rng = np.random.default_rng(6)
    xv, tv = rng.standard_normal((3, 4)), rng.standard_normal((1, 4))  # the target broadcasts
    gv = rng.standard_normal((3, 4)) if reduction == "none" else np.array(0.7)
    node, composed = _POINTWISE[name]
    kwargs = {"delta": 0.6} if name == "huber_loss" else {"beta": 0.6} if name == "smooth_l1_loss" else {}

    def run(fused):
        x, t = leaf(xv), leaf(tv)
        if fused:
            with pytest.warns(UserWarning, match="target size"):
                loss = getattr(F, name)(x, t, reduction=reduction, **kwargs)
            assert loss.grad_fn.name() == node
            assert [info[0] for info in loss.grad_fn._saved_tensors_info()] == ["self", "target"]
        else:
            e = composed(x - t)
            loss = {"mean": e.mean(), "sum": e.sum(), "none": e}[reduction]
        gx, gt = cr.autograd.grad(loss, (x, t), cr.tensor(gv), create_graph=True)
        ggx, ggt = cr.autograd.grad((gx * gx * x).sum() + (gt * gt).sum(), (x, t))
        return [to_np(v) for v in (loss, gx, gt, ggx, ggt)]

    for a, b in zip(run(True), run(False)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_is_one_node_with_the_gradients_of_its_composition(reduction):
    rng = np.random.default_rng(8)
    xv = rng.standard_normal((4, 3, 2))
    t = np.array([[0, 2], [1, 1], [2, 0], [1, 2]])
    wv = np.array([0.5, 2.0, 1.5])
    gv = rng.standard_normal((4, 2)) if reduction == "none" else np.array(0.9)
    onehot = np.zeros((4, 3, 2))
    for n in range(4):
        for i in range(2):
            if t[n, i] != 2:  # ignore_index=2
                onehot[n, t[n, i], i] = wv[t[n, i]]

    def run(fused):
        x = leaf(xv)
        if fused:
            loss = F.nll_loss(x, cr.tensor(t), weight=cr.tensor(wv), ignore_index=2, reduction=reduction)
            assert loss.grad_fn.name() == "NllLossBackward0"
            assert [f.name() for f, _ in loss.grad_fn.next_functions] == ["AccumulateGrad"]
        else:
            rows = -(x * cr.tensor(onehot)).sum(1)
            loss = {"mean": rows.sum() / onehot.sum(), "sum": rows.sum(), "none": rows}[reduction]
        (g,) = cr.autograd.grad(loss, x, cr.tensor(gv), create_graph=True)
        (gg,) = cr.autograd.grad((g * g * x).sum(), x)
        return [to_np(v) for v in (loss, g, gg)]

    for a, b in zip(run(True), run(False)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_nll_loss_picks_negative_log_probability():
    lp = cr.tensor(np.log(np.array([[0.2, 0.8], [0.6, 0.4]])))
    assert math.isclose(
        F.nll_loss(lp, cr.tensor([1, 0]), reduction="sum").item(),
        -math.log(0.8) - math.log(0.6),
        rel_tol=1e-12,
    )


CE_CASES = {
    "plain": dict(),
    "sum": dict(reduction="sum"),
    "none": dict(reduction="none"),
    "weight": dict(weight=WEIGHT),
    "ignore": dict(ignore_index=3),
    "smooth": dict(label_smoothing=0.2),
    "all": dict(weight=WEIGHT, ignore_index=4, label_smoothing=0.1),
    "all_sum": dict(weight=WEIGHT, ignore_index=0, label_smoothing=0.3, reduction="sum"),
}


def _kw(kw, lib):
    out = dict(kw)
    if "weight" in out:
        out["weight"] = lib.tensor(out["weight"])
    return out


@pytest.mark.parametrize("name", sorted(CE_CASES))
def test_cross_entropy_and_nll_match_torch(torch, name):
    kw = CE_CASES[name]
    tf = torch.nn.functional
    check_against_torch(
        torch,
        _flat(lambda x: F.cross_entropy(x, cr.tensor(TARGET), **_kw(kw, cr))),
        _flat(lambda x: tf.cross_entropy(x, torch.tensor(TARGET), **_kw(kw, torch))),
        LOGITS,
    )
    nkw = {k: v for k, v in kw.items() if k != "label_smoothing"}
    check_against_torch(
        torch,
        _flat(lambda x: F.nll_loss(x, cr.tensor(TARGET), **_kw(nkw, cr))),
        _flat(lambda x: tf.nll_loss(x, torch.tensor(TARGET), **_kw(nkw, torch))),
        LOGITS,
    )


@pytest.mark.parametrize("kw", [dict(), dict(reduction="none"), dict(label_smoothing=0.1, ignore_index=1)])
def test_cross_entropy_spatial_and_unbatched_match_torch(torch, kw):
    tf = torch.nn.functional
    check_against_torch(
        torch,
        _flat(lambda x: F.cross_entropy(x, cr.tensor(TARGET3), **kw)),
        _flat(lambda x: tf.cross_entropy(x, torch.tensor(TARGET3), **kw)),
        LOGITS3,
    )
    check_against_torch(
        torch,
        _flat(lambda x: F.cross_entropy(x, cr.tensor([2]).reshape(()), **kw)),
        _flat(lambda x: tf.cross_entropy(x, torch.tensor(2), **kw)),
        LOGITS[0],
    )


@pytest.mark.parametrize("kw", [dict(), dict(reduction="sum"), dict(weight=WEIGHT, label_smoothing=0.25)])
def test_cross_entropy_probability_targets_match_torch(torch, kw):
    probs = rand(4, 5, seed=9, low=0, high=1)
    probs /= probs.sum(1, keepdims=True)
    tf = torch.nn.functional
    check_against_torch(
        torch,
        _flat(lambda x, t: F.cross_entropy(x, t, **_kw(kw, cr))),
        _flat(lambda x, t: tf.cross_entropy(x, t, **_kw(kw, torch))),
        LOGITS,
        probs,
    )


@pytest.mark.parametrize("kw", [dict(), dict(weight=WEIGHT, label_smoothing=0.1, ignore_index=3)])
def test_gradcheck_and_double_backward_cross_entropy(kw):
    fn = lambda x: F.cross_entropy(x, cr.tensor(TARGET), **_kw(kw, cr)).reshape(1)  # noqa: E731
    gradcheck(fn, LOGITS)
    gradgrad(fn, LOGITS)
    gradgrad(lambda x: F.cross_entropy(x, cr.tensor(TARGET3), reduction="none"), LOGITS3)


def test_cross_entropy_errors():
    x = cr.tensor(LOGITS)
    with pytest.raises(IndexError, match="target value 5"):
        F.cross_entropy(x, cr.tensor([0, 5, 1, 1]))
    with pytest.raises(IndexError, match="target value -3"):
        F.nll_loss(x, cr.tensor([0, -3, 1, 1]))
    with pytest.raises(ValueError, match=r"\[3\].*\[4, 5\]"):
        F.cross_entropy(x, cr.tensor([0, 1, 1]))
    with pytest.raises(TypeError, match="int64"):
        F.cross_entropy(x, cr.tensor([0.0, 1.0, 1.0, 1.0]))
    with pytest.raises(TypeError, match="int64"):
        F.nll_loss(x, cr.tensor([0.0, 1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, cr.tensor(TARGET), reduction="avg")
    with pytest.raises(ValueError, match="weight"):
        F.cross_entropy(x, cr.tensor(TARGET), weight=cr.tensor([1.0, 2.0]))


# ---- regression losses -----------------------------------------------------------------------------
A = rand(3, 4, seed=5)
B = rand(3, 4, seed=6)


def test_regression_losses_closed_form():
    x, t = cr.tensor([0.0, 2.0, -3.0]), cr.tensor([0.5, 0.0, 0.0])
    assert math.isclose(F.mse_loss(x, t).item(), (0.25 + 4 + 9) / 3, rel_tol=1e-6)
    assert math.isclose(F.l1_loss(x, t, reduction="sum").item(), 5.5, rel_tol=1e-6)
    assert math.isclose(F.huber_loss(x, t, reduction="sum").item(), 0.125 + 1.5 + 2.5, rel_tol=1e-6)
    assert math.isclose(
        F.smooth_l1_loss(x, t, reduction="sum", beta=2.0).item(), 0.0625 + 1.0 + 2.0, rel_tol=1e-6
    )
    assert to_np(F.mse_loss(x, t, reduction="none")).shape == (3,)


REG = {
    "mse": (F.mse_loss, "mse_loss", {}),
    "mse_sum": (F.mse_loss, "mse_loss", {"reduction": "sum"}),
    "l1": (F.l1_loss, "l1_loss", {}),
    "l1_none": (F.l1_loss, "l1_loss", {"reduction": "none"}),
    "huber": (F.huber_loss, "huber_loss", {"delta": 0.5}),
    "smooth_l1": (F.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.4}),
    "smooth_l1_beta0": (F.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.0}),
}


@pytest.mark.parametrize("name", sorted(REG))
def test_regression_losses_match_torch_and_gradcheck(torch, name):
    fc, tn, kw = REG[name]
    ft = getattr(torch.nn.functional, tn)
    check_against_torch(torch, _flat(lambda x, t: fc(x, t, **kw)), _flat(lambda x, t: ft(x, t, **kw)), A, B)
    gradcheck(_flat(lambda x, t: fc(x.T, t.T, **kw)), A, B)


# ---- binary cross entropy ------------------------------------------------------------------------
P = rand(3, 4, seed=7, low=0.05, high=0.95)
T01 = rand(3, 4, seed=8, low=0, high=1)


def test_bce_with_logits_closed_form_and_huge_logits():
    x = cr.tensor([0.0])
    assert math.isclose(
        F.binary_cross_entropy_with_logits(x, cr.tensor([1.0])).item(), math.log(2), rel_tol=1e-6
    )
    big = leaf(np.array([1e4, -1e4, 1e4]))
    loss = F.binary_cross_entropy_with_logits(big, cr.tensor(np.array([0.0, 1.0, 1.0])), reduction="sum")
    loss.backward()
    assert math.isclose(loss.item(), 2e4, rel_tol=1e-12)
    np.testing.assert_allclose(to_np(big.grad), [1.0, -1.0, 0.0])


def test_bce_clamps_log_at_minus_100():
    loss = F.binary_cross_entropy(cr.tensor([0.0, 1.0]), cr.tensor([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(to_np(loss), [100.0, 100.0])


BCE_KW = [
    dict(),
    dict(reduction="sum"),
    dict(reduction="none"),
    dict(weight=rand(4, seed=3, low=0.1, high=2)),
]


@pytest.mark.parametrize("kw", BCE_KW, ids=["mean", "sum", "none", "weight"])
def test_bce_family_matches_torch(torch, kw):
    tf = torch.nn.functional
    check_against_torch(
        torch,
        _flat(lambda p, t: F.binary_cross_entropy(p, t, **_kw(kw, cr))),
        _flat(lambda p, t: tf.binary_cross_entropy(p, t, **_kw(kw, torch))),
        P,
        T01,
    )
    pw = rand(4, seed=4, low=0.5, high=3)
    for extra_c, extra_t in [({}, {}), ({"pos_weight": cr.tensor(pw)}, {"pos_weight": torch.tensor(pw)})]:
        check_against_torch(
            torch,
            _flat(lambda x, t, e=extra_c: F.binary_cross_entropy_with_logits(x, t, **_kw(kw, cr), **e)),
            _flat(lambda x, t, e=extra_t: tf.binary_cross_entropy_with_logits(x, t, **_kw(kw, torch), **e)),
            A * 3,
            T01,
        )


def test_gradcheck_bce_family():
    gradcheck(_flat(lambda p, t: F.binary_cross_entropy(p, t)), P, T01)
    pw = cr.tensor(rand(4, seed=4, low=0.5, high=3))
    gradcheck(_flat(lambda x, t: F.binary_cross_entropy_with_logits(x.T.T, t, pos_weight=pw)), A, T01)
    gradgrad(lambda x: F.binary_cross_entropy_with_logits(x, cr.tensor(T01), reduction="none"), A)


def test_bce_errors():
    with pytest.raises(ValueError, match=r"\[3\].*\[2\]"):
        F.binary_cross_entropy_with_logits(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0]))
    with pytest.raises(TypeError, match="floating point target"):
        F.binary_cross_entropy(cr.tensor([0.5]), cr.tensor([1]))


# ---- small helpers ---------------------------------------------------------------------------------
def test_one_hot_linear_dropout():
    oh = F.one_hot(cr.tensor([2, 0]), num_classes=4)
    assert oh.dtype == cr.int64 and oh.tolist() == [[0, 0, 1, 0], [1, 0, 0, 0]]
    assert F.one_hot(cr.tensor([1, 3])).shape == (2, 4)
    with pytest.raises(IndexError, match="out of range"):
        F.one_hot(cr.tensor([5]), 3)
    x, w, b = cr.tensor(A), cr.tensor(rand(2, 4, seed=1)), cr.tensor([1.0, -1.0])
    np.testing.assert_allclose(to_np(F.linear(x, w, b)), A @ to_np(w).T + [1.0, -1.0], rtol=1e-12)
    assert F.dropout(x, 0.5, training=False) is x
    d = to_np(F.dropout(cr.tensor(np.ones((100, 100))), p=0.25))
    assert set(np.unique(d)).issubset({0.0, 1.0 / 0.75}) and 0.6 < (d > 0).mean() < 0.9
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)
