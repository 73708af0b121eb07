"""The same workloads written for each engine.

An engine's ``setup(workload, data)`` returns a Bench whose ``check()`` runs the first step from the
shared initial state and returns numbers that prove the work was done (losses, gradient errors
against closed forms, parameter updates), and whose ``step()`` runs one timed step. ``step()`` may
return its own duration in seconds when only part of it is timed (branchy: backward only).
An engine that cannot run a workload raises Unavailable with the reason shown in the report.

chainrule and PyTorch share one implementation (TorchLike): chainrule uses PyTorch's names, so the
code is literally the same with ``torch`` replaced by ``chainrule``. Names not built yet surface as
ImportError/AttributeError and are reported as "unavailable: ...".
"""

from __future__ import annotations

import importlib
import sys
import time

import numpy as np

from benchmarks import workloads as W


class Unavailable(Exception):
    """This engine cannot run this workload; str(exc) says why."""


class Bench:
    """step() is timed; check() runs first; variants: extra {label: step} rows of the same engine."""

    def __init__(self, step, check, info=None, variants=None):
        self.step = step
        self.check = check
        self.info = info or {}
        self.variants = variants or {}


def _rel_err(got, want):
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30))


# ---------------------------------------------------------------------------------------------
class Engine:
    name = "?"
    module_name = "?"
    quick = False  # set per workload: --quick asks for cheaper estimates where an engine can't run

    def version(self) -> str:
        m = importlib.import_module(self.module_name.split(".")[0])
        return str(getattr(m, "__version__", "?"))

    def info(self) -> dict:
        return {}

    def set_threads(self, n: int) -> None:
        pass

    def probe(self, name: str, reps: int) -> dict:
        raise Unavailable(f"{self.name} has no probe {name}")

    def setup(self, workload: str, data: dict) -> Bench:
        fn = getattr(self, "setup_" + workload, None)
        if fn is None:
            raise Unavailable(f"{self.name}: not implemented for this workload")
        return fn(data)


