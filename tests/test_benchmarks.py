"""The benchmark harness: `python -m benchmarks --quick` runs end to end and reports every workload
with either numbers or a reason; missing engine features are reported, not crashed on."""

import json
import os
import subprocess
import sys
import types
from importlib.machinery import EXTENSION_SUFFIXES

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

WORKLOADS = ["moons", "chain", "mlp", "matmul", "branchy", "adam", "import"]
ENGINES = ["chainrule", "torch", "autograd", "micrograd"]


def _env():
    env = dict(os.environ)
    paths = [REPO]
    src = os.path.join(REPO, "python", "chainrule")
    if any(f.startswith("_core") and f.endswith(tuple(EXTENSION_SUFFIXES)) for f in os.listdir(src)):
        paths.append(os.path.join(REPO, "python"))  # a development tree built in place
    env["PYTHONPATH"] = os.pathsep.join(paths + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    p = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    return p, out


@pytest.mark.slow
def test_quick_run_exits_zero_and_writes_json_markdown_png(quick_run):
    p, out = quick_run
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert {"results.json", "results.md"} <= set(os.listdir(out))
    if _has("matplotlib"):
        assert (out / "results.png").stat().st_size > 0


@pytest.mark.slow
def test_chainrule_itself_runs_every_workload(quick_run):
    p, out = quick_run
    res = json.loads((out / "results.json").read_text())
    for name, wl in res["workloads"].items():
        rows = [r for r in wl["rows"] if r["engine"] == "chainrule"]
        assert rows and all(r["status"] == "ok" for r in rows), (name, rows)


@pytest.mark.slow
def test_quick_run_json_has_every_workload_and_engine_with_numbers_or_a_reason(quick_run):
    p, out = quick_run
    res = json.loads((out / "results.json").read_text())
    assert set(res["workloads"]) == set(WORKLOADS)
    assert res["meta"]["machine"]["cpu"] and res["meta"]["threads"] >= 1
    for name, wl in res["workloads"].items():
        assert {r["engine"] for r in wl["rows"]} == set(ENGINES), name
        for r in wl["rows"]:
            if r["status"] == "ok":
                s = r["stats"]
                assert s["n"] >= 2 and len(r["samples"]) == s["n"]
                assert s["min"] <= s["median"] <= s["max"], (name, r["engine"])
                assert name == "import" or s["min"] > 0  # import: a difference, can be noise below 0
                if name != "import":
                    assert r["checks"], (name, r["engine"])  # the work was verified, not just timed
            else:
                assert r["status"] in ("unavailable", "failed")
                assert isinstance(r["reason"], str) and r["reason"], (name, r["engine"])
    # the reference points each target is judged against
    assert res["probes"]["membw"]["ok"] and res["probes"]["numpy_sgemm"]["ok"]
    assert {t["status"] for t in res["targets"]} <= {"met", "missed", "not measured"}
    # micrograd demo; per-op, moons and MLP each eager and compiled; matmul; Adam; branchy scaling
    assert len(res["targets"]) == 10
    assert {t["target"] for t in res["targets"]} >= {"per-op overhead, compiled", "moons step, compiled"}


@pytest.mark.slow
def test_quick_run_markdown_has_a_table_row_per_engine_for_every_workload(quick_run):
    p, out = quick_run
    md = (out / "results.md").read_text()
    assert "## Targets" in md and "## Machine and versions" in md
    sections = md.split("\n### ")[1:]
    assert [s.split(":", 1)[0] for s in sections] == WORKLOADS
    for s in sections:
        rows = [ln for ln in s.splitlines() if ln.startswith("| ")][1:]  # skip the header
        # several rows per engine where it has variants: branchy's thread counts, torch's fused Adam
        assert {ln.split("|")[1].split()[0] for ln in rows} == set(ENGINES)
        for ln in rows:
            assert ln.count("|") == rows[0].count("|"), ln  # reasons with '|' are escaped


def test_micrograd_chain_reports_its_recursion_limit_instead_of_a_time():
    pytest.importorskip("micrograd")
    from benchmarks import workloads as W
    from benchmarks.engines import Micrograd, Unavailable
    from benchmarks.worker import prepare

    with pytest.raises(Unavailable, match="RecursionError"):
        prepare(Micrograd(), "chain", W.make_data("chain"))


def _has(mod):
    try:
        __import__(mod)
        return True
    except ImportError:
        return False


def _fake_torchlike(monkeypatch, attrs):
    """An engine whose module has only `attrs`: stands for a build where some names are missing."""
    from benchmarks.engines import TorchLike

    mod = types.ModuleType("fakecr")
    for k, v in attrs.items():
        setattr(mod, k, v)
    monkeypatch.setitem(sys.modules, "fakecr", mod)

    class Fake(TorchLike):
        name = "fake"
        module_name = "fakecr"

    return Fake()


def test_missing_optim_module_is_reported_as_unavailable_with_the_import_error(monkeypatch):
    from benchmarks import workloads as W
    from benchmarks.engines import Unavailable
    from benchmarks.worker import prepare

    eng = _fake_torchlike(monkeypatch, {"tensor": lambda a, requires_grad=False: np.array(a)})
    with pytest.raises(Unavailable, match=r"^unavailable: ModuleNotFoundError: No module named 'fakecr\.nn'"):
        prepare(eng, "mlp", W.make_data("mlp"))


def test_missing_function_is_reported_as_unavailable_with_the_attribute_error(monkeypatch):
    from benchmarks import workloads as W
    from benchmarks.engines import Unavailable
    from benchmarks.worker import prepare

    eng = _fake_torchlike(monkeypatch, {"tensor": lambda a, requires_grad=False: np.array(a)})
    with pytest.raises(Unavailable, match=r"^unavailable: AttributeError: .*'tanh'"):
        prepare(eng, "branchy", W.make_data("branchy"))


def test_report_shows_reason_rows_and_unmeasured_targets_without_numbers():
    from benchmarks import report

    results = {
        "meta": {
            "command": "python -m benchmarks",
            "started": "now",
            "quick": True,
            "threads": 1,
            "repeats": 3,
            "target_sample_s": 0.01,
            "budget_per_row_s": 1.0,
            "thread_env": {},
            "machine": {
                "cpu": "cpu",
                "logical_cpus": 1,
                "usable_cpus": 1,
                "simd": [],
                "mem_total_gib": 1.0,
                "os": "Linux",
                "python": "3",
            },
            "engines": {"chainrule": {"unavailable": "unavailable: cannot import"}},
        },
        "probes": {},
        "workloads": {
            "mlp": {
                "title": "MLP",
                "unit": "ms/step",
                "description": "d",
                "rows": [
                    {
                        "engine": "chainrule",
                        "variant": None,
                        "status": "unavailable",
                        "reason": "unavailable: AttributeError: no cross_entropy | here",
                    },
                    {
                        "engine": "torch",
                        "variant": None,
                        "status": "ok",
                        "inner": 1,
                        "checks": {"loss0": 2.3, "W0_max_update": 0.1},
                        "stats": {
                            "median": 0.01,
                            "min": 0.009,
                            "max": 0.02,
                            "n": 3,
                            "median_unit": 10.0,
                            "min_unit": 9.0,
                            "max_unit": 20.0,
                        },
                    },
                ],
            }
        },
    }
    report.check_status("mlp", results["workloads"]["mlp"])
    results["targets"] = report.targets(results)
    md = report.markdown(results)
    assert results["targets"][0]["status"] == "not measured"
    assert "no cross_entropy \\| here" in md
    assert "— (no chainrule timing)" in md


def test_report_flags_a_check_that_shows_no_parameter_update():
    from benchmarks import report

    wl = {
        "rows": [
            {"engine": "torch", "status": "ok", "checks": {"loss0": 1.0, "W0_max_update": 0.0}},
            {"engine": "chainrule", "status": "ok", "checks": {"loss0": 1.5, "W0_max_update": 0.1}},
        ]
    }
    report.check_status("mlp", wl)
    assert wl["rows"][0]["check_problems"] == ["parameters did not change"]
    assert any("differs from torch" in p for p in wl["rows"][1]["check_problems"])


def test_engine_that_fails_to_import_is_reported_with_its_error_in_every_workload(tmp_path):
    fake = tmp_path / "site" / "micrograd"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('simulated missing micrograd')\n")
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), env["PYTHONPATH"]])
    out = tmp_path / "out"
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--workloads",
            "chain,import",
            "--engines",
            "micrograd",
            "--out",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    res = json.loads((out / "results.json").read_text())
    for name in ("chain", "import"):
        (row,) = res["workloads"][name]["rows"]
        assert row["status"] == "unavailable"
        assert "simulated missing micrograd" in row["reason"]
    assert "simulated missing micrograd" in (out / "results.md").read_text()


