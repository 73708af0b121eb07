"""Elementwise ops: forward values, gradients (finite differences and PyTorch), broadcasting,
type promotion, comparisons and logic, error paths, NaN/Inf handling."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from helpers import check_against_torch, gradcheck, leaf, rand, to_np

# (name, chainrule fn, torch fn, input range) for one-input differentiable ops.
UNARY = [
    ("neg", lambda x: cr.neg(x), lambda x: -x, (-1, 1)),
    ("exp", lambda x: cr.exp(x), lambda x: x.exp(), (-1, 1)),
    ("log", lambda x: cr.log(x), lambda x: x.log(), (0.5, 2)),
    ("sqrt", lambda x: x.sqrt(), lambda x: x.sqrt(), (0.5, 2)),
    ("rsqrt", lambda x: x.rsqrt(), lambda x: x.rsqrt(), (0.5, 2)),
    ("abs", lambda x: abs(x), lambda x: x.abs(), (-1, 1)),
    ("sin", lambda x: x.sin(), lambda x: x.sin(), (-3, 3)),
    ("cos", lambda x: x.cos(), lambda x: x.cos(), (-3, 3)),
    ("square", lambda x: cr.square(x), lambda x: x.square(), (-1, 1)),
    ("reciprocal", lambda x: cr.reciprocal(x), lambda x: x.reciprocal(), (0.5, 2)),
    ("erf", lambda x: cr.erf(x), lambda x: x.erf(), (-2, 2)),
    ("pow2", lambda x: x**2, lambda x: x**2, (-1, 1)),
    ("pow3", lambda x: x.pow(3), lambda x: x.pow(3), (-1, 1)),
    ("pow_half", lambda x: x**0.5, lambda x: x**0.5, (0.5, 2)),
    ("pow_neg1", lambda x: x**-1.0, lambda x: x**-1.0, (0.5, 2)),
    ("pow_2_7", lambda x: x**2.7, lambda x: x**2.7, (0.5, 2)),
    ("rpow", lambda x: 2**x, lambda x: 2**x, (-1, 1)),
    ("clamp_both", lambda x: x.clamp(-0.5, 0.5), lambda x: x.clamp(-0.5, 0.5), (-1, 1)),
    ("clamp_min", lambda x: cr.clamp(x, min=0.1), lambda x: x.clamp(min=0.1), (-1, 1)),
    ("clamp_max", lambda x: cr.clamp(x, max=0.1), lambda x: x.clamp(max=0.1), (-1, 1)),
]

# (name, chainrule fn, torch fn, range a, range b) for two-input differentiable ops.
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, (-1, 1), (-1, 1)),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, (-1, 1), (-1, 1)),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, (-1, 1), (-1, 1)),
    ("div", lambda a, b: a / b, lambda a, b: a / b, (-1, 1), (0.5, 2)),
    ("pow", lambda a, b: cr.pow(a, b), lambda a, b: a.pow(b), (0.5, 2), (-2, 2)),
    ("maximum", lambda a, b: cr.maximum(a, b), lambda a, b: a.maximum(b), (-1, 1), (-1, 1)),
    ("minimum", lambda a, b: a.minimum(b), lambda a, b: a.minimum(b), (-1, 1), (-1, 1)),
    ("add_alpha", lambda a, b: cr.add(a, b, alpha=2.5), lambda a, b: a.add(b, alpha=2.5), (-1, 1), (-1, 1)),
]


def _arr(shape, rng, seed=0):
    return rand(*shape, seed=seed, low=rng[0], high=rng[1])


@pytest.mark.parametrize("name,fn,_t,rng", UNARY, ids=[u[0] for u in UNARY])
def test_unary_gradcheck(name, fn, _t, rng):
    gradcheck(fn, _arr((3, 4), rng))


@pytest.mark.parametrize("name,fn,_t,rng", UNARY, ids=[u[0] for u in UNARY])
def test_unary_gradcheck_non_contiguous_input(name, fn, _t, rng):
    gradcheck(lambda x: fn(x.T), _arr((4, 3), rng))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,fn,tfn,rng", UNARY, ids=[u[0] for u in UNARY])
def test_unary_matches_torch(torch, name, fn, tfn, rng, dtype):
    check_against_torch(torch, fn, tfn, _arr((3, 5), rng).astype(dtype))


@pytest.mark.parametrize("name,fn,_t,ra,rb", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize(
    "sa,sb", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (3,))]
)
def test_binary_gradcheck_broadcast(name, fn, _t, ra, rb, sa, sb):
    gradcheck(fn, _arr(sa, ra, seed=1), _arr(sb, rb, seed=2))


@pytest.mark.parametrize("name,fn,_t,ra,rb", BINARY, ids=[b[0] for b in BINARY])
def test_binary_gradcheck_non_contiguous_inputs(name, fn, _t, ra, rb):
    gradcheck(lambda a, b: fn(a.T, b.transpose(0, 1)), _arr((4, 3), ra, seed=1), _arr((4, 3), rb, seed=2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,fn,tfn,ra,rb", BINARY, ids=[b[0] for b in BINARY])
def test_binary_matches_torch_with_broadcast(torch, name, fn, tfn, ra, rb, dtype):
    check_against_torch(
        torch, fn, tfn, _arr((2, 3, 4), ra, seed=1).astype(dtype), _arr((3, 1), rb, seed=2).astype(dtype)
    )


def test_where_gradcheck_broadcast_and_non_contiguous():
    cond = cr.tensor(rand(3, 4, seed=5) > 0)
    gradcheck(lambda a, b: cr.where(cond, a, b), rand(3, 4, seed=1), rand(4, seed=2))
    gradcheck(lambda a, b: cr.where(cond, a.T, b), rand(4, 3, seed=1), rand(3, 1, seed=2))


def test_where_matches_torch(torch):
    c = rand(3, 4, seed=5) > 0
    check_against_torch(
        torch,
        lambda a, b: cr.where(cr.tensor(c), a, b),
        lambda a, b: torch.where(torch.tensor(c), a, b),
        rand(3, 4, seed=1),
        rand(1, 4, seed=2),
    )


def test_where_with_scalar_other_and_values():
    x = cr.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = cr.where(x > 0, x, 0.0)
    np.testing.assert_allclose(to_np(y), [1.0, 0.0, 3.0])
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [1.0, 0.0, 1.0])
    assert x.where(x < 0, 5.0).tolist() == [5.0, -2.0, 5.0]


def test_where_rejects_non_bool_condition():
    with pytest.raises(TypeError, match="where: expected condition to be a bool tensor"):
        cr.where(cr.tensor([1.0]), cr.tensor([1.0]), cr.tensor([2.0]))


def test_clamp_tensor_bounds_gradcheck_and_torch(torch):
    x, lo, hi = rand(3, 4, seed=1), rand(4, seed=2, low=-1, high=0), rand(3, 1, seed=3, low=0, high=1)
    gradcheck(lambda a, b, c: cr.clamp(a, b, c), x, lo, hi)
    check_against_torch(
        torch, lambda a, b, c: cr.clamp(a, b, c), lambda a, b, c: torch.clamp(a, b, c), x, lo, hi
    )


def test_clamp_tensor_bounds_gradient_goes_to_active_bound():
    x = leaf([-1.0, 1.0, 2.0])
    lo = leaf([0.0, 1.0, 3.0])
    hi = leaf([0.5, 1.0, 1.0])
    cr.clamp(x, lo, hi).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]
    assert lo.grad.tolist() == [1.0, 0.0, 0.0]
    assert hi.grad.tolist() == [0.0, 0.0, 1.0]


def test_clamp_values_and_min_greater_than_max_gives_max():
    x = cr.tensor([-2.0, 0.0, 2.0])
    assert cr.clamp(x, -1.0, 1.0).tolist() == [-1.0, 0.0, 1.0]
    assert x.clamp(min=3.0, max=1.0).tolist() == [1.0, 1.0, 1.0]
    assert x.clip(max=0.5).tolist() == [-2.0, 0.0, 0.5]


def test_clamp_gradient_passes_at_the_bounds_inclusive():
    x = leaf([-1.0, 0.0, 0.5, 1.0, 2.0])
    cr.clamp(x, 0.0, 1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_clamp_without_bounds_raises():
    with pytest.raises(ValueError, match="at least one of 'min' or 'max'"):
        cr.clamp(cr.tensor([1.0]))


def test_maximum_minimum_ties_split_gradient_in_half():
    a = leaf([1.0, 2.0, 3.0])
    b = leaf([1.0, 5.0, 0.0])
    cr.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0, 1.0]
    assert b.grad.tolist() == [0.5, 1.0, 0.0]
    a2, b2 = leaf([1.0, 2.0]), leaf([1.0, 0.0])
    cr.minimum(a2, b2).sum().backward()
    assert a2.grad.tolist() == [0.5, 0.0]
    assert b2.grad.tolist() == [0.5, 1.0]


def test_maximum_propagates_nan():
    a = cr.tensor([float("nan"), 1.0])
    b = cr.tensor([0.0, float("nan")])
    assert np.isnan(to_np(cr.maximum(a, b))).all()
    assert np.isnan(to_np(cr.minimum(a, b))).all()


def test_closed_form_values_without_torch():
    x = cr.tensor([0.0, 1.0, 4.0], dtype=cr.float64)
    np.testing.assert_allclose(to_np(x.exp()), np.exp([0.0, 1.0, 4.0]))
    np.testing.assert_allclose(to_np(x.sqrt()), [0.0, 1.0, 2.0])
    np.testing.assert_allclose(to_np((x + 1).log()), np.log([1.0, 2.0, 5.0]))
    np.testing.assert_allclose(to_np((x + 1).rsqrt()), 1 / np.sqrt([1.0, 2.0, 5.0]))
    np.testing.assert_allclose(to_np(x**2), [0.0, 1.0, 16.0])
    np.testing.assert_allclose(to_np(2**x), [1.0, 2.0, 16.0])
    np.testing.assert_allclose(to_np(cr.tensor([-1.5, 0.0, 2.0]).sign()), [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(to_np(cr.sin(x)), np.sin([0.0, 1.0, 4.0]))
    np.testing.assert_allclose(to_np(cr.erf(x)), [math.erf(v) for v in (0.0, 1.0, 4.0)])


def test_closed_form_gradients_without_torch():
    x = leaf([0.5, 1.0, 2.0])
    (x.exp() + x.log() + x**3 + x.sqrt()).sum().backward()
    v = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(to_np(x.grad), np.exp(v) + 1 / v + 3 * v**2 + 0.5 / np.sqrt(v))


def test_pow_zero_to_zero_gradients_match_pytorch():
    # d(x**y)/dx is 0 where y == 0; d(x**y)/dy is 0 where x == 0 and y >= 0.
    x = leaf([0.0, 1.0, 2.0])
    y = leaf([0.0, 0.0, 3.0])
    (x**y).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [0.0, 0.0, 12.0])
    np.testing.assert_allclose(to_np(y.grad), [0.0, 0.0, 8.0 * math.log(2.0)])


def test_pow_scalar_zero_exponent_has_zero_gradient():
    x = leaf([0.0, 2.0])
    y = cr.pow(x, 0.0)
    assert y.tolist() == [1.0, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_pow_integer_tensor_dtypes():
    x = cr.tensor([1, 2, 3])
    assert (x**2).dtype == cr.int64 and (x**2).tolist() == [1, 4, 9]
    assert (x**2.0).dtype == cr.float32
    assert (2**x).dtype == cr.int64 and (2**x).tolist() == [2, 4, 8]
    assert (2.0**x).dtype == cr.float32
    with pytest.raises(ValueError, match="negative integer powers"):
        x**-1


def test_second_order_gradients_through_unary_ops():
    x = leaf([0.3, 0.7])
    y = (x.exp() * x.sin()).sum()
    (g,) = cr.autograd.grad(y, [x], create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), [x])
    v = np.array([0.3, 0.7])
    np.testing.assert_allclose(to_np(h), 2 * np.exp(v) * np.cos(v), rtol=1e-5)


# ---- type promotion --------------------------------------------------------------------------
def test_int_tensor_plus_python_float_is_float32():
    assert (cr.tensor([1, 2]) + 1.5).dtype == cr.float32
    assert (cr.tensor([1, 2]) + 1.5).tolist() == [2.5, 3.5]


def test_float32_plus_float64_tensor_is_float64():
    a = cr.tensor([1.0], dtype=cr.float32)
    b = cr.tensor([1.0], dtype=cr.float64)
    assert (a + b).dtype == cr.float64
    assert (a * b).dtype == cr.float64


def test_zero_dim_tensor_of_same_category_does_not_promote():
    a = cr.tensor([1.0, 2.0], dtype=cr.float32)
    zero_dim_f64 = cr.tensor([1.5], dtype=cr.float64).sum()
    assert zero_dim_f64.ndim == 0
    assert (a + zero_dim_f64).dtype == cr.float32
    assert (cr.tensor([1, 2]) + zero_dim_f64).dtype == cr.float64


def test_int_divided_by_int_is_float32():
    r = cr.tensor([1, 3]) / cr.tensor([2, 2])
    assert r.dtype == cr.float32 and r.tolist() == [0.5, 1.5]


def test_python_scalars_follow_tensor_dtype():
    x = cr.tensor([1.0], dtype=cr.float64)
    assert (x * 2).dtype == cr.float64 and (x + 0.1).dtype == cr.float64
    assert (cr.tensor([1, 2]) * 3).dtype == cr.int64
    assert (cr.tensor([True, False]) + 1).dtype == cr.int64


def test_promotion_matches_torch(torch):
    pairs = [
        (np.array([1, 2]), np.array([1.5, 2.5], dtype=np.float32)),
        (np.array([True, False]), np.array([3, 4])),
        (np.array([1.0], dtype=np.float32), np.array([2.0], dtype=np.float64)),
    ]
    for a, b in pairs:
        c = cr.tensor(a) + cr.tensor(b)
        t = torch.tensor(a) + torch.tensor(b)
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]


# ---- comparisons and logic -------------------------------------------------------------------
def test_comparisons_return_bool_and_no_grad():
    x = leaf([1.0, 2.0, 3.0])
    y = cr.tensor([2.0, 2.0, 2.0])
    for r, expect in [
        (x == y, [False, True, False]),
        (x != y, [True, False, True]),
        (x < y, [True, False, False]),
        (x <= y, [True, True, False]),
        (x > y, [False, False, True]),
        (x >= y, [False, True, True]),
    ]:
        assert r.dtype == cr.bool and r.tolist() == expect and not r.requires_grad
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == 2).tolist() == [False, True, False]
    assert cr.eq(x, y).tolist() == [False, True, False]
    assert x.ge(2).tolist() == [False, True, True]
    assert (1.5 < x).tolist() == [False, True, True]


def test_comparison_scalar_is_rounded_to_float32_like_pytorch():
    x = cr.tensor([0.1], dtype=cr.float32)
    assert (x == 0.1).tolist() == [True]


def test_comparisons_broadcast_and_match_torch(torch):
    a, b = rand(3, 4, seed=1), rand(4, seed=2)
    for name in ["eq", "ne", "lt", "le", "gt", "ge"]:
        c = getattr(cr, name)(cr.tensor(a), cr.tensor(b))
        t = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        np.testing.assert_array_equal(to_np(c), t.numpy())


def test_tensor_stays_hashable_with_elementwise_eq():
    x = cr.tensor([1.0])
    assert hash(x) == hash(x)
    assert len({x, cr.tensor([1.0])}) == 2
    assert {x: 1}[x] == 1
    assert (x == None) is False  # noqa: E711
    assert (x != "a") is True


def test_logical_ops_and_bool_operators():
    a = cr.tensor([True, True, False, False])
    b = cr.tensor([True, False, True, False])
    assert (a & b).tolist() == [True, False, False, False]
    assert (a | b).tolist() == [True, True, True, False]
    assert (a ^ b).tolist() == [False, True, True, False]
    assert (~a).tolist() == [False, False, True, True]
    assert cr.logical_not(cr.tensor([0.0, 2.0])).tolist() == [True, False]
    assert cr.logical_and(cr.tensor([1, 0]), cr.tensor([2.0, 3.0])).tolist() == [True, False]
    assert cr.logical_or(a, b).tolist() == [True, True, True, False]
    assert cr.logical_xor(a, b).tolist() == [False, True, True, False]
    assert (~cr.tensor([0, 5])).tolist() == [-1, -6]
    assert (cr.tensor([6]) & 3).tolist() == [2]


def test_bitwise_ops_reject_floats():
    with pytest.raises(TypeError, match="bitwise_and"):
        cr.tensor([1.0]) & cr.tensor([1.0])
    with pytest.raises(TypeError, match="bitwise_not"):
        ~cr.tensor([1.0])


# ---- errors and special values ----------------------------------------------------------------
def test_neg_of_bool_raises_type_error():
    with pytest.raises(TypeError, match="neg: negation of a bool tensor"):
        -cr.tensor([True])


def test_broadcast_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\[2, 3\] and \[4\]"):
        cr.ones(2, 3) + cr.ones(4)
    with pytest.raises(ValueError, match=r"maximum.*\[2\] and \[3\]"):
        cr.maximum(cr.ones(2), cr.ones(3))


def test_unsupported_operand_raises_type_error():
    with pytest.raises(TypeError, match="unsupported operand"):
        cr.exp(cr.ones(2)) + object()


def test_nan_and_inf_inputs_follow_ieee_like_pytorch():
    with np.errstate(all="ignore"):
        assert cr.log(cr.tensor([0.0])).tolist() == [-math.inf]
        assert math.isnan(cr.sqrt(cr.tensor([-1.0])).item())
        assert cr.exp(cr.tensor([math.inf, -math.inf])).tolist() == [math.inf, 0.0]
        assert math.isnan(cr.tensor([math.nan]).clamp(0.0, 1.0).item())
        assert cr.reciprocal(cr.tensor([0.0])).tolist() == [math.inf]
        assert cr.sign(cr.tensor([math.nan])).item() == 0.0  # PyTorch: sign(nan) is 0
        assert (cr.tensor([math.nan]) == math.nan).tolist() == [False]


def test_integer_inputs_to_float_ops_give_float32():
    assert cr.exp(cr.tensor([0, 1])).dtype == cr.float32
    assert cr.sqrt(cr.tensor([4])).tolist() == [2.0]
    assert cr.abs(cr.tensor([-3])).dtype == cr.int64


def test_abs_of_bool_raises_type_error():
    with pytest.raises(TypeError, match="abs"):
        cr.abs(cr.tensor([True]))


def test_clamp_tensor_bounds_equal_bounds_send_no_gradient_to_min():
    x, lo, hi = leaf([0.0]), leaf([1.0]), leaf([1.0])
    cr.clamp(x, lo, hi).sum().backward()
    assert (x.grad.tolist(), lo.grad.tolist(), hi.grad.tolist()) == ([0.0], [0.0], [0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("row_shape", [(9,), (1, 9), (1, 1, 9)])
@pytest.mark.parametrize("row_left", [False, True])
def test_row_broadcast_arithmetic_matches_numpy(dtype, row_shape, row_left):
    # a bias-like operand repeated over the leading dims (its own contiguous-kernel path)
    rng = np.random.default_rng(3)
    full = rng.uniform(0.5, 2.0, size=(4, 5, 9)).astype(dtype)
    row = rng.uniform(0.5, 2.0, size=row_shape).astype(dtype)
    a, b = (row, full) if row_left else (full, row)
    ta, tb = cr.tensor(a), cr.tensor(b)
    for got, want in [(ta + tb, a + b), (ta - tb, a - b), (ta * tb, a * b), (ta / tb, a / b)]:
        assert got.shape == want.shape and got.dtype == ta.dtype
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(
    "full_shape, part_shape",
    [
        ((4, 5, 9), (5, 1)),  # a column repeated over a leading dim
        ((4, 5, 9), (4, 5, 1)),  # one value per row, no repetition
        ((601, 9, 8), (9, 1)),  # rows split over threads at places that are not multiples of 9
        ((601, 9, 8), (8,)),  # a bias row, rows split over threads
    ],
)
def test_row_and_column_broadcast_match_numpy_for_any_thread_count(dtype, threads, full_shape, part_shape):
    rng = np.random.default_rng(5)
    full = rng.uniform(0.5, 2.0, size=full_shape).astype(dtype)
    part = rng.uniform(0.5, 2.0, size=part_shape).astype(dtype)
    before = cr.get_num_threads()
    cr.set_num_threads(threads)
    try:
        for a, b in [(full, part), (part, full)]:
            ta, tb = cr.tensor(a), cr.tensor(b)
            for got, want in [(ta + tb, a + b), (ta - tb, a - b), (ta * tb, a * b), (ta / tb, a / b)]:
                assert got.shape == want.shape and got.dtype == ta.dtype
                np.testing.assert_array_equal(got.numpy(), want)
    finally:
        cr.set_num_threads(before)


def test_row_broadcast_add_gradients():
    rng = np.random.default_rng(4)
    x, bias = rng.standard_normal((6, 10)), rng.standard_normal(10)
    assert cr.autograd.gradcheck(
        lambda p, q: (p + q) * (q - p) / (2.0 + q * q),
        [cr.tensor(x, requires_grad=True), cr.tensor(bias, requires_grad=True)],
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("through", ["leaf", "op result"])
def test_a_tensor_times_itself_gets_the_sum_of_both_gradients(dtype, through):
    rng = np.random.default_rng(11)
    # x * x computes its two equal input gradients once; the sum the engine forms must be the same
    # bits as for x * y with y equal to x (the gradient for y added to the one for x).
    data = rng.standard_normal(257).astype(dtype)
    x = cr.tensor(data, requires_grad=True)
    a = x if through == "leaf" else x * 1.5
    (a * a * 0.37).sum().backward()
    x2, y2 = cr.tensor(data, requires_grad=True), cr.tensor(data, requires_grad=True)
    a2, b2 = (x2, y2) if through == "leaf" else (x2 * 1.5, y2 * 1.5)
    (a2 * b2 * 0.37).sum().backward()
    expected = (x2.grad + y2.grad).numpy()
    assert np.array_equal(x.grad.numpy().view(np.uint8), expected.view(np.uint8))
    chain = 1.5 if through == "op result" else 1.0  # d a / d x
    np.testing.assert_allclose(x.grad.numpy(), 2 * 0.37 * to_np(a) * chain, rtol=1e-5)


def test_a_tensor_times_itself_differentiates_twice():
    rng = np.random.default_rng(12)
    x = cr.tensor(rng.standard_normal(5), requires_grad=True)
    (g,) = cr.autograd.grad((x * x).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * x.detach().numpy())
    g.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(5, 2.0))
    gradcheck(lambda t: t * t, rng.standard_normal((3, 4)))
