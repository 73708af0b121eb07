"""A typical training script, as a user writes it. tests/test_stubs.py type-checks it with mypy
--strict (no error allowed) and runs it."""

from __future__ import annotations

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_hidden))
        self.norm = nn.LayerNorm(n_hidden)
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(n_hidden, n_out)
        self.skip = nn.Linear(n_in, n_out, bias=False)

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        features: cr.Tensor = self.body(x)  # Sequential may hold any module, so its output is Any
        return self.head(self.dropout(F.gelu(self.norm(features)))) + 0.1 * self.skip(x)


def train(epochs: int = 3, seed: int = 0) -> float:
    cr.manual_seed(seed)
    x = cr.randn(64, 4)
    y = (x.sum(dim=1) > 0).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    model = MLP(4, 32, 2)
    optimizer = cr.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    scheduler = cr.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    criterion = nn.CrossEntropyLoss()
    losses: list[float] = []
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            logits: cr.Tensor = model(xb)
            loss = criterion(logits, yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    model.eval()
    with cr.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    state = model.state_dict()
    model.load_state_dict(state)
    print(f"loss {losses[-1]:.4f}, accuracy {accuracy:.2f}, lr {scheduler.get_last_lr()[0]:.5f}")
    return float(accuracy)


if __name__ == "__main__":
    train()
