"""chainrule.nn.init: PyTorch's formulas, in place, under no_grad, reproducible under manual_seed."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn import init
from helpers import to_np


# ---- formulas that need no random numbers ------------------------------------------------------
def test_calculate_gain_matches_pytorch_table():
    assert init.calculate_gain("linear") == 1.0 and init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "a")


def test_fan_in_and_fan_out_include_receptive_field():
    assert init._calculate_fan_in_and_fan_out(cr.zeros(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(cr.zeros(8, 4, 3, 3)) == (36, 72)
    assert init._calculate_correct_fan(cr.zeros(8, 4, 3), "fan_out") == 24


def test_fan_computation_rejects_fewer_than_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(cr.zeros(3))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(cr.zeros(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init._calculate_correct_fan(cr.zeros(2, 2), "fan_avg")


def test_constant_zeros_ones_fill_in_place_and_return_the_tensor():
    t = cr.zeros(2, 3)
    assert init.constant_(t, 2.5) is t
    assert to_np(t).tolist() == [[2.5] * 3] * 2
    assert to_np(init.ones_(t)).tolist() == [[1.0] * 3] * 2
    assert to_np(init.zeros_(t)).tolist() == [[0.0] * 3] * 2


def test_fills_work_on_parameters_without_recording_history():
    p = nn.Parameter(cr.zeros(2))
    init.constant_(p, 3.0)
    assert p.is_leaf and p.grad_fn is None and to_np(p).tolist() == [3.0, 3.0]


def test_eye_and_dirac():
    t = cr.zeros(2, 3)
    init.eye_(t)
    assert to_np(t).tolist() == [[1, 0, 0], [0, 1, 0]]
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(cr.zeros(2, 2, 2))
    w = cr.zeros(2, 2, 3)
    init.dirac_(w)
    assert to_np(w)[:, :, 1].tolist() == [[1, 0], [0, 1]] and to_np(w).sum() == 2


def test_orthogonal_rejects_one_dim_tensor():
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(cr.zeros(4))


def test_random_init_rejects_integer_tensors():
    with pytest.raises(TypeError, match="floating point"):
        init.uniform_(cr.zeros(3, dtype=cr.int64))


# ---- random initializers (use the global generator: _core._uniform_ / _core._normal_) -------------
def _stats(t):
    a = to_np(t).astype(np.float64).ravel()
    return a.mean(), a.std(), a.min(), a.max()


def test_uniform_normal_statistics():
    cr.manual_seed(0)
    mean, std, lo, hi = _stats(init.uniform_(cr.empty(200000), -2.0, 4.0))
    assert lo >= -2.0 and hi <= 4.0 and abs(mean - 1.0) < 0.02 and abs(std - 6 / math.sqrt(12)) < 0.02
    mean, std, _, _ = _stats(init.normal_(cr.empty(200000), 3.0, 0.5))
    assert abs(mean - 3.0) < 0.01 and abs(std - 0.5) < 0.01


def test_init_is_reproducible_under_manual_seed():
    cr.manual_seed(123)
    a = to_np(init.kaiming_normal_(cr.empty(30, 20))).copy()
    cr.manual_seed(123)
    b = to_np(init.kaiming_normal_(cr.empty(30, 20)))
    assert np.array_equal(a, b)


def test_xavier_and_kaiming_bounds_and_stds():
    cr.manual_seed(1)
    fan_in, fan_out = 400, 300
    _, std, lo, hi = _stats(init.xavier_uniform_(cr.empty(fan_out, fan_in), gain=2.0))
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert -bound <= lo and hi <= bound and abs(std - bound / math.sqrt(3)) < 0.02 * bound
    _, std, _, _ = _stats(init.xavier_normal_(cr.empty(fan_out, fan_in)))
    assert abs(std - math.sqrt(2 / (fan_in + fan_out))) < 0.01 * math.sqrt(2 / (fan_in + fan_out)) * 5
    _, std, lo, hi = _stats(init.kaiming_uniform_(cr.empty(fan_out, fan_in), a=math.sqrt(5)))
    assert -1 / math.sqrt(fan_in) <= lo and hi <= 1 / math.sqrt(fan_in)
    _, std, _, _ = _stats(
        init.kaiming_normal_(cr.empty(fan_out, fan_in), mode="fan_out", nonlinearity="relu")
    )
    assert abs(std - math.sqrt(2 / fan_out)) < 0.03 * math.sqrt(2 / fan_out)


def test_trunc_normal_stays_within_bounds():
    cr.manual_seed(2)
    mean, _, lo, hi = _stats(init.trunc_normal_(cr.empty(100000), mean=0.5, std=1.0, a=0.0, b=1.5))
    assert lo >= 0.0 and hi <= 1.5 and abs(mean - 0.7) < 0.05


def test_orthogonal_gives_orthonormal_rows_or_columns():
    cr.manual_seed(3)
    q = to_np(init.orthogonal_(cr.empty(3, 5), gain=2.0)).astype(np.float64)
    np.testing.assert_allclose(q @ q.T, 4.0 * np.eye(3), atol=1e-5)
    q = to_np(init.orthogonal_(cr.empty(6, 2))).astype(np.float64)
    np.testing.assert_allclose(q.T @ q, np.eye(2), atol=1e-5)


def test_linear_default_init_bounds():
    cr.manual_seed(4)
    lin = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    for p in (lin.weight, lin.bias):
        _, _, lo, hi = _stats(p)
        assert -bound <= lo and hi <= bound


@pytest.mark.parametrize(
    "name",
    [
        "uniform_",
        "normal_",
        "xavier_uniform_",
        "xavier_normal_",
        "kaiming_uniform_",
        "kaiming_normal_",
        "trunc_normal_",
        "orthogonal_",
    ],
)
def test_initializers_draw_from_the_given_generator(name):
    fn = getattr(cr.nn.init, name)
    a, b = cr.zeros(8, 6), cr.zeros(8, 6)
    fn(a, generator=cr.Generator().manual_seed(7))
    cr.manual_seed(123)  # the global generator must not matter
    fn(b, generator=cr.Generator().manual_seed(7))
    assert a.tolist() == b.tolist()
    c = cr.zeros(8, 6)
    fn(c, generator=cr.Generator().manual_seed(8))
    assert a.tolist() != c.tolist()
