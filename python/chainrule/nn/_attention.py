"""F.multi_head_attention_forward: the computation behind nn.MultiheadAttention, as PyTorch's.

Inputs are sequence-first, (L, N, E) (or unbatched (L, E)). Boolean masks given to this function
mean "True is masked out" (the opposite of scaled_dot_product_attention's bool masks); they are
turned into additive float masks (-inf where True) and merged. With need_weights=False the heads
run through the fused scaled_dot_product_attention kernel; with need_weights=True the weights are
computed explicitly (softmax of the scaled scores) so that they can be returned.
"""

from __future__ import annotations

import contextvars
import math

import chainrule as cr
from chainrule import _core
from chainrule._core import ArgumentError, DTypeError, ShapeError, Tensor

# The name error messages start with: the function's, or the layer's while a layer calls it.
_CALLER: contextvars.ContextVar[str] = contextvars.ContextVar(
    "mha_caller", default="multi_head_attention_forward"
)


def _op() -> str:
    return _CALLER.get()


def _shape(t: Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def _is_float(t: Tensor) -> bool:
    return bool(t.dtype.is_floating_point)


def _canonical_mask(mask: Tensor | None, name: str, dtype: _core.dtype) -> Tensor | None:
    """A bool mask (True = masked out) as an additive float mask of ``dtype``; float masks as is."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise DTypeError(f"{_op()}: {name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype == _core.bool:
        return cr.zeros(_shape(mask), dtype=dtype).masked_fill(mask, float("-inf"))
    if not _is_float(mask):
        raise DTypeError(f"{_op()}: only bool and floating types of {name} are supported, got {mask.dtype}")
    return mask


def _check_shapes(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    key_padding_mask: Tensor | None,
    attn_mask: Tensor | None,
    num_heads: int,
) -> bool:
    """PyTorch's shape rules; returns whether the input is batched."""
    qs, ks, vs = _shape(query), _shape(key), _shape(value)
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise ShapeError(
                f"{_op()}: for batched (3-D) query, expected key and value to be 3-D, got key of shape {ks} "
                f"and value of shape {vs}"
            )
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise ShapeError(
                f"{_op()}: for batched (3-D) query, expected key_padding_mask to be None or 2-D "
                "(N, S), got shape "
                f"{_shape(key_padding_mask)}"
            )
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise ShapeError(
                f"{_op()}: for batched (3-D) query, expected attn_mask to be None, 2-D (L, S) or 3-D "
                f"(N * num_heads, L, S), got shape {_shape(attn_mask)}"
            )
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise ShapeError(
                f"{_op()}: for unbatched (2-D) query, expected key and value to be 2-D, got key of "
                f"shape {ks} "
                f"and value of shape {vs}"
            )
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise ShapeError(
                f"{_op()}: for unbatched (2-D) query, expected key_padding_mask to be None or 1-D "
                "(S,), got shape "
                f"{_shape(key_padding_mask)}"
            )
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise ShapeError(
                    f"{_op()}: for unbatched (2-D) query, expected attn_mask to be None, 2-D or "
                    "3-D, got shape "
                    f"{_shape(attn_mask)}"
                )
            if attn_mask.dim() == 3:
                want = (num_heads, qs[0], ks[0])
                if _shape(attn_mask) != want:
                    raise ShapeError(f"{_op()}: expected attn_mask of shape {want}, got {_shape(attn_mask)}")
        return False
    raise ShapeError(
        f"{_op()}: query should be unbatched 2-D (L, E) or batched 3-D (L, N, E), got shape {qs}"
    )


def _pad_last(t: Tensor) -> Tensor:
    """One zero column appended along the last dim."""
    return cr.cat([t, cr.zeros(_shape(t)[:-1] + (1,), dtype=t.dtype)], -1)


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention over sequence-first inputs (L, N, E) / (S, N, kdim) / (S, N, vdim), as
    torch.nn.functional.multi_head_attention_forward: returns (output (L, N, E), weights or None),
    the weights (N, L, S) averaged over heads, or (N, num_heads, L, S)."""
    from chainrule.nn import functional as F

    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise DTypeError(f"{_op()}: {name} must be a Tensor, got {type(t).__name__}")
    is_batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = _shape(query)
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise ShapeError(
            f"{_op()}: was expecting embedding dimension of {embed_dim_to_check}, but got query of shape "
            f"{_shape(query)}"
        )
    if num_heads <= 0 or embed_dim % num_heads != 0:
        raise ArgumentError(f"{_op()}: embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    head_dim = embed_dim // num_heads
    if use_separate_proj_weight:
        if _shape(key)[:2] != _shape(value)[:2]:
            raise ShapeError(
                f"{_op()}: key's sequence and batch dims {_shape(key)[:2]} do not match value's "
                f"{_shape(value)[:2]}"
            )
    elif _shape(key) != _shape(value):
        raise ShapeError(f"{_op()}: key shape {_shape(key)} does not match value shape {_shape(value)}")
    if key.shape[1] != bsz:
        raise ShapeError(
            f"{_op()}: query (L, N, E) of shape {_shape(query)} and key (S, N, E) of shape {_shape(key)} "
            "have different batch sizes"
        )

    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise ArgumentError(
            f"{_op()}: need attn_mask if specifying the is_causal hint; you may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask"
        )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the kernel applies the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        if key_padding_mask is not None:
            is_causal = False

    # in-projection
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise ArgumentError(f"{_op()}: use_separate_proj_weight is False but in_proj_weight is None")
        w_q, w_k, w_v = in_proj_weight.chunk(3)
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        if key is value and query is key:
            q, k, v = F.linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
        else:
            q = F.linear(query, w_q, b_q)
            k = F.linear(key, w_k, b_k)
            v = F.linear(value, w_v, b_v)
    else:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ArgumentError(
                f"{_op()}: use_separate_proj_weight is True but q_proj_weight, k_proj_weight or "
                "v_proj_weight "
                "is None"
            )
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        q = F.linear(query, q_proj_weight, b_q)
        k = F.linear(key, k_proj_weight, b_k)
        v = F.linear(value, v_proj_weight, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if _shape(attn_mask) != (tgt_len, src_len):
                raise ShapeError(
                    f"{_op()}: the shape of the 2D attn_mask is {_shape(attn_mask)}, but should be "
                    f"{(tgt_len, src_len)}"
                )
            attn_mask = attn_mask.unsqueeze(0)
        else:
            want = (bsz * num_heads, tgt_len, src_len)
            if _shape(attn_mask) != want:
                raise ShapeError(
                    f"{_op()}: the shape of the 3D attn_mask is {_shape(attn_mask)}, but should be {want}"
                )

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise ArgumentError(f"{_op()}: bias cannot be added to static key/value")
        k = cr.cat([k, bias_k.repeat(1, bsz, 1)])
        v = cr.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif (bias_k is None) != (bias_v is None):
        raise ArgumentError(f"{_op()}: bias_k and bias_v must both be given or both be None")

    # heads, batch first: (N * H, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    if static_k is None:
        k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if _shape(static_k)[0] != bsz * num_heads or _shape(static_k)[2] != head_dim:
            raise ShapeError(
                f"{_op()}: expected static_k of shape ({bsz * num_heads}, S, {head_dim}), got "
                f"{_shape(static_k)}"
            )
        k = static_k
    if static_v is None:
        v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if _shape(static_v)[0] != bsz * num_heads or _shape(static_v)[2] != head_dim:
            raise ShapeError(
                f"{_op()}: expected static_v of shape ({bsz * num_heads}, S, {head_dim}), got "
                f"{_shape(static_v)}"
            )
        v = static_v

    if add_zero_attn:
        zeros = cr.zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype)
        k = cr.cat([k, zeros], 1)
        v = cr.cat([v, zeros], 1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)

    src_len = k.shape[1]
    if key_padding_mask is not None:
        if _shape(key_padding_mask) != (bsz, src_len):
            raise ShapeError(
                f"{_op()}: expected key_padding_mask of shape {(bsz, src_len)} (N, S), got "
                f"{_shape(key_padding_mask)}"
            )
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    if not training:
        dropout_p = 0.0

    if need_weights:
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        scores = q_scaled @ k.transpose(-2, -1)
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = F.softmax(scores, dim=-1)
        if dropout_p > 0.0:
            weights = F.dropout(weights, p=dropout_p)
        out = weights @ v
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    mask4 = None
    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.dim() == 3:
            mask4 = attn_mask.unsqueeze(0)
        else:
            mask4 = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q4 = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k4 = k.reshape(bsz, num_heads, src_len, head_dim)
    v4 = v.reshape(bsz, num_heads, src_len, head_dim)
    out = F.scaled_dot_product_attention(q4, k4, v4, mask4, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None
