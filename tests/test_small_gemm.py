"""Small matrix products (Note [Small GEMM] in csrc/kernels/impl_gemm.cpp): below 32768
multiply-adds a product runs a direct loop in which every output element is its own k-ordered sum.
So an element does not depend on the operands' layouts or on which part of the loop computed it."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

SHAPES = [  # (n, k, m): the moons MLP's products and their gradients, odd edges, a long k
    (100, 2, 16),
    (100, 16, 16),
    (100, 16, 1),
    (16, 100, 16),
    (16, 100, 1),
    (100, 1, 16),
    (37, 5, 35),
    (3, 7, 53),
    (1, 1, 1),
    (2, 4000, 2),
    (8, 64, 64),
    (96, 16, 1),  # matrix-vector products: 16 rows at a time in transposed tiles (float32)
    (50, 33, 2),  # ... with a k that is no multiple of 16, two columns a tile
    (21, 40, 5),  # ... one tile and five rows left over
    (27, 35, 29),  # 16 columns in blocks, 13 left over (tiles of 8, 4 and 1 columns)
    (20, 32, 32),  # a column-major B packed in 16x16 tiles
]


def _mats(n, k, m, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, k)).astype(dtype), rng.standard_normal((k, m)).astype(dtype)


def _mm(a, b):
    return (cr.tensor(a) @ cr.tensor(b)).numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_small_product_matches_float64_numpy(shape, dtype):
    a, b = _mats(*shape, dtype)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(_mm(a, b), exact, rtol=tol, atol=tol * np.sqrt(shape[1]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_element_does_not_depend_on_layout_or_block(shape, dtype):
    n, k, m = shape
    a, b = _mats(n, k, m, dtype, seed=1)
    full = _mm(a, b)
    # transposed (column-major) operands give the same bits
    ta = cr.tensor(np.ascontiguousarray(a.T)).t()
    tb = cr.tensor(np.ascontiguousarray(b.T)).t()
    for x, y in ((ta, cr.tensor(b)), (cr.tensor(a), tb), (ta, tb)):
        assert np.array_equal((x @ y).numpy(), full)
    # a few columns (the one-element loop) and a few rows (the one-row block) give the same bits
    for cols in (slice(0, 3), slice(m - 1, m), slice(max(0, m - 18), m)):
        assert np.array_equal(_mm(a, np.ascontiguousarray(b[:, cols])), full[:, cols])
    for rows in (slice(0, 1), slice(0, 5), slice(n - 3, n)):
        assert np.array_equal(_mm(np.ascontiguousarray(a[rows]), b), full[rows])


def test_small_product_gradients_and_thread_counts():
    a, b = _mats(100, 16, 16, np.float64, seed=2)
    x = cr.tensor(a, requires_grad=True)
    w = cr.tensor(b, requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w: x @ w, (x, w))
    old = cr.get_num_threads()
    try:
        outs = []
        for t in (1, 2, 4):
            cr.set_num_threads(t)
            outs.append(_mm(*_mats(100, 16, 16, np.float32, seed=3)))
        assert all(np.array_equal(outs[0], o) for o in outs[1:])
    finally:
        cr.set_num_threads(old)


def test_small_product_matches_torch(torch):
    for n, k, m in SHAPES:
        a, b = _mats(n, k, m, np.float32, seed=4)
        ref = (torch.tensor(a) @ torch.tensor(b)).numpy()
        np.testing.assert_allclose(_mm(a, b), ref, rtol=1e-5, atol=1e-5 * np.sqrt(k))
