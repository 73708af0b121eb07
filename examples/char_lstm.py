"""A character-level LSTM language model, trained on the opening of Lewis Carroll's "Alice's
Adventures in Wonderland" (1865, public domain; examples/data/alice.txt), then sampled.

    python examples/char_lstm.py            # about a minute on two cores
    python examples/char_lstm.py --fast     # a few seconds: a smoke test

Embedding -> 2-layer LSTM -> Linear, cross-entropy on the next character, Adam, gradient norm
clipped with clip_grad_norm_, a fixed seed. Progress goes through tqdm when it is installed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))  # run from a source checkout too

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, embed: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, layers, dropout=dropout, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, idx: cr.Tensor, state: Any = None) -> tuple[cr.Tensor, Any]:
        out, state = self.lstm(self.embed(idx), state)
        return self.head(out), state


def sample(
    model: CharLSTM, stoi: dict, itos: list, prompt: str, length: int, temperature: float, seed: int
) -> str:
    """Feeds the prompt, then draws one character at a time, carrying the LSTM state."""
    rng = np.random.default_rng(seed)
    model.eval()
    text = list(prompt)
    with cr.no_grad():
        logits, state = model(cr.tensor([[stoi[c] for c in prompt]]))
        for _ in range(length):
            last = logits[0, -1] / temperature
            probs = np.asarray(cr.softmax(last.double(), 0))
            nxt = int(rng.choice(len(itos), p=probs / probs.sum()))
            text.append(itos[nxt])
            logits, state = model(cr.tensor([[nxt]]), state)
    model.train()
    return "".join(text)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="character-level LSTM on a short public-domain text")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seq-len", type=int, default=48)
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--embed", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=96)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample-len", type=int, default=300)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--fast", action="store_true", help="a few seconds: small model, few steps")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.fast:
        args.steps, args.hidden, args.seq_len, args.batch, args.sample_len = 60, 48, 32, 16, 60

    cr.manual_seed(args.seed)
    cr.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    with open(os.path.join(HERE, "data", "alice.txt"), encoding="utf-8") as f:
        text = f.read()
    itos = sorted(set(text))
    stoi = {c: i for i, c in enumerate(itos)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)

    model = CharLSTM(len(itos), args.embed, args.hidden, args.layers, args.dropout)
    opt = cr.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    say = (lambda *a: None) if args.quiet else print
    n_params = sum(p.numel() for p in model.parameters())
    say(f"{len(text)} characters, vocabulary {len(itos)}, {n_params} parameters")

    try:
        from tqdm import tqdm  # optional

        steps: Any = tqdm(range(args.steps), disable=args.quiet)
    except ImportError:
        tqdm = None
        steps = range(args.steps)
    losses = []
    start = time.perf_counter()
    for step in steps:
        starts = rng.integers(0, len(data) - args.seq_len - 1, size=args.batch)
        window = np.stack([data[s : s + args.seq_len + 1] for s in starts])
        x, y = cr.tensor(window[:, :-1]), cr.tensor(window[:, 1:])
        logits, _ = model(x)
        loss = loss_fn(logits.reshape(-1, len(itos)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        losses.append(loss.item())
        if tqdm is not None:
            steps.set_postfix(loss=f"{losses[-1]:.3f}")
        elif step % max(1, args.steps // 10) == 0 or step == args.steps - 1:
            say(f"step {step:4d}  loss {losses[-1]:.3f}  ({time.perf_counter() - start:.1f} s)")
    elapsed = time.perf_counter() - start
    say(f"trained {args.steps} steps in {elapsed:.1f} s; loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    text_out = sample(model, stoi, itos, "Alice ", args.sample_len, args.temperature, args.seed)
    say("sample:\n" + text_out)
    return {"losses": losses, "sample": text_out, "seconds": elapsed}


if __name__ == "__main__":
    main()
