"""The fused scaled-dot-product-attention kernel (F.scaled_dot_product_attention): values against a
NumPy reference, float64 gradchecks (masks, causal, scale, L != S, Ev != E, sizes that are not
multiples of the 64-row tiles and larger than one tile), fully masked rows, dropout (reproducible
and consistent with its gradient), bitwise determinism across thread counts, double backward,
errors, then against PyTorch."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck

rng = np.random.default_rng(7)


def _arrays(*shapes):
    return [rng.standard_normal(s) for s in shapes]


def _leaves(*arrays, dtype=None):
    return [cr.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]


def _reference(q, k, v, mask=None, causal=False, scale=None, keep=None):
    """softmax(q k^T * scale + mask) v in float64, rows without any key giving zeros."""
    s = (1 / math.sqrt(q.shape[-1])) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * s
    L, S = scores.shape[-2:]
    allowed = np.ones(scores.shape, dtype=bool)
    if causal:
        allowed &= np.tril(np.ones((L, S), dtype=bool))
    if mask is not None:
        if mask.dtype == bool:
            allowed &= np.broadcast_to(mask, scores.shape)
        else:
            scores = scores + mask
    scores = np.where(allowed, scores, -np.inf)
    top = scores.max(-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    w = np.exp(scores - top)
    total = w.sum(-1, keepdims=True)
    w = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    if keep is not None:
        w = w * keep
    return w @ v


@pytest.mark.parametrize(
    "shapes, kwargs",
    [
        (((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)), {}),
        (((2, 130, 8), (2, 70, 8), (2, 70, 3)), {}),
        (((1, 2, 150, 5), (1, 2, 150, 5), (1, 2, 150, 5)), {"is_causal": True}),
        (((1, 100, 5), (1, 66, 5), (1, 66, 2)), {"is_causal": True, "scale": 0.7}),
        (((3, 65, 4), (3, 129, 4), (3, 129, 4)), {"scale": 2.0}),
    ],
)
def test_values_match_numpy(shapes, kwargs):
    q, k, v = _arrays(*shapes)
    out = F.scaled_dot_product_attention(*(cr.tensor(a) for a in (q, k, v)), **kwargs)
    ref = _reference(q, k, v, causal=kwargs.get("is_causal", False), scale=kwargs.get("scale"))
    assert tuple(out.shape) == ref.shape
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_masks_match_numpy():
    q, k, v = _arrays((2, 2, 70, 4), (2, 2, 90, 4), (2, 2, 90, 3))
    bool_mask = rng.random((2, 1, 70, 90)) < 0.6
    out = F.scaled_dot_product_attention(*(cr.tensor(a) for a in (q, k, v)), attn_mask=cr.tensor(bool_mask))
    np.testing.assert_allclose(out.numpy(), _reference(q, k, v, bool_mask), rtol=1e-10, atol=1e-12)
    float_mask = rng.standard_normal((90,))  # broadcast along L and the batch
    out = F.scaled_dot_product_attention(*(cr.tensor(a) for a in (q, k, v)), attn_mask=cr.tensor(float_mask))
    np.testing.assert_allclose(out.numpy(), _reference(q, k, v, float_mask), rtol=1e-10, atol=1e-12)


def test_float32_close_to_float64():
    q, k, v = _arrays((2, 3, 100, 16), (2, 3, 80, 16), (2, 3, 80, 8))
    out = F.scaled_dot_product_attention(*(cr.tensor(a, dtype=cr.float32) for a in (q, k, v)), is_causal=True)
    assert out.dtype == cr.float32
    np.testing.assert_allclose(out.numpy(), _reference(q, k, v, causal=True), rtol=1e-4, atol=1e-5)


def test_gradcheck_small_and_multi_tile():
    q, k, v = _leaves(*_arrays((2, 3, 4), (2, 5, 4), (2, 5, 3)))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, scale=0.6), (q, k, v))
    # L and S above one 64-row tile and not multiples of it; Ev != E
    q, k, v = _leaves(*_arrays((1, 70, 2), (1, 67, 2), (1, 67, 1)))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c), (q, k, v))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))


def test_gradcheck_masks():
    q, k, v = _leaves(*_arrays((2, 5, 3), (2, 6, 3), (2, 6, 2)))
    bool_mask = cr.tensor(rng.random((5, 6)) < 0.6)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=bool_mask), (q, k, v))
    float_mask = cr.tensor(rng.standard_normal((2, 1, 6)), requires_grad=True)  # the mask gets a gradient
    assert gradcheck(
        lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m), (q, k, v, float_mask)
    )


def test_gradcheck_broadcast_batch_and_gqa():
    q, k, v = _leaves(*_arrays((2, 1, 3, 2), (4, 2), (4, 3)))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c), (q, k, v))
    q, k, v = _leaves(*_arrays((1, 4, 3, 2), (1, 2, 5, 2), (1, 2, 5, 2)))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, enable_gqa=True), (q, k, v))


def test_non_contiguous_head_views():
    x = rng.standard_normal((2, 70, 3 * 8))  # (B, L, H * D) viewed as (B, H, L, D)
    t = cr.tensor(x, requires_grad=True)
    heads = t.view(2, 70, 3, 8).transpose(1, 2)
    out = F.scaled_dot_product_attention(heads, heads, heads, is_causal=True)
    h = x.reshape(2, 70, 3, 8).transpose(0, 2, 1, 3)
    np.testing.assert_allclose(out.detach().numpy(), _reference(h, h, h, causal=True), rtol=1e-10)
    small = cr.tensor(rng.standard_normal((1, 4, 2 * 3)), requires_grad=True)
    assert gradcheck(
        lambda s: F.scaled_dot_product_attention(*(s.view(1, 4, 2, 3).transpose(1, 2),) * 3), (small,)
    )


def test_fully_masked_rows_give_zero_output_and_gradients():
    q, k, v = _leaves(*_arrays((1, 4, 3), (1, 5, 3), (1, 5, 2)))
    mask = np.ones((4, 5), dtype=bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=cr.tensor(mask))
    assert np.all(out.detach().numpy()[0, 1] == 0)
    assert np.all(np.isfinite(out.detach().numpy()))
    out.sum().backward()
    assert np.all(q.grad.numpy()[0, 1] == 0)
    assert np.all(np.isfinite(k.grad.numpy())) and np.all(np.isfinite(v.grad.numpy()))
    fmask = np.zeros((4, 5))
    fmask[2] = -np.inf
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=cr.tensor(fmask))
    assert np.all(out.detach().numpy()[0, 2] == 0)
    np.testing.assert_allclose(
        out.detach().numpy(), _reference(*(t.detach().numpy() for t in (q, k, v)), fmask), rtol=1e-10
    )


def test_nan_scores_give_nan_rows_not_zeros():
    q, k, v = (cr.tensor(a) for a in _arrays((1, 3, 2), (1, 4, 2), (1, 4, 2)))
    mask = np.zeros((3, 4))
    mask[1, 2] = np.nan
    mask[2] = np.nan
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=cr.tensor(mask)).numpy()
    assert np.all(np.isfinite(out[0, 0])) and np.all(np.isnan(out[0, 1:]))


def _dropout_keep(shape_lsv, p, seed):
    """The dropout factors of a call: with q = 0 every weight is 1/S, and value = identity reads
    them back (the mask depends on the seed, the batch and (L, S) only)."""
    b, L, S = shape_lsv
    cr.manual_seed(seed)
    f64 = cr.float64
    eye = cr.eye(S, dtype=f64).expand(b, S, S)
    out = F.scaled_dot_product_attention(
        cr.zeros(b, L, 2, dtype=f64), cr.zeros(b, S, 2, dtype=f64), eye, dropout_p=p
    )
    return out.numpy() * S


def test_dropout_is_reproducible_and_matches_its_mask():
    p = 0.3
    keep = _dropout_keep((2, 70, 90), p, seed=3)
    assert set(np.unique(np.round(keep, 12))) <= {0.0, round(1 / (1 - p), 12)}
    assert abs((keep > 0).mean() - (1 - p)) < 0.02
    np.testing.assert_array_equal(keep, _dropout_keep((2, 70, 90), p, seed=3))
    assert not np.array_equal(keep, _dropout_keep((2, 70, 90), p, seed=4))
    q, k, v = _arrays((2, 70, 4), (2, 90, 4), (2, 90, 3))
    cr.manual_seed(3)
    out = F.scaled_dot_product_attention(*(cr.tensor(a) for a in (q, k, v)), dropout_p=p)
    np.testing.assert_allclose(out.numpy(), _reference(q, k, v, keep=keep), rtol=1e-10, atol=1e-12)
    # p = 1 drops everything
    assert np.all(
        F.scaled_dot_product_attention(*(cr.tensor(a) for a in (q, k, v)), dropout_p=1.0).numpy() == 0
    )


def test_dropout_gradient_uses_the_forward_mask():
    q, k, v = _leaves(*_arrays((1, 6, 3), (1, 7, 3), (1, 7, 2)))

    def f(a, b, c):
        cr.manual_seed(11)
        return F.scaled_dot_product_attention(a, b, c, dropout_p=0.4, is_causal=True)

    assert gradcheck(f, (q, k, v))
    # the backward runs after other draws from the generator and still uses the forward's mask
    out = f(q, k, v)
    cr.rand(100)
    out.backward(cr.ones(out.shape, dtype=out.dtype))
    g1 = q.grad.numpy().copy()
    q.grad = None
    f(q, k, v).backward(cr.ones(out.shape, dtype=out.dtype))
    np.testing.assert_array_equal(g1, q.grad.numpy())


def test_bitwise_identical_for_any_thread_count():
    arrays = _arrays((2, 4, 200, 16), (2, 2, 150, 16), (2, 2, 150, 8))
    mask = cr.tensor(rng.random((200, 150)) < 0.8)
    results = []
    before = cr.get_num_threads()
    try:
        for n in (1, 2, 3):
            cr.set_num_threads(n)
            cr.manual_seed(0)
            q, k, v = _leaves(*arrays, dtype=cr.float32)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.1, enable_gqa=True)
            (out * out).sum().backward()
            results.append([t.numpy().copy() for t in (out.detach(), q.grad, k.grad, v.grad)])
    finally:
        cr.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_grad_fn_name():
    q, k, v = _leaves(*_arrays((1, 3, 2), (1, 3, 2), (1, 3, 2)))
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"


def test_double_backward():
    """create_graph=True: the backward is recomposed from differentiable ops, so second
    derivatives work (masks, causal, dropout, GQA) and the first derivatives equal the kernel's."""
    q, k, v = _leaves(*_arrays((2, 3, 2), (2, 4, 2), (2, 4, 3)))
    mask = np.ones((3, 4), dtype=bool)
    mask[1] = False  # a row with no key
    mask[0, 2] = False
    sdpa = F.scaled_dot_product_attention
    assert gradgradcheck(lambda a, b, c: sdpa(a, b, c, is_causal=True, scale=0.7), (q, k, v))
    assert gradgradcheck(lambda a, b, c: sdpa(a, b, c, attn_mask=cr.tensor(mask)), (q, k, v))
    fmask = cr.tensor(rng.standard_normal((1, 4)), requires_grad=True)
    assert gradgradcheck(lambda a, b, c, m: sdpa(a, b, c, attn_mask=m), (q, k, v, fmask))

    def dropped(a, b, c):
        cr.manual_seed(5)
        return sdpa(a, b, c, dropout_p=0.3)

    assert gradgradcheck(dropped, (q, k, v))
    q4, k4, v4 = _leaves(*_arrays((1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2)))
    assert gradgradcheck(lambda a, b, c: sdpa(a, b, c, enable_gqa=True), (q4, k4, v4))
    out = sdpa(q, k, v, attn_mask=cr.tensor(mask))
    composed = cr.autograd.grad(out.sum(), (q, k, v), create_graph=True)
    fused = cr.autograd.grad(sdpa(q, k, v, attn_mask=cr.tensor(mask)).sum(), (q, k, v))
    for a, b in zip(composed, fused):
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), rtol=1e-12, atol=1e-14)


