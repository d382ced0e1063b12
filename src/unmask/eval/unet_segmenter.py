"""The U-Net segmentation baseline of the joint models (issue 19), held by ``discriminative_baselines``.

A small convolutional U-Net (:class:`unmask.models.unet.UNet`) trained with AdamW, weight decay,
linear warm-up then cosine decay, and random shifts applied identically to image and mask
(``shift_pair``); ``train_unet_segmenter`` scores it on a held-out set every ``eval_every`` steps
(``evaluate_segmenter``: cross-entropy, pixel accuracy, mIoU) and stops when the ``stop`` rule it
is handed says so; ``unet_segmenter_baseline`` runs that on a ``StreamDataset`` (``shapes``) with a
validation set carved out of the train split and scores the test split once (``SegmenterRun``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..data import StreamDataset, batch_indices, get_dataset
from ..models.unet import UNet, UNetConfig
from ._segmenter_state import load_state, save_state
from ._threads import torch_threads
from .segmentation import SegmentationScores, scores_from_confusion

__all__ = [
    "IGNORE",
    "SegmenterRun",
    "StopRule",
    "evaluate_segmenter",
    "shift_pair",
    "train_unet_segmenter",
    "unet_segmenter_baseline",
]

IGNORE = -100  # mask pixels shifted in from outside the canvas: no loss


def shift_pair(
    images: Tensor, masks: Tensor, max_shift: int, stride: int, gen: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Translate each image and its mask by the same random offset, up to ``max_shift`` mask pixels.

    Args:
        images: (N, H, W) token images; masks: (N, H / stride, W / stride) class ids.
        max_shift: offsets are drawn uniformly in [−max_shift, max_shift] mask pixels per axis
            (``stride`` times that in image pixels, so image and mask stay aligned exactly).
        gen: the draws.

    Returns the shifted pair: image pixels shifted in from outside repeat the edge, mask pixels
    shifted in are ``IGNORE`` (−100, no loss).
    """
    if max_shift == 0:
        return images, masks
    n, h, w = images.shape
    mh, mw = masks.shape[1:]
    dy = torch.randint(-max_shift, max_shift + 1, (n,), generator=gen)
    dx = torch.randint(-max_shift, max_shift + 1, (n,), generator=gen)
    ar = torch.arange(n)[:, None, None]
    # output pixel (r, c) reads input (r − d·stride, c − d·stride), clamped for the image
    rows = torch.arange(h)[None] - dy[:, None] * stride
    cols = torch.arange(w)[None] - dx[:, None] * stride
    img = images[ar, rows.clamp(0, h - 1)[:, :, None], cols.clamp(0, w - 1)[:, None, :]]
    mrows = torch.arange(mh)[None] - dy[:, None]
    mcols = torch.arange(mw)[None] - dx[:, None]
    inside = ((mrows >= 0) & (mrows < mh))[:, :, None] & ((mcols >= 0) & (mcols < mw))[:, None, :]
    msk = masks[ar, mrows.clamp(0, mh - 1)[:, :, None], mcols.clamp(0, mw - 1)[:, None, :]]
    return img, torch.where(inside, msk, torch.full_like(msk, IGNORE))


@dataclass
class SegmenterRun:
    """A trained U-Net segmenter and how it got there.

    Attributes:
        model: the U-Net (eval mode) at the last step trained.
        config: its ``UNetConfig``.
        curve: one record per evaluation: {"step", "loss" (held-out mean cross-entropy per pixel),
            "pixel_accuracy", "miou", "lr", "seconds"}.
        steps: steps trained; stopped_early: whether ``stop`` ended the run before ``max_steps``.
        reason: why it stopped, in words.
        num_parameters: trainable parameters of the U-Net.
        hyper: the training settings.
        test: scores on the test set, when one was given.
    """

    model: UNet
    config: UNetConfig
    curve: list[dict[str, float]]
    steps: int
    stopped_early: bool
    reason: str
    num_parameters: int
    hyper: dict[str, Any]
    test: SegmentationScores | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, class_names: tuple[str, ...] | None = None) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "num_parameters": self.num_parameters,
            "hyper": self.hyper,
            "steps": self.steps,
            "stopped_early": self.stopped_early,
            "reason": self.reason,
            "curve": self.curve,
            "test": None if self.test is None else self.test.to_dict(class_names),
            **self.extra,
        }


@torch.no_grad()
def evaluate_segmenter(
    model: UNet, images: Tensor, masks: Tensor, batch_size: int = 256
) -> tuple[float, SegmentationScores]:
    """(mean per-pixel cross-entropy, ``SegmentationScores``) of ``model`` on (N, H, W) images and their masks."""
    was = model.training
    model.eval()
    k = model.config.num_classes
    total, count = 0.0, 0
    confusion = np.zeros((k, k), dtype=np.int64)
    for i in range(0, len(images), batch_size):
        logits = model(images[i : i + batch_size])
        target = masks[i : i + batch_size]
        total += float(F.cross_entropy(logits, target, reduction="sum"))
        count += target.numel()
        flat = target.reshape(-1) * k + logits.argmax(1).reshape(-1)
        confusion += torch.bincount(flat, minlength=k * k).reshape(k, k).numpy()
    model.train(was)
    return total / max(count, 1), scores_from_confusion(confusion)


