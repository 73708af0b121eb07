"""chainrule.compile: a traced training step replayed from C++ (Note [Capture and replay])."""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from conftest import skip_if_sanitized
from helpers import arrays, assert_bitwise


@pytest.fixture(autouse=True)
def _restore_threads():
    n = cr.get_num_threads()
    yield
    cr.set_num_threads(n)


# ---- call forms and argument errors -------------------------------------------------------------
def test_call_forms_match_torch_compile():
    def f(x):
        return x * 2

    x = cr.ones(3)
    assert isinstance(cr.compile(f), cr._compile.CompiledFunction)

    @cr.compile
    def g(x):
        return x * 2

    @cr.compile(fullgraph=True, dynamic=False, backend="inductor", mode="max-autotune", options={})
    def h(x):
        return x * 2

    for fn in (cr.compile(f), g, h):
        assert np.array_equal(fn(x).numpy(), np.full(3, 2.0, np.float32))
        assert np.array_equal(fn(x).numpy(), np.full(3, 2.0, np.float32))  # the replay
    assert cr.compile(f, disable=True) is f
    assert cr.compile(disable=True)(f) is f
    assert "compile" in cr.__all__


def test_compile_of_non_callable_is_type_error():
    with pytest.raises(TypeError, match="callable"):
        cr.compile(5)
    with pytest.raises(TypeError, match="unexpected keyword"):
        cr.compile(lambda: None, no_such_option=1)


# ---- results: first call eager, later calls replayed -------------------------------------------
def test_replay_computes_with_the_new_inputs():
    calls = []

    @cr.compile
    def f(x, w):
        calls.append(1)  # Python: runs only while tracing
        return (x @ w).relu().sum(), x + 1

    rng = np.random.default_rng(0)
    w = cr.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    for _ in range(4):
        xa = rng.standard_normal((5, 4)).astype(np.float32)
        s, y = f(cr.tensor(xa), w)
        want = np.maximum(xa @ w.numpy(), 0).sum()
        assert np.isclose(float(s), want, rtol=1e-5)
        assert np.array_equal(y.numpy(), xa + 1)
    assert len(calls) == 1
    assert f.trace_count == 1 and f.replay_count == 3


def test_outputs_keep_their_structure_and_python_values():
    @cr.compile
    def f(x):
        return {"a": x * 2, "b": [x + 1, None, 3.5], "c": (x.sum(),)}

    x = cr.ones(2)
    for _ in range(2):
        out = f(x)
        assert set(out) == {"a", "b", "c"}
        assert out["b"][1] is None and out["b"][2] == 3.5
        assert np.array_equal(out["b"][0].numpy(), [2.0, 2.0])
        assert float(out["c"][0]) == 2.0
    assert f.replay_count == 1


def test_function_returning_none_runs_its_side_effects():
    w = cr.zeros(3)

    @cr.compile
    def bump():
        w.add_(1.0)

    for _ in range(5):
        assert bump() is None
    assert np.array_equal(w.numpy(), np.full(3, 5.0, np.float32))
    assert bump.trace_count == 1


# ---- whole training steps, bitwise equal to eager for any thread count ---------------------------
def _mlp(seed, sizes=(6, 16, 16, 3)):
    cr.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.Tanh()]
    return nn.Sequential(*layers[:-1])


def _train(make, compiled, steps=6, threads=1):
    cr.set_num_threads(threads)
    model, opt, step, batches = make()
    fn = cr.compile(step) if compiled else step
    losses = []
    for k in range(steps):
        losses.append(np.array(fn(*batches[k % len(batches)]).detach().numpy(), copy=True))
    buffers = list(model.buffers()) if hasattr(model, "buffers") else []
    return arrays(list(model.parameters()) + buffers) + losses, fn


def _assert_compiled_training_matches_eager(make):
    eager, _ = _train(make, False)
    compiled, _ = _train(make, True)
    assert_bitwise(eager, compiled)


def _data(seed, n, shape_x, classes):
    rng = np.random.default_rng(seed)
    return [
        (
            cr.tensor(rng.standard_normal((n, *shape_x)).astype(np.float32)),
            cr.tensor(rng.integers(0, classes, n)),
        )
        for _ in range(3)
    ]


def _classifier_step(model, opt):
    """A training step: cross-entropy of model(x) against y, backward, one optimizer step."""

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _make_mlp_sgd(momentum=0.9):
    model = _mlp(1)
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=momentum, weight_decay=1e-4)

    step = _classifier_step(model, opt)

    return model, opt, step, _data(2, 8, (6,), 3)


def _make_mlp_adam_clip():
    model = _mlp(3)
    opt = cr.optim.Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        return loss

    return model, opt, step, _data(4, 8, (6,), 3)


def _make_conv():
    cr.manual_seed(5)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 4))
    opt = cr.optim.SGD(model.parameters(), lr=0.05)

    step = _classifier_step(model, opt)

    return model, opt, step, _data(6, 5, (1, 6, 6), 4)


