"""chainrule.distributed and DistributedDataParallel over MPI.

The multi-process tests run small scripts under ``mpiexec -n 2`` with a timeout; they are skipped,
visibly, where mpi4py or mpiexec is missing. Trajectory equality (checked in float64):

* 2 processes x batch 32 against 1 process averaging the gradients of the same two half-batches
  (g_a + g_b) / 2: bitwise equal, with or without BatchNorm (per-process batch statistics; rank 0's
  running statistics, which DDP broadcasts each forward), for SGD and Adam. DDP does the same
  arithmetic: SUM over two ranks, then a division by 2.
* 2 processes x batch 32 against 1 process x batch 64 (no BatchNorm): equal to ~1e-15 relative, not
  bitwise, since the batch sum inside each gradient is split at a different place.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import chainrule as cr
import chainrule.distributed as dist
from chainrule.utils.data import DistributedSampler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Where the chainrule under test lives (the source tree's python/ or site-packages): the
# processes the tests launch import that one.
CHAINRULE_PATH = os.path.dirname(os.path.dirname(os.path.abspath(cr.__file__)))

needs_mpi = pytest.mark.skipif(
    not dist.is_available() or shutil.which("mpiexec") is None,
    reason="needs mpi4py and mpiexec (pip install 'chainrule[mpi]')",
)

PRELUDE = """
import datetime, json, sys
import numpy as np
import chainrule as cr
import chainrule.distributed as dist
from chainrule.nn.parallel import DistributedDataParallel as DDP
dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=20))
rank, world = dist.get_rank(), dist.get_world_size()
"""


def _mpirun(tmp_path, body: str, n: int = 2, timeout: float = 60) -> subprocess.CompletedProcess:
    script = tmp_path / "script.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=CHAINRULE_PATH, OMP_NUM_THREADS="1")
    cmd = ["mpiexec", "-n", str(n), sys.executable, str(script)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def _results(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, proc.stdout + proc.stderr
    return json.loads(lines[-1][len("RESULT ") :])


# ---- without a process group ------------------------------------------------------------------
def test_no_group_queries_raise_and_is_initialized_is_false():
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="not been initialized"):
        dist.all_reduce(cr.ones(2))


def test_only_the_mpi_backend_exists():
    with pytest.raises(ValueError, match="supports only 'mpi'"):
        dist.init_process_group("gloo")
    assert not dist.is_initialized()


def test_reduce_op_names():
    assert {op.name for op in dist.ReduceOp} >= {"SUM", "AVG", "MAX", "MIN", "PRODUCT"}


@pytest.mark.parametrize(
    "n,replicas,shuffle,drop_last", [(10, 3, False, False), (10, 3, True, True), (7, 4, True, False)]
)
def test_sampler_shares_cover_the_dataset(n, replicas, shuffle, drop_last):
    shares = [
        list(DistributedSampler(range(n), replicas, r, shuffle=shuffle, seed=3, drop_last=drop_last))
        for r in range(replicas)
    ]
    size = n // replicas if drop_last else -(-n // replicas)
    assert all(len(s) == size for s in shares)
    flat = [i for s in shares for i in s]
    if drop_last:
        assert len(set(flat)) == len(flat)
    else:
        assert set(flat) == set(range(n))


def test_sampler_without_group_needs_explicit_replicas():
    with pytest.raises(RuntimeError, match="num_replicas"):
        DistributedSampler(range(4))


@pytest.mark.parametrize(
    "n,replicas,drop_last", [(11, 3, False), (11, 3, True), (12, 4, False), (5, 4, True)]
)
def test_sampler_matches_torch_without_shuffle(torch, n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for r in range(replicas):
        ours = DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_shuffle_follows_torch_rules(torch, drop_last):
    """The permutation comes from chainrule's generator (not PyTorch's stream); the padding, the
    strided shares and the seed + epoch rule are PyTorch's."""
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    g = cr.Generator()
    for epoch in (0, 1):
        g.manual_seed(5 + epoch)
        perm = cr.randperm(11, generator=g).tolist()
        total = 9 if drop_last else 12
        padded = (perm + perm)[:total]
        for r in range(3):
            ours = DistributedSampler(range(11), 3, r, shuffle=True, seed=5, drop_last=drop_last)
            ours.set_epoch(epoch)
            theirs = TorchSampler(range(11), 3, r, shuffle=True, seed=5, drop_last=drop_last)
            assert list(ours) == padded[r:total:3]
            assert len(ours) == len(theirs) == len(list(theirs))


