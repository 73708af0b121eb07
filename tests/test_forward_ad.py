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
