"""Tensor operators through the type's number slots (Note [Operator number slots] in
csrc/bindings/tensor_number_slots.cpp).

`a + b` on an exact Tensor with a Tensor or a Python number skips pybind11's dispatch; every other
operand goes to the methods. Each operator and operand type is compared with the methods called
by name (`Tensor.__add__(a, b)`, the path the operators took before): result, dtype, shape,
grad_fn name, gradients, errors. A second set compares with PyTorch.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import Tensor

BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
}
INPLACE = {
    "add": operator.iadd,
    "sub": operator.isub,
    "mul": operator.imul,
    "truediv": operator.itruediv,
}
TENSOR_DTYPES = ["float32", "float64", "int64", "bool"]


def _values(dtype: str) -> np.ndarray:
    if dtype == "bool":
        return np.array([True, False, True])
    if dtype == "int64":
        return np.array([3, -2, 5])
    return np.array([1.5, -2.0, 0.25], dtype=dtype)


def _tensor(dtype: str, requires_grad: bool = False) -> Tensor:
    t = cr.tensor(_values(dtype), dtype=getattr(cr, dtype))
    if requires_grad:
        t.requires_grad_(True)
    return t


# The operand kinds: Python numbers (the slots' own), NumPy scalars, arrays and lists (the methods').
NUMBERS: dict[str, Any] = {
    "float": 2.5,
    "int": 3,
    "negative_int": -2,
    "bool_true": True,
    "bool_false": False,
    "np_float64": np.float64(2.5),
    "np_float32": np.float32(2.5),
    "np_int64": np.int64(3),
    "array": np.array([1.0, 2.0, 4.0]),
    "list": [1.0, 2.0, 4.0],
}


def _slow(name: str, a: Any, b: Any) -> Any:
    """`a <op> b` as CPython's rule applies it to the methods (what the operators called before)."""
    if isinstance(a, Tensor):
        r = getattr(Tensor, f"__{name}__")(a, b)
        if r is not NotImplemented:
            return r
    return getattr(Tensor, f"__r{name}__")(b, a)


def _outcome(fn: Any) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except Exception as e:
        return "error", (type(e), str(e))


def _same_tensor(got: Any, want: Any) -> None:
    assert isinstance(got, Tensor) and type(got) is type(want)
    assert got.dtype == want.dtype
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.detach().double().numpy(), want.detach().double().numpy())
    assert got.requires_grad == want.requires_grad
    assert (got.grad_fn is None) == (want.grad_fn is None)
    if got.grad_fn is not None:
        assert got.grad_fn.name() == want.grad_fn.name()


def _same_outcome(fast: Any, slow: Any) -> None:
    kind_f, val_f = _outcome(fast)
    kind_s, val_s = _outcome(slow)
    assert kind_f == kind_s, (val_f, val_s)
    if kind_f == "error":
        assert val_f == val_s
    else:
        _same_tensor(val_f, val_s)


def _same_as_methods(name: str, a: Any, b: Any) -> None:
    """`a <op> b` gives what the methods give (result or error)."""
    _same_outcome(lambda: BINARY[name](a, b), lambda: _slow(name, a, b))


# ---- forward results, dtypes, grad_fn names, errors: operators vs methods -------------------------
@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("dtype", TENSOR_DTYPES)
@pytest.mark.parametrize("other", list(NUMBERS))
def test_tensor_op_number_matches_method(name: str, dtype: str, other: str) -> None:
    t = _tensor(dtype, requires_grad=dtype.startswith("float"))
    v = NUMBERS[other]
    _same_outcome(lambda: BINARY[name](t, v), lambda: _slow(name, t, v))


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("dtype", TENSOR_DTYPES)
@pytest.mark.parametrize("other", [k for k in NUMBERS if k != "array"])  # array @ t: NumPy's operator
def test_number_op_tensor_matches_reflected_method(name: str, dtype: str, other: str) -> None:
    t = _tensor(dtype, requires_grad=dtype.startswith("float"))
    v = NUMBERS[other]
    _same_outcome(lambda: BINARY[name](v, t), lambda: _slow(name, v, t))


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("left", TENSOR_DTYPES)
@pytest.mark.parametrize("right", TENSOR_DTYPES)
def test_tensor_op_tensor_matches_method(name: str, left: str, right: str) -> None:
    a = _tensor(left, requires_grad=left.startswith("float"))
    b = _tensor(right)[:, None] if right != left else _tensor(right)  # broadcasting too
    _same_outcome(lambda: BINARY[name](a, b), lambda: _slow(name, a, b))


