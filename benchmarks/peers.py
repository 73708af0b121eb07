"""Peer engines: DyNet, magnetron, nn-engine-core (NNEngine) and JAX (jax.jit, CPU).

They are not part of the default comparison (engines.COMPARED); ask for them by name, e.g.
``python -m benchmarks --engines chainrule,torch,jax,dynet,magnetron,nnengine``. Each one starts
from the same .npz inputs and initial weights as every other engine, and its check() reports the
same numbers (losses, gradient norms against PyTorch, gradient errors against closed forms) so
that report.check_status can compare them. A workload an engine cannot express raises
Unavailable with the reason, shown in the report instead of a number.

Installing them: ``pip install dyNET38 magnetron nn-engine-core jax`` (CPU wheels).
"""

from __future__ import annotations

import importlib.metadata as md
import os

import numpy as np

from benchmarks import workloads as W
from benchmarks.engines import Bench, Engine, Unavailable, _rel_err


def _sgd_checks(loss0, loss1, w0_before, w0_after, w0_grad):
    return {
        "loss0": float(loss0),
        "loss1": float(loss1),
        "W0_grad_norm": float(np.linalg.norm(np.asarray(w0_grad, np.float64))),
        "W0_max_update": float(np.abs(np.asarray(w0_after) - np.asarray(w0_before)).max()),
    }


def _matmul_checks(d, dA, dB):
    a, b, g = (d[k].astype(np.float64) for k in ("A", "B", "G"))
    return {"dA_rel_err": _rel_err(dA, g @ b.T), "dB_rel_err": _rel_err(dB, a.T @ g)}


def _chain_checks(grad):
    half = W.CHAIN_OPS // 2
    return {"grad_rel_err_vs_closed_form": _rel_err(grad, np.full(W.CHAIN_SIZE, 1.0001**half))}


# ---------------------------------------------------------------------------------------------
class Jax(Engine):
    """JAX on CPU: every step is one jax.jit-compiled function (value_and_grad plus the update)."""

    name = "jax"
    module_name = "jax"

    def __init__(self):
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp

    def info(self):
        return {
            "backend": self.jax.default_backend(),
            "threads": "XLA's CPU thread pool is sized when JAX starts; it is not set per workload",
        }

    def _note(self):
        return {"compiled": "jax.jit: compiled once in check(), the timed step runs the compiled function"}

    def _sgd_bench(self, loss_fn, params):
        jax, jnp = self.jax, self.jnp

        @jax.jit
        def update(ps):
            g = jax.grad(loss_fn)(ps)
            return [p - W.LR_SGD * gi for p, gi in zip(ps, g)], g[0]

        loss_jit = jax.jit(loss_fn)
        state = {"ps": [jnp.asarray(p) for p in params]}

        def step():
            state["ps"], state["g0"] = update(state["ps"])
            jax.block_until_ready(state["ps"])

        def check():
            loss0 = float(loss_jit(state["ps"]))
            w0 = np.asarray(state["ps"][0]).copy()
            step()
            return _sgd_checks(loss0, float(loss_jit(state["ps"])), w0, state["ps"][0], state["g0"])

        return Bench(step, check, self._note())

    def setup_moons(self, d):
        jnp = self.jnp
        X, y = jnp.asarray(d["X"]), jnp.asarray(d["y"]).reshape(-1, 1)
        params = [d[k] for i in range(3) for k in (f"W{i}", f"b{i}")]

        def loss_fn(ps):
            h = X
            for i in range(3):
                h = h @ ps[2 * i] + ps[2 * i + 1]
                if i < 2:
                    h = jnp.maximum(h, 0)
            data_loss = jnp.mean(jnp.maximum(1 - y * h, 0))
            return data_loss + 1e-4 * sum(jnp.sum(p * p) for p in ps)

        return self._sgd_bench(loss_fn, params)

    def setup_mlp(self, d):
        jax, jnp = self.jax, self.jnp
        X, y = jnp.asarray(d["X"]), jnp.asarray(d["y"].astype(np.int32))
        params = [d[k] for i in range(3) for k in (f"W{i}", f"b{i}")]

        def loss_fn(ps):
            h = jnp.maximum(X @ ps[0] + ps[1], 0)
            h = jnp.maximum(h @ ps[2] + ps[3], 0)
            logits = h @ ps[4] + ps[5]
            logp = jax.nn.log_softmax(logits, axis=1)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

        return self._sgd_bench(loss_fn, params)

    def setup_chain(self, d):
        jax, jnp = self.jax, self.jnp
        half = W.CHAIN_OPS // 2
        x = jnp.asarray(d["x"])

        def f(x):
            y = x
            for _ in range(half):
                y = y * 1.0001
                y = y + 0.001
            return jnp.sum(y)

        g_fn = jax.jit(jax.grad(f))
        out = {}

        def step():
            out["g"] = jax.block_until_ready(g_fn(x))

        def check():
            step()
            return _chain_checks(np.asarray(out["g"]))

        info = dict(self._note())
        info["chain"] = (
            "XLA fuses the whole traced chain into compiled code, so this is not per-op dispatch overhead"
        )
        return Bench(step, check, info)

    def setup_matmul(self, d):
        jax, jnp = self.jax, self.jnp
        A, B, G = (jnp.asarray(d[k]) for k in ("A", "B", "G"))

        @jax.jit
        def fwd_bwd(a, b, g):
            c, vjp = jax.vjp(lambda a, b: a @ b, a, b)
            # C is returned too: otherwise XLA drops the forward product, which the gradients
            # do not need, and the step would do 4n^3 flop instead of the other engines' 6n^3
            return (c, *vjp(g))

        out = {}

        def step():
            out["g"] = jax.block_until_ready(fwd_bwd(A, B, G))

        def check():
            step()
            checks = _matmul_checks(d, np.asarray(out["g"][1]), np.asarray(out["g"][2]))
            checks["C_rel_err"] = _rel_err(np.asarray(out["g"][0]), d["A"].astype(np.float64) @ d["B"])
            return checks

        return Bench(step, check, self._note())