def _make_lstm():
    cr.manual_seed(7)
    lstm = nn.LSTM(3, 5, batch_first=True)
    head = nn.Linear(5, 2)
    model = nn.ModuleList([lstm, head])
    opt = cr.optim.Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        out, _ = lstm(x)
        loss = F.cross_entropy(head(out[:, -1]), y)
        loss.backward()
        opt.step()
        return loss

    return model, opt, step, _data(8, 4, (6, 3), 2)


def _make_moons():
    # micrograd's demo as in benchmarks/engines.py: hinge loss and L2 penalty, SGD
    rng = np.random.default_rng(9)
    X = cr.tensor(rng.standard_normal((40, 2)).astype(np.float32))
    yv = cr.tensor(np.where(rng.random(40) > 0.5, 1.0, -1.0).astype(np.float32)).reshape(-1, 1)
    sizes = [2, 16, 16, 1]
    Ws = [
        cr.tensor(rng.standard_normal((a, b)).astype(np.float32) * 0.5, requires_grad=True)
        for a, b in zip(sizes, sizes[1:])
    ]
    bs = [cr.tensor(np.zeros(b, np.float32), requires_grad=True) for b in sizes[1:]]
    params = [p for pair in zip(Ws, bs) for p in pair]
    opt = cr.optim.SGD(params, lr=0.05)

    def step():
        opt.zero_grad()
        h = X
        for i in range(3):
            h = h @ Ws[i] + bs[i]
            if i < 2:
                h = F.relu(h)
        data_loss = F.relu(1 - yv * h).mean()
        reg = (params[0] * params[0]).sum()
        for p in params[1:]:
            reg = reg + (p * p).sum()
        loss = data_loss + 1e-4 * reg
        loss.backward()
        opt.step()
        return loss

    class Holder:
        def parameters(self):
            return params

    return Holder(), opt, step, [()]


