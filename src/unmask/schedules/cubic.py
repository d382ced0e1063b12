"""Cubic schedule (Discrete Flow Matching, Gat et al. 2024)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .base import Schedule

__all__ = ["CubicSchedule"]


class CubicSchedule(Schedule):
    """κ_t = −2t³ + 3t² + a(t³ − 2t² + t) + b(t³ − t²).

    κ(0) = 0 and κ(1) = 1 for every (a, b); a = κ̇(0) and b = κ̇(1) are the end-point
    slopes (a = b = 0 is the smoothstep 3t² − 2t³, a = b = 1 is linear). Only (a, b)
    that keep κ non-decreasing on [0, 1] are accepted. The inverse is computed by
    bisection in float64.
    """

    name = "cubic"

    def __init__(self, a: float = 0.0, b: float = 0.0) -> None:
        self.a = float(a)
        self.b = float(b)
        if not (math.isfinite(self.a) and math.isfinite(self.b)):
            raise ValueError(f"cubic schedule parameters must be finite, got a={self.a}, b={self.b}")
        grid = torch.linspace(0, 1, 4097, dtype=torch.float64)
        slope = self._kappa_dot(grid)
        if bool((slope < -1e-12).any()):
            worst = grid[slope.argmin()].item()
            raise ValueError(
                f"cubic schedule with a={self.a}, b={self.b} is not monotone on [0, 1] "
                f"(dκ/dt = {slope.min().item():.4g} at t = {worst:.4g}); "
                "a >= 0 and b >= 0 are necessary (they are the end-point slopes)"
            )

    def _kappa(self, t: Tensor) -> Tensor:
        t2 = t * t
        t3 = t2 * t
        return -2 * t3 + 3 * t2 + self.a * (t3 - 2 * t2 + t) + self.b * (t3 - t2)

    def _kappa_dot(self, t: Tensor) -> Tensor:
        t2 = t * t
        return -6 * t2 + 6 * t + self.a * (3 * t2 - 4 * t + 1) + self.b * (3 * t2 - 2 * t)

    def config(self) -> dict[str, float | str]:
        return {"name": self.name, "a": self.a, "b": self.b}
