"""A tiny GPT trained character by character on the opening of Lewis Carroll's "Alice's Adventures
in Wonderland" (1865, public domain; examples/data/tiny_gpt_text.txt).

The model is the usual decoder-only Transformer: token and position embeddings, blocks of causal
self-attention and a GELU MLP, each behind a LayerNorm (pre-norm) and inside a residual connection,
a final LayerNorm, and an output head that shares its weight with the token embedding. Attention
runs through F.scaled_dot_product_attention's fused kernel.

    python examples/tiny_gpt.py            # about a minute (one thread; 1500 steps)
    python examples/tiny_gpt.py --fast     # a few seconds: a smaller model, fewer steps

It prints the loss as it trains (with a tqdm bar when tqdm is installed) and samples some text at
the end.
"""

from __future__ import annotations

import argparse
import math
import pathlib
import sys
import time
from typing import Any

import numpy as np

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F

TEXT = pathlib.Path(__file__).resolve().parent / "data" / "tiny_gpt_text.txt"


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position i sees positions 0..i."""

    def __init__(self, d_model: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        b, t, c = x.shape
        # (B, T, 3C) -> three (B, H, T, C/H) views, read in place by the attention kernel
        q, k, v = self.qkv(x).view(b, t, 3, self.n_head, c // self.n_head).permute(2, 0, 3, 1, 4).unbind(0)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, c))


class Block(nn.Module):
    def __init__(self, d_model: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model), nn.Dropout(dropout)
        )

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(
        self, vocab: int, context: int, d_model: int, n_head: int, n_layer: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(context, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(d_model, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)
        self.head.weight = self.tok.weight  # weight tying: one matrix embeds and reads out tokens
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, 0.0, 0.02)
            if name.endswith("proj.weight"):  # GPT-2's scaled init of residual projections
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))

    def forward(self, idx: cr.Tensor) -> cr.Tensor:
        t = idx.shape[1]
        x = self.drop(self.tok(idx) + self.pos(cr.arange(t)))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def _progress(steps: int) -> Any:
    try:
        from tqdm import tqdm  # optional

        return tqdm(range(steps), desc="training", file=sys.stdout)
    except ImportError:
        return range(steps)


def sample(model: TinyGPT, itos: list[str], stoi: dict[str, int], prompt: str, n: int, rng: Any) -> str:
    """Continues ``prompt`` by n characters, sampling each from the model's softmax (temperature 0.8)."""
    model.eval()
    ids = [stoi[c] for c in prompt if c in stoi] or [0]
    with cr.no_grad():
        for _ in range(n):
            ctx = cr.tensor([ids[-model.context :]])
            logits = model(ctx)[0, -1].numpy().astype(np.float64) / 0.8
            p = np.exp(logits - logits.max())
            ids.append(int(rng.choice(len(p), p=p / p.sum())))
    model.train()
    return "".join(itos[i] for i in ids)


def main(argv: list[str] | None = None) -> list[float]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fast", action="store_true", help="a smaller model and fewer steps (for tests)")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument(
        "--threads", type=int, default=1, help="intra-op threads (the model is small: one thread is as fast)"
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    cr.manual_seed(args.seed)
    cr.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    text = TEXT.read_text(encoding="utf-8")
    itos = sorted(set(text))
    stoi = {c: i for i, c in enumerate(itos)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)

    if args.fast:
        context, d_model, n_head, n_layer, batch, steps, lr = 32, 32, 2, 1, 8, 40, 1e-2
    else:
        context, d_model, n_head, n_layer, batch, steps, lr = 64, 64, 4, 2, 16, 1500, 3e-3
    steps = args.steps if args.steps is not None else steps
    model = TinyGPT(len(itos), context, d_model, n_head, n_layer, dropout=0.0 if args.fast else 0.1)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{len(text)} characters, vocabulary {len(itos)}, {n_params} parameters, {steps} steps")
    opt = cr.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)

    losses: list[float] = []
    start = time.perf_counter()
    bar = _progress(steps)
    for step in bar:
        starts = rng.integers(0, len(data) - context - 1, size=batch)
        x = cr.tensor(np.stack([data[s : s + context] for s in starts]))
        y = cr.tensor(np.stack([data[s + 1 : s + context + 1] for s in starts]))
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(itos)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        # cosine decay to a tenth of the learning rate
        for g in opt.param_groups:
            g["lr"] = lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / max(steps - 1, 1))))
        opt.step()
        losses.append(loss.item())
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
        elif step % max(steps // 10, 1) == 0 or step == steps - 1:
            print(f"step {step:4d}  loss {losses[-1]:.3f}  ({time.perf_counter() - start:.1f}s)")
    print(f"trained in {time.perf_counter() - start:.1f}s: loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    print("sample:")
    print(sample(model, itos, stoi, "Alice ", 120 if args.fast else 300, rng))
    return losses


if __name__ == "__main__":
    main()
