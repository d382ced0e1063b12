"""Pixel tokenizer: grey levels quantised to ``levels`` tokens (and back to uint8)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["PixelQuantizer"]


class PixelQuantizer:
    """Maps intensities in [0, max_value] to tokens 0 … levels − 1 and back.

    ``encode`` rounds ``x · (levels − 1) / max_value``; ``decode`` maps token j to
    round(j · 255 / (levels − 1)) as uint8. With levels = max_value + 1 (digits:
    17 levels of 0 … 16) encoding is the identity. Works on grey images of any shape.
    """

    kind = "image"
    channels = 1

    def __init__(self, levels: int, max_value: float = 255.0) -> None:
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2:
            raise ValueError(f"levels must be an integer >= 2, got {levels!r}")
        if not max_value > 0:
            raise ValueError(f"max_value must be > 0, got {max_value}")
        self.levels = levels
        self.max_value = float(max_value)

    @property
    def vocab_size(self) -> int:
        """Token ids including the [MASK] id (= levels)."""
        return self.levels + 1

    def encode(self, images: np.ndarray | Tensor) -> Tensor:
        """(N, H, W) intensities in [0, max_value] → (N, H, W) int64 tokens."""
        x = torch.as_tensor(np.asarray(images), dtype=torch.float64)
        if x.numel() and (x.min() < 0 or x.max() > self.max_value):
            raise ValueError(
                f"intensities must be in [0, {self.max_value}], got range [{x.min().item()}, {x.max().item()}]"
            )
        return torch.round(x * (self.levels - 1) / self.max_value).long()

    def decode(self, tokens: Tensor | np.ndarray) -> np.ndarray:
        """(N, ...) tokens in [0, levels − 1] → uint8 images of the same shape."""
        t = torch.as_tensor(np.asarray(tokens)).long()
        if t.numel() and (t.min() < 0 or t.max() >= self.levels):
            raise ValueError(f"tokens must be in [0, {self.levels - 1}] to decode, got range [{t.min()}, {t.max()}]")
        return torch.round(t.double() * 255.0 / (self.levels - 1)).to(torch.uint8).numpy()

    def config(self) -> dict[str, object]:
        return {"name": "pixel", "levels": self.levels, "max_value": self.max_value}
