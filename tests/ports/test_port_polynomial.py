"""Port: fitting sin(x) with a third-order polynomial, five ways (the "learning by examples"
progression of PyTorch's beginner material), written as PyTorch code.

Only the imports differ from a PyTorch program: ``import chainrule as torch``. Each program trains
and the test checks that the loss fell and that the fit is close to the least-squares cubic.
"""

import math
import random

import numpy as np

import chainrule as torch
import chainrule.nn as nn


def least_squares_cubic():
    """The best cubic for sin on [-pi, pi] (in the sum-of-squares sense), by numpy."""
    x = np.linspace(-math.pi, math.pi, 2000)
    coef = np.linalg.lstsq(np.stack([x**0, x, x**2, x**3], 1), np.sin(x), rcond=None)[0]
    return coef


def test_raw_tensors_with_hand_written_gradients():
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)

    torch.manual_seed(0)
    a = torch.randn((), dtype=dtype)
    b = torch.randn((), dtype=dtype)
    c = torch.randn((), dtype=dtype)
    d = torch.randn((), dtype=dtype)

    learning_rate = 1e-6
    losses = []
    for _t in range(2000):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum().item()
        losses.append(loss)

        # d(loss)/d(y_pred), then the chain rule for each coefficient, by hand
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x**2).sum()
        grad_d = (grad_y_pred * x**3).sum()

        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d

    assert losses[-1] < losses[0] / 10
    assert losses[-1] < 50.0
    assert abs(b.item() - least_squares_cubic()[1]) < 0.05


def test_autograd_with_manual_updates_under_no_grad():
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)

    torch.manual_seed(0)
    a = torch.randn((), dtype=dtype, requires_grad=True)
    b = torch.randn((), dtype=dtype, requires_grad=True)
    c = torch.randn((), dtype=dtype, requires_grad=True)
    d = torch.randn((), dtype=dtype, requires_grad=True)

    learning_rate = 1e-6
    first = None
    for _t in range(2000):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum()
        if first is None:
            first = loss.item()
        loss.backward()

        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad

            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None

    assert loss.item() < first / 10
    assert a.requires_grad and a.is_leaf
    assert abs(b.item() - least_squares_cubic()[1]) < 0.05


class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = (5x^3 - 3x) / 2 with its derivative written out."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


def test_custom_autograd_function():
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)

    # Starting close to the answer: P3 blows up far from it.
    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)

    learning_rate = 5e-6
    losses = []
    for _t in range(2000):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()

        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None

    assert losses[-1] < losses[0] / 5
    assert losses[-1] < 20.0

    # the hand-written backward agrees with differentiating the formula
    z = torch.linspace(-1, 1, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(LegendrePolynomial3.apply, (z,))


def test_nn_sequential_with_flatten_and_manual_update():
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)

    # (x, x^2, x^3) as the features of a linear layer
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    assert xx.shape == (2000, 3)

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    loss_fn = nn.MSELoss(reduction="sum")

    learning_rate = 1e-6
    losses = []
    for _t in range(2000):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad

    linear_layer = model[0]
    result = (
        f"y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + "
        f"{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3"
    )
    assert result.startswith("y = ")
    assert losses[-1] < losses[0] / 10
    assert abs(linear_layer.weight[:, 0].item() - least_squares_cubic()[1]) < 0.05


def test_nn_with_optim():
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    loss_fn = nn.MSELoss(reduction="sum")

    learning_rate = 1e-3
    optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
    losses = []
    for _t in range(2000):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    best = least_squares_cubic()
    linear_layer = model[0]
    assert losses[-1] < losses[0] / 10
    assert losses[-1] < 15.0
    np.testing.assert_allclose(linear_layer.weight.detach().numpy()[0], best[1:], atol=0.05)


class DynamicNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.randn(()))
        self.b = nn.Parameter(torch.randn(()))
        self.c = nn.Parameter(torch.randn(()))
        self.d = nn.Parameter(torch.randn(()))
        self.e = nn.Parameter(torch.randn(()))

    def forward(self, x):
        # A third-order polynomial plus, on each call, a random number (0 to 2) of higher-order
        # terms that all share the parameter e: the graph differs from step to step.
        y = self.a + self.b * x + self.c * x**2 + self.d * x**3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x**exp
        return y

    def string(self):
        return (
            f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3 + "
            f"{self.e.item()} x^4 ? + {self.e.item()} x^5 ?"
        )


def test_dynamic_net_reuses_a_parameter_a_random_number_of_times():
    random.seed(0)
    torch.manual_seed(0)
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)

    model = DynamicNet()
    assert len(list(model.parameters())) == 5
    criterion = nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    losses = []
    for _t in range(3000):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    assert model.string().startswith("y = ")
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-100:]) < np.mean(losses[:100]) / 5
