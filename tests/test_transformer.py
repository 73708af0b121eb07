"""nn.MultiheadAttention, F.multi_head_attention_forward and the Transformer layers: parameter
layouts and state_dict keys, values against NumPy, gradchecks, masks, errors, then against PyTorch
with the same weights (PyTorch's state_dict loaded into ours)."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck

rng = np.random.default_rng(3)


def _t(*shape, grad=False):
    return cr.tensor(rng.standard_normal(shape), requires_grad=grad)


def _np(t):
    return t.detach().numpy()


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _mha_reference(m, q, k, v, add_mask=None):
    """Multi-head attention in NumPy from the module's parameters; inputs (L, N, E)."""
    E, H = m.embed_dim, m.num_heads
    d = E // H
    w = _np(m.in_proj_weight)
    b = _np(m.in_proj_bias)
    qp, kp, vp = (x @ w[i * E : (i + 1) * E].T + b[i * E : (i + 1) * E] for i, x in enumerate((q, k, v)))

    def heads(x):  # (L, N, E) -> (N, H, L, d)
        return x.reshape(x.shape[0], x.shape[1], H, d).transpose(1, 2, 0, 3)

    scores = heads(qp) @ heads(kp).transpose(0, 1, 3, 2) / math.sqrt(d)
    if add_mask is not None:
        scores = scores + add_mask
    w_att = _softmax(scores)
    out = (w_att @ heads(vp)).transpose(2, 0, 1, 3).reshape(q.shape[0], q.shape[1], E)
    out = out @ _np(m.out_proj.weight).T + _np(m.out_proj.bias)
    return out, w_att


def _double(m):
    return m.double()


# ---- MultiheadAttention without PyTorch ---------------------------------------------------------------
def test_mha_parameter_layout_and_state_dict_keys():
    m = nn.MultiheadAttention(8, 2)
    assert tuple(m.in_proj_weight.shape) == (24, 8) and tuple(m.in_proj_bias.shape) == (24,)
    assert m.q_proj_weight is None and m.head_dim == 4
    assert list(m.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert np.all(_np(m.in_proj_bias) == 0) and np.all(_np(m.out_proj.bias) == 0)
    m = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, bias=False, add_bias_kv=True)
    assert list(m.state_dict()) == [
        "q_proj_weight",
        "k_proj_weight",
        "v_proj_weight",
        "bias_k",
        "bias_v",
        "out_proj.weight",
    ]
    assert tuple(m.k_proj_weight.shape) == (8, 5) and tuple(m.v_proj_weight.shape) == (8, 3)
    assert m.in_proj_weight is None and m.in_proj_bias is None and m.out_proj.bias is None
    assert tuple(m.bias_k.shape) == (1, 1, 8)