def test_forward_mode_jvp_matches_finite_differences():
    import chainrule.autograd.forward_ad as fwAD

    q, k, v = (cr.tensor(a) for a in _arrays((2, 5, 3), (2, 6, 3), (2, 6, 4)))
    tangent = cr.tensor(rng.standard_normal((2, 5, 3)))
    mask = cr.tensor(rng.random((5, 6)) < 0.7)
    with fwAD.dual_level():
        out = F.scaled_dot_product_attention(fwAD.make_dual(q, tangent), k, v, attn_mask=mask)
        jvp = fwAD.unpack_dual(out).tangent.numpy()
    eps = 1e-6
    plus = F.scaled_dot_product_attention(q + eps * tangent, k, v, attn_mask=mask)
    minus = F.scaled_dot_product_attention(q - eps * tangent, k, v, attn_mask=mask)
    np.testing.assert_allclose(jvp, (plus - minus).numpy() / (2 * eps), atol=1e-7)


def test_no_grad_records_nothing():
    q, k, v = _leaves(*_arrays((1, 3, 2), (1, 3, 2), (1, 3, 2)))
    with cr.no_grad():
        out = F.scaled_dot_product_attention(q, k, v)
    assert out.grad_fn is None and not out.requires_grad


def test_empty_keys_and_rows():
    out = F.scaled_dot_product_attention(cr.ones(2, 0, 3), cr.ones(2, 4, 3), cr.ones(2, 4, 5))
    assert tuple(out.shape) == (2, 0, 5)
    out = F.scaled_dot_product_attention(cr.ones(2, 3, 3), cr.ones(2, 0, 3), cr.ones(2, 0, 5))
    assert tuple(out.shape) == (2, 3, 5) and np.all(out.numpy() == 0)


