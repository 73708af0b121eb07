"""Results do not depend on the intra-op thread count: bitwise equal for 1, 2, 3 and 4 threads.

Kernels split work into chunks taken by whichever pool thread is free (Note [Pool] in
csrc/core/parallel.cpp); reductions use chunks of a fixed size combined in chunk order, so every
gradient and optimizer step must come out bit for bit the same whatever the thread count.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import chainrule as cr
from helpers import run_python

THREADS = (1, 2, 3, 4)


@pytest.fixture(autouse=True)
def _restore_threads():
    before = cr.get_num_threads()
    yield
    cr.set_num_threads(before)


def _per_thread_count(fn):
    """fn() -> list of numpy arrays, run once per thread count."""
    out = {}
    for n in THREADS:
        cr.set_num_threads(n)
        out[n] = [np.array(a, copy=True) for a in fn()]
    return out


def _assert_bitwise(results):
    ref = results[THREADS[0]]
    for n, arrs in results.items():
        assert len(arrs) == len(ref)
        for a, b in zip(arrs, ref):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert a.tobytes() == b.tobytes(), f"{n} threads differ from 1 thread"


def _mlp_run(optim: str):
    rng = np.random.default_rng(0)
    cr.manual_seed(0)
    nn = cr.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    params = list(model.parameters())
    opt = cr.optim.SGD(params, lr=0.05, momentum=0.9) if optim == "sgd" else cr.optim.Adam(params, lr=1e-3)
    x = cr.tensor(rng.standard_normal((64, 784)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 10, 64))
    grads = []
    for _ in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        grads += [p.grad.numpy() for p in params]
        opt.step()
    return grads + [p.detach().numpy() for p in params] + [loss.detach().numpy()]


@pytest.mark.parametrize("optim", ["sgd", "adam"])
def test_mlp_step(optim):
    results = _per_thread_count(lambda: _mlp_run(optim))
    _assert_bitwise(results)
    # The run really trained: parameters moved and the loss is finite.
    assert np.isfinite(results[1][-1]).all()


@pytest.mark.parametrize("shape", [(300, 500, 700), (64, 784, 256), (1, 1000, 3), (513, 17, 1025)])
def test_matmul_forward_backward(shape):
    n, k, m = shape
    rng = np.random.default_rng(1)
    an = rng.standard_normal((n, k)).astype(np.float32)
    bn = rng.standard_normal((k, m)).astype(np.float32)

    def run():
        a = cr.tensor(an, requires_grad=True)
        b = cr.tensor(bn, requires_grad=True)
        c = a @ b
        (c * c).sum().backward()
        return [c.detach().numpy(), a.grad.numpy(), b.grad.numpy()]

    results = _per_thread_count(run)
    _assert_bitwise(results)
    np.testing.assert_allclose(results[1][0], an.astype(np.float64) @ bn, rtol=1e-4, atol=1e-3)


# Sizes just below, at and above the reduction chunks (8192 for sums, 4096 for moments) and their
# multiples, so that a last partial chunk and several full ones both occur.
SIZES = [4095, 4096, 4097, 8191, 8192, 8193, 16383, 16385, 4 * 8192 - 1, 4 * 8192 + 1, 9 * 8192 + 7, 200_003]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reductions(size, dtype):
    xn = np.random.default_rng(size).standard_normal(size).astype(dtype) * 3 + 0.5

    def run():
        x = cr.tensor(xn, requires_grad=True)
        s, mu, nrm, v = x.sum(), x.mean(), x.norm(), x.var()
        (s + mu + nrm + v).backward()
        return [
            s.detach().numpy(),
            mu.detach().numpy(),
            nrm.detach().numpy(),
            v.detach().numpy(),
            x.grad.numpy(),
        ]

    results = _per_thread_count(run)
    _assert_bitwise(results)
    s, mu, nrm, v = (float(a) for a in results[1][:4])
    x64 = xn.astype(np.float64)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert s == pytest.approx(x64.sum(), rel=tol, abs=tol * size)
    assert mu == pytest.approx(x64.mean(), rel=tol, abs=tol)
    assert nrm == pytest.approx(np.linalg.norm(x64), rel=tol)
    assert v == pytest.approx(x64.var(ddof=1), rel=tol)


def test_reduction_along_dim():
    xn = np.random.default_rng(3).standard_normal((7, 8193)).astype(np.float32)

    def run():
        x = cr.tensor(xn, requires_grad=True)
        r = x.sum(dim=1) + x.norm(dim=1) + x.mean(dim=0).sum()
        r.sum().backward()
        return [r.detach().numpy(), x.grad.numpy()]

    _assert_bitwise(_per_thread_count(run))


def test_conv2d_uses_per_thread_buffers_safely():
    rng = np.random.default_rng(4)
    xn = rng.standard_normal((8, 3, 32, 32)).astype(np.float32)
    wn = rng.standard_normal((16, 3, 3, 3)).astype(np.float32)

    def run():
        x = cr.tensor(xn, requires_grad=True)
        w = cr.tensor(wn, requires_grad=True)
        y = cr.nn.functional.conv2d(x, w, padding=1)
        (y * y).sum().backward()
        return [y.detach().numpy(), x.grad.numpy(), w.grad.numpy()]

    _assert_bitwise(_per_thread_count(run))


def test_attention():
    rng = np.random.default_rng(5)
    qn, kn, vn = (rng.standard_normal((4, 4, 64, 32)).astype(np.float32) for _ in range(3))

    def run():
        q, k, v = (cr.tensor(a, requires_grad=True) for a in (qn, kn, vn))
        o = cr.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        (o * o).sum().backward()
        return [o.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()]

    _assert_bitwise(_per_thread_count(run))


def test_concurrent_callers_get_the_same_results():
    # Two Python threads run big kernels at once: one holds the pool, the other runs inline.
    cr.set_num_threads(2)
    rng = np.random.default_rng(6)
    an = rng.standard_normal((256, 512)).astype(np.float32)
    bn = rng.standard_normal((512, 384)).astype(np.float32)
    ref = (cr.tensor(an) @ cr.tensor(bn)).numpy()
    ref_sum = cr.tensor(an).sum().numpy()
    bad: list[str] = []

    def work():
        for _ in range(20):
            if (cr.tensor(an) @ cr.tensor(bn)).numpy().tobytes() != ref.tobytes():
                bad.append("matmul")
            if cr.tensor(an).sum().numpy().tobytes() != ref_sum.tobytes():
                bad.append("sum")

    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert bad == []


def test_forked_child_runs_parallel_kernels():
    # A child made by fork has none of the parent's pool threads; its kernels must still finish.
    r = run_python(
        """
        import os, numpy as np, chainrule as cr
        cr.set_num_threads(2)
        a = cr.tensor(np.ones((512, 512), dtype=np.float32))
        ref = (a @ a).sum().item()
        pid = os.fork()
        if pid == 0:
            ok = (a @ a).sum().item() == ref and (a @ a).sum().item() == ref
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status), ref)
        """,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["child", "0", str(512.0 * 512 * 512)]


def test_mlp_matches_torch(torch):
    rng = np.random.default_rng(7)
    xn = rng.standard_normal((64, 784)).astype(np.float32)
    w1 = (rng.standard_normal((256, 784)) * 0.05).astype(np.float32)
    w2 = (rng.standard_normal((10, 256)) * 0.05).astype(np.float32)
    cr.set_num_threads(2)
    torch.set_num_threads(2)
    out = []
    for lib in (cr, torch):
        x = lib.tensor(xn)
        a = lib.tensor(w1, requires_grad=True)
        b = lib.tensor(w2, requires_grad=True)
        loss = (lib.relu(x @ a.T) @ b.T).square().mean()
        loss.backward()
        out.append([loss.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
    for c, t in zip(*out):
        np.testing.assert_allclose(c, t, rtol=1e-4, atol=1e-6)


def _stretches(nchunks, threads):
    """The home stretch of each chunk (Note [Home chunks] in csrc/core/parallel.cpp)."""
    parts = min(threads - 1, nchunks - 1) + 1
    return [next(i for i in range(parts) if c < nchunks * (i + 1) // parts) for c in range(nchunks)]


@pytest.mark.parametrize("threads", [2, 3, 4])
@pytest.mark.parametrize("busy_us", [0.0, 30.0, 200.0])
def test_each_thread_runs_its_own_stretch_of_chunks_first(threads, busy_us):
    # A thread takes chunks of another thread's stretch only once its own stretch is spent, so when
    # nothing is late each thread runs the same part of the range every time.
    cr.set_num_threads(threads)
    nchunks = 4 * threads  # parallel_for's chunks for 4 * threads elements with grain 1
    home = _stretches(nchunks, threads)
    helped = 0
    for _ in range(30):
        owners = cr._core._chunk_owners(nchunks, 1, busy_us)
        assert {t for t, _ in owners} <= set(range(threads))
        by_thread = {}
        for chunk, (t, seq) in enumerate(owners):
            by_thread.setdefault(t, []).append((seq, chunk))
        for t, runs in by_thread.items():
            order = [chunk for _, chunk in sorted(runs)]
            assert sorted(s for s, _ in runs) == list(range(len(runs)))  # each chunk ran once
            own = [home[c] == t for c in order]
            # its own chunks first, in order; then only others'
            assert own == sorted(own, reverse=True), (t, order)
            mine = [c for c in order if home[c] == t]
            assert mine == sorted(mine)
        helped += any(t != 0 for t, _ in owners)
    if busy_us >= 200.0:
        assert helped > 0  # pool threads took part (they start within milliseconds)


def test_chunk_owners_refuses_bad_arguments():
    with pytest.raises(ValueError):
        cr._core._chunk_owners(-1)
    with pytest.raises(ValueError):
        cr._core._chunk_owners(8, 0)
