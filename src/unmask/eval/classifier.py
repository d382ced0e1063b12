"""An independent image classifier trained on real data, to judge generated samples.

The classifier sees decoded uint8 images (not tokens), scaled to [0, 1], so it is
blind to how a generator represents them. It is a small CNN (three 3×3 conv layers,
one 2× pooling, global average pooling) with light random-shift augmentation,
trained with AdamW on the train split of a dataset; its accuracy on the held-out
test split is stored with its weights so every report can quote it. The classes are a
dataset's labels, or, for paired streams (``StreamDataset``), its one "label" stream
(``shapes-labelled``: the dominant object class of each canvas).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._io import atomic_write_text, load_cached_weights, save_weights_atomically
from ..paths import cache_dir  # re-exported: unmask.eval.classifier.cache_dir predates unmask.paths

__all__ = [
    "ImageClassifier",
    "ClassifierReport",
    "train_classifier",
    "load_or_train_classifier",
    "class_labels",
    "cache_dir",
]


class ImageClassifier(nn.Module):
    """CNN over (N, H, W) uint8 (or float in [0, 1]) images → logits (N, num_classes)."""

    def __init__(self, num_classes: int, width: int = 32) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.width = width
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1),
            nn.BatchNorm2d(w),
            nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, padding=1),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 4 * w, 3, padding=1),
            nn.BatchNorm2d(4 * w),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(0.2),
            nn.Linear(4 * w, num_classes),
        )

    @staticmethod
    def prepare(images: np.ndarray | Tensor) -> Tensor:
        x = torch.as_tensor(np.asarray(images))
        if x.dtype == torch.uint8:
            x = x.float() / 255.0
        else:
            x = x.float()
        if x.ndim != 3:
            raise ValueError(f"classifier expects images of shape (N, H, W), got {tuple(x.shape)}")
        return x[:, None]

    def forward(self, images: Tensor) -> Tensor:
        return self.net(images)

    @torch.no_grad()
    def predict_proba(self, images: np.ndarray | Tensor, batch_size: int = 512) -> np.ndarray:
        """Class probabilities (N, C) for uint8 images (N, H, W)."""
        self.eval()
        x = self.prepare(images)
        out = [torch.softmax(self(x[i : i + batch_size]), -1) for i in range(0, len(x), batch_size)]
        return torch.cat(out).numpy() if out else np.zeros((0, self.num_classes), dtype=np.float32)

    def predict(self, images: np.ndarray | Tensor) -> np.ndarray:
        return self.predict_proba(images).argmax(-1)


@dataclass
class ClassifierReport:
    """A trained classifier with its held-out accuracy."""

    model: ImageClassifier
    test_accuracy: float
    dataset: str
    path: Path | None = None


def _shift(x: Tensor, max_shift: int, gen: torch.Generator) -> Tensor:
    """Random integer translations of up to ``max_shift`` pixels (zero padding)."""
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift, max_shift, max_shift, max_shift))
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h)[None]).clamp_max(h + 2 * max_shift - 1)
    cols = (dx[:, None] + torch.arange(w)[None]).clamp_max(w + 2 * max_shift - 1)
    idx_n = torch.arange(n)[:, None, None]
    return padded[idx_n, 0, rows[:, :, None], cols[:, None, :]][:, None]


def train_classifier(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    num_classes: int,
    *,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    max_shift: int = 1,
) -> tuple[ImageClassifier, float]:
    """Train the CNN; returns it (eval mode) and its test accuracy."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = ImageClassifier(num_classes)
    x = ImageClassifier.prepare(train_images)
    y = torch.as_tensor(np.asarray(train_labels), dtype=torch.long)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * max(1, -(-len(x) // batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            logits = model(_shift(x[idx], max_shift, gen))
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    acc = float((model.predict(test_images) == np.asarray(test_labels)).mean())
    return model, acc


def classifier_epochs(n_train: int) -> int:
    """Epochs for a training set of ``n_train`` images: 30, capped at about 300k images seen (at least 3)."""
    return max(3, min(30, 300_000 // max(n_train, 1)))


def class_labels(data: Any) -> tuple[np.ndarray, int] | None:
    """(N,) int64 class ids in [0, C − 1] and C of a dataset, or None when it has no classes.

    A labelled ``TokenDataset`` gives its ``labels``; a ``StreamDataset`` its one stream of
    kind "label" (grid (1,)). ``ValueError`` for paired streams with several label streams
    (which one the classifier should learn is then not clear).
    """
    if getattr(data, "labels", None) is not None and data.num_classes > 0:
        return data.labels.numpy(), int(data.num_classes)
    kinds = getattr(data, "kinds", None)
    if not kinds:
        return None
    label_streams = [name for name, kind in kinds.items() if kind == "label"]
    if not label_streams:
        return None
    if len(label_streams) > 1:
        raise ValueError(f"dataset {data.name!r} has several label streams {label_streams}; a classifier needs one")
    name = label_streams[0]
    return data.streams[name].reshape(-1).numpy(), data.stream_classes(name)


def load_or_train_classifier(dataset: str, *, levels: int | None = None, refresh: bool = False) -> ClassifierReport:
    """The classifier for a registered dataset (at ``levels`` grey levels), trained once and cached on disk.

    Its classes are those of ``class_labels`` (a dataset's labels, or the label stream of
    paired streams). The cache key includes the dataset name and a hash of its train images
    and labels. ``ValueError`` for a dataset without classes.
    """
    from ..data import get_dataset

    train = get_dataset(dataset, "train", levels)
    test = get_dataset(dataset, "test", levels)
    train_classes, test_classes = class_labels(train), class_labels(test)
    if train_classes is None or test_classes is None:
        raise ValueError(f"dataset {dataset!r} has no labels to train a classifier on")
    train_labels, num_classes = train_classes
    train_images = train.images()
    digest = hashlib.sha256(train_images.tobytes() + train_labels.tobytes()).hexdigest()[:16]
    root = cache_dir() / "classifiers"
    weights = root / f"{dataset}-{digest}.safetensors"
    meta = root / f"{dataset}-{digest}.json"
    cached = (
        None
        if refresh
        else load_cached_weights(
            weights, meta, lambda info: ImageClassifier(int(info["num_classes"]), int(info["width"]))
        )
    )
    if cached is not None:
        model, info = cached
        return ClassifierReport(model.eval(), float(info["test_accuracy"]), dataset, weights)
    model, acc = train_classifier(
        train_images,
        train_labels,
        test.images(),
        test_classes[0],
        num_classes,
        epochs=classifier_epochs(len(train_images)),
    )
    root.mkdir(parents=True, exist_ok=True)
    save_weights_atomically(model, weights)
    atomic_write_text(meta, json.dumps({"num_classes": num_classes, "width": model.width, "test_accuracy": acc}))
    return ClassifierReport(model, acc, dataset, weights)
