"""Layers built on chainrule.nn.functional and the random/indexing ops: Linear, activations,
losses, Dropout, Embedding, Residual."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from helpers import check_against_torch, gradcheck, rand, to_np


def _copy_params(cr_mod, torch_mod):
    for p, q in zip(cr_mod.state_dict().values(), torch_mod.state_dict().values()):
        nn.init._copy_(p, q.detach().numpy())


# ---- Linear ------------------------------------------------------------------------------------
def test_linear_forward_is_x_weight_t_plus_bias():
    lin = nn.Linear(3, 2).double()
    nn.init._copy_(lin.weight, np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]]))
    nn.init._copy_(lin.bias, np.array([0.5, -0.5]))
    assert to_np(lin(cr.tensor(np.array([[1.0, 1.0, 1.0]])))).tolist() == [[6.5, -0.5]]
    assert repr(lin) == "Linear(in_features=3, out_features=2, bias=True)"
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_gradcheck():
    lin = nn.Linear(3, 2).double()
    gradcheck(lambda x: lin(x), rand(4, 3))


def test_linear_weight_grad_is_contiguous_like_the_weight():
    # PyTorch's layout rule: the gradient of weight.T's product comes back in the weight's layout
    lin = nn.Linear(5, 3)
    lin(cr.randn(4, 5)).sum().backward()
    assert lin.weight.grad.is_contiguous() and lin.weight.grad.stride() == (5, 1)


@pytest.mark.parametrize("left", ["rows", "columns"])
@pytest.mark.parametrize("right", ["rows", "columns"])
def test_matmul_gradients_for_row_and_column_major_operands(left, right):
    def operand(t, layout):  # the same matrix, stored either way
        return t if layout == "rows" else t.t().contiguous().t()

    a, b = rand(4, 3, seed=1), rand(3, 5, seed=2)
    gradcheck(lambda p, q: operand(p, left) @ operand(q, right), a, b)
    x, y = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    xa, yb = operand(x, left), operand(y, right)
    seen = {}
    xa.register_hook(lambda g: seen.__setitem__("a", g.stride()))
    yb.register_hook(lambda g: seen.__setitem__("b", g.stride()))
    g = rand(4, 5, seed=3)
    (xa @ yb).backward(cr.tensor(g))
    np.testing.assert_allclose(to_np(x.grad), g @ b.T, atol=1e-12)
    np.testing.assert_allclose(to_np(y.grad), a.T @ g, atol=1e-12)
    assert seen == {"a": xa.stride(), "b": yb.stride()}  # each gradient in its operand's layout


def test_linear_rejects_wrong_feature_count():
    with pytest.raises(ValueError, match=r"in_features=3.*\(2, 4\)"):
        nn.Linear(3, 2)(cr.zeros(2, 4))


def test_linear_matches_torch_forward_and_grads(torch):
    c, t = nn.Linear(4, 3).double(), torch.nn.Linear(4, 3).double()
    _copy_params(c, t)
    x = rand(5, 4)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    c(xc).sum().backward()
    t(xt).sum().backward()
    np.testing.assert_allclose(to_np(xc.grad), xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(to_np(c.weight.grad), t.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(to_np(c.bias.grad), t.bias.grad.numpy(), atol=1e-12)


def test_mlp_state_dict_keys_and_repr_equal_pytorch(torch):
    def build(m):
        return m.Sequential(m.Linear(4, 8), m.BatchNorm1d(8), m.ReLU(), m.Dropout(0.1), m.Linear(8, 2))

    c, t = build(nn), build(torch.nn)
    assert list(c.state_dict()) == list(t.state_dict())
    assert repr(c) == repr(t)
    _copy_params(c, t)
    missing, unexpected = c.load_state_dict(
        {k: cr.tensor(v.numpy()).reshape(tuple(v.shape)) for k, v in t.state_dict().items()}
    )
    assert missing == [] and unexpected == []


# ---- activations -------------------------------------------------------------------------------
ACTIVATIONS = [
    ("ReLU", (), {}),
    ("LeakyReLU", (0.2,), {}),
    ("ELU", (0.7,), {}),
    ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}),
    ("SiLU", (), {}),
    ("Sigmoid", (), {}),
    ("Tanh", (), {}),
    ("Softplus", (2.0, 10.0), {}),
    ("Softmax", (1,), {}),
    ("LogSoftmax", (1,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", ACTIVATIONS)
def test_activation_modules_match_torch(torch, name, args, kwargs):
    c, t = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(c) == repr(t)
    check_against_torch(torch, c, t, rand(4, 5, low=-3, high=3), atol=1e-10)


def test_relu_module_closed_form():
    assert to_np(nn.ReLU()(cr.tensor([-1.0, 0.0, 2.0]))).tolist() == [0.0, 0.0, 2.0]


# ---- losses ------------------------------------------------------------------------------------
def test_mse_and_l1_loss_closed_form():
    x, y = cr.tensor([1.0, 2.0, 4.0]), cr.tensor([1.0, 0.0, 1.0])
    assert nn.MSELoss()(x, y).item() == pytest.approx(13 / 3)
    assert nn.L1Loss(reduction="sum")(x, y).item() == pytest.approx(5.0)
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_torch(torch, reduction):
    x, y = rand(4, 3, seed=1, low=-3, high=3), rand(4, 3, seed=2)
    for name, kw in [
        ("MSELoss", {}),
        ("L1Loss", {}),
        ("HuberLoss", {"delta": 0.5}),
        ("SmoothL1Loss", {"beta": 0.5}),
    ]:
        c, t = (
            getattr(nn, name)(reduction=reduction, **kw),
            getattr(torch.nn, name)(reduction=reduction, **kw),
        )
        check_against_torch(torch, c, t, x, y, atol=1e-10)


def test_cross_entropy_and_nll_match_torch(torch):
    logits = rand(5, 4, seed=3, low=-2, high=2)
    target = np.array([0, 3, 1, -100, 2])
    w = np.array([1.0, 2.0, 0.5, 1.5])
    for kw in [{}, {"label_smoothing": 0.1}, {"reduction": "sum"}]:
        c = nn.CrossEntropyLoss(weight=cr.tensor(w), **kw)
        t = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), **kw)
        check_against_torch(torch, c, t, logits, target, atol=1e-10)
    logp = np.log(np.exp(logits) / np.exp(logits).sum(1, keepdims=True))
    check_against_torch(torch, nn.NLLLoss(), torch.nn.NLLLoss(), logp, target, atol=1e-10)
    assert "weight" in nn.CrossEntropyLoss(weight=cr.tensor(w)).state_dict()


def test_bce_losses_match_torch(torch):
    p, y = rand(6, seed=4, low=0.05, high=0.95), (rand(6, seed=5) > 0).astype(np.float64)
    check_against_torch(torch, nn.BCELoss(), torch.nn.BCELoss(), p, y, atol=1e-10)
    pw = np.array([2.0] * 6)
    check_against_torch(
        torch,
        nn.BCEWithLogitsLoss(pos_weight=cr.tensor(pw)),
        torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw)),
        p * 4 - 2,
        y,
        atol=1e-10,
    )


# ---- Dropout -----------------------------------------------------------------------------------
def test_dropout_zeroes_about_p_and_scales_the_rest():
    cr.manual_seed(0)
    y = to_np(nn.Dropout(0.25)(cr.ones(100000)))
    kept = y != 0
    assert abs(1 - kept.mean() - 0.25) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.75)


def test_dropout_is_reproducible_under_manual_seed_and_identity_in_eval():
    d = nn.Dropout(0.5)
    cr.manual_seed(7)
    a = to_np(d(cr.ones(50)))
    cr.manual_seed(7)
    assert np.array_equal(a, to_np(d(cr.ones(50))))
    x = cr.ones(5)
    assert d.eval()(x) is x


def test_dropout_gradient_uses_the_same_mask():
    cr.manual_seed(1)
    x = cr.ones(1000, requires_grad=True)
    y = nn.Dropout(0.3)(x)
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), to_np(y))


# ---- Embedding ---------------------------------------------------------------------------------
def test_embedding_looks_up_rows_and_keeps_index_shape():
    emb = nn.Embedding(5, 3)
    idx = cr.tensor([[0, 4], [2, 2]])
    out = emb(idx)
    assert tuple(out.shape) == (2, 2, 3)
    np.testing.assert_array_equal(to_np(out)[1, 0], to_np(emb.weight)[2])
    assert repr(emb) == "Embedding(5, 3)"


def test_embedding_padding_row_is_zero_and_gets_no_gradient():
    emb = nn.Embedding(4, 2, padding_idx=1)
    assert to_np(emb.weight)[1].tolist() == [0.0, 0.0]
    emb(cr.tensor([1, 2, 1, 2])).sum().backward()
    g = to_np(emb.weight.grad)
    assert g[1].tolist() == [0.0, 0.0] and g[2].tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="Padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)


def test_embedding_init_is_standard_normal():
    cr.manual_seed(3)
    w = to_np(nn.Embedding(1000, 100).weight)
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01


# ---- Residual ----------------------------------------------------------------------------------
def test_residual_adds_input_to_fn_output():
    r = nn.Residual(nn.LayerNorm(2, elementwise_affine=False))
    out = to_np(r(cr.tensor([[1.0, 3.0]])))
    np.testing.assert_allclose(out, [[0.0, 4.0]], atol=1e-4)
    assert isinstance(r.fn, nn.LayerNorm) and r.projection is None


def test_residual_projection_maps_input_when_shapes_differ():
    r = nn.Residual(nn.Linear(3, 5), in_features=3, out_features=5)
    assert isinstance(r.projection, nn.Linear) and r.projection.bias is None
    x = cr.tensor(rand(2, 3, dtype=np.float32))
    np.testing.assert_allclose(to_np(r(x)), to_np(r.fn(x)) + to_np(r.projection(x)), rtol=1e-6)
    assert list(r.state_dict()) == ["fn.weight", "fn.bias", "projection.weight"]
    explicit = nn.Residual(nn.Linear(3, 5), projection=nn.Linear(3, 5, bias=False))
    assert tuple(explicit(x).shape) == (2, 5)


def test_residual_shape_mismatch_without_projection_raises():
    with pytest.raises(ValueError, match=r"\(2, 3\) to \(2, 5\).*projection"):
        nn.Residual(nn.Linear(3, 5))(cr.zeros(2, 3))
