"""chainrule.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp (as torch.autograd.functional)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import functional as AF
from helpers import rand, to_np


def t64(a, requires_grad=False):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def structure(res):
    """Nested tuples of shapes: the layout of a result, independent of the library."""
    if isinstance(res, tuple):
        return tuple(structure(r) for r in res)
    return ("T", tuple(res.shape))


def flatten(res):
    if isinstance(res, tuple):
        return [x for r in res for x in flatten(r)]
    return [res]


# ---- values, without PyTorch --------------------------------------------------------------------
def test_jacobian_of_elementwise_square_is_diagonal():
    x = t64([1.0, 2.0, 3.0])
    jac = AF.jacobian(lambda x: x * x, x)
    assert isinstance(jac, cr.Tensor) and tuple(jac.shape) == (3, 3)
    np.testing.assert_allclose(to_np(jac), np.diag([2.0, 4.0, 6.0]))


def test_jacobian_of_matrix_vector_product_has_output_then_input_shape():
    a = rand(3, 4, seed=1)
    w = rand(4, seed=2)
    jac = AF.jacobian(lambda m: m @ t64(w), t64(a))
    assert tuple(jac.shape) == (3, 3, 4)
    expected = np.zeros((3, 3, 4))
    for i in range(3):
        expected[i, i, :] = w
    np.testing.assert_allclose(to_np(jac), expected)


def test_jacobian_nests_outputs_then_inputs_for_tuples():
    x, y = t64([1.0, 2.0]), t64([3.0, 4.0, 5.0])
    jac = AF.jacobian(lambda x, y: (x * y.sum(), (x * x).sum()), (x, y))
    assert structure(jac) == ((("T", (2, 2)), ("T", (2, 3))), (("T", (2,)), ("T", (3,))))
    np.testing.assert_allclose(to_np(jac[0][0]), 12.0 * np.eye(2))
    np.testing.assert_allclose(to_np(jac[0][1]), [[1.0] * 3, [2.0] * 3])
    np.testing.assert_allclose(to_np(jac[1][0]), [2.0, 4.0])
    np.testing.assert_allclose(to_np(jac[1][1]), [0.0, 0.0, 0.0])  # independent: zeros


def test_single_tensors_versus_one_element_tuples_set_the_nesting():
    x = t64([1.0, 2.0])
    assert structure(AF.jacobian(lambda x: x * 2, x)) == ("T", (2, 2))
    assert structure(AF.jacobian(lambda x: x * 2, (x,))) == (("T", (2, 2)),)
    assert structure(AF.jacobian(lambda x: (x * 2,), x)) == (("T", (2, 2)),)
    assert structure(AF.jacobian(lambda x: (x * 2,), (x,))) == ((("T", (2, 2)),),)
    assert structure(AF.hessian(lambda x: (x**3).sum(), x)) == ("T", (2, 2))
    assert structure(AF.hessian(lambda x: (x**3).sum(), (x,))) == ((("T", (2, 2)),),)
    out, v = AF.vjp(lambda x: x * 2, (x,), (t64([1.0, 1.0]),))
    assert isinstance(out, cr.Tensor) and isinstance(v, tuple) and len(v) == 1
    out, v = AF.jvp(lambda x: (x * 2,), x, t64([1.0, 1.0]))
    assert isinstance(out, tuple) and isinstance(v, tuple)


def test_hessian_of_cubic_and_of_bilinear_form():
    x = t64([1.0, -2.0, 0.5])
    np.testing.assert_allclose(
        to_np(AF.hessian(lambda x: (x**3).sum(), x)), np.diag(6 * np.array([1, -2, 0.5]))
    )
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0])
    h = AF.hessian(lambda a, b: (a * b).sum(), (a, b))
    np.testing.assert_allclose(to_np(h[0][0]), np.zeros((2, 2)))
    np.testing.assert_allclose(to_np(h[0][1]), np.eye(2))
    np.testing.assert_allclose(to_np(h[1][0]), np.eye(2))
    np.testing.assert_allclose(to_np(h[1][1]), np.zeros((2, 2)))


def test_hessian_of_quadratic_form_is_symmetric_part():
    m = rand(3, 3, seed=3)
    x = t64(rand(3, seed=4))
    h = AF.hessian(lambda x: x @ (t64(m) @ x), x)
    np.testing.assert_allclose(to_np(h), m + m.T, atol=1e-12)


def test_vjp_and_jvp_are_products_with_the_jacobian():
    a = rand(3, 4, seed=5)
    x = rand(4, seed=6)
    u, w = rand(3, seed=7), rand(4, seed=8)

    def f(x):
        return (t64(a) @ x).tanh()

    jac = to_np(AF.jacobian(f, t64(x)))
    out, vjp = AF.vjp(f, t64(x), t64(u))
    np.testing.assert_allclose(to_np(out), np.tanh(a @ x))
    np.testing.assert_allclose(to_np(vjp), u @ jac, atol=1e-12)
    out, jvp = AF.jvp(f, t64(x), t64(w))
    np.testing.assert_allclose(to_np(out), np.tanh(a @ x))
    np.testing.assert_allclose(to_np(jvp), jac @ w, atol=1e-12)
    # analytic: d tanh(Ax) = (1 - tanh^2) * A dx
    np.testing.assert_allclose(to_np(jvp), (1 - np.tanh(a @ x) ** 2) * (a @ w), atol=1e-12)


def test_hvp_and_vhp_are_products_with_the_hessian():
    x = rand(3, seed=9)
    v = rand(3, seed=10)

    def f(x):
        return (x.exp() * x.sin()).sum()

    h = np.diag(2 * np.exp(x) * np.cos(x))  # (e^x sin x)'' = 2 e^x cos x
    val, hv = AF.hvp(f, t64(x), t64(v))
    np.testing.assert_allclose(to_np(val), np.sum(np.exp(x) * np.sin(x)))
    np.testing.assert_allclose(to_np(hv), h @ v, atol=1e-12)
    val, vh = AF.vhp(f, t64(x), t64(v))
    np.testing.assert_allclose(to_np(vh), v @ h, atol=1e-12)


def test_v_may_be_omitted_for_single_element_tensors():
    out, g = AF.vjp(lambda x: (x * x).sum(), t64([1.0, 2.0]))
    np.testing.assert_allclose(to_np(g), [2.0, 4.0])
    out, d = AF.jvp(lambda x: x * t64([1.0, 2.0, 3.0]), t64(2.0))
    np.testing.assert_allclose(to_np(d), [1.0, 2.0, 3.0])
    _, hv = AF.hvp(lambda x: x**3, t64([2.0]))
    np.testing.assert_allclose(to_np(hv), [12.0])
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.vjp(lambda x: x * 2, t64([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.jvp(lambda x: x * 2, t64([1.0, 2.0]))


def test_jacobian_agrees_with_central_differences():
    x0 = rand(2, 3, seed=11)

    def f_np(x):
        return np.stack([np.sin(x).sum(axis=0), (x**2).prod(axis=0)])

    def f(x):
        return cr.stack([x.sin().sum(0), (x**2).prod(0)])

    jac = to_np(AF.jacobian(f, t64(x0)))
    assert jac.shape == (2, 3, 2, 3)
    eps = 1e-6
    num = np.zeros_like(jac)
    for idx in np.ndindex(*x0.shape):
        d = np.zeros_like(x0)
        d[idx] = eps
        num[(...,) + idx] = (f_np(x0 + d) - f_np(x0 - d)) / (2 * eps)
    np.testing.assert_allclose(jac, num, atol=1e-7)


def test_results_are_detached_unless_create_graph():
    x = t64([1.0, 2.0], requires_grad=True)
    jac = AF.jacobian(lambda x: x**3, x)
    assert not jac.requires_grad
    out, g = AF.vjp(lambda x: (x**3).sum(), x)
    assert not out.requires_grad and not g.requires_grad
    assert x.grad is None  # nothing accumulates into the inputs' .grad


def test_create_graph_keeps_results_differentiable_with_respect_to_the_inputs():
    x = t64([1.0, 2.0], requires_grad=True)
    _, g = AF.vjp(lambda x: (x**3).sum(), x, create_graph=True)
    assert g.requires_grad
    g.sum().backward()  # d/dx sum(3 x^2) = 6 x
    np.testing.assert_allclose(to_np(x.grad), [6.0, 12.0])
    y = t64([1.0, 2.0], requires_grad=True)
    h = AF.hessian(lambda y: (y**3).sum(), y, create_graph=True)
    h.sum().backward()  # d/dy sum(diag(6 y)) = 6
    np.testing.assert_allclose(to_np(y.grad), [6.0, 6.0])
    z = t64([1.0, 2.0], requires_grad=True)
    _, jv = AF.jvp(lambda z: z**3, z, t64([1.0, 1.0]), create_graph=True)
    jv.sum().backward()  # d/dz sum(3 z^2) = 6 z
    np.testing.assert_allclose(to_np(z.grad), [6.0, 12.0])


def test_grad_mode_is_restored_and_no_grad_callers_get_results():
    x = t64([1.0, 2.0])
    with cr.no_grad():
        jac = AF.jacobian(lambda x: x**2, x)
        _, hv = AF.hvp(lambda x: (x**3).sum(), x, t64([1.0, 0.0]))
        assert not cr.is_grad_enabled()
    np.testing.assert_allclose(to_np(jac), np.diag([2.0, 4.0]))
    np.testing.assert_allclose(to_np(hv), [6.0, 0.0])
    assert cr.is_grad_enabled()


def test_inputs_must_be_tensors_or_tuples():
    x = t64([1.0])
    with pytest.raises(TypeError, match="inputs given to jacobian"):
        AF.jacobian(lambda x: x, [x])
    with pytest.raises(TypeError, match="index 1"):
        AF.jacobian(lambda x, y: x, (x, 3.0))
    with pytest.raises(TypeError, match="outputs of the user-provided function"):
        AF.vjp(lambda x: 3.0, x)


def test_v_is_checked_against_outputs_and_inputs():
    x = t64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="invalid size"):
        AF.vjp(lambda x: x * 2, x, t64([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="single Tensor"):
        AF.jvp(lambda x: x * 2, x, (t64([1.0, 2.0]), t64([1.0, 2.0])))
    with pytest.raises(RuntimeError, match="invalid length"):
        AF.vhp(lambda x, y: (x * y).sum(), (x, x), (t64([1.0, 2.0]),))
    with pytest.raises(RuntimeError, match="Entry 1"):
        AF.hvp(lambda x, y: (x * y).sum(), (x, x), (t64([1.0, 2.0]), t64([1.0])))


def test_hessian_products_need_a_single_element_output():
    x = t64([1.0, 2.0])
    for fn in (AF.hvp, AF.vhp):
        with pytest.raises(RuntimeError, match="single element"):
            fn(lambda x: x * x, x, t64([1.0, 1.0]))
        with pytest.raises(RuntimeError, match="single Tensor"):
            fn(lambda x: ((x * x).sum(),), x, t64([1.0, 1.0]))
    with pytest.raises(RuntimeError, match="single element"):
        AF.hessian(lambda x: x * x, x)


def test_strict_refuses_outputs_independent_of_an_input():
    x, y = t64([1.0, 2.0]), t64([3.0])
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda x, y: x * 2, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        AF.vjp(lambda x: t64([1.0, 2.0]), x, t64([1.0, 1.0]), strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(lambda x, y: (x * 2).sum(), (x, y), strict=True)
    with pytest.raises(RuntimeError, match="strict mode"):
        AF.hessian(lambda x: (x * 2).sum(), x, strict=True)  # linear: the Jacobian is constant
    # without strict, the same cases give zeros
    jac = AF.jacobian(lambda x, y: x * 2, (x, y))
    np.testing.assert_allclose(to_np(jac[1]), [[0.0], [0.0]])
    np.testing.assert_allclose(to_np(AF.hessian(lambda x: (x * 2).sum(), x)), np.zeros((2, 2)))


def test_strategy_and_vectorize_arguments():
    x = t64([1.0, 2.0])
    expected = np.diag([2.0, 4.0])
    np.testing.assert_allclose(to_np(AF.jacobian(lambda x: x * x, x, vectorize=True)), expected)
    fwd = AF.jacobian(lambda x: x * x, x, vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(to_np(fwd), expected)
    with pytest.raises(AssertionError):
        AF.jacobian(lambda x: x, x, strategy="sideways")
    with pytest.raises(NotImplementedError):
        AF.jacobian(lambda x: x, x, strategy="forward-mode")
    with pytest.raises(NotImplementedError):
        AF.jacobian(lambda x: x, x, strategy="forward-mode", vectorize=True, create_graph=True)
    with pytest.raises(RuntimeError, match="strict"):
        AF.jacobian(lambda x: x * 2, x, strict=True, vectorize=True)
    h = AF.hessian(lambda x: (x**3).sum(), x, vectorize=True, outer_jacobian_strategy="forward-mode")
    np.testing.assert_allclose(to_np(h), np.diag([6.0, 12.0]))


def test_jacobian_of_an_empty_output_is_empty():
    jac = AF.jacobian(lambda x: x[:0], t64([1.0, 2.0, 3.0]))
    assert tuple(jac.shape) == (0, 3)


def test_identity_and_constant_functions():
    x = t64([1.0, 2.0])
    np.testing.assert_allclose(to_np(AF.jacobian(lambda x: x, x)), np.eye(2))
    _, jv = AF.jvp(lambda x: x, x, t64([3.0, 4.0]))
    np.testing.assert_allclose(to_np(jv), [3.0, 4.0])
    _, jv = AF.jvp(lambda x: t64([5.0]), x, t64([3.0, 4.0]))
    np.testing.assert_allclose(to_np(jv), [0.0])


# ---- against PyTorch ----------------------------------------------------------------------------
# Each function is written once against a module that provides tensors (torch or chainrule).
VECTOR_FUNCS = {
    "exp_sin": (lambda m, x: x.exp() * x.sin(), [(4,)]),
    "matvec_tanh": (lambda m, a, x: (a @ x).tanh(), [(3, 4), (4,)]),
    "two_outputs": (lambda m, x, y: (x * y.sum(), (x**2).sum(0)), [(2, 3), (3,)]),
    "softmax_rows": (lambda m, x: m.softmax(x, 1) * x, [(2, 3)]),
    "independent_input": (lambda m, x, y: x.sigmoid() * 3.0, [(3,), (2,)]),
}
SCALAR_FUNCS = {
    "cubic": (lambda m, x: (x**3).sum() + (x.sin() * x).sum(), [(4,)]),
    "bilinear": (lambda m, a, x: (a.exp() @ x).tanh().sum(), [(2, 3), (3,)]),
    "logsumexp": (lambda m, x: m.logsumexp(x, 0).sum(), [(3, 2)]),
    "scalar_input": (lambda m, x: (x * x * x).exp(), [()]),
    "linear_part": (lambda m, x, y: (x * x).sum() + (y * 2.0).sum(), [(2,), (3,)]),
}


def _inputs(shapes, seed):
    return [
        rand(*s, seed=seed + i) if s else np.array(rand(1, seed=seed + i)[0]) for i, s in enumerate(shapes)
    ]


def _pair(torch, arrays, as_tuple):
    c = tuple(cr.tensor(a.copy()) for a in arrays)
    t = tuple(torch.tensor(a.copy()) for a in arrays)
    if as_tuple or len(arrays) > 1:
        return c, t
    return c[0], t[0]


def _compare(res_c, res_t, create_graph=False):
    assert structure(res_c) == structure(res_t)
    for c, t in zip(flatten(res_c), flatten(res_t)):
        np.testing.assert_allclose(to_np(c), t.detach().numpy(), atol=1e-10, rtol=1e-10)
        assert c.requires_grad == t.requires_grad
        assert c.dtype == cr.float64


@pytest.mark.parametrize("as_tuple", [False, True])
@pytest.mark.parametrize("name", sorted(VECTOR_FUNCS))
def test_jacobian_vjp_jvp_match_torch(torch, name, as_tuple):
    from torch.autograd import functional as TF

    fn, shapes = VECTOR_FUNCS[name]
    arrays = _inputs(shapes, seed=20)
    xc, xt = _pair(torch, arrays, as_tuple)
    _compare(AF.jacobian(lambda *a: fn(cr, *a), xc), TF.jacobian(lambda *a: fn(torch, *a), xt))

    outs = fn(torch, *[torch.tensor(a) for a in arrays])
    out_shapes = [tuple(o.shape) for o in (outs if isinstance(outs, tuple) else (outs,))]
    us = [rand(*s, seed=40 + i) if s else np.array(0.7) for i, s in enumerate(out_shapes)]
    uc, ut = _pair(torch, us, isinstance(outs, tuple))
    _compare(AF.vjp(lambda *a: fn(cr, *a), xc, uc), TF.vjp(lambda *a: fn(torch, *a), xt, ut))

    vs = _inputs(shapes, seed=60)
    vc, vt = _pair(torch, vs, as_tuple)
    _compare(AF.jvp(lambda *a: fn(cr, *a), xc, vc), TF.jvp(lambda *a: fn(torch, *a), xt, vt))


@pytest.mark.parametrize("as_tuple", [False, True])
@pytest.mark.parametrize("name", sorted(SCALAR_FUNCS))
def test_hessian_hvp_vhp_match_torch(torch, name, as_tuple):
    from torch.autograd import functional as TF

    fn, shapes = SCALAR_FUNCS[name]
    arrays = _inputs(shapes, seed=80)
    xc, xt = _pair(torch, arrays, as_tuple)
    fc = lambda *a: fn(cr, *a)  # noqa: E731
    ft = lambda *a: fn(torch, *a)  # noqa: E731
    _compare(AF.hessian(fc, xc), TF.hessian(ft, xt))
    vs = _inputs(shapes, seed=90)
    vc, vt = _pair(torch, vs, as_tuple)
    _compare(AF.hvp(fc, xc, vc), TF.hvp(ft, xt, vt))
    _compare(AF.vhp(fc, xc, vc), TF.vhp(ft, xt, vt))
    _compare(AF.vjp(fc, xc), TF.vjp(ft, xt))


@pytest.mark.parametrize("op", ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"])
def test_create_graph_results_and_their_gradients_match_torch(torch, op):
    from torch.autograd import functional as TF

    a = rand(3, seed=100)
    xc, xt = cr.tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)
    v = rand(3, seed=101)
    vc, vt = cr.tensor(v.copy()), torch.tensor(v.copy())

    def f(m, x):
        s = (x.sin() * x * x).sum()
        return s if op in ("hessian", "hvp", "vhp") else x.exp() * s

    args_c = (lambda x: f(cr, x), xc) + (() if op in ("jacobian", "hessian") else (vc,))
    args_t = (lambda x: f(torch, x), xt) + (() if op in ("jacobian", "hessian") else (vt,))
    res_c = getattr(AF, op)(*args_c, create_graph=True)
    res_t = getattr(TF, op)(*args_t, create_graph=True)
    _compare(res_c, res_t)
    last_c, last_t = flatten(res_c)[-1], flatten(res_t)[-1]
    (last_c * last_c).sum().backward()
    (last_t * last_t).sum().backward()
    np.testing.assert_allclose(to_np(xc.grad), xt.grad.numpy(), atol=1e-10, rtol=1e-10)


STRICT_CASES = {
    "jacobian_independent": lambda m, F, x, y: F.jacobian(lambda x, y: x * 2.0, (x, y), strict=True),
    "vjp_constant_output": lambda m, F, x, y: F.vjp(lambda x: m.ones(2, dtype=m.float64), x, x, strict=True),
    "jvp_independent": lambda m, F, x, y: F.jvp(lambda x, y: x * 2.0, (x, y), (x, y), strict=True),
    "hessian_linear": lambda m, F, x, y: F.hessian(lambda x: (x * 2.0).sum(), x, strict=True),
    "hvp_linear": lambda m, F, x, y: F.hvp(lambda x: (x * 2.0).sum(), x, x, strict=True),
    "vhp_independent": lambda m, F, x, y: F.vhp(lambda x, y: (x * x).sum(), (x, y), (x, y), strict=True),
    "jacobian_create_graph_constant": lambda m, F, x, y: F.jacobian(
        lambda x: x * 2.0, x, strict=True, create_graph=True
    ),
}


@pytest.mark.parametrize("case", sorted(STRICT_CASES))
def test_strict_mode_raises_where_torch_does(torch, case):
    from torch.autograd import functional as TF

    a = rand(2, seed=110)

    def run(m, F):
        x, y = m.tensor(a.copy()), m.tensor(a.copy())
        try:
            STRICT_CASES[case](m, F, x, y)
        except RuntimeError:
            return "raised"
        return "ok"

    assert run(cr, AF) == run(torch, TF)
