"""Datasets by name."""

from __future__ import annotations

from collections.abc import Callable

from .base import TokenDataset
from .digits import load_digits

__all__ = ["DATASETS", "get_dataset", "dataset_names"]

DATASETS: dict[str, Callable[[str], TokenDataset]] = {
    "digits": load_digits,
}


def dataset_names() -> list[str]:
    return sorted(DATASETS)


def get_dataset(name: str, split: str = "train") -> TokenDataset:
    """Load dataset ``name`` ("digits", …) split ``split`` ("train" / "test")."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(dataset_names())}")
    return DATASETS[name](split)