def test_mha_matches_numpy_and_weights():
    m = _double(nn.MultiheadAttention(8, 2))
    q, k, v = (rng.standard_normal(s) for s in ((4, 3, 8), (6, 3, 8), (6, 3, 8)))
    mask = rng.standard_normal((4, 6))
    out, w = m(cr.tensor(q), cr.tensor(k), cr.tensor(v), attn_mask=cr.tensor(mask))
    ref, ref_w = _mha_reference(m, q, k, v, mask)
    np.testing.assert_allclose(_np(out), ref, rtol=1e-10, atol=1e-12)
    assert tuple(w.shape) == (3, 4, 6)
    np.testing.assert_allclose(_np(w), ref_w.mean(1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(w).sum(-1), 1.0, rtol=1e-12)
    out2, w2 = m(cr.tensor(q), cr.tensor(k), cr.tensor(v), attn_mask=cr.tensor(mask), need_weights=False)
    assert w2 is None
    np.testing.assert_allclose(_np(out2), ref, rtol=1e-10, atol=1e-12)
    _, w_heads = m(cr.tensor(q), cr.tensor(k), cr.tensor(v), average_attn_weights=False)
    assert tuple(w_heads.shape) == (3, 2, 4, 6)


def test_mha_masks_bool_float_padding_and_causal_agree():
    m = _double(nn.MultiheadAttention(8, 4))
    x = _t(5, 2, 8)
    causal_bool = cr.tensor(np.triu(np.ones((5, 5), dtype=bool), 1))  # True = masked out
    causal_float = nn.Transformer.generate_square_subsequent_mask(5, dtype=cr.float64)
    a = m(x, x, x, attn_mask=causal_bool, need_weights=False)[0]
    b = m(x, x, x, attn_mask=causal_float, need_weights=False)[0]
    c = m(x, x, x, attn_mask=causal_float, need_weights=False, is_causal=True)[0]
    d = m(x, x, x, attn_mask=causal_float)[0]
    for other in (b, c, d):
        np.testing.assert_allclose(_np(a), _np(other), rtol=1e-10, atol=1e-12)
    pad = np.array([[False] * 5, [False, False, False, True, True]])
    add = np.where(pad, -np.inf, 0.0)[:, None, None, :]  # (N, 1, 1, S)
    ref, _ = _mha_reference(m, _np(x), _np(x), _np(x), add)
    for need in (True, False):
        out = m(x, x, x, key_padding_mask=cr.tensor(pad), need_weights=need)[0]
        np.testing.assert_allclose(_np(out), ref, rtol=1e-10, atol=1e-12)


def test_mha_batch_first_and_unbatched():
    m = _double(nn.MultiheadAttention(6, 3))
    mb = _double(nn.MultiheadAttention(6, 3, batch_first=True))
    mb.load_state_dict(m.state_dict())
    x = _t(4, 2, 6)
    out = m(x, x, x)[0]
    out_b = mb(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1))[0]
    np.testing.assert_allclose(_np(out_b), _np(out).transpose(1, 0, 2), rtol=1e-12)
    single = m(x[:, 0], x[:, 0], x[:, 0])
    assert tuple(single[0].shape) == (4, 6) and tuple(single[1].shape) == (4, 4)
    np.testing.assert_allclose(_np(single[0]), _np(out)[:, 0], rtol=1e-10, atol=1e-12)


def test_mha_gradcheck():
    m = _double(nn.MultiheadAttention(4, 2, kdim=3, vdim=5))
    q, k, v = _t(3, 2, 4, grad=True), _t(4, 2, 3, grad=True), _t(4, 2, 5, grad=True)
    pad = cr.tensor(np.array([[False, False, True, False], [False] * 4]))
    for need in (True, False):
        assert gradcheck(
            lambda a, b, c, n=need: m(a, b, c, key_padding_mask=pad, need_weights=n)[0], (q, k, v)
        )
    q.requires_grad_(False)
    params = (m.q_proj_weight, m.in_proj_bias, m.out_proj.weight)
    assert gradcheck(lambda *ps: m(q, k, v, need_weights=False)[0], params)


def test_mha_dropout_training_and_eval():
    m = _double(nn.MultiheadAttention(8, 2, dropout=0.5))
    x = _t(6, 2, 8)
    cr.manual_seed(1)
    a = m(x, x, x, need_weights=False)[0]
    cr.manual_seed(1)
    b = m(x, x, x, need_weights=False)[0]
    np.testing.assert_array_equal(_np(a), _np(b))
    m.eval()
    e1, e2 = m(x, x, x)[0], m(x, x, x, need_weights=False)[0]
    np.testing.assert_allclose(_np(e1), _np(e2), rtol=1e-10, atol=1e-12)
    assert not np.allclose(_np(a), _np(e1))


def test_functional_multi_head_attention_forward():
    m = _double(nn.MultiheadAttention(8, 2))
    x = _t(3, 2, 8)
    out, w = F.multi_head_attention_forward(
        x,
        x,
        x,
        8,
        2,
        m.in_proj_weight,
        m.in_proj_bias,
        None,
        None,
        False,
        0.0,
        m.out_proj.weight,
        m.out_proj.bias,
    )
    ref, ref_w = _mha_reference(m, _np(x), _np(x), _np(x))
    np.testing.assert_allclose(_np(out), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(w), ref_w.mean(1), rtol=1e-10, atol=1e-12)