def test_errors():
    q, k, v = cr.ones(2, 3, 4), cr.ones(2, 5, 4), cr.ones(2, 5, 6)
    sdpa = F.scaled_dot_product_attention
    with pytest.raises(cr.ShapeError, match="last dim E"):
        sdpa(q, cr.ones(2, 5, 3), v)
    with pytest.raises(cr.ShapeError, match="same length S"):
        sdpa(q, k, cr.ones(2, 4, 6))
    with pytest.raises(cr.ShapeError, match="batch dims"):
        sdpa(cr.ones(3, 3, 4), k, v)
    with pytest.raises(cr.ShapeError, match="attn_mask of shape"):
        sdpa(q, k, v, attn_mask=cr.ones(4, 5, dtype=cr.bool))
    with pytest.raises(cr.DTypeError, match="attn_mask dtype"):
        sdpa(q, k, v, attn_mask=cr.ones(3, 5, dtype=cr.int64))
    with pytest.raises(cr.DTypeError, match="same dtype"):
        sdpa(q, k.double(), v)
    with pytest.raises(cr.DTypeError, match="floating"):
        sdpa(q.long(), k.long(), v.long())
    with pytest.raises(cr.ArgumentError, match="is_causal"):
        sdpa(q, k, v, attn_mask=cr.ones(3, 5, dtype=cr.bool), is_causal=True)
    with pytest.raises(cr.ArgumentError, match="dropout_p"):
        sdpa(q, k, v, dropout_p=1.5)
    with pytest.raises(cr.ShapeError, match="multiple"):
        sdpa(cr.ones(1, 3, 2, 4), cr.ones(1, 2, 5, 4), cr.ones(1, 2, 5, 4), enable_gqa=True)
    with pytest.raises(cr.ShapeError, match="at least 2 dims"):
        sdpa(cr.ones(4), k, v)
    with pytest.raises(cr.DTypeError, match="Tensor"):
        sdpa(np.ones((2, 3, 4)), k, v)


