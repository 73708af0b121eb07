"""Lowered backward in compiled steps (Note [Lowered backward] in csrc/autograd/engine.cpp).

A compiled step whose loss.backward() graph allows it replays without graph nodes: the traced
nodes run again on each replay's tensors, grad mode off. Every test compares the compiled run with
the same steps run eagerly, bit for bit, and checks whether the schedule was lowered.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from helpers import moons_mlp


def _moons(seed=0):
    params, forward, loss_of = moons_mlp(seed)
    return params, lambda: loss_of(forward())


def _values(params, extra=()):
    return [np.array(t.detach().numpy(), copy=True) for t in list(params) + list(extra)]


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.shape == y.shape and np.array_equal(x, y)


def _run(make_opt, compiled, steps=6, returns_loss=False, threads=1):
    before = cr.get_num_threads()
    cr.set_num_threads(threads)
    try:
        params, loss_fn = _moons()
        opt = make_opt(params)

        def step():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            opt.step()
            return loss if returns_loss else None

        fn = cr.compile(step) if compiled else step
        losses = []
        for _ in range(steps):
            out = fn()
            if returns_loss:
                losses.append(np.array(out.detach().numpy(), copy=True))
        return _values(params, [p.grad for p in params]) + losses, fn
    finally:
        cr.set_num_threads(before)


def _sgd_step():
    params, loss_fn = _moons()
    opt = cr.optim.SGD(params, lr=0.1)

    def step():
        opt.zero_grad()
        loss_fn().backward()
        opt.step()

    return step, params


OPTIMIZERS = {
    "sgd": lambda ps: cr.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: cr.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda ps: cr.optim.Adam(ps, lr=0.01),
    "adamw": lambda ps: cr.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_lowered_step_is_bitwise_equal_to_eager(opt, threads):
    eager, _ = _run(OPTIMIZERS[opt], False, threads=threads)
    compiled, fn = _run(OPTIMIZERS[opt], True, threads=threads)
    _same(eager, compiled)
    assert fn.replay_count >= 3
    assert all(s.lowered for s in fn.traces()), [s.lowering_note for s in fn.traces()]


def test_returned_loss_is_its_value_without_history():
    eager, _ = _run(OPTIMIZERS["sgd"], False, returns_loss=True)
    compiled, fn = _run(OPTIMIZERS["sgd"], True, returns_loss=True)
    _same(eager, compiled)
    assert all(s.lowered for s in fn.traces())
    params, loss_fn = _moons()
    opt = cr.optim.SGD(params, lr=0.1)

    @cr.compile
    def step():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss

    step()
    step()
    loss = step()  # a replay
    assert loss.shape == () and np.isfinite(float(loss))
    assert not loss.requires_grad and loss.grad_fn is None
    assert cr.is_grad_enabled()  # the replay left grad mode as it found it


def test_lowered_replay_records_no_graph_and_keeps_grad_mode():
    eager_step, params = _sgd_step()
    step = cr.compile(eager_step)
    seen = {}
    for _ in range(4):
        step()
    assert all(s.lowered for s in step.traces())
    with cr.no_grad():
        seen["off"] = cr.is_grad_enabled()
    assert cr.is_grad_enabled() and seen["off"] is False
    for p in params:
        assert p.grad is not None and p.grad.grad_fn is None and p.is_leaf


def _compare(make_step, steps=5):
    """Runs make_step() eagerly and compiled; returns the compiled function's schedules."""
    results = []
    fns = []
    for compiled in (False, True):
        step, state = make_step()
        fn = cr.compile(step) if compiled else step
        for _ in range(steps):
            fn()
        results.append(_values(state))
        fns.append(fn)
    _same(results[0], results[1])
    return fns[1].traces()


def test_leaf_hook_keeps_the_engine():
    def make():
        step, params = _sgd_step()
        params[0].register_hook(lambda g: g * 2)
        return step, params

    traces = _compare(make)
    assert not any(s.lowered for s in traces)
    assert "AccumulateGrad" in traces[0].lowering_note


