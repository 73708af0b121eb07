"""MultiheadAttention, with PyTorch's parameters, state_dict keys and forward."""

from __future__ import annotations

from typing import Any

from chainrule import _core
from chainrule._core import ArgumentError, Tensor
from chainrule.nn import init
from chainrule.nn._attention import _CALLER, multi_head_attention_forward
from chainrule.nn.modules.linear import Linear
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al. 2017, "Attention Is All You Need"), as
    torch.nn.MultiheadAttention.

    Parameters: ``in_proj_weight`` (3 * embed_dim, embed_dim) packing the query, key and value
    projections, or ``q_proj_weight`` (embed_dim, embed_dim), ``k_proj_weight`` (embed_dim, kdim)
    and ``v_proj_weight`` (embed_dim, vdim) when kdim or vdim differ from embed_dim;
    ``in_proj_bias`` (3 * embed_dim) when ``bias``; ``out_proj`` (a Linear); ``bias_k``/``bias_v``
    (1, 1, embed_dim) with ``add_bias_kv``. Inputs are (L, N, E), or (N, L, E) with
    ``batch_first``, or unbatched (L, E). ``forward`` returns (output, weights): the weights
    (N, L, S) averaged over heads (or (N, num_heads, L, S)) when ``need_weights``, else None; with
    need_weights=False the heads run through the fused scaled_dot_product_attention kernel.
    Boolean masks mean True = masked out; float masks are added to the scores.
    """

    bias_k: Parameter | None
    bias_v: Parameter | None

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: _core.dtype | None = None,
    ) -> None:
        super().__init__()
        _core._check_device(device, "MultiheadAttention")
        if embed_dim <= 0 or num_heads <= 0:
            raise ArgumentError(
                "MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                f"embed_dim={embed_dim} "
                f"and num_heads={num_heads} instead"
            )
        if embed_dim % num_heads != 0:
            raise ArgumentError(
                "MultiheadAttention: embed_dim must be divisible by num_heads, got "
                f"embed_dim={embed_dim} and "
                f"num_heads={num_heads}"
            )
        if not 0.0 <= dropout <= 1.0:
            raise ArgumentError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(_core._empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(_core._empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(_core._empty(embed_dim, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(_core._empty(3 * embed_dim, embed_dim, dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(_core._empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(_core._empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(_core._empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialization: Xavier-uniform projections, zero biases, Xavier-normal bias_k/v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """(attn_output, attn_output_weights): the output has the query's layout; the weights are
        None unless ``need_weights``."""
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise _core.DTypeError(f"MultiheadAttention: {name} must be a Tensor, got {type(t).__name__}")
        is_batched = query.dim() == 3
        if self.batch_first and is_batched:
            # transposed once each, keeping `query is key is value` for the packed projection
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        token = _CALLER.set("MultiheadAttention")
        try:
            out, weights = multi_head_attention_forward(
                query,
                key,
                value,
                self.embed_dim,
                self.num_heads,
                self.in_proj_weight,
                self.in_proj_bias,
                self.bias_k,
                self.bias_v,
                self.add_zero_attn,
                self.dropout,
                self.out_proj.weight,
                self.out_proj.bias,
                training=self.training,
                key_padding_mask=key_padding_mask,
                need_weights=need_weights,
                attn_mask=attn_mask,
                use_separate_proj_weight=not self._qkv_same_embed_dim,
                q_proj_weight=self.q_proj_weight,
                k_proj_weight=self.k_proj_weight,
                v_proj_weight=self.v_proj_weight,
                average_attn_weights=average_attn_weights,
                is_causal=is_causal,
            )
        finally:
            _CALLER.reset(token)
        if self.batch_first and is_batched:
            return out.transpose(1, 0), weights
        return out, weights