# ---------------------------------------------------------------------------------------------
class TorchLike(Engine):
    """chainrule and PyTorch: identical code, PyTorch's names."""

    def __init__(self):
        self.mod = importlib.import_module(self.module_name)

    # names are resolved eagerly so that a missing one is reported before anything is timed
    def _F(self):
        return importlib.import_module(self.module_name + ".nn.functional")

    def _optim(self):
        return importlib.import_module(self.module_name + ".optim")

    def t(self, arr, requires_grad=False):
        return self.mod.tensor(np.array(arr, copy=True), requires_grad=requires_grad)

    @staticmethod
    def np(t):
        return np.array(t.detach().numpy(), copy=True)

    def set_threads(self, n):
        self.mod.set_num_threads(n)

    def wrap_step(self, step):
        """The timed step as this engine runs it (the compiled row wraps it)."""
        return step

    # -- 1. micrograd's demo ------------------------------------------------------------------
    def setup_moons(self, d):
        F, optim = self._F(), self._optim()
        relu, SGD = F.relu, optim.SGD
        X, y = self.t(d["X"]), self.t(d["y"]).reshape(-1, 1)
        Ws = [self.t(d[f"W{i}"], True) for i in range(3)]
        bs = [self.t(d[f"b{i}"], True) for i in range(3)]
        params = [p for pair in zip(Ws, bs) for p in pair]
        opt = SGD(params, lr=W.LR_SGD)

        def loss_fn():
            h = X
            for i in range(3):
                h = h @ Ws[i] + bs[i]
                if i < 2:
                    h = relu(h)
            data_loss = relu(1 - y * h).mean()
            reg = (params[0] * params[0]).sum()
            for p in params[1:]:
                reg = reg + (p * p).sum()
            return data_loss + 1e-4 * reg

        def step():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            opt.step()
            return None

        step = self.wrap_step(step)

        def check():
            loss0 = float(loss_fn().item())
            w0 = self.np(Ws[0])
            step()
            g_norm = float(np.linalg.norm(self.np(Ws[0].grad)))
            moved = float(np.abs(self.np(Ws[0]) - w0).max())
            return {
                "loss0": loss0,
                "loss1": float(loss_fn().item()),
                "W0_grad_norm": g_norm,
                "W0_max_update": moved,
            }

        return Bench(step, check)

    # -- 2. per-op overhead -------------------------------------------------------------------
    def setup_chain(self, d):
        x = self.t(d["x"], True)
        half = W.CHAIN_OPS // 2

        def step():
            x.grad = None
            y = x
            for _ in range(half):
                y = y * 1.0001
                y = y + 0.001
            y.sum().backward()

        step = self.wrap_step(step)

        def check():
            step()
            want = np.full(W.CHAIN_SIZE, 1.0001**half)
            return {"grad_rel_err_vs_closed_form": _rel_err(self.np(x.grad), want)}

        return Bench(step, check)

    # -- 3. MLP training step -----------------------------------------------------------------
    def setup_mlp(self, d):
        F, optim = self._F(), self._optim()
        relu, cross_entropy, SGD = F.relu, F.cross_entropy, optim.SGD
        X, y = self.t(d["X"]), self.t(d["y"])
        Ws = [self.t(d[f"W{i}"], True) for i in range(3)]
        bs = [self.t(d[f"b{i}"], True) for i in range(3)]
        params = [p for pair in zip(Ws, bs) for p in pair]
        opt = SGD(params, lr=W.LR_SGD)

        def loss_fn():
            h = relu(X @ Ws[0] + bs[0])
            h = relu(h @ Ws[1] + bs[1])
            return cross_entropy(h @ Ws[2] + bs[2], y)

        def step():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            opt.step()

        step = self.wrap_step(step)

        def check():
            loss0 = float(loss_fn().item())
            w0 = self.np(Ws[0])
            step()
            return {
                "loss0": loss0,
                "loss1": float(loss_fn().item()),
                "W0_grad_norm": float(np.linalg.norm(self.np(Ws[0].grad))),
                "W0_max_update": float(np.abs(self.np(Ws[0]) - w0).max()),
            }

        return Bench(step, check)

    # -- 4. matmul ----------------------------------------------------------------------------
    def setup_matmul(self, d):
        A, B, G = self.t(d["A"], True), self.t(d["B"], True), self.t(d["G"])

        def step():
            A.grad = None
            B.grad = None
            C = A @ B
            C.backward(G)

        def check():
            step()
            a, b, g = (d[k].astype(np.float64) for k in ("A", "B", "G"))
            return {
                "dA_rel_err": _rel_err(self.np(A.grad), g @ b.T),
                "dB_rel_err": _rel_err(self.np(B.grad), a.T @ g),
            }

        return Bench(step, check)

    # -- 5. branchy graph ---------------------------------------------------------------------
    def setup_branchy(self, d):
        tanh = self.mod.tanh
        X = self.t(d["X"])
        Ws = [[self.t(d[f"W{b}_{k}"], True) for k in range(W.BRANCH_DEPTH)] for b in range(W.BRANCHES)]
        bs = [[self.t(d[f"b{b}_{k}"], True) for k in range(W.BRANCH_DEPTH)] for b in range(W.BRANCHES)]
        params = [p for row in Ws + bs for p in row]

        def forward():
            total = None
            for b in range(W.BRANCHES):
                h = X
                for k in range(W.BRANCH_DEPTH):
                    h = tanh(h @ Ws[b][k] + bs[b][k])
                total = h if total is None else total + h
            return total.sum()

        def step():
            for p in params:
                p.grad = None
            out = forward()
            t0 = time.perf_counter()
            out.backward()
            return time.perf_counter() - t0

        def check():
            out = float(forward().item())
            step()
            return {
                "out": out,
                "W0_0_grad_norm": float(np.linalg.norm(self.np(Ws[0][0].grad))),
                "W7_3_grad_norm": float(np.linalg.norm(self.np(Ws[-1][-1].grad))),
            }

        return Bench(step, check)

    # -- 6. Adam ------------------------------------------------------------------------------
    def setup_adam(self, d):
        Adam = self._optim().Adam
        params, grads = [], []
        for i in range(W.ADAM_TENSORS):
            p = self.t(d[f"p{i}"], True)
            g = self.t(d[f"g{i}"])
            (p * g).sum().backward()  # p.grad = g exactly, through the public API
            params.append(p)
            grads.append(g)
        opt = Adam(params, lr=W.LR_ADAM)
        variants = self.adam_variants(params)  # other configurations of the same optimizer

        def first_step_err(step):
            # first Adam step: m_hat = g, v_hat = g^2, so the update is lr * g / (|g| + eps)
            before = self.np(params[0])
            step()
            got = self.np(params[0]).astype(np.float64) - before
            g = d["g0"].astype(np.float64)
            return float(np.abs(got - (-W.LR_ADAM * g / (np.abs(g) + 1e-8))).max()), float(np.abs(got).mean())

        def check():
            err, upd = first_step_err(opt.step)
            out = {
                "first_step_max_abs_err": err,
                "mean_abs_update": upd,
                "grad_matches": bool(np.array_equal(self.np(params[0].grad), d["g0"])),
            }
            for label, step in variants.items():
                out[f"first_step_max_abs_err[{label}]"] = first_step_err(step)[0]
            return out

        return Bench(opt.step, check, self.adam_info(opt), variants)

    def adam_variants(self, params):
        return {}

    def adam_info(self, opt):
        return {}


