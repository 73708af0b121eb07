"""Recurrent layers: RNN, LSTM, GRU and their single-step cells.

Each layer and direction runs as one fused engine op over the whole sequence (one graph node; the
recurrence and its backward through time are C++ kernels), with PyTorch's parameter names and
layouts (``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``,
``weight_hr_l{k}`` for LSTM projections, ``_reverse`` for the second direction), gate order (LSTM
i, f, g, o; GRU r, z, n with ``b_hn`` inside ``r * (W_hn h + b_hn)``), initialization
U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), shapes, unbatched inputs and PackedSequence inputs.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, overload

from chainrule import _core
from chainrule._core import ArgumentError, DTypeError, ShapeError, Tensor
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.nn.utils.rnn import PackedSequence, _index, _packed_rows, _unpack

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_size(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")


def _check_dtype(module: str, input: Tensor, weight: Tensor) -> None:
    if input.dtype != weight.dtype:
        raise ArgumentError(
            f"{module}: input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). Convert "
            f"input: input.to({weight.dtype}), or convert model: model.to({input.dtype})"
        )


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU (PyTorch's nn.RNNBase).

    ``mode`` is "RNN_TANH", "RNN_RELU", "LSTM" or "GRU". Per layer k and direction the parameters
    are weight_ih_l{k}[_reverse] (gates * hidden_size, layer input size), weight_hh_l{k}[_reverse]
    (gates * hidden_size, proj_size or hidden_size), bias_ih / bias_hh (gates * hidden_size) when
    ``bias``, and weight_hr_l{k}[_reverse] (proj_size, hidden_size) for an LSTM with ``proj_size``.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: _core.dtype | None = None,
    ) -> None:
        super().__init__()
        _core._check_device(device, type(self).__name__)
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element "
                "being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=2,
            )
        _check_size("hidden_size", hidden_size)
        _check_size("num_layers", num_layers)
        _check_size("input_size", input_size)
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if input_size < 0:
            raise ValueError("input_size must be non-negative")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                suffix = "_reverse" if direction == 1 else ""
                shapes: list[tuple[str, tuple[int, ...]]] = [
                    (f"weight_ih_l{layer}{suffix}", (gate_size, layer_input)),
                    (f"weight_hh_l{layer}{suffix}", (gate_size, real_hidden)),
                ]
                if bias:
                    shapes += [
                        (f"bias_ih_l{layer}{suffix}", (gate_size,)),
                        (f"bias_hh_l{layer}{suffix}", (gate_size,)),
                    ]
                if proj_size > 0:
                    shapes.append((f"weight_hr_l{layer}{suffix}", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name, Parameter(_core._empty(*shape, dtype=dtype)))
                names = [name for name, _ in shapes]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self) -> list[Tensor | None]:
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters, one list per layer and direction, in PyTorch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """Nothing to do: the parameters are already in the layout the kernels read."""

    def _layer_params(self, layer: int, direction: int) -> tuple[Any, Any, Any, Any, Any]:
        suffix = "_reverse" if direction == 1 else ""
        get = lambda kind: getattr(self, f"{kind}_l{layer}{suffix}", None)  # noqa: E731
        return (get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr"))

    # ---- checks with PyTorch's messages, prefixed with the layer ---------------------------------
    def _expected_hidden(self, batch: int) -> tuple[int, int, int]:
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * (2 if self.bidirectional else 1), batch, real_hidden)

    def _check_input(self, input: Tensor, batch_sizes: list[int] | None) -> None:
        name = type(self).__name__
        expected_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_dim:
            raise ShapeError(f"{name}: input must have {expected_dim} dimensions, got {input.dim()}")
        if input.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.shape[-1]}"
            )
        _check_dtype(name, input, self._flat_weights[0])  # type: ignore[arg-type]

    def _check_hidden(self, hx: Tensor, expected: tuple[int, ...], what: str, dtype: Any) -> None:
        name = type(self).__name__
        if not isinstance(hx, Tensor):
            raise TypeError(f"{name}: expected {what} to be a Tensor, got {type(hx).__name__}")
        if tuple(hx.shape) != tuple(expected):
            raise ShapeError(f"{name}: Expected {what} size {tuple(expected)}, got {list(hx.shape)}")
        if hx.dtype != dtype:
            raise DTypeError(f"{name}: expected {what} to have dtype {dtype} like the input, got {hx.dtype}")

    # ---- the layers ------------------------------------------------------------------------------
    def _run(
        self, x: Tensor, hx: Tensor | None, cx: Tensor | None, lengths: list[int] | None
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """x (T, B, I) -> (output (T, B, D * P), h_n (L * D, B, P), c_n (L * D, B, H) or None)."""
        num_directions = 2 if self.bidirectional else 1
        hs: list[Tensor] = []
        cs: list[Tensor] = []
        layer_input = x
        for layer in range(self.num_layers):
            outs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_params(layer, direction)
                out, h, c = _core._rnn_layer(
                    self.mode,
                    layer_input,
                    None if hx is None else hx[k],
                    None if cx is None else cx[k],
                    w_ih,
                    w_hh,
                    b_ih,
                    b_hh,
                    w_hr,
                    direction == 1,
                    lengths,
                )
                outs.append(out)
                hs.append(h)
                if c is not None:
                    cs.append(c)
            layer_input = outs[0] if num_directions == 1 else _core.cat(outs, 2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, _core.stack(hs, 0), _core.stack(cs, 0) if cs else None

    def _forward_impl(
        self, input: Tensor | PackedSequence, hx: Tensor | None, cx: Tensor | None
    ) -> tuple[Tensor | PackedSequence, Tensor, Tensor | None]:
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        if isinstance(input, PackedSequence):
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = [int(v) for v in batch_sizes_t.tolist()]
            self._check_input(data, batch_sizes)
            batch = batch_sizes[0] if batch_sizes else 0
            expected = self._expected_hidden(batch)
            if hx is not None:
                self._check_hidden(hx, expected, "hidden[0]" if lstm else "hidden", data.dtype)
                if sorted_indices is not None:
                    hx = hx.index_select(1, sorted_indices)
            if cx is not None:
                self._check_hidden(cx, (*expected[:2], self.hidden_size), "hidden[1]", data.dtype)
                if sorted_indices is not None:
                    cx = cx.index_select(1, sorted_indices)
            steps = len(batch_sizes)
            lengths = [sum(1 for n in batch_sizes if n > b) for b in range(batch)]
            x = _unpack(data, batch_sizes, list(range(batch)), steps, False, 0.0)
            out, h_n, c_n = self._run(x, hx, cx, None if all(n == steps for n in lengths) else lengths)
            rows = _index(_packed_rows(batch_sizes, batch, 1))
            packed = out.reshape(steps * batch, out.shape[2]).index_select(0, rows)
            if unsorted_indices is not None:
                h_n = h_n.index_select(1, unsorted_indices)
                c_n = c_n.index_select(1, unsorted_indices) if c_n is not None else None
            return PackedSequence(packed, batch_sizes_t, sorted_indices, unsorted_indices), h_n, c_n
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{name}: expected input to be a Tensor or a PackedSequence, got {type(input).__name__}"
            )
        if input.dim() not in (2, 3):
            raise ShapeError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        hidden_dim = 3 if batched else 2
        bad = [t.dim() for t in (hx, cx) if t is not None and isinstance(t, Tensor) and t.dim() != hidden_dim]
        if bad:
            kind = "batched 3-D" if batched else "unbatched 2-D"
            if lstm:
                dims = ", ".join(f"{t.dim()}-D" for t in (hx, cx) if t is not None)
                raise ShapeError(
                    f"{name}: For {kind} input, hx and cx should also be {hidden_dim}-D but got "
                    f"({dims}) tensors"
                )
            raise ShapeError(
                f"{name}: For {kind} input, hx should also be {hidden_dim}-D but got {bad[0]}-D tensor"
            )
        if not batched:
            input = input.unsqueeze(batch_dim)
            hx = hx.unsqueeze(1) if hx is not None else None
            cx = cx.unsqueeze(1) if cx is not None else None
        x = input.transpose(0, 1) if self.batch_first else input
        self._check_input(x, None)
        expected = self._expected_hidden(x.shape[1])
        if hx is not None:
            self._check_hidden(hx, expected, "hidden[0]" if lstm else "hidden", x.dtype)
        if cx is not None:
            self._check_hidden(cx, (*expected[:2], self.hidden_size), "hidden[1]", x.dtype)
        if x.shape[0] == 0:
            raise ShapeError(f"{name}: Expected sequence length to be larger than 0 in RNN")
        out, h_n, c_n = self._run(x, hx, cx, None)
        if self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(batch_dim)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        return out, h_n, c_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN (PyTorch's nn.RNN): h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh
    or relu (``nonlinearity``).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``. ``forward(input, hx=None)`` takes input (T, B, input_size)
    ((B, T, input_size) with batch_first, (T, input_size) unbatched, or a PackedSequence) and hx
    (num_layers * num_directions, B, hidden_size); returns (output, h_n)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            kwargs["nonlinearity"] = args[3]
            args = args[:3] + args[4:]
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, *args, **kwargs)

    @overload
    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]: ...
    @overload
    def forward(self, input: PackedSequence, hx: Tensor | None = None) -> tuple[PackedSequence, Tensor]: ...
    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        out, h_n, _ = self._forward_impl(input, hx, None)
        return out, h_n


class LSTM(RNNBase):
    """Long short-term memory (PyTorch's nn.LSTM), gates i, f, g, o:
    i, f, o = sigmoid(.), g = tanh(.), c_t = f c_{t-1} + i g, h_t = o tanh(c_t) (then W_hr h_t
    with ``proj_size``).

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0)``. ``forward(input, hx=None)`` with hx = (h_0, c_0) returns
    (output, (h_n, c_n))."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    @overload
    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]: ...
    @overload
    def forward(
        self, input: PackedSequence, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[PackedSequence, tuple[Tensor, Tensor]]: ...
    def forward(self, input: Any, hx: Any = None) -> tuple[Any, tuple[Tensor, Tensor]]:
        h0 = c0 = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0) of two tensors")
            h0, c0 = hx
        out, h_n, c_n = self._forward_impl(input, h0, c0)
        assert c_n is not None
        return out, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit (PyTorch's nn.GRU), gates r, z, n:
    r, z = sigmoid(.), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h_t = (1 - z) n + z h_{t-1}.

    Same arguments and call as :class:`RNN` (without nonlinearity); returns (output, h_n)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    @overload
    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]: ...
    @overload
    def forward(self, input: PackedSequence, hx: Tensor | None = None) -> tuple[PackedSequence, Tensor]: ...
    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:
        out, h_n, _ = self._forward_impl(input, hx, None)
        return out, h_n


