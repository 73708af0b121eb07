"""linalg.svd / svdvals: factors that rebuild A, PyTorch's shapes and ordering, and gradients of
sign-independent functions of the factors (finite differences in float64, then PyTorch)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck

rng = np.random.default_rng(3)
SHAPES = [(4, 4), (5, 3), (3, 5), (2, 4, 3)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("full", [True, False])
def test_factors_rebuild_the_matrix_and_are_orthonormal(shape, full):
    a = rng.standard_normal(shape)
    U, S, Vh = cr.linalg.svd(cr.tensor(a), full_matrices=full)
    m, n = shape[-2:]
    k = min(m, n)
    assert tuple(U.shape) == shape[:-2] + ((m, m) if full else (m, k))
    assert tuple(Vh.shape) == shape[:-2] + ((n, n) if full else (k, n))
    assert tuple(S.shape) == shape[:-2] + (k,)
    u, s, vh = U.numpy(), S.numpy(), Vh.numpy()
    np.testing.assert_allclose((u[..., :, :k] * s[..., None, :]) @ vh[..., :k, :], a, atol=1e-10)
    np.testing.assert_allclose(
        np.swapaxes(u, -1, -2) @ u,
        np.broadcast_to(np.eye(u.shape[-1]), u.shape[:-2] + (u.shape[-1],) * 2),
        atol=1e-10,
    )
    assert np.all(np.diff(s, axis=-1) <= 0) and np.all(s >= 0)
    np.testing.assert_allclose(cr.linalg.svdvals(cr.tensor(a)).numpy(), np.linalg.svd(a, compute_uv=False))
    assert U.dtype == cr.float64 and type(cr.linalg.svd(cr.tensor(a))).__name__ == "linalg_svd"


def _invariants(A):
    """Functions of the factors that do not depend on the sign of each singular pair."""
    U, S, Vh = cr.linalg.svd(A, full_matrices=False)
    return S, U[..., :, :1] @ Vh[..., :1, :] * 2.0, (U * S.unsqueeze(-2)) @ U.mT, Vh.mT @ Vh[..., :, :2]


@pytest.mark.parametrize("shape", SHAPES)
def test_gradcheck(shape):
    a = cr.tensor(rng.standard_normal(shape), requires_grad=True)
    for i in range(4):
        assert gradcheck(lambda x, i=i: _invariants(x)[i], (a,), eps=1e-6, atol=1e-5)


def test_singular_values_only_and_errors():
    a = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    cr.linalg.svdvals(a).sum().backward()
    U, S, Vh = np.linalg.svd(a.detach().numpy(), full_matrices=False)
    np.testing.assert_allclose(a.grad.numpy(), U @ Vh, atol=1e-12)  # d sum(S) / dA = U V^T
    with pytest.raises(ValueError):
        cr.linalg.svd(cr.ones(3))
    with pytest.raises(TypeError):
        cr.linalg.svd(cr.ones(2, 2, dtype=cr.int64))


@pytest.mark.parametrize("shape", SHAPES)
def test_against_torch(torch, shape):
    a = rng.standard_normal(shape)
    w = [rng.standard_normal(t.shape) for t in _invariants(cr.tensor(a))]
    grads, values = {}, {}
    for lib in (cr, torch):
        x = lib.tensor(a, requires_grad=True)
        U, S, Vh = lib.linalg.svd(x, full_matrices=False)
        outs = (S, U[..., :, :1] @ Vh[..., :1, :] * 2.0, (U * S.unsqueeze(-2)) @ U.mT, Vh.mT @ Vh[..., :, :2])
        loss = sum((o * lib.tensor(wi)).sum() for o, wi in zip(outs, w))
        loss.backward()
        grads[lib.__name__], values[lib.__name__] = x.grad.numpy(), [o.detach().numpy() for o in outs]
    np.testing.assert_allclose(grads["chainrule"], grads["torch"], rtol=1e-7, atol=1e-9)
    for ours, theirs in zip(values["chainrule"], values["torch"]):
        np.testing.assert_allclose(ours, theirs, atol=1e-10)