def _lr_factor(step: int, steps: int, warmup: int, min_ratio: float) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine from 1 to ``min_ratio`` at ``steps``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


#: ``stop(history, step) -> (stop?, reason)``: history is the (step, held-out loss) pairs so far.
StopRule = Callable[[list[tuple[int, float]], int], tuple[bool, str]]


def train_unet_segmenter(
    train_images: Tensor,
    train_masks: Tensor,
    heldout_images: Tensor,
    heldout_masks: Tensor,
    *,
    config: UNetConfig,
    max_steps: int = 4000,
    batch_size: int = 64,
    lr: float = 2e-3,
    weight_decay: float = 0.05,
    warmup_steps: int = 100,
    min_lr_ratio: float = 0.1,
    max_shift: int = 1,
    eval_every: int = 100,
    stop: StopRule | None = None,
    test_images: Tensor | None = None,
    test_masks: Tensor | None = None,
    seed: int = 0,
    threads: int | None = 1,
    log: Callable[[dict[str, float]], None] | None = None,
    state_path: str | Path | None = None,
) -> SegmenterRun:
    """Train a U-Net to map token images to masks; a learning curve on the held-out set.

    Args:
        train_images, heldout_images (, test_images): (N, H, W) int grey-level ids in
            [0, config.levels − 1].
        train_masks, heldout_masks (, test_masks): (N, H / s, W / s) class ids in
            [0, config.num_classes − 1], s = ``config.output_stride``.
        config: the U-Net.
        max_steps: the step budget; the cosine schedule runs over it.
        batch_size, lr, weight_decay: AdamW (weight decay on the weights of convolutions only,
            not on norms and biases).
        warmup_steps, min_lr_ratio: linear warm-up, then cosine decay to ``lr · min_lr_ratio``.
        max_shift: random shifts of up to this many mask pixels (× stride image pixels), the same
            for an image and its mask; 0 turns augmentation off.
        eval_every: evaluate on the held-out set every this many steps (and at the last step).
        stop: after each evaluation, ``stop(history, step)`` → (stop, reason) on the
            (step, held-out loss) history; e.g. the project's plateau criterion.
        test_images, test_masks: scored once with the final model (``SegmenterRun.test``).
        seed: initialisation, batch order and shifts.
        threads: torch intra-op threads for the run (None: leave the setting alone).
        log: called with each curve record as it is made.
        state_path: a file the run's state (weights, optimiser, generator, step, curve) is written
            to atomically at every evaluation. When it exists the run resumes from it and goes on
            as if never stopped; ``max_steps`` may be raised (the cosine then continues from the
            resumed step over the new budget: a warm restart). ``ValueError`` when the state was
            made with other settings or data sizes.
    """
    if max_steps < 1 or eval_every < 1 or batch_size < 1:
        raise ValueError(
            f"max_steps, eval_every and batch_size must be >= 1, got {max_steps}, {eval_every}, {batch_size}"
        )
    s = config.output_stride
    for name, img, msk in (
        ("train", train_images, train_masks),
        ("held-out", heldout_images, heldout_masks),
        ("test", test_images, test_masks),
    ):
        if img is None or msk is None:
            continue
        want = (len(img), img.shape[1] // s, img.shape[2] // s) if img.ndim == 3 else None
        if want is None or tuple(msk.shape) != want:
            raise ValueError(
                f"{name} masks of shape {tuple(msk.shape)} do not match {tuple(img.shape)} images at output_stride {s}"
            )
        if msk.numel() and (int(msk.min()) < 0 or int(msk.max()) >= config.num_classes):
            raise ValueError(f"{name} masks hold ids outside the {config.num_classes} classes")
    hyper = {
        "max_steps": max_steps,
        "batch_size": batch_size,
        "lr": lr,
        "weight_decay": weight_decay,
        "warmup_steps": warmup_steps,
        "min_lr_ratio": min_lr_ratio,
        "max_shift_mask_px": max_shift,
        "eval_every": eval_every,
        "seed": seed,
        "train_n": len(train_images),
        "heldout_n": len(heldout_images),
    }
    with torch_threads(threads):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        model = UNet(config)
        decay = [p for n, p in model.named_parameters() if p.ndim > 1]
        no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
        opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr
        )
        x_all, y_all = train_images.long(), train_masks.long()
        history: list[tuple[int, float]] = []
        curve: list[dict[str, float]] = []
        reason, stopped, step = f"trained the full budget of {max_steps} steps", False, 0
        before = 0.0  # seconds trained before a resume
        if state_path is not None and Path(state_path).exists():
            step, before = load_state(Path(state_path), model, opt, gen, curve, hyper, config)
            history.extend((int(r["step"]), float(r["loss"])) for r in curve)
        t0 = time.perf_counter()
        model.train()
        while step < max_steps:
            factor = _lr_factor(step, max_steps, warmup_steps, min_lr_ratio)
            for group in opt.param_groups:
                group["lr"] = lr * factor
            idx = batch_indices(len(x_all), batch_size, step, seed)  # epochs of seeded permutations
            x, y = shift_pair(x_all[idx], y_all[idx], max_shift, s, gen)
            loss = F.cross_entropy(model(x), y, ignore_index=IGNORE)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step % eval_every == 0 or step == max_steps:
                held_loss, scores = evaluate_segmenter(model, heldout_images.long(), heldout_masks.long())
                record = {
                    "step": step,
                    "loss": held_loss,
                    "pixel_accuracy": scores.pixel_accuracy,
                    "miou": scores.miou,
                    "lr": lr * factor,
                    "seconds": round(before + time.perf_counter() - t0, 2),
                }
                curve.append(record)
                history.append((step, held_loss))
                if state_path is not None:
                    save_state(Path(state_path), model, opt, gen, curve, step, record["seconds"], hyper, config)
                if log is not None:
                    log(record)
                if stop is not None and step < max_steps:
                    done, why = stop(history, step)
                    if done:
                        reason, stopped = why, True
                        break
        model.eval()
        test = None
        if test_images is not None and test_masks is not None:
            test = evaluate_segmenter(model, test_images.long(), test_masks.long())[1]
    return SegmenterRun(
        model=model,
        config=config,
        curve=curve,
        steps=step,
        stopped_early=stopped,
        reason=reason,
        num_parameters=model.num_parameters(),
        hyper=hyper,
        test=test,
    )