def test_input_that_requires_grad_keeps_the_engine():
    rng = np.random.default_rng(1)
    w = cr.tensor(rng.standard_normal(5).astype(np.float32), requires_grad=True)
    grads = {True: [], False: []}
    for compiled in (False, True):
        w.grad = None

        def step(x):
            (x * w).sum().backward()

        fn = cr.compile(step) if compiled else step
        for k in range(4):
            x = cr.tensor(np.full(5, k + 1.0, np.float32), requires_grad=True)
            fn(x)
            grads[compiled].append(np.array(x.grad.numpy(), copy=True))
        if compiled:
            assert not any(s.lowered for s in fn.traces())
            assert "leaf" in fn.traces()[0].lowering_note
    _same(grads[False], grads[True])


def _loss_step(seed, make_model, x_shape, make_target, loss, make_opt):
    """A make_step for _compare: make_model()'s output on a batch of x_shape against
    make_target(rng) under loss(output, target), one optimizer step of make_opt(params) a call."""

    def make():
        rng = np.random.default_rng(seed)
        cr.manual_seed(0)
        model = make_model()
        x = cr.tensor(rng.standard_normal(x_shape).astype(np.float32))
        target = make_target(rng)
        opt = make_opt(model.parameters())

        def step():
            opt.zero_grad()
            loss(model(x), target).backward()
            opt.step()

        return step, list(model.parameters())

    return make


def _mlp(n_in, act, n_out):
    return lambda: cr.nn.Sequential(cr.nn.Linear(n_in, 8), act(), cr.nn.Linear(8, n_out))


def _sgd(**kw):
    return lambda params: cr.optim.SGD(params, lr=0.1, **kw)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"reduction": "sum"}, {"weight": True, "ignore_index": 1}, {"label_smoothing": 0.1}],
    ids=["mean", "sum", "weight-ignore", "smoothing"],
)
def test_cross_entropy_step_is_lowered(kwargs):
    """cross_entropy with class indices is one node that saves only its input, target and weight
    (Note [Fused cross-entropy] in csrc/ops/nn.cpp), so its step is lowered."""
    kwargs = dict(kwargs)
    if kwargs.pop("weight", False):
        kwargs["weight"] = cr.tensor([0.5, 2.0, 1.0])
    make = _loss_step(
        2,
        lambda: cr.nn.Linear(4, 3),
        (8, 4),
        lambda rng: cr.tensor(rng.integers(0, 3, 8)),
        lambda out, y: F.cross_entropy(out, y, **kwargs),
        _sgd(),
    )
    traces = _compare(make)
    assert all(s.lowered for s in traces), [s.lowering_note for s in traces]


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_pointwise_loss_step_is_lowered(loss):
    make = _loss_step(
        4,
        _mlp(4, cr.nn.Tanh, 2),
        (8, 4),
        lambda rng: cr.tensor(rng.standard_normal((8, 2)).astype(np.float32)),
        getattr(F, loss),
        lambda params: cr.optim.Adam(params, lr=0.01),
    )
    traces = _compare(make)
    assert all(s.lowered for s in traces), [s.lowering_note for s in traces]


def test_log_softmax_then_nll_loss_step_is_lowered():
    """The classic MNIST step: nll_loss is one node that saves its input, target and weight."""
    make = _loss_step(
        5,
        _mlp(6, cr.nn.ReLU, 4),
        (16, 6),
        lambda rng: cr.tensor(rng.integers(0, 4, 16)),
        lambda out, y: F.nll_loss(F.log_softmax(out, dim=1), y),
        _sgd(momentum=0.9),
    )
    traces = _compare(make)
    assert all(s.lowered for s in traces), [s.lowering_note for s in traces]