# ---- collectives -------------------------------------------------------------------------------
@needs_mpi
def test_collectives_match_numpy(tmp_path):
    proc = _mpirun(
        tmp_path,
        """
        out = {}
        for name, dt, npdt in [("float32", cr.float32, np.float32), ("float64", cr.float64, np.float64),
                               ("int64", cr.int64, np.int64)]:
            data = [np.random.default_rng(r).integers(-50, 50, (3, 4)).astype(npdt) for r in range(world)]
            for op, ref in [("SUM", np.sum), ("MAX", np.max), ("MIN", np.min), ("AVG", np.mean),
                            ("PRODUCT", np.prod)]:
                if op == "AVG" and name == "int64":
                    continue
                t = cr.tensor(data[rank], dtype=dt)
                ptr = t.data_ptr()
                dist.all_reduce(t, getattr(dist.ReduceOp, op))
                expect = ref(np.stack(data), axis=0).astype(npdt)
                out[f"{name}-{op}"] = bool(np.array_equal(t.numpy(), expect)) and t.data_ptr() == ptr
            t = cr.tensor(data[rank], dtype=dt)
            work = dist.broadcast(t, 1, async_op=True)
            done = work.wait() and work.is_completed()
            out[f"{name}-broadcast"] = done and np.array_equal(t.numpy(), data[1])
            outs = [cr.zeros(3, 4, dtype=dt) for _ in range(world)]
            dist.all_gather(outs, cr.tensor(data[rank], dtype=dt))
            out[f"{name}-all_gather"] = all(np.array_equal(o.numpy(), d) for o, d in zip(outs, data))
            res = cr.zeros(4, dtype=dt)
            dist.reduce_scatter(res, [cr.tensor(d, dtype=dt) for d in data[rank][:world]])
            expect = np.sum(np.stack([d[rank] for d in data]), axis=0)
            out[f"{name}-reduce_scatter"] = bool(np.array_equal(res.numpy(), expect))
        work = dist.all_reduce(cr.ones(5), async_op=True)
        work.wait()
        out["async"] = work.is_completed()
        for bad, exc in [(cr.ones(4, 4).T, ValueError), (cr.ones(3, dtype=cr.bool), TypeError)]:
            try:
                dist.all_reduce(bad)
                out[f"error-{exc.__name__}"] = False
            except exc:
                out[f"error-{exc.__name__}"] = True
        try:
            dist.all_reduce(cr.ones(2, dtype=cr.int64), dist.ReduceOp.AVG)
            out["int-avg-error"] = False
        except TypeError:
            out["int-avg-error"] = True
        dist.barrier()
        out["world"] = world
        if rank == 0:
            print("RESULT", json.dumps(out))
        dist.destroy_process_group()
        """,
    )
    res = _results(proc)
    assert res.pop("world") == 2
    assert all(res.values()), {k: v for k, v in res.items() if not v}
    assert len(res) == 3 * 8 - 1 + 4  # 8 checks per dtype (no int64 AVG), async, 3 errors


