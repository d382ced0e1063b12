"""Turning logits into token draws: temperature, top-k, top-p, float64 categorical sampling.

Every sampler goes through these functions, so conventions live in one place:

* temperature divides the logits, ``softmax(logits / T)`` (T > 1 flattens);
* top-k keeps the k largest logits, top-p the smallest set whose probability
  reaches p (the most likely token is always kept);
* draws are made in float64 by inverse-CDF with an explicit generator: float32
  Gumbel tricks lower the effective temperature (Zheng et al. 2024).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import check_positive, check_probability

__all__ = ["filter_logits", "draw_categorical", "check_sampling_options"]


def check_sampling_options(temperature: float, top_p: float, top_k: int, prefix: str = "") -> None:
    """Validate the shared options: temperature > 0, top_p ∈ (0, 1], top_k ≥ 0 (0 = off).

    Errors name the option as ``prefix`` + its name (a config passes "sample.")."""
    check_positive(temperature, f"{prefix}temperature")
    check_probability(top_p, f"{prefix}top_p", low_open=True)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise ValueError(f"{prefix}top_k must be an integer >= 0 (0 disables it), got {top_k!r}")


def filter_logits(logits: Tensor, *, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> Tensor:
    """Apply temperature, then top-k, then top-p to logits (..., C); returns float64 logits.

    Removed entries are −inf. At least the arg-max entry always survives.
    """
    out = logits.to(torch.float64) / temperature
    c = out.shape[-1]
    if 0 < top_k < c:
        kth = torch.topk(out, top_k, dim=-1).values[..., -1:]
        out = out.masked_fill(out < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(out, dim=-1, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        # mass strictly before each entry; keep entries whose preceding mass < p
        before = torch.cumsum(probs, dim=-1) - probs
        remove_sorted = before >= top_p
        remove_sorted[..., 0] = False
        remove = torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
        out = out.masked_fill(remove, float("-inf"))
    return out


def draw_categorical(
    logits: Tensor, generator: torch.Generator | None = None, *, uniforms: Tensor | None = None
) -> Tensor:
    """One draw per row from softmax(logits), computed in float64 by inverse CDF.

    Args:
        logits: (N, C) float logits (−inf entries get zero probability).
        generator: source of the N uniforms (one per row, in row order).
        uniforms: (N,) float64 uniforms in [0, 1) to use instead of drawing them
            (samplers draw one per position up front, so results do not depend on
            the order in which positions are processed).

    Returns:
        (N,) int64 indices in [0, C); an entry with zero probability is never drawn.
    """
    if logits.ndim != 2:
        raise ValueError(f"logits must be 2-D (N, C), got shape {tuple(logits.shape)}")
    probs = torch.softmax(logits.to(torch.float64), dim=-1)
    cdf = torch.cumsum(probs, dim=-1)
    if uniforms is None:
        u = torch.rand(logits.shape[0], 1, dtype=torch.float64, generator=generator, device=logits.device)
    else:
        if uniforms.shape != (logits.shape[0],):
            raise ValueError(f"uniforms must have shape ({logits.shape[0]},), got {tuple(uniforms.shape)}")
        u = uniforms.to(device=logits.device, dtype=torch.float64)[:, None]
    idx = torch.searchsorted(cdf, u * cdf[:, -1:], right=True)
    # guard against u * total landing on the rounding tail: step back to the last positive entry
    idx = idx.clamp_max(logits.shape[1] - 1)
    bad = probs.gather(1, idx) == 0
    if bool(bad.any()):
        last_pos = (probs > 0).to(torch.int64).cumsum(-1).argmax(-1, keepdim=True)
        idx = torch.where(bad, last_pos, idx)
    return idx.squeeze(1)
