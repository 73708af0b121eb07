"""Recurrent layers (nn.RNN, nn.LSTM, nn.GRU, the cells) and nn.utils.rnn's packed sequences.

Without PyTorch: a NumPy step-by-step reference, float64 gradchecks over the configuration grid,
determinism across thread counts, the graph's shape (one node per layer and direction) and the
errors. With PyTorch: the same weights loaded through state_dict give the same outputs, final
states and gradients, packed sequences included.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck
from chainrule.nn.utils import rnn as rnn_utils

MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]
GRID = list(itertools.product(MODES, [False, True], [1, 2], [True, False], [False, True]))
GRID_IDS = [
    f"{m}-{'bi' if d else 'uni'}-L{n}-{'bias' if b else 'nobias'}-{'bf' if f else 'tf'}"
    for m, d, n, b, f in GRID
]


def make(mode, *args, **kwargs):
    if mode.startswith("RNN"):
        return cr.nn.RNN(*args, nonlinearity="tanh" if mode == "RNN_TANH" else "relu", **kwargs)
    return getattr(cr.nn, mode)(*args, **kwargs)


def np_(t):
    return None if t is None else np.array(t.detach())


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


# ---- NumPy reference, one step at a time ---------------------------------------------------------
def ref_cell(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    """One step for a batch: x (B, I), h (B, P), c (B, H) -> (h', c')."""
    b_ih = 0.0 if b_ih is None else b_ih
    b_hh = 0.0 if b_hh is None else b_hh
    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    if mode == "RNN_TANH":
        return np.tanh(gi + gh), None
    if mode == "RNN_RELU":
        return np.maximum(gi + gh, 0.0), None
    if mode == "LSTM":
        i, f, g, o = np.split(gi + gh, 4, axis=1)
        c2 = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h2 = sigmoid(o) * np.tanh(c2)
        return (h2 @ w_hr.T if w_hr is not None else h2), c2
    ir, iz, in_ = np.split(gi, 3, axis=1)
    hr, hz, hn = np.split(gh, 3, axis=1)
    r, z = sigmoid(ir + hr), sigmoid(iz + hz)
    n = np.tanh(in_ + r * hn)
    return (1 - z) * n + z * h, None


def ref_layer(mode, x, h0, c0, params, reverse, lengths):
    """One layer and direction over x (T, B, I); sequence b runs over its first lengths[b] steps."""
    steps, batch = x.shape[:2]
    lengths = [steps] * batch if lengths is None else lengths
    out = np.zeros((steps, batch, h0.shape[1]))
    h_n, c_n = h0.copy(), None if c0 is None else c0.copy()
    for b in range(batch):
        h, c = h0[b : b + 1], None if c0 is None else c0[b : b + 1]
        order = range(lengths[b] - 1, -1, -1) if reverse else range(lengths[b])
        for t in order:
            h, c = ref_cell(mode, x[t, b : b + 1], h, c, *params)
            out[t, b] = h[0]
        h_n[b] = h[0]
        if c is not None:
            c_n[b] = c[0]
    return out, h_n, c_n


def ref_module(module, x, h0=None, c0=None, lengths=None):
    """x (T, B, I) -> (output, h_n, c_n) of a module with dropout off."""
    dirs = 2 if module.bidirectional else 1
    real = module.proj_size or module.hidden_size
    batch = x.shape[1]
    h0 = np.zeros((module.num_layers * dirs, batch, real)) if h0 is None else h0
    if module.mode == "LSTM" and c0 is None:
        c0 = np.zeros((module.num_layers * dirs, batch, module.hidden_size))
    hs, cs, inp = [], [], x
    for layer in range(module.num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            params = [np_(p) for p in module._layer_params(layer, d)]
            o, h, c = ref_layer(
                module.mode, inp, h0[k], None if c0 is None else c0[k], params, d == 1, lengths
            )
            outs.append(o)
            hs.append(h)
            cs.append(c)
        inp = np.concatenate(outs, axis=2)
    return inp, np.stack(hs), (np.stack(cs) if module.mode == "LSTM" else None)


def run(module, x, h0=None, c0=None):
    """The module's (output, h_n, c_n) whatever its mode."""
    if module.mode == "LSTM":
        hx = None if h0 is None else (h0, c0)
        out, (h, c) = module(x, hx)
        return out, h, c
    out, h = module(x, h0)
    return out, h, None


def rng(seed=0):
    return np.random.default_rng(seed)


