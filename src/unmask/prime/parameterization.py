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

__all__ = ["carry_over", "subtoken_log_marginals"]


def carry_over(logits: Tensor, y_t: Tensor, codec: SubTokenCodec) -> Tensor:
    """Logits (..., V) with −inf on tokens inconsistent with the sub-tokens ``y_t`` (..., ℓ).

    Returns float32 (or wider) logits; at least one entry per position stays finite
    (the token spelled by a fully revealed position, or every token consistent with a
    partial one).
    """
    if logits.shape[-1] != codec.vocab:
        raise ValueError(f"logits must have V={codec.vocab} entries on the last axis, got {tuple(logits.shape)}")
    if y_t.shape[:-1] != logits.shape[:-1] or y_t.shape[-1] != codec.length:
        raise ValueError(
            f"sub-tokens {tuple(y_t.shape)} do not match logits {tuple(logits.shape)} with ℓ={codec.length}"
        )
    out = logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits
    return out.masked_fill(~codec.consistent(y_t), float("-inf"))


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
