"""End-to-end training: PyTorch parity for whole networks with normalization, a real dataset, and
checkpoint/resume exactness."""

import os

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
import chainrule.optim as optim

OPTIMIZERS = [
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=False)),
    ("Adam", dict(lr=0.01, weight_decay=1e-3)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.05, lr_decay=1e-3)),
]


def _net(lib):
    return lib.nn.Sequential(
        lib.nn.Linear(6, 16),
        lib.nn.BatchNorm1d(16),
        lib.nn.ReLU(),
        lib.nn.Linear(16, 16),
        lib.nn.LayerNorm(16),
        lib.nn.Tanh(),
        lib.nn.Linear(16, 3),
    ).double()


def _copy_weights(src_torch, dst_cr):
    """Loads torch's initial weights (and buffers) into the chainrule model through NumPy."""
    state = {k: cr.tensor(v.detach().numpy().copy()) for k, v in src_torch.state_dict().items()}
    dst_cr.load_state_dict(state)


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS)
def test_network_with_batchnorm_and_layernorm_matches_torch_over_20_steps(torch, name, kwargs):
    torch.manual_seed(0)
    tmodel = _net(torch)
    model = _net(cr)
    _copy_weights(tmodel, model)
    assert list(model.state_dict().keys()) == list(tmodel.state_dict().keys())
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 6))
    y = rng.integers(0, 3, 32)
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(tmodel.parameters(), foreach=False, **kwargs)
    for step in range(20):
        xb, yb = X[(step % 4) * 8 : (step % 4) * 8 + 16], y[(step % 4) * 8 : (step % 4) * 8 + 16]
        opt.zero_grad()
        loss = F.cross_entropy(model(cr.tensor(xb)), cr.tensor(yb))
        loss.backward()
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tmodel(torch.tensor(xb)), torch.tensor(yb))
        tloss.backward()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-6, abs=1e-9)
        for (n, p), tp in zip(model.named_parameters(), tmodel.parameters()):
            np.testing.assert_allclose(np.asarray(p.grad), tp.grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=n)
        opt.step()
        topt.step()
    # A bias right before BatchNorm has a gradient of pure rounding noise (BN cancels it), which
    # Adagrad/RMSprop normalize into steps of ~1e-8: compare parameters to 1e-6 absolute.
    for (n, p), tp in zip(model.named_parameters(), tmodel.parameters()):
        np.testing.assert_allclose(
            np.asarray(p.detach()), tp.detach().numpy(), rtol=1e-6, atol=1e-6, err_msg=n
        )
    for (n, b), tb in zip(model.named_buffers(), tmodel.buffers()):
        np.testing.assert_allclose(np.asarray(b), tb.numpy(), rtol=1e-6, atol=1e-6, err_msg=n)
    model.eval()
    tmodel.eval()
    with cr.no_grad(), torch.no_grad():
        np.testing.assert_allclose(
            np.asarray(model(cr.tensor(X))), tmodel(torch.tensor(X)).numpy(), rtol=1e-6, atol=1e-6
        )


def _digits():
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()  # shipped inside scikit-learn: no download
    X = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(X))
    X, y = X[perm], y[perm]
    return X[:1400], y[:1400], X[1400:], y[1400:]


def _digits_model():
    return nn.Sequential(
        nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10)
    )


def _train(model, opt, sched, loader, epochs, start_epoch=0):
    for _ in range(start_epoch, epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
        sched.step()


def _loader(X, y, seed):
    from chainrule.utils.data import DataLoader, TensorDataset

    gen = cr.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(cr.tensor(X), cr.tensor(y)), batch_size=64, shuffle=True, generator=gen)


def test_digits_classifier_reaches_95_percent_and_resumes_exactly(tmp_path):
    Xtr, ytr, Xte, yte = _digits()

    cr.manual_seed(0)
    model = _digits_model()
    opt = optim.Adam(model.parameters(), lr=3e-3)
    sched = optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    _train(model, opt, sched, _loader(Xtr, ytr, 1), epochs=10)
    model.eval()
    with cr.no_grad():
        acc = (model(cr.tensor(Xte)).argmax(1) == cr.tensor(yte)).float().mean().item()
    assert acc > 0.95, acc

    # Same run, interrupted after 5 epochs, saved, reloaded into fresh objects, and continued.
    cr.manual_seed(0)
    model_a = _digits_model()
    opt_a = optim.Adam(model_a.parameters(), lr=3e-3)
    sched_a = optim.lr_scheduler.StepLR(opt_a, step_size=4, gamma=0.5)
    loader_a = _loader(Xtr, ytr, 1)
    _train(model_a, opt_a, sched_a, loader_a, epochs=5)
    path = os.path.join(tmp_path, "ckpt.safetensors")
    cr.save(
        {
            "model": model_a.state_dict(),
            "optim": opt_a.state_dict(),
            "sched": sched_a.state_dict(),
            "rng": cr.get_rng_state(),
            "loader_rng": loader_a.generator.get_state(),
            "epoch": 5,
        },
        path,
    )

    ckpt = cr.load(path)
    model_b = _digits_model()
    model_b.load_state_dict(ckpt["model"])
    opt_b = optim.Adam(model_b.parameters(), lr=3e-3)
    opt_b.load_state_dict(ckpt["optim"])
    sched_b = optim.lr_scheduler.StepLR(opt_b, step_size=4, gamma=0.5)
    sched_b.load_state_dict(ckpt["sched"])
    cr.set_rng_state(ckpt["rng"])
    loader_b = _loader(Xtr, ytr, 999)
    loader_b.generator.set_state(ckpt["loader_rng"])
    _train(model_b, opt_b, sched_b, loader_b, epochs=10, start_epoch=ckpt["epoch"])

    for (n, p), q in zip(model.state_dict().items(), model_b.state_dict().values()):
        assert np.array_equal(np.asarray(p), np.asarray(q)), n
