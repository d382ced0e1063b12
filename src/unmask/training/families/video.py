"""The video family: a ``VideoTransformer`` (factorised space / time attention) over token clips (N, T, H, W).

A run is of this family when its in-memory dataset holds clips (``unmask.data.is_video_dataset``).
Its objective and default sampler are the masked token grid's (with ``path.prefix_prob`` for
continuation); its preview is one row of frames per clip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from ...config import Config
from ...data import is_video_dataset
from ...models import VideoTransformer, VideoTransformerConfig
from ...visualize import save_video_grid
from ..batches import AnyDataset
from .base import timestep_kind
from .token_grid import TokenGridFamily

__all__ = ["VideoFamily"]


class VideoFamily(TokenGridFamily):
    """Token clips: the spatio-temporal backbone, masked tokens, previews as frame strips."""

    name = "video"
    kind = "video"
    fallback = False
    backbone_class = VideoTransformer
    config_class = VideoTransformerConfig

    def matches(self, config: Config) -> bool:
        """An in-memory video dataset (``data.name`` in ``unmask.data.VIDEO_DATASETS``)."""
        return config.data.shards is None and is_video_dataset(config.data.name)

    def build_model(self, config: Config, dataset: AnyDataset) -> nn.Module:
        """``VideoTransformer`` on the clips' vocabulary, grid (T, H, W) and classes."""
        return VideoTransformer(config.model.video_backbone(dataset.vocab_size, dataset.grid, dataset.num_classes))

    def describe(self, backbone: dict[str, Any]) -> list[str]:
        """Timestep kind, frames and frame size, patch, vocabulary, width, depth, heads and classes."""
        bb = backbone
        kind = timestep_kind(bb)
        frames, height, width = bb["grid"]
        return [
            f"model: video {kind}, factorised space / time attention, {frames} frames of {height}×{width} tokens, "
            f"patch {bb['patch']}, vocab {bb['vocab_size']} (incl. [MASK]), dim {bb['dim']}, depth {bb['depth']} "
            f"(spatial + temporal), heads {bb['heads']}, classes {bb['num_classes']}"
        ]

    def save_preview(self, decoded: np.ndarray, path: Path, config: Config) -> Path:
        """Clips as one row of frames each."""
        return save_video_grid(decoded, path)