# ---------------------------------------------------------------------------------------------
class Dynet(Engine):
    """DyNet (PyPI dyNET38): a new computation graph per step (dy.renew_cg), batched columns."""

    name = "dynet"
    module_name = "dynet"

    def __init__(self):
        import dynet as dy

        self.dy = dy

    def version(self):
        return md.version("dyNET38")

    def info(self):
        return {"threads": "DyNet's CPU build runs each op on one thread; set_threads has no effect"}

    def _sgd_bench(self, pc, params, loss_fn, w0_param, transposed):
        dy = self.dy
        trainer = dy.SimpleSGDTrainer(pc, learning_rate=W.LR_SGD)
        trainer.set_clip_threshold(0)  # no gradient clipping (DyNet clips at norm 5 by default)

        def as_w(arr):
            return arr.T if transposed else arr

        def loss_value():
            dy.renew_cg()
            return float(loss_fn().value())

        keep = [pc, params]  # the trainer does not keep the collection alive on its own

        def step():
            assert keep
            dy.renew_cg()
            loss = loss_fn()
            loss.value()
            loss.backward()
            trainer.update()

        def check():
            loss0 = loss_value()
            w0 = as_w(w0_param.as_array()).copy()
            dy.renew_cg()
            loss = loss_fn()
            loss.value()
            loss.backward()
            g = as_w(w0_param.grad_as_array()).copy()
            trainer.update()
            return _sgd_checks(loss0, loss_value(), w0, as_w(w0_param.as_array()), g)

        return Bench(step, check, {"graph": "dy.renew_cg() and a new graph every step"})

    def setup_moons(self, d):
        dy = self.dy
        pc = dy.ParameterCollection()
        # DyNet works on column vectors: layer i is W_i^T x + b_i over a batch of 100 columns
        Ws = [pc.add_parameters(d[f"W{i}"].T.shape, init=dy.NumpyInitializer(d[f"W{i}"].T)) for i in range(3)]
        bs = [pc.add_parameters(d[f"b{i}"].shape, init=dy.NumpyInitializer(d[f"b{i}"])) for i in range(3)]
        X, y = np.ascontiguousarray(d["X"].T), d["y"].reshape(1, -1)

        def loss_fn():
            h = dy.inputTensor(X, batched=True)
            ys = dy.inputTensor(y, batched=True)
            for i in range(3):
                h = dy.affine_transform([bs[i], Ws[i], h])
                if i < 2:
                    h = dy.rectify(h)
            data_loss = dy.mean_batches(dy.rectify(-dy.cmult(ys, h) + 1.0))
            reg = dy.esum([dy.squared_norm(p) for pair in zip(Ws, bs) for p in pair])
            return dy.sum_elems(data_loss) + reg * 1e-4

        return self._sgd_bench(pc, Ws + bs, loss_fn, Ws[0], True)

    def setup_mlp(self, d):
        dy = self.dy
        pc = dy.ParameterCollection()
        Ws = [pc.add_parameters(d[f"W{i}"].T.shape, init=dy.NumpyInitializer(d[f"W{i}"].T)) for i in range(3)]
        bs = [pc.add_parameters(d[f"b{i}"].shape, init=dy.NumpyInitializer(d[f"b{i}"])) for i in range(3)]
        X, labels = np.ascontiguousarray(d["X"].T), [int(v) for v in d["y"]]

        def loss_fn():
            h = dy.inputTensor(X, batched=True)
            h = dy.rectify(dy.affine_transform([bs[0], Ws[0], h]))
            h = dy.rectify(dy.affine_transform([bs[1], Ws[1], h]))
            logits = dy.affine_transform([bs[2], Ws[2], h])
            return dy.mean_batches(dy.pickneglogsoftmax_batch(logits, labels))

        return self._sgd_bench(pc, Ws + bs, loss_fn, Ws[0], True)

    def setup_chain(self, d):
        dy = self.dy
        half = W.CHAIN_OPS // 2
        pc = dy.ParameterCollection()
        x = pc.add_parameters((W.CHAIN_SIZE,), init=dy.NumpyInitializer(d["x"]))

        def step():
            assert pc  # a parameter does not keep its collection alive
            x.scale_gradient(0.0)  # gradients otherwise accumulate until a trainer update
            dy.renew_cg()
            y = x.expr(True)
            for _ in range(half):
                y = y * 1.0001
                y = y + 0.001
            out = dy.sum_elems(y)
            out.value()
            out.backward()

        def check():
            step()
            return _chain_checks(x.grad_as_array())

        return Bench(step, check)

    def setup_matmul(self, d):
        dy = self.dy
        pc = dy.ParameterCollection()
        A = pc.add_parameters(d["A"].shape, init=dy.NumpyInitializer(d["A"]))
        B = pc.add_parameters(d["B"].shape, init=dy.NumpyInitializer(d["B"]))
        G = d["G"]

        def step():
            assert pc
            A.scale_gradient(0.0)
            B.scale_gradient(0.0)
            dy.renew_cg()
            # the backward pass of C = A@B seeded with G, written as d/dA,dB of sum(C * G)
            out = dy.sum_elems(dy.cmult(A.expr(True) * B.expr(True), dy.inputTensor(G)))
            out.value()
            out.backward()

        def check():
            step()
            return _matmul_checks(d, A.grad_as_array(), B.grad_as_array())

        return Bench(
            step,
            check,
            {
                "matmul": "no backward(G) in DyNet: the loss is sum(C * G), "
                "with gradients dA = G@B^T, dB = A^T@G"
            },
        )


