"""Transformer, TransformerEncoder(Layer) and TransformerDecoder(Layer), as PyTorch's (Vaswani et
al. 2017, "Attention Is All You Need"), with the same submodule names so a PyTorch state_dict loads.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import chainrule as cr
from chainrule import _core
from chainrule._core import ArgumentError, DTypeError, ShapeError, Tensor
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.modules.attention import MultiheadAttention
from chainrule.nn.modules.container import ModuleList
from chainrule.nn.modules.dropout import Dropout
from chainrule.nn.modules.linear import Linear
from chainrule.nn.modules.module import Module
from chainrule.nn.modules.normalization import LayerNorm

__all__ = [
    "Transformer",
    "TransformerEncoder",
    "TransformerDecoder",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
]

Activation = str | Callable[[Tensor], Tensor]


def _get_activation_fn(activation: Activation, layer: str) -> Callable[[Tensor], Tensor]:
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise ArgumentError(f"{layer}: activation should be relu/gelu, not {activation}")
    if not callable(activation):
        raise ArgumentError(f"{layer}: activation must be 'relu', 'gelu' or a callable, got {activation!r}")
    return activation


def _canonical_mask(mask: Tensor | None, name: str, dtype: _core.dtype, layer: str) -> Tensor | None:
    """A bool mask (True = masked out) as an additive float mask; float masks as they are."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise DTypeError(f"{layer}: {name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype == _core.bool:
        return cr.zeros(tuple(mask.shape), dtype=dtype).masked_fill(mask, float("-inf"))
    if not mask.dtype.is_floating_point:
        raise DTypeError(f"{layer}: only bool and floating types of {name} are supported, got {mask.dtype}")
    return mask


def _generate_square_subsequent_mask(sz: int, dtype: _core.dtype | None = None) -> Tensor:
    return cr.full((sz, sz), float("-inf"), dtype=dtype).triu(diagonal=1)


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None, size: int | None) -> bool:
    """is_causal if given; else whether ``mask`` is exactly the square subsequent mask (PyTorch's rule)."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.shape[-2]
        causal = _generate_square_subsequent_mask(sz, dtype=mask.dtype)
        if tuple(mask.shape) == tuple(causal.shape):
            make_causal = bool((mask == causal).all())
    return make_causal


def _seq_len(src: Tensor, batch_first: bool) -> int:
    if src.dim() == 2:
        return int(src.shape[0])
    return int(src.shape[1] if batch_first else src.shape[0])


def _check_input(x: Tensor, d_model: int, name: str, layer: str) -> None:
    if not isinstance(x, Tensor):
        raise DTypeError(f"{layer}: {name} must be a Tensor, got {type(x).__name__}")
    if x.dim() not in (2, 3) or x.shape[-1] != d_model:
        raise ShapeError(
            f"{layer}: expected {name} of shape (L, N, d_model={d_model}), (N, L, d_model) with "
            "batch_first or "
            f"(L, d_model), got {tuple(x.shape)}"
        )


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection and LayerNorm
    (after the residual, or before the block with ``norm_first``), as torch.nn.TransformerEncoderLayer.
    Submodules: self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2."""

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: _core.dtype | None = None,
    ) -> None:
        super().__init__()
        _core._check_device(device, "TransformerEncoderLayer")
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _get_activation_fn(activation, "TransformerEncoderLayer")

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        """src: (L, N, d_model), (N, L, d_model) with batch_first, or (L, d_model); same shape out.
        ``is_causal`` is a hint that src_mask is the causal mask (the fused kernel then masks itself)."""
        _check_input(src, self.self_attn.embed_dim, "src", "TransformerEncoderLayer")
        src_key_padding_mask = _canonical_mask(
            src_key_padding_mask, "src_key_padding_mask", src.dtype, "TransformerEncoderLayer"
        )
        src_mask = _canonical_mask(src_mask, "src_mask", src.dtype, "TransformerEncoderLayer")
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(
        self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None, is_causal: bool
    ) -> Tensor:
        out = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(out)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's memory, then a feed-forward block, each with a
    residual connection and LayerNorm, as torch.nn.TransformerDecoderLayer. Submodules: self_attn,
    multihead_attn, linear1, dropout, linear2, norm1, norm2, norm3, dropout1, dropout2, dropout3."""

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: _core.dtype | None = None,
    ) -> None:
        super().__init__()
        _core._check_device(device, "TransformerDecoderLayer")
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _get_activation_fn(activation, "TransformerDecoderLayer")

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """tgt: (T, N, d_model) (batch_first: (N, T, d_model)), memory: (S, N, d_model); tgt's shape out."""
        d_model = self.self_attn.embed_dim
        _check_input(tgt, d_model, "tgt", "TransformerDecoderLayer")
        _check_input(memory, d_model, "memory", "TransformerDecoderLayer")
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(
                self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal
            )
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(
                x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            )
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(
        self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None, is_causal: bool
    ) -> Tensor:
        out = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        return self.dropout1(out)

    def _mha_block(
        self,
        x: Tensor,
        mem: Tensor,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        is_causal: bool,
    ) -> Tensor:
        out = self.multihead_attn(
            x,
            mem,
            mem,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        return self.dropout2(out)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _get_clones(module: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoder(Module):
    """num_layers copies of an encoder layer (``layers``), then an optional ``norm``, as
    torch.nn.TransformerEncoder. enable_nested_tensor and mask_check are accepted (no nested
    tensors here: padded positions are computed and masked)."""

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise DTypeError(
                f"TransformerEncoder: encoder_layer must be a Module, got {type(encoder_layer).__name__}"
            )
        if num_layers < 0:
            raise ArgumentError(f"TransformerEncoder: num_layers must be non-negative, got {num_layers}")
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """Runs every layer on src; ``is_causal=None`` detects a square subsequent ``mask``."""
        src_key_padding_mask = _canonical_mask(
            src_key_padding_mask, "src_key_padding_mask", src.dtype, "TransformerEncoder"
        )
        mask = _canonical_mask(mask, "mask", src.dtype, "TransformerEncoder")
        batch_first = (
            bool(getattr(getattr(self.layers[0], "self_attn", None), "batch_first", False))
            if len(self.layers)
            else False
        )
        causal = _detect_is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=causal, src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """num_layers copies of a decoder layer (``layers``), then an optional ``norm``, as
    torch.nn.TransformerDecoder."""

    def __init__(
        self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None
    ) -> None:
        super().__init__()
        if not isinstance(decoder_layer, Module):
            raise DTypeError(
                f"TransformerDecoder: decoder_layer must be a Module, got {type(decoder_layer).__name__}"
            )
        if num_layers < 0:
            raise ArgumentError(f"TransformerDecoder: num_layers must be non-negative, got {num_layers}")
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Runs every layer on (tgt, memory); ``tgt_is_causal=None`` detects a square subsequent tgt_mask."""
        batch_first = (
            bool(getattr(getattr(self.layers[0], "self_attn", None), "batch_first", False))
            if len(self.layers)
            else False
        )
        causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, _seq_len(tgt, batch_first))
        output = tgt
        for mod in self.layers:
            output = mod(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=causal,
                memory_is_causal=memory_is_causal,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """An encoder-decoder Transformer, as torch.nn.Transformer: ``encoder`` (TransformerEncoder with a
    final LayerNorm) and ``decoder`` (TransformerDecoder with a final LayerNorm); every parameter
    with more than one dim starts Xavier-uniform."""

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = F.relu,
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: _core.dtype | None = None,
    ) -> None:
        super().__init__()
        _core._check_device(device, "Transformer")
        layer_args = dict(
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation=activation,
            layer_norm_eps=layer_norm_eps,
            batch_first=batch_first,
            norm_first=norm_first,
            bias=bias,
            dtype=dtype,
        )
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(d_model, nhead, **layer_args)  # type: ignore[arg-type]
            encoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, encoder_norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(d_model, nhead, **layer_args)  # type: ignore[arg-type]
            decoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, decoder_norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """src (S, N, d_model), tgt (T, N, d_model) (batch_first: batch dim first) -> (T, N, d_model)."""
        for name, x in (("src", src), ("tgt", tgt)):
            if not isinstance(x, Tensor):
                raise DTypeError(f"Transformer: {name} must be a Tensor, got {type(x).__name__}")
        is_batched = src.dim() == 3
        bdim = 0 if self.batch_first else 1
        if is_batched and (tgt.dim() != 3 or src.shape[bdim] != tgt.shape[bdim]):
            raise ShapeError(
                "Transformer: the batch number of src and tgt must be equal, got src of shape "
                f"{tuple(src.shape)} "
                f"and tgt of shape {tuple(tgt.shape)} (batch_first={self.batch_first})"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(
                "Transformer: the feature number of src and tgt must be equal to "
                f"d_model={self.d_model}, got src "
                f"of shape {tuple(src.shape)} and tgt of shape {tuple(tgt.shape)}"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(
        sz: int, device: Any = None, dtype: _core.dtype | None = None
    ) -> Tensor:
        """(sz, sz) float mask: -inf above the diagonal (a position sees itself and earlier "
        "ones), 0 elsewhere."""
        _core._check_device(device, "generate_square_subsequent_mask")
        return _generate_square_subsequent_mask(sz, dtype=dtype)

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