def _make_chain():
    x = cr.tensor(np.linspace(-1, 1, 64).astype(np.float32), requires_grad=True)

    def step():
        x.grad = None
        y = x
        for _ in range(1500 // 2):
            y = y * 1.0001
            y = y + 0.001
        y.sum().backward()
        return x.grad

    class Holder:
        def parameters(self):
            return [x]

    return Holder(), None, step, [()]


WORKLOADS = {
    "mlp_sgd": _make_mlp_sgd,
    "mlp_adam_clip": _make_mlp_adam_clip,
    "conv": _make_conv,
    "lstm": _make_lstm,
    "moons": _make_moons,
    "chain": _make_chain,
}


@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_compiled_training_is_bitwise_equal_to_eager(name, threads):
    eager, _ = _train(WORKLOADS[name], False, threads=threads)
    compiled, fn = _train(WORKLOADS[name], True, threads=threads)
    assert_bitwise(eager, compiled)
    assert fn.replay_count >= 3  # most steps were replays, not traces
    assert fn.trace_count <= 3


def test_step_traced_before_and_after_first_gradient():
    # step 1 sees a fresh optimizer; step 2 sees its momentum buffers: both are traced, then
    # step 3 on replays the second trace
    model, opt, step, batches = _make_mlp_sgd()
    fn = cr.compile(step)
    for k in range(5):
        fn(*batches[k % 3])
    assert fn.trace_count == 2 and fn.replay_count == 3
    assert fn.num_traces == 2


# ---- guards ------------------------------------------------------------------------------------
def test_step_that_sets_grads_to_none_first_is_traced_once():
    # zero_grad() sets every .grad to None without reading it, so the trace does not depend on
    # whether gradients existed before the call: plain SGD (no state) replays from the second call
    model, opt, step, batches = _make_mlp_sgd(momentum=0.0)
    fn = cr.compile(step)
    for k in range(4):
        fn(*batches[k % 3])
    assert fn.trace_count == 1 and fn.replay_count == 3

    # a step that reads .grad before setting it still depends on it: traced again once it changes
    w = cr.ones(3, requires_grad=True)

    @cr.compile
    def reads_first(x):
        if w.grad is not None:
            w.grad = None
        (w * x).sum().backward()
        return w.grad

    got = [reads_first(cr.full((3,), float(k))).numpy().copy() for k in range(1, 5)]
    assert [g[0] for g in got] == [1.0, 2.0, 3.0, 4.0]
    assert reads_first.trace_count == 2 and reads_first.replay_count == 2


def test_new_input_shape_traces_again_and_cache_is_bounded():
    @cr.compile(recompile_limit=3)
    def f(x):
        return x * 3

    for n in (1, 2, 3, 1, 2, 3):
        assert np.array_equal(f(cr.ones(n)).numpy(), np.full(n, 3.0, np.float32))
    assert f.trace_count == 3 and f.replay_count == 3
    f(cr.ones(4))  # a fourth shape evicts the least recently used (1,)
    assert f.num_traces == 3
    f(cr.ones(1))
    assert f.trace_count == 5


def test_dtype_requires_grad_and_grad_mode_are_guarded():
    @cr.compile
    def f(x):
        return (x * x).sum()

    a = f(cr.ones(3))
    b = f(cr.ones(3, dtype=cr.float64))
    assert b.dtype == cr.float64 and f.trace_count == 2
    c = f(cr.ones(3, requires_grad=True))
    assert c.requires_grad and f.trace_count == 3
    with cr.no_grad():
        d = f(cr.ones(3, requires_grad=True))
    assert not d.requires_grad and f.trace_count == 4
    assert not a.requires_grad


def test_learning_rate_change_by_scheduler_is_seen():
    def make():
        model = _mlp(11)
        opt = cr.optim.SGD(model.parameters(), lr=0.1)
        sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        batches = _data(12, 8, (6,), 3)

        step = _classifier_step(model, opt)

        return model, sched, step, batches

    results = []
    for compiled in (False, True):
        model, sched, step, batches = make()
        fn = cr.compile(step) if compiled else step
        for k in range(6):
            fn(*batches[k % 3])
            sched.step()
        results.append(arrays(model.parameters()))
    assert_bitwise(results[0], results[1])


def test_python_number_read_by_the_step_is_guarded():
    x = cr.ones(2)
    g_val = 3.0

    def g(x):
        return x * g_val

    cg = cr.compile(g)
    assert float(cg(x).sum()) == 6.0
    g_val = 5.0
    assert float(cg(x).sum()) == 10.0
    assert cg.trace_count == 2


def test_step_without_arguments_replays_from_cpp_and_keeps_its_guards():
    # Note [Fast replay]: a call without arguments whose key equals the last call's is one C++ call;
    # a changed hyperparameter, rebound closure value or grad mode still traces again.
    def make_step(model, opt, x, y):
        def step():
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return step

    results = []
    for compiled in (False, True):
        model = _mlp(21)
        opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        (x, y), _, _ = _data(22, 8, (6,), 3)
        step = make_step(model, opt, x, y)
        fn = cr.compile(step) if compiled else step
        losses = []
        for k in range(8):
            if k == 4:
                opt.param_groups[0]["lr"] = 0.05
            losses.append(float(fn()))
        if compiled:
            assert fn._fast is not None
            assert fn.trace_count == 3  # before and after the first gradient, and after the lr change
            assert fn.replay_count == 5
        results.append(arrays(model.parameters()) + [np.array(losses)])
    assert_bitwise(results[0], results[1])


def test_fast_replay_sees_grad_mode_rebound_cells_and_tracing():
    w = cr.ones(2, requires_grad=True)
    scale = 2.0

    def f():
        return (w * scale).sum()

    cf = cr.compile(f)
    for _ in range(3):
        out = cf()
    assert cf._fast is not None and out.requires_grad and float(out) == 4.0
    with cr.no_grad():
        out = cf()
    assert not out.requires_grad and float(out) == 4.0 and cf.trace_count == 2
    scale = 3.0
    assert float(cf()) == 6.0 and cf.trace_count == 3
    assert float(cf()) == 6.0 and cf.trace_count == 3

    # called while another function is traced, it is inlined into that trace, not replayed
    inner = cr.compile(lambda: w.detach() + 1)
    for _ in range(3):
        inner()
    assert inner._fast is not None
    outer = cr.compile(lambda x: inner() * x)
    for k in range(3):
        assert np.array_equal(outer(cr.full((2,), float(k))).numpy(), [2.0 * k, 2.0 * k])
    assert outer.trace_count == 1 and inner.trace_count == 1


def test_object_holding_its_compiled_step_is_collected():
    # the fast replay keeps no reference to what the step reads, so this cycle stays collectable
    import weakref

    class Trainer:
        def __init__(self):
            self.w = cr.ones(2, requires_grad=True)
            self.step = cr.compile(self._step)

        def _step(self):
            return (self.w * 2).sum()

    t = Trainer()
    for _ in range(3):
        t.step()
    assert t.step._fast is not None
    ref = weakref.ref(t)
    del t
    gc.collect()
    assert ref() is None


def test_compiled_function_reading_itself_is_collected_and_its_call_slots_are_checked():
    # Note [Compiled function calls]: the C++ call holds the reads and the fast replay, and shows
    # them to the garbage collector; a step whose closure holds its own compiled function is a cycle
    import weakref

    def make():
        w = cr.ones(2, requires_grad=True)
        cf = None

        def step():
            assert cf is not None  # (read through the closure: part of what is keyed)
            return (w * 3).sum()

        cf = cr.compile(step)
        return cf

    cf = make()
    for _ in range(3):
        assert float(cf()) == 6.0
    assert cf._fast is not None and cf.replay_count == 2 and callable(cf.__call__)
    with pytest.raises(TypeError, match="_FastReplay"):
        cf._fast = object()
    with pytest.raises(TypeError, match="three lists"):
        cf._read_lists = ([], [])
    ref = weakref.ref(cf)
    del cf
    gc.collect()
    assert ref() is None


def test_hook_that_resets_the_compiled_function_during_a_replay():
    # a tensor hook registered outside the step runs inside the replay; forgetting every trace
    # there drops the fast replay that is running, which the call keeps alive until it returns
    w = cr.ones(3, requires_grad=True)
    calls = []

    def step():
        w.grad = None
        (w * w).sum().backward()
        return w.grad.sum()

    cf = cr.compile(step)

    def hook(g):
        calls.append(1)
        if len(calls) == 4:
            cf.reset()
        return g

    w.register_hook(hook)
    for _ in range(8):
        assert float(cf()) == 6.0
    assert len(calls) == 8 and cf.trace_count == 2


def test_step_returning_a_python_value_takes_the_python_path():
    w = cr.ones(2)

    def f():
        w.add_(1)
        return 5

    cf = cr.compile(f)
    assert [cf() for _ in range(3)] == [5, 5, 5]
    assert cf._fast is None and float(w.sum()) == 8.0


def test_alternating_keys_and_keys_without_a_truth_value_find_their_traces():
    # A call with the previous call's key reuses its traces without hashing the key; any other
    # call looks its key up as before.
    x = cr.ones(2)
    scale = 3.0

    def g(x):
        return x * scale

    cg = cr.compile(g)
    for value, want in [(3.0, 6.0), (5.0, 10.0), (3.0, 6.0), (5.0, 10.0), (5.0, 10.0)]:
        scale = value
        assert float(cg(x).sum()) == want
    assert (cg.trace_count, cg.replay_count) == (2, 3)

    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.5)
    opt.param_groups[0]["extra"] = np.array([1.0, 2.0])  # kept in the key as the object; == is elementwise

    def step():
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()

    cs = cr.compile(step)
    for _ in range(4):
        cs()
    assert (cs.trace_count, cs.replay_count) == (1, 3)
    assert w.tolist() == [0.0, 0.0]  # w - 0.5 * 2w
    cs.reset()
    cs()
    assert cs.trace_count == 2