# ---- peer engines (benchmarks/peers.py): first steps against a float64 NumPy reference ----------
PEERS = {"jax": "jax", "dynet": "dynet", "magnetron": "magnetron", "nnengine": "nnengine"}
PEER_WORKLOADS = {
    "jax": ["moons", "chain", "mlp", "matmul"],
    "dynet": ["moons", "chain", "mlp", "matmul"],
    "magnetron": ["moons", "chain", "mlp", "matmul"],
    "nnengine": ["mlp"],
}


def _np_sgd_first_step(name, d):
    """loss before and after one SGD step, |dW0| and max |W0 update|, by hand-written backprop."""
    ps = [d[k].astype(np.float64) for i in range(3) for k in (f"W{i}", f"b{i}")]
    X = d["X"].astype(np.float64)

    def forward_backward(ps):
        zs, hs = [], [X]
        for i in range(3):
            z = hs[-1] @ ps[2 * i] + ps[2 * i + 1]
            zs.append(z)
            hs.append(np.maximum(z, 0) if i < 2 else z)
        out = hs[-1]
        n = len(X)
        if name == "mlp":
            y = d["y"]
            m = out - out.max(1, keepdims=True)
            logp = m - np.log(np.exp(m).sum(1, keepdims=True))
            loss = -logp[np.arange(n), y].mean()
            dout = np.exp(logp)
            dout[np.arange(n), y] -= 1
            dout /= n
            reg_grads = [0.0] * 6
        else:  # moons: hinge loss + 1e-4 * sum(p*p)
            y = d["y"].astype(np.float64).reshape(-1, 1)
            margin = 1 - y * out
            loss = np.maximum(margin, 0).mean() + 1e-4 * sum((p * p).sum() for p in ps)
            dout = -y * (margin > 0) / n
            reg_grads = [2e-4 * p for p in ps]
        grads = [None] * 6
        g = dout
        for i in (2, 1, 0):
            grads[2 * i] = hs[i].T @ g
            grads[2 * i + 1] = g.sum(0)
            if i > 0:
                g = (g @ ps[2 * i].T) * (zs[i - 1] > 0)
        return loss, [a + b for a, b in zip(grads, reg_grads)]

    loss0, grads = forward_backward(ps)
    new = [p - 0.1 * g for p, g in zip(ps, grads)]
    loss1, _ = forward_backward(new)
    return {
        "loss0": loss0,
        "loss1": loss1,
        "W0_grad_norm": np.linalg.norm(grads[0]),
        "W0_max_update": np.abs(new[0] - ps[0]).max(),
    }


