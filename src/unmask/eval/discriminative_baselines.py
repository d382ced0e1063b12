"""Discriminative baselines for the joint models (issue 19): what a practitioner would train instead.

Joint models classify and segment by unmasking a label or mask stream. To read their scores
honestly they are set beside the plain discriminative models on the same splits:

* :func:`sklearn_classifier_baselines`: scikit-learn's logistic regression and RBF SVC on the
  flattened pixels scaled to [0, 1] (the images exactly as ``get_dataset(name, split).images()``
  gives them), the regularisation C chosen by stratified k-fold cross-validation on the train
  split only, then refit on the whole train split and scored once on the test split.
* :func:`train_unet_segmenter`: a small convolutional U-Net (:class:`unmask.models.unet.UNet`)
  trained with AdamW, weight decay, linear warm-up then cosine decay, and random shifts applied
  identically to image and mask; it is scored on a held-out set every ``eval_every`` steps
  (cross-entropy, pixel accuracy, mIoU) and stops when ``stop`` says so — pass the project's
  plateau criterion (``unmask.training.plateau.check_plateau``; ``eval`` sits below
  ``training`` in the layer order, so it is handed in rather than imported).
* :func:`unet_segmenter_baseline`: that training on a ``StreamDataset`` (``shapes``) with a
  validation set carved out of the train split for the curve and the stopping decision, and
  the test split scored once at the end.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..data import StreamDataset, TokenDataset, batch_indices, get_dataset
from ..models.unet import UNet, UNetConfig
from ._threads import torch_threads
from .segmentation import SegmentationScores, scores_from_confusion

__all__ = [
    "LOGREG_C_GRID",
    "SVC_C_GRID",
    "sklearn_classifier_baselines",
    "subsample_stratified",
    "SegmenterRun",
    "evaluate_segmenter",
    "shift_pair",
    "train_unet_segmenter",
    "unet_segmenter_baseline",
]

#: Inverse regularisation strengths searched for logistic regression and the RBF SVC.
LOGREG_C_GRID: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
SVC_C_GRID: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0)
IGNORE = -100  # mask pixels shifted in from outside the canvas: no loss


# --------------------------------------------------------------------------- classification on pixels


def subsample_stratified(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of ``n`` of the ``labels`` keeping the class proportions (largest remainders), seeded."""
    labels = np.asarray(labels)
    if not 1 <= n <= len(labels):
        raise ValueError(f"cannot take {n} of {len(labels)} examples")
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * n / len(labels)
    take = np.floor(quota).astype(int)
    for i in np.argsort(-(quota - take), kind="stable")[: n - int(take.sum())]:
        take[i] += 1
    rng = np.random.RandomState(seed)
    idx = [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take, strict=True)]
    return np.sort(np.concatenate(idx))


def _pixels(data: TokenDataset) -> tuple[np.ndarray, np.ndarray]:
    if data.labels is None:
        raise ValueError(f"dataset {data.name!r} has no class labels to classify")
    x = data.images().reshape(len(data), -1).astype(np.float64) / 255.0
    return x, data.labels.numpy().astype(np.int64)