class Chainrule(TorchLike):
    name = "chainrule"
    module_name = "chainrule"

    def info(self):
        try:
            return {k: v for k, v in self.mod._core._build_info().items()}
        except Exception as e:  # pragma: no cover - informational only
            return {"build_info": f"unavailable: {e}"}


class Torch(TorchLike):
    name = "torch"
    module_name = "torch"

    def t(self, arr, requires_grad=False):
        return self.mod.tensor(np.array(arr, copy=True), requires_grad=requires_grad)

    def info(self):
        import re

        cfg = self.mod.__config__.show()
        par = self.mod.__config__.parallel_info()
        blas = re.search(r"BLAS_INFO=(\w+)", cfg)
        dnn = re.search(r"MKL-DNN (v[\d.]+)", cfg)
        omp = re.search(r"(OpenMP [^\n]*)", par)
        return {
            "blas": blas.group(1) if blas else "?",
            "onednn": dnn.group(1) if dnn else "?",
            "parallel": omp.group(1).strip() if omp else "?",
        }

    def adam_variants(self, params):
        try:
            fused = self.mod.optim.Adam(params, lr=W.LR_ADAM, fused=True)
        except Exception:  # fused CPU Adam missing in this version
            return {}
        return {"fused=True": fused.step}

    def adam_info(self, opt):
        g = opt.param_groups[0]
        return {
            "implementation": "default row: torch.optim.Adam defaults (foreach={}, fused={}: on CPU "
            "the per-tensor for-loop path); the fused=True row is PyTorch's fused "
            "CPU kernel".format(g.get("foreach"), g.get("fused"))
        }

    def probe(self, name, reps):
        if name != "torch_mm":
            return super().probe(name, reps)
        n = PEAK_N
        a = self.mod.randn(n, n)
        b = self.mod.randn(n, n)
        out = self.mod.empty(n, n)
        self.mod.mm(a, b, out=out)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            self.mod.mm(a, b, out=out)
            times.append(time.perf_counter() - t0)
        return {"times": times, "flop": 2 * n**3, "n": n}


