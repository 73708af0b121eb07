"""chainrule.viz: DOT text of the recorded graph, and the grad_fn introspection it relies on."""

import re

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule import viz

_NODE = re.compile(r"^\s*(\w+) \[label=\"((?:[^\"\\]|\\.)*)\"")
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[label=\"([^\"]*)\"(, style=dashed)?\])?;$")


def parse(dot: str):
    """A small DOT reader for what to_dot writes: {node id: label}, [(src, dst, label)], clusters.
    Checks the structure on the way: balanced braces, one statement per line."""
    assert dot.startswith("digraph ")
    assert dot.count("{") == dot.count("}")
    nodes, edges, clusters = {}, [], []
    for line in dot.splitlines()[1:-1]:
        if m := _EDGE.match(line):
            edges.append((m.group(1), m.group(2), m.group(3)))
        elif m := _NODE.match(line):
            assert m.group(1) not in nodes, f"node {m.group(1)} declared twice"
            nodes[m.group(1)] = m.group(2).replace("\\n", "\n")
        elif "subgraph cluster_" in line:
            clusters.append(line)
        elif m := re.match(r'^\s*label="(\d+) x repeated block"', line):
            clusters[-1] = int(m.group(1))
    for src, dst, _ in edges:
        assert src in nodes and dst in nodes, f"edge {src} -> {dst} to an undeclared node"
    return nodes, edges, clusters


def graph_names(t):
    """Every node name reachable from t.grad_fn, walked by hand."""
    seen, stack, names = set(), [t.grad_fn], []
    while stack:
        n = stack.pop()
        if n._id() in seen:
            continue
        seen.add(n._id())
        names.append(n.name())
        stack += [f for f, _ in n.next_functions if f is not None]
    return names


def mlp():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 3))


def test_to_dot_names_every_op_and_every_edge_carries_a_shape():
    m = mlp()
    loss = F.mse_loss(m(cr.randn(5, 4)), cr.randn(5, 3))
    nodes, edges, _ = parse(viz.to_dot(loss))
    labels = [lab.split("\n")[0] for k, lab in nodes.items() if not k.startswith("out")]
    ops = [lab for lab in nodes.values() if "AccumulateGrad" not in lab and not lab.startswith("output")]
    expected = graph_names(loss)
    assert sorted(n for n in expected if n != "AccumulateGrad") == sorted(lab.split("\n")[0] for lab in ops)
    assert sum("AccumulateGrad" in lab for lab in nodes.values()) == 4
    assert len(labels) == len(expected)
    assert all(lab for _, _, lab in edges if lab is not None)
    assert ("MseLossBackward0" in labels) and ("SigmoidBackward0" in labels) and ("MmBackward0" in labels)


def test_edges_follow_next_functions_with_forward_shapes():
    x = cr.randn(5, 4, requires_grad=True)
    w = cr.randn(4, 3, requires_grad=True)
    y = cr.sigmoid(x @ w).sum()
    nodes, edges, _ = parse(viz.to_dot(y))
    by_label = {lab.split("\n")[0]: k for k, lab in nodes.items()}
    mm, sig = by_label["MmBackward0"], by_label["SigmoidBackward0"]
    assert (mm, sig, "(5, 3)") in edges
    leaf_edges = [e for e in edges if e[1] == mm]
    assert sorted(lab for _, _, lab in leaf_edges) == ["(4, 3)", "(5, 4)"]


def test_parameters_are_named_and_marked():
    m = mlp()
    dot = viz.to_dot(m(cr.randn(2, 4)).sum(), params=dict(m.named_parameters()))
    nodes, _, _ = parse(dot)
    named = [lab for lab in nodes.values() if "AccumulateGrad" in lab]
    assert sorted(lab.split("\n")[0] for lab in named) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert "0.weight\n(8, 4)\nAccumulateGrad" in named
    assert dot.count("#add8e6") == 4  # parameter colour


def test_unnamed_leaves_are_marked_as_plain_leaves():
    x = cr.randn(3, requires_grad=True)
    dot = viz.to_dot((x * 2).sum())
    nodes, _, _ = parse(dot)
    assert "(3,)\nAccumulateGrad" in nodes.values()
    assert "#e0e0e0" in dot