@pytest.mark.parametrize("dtype", TENSOR_DTYPES)
def test_neg_matches_method(dtype: str) -> None:
    t = _tensor(dtype, requires_grad=dtype.startswith("float"))
    _same_outcome(lambda: -t, lambda: Tensor.__neg__(t))


@pytest.mark.parametrize("left", TENSOR_DTYPES)
@pytest.mark.parametrize("right", TENSOR_DTYPES)
def test_matmul_matches_method(left: str, right: str) -> None:
    a = cr.tensor(np.arange(6).reshape(2, 3) % 2, dtype=getattr(cr, left))
    b = cr.tensor(np.arange(12).reshape(3, 4) % 3, dtype=getattr(cr, right))
    _same_outcome(lambda: a @ b, lambda: Tensor.__matmul__(a, b))
    _same_outcome(lambda: a @ a, lambda: Tensor.__matmul__(a, a))  # a shape error


def test_matmul_with_array_and_list_takes_the_methods() -> None:
    a = cr.tensor(np.ones((2, 3)))
    m = np.ones((3, 2))
    _same_tensor(a @ m, Tensor.__matmul__(a, m))
    _same_outcome(lambda: a @ m.tolist(), lambda: Tensor.__matmul__(a, m.tolist()))  # float32 list: refused
    f = cr.tensor(np.ones((2, 3), dtype=np.float32))
    _same_outcome(lambda: f @ m.tolist(), lambda: Tensor.__matmul__(f, m.tolist()))


@pytest.mark.parametrize("name", list(INPLACE))
@pytest.mark.parametrize("dtype", TENSOR_DTYPES)
@pytest.mark.parametrize("other", ["float", "int", "bool_true", "np_float64", "tensor_f32", "tensor_i64"])
def test_inplace_matches_method(name: str, dtype: str, other: str) -> None:
    operands = {"tensor_f32": _tensor("float32"), "tensor_i64": _tensor("int64")}
    v = operands.get(other, NUMBERS.get(other))
    fast, slow = _tensor(dtype), _tensor(dtype)
    version = fast._version

    def run_fast() -> Tensor:
        x = fast
        x = INPLACE[name](x, v)
        assert x is fast  # in place: the same object back
        return x

    _same_outcome(run_fast, lambda: getattr(Tensor, f"__i{name}__")(slow, v))
    np.testing.assert_array_equal(fast.numpy(), slow.numpy())  # a failed call changed neither
    if fast._version != version:
        assert fast._version == slow._version


def test_inplace_on_leaf_requiring_grad_raises_as_method() -> None:
    x, y = _tensor("float32", True), _tensor("float32", True)

    def fast() -> None:
        z = x
        z += 1.0

    _same_outcome(fast, lambda: Tensor.__iadd__(y, 1.0))


def test_unknown_operand_types_raise_as_methods() -> None:
    t = _tensor("float32")
    for bad in ["abc", None, object(), {"a": 1}]:
        for name in BINARY:
            _same_as_methods(name, t, bad)


class _Reflecting:
    """A type that defines the reflected operators: Python must still reach them."""

    def __radd__(self, other: Any) -> str:
        return "radd"

    def __rmul__(self, other: Any) -> str:
        return "rmul"


def test_other_types_reflected_methods_still_run() -> None:
    t = _tensor("float32")
    # the tensor's own method raises first for an unknown type, as before
    _same_outcome(lambda: t + _Reflecting(), lambda: _slow("add", t, _Reflecting()))
    assert _Reflecting().__radd__(t) == "radd"