PEAK_N = 2048
MEMBW_BYTES = 400 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
class HipsAutograd(Engine):
    """HIPS autograd: NumPy functions traced per call; gradients by grad / make_vjp."""

    name = "autograd"
    module_name = "autograd"

    def __init__(self):
        import autograd  # noqa: F401
        import autograd.numpy as anp

        self.anp = anp
        self.limiter = None

    def version(self):
        import importlib.metadata as md

        return md.version("autograd")

    def set_threads(self, n):
        from threadpoolctl import threadpool_limits  # NumPy's BLAS threads

        if self.limiter is not None:
            self.limiter.restore_original_limits()
        self.limiter = threadpool_limits(limits=n)

    @staticmethod
    def _sgd_bench(loss_fn, params):
        """One plain SGD step on NumPy parameters with HIPS autograd's gradient of loss_fn."""
        from autograd import grad

        g_fn = grad(loss_fn)
        last = {}

        def step():
            gs = g_fn(params)
            for p, g in zip(params, gs):
                p -= W.LR_SGD * g
            last["g0"] = gs[0]

        def check():
            loss0 = float(loss_fn(params))
            w0 = params[0].copy()
            step()
            return {
                "loss0": loss0,
                "loss1": float(loss_fn(params)),
                "W0_grad_norm": float(np.linalg.norm(last["g0"])),
                "W0_max_update": float(np.abs(params[0] - w0).max()),
            }

        return Bench(step, check)

    def setup_moons(self, d):
        anp = self.anp
        X, y = d["X"], d["y"].reshape(-1, 1)
        params = [d[k].copy() for i in range(3) for k in (f"W{i}", f"b{i}")]

        def loss_fn(ps):
            h = X
            for i in range(3):
                h = anp.dot(h, ps[2 * i]) + ps[2 * i + 1]
                if i < 2:
                    h = anp.maximum(h, 0)
            data_loss = anp.mean(anp.maximum(1 - y * h, 0))
            return data_loss + 1e-4 * sum(anp.sum(p * p) for p in ps)

        return self._sgd_bench(loss_fn, params)

    def setup_chain(self, d):
        from autograd import grad

        half = W.CHAIN_OPS // 2
        x = d["x"].copy()

        def f(x):
            y = x
            for _ in range(half):
                y = y * 1.0001
                y = y + 0.001
            return self.anp.sum(y)

        g_fn = grad(f)
        out = {}

        def step():
            out["g"] = g_fn(x)

        def check():
            step()
            return {"grad_rel_err_vs_closed_form": _rel_err(out["g"], np.full(W.CHAIN_SIZE, 1.0001**half))}

        return Bench(step, check)

    def setup_mlp(self, d):
        from autograd.scipy.special import logsumexp

        anp = self.anp
        X, y = d["X"], d["y"]
        rows = np.arange(len(y))
        params = [d[k].copy() for i in range(3) for k in (f"W{i}", f"b{i}")]

        def loss_fn(ps):
            h = anp.maximum(anp.dot(X, ps[0]) + ps[1], 0)
            h = anp.maximum(anp.dot(h, ps[2]) + ps[3], 0)
            logits = anp.dot(h, ps[4]) + ps[5]
            return anp.mean(logsumexp(logits, axis=1) - logits[rows, y])

        return self._sgd_bench(loss_fn, params)

    def setup_matmul(self, d):
        from autograd import make_vjp

        A, B, G = d["A"], d["B"], d["G"]
        out = {}

        def step():
            vjp, _ = make_vjp(lambda ab: self.anp.dot(ab[0], ab[1]))((A, B))
            out["dA"], out["dB"] = vjp(G)

        def check():
            step()
            a, b, g = (d[k].astype(np.float64) for k in ("A", "B", "G"))
            return {"dA_rel_err": _rel_err(out["dA"], g @ b.T), "dB_rel_err": _rel_err(out["dB"], a.T @ g)}

        return Bench(step, check)

    def setup_branchy(self, d):
        from autograd import make_vjp

        anp = self.anp
        X = d["X"]
        params = [
            [(d[f"W{b}_{k}"], d[f"b{b}_{k}"]) for k in range(W.BRANCH_DEPTH)] for b in range(W.BRANCHES)
        ]

        def f(ps):
            total = None
            for branch in ps:
                h = X
                for Wl, bl in branch:
                    h = anp.tanh(anp.dot(h, Wl) + bl)
                total = h if total is None else total + h
            return anp.sum(total)

        last = {}

        def step():
            vjp, ans = make_vjp(f)(params)  # forward, untimed
            t0 = time.perf_counter()
            last["g"] = vjp(np.float32(1.0))
            return time.perf_counter() - t0

        def check():
            out = float(f(params))
            step()
            g = last["g"]
            return {
                "out": out,
                "W0_0_grad_norm": float(np.linalg.norm(g[0][0][0])),
                "W7_3_grad_norm": float(np.linalg.norm(g[-1][-1][0])),
            }

        return Bench(
            step,
            check,
            {
                "threads": "NumPy BLAS threads set with threadpoolctl; the "
                "graph itself is traversed on one Python thread"
            },
        )

    def setup_adam(self, d):
        raise Unavailable(
            "n/a: HIPS autograd has no optimizer objects (autograd.misc.optimizers.adam "
            "runs a whole training loop over a flattened copy of the parameters)"
        )