def test_show_saved_lists_saved_tensors_and_marks_them_freed_after_backward():
    x = cr.randn(5, 4, requires_grad=True)
    w = cr.randn(4, 3, dtype=cr.float64).float().requires_grad_()
    y = cr.sigmoid(x @ w).sum()
    nodes, _, _ = parse(viz.to_dot(y, show_saved=True))
    sig = next(lab for lab in nodes.values() if lab.startswith("SigmoidBackward0"))
    assert sig == "SigmoidBackward0\nresult: (5, 3) float32"
    mm = next(lab for lab in nodes.values() if lab.startswith("MmBackward0"))
    assert "self: (5, 4) float32" in mm and "mat2: (4, 3) float32" in mm
    y.backward()
    nodes, _, _ = parse(viz.to_dot(y, show_saved=True))
    sig = next(lab for lab in nodes.values() if lab.startswith("SigmoidBackward0"))
    assert sig == "SigmoidBackward0\nresult: freed"


def test_saved_tensors_info_matches_pytorch_saved_attributes(torch):
    xt = torch.randn(5, 4, requires_grad=True)
    theirs = torch.sigmoid(xt).grad_fn._saved_result
    ours = cr.sigmoid(cr.randn(5, 4, requires_grad=True)).grad_fn._saved_tensors_info()
    assert ours == [("result", tuple(theirs.shape), "float32", "live")]


def test_accumulate_grad_variable_is_the_leaf(torch):
    x = cr.randn(3, requires_grad=True)
    acc = (x * 2).grad_fn.next_functions[0][0]
    assert acc.name() == "AccumulateGrad" and acc.variable is x
    xt = torch.randn(3, requires_grad=True)
    assert (xt * 2).grad_fn.next_functions[0][0].variable is xt
    with pytest.raises(AttributeError):
        (x * 2).grad_fn.variable  # noqa: B018


def test_multiple_outputs_and_a_shared_subexpression():
    x = cr.randn(3, requires_grad=True)
    h = cr.exp(x)
    a, b = (h * 2).sum(), (h * 3).sum()
    nodes, edges, _ = parse(viz.to_dot([a, b]))
    exp = [k for k, lab in nodes.items() if lab.startswith("ExpBackward0")]
    assert len(exp) == 1  # drawn once, used twice
    assert sum(1 for s, _, _ in edges if s == exp[0]) == 2
    assert "out0" in nodes and "out1" in nodes


def test_composite_losses_show_pytorch_names(torch):
    x = cr.randn(3, 4, requires_grad=True)
    t = cr.randn(3, 4)
    labels = cr.tensor([0, 1, 2])
    ours = {
        "mse": F.mse_loss(x, t).grad_fn.name(),
        "huber": F.huber_loss(x, t).grad_fn.name(),
        "smooth_l1": F.smooth_l1_loss(x, t).grad_fn.name(),
        "ce": F.cross_entropy(x, labels).grad_fn.name(),
        "nll": F.nll_loss(x, labels).grad_fn.name(),
        "linear": F.linear(x, cr.randn(5, 4, requires_grad=True), cr.randn(5)).grad_fn.name(),
        "nn.MSELoss": nn.MSELoss()(x, t).grad_fn.name(),
    }
    TF = torch.nn.functional
    xt, tt, lt = torch.randn(3, 4, requires_grad=True), torch.randn(3, 4), torch.tensor([0, 1, 2])
    theirs = {
        "mse": TF.mse_loss(xt, tt).grad_fn.name(),
        "huber": TF.huber_loss(xt, tt).grad_fn.name(),
        "smooth_l1": TF.smooth_l1_loss(xt, tt).grad_fn.name(),
        "ce": TF.cross_entropy(xt, lt).grad_fn.name(),
        "nll": TF.nll_loss(xt, lt).grad_fn.name(),
        "linear": TF.linear(xt, torch.randn(5, 4, requires_grad=True), torch.randn(5)).grad_fn.name(),
        "nn.MSELoss": torch.nn.MSELoss()(xt, tt).grad_fn.name(),
    }
    assert ours == theirs