@pytest.mark.skipif(
    bool(os.environ.get("CHAINRULE_SANITIZED")),
    reason="the peers' native code is not sanitized, and XLA's JIT deadlocks with the sanitizer's unwinder",
)
@pytest.mark.parametrize("engine", list(PEERS))
def test_peer_engine_first_steps_match_the_reference(engine):
    pytest.importorskip(PEERS[engine], reason=f"{engine} not installed (benchmarks/peers.py)")
    from benchmarks import workloads as W
    from benchmarks.engines import ENGINES
    from benchmarks.report import DEFAULT_ERR_LIMIT
    from benchmarks.worker import prepare

    eng = ENGINES[engine]()
    for name in PEER_WORKLOADS[engine]:
        d = W.make_data(name)
        bench, checks = prepare(eng, name, d)
        if name in ("moons", "mlp"):
            want = _np_sgd_first_step(name, d)
            for k, v in want.items():
                assert checks[k] == pytest.approx(v, rel=1e-3), (engine, name, k)
            for step in bench.variants.values():  # e.g. nnengine's compiled replay
                step()
        else:
            errs = {k: v for k, v in checks.items() if "_err" in k}
            assert errs and all(v < DEFAULT_ERR_LIMIT for v in errs.values()), (engine, name, checks)
        bench.step()  # a timed step runs after the check


def test_nnengine_reports_workloads_it_cannot_express():
    pytest.importorskip("nnengine", reason="nn-engine-core not installed")
    from benchmarks import workloads as W
    from benchmarks.engines import ENGINES, Unavailable
    from benchmarks.worker import prepare

    for name in ("moons", "chain", "matmul"):
        with pytest.raises(Unavailable, match=r"^n/a: nn-engine-core"):
            prepare(ENGINES["nnengine"](), name, W.make_data(name))


