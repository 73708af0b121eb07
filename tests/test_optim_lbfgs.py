"""LBFGS: trajectories against torch.optim.LBFGS (with and without the strong-Wolfe line search),
iterations and the line search checked by hand, state dicts and errors."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.optim as optim
from chainrule.optim.lbfgs import _cubic_minimizer, _strong_wolfe_search

_rng = np.random.default_rng(7)
A = _rng.standard_normal((6, 4))
B = _rng.standard_normal((6, 1))
K = _rng.standard_normal((3, 2))
INIT = [_rng.standard_normal((4, 1)), _rng.standard_normal((1,)), _rng.standard_normal((3, 2))]


def _loss(params, consts, rosenbrock):
    w, c, m = params
    if rosenbrock:  # badly conditioned: the line search brackets and zooms
        x = w.reshape(-1)
        return ((1 - x[0:3]) ** 2).sum() + (((x[1:4] - x[0:3] * x[0:3]) ** 2) * 100).sum() + (c * c).sum()
    A_, B_, K_ = consts
    r = A_ @ w + c - B_
    return (r * r).sum() + (m * m * m * m).sum() * 0.1 + (m * K_).sum()


def _run(lib, make_opt, kwargs, outer, rosenbrock):
    params = [lib.tensor(p.copy(), requires_grad=True) for p in INIT]
    consts = [lib.tensor(x) for x in (A, B, K)]
    opt = make_opt(params, **kwargs)

    def closure():
        opt.zero_grad()
        loss = _loss(params, consts, rosenbrock)
        loss.backward()
        return loss

    out = []
    for _ in range(outer):
        loss = opt.step(closure)
        state = opt.state[params[0]]
        out.append(
            (
                [np.asarray(p.detach()).copy() for p in params],
                float(loss.detach()),
                state["func_evals"],
                state["n_iter"],
            )
        )
    return out


LBFGS_CONFIGS = [
    dict(),
    dict(line_search_fn="strong_wolfe"),
    dict(lr=0.5, history_size=3, max_iter=7),
    dict(lr=0.1, max_iter=3),
    dict(line_search_fn="strong_wolfe", history_size=2, max_iter=10, max_eval=12),
    dict(line_search_fn="strong_wolfe", lr=0.3, max_iter=4, tolerance_change=1e-6),
]


@pytest.mark.parametrize("rosenbrock", [False, True], ids=["quartic", "rosenbrock"])
@pytest.mark.parametrize("kwargs", LBFGS_CONFIGS, ids=[str(k) for k in LBFGS_CONFIGS])
def test_float64_trajectory_matches_torch(torch, kwargs, rosenbrock):
    # Rosenbrock is badly conditioned: rounding differences of the dot products (about 1e-16)
    # grow over the iterations, so it is compared over fewer steps and with a looser tolerance.
    outer, tol = (4, 1e-8) if rosenbrock else (5, 1e-10)
    ours = _run(cr, optim.LBFGS, kwargs, outer, rosenbrock)
    ref = _run(torch, torch.optim.LBFGS, kwargs, outer, rosenbrock)
    for k, ((pa, la, ea, na), (pb, lb, eb, nb)) in enumerate(zip(ours, ref)):
        assert (ea, na) == (eb, nb), f"step {k}: evaluations and iterations"
        assert la == pytest.approx(lb, rel=tol, abs=tol)
        for x, y in zip(pa, pb):
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=f"step {k}")


def test_state_dict_keys_match_torch(torch):
    kwargs = dict(line_search_fn="strong_wolfe", max_iter=4)
    params = [cr.tensor(p.copy(), requires_grad=True) for p in INIT]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in INIT]
    consts, tconsts = [cr.tensor(x) for x in (A, B, K)], [torch.tensor(x) for x in (A, B, K)]
    opt, topt = optim.LBFGS(params, **kwargs), torch.optim.LBFGS(tparams, **kwargs)
    for o, ps, cs in ((opt, params, consts), (topt, tparams, tconsts)):

        def closure(o=o, ps=ps, cs=cs):
            o.zero_grad()
            loss = _loss(ps, cs, False)
            loss.backward()
            return loss

        o.step(closure)
        o.step(closure)
    a, b = opt.state_dict(), topt.state_dict()
    assert a["param_groups"] == b["param_groups"]
    assert list(a["state"]) == list(b["state"]) == [0]
    assert set(a["state"][0]) == set(b["state"][0])
    sa, sb = a["state"][0], b["state"][0]
    assert (sa["func_evals"], sa["n_iter"]) == (sb["func_evals"], sb["n_iter"])
    np.testing.assert_allclose(np.asarray(sa["d"]), sb["d"].numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(sa["prev_flat_grad"]), sb["prev_flat_grad"].numpy(), rtol=1e-9)
    assert len(sa["old_dirs"]) == len(sb["old_dirs"]) and len(sa["al"]) == len(sb["al"]) == 100
    assert sa["H_diag"] == pytest.approx(float(sb["H_diag"]), rel=1e-9)


def test_defaults_match_torch(torch):
    p = cr.tensor([1.0], requires_grad=True)
    assert optim.LBFGS([p]).defaults == torch.optim.LBFGS([torch.zeros(1, requires_grad=True)]).defaults
    assert optim.LBFGS([p], max_iter=8).defaults["max_eval"] == 10


# ---- without PyTorch -------------------------------------------------------------------------------
def _quadratic(n=5, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    H = M @ M.T + n * np.eye(n)
    b = rng.standard_normal(n)
    return H, b


def _closure_for(opt, x, H, b):
    Hc, bc = cr.tensor(H), cr.tensor(b)

    def closure():
        opt.zero_grad()
        loss = (x * (Hc @ x)).sum() * 0.5 - (bc * x).sum()
        loss.backward()
        return loss

    return closure


def test_first_iteration_is_scaled_gradient_step():
    H, b = _quadratic()
    x0 = np.ones(5)
    x = cr.tensor(x0.copy(), requires_grad=True)
    opt = optim.LBFGS([x], lr=0.7, max_iter=1)
    loss = opt.step(_closure_for(opt, x, H, b))
    g = H @ x0 - b
    assert loss.item() == pytest.approx(0.5 * x0 @ H @ x0 - b @ x0, rel=1e-14)
    expect = x0 - min(1.0, 1.0 / np.abs(g).sum()) * 0.7 * g
    np.testing.assert_allclose(np.asarray(x.detach()), expect, rtol=1e-14)
    assert opt.state[x]["func_evals"] == 1 and opt.state[x]["n_iter"] == 1


def test_second_iteration_is_the_two_loop_recursion():
    H, b = _quadratic()
    x0 = np.linspace(-1, 1, 5)
    x = cr.tensor(x0.copy(), requires_grad=True)
    opt = optim.LBFGS([x], lr=0.5, max_iter=2, max_eval=10)  # (max_eval defaults to 2 * 5 // 4 = 2)
    opt.step(_closure_for(opt, x, H, b))
    # by hand: one curvature pair (s, y), H0 = y.s / y.y
    g0 = H @ x0 - b
    t1 = min(1.0, 1.0 / np.abs(g0).sum()) * 0.5
    x1 = x0 - t1 * g0
    g1 = H @ x1 - b
    s, y = -t1 * g0, g1 - g0
    rho = 1.0 / (y @ s)
    q = -g1
    a = rho * (s @ q)
    q = q - a * y
    r = (y @ s) / (y @ y) * q
    r = r + (a - rho * (y @ r)) * s
    np.testing.assert_allclose(np.asarray(x.detach()), x1 + 0.5 * r, rtol=1e-12)
    state = opt.state[x]
    assert len(state["old_dirs"]) == 1 and state["ro"][0] == pytest.approx(rho, rel=1e-12)
    assert state["func_evals"] == 2  # the last iteration does not re-evaluate


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_converges_to_the_minimum_of_a_quadratic(line_search_fn):
    H, b = _quadratic(8, seed=3)
    x = cr.tensor(np.zeros(8), requires_grad=True)
    opt = optim.LBFGS(
        [x],
        lr=1 if line_search_fn else 0.1,
        max_iter=100,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        line_search_fn=line_search_fn,
    )
    closure = _closure_for(opt, x, H, b)
    for _ in range(10 if line_search_fn else 40):
        opt.step(closure)
    np.testing.assert_allclose(np.asarray(x.detach()), np.linalg.solve(H, b), rtol=1e-6, atol=1e-7)


def test_strong_wolfe_converges_on_rosenbrock_with_few_evaluations():
    p = cr.tensor([-1.2, 1.0], dtype=cr.float64, requires_grad=True)
    opt = optim.LBFGS(
        [p], line_search_fn="strong_wolfe", max_iter=200, tolerance_grad=1e-10, tolerance_change=1e-15
    )

    def closure():
        opt.zero_grad()
        loss = (1 - p[0:1]) ** 2 + ((p[1:2] - p[0:1] * p[0:1]) ** 2) * 100
        loss = loss.sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(np.asarray(p.detach()), [1.0, 1.0], atol=1e-6)
    assert opt.state[p]["func_evals"] < 200


def test_zero_gradient_returns_at_once():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    opt = optim.LBFGS([x])

    def closure():
        opt.zero_grad()
        loss = (x * 0.0).sum() + 3.0
        loss.backward()
        return loss

    assert opt.step(closure).item() == 3.0
    assert x.tolist() == [1.0, 2.0]
    assert opt.state[x] == {"func_evals": 1, "n_iter": 0}


def test_closure_runs_with_grad_enabled_and_params_without_grad_count_as_zero():
    x = cr.tensor([3.0], dtype=cr.float64, requires_grad=True)
    unused = cr.tensor([5.0], dtype=cr.float64, requires_grad=True)
    opt = optim.LBFGS([x, unused], max_iter=3)
    seen = []

    def closure():
        seen.append(cr.is_grad_enabled())
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    with cr.no_grad():
        opt.step(closure)
    assert seen and all(seen)
    assert unused.item() == 5.0 and abs(x.item()) < 3.0


def test_cubic_minimizer_finds_the_minimum_of_a_cubic():
    f = lambda x: x**3 - 3 * x  # noqa: E731  minimum at x = 1
    df = lambda x: 3 * x**2 - 3  # noqa: E731
    assert _cubic_minimizer(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0)) == pytest.approx(1.0, rel=1e-14)
    assert _cubic_minimizer(2.0, f(2.0), df(2.0), 0.0, f(0.0), df(0.0)) == pytest.approx(1.0, rel=1e-14)
    # clamped to the bounds, and the middle of them when the cubic has no minimizer
    assert _cubic_minimizer(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0), 1.5, 3.0) == 1.5
    assert _cubic_minimizer(0.0, 0.0, 3.0, 1.0, 2.0, 3.0, 2.0, 4.0) == 3.0


@pytest.mark.parametrize("t0", [1e-3, 1.0, 50.0])
def test_strong_wolfe_step_satisfies_both_conditions(t0):
    # phi(t) = f(x + t d) for f(z) = sum(z^4) / 4 + z . c; from small t0 it extrapolates,
    # from large t0 it zooms.
    x0, d = np.array([1.0, -2.0]), np.array([-1.0, 1.5])
    c = np.array([0.5, 0.25])

    def evaluate(t):
        z = x0 + t * d
        return float((z**4).sum() / 4 + z @ c), cr.tensor(z**3 + c)

    f0, g0 = evaluate(0.0)
    gtd = float(np.asarray(g0) @ d)
    assert gtd < 0
    f, g, t, evals = _strong_wolfe_search(evaluate, t0, cr.tensor(d), f0, g0, gtd)
    assert f <= f0 + 1e-4 * t * gtd
    assert abs(float(np.asarray(g) @ d)) <= 0.9 * -gtd
    assert f == pytest.approx(evaluate(t)[0], rel=1e-15) and evals >= 1


def test_state_dict_round_trip_resumes_bitwise():
    H, b = _quadratic(6, seed=1)

    def fresh():
        x = cr.tensor(np.linspace(0, 1, 6), requires_grad=True)
        opt = optim.LBFGS([x], lr=0.8, max_iter=3, history_size=4, line_search_fn="strong_wolfe")
        return x, opt, _closure_for(opt, x, H, b)

    x_ref, opt_ref, cl_ref = fresh()
    for _ in range(4):
        opt_ref.step(cl_ref)
    x, opt, cl = fresh()
    for _ in range(2):
        opt.step(cl)
    sd = opt.state_dict()
    saved_x = np.asarray(x.detach()).copy()
    opt.step(cl)  # later steps must not leak into the saved state
    y = cr.tensor(saved_x, requires_grad=True)
    resumed = optim.LBFGS([y], lr=123.0)
    resumed.load_state_dict(sd)
    assert resumed.param_groups[0]["lr"] == 0.8 and resumed.param_groups[0]["history_size"] == 4
    closure = _closure_for(resumed, y, H, b)
    for _ in range(2):
        resumed.step(closure)
    np.testing.assert_array_equal(np.asarray(y.detach()), np.asarray(x_ref.detach()))


def test_errors():
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([2.0], requires_grad=True)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.LBFGS([a], lr=-1.0)
    opt = optim.LBFGS([a], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
    with pytest.raises(TypeError):
        opt.step()  # the closure is required


@pytest.mark.parametrize(
    "kwargs", [dict(), dict(line_search_fn="strong_wolfe")], ids=["fixed", "strong_wolfe"]
)
def test_float32_parameters_stay_float32_and_follow_torch(torch, kwargs):
    init = [x.astype(np.float32) for x in INIT]
    results = []
    for lib, cls in ((cr, optim.LBFGS), (torch, torch.optim.LBFGS)):
        params = [lib.tensor(x.copy(), requires_grad=True) for x in init]
        consts = [lib.tensor(x.astype(np.float32)) for x in (A, B, K)]
        opt = cls(params, **kwargs)

        def closure(opt=opt, params=params, consts=consts):
            opt.zero_grad()
            loss = _loss(params, consts, False)
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        results.append([np.asarray(p.detach()).copy() for p in params])
    for x, y in zip(*results):
        assert x.dtype == np.float32
        np.testing.assert_allclose(x, y, rtol=1e-3, atol=1e-4)
