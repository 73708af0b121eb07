"""chainrule.utils.gradflow.GradientFlow: per-layer statistics equal the ones computed by hand."""

import math
import sys

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.utils.gradflow import GradientFlow


def norm(*arrays):
    return math.sqrt(sum(float(np.sum(np.asarray(a, dtype=np.float64) ** 2)) for a in arrays))


def small_net(act=None):
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), act or nn.ReLU(), nn.Linear(4, 2))


def test_gradient_and_weight_norms_equal_hand_computed_norms():
    m = small_net()
    flow = GradientFlow(m)
    x = cr.randn(5, 3)
    loss = (m(x) ** 2).sum()
    loss.backward()
    rows = {r["layer"]: r for r in flow.rows()}
    for name in ("0", "2"):
        lin = m[int(name)]
        g = norm(lin.weight.grad.numpy(), lin.bias.grad.numpy())
        w = norm(lin.weight.detach().numpy(), lin.bias.detach().numpy())
        assert rows[name]["grad_norm"] == pytest.approx(g, rel=1e-6)
        assert rows[name]["weight_norm"] == pytest.approx(w, rel=1e-6)
        assert rows[name]["ratio"] == pytest.approx(g / w, rel=1e-6)
    flow.remove()


def test_activation_statistics_and_dead_units_by_hand():
    m = small_net()
    with cr.no_grad():
        m[0].bias[1] = -100.0  # unit 1 is dead for every input
    flow = GradientFlow(m)
    x = cr.randn(6, 3)
    m(x).sum().backward()
    h = np.maximum(m[0](x).detach().numpy().astype(np.float64), 0.0)
    row = {r["layer"]: r for r in flow.rows()}["1"]
    assert row["type"] == "ReLU"
    assert row["act_mean"] == pytest.approx(h.mean(), rel=1e-5)
    assert row["act_std"] == pytest.approx(h.std(), rel=1e-5)
    assert row["dead"] == pytest.approx(np.mean((h <= 0).all(axis=0)))
    assert row["dead"] >= 0.25
    flow.remove()


def test_saturation_of_sigmoid_and_tanh_by_hand():
    for act, test in (
        (nn.Sigmoid(), lambda y: (y < 0.02) | (y > 0.98)),
        (nn.Tanh(), lambda y: np.abs(y) > 0.98),
    ):
        m = small_net(act)
        with cr.no_grad():
            m[0].weight.mul_(8.0)
        flow = GradientFlow(m)
        x = cr.randn(32, 3)
        m(x).sum().backward()
        y = act(m[0](x)).detach().numpy()
        row = {r["layer"]: r for r in flow.rows()}["1"]
        assert row["saturated"] == pytest.approx(np.mean(test(y)))
        assert 0 < row["saturated"] < 1
        flow.remove()


def test_activation_gradient_norm_is_the_gradient_of_the_layer_output():
    m = small_net(nn.Tanh())
    flow = GradientFlow(m)
    x = cr.randn(4, 3)
    h = m[1](m[0](x))
    h.retain_grad()
    out = m[2](h)
    (out**2).sum().backward()
    # the same computation through the model
    m.zero_grad()
    (m(x) ** 2).sum().backward()
    row = {r["layer"]: r for r in flow.rows()}["1"]
    assert row["act_grad_norm"] == pytest.approx(norm(h.grad.numpy()), rel=1e-5)
    flow.remove()


def test_each_forward_starts_a_step_and_backward_calls_of_a_step_add_up():
    m = small_net()
    flow = GradientFlow(m)
    for _ in range(3):
        m.zero_grad()
        m(cr.randn(4, 3)).sum().backward()
    flow.step()
    assert len(flow.history) == 3
    # two backward calls through one forward (retain_graph) count as one step, with their sum
    m.zero_grad()
    y = m(cr.randn(4, 3)).sum()
    y.backward(retain_graph=True)
    y.backward()
    last = flow.latest()
    assert len(flow.history) == 4
    assert last["0"]["grad_norm"] == pytest.approx(
        norm(m[0].weight.grad.numpy(), m[0].bias.grad.numpy()), rel=1e-6
    )
    flow.remove()


