"""Cosine schedule (MaskGIT, Chang et al. 2022)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .base import Schedule

__all__ = ["CosineSchedule"]


class CosineSchedule(Schedule):
    """κ_t = 1 − cos(πt/2), κ̇_t = (π/2) sin(πt/2), κ⁻¹(k) = (2/π) arccos(1 − k)."""

    name = "cosine"

    def _kappa(self, t: Tensor) -> Tensor:
        return 1 - torch.cos(math.pi * t / 2)

    def _kappa_dot(self, t: Tensor) -> Tensor:
        return (math.pi / 2) * torch.sin(math.pi * t / 2)

    def _kappa_inv(self, k: Tensor) -> Tensor:
        return (2 / math.pi) * torch.arccos(1 - k)
