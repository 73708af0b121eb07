"""nn.utils.parametrize, parametrizations.weight_norm / spectral_norm, and the older hook-based
nn.utils.weight_norm / spectral_norm: keys, values, gradients, power-iteration buffers, removal."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.utils import parametrizations as PZ
from chainrule.nn.utils import parametrize as P
from helpers import gradcheck, rand, to_np

TIGHT = {"atol": 1e-12, "rtol": 1e-10}


class Double(nn.Module):
    def forward(self, x):
        return x * 2.0

    def right_inverse(self, x):
        return x / 2.0


class AddOne(nn.Module):
    def forward(self, x):
        return x + 1.0


class SplitSum(nn.Module):
    """A parametrization by two tensors: weight = a + b, right_inverse splits in halves."""

    def forward(self, a, b):
        return a + b

    def right_inverse(self, w):
        return w * 0.5, w * 0.5


def _linear(seed=0):
    m = nn.Linear(3, 4).double()
    nn.init._copy_(m.weight, rand(4, 3, seed=seed))
    nn.init._copy_(m.bias, rand(4, seed=seed + 1))
    return m


# ---- register_parametrization -------------------------------------------------------------------------
def test_register_parametrization_moves_the_parameter_and_computes_on_access():
    m = _linear()
    w0 = to_np(m.weight).copy()
    P.register_parametrization(m, "weight", Double())
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, nn.Linear)
    assert P.type_before_parametrizations(m) is nn.Linear
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight") and not P.is_parametrized(m, "bias")
    # right_inverse ran at registration: original = w0 / 2, so weight == w0
    np.testing.assert_allclose(to_np(m.parametrizations.weight.original), w0 / 2)
    np.testing.assert_allclose(to_np(m.weight), w0)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [k for k, _ in m.named_parameters()] == ["bias", "parametrizations.weight.original"]
    x = cr.tensor(rand(2, 3, seed=5))
    m(x).sum().backward()
    np.testing.assert_allclose(
        to_np(m.parametrizations.weight.original.grad), 2 * np.tile(to_np(x).sum(0), (4, 1))
    )
    # a second parametrization stacks after the first
    P.register_parametrization(m, "weight", AddOne())
    np.testing.assert_allclose(to_np(m.weight), w0 + 1)
    assert len(m.parametrizations.weight) == 2
    # parametrizing a module leaves other instances of the class alone
    assert type(nn.Linear(1, 1)) is nn.Linear


def test_assignment_goes_through_right_inverse():
    m = _linear()
    P.register_parametrization(m, "weight", Double())
    target = rand(4, 3, seed=7)
    m.weight = cr.tensor(target)
    np.testing.assert_allclose(to_np(m.parametrizations.weight.original), target / 2)
    np.testing.assert_allclose(to_np(m.weight), target)
    with pytest.raises(KeyError, match="already exists"):
        m.weight = nn.Parameter(cr.tensor(target))  # as in PyTorch
    P.register_parametrization(m, "weight", AddOne())
    with pytest.raises(RuntimeError, match="right_inverse"):
        m.weight = cr.tensor(target)


def test_parametrization_by_several_tensors_and_removal():
    m = _linear()
    w0 = to_np(m.weight).copy()
    P.register_parametrization(m, "weight", SplitSum())
    plist = m.parametrizations.weight
    assert not plist.is_tensor and plist.ntensors == 2
    assert list(m.state_dict()) == [
        "bias",
        "parametrizations.weight.original0",
        "parametrizations.weight.original1",
    ]
    np.testing.assert_allclose(to_np(m.weight), w0)
    with pytest.raises(ValueError, match="sequence of tensors"):
        P.remove_parametrizations(m, "weight", leave_parametrized=False)
    P.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and not P.is_parametrized(m) and "parametrizations" not in m._modules
    assert isinstance(m.weight, nn.Parameter) and m.weight.is_leaf
    np.testing.assert_allclose(to_np(m.weight), w0)
    assert list(m.state_dict()) == ["bias", "weight"]


def test_remove_keeps_the_original_parameter_object():
    m = _linear()
    w = m.weight
    P.register_parametrization(m, "weight", Double())
    assert m.parametrizations.weight.original is w
    P.remove_parametrizations(m, "weight", leave_parametrized=False)
    assert m.weight is w  # the original, holding weight / 2
    m2 = _linear()
    w2 = m2.weight
    target = to_np(w2).copy()
    P.register_parametrization(m2, "weight", AddOne())
    P.remove_parametrizations(m2, "weight")  # leave_parametrized: the original takes weight + 1
    assert m2.weight is w2
    np.testing.assert_allclose(to_np(w2), target + 1)


def test_parametrizing_a_buffer():
    m = nn.BatchNorm1d(3).double()
    P.register_parametrization(m, "running_var", Double(), unsafe=True)
    assert "parametrizations.running_var.original" in m.state_dict()
    assert to_np(m.running_var).tolist() == [1.0, 1.0, 1.0]
    assert not m.parametrizations.running_var.original.requires_grad


def test_cached_computes_once():
    calls = []

    class Counting(nn.Module):
        def forward(self, x):
            calls.append(1)
            return x * 1.0

    m = _linear()
    P.register_parametrization(m, "weight", Counting())
    calls.clear()
    with P.cached():
        a, b = m.weight, m.weight
        with P.cached():
            c = m.weight
    assert a is b is c and len(calls) == 1
    _ = m.weight
    assert len(calls) == 2  # the cache is dropped on leaving


def test_registration_errors():
    m = _linear()
    with pytest.raises(ValueError, match="does not have a parameter"):
        P.register_parametrization(m, "nope", Double())

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:1]

    with pytest.raises(ValueError, match="shape"):
        P.register_parametrization(m, "weight", Shrink())
    assert not P.is_parametrized(m) and type(m) is nn.Linear  # nothing changed
    P.register_parametrization(m, "weight", Shrink(), unsafe=True)
    assert m.weight.shape == (1, 3)
    with pytest.raises(ValueError, match="does not have a parametrization"):
        P.remove_parametrizations(m, "bias")


def test_deepcopy_and_pickling():
    m = _linear()
    P.register_parametrization(m, "weight", Double())
    c = copy.deepcopy(m)
    assert type(c).__name__ == "ParametrizedLinear"
    np.testing.assert_allclose(to_np(c.weight), to_np(m.weight))
    assert c.parametrizations.weight.original is not m.parametrizations.weight.original
    with pytest.raises(RuntimeError, match="state_dict"):
        pickle.dumps(m)


def test_transfer_parametrizations_and_params():
    a = _linear()
    P.register_parametrization(a, "weight", Double())
    b = nn.Linear(3, 4).double()
    P.transfer_parametrizations_and_params(a, b)
    assert b.parametrizations.weight.original is a.parametrizations.weight.original
    np.testing.assert_allclose(to_np(b.weight), to_np(a.weight))


def test_parametrize_matches_torch(torch):
    class TDouble(torch.nn.Module):
        def forward(self, x):
            return x * 2.0

        def right_inverse(self, x):
            return x / 2.0

    c, t = _linear(), torch.nn.Linear(3, 4).double()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(to_np(c.weight)))
        t.bias.copy_(torch.tensor(to_np(c.bias)))
    P.register_parametrization(c, "weight", Double())
    torch.nn.utils.parametrize.register_parametrization(t, "weight", TDouble())
    assert list(c.state_dict()) == list(t.state_dict())
    assert repr(c).replace("Double", "X") == repr(t).replace("TDouble", "X")
    np.testing.assert_allclose(
        to_np(c.parametrizations.weight.original), t.parametrizations.weight.original.detach().numpy()
    )


# ---- weight_norm (parametrization) --------------------------------------------------------------------
def _copy_state(ours, theirs):
    own = ours.state_dict()
    assert list(own) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        nn.init._copy_(own[k], v.detach().numpy())


@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_weight_norm_matches_torch(torch, dim):
    c, t = _linear(), torch.nn.Linear(3, 4).double()
    PZ.weight_norm(c, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(t, dim=dim)
    assert list(c.state_dict()) == list(t.state_dict())
    assert repr(c) == repr(t)
    _copy_state(c, t)
    g = c.parametrizations.weight.original0
    assert g.shape == tuple(t.parametrizations.weight.original0.shape)
    x = rand(5, 3, seed=3)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = c(xc), t(xt)
    np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), **TIGHT)
    (yc * yc).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(to_np(xc.grad), xt.grad.numpy(), **TIGHT)
    for (k, p), (_, q) in zip(c.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(to_np(p.grad), q.grad.numpy(), err_msg=k, **TIGHT)


def test_weight_norm_initial_split_matches_torch(torch):
    c = _linear()
    t = torch.nn.Linear(3, 4).double()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(to_np(c.weight)))
    PZ.weight_norm(c)
    torch.nn.utils.parametrizations.weight_norm(t)
    for k in ("parametrizations.weight.original0", "parametrizations.weight.original1"):
        np.testing.assert_allclose(to_np(c.state_dict()[k]), t.state_dict()[k].numpy(), **TIGHT)


def test_weight_norm_values_and_gradcheck_without_torch():
    m = _linear()
    w0 = to_np(m.weight).copy()
    PZ.weight_norm(m)
    g, v = m.parametrizations.weight.original0, m.parametrizations.weight.original1
    np.testing.assert_allclose(to_np(g), np.linalg.norm(w0, axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(to_np(v), w0)
    np.testing.assert_allclose(to_np(m.weight), w0, rtol=1e-12)
    wn = PZ._WeightNorm(1)
    gradcheck(lambda gg, vv: wn(gg, vv), rand(1, 3, seed=8, low=0.5, high=2), rand(4, 3, seed=9))
    # training moves g and v
    opt = cr.optim.SGD(m.parameters(), lr=0.1)
    m(cr.tensor(rand(2, 3, seed=10))).sum().backward()
    opt.step()
    assert not np.allclose(
        to_np(m.parametrizations.weight.original0), np.linalg.norm(w0, axis=1, keepdims=True)
    )


def test_weight_norm_loads_hook_style_state_dict():
    old = _linear(seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nn.utils.weight_norm(old)
    new = PZ.weight_norm(_linear())
    assert list(old.state_dict()) == ["bias", "weight_g", "weight_v"]
    new.load_state_dict(old.state_dict())
    np.testing.assert_allclose(
        to_np(new.weight),
        to_np(old.weight_v)
        * to_np(old.weight_g)
        / np.linalg.norm(to_np(old.weight_v), axis=1, keepdims=True),
    )
    seq = nn.Sequential(PZ.weight_norm(_linear()))
    seq.load_state_dict({"0." + k: v for k, v in old.state_dict().items()})  # prefixes reach nested modules
    np.testing.assert_allclose(to_np(seq[0].parametrizations.weight.original1), to_np(old.weight_v))


# ---- spectral_norm (parametrization) ------------------------------------------------------------------
def _spectral_pair(torch, build, tbuild, **kw):
    c, t = build(), tbuild()
    _copy_state(c, t)
    PZ.spectral_norm(c, **kw)
    torch.nn.utils.parametrizations.spectral_norm(t, **kw)
    assert list(c.state_dict()) == list(t.state_dict())
    assert repr(c) == repr(t)
    _copy_state(c, t)  # same weight and the same (random) u, v
    return c, t


@pytest.mark.parametrize(
    "kw", [{}, {"n_power_iterations": 3}, {"dim": 1, "eps": 1e-6}, {"n_power_iterations": 2, "dim": -1}]
)
def test_spectral_norm_matches_torch_over_training_steps(torch, kw):
    c, t = _spectral_pair(
        torch, lambda: nn.Bilinear(3, 4, 2).double(), lambda: torch.nn.Bilinear(3, 4, 2).double(), **kw
    )
    for step in range(3):
        a, b = rand(5, 3, seed=20 + step), rand(5, 4, seed=30 + step)
        ac, bc = cr.tensor(a, requires_grad=True), cr.tensor(b)
        at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b)
        yc, yt = c(ac, bc), t(at, bt)
        np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), **TIGHT)
        (yc * yc).sum().backward()
        (yt * yt).sum().backward()
        np.testing.assert_allclose(to_np(ac.grad), at.grad.numpy(), **TIGHT)
        for k, v in t.state_dict().items():  # u and v updated alike (training mode)
            np.testing.assert_allclose(to_np(c.state_dict()[k]), v.numpy(), err_msg=k, **TIGHT)
        pc, pt = c.parametrizations.weight.original, t.parametrizations.weight.original
        np.testing.assert_allclose(to_np(pc.grad), pt.grad.numpy(), **TIGHT)


def test_spectral_norm_eval_matches_torch_and_freezes_buffers(torch):
    c, t = _spectral_pair(torch, lambda: nn.Linear(5, 3).double(), lambda: torch.nn.Linear(5, 3).double())
    c.eval()
    t.eval()
    u_before = to_np(c.parametrizations.weight[0]._u).copy()
    x = rand(2, 5, seed=40)
    np.testing.assert_allclose(to_np(c(cr.tensor(x))), t(torch.tensor(x)).detach().numpy(), **TIGHT)
    np.testing.assert_array_equal(to_np(c.parametrizations.weight[0]._u), u_before)


def test_spectral_norm_without_torch():
    cr.manual_seed(0)
    m = nn.Linear(6, 4).double()
    PZ.spectral_norm(m, n_power_iterations=30)
    w = to_np(m.parametrizations.weight.original)
    for _ in range(3):
        m(cr.tensor(rand(1, 6, seed=1)))  # training mode: the iteration converges
    sigma = np.linalg.svd(w, compute_uv=False)[0]
    np.testing.assert_allclose(np.linalg.svd(to_np(m.weight), compute_uv=False)[0], 1.0, rtol=1e-8)
    np.testing.assert_allclose(to_np(m.weight), w / sigma, rtol=1e-8)
    sn = m.parametrizations.weight[0]
    np.testing.assert_allclose(np.linalg.norm(to_np(sn._u)), 1.0, rtol=1e-12)
    m.eval()
    u = to_np(sn._u).copy()
    gradcheck(lambda weight: sn(weight), w)  # eval: u, v fixed, a smooth function of the weight
    np.testing.assert_array_equal(to_np(sn._u), u)
    with pytest.raises(ValueError, match="n_power_iterations"):
        PZ.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError):
        PZ.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="no parameter or buffer"):
        PZ.spectral_norm(nn.Linear(2, 2), name="nope")


def test_spectral_norm_of_a_vector_normalizes_it():
    m = nn.Module()
    m.v = nn.Parameter(cr.tensor(np.array([3.0, 4.0])))
    PZ.spectral_norm(m, "v")
    np.testing.assert_allclose(to_np(m.v), [0.6, 0.8])
    assert list(m.state_dict()) == ["parametrizations.v.original"]


# ---- the hook-based forms -----------------------------------------------------------------------------
def test_hook_weight_norm_matches_torch(torch):
    c, t = _linear(), torch.nn.Linear(3, 4).double()
    _copy_state(c, t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nn.utils.weight_norm(c, dim=1)
        torch.nn.utils.weight_norm(t, dim=1)
    assert list(c.state_dict()) == list(t.state_dict()) == ["bias", "weight_g", "weight_v"]
    _copy_state(c, t)
    x = rand(3, 3, seed=50)
    yc, yt = c(cr.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), **TIGHT)
    yc.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(to_np(c.weight_g.grad), t.weight_g.grad.numpy(), **TIGHT)
    np.testing.assert_allclose(to_np(c.weight_v.grad), t.weight_v.grad.numpy(), **TIGHT)
    nn.utils.remove_weight_norm(c)
    torch.nn.utils.remove_weight_norm(t)
    assert list(c.state_dict()) == list(t.state_dict())
    np.testing.assert_allclose(to_np(c.weight), t.weight.detach().numpy(), **TIGHT)


def test_hook_spectral_norm_matches_torch(torch):
    c, t = nn.Linear(4, 3).double(), torch.nn.Linear(4, 3).double()
    _copy_state(c, t)
    nn.utils.spectral_norm(c)
    torch.nn.utils.spectral_norm(t)
    assert list(c.state_dict()) == list(t.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    _copy_state(c, t)
    for step in range(2):
        x = rand(2, 4, seed=60 + step)
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yc, yt = c(xc), t(xt)
        np.testing.assert_allclose(to_np(yc), yt.detach().numpy(), **TIGHT)
        (yc * yc).sum().backward()
        (yt * yt).sum().backward()
        np.testing.assert_allclose(to_np(c.weight_orig.grad), t.weight_orig.grad.numpy(), **TIGHT)
        for k, v in t.state_dict().items():
            np.testing.assert_allclose(to_np(c.state_dict()[k]), v.numpy(), err_msg=k, **TIGHT)
    c.eval()
    t.eval()
    x = rand(2, 4, seed=70)
    np.testing.assert_allclose(to_np(c(cr.tensor(x))), t(torch.tensor(x)).detach().numpy(), **TIGHT)
    nn.utils.remove_spectral_norm(c)
    torch.nn.utils.remove_spectral_norm(t)
    np.testing.assert_allclose(to_np(c.weight), t.weight.detach().numpy(), **TIGHT)


def test_hook_forms_without_torch():
    m = _linear()
    w0 = to_np(m.weight).copy()
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(m)
    np.testing.assert_allclose(to_np(m.weight), w0, rtol=1e-12)
    with pytest.raises(RuntimeError, match="two weight_norm hooks"), pytest.warns(FutureWarning):
        nn.utils.weight_norm(m)
    nn.utils.remove_weight_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    with pytest.raises(ValueError, match="not found"):
        nn.utils.remove_weight_norm(m)
    s = nn.utils.spectral_norm(_linear(), n_power_iterations=50)
    s(cr.tensor(rand(1, 3, seed=2)))
    np.testing.assert_allclose(np.linalg.svd(to_np(s.weight), compute_uv=False)[0], 1.0, rtol=1e-8)
    nn.utils.remove_spectral_norm(s)
    assert list(s.state_dict()) == ["bias", "weight"]
