"""The joint sub-token parameterisation with carry-over (MDM-Prime §3.2, Figure 5).

The network predicts, at every token position, logits over the V full tokens. Given
the partly masked sub-tokens y_t of that position:

* **carry-over**: tokens that contradict a revealed sub-token get zero mass (logit
  −inf); a fully revealed position therefore has all its mass on the one token its
  digits spell, and codes ≥ V do not exist in the output at all;
* the distribution of sub-token j is the **marginal** of this joint,
  p(y^j = d | y_t) = Σ_{v : digit_j(v) = d} p(v | y_t).

So every draw from the joint, and every digit drawn from a marginal given the digits
already revealed, is part of a valid token: no impossible token can be sampled.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .codec import SubTokenCodec

__all__ = ["carry_over", "carry_over_table", "carry_over_log_marginals", "subtoken_log_marginals"]


def _check(logits: Tensor, y_t: Tensor, codec: SubTokenCodec) -> None:
    if logits.shape[-1] != codec.vocab:
        raise ValueError(f"logits must have V={codec.vocab} entries on the last axis, got {tuple(logits.shape)}")
    if y_t.shape[:-1] != logits.shape[:-1] or y_t.shape[-1] != codec.length:
        raise ValueError(
            f"sub-tokens {tuple(y_t.shape)} do not match logits {tuple(logits.shape)} with ℓ={codec.length}"
        )


def carry_over_table(logits: Tensor, y_t: Tensor, codec: SubTokenCodec, *, fill: float = float("-inf")) -> Tensor:
    """The carry-over logits as an ℓ-axis table over all codes, (..., b, …, b), axis j = digit j.

    Codes ≥ V and codes that contradict a revealed digit of ``y_t`` (..., ℓ) get
    ``fill``. The restriction is one broadcast add of ℓ small (..., b) bias vectors
    (0 where a digit value is allowed, ``fill`` where not): no (..., V) mask is built.
    """
    _check(logits, y_t, codec)
    b, ell = codec.base, codec.length
    out = logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits
    lead = out.shape[:-1]
    pad = codec.num_codes - codec.vocab
    if pad:
        out = torch.cat([out, out.new_full((*lead, pad), fill)], dim=-1)
    values = torch.arange(b, device=y_t.device)
    bias: Tensor | None = None
    for j in range(ell):
        yj = y_t[..., j, None]  # (..., 1)
        allowed = (yj == codec.mask_id) | (values == yj)  # (..., b)
        bj = torch.zeros(allowed.shape, dtype=out.dtype, device=out.device).masked_fill(~allowed, fill)
        bj = bj.reshape(*lead, *([1] * j), b, *([1] * (ell - 1 - j)))
        bias = bj if bias is None else bias + bj
    assert bias is not None
    return out.reshape(*lead, *([b] * ell)) + bias


def carry_over(logits: Tensor, y_t: Tensor, codec: SubTokenCodec, *, fill: float = float("-inf")) -> Tensor:
    """Logits (..., V) with ``fill`` on tokens inconsistent with the sub-tokens ``y_t`` (..., ℓ).

    ``fill`` is −inf for sampling (exactly zero mass). Returns float32 (or wider)
    logits; at least one entry per position stays finite (the token a fully revealed
    position spells, or every token consistent with a partial one).
    """
    table = carry_over_table(logits, y_t, codec, fill=fill)
    return table.reshape(*logits.shape[:-1], codec.num_codes)[..., : codec.vocab]


def _masked_logsumexp(x: Tensor, dims: list[int]) -> Tensor:
    """log Σ exp(x) over ``dims``, −inf for all-(−inf) slices, with zero (not NaN) gradients there.

    ``torch.logsumexp`` back-propagates exp(x − out) = exp(−inf + inf) = NaN through an
    empty slice even when that slice's output gets no gradient; here the sum is
    replaced by 1 where it is 0 before the log, and the result by −inf after it.
    """
    if not dims:
        return x
    top = x.amax(dim=dims, keepdim=True)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top)).detach()
    total = torch.exp(x - top).sum(dim=dims, keepdim=True)
    empty = total == 0
    out = torch.log(torch.where(empty, torch.ones_like(total), total)) + top
    out = torch.where(empty, torch.full_like(out, float("-inf")), out)
    return out.squeeze(dims) if len(dims) > 1 else out.squeeze(dims[0])


def carry_over_log_marginals(logits: Tensor, y_t: Tensor, codec: SubTokenCodec) -> Tensor:
    """log p(y^j = d | y_t) for every digit j and value d under the carry-over joint, (..., ℓ, b).

    Computed on the code table without normalising over V first: with T the
    carry-over table, M_j = log-sum-exp of T over every axis but j, and the joint's
    normaliser is Z = log-sum-exp_d M_0[d], so log p(y^j = d) = M_j[d] − Z. Digit values
    that no consistent token has are −inf, with zero gradient (never NaN).
    """
    table = carry_over_table(logits.float(), y_t, codec)
    n = table.ndim - codec.length
    marg = []
    for j in range(codec.length):
        others = [n + k for k in range(codec.length) if k != j]
        marg.append(_masked_logsumexp(table, others))
    m = torch.stack(marg, dim=-2)  # (..., ℓ, b)
    z = torch.logsumexp(m[..., :1, :], dim=-1, keepdim=True)  # (..., 1, 1), at least one term finite
    return m - z


def subtoken_log_marginals(log_probs: Tensor, codec: SubTokenCodec) -> Tensor:
    """Per-digit log-marginals of a joint over tokens: (..., V) → (..., ℓ, b).

    ``log_probs`` are normalised log-probabilities over the V tokens (−inf allowed).
    Entry [..., j, d] is log Σ_{v : digit_j(v) = d} p(v). The codes ≥ V are padded
    with −inf, the joint is viewed as an ℓ-axis (b × … × b) table, and each digit's
    marginal is a log-sum-exp over the other axes.
    """
    b, ell = codec.base, codec.length
    lead = log_probs.shape[:-1]
    pad = codec.num_codes - codec.vocab
    if pad:
        log_probs = torch.cat([log_probs, log_probs.new_full((*lead, pad), float("-inf"))], dim=-1)
    table = log_probs.reshape(*lead, *([b] * ell))  # axis j of the table is digit j
    n = len(lead)
    out = []
    for j in range(ell):
        others = [n + k for k in range(ell) if k != j]
        out.append(torch.logsumexp(table, dim=others) if others else table)
    return torch.stack(out, dim=-2)  # (..., ℓ, b)
