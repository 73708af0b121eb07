"""Port: automatic differentiation in the manner of PyTorch's beginner "Autograd" tutorial, written
as PyTorch code (only the imports differ: ``import chainrule as torch``)."""

import pytest

import chainrule as torch


def test_one_layer_network_gradients():
    torch.manual_seed(0)
    x = torch.ones(5)  # input
    y = torch.zeros(3)  # expected output
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)

    assert z.grad_fn is not None and loss.grad_fn is not None
    assert type(z.grad_fn).__name__ == "AddBackward0" or "Add" in z.grad_fn.name()

    loss.backward()
    # d loss / d z = sigmoid(z) / 3 for a mean over 3 targets that are all 0
    dz = torch.sigmoid(z.detach()) / 3
    assert torch.allclose(b.grad, dz)
    assert torch.allclose(w.grad, x.unsqueeze(1) * dz.unsqueeze(0))


def test_one_layer_network_gradients_core_only():
    torch.manual_seed(0)
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    loss.backward()
    dz = (torch.sigmoid(z.detach()) / 3).tolist()
    assert b.grad.tolist() == pytest.approx(dz, rel=1e-6)
    for row in w.grad.tolist():
        assert row == pytest.approx(dz, rel=1e-6)


def test_disabling_gradient_tracking():
    x = torch.ones(5)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    assert z.requires_grad

    with torch.no_grad():
        z = torch.matmul(x, w) + b
    assert not z.requires_grad

    z = torch.matmul(x, w) + b
    z_det = z.detach()
    assert not z_det.requires_grad


def test_vector_jacobian_product_and_accumulation():
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    first = inp.grad.clone()
    assert first.tolist()[0] == [4.0, 2.0, 2.0, 2.0, 2.0]

    out.backward(torch.ones_like(out), retain_graph=True)
    assert (inp.grad == 2 * first).all()  # gradients accumulate

    inp.grad.zero_()
    out.backward(torch.ones_like(out), retain_graph=True)
    assert torch.equal(inp.grad, first)


def test_vector_jacobian_product_and_accumulation_without_transpose():
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2)
    out.backward(torch.ones_like(out), retain_graph=True)
    first = inp.grad.clone()
    assert first.tolist()[0] == [4.0, 2.0, 2.0, 2.0, 2.0]
    out.backward(torch.ones_like(out), retain_graph=True)
    assert inp.grad.tolist() == (2 * first).tolist()
    inp.grad.zero_()
    out.backward(torch.ones_like(out))
    assert inp.grad.tolist() == first.tolist()


def test_backward_twice_without_retain_graph_raises():
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    s = (a * a).sum()
    s.backward()
    assert a.grad.tolist() == [4.0, 6.0]
    with pytest.raises(RuntimeError):
        s.backward()
