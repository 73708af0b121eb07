"""DataLoader with worker processes (num_workers > 0): same batches and order as in the main
process, get_worker_info, worker_init_fn, per-worker seeding, errors and dead workers reported
without hanging, timeouts, persistent workers, IterableDataset sharding and clean shutdown.

Every loader here has a timeout and every test runs under a watchdog, so a hang fails the run
with a stack dump instead of blocking it.
"""

import faulthandler
import math
import multiprocessing
import os
import random
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import (
    DataLoader,
    Dataset,
    IterableDataset,
    TensorDataset,
    get_worker_info,
)

TIMEOUT = 30  # seconds a loader waits for one batch before raising


@pytest.fixture(autouse=True)
def watchdog():
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def _loader(dataset, **kw):
    kw.setdefault("num_workers", 2)
    kw.setdefault("timeout", TIMEOUT)
    return DataLoader(dataset, **kw)


def _gen(seed):
    return cr.Generator().manual_seed(seed)


def _alive(pids):
    """The pids that still exist as processes (not reaped zombies of this process)."""
    multiprocessing.active_children()  # reaps finished children
    out = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        out.append(pid)
    return out


# ---- datasets (module level, so that they pickle for the spawn start method) -------------------------
def _ds(n=20):
    return TensorDataset(cr.arange(float(3 * n)).reshape(n, 3), cr.arange(n))


class Info(Dataset):
    """Each sample reports where and how it was made."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return {
            "i": i,
            "id": info.id,
            "num_workers": info.num_workers,
            "seed": info.seed,
            "same_dataset": info.dataset is self,
            "pid": os.getpid(),
            "threads": cr.get_num_threads(),
            "tag": os.environ.get("CHAINRULE_TEST_WORKER_TAG", ""),
        }


class Draws(Dataset):
    """Random numbers from chainrule's, Python's and NumPy's global RNGs in the worker."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return (get_worker_info().id, cr.rand(1).item(), random.random(), float(np.random.rand()))


class Fails(Dataset):
    def __init__(self, bad=5, exc=ZeroDivisionError):
        self.bad, self.exc = bad, exc

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == self.bad:
            raise self.exc(f"sample {i} is broken")
        return i


class OddError(Exception):
    def __init__(self, a, b):
        super().__init__(f"{a} {b}")


