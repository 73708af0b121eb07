"""Autograd API surface: backward(inputs=), custom Function ctx (saved tensors, non-differentiable and
dirty outputs), exception classes, out= on creation ops, alpha= on add/sub, the generic backward node,
the op registry, and in-place atan2_/hypot_."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import _core
from helpers import rand, to_np


def _backward_function(t, **kwargs):
    cr.autograd.backward(t, **kwargs)


def _backward_method(t, **kwargs):
    t.backward(**kwargs)


BACKWARD_FORMS = pytest.mark.parametrize(
    "run_backward", [_backward_function, _backward_method], ids=["autograd.backward", "Tensor.backward"]
)


# ---------------------------------------------------------------------------------------------------
# backward(inputs=...)


@BACKWARD_FORMS
def test_backward_inputs_updates_only_listed_tensors(run_backward):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 4.0], requires_grad=True)
    run_backward((x * y).sum(), inputs=[x])
    np.testing.assert_array_equal(to_np(x.grad), [3.0, 4.0])
    assert y.grad is None


@BACKWARD_FORMS
def test_backward_inputs_runs_hook_of_listed_leaf_and_accumulates_its_result(run_backward):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 4.0], requires_grad=True)
    seen = []

    def hook(g):
        seen.append(to_np(g).copy())
        return g * 10.0

    x.register_hook(hook)
    run_backward((x * y).sum(), inputs=[x])
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [3.0, 4.0])
    np.testing.assert_array_equal(to_np(x.grad), [30.0, 40.0])


@BACKWARD_FORMS
def test_backward_inputs_skips_hook_of_unlisted_leaf(run_backward):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 4.0], requires_grad=True)
    fired = []
    y.register_hook(lambda g: fired.append(True))
    run_backward((x * y).sum(), inputs=[x])
    assert fired == []
    assert y.grad is None


@BACKWARD_FORMS
def test_backward_inputs_accumulates_across_calls(run_backward):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 4.0], requires_grad=True)
    run_backward((x * y).sum(), inputs=[x])
    run_backward((x * y).sum(), inputs=[x])
    np.testing.assert_array_equal(to_np(x.grad), [6.0, 8.0])
    assert y.grad is None


@BACKWARD_FORMS
def test_backward_inputs_populates_grad_of_non_leaf(run_backward):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    assert not h.is_leaf
    run_backward((h * h).sum(), inputs=[h])
    np.testing.assert_array_equal(to_np(h.grad), [4.0, 8.0])  # d(h^2)/dh = 2h
    assert x.grad is None


@BACKWARD_FORMS
def test_backward_inputs_skips_input_unused_by_graph(run_backward):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    unused = cr.tensor([5.0], requires_grad=True)
    run_backward((x * 2.0).sum(), inputs=[x, unused])
    np.testing.assert_array_equal(to_np(x.grad), [2.0, 2.0])
    assert unused.grad is None


@BACKWARD_FORMS
def test_backward_empty_inputs_raises(run_backward):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="inputs"):
        run_backward((x * 2.0).sum(), inputs=[])
    assert x.grad is None


@BACKWARD_FORMS
def test_backward_inputs_with_create_graph_gives_differentiable_grad(run_backward):
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="reference cycle"):
        run_backward((x * x * x).sum(), inputs=[x], create_graph=True)
    assert x.grad.grad_fn is not None
    np.testing.assert_allclose(to_np(x.grad), [3.0, 12.0])
    (gg,) = cr.autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(to_np(gg), [6.0, 12.0])  # d/dx 3x^2 = 6x
    x.grad = None  # x.grad's graph saves x: the cycle the warning names


def test_backward_create_graph_warns_of_the_cycle_and_grad_does_not():
    import warnings

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="create_graph=True will create a reference cycle"):
        (x * x).sum().backward(create_graph=True)
    x.grad = None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = cr.autograd.grad((x * x).sum(), x, create_graph=True)
        (x * x).sum().backward()
    np.testing.assert_allclose(to_np(g), [2.0, 4.0])
    np.testing.assert_allclose(to_np(x.grad), [2.0, 4.0])


def test_backward_inputs_matches_torch(torch):
    xa, ya, wa = rand(3, seed=1), rand(3, seed=2), rand(3, seed=3)

    def run(lib):
        x = lib.tensor(xa.copy(), requires_grad=True)
        y = lib.tensor(ya.copy(), requires_grad=True)
        w = lib.tensor(wa.copy(), requires_grad=True)
        fired = []
        x.register_hook(lambda g: g * 3.0)
        w.register_hook(lambda g: fired.append(True))
        h = (x * y).tanh()
        out = (h * h * w).sum()
        lib.autograd.backward(out, inputs=[x, h], retain_graph=True)
        h_grad = np.array(h.grad.detach().numpy())
        out.backward(inputs=[x])
        return x.grad, h_grad, y.grad, w.grad, fired

    cx, ch, cy, cw, cfired = run(cr)
    tx, th, ty, tw, tfired = run(torch)
    np.testing.assert_allclose(to_np(cx), tx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ch, th, rtol=1e-12)
    assert cy is None and ty is None
    assert cw is None and tw is None
    assert cfired == tfired == []


def test_backward_inputs_non_leaf_keeps_retaining_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    out = (h * h).sum()
    out.backward(inputs=[h], retain_graph=True)
    out.backward()
    np.testing.assert_array_equal(to_np(h.grad), [8.0, 16.0])


# ---------------------------------------------------------------------------------------------------
# autograd.Function: ctx


class Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3.0 * x * x * g


class ExpSavingOutput(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class DoubleInPlace(cr.autograd.Function):
    """Doubles its input in place and returns it."""

    @staticmethod
    def forward(ctx, x):
        x.mul_(2.0)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2.0


class ScaledPair(cr.autograd.Function):
    """(2x, 3x) with the second output marked non-differentiable."""

    @staticmethod
    def forward(ctx, x):
        a, b = x * 2.0, x * 3.0
        ctx.mark_non_differentiable(b)
        return a, b

    @staticmethod
    def backward(ctx, *grads):
        return grads[0] * 2.0


class RowMax(cr.autograd.Function):
    """Row maxima and their int64 indices; the indices are non-differentiable."""

    @staticmethod
    def forward(ctx, x):
        values, indices = cr.max(x, 1)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.n = x.shape[1]
        return values, indices

    @staticmethod
    def backward(ctx, *grads):
        (indices,) = ctx.saved_tensors
        onehot = cr.arange(ctx.n).unsqueeze(0) == indices.unsqueeze(1)
        return cr.where(onehot, grads[0].unsqueeze(1), cr.zeros(1))


class PairWithNonDifferentiable(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        a, b = x * 2.0, x * 3.0
        ctx.mark_non_differentiable(b)
        return a, b

    @staticmethod
    def backward(ctx, ga, gb):
        return ga * 2.0


def test_function_saved_input_modified_in_place_raises_on_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = x.clone()
    y = Cube.apply(a)
    with cr.no_grad():
        a.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_function_second_backward_without_retain_graph_raises():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_function_retain_graph_allows_second_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    np.testing.assert_allclose(to_np(x.grad), [6.0, 24.0])


def test_function_saving_its_output_gives_correct_gradient():
    x = cr.tensor([0.5, -1.0, 2.0], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(ExpSavingOutput.apply, [x])


def test_function_double_backward_through_saved_input():
    x = cr.tensor([0.5, -1.5, 2.0], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(Cube.apply, [x])
    assert cr.autograd.gradgradcheck(Cube.apply, [x])


def test_function_double_backward_through_saved_output():
    x = cr.tensor([0.5, -1.0, 2.0], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradgradcheck(ExpSavingOutput.apply, [x])


def test_mark_non_differentiable_float_output_does_not_require_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a, b = ScaledPair.apply(x)
    assert a.requires_grad and a.grad_fn.name() == "ScaledPairBackward"
    assert not b.requires_grad and b.grad_fn is None
    np.testing.assert_array_equal(to_np(b), [3.0, 6.0])
    a.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [2.0, 2.0])


def test_mark_non_differentiable_integer_indices_output():
    x = cr.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 1.0]], requires_grad=True)
    values, indices = RowMax.apply(x)
    assert values.requires_grad
    assert not indices.requires_grad and indices.dtype == cr.int64
    np.testing.assert_array_equal(to_np(indices), [0, 1])
    (values * cr.tensor([2.0, 7.0])).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [[2.0, 0.0, 0.0], [0.0, 7.0, 0.0]])


def test_function_backward_gets_one_gradient_per_output_with_non_differentiable_output():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a, _ = PairWithNonDifferentiable.apply(x)
    a.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [2.0, 2.0])


def test_mark_dirty_returns_the_input_modified_in_place():
    leaf = cr.tensor([1.0, 2.0], requires_grad=True)
    a = leaf.clone()
    version = a._version
    out = DoubleInPlace.apply(a)
    assert out is a or out._is_same(a)
    assert a._version > version
    np.testing.assert_array_equal(to_np(a), [2.0, 4.0])
    assert out.grad_fn.name() == "DoubleInPlaceBackward"
    assert a.grad_fn.name() == "DoubleInPlaceBackward"


def test_mark_dirty_backward_reaches_upstream_leaf():
    leaf = cr.tensor([1.0, 2.0], requires_grad=True)
    a = leaf.clone()
    out = DoubleInPlace.apply(a)
    (out * cr.tensor([1.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(to_np(leaf.grad), [2.0, 6.0])


def test_mark_dirty_on_leaf_requiring_grad_raises():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        DoubleInPlace.apply(x)


# ---------------------------------------------------------------------------------------------------
# Exception classes


@pytest.mark.parametrize(
    "name, bases",
    [
        ("ShapeError", (ValueError, RuntimeError)),
        ("DTypeError", (TypeError, RuntimeError)),
        ("IndexingError", (IndexError, RuntimeError)),
        ("ArgumentError", (ValueError, RuntimeError)),
        ("AutogradError", (RuntimeError,)),
    ],
)
def test_exception_class_subclasses_builtin_errors(name, bases):
    exc = getattr(cr, name)
    for base in bases:
        assert issubclass(exc, base), (name, base)


def test_exception_class_repr_names_chainrule():
    assert "chainrule.ShapeError" in repr(cr.ShapeError)


def test_broadcast_mismatch_raises_shape_error():
    with pytest.raises(cr.ShapeError):
        cr.add(cr.zeros(3), cr.zeros(4))


@pytest.mark.parametrize("base", [RuntimeError, ValueError])
def test_shape_error_is_caught_by_builtin_except(base):
    try:
        cr.add(cr.zeros(3), cr.zeros(4))
    except base as e:
        assert isinstance(e, cr.ShapeError)
    else:
        pytest.fail("no exception raised")


def test_dim_out_of_range_raises_indexing_error():
    with pytest.raises(cr.IndexingError):
        cr.zeros(3).sum(5)


def test_where_with_non_bool_condition_raises_dtype_error():
    with pytest.raises(cr.DTypeError):
        cr.where(cr.zeros(3), cr.zeros(3), cr.ones(3))


def test_float_alpha_with_integer_tensors_raises_dtype_error():
    with pytest.raises(cr.DTypeError, match="alpha"):
        cr.add(cr.tensor([1, 2]), cr.tensor([1, 2]), alpha=0.5)


def test_second_backward_raises_autograd_error():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(cr.AutogradError):
        y.backward()


# ---------------------------------------------------------------------------------------------------
# out= on creation functions


@pytest.mark.parametrize(
    "fn, fill", [(cr.zeros, 0.0), (cr.ones, 1.0), (cr.empty, None)], ids=["zeros", "ones", "empty"]
)
def test_creation_out_writes_into_and_returns_out(fn, fill):
    out = cr.full((2, 3), 7.0)
    result = fn(2, 3, out=out)
    assert result is out
    assert tuple(out.shape) == (2, 3)
    if fill is not None:
        np.testing.assert_array_equal(to_np(out), np.full((2, 3), fill))


@pytest.mark.parametrize("fn", [cr.zeros, cr.ones, cr.empty], ids=["zeros", "ones", "empty"])
def test_creation_out_shape_mismatch_raises_shape_error_without_resize(fn):
    out = cr.empty(4)
    with pytest.raises(cr.ShapeError):
        fn(3, out=out)
    assert tuple(out.shape) == (4,)


@pytest.mark.parametrize("fn", [cr.zeros, cr.ones, cr.empty], ids=["zeros", "ones", "empty"])
def test_creation_out_dtype_mismatch_raises_dtype_error(fn):
    with pytest.raises(cr.DTypeError):
        fn(3, dtype=cr.float64, out=cr.empty(3))


@pytest.mark.parametrize("fn", [cr.zeros, cr.ones, cr.empty], ids=["zeros", "ones", "empty"])
def test_creation_out_requiring_grad_raises(fn):
    out = cr.empty(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="out="):
        fn(3, out=out)


# ---------------------------------------------------------------------------------------------------
# add / sub with alpha=


@pytest.mark.parametrize("fn, sign", [(cr.add, 1.0), (cr.sub, -1.0)], ids=["add", "sub"])
def test_alpha_scales_other_in_value(fn, sign):
    a = cr.tensor([1.0, 2.0])
    b = cr.tensor([3.0, 5.0])
    np.testing.assert_allclose(to_np(fn(a, b, alpha=0.5)), [1.0 + sign * 1.5, 2.0 + sign * 2.5])


@pytest.mark.parametrize(
    "fn, sign, node", [(cr.add, 1.0, "AddBackward0"), (cr.sub, -1.0, "SubBackward0")], ids=["add", "sub"]
)
def test_alpha_scales_gradient_of_other(fn, sign, node):
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 5.0], requires_grad=True)
    out = fn(a, b, alpha=0.5)
    assert out.grad_fn.name() == node
    out.backward(cr.tensor([1.0, 10.0]))
    np.testing.assert_allclose(to_np(a.grad), [1.0, 10.0])
    np.testing.assert_allclose(to_np(b.grad), [sign * 0.5, sign * 5.0])


@pytest.mark.parametrize("number", [1, 2.5, -0.0, 3], ids=["int", "float", "negzero", "int3"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_number_minus_tensor_is_rsub(number, dtype):
    # PyTorch's RsubBackward1: one edge (the number has none); values as number - x in the dtype
    x_np = np.array([1.5, -2.0, 0.0, -0.0, np.inf, 1e-30], dtype=dtype)
    x = cr.tensor(x_np, requires_grad=True)
    out = number - x
    assert out.grad_fn.name() == "RsubBackward1"
    assert len(out.grad_fn.next_functions) == 1
    assert out.dtype == x.dtype
    want = np.asarray(number, dtype=dtype) - x_np
    assert np.array_equal(to_np(out), want, equal_nan=True)
    assert np.array_equal(np.signbit(to_np(out)), np.signbit(want))
    out.backward(cr.tensor(np.arange(6, dtype=dtype)))
    np.testing.assert_array_equal(to_np(x.grad), -np.arange(6, dtype=dtype))
    # an integer tensor and a huge int take the general path
    assert (1 - cr.tensor([1, 2])).dtype == cr.int64
    assert float((2**60 - cr.tensor([0.0]))[0]) == float(np.float32(2**60))


@pytest.mark.parametrize("method", ["add", "sub"])
def test_alpha_as_method_keyword(method):
    a = cr.tensor([1.0, 2.0])
    b = cr.tensor([3.0, 5.0])
    sign = 1.0 if method == "add" else -1.0
    np.testing.assert_allclose(to_np(getattr(a, method)(b, alpha=2.0)), [1.0 + sign * 6.0, 2.0 + sign * 10.0])


@pytest.mark.parametrize("fn, expected", [(cr.add, [7, 12]), (cr.sub, [-5, -8])], ids=["add", "sub"])
def test_integral_alpha_with_integer_tensors(fn, expected):
    out = fn(cr.tensor([1, 2]), cr.tensor([3, 5]), alpha=2)
    assert out.dtype == cr.int64
    np.testing.assert_array_equal(to_np(out), expected)


# ---------------------------------------------------------------------------------------------------
# Generic backward node (derivatives table)


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x.tanh(),
        lambda x: x * x,
        lambda x: cr.atan2(x, x + 1.0),
    ],
    ids=["tanh", "mul", "atan2"],
)
def test_generic_node_releases_saved_tensors_after_backward(op):
    x = cr.tensor([0.5, 2.0], requires_grad=True)
    y = op(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_generic_node_computes_no_gradient_for_input_not_requiring_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    c = cr.tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(to_np(x.grad), [3.0, 4.0])


BROADCAST_OPS = {
    "mul": cr.mul,
    "div": cr.div,
    "pow": cr.pow,
    "maximum": cr.maximum,
    "where": lambda a, b: cr.where(a > b, a, b),
    "atan2": cr.atan2,
    "hypot": cr.hypot,
}


@pytest.mark.parametrize("name", list(BROADCAST_OPS))
def test_broadcast_gradient_is_summed_back_to_input_shape(name):
    fn = BROADCAST_OPS[name]
    a = cr.tensor(rand(3, 1, seed=1, low=0.5, high=1.5), requires_grad=True)
    b = cr.tensor(rand(1, 4, seed=2, low=0.5, high=1.5), requires_grad=True)
    fn(a, b).sum().backward()
    assert tuple(a.grad.shape) == (3, 1)
    assert tuple(b.grad.shape) == (1, 4)


@pytest.mark.parametrize("name", list(BROADCAST_OPS))
def test_broadcast_gradient_matches_finite_differences(name):
    a = cr.tensor(rand(3, 1, seed=1, low=0.5, high=1.5), requires_grad=True)
    b = cr.tensor(rand(1, 4, seed=2, low=0.5, high=1.5), requires_grad=True)
    assert cr.autograd.gradcheck(BROADCAST_OPS[name], [a, b])


def _square_matrix(lib, requires_grad=True):
    return lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=requires_grad)


GRAD_FN_CASES = [
    ("mul", lambda lib, x: x * x, "MulBackward0"),
    ("div", lambda lib, x: x / (x + 10.0), "DivBackward0"),
    ("pow_scalar", lambda lib, x: x**2.0, "PowBackward0"),
    ("pow_tensor", lambda lib, x: x**x, "PowBackward1"),
    ("tanh", lambda lib, x: x.tanh(), "TanhBackward0"),
    ("softmax", lambda lib, x: lib.softmax(x, 1), "SoftmaxBackward0"),
    ("matmul", lambda lib, x: lib.matmul(x, x), "MmBackward0"),
    ("layer_norm", lambda lib, x: lib.nn.functional.layer_norm(x, (2,)), "NativeLayerNormBackward0"),
    ("atan2", lambda lib, x: lib.atan2(x, x + 1.0), "Atan2Backward0"),
    ("hypot", lambda lib, x: lib.hypot(x, x + 1.0), "HypotBackward0"),
]


@pytest.mark.parametrize("case", GRAD_FN_CASES, ids=[c[0] for c in GRAD_FN_CASES])
def test_grad_fn_name(case):
    _, fn, expected = case
    assert fn(cr, _square_matrix(cr)).grad_fn.name() == expected


def test_grad_fn_names_match_torch(torch):
    for label, fn, _ in GRAD_FN_CASES:
        ours = fn(cr, _square_matrix(cr)).grad_fn.name()
        theirs = fn(torch, _square_matrix(torch)).grad_fn.name()
        assert ours == theirs, label


# ---------------------------------------------------------------------------------------------------
# Op registry


REGISTRY = _core._op_registry()


def _function_namespace(name):
    """Public registry functions are chainrule functions; underscore-prefixed ones stay in _core."""
    return _core if name.startswith("_") else cr


def test_registry_rows_are_name_variants_aliases():
    assert isinstance(REGISTRY, list) and REGISTRY
    for row in REGISTRY:
        name, variants, aliases = row
        assert isinstance(name, str) and name
        assert variants and set(variants) <= {"function", "method", "inplace"}, row
        assert all(isinstance(a, str) for a in aliases), row


def test_registry_functions_are_bound():
    missing = [n for n, v, _ in REGISTRY if "function" in v and not hasattr(_function_namespace(n), n)]
    assert not missing


def test_registry_public_functions_are_chainrule_attributes():
    missing = [n for n, v, _ in REGISTRY if "function" in v and not n.startswith("_") and not hasattr(cr, n)]
    assert not missing


def test_registry_methods_are_tensor_attributes():
    missing = [n for n, v, _ in REGISTRY if "method" in v and not hasattr(cr.Tensor, n)]
    assert not missing


def test_registry_inplace_variants_are_tensor_attributes():
    missing = [n + "_" for n, v, _ in REGISTRY if "inplace" in v and not hasattr(cr.Tensor, n + "_")]
    assert not missing


def test_registry_aliases_are_bound_like_their_op():
    missing = []
    for _name, variants, aliases in REGISTRY:
        for alias in aliases:
            if "function" in variants and not hasattr(_function_namespace(alias), alias):
                missing.append(f"function {alias}")
            if "method" in variants and not hasattr(cr.Tensor, alias):
                missing.append(f"Tensor.{alias}")
            if "inplace" in variants and not hasattr(cr.Tensor, alias + "_"):
                missing.append(f"Tensor.{alias}_")
    assert not missing


def test_registry_docstrings_are_non_empty():
    empty = []
    for name, variants, aliases in REGISTRY:
        for n in (name, *aliases):
            bound = []
            if "function" in variants:
                bound.append((n, getattr(_function_namespace(n), n)))
            if "method" in variants:
                bound.append((f"Tensor.{n}", getattr(cr.Tensor, n)))
            if "inplace" in variants:
                bound.append((f"Tensor.{n}_", getattr(cr.Tensor, n + "_")))
            empty += [label for label, f in bound if not (f.__doc__ or "").strip()]
    assert not empty


def _alias_args():
    x = cr.tensor([[-0.5, 0.25, 1.5], [2.0, -3.0, 0.75]])
    y = cr.tensor([[1.0, 0.25, -1.5], [0.5, 2.0, 4.0]])
    return {
        "sub": (x, y),
        "mul": (x, y),
        "div": (x, y),
        "neg": (x,),
        "abs": (x,),
        "clamp": (x, 0.0, 1.0),
        "ne": (x, y),
        "lt": (x, y),
        "le": (x, y),
        "gt": (x, y),
        "ge": (x, y),
        "transpose": (x, 0, 1),
        "movedim": (x, 0, 1),
        "cat": ([x, y],),
    }


ALIAS_PAIRS = [(name, alias) for name, _, aliases in REGISTRY for alias in aliases if name in _alias_args()]


@pytest.mark.parametrize("name, alias", ALIAS_PAIRS, ids=[f"{a}={n}" for n, a in ALIAS_PAIRS])
def test_alias_computes_the_same_as_its_op(name, alias):
    variants = next(v for n, v, _ in REGISTRY if n == name)
    args = _alias_args()[name]
    if "function" in variants:
        np.testing.assert_array_equal(to_np(getattr(cr, alias)(*args)), to_np(getattr(cr, name)(*args)))
    if "method" in variants:
        self_, *rest = args
        np.testing.assert_array_equal(to_np(getattr(self_, alias)(*rest)), to_np(getattr(self_, name)(*rest)))
    if "inplace" in variants:
        self_, *rest = args
        a, b = self_.clone(), self_.clone()
        getattr(a, alias + "_")(*rest)
        getattr(b, name + "_")(*rest)
        np.testing.assert_array_equal(to_np(a), to_np(b))


def test_clip_equals_clamp():
    x = cr.tensor([-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(to_np(cr.clip(x, 0, 1)), to_np(cr.clamp(x, 0, 1)))
    np.testing.assert_array_equal(to_np(cr.clip(x, 0, 1)), [0.0, 0.5, 1.0])


# ---------------------------------------------------------------------------------------------------
# atan2_ / hypot_


@pytest.mark.parametrize("name", ["atan2", "hypot"])
def test_binary_inplace_returns_self_and_matches_out_of_place(name):
    x = cr.tensor([1.0, -2.0, 0.5, -0.25])
    y = cr.tensor([2.0, 1.0, -1.0, -3.0])
    expected = to_np(getattr(cr, name)(x.clone(), y))
    version = x._version
    result = getattr(x, name + "_")(y)
    assert result is x
    assert x._version > version
    np.testing.assert_allclose(to_np(x), expected, rtol=1e-6)


@pytest.mark.parametrize("name", ["atan2", "hypot"])
def test_binary_inplace_on_leaf_requiring_grad_raises(name):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(x, name + "_")(cr.tensor([2.0, 1.0]))
    np.testing.assert_array_equal(to_np(x), [1.0, 2.0])


@pytest.mark.parametrize("name", ["atan2", "hypot"])
def test_binary_inplace_on_leaf_under_no_grad(name):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([2.0, 1.0])
    expected = to_np(getattr(cr, name)(x.detach(), y))
    with cr.no_grad():
        result = getattr(x, name + "_")(y)
    assert result is x
    assert x.requires_grad and x.grad_fn is None
    np.testing.assert_allclose(to_np(x), expected, rtol=1e-6)