NORM_MODELS = {
    "layer_norm": lambda: cr.nn.Sequential(
        cr.nn.Linear(6, 8), cr.nn.LayerNorm(8), cr.nn.GELU(), cr.nn.Linear(8, 3)
    ),
    "layer_norm_no_affine": lambda: cr.nn.Sequential(
        cr.nn.Linear(6, 8), cr.nn.LayerNorm(8, elementwise_affine=False), cr.nn.Linear(8, 3)
    ),
    "batch_norm": lambda: cr.nn.Sequential(
        cr.nn.Linear(6, 8), cr.nn.BatchNorm1d(8), cr.nn.ReLU(), cr.nn.Linear(8, 3)
    ),
    "group_norm_cnn": lambda: cr.nn.Sequential(
        cr.nn.Unflatten(1, (1, 2, 3)),
        cr.nn.Conv2d(1, 4, 2),
        cr.nn.GroupNorm(2, 4),
        cr.nn.Flatten(),
        cr.nn.Linear(8, 3),
    ),
}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("model", sorted(NORM_MODELS))
def test_normalization_layers_are_lowered(model, threads):
    """layer_norm and batch_norm name their mean and inverse standard deviation as internal
    tensors of their step (Note [Internal tensors of a recorded call] in capture.h), so the
    nodes that saved them run again in a lowered backward."""

    def make():
        rng = np.random.default_rng(7)
        cr.manual_seed(0)
        net = NORM_MODELS[model]()
        x = cr.tensor(rng.standard_normal((8, 6)).astype(np.float32))
        y = cr.tensor(rng.integers(0, 3, 8))
        opt = cr.optim.Adam(net.parameters(), lr=0.01)

        def step():
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()

        return step, list(net.parameters()) + list(net.buffers())

    traces = _with_threads(threads, lambda: _compare(make))()
    assert all(s.lowered for s in traces), [s.lowering_note for s in traces]


class _Encoder(cr.nn.Module):
    def __init__(self, dropout):
        super().__init__()
        layer = cr.nn.TransformerEncoderLayer(8, 2, 16, dropout=dropout, batch_first=True)
        self.enc = cr.nn.TransformerEncoder(layer, 2)
        self.fc = cr.nn.Linear(8, 3)

    def forward(self, x):
        return self.fc(self.enc(x).mean(1))


def _encoder_step(dropout):
    return _loss_step(
        9,
        lambda: _Encoder(dropout),
        (2, 5, 8),
        lambda rng: cr.tensor(rng.integers(0, 3, 2)),
        F.cross_entropy,
        lambda params: cr.optim.AdamW(params, lr=0.01),
    )


@pytest.mark.parametrize("threads", [1, 2])
def test_transformer_encoder_without_dropout_is_lowered(threads):
    """Attention names its log-sum-exp, and a batched matmul the 3-D views it makes, as internal
    tensors of their calls; attention's node runs again when it has no dropout."""
    traces = _with_threads(threads, lambda: _compare(_encoder_step(0.0)))()
    assert all(s.lowered for s in traces), [s.lowering_note for s in traces]


def test_attention_with_dropout_keeps_the_engine():
    # its node keeps the place of this call's random numbers, which a replay draws anew
    traces = _compare(_encoder_step(0.1))
    assert not any(s.lowered for s in traces)
    assert "cannot run again" in traces[0].lowering_note


def _class_probabilities(rng):
    p = rng.uniform(0.1, 1.0, (8, 3)).astype(np.float32)
    return cr.tensor(p / p.sum(1, keepdims=True))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"label_smoothing": 0.1}, {"weight": True}, {"weight": True, "label_smoothing": 0.2}],
    ids=["plain", "smoothing", "weight", "weight-smoothing"],
)
def test_cross_entropy_with_class_probabilities_is_lowered(kwargs):
    # a composite: it names log_softmax's output and the smoothed, weighted target it makes as
    # internal tensors of its call, which the nodes that save them find in each replay's slots
    kwargs = dict(kwargs)
    if kwargs.pop("weight", False):
        kwargs["weight"] = cr.tensor([0.5, 2.0, 1.0])
    loss = lambda out, y: F.cross_entropy(out, y, **kwargs)  # noqa: E731
    make = _loss_step(2, lambda: cr.nn.Linear(4, 3), (8, 4), _class_probabilities, loss, _sgd())
    traces = _compare(make)
    assert all(s.lowered for s in traces), [s.lowering_note for s in traces]