def test_guard_key_tells_values_apart_by_type_value_and_identity():
    # Note [Guard keys of compiled functions]: equal keys exactly when every value keys equal
    from chainrule._compile import _value_key as key

    a, b = cr.ones(2), cr.ones(2)
    assert key(1.5) == key(1.5) and key(1.5) != key(2.5)
    assert key(0.0) != key(-0.0)  # different constants (1 / x)
    assert key(1) != key(1.0) != key(True)
    assert key(np.float64(1.5)) != key(1.5)  # a float subclass keys by its own type
    assert key(2**70) == key(2**70) and key(2**70) != key(2**70 + 1)  # beyond 64 bits: the object
    assert key("sum") == key("s" + "um") and key("sum") != key("mean")
    assert key("\ud800") == key("\ud800")  # no UTF-8 form: the object itself
    assert key(None) == key(None) != key(0)
    assert key(a) == key(a) and key(a) != key(b)  # tensors by identity
    assert key([a, b]) == key([a, b]) and key([a, b]) != key([b, a]) and key([a]) != key([a, a])
    assert key([1.0, 2.0]) == key([3.0])  # lists of numbers are not guarded

    opt = cr.optim.Adam([a], lr=0.1)
    k0 = key(opt)
    assert key(opt) == k0
    opt.param_groups[0]["betas"] = (0.8, 0.999)  # a tuple hyperparameter: kept as the object
    k1 = key(opt)
    assert k1 != k0 and key(opt) == k1
    opt.param_groups[0]["lr"] = 0.05
    assert key(opt) != k1
    opt.add_param_group({"params": [b]})
    assert key(opt) != k1

    # a group whose names are built at run time (not interned strings) keys as the literal ones do
    c = cr.ones(2)
    built = {"".join(["par", "ams"]): [c], "".join(["l", "r"]): 0.1}
    literal = {"params": [c], "lr": 0.1}
    opt_built, opt_literal = cr.optim.SGD([cr.ones(1)]), cr.optim.SGD([cr.ones(1)])
    opt_built.param_groups, opt_literal.param_groups = [built], [literal]
    assert key(opt_built)[9:] == key(opt_literal)[9:]  # (all but the tag and the identity)
    built[next(k for k in built if k != "lr")] = [a]  # its parameters: by identity, as "params"
    assert key(opt_built)[9:] != key(opt_literal)[9:]

    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)  # a submodule reached twice counts once
    m0 = key(model)
    assert key(model) == m0
    model[1].eval()  # a nested training flag
    assert key(model) != m0
    model[1].train()
    assert key(model) == m0
    shared.weight = nn.Parameter(cr.zeros(2, 2))
    assert key(model) != m0


def test_guard_key_longer_than_the_writers_own_buffer():
    # a key of more than 1 KiB (here 300 tensors by identity) moves to the heap as it is written
    from chainrule._compile import _value_key as key

    ts = [cr.ones(1) for _ in range(300)]
    k = key(ts)
    assert key(list(ts)) == k and key(ts[:-1] + [cr.ones(1)]) != k and key(ts[:150]) != k

    calls = []

    def step():
        calls.append(1)
        return sum(t.sum() for t in ts[:3]) + ts[-1].sum()

    fn = cr.compile(step)
    for _ in range(4):
        assert float(fn()) == 4.0
    ts[-1] = cr.full((1,), 2.0)  # the last item of the long list: a different key
    assert float(fn()) == 5.0