def test_mha_errors():
    with pytest.raises(cr.ArgumentError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(cr.ArgumentError, match="greater than 0"):
        nn.MultiheadAttention(0, 2)
    m = nn.MultiheadAttention(8, 2)
    x = cr.randn(4, 2, 8)
    with pytest.raises(cr.ShapeError, match="MultiheadAttention: was expecting embedding dimension of 8"):
        m(cr.randn(4, 2, 6), x, x)
    with pytest.raises(cr.ShapeError, match="2D attn_mask"):
        m(x, x, x, attn_mask=cr.zeros(3, 4))
    with pytest.raises(cr.ShapeError, match="3D attn_mask"):
        m(x, x, x, attn_mask=cr.zeros(2, 4, 4))
    with pytest.raises(cr.DTypeError, match="only bool and floating"):
        m(x, x, x, attn_mask=cr.zeros(4, 4, dtype=cr.int64))
    with pytest.raises(cr.ShapeError, match="key_padding_mask"):
        m(x, x, x, key_padding_mask=cr.zeros(2, 5, dtype=cr.bool))
    with pytest.raises(cr.ShapeError, match="does not match value"):
        m(x, x, cr.randn(5, 2, 8))
    with pytest.raises(cr.ShapeError, match="batch"):
        m(x, cr.randn(4, 3, 8), cr.randn(4, 3, 8))
    with pytest.raises(cr.ShapeError, match="3-D"):
        m(x, cr.randn(4, 8), cr.randn(4, 8))
    with pytest.raises(cr.ArgumentError, match="is_causal"):
        m(x, x, x, is_causal=True)
    with pytest.raises(cr.DTypeError, match="Tensor"):
        m(np.ones((4, 2, 8)), x, x)


# ---- Transformer layers without PyTorch ---------------------------------------------------------------
def test_encoder_layer_submodules_and_forward():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    names = [n for n, _ in layer.named_children()]
    assert names == ["self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2"]
    x = cr.randn(5, 3, 8)
    y = layer(x)
    assert tuple(y.shape) == (5, 3, 8)
    # post-norm: every position is layer-normalized
    np.testing.assert_allclose(_np(y).mean(-1), 0.0, atol=1e-5)
    layer.double()
    xd = _t(5, 2, 8)
    ref = xd + layer.self_attn(xd, xd, xd, need_weights=False)[0]
    ref = layer.norm1(ref)
    ref = layer.norm2(ref + layer.linear2(F.relu(layer.linear1(ref))))
    np.testing.assert_allclose(_np(layer(xd)), _np(ref), rtol=1e-12)


def test_encoder_layer_norm_first_gelu_and_callable_activation():
    layer = _double(
        nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, norm_first=True, activation="gelu")
    )
    x = _t(4, 2, 8)
    h = x + layer.self_attn(layer.norm1(x), layer.norm1(x), layer.norm1(x), need_weights=False)[0]
    ref = h + layer.linear2(F.gelu(layer.linear1(layer.norm2(h))))
    np.testing.assert_allclose(_np(layer(x)), _np(ref), rtol=1e-12)
    tanh_layer = nn.TransformerEncoderLayer(8, 2, activation=cr.tanh)
    assert tanh_layer.activation is cr.tanh
    with pytest.raises(cr.ArgumentError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")


def test_encoder_layer_gradcheck_with_masks():
    layer = _double(nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, batch_first=True))
    x = _t(2, 3, 4, grad=True)
    pad = cr.tensor(np.array([[False, False, True], [False, False, False]]))
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=cr.float64)
    assert gradcheck(lambda t: layer(t, src_mask=mask, src_key_padding_mask=pad), (x,))
    assert gradcheck(lambda t: layer(t, src_mask=mask, is_causal=True), (x,))