def test_division_by_a_python_number_is_lowered():
    # kl_div(reduction="batchmean") divides by the batch size: the 0-dim tensor made from the
    # number is saved by the division's node and named as an internal tensor of its call
    make = _loss_step(
        3,
        lambda: cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.LogSoftmax(dim=1)),
        (8, 4),
        _class_probabilities,
        lambda out, y: F.kl_div(out, y, reduction="batchmean"),
        _sgd(),
    )
    traces = _compare(make)
    assert all(s.lowered for s in traces), [s.lowering_note for s in traces]


def _with_threads(n, make):
    def run():
        before = cr.get_num_threads()
        cr.set_num_threads(n)
        try:
            return make()
        finally:
            cr.set_num_threads(before)

    return run


def test_wide_linear_layers_are_lowered_on_two_threads():
    # Each layer's backward forks into the input's branch and the weight's AccumulateGrad; an
    # AccumulateGrad never goes to another thread, so this is not a fork the engine splits.
    model = lambda: cr.nn.Sequential(cr.nn.Linear(200, 128), cr.nn.ReLU(), cr.nn.Linear(128, 10))  # noqa: E731
    target = lambda rng: cr.tensor(rng.integers(0, 10, 64))  # noqa: E731
    make = _loss_step(5, model, (64, 200), target, F.cross_entropy, _sgd())
    traces = _with_threads(2, lambda: _compare(make))()
    assert traces and all(s.lowered for s in traces), [s.lowering_note for s in traces]


def test_two_big_branches_keep_the_engine_on_two_threads():
    def make():
        rng = np.random.default_rng(6)
        w = cr.tensor(rng.standard_normal((128, 256)).astype(np.float32), requires_grad=True)
        x = cr.tensor(rng.standard_normal((64, 128)).astype(np.float32))

        def step():
            w.grad = None
            h = x @ w  # two branches of 64x256 elements start here
            (h.tanh().sum() + h.sigmoid().sum()).backward()
            with cr.no_grad():
                w.sub_(0.01 * w.grad)

        return step, [w]

    traces = _with_threads(2, lambda: _compare(make))()
    assert not any(s.lowered for s in traces)
    assert "branches big enough for other threads" in traces[0].lowering_note


def test_retain_graph_and_grad_keep_the_engine():
    def make():
        rng = np.random.default_rng(3)
        w = cr.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)

        def step():
            w.grad = None
            loss = (w * w).sum()
            loss.backward(retain_graph=True)
            (g,) = cr.autograd.grad(loss, [w])
            with cr.no_grad():
                w.sub_(0.1 * (w.grad + g))

        return step, [w]

    traces = _compare(make)
    assert not any(s.lowered for s in traces)


def test_output_that_requires_grad_keeps_the_graph():
    params, loss_fn = _moons()
    opt = cr.optim.SGD(params, lr=0.1)
    Wx = params[0]

    @cr.compile
    def step():
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
        return Wx * 2  # a tensor with history, not the backpropagated loss

    for _ in range(3):
        out = step()
    assert not any(s.lowered for s in step.traces())
    assert out.requires_grad and out.grad_fn is not None


def _counting_half(calls):
    def hook(g):
        calls.append(1)
        return g * 0.5

    return hook


def test_hook_added_after_the_trace_runs_in_a_lowered_replay():
    results = []
    for compiled in (False, True):
        step, params = _sgd_step()
        fn = cr.compile(step) if compiled else step
        fn()
        fn()
        calls: list[int] = []
        params[1].register_hook(_counting_half(calls))
        for _ in range(3):
            fn()
        assert len(calls) == 3
        results.append(_values(params))
        if compiled:
            assert fn.traces()[0].lowered
    _same(results[0], results[1])


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_lowered_replay_with_anomaly_mode():
    results = []
    for compiled in (False, True):
        step, params = _sgd_step()
        fn = cr.compile(step) if compiled else step
        fn()
        fn()
        with cr.autograd.detect_anomaly():
            fn()
        results.append(_values(params))
    _same(results[0], results[1])


def test_tensor_saved_then_changed_in_place_is_refused_at_trace():
    w = cr.tensor([1.0, 2.0], requires_grad=True)

    @cr.compile
    def step():
        h = w * 3
        y = h * h
        h.add_(1)  # y's node saved h: the eager backward refuses, so does the trace
        y.sum().backward()

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        step()