def test_state_of_default_arguments_is_guarded():
    # an optimizer passed as a default argument: its momentum buffers appear after the first step
    # and its learning rate may change; both make a new trace, as for a closure
    def run(compiled):
        w = cr.tensor([1.0, -2.0, 3.0], requires_grad=True)
        opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)

        def step(w=w, *, opt=opt):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
            return w.sum()

        fn = cr.compile(step) if compiled else step
        out = [float(fn()) for _ in range(4)]
        opt.param_groups[0]["lr"] = 0.01
        out += [float(fn()) for _ in range(3)]
        return out, (fn.trace_count if compiled else 0)

    eager, _ = run(False)
    compiled, traces = run(True)
    assert compiled == eager
    assert traces >= 3  # the first step, the one with momentum buffers, the new learning rate


def test_guard_key_sees_rebound_globals_and_replaced_list_items():
    ws = [cr.ones(3), cr.ones(3)]
    mode = {"scale": 2.0}

    def g(x):
        return x * ws[0] * ws[1] * mode["scale"] * _GLOBAL_FACTOR

    cg = cr.compile(g)
    x = cr.ones(3)
    assert cg(x).sum().item() == 6.0 * _GLOBAL_FACTOR
    assert cg(x).sum().item() == 6.0 * _GLOBAL_FACTOR and cg.trace_count == 1
    ws[1] = cr.full((3,), 4.0)  # the list is the same object; its item is new
    assert cg(x).sum().item() == 24.0 * _GLOBAL_FACTOR and cg.trace_count == 2
    globals()["_GLOBAL_FACTOR"] = 3.0
    try:
        assert cg(x).sum().item() == 72.0 and cg.trace_count == 3
    finally:
        globals()["_GLOBAL_FACTOR"] = 1.0


_GLOBAL_FACTOR = 1.0


def test_model_train_eval_switch_traces_again():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    f = cr.compile(lambda x: model(x))
    x = cr.ones(2, 4)
    f(x)
    model.eval()
    a = f(x)
    b = model(x)
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert f.trace_count == 2


def test_replaced_parameter_traces_again():
    lin = nn.Linear(3, 2)
    f = cr.compile(lambda x: lin(x))
    x = cr.ones(1, 3)
    f(x)
    lin.weight = nn.Parameter(cr.zeros(2, 3))
    with cr.no_grad():
        lin.bias.zero_()
    assert np.array_equal(f(x).detach().numpy(), np.zeros((1, 2), np.float32))
    assert f.trace_count == 2


def test_random_ops_are_replayed_not_frozen():
    f = cr.compile(lambda x: F.dropout(x, 0.5, training=True))
    x = cr.ones(64)
    cr.manual_seed(3)
    got = [f(x).numpy().copy() for _ in range(3)]
    cr.manual_seed(3)
    want = [F.dropout(x, 0.5, training=True).numpy().copy() for _ in range(3)]
    assert_bitwise(want, got)
    assert not np.array_equal(got[1], got[2])


# ---- reading values into Python, unsupported code ---------------------------------------------
@pytest.mark.parametrize(
    "read",
    [
        lambda t: t.item(),
        lambda t: float(t),
        lambda t: int(t),
        lambda t: bool(t > 0),
        lambda t: t.tolist(),
        lambda t: t.detach().numpy(),
        lambda t: repr(t),
    ],
    ids=["item", "float", "int", "bool", "tolist", "numpy", "repr"],
)
def test_reading_a_value_into_python_while_tracing_raises(read):
    def f(x):
        s = (x * 2).sum()
        read(s)
        return s

    cf = cr.compile(f)
    with pytest.raises(cr.AutogradError, match="chainrule.compile"):
        cf(cr.ones(3))
    assert not cr._core._is_tracing()
    assert cf.num_traces == 0
    assert float(cr.ones(2).sum()) == 2.0  # reading outside a trace works


def test_error_while_tracing_leaves_no_trace_and_stops_recording():
    def f(x):
        x * 2
        raise ValueError("boom")

    cf = cr.compile(f)
    with pytest.raises(ValueError, match="boom"):
        cf(cr.ones(2))
    assert not cr._core._is_tracing() and cf.num_traces == 0


