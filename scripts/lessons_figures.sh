#!/usr/bin/env bash
# Regenerates the figures and tables of docs/lessons.md into docs/lessons/ (about a minute and a
# half on 2 cores; the plots need matplotlib, the graph pictures Graphviz: both are skipped, with
# a note, when absent).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/python"
out=docs/lessons
mkdir -p "$out"
python examples/vanishing_gradients.py --plot "$out/vanishing_gradients.png" | tee "$out/vanishing_gradients.txt"
python examples/exploding_gradients.py --plot "$out/exploding_gradients.png" | tee "$out/exploding_gradients.txt"
python examples/chain_rule.py | tee "$out/chain_rule.txt"
ckpt=$(mktemp -d)
python examples/train_digits.py --checkpoint "$ckpt/digits.ckpt" --plot "$out/train_digits.png" | tee "$out/train_digits.txt"
rm -rf "$ckpt"
python - "$out" <<'PY'
import sys
import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule import viz
from chainrule.utils.gradflow import GradientFlow

sys.path.insert(0, "examples")
import _lessons
import vanishing_gradients as v

out = sys.argv[1]
xtr, ytr, _, _ = _lessons.digits()
cr.manual_seed(0)
model = v.build("sigmoid")
flow = GradientFlow(model)
opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
gen = cr.Generator().manual_seed(0)
for _ in range(50):
    idx = cr.randint(0, xtr.shape[0], (128,), generator=gen)
    loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
with open(f"{out}/gradflow_sigmoid.txt", "w") as f:
    f.write(flow.table() + "\n\n" + flow.summary() + "\n")
print(flow.summary())
try:
    flow.plot(f"{out}/gradflow_sigmoid.png")
except RuntimeError as e:
    print(e)
flow.remove()

cr.manual_seed(0)
mlp = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))
loss = F.cross_entropy(mlp(xtr[:8]), ytr[:8])
with open(f"{out}/mlp_graph.dot", "w") as f:
    f.write(viz.to_dot(loss, params=dict(mlp.named_parameters()), show_saved=True))
deep = v.build("relu_he")
deep_loss = F.cross_entropy(deep(xtr[:8]), ytr[:8])
with open(f"{out}/deep_graph_collapsed.dot", "w") as f:
    f.write(viz.to_dot(deep_loss, params=dict(deep.named_parameters()), collapse=True))
try:
    viz.render(loss, f"{out}/mlp_graph.svg", params=dict(mlp.named_parameters()), show_saved=True)
    viz.render(deep_loss, f"{out}/deep_graph_collapsed.svg", params=dict(deep.named_parameters()), collapse=True)
except RuntimeError as e:
    print(e)
PY