def test_subclass_operands_take_the_methods() -> None:
    p = cr.nn.Parameter(cr.tensor([1.0, 2.0]))
    t = cr.tensor([3.0, 4.0], requires_grad=True)
    for name in BINARY:
        for a, b in [(p, t), (t, p), (p, 2.0), (2.0, p)]:
            _same_as_methods(name, a, b)
    _same_outcome(lambda: -p, lambda: Tensor.__neg__(p))


def test_parameter_and_buffer_share_the_tensor_operator_slots() -> None:
    # nn.Parameter and nn.Buffer define no operator: they get Tensor's slots (results as methods).
    t = cr.tensor([3.0, 4.0], requires_grad=True)
    for cls in (cr.nn.Parameter, cr.nn.Buffer):
        p = cls(cr.tensor([1.0, 2.0]))
        for name in BINARY:
            for a, b in [(p, t), (t, p), (p, p), (p, 2.0), (3, p)]:
                _same_as_methods(name, a, b)
        _same_outcome(lambda: -p, lambda: Tensor.__neg__(p))  # noqa: B023 (called at once)
        _same_outcome(lambda: p @ p, lambda: Tensor.__matmul__(p, p))  # noqa: B023
    q = cr.nn.Parameter(cr.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        q += 1.0
    b = cr.nn.Buffer(cr.tensor([1.0, 2.0]))
    b *= 3.0
    assert b.tolist() == [3.0, 6.0] and type(b) is cr.nn.Buffer


def test_subclass_operator_slots_follow_overrides() -> None:
    class Own(cr.nn.Parameter):
        def __mul__(self, other: Any) -> Any:
            return "own"

    assert Own(cr.tensor([1.0])) * 2.0 == "own"
    with pytest.raises(ValueError, match="__mul__"):
        cr._core._install_number_slots(Own)
    with pytest.raises(TypeError):
        cr._core._install_number_slots(int)

    class Plain(cr.nn.Parameter):
        pass

    cr._core._install_number_slots(Plain)
    p = Plain(cr.tensor([1.0, 2.0]))
    _same_as_methods("mul", p, 2.0)
    Plain.__mul__ = lambda self, other: "replaced"  # type: ignore[method-assign,assignment]
    assert p * 2.0 == "replaced"
    assert (cr.nn.Parameter(cr.tensor([1.0])) * 2.0).tolist() == [2.0]  # the base class keeps its own


def test_storage_dtypes_take_the_methods() -> None:
    for dt in [cr.float16, cr.bfloat16, cr.int32, cr.int8, cr.uint8, cr.int16]:
        t = cr.tensor([1, 2, 3], dtype=dt)
        f = cr.tensor([0.5, 1.0, 2.0])
        for name in BINARY:
            for a, b in [(t, 2), (2.5, t), (t, f), (f, t)]:
                _same_as_methods(name, a, b)
        assert (t * 2).dtype == dt
        assert (t * 2.5).dtype == (cr.float32 if dt in (cr.int32, cr.int8, cr.uint8, cr.int16) else dt)


def test_huge_python_int_takes_the_methods() -> None:
    t = _tensor("float64")
    big = 2**80
    _same_outcome(lambda: t * big, lambda: _slow("mul", t, big))
    i = _tensor("int64")
    _same_outcome(lambda: i + big, lambda: _slow("add", i, big))


def test_replacing_a_method_reaches_the_replacement() -> None:
    original = Tensor.__dict__["__mul__"]
    try:
        Tensor.__mul__ = lambda self, other: "replaced"  # type: ignore[method-assign,assignment]
        assert cr.tensor([1.0]) * 2.0 == "replaced"
    finally:
        Tensor.__mul__ = original  # type: ignore[method-assign]
    assert isinstance(cr.tensor([1.0]) * 2.0, Tensor)


def test_hand_computed_results_and_dtypes() -> None:
    x = cr.tensor([1.0, 2.0])
    np.testing.assert_allclose((x * 2 + 1).numpy(), [3.0, 5.0])
    np.testing.assert_allclose((1 - x).numpy(), [0.0, -1.0])
    np.testing.assert_allclose((3.0 / x).numpy(), [3.0, 1.5])
    i = cr.tensor([1, 2])
    assert (i * 1.5).dtype == cr.float32  # int tensor * Python float -> default float dtype
    assert (i / 2).dtype == cr.float32
    assert (i * 2).dtype == cr.int64
    assert (i * True).dtype == cr.int64
    b = cr.tensor([True, False])
    assert (b + True).dtype == cr.bool
    assert (b * 2).dtype == cr.int64
    assert (b * 2.0).dtype == cr.float32
    d = cr.tensor([1.0], dtype=cr.float64)
    assert (d * 2.0).dtype == cr.float64  # a Python float takes the tensor's floating dtype
    assert (x * d).dtype == cr.float64


# ---- gradients: operators vs methods, and float64 gradcheck ---------------------------------------
def _grads(fn: Any, *leaves: Tensor) -> list[np.ndarray]:
    y = fn(*leaves)
    (y * cr.tensor(np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape)))).sum().backward()
    return [leaf.grad.numpy().copy() for leaf in leaves]


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("other", ["float", "int", "bool_true", "np_float64"])
def test_gradients_match_methods(name: str, other: str) -> None:
    v = NUMBERS[other]
    if name == "sub" and other == "bool_true":
        # PyTorch refuses a bool operand of `-`; so do both paths
        for fn in (lambda a: BINARY[name](a, v), lambda a: _slow(name, a, v), lambda a: BINARY[name](v, a)):
            with pytest.raises(RuntimeError, match="with a bool tensor is not supported"):
                fn(_tensor("float64", True))
        return
    for fast, slow in [
        (lambda a: BINARY[name](a, v), lambda a: _slow(name, a, v)),
        (lambda a: BINARY[name](v, a), lambda a: _slow(name, v, a)),
    ]:
        g_fast = _grads(fast, _tensor("float64", True))
        g_slow = _grads(slow, _tensor("float64", True))
        np.testing.assert_array_equal(g_fast[0], g_slow[0])


