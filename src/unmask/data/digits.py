"""sklearn's digits: 1,797 images of 8×8 with grey levels 0 … 16 (the 17 tokens), 10 classes.

The embedded default dataset: it ships with scikit-learn, so nothing is downloaded.
Split: a fixed stratified 80 / 20 train / test split (seed 0): 1,438 / 359 images.
"""

from __future__ import annotations

import numpy as np

from ..tokenizers import PixelQuantizer
from .base import DatasetNotAvailable, TokenDataset, stratified_digits

__all__ = ["load_digits"]

SPLIT_SEED = 0
TEST_FRACTION = 0.2


def load_digits(split: str = "train", levels: int | None = None) -> TokenDataset:
    """The digits ``split`` ("train" or "test") as tokens (N, 8, 8) in 0 … 16 with labels.

    Digits have exactly 17 grey levels; ``levels`` may only be None or 17.
    """
    if levels not in (None, 17):
        raise ValueError(f"digits have exactly 17 grey levels; levels={levels!r} is not supported")
    if split not in ("train", "test"):
        raise ValueError(f"digits split must be 'train' or 'test', got {split!r}")
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError:
        raise DatasetNotAvailable(
            "dataset 'digits' needs scikit-learn, which is not installed: pip install scikit-learn"
        ) from None
    bunch = _sk_load_digits()
    images = np.asarray(bunch.images, dtype=np.float64)  # (1797, 8, 8) in 0..16
    labels = np.asarray(bunch.target, dtype=np.int64)
    tokenizer = PixelQuantizer(levels=17, max_value=16.0)
    return stratified_digits("digits", split, images, labels, tokenizer, TEST_FRACTION, SPLIT_SEED)