# ---------------------------------------------------------------------------------------------
class Magnetron(Engine):
    """magnetron: eager tensors with PyTorch-like names (Tensor, nn.Parameter, optim.SGD)."""

    name = "magnetron"
    module_name = "magnetron"

    def __init__(self):
        import magnetron as mag
        import magnetron.nn as mnn
        import magnetron.optim as moptim

        self.mag, self.nn, self.optim = mag, mnn, moptim

    def info(self):
        return {
            "threads": "magnetron sizes its CPU thread pool at start-up (MAG_CPU_THREADS), not per workload"
        }

    def _p(self, arr):
        return self.nn.Parameter(self.mag.Tensor(np.array(arr, copy=True)))

    @staticmethod
    def np(t):
        return np.array(t.numpy(), copy=True)

    def _sgd_bench(self, params, loss_fn):
        opt = self.optim.SGD(params, lr=W.LR_SGD)

        def step():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            opt.step()

        def check():
            loss0 = float(loss_fn().item())
            w0 = self.np(params[0])
            step()
            loss1 = float(loss_fn().item())
            return _sgd_checks(loss0, loss1, w0, self.np(params[0]), self.np(params[0].grad))

        return Bench(step, check)

    def setup_moons(self, d):
        mag = self.mag
        X, y = mag.Tensor(d["X"]), mag.Tensor(d["y"].reshape(-1, 1))
        Ws = [self._p(d[f"W{i}"]) for i in range(3)]
        bs = [self._p(d[f"b{i}"]) for i in range(3)]
        params = [p for pair in zip(Ws, bs) for p in pair]

        def loss_fn():
            h = X
            for i in range(3):
                h = h @ Ws[i] + bs[i]
                if i < 2:
                    h = h.relu()
            data_loss = (1 - y * h).relu().mean()
            reg = (params[0] * params[0]).sum()
            for p in params[1:]:
                reg = reg + (p * p).sum()
            return data_loss + reg * 1e-4

        return self._sgd_bench(params, loss_fn)

    def setup_mlp(self, d):
        mag = self.mag
        X = mag.Tensor(d["X"])
        onehot = mag.Tensor(np.eye(W.MLP_SIZES[-1], dtype=np.float32)[d["y"]])
        Ws = [self._p(d[f"W{i}"]) for i in range(3)]
        bs = [self._p(d[f"b{i}"]) for i in range(3)]
        params = [p for pair in zip(Ws, bs) for p in pair]
        ce = self.nn.loss.CrossEntropyLoss()

        def loss_fn():
            h = (X @ Ws[0] + bs[0]).relu()
            h = (h @ Ws[1] + bs[1]).relu()
            return ce(h @ Ws[2] + bs[2], onehot)

        bench = self._sgd_bench(params, loss_fn)
        bench.info = {"loss": "magnetron.nn.loss.CrossEntropyLoss (one-hot targets)"}
        return bench

    def setup_chain(self, d):
        x = self._p(d["x"])
        half = W.CHAIN_OPS // 2

        def step():
            if x.grad is not None:
                x.grad.zero_()
            y = x
            for _ in range(half):
                y = y * 1.0001
                y = y + 0.001
            y.sum().backward()

        def check():
            step()
            return _chain_checks(self.np(x.grad))

        return Bench(step, check)

    def setup_matmul(self, d):
        A, B = self._p(d["A"]), self._p(d["B"])
        G = self.mag.Tensor(d["G"])

        def step():
            for p in (A, B):
                if p.grad is not None:
                    p.grad.zero_()
            # magnetron's backward() takes no seed gradient: sum(C * G) has dA = G@B^T, dB = A^T@G
            ((A @ B) * G).sum().backward()

        def check():
            step()
            return _matmul_checks(d, self.np(A.grad), self.np(B.grad))

        return Bench(step, check)