def test_custom_autograd_function_is_refused_at_trace():
    class Double(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    cf = cr.compile(lambda x: Double.apply(x))
    with pytest.raises(cr.AutogradError, match="autograd.Function"):
        cf(cr.ones(2, requires_grad=True))


def test_nested_compiled_function_is_inlined():
    inner = cr.compile(lambda x: x + 1)
    outer = cr.compile(lambda x: inner(x) * 2)
    for _ in range(3):
        assert np.array_equal(outer(cr.ones(2)).numpy(), [4.0, 4.0])
    assert outer.trace_count == 1 and inner.trace_count == 0


# ---- hooks -------------------------------------------------------------------------------------
def test_hook_registered_outside_runs_on_each_replay():
    w = cr.ones(3, requires_grad=True)
    seen = []
    w.register_hook(lambda g: seen.append(1))

    @cr.compile
    def step(x):
        w.grad = None
        (w * x).sum().backward()
        return w.grad

    for k in range(4):
        g = step(cr.full((3,), float(k)))
        assert np.array_equal(g.numpy(), np.full(3, float(k), np.float32))
    assert len(seen) == 4 and step.replay_count >= 2


def test_hook_registered_inside_the_step_is_registered_by_each_replay():
    w = cr.ones(3, requires_grad=True)
    seen = []

    @cr.compile
    def step(x):
        w.grad = None
        y = w * x
        y.register_hook(lambda g: g * 10)
        y.register_hook(lambda g: seen.append(1))
        y.sum().backward()
        return w.grad

    for k in range(1, 4):
        g = step(cr.full((3,), float(k)))
        assert np.array_equal(g.numpy(), np.full(3, 10.0 * k, np.float32))
    assert len(seen) == 3


# ---- memory ------------------------------------------------------------------------------------
def _rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@skip_if_sanitized
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_replays_do_not_leak():
    model, opt, step, batches = _make_mlp_adam_clip()
    fn = cr.compile(step)
    for k in range(100):
        fn(*batches[k % 3])
    # Two windows of 1500 steps: memory that the process (or a test before this one) is still
    # settling shows in the first; a leak grows in every window, so the second is the measure.
    for _window in range(2):
        gc.collect()
        objects, rss = len(gc.get_objects()), _rss_bytes()
        for k in range(1500):
            fn(*batches[k % 3])
        gc.collect()
    assert len(gc.get_objects()) - objects < 50
    # a leaked graph per step (16x16 weights, saved activations, Adam state) would be >> 4 MB
    assert _rss_bytes() - rss < 4 * 2**20
    assert fn.trace_count == 2


# ---- against PyTorch ---------------------------------------------------------------------------
def test_compiled_training_matches_torch_eager(torch):
    rng = np.random.default_rng(0)
    sizes = [(6, 16), (16, 3)]
    init = [(rng.standard_normal(s).astype(np.float32) * 0.3, np.zeros(s[1], np.float32)) for s in sizes]
    X = rng.standard_normal((10, 6)).astype(np.float32)
    Y = rng.integers(0, 3, 10)

    def run(lib, compiled):
        params = []
        for w, b in init:
            params += [lib.tensor(w.copy(), requires_grad=True), lib.tensor(b.copy(), requires_grad=True)]
        opt = lib.optim.Adam(params, lr=1e-2)
        x, y = lib.tensor(X), lib.tensor(Y)

        def step():
            opt.zero_grad()
            h = lib.tanh(x @ params[0] + params[1])
            loss = lib.nn.functional.cross_entropy(h @ params[2] + params[3], y)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            return loss

        fn = cr.compile(step) if compiled else step
        losses = [float(fn().detach()) for _ in range(8)]
        return [p.detach().numpy().copy() for p in params], losses

    tp, tl = run(torch, False)
    cp, cl = run(cr, True)
    np.testing.assert_allclose(cl, tl, rtol=1e-5, atol=1e-6)
    for a, b in zip(cp, tp):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_module_compile_compiles_forward_in_place():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    ref = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    ref.load_state_dict(model.state_dict())
    assert model.compile() is None
    x = cr.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    for _ in range(3):
        out = model(x)
        out.sum().backward()
        ref(x).sum().backward()
    assert np.array_equal(out.detach().numpy(), ref(x).detach().numpy())
    for p, q in zip(model.parameters(), ref.parameters()):
        assert np.array_equal(p.grad.numpy(), q.grad.numpy())
    assert model.forward.replay_count == 2


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(8, 3)
        self.scale = 2.0

    def forward(self, x):
        return self.fc2(self.drop(F.relu(self.fc1(x)))) * self.scale

    def describe(self):
        return "net"


def test_compiled_functions_and_modules_copy():
    # copy.copy of a compiled function shares its traces and finds its fast replay again;
    # copy.deepcopy of a compiled module (an EMA copy of a model) is a model of its own
    import copy

    w = cr.ones(2, requires_grad=True)
    cf = cr.compile(lambda: (w * 2).sum())
    for _ in range(3):
        cf()
    c2 = copy.copy(cf)
    assert [float(c2()) for _ in range(3)] == [4.0] * 3
    assert c2.trace_count == cf.trace_count and c2._fast is not None
    d = copy.deepcopy(cf)  # (a function deep-copies as itself: the copy traces it afresh)
    assert [float(d()) for _ in range(3)] == [4.0] * 3 and d.trace_count == 1

    cr.manual_seed(0)
    model = cr.compile(nn.Linear(3, 2))
    x = cr.ones(4, 3)
    model(x)
    ema = copy.deepcopy(model)
    with cr.no_grad():
        model.weight.add_(1.0)
    assert not np.array_equal(ema.weight.detach().numpy(), model.weight.detach().numpy())
    want = x.numpy() @ ema.weight.detach().numpy().T + ema.bias.detach().numpy()
    np.testing.assert_allclose(ema(x).detach().numpy(), want, rtol=1e-6)


def test_compile_of_a_module_is_a_module_like_torchs_optimized_module():
    cr.manual_seed(0)
    net = _Net()
    model = cr.compile(net)
    assert isinstance(model, nn.Module) and type(model).__name__ == "OptimizedModule"
    assert model._orig_mod is net
    # attributes, methods and submodules of the original, and its parameters
    assert model.fc1 is net.fc1 and model.describe() == "net" and model.scale == 2.0
    assert [id(p) for p in model.parameters()] == [id(p) for p in net.parameters()]
    assert "fc1" in dir(model) and "describe" in dir(model)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = model.nope
    # PyTorch's keys: the original is the child "_orig_mod"
    sd = model.state_dict()
    assert list(sd) == ["_orig_mod." + k for k in net.state_dict()]
    model.load_state_dict(sd)
    assert "(_orig_mod): _Net(" in repr(model)
    # train()/eval() reach the original; the switch traces again (dropout on, then off)
    x = cr.randn(5, 4)
    model.eval()
    assert not net.training
    with cr.no_grad():
        a, b, c = model(x), model(x), net(x)
    assert np.array_equal(a.numpy(), b.numpy()) and np.array_equal(a.numpy(), c.numpy())
    model.train()
    assert net.training
    a, b = model(x), model(x)  # dropout masks are drawn again by each replay
    assert not np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert model._compiled_call.trace_count >= 2 and model._compiled_call.replay_count >= 2
    # disable=True gives the module itself
    assert cr.compile(net, disable=True) is net


def test_compiled_module_trains_like_the_eager_module():
    """The usual PyTorch program: compile the model, build the optimizer from the compiled
    module's parameters, and run loss and backward outside the compiled forward."""

    def run(compiled):
        cr.manual_seed(3)
        net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        model = cr.compile(net) if compiled else net
        opt = cr.optim.AdamW(model.parameters(), lr=1e-2)
        x = cr.tensor(np.linspace(-1, 1, 64, dtype=np.float32).reshape(16, 4))
        y = cr.tensor(np.arange(16) % 3)
        losses = []
        for _ in range(5):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, arrays(net.parameters())

    (l0, p0), (l1, p1) = run(False), run(True)
    assert l0 == l1
    assert_bitwise(p0, p1)


def test_compiled_module_state_dict_keys_match_torch(torch):
    def keys(lib):
        net = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
        return list(lib.compile(net).state_dict())

    assert keys(cr) == keys(torch)


def test_compiler_reset_and_is_compiling():
    seen = []

    @cr.compile
    def f(x):
        seen.append(cr.compiler.is_compiling())
        return x + 1

    model = cr.compile(nn.Linear(2, 2))
    x = cr.ones(2)
    f(x), f(x), model(x), model(x)
    assert seen == [True] and not cr.compiler.is_compiling() and not cr.compiler.is_dynamo_compiling()
    assert f.trace_count == 1 and model._compiled_call.trace_count == 1
    cr.compiler.reset()
    f(x), model(x)
    assert seen == [True, True]
    assert f.trace_count == 2 and model._compiled_call.trace_count == 2
    assert cr.compiler.compile is cr.compile


def test_operators_with_tensor_operands_replay_on_the_new_tensors():
    """Each binary operator and its reflected method, with a tensor, a Parameter and a Python
    number as the other operand: replays compute with the new inputs, as eager does."""
    w = nn.Parameter(cr.tensor(np.linspace(0.5, 1.5, 9, dtype=np.float32).reshape(3, 3)))

    def step(a, b):
        outs = [a + b, a - b, a * b, a / b, a @ b, a + w, w * a, a @ w, w @ a]
        outs += [a.__radd__(b), a.__rsub__(b), a.__rmul__(b), a.__rtruediv__(b), a.__rmatmul__(b)]
        outs += [a + 2.0, 2.0 - a, a * 3, a / 4.0, 1.5 / a, -a]
        return outs

    fn = cr.compile(step)
    rng = np.random.default_rng(7)
    for _ in range(3):
        a = cr.tensor(rng.uniform(1, 2, (3, 3)).astype(np.float32))
        b = cr.tensor(rng.uniform(1, 2, (3, 3)).astype(np.float32))
        got, want = fn(a, b), step(a, b)
        assert_bitwise(arrays(got), arrays(want))
    assert fn.trace_count == 1 and fn.replay_count == 2


def test_batch_norm_training_step_is_bitwise_equal_to_eager():
    def make():
        cr.manual_seed(13)
        model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
        opt = cr.optim.SGD(model.parameters(), lr=0.1)

        step = _classifier_step(model, opt)

        return model, opt, step, _data(14, 8, (6,), 3)

    _assert_compiled_training_matches_eager(make)
    model, _, step, batches = make()
    fn = cr.compile(step)
    for k in range(5):
        fn(*batches[k % 3])
    bn = model[1]
    assert int(bn.num_batches_tracked) == 5 and fn.replay_count == 4


@pytest.mark.parametrize("options", [{}, {"padding_idx": 0, "scale_grad_by_freq": True}])
def test_embedding_step_is_bitwise_equal_to_eager_and_checks_indices_on_replay(options):
    def make():
        cr.manual_seed(17)
        model = nn.Sequential(nn.Embedding(10, 4, **options), nn.Flatten(), nn.Linear(12, 3))
        opt = cr.optim.Adam(model.parameters(), lr=0.01)

        step = _classifier_step(model, opt)

        rng = np.random.default_rng(18)
        batches = [
            (cr.tensor(rng.integers(0, 10, (5, 3))), cr.tensor(rng.integers(0, 3, 5))) for _ in range(3)
        ]
        return model, opt, step, batches

    _assert_compiled_training_matches_eager(make)
    model, _, step, batches = make()
    fn = cr.compile(step)
    for k in range(4):
        fn(*batches[k % 3])
    assert fn.replay_count == 2
    with pytest.raises(IndexError, match="out of bounds"):
        fn(cr.tensor(np.full((5, 3), 10)), batches[0][1])  # checked by the replayed lookup
    # the failed call had run zero_grad; the step sets .grad itself, so the next calls replay
    fn(*batches[1])
    fn(*batches[2])
    assert fn.replay_count == 4 and fn.trace_count == 2


def test_losses_that_check_values_on_the_host_eagerly_can_be_compiled():
    # one_hot, multi_margin_loss and gaussian_nll_loss check their values with a host read when
    # eager; traced, they are tensor ops (index checks happen in the replayed lookups)
    lin = nn.Linear(4, 3)

    def step(x, y):
        out = lin(F.one_hot(y, 4).float() + x)
        return (
            F.multi_margin_loss(out, y.clamp(max=2))
            + F.gaussian_nll_loss(out, x[:, :3], cr.ones(5, 3))
            + F.one_hot(y, 4).sum()
        )

    rng = np.random.default_rng(19)
    batches = [
        (cr.tensor(rng.standard_normal((5, 4)).astype(np.float32)), cr.tensor(rng.integers(0, 4, 5)))
        for _ in range(3)
    ]
    fn = cr.compile(step)
    for x, y in batches + batches:
        assert np.array_equal(fn(x, y).detach().numpy(), step(x, y).detach().numpy())
    assert fn.trace_count == 1 and fn.replay_count == 5
    with pytest.raises(IndexError):
        fn(batches[0][0], cr.tensor([0, 1, 2, 3, 4]))  # class 4 of 4


def test_forward_ad_and_saved_tensor_hooks_are_refused_at_trace():
    def with_dual(x):
        with cr.autograd.forward_ad.dual_level():
            return x * 2

    def with_hooks(x):
        with cr.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            return (x * x).sum()

    for fn, what in ((with_dual, "Forward-mode AD"), (with_hooks, "Saved tensor hooks")):
        cf = cr.compile(fn)
        with pytest.raises(cr.AutogradError, match=what):
            cf(cr.ones(2, requires_grad=True))
        assert not cr._core._is_tracing() and cf.num_traces == 0


def test_tensor_from_python_data_inside_a_trace_warns_that_it_is_a_constant():
    data = [1.0, 2.0]

    def f(x):
        return x + cr.tensor(data)

    cf = cr.compile(f)
    with pytest.warns(UserWarning, match="constant of the trace"):
        cf(cr.ones(2))
    data[0] = 10.0  # not seen by replays: the tensor was made once, while tracing
    assert np.array_equal(cf(cr.ones(2)).numpy(), [2.0, 3.0])


def test_compiled_method_sees_its_objects_state():
    class Trainer:
        def __init__(self):
            cr.manual_seed(21)
            self.model = nn.Linear(4, 2)
            self.opt = cr.optim.SGD(self.model.parameters(), lr=0.1)

        @cr.compile
        def step(self, x):
            self.opt.zero_grad()
            loss = self.model(x).pow(2).mean()
            loss.backward()
            self.opt.step()
            return loss

    a, b = Trainer(), Trainer()
    x = cr.tensor(np.arange(8, dtype=np.float32).reshape(2, 4))
    for k in range(6):
        if k == 3:
            for t in (a, b):
                t.opt.param_groups[0]["lr"] = 0.01  # seen by the compiled method: traced again
        a.step(x)
        loss = b.model(x).pow(2).mean()
        b.opt.zero_grad()
        loss.backward()
        b.opt.step()
    assert_bitwise(arrays(a.model.parameters()), arrays(b.model.parameters()))
    assert Trainer.step.replay_count == 4 and Trainer.step.trace_count == 2  # the first call, the new lr


def test_autograd_grad_and_requires_grad_inside_the_step():
    @cr.compile
    def input_grad(x):
        x = x.detach().requires_grad_()
        y = (x * x * x).sum()
        (g,) = cr.autograd.grad(y, x)
        return g

    for k in range(1, 4):
        x = cr.full((3,), float(k))
        assert np.array_equal(input_grad(x).numpy(), np.full(3, 3.0 * k * k, np.float32))
    assert input_grad.replay_count == 2


def test_gradient_accumulation_without_zero_grad_accumulates_on_replay():
    w = cr.ones(2, requires_grad=True)

    @cr.compile
    def accumulate(x):
        (w * x).sum().backward()

    w_ref = cr.ones(2, requires_grad=True)
    for k in range(5):
        x = cr.full((2,), float(k + 1))
        accumulate(x)
        (w_ref * x).sum().backward()
    assert np.array_equal(w.grad.numpy(), w_ref.grad.numpy())
    assert np.array_equal(w.grad.numpy(), np.full(2, 15.0, np.float32))