# ---------------------------------------------------------------------------------------------
class Micrograd(Engine):
    """Karpathy's micrograd: scalar Values, recursive topological sort in backward."""

    name = "micrograd"
    module_name = "micrograd"

    def __init__(self):
        from micrograd.engine import Value
        from micrograd.nn import MLP

        self.Value, self.MLP = Value, MLP

    def version(self):
        import importlib.metadata as md

        return md.version("micrograd")

    def _model(self, d, sizes):
        model = self.MLP(sizes[0], list(sizes[1:]))
        for i, layer in enumerate(model.layers):
            Wi, bi = d[f"W{i}"].tolist(), d[f"b{i}"].tolist()
            for j, neuron in enumerate(layer.neurons):
                for k, w in enumerate(neuron.w):
                    w.data = Wi[k][j]
                neuron.b.data = bi[j]
        return model

    def setup_moons(self, d):
        Value = self.Value
        model = self._model(d, W.MOONS_SIZES)
        X, y = d["X"].tolist(), d["y"].tolist()

        def loss_fn():
            # micrograd's demo.ipynb, batch = all 100 points
            inputs = [list(map(Value, xrow)) for xrow in X]
            scores = list(map(model, inputs))
            losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
            data_loss = sum(losses) * (1.0 / len(losses))
            reg_loss = 1e-4 * sum(p * p for p in model.parameters())
            return data_loss + reg_loss

        def step():
            loss = loss_fn()
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= W.LR_SGD * p.grad

        def check():
            loss0 = loss_fn().data
            w0 = np.array([[n.w[k].data for n in model.layers[0].neurons] for k in range(2)])
            step()
            g = np.array([[n.w[k].grad for n in model.layers[0].neurons] for k in range(2)])
            w1 = np.array([[n.w[k].data for n in model.layers[0].neurons] for k in range(2)])
            return {
                "loss0": loss0,
                "loss1": loss_fn().data,
                "W0_grad_norm": float(np.linalg.norm(g)),
                "W0_max_update": float(np.abs(w1 - w0).max()),
            }

        return Bench(step, check)

    def setup_chain(self, d):
        Value = self.Value
        half = W.CHAIN_OPS // 2
        xs = [Value(v) for v in d["x"].tolist()]

        def step():
            for v in xs:
                v.grad = 0
            total = 0
            for v in xs:
                y = v
                for _ in range(half):
                    y = y * 1.0001
                    y = y + 0.001
                total = total + y
            total.backward()

        def check():
            try:
                step()
            except RecursionError:
                raise Unavailable(
                    f"RecursionError — micrograd's backward sorts the graph recursively (build_topo); "
                    f"a chain {W.CHAIN_OPS} ops deep exceeds Python's recursion limit "
                    f"({sys.getrecursionlimit()})"
                ) from None
            got = [v.grad for v in xs]
            return {"grad_rel_err_vs_closed_form": _rel_err(got, np.full(W.CHAIN_SIZE, 1.0001**half))}

        return Bench(step, check)

    def _value_matmul_seconds(self, n=16):
        """Seconds for forward+backward of an n x n x n matmul written with Values."""
        Value = self.Value
        rng = np.random.default_rng(0)
        A = [[Value(float(v)) for v in row] for row in rng.standard_normal((n, n))]
        B = [[Value(float(v)) for v in row] for row in rng.standard_normal((n, n))]
        t0 = time.perf_counter()
        total = 0
        for i in range(n):
            for j in range(n):
                total = total + sum((A[i][k] * B[k][j] for k in range(n)), 0)
        total.backward()
        return time.perf_counter() - t0

    @staticmethod
    def _human(seconds):
        if seconds > 3600:
            return f"{seconds / 3600:.1f} hours"
        if seconds > 60:
            return f"{seconds / 60:.1f} minutes"
        return f"{seconds:.1f} s"

    def setup_matmul(self, d):
        t16 = min(self._value_matmul_seconds() for _ in range(3))
        est = t16 * (W.MATMUL_N / 16) ** 3
        raise Unavailable(
            f"n/a: scalar engine — one {W.MATMUL_N}x{W.MATMUL_N} matmul forward+backward would "
            f"take ~{self._human(est)} (a 16x16 one took {t16 * 1e3:.1f} ms; scaled by "
            f"({W.MATMUL_N}/16)^3)"
        )

    def setup_branchy(self, d):
        t16 = min(self._value_matmul_seconds() for _ in range(3))
        layers = W.BRANCHES * W.BRANCH_DEPTH
        est = t16 * layers * (W.BRANCH_WIDTH / 16) ** 3
        raise Unavailable(
            f"n/a: scalar engine without threads — {layers} layers of {W.BRANCH_WIDTH}^3 "
            f"multiply-adds would take ~{self._human(est)} per forward+backward (scaled "
            f"from a 16x16 matmul timing of {t16 * 1e3:.1f} ms)"
        )

    def setup_mlp(self, d):
        sizes = W.MLP_SIZES
        madds = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        if self.quick:
            t16 = min(self._value_matmul_seconds() for _ in range(3))
            est = t16 * madds / 16**3
            raise Unavailable(
                f"n/a: micrograd's Value has no exp or log, so cross-entropy cannot be written; as a scalar "
                f"engine, a batch-{W.MLP_BATCH} forward+backward would take "
                f"~{self._human(est * W.MLP_BATCH)} "
                f"(scaled by multiply-adds from a 16x16 matmul timing of {t16 * 1e3:.1f} ms; a direct "
                f"1-sample timing, done without --quick, comes out several times higher)"
            )
        Value = self.Value
        model = self._model(d, W.MLP_SIZES)
        x = [Value(v) for v in d["X"][0].tolist()]
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(20000)  # the 784-term sums are chains deeper than the default 1000
        try:
            t0 = time.perf_counter()
            out = model(x)
            sum(out, 0).backward()
            t1 = time.perf_counter() - t0
        finally:
            sys.setrecursionlimit(old)
        raise Unavailable(
            f"n/a: micrograd's Value has no exp or log, so cross-entropy cannot be written; as a scalar "
            f"engine, forward+backward of one sample took {t1:.2f} s (sum of logits as the loss, recursion "
            f"limit raised to 20000), so a batch-{W.MLP_BATCH} step would take "
            f"~{self._human(t1 * W.MLP_BATCH)}"
        )

    def setup_adam(self, d):
        raise Unavailable(
            "n/a: micrograd has no optimizer and no tensors; 10M parameters would be 10M Python Value objects"
        )