@pytest.mark.parametrize("name", list(BINARY))
def test_tensor_tensor_gradients_with_broadcasting(name: str) -> None:
    def fast(a: Tensor, b: Tensor) -> Tensor:
        return BINARY[name](a, b)

    def slow(a: Tensor, b: Tensor) -> Tensor:
        return _slow(name, a, b)

    def leaves() -> tuple[Tensor, Tensor]:
        a = cr.tensor(np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]), requires_grad=True)
        b = cr.tensor(np.array([2.0, -0.5, 4.0]), requires_grad=True)
        return a, b

    for gf, gs in zip(_grads(fast, *leaves()), _grads(slow, *leaves())):
        np.testing.assert_array_equal(gf, gs)
        assert gf.shape == gs.shape


def test_gradcheck_of_an_operator_expression() -> None:
    a = cr.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    b = cr.tensor(np.array([1.5, 0.7, -0.4]), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, y: -(x * y + 2.0 * x - y / 3.0) / (y * y + 1.0) @ x - 1, (a, b))


def test_inplace_gradient_and_version_counter() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    v = y._version
    y += 2.0
    y *= 3
    y -= x
    y /= 2.0
    assert y._version == v + 4
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])  # ((x + 2) * 3 - x) / 2


def test_modified_saved_tensor_is_detected() -> None:
    def run(inplace: Any) -> tuple[type, str]:
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        a = x * 1.0
        b = a * a
        inplace(a)
        with pytest.raises(RuntimeError) as info:
            b.sum().backward()
        return type(info.value), str(info.value)

    def fast(a: Tensor) -> None:
        a += 1.0

    assert run(fast) == run(lambda a: Tensor.__iadd__(a, 1.0))


def test_hooks_on_operator_results() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = x * 2.0
    y.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    (y + 1.0).sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])


def test_no_grad_results_have_no_history() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        y = -(x * 2.0 + x) / 3
    assert y.grad_fn is None and not y.requires_grad


def test_forward_ad_through_operators() -> None:
    import chainrule.autograd.forward_ad as fwAD

    p = cr.tensor([1.0, 2.0], dtype=cr.float64)
    t = cr.tensor([0.5, -1.0], dtype=cr.float64)
    with fwAD.dual_level():
        x = fwAD.make_dual(p, t)
        y = -(x * x * 3.0 + 2 * x - 1.0 / x) / 2.0
        tangent = fwAD.unpack_dual(y).tangent
    pn, tn = p.numpy(), t.numpy()
    np.testing.assert_allclose(tangent.numpy(), -(6.0 * pn + 2.0 + 1.0 / pn**2) / 2.0 * tn)