# ---------------------------------------------------------------------------------------------
class NNEngine(Engine):
    """nn-engine-core (import nnengine / nn_core): Eigen layers on a tape; JITGraph replays a traced step."""

    name = "nnengine"
    module_name = "nnengine"

    def __init__(self):
        import nn_core
        import nnengine

        self.core, self.nne = nn_core, nnengine

    def version(self):
        return md.version("nn-engine-core")

    def _libgomp(self):
        """The OpenMP runtime bundled with the wheel (nn_engine_core.libs/libgomp-*.so), or None."""
        import ctypes
        import glob

        site = os.path.dirname(os.path.abspath(self.core.__file__))
        libs = glob.glob(os.path.join(site, "nn_engine_core.libs", "libgomp*.so*"))
        return ctypes.CDLL(libs[0]) if libs else None

    def set_threads(self, n):
        gomp = self._libgomp()
        if gomp is not None:
            gomp.omp_set_num_threads(int(n))

    def info(self):
        gomp = self._libgomp()
        n = gomp.omp_get_max_threads() if gomp is not None else "?"
        return {
            "threads": f"set with omp_set_num_threads of the wheel's bundled libgomp (now {n})"
            if gomp is not None
            else "bundled libgomp not found: threads follow OMP_NUM_THREADS"
        }

    def setup_mlp(self, d):
        core, nne = self.core, self.nne
        sizes = W.MLP_SIZES
        layers = []
        for i in range(3):
            dense = core.DenseLayer(sizes[i], sizes[i + 1])
            w, b = dense.parameters()
            w.data[...] = d[f"W{i}"]  # parameters() hands out writable views of the layer's memory
            b.data[...] = d[f"b{i}"].reshape(1, -1)
            layers.append(dense)
            if i < 2:
                layers.append(core.ReLULayer())

        class Net(nne.Module):
            def __init__(self):
                super().__init__()
                for k, layer in enumerate(layers):
                    setattr(self, f"layer{k}", layer)

            def forward(self, x):
                for layer in layers:
                    x = layer.forward(x)
                return x

        model = Net()
        onehot = np.eye(sizes[-1], dtype=np.float32)[d["y"]]
        loader = core.DataLoader(d["X"], onehot, W.MLP_BATCH, False)  # one batch = one step
        graph = core.JITGraph(model, core.SGD(W.LR_SGD), core.SoftmaxCrossEntropyLoss())
        w0_param = layers[0].parameters()[0]

        keep = [model]  # the JITGraph holds the C++ side only; the Python forward must stay alive

        def traced():
            assert keep
            # traces the graph again through the Python forward and runs the step: the eager mode
            graph.trace_batch(loader)
            loader.reset()

        def compiled():
            # replays the traced step natively (no Python per op)
            graph.fast_loop(loader)
            loader.reset()

        def check():
            w0 = np.array(w0_param.data, copy=True)
            loss0 = graph.trace_batch(loader)
            loader.reset()
            g = np.array(w0_param.grad, copy=True)
            w1 = np.array(w0_param.data, copy=True)
            # fast_loop returns the loss of the batch before its update: the loss after step one
            loss1, batches = graph.fast_loop(loader)
            loader.reset()
            out = _sgd_checks(loss0, loss1, w0, w1, g)
            w2 = np.array(w0_param.data, copy=True)
            out["compiled_batches_per_step"] = int(batches)
            out["compiled_W0_max_update"] = float(np.abs(w2 - w1).max())
            return out

        return Bench(
            traced,
            check,
            {
                "modes": "default row: JITGraph.trace_batch (graph traced again each step); "
                "'compiled' row: JITGraph.fast_loop (the traced graph replayed natively)"
            },
            {"compiled": compiled},
        )

    def setup_moons(self, d):
        raise Unavailable(
            "n/a: nn-engine-core has no hinge loss (its losses are MSELoss and SoftmaxCrossEntropyLoss, "
            "native classes that a Python loss cannot replace in JITGraph)"
        )

    def setup_chain(self, d):
        raise Unavailable(
            "n/a: nn-engine-core exposes layers, not elementwise tensor ops; a chain of scalar multiplies "
            "and adds would need one Python nn.Op per op"
        )

    def setup_matmul(self, d):
        raise Unavailable(
            "n/a: nn-engine-core has no standalone matmul with a given output gradient; matrix products "
            "exist only inside DenseLayer driven by a loss"
        )


PEER_ENGINES = {"jax": Jax, "dynet": Dynet, "magnetron": Magnetron, "nnengine": NNEngine}
PEER_IMPORT_MODULES = {"jax": "jax", "dynet": "dynet", "magnetron": "magnetron", "nnengine": "nnengine"}
