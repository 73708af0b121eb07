"""PyTorch's training-loop names that other test files use but do not compare with PyTorch: each
is run here on the same inputs in both libraries and the results compared (values, dtypes, shapes,
errors). scripts/api_trace.py credits a name to the tests that use it while comparing."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

rng = np.random.default_rng(7)


def both(torch, fn, *arrays, **kw):
    """fn(lib, *tensors) in chainrule and in torch: the two results as NumPy arrays."""
    out = []
    for lib in (cr, torch):
        ts = [lib.tensor(a) for a in arrays]
        r = fn(lib, *ts, **kw)
        out.append(r.detach().numpy() if hasattr(r, "detach") else np.asarray(r))
    return out


def assert_same(torch, fn, *arrays, **kw):
    ours, theirs = both(torch, fn, *arrays, **kw)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def dtype_name(d):
    return str(d).split(".")[-1]


# ---- creation and factories ---------------------------------------------------------------------
def test_factories_like_and_queries(torch):
    a = rng.standard_normal((2, 3))
    for name in ("zeros_like", "ones_like"):
        assert_same(torch, lambda m, x, n=name: getattr(m, n)(x), a)
    assert_same(torch, lambda m, x: m.full_like(x, 2.5), a)
    for lib in (cr, torch):
        x = lib.tensor(a)
        assert lib.is_tensor(x) and not lib.is_tensor(a) and lib.numel(x) == 6
        assert lib.is_floating_point(x) and not lib.is_floating_point(lib.tensor([1]))
        assert tuple(lib.empty(2, 3).shape) == (2, 3) and dtype_name(lib.empty(2, 3).dtype) == "float32"
        assert tuple(lib.empty_like(x).shape) == (2, 3) and lib.empty_like(x).dtype == x.dtype
        r = lib.rand(1000, dtype=lib.float64)
        assert dtype_name(r.dtype) == "float64" and 0 <= float(r.min()) and float(r.max()) < 1
        assert abs(float(r.mean()) - 0.5) < 0.05
        rl = lib.rand_like(x)
        assert rl.shape == x.shape and rl.dtype == x.dtype
        nl = lib.randn_like(lib.zeros(4000, dtype=lib.float64))
        assert abs(float(nl.std()) - 1.0) < 0.1
        il = lib.randint_like(lib.zeros(500), 3, 7)
        assert dtype_name(il.dtype) == "float32" and set(il.tolist()) <= {3.0, 4.0, 5.0, 6.0}
    n = np.arange(4, dtype=np.int32)
    for lib in (cr, torch):
        t = lib.as_tensor(n)
        assert dtype_name(t.dtype) == "int32" and t.tolist() == [0, 1, 2, 3]
        assert lib.as_tensor([1.5, 2.0]).tolist() == [1.5, 2.0]


def test_default_dtype(torch):
    for lib in (cr, torch):
        assert lib.get_default_dtype() == lib.float32
        lib.set_default_dtype(lib.float64)
        try:
            assert dtype_name(lib.tensor([1.0]).dtype) == "float64"
            assert dtype_name(lib.zeros(2).dtype) == "float64"
            assert dtype_name(lib.tensor([1]).dtype) == "int64"
        finally:
            lib.set_default_dtype(lib.float32)
        assert dtype_name(lib.ones(1).dtype) == "float32"


def test_rng_state_round_trip_and_seeds(torch):
    for lib in (cr, torch):
        lib.manual_seed(123)
        assert lib.initial_seed() == 123
        state = lib.get_rng_state()
        a = lib.rand(5)
        lib.set_rng_state(state)
        assert lib.rand(5).tolist() == a.tolist()
        s = lib.seed()
        assert isinstance(s, int) and lib.initial_seed() == s
        g = lib.default_generator
        g.manual_seed(5)
        b = lib.rand(3)
        lib.manual_seed(5)
        assert lib.rand(3).tolist() == b.tolist()


def test_random_sampling_distributions(torch):
    p = np.array([0.1, 0.6, 0.3])
    for lib in (cr, torch):
        lib.manual_seed(0)
        draws = lib.multinomial(lib.tensor(p), 6000, replacement=True)
        assert dtype_name(draws.dtype) == "int64" and tuple(draws.shape) == (6000,)
        freq = np.bincount(draws.numpy(), minlength=3) / 6000
        np.testing.assert_allclose(freq, p, atol=0.03)
        perm = lib.multinomial(lib.tensor([1.0, 1.0, 1.0, 1.0]), 4)
        assert sorted(perm.tolist()) == [0, 1, 2, 3]
        n = lib.normal(lib.full((5000,), 2.0, dtype=lib.float64), 3.0)
        assert abs(float(n.mean()) - 2.0) < 0.2 and abs(float(n.std()) - 3.0) < 0.2
        assert tuple(lib.normal(0.0, 1.0, size=(2, 3)).shape) == (2, 3)
        b = lib.bernoulli(lib.full((5000,), 0.25))
        assert dtype_name(b.dtype) == "float32" and abs(float(b.mean()) - 0.25) < 0.03
        u = lib.empty(2000).uniform_(-2.0, 3.0)
        assert -2.0 <= float(u.min()) and float(u.max()) < 3.0


def test_modes_threads_printing(torch):
    for lib in (cr, torch):
        assert not lib.is_inference_mode_enabled()
        with lib.inference_mode():
            assert lib.is_inference_mode_enabled()
        n = lib.get_num_threads()
        lib.set_num_threads(1)
        assert lib.get_num_threads() == 1
        lib.set_num_threads(n)
        lib.use_deterministic_algorithms(True)
        assert lib.are_deterministic_algorithms_enabled()
        lib.use_deterministic_algorithms(False)
        assert not lib.are_deterministic_algorithms_enabled()
    x = [[1.0 / 3.0, 2.0], [1234.5678, -0.5]]
    texts = []
    for lib in (cr, torch):
        lib.set_printoptions(precision=2)
        try:
            texts.append(str(lib.tensor(x)))
        finally:
            lib.set_printoptions(profile="default")
    assert texts[0] == texts[1]


def test_device_queries_answer_as_a_cpu_only_pytorch(torch):
    for name in ("is_available", "device_count", "is_bf16_supported"):
        assert getattr(cr.cuda, name)() == getattr(torch.cuda, name)()
    for name in ("manual_seed", "manual_seed_all"):
        assert getattr(cr.cuda, name)(3) is None and getattr(torch.cuda, name)(3) is None
    assert cr.cuda.empty_cache() is None and torch.cuda.empty_cache() is None
    for name in ("synchronize", "current_device", "get_device_name"):
        for lib in (cr, torch):
            with pytest.raises((AssertionError, RuntimeError)):
                getattr(lib.cuda, name)()
    assert cr.accelerator.is_available() == torch.accelerator.is_available() is False
    assert cr.accelerator.current_accelerator() is None and torch.accelerator.current_accelerator() is None
    assert cr.backends.mps.is_available() == torch.backends.mps.is_available()
    for lib in (cr, torch):
        with pytest.raises((AssertionError, RuntimeError)):
            lib.ones(2).cuda()
        assert lib.ones(2).cpu().tolist() == [1.0, 1.0]


# ---- math and shape functions -------------------------------------------------------------------
def test_functions(torch):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    assert_same(torch, lambda m, x, y: m.floor_divide(x, y), a * 5, b)
    assert_same(torch, lambda m, x, y: m.hstack([x, y]), a, b)
    assert_same(torch, lambda m, x: m.repeat_interleave(x, 2, dim=1), a)
    assert_same(torch, lambda m, x: m.repeat_interleave(x, m.tensor([1, 0, 2]), dim=0), a)
    g = both(torch, lambda m, x, y: m.stack(m.meshgrid(x, y, indexing="ij")), np.arange(3.0), np.arange(2.0))
    np.testing.assert_array_equal(*g)
    g = both(torch, lambda m, x, y: m.stack(m.meshgrid(x, y, indexing="xy")), np.arange(3.0), np.arange(2.0))
    np.testing.assert_array_equal(*g)
    assert_same(torch, lambda m, x: m.bincount(x), np.array([0, 3, 3, 1]))
    assert_same(
        torch, lambda m, x, w: m.bincount(x, w, minlength=6), np.array([0, 3, 3, 1]), np.ones(4) * 0.5
    )
    close = a + 1e-9
    for lib in (cr, torch):
        x, y = lib.tensor(a), lib.tensor(close)
        assert lib.allclose(x, y) and x.allclose(y) and not lib.allclose(x, y + 1)
        assert not lib.equal(x, y) and lib.equal(x, x.clone()) and x.equal(x.clone())
        assert lib.isclose(x, y).all() and not lib.isclose(x, y + 1).any()
        assert lib.isclose(lib.tensor(float("nan")), lib.tensor(float("nan")), equal_nan=True)


def test_tensor_methods(torch):
    a = rng.standard_normal((2, 3))
    for lib in (cr, torch):
        x = lib.tensor(a)
        assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2 and x.nelement() == 6
        assert x.element_size() == 8 and lib.ones(1, dtype=lib.int8).element_size() == 1
        assert x.type() == "torch.DoubleTensor" if lib is torch else x.type() == "chainrule.float64"
        assert dtype_name(x.type(lib.float32).dtype) == "float32"
        assert dtype_name(lib.tensor([1, 2]).type_as(x).dtype) == "float64"
        assert isinstance(x.data_ptr(), int) and x.data_ptr() != 0
        assert x[0].data_ptr() == x.data_ptr() and x[1].data_ptr() == x.data_ptr() + 3 * 8
        d = x.data
        assert not d.requires_grad and d.tolist() == x.tolist()
        for name, args in (("new_zeros", ((2,),)), ("new_ones", ((2, 1),)), ("new_full", ((3,), 4.0))):
            t = getattr(x, name)(*args)
            assert t.dtype == x.dtype and tuple(t.shape) == tuple(args[0])
        assert x.new_empty((4,)).dtype == x.dtype and x.new_tensor([1, 2]).dtype == x.dtype
        assert x.new_tensor([1.0]).dtype == x.dtype
        assert x.new_zeros(2).tolist() == [0.0, 0.0] and x.new_full((2,), 4.0).tolist() == [4.0, 4.0]
    assert_same(torch, lambda m, x: x.roll(1, 1), a)
    assert_same(torch, lambda m, x: x.roll((1, -1), (0, 1)), a)
    assert_same(torch, lambda m, x: x.roll(2), a)
    c, d = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)) + 3
    assert_same(torch, lambda m, x, y, z: x.clone().addcmul_(y, z, value=0.5), a, c, d)
    assert_same(torch, lambda m, x, y, z: x.clone().addcdiv_(y, z, value=-2.0), a, c, d)


def test_retain_grad(torch):
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        assert not y.retains_grad
        y.retain_grad()
        assert y.retains_grad and x.retains_grad is False
        (y * y).sum().backward()
        assert y.grad.tolist() == [6.0, 12.0]


# ---- nn ------------------------------------------------------------------------------------------
def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
            self.scale = lib.nn.Buffer(lib.ones(1) * 2)

        def forward(self, x):
            return self.body(x) * self.scale

    return Net()


def test_module_methods(torch):
    results = []
    for lib in (cr, torch):
        lib.manual_seed(0)
        net = _net(lib).double().float()
        assert [n for n, _ in net.named_buffers()] == [
            "scale",
            "body.1.running_mean",
            "body.1.running_var",
            "body.1.num_batches_tracked",
        ]
        assert len(list(net.buffers())) == 4
        assert net.get_submodule("body.0") is net.body[0]
        seen: list[str] = []
        net.apply(lambda m, seen=seen: seen.append(type(m).__name__))
        assert seen == ["Linear", "BatchNorm1d", "Sequential", "Net"]
        out = net.forward(lib.ones(2, 3))
        out.sum().backward()
        assert net.body[0].weight.grad is not None
        net.zero_grad()
        assert net.body[0].weight.grad is None
        net.requires_grad_(False)
        assert not any(p.requires_grad for p in net.parameters())
        assert net.cpu() is net
        results.append(tuple(out.shape))
    assert results[0] == results[1]


def test_dropout_and_batch_norm_functionals(torch):
    a = rng.standard_normal((4, 3))
    assert_same(torch, lambda m, x: m.nn.functional.dropout(x, 0.5, training=False), a)
    assert_same(torch, lambda m, x: m.nn.functional.dropout(x, 0.0), a)
    for lib in (cr, torch):
        y = lib.nn.functional.dropout(lib.ones(4000, dtype=lib.float64), 0.25)
        kept = y[y != 0]
        assert np.allclose(kept.numpy(), 1 / 0.75) and abs(len(kept) / 4000 - 0.75) < 0.03
    mean, var = rng.standard_normal(3), rng.random(3) + 0.5
    w, b = rng.standard_normal(3), rng.standard_normal(3)

    def bn(m, x, rm, rv, w_, b_, training):
        return m.nn.functional.batch_norm(x, rm, rv, w_, b_, training=training, momentum=0.2, eps=1e-3)

    for training in (False, True):
        assert_same(torch, bn, a, mean, var, w, b, training=training)
    stats = []
    for lib in (cr, torch):
        rm, rv = lib.tensor(mean), lib.tensor(var)
        lib.nn.functional.batch_norm(lib.tensor(a), rm, rv, training=True, momentum=0.2)
        stats.append((rm.numpy(), rv.numpy()))
    np.testing.assert_allclose(stats[0][0], stats[1][0])
    np.testing.assert_allclose(stats[0][1], stats[1][1])


@pytest.mark.parametrize(
    "name,kw,shape",
    [
        ("xavier_uniform_", {"gain": 2.0}, (300, 200)),
        ("xavier_normal_", {}, (300, 200)),
        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, (300, 200)),
        ("trunc_normal_", {"std": 0.5, "a": -0.6, "b": 0.9}, (300, 200)),
        ("orthogonal_", {"gain": 1.5}, (30, 20)),
        ("eye_", {}, (4, 6)),
    ],
)
def test_init_distributions_match(torch, name, kw, shape):
    stats = []
    for lib in (cr, torch):
        t = lib.empty(*shape, dtype=lib.float64)
        getattr(lib.nn.init, name)(t, **kw)
        x = t.numpy()
        stats.append((x.mean(), x.std(), x.min(), x.max(), x))
    (m0, s0, lo0, hi0, x0), (m1, s1, lo1, hi1, x1) = stats
    if name == "eye_":
        np.testing.assert_array_equal(x0, x1)
    elif name == "orthogonal_":
        np.testing.assert_allclose(x0.T @ x0, 1.5**2 * np.eye(20), atol=1e-10)
        np.testing.assert_allclose(x1.T @ x1, 1.5**2 * np.eye(20), atol=1e-10)
    else:
        assert abs(m0 - m1) < 0.05 * s1 + 1e-3 and abs(s0 / s1 - 1) < 0.05
        if name in ("xavier_uniform_", "trunc_normal_"):
            assert lo0 >= lo1 - 0.02 * (hi1 - lo1) and hi0 <= hi1 + 0.02 * (hi1 - lo1)


def test_nn_utils(torch):
    vecs = []
    for lib in (cr, torch):
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.arange(6.0).reshape(2, 3))
            m.bias.copy_(lib.tensor([7.0, 8.0]))
        v = lib.nn.utils.parameters_to_vector(m.parameters())
        vecs.append(v.tolist())
        lib.nn.utils.vector_to_parameters(v * 2, m.parameters())
        assert m.bias.tolist() == [14.0, 16.0]
        lib.nn.utils.parametrizations.weight_norm(m)
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight")
        assert isinstance(m.weight, lib.nn.Parameter) and not hasattr(m, "parametrizations")
        assert np.allclose(m.weight.detach().numpy(), 2 * np.arange(6.0).reshape(2, 3), atol=1e-6)
    assert vecs[0] == vecs[1]
    seqs = [np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0])]
    packed = []
    for lib in (cr, torch):
        p = lib.nn.utils.rnn.pack_sequence([lib.tensor(s) for s in seqs])
        packed.append((p.data.tolist(), p.batch_sizes.tolist()))
    assert packed[0] == packed[1]


def test_scheduler_state_dict_round_trip(torch):
    lrs = []
    for lib in (cr, torch):
        p = lib.nn.Parameter(lib.zeros(1))
        opt = lib.optim.SGD([p], lr=1.0)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        for _ in range(3):
            opt.step()
            sched.step()
        state = sched.state_dict()
        opt2 = lib.optim.SGD([p], lr=1.0)
        sched2 = lib.optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
        sched2.load_state_dict(state)
        assert sched2.last_epoch == 3
        seq = []
        for _ in range(3):
            opt2.step()
            sched2.step()
            seq.append(sched2.get_last_lr()[0])
        lrs.append(seq)
    assert lrs[0] == lrs[1]


# ---- autograd ------------------------------------------------------------------------------------
def test_custom_function_variable_anomaly_and_node(torch):
    grads = []
    for lib in (cr, torch):

        class Clip(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, lo):
                ctx.save_for_backward(x)
                ctx.lo = lo
                return x.clamp(min=lo)

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * (x > ctx.lo).to(g.dtype), None

        x = lib.autograd.Variable(lib.tensor([-1.0, 0.5, 2.0]), requires_grad=True)
        y = Clip.apply(x, 0.0)
        assert isinstance(y.grad_fn, lib.autograd.graph.Node)
        (y * y).sum().backward()
        grads.append(x.grad.tolist())
        lib.autograd.set_detect_anomaly(True)
        try:
            assert lib.is_anomaly_enabled()
        finally:
            lib.autograd.set_detect_anomaly(False)
        assert not lib.is_anomaly_enabled()
    assert grads[0] == grads[1]


# ---- data ----------------------------------------------------------------------------------------
def test_data_utilities(torch):
    for lib in (cr, torch):
        data = lib.utils.data
        ds = data.TensorDataset(lib.arange(5), lib.arange(5) * 10)
        assert len(ds) == 5 and [int(v) for v in ds[3]] == [3, 30]
        lib.manual_seed(0)
        s = data.SubsetRandomSampler([1, 3, 4])
        assert len(s) == 3 and sorted(s) == [1, 3, 4]
        assert data.get_worker_info() is None
        dl = data.DataLoader(ds, batch_size=2, sampler=data.SubsetRandomSampler([0, 2, 4]))
        assert sorted(int(v) for b in dl for v in b[0]) == [0, 2, 4]


def test_out_argument(torch):
    a, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    for lib in (cr, torch):
        x, y = lib.tensor(a), lib.tensor(b)
        for name, args in (("matmul", (x, y)), ("mul", (x, y)), ("add", (x, y)), ("exp", (x,))):
            out = lib.empty(3, 3, dtype=lib.float64)
            r = getattr(lib, name)(*args, out=out)
            assert r is out and np.allclose(out.numpy(), getattr(lib, name)(*args).numpy())
        out32 = lib.empty(3, 3)  # cast into the out tensor's dtype
        lib.mul(x, y, out=out32)
        assert dtype_name(out32.dtype) == "float32" and np.allclose(out32.numpy(), a * b, atol=1e-6)
        cat_out = lib.empty(6, 3, dtype=lib.float64)
        lib.cat([x, y], 0, out=cat_out)
        assert np.array_equal(cat_out.numpy(), np.concatenate([a, b]))
        with pytest.raises(RuntimeError, match="out="):
            lib.mul(lib.tensor(a, requires_grad=True), y, out=lib.empty(3, 3, dtype=lib.float64))
        with lib.no_grad():
            lib.mul(lib.tensor(a, requires_grad=True), y, out=lib.empty(3, 3, dtype=lib.float64))