class FailsOddly(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        raise OddError("two", "arguments")


class Dies(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 3:
            os._exit(7)
        return i


class Slow(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(0.3 if i == 1 else 0.0)
        return i


class Stuck(Dataset):
    """Item 1 takes far longer than any timeout below, even on a busy machine where the main
    process may stall while the worker prefetches."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(2.0 if i == 1 else 0.0)
        return i


class Unpicklable(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return lambda: i


class Autograd(Dataset):
    """Runs a matmul and a backward in the worker (the engine must work after fork)."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        w = cr.ones(64, 64, requires_grad=True)
        y = (cr.ones(64, 64) * float(i)) @ w
        y.sum().backward()
        return w.grad.sum().item()


class Range(IterableDataset):
    """range(start, end), shared out between workers as in PyTorch's documentation."""

    def __init__(self, start, end, shard=True):
        self.start, self.end, self.shard = start, end, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.start, self.end))
        per_worker = math.ceil((self.end - self.start) / info.num_workers)
        lo = self.start + info.id * per_worker
        return iter(range(lo, min(lo + per_worker, self.end)))


class ShardedByInitFn(IterableDataset):
    def __init__(self, n):
        self.lo, self.hi = 0, n

    def __iter__(self):
        return iter(range(self.lo, self.hi))


def _shard_by_init_fn(worker_id):
    info = get_worker_info()
    ds = info.dataset
    per = math.ceil(ds.hi / info.num_workers)
    ds.lo, ds.hi = worker_id * per, min((worker_id + 1) * per, ds.hi)


def _tag_worker(worker_id):
    os.environ["CHAINRULE_TEST_WORKER_TAG"] = f"init-{worker_id}"


def _failing_init(worker_id):
    raise ValueError(f"init of worker {worker_id} failed")


# ---- same results as in the main process ---------------------------------------------------------------
@pytest.mark.parametrize(
    "kw",
    [
        {"batch_size": 3},
        {"batch_size": 3, "drop_last": True},
        {"batch_size": None},
        {"batch_size": 4, "shuffle": True},
        {"batch_sampler": [[5, 1], [0], [19, 18, 17], [2, 2]]},
        {"batch_size": 2, "prefetch_factor": 1},
        {"batch_size": 2, "prefetch_factor": 5},
    ],
)
def test_batches_equal_the_single_process_ones_in_order(kw):
    workers_kw = {k: v for k, v in kw.items()}
    main_kw = {k: v for k, v in kw.items() if k != "prefetch_factor"}
    if kw.get("shuffle"):
        workers_kw["generator"], main_kw["generator"] = _gen(0), _gen(0)
    expected = list(DataLoader(_ds(), **main_kw))
    got = list(_loader(_ds(), **workers_kw))
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        for x, y in zip(a, b):
            assert x.dtype == y.dtype and x.tolist() == y.tolist()


def test_shuffled_order_with_manual_seed_does_not_depend_on_num_workers():
    def order(num_workers):
        cr.manual_seed(123)
        kw = {"timeout": TIMEOUT} if num_workers else {}
        loader = DataLoader(_ds(), batch_size=5, shuffle=True, num_workers=num_workers, **kw)
        return [b[1].tolist() for b in loader]

    assert order(2) == order(0)


def test_tensors_of_every_dtype_cross_the_process_boundary():
    samples = [
        {
            "f32": cr.full((2,), float(i)),
            "f64": cr.tensor([i], dtype=cr.float64),
            "i64": cr.tensor(i),
            "b": cr.tensor(i % 2 == 0),
            "s": f"s{i}",
            "grad": cr.ones(1, requires_grad=True),
        }
        for i in range(4)
    ]
    got = list(_loader(samples, batch_size=2))
    assert got[1]["f32"].tolist() == [[2.0, 2.0], [3.0, 3.0]] and got[1]["f32"].dtype == cr.float32
    assert got[0]["f64"].dtype == cr.float64 and got[0]["i64"].tolist() == [0, 1]
    assert got[0]["b"].dtype == cr.bool and got[0]["b"].tolist() == [True, False]
    assert got[1]["s"] == ["s2", "s3"] and got[0]["grad"].requires_grad


def test_engine_works_in_workers_after_fork():
    threads = cr.get_num_threads()
    cr.set_num_threads(2)
    try:
        w = cr.ones(64, 64, requires_grad=True)
        (w @ w).sum().backward()  # threads and thread pools used in the parent before forking
        got = list(_loader(Autograd(), batch_size=None))
    finally:
        cr.set_num_threads(threads)
    assert got == [0.0, 64.0 * 64 * 64, 2 * 64.0 * 64 * 64, 3 * 64.0 * 64 * 64]


def test_in_order_false_delivers_every_batch():
    got = sorted(b.item() for b in _loader(Slow(), batch_size=1, in_order=False))
    assert got == [0, 1, 2, 3]


# ---- worker info, init and seeding --------------------------------------------------------------------
def test_get_worker_info_in_workers():
    rows = list(_loader(Info(), batch_size=None, generator=_gen(1)))
    assert [r["i"] for r in rows] == list(range(8))
    assert [r["id"] for r in rows] == [0, 1] * 4  # tasks are handed out round-robin
    assert {r["num_workers"] for r in rows} == {2}
    assert all(r["same_dataset"] for r in rows)  # info.dataset is the worker's copy of the dataset
    pids = {r["id"]: r["pid"] for r in rows}
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    seeds = {r["id"]: r["seed"] for r in rows}
    assert seeds[1] == seeds[0] + 1
    # the base seed is the first draw from the loader's generator
    assert seeds[0] == int(cr.randint(0, 2**63 - 1, (), generator=_gen(1)).item())
    assert get_worker_info() is None


def test_workers_run_with_one_thread():
    assert {r["threads"] for r in _loader(Info(), batch_size=None)} == {1}


def test_worker_init_fn_runs_in_each_worker():
    rows = list(_loader(Info(), batch_size=None, worker_init_fn=_tag_worker))
    assert {(r["id"], r["tag"]) for r in rows} == {(0, "init-0"), (1, "init-1")}
    assert os.environ.get("CHAINRULE_TEST_WORKER_TAG") is None


def test_worker_init_fn_error_is_raised_in_main_process():
    with pytest.raises(ValueError, match="init of worker 0 failed"):
        list(_loader(_ds(), batch_size=2, worker_init_fn=_failing_init))


def test_worker_rngs_are_seeded_per_worker_and_reproducibly():
    def draws(seed):
        cr.manual_seed(seed)
        return list(_loader(Draws(), batch_size=None))

    a = draws(5)
    assert a == draws(5)
    assert a != draws(6)
    by_worker = {row[0]: row[1:] for row in a[:2]}
    # the two workers' chainrule, Python and NumPy draws all differ
    assert all(x != y for x, y in zip(by_worker[0], by_worker[1]))


def test_each_epoch_gets_a_new_base_seed():
    loader = _loader(Info(), batch_size=None, generator=_gen(3))
    seeds = [next(iter(loader))["seed"] for _ in range(2)]
    assert seeds[0] != seeds[1]


# ---- errors -----------------------------------------------------------------------------------------
def test_worker_exception_is_reraised_with_its_traceback():
    it = iter(_loader(Fails(bad=5), batch_size=2))
    assert [next(it).tolist() for _ in range(2)] == [[0, 1], [2, 3]]
    with pytest.raises(ZeroDivisionError) as err:
        next(it)
    msg = str(err.value)
    assert "Caught ZeroDivisionError in DataLoader worker process 0" in msg
    assert "Traceback" in msg and "sample 5 is broken" in msg and "__getitem__" in msg
    # the loader goes on with the next batches, as PyTorch's does
    assert next(it).tolist() == [6, 7]


def test_worker_key_error_message_is_readable():
    with pytest.raises(KeyError) as err:
        list(_loader(Fails(bad=0, exc=KeyError), batch_size=2))
    assert "\n" in str(err.value) and "sample 0 is broken" in str(err.value)


def test_worker_exception_that_cannot_be_rebuilt_becomes_runtime_error():
    with pytest.raises(RuntimeError, match="OddError") as err:
        list(_loader(FailsOddly(), batch_size=2))
    assert "two arguments" in str(err.value)


def test_batch_that_does_not_pickle_is_an_error_not_a_hang():
    with pytest.raises(Exception, match="pickl"):
        list(_loader(Unpicklable(), batch_size=None))


def test_dead_worker_is_reported_not_waited_for():
    loader = _loader(Dies(), batch_size=2, timeout=0)  # no timeout: the death itself must be noticed
    with pytest.raises(RuntimeError, match=r"exited unexpectedly") as err:
        list(loader)
    assert "exit code 7" in str(err.value)


def test_timeout_raises_runtime_error():
    loader = DataLoader(Stuck(), batch_size=1, num_workers=1, timeout=0.05)
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.05 seconds"):
        list(loader)


# ---- lifetime ---------------------------------------------------------------------------------------
def test_workers_exit_at_the_end_of_an_epoch():
    it = iter(_loader(_ds(), batch_size=4))
    pids = [w.pid for w in it._workers]
    assert len(_alive(pids)) == 2
    assert len(list(it)) == 5
    assert _alive(pids) == []


def test_deleting_an_iterator_mid_epoch_stops_its_workers():
    it = iter(_loader(_ds(), batch_size=1))
    next(it)
    pids = [w.pid for w in it._workers]
    assert len(_alive(pids)) == 2
    del it
    assert _alive(pids) == []


class BodyError(Exception):
    pass


def test_an_exception_in_the_loop_body_stops_the_workers():
    pids = []

    def train():
        it = iter(_loader(_ds(), batch_size=1))
        pids.extend(w.pid for w in it._workers)
        for _ in it:
            raise BodyError

    with pytest.raises(BodyError) as excinfo:
        train()
    assert len(pids) == 2
    del excinfo  # its traceback held train's frame, and through it the iterator
    assert _alive(pids) == []


def test_persistent_workers_are_reused_across_epochs():
    loader = _loader(Info(), batch_size=None, persistent_workers=True)
    epochs = [list(loader) for _ in range(3)]
    assert [[r["i"] for r in e] for e in epochs] == [list(range(8))] * 3
    pids = [{r["pid"] for r in e} for e in epochs]
    assert pids[0] == pids[1] == pids[2] and len(pids[0]) == 2
    assert len(_alive(sorted(pids[0]))) == 2  # still there between epochs
    it = iter(loader)
    next(it)  # an epoch abandoned half way: the next one starts from the beginning
    assert [r["i"] for r in loader] == list(range(8))
    # the seed set when the workers started is kept (PyTorch keeps it too)
    assert {r["seed"] for r in epochs[0]} == {r["seed"] for r in epochs[2]}
    del it, loader
    assert _alive(sorted(pids[0])) == []


def test_persistent_workers_restart_iterable_datasets_each_epoch():
    loader = _loader(Range(0, 10), batch_size=3, persistent_workers=True)
    for _ in range(3):
        assert sorted(i for b in loader for i in b.tolist()) == list(range(10))


def test_persistent_loader_recovers_after_a_worker_died():
    loader = _loader(Dies(), batch_size=2, persistent_workers=True)
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(loader)
    with pytest.raises(RuntimeError, match="exited unexpectedly"):  # fresh workers, same dataset
        list(loader)


# ---- iterable datasets ----------------------------------------------------------------------------------
def test_iterable_dataset_sharding_gives_each_element_once():
    got = [i for b in _loader(Range(0, 23), batch_size=4) for i in b.tolist()]
    assert sorted(got) == list(range(23))
    got = list(_loader(Range(0, 7), batch_size=None))
    assert sorted(got) == list(range(7))


def test_iterable_dataset_sharded_by_worker_init_fn():
    loader = _loader(ShardedByInitFn(11), batch_size=3, worker_init_fn=_shard_by_init_fn)
    assert sorted(i for b in loader for i in b.tolist()) == list(range(11))


def test_iterable_dataset_without_sharding_repeats_per_worker():
    got = [i for b in _loader(Range(0, 5, shard=False), batch_size=2) for i in b.tolist()]
    assert sorted(got) == sorted(list(range(5)) * 2)


def test_iterable_dataset_batches_interleave_workers_like_pytorch():
    # worker 0 holds 0..5, worker 1 holds 6..10; tasks alternate between them
    got = [b.tolist() for b in _loader(Range(0, 11), batch_size=2)]
    assert got == [[0, 1], [6, 7], [2, 3], [8, 9], [4, 5], [10]]
    got = [b.tolist() for b in _loader(Range(0, 11), batch_size=2, drop_last=True)]
    assert got == [[0, 1], [6, 7], [2, 3], [8, 9], [4, 5]]


def test_iterable_dataset_interleaving_matches_torch(torch):
    class TorchRange(torch.utils.data.IterableDataset):
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            per = math.ceil(11 / info.num_workers)
            return iter(range(info.id * per, min((info.id + 1) * per, 11)))

    for kw in ({"batch_size": 2}, {"batch_size": 2, "drop_last": True}, {"batch_size": None}):
        theirs = torch.utils.data.DataLoader(TorchRange(), num_workers=2, timeout=TIMEOUT, **kw)
        expected = [b.tolist() if hasattr(b, "tolist") else b for b in theirs]
        ours = [b.tolist() if hasattr(b, "tolist") else b for b in _loader(Range(0, 11), **kw)]
        assert ours == expected


# ---- start methods --------------------------------------------------------------------------------------
def test_spawn_start_method():
    loader = _loader(_ds(6), batch_size=2, num_workers=1, multiprocessing_context="spawn")
    assert [b[1].tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]


def test_default_start_method_is_fork_on_linux():
    from chainrule.utils.data.dataloader import _default_context

    if not hasattr(os, "fork") or os.uname().sysname == "Darwin":
        pytest.skip("fork is the default on Linux only")
    assert _default_context().get_start_method() == "fork"


# ---- interpreter exit -------------------------------------------------------------------------------------
EXIT_SCRIPT = """
import os, sys
import chainrule as cr
from chainrule.utils.data import DataLoader

loader = DataLoader(list(range(10)), batch_size=2, num_workers=2, persistent_workers=True, timeout=30)
assert [b.tolist() for b in loader][0] == [0, 1]
mid_epoch = iter(DataLoader(list(range(10)), batch_size=1, num_workers=2, timeout=30))
next(mid_epoch)
pids = [w.pid for w in loader._iterator._workers] + [w.pid for w in mid_epoch._workers]
print(" ".join(map(str, pids)), flush=True)
if sys.argv[-1] == "crash":
    os._exit(0)  # no cleanup at all: the workers must notice that their parent is gone
"""


def _wait_gone(pids, limit=30.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        left = []
        for pid in pids:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            left.append(pid)
        if not left:
            return []
        time.sleep(0.05)
    return left


@pytest.mark.parametrize("how", ["normal", "crash"])
def test_workers_do_not_outlive_the_main_process(how):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, how], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr and "Exception ignored" not in res.stderr, res.stderr
    pids = [int(p) for p in res.stdout.split()]
    assert len(pids) == 4
    assert _wait_gone(pids) == []