# ---- DDP ---------------------------------------------------------------------------------------
TRAJECTORY = """
cr.set_default_dtype(cr.float64)
nn, F = cr.nn, cr.nn.functional

def make(bn):
    cr.manual_seed(0)
    layers = [nn.Linear(8, 16)] + ([nn.BatchNorm1d(16)] if bn else []) + [nn.Tanh(), nn.Linear(16, 3)]
    return nn.Sequential(*layers)

def optimizer(name, params):
    return cr.optim.SGD(params, lr=0.1, momentum=0.9) if name == "SGD" else cr.optim.Adam(params, lr=0.01)

rng = np.random.default_rng(0)
X = rng.standard_normal((20, 64, 8))
Y = rng.integers(0, 3, (20, 64))
out = {}
for opt_name in ("SGD", "Adam"):
    for bn in (False, True):
        cr.manual_seed(100 + rank)  # DDP must overwrite this replica's own initialization
        local = make(bn)
        if rank == 1:
            with cr.no_grad():
                for p in local.parameters():
                    p.add_(1.0)
        model = DDP(local, bucket_cap_mb=0.001)
        opt = optimizer(opt_name, model.parameters())
        ref = make(bn)
        ref_opt = optimizer(opt_name, ref.parameters())
        full = make(bn)
        full_opt = optimizer(opt_name, full.parameters())
        for step in range(20):
            x, y = cr.tensor(X[step]), cr.tensor(Y[step])
            half = slice(32 * rank, 32 * rank + 32)
            opt.zero_grad()
            F.cross_entropy(model(x[half]), y[half]).backward()
            opt.step()
            if rank == 0:
                grads = []
                for h in (slice(0, 32), slice(32, 64)):
                    ref_opt.zero_grad()
                    stats = [b.clone() for b in ref.buffers()]
                    F.cross_entropy(ref(x[h]), y[h]).backward()
                    if h.start == 32:
                        for b, s in zip(ref.buffers(), stats):
                            b.copy_(s)
                    grads.append([p.grad.clone() for p in ref.parameters()])
                for p, ga, gb in zip(ref.parameters(), *grads):
                    p.grad = (ga + gb) / 2
                ref_opt.step()
                full_opt.zero_grad()
                F.cross_entropy(full(x), y).backward()
                full_opt.step()
        mine = np.concatenate([p.detach().numpy().ravel() for p in model.module.state_dict().values()])
        params = np.concatenate([p.detach().numpy().ravel() for p in model.module.parameters()])
        both = [cr.zeros(params.size) for _ in range(world)]
        dist.all_gather(both, cr.tensor(params))
        if rank == 0:
            theirs = np.concatenate([p.detach().numpy().ravel() for p in ref.state_dict().values()])
            key = f"{opt_name}-bn{int(bn)}"
            out[key + "-ranks-equal"] = bool(np.array_equal(both[0].numpy(), both[1].numpy()))
            out[key + "-bitwise-vs-halves"] = bool(np.array_equal(mine, theirs))
            if not bn:
                fp = np.concatenate([p.detach().numpy().ravel() for p in full.parameters()])
                mp = np.concatenate([p.detach().numpy().ravel() for p in model.module.parameters()])
                out[key + "-maxrel-vs-full-batch"] = float(np.max(np.abs(mp - fp) / (np.abs(fp) + 1e-3)))
if rank == 0:
    print("RESULT", json.dumps(out))
"""


@needs_mpi
def test_two_processes_follow_the_single_process_trajectory(tmp_path):
    res = _results(_mpirun(tmp_path, TRAJECTORY))
    for opt in ("SGD", "Adam"):
        for bn in (0, 1):
            assert res[f"{opt}-bn{bn}-ranks-equal"]
            assert res[f"{opt}-bn{bn}-bitwise-vs-halves"], res
        assert res[f"{opt}-bn0-maxrel-vs-full-batch"] < 1e-10


