"""The replay arena of compiled steps (Note [Replay arena] in csrc/core/replay_arena.h).

A lowered replay hands out the tensors the previous replay made, allocation by allocation, when
nothing else can see them. These tests check that a steady training step allocates nothing new,
and that a tensor something else still holds (a returned loss, a gradient, a NumPy array over a
returned tensor) is never handed out again while it is held.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from helpers import arrays, moons_mlp


def _step(returns, seed=0):
    """A moons SGD step returning what `returns` names ("none", "loss", "pred")."""
    params, forward, loss_of = moons_mlp(seed)
    opt = cr.optim.SGD(params, lr=0.1)

    def step():
        opt.zero_grad()
        pred = forward()
        loss = loss_of(pred)
        loss.backward()
        opt.step()
        if returns == "loss":
            return loss
        if returns == "pred":
            return pred.detach()
        return None

    return step, params


def test_steady_replays_allocate_nothing_new():
    step, _ = _step("none")
    fn = cr.compile(step)
    for _ in range(4):
        fn()
    (schedule,) = fn.traces()
    assert schedule.lowered
    stats = schedule.arena_stats
    assert stats["allocations"] > 20  # forward, backward and the update of a three-layer MLP
    assert stats["reused"] == stats["allocations"] == stats["kept"]
    assert 0 < stats["bytes"] <= 16 << 20


@pytest.mark.parametrize("returns", ["loss", "pred"])
def test_returned_tensors_are_never_overwritten(returns):
    # Every returned tensor is kept (not read) until all steps ran: a later replay must not have
    # written into any of them.
    eager_step, _ = _step(returns)
    want = arrays([eager_step() for _ in range(6)])
    step, _ = _step(returns)
    fn = cr.compile(step)
    outs = [fn() for _ in range(6)]
    assert all(s.lowered for s in fn.traces())
    got = arrays(outs)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert np.array_equal(g, w)
    assert len({id(o) for o in outs}) == len(outs)


def test_numpy_array_over_a_returned_tensor_keeps_its_values():
    eager_step, _ = _step("pred")
    want = arrays([eager_step() for _ in range(5)])
    step, _ = _step("pred")
    fn = cr.compile(step)
    views = [fn().numpy() for _ in range(5)]  # the arrays share the tensors' memory
    for v, w in zip(views, want):
        assert np.array_equal(v, w)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_gradients_held_across_steps_keep_their_values(set_to_none):
    def make():
        params, forward, loss_of = moons_mlp(3)
        opt = cr.optim.SGD(params, lr=0.1, momentum=0.9)

        def step():
            opt.zero_grad(set_to_none=set_to_none)
            loss_of(forward()).backward()
            opt.step()

        return step, params

    runs = []
    for compiled in (False, True):
        step, params = make()
        fn = cr.compile(step) if compiled else step
        held = []
        for _ in range(5):
            fn()
            held.append([p.grad for p in params])  # the tensors themselves, read at the end
        runs.append([arrays(h) for h in held] + [arrays(params)])
    for a, b in zip(*runs):
        for x, y in zip(a, b):
            assert np.array_equal(x, y)


def test_a_leaf_takes_the_replays_gradient_buffer_without_a_copy():
    # As in eager, a leaf without a .grad takes the gradient the backward made: the arena's own
    # reference to that buffer does not make it shared. The replay's allocations: the product, the
    # sum, the backward's seed and w's gradient (a copy of it would be a fifth).
    w = cr.ones(4, requires_grad=True)

    def step():
        w.grad = None
        (w * 3.0).sum().backward()

    fn = cr.compile(step)
    held = []
    for _ in range(4):
        fn()
        held.append(w.grad)
    (schedule,) = fn.traces()
    assert schedule.lowered
    assert schedule.arena_stats["allocations"] == 4
    assert len({g.data_ptr() for g in held}) == 4  # each held gradient kept its own buffer
    for g in held:
        assert g.tolist() == [3.0] * 4
    del held
    for _ in range(3):
        fn()
    assert w.grad.tolist() == [3.0] * 4
    assert schedule.arena_stats["reused"] == 4


def test_a_returned_tensor_changed_by_the_caller_is_not_handed_out_again():
    step, _ = _step("pred")
    fn = cr.compile(step)
    fn()
    fn()
    out = fn()
    out.requires_grad_()
    out.grad = cr.ones_like(out)
    del out  # the arena may now hold the only reference, but the tensor is no longer as made
    for _ in range(3):
        again = fn()
        assert not again.requires_grad and again.grad is None and again.grad_fn is None
    eager_step, _ = _step("pred")
    want = arrays([eager_step() for _ in range(6)])[-1]
    assert np.array_equal(arrays([again])[0], want)


def test_a_schedule_that_keeps_the_engine_keeps_no_buffers():
    params, forward, loss_of = moons_mlp()
    opt = cr.optim.SGD(params, lr=0.1)
    params[0].register_hook(lambda g: g * 2)  # a leaf hook: the backward is not lowered

    @cr.compile
    def step():
        opt.zero_grad()
        loss_of(forward()).backward()
        opt.step()

    for _ in range(4):
        step()
    (schedule,) = step.traces()
    assert not schedule.lowered
    assert schedule.arena_stats["kept"] == 0 and schedule.arena_stats["bytes"] == 0


def test_large_tensors_are_not_kept():
    def make():
        rng = np.random.default_rng(0)
        X = cr.tensor(rng.standard_normal((256, 128)).astype(np.float32))
        W = cr.tensor(rng.standard_normal((128, 256)).astype(np.float32) * 0.05, requires_grad=True)
        opt = cr.optim.SGD([W], lr=0.01)

        def step():
            opt.zero_grad()
            (X @ W).relu().sum().backward()  # (256, 256) float32 activations: 256 KiB each
            opt.step()

        return step, W

    eager_step, eager_W = make()
    step, W = make()
    fn = cr.compile(step)
    for _ in range(4):
        eager_step()
        fn()
    (schedule,) = fn.traces()
    assert schedule.lowered
    stats = schedule.arena_stats
    assert stats["allocations"] > stats["kept"]
    assert stats["bytes"] <= stats["kept"] * (64 << 10)
    assert np.array_equal(W.detach().numpy(), eager_W.detach().numpy())


def test_a_returned_view_keeps_its_values():
    def make():
        params, forward, loss_of = moons_mlp(5)
        opt = cr.optim.SGD(params, lr=0.1)

        def step():
            opt.zero_grad()
            pred = forward()
            loss_of(pred).backward()
            opt.step()
            return pred.detach()[:7].reshape(-1)  # a view of the replay's tensor, not the tensor

        return step

    eager = make()
    want = arrays([eager() for _ in range(6)])
    fn = cr.compile(make())
    outs = [fn() for _ in range(6)]
    assert all(s.lowered for s in fn.traces())
    for g, w in zip(arrays(outs), want):
        assert np.array_equal(g, w)
