"""In-memory token datasets and deterministic, resumable batch order."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..tokenizers import Tokenizer

__all__ = ["TokenDataset", "batch_indices", "stratified_split", "stratified_digits", "DatasetNotAvailable"]


class DatasetNotAvailable(RuntimeError):
    """A dataset's files or package are missing; the message says how to install them."""


@dataclass
class TokenDataset:
    """Tokens with optional class labels, held in memory.

    Attributes:
        name: dataset registry name.
        split: "train" or "test".
        tokens: (N, *grid) int64 ids in [0, vocab_size − 2] (no [MASK]).
        labels: (N,) int64 in [0, num_classes), or None.
        num_classes: number of classes (0 when unlabelled).
        tokenizer: turns tokens back into images (``kind == "image"``) or text.
        class_names: optional names of the classes.
    """

    name: str
    split: str
    tokens: Tensor
    labels: Tensor | None
    num_classes: int
    tokenizer: Tokenizer
    class_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def grid(self) -> tuple[int, ...]:
        return tuple(int(g) for g in self.tokens.shape[1:])

    @property
    def vocab_size(self) -> int:
        """Token ids including [MASK]."""
        return self.tokenizer.vocab_size

    def images(self) -> np.ndarray:
        """The dataset decoded to uint8 images (N, *grid); only for image datasets."""
        if self.tokenizer.kind != "image":
            raise ValueError(f"dataset {self.name!r} holds {self.tokenizer.kind}, not images")
        return np.asarray(self.tokenizer.decode(self.tokens))


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) with ``test_fraction`` of every class in test.

    Uses NumPy's legacy ``RandomState`` so the split is the same on every NumPy version.
    """
    rng = np.random.RandomState(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        n_test = int(round(test_fraction * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


@functools.lru_cache(maxsize=4)
def _epoch_permutation(n: int, seed: int, epoch: int) -> Tensor:
    """The order of epoch ``epoch``: a permutation of range(n) seeded by (seed, epoch)."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g)


def batch_indices(n: int, batch_size: int, step: int, seed: int) -> Tensor:
    """Indices of training batch number ``step`` (0-based), shape (batch_size,).

    Every epoch is a fresh permutation of the n examples seeded by (seed, epoch);
    batches run through the concatenated epochs without dropping examples. The
    order is a pure function of (n, batch_size, step, seed), so a resumed run
    sees exactly the batches an uninterrupted one would.
    """
    if n < 1:
        raise ValueError("cannot draw batches from an empty dataset")
    start = step * batch_size
    out: list[int] = []
    while len(out) < batch_size:
        epoch, offset = divmod(start, n)
        take = _epoch_permutation(n, seed, epoch)[offset : offset + batch_size - len(out)]
        out.extend(take.tolist())
        start += len(take)
    return torch.tensor(out, dtype=torch.long)


def stratified_digits(
    name: str,
    split: str,
    images: np.ndarray,
    labels: np.ndarray,
    tokenizer: Tokenizer,
    test_fraction: float,
    seed: int,
) -> TokenDataset:
    """The ``split`` of a dataset of the ten digits loaded whole (``images`` (N, H, W), ``labels`` (N,)):
    a fixed ``stratified_split``, tokenised by ``tokenizer``, with the classes named "0" … "9"."""
    train, test = stratified_split(labels, test_fraction, seed)
    idx = train if split == "train" else test
    return TokenDataset(
        name=name,
        split=split,
        tokens=tokenizer.encode(images[idx]),
        labels=torch.from_numpy(labels[idx]),
        num_classes=10,
        tokenizer=tokenizer,
        class_names=tuple(str(i) for i in range(10)),
    )