def test_encoder_clones_layers_and_detects_causal_mask():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    enc = _double(
        nn.TransformerEncoder(layer, num_layers=3, norm=nn.LayerNorm(8), enable_nested_tensor=False)
    )
    assert len(enc.layers) == 3
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    keys = list(enc.state_dict())
    assert keys[0] == "layers.0.self_attn.in_proj_weight" and keys[-1] == "norm.bias"
    x = _t(6, 2, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(6, dtype=cr.float64)
    detected = enc(x, mask=mask)
    explicit = enc(x, mask=mask, is_causal=False)
    np.testing.assert_allclose(_np(detected), _np(explicit), rtol=1e-10, atol=1e-12)
    manual = x
    for mod in enc.layers:
        manual = mod(manual, src_mask=mask)
    np.testing.assert_allclose(_np(enc.norm(manual)), _np(detected), rtol=1e-10, atol=1e-12)


def test_decoder_layer_and_decoder():
    layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    names = [n for n, _ in layer.named_children()]
    assert names == [
        "self_attn",
        "multihead_attn",
        "linear1",
        "dropout",
        "linear2",
        "norm1",
        "norm2",
        "norm3",
        "dropout1",
        "dropout2",
        "dropout3",
    ]
    dec = _double(nn.TransformerDecoder(layer, 2))
    tgt, mem = _t(4, 2, 8, grad=True), _t(5, 2, 8, grad=True)
    out = dec(tgt, mem, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, dtype=cr.float64))
    assert tuple(out.shape) == (4, 2, 8)
    small = _double(nn.TransformerDecoderLayer(4, 2, dim_feedforward=4, dropout=0.0, norm_first=True))
    t2, m2 = _t(3, 1, 4, grad=True), _t(2, 1, 4, grad=True)
    assert gradcheck(
        lambda a, b: small(a, b, tgt_is_causal=True, tgt_mask=cr.zeros(3, 3, dtype=cr.float64)), (t2, m2)
    )


def test_transformer_structure_mask_and_errors():
    model = nn.Transformer(
        d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16, dropout=0.0
    )
    assert len(model.encoder.layers) == 2 and len(model.decoder.layers) == 1
    assert isinstance(model.encoder.norm, nn.LayerNorm) and isinstance(model.decoder.norm, nn.LayerNorm)
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    assert mask.dtype == cr.float32
    np.testing.assert_array_equal(mask.numpy(), np.array([[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]]))
    out = model(cr.randn(5, 2, 8), cr.randn(3, 2, 8), tgt_mask=mask)
    assert tuple(out.shape) == (3, 2, 8)
    with pytest.raises(cr.ShapeError, match="batch number"):
        model(cr.randn(5, 2, 8), cr.randn(3, 3, 8))
    with pytest.raises(cr.ShapeError, match="d_model"):
        model(cr.randn(5, 2, 6), cr.randn(3, 2, 6))
    with pytest.raises(cr.ArgumentError, match="divisible"):
        nn.Transformer(d_model=10, nhead=3)


def test_transformer_trains():
    cr.manual_seed(0)
    model = nn.Transformer(
        d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16, dropout=0.1
    )
    opt = cr.optim.Adam(model.parameters(), lr=1e-2)
    src, tgt = cr.randn(6, 4, 8), cr.randn(5, 4, 8)
    target = cr.randn(5, 4, 8)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.mse_loss(model(src, tgt), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


# ---- against PyTorch -------------------------------------------------------------------------------------
def _load(ours, theirs):
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())


def _compare(torch, ours, theirs, arrays, call, rtol=1e-9, atol=1e-10):
    """Same inputs through both modules; compares outputs, input gradients and parameter gradients."""
    got = {}
    for lib, m in ((cr, ours), (torch, theirs)):
        xs = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        out = call(lib, m, *xs)
        outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
        (outs[0] * outs[0]).sum().backward()
        got[lib.__name__] = (
            [o.detach().numpy() for o in outs]
            + [x.grad.numpy() for x in xs if x.requires_grad]
            + [p.grad.numpy() for p in m.parameters()]
        )
    assert len(got["chainrule"]) == len(got["torch"])
    for a, b in zip(got["chainrule"], got["torch"]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


MHA_CASES = [
    {},
    {"batch_first": True},
    {"kdim": 5, "vdim": 3},
    {"bias": False},
    {"add_bias_kv": True},
    {"add_zero_attn": True},
]


@pytest.mark.parametrize("kwargs", MHA_CASES)
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_matches_torch(torch, kwargs, need_weights):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, **kwargs).double()
    ours = nn.MultiheadAttention(8, 2, **kwargs).double()
    _load(ours, theirs)
    N, L, S = 3, 4, 6
    bf = kwargs.get("batch_first", False)

    def shape(n, d):
        return (N, n, d) if bf else (n, N, d)

    arrays = [
        rng.standard_normal(shape(L, 8)),
        rng.standard_normal(shape(S, kwargs.get("kdim", 8))),
        rng.standard_normal(shape(S, kwargs.get("vdim", 8))),
        rng.random((N, S)) < 0.3,
        rng.standard_normal((L, S)),
    ]
    arrays[3][:, 0] = False

    def call(lib, m, q, k, v, pad, mask):
        return m(q, k, v, key_padding_mask=pad, attn_mask=mask, need_weights=need_weights)

    _compare(torch, ours, theirs, arrays, call)


