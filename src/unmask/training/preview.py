"""What a checkpoint looks like: a preview of the EMA model's samples, written next to the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..config import Config
from .batches import AnyDataset
from .families import family_for, preview_classes

__all__ = ["preview_classes", "sample_grid"]


@torch.no_grad()
def sample_grid(model: Any, dataset: AnyDataset, config: Config, path: Path, device: torch.device) -> Path:
    """A preview of the model at a checkpoint, with a fixed seed and the run's sample settings, drawn
    as the run's model family draws it (``ModelFamily.preview``).

    Images: a PNG of ``sample.per_class`` samples per class (rows = classes, at most 10, evenly spaced:
    captions of a text model), or 10 rows
    for unconditional models; for video models the same clips, one row of frames per clip.
    Text: ``per_class`` samples, one per paragraph, in a .txt
    next to where the PNG would be. Multi-stream models: ``per_class`` rows of joint
    samples, every image-like stream side by side (``unmask.visualize.render_streams``).
    Returns the file written.
    """
    model.eval()
    return family_for(config).preview(model, dataset, config, path, device)
