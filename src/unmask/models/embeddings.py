"""Embedders: sinusoidal time, class label with a null slot, fixed n-d positions."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["TimestepEmbedder", "LabelEmbedder", "sincos_positions"]


def _sincos_1d(positions: Tensor, dim: int) -> Tensor:
    """(N,) positions → (N, dim) sin/cos features with geometric frequencies."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / max(half, 1))
    angles = positions.to(torch.float64)[:, None] * freqs[None]
    emb = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros(len(positions), 1, dtype=torch.float64)], dim=1)
    return emb.float()


def sincos_positions(grid: tuple[int, ...], dim: int, extent: tuple[int, ...] | None = None) -> Tensor:
    """Fixed positions for a token grid of 1, 2 or 3 axes, shape (prod(grid), dim).

    The channels are split evenly across axes (the remainder goes to the last axis);
    each axis gets 1-D sin/cos features of its coordinate (as in MAE/DiT for 2-D).

    ``extent`` places the grid in a common frame of that many cells per axis: cell k of
    an axis of g cells sits at (k + 0.5) · extent / g − 0.5, its centre in frame units
    (the integer k when extent = g). Two grids over one canvas at different resolutions
    (an image and its lower-resolution class map) then share coordinates.
    """
    n = len(grid)
    if n < 1:
        raise ValueError(f"grid must have at least one axis, got {grid}")
    if extent is not None and len(extent) != n:
        raise ValueError(f"extent {extent} must have one entry per grid axis {grid}")
    sizes = [dim // n] * n
    sizes[-1] += dim - sum(sizes)
    axes = [torch.arange(g, dtype=torch.float64) for g in grid]
    if extent is not None:
        axes = [(a + 0.5) * (e / g) - 0.5 for a, g, e in zip(axes, grid, extent, strict=True)]
    coords = torch.meshgrid(*axes, indexing="ij")
    parts = [_sincos_1d(c.reshape(-1), s) for c, s in zip(coords, sizes, strict=True)]
    return torch.cat(parts, dim=1)


class TimestepEmbedder(nn.Module):
    """t ∈ [0, 1] (B,) → (B, dim): sinusoidal features of 1000·t followed by a 2-layer MLP."""

    def __init__(self, dim: int, freq_dim: int = 256) -> None:
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: Tensor) -> Tensor:
        half = self.freq_dim // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
        angles = 1000.0 * t.float()[:, None] * freqs[None]  # (B, half)
        return self.mlp(torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1))


class LabelEmbedder(nn.Module):
    """Class labels (B,) in [0, num_classes] → (B, dim); id ``num_classes`` is the null label [C]."""

    def __init__(self, num_classes: int, dim: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.table = nn.Embedding(num_classes + 1, dim)

    @property
    def null_label(self) -> int:
        return self.num_classes

    def forward(self, labels: Tensor) -> Tensor:
        return self.table(labels)
