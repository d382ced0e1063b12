"""A segmenter that judges generated images: does a mask → image sample show the mask it was asked for?

The judge is the convolutional U-Net baseline (:func:`unet_segmenter_baseline`, its recipe at its
plateau: width 32, 3 levels, AdamW 2·10⁻³, weight decay 0.05, ±1 mask-pixel shifts, batch 64, a
cosine over 6,000 steps, 1,000 train images held out for the stopping rule), trained once per dataset
and grey-level count on real images and cached on disk like the classifier judge
(``cache_dir()/segmenters``). Two measures use it:

* **cycle mIoU** (mask → image): the judge's mask of each generated image against the mask that
  conditioned it. Real images score the judge's own test mIoU, the ceiling of the measure.
* **agreement mIoU** (joint samples of image and mask): the judge's mask of each generated image
  against the mask generated with it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .._io import atomic_write_text, load_cached_weights, save_weights_atomically
from ..data import StreamDataset, get_dataset
from ..models.unet import UNet, UNetConfig
from ..paths import cache_dir
from .segmentation import SegmentationScores, segmentation_scores
from .unet_segmenter import StopRule, unet_segmenter_baseline

__all__ = ["JUDGE_RECIPE", "SegmenterJudge", "load_or_train_segmenter", "judge_scores"]

#: The U-Net baseline's recipe at its plateau (docs/results.md, "Segmentation: the convolutional U-Net
#: baseline at its plateau"); part of the cache key, so a changed recipe trains a new judge.
JUDGE_RECIPE: dict[str, Any] = {
    "width": 32,
    "depth": 3,
    "norm": "group",
    "val_n": 1000,
    "seed": 0,
    "max_steps": 6000,
    "batch_size": 64,
    "lr": 2e-3,
    "weight_decay": 0.05,
    "eval_every": 200,
}


@dataclass
class SegmenterJudge:
    """A trained U-Net judge with its scores on the real test split.

    Attributes:
        model: the U-Net, eval mode: (B, H, W) grey-level ids → (B, classes, H / s, W / s) logits.
        test_miou, test_pixel_accuracy: on the dataset's whole test split (the measure's ceiling).
        dataset: the dataset it was trained on; levels: its grey levels.
        path: its cached weights.
    """

    model: UNet
    test_miou: float
    test_pixel_accuracy: float
    dataset: str
    levels: int
    path: Path

    @torch.no_grad()
    def predict(self, images: Tensor | np.ndarray, batch_size: int = 256) -> np.ndarray:
        """(N, H, W) grey-level ids in [0, levels − 1] → (N, H / s, W / s) int64 class ids (arg-max)."""
        x = torch.as_tensor(np.asarray(images)).long()
        if x.ndim != 3:
            raise ValueError(f"images must be (N, H, W) grey-level ids, got shape {tuple(x.shape)}")
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.levels):
            bad = int(x.min()) if int(x.min()) < 0 else int(x.max())
            raise ValueError(f"images hold grey level {bad} outside [0, {self.levels - 1}] of the judge")
        out = [self.model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)]
        return torch.cat(out).numpy().astype(np.int64) if out else np.zeros((0,), dtype=np.int64)


def judge_scores(judge: SegmenterJudge, images: Tensor | np.ndarray, masks: Tensor | np.ndarray) -> SegmentationScores:
    """The judge's masks of ``images`` (N, H, W) scored against ``masks`` (N, H / s, W / s): mIoU,
    pixel accuracy and per-class IoU (``SegmentationScores``)."""
    pred = judge.predict(images)
    target = np.asarray(masks).astype(np.int64)
    if pred.shape != target.shape:
        raise ValueError(f"the judge's masks {pred.shape} do not match the masks given {target.shape}")
    return segmentation_scores(pred, target, judge.model.config.num_classes)


def _streams(data: StreamDataset) -> tuple[str, str]:
    seg = [k for k, kind in data.kinds.items() if kind == "segmentation"]
    if len(seg) != 1:
        raise ValueError(f"dataset {data.name!r} has {len(seg)} segmentation streams; a judge needs one")
    return data.image_stream, seg[0]


def load_or_train_segmenter(
    dataset: str,
    *,
    levels: int | None = None,
    stop: StopRule | None = None,
    stop_name: str = "none",
    threads: int | None = None,
    refresh: bool = False,
    log: Callable[[dict[str, float]], None] | None = None,
) -> SegmenterJudge:
    """The U-Net judge of ``dataset`` (a registered ``StreamDataset`` with one image and one segmentation
    stream, e.g. ``shapes``) at ``levels`` grey levels: trained once with ``JUDGE_RECIPE`` and ``stop``
    (e.g. the project's plateau rule; ``stop_name`` names it in the cache key), then read from
    ``cache_dir()/segmenters``. Training says so on stderr (it takes about half an hour for ``shapes``
    on two CPU threads). ``ValueError`` for a dataset without paired image and segmentation streams.
    """
    train = get_dataset(dataset, "train", levels)
    if not isinstance(train, StreamDataset):
        raise ValueError(f"dataset {dataset!r} is not a dataset of paired streams; no segmenter judge for it")
    img_s, msk_s = _streams(train)
    lv = train.vocab_sizes[img_s] - 1
    # a fifth of a small train split at most is held out (tests shrink the splits)
    val_n = min(int(JUDGE_RECIPE["val_n"]), len(train) // 5)
    recipe = {**JUDGE_RECIPE, "val_n": val_n, "stop": stop_name, "levels": lv, "image": img_s, "mask": msk_s}
    blob = train.streams[img_s].numpy().tobytes() + train.streams[msk_s].numpy().tobytes()
    digest = hashlib.sha256(blob + json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    root = cache_dir() / "segmenters"
    weights, meta = root / f"{dataset}-{digest}.safetensors", root / f"{dataset}-{digest}.json"
    cached = None if refresh else load_cached_weights(weights, meta, lambda info: UNet(UNetConfig(**info["config"])))
    if cached is not None:
        model, info = cached
        try:
            return SegmenterJudge(
                model.eval(), float(info["test_miou"]), float(info["test_pixel_accuracy"]), dataset, lv, weights
            )
        except (KeyError, TypeError, ValueError):
            pass  # a record without its scores: train again
    print(f"training the segmenter judge of {dataset!r} once (cached in {root})", file=sys.stderr, flush=True)
    hyper = {k: v for k, v in recipe.items() if k not in ("stop", "levels", "image", "mask")}
    run = unet_segmenter_baseline(
        dataset, levels=levels, image_stream=img_s, mask_stream=msk_s, stop=stop, threads=threads, log=log, **hyper
    )
    assert run.test is not None
    root.mkdir(parents=True, exist_ok=True)
    save_weights_atomically(run.model, weights)
    info = {
        "config": run.config.to_dict(),
        "test_miou": run.test.miou,
        "test_pixel_accuracy": run.test.pixel_accuracy,
        "steps": run.steps,
        "reason": run.reason,
        "recipe": recipe,
    }
    atomic_write_text(meta, json.dumps(info, indent=1) + "\n")
    return SegmenterJudge(run.model.eval(), run.test.miou, run.test.pixel_accuracy, dataset, lv, weights)
