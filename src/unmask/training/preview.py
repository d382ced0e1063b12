"""What a checkpoint looks like: a preview of the EMA model's samples, written next to the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor

from .._io import atomic_write_text
from ..config import Config
from ..data import StreamDataset
from ..models import VideoTransformer
from ..samplers import EulerSampler, MultiStreamSampler
from ..schedules import get_schedule
from ..visualize import save_grid, save_video_grid
from .batches import AnyDataset
from .factories import default_sampler

__all__ = ["preview_classes", "sample_grid"]


def preview_classes(num_classes: int, rows: int = 10) -> list[int]:
    """The classes shown in a preview grid: all of them, or ``rows`` evenly spaced ones (captions)."""
    if num_classes <= rows:
        return list(range(num_classes))
    return [i * num_classes // rows for i in range(rows)]


@torch.no_grad()
def sample_grid(model: Any, dataset: AnyDataset, config: Config, path: Path, device: torch.device) -> Path:
    """A preview of the model at a checkpoint, with a fixed seed and the run's sample settings.

    Images: a PNG of ``sample.per_class`` samples per class (rows = classes, at most 10, evenly spaced:
    captions of a text model), or 10 rows
    for unconditional models; for video models the same clips, one row of frames per clip.
    Text: ``per_class`` samples, one per paragraph, in a .txt
    next to where the PNG would be. Multi-stream models: ``per_class`` rows of joint
    samples, every image-like stream side by side (``unmask.visualize.render_streams``).
    Returns the file written.
    """
    model.eval()
    sc = config.sample
    if isinstance(dataset, StreamDataset):
        from ..visualize import render_streams

        euler = EulerSampler(
            steps=sc.steps,
            schedule=get_schedule(sc.schedule) if sc.schedule else get_schedule(config.path.schedule_spec()),
            update=cast(Any, sc.update),
            temperature=sc.temperature,
            top_p=sc.top_p,
            top_k=sc.top_k,
            final_argmax=sc.final_argmax,
        )
        gen = torch.Generator(device=device).manual_seed(0)
        joint = MultiStreamSampler("joint", euler).sample(model, n=sc.per_class * 8, generator=gen, device=device)
        pictures = render_streams({k: v.cpu() for k, v in joint.tokens.items()}, dataset)
        return save_grid(pictures, path, nrow=8)
    sampler = default_sampler(model, config)
    gen = torch.Generator(device=device).manual_seed(0)
    text = dataset.tokenizer.kind == "text"
    if model.num_classes > 0:
        rows = preview_classes(model.num_classes)
        labels: Tensor | None = torch.tensor(rows, device=device).repeat_interleave(sc.per_class)
        out = sampler.sample(model, labels=labels, generator=gen, device=device)
    else:
        out = sampler.sample(model, sc.per_class * (1 if text else 10), generator=gen, device=device)
    decoded = dataset.tokenizer.decode(out.tokens.cpu())
    if isinstance(model, VideoTransformer):
        return save_video_grid(np.asarray(decoded), path)
    if text:
        out_path = path.with_suffix(".txt")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out_path, "\n\n".join(f"--- sample {i} ---\n{s}" for i, s in enumerate(decoded)) + "\n")
        return out_path
    return save_grid(decoded, path, nrow=sc.per_class)