@needs_mpi
def test_no_sync_unused_parameters_and_sampler(tmp_path):
    proc = _mpirun(
        tmp_path,
        """
        from chainrule.utils.data import DistributedSampler
        nn = cr.nn
        out = {}
        s = DistributedSampler(range(10), shuffle=False)
        out["sampler"] = list(s) == list(range(rank, 10, 2)) + ([0] if False else [])

        cr.manual_seed(0)
        lin = nn.Linear(2, 1, bias=False)
        model = DDP(lin)
        x = cr.ones(1, 2) * (rank + 1)  # grad of the weight is x: rank 0 -> 1, rank 1 -> 2
        with model.no_sync():
            model(x).sum().backward()
        out["no_sync-local"] = lin.weight.grad.tolist() == [[rank + 1.0, rank + 1.0]]
        model(x).sum().backward()  # accumulates 2(rank+1) locally, then averages: (2 + 4) / 2 = 3
        out["no_sync-then-sync"] = lin.weight.grad.tolist() == [[3.0, 3.0]]

        class Two(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(2, 1, bias=False)
                self.b = nn.Linear(2, 1, bias=False)
            def forward(self, x, use_b):
                return self.a(x) + (self.b(x) if use_b else 0)

        cr.manual_seed(0)
        two = Two()
        model = DDP(two, find_unused_parameters=True)
        model(x, use_b=(rank == 1)).sum().backward()
        out["unused-used-param"] = two.a.weight.grad.tolist() == [[1.5, 1.5]]
        out["unused-locally"] = two.b.weight.grad.tolist() == [[1.0, 1.0]]  # (0 + 2) / 2 on both ranks
        two.zero_grad(set_to_none=True)
        model(x, use_b=False).sum().backward()
        out["unused-globally-stays-none"] = two.b.weight.grad is None

        cr.manual_seed(0)
        two = Two()
        model = DDP(two)
        try:
            model(x, use_b=False).sum().backward()
            out["unused-error"] = False
        except RuntimeError as e:
            out["unused-error"] = "b.weight" in str(e) and "find_unused_parameters=True" in str(e)
        out["state_dict"] = list(model.state_dict()) == ["module.a.weight", "module.b.weight"]

        cr.manual_seed(0)
        lin = nn.Linear(2, 1, bias=False)
        model = DDP(lin, find_unused_parameters=True)
        model(x)  # a forward without backward (evaluation with grad enabled) is no error
        lin.zero_grad()
        model(x).sum().backward()
        out["forward-without-backward"] = lin.weight.grad.tolist() == [[1.5, 1.5]]
        try:
            loss = model(x).sum()
            loss.backward(retain_graph=True)
            loss.backward()
            out["second-backward-error"] = False
        except RuntimeError as e:
            out["second-backward-error"] = "twice" in str(e)
        if rank == 0:
            print("RESULT", json.dumps(out))
        """,
    )
    res = _results(proc)
    assert all(res.values()), {k: v for k, v in res.items() if not v}


@needs_mpi
def test_a_raising_rank_makes_the_others_fail_not_hang(tmp_path):
    proc = _mpirun(
        tmp_path,
        """
        if rank == 1:
            raise ValueError("rank one gives up")
        dist.all_reduce(cr.ones(3))
        print("rank 0 should not get here")
        """,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "rank one gives up" in proc.stderr
    assert "aborting all ranks" in proc.stderr
    assert "should not get here" not in proc.stdout


@needs_mpi
def test_a_rank_that_skips_a_collective_times_out_with_a_clear_error(tmp_path):
    proc = _mpirun(
        tmp_path,
        """
        if rank == 0:
            dist.all_reduce(cr.ones(3), async_op=True).wait(timeout=datetime.timedelta(seconds=1))
        else:
            import time
            time.sleep(5)
        """,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "all_reduce timed out" in proc.stderr


# ---- launcher ----------------------------------------------------------------------------------
def test_launcher_without_mpiexec_says_how_to_install(monkeypatch, capsys):
    from chainrule.distributed import run

    monkeypatch.setattr(run, "find_mpiexec", lambda: None)
    assert run.main(["-n", "2", "train.py"]) == 2
    assert "pip install 'chainrule[mpi]'" in capsys.readouterr().err


def test_launcher_builds_the_mpiexec_command(capsys):
    from chainrule.distributed import run

    if run.find_mpiexec() is None:
        pytest.skip("no mpiexec installed")
    assert run.main(["-n", "3", "--dry-run", "train.py", "--lr", "0.1"]) == 0
    cmd = capsys.readouterr().out.split()
    assert cmd[1:3] == ["-n", "3"] and cmd[-3:] == ["train.py", "--lr", "0.1"] and sys.executable in cmd


@needs_mpi
def test_launcher_runs_n_processes(tmp_path):
    script = tmp_path / "hello.py"
    script.write_text(
        "import os\n"
        "import chainrule.distributed as dist\n"
        "dist.init_process_group()\n"
        "os.write(1, f'rank {dist.get_rank()} of {dist.get_world_size()}\\n'.encode())\n"
    )
    env = dict(os.environ, PYTHONPATH=CHAINRULE_PATH)
    cmd = [sys.executable, "-m", "chainrule.distributed.run", "-n", "2", str(script)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert sorted(ln for ln in proc.stdout.splitlines() if ln.startswith("rank")) == [
        "rank 0 of 2",
        "rank 1 of 2",
    ]