def test_composite_names_without_torch():
    x = cr.randn(3, 4, requires_grad=True)
    loss = F.mse_loss(x, cr.randn(3, 4))
    assert loss.grad_fn.name() == "MseLossBackward0"
    assert "MseLossBackward0" in viz.to_dot(loss)
    loss.backward()  # the renamed node still computes the same gradient
    assert x.grad is not None


def test_collapse_groups_repeated_blocks_with_a_count():
    cr.manual_seed(0)
    layers = []
    for _ in range(12):
        layers += [nn.Linear(6, 6), nn.Tanh()]
    m = nn.Sequential(*layers)
    y = m(cr.randn(2, 6)).sum()
    full_nodes, _, _ = parse(viz.to_dot(y))
    nodes, edges, clusters = parse(viz.to_dot(y, collapse=True))
    assert len(clusters) == 1 and clusters[0] >= 10
    assert len(nodes) < len(full_nodes) / 4
    names = {lab.split("\n")[0] for lab in nodes.values()}
    assert {"TanhBackward0", "AddmmBackward0"} <= names  # nn.Linear shows PyTorch's name
    assert any(True for e in edges)  # still connected to the output
    assert any(d == "out0" for _, d, _ in edges)


def test_large_graph_is_walked_without_recursion():
    x = cr.randn(2, requires_grad=True)
    y = x
    for _ in range(12000):
        y = cr.tanh(y)
    dot = viz.to_dot(y.sum())
    assert dot.count("TanhBackward0") == 12000
    assert dot.count(" -> ") == 12000 + 2  # chain + sum + leaf + output - 1
    collapsed = viz.to_dot(y.sum(), collapse=True)
    assert collapsed.count("TanhBackward0") < 10
    assert "x repeated block" in collapsed


def test_to_dot_rejects_non_tensors():
    with pytest.raises(TypeError, match="Tensor"):
        viz.to_dot([cr.ones(1), 3])  # type: ignore[list-item]


def test_dot_parses_with_pydot_when_installed():
    pydot = pytest.importorskip("pydot")
    m = mlp()
    (graph,) = pydot.graph_from_dot_data(viz.to_dot(m(cr.randn(2, 4)).sum(), collapse=True))
    assert graph.get_nodes()


def test_render_explains_how_to_install_graphviz_when_missing(monkeypatch, tmp_path):
    import builtins
    import importlib

    real_import = importlib.import_module

    def no_graphviz(name, *args, **kwargs):
        if name == "graphviz":
            raise ImportError("No module named 'graphviz'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", no_graphviz)
    assert builtins  # the import machinery itself is untouched
    y = (cr.ones(2, requires_grad=True) * 2).sum()
    with pytest.raises(RuntimeError, match="pip install graphviz"):
        viz.render(y, str(tmp_path / "g.svg"))


def test_render_writes_a_file_when_graphviz_is_installed(tmp_path):
    pytest.importorskip("graphviz")
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("the Graphviz 'dot' program is not installed")
    y = (cr.ones(2, requires_grad=True) * 2).sum()
    out = viz.render(y, str(tmp_path / "g.svg"))
    assert open(out).read().lstrip().startswith(("<?xml", "<svg"))


def test_edge_shape_numbers_match_tensor_shapes():
    x = cr.randn(2, 3, requires_grad=True)
    y = x.reshape(3, 2)
    z = (y * np.float32(2.0)).sum()
    _, edges, _ = parse(viz.to_dot(z))
    assert {lab for _, _, lab in edges if lab} >= {"(2, 3)", "(3, 2)", "()"}


def test_show_saved_lists_what_a_custom_function_saved():
    class Square(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 2 * a * g

    x = cr.randn(2, 3, requires_grad=True)
    y = Square.apply(x).sum()
    nodes, _, _ = parse(viz.to_dot(y, show_saved=True))
    assert "SquareBackward\nsaved_0: (2, 3) float32" in nodes.values()
