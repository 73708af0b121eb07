"""int32, int16, int8, uint8, float16 and bfloat16: storage, conversions, rounding, promotion and
ops computed in their compute dtype (Note [Storage dtypes]), against NumPy's float16 and, where
installed, PyTorch."""

import io
import pickle

import numpy as np
import pytest

import chainrule as cr

promote_types, result_type = cr.promote_types, cr.result_type

NEW = ("int32", "float16", "bfloat16", "int16", "int8", "uint8")
ALL = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64")


def bf16_round(x):
    """Reference bfloat16 rounding of float32 values (round to nearest even), as float32."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return bits.astype(np.uint32).view(np.float32)


def test_dtype_objects_aliases_and_attributes():
    assert cr.half is cr.float16 and cr.int is cr.int32
    assert repr(cr.float16) == "chainrule.float16" and repr(cr.bfloat16) == "chainrule.bfloat16"
    assert cr.float16.itemsize == 2 and cr.bfloat16.itemsize == 2 and cr.int32.itemsize == 4
    assert cr.float16.is_floating_point and cr.bfloat16.is_floating_point
    assert not cr.int32.is_floating_point
    for d in (cr.int32, cr.float16, cr.bfloat16):
        assert pickle.loads(pickle.dumps(d)) is d


def test_finfo_iinfo():
    f = cr.finfo(cr.float16)
    assert f.bits == 16 and f.max == 65504.0 and f.eps == 2.0**-10 and f.tiny == 2.0**-14
    b = cr.finfo(cr.bfloat16)
    assert b.bits == 16 and b.eps == 2.0**-7 and b.tiny == 2.0**-126
    assert b.max == float(np.float32(3.3895313892515355e38))
    i = cr.iinfo(cr.int32)
    assert (i.bits, i.min, i.max) == (32, -(2**31), 2**31 - 1)


@pytest.mark.parametrize("name", NEW)
def test_storage_size_and_conversions(name):
    d = getattr(cr, name)
    x = cr.tensor([1, 2, 3], dtype=d)
    assert x.dtype is d and x.element_size() == d.itemsize
    assert x.tolist() == [1, 2, 3]
    assert x.to(cr.float64).tolist() == [1.0, 2.0, 3.0]
    assert cr.tensor([1.0, 2.0]).to(d).dtype is d
    for conv, want in (("int", cr.int32), ("half", cr.float16), ("bfloat16", cr.bfloat16)):
        assert getattr(x, conv)().dtype is want
    assert "dtype=chainrule." + name in repr(x)


@pytest.mark.parametrize("name", NEW)
def test_factories(name):
    d = getattr(cr, name)
    assert cr.zeros(2, 3, dtype=d).dtype is d and cr.zeros(2, 3, dtype=d).sum().item() == 0
    assert cr.ones(4, dtype=d).tolist() == [1, 1, 1, 1]
    assert cr.full((2,), 7, dtype=d).tolist() == [7, 7]
    assert cr.arange(5, dtype=d).tolist() == [0, 1, 2, 3, 4]
    assert cr.empty(3, dtype=d).dtype is d
    x = cr.ones(3, dtype=d)
    assert cr.zeros_like(x).dtype is d and cr.ones_like(x).dtype is d and cr.full_like(x, 2).dtype is d
    if d.is_floating_point:
        assert cr.rand(5, dtype=d).dtype is d and cr.randn(5, dtype=d).dtype is d
        leaf = cr.ones(2, dtype=d, requires_grad=True)
        assert leaf.is_leaf and leaf.requires_grad and leaf.dtype is d


def test_float16_rounding_matches_numpy():
    vals = [1 / 3, 0.1, 65504.0, 65519.0, 65520.0, 1e6, -1e6, 6e-8, 3e-8, 2.0**-24, 1e-5, 2049.0, 2051.0]
    got = cr.tensor(vals, dtype=cr.float64).half().double().numpy()
    with np.errstate(over="ignore"):
        want = np.array(vals, dtype=np.float32).astype(np.float16).astype(np.float64)
    np.testing.assert_array_equal(got, want)
    assert np.isinf(got[5]) and np.isinf(got[6]) and got[6] < 0
    sub = cr.tensor([1e-6, 3e-7], dtype=cr.float32).half().float().numpy()
    np.testing.assert_array_equal(
        sub, np.array([1e-6, 3e-7], np.float32).astype(np.float16).astype(np.float32)
    )
    nan = cr.tensor([float("nan")]).half().float().numpy()
    assert np.isnan(nan[0])


def test_random_float32_bit_patterns_round_like_numpy_and_the_bfloat16_reference():
    bits = np.random.default_rng(3).integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32)
    vals = bits.view(np.float32)
    vals = vals[~np.isnan(vals)]
    with np.errstate(over="ignore"):
        want16 = vals.astype(np.float16)
    got16 = cr.from_numpy(vals).half().numpy()
    np.testing.assert_array_equal(got16.view(np.uint16), want16.view(np.uint16))
    np.testing.assert_array_equal(got16.astype(np.float32), cr.from_numpy(vals).half().float().numpy())
    np.testing.assert_array_equal(cr.from_numpy(vals).bfloat16().float().numpy(), bf16_round(vals))


def test_bfloat16_rounding_round_to_nearest_even():
    vals = np.array([1 / 3, 0.1, 1.00390625, 1.01171875, 3.0e38, -2.5, 1e-39], dtype=np.float32)
    got = cr.tensor(vals).bfloat16().float().numpy()
    np.testing.assert_array_equal(got, bf16_round(vals))
    assert got[0] == np.float32(0.333984375)
    assert cr.tensor([3.4e38]).bfloat16().float().item() == float("inf")


def test_numpy_interop():
    a16 = np.array([1.5, -2.25], dtype=np.float16)
    t = cr.from_numpy(a16)
    assert t.dtype is cr.float16
    a16[0] = 4.0
    assert t.tolist() == [4.0, -2.25]  # shared
    a32 = np.array([1, 2], dtype=np.int32)
    assert cr.from_numpy(a32).dtype is cr.int32 and cr.tensor(a32).dtype is cr.int32
    assert cr.tensor(a16).dtype is cr.float16
    n = cr.tensor([1.0, 2.0], dtype=cr.float16).numpy()
    assert n.dtype == np.float16
    assert cr.tensor([1, 2], dtype=cr.int32).numpy().dtype == np.int32
    with pytest.raises(TypeError, match="BFloat16"):
        cr.tensor([1.0], dtype=cr.bfloat16).numpy()
    # lists of Python numbers keep PyTorch's defaults
    assert cr.tensor([1, 2]).dtype is cr.int64 and cr.tensor([1.0]).dtype is cr.float32


@pytest.mark.parametrize("name", NEW)
def test_pickle_and_safetensors_round_trip(name, tmp_path):
    d = getattr(cr, name)
    if d.is_floating_point:
        x = cr.tensor([[1.5, -2.0], [3.25, 8.0]], dtype=d)
    else:
        x = cr.tensor([[1, 2 if d is cr.uint8 else -2], [3, cr.iinfo(d).max]], dtype=d)
    y = pickle.loads(pickle.dumps(x))
    assert y.dtype is d and y.tolist() == x.tolist()
    path = tmp_path / "t.safetensors"
    cr.save({"w": x}, str(path))
    z = cr.load(str(path))["w"]
    assert z.dtype is d and z.tolist() == x.tolist()
    buf = io.BytesIO()
    cr.save(x, buf)
    buf.seek(0)
    assert cr.load(buf).dtype is d


# ---- promotion ---------------------------------------------------------------------------------
def _operand(kind, name):
    if kind == "number":
        return {"bool": True, "int64": 2, "float32": 2.5}.get(name)
    d = getattr(cr, name)
    shape = () if kind == "0d" else (2,)
    return cr.ones(shape, dtype=d)


def _pairs():
    for a in ALL:
        for b in ALL:
            yield "tensor", a, "tensor", b
            yield "tensor", a, "0d", b
        for b in ("bool", "int64", "float32"):
            yield "tensor", a, "number", b


def test_promotion_table_without_torch():
    assert promote_types(cr.float16, cr.bfloat16) is cr.float32
    assert promote_types(cr.int32, cr.int64) is cr.int64
    assert promote_types(cr.int32, cr.float16) is cr.float16
    assert promote_types(cr.bool, cr.int32) is cr.int32
    x16 = cr.ones(2, dtype=cr.float16)
    assert (x16 + cr.tensor(1.0, dtype=cr.float64)).dtype is cr.float16  # 0-d: same category
    assert (x16 + cr.ones(2, dtype=cr.float32)).dtype is cr.float32
    assert (cr.ones(2, dtype=cr.int32) + 1).dtype is cr.int32
    assert (cr.ones(2, dtype=cr.int32) + 1.5).dtype is cr.float32
    assert (cr.ones(2, dtype=cr.int64) + cr.tensor(1.0, dtype=cr.float16)).dtype is cr.float16
    assert (x16 + cr.ones(2, dtype=cr.bfloat16)).dtype is cr.float32


def test_promotion_table_matches_torch(torch):
    mismatches = []
    for ka, a, kb, b in _pairs():
        x, y = _operand(ka, a), _operand(kb, b)
        tx = torch.ones((2,), dtype=getattr(torch, a))
        ty = b_obj = y if kb == "number" else torch.ones(tuple(y.shape), dtype=getattr(torch, b))
        want = str(torch.result_type(tx, ty)).replace("torch.", "")
        got = str(result_type(x, y)).replace("chainrule.", "")
        if a == "bool" and b == "bool" and kb != "number":
            op_got = str((x | y).dtype).replace("chainrule.", "")
        elif want == "bool":
            op_got = got
        else:
            op_got = str((x + y).dtype).replace("chainrule.", "")
        del b_obj
        if (got, op_got) != (want, want):
            mismatches.append((ka, a, kb, b, want, got, op_got))
    assert not mismatches


# ---- ops ---------------------------------------------------------------------------------------
def test_elementwise_float16_matches_numpy_rounding():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(50).astype(np.float16)
    b = rng.standard_normal(50).astype(np.float16)
    x, y = cr.tensor(a), cr.tensor(b)
    f32 = lambda v: v.astype(np.float32)  # noqa: E731
    for got, want in (
        (x + y, f32(a) + f32(b)),
        (x * y, f32(a) * f32(b)),
        (x / y, f32(a) / f32(b)),
        (x.exp(), np.exp(f32(a))),
        (cr.relu(x), np.maximum(f32(a), 0)),
    ):
        assert got.dtype is cr.float16
        np.testing.assert_array_equal(got.numpy(), want.astype(np.float16))


def test_int32_ops():
    x = cr.tensor([1, -2, 3], dtype=cr.int32)
    assert (x * 2).dtype is cr.int32 and (x * 2).tolist() == [2, -4, 6]
    assert x.sum().dtype is cr.int64 and x.sum().item() == 2
    assert x.argmax().dtype is cr.int64
    v, i = x.max(0)
    assert v.dtype is cr.int32 and i.dtype is cr.int64
    assert (x > 0).dtype is cr.bool
    assert x[cr.tensor([0, 2])].tolist() == [1, 3] and x[cr.tensor([0, 2])].dtype is cr.int32
    assert cr.tensor([5.0, 6.0, 7.0])[x.abs() - 1].tolist() == [5.0, 6.0, 7.0]


def test_reductions_indexing_cat_and_views_float16():
    a = np.arange(12, dtype=np.float16).reshape(3, 4) / np.float16(7)
    x = cr.tensor(a)
    assert x.mean().dtype is cr.float16
    assert x.mean().item() == float(np.float16(a.astype(np.float32).mean()))
    assert x.sum(1).dtype is cr.float16
    assert cr.cat([x, x]).dtype is cr.float16 and cr.cat([x, x]).shape == (6, 4)
    assert x[1].tolist() == a[1].tolist() and x[:, 1:3].tolist() == a[:, 1:3].tolist()
    v = x.view(4, 3)
    assert v.dtype is cr.float16 and v.data_ptr() == x.data_ptr()
    assert x.t().contiguous().tolist() == a.T.tolist()


def test_inplace_and_setitem_float16():
    x = cr.zeros(4, dtype=cr.float16)
    x[1] = 1 / 3
    x.add_(1)
    x += cr.ones(4, dtype=cr.float16)
    assert x.dtype is cr.float16
    want = np.array([0, 1 / 3, 0, 0], np.float16) + np.float16(1)  # each step rounds to float16
    np.testing.assert_array_equal(x.numpy(), want + np.float16(1))
    y = cr.ones(3, dtype=cr.int32)
    y.mul_(5)
    y[0] = 7
    assert y.dtype is cr.int32 and y.tolist() == [7, 5, 5]


@pytest.mark.parametrize("name", ("float16", "bfloat16"))
def test_autograd_grad_has_tensor_dtype(name):
    d = getattr(cr, name)
    w = cr.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=d, requires_grad=True)
    x = cr.tensor([[1.0, 2.0]], dtype=d)
    y = (x @ w).exp().sum() + (w * w).sum()  # w used twice: gradients summed in the storage dtype
    assert y.dtype is d
    y.backward()
    assert w.grad.dtype is d
    wf = w.detach().double().numpy()
    xf = x.double().numpy()
    e = np.exp(xf @ wf)
    want = xf.T @ e + 2 * wf
    np.testing.assert_allclose(w.grad.double().numpy(), want, rtol=2e-2)


@pytest.mark.parametrize("name", ("float16", "bfloat16"))
def test_training_step_in_half_parameters(name):
    d = getattr(cr, name)
    cr.manual_seed(0)
    model = cr.nn.Linear(3, 2).to(d)
    assert model.weight.dtype is d
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = cr.randn(8, 3, dtype=d)
    target = cr.randn(8, 2, dtype=d)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = ((model(x) - target) ** 2).mean()
        loss.backward()
        assert model.weight.grad.dtype is d and loss.dtype is d
        opt.step()
        losses.append(loss.item())
    assert model.weight.dtype is d
    assert losses[-1] < losses[0]
    adam = cr.optim.Adam(model.parameters(), lr=1e-2)
    loss = ((model(x) - target) ** 2).mean()
    loss.backward()
    adam.step()
    assert model.weight.dtype is d


# ---- against PyTorch ---------------------------------------------------------------------------
def _both(torch, arr, name, requires_grad=False):
    c = cr.tensor(arr, dtype=getattr(cr, name), requires_grad=requires_grad)
    t = torch.tensor(arr, dtype=getattr(torch, name), requires_grad=requires_grad)
    return c, t


def _np(t):
    return t.detach().double().numpy()


@pytest.mark.parametrize("name", ("float16", "bfloat16"))
def test_conversion_rounding_matches_torch(torch, name):
    vals = [1 / 3, 0.1, 65504.0, 65520.0, 1e6, 1e-7, 3e-8, 1e-39, 3.0e38, -2.5, 1.00390625]
    for src in ("float32", "float64"):
        c = cr.tensor(vals, dtype=getattr(cr, src)).to(getattr(cr, name))
        t = torch.tensor(vals, dtype=getattr(torch, src)).to(getattr(torch, name))
        np.testing.assert_array_equal(_np(c), _np(t))


@pytest.mark.parametrize("name", ("float16", "bfloat16", "int32"))
def test_ops_match_torch(torch, name):
    rng = np.random.default_rng(1)
    floating = name != "int32"
    a = rng.standard_normal((4, 5)) if floating else rng.integers(-5, 5, (4, 5))
    b = rng.standard_normal((4, 5)) if floating else rng.integers(-5, 5, (4, 5))
    m = rng.standard_normal((5, 3)) if floating else rng.integers(-5, 5, (5, 3))
    (ca, ta), (cb, tb), (cm, tm) = _both(torch, a, name), _both(torch, b, name), _both(torch, m, name)
    tol = {"float16": 2e-3, "bfloat16": 1.6e-2, "int32": 0}[name]
    cases = [
        (ca + cb, ta + tb),
        (ca * cb, ta * tb),
        (ca @ cm, ta @ tm),
        (ca.sum(), ta.sum()),
        (ca.sum(0), ta.sum(0)),
        (cr.cat([ca, cb], 1), torch.cat([ta, tb], 1)),
        (ca[1:3, ::2], ta[1:3, ::2]),
        (ca[cr.tensor([2, 0])], ta[torch.tensor([2, 0])]),
        (cr.relu(ca), torch.relu(ta)),
        (ca.max(1).values, ta.max(1).values),
    ]
    if floating:
        cases += [
            (ca.exp(), ta.exp()),
            (ca.mean(), ta.mean()),
            (ca.mean(1), ta.mean(1)),
            (cr.softmax(ca, 1), torch.softmax(ta, 1)),
            (ca + 0.5, ta + 0.5),
            (ca * cr.tensor(3.0, dtype=cr.float64), ta * torch.tensor(3.0, dtype=torch.float64)),
        ]
    for c, t in cases:
        assert str(c.dtype).split(".")[1] == str(t.dtype).split(".")[1], (c.dtype, t.dtype)
        assert tuple(c.shape) == tuple(t.shape)
        np.testing.assert_allclose(_np(c), _np(t), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ("float16", "bfloat16"))
def test_linear_forward_backward_matches_torch(torch, name):
    rng = np.random.default_rng(2)
    w, bias, x = rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal((5, 4))
    (cw, tw), (cb, tb) = _both(torch, w, name, True), _both(torch, bias, name, True)
    cx, tx = _both(torch, x, name)
    cy = cr.nn.functional.linear(cx, cw, cb)
    ty = torch.nn.functional.linear(tx, tw, tb)
    assert str(cy.dtype).split(".")[1] == str(ty.dtype).split(".")[1]
    tol = 2e-3 if name == "float16" else 2e-2
    np.testing.assert_allclose(_np(cy), _np(ty), rtol=tol, atol=tol)
    cl, tl = (cy * cy).sum(), (ty * ty).sum()
    cl.backward()
    tl.backward()
    for c, t in ((cw, tw), (cb, tb)):
        assert c.grad.dtype is getattr(cr, name)
        np.testing.assert_allclose(_np(c.grad), _np(t.grad), rtol=4 * tol, atol=4 * tol)


# ---- int16, int8, uint8 ------------------------------------------------------------------------
def test_narrow_integers():
    assert cr.short is cr.int16
    assert (cr.int8.itemsize, cr.int16.itemsize, cr.uint8.itemsize) == (1, 2, 1)
    assert promote_types(cr.uint8, cr.int8) is cr.int16
    assert promote_types(cr.uint8, cr.int16) is cr.int16 and promote_types(cr.int8, cr.int32) is cr.int32
    assert promote_types(cr.bool, cr.uint8) is cr.uint8 and promote_types(cr.uint8, cr.float16) is cr.float16
    assert (cr.iinfo(cr.uint8).min, cr.iinfo(cr.uint8).max) == (0, 255)
    assert (cr.iinfo(cr.int8).min, cr.iinfo(cr.int16).max) == (-128, 32767)
    img = np.array([[0, 128, 255]], dtype=np.uint8)
    x = cr.tensor(img)
    assert x.dtype is cr.uint8 and x.tolist() == [[0, 128, 255]]
    assert cr.from_numpy(img).dtype is cr.uint8 and x.numpy().dtype == np.uint8
    assert (x.float() / 255).tolist()[0] == pytest.approx([0.0, 128 / 255, 1.0])
    assert (x + 1).dtype is cr.uint8 and (x + 1).tolist() == [[1, 129, 0]]  # wraps, as PyTorch
    assert x.sum().dtype is cr.int64 and x.sum().item() == 383
    assert x.byte() is not x and x.char().dtype is cr.int8 and x.short().dtype is cr.int16
    assert x.char().tolist() == [[0, -128, -1]]
    y = cr.tensor([1, -2, 3], dtype=cr.int8)
    assert (y * y).dtype is cr.int8 and (y * y).tolist() == [1, 4, 9]
    assert (y + cr.tensor([1, 1, 1], dtype=cr.uint8)).dtype is cr.int16
    assert cr.tensor([1.0, 2.0])[cr.tensor([1, 0], dtype=cr.int16)].tolist() == [2.0, 1.0]
    assert int(cr.tensor(7, dtype=cr.int8)) == 7 and [1, 2][cr.tensor(1, dtype=cr.uint8)] == 2


def test_narrow_integers_match_torch(torch):
    rng = np.random.default_rng(5)
    for name in ("int8", "int16", "uint8"):
        a = rng.integers(0 if name == "uint8" else -50, 50, (3, 4)).astype(getattr(np, name))
        b = rng.integers(1, 9, (3, 4)).astype(getattr(np, name))
        for f in (
            lambda m, x, y: x + y,
            lambda m, x, y: x * y,
            lambda m, x, y: x - y,
            lambda m, x, y: x.sum(1),
            lambda m, x, y: x.max(0).values,
            lambda m, x, y: m.cat([x, y]),
            lambda m, x, y: x.float() / y,
            lambda m, x, y: x > y,
            lambda m, x, y: x.to(m.float64) * 0.5,
        ):
            ours = f(cr, cr.tensor(a), cr.tensor(b))
            theirs = f(torch, torch.tensor(a), torch.tensor(b))
            assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
