"""linalg.matrix_exp, linalg.householder_product and nn.utils.parametrizations.orthogonal:
values by hand (eigendecompositions, orthogonality), float64 gradchecks, and PyTorch."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck
from chainrule.nn.utils.parametrizations import orthogonal

rng = np.random.default_rng(11)


def test_matrix_exp_of_symmetric_and_skew_matrices():
    s = rng.standard_normal((4, 4))
    sym = (s + s.T) * 2.0  # large enough to need squaring steps
    w, v = np.linalg.eigh(sym)
    np.testing.assert_allclose(
        cr.linalg.matrix_exp(cr.tensor(sym)).numpy(), (v * np.exp(w)) @ v.T, rtol=1e-12
    )
    skew = s - s.T
    q = cr.linalg.matrix_exp(cr.tensor(skew)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-13)  # exp of skew is orthogonal
    assert cr.linalg.matrix_exp(cr.zeros(2, 3, 3, dtype=cr.float64)).tolist()[1] == np.eye(3).tolist()
    with pytest.raises(ValueError):
        cr.linalg.matrix_exp(cr.ones(2, 3))


def test_householder_product_reflectors():
    a, tau = rng.standard_normal((5, 3)), rng.random(3)
    q = np.eye(5)
    for i in range(3):
        v = np.zeros(5)
        v[i], v[i + 1 :] = 1.0, a[i + 1 :, i]
        q = q @ (np.eye(5) - tau[i] * np.outer(v, v))
    np.testing.assert_allclose(cr.linalg.householder_product(cr.tensor(a), cr.tensor(tau)).numpy(), q[:, :3])
    with pytest.raises(ValueError):
        cr.linalg.householder_product(cr.ones(2, 3), cr.ones(2))


def test_gradchecks():
    A = cr.tensor(rng.standard_normal((2, 3, 3)), requires_grad=True)
    assert gradcheck(cr.linalg.matrix_exp, (A,))
    B = cr.tensor(rng.standard_normal((3, 3)) * 3, requires_grad=True)
    assert gradcheck(cr.linalg.matrix_exp, (B,))
    a = cr.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t = cr.tensor(rng.random(2), requires_grad=True)
    assert gradcheck(cr.linalg.householder_product, (a, t))


@pytest.mark.parametrize(
    "shape,omap", [((4, 4), None), ((6, 3), None), ((3, 6), None), ((4, 4), "cayley"), ((5, 3), "matrix_exp")]
)
def test_weight_stays_orthogonal_while_training(shape, omap):
    m = cr.nn.Linear(shape[1], shape[0], dtype=cr.float64)
    w0 = m.weight.detach().numpy().copy()
    orthogonal(m, orthogonal_map=omap)
    W = m.weight.detach().numpy()
    tall = W if shape[0] >= shape[1] else W.T
    np.testing.assert_allclose(tall.T @ tall, np.eye(min(shape)), atol=1e-12)
    # the starting weight is the QR factor of the old one (R with a positive diagonal)
    q, r = np.linalg.qr(w0 if shape[0] >= shape[1] else w0.T)
    np.testing.assert_allclose(tall, q * np.sign(np.diag(r)), atol=1e-12)
    opt = cr.optim.SGD(m.parameters(), lr=0.1)
    x, y = cr.randn(8, shape[1], dtype=cr.float64), cr.randn(8, shape[0], dtype=cr.float64)
    for _ in range(5):
        opt.zero_grad()
        cr.nn.functional.mse_loss(m(x), y).backward()
        opt.step()
    W = m.weight.detach().numpy()
    tall = W if shape[0] >= shape[1] else W.T
    np.testing.assert_allclose(tall.T @ tall, np.eye(min(shape)), atol=1e-10)
    assert "parametrizations.weight.original" in dict(m.named_parameters())


def test_errors():
    with pytest.raises(ValueError, match="orthogonal_map"):
        orthogonal(cr.nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="matrix"):
        orthogonal(cr.nn.Linear(3, 3), name="bias")
    m = orthogonal(cr.nn.Linear(3, 3), use_trivialization=False)
    with pytest.raises(NotImplementedError):
        m.weight = cr.eye(3)


@pytest.mark.parametrize(
    "shape,omap,triv",
    [
        ((4, 4), None, True),
        ((6, 3), None, True),
        ((3, 6), None, True),
        ((4, 4), "cayley", True),
        ((5, 3), "matrix_exp", True),
        ((5, 3), "householder", False),
        ((3, 5), "householder", False),
    ],
)
def test_against_torch(torch, shape, omap, triv):
    w, g = rng.standard_normal(shape), rng.standard_normal(shape)
    ours, theirs = (
        cr.nn.Linear(shape[1], shape[0], dtype=cr.float64),
        torch.nn.Linear(shape[1], shape[0]).double(),
    )
    with cr.no_grad():
        ours.weight.copy_(cr.tensor(w))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
    orthogonal(ours, orthogonal_map=omap, use_trivialization=triv)
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map=omap, use_trivialization=triv)
    if triv:  # a wide or tall weight is completed with random columns: use PyTorch's
        ours.parametrizations.weight[0].base = cr.tensor(theirs.parametrizations.weight[0].base.numpy())
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), atol=1e-12)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    (ours.weight * cr.tensor(g)).sum().backward()
    (theirs.weight * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(
        ours.parametrizations.weight.original.grad.numpy(),
        theirs.parametrizations.weight.original.grad.numpy(),
        atol=1e-12,
    )
    a = rng.standard_normal((2, 4, 4))
    np.testing.assert_allclose(
        cr.linalg.matrix_exp(cr.tensor(a)).numpy(),
        torch.linalg.matrix_exp(torch.tensor(a)).numpy(),
        rtol=1e-12,
    )
