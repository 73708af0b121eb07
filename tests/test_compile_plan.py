"""Planned replays of compiled steps (Note [Planned replay] in csrc/autograd/plan.h).

After a few lowered replays a compiled step records a plan: the replay's calls with the very
tensors they used, run again on the same buffers. Results must stay bitwise those of eager
execution, and anything outside the plan that holds one of its tensors (a kept gradient, a hook
added later, another thread count) must make it step aside.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from helpers import arrays, assert_bitwise, moons_mlp

STEPS = 8  # the trace, two lowered replays, the replay that records the plan, then planned ones


@pytest.fixture(autouse=True)
def _restore_threads():
    before = cr.get_num_threads()
    yield
    cr.set_num_threads(before)


def _moons_step(optimizer="sgd", returns=True, seed=0):
    params, forward, loss_of = moons_mlp(seed)
    if optimizer == "sgd":
        opt = cr.optim.SGD(params, lr=0.1)
    elif optimizer == "momentum":
        opt = cr.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
    else:
        opt = cr.optim.Adam(params, lr=1e-2)

    def step():
        opt.zero_grad()
        loss = loss_of(forward())
        loss.backward()
        opt.step()
        return loss if returns else None

    return step, params


def _schedule(fn):
    return fn.traces()[0]  # the one the last call replayed


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_planned_steps_are_bitwise_equal_to_eager(optimizer, threads):
    cr.set_num_threads(threads)
    results = []
    for compiled in (False, True):
        step, params = _moons_step(optimizer)
        fn = cr.compile(step) if compiled else step
        losses = [fn() for _ in range(STEPS)]
        results.append(arrays(params) + arrays(losses) + arrays([p.grad for p in params]))
        if compiled:
            s = _schedule(fn)
            assert s.lowered and s.planned and s.plan_calls > 0, s.plan_note
            assert s.plan_note == ""
            assert len({id(t) for t in losses}) == len(losses)  # a fresh tensor every call
    assert_bitwise(results[0], results[1])


def test_planned_ops_run_their_kernels_directly():
    # Note [Direct calls]: an op whose result is one kernel's output runs that kernel on the
    # recorded buffers (mean: its sum's kernel, then its scaling)
    step, _ = _moons_step()
    fn = cr.compile(step)
    for _ in range(STEPS):
        fn()
    listing = _schedule(fn).plan_listing
    assert len(listing) == _schedule(fn).plan_calls
    direct = [w for w in listing if w.endswith("(direct)")]
    for kind in (
        "matmul",
        "binary",
        "broadcast",
        "sum",
        "relu",
        "mul_scalar",
        "mean",
        "rsub_scalar",
        "sgd_step",
    ):
        assert f"{kind} (direct)" in direct, listing
    # zero_grad's `p.grad = None` are calls of the plan; the optimizer's reads of p.grad need none
    # (the plan's own calls set them); no step is left to run whole
    assert listing.count("grad = None") == 6
    assert not any(w.startswith(("step ", "node ")) for w in listing), listing
    assert len(direct) > len(listing) // 2


def _varied_step(dtype):
    # broadcasts of either side, scalars, strided (transposed) operands, column and full sums,
    # division, sum_to of a broadcast bias
    rng = np.random.default_rng(3)
    shapes = [(40, 8), (8, 8), (8,), (40, 1), (1, 8)]
    data = [(rng.standard_normal(s) * 0.3).astype(dtype) for s in shapes]
    X, W, b, c, r = (cr.tensor(a, requires_grad=i > 0) for i, a in enumerate(data))
    params = [W, b, c, r]
    opt = cr.optim.SGD(params, lr=1e-3)

    def step():
        opt.zero_grad()
        h = F.relu(X @ W + b)
        g = (h.t() @ X).t() * 0.05  # strided operands of a product
        q = (h * c - r / (c * c + 1.0)) * 0.5 + g.sum(0) - 2.0
        loss = (q * q).sum() + (h.sum(1, keepdim=True) * c).mean() + (W.t() * W).sum()
        loss.backward()
        opt.step()
        return loss

    return step, params


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_direct_calls_of_varied_ops_are_bitwise_equal_to_eager(dtype, threads):
    # each op either a direct call or the op's own, with the same bits
    cr.set_num_threads(threads)
    results = []
    for compiled in (False, True):
        step, params = _varied_step(dtype)
        fn = cr.compile(step) if compiled else step
        losses = [fn() for _ in range(STEPS + 2)]
        assert np.isfinite(arrays(losses)).all()
        results.append(arrays(params) + arrays(losses))
        if compiled:
            s = _schedule(fn)
            assert s.planned, s.plan_note
            assert any(w == "broadcast (direct)" for w in s.plan_listing)
    assert_bitwise(results[0], results[1])


def test_steps_that_read_and_clip_gradients():
    # reads of p.grad after backward (no call of their own in the plan), in-place clipping and a
    # returned gradient norm: bitwise as eager, with the user's .grad tensors left alone
    results = []
    for compiled in (False, True):
        params, forward, loss_of = moons_mlp(4)
        opt = cr.optim.SGD(params, lr=0.1, momentum=0.5)

        def step(params=params, forward=forward, loss_of=loss_of, opt=opt):
            opt.zero_grad()
            loss_of(forward()).backward()
            norm = cr.nn.utils.clip_grad_norm_(params, 0.05)
            scale = params[0].grad.abs().sum()
            opt.step()
            return norm + scale

        fn = cr.compile(step) if compiled else step
        out = [fn() for _ in range(STEPS + 2)]
        kept = [p.grad for p in params]  # held by the user: the next step must not write them
        before = arrays(kept)
        out.append(fn())
        assert_bitwise(arrays(kept), before)
        results.append(arrays(params) + arrays(out))
    assert_bitwise(results[0], results[1])


def test_returned_losses_keep_their_values():
    # The plan overwrites its buffers each run: what it returns is a copy.
    step, _ = _moons_step()
    want = arrays([step() for _ in range(STEPS)])
    step, _ = _moons_step()
    fn = cr.compile(step)
    got = [fn() for _ in range(STEPS)]
    assert _schedule(fn).planned
    assert_bitwise(arrays(got), want)


def _classifier(seed=0):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 3))
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step, model


def _batches(n=STEPS, seed=1):
    rng = np.random.default_rng(seed)
    return [
        (cr.tensor(rng.standard_normal((16, 6)).astype(np.float32)), cr.tensor(rng.integers(0, 3, 16)))
        for _ in range(n)
    ]


@pytest.mark.parametrize("threads", [1, 2])
def test_new_batches_are_copied_into_the_plan(threads):
    cr.set_num_threads(threads)
    batches = _batches()
    results = []
    for compiled in (False, True):
        step, model = _classifier()
        fn = cr.compile(step) if compiled else step
        losses = [fn(x, y) for x, y in batches]
        results.append(arrays(model.parameters()) + arrays(losses))
        if compiled:
            assert _schedule(fn).planned, _schedule(fn).plan_note
    assert_bitwise(results[0], results[1])
    # the caller's batches are read, never written
    assert_bitwise(arrays([x for x, _ in batches]), arrays([x for x, _ in _batches()]))


def test_a_kept_gradient_makes_the_plan_step_aside():
    results = []
    for compiled in (False, True):
        step, params = _moons_step()
        fn = cr.compile(step) if compiled else step
        for _ in range(STEPS):
            fn()
        if compiled:
            assert _schedule(fn).planned
        kept = params[0].grad  # the plan's buffer: the next step must not overwrite it
        before = kept.numpy().copy()
        fn()
        assert np.array_equal(kept.numpy(), before)
        if compiled:
            assert not _schedule(fn).planned and "dropped" in _schedule(fn).plan_note
        del kept
        for _ in range(STEPS):
            fn()
        if compiled:
            assert _schedule(fn).planned  # recorded again once nothing holds its tensors
        results.append(arrays(params))
    assert_bitwise(results[0], results[1])


def test_hook_added_to_a_parameter_after_the_plan_runs():
    results = []
    for compiled in (False, True):
        step, params = _moons_step()
        fn = cr.compile(step) if compiled else step
        for _ in range(STEPS):
            fn()
        calls = []

        def hook(g, calls=calls):
            calls.append(1)
            return g * 0.5

        params[1].register_hook(hook)
        for _ in range(3):
            fn()
        assert len(calls) == 3
        results.append(arrays(params))
    assert_bitwise(results[0], results[1])


def test_thread_count_change_and_outside_updates():
    results = []
    for compiled in (False, True):
        cr.set_num_threads(1)
        step, params = _moons_step("momentum")
        fn = cr.compile(step) if compiled else step
        for k in range(3 * STEPS):
            if k == STEPS:
                cr.set_num_threads(2)
            if k == 2 * STEPS:
                with cr.no_grad():
                    params[0].mul_(0.5)  # changed in place outside the step: the plan reads it
            fn()
        results.append(arrays(params))
    assert_bitwise(results[0], results[1])


def test_parameters_given_other_data_after_the_plan():
    # `p.data = ...` keeps the Parameter and swaps its memory: the plan's views of it must not
    # keep reading the old memory
    results = []
    for compiled in (False, True):
        step, params = _moons_step("sgd")
        fn = cr.compile(step) if compiled else step
        losses = []
        for k in range(2 * STEPS):
            if k == STEPS:
                for p in params:
                    p.data = (p.detach() * 0.5).clone()
            if k == STEPS + 3:
                params[0].data = params[0].detach().t().contiguous().t()  # same shape, other strides
            losses.append(fn())
            if compiled and k == STEPS - 1:
                assert _schedule(fn).planned
        results.append(arrays(params) + arrays(losses))
    assert_bitwise(results[0], results[1])


def test_steps_a_plan_cannot_take():
    # a strided input (a transposed batch): the plan copies inputs into contiguous buffers
    w = cr.ones(3, 2, requires_grad=True)

    def f(x):
        w.grad = None
        loss = (x @ w).sum()
        loss.backward()
        return loss

    fn = cr.compile(f)
    for k in range(STEPS):
        x = cr.full((3, 4), float(k)).t()
        assert float(fn(x)) == 24.0 * k
        assert np.array_equal(w.grad.numpy(), np.full((3, 2), 4.0 * k, np.float32))
    assert not _schedule(fn).planned and "input" in _schedule(fn).plan_note

    # gradients set to None outside the step: accumulating into None is not the step's doing
    params, forward, loss_of = moons_mlp(3)

    def g():
        loss = loss_of(forward())
        loss.backward()
        return loss

    fn = cr.compile(g)
    eager = []
    for _ in range(STEPS):
        for p in params:
            p.grad = None
        fn()
        eager.append(params[0].grad.numpy().copy())
    assert not _schedule(fn).planned and "None" in _schedule(fn).plan_note
    assert all(np.array_equal(eager[0], e) for e in eager)


def test_gradient_accumulation_across_planned_steps():
    # without zero_grad each step adds into the gradients: the plan adds into the same ones
    def make_step(forward, loss_of):
        def step():
            loss = loss_of(forward())
            loss.backward()
            return loss

        return step

    results = []
    for compiled in (False, True):
        params, forward, loss_of = moons_mlp(4)
        step = make_step(forward, loss_of)
        fn = cr.compile(step) if compiled else step
        for _ in range(STEPS):
            fn()
        if compiled:
            assert _schedule(fn).planned, _schedule(fn).plan_note
        results.append(arrays([p.grad for p in params]))
    assert_bitwise(results[0], results[1])


def test_returned_view_of_a_plan_buffer_is_copied():
    step, _ = _moons_step(returns=False)
    params, forward, loss_of = moons_mlp(5)
    opt = cr.optim.SGD(params, lr=0.1)

    def detached():
        opt.zero_grad()
        loss = loss_of(forward())
        loss.backward()
        opt.step()
        return loss.detach()

    fn = cr.compile(detached)
    outs = [fn() for _ in range(STEPS)]
    assert _schedule(fn).planned, _schedule(fn).plan_note
    assert len({float(o) for o in outs}) == len(outs)  # each kept its own value


@pytest.mark.parametrize("case", ["writes_input", "input_is_a_parameter", "returns_input_view"])
def test_inputs_the_step_writes_or_shares_with_parameters_are_not_copied(case):
    # the caller's tensors must see every write, as in eager execution
    def make(w, opt):
        def f(x, y):
            opt.zero_grad()
            loss = (y * w).sum()
            loss.backward()
            opt.step()
            if case == "writes_input":
                x.mul_(1.5)
            if case == "returns_input_view":
                return loss, x[1:]
            return loss

        return f

    runs = []
    for compiled in (False, True):
        w = cr.ones(3, requires_grad=True)
        opt = cr.optim.SGD([w], lr=0.5)
        f = make(w, opt)
        fn = cr.compile(f) if compiled else f
        x = cr.ones(3)
        losses = []
        for k in range(STEPS):
            y = w.detach() if case == "input_is_a_parameter" else cr.full((3,), 2.0)
            out = fn(x, y)
            if case == "returns_input_view":
                out, view = out
                x[2] = float(k)  # the returned view is of the caller's x
                assert float(view[1]) == float(k)
            losses.append(float(out))
        runs.append((losses, x.numpy().copy(), w.detach().numpy().copy()))
        if compiled:
            s = _schedule(fn)
            assert not s.planned
            note = {"writes_input": "writes into an input", "input_is_a_parameter": "shares memory"}
            assert note.get(case, "view of an input") in s.plan_note
    assert runs[0][0] == runs[1][0]
    assert np.array_equal(runs[0][1], runs[1][1]) and np.array_equal(runs[0][2], runs[1][2])


def test_a_step_that_raises_while_recording_still_writes_its_inputs():
    def make(weight, opt):
        def f(x, target):
            opt.zero_grad()
            x.mul_(2.0)  # in place on an input, before the error
            loss = F.cross_entropy(cr.ones(2, 3) @ weight, target)
            loss.backward()
            opt.step()
            return loss

        return f

    finals = []
    for compiled in (False, True):
        weight = cr.ones(3, 4, requires_grad=True)
        opt = cr.optim.SGD([weight], lr=0.1)
        f = make(weight, opt)
        fn = cr.compile(f) if compiled else f
        x = cr.ones(2)
        for k in range(STEPS):
            if k == 3:  # the replay that records the plan; class 9 is out of range
                with pytest.raises(IndexError):
                    fn(x, cr.tensor([1, 9]))
            else:
                fn(x, cr.tensor([1, 2]))
        if compiled:
            assert _schedule(fn).lowered
        finals.append((x.numpy().copy(), weight.detach().numpy().copy()))
    assert np.array_equal(finals[0][0], finals[1][0]) and np.array_equal(finals[0][1], finals[1][1])
