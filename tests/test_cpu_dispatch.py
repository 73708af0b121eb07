"""Runtime CPU dispatch: the hot kernels exist for several instruction-set levels and one is chosen
at import (Note [CPU dispatch] in csrc/kernels/kernels.h).

Each level runs in a fresh interpreter (the level is fixed at import) with CHAINRULE_CPU_LEVEL set;
every dispatched kernel (GEMM, activations and their gradients, float arithmetic, column sums, SGD
and Adam) must agree with NumPy in float64 and with every other level, and stay bitwise identical
across thread counts at each level.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainrule as cr

TESTS = os.path.dirname(os.path.abspath(__file__))


def _levels() -> list[tuple[str, bool]]:
    return [tuple(x) for x in cr._core._build_info()["cpu_levels"]]


SUPPORTED = [name for name, ok in _levels() if ok]


def _run(code: str, level: str | None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("CHAINRULE_CPU_LEVEL", None)
    if level is not None:
        env["CHAINRULE_CPU_LEVEL"] = level
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


# Every dispatched kernel on fixed inputs; prints the chosen level, then the results as an .npz
# (hex) so that the parent compares levels.
WORKLOAD = """
import io, sys
import numpy as np
import chainrule as cr

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
cr.set_num_threads(threads)
rng = np.random.default_rng(0)
out = {"level": np.array(cr._core._build_info()["cpu_level"])}
for dt in ("float32", "float64"):
    A = rng.standard_normal((67, 300)).astype(dt)
    B = rng.standard_normal((300, 129)).astype(dt)
    a = cr.tensor(A, requires_grad=True)
    b = cr.tensor(B, requires_grad=True)
    c = a @ b
    c.backward(cr.ones_like(c))
    out[f"mm_{dt}"] = c.detach().numpy()
    out[f"mm_da_{dt}"] = a.grad.numpy()
    out[f"mm_db_{dt}"] = b.grad.numpy()
    x = cr.tensor(rng.standard_normal((40, 70)).astype(dt))
    y = cr.tensor(rng.standard_normal((40, 70)).astype(dt))
    for name, f in [("add", lambda: x + y), ("sub", lambda: x - y), ("mul", lambda: x * y),
                    ("div", lambda: x / (y.abs() + 1)), ("add_s", lambda: x + 2.5),
                    ("rsub_s", lambda: 1.5 - x), ("colsum", lambda: x.sum(0))]:
        out[f"{name}_{dt}"] = f().numpy()
X = rng.standard_normal((33, 1000)).astype("float32")
for name in ("gelu", "sigmoid", "tanh", "silu", "relu"):
    x = cr.tensor(X, requires_grad=True)
    y = getattr(cr.nn.functional, name)(x)
    (y * y).sum().backward()
    out[name] = y.detach().numpy()
    out[name + "_grad"] = x.grad.numpy()