# ---------------------------------------------------------------------------------------------
class NumpyMachine(Engine):
    """Machine probes with NumPy: sgemm peak and memory bandwidth."""

    name = "numpy"
    module_name = "numpy"

    def info(self):
        try:
            blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
            return {"blas": f"{blas.get('name')} {blas.get('version')}"}
        except Exception:  # pragma: no cover - older NumPy
            return {"blas": "unknown"}

    threads = 1

    def set_threads(self, n):
        from threadpoolctl import threadpool_limits

        self._lim = threadpool_limits(limits=n)
        self.threads = n

    def probe(self, name, reps):
        if name == "numpy_sgemm":
            n = PEAK_N
            rng = np.random.default_rng(0)
            a = rng.standard_normal((n, n), dtype=np.float32)
            b = rng.standard_normal((n, n), dtype=np.float32)
            out = np.empty((n, n), np.float32)
            np.matmul(a, b, out=out)
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                np.matmul(a, b, out=out)
                times.append(time.perf_counter() - t0)
            return {"times": times, "flop": 2 * n**3, "n": n}
        if name == "membw":
            # np.copyto releases the GIL, so `threads` Python threads copy one slice each in parallel
            from concurrent.futures import ThreadPoolExecutor

            nt = self.threads
            src = np.ones(MEMBW_BYTES // 4, np.float32)
            dst = np.empty_like(src)
            bounds = np.linspace(0, src.size, nt + 1).astype(int)
            parts = [(dst[b:e], src[b:e]) for b, e in zip(bounds[:-1], bounds[1:])]
            with ThreadPoolExecutor(nt) as pool:

                def copy():
                    list(pool.map(lambda pe: np.copyto(*pe), parts))

                copy()
                times = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    copy()
                    times.append(time.perf_counter() - t0)
            return {
                "times": times,
                "bytes": 2 * MEMBW_BYTES,
                "threads": nt,
                "note": f"np.copyto of a 400 MiB float32 array in {nt} slices on {nt} threads; "
                "bytes = read + write = 800 MiB",
            }
        return super().probe(name, reps)


class ChainruleCompiled(Chainrule):
    """chainrule with the step wrapped in chainrule.compile: the first call (the check's step)
    traces it eagerly, later calls replay the recorded kernel calls from C++. Only the workloads
    whose step is a whole training step (moons, chain, mlp) have this row."""

    name = "chainrule-compiled"

    def wrap_step(self, step):
        return self.mod.compile(step)

    def setup(self, workload, data):
        if workload not in ("moons", "chain", "mlp"):
            raise Unavailable(f"{self.name}: only the moons, chain and mlp steps are compiled")
        return super().setup(workload, data)


ENGINES = {
    "chainrule": Chainrule,
    "chainrule-compiled": ChainruleCompiled,
    "torch": Torch,
    "micrograd": Micrograd,
    "autograd": HipsAutograd,
    "numpy": NumpyMachine,
}
# engines compared in the tables, in report order
COMPARED = ["chainrule", "torch", "autograd", "micrograd"]
IMPORT_MODULES = {
    "chainrule": "chainrule",
    "chainrule-compiled": "chainrule",
    "torch": "torch",
    "autograd": "autograd",
    "micrograd": "micrograd.nn",
}

# peer engines (benchmarks/peers.py): selectable with --engines, not part of the default comparison
from benchmarks.peers import PEER_ENGINES, PEER_IMPORT_MODULES  # noqa: E402

ENGINES.update(PEER_ENGINES)
IMPORT_MODULES.update(PEER_IMPORT_MODULES)
SELECTABLE = COMPARED + ["chainrule-compiled"] + list(PEER_ENGINES)
