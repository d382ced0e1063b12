"""Training-time draws t ~ U[ε, 1 − ε] (paper §4.1), plain or stratified, optionally through a power."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["sample_times", "DEFAULT_EPS"]

#: The paper's ε: times stay in [ε, 1 − ε] to avoid the singular ends of κ̇ / (1 − κ).
DEFAULT_EPS = 1e-3


def sample_times(
    batch_size: int,
    *,
    eps: float = DEFAULT_EPS,
    stratified: bool = False,
    power: float = 1.0,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Draw ``batch_size`` times in [ε, 1 − ε], shape (B,), float32.

    With ``stratified=True`` the unit interval is cut into B equal strata and one
    time is drawn uniformly in each (then shuffled), which lowers the variance of
    the loss estimate while keeping each t marginally uniform.

    ``power`` p > 0 returns ε + (1 − 2ε) u^p instead (density ∝ u^(1/p − 1)): p > 1 draws
    more times near 0 (mostly masked), p < 1 near 1; p = 1 is the uniform draw. The power acts on
    u, inside [ε, 1 − ε]; ``MultiStreamInterpolant``'s per-stream ``time_powers`` raise the drawn t
    itself (t^p, which can fall below ε), a near-identical distribution that its runs were trained on.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not 0 <= eps < 0.5:
        raise ValueError(f"eps must be in [0, 0.5), got {eps}")
    if not (isinstance(power, (int, float)) and math.isfinite(power) and power > 0):
        raise ValueError(f"power must be a finite number > 0, got {power!r}")
    u = torch.rand(batch_size, generator=generator, device=device)
    if stratified:
        offsets = torch.arange(batch_size, device=device, dtype=u.dtype)
        perm = torch.randperm(batch_size, generator=generator, device=device)
        u = (offsets[perm] + u) / batch_size
    if power != 1:
        u = u**power
    return eps + (1 - 2 * eps) * u