for opt_name, kw in (("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=1e-2)),
                     ("Adam", dict(lr=1e-2)), ("AdamW", dict(lr=1e-2, amsgrad=True))):
    p = cr.tensor(np.linspace(-1, 1, 5000, dtype="float32"), requires_grad=True)
    opt = getattr(cr.optim, opt_name)([p], **kw)
    for step in range(3):
        opt.zero_grad()
        ((p - 0.3) ** 2).sum().backward()
        opt.step()
    out[f"{opt_name}_{len(kw)}"] = p.detach().numpy()
buf = io.BytesIO()
np.savez(buf, **out)
print("RESULT", buf.getvalue().hex())
"""


def _results(level: str | None, threads: int = 1) -> dict[str, np.ndarray]:
    p = _run(WORKLOAD.replace("sys.argv[1]", repr(str(threads))), level)
    assert p.returncode == 0, p.stderr[-3000:]
    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")][-1]
    with np.load(io.BytesIO(bytes.fromhex(line.split()[1]))) as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def by_level() -> dict[str, dict[str, np.ndarray]]:
    return {level: _results(level) for level in SUPPORTED}


def test_levels_are_listed_and_one_is_chosen():
    info = cr._core._build_info()
    names = [n for n, _ in _levels()]
    assert names, "no kernel level built"
    assert info["cpu_level"] in SUPPORTED
    # the default is the highest level this CPU supports
    assert info["cpu_level"] == SUPPORTED[-1] or os.environ.get("CHAINRULE_CPU_LEVEL")
    if sys.maxsize > 2**32 and names[0] == "x86-64":
        assert names == ["x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4"]
        assert SUPPORTED[0] == "x86-64"  # the baseline runs everywhere


def test_show_config_names_the_level(capsys):
    cr.show_config()
    text = capsys.readouterr().out
    assert f"kernels: {cr._core._build_info()['cpu_level']}" in text
    for name, _ in _levels():
        assert name in text


def test_environment_picks_each_supported_level(by_level):
    for level, res in by_level.items():
        assert str(res["level"]) == level


def test_short_names_are_accepted():
    short = {
        "x86-64": "baseline",
        "x86-64-v2": "v2",
        "x86-64-v3": "v3",
        "x86-64-v4": "v4",
        "generic": "baseline",
    }
    for level in SUPPORTED:
        p = _run("import chainrule as cr; print(cr._core._build_info()['cpu_level'])", short[level])
        assert p.returncode == 0, p.stderr
        assert p.stdout.split()[-1] == level


def test_unknown_level_warns_and_uses_the_best():
    p = _run("import chainrule as cr; print(cr._core._build_info()['cpu_level'])", "avx9000")
    assert p.returncode == 0, p.stderr
    assert "not a level of this build" in p.stderr
    assert p.stdout.split()[-1] == SUPPORTED[-1]


def test_level_above_the_cpu_is_refused():
    unsupported = [n for n, ok in _levels() if not ok]
    if not unsupported:
        pytest.skip("this CPU supports every level of the build")
    p = _run("import chainrule as cr; print(cr._core._build_info()['cpu_level'])", unsupported[0])
    assert p.returncode == 0, p.stderr
    assert "needs instructions this CPU lacks" in p.stderr
    assert p.stdout.split()[-1] == SUPPORTED[-1]


def test_missing_level_module_falls_back_to_the_next_lower(tmp_path):
    import shutil

    pkg = os.path.dirname(cr.__file__)
    copy = tmp_path / "chainrule"
    shutil.copytree(pkg, copy, ignore=shutil.ignore_patterns("__pycache__"))
    best = [n for n, ok in _levels() if ok][-1]
    mods = sorted(f for f in os.listdir(copy) if f.startswith("_kernels_"))
    victim = [f for f in mods if f.startswith("_kernels_" + best.replace("-", "_") + ".")]
    assert victim, mods
    os.remove(copy / victim[0])
    code = "import chainrule as cr\ni = cr._core._build_info()\n"
    code += "print(i['cpu_level'])\nprint(i['cpu_level_reason'])"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CHAINRULE_CPU_LEVEL")}
    env["PYTHONPATH"] = str(tmp_path)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    if len(SUPPORTED) == 1:
        assert p.returncode != 0 and "no kernel module could be loaded" in p.stderr
        return
    assert p.returncode == 0, p.stderr
    level, reason = p.stdout.splitlines()[-2:]
    assert level == SUPPORTED[-2]
    assert best in reason  # the reason says which module failed


def _reference() -> dict[str, np.ndarray]:
    """The workload in float64 NumPy (SGD/Adam by their update rules)."""
    rng = np.random.default_rng(0)
    ref = {}
    for dt in ("float32", "float64"):
        A = rng.standard_normal((67, 300)).astype(dt).astype(np.float64)
        B = rng.standard_normal((300, 129)).astype(dt).astype(np.float64)
        G = np.ones((67, 129))
        ref[f"mm_{dt}"], ref[f"mm_da_{dt}"], ref[f"mm_db_{dt}"] = A @ B, G @ B.T, A.T @ G
        x = rng.standard_normal((40, 70)).astype(dt).astype(np.float64)
        y = rng.standard_normal((40, 70)).astype(dt).astype(np.float64)
        ref.update(
            {f"add_{dt}": x + y, f"sub_{dt}": x - y, f"mul_{dt}": x * y, f"div_{dt}": x / (np.abs(y) + 1)}
        )
        ref.update({f"add_s_{dt}": x + 2.5, f"rsub_s_{dt}": 1.5 - x, f"colsum_{dt}": x.sum(0)})
    X = rng.standard_normal((33, 1000)).astype("float32").astype(np.float64)
    from math import erf

    erf_v = np.vectorize(erf)
    cdf = 0.5 * (1 + erf_v(X / np.sqrt(2)))
    pdf = np.exp(-0.5 * X * X) / np.sqrt(2 * np.pi)
    s = 1 / (1 + np.exp(-X))
    t = np.tanh(X)
    acts = {
        "gelu": (X * cdf, cdf + X * pdf),
        "sigmoid": (s, s * (1 - s)),
        "tanh": (t, 1 - t * t),
        "silu": (X * s, s * (1 + X * (1 - s))),
        "relu": (np.maximum(X, 0), (X > 0).astype(np.float64)),
    }
    for name, (y, dy) in acts.items():
        ref[name], ref[name + "_grad"] = y, 2 * y * dy
    return ref


def test_every_level_matches_numpy(by_level):
    ref = _reference()
    for level, res in by_level.items():
        for key, want in ref.items():
            got = res[key].astype(np.float64)
            tol = 1e-12 if key.endswith("float64") else 2e-5
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 10, err_msg=f"{key} at {level}")


def test_levels_agree_with_each_other(by_level):
    levels = list(by_level)
    base = by_level[levels[0]]
    for level in levels[1:]:
        for key, want in base.items():
            if key == "level":
                continue
            got = by_level[level][key]
            assert got.dtype == want.dtype and got.shape == want.shape, key
            tol = 1e-12 if got.dtype == np.float64 else 2e-5
            np.testing.assert_allclose(
                got, want, rtol=tol, atol=tol, err_msg=f"{key}: {level} vs {levels[0]}"
            )


def test_optimizer_steps_match_their_update_rules(by_level):
    p0 = np.linspace(-1, 1, 5000, dtype="float32").astype(np.float64)
    # plain SGD: p <- p - lr * 2 (p - 0.3), three times
    p = p0.copy()
    for _ in range(3):
        p = p - 0.1 * 2 * (p - 0.3)
    for level, res in by_level.items():
        np.testing.assert_allclose(res["SGD_1"], p, rtol=1e-5, atol=1e-6, err_msg=level)
    # Adam, three steps
    p, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    for k in range(1, 4):
        g = 2 * (p - 0.3)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - 1e-2 * (m / (1 - 0.9**k)) / (np.sqrt(v / (1 - 0.999**k)) + 1e-8)
    for level, res in by_level.items():
        np.testing.assert_allclose(res["Adam_1"], p, rtol=1e-5, atol=1e-6, err_msg=level)


def test_each_level_is_bitwise_identical_across_thread_counts(by_level):
    for level in SUPPORTED:
        two = _results(level, threads=2)
        for key, want in by_level[level].items():
            assert np.array_equal(two[key], want), f"{key} at {level}: 2 threads differ from 1"


@pytest.mark.slow
@pytest.mark.parametrize("level", SUPPORTED[:-1] or ["(default only)"])
def test_suite_passes_at_level(level):
    """The non-slow suite at every level below the default one (the default runs it already)."""
    if level == "(default only)":
        pytest.skip("this build has one level, which the main run covers")
    env = dict(os.environ, CHAINRULE_CPU_LEVEL=level)
    p = subprocess.run(
        [sys.executable, "-m", "pytest", TESTS, "-q", "-x", "-m", "not slow", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        env=env,
        cwd=os.path.dirname(TESTS),
        timeout=3600,
    )
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]


@pytest.mark.skipif(bool(os.environ.get("CHAINRULE_SANITIZED")), reason="a sanitized build has more TLS")
def test_thread_local_state_sits_in_the_static_tls_block():
    # Every op reads thread-local state (grad mode, the block pool, tracing flags). The dynamic
    # loader keeps an extension's thread-local block in the thread's static TLS area only while it
    # fits the few hundred bytes glibc reserves for modules loaded later; past that, every read
    # becomes a call into the loader, about 5% of a small training step (see the TLS note in
    # CMakeLists.txt). NumPy is imported first, as in a user's program.
    code = "import numpy, chainrule; print(chainrule._core._build_info()['tls'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() in ("static", "unknown"), (
        "chainrule's thread-local block no longer fits the static TLS area: keep new thread-local "
        "state small (a pointer to a heap object) or shrink existing state"
    )