def test_anomaly_mode_names_the_operator_call() -> None:
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        y = x / x  # 0/0: a NaN gradient
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
    assert "DivBackward0" in str(info.value)
    assert "test_eager_fastpath.py" in str(info.value)


def test_long_chain_backward_and_free() -> None:
    x = cr.tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    y = x
    for _ in range(2000):
        y = y * 1.0001
        y = y + 0.001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(4, 1.0001**2000), rtol=1e-4)


# ---- single-tensor calls (Note [Single-tensor calls] in csrc/bindings/tensor_operators.h) ----------
# t.sum(), t.mean(), t.relu(), cr.exp(t)... with one exact Tensor and nothing else call the op
# directly; the same call with its argument by keyword goes through pybind11's dispatch.
SINGLE = [
    "exp", "log", "sqrt", "rsqrt", "sign", "sin", "cos", "erf", "square", "reciprocal",
    "logical_not", "bitwise_not", "relu", "sigmoid", "tanh", "abs", "sum", "mean",
]  # fmt: skip


def _single_input(dtype: str, requires_grad: bool) -> Tensor:
    if dtype in ("bool", "int64"):
        return _tensor(dtype)
    t = cr.tensor(np.array([[1.5, 0.25, 3.0], [0.5, 2.0, 0.75]], dtype=dtype))
    return t.requires_grad_(requires_grad)


@pytest.mark.parametrize("name", SINGLE)
@pytest.mark.parametrize("dtype", TENSOR_DTYPES)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_single_tensor_calls_match_the_bound_function(name: str, dtype: str, requires_grad: bool) -> None:
    if requires_grad and dtype in ("bool", "int64"):
        pytest.skip("integer tensors cannot require grad")
    t = _single_input(dtype, requires_grad)
    fn = getattr(cr._core, name)
    slow = lambda: fn(input=t)  # noqa: E731
    _same_outcome(lambda: fn(t), slow)
    _same_outcome(lambda: getattr(t, name)(), slow)
    _same_outcome(lambda: Tensor.__dict__[name](t), slow)
    kind, result = _outcome(slow)
    if kind == "ok" and result.requires_grad:
        grads = []
        for call in (lambda: getattr(t, name)(), slow):
            t.grad = None
            (call() * 1.5).sum().backward()
            grads.append(t.grad.numpy().copy())
        np.testing.assert_array_equal(grads[0], grads[1])


def test_single_tensor_calls_with_arguments_subclasses_and_storage_dtypes() -> None:
    t = cr.tensor([[1.0, -2.0], [3.0, 4.5]], requires_grad=True)
    # further arguments: the bound function's parsing (dim, keepdim, dtype)
    assert t.sum(1).tolist() == [-1.0, 7.5]
    assert t.mean(0, keepdim=True).tolist() == [[2.0, 1.25]]
    assert t.sum(dtype=cr.float64).dtype == cr.float64
    with pytest.raises(TypeError):
        t.relu(1)
    # a subclass instance (nn.Parameter): the same result as the bound function
    p = cr.nn.Parameter(cr.tensor([[1.0, -2.0], [3.0, 4.5]]))
    for name in ("sum", "mean", "relu", "exp"):
        method, fn = getattr(p, name), getattr(cr._core, name)
        _same_outcome(method, lambda: fn(input=p))  # noqa: B023 (called at once)
    # storage dtypes: computed in float32 and rounded back, as before
    h = cr.tensor([1.0, 2.0, 4.0], dtype=cr.float16)
    assert h.sum().dtype == cr.float16 and h.sum().item() == 7.0
    assert h.relu().dtype == cr.float16 and cr.exp(h).dtype == cr.float16


