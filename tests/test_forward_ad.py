"""autograd.forward_ad: dual_level / make_dual / unpack_dual give Jacobian-vector products equal to
finite differences and to PyTorch's forward mode."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.autograd.forward_ad as fwAD

rng = np.random.default_rng(0)


def _f(lib, x, w):
    return (lib.tanh(x @ w).exp() * 2).sum(1).softmax(0)


def test_tangent_matches_central_differences():
    xa, ta, wa = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    with fwAD.dual_level():
        x = fwAD.make_dual(cr.tensor(xa), cr.tensor(ta))
        primal, tangent = fwAD.unpack_dual(_f(cr, x, cr.tensor(wa)))
    eps = 1e-6
    plus = _f(cr, cr.tensor(xa + eps * ta), cr.tensor(wa)).numpy()
    minus = _f(cr, cr.tensor(xa - eps * ta), cr.tensor(wa)).numpy()
    np.testing.assert_allclose(tangent.numpy(), (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(primal.detach().numpy(), _f(cr, cr.tensor(xa), cr.tensor(wa)).numpy())


def test_two_duals_sum_their_directions_and_unrelated_outputs_have_none():
    a, b = cr.tensor([1.0, 2.0], dtype=cr.float64), cr.tensor([3.0, -1.0], dtype=cr.float64)
    with fwAD.dual_level():
        x = fwAD.make_dual(a, cr.tensor([1.0, 0.0], dtype=cr.float64))
        y = fwAD.make_dual(b, cr.tensor([0.0, 2.0], dtype=cr.float64))
        z = x * y  # dz = dx * y + x * dy
        assert fwAD.unpack_dual(z).tangent.tolist() == [3.0, 4.0]
        assert fwAD.unpack_dual(x).tangent.tolist() == [1.0, 0.0]
        assert fwAD.unpack_dual(cr.ones(2)).tangent is None
    assert fwAD.unpack_dual(z).tangent is None  # the level has closed


def test_errors():
    with pytest.raises(RuntimeError):
        fwAD.make_dual(cr.ones(2), cr.ones(2))  # outside a level
    with fwAD.dual_level():
        with pytest.raises(ValueError):
            fwAD.make_dual(cr.ones(2), cr.ones(3))
        with pytest.raises(TypeError):
            fwAD.make_dual(cr.tensor([1, 2]), cr.tensor([1, 2]))


def test_matches_torch(torch):
    xa, ta, wa = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    out = {}
    for lib in (cr, torch):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            x = fw.make_dual(lib.tensor(xa), lib.tensor(ta))
            w = fw.make_dual(lib.tensor(wa), lib.tensor(np.ones_like(wa)))
            y = _f(lib, x, w) * lib.sigmoid(x).mean()
            out[lib.__name__] = fw.unpack_dual(y).tangent.numpy()
    np.testing.assert_allclose(out["chainrule"], out["torch"], rtol=1e-10, atol=1e-12)


# ---- JVP rules of the derivatives table, and the generic rule for ops without one ---------------
def _x(*shape, positive=False):
    a = rng.standard_normal(shape)
    return np.abs(a) + 0.5 if positive else a


# (name, function of the tensors, arrays, whether every op involved declares a JVP rule: True, or
# none does: False, or some do: None)
CASES = [
    ("add", lambda a, b: cr.add(a, b, alpha=2.5), [_x(3, 4), _x(4)], True),
    ("sub", lambda a, b: a - b, [_x(3, 4), _x(3, 1)], True),
    ("mul", lambda a, b: a * b, [_x(3, 4), _x(3, 4)], True),
    ("div", lambda a, b: a / b, [_x(3, 4), _x(3, 4, positive=True)], True),
    ("pow", lambda a, b: a**b, [_x(3, 4, positive=True), _x(3, 4)], True),
    ("pow_scalar", lambda a: a**3, [_x(5)], True),
    ("exp_log", lambda a: a.exp() + a.abs().add(0.1).log(), [_x(6)], True),
    ("sqrt_rsqrt", lambda a: a.sqrt() * a.rsqrt().square(), [_x(6, positive=True)], True),
    ("trig", lambda a: a.sin() * a.cos() + cr.atan2(a, a + 2.0), [_x(6)], True),
    ("erf_reciprocal", lambda a: a.erf() + (a + 3.0).reciprocal(), [_x(6)], True),
    ("maximum_clamp", lambda a, b: cr.maximum(a, b) + a.clamp(-0.5, 0.5), [_x(8), _x(8)], True),
    ("where", lambda a, b: cr.where(a > 0, a, b), [_x(8), _x(8)], True),
    ("math", lambda a: cr.log1p(a.abs()) + cr.logaddexp(a, 0.5 * a) + cr.hypot(a, a + 1), [_x(7)], True),
    ("activations", lambda a: cr.relu(a) + cr.sigmoid(a) + cr.tanh(a), [_x(9)], True),
    (
        "activations_nn",
        lambda a: (
            cr.nn.functional.gelu(a)
            + cr.nn.functional.silu(a)
            + cr.nn.functional.softplus(a)
            + cr.nn.functional.leaky_relu(a, 0.1)
            + cr.nn.functional.elu(a)
        ),
        [_x(9)],
        True,
    ),
    ("sum_mean", lambda a: a.sum(1) + a.mean(1) * 2 + a.sum(), [_x(3, 5)], True),
    ("amax", lambda a: a.amax(0), [_x(4, 3)], True),
    ("logsumexp", lambda a: a.logsumexp(1), [_x(3, 5)], True),
    ("var_std", lambda a: a.var(1) + a.std(0).sum(), [_x(4, 5)], True),
    ("mm", lambda a, b: a @ b, [_x(3, 4), _x(4, 2)], True),
    ("bmm", lambda a, b: cr.bmm(a, b), [_x(2, 3, 4), _x(2, 4, 5)], None),  # + views: generic
    ("softmax", lambda a: a.softmax(1) * a.log_softmax(0), [_x(3, 4)], True),
    # no JVP rule of their own: the generic rule
    ("cumsum", lambda a: a.cumsum(1), [_x(3, 4)], False),
    ("cat", lambda a, b: cr.cat([a, b], 0), [_x(2, 3), _x(1, 3)], False),
    ("layer_norm", lambda a: cr.nn.functional.layer_norm(a, (4,)), [_x(3, 4)], False),
    ("max_dim", lambda a: a.max(1).values, [_x(3, 4)], False),
    ("cross_entropy", lambda a: cr.nn.functional.cross_entropy(a, cr.tensor([0, 2, 1])), [_x(3, 4)], None),
]


@pytest.mark.parametrize("name,fn,arrays,by_rule", CASES, ids=[c[0] for c in CASES])
def test_jvp_matches_central_differences(name, fn, arrays, by_rule):
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    before = cr._core._fw_counts()
    with fwAD.dual_level():
        duals = [fwAD.make_dual(cr.tensor(a), cr.tensor(t)) for a, t in zip(arrays, tangents)]
        tangent = fwAD.unpack_dual(fn(*duals)).tangent
    rules, generic = (n - b for n, b in zip(cr._core._fw_counts(), before))
    eps = 1e-6
    plus = fn(*[cr.tensor(a + eps * t) for a, t in zip(arrays, tangents)]).numpy()
    minus = fn(*[cr.tensor(a - eps * t) for a, t in zip(arrays, tangents)]).numpy()
    np.testing.assert_allclose(tangent.numpy(), (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-7)
    if by_rule:
        assert rules > 0 and generic == 0, (rules, generic)
    elif by_rule is False:
        assert generic > 0 and rules == 0, (rules, generic)


def test_custom_function_and_inplace_carry_tangents():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    a, t = cr.tensor([1.0, -2.0, 0.5], dtype=cr.float64), cr.tensor([1.0, 1.0, 2.0], dtype=cr.float64)
    with fwAD.dual_level():
        x = fwAD.make_dual(a, t)
        y = Cube.apply(x)
        assert fwAD.unpack_dual(y).tangent.tolist() == pytest.approx((3 * a * a * t).tolist())
        z = x * 1.0
        z.mul_(x)  # z = x^2 in place: dz = 2 x dx
        assert fwAD.unpack_dual(z).tangent.tolist() == pytest.approx((2 * a * t).tolist())


def test_reverse_mode_through_a_dual_and_no_tangent_under_no_grad():
    a = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    with fwAD.dual_level():
        x = fwAD.make_dual(a, cr.ones(2, dtype=cr.float64))
        (x * x).sum().backward()
        with cr.no_grad():
            y = x * 2
        assert fwAD.unpack_dual(y).tangent is None
    assert a.grad.tolist() == [2.0, 4.0]


def test_jvp_rules_match_torch(torch):
    for name, fn, arrays, _ in CASES:
        if name in ("cross_entropy",):
            continue
        tangents = [rng.standard_normal(a.shape) for a in arrays]
        with fwAD.dual_level():
            duals = [fwAD.make_dual(cr.tensor(a), cr.tensor(t)) for a, t in zip(arrays, tangents)]
            ours = fwAD.unpack_dual(fn(*duals)).tangent.numpy()
        tfw = torch.autograd.forward_ad
        torch_fn = _TORCH.get(name)
        if torch_fn is None:
            continue
        with tfw.dual_level():
            duals = [tfw.make_dual(torch.tensor(a), torch.tensor(t)) for a, t in zip(arrays, tangents)]
            theirs = tfw.unpack_dual(torch_fn(torch, *duals)).tangent.numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11, err_msg=name)


_TORCH = {
    "add": lambda t, a, b: t.add(a, b, alpha=2.5),
    "mul": lambda t, a, b: a * b,
    "div": lambda t, a, b: a / b,
    "pow": lambda t, a, b: a**b,
    "exp_log": lambda t, a: a.exp() + a.abs().add(0.1).log(),
    "trig": lambda t, a: a.sin() * a.cos() + t.atan2(a, a + 2.0),
    "maximum_clamp": lambda t, a, b: t.maximum(a, b) + a.clamp(-0.5, 0.5),
    "activations": lambda t, a: t.relu(a) + t.sigmoid(a) + t.tanh(a),
    "sum_mean": lambda t, a: a.sum(1) + a.mean(1) * 2 + a.sum(),
    "amax": lambda t, a: a.amax(0),
    "logsumexp": lambda t, a: a.logsumexp(1),
    "var_std": lambda t, a: a.var(1) + a.std(0).sum(),
    "mm": lambda t, a, b: a @ b,
    "softmax": lambda t, a: a.softmax(1) * a.log_softmax(0),
    "cumsum": lambda t, a: a.cumsum(1),
    "layer_norm": lambda t, a: t.nn.functional.layer_norm(a, (4,)),
}
