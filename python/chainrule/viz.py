"""Pictures of the recorded graph: ``to_dot`` writes Graphviz DOT text, ``render`` draws it.

The graph is the one backward walks: each op is a node named as its ``grad_fn``
(``MmBackward0``, ``SigmoidBackward0``...), each edge carries the shape of the tensor that flows
along it in the forward pass, and leaves appear as their ``AccumulateGrad`` node, named after the
parameter when ``params`` (``dict(model.named_parameters())``) is given. ``show_saved=True`` lists
what each node keeps for backward (name, shape, dtype; "freed" after a backward without
``retain_graph``). ``collapse=True`` folds runs of identical consecutive blocks (the layers of a
deep stack) into one cluster labelled with the count. The walk is iterative, so graphs of any
depth work; 10,000 nodes take well under a second.

PyTorch has no such module (torchviz is a separate package); the names follow its style.
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union

from chainrule._core import Node, Tensor

__all__ = ["to_dot", "render"]

_Tensors = Union[Tensor, Sequence[Tensor]]

_OP_STYLE = 'shape=box, style="filled,rounded", fillcolor="#f0f0f0"'
_PARAM_STYLE = 'shape=box, style=filled, fillcolor="#add8e6"'
_LEAF_STYLE = 'shape=box, style=filled, fillcolor="#e0e0e0"'
_OUTPUT_STYLE = 'shape=box, style=filled, fillcolor="#caff70"'
_MAX_PERIOD = 64  # longest repeated block that collapse looks for, in nodes


def _q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(shape: Iterable[int]) -> str:
    return str(tuple(int(s) for s in shape))


def _as_list(tensors: _Tensors) -> list[Tensor]:
    if isinstance(tensors, Tensor):
        return [tensors]
    out = list(tensors)
    for t in out:
        if not isinstance(t, Tensor):
            raise TypeError(f"to_dot: expected a Tensor or a sequence of Tensors, got {type(t).__name__}")
    return out


class _Graph:
    """The nodes reachable from the roots, found without recursion."""

    def __init__(self, roots: list[Node]) -> None:
        self.nodes: dict[int, Node] = {}  # id -> node (keeps each node alive, so ids stay unique)
        self.inputs: dict[int, list[tuple[int, int]]] = {}  # id -> [(input node id, input_nr)]
        stack = []
        for r in roots:
            if r._id() not in self.nodes:
                self.nodes[r._id()] = r
                stack.append(r)
        while stack:
            node = stack.pop()
            edges = []
            for fn, input_nr in node.next_functions:
                if fn is None:
                    continue
                key = fn._id()
                if key not in self.nodes:
                    self.nodes[key] = fn
                    stack.append(fn)
                edges.append((key, input_nr))
            self.inputs[node._id()] = edges


def _edge_shape(node: Node, input_nr: int) -> str:
    meta = node._output_metadata()
    if input_nr < len(meta):
        return _shape(meta[input_nr][0])
    if node.name() == "AccumulateGrad":
        return _shape(node.variable.shape)
    return ""


def _leaf_label(node: Node, names: Mapping[int, str]) -> tuple[str, bool]:
    var = node.variable
    name = names.get(id(var))
    text = f"{name}\n{_shape(var.shape)}" if name else _shape(var.shape)
    return text + "\nAccumulateGrad", name is not None


def _op_label(node: Node, show_saved: bool) -> str:
    label = node.name()
    if show_saved:
        for name, shape, dtype, state in node._saved_tensors_info():
            if state == "live" and shape is not None:
                label += f"\n{name}: {_shape(shape)} {dtype}"
            else:
                label += f"\n{name}: {state}"
    return label


def _signature(graph: _Graph, key: int) -> tuple[Any, ...]:
    """What a node looks like for collapse: its name, and the kind and shape of each input."""
    node = graph.nodes[key]
    ins = []
    for k, nr in graph.inputs.get(key, []):
        child = graph.nodes[k]
        kind = "leaf" if child.name() == "AccumulateGrad" else "op"
        ins.append((kind, _edge_shape(child, nr)))
    meta = tuple(tuple(m[0]) for m in node._output_metadata())
    return (node.name(), meta, tuple(ins))


def _find_runs(sigs: list[tuple[Any, ...]]) -> list[tuple[int, int, int]]:
    """Runs of a block repeated back to back: [(start, period, count)] with count >= 2, greedy
    from the left, each the longest stretch it can cover (the shortest period on a tie)."""
    runs = []
    n, i = len(sigs), 0
    while i < n:
        best_cover, best = 0, None
        for p in range(1, min(_MAX_PERIOD, (n - i) // 2) + 1):
            block = sigs[i : i + p]
            k = 1
            while i + (k + 1) * p <= n and sigs[i + k * p : i + (k + 1) * p] == block:
                k += 1
            if k >= 2 and k * p > best_cover:
                best_cover, best = k * p, (i, p, k)
        if best is None:
            i += 1
        else:
            runs.append(best)
            i += best_cover
    return runs


def to_dot(
    tensor: _Tensors,
    params: Mapping[str, Tensor] | None = None,
    show_saved: bool = False,
    collapse: bool = False,
    name: str = "graph",
) -> str:
    """Graphviz DOT text of the graph recorded for ``tensor`` (a tensor or a sequence of them).

    ``params`` names leaves (``dict(model.named_parameters())``); named leaves are drawn blue,
    other leaves grey, outputs green. ``show_saved`` adds each node's saved tensors to its label.
    ``collapse`` draws a run of identical consecutive blocks (same ops, same shapes, in creation
    order) once, in a cluster labelled ``"<count> x repeated block"``.
    """
    outputs = _as_list(tensor)
    names: dict[int, str] = {id(p): n for n, p in (params or {}).items()}
    roots = [t.grad_fn for t in outputs if t.grad_fn is not None]
    graph = _Graph(roots)

    ops = [k for k, n in graph.nodes.items() if n.name() != "AccumulateGrad"]
    ops.sort(key=lambda k: graph.nodes[k]._sequence_nr())
    rep: dict[int, int] = {}  # a hidden node -> the node drawn for it
    clusters: list[tuple[list[int], int]] = []  # (nodes of the first block, count)
    if collapse and len(ops) > 2:
        sigs = [_signature(graph, k) for k in ops]
        for start, period, count in _find_runs(sigs):
            first = ops[start : start + period]
            clusters.append((first, count))
            for j in range(1, count):
                for off in range(period):
                    rep[ops[start + j * period + off]] = first[off]

    def shown(key: int) -> int:
        return rep.get(key, key)

    # DOT names: n0, n1... in creation order (leaves after the ops), stable from run to run
    op_set = set(ops)
    leaves = sorted((k for k in graph.nodes if k not in op_set), key=lambda k: graph.nodes[k]._sequence_nr())
    short = {k: i for i, k in enumerate(ops + leaves)}

    # leaves used only by hidden nodes are hidden with them
    visible_leaves: set[int] = set()
    for key, edges in graph.inputs.items():
        if key in rep:
            continue
        for k, _ in edges:
            if graph.nodes[k].name() == "AccumulateGrad":
                visible_leaves.add(k)

    lines = [f"digraph {_q(name)} {{", "  node [fontname=monospace, fontsize=10];", "  edge [fontsize=9];"]
    in_cluster = {k for first, _ in clusters for k in first}
    for idx, (first, count) in enumerate(clusters):
        lines.append(f"  subgraph cluster_{idx} {{")
        lines.append(f"    label={_q(f'{count} x repeated block')}; style=dashed;")
        for k in first:
            lines.append(f"    n{short[k]} [label={_q(_op_label(graph.nodes[k], show_saved))}, {_OP_STYLE}];")
        lines.append("  }")
    for key in ops:
        if key in rep or key in in_cluster:
            continue
        lines.append(f"  n{short[key]} [label={_q(_op_label(graph.nodes[key], show_saved))}, {_OP_STYLE}];")
    for key in graph.nodes:
        if key in visible_leaves:
            label, is_param = _leaf_label(graph.nodes[key], names)
            lines.append(f"  n{short[key]} [label={_q(label)}, {_PARAM_STYLE if is_param else _LEAF_STYLE}];")

    seen: set[tuple[int, int, str]] = set()
    for key, edges in graph.inputs.items():
        for k, nr in edges:
            if graph.nodes[k].name() == "AccumulateGrad" and k not in visible_leaves:
                continue
            src, dst = shown(k), shown(key)
            label = _edge_shape(graph.nodes[k], nr)
            if (src, dst, label) in seen:
                continue
            seen.add((src, dst, label))
            # an edge into a hidden block is drawn into its stand-in, dashed: "and so on"
            style = ", style=dashed" if key in rep else ""
            lines.append(f"  n{short[src]} -> n{short[dst]} [label={_q(label)}{style}];")

    for i, t in enumerate(outputs):
        lines.append(f"  out{i} [label={_q('output ' + _shape(t.shape))}, {_OUTPUT_STYLE}];")
        if t.grad_fn is not None:
            lines.append(f"  n{short[shown(t.grad_fn._id())]} -> out{i} [label={_q(_shape(t.shape))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


_INSTALL_HINT = (
    "render() needs the 'graphviz' Python package and the Graphviz programs: pip install graphviz, "
    "and apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS) or "
    "conda install -c conda-forge python-graphviz. to_dot() works without them."
)


def render(tensor: _Tensors, path: str, format: str = "svg", **kwargs: Any) -> str:
    """Draws ``to_dot(tensor, **kwargs)`` to ``path`` as ``format`` ("svg", "png", "pdf"...)
    with Graphviz, and returns ``path``. Raises ``RuntimeError`` saying how to install Graphviz
    when the Python package or the ``dot`` program is missing."""
    try:
        graphviz = importlib.import_module("graphviz")
    except ImportError as e:
        raise RuntimeError(_INSTALL_HINT) from e
    if shutil.which("dot") is None:
        raise RuntimeError(_INSTALL_HINT)
    data = graphviz.Source(to_dot(tensor, **kwargs)).pipe(format=format)
    with open(path, "wb") as f:
        f.write(data)
    return path