def test_remove_detaches_every_hook():
    m = small_net()
    flow = GradientFlow(m)
    m(cr.randn(2, 3)).sum().backward()
    flow.remove()
    n = len(flow.history)
    for _ in range(2):
        m(cr.randn(2, 3)).sum().backward()
    flow.step()
    assert len(flow.history) == n == 1


def test_table_lists_layers_in_forward_order():
    m = small_net()
    flow = GradientFlow(m)
    F.mse_loss(m(cr.randn(4, 3)), cr.zeros(4, 2)).backward()
    text = flow.table()
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["layer", "type", "grad_norm", "weight_norm"]
    assert [ln.split()[0] for ln in lines[2:]] == ["0", "1", "2"]
    assert "ReLU" in lines[3]
    flow.remove()


def _deep(act, n=20, init=None, width=16):
    cr.manual_seed(0)
    layers = []
    for _ in range(n):
        lin = nn.Linear(width, width)
        if init:
            init(lin.weight)
        layers += [lin, act()]
    return nn.Sequential(*layers, nn.Linear(width, 3))


def test_summary_names_vanishing_gradients_of_a_deep_sigmoid_net():
    m = _deep(nn.Sigmoid)
    flow = GradientFlow(m)
    F.cross_entropy(m(cr.randn(16, 16)), cr.tensor([0, 1, 2, 0] * 4)).backward()
    verdict = flow.summary()
    assert verdict.startswith("vanishing: first-layer gradient")
    first, last = flow.rows()[0]["grad_norm"], flow.rows()[-1]["grad_norm"]
    assert f"{first / last:.0e}" in verdict
    flow.remove()


def test_summary_healthy_for_a_shallow_net_and_exploding_for_nan():
    m = small_net()
    flow = GradientFlow(m)
    F.mse_loss(m(cr.randn(8, 3)), cr.zeros(8, 2)).backward()
    assert flow.summary().startswith("healthy")
    m.zero_grad()
    (m(cr.randn(8, 3)) * float("inf")).sum().backward()
    assert flow.summary().startswith("exploding")
    flow.remove()


def test_watching_named_layers_only_and_unknown_names():
    m = small_net()
    flow = GradientFlow(m, layers=["2"])
    m(cr.randn(2, 3)).sum().backward()
    assert [r["layer"] for r in flow.rows()] == ["2"]
    flow.remove()
    with pytest.raises(ValueError, match="no module named"):
        GradientFlow(m, layers=["nope"])


def test_plot_writes_a_file_when_matplotlib_is_installed(tmp_path):
    pytest.importorskip("matplotlib")
    m = small_net()
    flow = GradientFlow(m)
    for _ in range(3):
        m(cr.randn(4, 3)).sum().backward()
    path = flow.plot(str(tmp_path / "flow.png"))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    flow.remove()


def test_plot_without_matplotlib_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    m = small_net()
    flow = GradientFlow(m)
    m(cr.randn(4, 3)).sum().backward()
    with pytest.raises(RuntimeError, match="pip install matplotlib"):
        flow.plot(str(tmp_path / "flow.png"))
    flow.remove()


def test_norms_match_pytorch_gradients(torch):
    m = small_net(nn.Tanh())
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    with torch.no_grad():
        for (_, p), (_, q) in zip(m.named_parameters(), tm.named_parameters()):
            q.copy_(torch.tensor(p.detach().numpy().astype(np.float64)))
    flow = GradientFlow(m)
    x = np.random.default_rng(0).standard_normal((5, 3))
    (m(cr.tensor(x.astype(np.float32))) ** 2).sum().backward()
    (tm(torch.tensor(x)) ** 2).sum().backward()
    rows = {r["layer"]: r for r in flow.rows()}
    for name in ("0", "2"):
        tl = tm[int(name)]
        expect = math.sqrt(float(tl.weight.grad.norm() ** 2 + tl.bias.grad.norm() ** 2))
        assert rows[name]["grad_norm"] == pytest.approx(expect, rel=1e-4)
    flow.remove()
