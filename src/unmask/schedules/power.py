"""Power schedules κ_t = t^p: root (p = 1/2), linear (p = 1), quadratic (p = 2)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .base import Schedule

__all__ = ["PowerSchedule", "RootSchedule", "LinearSchedule", "QuadraticSchedule"]


class PowerSchedule(Schedule):
    """κ_t = t^p for an exponent p > 0 (κ̇_t = p t^(p−1), κ⁻¹(k) = k^(1/p))."""

    name = "power"

    def __init__(self, p: float = 1.0) -> None:
        if not (p > 0 and math.isfinite(p)):
            raise ValueError(f"power schedule exponent p must be a finite number > 0, got {p}")
        self.p = float(p)

    def _kappa(self, t: Tensor) -> Tensor:
        return t**self.p

    def _kappa_dot(self, t: Tensor) -> Tensor:
        if self.p == 1.0:
            return torch.ones_like(t)
        return self.p * t ** (self.p - 1)

    def _kappa_inv(self, k: Tensor) -> Tensor:
        return k ** (1 / self.p)

    def config(self) -> dict[str, float | str]:
        return {"name": self.name, "p": self.p}


class _FixedPowerSchedule(PowerSchedule):
    """A power schedule with a name of its own and a fixed ``exponent``: built without arguments, its
    spec is just its name."""

    exponent = 1.0

    def __init__(self) -> None:
        super().__init__(self.exponent)

    def config(self) -> dict[str, float | str]:
        return {"name": self.name}


class RootSchedule(_FixedPowerSchedule):
    """Root (Weber et al. 2024): κ_t = √t, κ̇_t = 1 / (2√t) (infinite at t = 0)."""

    name = "root"
    exponent = 0.5


class LinearSchedule(_FixedPowerSchedule):
    """Linear (Campbell et al. 2024): κ_t = t, κ̇_t = 1."""

    name = "linear"
    exponent = 1.0


class QuadraticSchedule(_FixedPowerSchedule):
    """Quadratic: κ_t = t², κ̇_t = 2t."""

    name = "quadratic"
    exponent = 2.0
