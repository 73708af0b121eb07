"""Fused batch_norm / layer_norm kernels and the BatchNorm1d/2d, LayerNorm modules."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from helpers import check_against_torch, gradcheck, rand, to_np


def _bn_train(x, w, b):
    return cr.batch_norm(x, None, None, w, b, True, 0.1, 1e-5)


# ---- no-torch closed-form checks --------------------------------------------------------------
def test_batch_norm_training_output_has_zero_mean_unit_variance_per_channel():
    x = cr.tensor(rand(16, 4, 5, seed=3) * 3.0 + 7.0)
    y = to_np(cr.batch_norm(x, None, None, None, None, True, 0.1, 0.0))
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2)), 1.0, atol=1e-10)


def test_batch_norm_applies_affine_weight_and_bias_per_channel():
    x_np = rand(10, 3, seed=1)
    w, b = np.array([2.0, -1.0, 0.5]), np.array([1.0, 2.0, 3.0])
    y = to_np(cr.batch_norm(cr.tensor(x_np), None, None, cr.tensor(w), cr.tensor(b), True, 0.1, 1e-5))
    xhat = (x_np - x_np.mean(0)) / np.sqrt(x_np.var(0) + 1e-5)
    np.testing.assert_allclose(y, xhat * w + b, rtol=1e-12, atol=1e-12)


def test_batch_norm_updates_running_stats_with_unbiased_variance():
    x_np = rand(6, 2, 3, seed=2)
    rm, rv = cr.zeros(2, dtype=cr.float64), cr.ones(2, dtype=cr.float64)
    cr.batch_norm(cr.tensor(x_np), rm, rv, None, None, True, 0.25, 1e-5)
    np.testing.assert_allclose(to_np(rm), 0.25 * x_np.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(to_np(rv), 0.75 + 0.25 * x_np.var(axis=(0, 2), ddof=1), rtol=1e-12)


def test_batch_norm_eval_uses_running_stats():
    x_np = rand(4, 3, seed=4)
    rm, rv = np.array([0.5, -1.0, 2.0]), np.array([4.0, 0.25, 1.0])
    y = to_np(cr.batch_norm(cr.tensor(x_np), cr.tensor(rm), cr.tensor(rv), None, None, False, 0.1, 0.0))
    np.testing.assert_allclose(y, (x_np - rm) / np.sqrt(rv), rtol=1e-12)


def test_batch_norm_statistics_are_accurate_when_mean_dwarfs_std():
    x_np = 1e6 + rand(4096, 1, seed=5, dtype=np.float32).astype(np.float64)
    y = to_np(cr.batch_norm(cr.tensor(x_np.astype(np.float32)), None, None, None, None, True, 0.1, 0.0))
    assert abs(y.var() - 1.0) < 1e-2


def test_layer_norm_rows_have_zero_mean_unit_variance():
    x = cr.tensor(rand(7, 3, 5, seed=6) * 4 - 2)
    y = to_np(cr.layer_norm(x, (3, 5), None, None, 0.0))
    np.testing.assert_allclose(y.reshape(7, -1).mean(1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.reshape(7, -1).var(1), 1.0, atol=1e-10)


def test_layer_norm_module_matches_closed_form_with_affine():
    ln = nn.LayerNorm(4).double()
    nn.init._copy_(ln.weight, np.array([1.0, 2.0, 3.0, 4.0]))
    nn.init._copy_(ln.bias, np.array([0.0, 1.0, 0.0, -1.0]))
    x_np = rand(3, 4, seed=7)
    xhat = (x_np - x_np.mean(1, keepdims=True)) / np.sqrt(x_np.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(to_np(ln(cr.tensor(x_np))), xhat * [1, 2, 3, 4] + [0, 1, 0, -1], rtol=1e-12)


def test_batch_norm_is_bitwise_deterministic_across_thread_counts():
    x = cr.tensor(rand(20000, 3, seed=8, dtype=np.float32))
    outs = []
    for n in (1, 2):
        cr.set_num_threads(n)
        outs.append(to_np(cr.batch_norm(x, None, None, None, None, True, 0.1, 1e-5)))
    assert np.array_equal(outs[0], outs[1])


# ---- gradients (float64 central differences) ---------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)])
def test_batch_norm_training_gradcheck_input_weight_bias(shape):
    gradcheck(_bn_train, rand(*shape, seed=9), rand(3, seed=10), rand(3, seed=11))


def test_batch_norm_gradcheck_non_contiguous_input():
    gradcheck(
        lambda x, w, b: _bn_train(x.transpose(0, 1), w, b), rand(3, 6, seed=12), rand(3), rand(3, seed=2)
    )


def test_batch_norm_gradcheck_without_affine():
    gradcheck(lambda x: cr.batch_norm(x, None, None, None, None, True, 0.1, 1e-5), rand(6, 2, seed=13))


def test_batch_norm_eval_gradcheck():
    rm, rv = cr.tensor(rand(3, seed=14)), cr.tensor(rand(3, seed=15, low=0.5, high=2.0))
    gradcheck(
        lambda x, w, b: cr.batch_norm(x, rm, rv, w, b, False, 0.1, 1e-5), rand(4, 3, 2), rand(3), rand(3)
    )


@pytest.mark.parametrize("shape,norm", [((4, 5), (5,)), ((2, 3, 2, 2), (2, 2))])
def test_layer_norm_gradcheck_input_weight_bias(shape, norm):
    gradcheck(
        lambda x, w, b: cr.layer_norm(x, norm, w, b, 1e-5),
        rand(*shape, seed=16),
        rand(*norm, seed=17),
        rand(*norm, seed=18),
    )


def test_layer_norm_gradcheck_non_contiguous_input():
    gradcheck(lambda x, w: cr.layer_norm(x.T, (3,), w, None, 1e-5), rand(3, 4, seed=19), rand(3, seed=20))


def _second_order_check(fn, x_np, w_np, seed=0):
    """d/dx <grad_x f(x, w) . g, v> by autograd (create_graph) vs central differences of grad_x."""
    rng = np.random.default_rng(seed)
    g_np, v_np = rng.standard_normal(x_np.shape), rng.standard_normal(x_np.shape)

    def first(x_arr, create_graph):
        x, w = cr.tensor(x_arr, requires_grad=True), cr.tensor(w_np, requires_grad=True)
        (gx,) = cr.autograd.grad(fn(x, w), [x], cr.tensor(g_np), create_graph=create_graph)
        return x, gx

    x, gx = first(x_np, True)
    (analytic,) = cr.autograd.grad((gx * cr.tensor(v_np)).sum(), [x])
    numeric = np.zeros_like(x_np)
    eps = 1e-6
    for idx in np.ndindex(x_np.shape):
        xp, xm = x_np.copy(), x_np.copy()
        xp[idx] += eps
        xm[idx] -= eps
        numeric[idx] = ((to_np(first(xp, False)[1]) - to_np(first(xm, False)[1])) * v_np).sum() / (2 * eps)
    np.testing.assert_allclose(to_np(analytic), numeric, atol=1e-5, rtol=1e-4)


def test_batch_norm_double_backward_matches_finite_differences():
    _second_order_check(lambda x, w: _bn_train(x, w, None), rand(5, 3, 2, seed=21), rand(3, seed=22))


def test_layer_norm_double_backward_matches_finite_differences():
    _second_order_check(
        lambda x, w: cr.layer_norm(x, (4,), w, None, 1e-5), rand(3, 4, seed=23), rand(4, seed=24)
    )


# ---- errors ------------------------------------------------------------------------------------
def test_batch_norm_training_with_one_value_per_channel_raises():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        cr.batch_norm(cr.tensor(rand(1, 3)), None, None, None, None, True, 0.1, 1e-5)


def test_batch_norm_module_rejects_wrong_rank_and_channel_count():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"2D \(N, C\) or 3D.*\(2, 3, 4, 5\)"):
        bn(cr.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"num_features=3.*\(2, 4\)"):
        bn(cr.zeros(2, 4))
    with pytest.raises(ValueError, match=r"4D \(N, C, H, W\)"):
        nn.BatchNorm2d(3)(cr.zeros(2, 3))


def test_batch_norm_failed_call_leaves_running_stats_and_counter_unchanged():
    bn = nn.BatchNorm1d(2)
    with pytest.raises(ValueError, match="more than 1 value"):
        bn(cr.ones(1, 2))
    assert int(bn.num_batches_tracked) == 0
    np.testing.assert_array_equal(to_np(bn.running_mean), [0.0, 0.0])


def test_layer_norm_rejects_mismatched_trailing_shape():
    with pytest.raises(ValueError, match=r"normalized_shape.*\[2, 3\]"):
        cr.layer_norm(cr.zeros(2, 3), (4,), None, None, 1e-5)


def test_norm_rejects_integer_input_and_mismatched_weight_dtype():
    with pytest.raises(TypeError, match="floating point"):
        cr.layer_norm(cr.tensor([[1, 2]]), (2,), None, None, 1e-5)
    with pytest.raises(TypeError, match="dtype float64"):
        cr.batch_norm(cr.tensor(rand(3, 2)), None, None, cr.ones(2), None, True, 0.1, 1e-5)


def test_batch_norm_eval_without_running_stats_raises():
    with pytest.raises(ValueError, match="running_mean and running_var"):
        cr.batch_norm(cr.tensor(rand(3, 2)), None, None, None, None, False, 0.1, 1e-5)


# ---- modules: buffers, momentum, modes ---------------------------------------------------------
def test_batch_norm_module_counts_batches_and_uses_cumulative_average_when_momentum_none():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    batches = [rand(5, 2, seed=s) for s in range(3)]
    for b in batches:
        bn(cr.tensor(b))
    assert int(bn.num_batches_tracked) == 3
    np.testing.assert_allclose(
        to_np(bn.running_mean), np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-12
    )


def test_batch_norm_without_tracking_uses_batch_stats_in_eval():
    bn = nn.BatchNorm1d(2, track_running_stats=False).double().eval()
    assert bn.running_mean is None and "running_mean" not in bn.state_dict()
    y = to_np(bn(cr.tensor(rand(6, 2, seed=3))))
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-12)


# ---- against PyTorch ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batch_norm_training_matches_torch(torch, shape):
    check_against_torch(
        torch,
        _bn_train,
        lambda x, w, b: torch.nn.functional.batch_norm(x, None, None, w, b, True, 0.1, 1e-5),
        rand(*shape, seed=30),
        rand(3, seed=31),
        rand(3, seed=32),
        atol=1e-10,
    )


def test_layer_norm_matches_torch(torch):
    check_against_torch(
        torch,
        lambda x, w, b: cr.layer_norm(x, (3, 4), w, b, 1e-5),
        lambda x, w, b: torch.nn.functional.layer_norm(x, (3, 4), w, b, 1e-5),
        rand(2, 5, 3, 4, seed=33),
        rand(3, 4, seed=34),
        rand(3, 4, seed=35),
        atol=1e-10,
    )


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_module_train_then_eval_matches_torch(torch, momentum):
    bn_c = nn.BatchNorm1d(3, momentum=momentum).double()
    bn_t = torch.nn.BatchNorm1d(3, momentum=momentum).double()
    for s in range(4):
        x = rand(6, 3, 2, seed=40 + s) * 2 + 1
        yc, yt = bn_c(cr.tensor(x)), bn_t(torch.tensor(x))
        np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), atol=1e-10)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(to_np(getattr(bn_c, name)), getattr(bn_t, name).numpy(), rtol=1e-12)
    bn_c.eval()
    bn_t.eval()
    x = rand(4, 3, 2, seed=50)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = bn_c(xc), bn_t(xt)
    np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), atol=1e-10)
    g = rand(4, 3, 2, seed=51)
    yc.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(to_np(xc.grad), xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(to_np(bn_c.weight.grad), bn_t.weight.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(to_np(bn_c.bias.grad), bn_t.bias.grad.numpy(), atol=1e-10)


def test_batch_norm2d_matches_torch(torch):
    bn_c, bn_t = nn.BatchNorm2d(2).double(), torch.nn.BatchNorm2d(2).double()
    x = rand(3, 2, 4, 4, seed=60)
    np.testing.assert_allclose(to_np(bn_c(cr.tensor(x))), bn_t(torch.tensor(x)).detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(to_np(bn_c.running_var), bn_t.running_var.numpy(), rtol=1e-12)


def test_batch_norm_double_backward_matches_torch(torch):
    x, w, g, v = (rand(5, 3, 2, seed=s) if s != 71 else rand(3, seed=s) for s in (70, 71, 72, 73))

    def run(lib, bn, T):
        xs, ws = T(x, requires_grad=True), T(w, requires_grad=True)
        gx, gw = lib.autograd.grad(
            bn(xs, None, None, ws, None, True, 0.1, 1e-5), [xs, ws], T(g), create_graph=True
        )
        return [
            to_np(t) if isinstance(t, cr.Tensor) else t.detach().numpy()
            for t in lib.autograd.grad((gx * T(v)).sum() + (gw * gw).sum(), [xs, ws])
        ]

    for a, b in zip(
        run(cr, cr.batch_norm, cr.tensor), run(torch, torch.nn.functional.batch_norm, torch.tensor)
    ):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_layer_norm_fused_backward_is_thread_count_independent_and_matches_the_composite():
    # the fused backward (no create_graph) against the composite one (create_graph) in float64,
    # and bitwise equal for any thread count (weight/bias gradients sum fixed chunks of rows)
    rng = np.random.default_rng(4)
    x0, w0, b0 = rng.standard_normal((300, 37)), rng.standard_normal(37), rng.standard_normal(37)
    g0 = rng.standard_normal((300, 37))

    def grads(threads, create_graph):
        prev = cr.get_num_threads()
        cr.set_num_threads(threads)
        try:
            x, w, b = (cr.tensor(a, requires_grad=True) for a in (x0, w0, b0))
            y = cr.nn.functional.layer_norm(x, (37,), w, b)
            return [
                t.detach().numpy()
                for t in cr.autograd.grad(y, (x, w, b), cr.tensor(g0), create_graph=create_graph)
            ]
        finally:
            cr.set_num_threads(prev)

    fused = grads(1, False)
    for threads in (2, 3):
        for a, b in zip(fused, grads(threads, False)):
            assert a.tobytes() == b.tobytes()
    for a, b in zip(fused, grads(1, True)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
