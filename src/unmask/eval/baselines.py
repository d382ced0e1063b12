"""Naive reference samplers, to put a model's scores in context."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["IndependentPixelSampler"]


class IndependentPixelSampler:
    """Per-class independent-token sampler: every position drawn from its own class-conditional marginal.

    ``fit`` counts token frequencies per (class, position) on training tokens (with an
    add-``alpha`` prior); ``sample`` draws each position independently. It matches every
    per-pixel marginal exactly and no correlation between pixels: a floor on what a
    generative model must beat.
    """

    def __init__(self, alpha: float = 0.5) -> None:
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0, got {alpha}")
        self.alpha = alpha
        self.probs: Tensor | None = None  # (C, *grid, V) float64

    def fit(self, tokens: Tensor, labels: Tensor, num_classes: int, vocab: int) -> IndependentPixelSampler:
        """tokens (N, *grid) ids in [0, vocab), labels (N,) in [0, num_classes)."""
        if tokens.shape[0] != labels.shape[0]:
            raise ValueError(f"{tokens.shape[0]} token images but {labels.shape[0]} labels")
        tok, lab = tokens.long(), labels.long()
        if tok.numel() and (int(tok.min()) < 0 or int(tok.max()) >= vocab):
            raise ValueError(f"tokens must be in [0, {vocab - 1}], got values in [{int(tok.min())}, {int(tok.max())}]")
        if lab.numel() and (int(lab.min()) < 0 or int(lab.max()) >= num_classes):
            raise ValueError(
                f"labels must be in [0, {num_classes - 1}], got values in [{int(lab.min())}, {int(lab.max())}]"
            )
        grid = tokens.shape[1:]
        positions = int(np.prod(grid))  # 1 for a () grid
        # one flat bincount over (class, position, token): memory O(N·positions), not O(N·positions·V)
        flat = (lab[:, None] * positions + torch.arange(positions)[None, :]) * vocab + tok.reshape(len(tok), positions)
        counts = torch.bincount(flat.reshape(-1), minlength=num_classes * positions * vocab).double()
        counts = counts.reshape(num_classes, *grid, vocab) + self.alpha
        self.probs = counts / counts.sum(-1, keepdim=True)
        return self

    def sample(self, labels: Tensor | np.ndarray, generator: torch.Generator | None = None) -> Tensor:
        """(N, *grid) int64 tokens for the given class labels (N,)."""
        if self.probs is None:
            raise RuntimeError("call fit() before sample()")
        lab = torch.as_tensor(np.asarray(labels)).long()
        if lab.numel() and (lab.min() < 0 or lab.max() >= self.probs.shape[0]):
            raise ValueError(f"labels must be in [0, {self.probs.shape[0] - 1}]")
        p = self.probs[lab]  # (N, *grid, V)
        cdf = p.cumsum(-1)
        u = torch.rand(p.shape[:-1] + (1,), dtype=torch.float64, generator=generator)
        return torch.searchsorted(cdf, u * cdf[..., -1:], right=True).squeeze(-1).clamp_max(p.shape[-1] - 1)
