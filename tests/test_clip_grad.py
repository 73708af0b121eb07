"""clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters

_rng = np.random.default_rng(0)
GRADS = [_rng.standard_normal((3, 4)), _rng.standard_normal(5), _rng.standard_normal((2, 2, 2))]


def _params(grads, dtype=np.float64):
    ps = []
    for g in grads:
        p = cr.tensor(np.zeros(g.shape, dtype), requires_grad=True)
        p.grad = cr.tensor(g.astype(dtype))
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [1.0, 2.0, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    ps = _params(GRADS)
    tps = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in GRADS]
    for t, g in zip(tps, GRADS):
        t.grad = torch.tensor(g)
    total = clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
    assert total.shape == () and total.dtype == cr.float64
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    for p, t in zip(ps, tps):
        np.testing.assert_allclose(np.asarray(p.grad), t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_float32_matches_torch(torch):
    ps = _params(GRADS, np.float32)
    tps = [torch.zeros(g.shape, requires_grad=True) for g in GRADS]
    for t, g in zip(tps, GRADS):
        t.grad = torch.tensor(g.astype(np.float32))
    total = clip_grad_norm_(ps, 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 1.0)
    assert total.dtype == cr.float32
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    for p, t in zip(ps, tps):
        np.testing.assert_allclose(np.asarray(p.grad), t.grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_closed_form():
    p = cr.tensor([0.0, 0.0], dtype=cr.float64, requires_grad=True)
    q = cr.tensor([0.0], dtype=cr.float64, requires_grad=True)
    p.grad = cr.tensor([3.0, 0.0], dtype=cr.float64)
    q.grad = cr.tensor([4.0], dtype=cr.float64)
    total = clip_grad_norm_([p, q], max_norm=1.0)
    assert total.item() == 5.0
    coef = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(np.asarray(p.grad), [3 * coef, 0.0], rtol=1e-15)
    np.testing.assert_allclose(np.asarray(q.grad), [4 * coef], rtol=1e-15)
    # below the limit the gradients are untouched (coefficient clamped to 1)
    p.grad = cr.tensor([0.3, 0.4], dtype=cr.float64)
    total = clip_grad_norm_(p, max_norm=1.0, norm_type=1)
    assert total.item() == pytest.approx(0.7)
    np.testing.assert_array_equal(np.asarray(p.grad), [0.3, 0.4])
    assert clip_grad_norm_([p], 1.0, norm_type="inf").item() == 0.4


def test_clip_grad_norm_skips_params_without_grad_and_handles_empty():
    a = cr.tensor([1.0], requires_grad=True)
    assert clip_grad_norm_([a], 1.0).item() == 0.0
    b = cr.tensor([1.0], requires_grad=True)
    b.grad = cr.tensor([2.0])
    assert clip_grad_norm_([a, b], 10.0).item() == 2.0 and a.grad is None


def test_clip_grad_norm_nonfinite_raises_when_asked():
    p = cr.tensor([0.0, 0.0], requires_grad=True)
    p.grad = cr.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert np.isnan(np.asarray(p.grad)[0]) and np.asarray(p.grad)[1] == 1.0  # untouched
    p.grad = cr.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, norm_type=math.inf, error_if_nonfinite=True)
    assert math.isinf(clip_grad_norm_([p], 1.0).item())


@pytest.mark.parametrize("max_norm", [-1.0, -1e-300, -math.inf, math.nan])
def test_clip_grad_norm_rejects_negative_or_nan_max_norm(max_norm):
    p = cr.tensor([0.0, 0.0], dtype=cr.float64, requires_grad=True)
    p.grad = cr.tensor([3.0, 4.0], dtype=cr.float64)
    with pytest.raises(ValueError, match=f"max_norm must be a non-negative number, got {max_norm}"):
        clip_grad_norm_([p], max_norm)
    assert p.grad.tolist() == [3.0, 4.0]  # untouched
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm_([], max_norm)


def _torch_params(torch, grads):
    tps = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(tps, grads):
        t.grad = torch.tensor(g)
    return tps


@pytest.mark.parametrize("max_norm", [0.0, math.inf, 1.0])
@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_edge_max_norm_and_foreach_match_torch(torch, max_norm, foreach):
    ps, tps = _params(GRADS), _torch_params(torch, GRADS)
    total = clip_grad_norm_(ps, max_norm, foreach=foreach)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, foreach=foreach)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    for p, t in zip(ps, tps):
        np.testing.assert_allclose(np.asarray(p.grad), t.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_nonfinite_matches_torch(torch, bad, norm_type):
    grads = [g.copy() for g in GRADS]
    grads[1][2] = bad
    ps, tps = _params(grads), _torch_params(torch, grads)
    with pytest.raises(RuntimeError) as ours:
        clip_grad_norm_(ps, 1.0, norm_type=norm_type, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.utils.clip_grad_norm_(tps, 1.0, norm_type=norm_type, error_if_nonfinite=True)
    assert str(ours.value) == str(theirs.value)
    for p, g in zip(ps, grads):
        np.testing.assert_array_equal(np.asarray(p.grad), g)  # untouched
    # error_if_nonfinite=False (the default) scales by the non-finite norm, as PyTorch does
    total = clip_grad_norm_(ps, 1.0, norm_type=norm_type, error_if_nonfinite=False)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 1.0, norm_type=norm_type)
    np.testing.assert_array_equal(total.item(), ttotal.item())
    for p, t in zip(ps, tps):
        np.testing.assert_array_equal(np.asarray(p.grad), t.grad.numpy())


def test_clip_grad_norm_is_thread_count_independent():
    g = np.random.default_rng(5).standard_normal(300_001)
    out = []
    for n in (1, 2):
        cr.set_num_threads(n)
        try:
            p = cr.tensor(np.zeros_like(g), requires_grad=True)
            p.grad = cr.tensor(g)
            out.append((clip_grad_norm_([p], 1.0).item(), np.asarray(p.grad).copy()))
        finally:
            cr.set_num_threads(2)
    assert out[0][0] == out[1][0]
    np.testing.assert_array_equal(out[0][1], out[1][1])
    np.testing.assert_allclose(out[0][0], np.linalg.norm(g), rtol=1e-12)


def test_clip_grad_value_clamps_in_place(torch):
    ps = _params(GRADS)
    tps = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in GRADS]
    for t, g in zip(tps, GRADS):
        t.grad = torch.tensor(g)
    clip_grad_value_(ps, 0.5)
    torch.nn.utils.clip_grad_value_(tps, 0.5)
    for p, t in zip(ps, tps):
        np.testing.assert_array_equal(np.asarray(p.grad), t.grad.numpy())


def test_clip_grad_value_closed_form():
    p = cr.tensor([0.0, 0.0, 0.0], requires_grad=True)
    p.grad = cr.tensor([-3.0, 0.2, 7.0])
    clip_grad_value_(p, 1.0)
    assert p.grad.tolist() == pytest.approx([-1.0, 0.2, 1.0])


def test_parameters_to_vector_and_back():
    ps = [cr.tensor(np.arange(6.0).reshape(2, 3)), cr.tensor(np.array([10.0, 11.0]))]
    vec = parameters_to_vector(ps)
    assert vec.shape == (8,)
    np.testing.assert_array_equal(np.asarray(vec), [0, 1, 2, 3, 4, 5, 10, 11])
    targets = [cr.tensor(np.zeros((2, 3))), cr.tensor(np.zeros(2))]
    vector_to_parameters(vec, targets)
    for a, b in zip(ps, targets):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ValueError, match="has 8 elements but the parameters have 2"):
        vector_to_parameters(vec, [cr.tensor(np.zeros(2))])
    with pytest.raises(TypeError):
        vector_to_parameters([1.0, 2.0], targets)