# ---- cells ---------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """The shared parameters of the cells: weight_ih (gates * hidden_size, input_size), weight_hh
    (gates * hidden_size, hidden_size) and, with ``bias``, bias_ih and bias_hh, all initialized
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: _core.dtype | None = None,
    ) -> None:
        super().__init__()
        _core._check_device(device, type(self).__name__)
        _check_size("input_size", input_size)
        _check_size("hidden_size", hidden_size)
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if input_size < 0:
            raise ValueError("input_size must be non-negative")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_core._empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(_core._empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_core._empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(_core._empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _step(
        self, mode: str, input: Tensor, states: tuple[Tensor | None, ...]
    ) -> tuple[Tensor, Tensor | None, bool]:
        """One step: input (B, I) or (I,), states (B, H) or (H,) (None: zeros) -> (h', c', batched)."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected input to be a Tensor, got {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ShapeError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for s in states:
            if s is not None and (not isinstance(s, Tensor) or s.dim() not in (1, 2)):
                got = f"{s.dim()}D" if isinstance(s, Tensor) else type(s).__name__
                raise ShapeError(f"{name}: Expected hidden to be 1D or 2D, got {got} instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        batch = input.shape[0]
        if input.shape[1] != self.input_size:
            raise ShapeError(
                f"{name}: input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}"
            )
        _check_dtype(name, input, self.weight_ih)
        fixed: list[Tensor | None] = []
        for k, s in enumerate(states):
            if s is not None:
                if not batched:
                    s = s.unsqueeze(0)
                if s.dim() != 2 or s.shape[0] != batch:
                    raise ShapeError(
                        f"{name}: Input batch size {batch} doesn't match hidden{k} batch size {s.shape[0]}"
                    )
                if s.shape[1] != self.hidden_size:
                    raise ShapeError(
                        f"{name}: hidden{k} has inconsistent hidden_size: got {s.shape[1]}, "
                        f"expected {self.hidden_size}"
                    )
                if s.dtype != input.dtype:
                    raise DTypeError(f"{name}: expected hidden{k} to have dtype {input.dtype}, got {s.dtype}")
            fixed.append(s)
        _, h, c = _core._rnn_layer(
            mode,
            input.unsqueeze(0),
            fixed[0],
            fixed[1] if len(fixed) > 1 else None,
            self.weight_ih,
            self.weight_hh,
            self.bias_ih,
            self.bias_hh,
            None,
            False,
            None,
        )
        if not batched:
            h = h.squeeze(0)
            c = c.squeeze(0) if c is not None else None
        return h, c, batched


class RNNCell(RNNCellBase):
    """One Elman RNN step (PyTorch's nn.RNNCell): h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    ``RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh')``; ``forward(input, hx=None)``
    with input (B, input_size) or (input_size,) returns h' of the hidden's shape."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: _core.dtype | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        h, _, _ = self._step(mode, input, (hx,))
        return h


class LSTMCell(RNNCellBase):
    """One LSTM step (PyTorch's nn.LSTMCell), gates i, f, g, o as :class:`LSTM`.

    ``forward(input, hx=None)`` with hx = (h, c) returns (h', c')."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: _core.dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        h0 = c0 = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTMCell: hx must be a tuple (h_0, c_0) of two tensors")
            h0, c0 = hx
        h, c, _ = self._step("LSTM", input, (h0, c0))
        assert c is not None
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step (PyTorch's nn.GRUCell), gates r, z, n as :class:`GRU`.

    ``forward(input, hx=None)`` returns h'."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: _core.dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        h, _, _ = self._step("GRU", input, (hx,))
        return h
