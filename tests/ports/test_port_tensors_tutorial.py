"""Port: a tour of tensors in the manner of PyTorch's beginner "Tensors" tutorial, written as
PyTorch code (only the imports differ: ``import chainrule as torch``)."""

import numpy as np
import pytest

import chainrule as torch


def test_creating_tensors():
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    assert x_data.dtype == torch.int64 and x_data.shape == (2, 2)

    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    assert x_np.tolist() == data

    x_ones = torch.ones_like(x_data)  # keeps the shape and dtype of x_data
    assert x_ones.tolist() == [[1, 1], [1, 1]] and x_ones.dtype == torch.int64
    x_rand = torch.rand_like(x_data, dtype=torch.float)  # overrides the dtype
    assert x_rand.dtype == torch.float32
    assert ((x_rand >= 0) & (x_rand < 1)).all()

    shape = (2, 3)
    rand_tensor = torch.rand(shape)
    ones_tensor = torch.ones(shape)
    zeros_tensor = torch.zeros(shape)
    assert rand_tensor.shape == ones_tensor.shape == zeros_tensor.shape == (2, 3)
    assert ones_tensor.sum().item() == 6.0 and zeros_tensor.sum().item() == 0.0


def test_attributes():
    tensor = torch.rand(3, 4)
    assert tensor.shape == (3, 4)
    assert tensor.dtype == torch.float32
    assert str(tensor.device) == "cpu"
    assert f"Shape of tensor: {tensor.shape}".startswith("Shape of tensor: ")


def test_device_selection_idioms():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tensor = torch.ones(4, 4).to(device)
    assert tensor.device.type == "cpu"
    if torch.accelerator.is_available():
        tensor = tensor.to(torch.accelerator.current_accelerator())
    assert tensor.is_cpu or tensor.device.type != "cpu"


def test_indexing_slicing_and_joining():
    tensor = torch.ones(4, 4)
    assert tensor[0].tolist() == [1.0] * 4
    assert tensor[:, 0].tolist() == [1.0] * 4
    assert tensor[..., -1].tolist() == [1.0] * 4
    tensor[:, 1] = 0
    assert tensor.tolist()[2] == [1.0, 0.0, 1.0, 1.0]

    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    assert t1.shape == (4, 12)
    assert t1[0].tolist() == [1.0, 0.0, 1.0, 1.0] * 3
    t2 = torch.stack([tensor, tensor])
    assert t2.shape == (2, 4, 4)


def test_arithmetic():
    tensor = torch.ones(4, 4)
    tensor[:, 1] = 0
    # matrix product, three ways
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    assert y1.tolist() == y2.tolist() == y3.tolist()
    assert y1[0, 0].item() == 3.0

    # elementwise product, three ways
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    assert z1.tolist() == z2.tolist() == z3.tolist()

    agg = tensor.sum()
    agg_item = agg.item()
    assert agg_item == 12.0 and isinstance(agg_item, float)

    tensor.add_(5)  # in place
    assert tensor[0].tolist() == [6.0, 5.0, 6.0, 6.0]


def test_numpy_bridge_shares_memory():
    t = torch.ones(5)
    n = t.numpy()
    t.add_(1)
    assert n.tolist() == [2.0] * 5  # the array sees the tensor's change

    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    assert t.tolist() == [2.0] * 5  # and the tensor sees the array's


def test_reshaping_and_reductions():
    x = torch.arange(12).reshape(3, 4)
    assert x.view(4, 3).shape == (4, 3)
    assert x.t().shape == (4, 3)
    assert x.sum(dim=0).tolist() == [12, 15, 18, 21]
    assert x.max().item() == 11
    values, indices = x.max(dim=1)
    assert values.tolist() == [3, 7, 11] and indices.tolist() == [3, 3, 3]
    assert x.float().mean().item() == pytest.approx(5.5)
    assert x.argmax(1).tolist() == [3, 3, 3]


def test_integer_division_and_remainder():
    rows = torch.arange(28)
    band = (rows // 3).clamp(max=9)
    assert band.tolist()[:7] == [0, 0, 0, 1, 1, 1, 2] and band.max().item() == 9
    assert (rows % 3).tolist()[:4] == [0, 1, 2, 0]