def unet_segmenter_baseline(
    dataset: str = "shapes",
    *,
    levels: int | None = None,
    image_stream: str | None = None,
    mask_stream: str | None = None,
    width: int = 32,
    depth: int = 3,
    norm: str = "group",
    val_n: int = 1000,
    train_n: int | None = None,
    test_n: int | None = None,
    seed: int = 0,
    **train_kwargs: Any,
) -> SegmenterRun:
    """Train the U-Net baseline on a segmentation ``StreamDataset`` (``shapes``) and score it on its test split.

    ``val_n`` images of the train split (a seeded random choice) are held out for the learning
    curve and the stopping decision, so the test split is seen once, by the final model;
    ``train_n`` caps the rest, ``test_n`` takes the first test images (None: all). The output
    stride is the image grid over the mask grid. Other keywords go to :func:`train_unet_segmenter`.
    """
    train, test = get_dataset(dataset, "train", levels), get_dataset(dataset, "test", levels)
    if not isinstance(train, StreamDataset) or not isinstance(test, StreamDataset):
        raise ValueError(f"dataset {dataset!r} is not a dataset of paired streams")
    img_s = image_stream or train.image_stream
    seg = [k for k, kind in train.kinds.items() if kind == "segmentation"]
    msk_s = mask_stream or (seg[0] if len(seg) == 1 else None)
    if msk_s is None or train.kinds.get(msk_s) != "segmentation":
        raise ValueError(f"dataset {dataset!r}: name the segmentation stream (found {seg})")
    ih, iw = train.grids[img_s]
    mh, mw = train.grids[msk_s]
    if ih % mh or iw % mw or ih // mh != iw // mw:
        raise ValueError(f"the mask grid {mh}×{mw} is not the image grid {ih}×{iw} over one stride")
    num_classes = len(train.class_names.get(msk_s, ())) or train.vocab_sizes[msk_s] - 1
    config = UNetConfig(
        levels=train.vocab_sizes[img_s] - 1,
        num_classes=num_classes,
        width=width,
        depth=depth,
        output_stride=ih // mh,
        norm=norm,
    )
    n = len(train)
    if not 0 < val_n < n:
        raise ValueError(f"val_n must be in [1, {n - 1}], got {val_n}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed + 1_000_003))
    val_idx, fit_idx = perm[:val_n].sort().values, perm[val_n:].sort().values
    if train_n is not None:
        fit_idx = fit_idx[:train_n]
    t_end = len(test) if test_n is None else min(test_n, len(test))
    run = train_unet_segmenter(
        train.streams[img_s][fit_idx],
        train.streams[msk_s][fit_idx],
        train.streams[img_s][val_idx],
        train.streams[msk_s][val_idx],
        test_images=test.streams[img_s][:t_end],
        test_masks=test.streams[msk_s][:t_end],
        config=config,
        seed=seed,
        **train_kwargs,
    )
    run.extra.update(
        {
            "dataset": dataset,
            "levels": config.levels,
            "heldout": f"{val_n} images of the train split (seed {seed}), not trained on",
            "test_n": t_end,
            "class_names": list(train.class_names.get(msk_s, ())),
        }
    )
    return run
