"""GradientFlow: per-layer gradient and activation statistics over training steps.

Attach it to a model and train as usual::

    flow = GradientFlow(model)
    for x, y in loader:
        loss = loss_fn(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
    print(flow.table())
    print(flow.summary())   # "vanishing: first-layer gradient 3e-08 of the last's" / "healthy" ...
    flow.plot("gradflow.png")
    flow.remove()

What is recorded, per layer (a module with parameters of its own, or an activation module):

- ``grad_norm``: the L2 norm of the gradients of the layer's own parameters, as they arrive in
  backward (parameter hooks: the gradient of this backward, not the accumulated ``.grad``), summed
  over the backward calls of one step;
- ``weight_norm`` and ``ratio`` = grad_norm / weight_norm (about lr * ratio is the relative size of
  an SGD update);
- ``act_grad_norm``: the L2 norm of the gradient with respect to the layer's output (tensor hook);
- ``act_mean``, ``act_std`` of the layer's output (forward hook);
- ``saturated``: for Sigmoid and Tanh, the fraction of outputs within ``saturation`` of an
  asymptote (sigmoid: y < 0.02 or y > 0.98, where its slope y(1-y) is below 0.02; tanh:
  ``|y| > 0.98``, where its slope 1 - y^2 is below 0.04);
- ``dead``: for ReLU (and ReLU6), the fraction of units (features) that are zero for every sample
  of the batch.

A step is recorded automatically: each call of the model starts a new step and closes the last
(its forward statistics and the gradients of the backward calls that followed it); ``step()``
closes the current one explicitly, and ``table``, ``summary`` and ``plot`` close it too.
PyTorch has no such class.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule._core import Tensor

__all__ = ["GradientFlow"]

SIGMOID_SATURATION = 0.02  # sigmoid output within this of 0 or 1
TANH_SATURATION = 0.02  # tanh output within this of -1 or 1

_SATURATING = ("Sigmoid", "Tanh")
_RECTIFIERS = ("ReLU", "ReLU6")
_ACTIVATIONS = (*_SATURATING, *_RECTIFIERS, "LeakyReLU", "GELU", "SiLU", "ELU", "Softplus", "Hardtanh")


def _norm(a: np.ndarray) -> float:
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


class _Layer:
    def __init__(self, name: str, module: Any, params: list[tuple[str, Tensor]]) -> None:
        self.name = name
        self.module = module
        self.kind = type(module).__name__
        self.params = params
        self.order = -1  # position in the forward pass (first call), -1 until called


class GradientFlow:
    """Records per-layer gradient norms, gradient-to-weight ratios and activation statistics of
    ``model`` at every step, through module forward hooks and tensor and parameter hooks.

    ``layers``: names of the modules to watch (default: every module with parameters of its own
    and every activation module). ``saturation``: the distance from an asymptote at which a
    Sigmoid or Tanh output counts as saturated.
    """

    def __init__(
        self, model: Any, layers: Sequence[str] | None = None, saturation: float = SIGMOID_SATURATION
    ) -> None:
        self.model = model
        self.saturation = float(saturation)
        self.history: list[dict[str, dict[str, float]]] = []
        self._layers: list[_Layer] = []
        self._handles: list[Any] = []
        self._pending: dict[str, dict[str, Any]] = {}
        self._calls = 0
        wanted = set(layers) if layers is not None else None
        for name, module in model.named_modules():
            if module is model and wanted is None and any(True for _ in model.children()):
                continue
            own = list(module.named_parameters(recurse=False))
            kind = type(module).__name__
            if wanted is not None:
                if name not in wanted:
                    continue
            elif not own and kind not in _ACTIVATIONS:
                continue
            layer = _Layer(name or kind, module, own)
            self._layers.append(layer)
            self._handles.append(module.register_forward_hook(self._forward_hook(layer)))
            for pname, p in own:
                if p.requires_grad:
                    self._handles.append(p.register_hook(self._param_hook(layer, pname, p)))
        if wanted is not None:
            missing = wanted - {lay.name for lay in self._layers}
            if missing:
                raise ValueError(f"GradientFlow: no module named {sorted(missing)} in the model")
        self._handles.append(model.register_forward_pre_hook(self._start_step))

    # ---- hooks ------------------------------------------------------------------------------
    def _entry(self, layer: _Layer) -> dict[str, Any]:
        return self._pending.setdefault(layer.name, {})

    def _start_step(self, module: Any, args: Any) -> None:
        self.step()

    def _forward_hook(self, layer: _Layer) -> Any:
        def hook(module: Any, args: Any, output: Any) -> None:
            if not isinstance(output, Tensor):
                return
            if layer.order < 0:
                layer.order = self._calls
                self._calls += 1
            y = output.detach().numpy().astype(np.float64, copy=False)
            e = self._entry(layer)
            e["act_mean"] = float(y.mean()) if y.size else math.nan
            e["act_std"] = float(y.std()) if y.size else math.nan
            if layer.kind == "Sigmoid":
                e["saturated"] = float(np.mean((y < self.saturation) | (y > 1.0 - self.saturation)))
            elif layer.kind == "Tanh":
                e["saturated"] = float(np.mean(np.abs(y) > 1.0 - self.saturation))
            elif layer.kind in _RECTIFIERS and y.ndim >= 1 and y.shape[0] > 0:
                units = (y <= 0).reshape(y.shape[0], -1).all(axis=0)
                e["dead"] = float(units.mean()) if units.size else math.nan
            if output.requires_grad:

                def grad_hook(g: Tensor) -> None:
                    n = _norm(g.detach().numpy())
                    e["act_grad_sq"] = e.get("act_grad_sq", 0.0) + n * n

                output.register_hook(grad_hook)

        return hook

    def _param_hook(self, layer: _Layer, pname: str, p: Tensor) -> Any:
        def hook(g: Tensor) -> None:
            e = self._entry(layer)
            grads = e.setdefault("grads", {})
            arr = g.detach().numpy().astype(np.float64)
            grads[pname] = grads[pname] + arr if pname in grads else arr
            e.setdefault("weights", {})[pname] = _norm(p.detach().numpy())

        return hook

    # ---- steps ------------------------------------------------------------------------------
    def step(self) -> None:
        """Closes the current step: what was recorded since the last one becomes a row of
        ``history``. Called automatically at each call of the model."""
        if not self._pending:
            return
        record: dict[str, dict[str, float]] = {}
        for layer in self._layers:
            e = self._pending.get(layer.name)
            if e is None:
                continue
            row: dict[str, float] = {}
            for key in ("act_mean", "act_std", "saturated", "dead"):
                if key in e:
                    row[key] = e[key]
            if "act_grad_sq" in e:
                row["act_grad_norm"] = math.sqrt(e["act_grad_sq"])
            if "grads" in e:
                g = math.sqrt(sum(_norm(a) ** 2 for a in e["grads"].values()))
                w = math.sqrt(sum(v * v for v in e["weights"].values()))
                row["grad_norm"] = g
                row["weight_norm"] = w
                row["ratio"] = g / w if w > 0 else math.inf
            record[layer.name] = row
        self._pending = {}
        if record:
            self.history.append(record)

    def remove(self) -> None:
        """Detaches every hook; the recorded history stays."""
        self.step()
        for h in self._handles:
            h.remove()
        self._handles = []

    # ---- reports ----------------------------------------------------------------------------
    def layers(self) -> list[str]:
        """The watched layers, in forward order (then in module order for those never called)."""
        order = sorted(self._layers, key=lambda lay: (lay.order < 0, lay.order))
        return [lay.name for lay in order]

    def _kinds(self) -> dict[str, str]:
        return {lay.name: lay.kind for lay in self._layers}

    def latest(self) -> dict[str, dict[str, float]]:
        """The last recorded step: {layer: {metric: value}}."""
        self.step()
        return self.history[-1] if self.history else {}

    def rows(self) -> list[dict[str, Any]]:
        """The per-layer table of the last step, as dicts (layer, type and the metrics)."""
        last, kinds = self.latest(), self._kinds()
        return [{"layer": n, "type": kinds[n], **last[n]} for n in self.layers() if n in last]

    def table(self) -> str:
        """The per-layer table of the last step, as text (one row per layer, forward order)."""
        cols = [
            "grad_norm",
            "weight_norm",
            "ratio",
            "act_grad_norm",
            "act_mean",
            "act_std",
            "saturated",
            "dead",
        ]
        rows = self.rows()
        header = ["layer", "type", *cols]
        body = []
        for r in rows:
            cells = [str(r["layer"]), str(r["type"])]
            for c in cols:
                v = r.get(c)
                if v is None:
                    cells.append("-")
                elif c in ("saturated", "dead"):
                    cells.append(f"{100 * v:.1f}%")
                else:
                    cells.append(f"{v:.3g}" if c in ("act_mean", "act_std") else f"{v:.2e}")
            body.append(cells)
        widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths)) for b in body]
        return "\n".join(lines)

    def summary(self, vanishing: float = 1e-3, exploding: float = 1e3) -> str:
        """A one-line verdict on the last step, comparing the first and last layers with
        parameters: "exploding: ..." (a non-finite gradient, or a norm above ``exploding``, or the
        first layer's above ``exploding`` times the last's), "vanishing: first-layer gradient X of
        the last's" (below ``vanishing`` times), otherwise "healthy" (with notes on saturated or
        dead units above half)."""
        last = self.latest()
        if not last:
            return "no data: run a forward and backward pass first"
        names = [n for n in self.layers() if "grad_norm" in last.get(n, {})]
        notes = []
        for n in self.layers():
            row = last.get(n, {})
            if row.get("saturated", 0.0) > 0.5:
                notes.append(f"{n} {100 * row['saturated']:.0f}% saturated")
            if row.get("dead", 0.0) > 0.5:
                notes.append(f"{n} {100 * row['dead']:.0f}% dead units")
        tail = f" ({'; '.join(notes)})" if notes else ""
        if not names:
            return "no gradients recorded" + tail
        norms = [last[n]["grad_norm"] for n in names]
        bad = [n for n, g in zip(names, norms) if not math.isfinite(g)]
        if bad:
            return f"exploding: non-finite gradient in {bad[0]}" + tail
        first, final = norms[0], norms[-1]
        biggest = max(norms)
        if biggest > exploding:
            return f"exploding: gradient norm {biggest:.1e} in {names[norms.index(biggest)]}" + tail
        if len(names) > 1 and final > 0 and first / final > exploding:
            return f"exploding: first-layer gradient {first / final:.0e} times the last's" + tail
        if len(names) > 1 and (final > 0 and first / final < vanishing or first == 0 < final):
            return f"vanishing: first-layer gradient {first / final:.0e} of the last's" + tail
        return "healthy" + tail

    def plot(self, path: str) -> str:
        """Draws, to ``path``, the per-layer gradient norms of the last step (log scale) and the
        history of each layer's gradient norm over the steps. Needs matplotlib."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise RuntimeError(
                "GradientFlow.plot needs matplotlib: pip install matplotlib "
                "(table() and summary() work without it)"
            ) from e
        last = self.latest()
        names = [n for n in self.layers() if "grad_norm" in last.get(n, {})]
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
        vals = [max(last[n]["grad_norm"], 1e-300) for n in names]
        ax1.plot(range(len(names)), vals, "o-")
        ax1.set_yscale("log")
        ax1.set_xticks(range(len(names)))
        ax1.set_xticklabels(names, rotation=90, fontsize=7)
        ax1.set_xlabel("layer (forward order)")
        ax1.set_ylabel("gradient norm")
        ax1.set_title("gradient norm per layer, last step")
        cmap = plt.get_cmap("viridis")
        for i, n in enumerate(names):
            hist = [rec[n]["grad_norm"] for rec in self.history if "grad_norm" in rec.get(n, {})]
            ax2.plot([max(v, 1e-300) for v in hist], color=cmap(i / max(1, len(names) - 1)), label=n)
        ax2.set_yscale("log")
        ax2.set_xlabel("step")
        ax2.set_ylabel("gradient norm")
        ax2.set_title("gradient norm over steps (dark: first layer)")
        if len(names) <= 12:
            ax2.legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path
