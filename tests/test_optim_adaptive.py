"""NAdam, RAdam, Adamax and Adadelta: steps by hand and by a NumPy transcription of the papers'
formulas, state dicts, argument errors and the foreach/capturable/differentiable flags. The 20-step
float64 trajectories against torch.optim are in test_optim.py (CONFIGS)."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.optim as optim

NEW = ["NAdam", "RAdam", "Adamax", "Adadelta"]


def _param(values):
    return cr.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def _value(t):
    return np.asarray(t.detach())


# ---- one step by hand (no PyTorch) ---------------------------------------------------------------
def test_nadam_first_step_by_hand():
    p = _param([1.0, -1.0])
    opt = optim.NAdam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8, momentum_decay=4e-3)
    g = np.array([2.0, -0.5])
    p.grad = cr.tensor(g)
    opt.step()
    mu1 = 0.9 * (1 - 0.5 * 0.96**0.004)
    mu2 = 0.9 * (1 - 0.5 * 0.96**0.008)
    prod1 = float(np.float32(mu1))  # the running product is kept in float32, as PyTorch keeps it
    m, v = 0.1 * g, 0.001 * g * g
    denom = np.sqrt(v / 0.001) + 1e-8  # = |g| + eps
    expect = np.array([1.0, -1.0]) - 0.1 * (1 - mu1) / (1 - prod1) * g / denom
    expect = expect - 0.1 * mu2 / (1 - prod1 * mu2) * m / denom
    np.testing.assert_allclose(_value(p), expect, rtol=1e-14)
    state = opt.state[p]
    assert state["step"].item() == 1.0 and state["step"].dtype == cr.float32
    assert state["mu_product"].dtype == cr.float32 and state["mu_product"].item() == prod1
    np.testing.assert_allclose(_value(state["exp_avg"]), m, rtol=1e-15)
    np.testing.assert_allclose(_value(state["exp_avg_sq"]), v, rtol=1e-15)


def test_nadam_decoupled_weight_decay_shrinks_parameter_first():
    p = _param([2.0])
    opt = optim.NAdam([p], lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
    p.grad = cr.tensor([0.0], dtype=cr.float64)  # zero gradient: only the decay acts
    opt.step()
    np.testing.assert_allclose(_value(p), [2.0 * (1 - 0.1 * 0.5)], rtol=1e-15)
    q = _param([2.0])
    opt = optim.NAdam([q], lr=0.1, weight_decay=0.5)  # L2 penalty: the gradient becomes 1.0
    q.grad = cr.tensor([0.0], dtype=cr.float64)
    opt.step()
    assert q.item() < 2.0 * (1 - 0.1 * 0.5)


def test_radam_first_steps_are_unrectified_momentum_sgd():
    # rho_1 = rho_inf - 2 * beta2 / (1 - beta2) = 1 <= 5: p -= lr * m / (1 - beta1)
    p = _param([1.0, -1.0])
    opt = optim.RAdam([p], lr=0.1, betas=(0.9, 0.999))
    g = np.array([2.0, -0.5])
    p.grad = cr.tensor(g)
    opt.step()
    np.testing.assert_allclose(_value(p), [1.0 - 0.2, -1.0 + 0.05], rtol=1e-15)


def test_adamax_first_step_by_hand():
    p = _param([1.0, -1.0])
    opt = optim.Adamax([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    g = np.array([2.0, -0.5])
    p.grad = cr.tensor(g)
    opt.step()  # m = 0.1 g, u = |g| + eps; p -= lr / (1 - 0.9) * m / u
    np.testing.assert_allclose(_value(p), [1.0, -1.0] - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(_value(opt.state[p]["exp_inf"]), np.abs(g) + 1e-8, rtol=1e-15)


def test_adamax_infinity_norm_keeps_the_largest_decayed_gradient():
    p = _param([0.0])
    opt = optim.Adamax([p], lr=0.1, betas=(0.9, 0.5), eps=0.0)
    for g in (4.0, 1.0, 3.0):
        p.grad = cr.tensor([g], dtype=cr.float64)
        opt.step()
    assert opt.state[p]["exp_inf"].item() == 3.0  # max(max(4 * 0.5, 1) * 0.5, 3)


def test_adadelta_first_step_by_hand():
    p = _param([1.0])
    opt = optim.Adadelta([p], lr=1.0, rho=0.9, eps=1e-6)
    p.grad = cr.tensor([3.0], dtype=cr.float64)
    opt.step()
    v = 0.1 * 9.0
    delta = math.sqrt(1e-6) / math.sqrt(v + 1e-6) * 3.0
    np.testing.assert_allclose(_value(p), [1.0 - delta], rtol=1e-15)
    np.testing.assert_allclose(_value(opt.state[p]["acc_delta"]), [0.1 * delta * delta], rtol=1e-15)


# ---- many steps against NumPy transcriptions of the update rules (no PyTorch) --------------------
def _numpy_nadam(p, grads, lr, b1, b2, eps, wd, psi):
    m, v, prod = np.zeros_like(p), np.zeros_like(p), np.float32(1.0)
    for t, g in enumerate(grads, 1):
        g = g + wd * p
        mu, mu_next = b1 * (1 - 0.5 * 0.96 ** (t * psi)), b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod = np.float32(prod * np.float32(mu))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v / (1 - b2**t)) + eps
        p = p - lr * (1 - mu) / (1 - float(prod)) * g / denom
        p = p - lr * mu_next / (1 - float(prod) * mu_next) * m / denom
    return p


def _numpy_radam(p, grads, lr, b1, b2, eps, wd):
    m, v = np.zeros_like(p), np.zeros_like(p)
    rho_inf = 2 / (1 - b2) - 1
    for t, g in enumerate(grads, 1):
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho > 5:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            p = p - lr * m_hat * r * math.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
        else:
            p = p - lr * m_hat
    return p


def _numpy_adamax(p, grads, lr, b1, b2, eps, wd):
    m, u = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, 1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        p = p - lr / (1 - b1**t) * m / u
    return p


def _numpy_adadelta(p, grads, lr, rho, eps, wd):
    v, acc = np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        g = g + wd * p
        v = rho * v + (1 - rho) * g * g
        delta = np.sqrt(acc + eps) / np.sqrt(v + eps) * g
        acc = rho * acc + (1 - rho) * delta * delta
        p = p - lr * delta
    return p


@pytest.mark.parametrize(
    "make,reference",
    [
        (
            lambda ps: optim.NAdam(
                ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, momentum_decay=0.01
            ),
            lambda p, gs: _numpy_nadam(p, gs, 0.05, 0.8, 0.99, 1e-6, 0.1, 0.01),
        ),
        (
            lambda ps: optim.RAdam(
                ps, lr=0.05, betas=(0.9, 0.99), weight_decay=0.1, decoupled_weight_decay=True
            ),
            lambda p, gs: _numpy_radam(p, gs, 0.05, 0.9, 0.99, 1e-8, 0.1),
        ),
        (
            lambda ps: optim.Adamax(ps, lr=0.05, betas=(0.7, 0.9), weight_decay=0.1),
            lambda p, gs: _numpy_adamax(p, gs, 0.05, 0.7, 0.9, 1e-8, 0.1),
        ),
        (
            lambda ps: optim.Adadelta(ps, lr=0.7, rho=0.8, eps=1e-5, weight_decay=0.1),
            lambda p, gs: _numpy_adadelta(p, gs, 0.7, 0.8, 1e-5, 0.1),
        ),
    ],
    ids=NEW,
)
def test_25_steps_match_numpy_transcription(make, reference):
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((3, 4))
    # the gradient of a fixed quadratic, so that it depends on the parameter as training does
    H = rng.standard_normal((4, 4))
    H = H @ H.T / 4
    p = cr.tensor(x0.copy(), requires_grad=True)
    opt = make([p])
    ours_grads = []
    for _ in range(25):
        g = _value(p) @ H + 0.3
        ours_grads.append(g)
        p.grad = cr.tensor(g)
        opt.step()
    # replay with NumPy, feeding each step the gradient at its own iterate
    x, grads = x0.copy(), []
    expect = x0.copy()
    for k in range(25):
        grads.append(expect @ H + 0.3)
        expect = reference(x, grads)
        assert np.allclose(grads[k], ours_grads[k], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_value(p), expect, rtol=1e-10, atol=1e-12)


def test_radam_rectification_starts_after_rho_exceeds_5():
    # beta2 = 0.999: rho_t is about t, so steps 1-5 are plain momentum steps and step 6 is rectified
    p = _param([0.0])
    opt = optim.RAdam([p], lr=1.0, betas=(0.5, 0.999), eps=0.0)
    seen = []
    for _ in range(7):
        before = p.item()
        p.grad = cr.tensor([1.0], dtype=cr.float64)
        opt.step()
        seen.append(before - p.item())
    # a constant gradient: m_hat = 1, so unrectified steps are exactly lr, rectified ones r_t < 1
    assert seen[:5] == [1.0] * 5
    assert 0 < seen[5] < seen[6] < 1.0


# ---- state dicts -----------------------------------------------------------------------------------
_STATE_KEYS = {
    "NAdam": {"step", "mu_product", "exp_avg", "exp_avg_sq"},
    "RAdam": {"step", "exp_avg", "exp_avg_sq"},
    "Adamax": {"step", "exp_avg", "exp_inf"},
    "Adadelta": {"step", "square_avg", "acc_delta"},
}


@pytest.mark.parametrize("name", NEW)
def test_state_dict_has_torch_keys(name):
    p = _param([1.0, 2.0])
    opt = getattr(optim, name)([p])
    p.grad = cr.tensor([0.5, -0.5], dtype=cr.float64)
    opt.step()
    sd = opt.state_dict()
    assert set(sd["state"][0]) == _STATE_KEYS[name]
    assert sd["state"][0]["step"].dtype == cr.float32 and sd["state"][0]["step"].item() == 1.0
    assert sd["param_groups"][0]["params"] == [0]
    assert {"foreach", "maximize", "differentiable", "capturable"} <= set(sd["param_groups"][0])


@pytest.mark.parametrize("name", NEW)
def test_state_dict_layout_and_values_match_torch(torch, name):
    kwargs = {"NAdam": dict(lr=0.1), "RAdam": dict(lr=0.1), "Adamax": dict(lr=0.1), "Adadelta": dict(lr=0.5)}[
        name
    ]
    rng = np.random.default_rng(2)
    init = [rng.standard_normal((2, 3)), rng.standard_normal(4), rng.standard_normal(())]
    ps = [cr.tensor(x, requires_grad=True) for x in init]
    tp = [torch.tensor(x, requires_grad=True) for x in init]
    ours = getattr(optim, name)([{"params": ps[:2]}, {"params": ps[2:], "weight_decay": 0.1}], **kwargs)
    ref = getattr(torch.optim, name)([{"params": tp[:2]}, {"params": tp[2:], "weight_decay": 0.1}], **kwargs)
    for _ in range(3):
        for p, t, x in zip(ps, tp, init):
            p.grad = cr.tensor(np.asarray(np.cos(x) + _value(p)), dtype=cr.float64)
            t.grad = torch.tensor(np.cos(x)) + t.detach()
        ours.step()
        ref.step()
    a, b = ours.state_dict(), ref.state_dict()
    assert [g["params"] for g in a["param_groups"]] == [g["params"] for g in b["param_groups"]]
    for ga, gb in zip(a["param_groups"], b["param_groups"]):
        assert ga == gb
    assert sorted(a["state"]) == sorted(b["state"])
    for i in a["state"]:
        assert list(a["state"][i]) == list(b["state"][i])
        for k, v in a["state"][i].items():
            assert v.dtype == getattr(cr, str(b["state"][i][k].dtype).replace("torch.", "")), k
            np.testing.assert_allclose(_value(v), b["state"][i][k].numpy(), rtol=1e-12, atol=1e-15)


def test_nadam_resume_from_state_dict_matches_torch(torch):
    # PyTorch casts mu_product to the parameter's dtype on load; the resumed trajectory follows it.
    rng = np.random.default_rng(4)
    init, target = rng.standard_normal(5), rng.standard_normal(5)

    def train(lib, opt, p, steps):
        for _ in range(steps):
            opt.zero_grad()
            loss = ((p - lib.tensor(target)) ** 4).sum()
            loss.backward()
            opt.step()

    kwargs = dict(lr=0.05, weight_decay=0.01)
    p, tp = cr.tensor(init, requires_grad=True), torch.tensor(init, requires_grad=True)
    opt, topt = optim.NAdam([p], **kwargs), torch.optim.NAdam([tp], **kwargs)
    train(cr, opt, p, 10)
    train(torch, topt, tp, 10)
    p2 = cr.tensor(_value(p).copy(), requires_grad=True)
    tp2 = torch.tensor(tp.detach().numpy().copy(), requires_grad=True)
    opt2, topt2 = optim.NAdam([p2], lr=1.0), torch.optim.NAdam([tp2], lr=1.0)
    opt2.load_state_dict(opt.state_dict())
    topt2.load_state_dict(topt.state_dict())
    assert opt2.state[p2]["mu_product"].dtype == cr.float64
    assert topt2.state[tp2]["mu_product"].dtype == torch.float64
    assert opt2.state[p2]["step"].dtype == cr.float32
    train(cr, opt2, p2, 10)
    train(torch, topt2, tp2, 10)
    np.testing.assert_allclose(_value(p2), tp2.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_nadam_load_state_dict_does_not_alias_the_saved_tensors():
    p = _param([1.0, 2.0])
    opt = optim.NAdam([p], lr=0.1)
    p.grad = cr.tensor([1.0, 1.0], dtype=cr.float64)
    opt.step()
    sd = opt.state_dict()
    q = _param([1.0, 2.0])
    opt2 = optim.NAdam([q], lr=0.1)
    opt2.load_state_dict(sd)
    q.grad = cr.tensor([1.0, 1.0], dtype=cr.float64)
    opt2.step()
    assert sd["state"][0]["step"].item() == 1.0
    assert sd["state"][0]["mu_product"].item() == pytest.approx(0.9 * (1 - 0.5 * 0.96**0.004), rel=1e-6)
    assert list(opt2.state[q]) == ["step", "mu_product", "exp_avg", "exp_avg_sq"]


# ---- arguments and flags ---------------------------------------------------------------------------
_BAD_ARGS = [
    ("NAdam", dict(lr=-0.1), "Invalid learning rate"),
    ("NAdam", dict(eps=-1.0), "Invalid epsilon value"),
    ("NAdam", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
    ("NAdam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    ("NAdam", dict(weight_decay=-1.0), "Invalid weight_decay value"),
    ("NAdam", dict(momentum_decay=-1.0), "Invalid momentum_decay value"),
    ("RAdam", dict(lr=-1.0), "Invalid learning rate"),
    ("RAdam", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1"),
    ("RAdam", dict(weight_decay=-0.5), "Invalid weight_decay value"),
    ("Adamax", dict(eps=-1e-3), "Invalid epsilon value"),
    ("Adamax", dict(betas=(-0.1, 0.9)), "Invalid beta parameter at index 0"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value"),
    ("Adadelta", dict(lr=-1.0), "Invalid learning rate"),
    ("Adadelta", dict(eps=-1.0), "Invalid epsilon value"),
    ("Adadelta", dict(weight_decay=-1.0), "Invalid weight_decay value"),
]


@pytest.mark.parametrize("name,kwargs,message", _BAD_ARGS)
def test_invalid_arguments_raise_value_error(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([_param([1.0])], **kwargs)


@pytest.mark.parametrize("name,kwargs,message", _BAD_ARGS)
def test_invalid_arguments_raise_as_torch(torch, name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("name", NEW)
def test_defaults_match_torch(torch, name):
    ours = getattr(optim, name)([_param([1.0])]).defaults
    ref = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
    assert ours == ref


@pytest.mark.parametrize("name", NEW)
def test_foreach_is_accepted_and_does_not_change_the_step(name):
    results = []
    for foreach in (None, False, True):
        p = _param([1.0, -2.0, 3.0])
        opt = getattr(optim, name)([p], foreach=foreach)
        for _ in range(3):
            p.grad = cr.tensor([0.5, 0.25, -1.0], dtype=cr.float64)
            opt.step()
        assert opt.param_groups[0]["foreach"] is foreach
        results.append(_value(p).copy())
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


@pytest.mark.parametrize("name", NEW)
def test_differentiable_is_refused(name):
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        getattr(optim, name)([_param([1.0])], differentiable=True)


@pytest.mark.parametrize("name", NEW)
def test_capturable_is_refused_at_the_first_step_as_torch_does_on_cpu(name):
    p = _param([1.0])
    opt = getattr(optim, name)([p], capturable=True)
    p.grad = cr.tensor([1.0], dtype=cr.float64)
    with pytest.raises(AssertionError, match="capturable=True"):
        opt.step()
    assert p.item() == 1.0 and not opt.state[p]


@pytest.mark.parametrize("name", NEW)
def test_capturable_on_cpu_raises_in_torch_too(torch, name):
    p = torch.zeros(1, requires_grad=True)
    opt = getattr(torch.optim, name)([p], capturable=True)
    p.grad = torch.ones(1)
    with pytest.raises(AssertionError, match="capturable=True"):
        opt.step()


@pytest.mark.parametrize("name", NEW)
def test_fused_is_not_a_keyword_as_in_torch(name):
    with pytest.raises(TypeError):
        getattr(optim, name)([_param([1.0])], fused=True)


@pytest.mark.parametrize("name", NEW)
def test_tensor_learning_rate(name):
    a, b = _param([1.0, 2.0]), _param([1.0, 2.0])
    opt_a = getattr(optim, name)([a], lr=cr.tensor(0.05, dtype=cr.float64))
    opt_b = getattr(optim, name)([b], lr=0.05)
    for opt, p in ((opt_a, a), (opt_b, b)):
        p.grad = cr.tensor([0.3, -0.7], dtype=cr.float64)
        opt.step()
    np.testing.assert_array_equal(_value(a), _value(b))
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        getattr(optim, name)([_param([1.0])], lr=cr.tensor([0.1, 0.2]))


@pytest.mark.parametrize("name", NEW)
def test_bad_state_raises_and_changes_nothing(name):
    p, q = _param([1.0, 2.0]), _param([3.0])
    opt = getattr(optim, name)([p, q], lr=0.1)
    p.grad, q.grad = cr.tensor([1.0, 1.0], dtype=cr.float64), cr.tensor([1.0], dtype=cr.float64)
    opt.step()
    before = {k: _value(v).copy() for k, v in opt.state[p].items()}
    p_before, q_before = _value(p).copy(), _value(q).copy()
    key = sorted(_STATE_KEYS[name] - {"step", "mu_product"})[0]
    opt.state[q][key] = cr.zeros(4, dtype=cr.float64)
    with pytest.raises(ValueError, match=key):
        opt.step()
    np.testing.assert_array_equal(_value(p), p_before)
    np.testing.assert_array_equal(_value(q), q_before)
    for k, v in opt.state[p].items():
        np.testing.assert_array_equal(_value(v), before[k])


@pytest.mark.parametrize("name", NEW)
def test_float32_parameters_keep_float32_state(name):
    p = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = getattr(optim, name)([p], lr=0.1)
    p.grad = cr.tensor([1.0, -1.0])
    opt.step()
    assert p.dtype == cr.float32
    for k, v in opt.state[p].items():
        assert v.dtype == cr.float32, k


@pytest.mark.parametrize("name", NEW)
def test_non_contiguous_gradient_and_parameter(name):
    base = cr.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    ref = cr.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    g = np.linspace(-1, 1, 12).reshape(4, 3)
    opt, opt_ref = getattr(optim, name)([base], lr=0.1), getattr(optim, name)([ref], lr=0.1)
    base.grad = cr.tensor(g).transpose(0, 1)
    assert not base.grad.is_contiguous()
    ref.grad = cr.tensor(np.ascontiguousarray(g.T))
    opt.step()
    opt_ref.step()
    np.testing.assert_array_equal(_value(base), _value(ref))


@pytest.mark.parametrize("name", NEW)
def test_large_tensor_result_does_not_depend_on_thread_count(name):
    n = 100_000
    x = np.random.default_rng(1).standard_normal(n)
    g = np.random.default_rng(2).standard_normal(n)
    results = []
    for threads in (1, 2):
        cr.set_num_threads(threads)
        try:
            p = cr.tensor(x.copy(), requires_grad=True)
            opt = getattr(optim, name)([p], lr=0.01, weight_decay=0.1)
            for _ in range(2):
                p.grad = cr.tensor(g)
                opt.step()
            results.append(_value(p).copy())
        finally:
            cr.set_num_threads(2)
    np.testing.assert_array_equal(results[0], results[1])


def test_adamax_nan_gradient_propagates_like_torch_maximum():
    p = _param([1.0, 1.0])
    opt = optim.Adamax([p], lr=0.1)
    p.grad = cr.tensor([float("nan"), 1.0], dtype=cr.float64)
    opt.step()
    u = _value(opt.state[p]["exp_inf"])
    assert math.isnan(u[0]) and u[1] == pytest.approx(1.0)
    assert math.isnan(p.tolist()[0]) and p.tolist()[1] == pytest.approx(0.9)


@pytest.mark.parametrize("name", NEW + ["LBFGS"])
def test_learning_rate_that_is_not_a_number_raises_type_error(name):
    for lr in ("0.1", None, [0.1]):
        with pytest.raises(TypeError):
            getattr(optim, name)([_param([1.0])], lr=lr)


@pytest.mark.parametrize(
    "name,groups",
    [
        ("NAdam", [{"weight_decay": 0.1, "decoupled_weight_decay": True}, {"betas": (0.5, 0.9), "lr": 0.05}]),
        (
            "RAdam",
            [{"weight_decay": 0.1}, {"weight_decay": 0.2, "decoupled_weight_decay": True, "maximize": True}],
        ),
        ("Adamax", [{"betas": (0.5, 0.8)}, {"weight_decay": 0.3, "lr": 0.001}]),
        ("Adadelta", [{"rho": 0.5}, {"weight_decay": 0.3, "lr": 0.1, "maximize": True}]),
    ],
    ids=NEW,
)
def test_param_groups_with_own_options_match_torch(torch, name, groups):
    rng = np.random.default_rng(8)
    init = [rng.standard_normal((3, 2)), rng.standard_normal(5), rng.standard_normal((2, 2))]
    target = [rng.standard_normal(x.shape) for x in init]
    trajs = []
    for lib, mod in ((cr, optim), (torch, torch.optim)):
        ps = [lib.tensor(x.copy(), requires_grad=True) for x in init]
        ts = [lib.tensor(t) for t in target]
        opt = getattr(mod, name)([{"params": ps[:2], **groups[0]}, {"params": ps[2:], **groups[1]}], lr=0.02)
        traj = []
        for _ in range(25):
            opt.zero_grad()
            sum(((p - t) ** 4).sum() + (p * t).sum() for p, t in zip(ps, ts)).backward()
            opt.step()
            traj.append([np.asarray(p.detach()).copy() for p in ps])
        trajs.append(traj)
    for k, (a, b) in enumerate(zip(*trajs)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12, err_msg=f"step {k}")