def test_nnengine_compiled_replay_is_a_variant_that_updates_the_weights():
    pytest.importorskip("nnengine", reason="nn-engine-core not installed")
    from benchmarks import workloads as W
    from benchmarks.engines import ENGINES
    from benchmarks.worker import prepare

    bench, checks = prepare(ENGINES["nnengine"](), "mlp", W.make_data("mlp"))
    assert list(bench.variants) == ["compiled"]
    assert checks["compiled_batches_per_step"] == 1 and checks["compiled_W0_max_update"] > 0


def test_peer_engines_are_selectable_but_not_in_the_default_comparison():
    from benchmarks import run
    from benchmarks.engines import COMPARED

    assert run.parse_args([]).engines == COMPARED
    a = run.parse_args(["--engines", "torch,jax,dynet,magnetron,nnengine"])
    assert a.engines == ["torch", "jax", "dynet", "magnetron", "nnengine"]
    with pytest.raises(SystemExit):
        run.parse_args(["--engines", "nosuchengine"])


def test_reasons_never_repeat_their_status_word():
    from benchmarks.report import clean_reason, status_text

    assert clean_reason("unavailable: unavailable: cannot import x") == "unavailable: cannot import x"
    assert status_text("unavailable", "unavailable: cannot import x") == "unavailable: cannot import x"
    assert status_text("unavailable", "cannot import x") == "unavailable (cannot import x)"
    assert status_text("unavailable", "n/a: no hinge loss") == "n/a: no hinge loss"
    assert status_text("failed", "failed: boom") == "failed: boom"


def test_peer_engine_that_fails_to_import_is_reported_once_as_unavailable(tmp_path):
    fake = tmp_path / "site" / "dynet"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('simulated missing dynet')\n")
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), env["PYTHONPATH"]])
    out = tmp_path / "out"
    p = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--workloads", "chain", "--engines", "dynet"]
        + ["--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    (row,) = json.loads((out / "results.json").read_text())["workloads"]["chain"]["rows"]
    assert row["status"] == "unavailable" and "simulated missing dynet" in row["reason"]
    md = (out / "results.md").read_text()
    assert "simulated missing dynet" in md and "simulated missing dynet" in p.stdout
    for text in (md, p.stdout):
        assert "unavailable: unavailable" not in text and "unavailable (unavailable" not in text


def test_ab_builds_times_one_workload_in_each_build_and_prints_the_ratio():
    import chainrule

    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(chainrule.__file__)))
    p = subprocess.run(
        [sys.executable, "-m", "benchmarks.ab_builds", package_dir, package_dir, "--workloads", "moons"]
        + ["--modes", "eager", "--rounds", "1"],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    line = p.stdout.strip()
    assert line.startswith("moons eager (1 thread(s), 1 rounds): best "), line
    ratio = float(line.split("after/before ")[1].split(";")[0])
    assert 0.2 < ratio < 5.0  # the same build twice: the two rounds differ only by noise
    bad = subprocess.run(
        [sys.executable, "-m", "benchmarks.ab_builds", package_dir, package_dir, "--workloads", "nope"],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "unknown workload 'nope'" in bad.stderr


def test_core_to_core_probe_builds_and_reports_a_round_trip(tmp_path):
    # benchmarks/core_to_core.cpp: the probe RESULTS.md uses to tell the 2-thread regimes apart.
    import re
    import shutil

    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None or not sys.platform.startswith("linux"):
        pytest.skip("needs a C++ compiler on Linux")
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs")
    exe = tmp_path / "core_to_core"
    src = os.path.join(REPO, "benchmarks", "core_to_core.cpp")
    subprocess.run([cxx, "-O2", "-pthread", src, "-o", str(exe)], check=True, timeout=120)
    a, b = sorted(os.sched_getaffinity(0))[:2]
    # few exchanges: on a loaded machine each can wait for a time slice
    out = subprocess.run([str(exe), str(a), str(b), "2000"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    m = re.fullmatch(rf"core-to-core round trip, CPUs {a} and {b}: ([0-9.]+) ns\n", out.stdout)
    assert m and float(m.group(1)) > 0, out.stdout
    bad = subprocess.run([str(exe), str(a), "100000", "10"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "could not pin" in bad.stderr
