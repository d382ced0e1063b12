"""Datasets by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import UserError
from .base import TokenDataset
from .captions import load_caption_pairs, load_fashion_mnist_captions, load_scenes
from .cityscapes import load_cityscapes
from .digits import load_digits
from .mnist_like import load_fashion_mnist, load_mnist5k
from .shapes import load_shapes, load_shapes_labelled
from .streams import StreamDataset, pairs_from_labels
from .text import load_kjv
from .videos import load_bouncing_shapes, load_moving_fashion_mnist, load_video_files

__all__ = [
    "DATASETS",
    "DATASET_OPTIONS",
    "get_dataset",
    "dataset_names",
    "is_text_dataset",
    "is_stream_dataset",
    "is_video_dataset",
    "VIDEO_DATASETS",
    "CAPTION_DATASETS",
    "is_caption_dataset",
]

#: name → loader(split, **options); multi-stream datasets return a ``StreamDataset``.
DATASETS: dict[str, Callable[..., TokenDataset | StreamDataset]] = {
    "digits": lambda split, levels=None: load_digits(split, levels),
    "fashion-mnist": lambda split, levels=None: load_fashion_mnist(split, levels),
    "mnist5k": lambda split, levels=None: load_mnist5k(split, levels),
    "kjv": load_kjv,
    # paired streams (image + segmentation mask, image + class label)
    "shapes": lambda split, levels=None: load_shapes(split, levels),
    # shapes + a 1-token label stream (the dominant object class): image, mask and label in one dataset
    "shapes-labelled": lambda split, levels=None: load_shapes_labelled(split, levels),
    "cityscapes": lambda split, levels=None, root=None: load_cityscapes(split, levels, root),
    "digits-pairs": lambda split, levels=None: pairs_from_labels(load_digits(split, levels), "digits-pairs"),
    "fashion-mnist-pairs": lambda split, levels=None: pairs_from_labels(
        load_fashion_mnist(split, levels), "fashion-mnist-pairs"
    ),
    # token videos (N, T, H, W)
    "bouncing-shapes": lambda split, levels=None: load_bouncing_shapes(split, levels),
    "moving-fashion-mnist": lambda split, levels=None: load_moving_fashion_mnist(split, levels),
    "video-files": lambda split, levels=None, root=None: load_video_files(split, levels, root),
    # images with captions (``CaptionDataset``: labels index the caption table)
    "scenes": lambda split, levels=None: load_scenes(split, levels),
    "scenes-mini": lambda split, levels=None: load_scenes(split, levels, mini=True),
    # scenes whose training split leaves 25% of the relation captions out
    # (splits train, test, test-heldout, val, val-heldout)
    "scenes-compose": lambda split, levels=None: load_scenes(split, levels, compose=True),
    "fashion-mnist-captions": lambda split, levels=None: load_fashion_mnist_captions(split, levels),
    "caption-pairs": lambda split, levels=None, root=None: load_caption_pairs(
        _need_root(root, "caption-pairs"), split, levels
    ),
}


def _need_root(root: str | None, name: str) -> str:
    if not root:
        raise UserError(f"dataset {name!r} reads your files: set data.root to the folder")
    return root


#: The datasets of images with captions (``CaptionDataset``): text-to-image models train on them.
CAPTION_DATASETS = ("scenes", "scenes-mini", "scenes-compose", "fashion-mnist-captions", "caption-pairs")

#: The datasets whose examples are several named streams (``StreamDataset``).
STREAM_DATASETS = ("shapes", "shapes-labelled", "cityscapes", "digits-pairs", "fashion-mnist-pairs")

#: The datasets of token videos (N, T, H, W): trained with the spatio-temporal ``VideoTransformer``.
VIDEO_DATASETS = ("bouncing-shapes", "moving-fashion-mnist", "video-files")

#: The ``data.*`` options each dataset takes (the others must stay unset).
DATASET_OPTIONS: dict[str, tuple[str, ...]] = {
    "digits": ("levels",),
    "fashion-mnist": ("levels",),
    "mnist5k": ("levels",),
    "kjv": ("tokenizer", "seq_len"),
    "shapes": ("levels",),
    "shapes-labelled": ("levels",),
    "cityscapes": ("levels", "root"),
    "digits-pairs": ("levels",),
    "fashion-mnist-pairs": ("levels",),
    "bouncing-shapes": ("levels",),
    "moving-fashion-mnist": ("levels",),
    "video-files": ("levels", "root"),
    "scenes": ("levels",),
    "scenes-mini": ("levels",),
    "scenes-compose": ("levels",),
    "fashion-mnist-captions": ("levels",),
    "caption-pairs": ("levels", "root"),
}


def dataset_names() -> list[str]:
    return sorted(DATASETS)


def is_text_dataset(name: str) -> bool:
    return "seq_len" in DATASET_OPTIONS.get(name, ())


def is_stream_dataset(name: str) -> bool:
    """True for datasets of paired streams (``StreamDataset``: train joint models on them)."""
    return name in STREAM_DATASETS


def is_caption_dataset(name: str) -> bool:
    """True for datasets of captioned images (``CaptionDataset``; train text-to-image models on them)."""
    return name in CAPTION_DATASETS


def is_video_dataset(name: str) -> bool:
    """True for datasets of token videos (N, T, H, W) (train the video backbone on them)."""
    return name in VIDEO_DATASETS


def get_dataset(
    name: str, split: str = "train", levels: int | None = None, **options: Any
) -> TokenDataset | StreamDataset:
    """Load dataset ``name`` split ``split`` ("train" / "test").

    Options (None = the dataset's default; an option a dataset does not take is an error):

    * ``levels``: grey-level tokens of image datasets (Fashion-MNIST, MNIST: 2 … 256,
      default 16; digits has exactly 17);
    * ``tokenizer``: "bytes" (default), "chars" or "gpt2" for text (``kjv``);
    * ``seq_len``: tokens per packed text sequence (default 128);
    * ``root``: the folder (or file) of a dataset the user provides (``cityscapes``,
      ``video-files``).

    ``shapes``, ``shapes-labelled``, ``cityscapes``, ``digits-pairs`` and ``fashion-mnist-pairs``
    return a ``StreamDataset`` of paired streams (see ``is_stream_dataset``); ``bouncing-shapes``,
    ``moving-fashion-mnist`` and ``video-files`` token videos (N, T, H, W) (see ``is_video_dataset``).
    """
    if name not in DATASETS:
        raise UserError(f"unknown dataset {name!r}; choose one of {', '.join(dataset_names())}")
    given = {k: v for k, v in {"levels": levels, **options}.items() if v is not None}
    for key in given:
        if key not in DATASET_OPTIONS[name]:
            takes = ", ".join(f"data.{o}" for o in DATASET_OPTIONS[name])
            raise UserError(f"data.{key} does not apply to dataset {name!r} (it takes {takes})")
    return DATASETS[name](split, **given)
