"""Optimizers: trajectories against torch.optim, hand-computed steps, state dicts, errors."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.optim as optim

# ---- a deterministic problem with several parameter shapes ---------------------------------------
_rng = np.random.default_rng(0)
A = _rng.standard_normal((6, 4))
B = _rng.standard_normal((6, 1))
K = _rng.standard_normal((3, 2))
INIT = [_rng.standard_normal((4, 1)), _rng.standard_normal((1,)), _rng.standard_normal((3, 2))]


def _loss(lib, params, A_, B_, K_):
    w, c, m = params
    r = A_ @ w + c - B_
    return (r * r).sum() + (m * m * m * m).sum() * 0.1 + (m * K_).sum()


def _cr_params(dtype=np.float64):
    return [cr.tensor(p.astype(dtype), requires_grad=True) for p in INIT]


def _run_cr(opt_cls, kwargs, steps=20, dtype=np.float64, groups=None):
    params = _cr_params(dtype)
    consts = [cr.tensor(x.astype(dtype)) for x in (A, B, K)]
    opt = opt_cls(groups(params) if groups else params, **kwargs)
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(cr, params, *consts).backward()
        opt.step()
        traj.append([np.asarray(p.detach()).copy() for p in params])
    return traj


def _run_torch(torch, opt_cls, kwargs, steps=20, dtype=np.float64, groups=None):
    params = [torch.tensor(p.astype(dtype), requires_grad=True) for p in INIT]
    consts = [torch.tensor(x.astype(dtype)) for x in (A, B, K)]
    opt = opt_cls(groups(params) if groups else params, foreach=False, **kwargs)
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(torch, params, *consts).backward()
        opt.step()
        traj.append([p.detach().numpy().copy() for p in params])
    return traj


CONFIGS = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.01, weight_decay=0.1)),
    ("SGD", dict(lr=0.001, momentum=0.5, maximize=True)),
    ("SGD", dict(lr=0.01, momentum=0.8, weight_decay=0.05, nesterov=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, maximize=True)),
    ("Adam", dict(lr=0.02, weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.0, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.001, alpha=0.9, eps=1e-6, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.01, eps=1e-6, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.02, betas=(0.8, 0.9), momentum_decay=0.01, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01, betas=(0.3, 0.99), eps=1e-6, weight_decay=0.05, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6, maximize=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    (
        "RAdam",
        dict(lr=0.01, betas=(0.3, 0.95), weight_decay=0.05, decoupled_weight_decay=True, maximize=True),
    ),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("Adamax", dict(lr=0.02, betas=(0.3, 0.9), eps=1e-6, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1)),
    ("Adadelta", dict(lr=0.1, rho=0.95, eps=1e-4, maximize=True)),
]


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_float64_trajectory_matches_torch_over_20_steps(torch, name, kwargs):
    ours = _run_cr(getattr(optim, name), kwargs)
    ref = _run_torch(torch, getattr(torch.optim, name), kwargs)
    for step, (a, b) in enumerate(zip(ours, ref)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-10, err_msg=f"step {step}")


_FLOAT32_CASES = [CONFIGS[1], CONFIGS[8], CONFIGS[13], CONFIGS[18], CONFIGS[22]] + [
    c for c in CONFIGS if c[0] in ("NAdam", "RAdam", "Adamax", "Adadelta") and "weight_decay" in c[1]
]


@pytest.mark.parametrize("name,kwargs", _FLOAT32_CASES, ids=[f"{n}-{k}" for n, k in _FLOAT32_CASES])
def test_float32_trajectory_matches_torch(torch, name, kwargs):
    ours = _run_cr(getattr(optim, name), kwargs, dtype=np.float32)
    ref = _run_torch(torch, getattr(torch.optim, name), kwargs, dtype=np.float32)
    for a, b in zip(ours, ref):
        for x, y in zip(a, b):
            assert x.dtype == np.float32
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)


def test_param_groups_with_own_hyperparameters_match_torch(torch):
    def groups(ps):
        return [{"params": [ps[0], ps[1]]}, {"params": [ps[2]], "lr": 0.05, "momentum": 0.5}]

    kwargs = dict(lr=0.01, momentum=0.9)
    ours = _run_cr(optim.SGD, kwargs, groups=groups)
    ref = _run_torch(torch, torch.optim.SGD, kwargs, groups=groups)
    for a, b in zip(ours, ref):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-10)


def test_state_dict_layout_matches_torch(torch):
    ps = _cr_params()
    tp = [torch.tensor(p, requires_grad=True) for p in INIT]
    ours = optim.Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.1}], amsgrad=True)
    ref = torch.optim.Adam([{"params": tp[:2]}, {"params": tp[2:], "lr": 0.1}], amsgrad=True)
    for p, t in zip(ps, tp):
        p.grad = cr.ones(*p.shape, dtype=cr.float64)
        t.grad = torch.ones(t.shape, dtype=torch.float64)
    ours.step()
    ref.step()
    a, b = ours.state_dict(), ref.state_dict()
    assert (
        [g["params"] for g in a["param_groups"]] == [g["params"] for g in b["param_groups"]] == [[0, 1], [2]]
    )
    assert sorted(a["state"]) == sorted(b["state"]) == [0, 1, 2]
    for i in range(3):
        assert sorted(a["state"][i]) == sorted(b["state"][i])
        for k in a["state"][i]:
            np.testing.assert_allclose(np.asarray(a["state"][i][k]), b["state"][i][k].numpy(), rtol=1e-12)
        assert a["state"][i]["step"].dtype == cr.float32
    for ga, gb in zip(a["param_groups"], b["param_groups"]):
        for k in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"):
            assert ga[k] == gb[k]


# ---- hand-computed steps (no PyTorch) ----------------------------------------------------------
def test_sgd_momentum_two_steps_by_hand():
    p = cr.tensor([1.0, -2.0], dtype=cr.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = cr.tensor([2.0, 1.0], dtype=cr.float64)
    opt.step()  # buf = g = [2, 1]; p = p - 0.1 * buf
    np.testing.assert_allclose(np.asarray(p.detach()), [0.8, -2.1], rtol=0, atol=1e-15)
    p.grad = cr.tensor([1.0, -1.0], dtype=cr.float64)
    opt.step()  # buf = 0.9 * [2, 1] + [1, -1] = [2.8, -0.1]
    np.testing.assert_allclose(np.asarray(p.detach()), [0.8 - 0.28, -2.1 + 0.01], rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.asarray(opt.state[p]["momentum_buffer"]), [2.8, -0.1], atol=1e-15)


def test_adam_two_steps_by_hand():
    p = cr.tensor([1.0, -1.0], dtype=cr.float64, requires_grad=True)
    opt = optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    g1, g2 = np.array([2.0, -0.5]), np.array([1.0, 3.0])
    p.grad = cr.tensor(g1)
    opt.step()
    # step 1: m = 0.1 g, v = 0.001 g^2; m_hat = g, v_hat = g^2 -> p -= lr * g / (|g| + eps)
    expect = np.array([1.0, -1.0]) - 0.1 * g1 / (np.abs(g1) + 1e-8)
    np.testing.assert_allclose(np.asarray(p.detach()), expect, rtol=1e-14)
    p.grad = cr.tensor(g2)
    opt.step()
    m = 0.9 * 0.1 * g1 + 0.1 * g2
    v = 0.999 * 0.001 * g1**2 + 0.001 * g2**2
    expect = expect - 0.1 / (1 - 0.9**2) * m / (np.sqrt(v) / np.sqrt(1 - 0.999**2) + 1e-8)
    np.testing.assert_allclose(np.asarray(p.detach()), expect, rtol=1e-13)
    assert opt.state[p]["step"].item() == 2.0


def test_adamw_decays_weights_decoupled_from_gradient():
    p = cr.tensor([2.0], dtype=cr.float64, requires_grad=True)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = cr.tensor([0.0], dtype=cr.float64)  # zero gradient: only the decay acts
    opt.step()
    np.testing.assert_allclose(np.asarray(p.detach()), [2.0 * (1 - 0.1 * 0.5)], rtol=1e-15)


def test_rmsprop_and_adagrad_first_step_by_hand():
    p = cr.tensor([1.0], dtype=cr.float64, requires_grad=True)
    opt = optim.RMSprop([p], lr=0.01, alpha=0.9, eps=1e-8)
    p.grad = cr.tensor([2.0], dtype=cr.float64)
    opt.step()  # v = 0.1 * 4 = 0.4; p -= 0.01 * 2 / (sqrt(0.4) + eps)
    np.testing.assert_allclose(np.asarray(p.detach()), [1.0 - 0.02 / (np.sqrt(0.4) + 1e-8)], rtol=1e-15)
    q = cr.tensor([1.0], dtype=cr.float64, requires_grad=True)
    opt = optim.Adagrad([q], lr=0.1, initial_accumulator_value=1.0)
    q.grad = cr.tensor([3.0], dtype=cr.float64)
    opt.step()  # sum = 1 + 9 = 10; q -= 0.1 * 3 / (sqrt(10) + 1e-10)
    np.testing.assert_allclose(np.asarray(q.detach()), [1.0 - 0.3 / (np.sqrt(10) + 1e-10)], rtol=1e-15)


def test_optimizer_descends_quadratic():
    for cls, kw in [
        (optim.SGD, dict(lr=0.1, momentum=0.5)),
        (optim.Adam, dict(lr=0.1)),
        (optim.AdamW, dict(lr=0.1)),
        (optim.RMSprop, dict(lr=0.05)),
        (optim.Adagrad, dict(lr=0.5)),
        (optim.NAdam, dict(lr=0.1)),
        (optim.RAdam, dict(lr=0.1)),
        (optim.Adamax, dict(lr=0.1)),
        (optim.Adadelta, dict(lr=10.0)),
    ]:
        p = cr.tensor([3.0, -2.0], dtype=cr.float64, requires_grad=True)
        opt = cls([p], **kw)
        for _ in range(200):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
        assert np.abs(np.asarray(p.detach())).max() < 0.1, cls.__name__


def test_params_without_grad_are_skipped_and_get_no_state():
    a = cr.tensor([1.0], requires_grad=True)
    b = cr.tensor([5.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = cr.tensor([1.0])
    opt.step()
    assert b not in opt.state
    assert b.item() == 5.0 and a.item() != 1.0


def test_step_bumps_parameter_version():
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = cr.tensor([1.0, 1.0])
    v = p._version
    opt.step()
    assert p._version > v


def test_float32_params_stay_float32():
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = cr.tensor([1.0, -1.0])
    opt.step()
    assert p.dtype == cr.float32 and opt.state[p]["exp_avg"].dtype == cr.float32
    np.testing.assert_allclose(np.asarray(p.detach()), [0.9, 2.1], rtol=1e-6)


def test_large_tensor_uses_threads_and_matches_small_path():
    n = 200_000
    x = np.random.default_rng(1).standard_normal(n)
    g = np.random.default_rng(2).standard_normal(n)
    results = []
    for threads in (1, 2):
        cr.set_num_threads(threads)
        try:
            p = cr.tensor(x.copy(), requires_grad=True)
            opt = optim.Adam([p], lr=0.01, amsgrad=True)
            for _ in range(3):
                p.grad = cr.tensor(g)
                opt.step()
            results.append(np.asarray(p.detach()).copy())
        finally:
            cr.set_num_threads(2)
    np.testing.assert_array_equal(results[0], results[1])


def test_non_contiguous_grad_is_handled():
    p = cr.tensor(np.zeros((2, 3)), requires_grad=True)
    g = cr.tensor(np.arange(6.0).reshape(3, 2)).transpose(0, 1)
    assert not g.is_contiguous()
    p.grad = g
    optim.SGD([p], lr=1.0).step()
    np.testing.assert_array_equal(np.asarray(p.detach()), -np.arange(6.0).reshape(3, 2).T)


# ---- closure, zero_grad, groups -------------------------------------------------------------------
def test_step_with_closure_returns_loss_and_runs_with_grad_enabled():
    p = cr.tensor([2.0], dtype=cr.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.25)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        calls.append(cr.is_grad_enabled())
        return loss

    with cr.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == 4.0
    assert p.item() == 1.0  # 2 - 0.25 * 4


def test_zero_grad_sets_none_or_zeros_in_place():
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = cr.tensor([3.0, 4.0])
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad._is_same(g)
    np.testing.assert_array_equal(np.asarray(p.grad), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_param_groups_fill_defaults():
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([2.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["params"][0] is b
    assert set(opt.param_groups[0]) == {
        "params",
        "lr",
        "momentum",
        "dampening",
        "weight_decay",
        "nesterov",
        "maximize",
    }


def test_add_param_group_rejects_parameter_in_two_groups():
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([2.0], requires_grad=True)
    opt = optim.Adam([a])
    opt.add_param_group({"params": [b], "lr": 0.5})
    assert len(opt.param_groups) == 2
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_invalid_arguments_raise_clear_errors():
    p = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Invalid momentum value"):
        optim.SGD([p], momentum=-0.5)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        optim.AdamW([p], eps=-1e-8)
    with pytest.raises(ValueError, match="Invalid weight_decay value"):
        optim.RMSprop([p], weight_decay=-1)
    with pytest.raises(ValueError, match="Invalid alpha value"):
        optim.RMSprop([p], alpha=-0.1)
    with pytest.raises(ValueError, match="Invalid lr_decay value"):
        optim.Adagrad([p], lr_decay=-1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)


def test_grad_of_wrong_shape_in_state_raises_without_changing_params():
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    q = cr.tensor([3.0], requires_grad=True)
    opt = optim.SGD([p, q], lr=0.1, momentum=0.9)
    p.grad, q.grad = cr.tensor([1.0, 1.0]), cr.tensor([1.0])
    opt.state[q]["momentum_buffer"] = cr.zeros(4)
    with pytest.raises(ValueError, match="momentum_buffer"):
        opt.step()
    assert p.tolist() == [1.0, 2.0] and q.tolist() == [3.0]


def test_repr_lists_groups_like_torch():
    p = cr.tensor([1.0], requires_grad=True)
    text = repr(optim.SGD([p], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.1\n" in text and "    momentum: 0.9\n" in text and text.endswith(")")


# ---- state_dict ------------------------------------------------------------------------------------
def _train(opt, params, consts, steps):
    for _ in range(steps):
        opt.zero_grad()
        _loss(cr, params, *consts).backward()
        opt.step()


@pytest.mark.parametrize(
    "cls,kw",
    [
        (optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True)),
        (optim.Adam, dict(lr=0.01, amsgrad=True)),
        (optim.AdamW, dict(lr=0.01)),
        (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
        (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
        (optim.RAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
        (optim.Adamax, dict(lr=0.01, weight_decay=0.1)),
        (optim.Adadelta, dict(lr=0.5, weight_decay=0.1)),
    ],
)
def test_state_dict_round_trip_resumes_bitwise(cls, kw):
    consts = [cr.tensor(x) for x in (A, B, K)]
    ref_params = _cr_params()
    ref = cls(ref_params, **kw)
    _train(ref, ref_params, consts, 20)

    params = _cr_params()
    opt = cls(params, **kw)
    _train(opt, params, consts, 10)
    sd = opt.state_dict()
    _train(opt, params, consts, 3)  # later steps must not leak into the saved state
    resumed_params = [cr.tensor(x.copy(), requires_grad=True) for x in _snapshot_after(cls, kw, consts, 10)]
    resumed = cls(resumed_params, lr=123.0)
    resumed.load_state_dict(sd)
    assert resumed.param_groups[0]["lr"] == kw["lr"]
    _train(resumed, resumed_params, consts, 10)
    for a, b in zip(resumed_params, ref_params):
        np.testing.assert_array_equal(np.asarray(a.detach()), np.asarray(b.detach()))


def _snapshot_after(cls, kw, consts, steps):
    params = _cr_params()
    _train(cls(params, **kw), params, consts, steps)
    return [np.asarray(p.detach()).copy() for p in params]


def test_load_state_dict_rejects_mismatched_groups():
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([2.0], requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


# =================================================================================================
# After the merge: tests that need chainrule.nn (Linear, functional.cross_entropy).
# =================================================================================================
import chainrule.nn  # noqa: E402
import chainrule.nn.utils  # noqa: E402

_has_nn = hasattr(cr.nn, "Linear") and hasattr(cr.nn.functional, "cross_entropy")
needs_nn = pytest.mark.skipif(not _has_nn, reason="needs chainrule.nn.Linear and F.cross_entropy")


@needs_nn
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
        ("Adam", dict(lr=0.01, amsgrad=True)),
        ("AdamW", dict(lr=0.01, weight_decay=0.1)),
        ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
        ("Adagrad", dict(lr=0.1)),
        ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
        ("RAdam", dict(lr=0.01, weight_decay=0.1)),
        ("Adamax", dict(lr=0.01)),
        ("Adadelta", dict(lr=1.0)),
    ],
)
def test_linear_classifier_trajectory_matches_torch(torch, name, kwargs):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((16, 5)), rng.integers(0, 3, 16)
    W, b = rng.standard_normal((3, 5)) * 0.3, rng.standard_normal(3) * 0.1
    model = cr.nn.Linear(5, 3).double()
    tmodel = torch.nn.Linear(5, 3).double()
    with cr.no_grad():
        cr.nn.utils.vector_to_parameters(cr.tensor(np.concatenate([W.ravel(), b])), model.parameters())
    with torch.no_grad():
        tmodel.weight.copy_(torch.tensor(W))
        tmodel.bias.copy_(torch.tensor(b))
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(tmodel.parameters(), foreach=False, **kwargs)
    xc, yc, xt, yt = cr.tensor(X), cr.tensor(y), torch.tensor(X), torch.tensor(y)
    for _ in range(20):
        opt.zero_grad()
        cr.nn.functional.cross_entropy(model(xc), yc).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tmodel(xt), yt).backward()
        topt.step()
    np.testing.assert_allclose(
        np.asarray(model.weight.detach()), tmodel.weight.detach().numpy(), rtol=1e-9, atol=1e-10
    )
    np.testing.assert_allclose(
        np.asarray(model.bias.detach()), tmodel.bias.detach().numpy(), rtol=1e-9, atol=1e-10
    )


# ---- fused steps that read .grad themselves (Optimizer._reads_own_grads) --------------------


def _two_groups(seed):
    rng = np.random.default_rng(seed)
    ps = [
        cr.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
        for s in [(3, 4), (4,), (5,), (2, 2)]
    ]
    for p in ps[:3]:  # the last one never gets a gradient
        p.grad = cr.tensor(rng.standard_normal(p.shape).astype(np.float32))
    return ps


@pytest.mark.parametrize(
    "make",
    [
        lambda g: optim.SGD(g, lr=0.1),
        lambda g: optim.SGD(g, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True),
        lambda g: optim.Adam(g, lr=0.01, amsgrad=True),
        lambda g: optim.AdamW(g, lr=0.01, weight_decay=0.1),
    ],
)
def test_step_reading_its_own_gradients_matches_passing_them(make):
    results = []
    for own in (True, False):
        ps = _two_groups(0)
        opt = make([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.05}])
        assert opt._reads_own_grads
        opt._reads_own_grads = own  # False: the gradients are read in Python and passed
        for _ in range(3):
            opt.step()
        results.append([p.detach().numpy().copy() for p in ps])
    for a, b in zip(*results):
        assert np.array_equal(a, b)
    assert np.array_equal(results[0][3], _two_groups(0)[3].detach().numpy())  # no gradient: unchanged


def test_fused_step_without_gradients_needs_every_parameter_to_have_one():
    ps = _two_groups(1)
    with pytest.raises(ValueError, match="without a gradient"):
        cr._core._sgd_step(ps, [], [], [], 0.1, 0.0, 0.0, 0.0, False, False)
    assert cr._core._with_grad(ps) == ps[:3]
    half = cr.zeros(3, dtype=cr.float16, requires_grad=True)
    half.grad = cr.ones(3, dtype=cr.float16)
    assert cr._core._with_grad([ps[0], half]) is None  # a storage dtype: gradients are passed


def test_zero_grad_sets_every_group_to_none_and_the_step_then_skips_them():
    ps = _two_groups(2)
    opt = optim.SGD([{"params": ps[:2]}, {"params": ps[2:]}], lr=0.1)
    before = [p.detach().numpy().copy() for p in ps]
    opt.zero_grad()
    assert all(p.grad is None for p in ps)
    opt.step()  # no gradients: nothing moves
    for p, b in zip(ps, before):
        assert np.array_equal(p.detach().numpy(), b)


def test_param_groups_given_as_tuples_still_step():
    results = []
    for as_tuple in (False, True):
        ps = _two_groups(4)
        opt = optim.SGD(ps, lr=0.1)
        if as_tuple:
            opt.param_groups[0]["params"] = tuple(opt.param_groups[0]["params"])
        opt.step()
        results.append([p.detach().numpy().copy() for p in ps])
        opt.zero_grad()
        assert all(p.grad is None for p in ps)
    for a, b in zip(*results):
        assert np.array_equal(a, b)
    assert not np.array_equal(results[1][0], _two_groups(4)[0].detach().numpy())  # it moved