def sklearn_classifier_baselines(
    dataset: str,
    levels: int | None = None,
    train_n: int | None = None,
    seed: int = 0,
    *,
    models: Sequence[str] = ("logreg", "svc"),
    folds: int = 5,
    logreg_c: Sequence[float] = LOGREG_C_GRID,
    svc_c: Sequence[float] = SVC_C_GRID,
    max_iter: int = 5000,
    n_jobs: int = 1,
    report_default: bool = True,
) -> dict[str, Any]:
    """Logistic regression and RBF SVC on the pixels of ``dataset``, tuned on its train split only.

    Args:
        dataset: a labelled image dataset of ``get_dataset`` ("digits", "fashion-mnist", "mnist5k").
        levels: its grey levels (None: the dataset's default); the pixels are the decoded
            uint8 images / 255, flattened.
        train_n: fit on a stratified random subsample of this many training images (None: all).
            An RBF SVC's fit grows about quadratically with n: use it for Fashion-MNIST's 60k.
        seed: the subsample and the cross-validation folds.
        models: which of "logreg", "svc".
        folds: stratified k-fold cross-validation (shuffled with ``seed``) on the train images
            used, choosing C by mean accuracy; the best C is refit on all of them.
        logreg_c, svc_c: the C grids (SVC: gamma "scale" = 1 / (pixels · variance)).
        max_iter: logistic regression's L-BFGS iterations (whether it converged is reported).
        n_jobs: processes for the grid search.
        report_default: also fit sklearn's default C = 1 on the same images and report its test
            accuracy beside the tuned one (context only: it plays no part in the choice).

    Returns:
        {"dataset", "levels", "train_n" (used), "train_total", "test_n", "folds", "seed",
        "models": {name: {"test_accuracy", "best_params", "cv_accuracy", "cv_grid"
        [{"C", "mean", "std"}], "fit_seconds", "test_accuracy_default_c", ...}}}.
    """
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.svm import SVC

    unknown = sorted(set(models) - {"logreg", "svc"})
    if unknown or not models:
        raise ValueError(f"models must be some of logreg, svc, got {list(models)}")
    train, test = get_dataset(dataset, "train", levels), get_dataset(dataset, "test", levels)
    if not isinstance(train, TokenDataset) or not isinstance(test, TokenDataset):
        raise ValueError(f"dataset {dataset!r} is not a labelled image dataset")
    x_train, y_train = _pixels(train)
    x_test, y_test = _pixels(test)
    total = len(y_train)
    if train_n is not None and train_n < total:
        idx = subsample_stratified(y_train, train_n, seed)
        x_train, y_train = x_train[idx], y_train[idx]
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    specs: dict[str, tuple[Any, dict[str, list[Any]]]] = {
        "logreg": (LogisticRegression(max_iter=max_iter), {"C": list(logreg_c)}),
        "svc": (SVC(kernel="rbf", gamma="scale"), {"C": list(svc_c)}),
    }
    out: dict[str, Any] = {
        "dataset": dataset,
        "levels": levels,
        "train_n": int(len(y_train)),
        "train_total": int(total),
        "test_n": int(len(y_test)),
        "folds": folds,
        "seed": seed,
        "features": "flattened pixels / 255",
        "models": {},
    }
    for name in models:
        estimator, grid = specs[name]
        t0 = time.perf_counter()
        search = GridSearchCV(estimator, grid, cv=cv, scoring="accuracy", n_jobs=n_jobs, refit=True)
        search.fit(x_train, y_train)
        seconds = time.perf_counter() - t0
        best = search.best_estimator_
        res = search.cv_results_
        wrong = int((best.predict(x_test) != y_test).sum())
        entry: dict[str, Any] = {
            "test_accuracy": 1.0 - wrong / len(y_test),
            "test_errors": wrong,
            "best_params": {k: (float(v) if isinstance(v, int | float) else v) for k, v in search.best_params_.items()},
            "cv_accuracy": float(search.best_score_),
            "cv_grid": [
                {"C": float(p["C"]), "mean": float(m), "std": float(s)}
                for p, m, s in zip(res["params"], res["mean_test_score"], res["std_test_score"], strict=True)
            ],
            "fit_seconds": round(seconds, 2),
        }
        if name == "logreg":
            entry["max_iter"] = max_iter
            entry["converged"] = bool(int(np.max(best.n_iter_)) < max_iter)
        else:
            entry["gamma"] = "scale"
            entry["support_vectors"] = int(best.n_support_.sum())
        if report_default:
            default = clone(estimator).set_params(C=1.0).fit(x_train, y_train)
            entry["test_accuracy_default_c"] = float((default.predict(x_test) == y_test).mean())
        out["models"][name] = entry
    return out


# --------------------------------------------------------------------------- segmentation with a U-Net


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
                    "seconds": round(time.perf_counter() - t0, 2),
                }
                curve.append(record)
                history.append((step, held_loss))
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
