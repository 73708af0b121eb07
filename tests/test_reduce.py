"""Reductions: values, gradients (central differences and PyTorch), determinism, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from helpers import check_against_torch, gradcheck, leaf, rand, to_np

X = rand(3, 4, 5, seed=3)


def _flat(fn):
    """Gives 0-dim results shape (1,): the shared helpers seed gradients through cr.tensor, which
    currently turns a 0-dim NumPy array into shape (1,)."""

    def wrapped(*xs):
        out = fn(*xs)
        if isinstance(out, tuple):
            return tuple(o.reshape(1) if o.ndim == 0 else o for o in out)
        return out.reshape(1) if out.ndim == 0 else out

    return wrapped


XT = rand(5, 4, seed=4)  # used transposed: non-contiguous input


# ---- closed-form values (no PyTorch) ------------------------------------------------------------
def test_var_of_one_to_four_is_five_thirds_unbiased():
    x = cr.tensor([1.0, 2.0, 3.0, 4.0])
    assert math.isclose(x.var().item(), 5 / 3, rel_tol=1e-6)
    assert math.isclose(x.var(unbiased=False).item(), 1.25, rel_tol=1e-6)
    assert math.isclose(cr.var(x, correction=0).item(), 1.25, rel_tol=1e-6)
    assert math.isclose(x.std().item(), math.sqrt(5 / 3), rel_tol=1e-6)


def test_mean_sum_keepdim_and_tuple_dims_shapes():
    x = cr.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.mean().item() == 11.5
    assert tuple(x.mean((0, 2), keepdim=True).shape) == (1, 3, 1)
    np.testing.assert_allclose(to_np(x.mean(-1)), np.arange(24.0).reshape(2, 3, 4).mean(-1))
    assert tuple(x.sum(dim=(0, -1)).shape) == (3,)


def test_sum_dtype_argument_converts_first():
    x = cr.tensor([1, 2, 3])
    s = x.sum(dtype=cr.float64)
    assert s.dtype == cr.float64 and s.item() == 6.0


def test_mean_of_int_tensor_raises_type_error():
    with pytest.raises(TypeError, match="could not infer output dtype"):
        cr.tensor([1, 2, 3]).mean()


def test_max_without_dim_splits_gradient_among_ties():
    x = leaf([1.0, 3.0, 3.0, 2.0])
    x.max().backward()
    np.testing.assert_allclose(to_np(x.grad), [0, 0.5, 0.5, 0])


def test_max_with_dim_returns_named_values_and_indices_and_grad_to_index():
    x = leaf([[1.0, 5.0, 5.0], [7.0, 0.0, 2.0]])
    r = x.max(1)
    assert isinstance(r, tuple)
    values, indices = r
    np.testing.assert_allclose(to_np(r.values), [5.0, 7.0])
    assert r.indices.tolist() == [1, 0] and indices.dtype == cr.int64
    values.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [[0, 1, 0], [1, 0, 0]])
    m = cr.min(x, dim=0, keepdim=True)
    assert tuple(m.values.shape) == (1, 3) and m.indices.tolist() == [[0, 1, 1]]


def test_amax_splits_gradient_evenly_among_ties_per_row():
    x = leaf([[2.0, 2.0, 1.0], [0.0, 4.0, 4.0]])
    x.amax(1).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [[0.5, 0.5, 0], [0, 0.5, 0.5]])


def test_argmax_argmin_first_occurrence_flatten_and_keepdim():
    x = cr.tensor([[1.0, 9.0, 9.0], [9.0, 0.0, 0.0]])
    assert x.argmax().item() == 1
    assert x.argmax(dim=1).tolist() == [1, 0]
    assert x.argmin(dim=1, keepdim=True).tolist() == [[0], [1]]
    assert cr.argmax(x, keepdim=True).shape == (1, 1)
    assert x.argmax().dtype == cr.int64


def test_norm_variants_closed_form():
    x = cr.tensor([3.0, -4.0])
    assert math.isclose(x.norm().item(), 5.0, rel_tol=1e-6)
    assert math.isclose(x.norm(1).item(), 7.0, rel_tol=1e-6)
    assert math.isclose(x.norm(float("inf")).item(), 4.0)
    assert math.isclose(x.norm(-float("inf")).item(), 3.0)
    assert math.isclose(cr.norm(x, p="fro").item(), 5.0, rel_tol=1e-6)
    assert math.isclose(x.norm(3).item(), (27 + 64) ** (1 / 3), rel_tol=1e-6)


def test_norm_gradient_at_zero_is_zero_not_nan():
    x = leaf([0.0, 0.0, 0.0])
    x.norm().backward()
    np.testing.assert_array_equal(to_np(x.grad), [0.0, 0.0, 0.0])
    y = leaf([5.0, 5.0])
    y.std().backward()
    np.testing.assert_array_equal(to_np(y.grad), [0.0, 0.0])


def test_logsumexp_is_stable_for_huge_values():
    x = leaf([1e4, 1e4, -1e4])
    out = cr.logsumexp(x, 0)
    assert math.isclose(out.item(), 1e4 + math.log(2), rel_tol=1e-12)
    out.backward()
    np.testing.assert_allclose(to_np(x.grad), [0.5, 0.5, 0.0])


def test_prod_gradient_handles_zeros():
    x = leaf([2.0, 0.0, 3.0])
    x.prod().backward()
    np.testing.assert_allclose(to_np(x.grad), [0.0, 6.0, 0.0])


def test_sum_of_a_million_float32_is_bitwise_identical_across_thread_counts():
    vals = np.random.default_rng(0).standard_normal(10**6).astype(np.float32)
    x = cr.tensor(vals)
    prev = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        a = [x.sum().item(), x.mean().item(), x.reshape(1000, 1000).sum(0).numpy().copy(), x.norm().item()]
        cr.set_num_threads(2)
        b = [x.sum().item(), x.mean().item(), x.reshape(1000, 1000).sum(0).numpy().copy(), x.norm().item()]
    finally:
        cr.set_num_threads(prev)
    assert a[0] == b[0] and a[1] == b[1] and a[3] == b[3]
    np.testing.assert_array_equal(a[2], b[2])


# ---- errors ----------------------------------------------------------------------------------------
def test_max_with_tensor_second_argument_points_to_maximum():
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="maximum"):
        cr.max(x, x)


def test_reduction_dim_out_of_range_raises_index_error():
    with pytest.raises(IndexError, match="out of range"):
        cr.tensor([[1.0]]).sum(2)
    with pytest.raises(IndexError, match="out of range"):
        cr.tensor([[1.0]]).amax(-3)


def test_repeated_dim_raises_value_error():
    with pytest.raises(ValueError, match="multiple times"):
        cr.tensor([[1.0]]).mean((0, 0))


def test_max_of_empty_tensor_raises_value_error():
    with pytest.raises(ValueError, match="no elements|size 0"):
        cr.tensor(np.zeros((0,))).max()
    with pytest.raises(IndexError, match="expected a dim"):  # as PyTorch: an IndexError
        cr.tensor(np.zeros((0, 3))).argmax()


def test_norm_of_int_tensor_raises_type_error():
    with pytest.raises(TypeError, match="floating point"):
        cr.tensor([1, 2]).norm()


# ---- gradcheck -----------------------------------------------------------------------------------
GRAD_CASES = {
    "sum_tuple_neg": lambda x: x.sum((0, -1)),
    "mean_keepdim": lambda x: x.mean(1, keepdim=True),
    "mean_all": lambda x: x.mean(),
    "var_dim": lambda x: x.var(1),
    "var_tuple_biased": lambda x: cr.var(x, (0, 2), keepdim=True, correction=0),
    "std_dim": lambda x: x.std(-1),
    "std_all": lambda x: x.std(),
    "max_all": lambda x: x.max(),
    "max_dim": lambda x: x.max(1).values,
    "min_dim_keep": lambda x: x.min(-1, keepdim=True)[0],
    "amax_tuple": lambda x: x.amax((0, 2)),
    "amin_keep": lambda x: x.amin(1, keepdim=True),
    "norm2": lambda x: x.norm(),
    "norm2_dim": lambda x: x.norm(dim=1),
    "norm1": lambda x: x.norm(1, dim=(0, 2)),
    "norm_inf": lambda x: x.norm(float("inf"), dim=-1),
    "norm_ninf": lambda x: x.norm(-float("inf")),
    "norm3": lambda x: x.norm(3, dim=0, keepdim=True),
    "logsumexp": lambda x: x.logsumexp(1),
    "logsumexp_tuple": lambda x: cr.logsumexp(x, (0, 2), keepdim=True),
    "prod_dim": lambda x: x.prod(1),
    "prod_all": lambda x: x.prod(),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradcheck_reductions(name):
    gradcheck(_flat(GRAD_CASES[name]), X)


NONCONTIG = {
    "sum": lambda x: x.T.sum(0),
    "mean": lambda x: x.T.mean(1),
    "var": lambda x: x.T.var(0),
    "max_dim": lambda x: x.T.max(1).values,
    "amax": lambda x: x.T.amax(0),
    "norm": lambda x: x.T.norm(dim=1),
    "logsumexp": lambda x: x.T.logsumexp(0),
}


@pytest.mark.parametrize("name", sorted(NONCONTIG))
def test_gradcheck_reductions_on_transposed_input(name):
    gradcheck(NONCONTIG[name], XT)


def gradgrad(fn, *arrays):
    """Second-order check: central differences of the create_graph gradient of fn (for a fixed
    output gradient). Grad mode is forced on inside, since gradcheck perturbs under no_grad."""

    def first_order(*xs):
        with cr.enable_grad():
            y = fn(*xs)
            seed = np.random.default_rng(5).standard_normal(tuple(y.shape))
            go = cr.tensor(seed).reshape(tuple(y.shape))
            return tuple(cr.autograd.grad(y, xs, go, create_graph=True))

    gradcheck(first_order, *arrays)


@pytest.mark.parametrize(
    "name", ["logsumexp", "std_dim", "var_dim", "norm2_dim", "norm3", "logsumexp_tuple", "prod_dim"]
)
def test_double_backward_of_reductions(name):
    gradgrad(_flat(GRAD_CASES[name]), rand(2, 3, 2, seed=7))


# ---- against PyTorch -------------------------------------------------------------------------------
TORCH_CASES = [
    ("sum_dim", lambda x: x.sum(1), lambda x: x.sum(1)),
    ("mean_tuple", lambda x: x.mean((0, 2), keepdim=True), lambda x: x.mean((0, 2), keepdim=True)),
    ("var", lambda x: x.var(1), lambda x: x.var(1)),
    ("var_biased", lambda x: x.var(0, unbiased=False), lambda x: x.var(0, unbiased=False)),
    ("var_correction", lambda x: cr.var(x, (1, 2), correction=2), lambda x: x.var((1, 2), correction=2)),
    ("std", lambda x: x.std(), lambda x: x.std()),
    ("std_keep", lambda x: x.std(-1, keepdim=True), lambda x: x.std(-1, keepdim=True)),
    ("max", lambda x: x.max(), lambda x: x.max()),
    ("max_dim", lambda x: x.max(1), lambda x: tuple(x.max(1))),
    ("min_dim", lambda x: x.min(-1, keepdim=True), lambda x: tuple(x.min(-1, keepdim=True))),
    ("amax", lambda x: x.amax((0, 1)), lambda x: x.amax((0, 1))),
    ("amin", lambda x: x.amin(2), lambda x: x.amin(2)),
    ("norm", lambda x: x.norm(), lambda x: x.norm()),
    ("norm_dim", lambda x: x.norm(dim=(1, 2)), lambda x: x.norm(dim=(1, 2))),
    ("norm1", lambda x: x.norm(1, dim=0), lambda x: x.norm(1, dim=0)),
    ("norm_inf", lambda x: x.norm(float("inf"), dim=1), lambda x: x.norm(float("inf"), dim=1)),
    ("norm_p", lambda x: x.norm(2.5, dim=2, keepdim=True), lambda x: x.norm(2.5, dim=2, keepdim=True)),
    ("logsumexp", lambda x: x.logsumexp((0, 2)), lambda x: x.logsumexp((0, 2))),
    ("prod", lambda x: x.prod(1), lambda x: x.prod(1)),
    ("transposed_var", lambda x: x.transpose(0, 2).var(0), lambda x: x.transpose(0, 2).var(0)),
]


@pytest.mark.parametrize("case", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_reductions_match_torch(torch, case):
    _, fc, ft = case
    check_against_torch(torch, _flat(fc), _flat(ft), X)


def test_ties_gradients_match_torch(torch):
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    check_against_torch(torch, _flat(lambda x: x.max()), _flat(lambda x: x.max()), a)
    check_against_torch(torch, lambda x: x.amax(1), lambda x: x.amax(1), a)
    check_against_torch(
        torch, _flat(lambda x: x.norm(float("inf"))), _flat(lambda x: x.norm(float("inf"))), a
    )


def test_argmax_argmin_match_torch(torch):
    a = rand(4, 6, seed=11)
    for dim in (None, 0, 1, -1):
        for keepdim in (False, True):
            c = cr.tensor(a).argmax(dim=dim, keepdim=keepdim)
            t = torch.tensor(a).argmax(dim=dim, keepdim=keepdim)
            assert c.tolist() == t.tolist() and tuple(c.shape) == tuple(t.shape)
            c = cr.argmin(cr.tensor(a), dim=dim, keepdim=keepdim)
            t = torch.argmin(torch.tensor(a), dim=dim, keepdim=keepdim)
            assert c.tolist() == t.tolist()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_sums_do_not_depend_on_the_loop_or_threads(dtype):
    # A column's sum is one fixed order of additions (even rows and odd rows, then the two), whether
    # the kernel walks a small block of columns down all rows or a large matrix row by row, and
    # whichever thread computes it: a column of a big matrix sums as it does on its own.
    rng = np.random.default_rng(5)
    x_np = (rng.standard_normal((301, 300)) * np.exp(rng.standard_normal((301, 300)) * 3)).astype(dtype)
    x = cr.tensor(x_np)
    before = cr.get_num_threads()
    try:
        sums = []
        for threads in (1, 2):
            cr.set_num_threads(threads)
            sums.append(to_np(x.sum(0)))
    finally:
        cr.set_num_threads(before)
    np.testing.assert_array_equal(sums[0], sums[1])
    for a, b in [(0, 16), (17, 40), (280, 300), (5, 7)]:  # (one column alone sums as a row does)
        part = to_np(cr.tensor(np.ascontiguousarray(x_np[:, a:b])).sum(0))
        np.testing.assert_array_equal(part, sums[0][a:b])
    want = x_np.astype(np.float64).sum(0)
    np.testing.assert_allclose(sums[0], want, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-3)
