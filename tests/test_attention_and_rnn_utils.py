"""F.scaled_dot_product_attention (masks, causal, scale, GQA) and nn.utils.rnn.pad_sequence:
values and gradients by hand/gradcheck, then against PyTorch."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck
from chainrule.nn.utils.rnn import pad_sequence

rng = np.random.default_rng(0)


def _qkv(b=2, h=3, lq=4, lk=5, e=6):
    return [
        cr.tensor(rng.standard_normal(s), requires_grad=True)
        for s in ((b, h, lq, e), (b, h, lk, e), (b, h, lk, e))
    ]


def _reference(q, k, v, mask=None, scale=None):
    s = (1 / math.sqrt(q.shape[-1])) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * s
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return w @ v


def test_sdpa_matches_numpy_and_gradchecks():
    q, k, v = _qkv()
    out = F.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(
        out.detach().numpy(), _reference(*(t.detach().numpy() for t in (q, k, v))), rtol=1e-10
    )
    mask = rng.random((4, 5)) < 0.7
    mask[:, 0] = True
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=cr.tensor(mask), scale=0.3)
    np.testing.assert_allclose(
        out.detach().numpy(), _reference(*(t.detach().numpy() for t in (q, k, v)), mask, 0.3), rtol=1e-10
    )
    q, k, v = _qkv(1, 1, 3, 3, 2)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))


def test_sdpa_causal_and_errors():
    q, k, v = _qkv(1, 1, 3, 3, 2)
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    np.testing.assert_allclose(out.detach().numpy()[0, 0, 0], v.detach().numpy()[0, 0, 0], rtol=1e-12)
    with pytest.raises(ValueError):
        F.scaled_dot_product_attention(q, k, v, attn_mask=cr.ones(3, 3, dtype=cr.bool), is_causal=True)


def test_pad_sequence():
    a, b = cr.ones(2, 3), cr.ones(4, 3) * 2
    out = pad_sequence([a, b], batch_first=True, padding_value=-1)
    assert tuple(out.shape) == (2, 4, 3) and out[0, 2:].tolist() == [[-1.0] * 3] * 2
    assert tuple(pad_sequence([a, b]).shape) == (4, 2, 3)
    left = pad_sequence([cr.tensor([1.0]), cr.tensor([2.0, 3.0])], batch_first=True, padding_side="left")
    assert left.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    x = cr.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(lambda t: pad_sequence([t, t[:1]], batch_first=True), (x,))
    with pytest.raises(ValueError):
        pad_sequence([cr.ones(2, 3), cr.ones(2, 4)])


def test_match_torch(torch):
    qa, ka, va = (rng.standard_normal(s) for s in ((2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 5)))
    mask = rng.standard_normal((3, 6))
    for kwargs in (dict(is_causal=True), dict(attn_mask="float"), dict(scale=0.25), dict(enable_gqa=True)):
        got = {}
        for lib in (cr, torch):
            q, k, v = (lib.tensor(x, requires_grad=True) for x in (qa, ka, va))
            kw = dict(kwargs)
            if kw.get("attn_mask") == "float":
                kw["attn_mask"] = lib.tensor(mask)
            if not kw.get("enable_gqa"):
                k2, v2 = k.repeat_interleave(2, dim=1), v.repeat_interleave(2, dim=1)
            else:
                k2, v2 = k, v
            out = lib.nn.functional.scaled_dot_product_attention(q, k2, v2, **kw)
            (out * out).sum().backward()
            got[lib.__name__] = (out.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy())
        for a, b in zip(got["chainrule"], got["torch"]):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    seqs = [rng.standard_normal((n, 2)) for n in (3, 1, 2)]
    ours = pad_sequence([cr.tensor(s) for s in seqs], batch_first=True, padding_value=7.0)
    theirs = torch.nn.utils.rnn.pad_sequence(
        [torch.tensor(s) for s in seqs], batch_first=True, padding_value=7.0
    )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
