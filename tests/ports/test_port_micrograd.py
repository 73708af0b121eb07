"""Port: micrograd's style of engine test. A tiny scalar autograd engine (written here) and a
tensor library compute the same expression graphs; values and gradients must agree.

The tensor half is written as PyTorch code and run by chainrule (``import chainrule as torch``);
where PyTorch is installed the same half also runs under it, as a third opinion.
"""

import math

import pytest

import chainrule as torch


class Value:
    """A scalar that remembers how it was computed, with reverse-mode gradients."""

    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        assert isinstance(k, (int, float))
        out = Value(self.data**k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(0.0, self.data), (self,), "relu")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()
        stack = [(self, False)]
        while stack:  # iterative topological sort
            v, done = stack.pop()
            if done:
                order.append(v)
            elif v not in seen:
                seen.add(v)
                stack.append((v, True))
                stack.extend((c, False) for c in v._prev)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1


def sanity_graph(x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    return y


def more_ops_graph(a, b):
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def neuron_graph(xs, ws, b):
    act = sum((wi * xi for wi, xi in zip(ws, xs)), b)
    return act.tanh() * act.exp() + act**2


def test_sanity_check():
    x = Value(-4.0)
    y = sanity_graph(x)
    y.backward()
    xmg, ymg = x, y

    x = torch.Tensor([-4.0]).double()
    x.requires_grad = True
    y = sanity_graph(x)
    y.backward()
    xpt, ypt = x, y

    assert ymg.data == ypt.data.item()  # forward pass agrees
    assert xmg.grad == xpt.grad.item()  # backward pass agrees


def test_sanity_check_with_tensor_factory():
    x = Value(-4.0)
    y = sanity_graph(x)
    y.backward()
    xmg, ymg = x, y

    x = torch.tensor([-4.0], dtype=torch.float64, requires_grad=True)
    y = sanity_graph(x)
    y.backward()
    xpt, ypt = x, y

    assert ymg.data == ypt.data.item()
    assert xmg.grad == xpt.grad.item()


def test_more_ops():
    a = Value(-4.0)
    b = Value(2.0)
    g = more_ops_graph(a, b)
    g.backward()
    amg, bmg, gmg = a, b, g

    a = torch.tensor([-4.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    g = more_ops_graph(a, b)
    g.backward()
    apt, bpt, gpt = a, b, g

    tol = 1e-6
    assert abs(gmg.data - gpt.data.item()) < tol
    assert abs(amg.grad - apt.grad.item()) < tol
    assert abs(bmg.grad - bpt.grad.item()) < tol


def test_neuron():
    xs_v = [Value(v) for v in (0.5, -1.5, 2.0)]
    ws_v = [Value(v) for v in (-0.3, 0.8, 0.1)]
    b_v = Value(0.2)
    out = neuron_graph(xs_v, ws_v, b_v)
    out.backward()

    xs = [torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for v in xs_v]
    ws = [torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for v in ws_v]
    b = torch.tensor(b_v.data, dtype=torch.float64, requires_grad=True)
    o = neuron_graph(xs, ws, b)
    o.backward()

    assert o.item() == pytest.approx(out.data, abs=1e-12)
    for vt, t in zip(xs_v + ws_v + [b_v], xs + ws + [b]):
        assert t.grad.item() == pytest.approx(vt.grad, abs=1e-12)


@pytest.mark.parametrize("graph", ["sanity", "more_ops", "neuron"])
def test_same_graphs_under_pytorch(graph):
    real = pytest.importorskip("torch")

    def run(lib):
        if graph == "sanity":
            leaves = [lib.tensor([-4.0], dtype=lib.float64, requires_grad=True)]
            out = sanity_graph(*leaves)
        elif graph == "more_ops":
            leaves = [lib.tensor([v], dtype=lib.float64, requires_grad=True) for v in (-4.0, 2.0)]
            out = more_ops_graph(*leaves)
        else:
            leaves = [
                lib.tensor(v, dtype=lib.float64, requires_grad=True)
                for v in (0.5, -1.5, 2.0, -0.3, 0.8, 0.1, 0.2)
            ]
            out = neuron_graph(leaves[:3], leaves[3:6], leaves[6])
        out.sum().backward()
        return out.sum().item(), [leaf.grad.sum().item() for leaf in leaves]

    val_c, grads_c = run(torch)
    val_t, grads_t = run(real)
    assert val_c == pytest.approx(val_t, rel=1e-12)
    assert grads_c == pytest.approx(grads_t, rel=1e-12)
