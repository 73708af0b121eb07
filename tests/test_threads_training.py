"""Training in several Python threads at once gives the results of training one model after another.

With the GIL the threads interleave between ops (and backward releases the GIL); on a free-threaded
CPython (the extension declares it does not need the GIL) they really run in parallel. Either way each
model's parameters, losses and gradients must be bitwise those of a sequential run.
"""

import threading

import numpy as np

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
import chainrule.optim as optim


def _make_model(seed: int) -> nn.Module:
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
    with cr.no_grad():
        for p in model.parameters():
            p.copy_(cr.tensor(rng.standard_normal(tuple(p.shape)) * 0.5, dtype=p.dtype))
    return model


def _data(seed: int) -> tuple:
    rng = np.random.default_rng(100 + seed)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    y = (np.sin(x.sum(axis=1, keepdims=True))).astype(np.float32)
    return cr.tensor(x), cr.tensor(y)


def _train(seed: int, steps: int = 30) -> tuple:
    model = _make_model(seed)
    x, y = _data(seed)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    params = [p.detach().numpy().copy() for p in model.parameters()]
    return losses, params


def test_two_models_trained_in_two_threads_match_sequential_training():
    seeds = [1, 2]
    expected = [_train(s) for s in seeds]

    results: dict = {}
    errors: list = []
    barrier = threading.Barrier(len(seeds))

    def work(seed: int) -> None:
        try:
            barrier.wait()
            results[seed] = _train(seed)
        except BaseException as e:  # reported in the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s,)) for s in seeds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors

    for seed, (losses, params) in zip(seeds, expected):
        got_losses, got_params = results[seed]
        assert got_losses == losses
        assert len(got_params) == len(params) == 4
        for a, b in zip(got_params, params):
            np.testing.assert_array_equal(a, b)
    # The two models learned different things, and both learned.
    assert expected[0][0][-1] < expected[0][0][0]
    assert expected[1][0][-1] < expected[1][0][0]
    assert expected[0][0] != expected[1][0]


def test_many_threads_backward_on_independent_graphs():
    def grad_of(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        w = cr.tensor(rng.standard_normal((8, 8)), requires_grad=True)
        h = w
        for _ in range(20):
            h = (h @ w).tanh()
        h.sum().backward()
        assert w.grad is not None
        return w.grad.numpy().copy()

    seeds = list(range(6))
    expected = [grad_of(s) for s in seeds]
    out: dict = {}

    def work(s: int) -> None:
        out[s] = grad_of(s)

    threads = [threading.Thread(target=work, args=(s,)) for s in seeds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in seeds:
        np.testing.assert_array_equal(out[s], expected[s])
