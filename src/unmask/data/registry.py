"""Datasets by name."""

from __future__ import annotations

from collections.abc import Callable

from .base import TokenDataset
from .digits import load_digits
from .mnist_like import load_fashion_mnist, load_mnist5k

__all__ = ["DATASETS", "get_dataset", "dataset_names"]

#: name → loader(split, levels); ``levels`` None means the dataset's default.
DATASETS: dict[str, Callable[[str, int | None], TokenDataset]] = {
    "digits": load_digits,
    "fashion-mnist": load_fashion_mnist,
    "mnist5k": load_mnist5k,
}


def dataset_names() -> list[str]:
    return sorted(DATASETS)


def get_dataset(name: str, split: str = "train", levels: int | None = None) -> TokenDataset:
    """Load dataset ``name`` ("digits", "fashion-mnist", "mnist5k") split ``split`` ("train" / "test").

    ``levels`` sets the number of grey-level tokens where the dataset allows it
    (Fashion-MNIST, MNIST: 2 … 256, default 16; digits has exactly 17).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(dataset_names())}")
    return DATASETS[name](split, levels)
