"""Datasets by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import TokenDataset
from .digits import load_digits
from .mnist_like import load_fashion_mnist, load_mnist5k
from .text import load_kjv

__all__ = ["DATASETS", "DATASET_OPTIONS", "get_dataset", "dataset_names", "is_text_dataset"]

#: name → loader(split, **options).
DATASETS: dict[str, Callable[..., TokenDataset]] = {
    "digits": lambda split, levels=None: load_digits(split, levels),
    "fashion-mnist": lambda split, levels=None: load_fashion_mnist(split, levels),
    "mnist5k": lambda split, levels=None: load_mnist5k(split, levels),
    "kjv": load_kjv,
}

#: The ``data.*`` options each dataset takes (the others must stay unset).
DATASET_OPTIONS: dict[str, tuple[str, ...]] = {
    "digits": ("levels",),
    "fashion-mnist": ("levels",),
    "mnist5k": ("levels",),
    "kjv": ("tokenizer", "seq_len"),
}


def dataset_names() -> list[str]:
    return sorted(DATASETS)


def is_text_dataset(name: str) -> bool:
    return "seq_len" in DATASET_OPTIONS.get(name, ())


def get_dataset(name: str, split: str = "train", levels: int | None = None, **options: Any) -> TokenDataset:
    """Load dataset ``name`` split ``split`` ("train" / "test").

    Options (None = the dataset's default; an option a dataset does not take is an error):

    * ``levels``: grey-level tokens of image datasets (Fashion-MNIST, MNIST: 2 … 256,
      default 16; digits has exactly 17);
    * ``tokenizer``: "bytes" (default), "chars" or "gpt2" for text (``kjv``);
    * ``seq_len``: tokens per packed text sequence (default 128).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(dataset_names())}")
    given = {k: v for k, v in {"levels": levels, **options}.items() if v is not None}
    for key in given:
        if key not in DATASET_OPTIONS[name]:
            takes = ", ".join(f"data.{o}" for o in DATASET_OPTIONS[name])
            raise ValueError(f"data.{key} does not apply to dataset {name!r} (it takes {takes})")
    return DATASETS[name](split, **given)