# ---- values ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode,bidirectional,num_layers,bias,batch_first", GRID, ids=GRID_IDS)
def test_forward_matches_numpy_reference(mode, bidirectional, num_layers, bias, batch_first):
    cr.manual_seed(0)
    m = make(mode, 3, 4, num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional).double()
    r = rng(1)
    x = r.standard_normal((5, 2, 3))
    dirs = 2 if bidirectional else 1
    h0 = r.standard_normal((num_layers * dirs, 2, 4))
    c0 = r.standard_normal((num_layers * dirs, 2, 4)) if mode == "LSTM" else None
    xin = x.transpose(1, 0, 2) if batch_first else x
    out, h, c = run(m, cr.tensor(xin), cr.tensor(h0), None if c0 is None else cr.tensor(c0))
    ref_out, ref_h, ref_c = ref_module(m, x, h0, c0)
    if batch_first:
        ref_out = ref_out.transpose(1, 0, 2)
    assert tuple(out.shape) == ref_out.shape
    np.testing.assert_allclose(np_(out), ref_out, atol=1e-12)
    np.testing.assert_allclose(np_(h), ref_h, atol=1e-12)
    if mode == "LSTM":
        np.testing.assert_allclose(np_(c), ref_c, atol=1e-12)


def test_lstm_projection_matches_numpy_reference():
    cr.manual_seed(0)
    m = cr.nn.LSTM(3, 5, 2, proj_size=2, bidirectional=True).double()
    x = rng(2).standard_normal((4, 3, 3))
    out, (h, c) = m(cr.tensor(x))
    ref_out, ref_h, ref_c = ref_module(m, x)
    assert tuple(out.shape) == (4, 3, 4) and tuple(h.shape) == (4, 3, 2) and tuple(c.shape) == (4, 3, 5)
    np.testing.assert_allclose(np_(out), ref_out, atol=1e-12)
    np.testing.assert_allclose(np_(h), ref_h, atol=1e-12)
    np.testing.assert_allclose(np_(c), ref_c, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_packed_sequence_runs_each_sequence_over_its_length(mode):
    cr.manual_seed(0)
    m = make(mode, 3, 4, 2, bidirectional=True).double()
    x = rng(3).standard_normal((5, 4, 3))
    lengths = [5, 4, 4, 2]
    packed = rnn_utils.pack_padded_sequence(cr.tensor(x), lengths)
    out, h, c = run(m, packed)
    padded, got_lengths = rnn_utils.pad_packed_sequence(out)
    ref_out, ref_h, ref_c = ref_module(m, x, lengths=lengths)
    assert got_lengths.tolist() == lengths
    np.testing.assert_allclose(np_(padded), ref_out, atol=1e-12)  # zero past each length
    np.testing.assert_allclose(np_(h), ref_h, atol=1e-12)
    if mode == "LSTM":
        np.testing.assert_allclose(np_(c), ref_c, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_cells_match_numpy_reference(mode):
    cr.manual_seed(0)
    if mode == "LSTM":
        cell = cr.nn.LSTMCell(3, 4).double()
    elif mode == "GRU":
        cell = cr.nn.GRUCell(3, 4).double()
    else:
        cell = cr.nn.RNNCell(3, 4, nonlinearity="tanh" if mode == "RNN_TANH" else "relu").double()
    r = rng(4)
    x, h0, c0 = r.standard_normal((2, 3)), r.standard_normal((2, 4)), r.standard_normal((2, 4))
    params = [np_(p) for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    ref_h, ref_c = ref_cell(mode, x, h0, c0, *params)
    if mode == "LSTM":
        h, c = cell(cr.tensor(x), (cr.tensor(h0), cr.tensor(c0)))
        np.testing.assert_allclose(np_(c), ref_c, atol=1e-12)
        h1, c1 = cell(cr.tensor(x[0]), (cr.tensor(h0[0]), cr.tensor(c0[0])))  # unbatched
        assert tuple(h1.shape) == (4,) and tuple(c1.shape) == (4,)
        np.testing.assert_allclose(np_(h1), ref_h[0], atol=1e-12)
    else:
        h = cell(cr.tensor(x), cr.tensor(h0))
        h1 = cell(cr.tensor(x[0]), cr.tensor(h0[0]))
        assert tuple(h1.shape) == (4,)
        np.testing.assert_allclose(np_(h1), ref_h[0], atol=1e-12)
    np.testing.assert_allclose(np_(h), ref_h, atol=1e-12)
    # no hidden state given: zeros
    zero_h, _ = ref_cell(mode, x, np.zeros((2, 4)), np.zeros((2, 4)), *params)
    got = cell(cr.tensor(x))
    np.testing.assert_allclose(np_(got[0] if mode == "LSTM" else got), zero_h, atol=1e-12)


def test_unbatched_input_matches_a_batch_of_one():
    cr.manual_seed(0)
    m = cr.nn.LSTM(3, 4, 2, bidirectional=True).double()
    x = cr.tensor(rng(5).standard_normal((6, 3)))
    out, (h, c) = m(x)
    out1, (h1, c1) = m(x.unsqueeze(1))
    assert tuple(out.shape) == (6, 8) and tuple(h.shape) == (4, 4) and tuple(c.shape) == (4, 4)
    np.testing.assert_array_equal(np_(out), np_(out1)[:, 0])
    np.testing.assert_array_equal(np_(h), np_(h1)[:, 0])
    out2, h2 = cr.nn.GRU(3, 4, batch_first=True).double()(x, cr.zeros(1, 4, dtype=cr.float64))
    assert tuple(out2.shape) == (6, 4) and tuple(h2.shape) == (1, 4)


# ---- gradients ------------------------------------------------------------------------------------
def _weighted(outputs, seed=7):
    """A scalar from every output with fixed random weights (a random projection of the Jacobian)."""
    r = rng(seed)
    total = None
    for o in outputs:
        if o is None:
            continue
        term = (o * cr.tensor(r.standard_normal(tuple(o.shape)))).sum()
        total = term if total is None else total + term
    return total


@pytest.mark.parametrize("mode,bidirectional,num_layers,bias,batch_first", GRID, ids=GRID_IDS)
def test_gradcheck_module(mode, bidirectional, num_layers, bias, batch_first):
    cr.manual_seed(1)
    m = make(mode, 2, 2, num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional).double()
    dirs = 2 if bidirectional else 1
    r = rng(8)
    shape = (2, 3, 2) if batch_first else (3, 2, 2)
    x = cr.tensor(r.standard_normal(shape), requires_grad=True)
    h0 = cr.tensor(r.standard_normal((num_layers * dirs, 2, 2)), requires_grad=True)
    c0 = cr.tensor(r.standard_normal((num_layers * dirs, 2, 2)), requires_grad=True)
    inputs = [x, h0] + ([c0] if mode == "LSTM" else []) + list(m.parameters())

    def fn(*args):
        out, h, c = run(m, x, h0, c0 if mode == "LSTM" else None)
        return _weighted([out, h, c])

    assert gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_gradcheck_lstm_projection():
    cr.manual_seed(2)
    m = cr.nn.LSTM(2, 3, 1, proj_size=2, bidirectional=True).double()
    r = rng(9)
    x = cr.tensor(r.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = cr.tensor(r.standard_normal((2, 2, 2)), requires_grad=True)
    c0 = cr.tensor(r.standard_normal((2, 2, 3)), requires_grad=True)

    def fn(*args):
        out, (h, c) = m(x, (h0, c0))
        return _weighted([out, h, c])

    assert gradcheck(fn, [x, h0, c0, *m.parameters()], eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_packed_sequence(mode):
    cr.manual_seed(3)
    m = make(mode, 2, 2, 2, bidirectional=True).double()
    r = rng(10)
    x = cr.tensor(r.standard_normal((4, 3, 2)), requires_grad=True)
    h0 = cr.tensor(r.standard_normal((4, 3, 2)), requires_grad=True)
    c0 = cr.tensor(r.standard_normal((4, 3, 2)), requires_grad=True)

    def fn(*args):
        packed = rnn_utils.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
        out, h, c = run(m, packed, h0, c0 if mode == "LSTM" else None)
        padded, _ = rnn_utils.pad_packed_sequence(out, batch_first=True, total_length=5)
        return _weighted([padded, h, c])

    inputs = [x, h0] + ([c0] if mode == "LSTM" else []) + list(m.parameters())
    assert gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_cells(mode):
    cr.manual_seed(4)
    if mode == "LSTM":
        cell = cr.nn.LSTMCell(2, 3).double()
    elif mode == "GRU":
        cell = cr.nn.GRUCell(2, 3, bias=False).double()
    else:
        cell = cr.nn.RNNCell(2, 3, nonlinearity="tanh" if mode == "RNN_TANH" else "relu").double()
    r = rng(11)
    x = cr.tensor(r.standard_normal((2, 2)), requires_grad=True)
    h = cr.tensor(r.standard_normal((2, 3)), requires_grad=True)
    c = cr.tensor(r.standard_normal((2, 3)), requires_grad=True)

    def fn(*args):
        if mode == "LSTM":
            return _weighted(list(cell(x, (h, c))))
        return _weighted([cell(x, h)])

    inputs = [x, h] + ([c] if mode == "LSTM" else []) + list(cell.parameters())
    assert gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_gradient_flows_only_through_outputs_used():
    m = cr.nn.LSTM(2, 3).double()
    x = cr.tensor(rng(12).standard_normal((4, 2, 2)), requires_grad=True)
    _, (h, _) = m(x)
    h.sum().backward()  # output and c_n unused: their gradients are zero
    assert x.grad is not None and np.isfinite(np_(x.grad)).all()
    assert all(p.grad is not None for p in m.parameters())


def test_double_backward_raises_a_clear_error():
    m = cr.nn.GRU(2, 3).double()
    x = cr.tensor(rng(13).standard_normal((3, 1, 2)), requires_grad=True)
    out, _ = m(x)
    (gx,) = cr.autograd.grad(out.sum(), [x], create_graph=True)
    with pytest.raises(cr.AutogradError, match="double backward"):
        gx.sum().backward()


def test_backward_twice_needs_retain_graph():
    m = cr.nn.LSTM(2, 3)
    out, _ = m(cr.randn(3, 1, 2))
    loss = out.sum()
    loss.backward(retain_graph=True)
    first = np_(m.weight_hh_l0.grad).copy()
    loss.backward()
    np.testing.assert_allclose(np_(m.weight_hh_l0.grad), 2 * first, rtol=1e-6)
    with pytest.raises(RuntimeError):
        loss.backward()


def test_empty_batch_runs_and_backpropagates():
    m = cr.nn.LSTM(4, 5, 2, bidirectional=True)
    x = cr.zeros(3, 0, 4, requires_grad=True)
    out, (h, c) = m(x)
    assert tuple(out.shape) == (3, 0, 10) and tuple(h.shape) == (4, 0, 5) and tuple(c.shape) == (4, 0, 5)
    (out.sum() + h.sum()).backward()
    assert tuple(x.grad.shape) == (3, 0, 4)
    assert np.all(np_(m.weight_hh_l0.grad) == 0)


def test_in_place_change_of_a_saved_tensor_is_detected():
    m = cr.nn.LSTM(4, 5)
    out, _ = m(cr.randn(3, 2, 4, requires_grad=True))
    with cr.no_grad():
        m.weight_hh_l0.mul_(2.0)
    with pytest.raises(cr.AutogradError, match="modified by an inplace operation"):
        out.sum().backward()


# ---- threads and graph ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mode,steps,batch,size,hidden",
    [
        ("LSTM", 2, 72, 16, 512),  # the step product (134 MFLOP) and gate pass are threaded too
        ("GRU", 3, 32, 64, 128),  # the all-steps products are threaded
        ("RNN_TANH", 3, 32, 64, 128),
    ],
)
def test_bitwise_identical_across_thread_counts(mode, steps, batch, size, hidden):
    x_np = rng(14).standard_normal((steps, batch, size)).astype(np.float32)
    results = []
    before = cr.get_num_threads()
    try:
        for threads in (1, 2):
            cr.set_num_threads(threads)
            cr.manual_seed(5)
            m = make(mode, size, hidden, 1, bidirectional=True)
            x = cr.tensor(x_np, requires_grad=True)
            out, h, c = run(m, x)
            (out.sum() + (h * h).sum()).backward()
            results.append([np_(out), np_(h), np_(x.grad)] + [np_(p.grad) for p in m.parameters()])
    finally:
        cr.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def _nodes(root):
    seen, stack, names = [], [root], []  # the list keeps each wrapper alive, so `is` identifies nodes
    while stack:
        fn = stack.pop()
        if fn is None or any(fn is s for s in seen):
            continue
        seen.append(fn)
        names.append(fn.name())
        stack.extend(f for f, _ in fn.next_functions)
    return names


@pytest.mark.parametrize(
    "mode,node", [("LSTM", "LstmBackward0"), ("GRU", "GruBackward0"), ("RNN_TANH", "RnnTanhBackward0")]
)
def test_one_graph_node_per_layer_and_direction(mode, node):
    m = make(mode, 3, 4, 3, bidirectional=True)
    sizes = []
    for steps in (2, 20):
        out, h, _ = run(m, cr.randn(steps, 2, 3, requires_grad=True))
        names = _nodes((out.sum() + h.sum()).grad_fn)
        assert names.count(node) == 6  # 3 layers x 2 directions
        sizes.append(len(names))
    assert sizes[0] == sizes[1]  # the graph does not grow with the sequence


# ---- module API -----------------------------------------------------------------------------------
def test_parameter_names_shapes_and_init():
    m = cr.nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2)
    assert list(m.state_dict().keys()) == [
        f"{kind}_l{layer}{sfx}"
        for layer in range(2)
        for sfx in ("", "_reverse")
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
    ]
    assert tuple(m.weight_ih_l0.shape) == (20, 3)
    assert tuple(m.weight_hh_l0.shape) == (20, 2)
    assert tuple(m.weight_ih_l1_reverse.shape) == (20, 4)
    assert tuple(m.weight_hr_l1.shape) == (2, 5)
    bound = 1 / np.sqrt(5)
    for p in m.parameters():
        assert np.abs(np_(p)).max() <= bound
    assert [len(ws) for ws in m.all_weights] == [5] * 4
    assert m._flat_weights[0] is m.weight_ih_l0
    m.flatten_parameters()
    g = cr.nn.GRU(4, 3, bias=False)
    assert list(g.state_dict().keys()) == ["weight_ih_l0", "weight_hh_l0"]
    assert tuple(g.weight_ih_l0.shape) == (9, 4)
    assert tuple(cr.nn.GRUCell(4, 3).weight_hh.shape) == (9, 3)
    assert tuple(cr.nn.LSTMCell(4, 3).bias_ih.shape) == (12,)


def test_repr():
    m = cr.nn.LSTM(4, 5, 2, bias=False, batch_first=True, dropout=0.5, bidirectional=True, proj_size=2)
    assert repr(m) == (
        "LSTM(4, 5, proj_size=2, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)"
    )
    assert repr(cr.nn.RNN(3, 4)) == "RNN(3, 4)"
    assert (
        repr(cr.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"))
        == "RNNCell(3, 4, bias=False, nonlinearity=relu)"
    )
    assert repr(cr.nn.GRUCell(2, 3)) == "GRUCell(2, 3)"


def test_rnn_nonlinearity_positional():
    m = cr.nn.RNN(2, 3, 1, "relu")
    assert m.mode == "RNN_RELU" and m.nonlinearity == "relu"


def test_dropout_between_layers_only_in_training():
    cr.manual_seed(0)
    m = cr.nn.GRU(3, 4, 2, dropout=1.0).double()
    x = cr.tensor(rng(15).standard_normal((4, 2, 3)))
    m.train()
    out_train, h_train = m(x)
    # the second layer saw only zeros (dropout p=1 after the first layer, none after the last)
    zeros_in = np.zeros((4, 2, 4))
    params = [np_(p) for p in m._layer_params(1, 0)]
    ref_out, ref_h, _ = ref_layer("GRU", zeros_in, np.zeros((2, 4)), None, params, False, None)
    np.testing.assert_allclose(np_(out_train), ref_out, atol=1e-12)
    m.eval()
    out_eval, _ = m(x)
    np.testing.assert_allclose(np_(out_eval), ref_module(m, np_(x))[0], atol=1e-12)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        cr.nn.LSTM(3, 4, 1, dropout=0.5)


def test_float32_module_and_to_double():
    m = cr.nn.LSTM(3, 4)
    out, (h, c) = m(cr.randn(2, 1, 3))
    assert out.dtype == cr.float32 and h.dtype == cr.float32
    m.double()
    out, _ = m(cr.randn(2, 1, 3, dtype=cr.float64))
    assert out.dtype == cr.float64


# ---- packing utilities ----------------------------------------------------------------------------
def test_pack_and_pad_round_trip():
    x = np.arange(4 * 3 * 2, dtype=np.float64).reshape(4, 3, 2)
    lengths = [2, 4, 3]
    packed = rnn_utils.pack_padded_sequence(cr.tensor(x), cr.tensor(lengths), enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [3, 3, 2, 1]
    assert packed.sorted_indices.tolist() == [1, 2, 0]
    assert packed.unsorted_indices.tolist() == [2, 0, 1]
    # time-major, longest first: step 0 of sequences 1, 2, 0, then step 1 ...
    np.testing.assert_array_equal(np_(packed.data)[:3], x[0, [1, 2, 0]])
    padded, lens = rnn_utils.pad_packed_sequence(packed, batch_first=True, padding_value=-1.0, total_length=5)
    assert lens.tolist() == lengths and lens.dtype == cr.int64
    expect = np.full((3, 5, 2), -1.0)
    for b, n in enumerate(lengths):
        expect[b, :n] = x[:n, b]
    np.testing.assert_array_equal(np_(padded), expect)
    seqs = [cr.tensor(x[:n, b]) for b, n in enumerate(lengths)]
    again = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
    np.testing.assert_array_equal(np_(again.data), np_(packed.data))
    for got, want in zip(rnn_utils.unpack_sequence(packed), seqs):
        np.testing.assert_array_equal(np_(got), np_(want))
    batch_first = rnn_utils.pack_padded_sequence(cr.tensor(x.transpose(1, 0, 2)), lengths, True, False)
    np.testing.assert_array_equal(np_(batch_first.data), np_(packed.data))


def test_packed_sequence_helpers():
    packed = rnn_utils.pack_sequence([cr.ones(3, 2), cr.ones(1, 2)])
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    assert packed.double().data.dtype == cr.float64
    assert packed.to(cr.float64).float().data.dtype == cr.float32
    assert not packed.is_cuda
    data, batch_sizes, _, _ = packed
    assert tuple(data.shape) == (4, 2) and batch_sizes.tolist() == [2, 1, 1]


def test_packing_errors():
    x = cr.zeros(3, 2, 4)
    with pytest.raises(cr.ArgumentError, match="sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(x, [2, 3])
    with pytest.raises(cr.ArgumentError, match="greater than 0"):
        rnn_utils.pack_padded_sequence(x, [3, 0])
    with pytest.raises(cr.ShapeError, match="batch_size"):
        rnn_utils.pack_padded_sequence(x, [3, 2, 1])
    with pytest.raises(cr.ShapeError, match="exceeds"):
        rnn_utils.pack_padded_sequence(x, [4, 3])
    with pytest.raises(cr.ShapeError, match="1D"):
        rnn_utils.pack_padded_sequence(x, cr.tensor([[3, 2]]))
    with pytest.raises(cr.ShapeError):
        rnn_utils.pack_padded_sequence(cr.zeros(3), [3])
    with pytest.raises(cr.ArgumentError, match="total_length"):
        rnn_utils.pad_packed_sequence(rnn_utils.pack_padded_sequence(x, [3, 2]), total_length=2)
    with pytest.raises(TypeError):
        rnn_utils.pad_packed_sequence(x)


# ---- errors ---------------------------------------------------------------------------------------
def test_bad_inputs_raise_and_name_the_layer():
    m = cr.nn.LSTM(4, 5)
    with pytest.raises(
        cr.ShapeError, match=r"LSTM: input.size\(-1\) must be equal to input_size. Expected 4, got 3"
    ):
        m(cr.zeros(3, 2, 3))
    with pytest.raises(cr.ShapeError, match="LSTM: Expected input to be 2D or 3D, got 4D"):
        m(cr.zeros(3, 2, 4, 1))
    with pytest.raises(cr.ShapeError, match=r"Expected hidden\[0\] size \(1, 2, 5\), got \[1, 3, 5\]"):
        m(cr.zeros(3, 2, 4), (cr.zeros(1, 3, 5), cr.zeros(1, 2, 5)))
    with pytest.raises(cr.ShapeError, match=r"Expected hidden\[1\] size \(1, 2, 5\), got \[1, 2, 6\]"):
        m(cr.zeros(3, 2, 4), (cr.zeros(1, 2, 5), cr.zeros(1, 2, 6)))
    with pytest.raises(cr.ShapeError, match="hx and cx should also be 3-D"):
        m(cr.zeros(3, 2, 4), (cr.zeros(2, 5), cr.zeros(2, 5)))
    with pytest.raises(cr.ShapeError, match="sequence length to be larger than 0"):
        m(cr.zeros(0, 2, 4))
    with pytest.raises(TypeError, match="tuple"):
        m(cr.zeros(3, 2, 4), cr.zeros(1, 2, 5))
    with pytest.raises(ValueError, match="does not match weight dtype"):
        m(cr.zeros(3, 2, 4, dtype=cr.float64))
    g = cr.nn.GRU(4, 5, 2)
    with pytest.raises(cr.ShapeError, match=r"GRU: Expected hidden size \(2, 2, 5\), got \[1, 2, 5\]"):
        g(cr.zeros(3, 2, 4), cr.zeros(1, 2, 5))
    with pytest.raises(cr.ShapeError, match="hx should also be 3-D but got 2-D"):
        g(cr.zeros(3, 2, 4), cr.zeros(2, 5))
    with pytest.raises(cr.DTypeError):
        g(cr.zeros(3, 2, 4), cr.zeros(2, 2, 5, dtype=cr.float64))
    packed = rnn_utils.pack_sequence([cr.zeros(3, 4), cr.zeros(2, 4)])
    with pytest.raises(cr.ShapeError, match=r"Expected hidden size \(2, 2, 5\)"):
        g(packed, cr.zeros(2, 3, 5))
    with pytest.raises(cr.ShapeError, match="input_size"):
        g(rnn_utils.pack_sequence([cr.zeros(3, 2)]))


def test_bad_cell_inputs_raise():
    c = cr.nn.LSTMCell(4, 5)
    with pytest.raises(cr.ShapeError, match="LSTMCell: input has inconsistent input_size: got 3 expected 4"):
        c(cr.zeros(2, 3))
    with pytest.raises(cr.ShapeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        c(cr.zeros(2, 4), (cr.zeros(3, 5), cr.zeros(3, 5)))
    with pytest.raises(cr.ShapeError, match="hidden1 has inconsistent hidden_size: got 6, expected 5"):
        c(cr.zeros(2, 4), (cr.zeros(2, 5), cr.zeros(2, 6)))
    with pytest.raises(cr.ShapeError, match="LSTMCell: Expected input to be 1D or 2D, got 3D"):
        c(cr.zeros(2, 4, 1))
    g = cr.nn.GRUCell(4, 5)
    with pytest.raises(cr.ShapeError, match="GRUCell: Expected hidden to be 1D or 2D, got 3D"):
        g(cr.zeros(2, 4), cr.zeros(2, 4, 1))


def test_bad_constructor_arguments_raise():
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        cr.nn.LSTM(4, 5, proj_size=5)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        cr.nn.GRU(4, 5, proj_size=2)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        cr.nn.LSTM(4, 0)
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        cr.nn.RNN(4, 5, num_layers=0)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        cr.nn.GRU(4, 5, dropout=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sig'"):
        cr.nn.RNN(4, 5, nonlinearity="sig")
    with pytest.raises(TypeError, match="hidden_size should be of type int"):
        cr.nn.LSTM(4, 5.0)


def test_kernel_checks_its_arguments():
    w_ih, w_hh = cr.zeros(8, 3), cr.zeros(8, 2)
    x = cr.zeros(4, 2, 3)
    with pytest.raises(cr.ShapeError, match="LSTM: expected weight_ih"):
        cr._core._rnn_layer("LSTM", x, None, None, cr.zeros(8, 2), w_hh, None, None, None, False, None)
    with pytest.raises(cr.ShapeError, match="hx"):
        cr._core._rnn_layer("LSTM", x, cr.zeros(3, 2), None, w_ih, w_hh, None, None, None, False, None)
    with pytest.raises(cr.ShapeError, match="lengths"):
        cr._core._rnn_layer("LSTM", x, None, None, w_ih, w_hh, None, None, None, False, [1, 2, 3])
    with pytest.raises(ValueError, match="every length"):
        cr._core._rnn_layer("LSTM", x, None, None, w_ih, w_hh, None, None, None, False, [5, 2])
    with pytest.raises(ValueError, match="unknown mode"):
        cr._core._rnn_layer("LSTMX", x, None, None, w_ih, w_hh, None, None, None, False, None)
    with pytest.raises(cr.DTypeError):
        cr._core._rnn_layer("LSTM", x.long(), None, None, w_ih, w_hh, None, None, None, False, None)


# ---- against PyTorch ------------------------------------------------------------------------------
def _torch_module(torch, mode, *args, **kwargs):
    if mode.startswith("RNN"):
        return torch.nn.RNN(*args, nonlinearity="tanh" if mode == "RNN_TANH" else "relu", **kwargs)
    return getattr(torch.nn, mode)(*args, **kwargs)


def _load(torch_module, module):
    state = {k: cr.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()}
    result = module.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys


def _torch_run(torch_module, x, hx):
    if torch_module.mode == "LSTM":
        out, (h, c) = torch_module(x, hx)
        return out, h, c
    out, h = torch_module(x, hx)
    return out, h, None


def _assert_close(a, b, atol):
    if a is None:
        assert b is None
        return
    np.testing.assert_allclose(np_(a), b.detach().numpy(), atol=atol, rtol=0)


TORCH_GRID = list(itertools.product(MODES, [False, True], [1, 2], [False, True]))


@pytest.mark.parametrize(
    "mode,bidirectional,num_layers,batch_first", TORCH_GRID, ids=[str(i) for i in range(len(TORCH_GRID))]
)
def test_module_matches_torch(torch, mode, bidirectional, num_layers, batch_first):
    torch.manual_seed(0)
    kw = dict(bidirectional=bidirectional, batch_first=batch_first)
    tm = _torch_module(torch, mode, 3, 4, num_layers, **kw).double()
    m = make(mode, 3, 4, num_layers, **kw).double()
    _load(tm, m)
    r = rng(16)
    dirs = 2 if bidirectional else 1
    x = r.standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    h0 = r.standard_normal((num_layers * dirs, 2, 4))
    c0 = r.standard_normal((num_layers * dirs, 2, 4))
    tx, th0, tc0 = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    cx, ch0, cc0 = (cr.tensor(a, requires_grad=True) for a in (x, h0, c0))
    lstm = mode == "LSTM"
    t_out, t_h, t_c = _torch_run(tm, tx, (th0, tc0) if lstm else th0)
    c_out, c_h, c_c = run(m, cx, ch0, cc0 if lstm else None)
    for a, b in ((c_out, t_out), (c_h, t_h), (c_c, t_c)):
        _assert_close(a, b, 1e-12)
    w = [r.standard_normal(tuple(o.shape)) for o in (t_out, t_h)]
    t_loss = (
        (t_out * torch.tensor(w[0])).sum() + (t_h * torch.tensor(w[1])).sum() + (t_c.sum() if lstm else 0)
    )
    c_loss = (c_out * cr.tensor(w[0])).sum() + (c_h * cr.tensor(w[1])).sum() + (c_c.sum() if lstm else 0)
    t_loss.backward()
    c_loss.backward()
    _assert_close(cx.grad, tx.grad, 1e-11)
    _assert_close(ch0.grad, th0.grad, 1e-11)
    if lstm:
        _assert_close(cc0.grad, tc0.grad, 1e-11)
    t_params = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        _assert_close(p.grad, t_params[name].grad, 1e-11)


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_float32_lstm_with_projection_matches_torch(torch):
    torch.manual_seed(1)
    tm = torch.nn.LSTM(8, 16, 1, bidirectional=True, proj_size=6)
    m = cr.nn.LSTM(8, 16, 1, bidirectional=True, proj_size=6)
    _load(tm, m)
    x = rng(17).standard_normal((4, 3, 8)).astype(np.float32)
    tx, cx = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    t_out, (t_h, t_c) = tm(tx)
    c_out, (c_h, c_c) = m(cx)
    for a, b in ((c_out, t_out), (c_h, t_h), (c_c, t_c)):
        _assert_close(a, b, 1e-5)
    (t_out.sum() + t_h.pow(2).sum() + t_c.sum()).backward()
    (c_out.sum() + c_h.pow(2).sum() + c_c.sum()).backward()
    _assert_close(cx.grad, tx.grad, 1e-5)
    t_params = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        _assert_close(p.grad, t_params[name].grad, 1e-4)


@pytest.mark.parametrize("mode", MODES)
def test_packed_sequence_matches_torch(torch, mode):
    from torch.nn.utils import rnn as trnn

    torch.manual_seed(2)
    tm = _torch_module(torch, mode, 3, 4, 2, bidirectional=True).double()
    m = make(mode, 3, 4, 2, bidirectional=True).double()
    _load(tm, m)
    r = rng(18)
    x = r.standard_normal((6, 5, 3))
    lengths = [3, 6, 1, 3, 5]  # unsorted, with a tie
    h0 = r.standard_normal((4, 5, 4))
    c0 = r.standard_normal((4, 5, 4))
    tx, th0, tc0 = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    cx, ch0, cc0 = (cr.tensor(a, requires_grad=True) for a in (x, h0, c0))
    tp = trnn.pack_padded_sequence(tx, torch.tensor(lengths), enforce_sorted=False)
    cp = rnn_utils.pack_padded_sequence(cx, cr.tensor(lengths), enforce_sorted=False)
    assert cp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    assert cp.sorted_indices.tolist() == tp.sorted_indices.tolist()
    _assert_close(cp.data, tp.data, 0)
    lstm = mode == "LSTM"
    t_out, t_h, t_c = _torch_run(tm, tp, (th0, tc0) if lstm else th0)
    c_out, c_h, c_c = run(m, cp, ch0, cc0 if lstm else None)
    _assert_close(c_out.data, t_out.data, 1e-12)
    for a, b in ((c_h, t_h), (c_c, t_c)):
        _assert_close(a, b, 1e-12)
    t_pad, t_len = trnn.pad_packed_sequence(t_out, batch_first=True, total_length=7)
    c_pad, c_len = rnn_utils.pad_packed_sequence(c_out, batch_first=True, total_length=7)
    assert c_len.tolist() == t_len.tolist()
    _assert_close(c_pad, t_pad, 1e-12)
    w = r.standard_normal(tuple(t_pad.shape))
    ((t_pad * torch.tensor(w)).sum() + t_h.pow(2).sum() + (t_c.sum() if lstm else 0)).backward()
    ((c_pad * cr.tensor(w)).sum() + c_h.pow(2).sum() + (c_c.sum() if lstm else 0)).backward()
    _assert_close(cx.grad, tx.grad, 1e-11)
    _assert_close(ch0.grad, th0.grad, 1e-11)
    if lstm:
        _assert_close(cc0.grad, tc0.grad, 1e-11)
    t_params = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        _assert_close(p.grad, t_params[name].grad, 1e-11)


@pytest.mark.parametrize("mode", MODES)
def test_cells_match_torch(torch, mode):
    torch.manual_seed(3)
    if mode == "LSTM":
        tc, c = torch.nn.LSTMCell(3, 4).double(), cr.nn.LSTMCell(3, 4).double()
    elif mode == "GRU":
        tc, c = torch.nn.GRUCell(3, 4, bias=False).double(), cr.nn.GRUCell(3, 4, bias=False).double()
    else:
        nl = "tanh" if mode == "RNN_TANH" else "relu"
        tc, c = (
            torch.nn.RNNCell(3, 4, nonlinearity=nl).double(),
            cr.nn.RNNCell(3, 4, nonlinearity=nl).double(),
        )
    _load(tc, c)
    r = rng(19)
    x, h, cc = r.standard_normal((2, 3)), r.standard_normal((2, 4)), r.standard_normal((2, 4))
    tx, th, tcc = (torch.tensor(a, requires_grad=True) for a in (x, h, cc))
    cx, ch, ccc = (cr.tensor(a, requires_grad=True) for a in (x, h, cc))
    if mode == "LSTM":
        t_h, t_c = tc(tx, (th, tcc))
        c_h, c_c = c(cx, (ch, ccc))
        _assert_close(c_c, t_c, 1e-12)
        (t_h.sum() + 2 * t_c.sum()).backward()
        (c_h.sum() + 2 * c_c.sum()).backward()
        _assert_close(ccc.grad, tcc.grad, 1e-12)
    else:
        t_h, c_h = tc(tx, th), c(cx, ch)
        t_h.pow(2).sum().backward()
        c_h.pow(2).sum().backward()
    _assert_close(c_h, t_h, 1e-12)
    _assert_close(cx.grad, tx.grad, 1e-12)
    _assert_close(ch.grad, th.grad, 1e-12)
    t_params = dict(tc.named_parameters())
    for name, p in c.named_parameters():
        _assert_close(p.grad, t_params[name].grad, 1e-12)


def test_default_init_distribution_matches_torch_bounds(torch):
    tm, m = torch.nn.GRU(5, 7, 2), cr.nn.GRU(5, 7, 2)
    assert [k for k in m.state_dict()] == [k for k in tm.state_dict()]
    for (name, p), (tname, tp) in zip(m.named_parameters(), tm.named_parameters()):
        assert name == tname and tuple(p.shape) == tuple(tp.shape)


# ---- the example ----------------------------------------------------------------------------------
def test_char_lstm_example_learns_in_fast_mode():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "char_lstm.py"
    spec = importlib.util.spec_from_file_location("char_lstm_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    before = cr.get_num_threads()
    try:
        result = example.main(["--fast", "--quiet", "--threads", "1"])
    finally:
        cr.set_num_threads(before)
    losses = result["losses"]
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.5
    assert result["sample"].startswith("Alice ") and len(result["sample"]) > len("Alice ")