def test_mha_self_attention_causal_matches_torch(torch):
    torch.manual_seed(1)
    theirs = torch.nn.MultiheadAttention(16, 4, batch_first=True).double()
    ours = nn.MultiheadAttention(16, 4, batch_first=True).double()
    _load(ours, theirs)

    def call(lib, m, x):
        mask = lib.nn.Transformer.generate_square_subsequent_mask(70, dtype=lib.float64)
        return m(x, x, x, attn_mask=mask, need_weights=False, is_causal=True)

    _compare(torch, ours, theirs, [rng.standard_normal((2, 70, 16))], call)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_matches_torch(torch, norm_first, activation):
    torch.manual_seed(2)
    kw = dict(dim_feedforward=16, dropout=0.1, norm_first=norm_first, activation=activation, batch_first=True)
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, **kw),
        2,
        norm=torch.nn.LayerNorm(8),
        enable_nested_tensor=False,
    )
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **kw), 2, norm=nn.LayerNorm(8))
    theirs.double().eval()
    ours.double().eval()
    _load(ours, theirs)
    pad = np.array([[False] * 5, [False, False, False, True, True]])

    def call(lib, m, x, p):
        mask = lib.nn.Transformer.generate_square_subsequent_mask(5, dtype=lib.float64)
        return m(x, mask=mask, src_key_padding_mask=p)

    _compare(torch, ours, theirs, [rng.standard_normal((2, 5, 8)), pad], call)


def test_decoder_layer_matches_torch(torch):
    torch.manual_seed(3)
    theirs = torch.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0).double()
    ours = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0).double()
    _load(ours, theirs)

    def call(lib, m, t, mem):
        mask = lib.nn.Transformer.generate_square_subsequent_mask(4, dtype=lib.float64)
        return m(t, mem, tgt_mask=mask, tgt_is_causal=True)

    _compare(torch, ours, theirs, [rng.standard_normal((4, 2, 8)), rng.standard_normal((6, 2, 8))], call)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_transformer_matches_torch(torch, batch_first, dtype):
    kw = dict(
        d_model=8,
        nhead=2,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dim_feedforward=16,
        dropout=0.1,
        batch_first=batch_first,
        activation="gelu",
    )
    torch.manual_seed(4)
    theirs = torch.nn.Transformer(**kw).eval()
    ours = nn.Transformer(**kw).eval()
    if dtype == "float64":
        theirs.double()
        ours.double()
    _load(ours, theirs)
    N, S, T = 2, 5, 4

    def shape(n):
        return (N, n, 8) if batch_first else (n, N, 8)

    arrays = [rng.standard_normal(shape(S)).astype(dtype), rng.standard_normal(shape(T)).astype(dtype)]
    pad = np.array([[False] * S, [False] * (S - 2) + [True] * 2])
    arrays.append(pad)

    def call(lib, m, src, tgt, p):
        mask = lib.nn.Transformer.generate_square_subsequent_mask(T, dtype=getattr(lib, dtype))
        return m(src, tgt, tgt_mask=mask, src_key_padding_mask=p, memory_key_padding_mask=p)

    tol = dict(rtol=1e-8, atol=1e-10) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    _compare(torch, ours, theirs, arrays, call, **tol)
