"""Arccos schedule (MaskBit, Weber et al. 2024)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .base import Schedule

__all__ = ["ArccosSchedule"]


class ArccosSchedule(Schedule):
    """κ_t = 1 − 2 arccos(t) / π, κ̇_t = 2 / (π √(1 − t²)) (infinite at t = 1), κ⁻¹(k) = cos(π(1 − k)/2)."""

    name = "arccos"

    def _kappa(self, t: Tensor) -> Tensor:
        return 1 - 2 * torch.arccos(t) / math.pi

    def _kappa_dot(self, t: Tensor) -> Tensor:
        return 2 / (math.pi * torch.sqrt(1 - t * t))

    def _kappa_inv(self, k: Tensor) -> Tensor:
        return torch.cos(math.pi * (1 - k) / 2)
