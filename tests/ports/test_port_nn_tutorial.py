"""Port: building and training a network in the manner of PyTorch's beginner "Build the neural
network" and "Quickstart" tutorials, written as PyTorch code (only the imports differ:
``import chainrule as torch``, ``from chainrule import nn``).

Instead of FashionMNIST the data is a small synthetic set of 28x28 "images" whose class is the
brightest of ten horizontal bands, so the program runs offline and in a second.
"""

import pytest

import chainrule as torch
from chainrule import nn
from chainrule.utils.data import DataLoader, TensorDataset


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 64),
            nn.ReLU(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def make_data(n, generator):
    labels = torch.randint(0, 10, (n,), generator=generator)
    images = torch.rand(n, 1, 28, 28, generator=generator) * 0.2
    band = torch.tensor([min(row // 3, 9) for row in range(28)])  # the band of each row
    mask = (band.unsqueeze(0) == labels.unsqueeze(1)).float()  # (n, 28)
    images = images + mask.unsqueeze(1).unsqueeze(-1)
    return images, labels


def train(dataloader, model, loss_fn, optimizer):
    model.train()
    total = 0.0
    for X, y in dataloader:
        pred = model(X)
        loss = loss_fn(pred, y)

        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        total += loss.item()
    return total / len(dataloader)


def evaluate(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    return test_loss, correct


def test_model_structure_and_forward():
    torch.manual_seed(0)
    model = NeuralNetwork()
    X = torch.rand(1, 28, 28)
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    assert logits.shape == (1, 10)
    assert abs(pred_probab.sum().item() - 1.0) < 1e-6
    assert 0 <= y_pred.item() < 10

    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "linear_relu_stack.0.weight",
        "linear_relu_stack.0.bias",
        "linear_relu_stack.2.weight",
        "linear_relu_stack.2.bias",
        "linear_relu_stack.4.weight",
        "linear_relu_stack.4.bias",
    ]
    for name, param in model.named_parameters():
        line = f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n"
        assert name in line
    assert "Linear(in_features=784, out_features=64, bias=True)" in str(model)


def test_layers_one_by_one():
    input_image = torch.rand(3, 28, 28)
    flatten = nn.Flatten()
    flat_image = flatten(input_image)
    assert flat_image.size() == (3, 784)
    layer1 = nn.Linear(in_features=28 * 28, out_features=20)
    hidden1 = layer1(flat_image)
    assert hidden1.size() == (3, 20)
    hidden1 = nn.ReLU()(hidden1)
    assert hidden1.min().item() >= 0
    seq_modules = nn.Sequential(flatten, layer1, nn.ReLU(), nn.Linear(20, 10))
    logits = seq_modules(input_image)
    softmax = nn.Softmax(dim=1)
    pred_probab = softmax(logits)
    assert pred_probab.shape == (3, 10)


def test_quickstart_training_loop_learns_and_checkpoints(tmp_path):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    train_X, train_y = make_data(512, g)
    test_X, test_y = make_data(256, g)
    train_dataloader = DataLoader(TensorDataset(train_X, train_y), batch_size=64, shuffle=True)
    test_dataloader = DataLoader(TensorDataset(test_X, test_y), batch_size=64)

    for X, y in test_dataloader:
        assert X.shape == (64, 1, 28, 28) and y.dtype == torch.int64
        break

    model = NeuralNetwork()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)

    before_loss, before_acc = evaluate(test_dataloader, model, loss_fn)
    epochs = 10
    for _t in range(epochs):
        train(train_dataloader, model, loss_fn, optimizer)
    after_loss, after_acc = evaluate(test_dataloader, model, loss_fn)
    assert after_loss < before_loss / 2
    assert after_acc > 0.9 and before_acc < 0.3

    path = tmp_path / "model.pth"
    torch.save(model.state_dict(), path)
    model2 = NeuralNetwork()
    model2.load_state_dict(torch.load(path, weights_only=True))
    assert evaluate(test_dataloader, model2, loss_fn) == (after_loss, after_acc)

    classes = [f"band {i}" for i in range(10)]
    model2.eval()
    x, y = test_X[0], test_y[0]
    with torch.no_grad():
        pred = model2(x)
        predicted, actual = classes[pred[0].argmax(0)], classes[y]
    assert predicted == actual


def test_training_loop_with_adam_and_scheduler():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(2)
    X, y = make_data(256, g)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    model = NeuralNetwork()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _epoch in range(4):
        losses.append(train(loader, model, loss_fn, optimizer))
        scheduler.step()
    assert losses[-1] < losses[0] / 2
    assert scheduler.get_last_lr() == pytest.approx([2.5e-4])