def test_single_tensor_calls_are_recorded_by_compile() -> None:
    def step(x: Tensor) -> Tensor:
        return x.relu().sum() + cr.nn.functional.relu(x).mean() + cr.exp(x).sum()

    compiled = cr.compile(step)
    for values in ([1.0, -2.0, 3.0], [0.5, 4.0, -1.0], [-3.0, 2.0, 2.0]):
        x = cr.tensor(values)
        assert compiled(x).item() == step(x).item()


# ---- against PyTorch ------------------------------------------------------------------------------
TORCH_NUMBERS = ["float", "int", "negative_int", "bool_true", "np_float64", "np_float32", "np_int64"]


def _torch_dtype(torch: Any, dtype: str) -> Any:
    return getattr(torch, dtype)


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("dtype", TENSOR_DTYPES)
@pytest.mark.parametrize("other", TORCH_NUMBERS)
@pytest.mark.parametrize("reflected", [False, True])
def test_number_ops_match_torch(torch: Any, name: str, dtype: str, other: str, reflected: bool) -> None:
    v = NUMBERS[other]
    grad = dtype.startswith("float")
    t = _tensor(dtype, grad)
    tt = torch.tensor(_values(dtype), dtype=_torch_dtype(torch, dtype), requires_grad=grad)
    op = BINARY[name]

    def call(x: Any) -> Any:
        return op(v, x) if reflected else op(x, v)

    kind, got = _outcome(lambda: call(t))
    try:
        want = call(tt)
    except Exception:
        assert kind == "error"
        return
    assert kind == "ok", got
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6)
    if grad:
        got.sum().backward()
        want.sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("left", TENSOR_DTYPES)
@pytest.mark.parametrize("right", TENSOR_DTYPES)
def test_tensor_ops_match_torch(torch: Any, name: str, left: str, right: str) -> None:
    a = _tensor(left, left.startswith("float"))
    b = _tensor(right)[:, None]
    ta = torch.tensor(_values(left), dtype=_torch_dtype(torch, left), requires_grad=left.startswith("float"))
    tb = torch.tensor(_values(right), dtype=_torch_dtype(torch, right))[:, None]
    kind, got = _outcome(lambda: BINARY[name](a, b))
    try:
        want = BINARY[name](ta, tb)
    except Exception:
        assert kind == "error"
        return
    assert kind == "ok", got
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6)
    if left.startswith("float") and got.requires_grad:
        got.sum().backward()
        want.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", list(INPLACE))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("other", ["float", "int", "bool_true"])
def test_inplace_matches_torch(torch: Any, name: str, dtype: str, other: str) -> None:
    v = NUMBERS[other]
    t = _tensor(dtype)
    tt = torch.tensor(_values(dtype), dtype=_torch_dtype(torch, dtype))
    kind, got = _outcome(lambda: INPLACE[name](t, v))
    try:
        want = INPLACE[name](tt, v)
    except Exception:
        assert kind == "error"
        np.testing.assert_array_equal(t.numpy(), _values(dtype))
        return
    assert kind == "ok", got
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_chain_gradient_matches_torch(torch: Any) -> None:
    x = cr.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    tx = torch.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    for v, m in [(x, cr), (tx, torch)]:
        y = v
        for k in range(20):
            y = -(y * 1.01 + 0.1) / (1.0 + 0.01 * k) - 2 * y @ y / 100 if k % 3 == 0 else y * y / 10 + 0.5 - y
        y.sum().backward()
        del m
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9)


def test_tensor_objects_are_freed_by_each_dealloc_path():
    # Note [Tensor dealloc]: an exact Tensor is taken apart by chainrule's own dealloc, a weakly
    # referenced one or a subclass's by pybind11's; each frees its tensor and forgets its object
    import gc
    import weakref

    import chainrule.nn as nn

    x = cr.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    g = x.grad
    assert x.grad is g  # one Python object per tensor while it lives
    del g
    assert float(x.grad.sum()) == 6.0 and x.grad is x.grad  # a new object, registered again
    dead = []
    t = cr.ones(2)
    ref = weakref.ref(t, lambda r: dead.append(r))
    del t
    assert ref() is None and len(dead) == 1
    p = nn.Parameter(cr.ones(2))
    pref = weakref.ref(p)
    del p
    gc.collect()
    assert pref() is None
