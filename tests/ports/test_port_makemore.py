"""Port: a character-level language model in the manner of makemore (a bigram count model, a
one-layer neural bigram and an MLP over a context of three characters, with an embedding table
indexed by an integer tensor, tanh, cross_entropy and plain SGD on ``p.data``), written as PyTorch
code (only the imports differ: ``import chainrule as torch``,
``import chainrule.nn.functional as F``). A short list of names stands in for names.txt.
"""

import math

import pytest

import chainrule as torch
import chainrule.nn.functional as F

WORDS = """
emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily elizabeth mila
ella avery sofia camila aria scarlett victoria madison luna grace chloe penelope layla riley zoey
nora lily eleanor hannah lillian addison aubrey ellie stella natalie zoe leah hazel violet aurora
savannah audrey brooklyn bella claire skylar lucy paisley everly anna caroline nova genesis
liam noah oliver elijah william james benjamin lucas henry alexander mason michael ethan daniel
jacob logan jackson levi sebastian mateo jack owen theodore aiden samuel joseph john david wyatt
matthew luke asher carter julian grayson leo jayden gabriel isaac lincoln anthony hudson dylan
ezra thomas charles christopher jaxon maverick josiah isaiah andrew elias joshua nathan caleb
""".split()


def build_vocabulary(words):
    chars = sorted(list(set("".join(words))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    return stoi, itos


block_size = 3  # context length: how many characters we take to predict the next one


def build_dataset(words, stoi):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]  # crop and append
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    return X, Y


def train_mlp(steps=400):
    stoi, itos = build_vocabulary(WORDS)
    vocab_size = len(itos)
    Xtr, Ytr = build_dataset(WORDS, stoi)

    g = torch.Generator().manual_seed(2147483647)  # for reproducibility
    C = torch.randn((vocab_size, 10), generator=g)
    W1 = torch.randn((30, 200), generator=g) * 0.2
    b1 = torch.randn(200, generator=g) * 0.01
    W2 = torch.randn((200, vocab_size), generator=g) * 0.01
    b2 = torch.randn(vocab_size, generator=g) * 0
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True

    lossi = []
    for i in range(steps):
        # minibatch
        ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)

        # forward pass
        emb = C[Xtr[ix]]  # (32, 3, 10)
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)  # (32, 200)
        logits = h @ W2 + b2  # (32, vocab_size)
        loss = F.cross_entropy(logits, Ytr[ix])

        # backward pass
        for p in parameters:
            p.grad = None
        loss.backward()

        # update
        lr = 0.1 if i < steps // 2 else 0.05
        for p in parameters:
            p.data += -lr * p.grad

        lossi.append(loss.item())
    return (C, W1, b1, W2, b2), (Xtr, Ytr), lossi, itos


@torch.no_grad()
def split_loss(params, X, Y):
    C, W1, b1, W2, b2 = params
    emb = C[X]
    h = torch.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)
    logits = h @ W2 + b2
    return F.cross_entropy(logits, Y).item()


def test_dataset_shapes():
    stoi, itos = build_vocabulary(WORDS)
    X, Y = build_dataset(WORDS[:5], stoi)
    assert X.shape == (sum(len(w) + 1 for w in WORDS[:5]), block_size)
    assert X.dtype == torch.int64 and Y.dtype == torch.int64
    assert X[0].tolist() == [0, 0, 0] and Y[0].item() == stoi["e"]
    assert itos[0] == "."


def test_mlp_language_model_trains():
    params, (Xtr, Ytr), lossi, itos = train_mlp()
    vocab_size = len(itos)
    assert lossi[0] == pytest.approx(math.log(vocab_size), abs=0.3)  # roughly uniform at the start
    assert sum(lossi[-50:]) / 50 < lossi[0] - 0.8
    assert split_loss(params, Xtr, Ytr) < 2.6
    assert not torch.is_grad_enabled() or all(p.requires_grad for p in params)


def test_mlp_language_model_samples():
    params, _, _, itos = train_mlp(steps=200)
    C, W1, b1, W2, b2 = params
    g = torch.Generator().manual_seed(2147483647 + 10)
    names = []
    for _ in range(10):
        out = []
        context = [0] * block_size  # initialize with all ...
        while True:
            emb = C[torch.tensor([context])]  # (1, block_size, d)
            h = torch.tanh(emb.view(1, -1) @ W1 + b1)
            logits = h @ W2 + b2
            probs = F.softmax(logits, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            out.append(ix)
            if ix == 0 or len(out) > 30:
                break
        names.append("".join(itos[i] for i in out))
    assert len(names) == 10
    assert all(set(n) <= set(itos.values()) for n in names)
    assert sum(n.endswith(".") for n in names) >= 8


def test_bigram_counts_and_sampling():
    stoi, itos = build_vocabulary(WORDS)
    N = torch.zeros((27, 27), dtype=torch.int32)
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            ix1 = stoi[ch1]
            ix2 = stoi[ch2]
            N[ix1, ix2] += 1

    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)
    assert torch.allclose(P.sum(1), torch.ones(27))

    g = torch.Generator().manual_seed(2147483647)
    out = []
    ix = 0
    while True:
        p = P[ix]
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        out.append(itos.get(ix, "?"))
        if ix == 0:
            break
    assert out[-1] == "."

    log_likelihood = 0.0
    n = 0
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            logprob = torch.log(P[stoi[ch1], stoi[ch2]])
            log_likelihood += logprob
            n += 1
    nll = -log_likelihood
    assert (nll / n).item() < math.log(27)


def test_neural_bigram_with_one_hot():
    stoi, itos = build_vocabulary(WORDS)
    vocab_size = len(itos)
    xs, ys = [], []
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            xs.append(stoi[ch1])
            ys.append(stoi[ch2])
    xs = torch.tensor(xs)
    ys = torch.tensor(ys)
    num = xs.nelement()

    g = torch.Generator().manual_seed(2147483647)
    W = torch.randn((vocab_size, vocab_size), generator=g, requires_grad=True)

    losses = []
    for _k in range(60):
        # forward pass
        xenc = F.one_hot(xs, num_classes=vocab_size).float()  # input to the network: one-hot encoding
        logits = xenc @ W  # predict log-counts
        counts = logits.exp()  # counts, equivalent to N
        probs = counts / counts.sum(1, keepdim=True)  # probabilities for next character
        loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
        losses.append(loss.item())

        # backward pass
        W.grad = None  # set to zero the gradient
        loss.backward()

        # update
        W.data += -10 * W.grad

    assert losses[-1] < losses[0] - 1.0
    assert losses[-1] < 3.0
