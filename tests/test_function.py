"""User-defined autograd Functions and the gradient checkers."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd.gradcheck import GradcheckError
from helpers import to_np


class Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3.0 * x * x


class ScaledAdd(cr.autograd.Function):
    """a + k * b with a non-tensor argument in the middle."""

    @staticmethod
    def forward(ctx, a, k, b):
        ctx.k = k
        return a + b * k

    @staticmethod
    def backward(ctx, g):
        return g, None, g * ctx.k


class WrongGrad(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, g):
        return g  # should be 2 x g


def test_function_forward_and_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [3.0, 12.0])


def test_function_with_non_tensor_arguments_and_needs_input_grad():
    a = cr.tensor([1.0], requires_grad=True)
    b = cr.tensor([2.0])
    out = ScaledAdd.apply(a, 5.0, b)
    assert out.item() == 11.0
    out.sum().backward()
    np.testing.assert_allclose(to_np(a.grad), [1.0])


def test_function_passes_gradcheck_in_float64():
    x = cr.tensor([0.5, -1.5, 2.0], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(Cube.apply, [x])


def test_function_composes_with_builtin_ops_and_higher_order():
    x = cr.tensor([2.0], dtype=cr.float64, requires_grad=True)
    y = Cube.apply(x * 1.0).sum()
    (g,) = cr.autograd.grad(y, x, create_graph=True)
    assert g.item() == pytest.approx(12.0)
    (gg,) = cr.autograd.grad(g.sum(), x)
    assert gg.item() == pytest.approx(12.0)  # d/dx 3x^2 = 6x


def test_gradcheck_detects_a_wrong_backward():
    x = cr.tensor([0.5, 1.5], dtype=cr.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        cr.autograd.gradcheck(WrongGrad.apply, [x])
    assert cr.autograd.gradcheck(WrongGrad.apply, [x], raise_exception=False) is False


def test_gradgradcheck_passes_for_smooth_composite():
    x = cr.tensor([0.3, -0.8], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradgradcheck(lambda t: (t * t * t).tanh(), [x])


def test_saved_tensors_freed_after_backward():
    x = cr.tensor([1.0], requires_grad=True)
    y = Cube.apply(x)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.sum().backward()


def test_backward_returning_wrong_count_raises():
    class Bad(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g, g

    a = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="gradients"):
        Bad.apply(a, a).sum().backward()