# ---- against PyTorch ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shapes, kwargs",
    [
        (((2, 3, 70, 8), (2, 3, 90, 8), (2, 3, 90, 5)), {}),
        (((2, 3, 130, 8), (2, 3, 100, 8), (2, 3, 100, 8)), {"is_causal": True}),
        (((2, 3, 70, 8), (2, 3, 90, 8), (2, 3, 90, 5)), {"attn_mask": "bool"}),
        (((2, 3, 70, 8), (2, 3, 90, 8), (2, 3, 90, 5)), {"attn_mask": "float", "scale": 0.2}),
        (((2, 4, 70, 8), (2, 2, 90, 8), (2, 2, 90, 5)), {"enable_gqa": True}),
        (((3, 70, 8), (2, 1, 90, 8), (90, 5)), {}),
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_torch(torch, shapes, kwargs, dtype):
    arrays = [a.astype(dtype) for a in _arrays(*shapes)]
    kv_batch = shapes[0][:-2] if kwargs.get("enable_gqa") else shapes[1][:-2]
    out_shape = np.broadcast_shapes(shapes[0][:-2], kv_batch) + (shapes[0][-2], shapes[2][-1])
    grad_out = rng.standard_normal(out_shape).astype(dtype)
    bool_mask = rng.random((shapes[0][-2], shapes[1][-2])) < 0.5
    bool_mask[3] = False  # one row with no key at all
    float_mask = rng.standard_normal((1, shapes[1][-2])).astype(dtype)
    got = {}
    for lib in (cr, torch):
        leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
        kw = dict(kwargs)
        if kw.get("attn_mask") == "bool":
            kw["attn_mask"] = lib.tensor(bool_mask)
        elif kw.get("attn_mask") == "float":
            kw["attn_mask"] = lib.tensor(float_mask)
        out = lib.nn.functional.scaled_dot_product_attention(*leaves, **kw)
        out.backward(lib.tensor(grad_out))
        got[lib.__name__] = [out.detach().numpy()] + [t.grad.numpy() for t in leaves]
    tol = dict(rtol=1e-9, atol=1e-10) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    for a, b in zip(got["chainrule"], got["torch"]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, **tol)


def test_float_mask_gradient_matches_torch(torch):
    arrays = _arrays((2, 2, 5, 3), (2, 2, 6, 3), (2, 2, 6, 4), (2, 1, 5, 6))
    got = {}
    for lib in (cr, torch):
        q, k, v, m = (lib.tensor(a, requires_grad=True) for a in arrays)
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m)
        (out * out).sum().backward()
        got[lib.__name__] = m.grad.numpy()
    np.testing.assert_allclose(got["chainrule"], got["torch"], rtol=1e-9, atol=1e-11)
