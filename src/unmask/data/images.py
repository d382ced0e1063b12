"""Raw images (uint8) of a registered dataset or of a user's image folder, read by range.

The tokenizer pipeline (VQ-VAE training, ``unmask tokenize``) needs images, not the pixel
tokens of ``get_dataset``. An ``ImageSource`` names its splits, counts them, and reads
``[start, stop)`` of a split as uint8 images with labels, so shards can be encoded by
separate worker processes that each rebuild the source from its ``spec()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from .image_folder import folder_splits

__all__ = ["ImageSource", "RegisteredImages", "FolderImages", "open_image_source", "IMAGE_LEVELS"]

#: Grey levels at which a registered dataset's tokens decode to exactly its stored images.
IMAGE_LEVELS: dict[str, int | None] = {"digits": None, "fashion-mnist": 256, "mnist5k": 256}


class ImageSource:
    """Splits of uint8 images with optional labels. Subclasses fill in the reading."""

    name: str
    num_classes: int
    class_names: tuple[str, ...]

    def splits(self) -> list[str]:
        raise NotImplementedError

    def count(self, split: str) -> int:
        raise NotImplementedError

    def image_shape(self) -> tuple[int, ...]:
        """Shape of one image: (H, W) grey or (H, W, 3)."""
        raise NotImplementedError

    def read(self, split: str, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Images ``[start, stop)`` of ``split``: uint8 (n, *image_shape) and int64 labels (n,) or None."""
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        """Arguments of ``open_image_source`` that rebuild this source (e.g. in a worker process)."""
        raise NotImplementedError

    def _check_split(self, split: str) -> None:
        if split not in self.splits():
            raise UserError(f"{self.name} has no split {split!r}; it has {', '.join(self.splits())}")


class RegisteredImages(ImageSource):
    """A dataset of ``unmask.data.DATASETS`` as its stored uint8 images (all splits loaded on first use)."""

    def __init__(self, name: str) -> None:
        from .registry import DATASETS

        if name not in DATASETS:
            raise UserError(f"unknown dataset {name!r}; choose one of {', '.join(sorted(DATASETS))} or an image folder")
        self.name = name
        self._cache: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
        self.num_classes, self.class_names = 0, ()
        self._load("train")

    def _load(self, split: str) -> tuple[np.ndarray, np.ndarray | None]:
        if split not in self._cache:
            from .registry import get_dataset

            ds = get_dataset(self.name, split, IMAGE_LEVELS.get(self.name))
            labels = None if ds.labels is None else ds.labels.numpy().astype(np.int64)
            self._cache[split] = (ds.images(), labels)
            self.num_classes, self.class_names = ds.num_classes, tuple(ds.class_names)
        return self._cache[split]

    def splits(self) -> list[str]:
        return ["train", "test"]

    def count(self, split: str) -> int:
        self._check_split(split)
        return len(self._load(split)[0])

    def image_shape(self) -> tuple[int, ...]:
        return tuple(self._load("train")[0].shape[1:])

    def read(self, split: str, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        self._check_split(split)
        images, labels = self._load(split)
        return images[start:stop], None if labels is None else labels[start:stop]

    def spec(self) -> dict[str, Any]:
        return {"dataset": self.name}


class FolderImages(ImageSource):
    """An image folder (see ``unmask.data.image_folder``): images decoded on demand, center-cropped and resized."""

    def __init__(self, root: str | Path, image_size: int, channels: int) -> None:
        self.root = Path(root).resolve()
        self.image_size = image_size
        self.channels = channels
        self._splits = folder_splits(self.root, image_size, channels)
        self.name = f"folder:{self.root}"
        train = self._splits["train"]
        self.num_classes, self.class_names = train.num_classes, train.class_names

    def splits(self) -> list[str]:
        return list(self._splits)

    def count(self, split: str) -> int:
        self._check_split(split)
        return len(self._splits[split])

    def image_shape(self) -> tuple[int, ...]:
        return (self.image_size, self.image_size) + ((3,) if self.channels == 3 else ())

    def read(self, split: str, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        self._check_split(split)
        folder = self._splits[split]
        labels = None if folder.labels is None else folder.labels[start:stop]
        return folder.read(start, stop), labels

    def spec(self) -> dict[str, Any]:
        return {"dataset": str(self.root), "image_size": self.image_size, "channels": self.channels}


def open_image_source(dataset: str, *, image_size: int | None = None, channels: int = 1) -> ImageSource:
    """A registered dataset name (``"fashion-mnist"``) or the path of an image folder.

    ``image_size`` (the side images are center-cropped and resized to) and ``channels`` (1 grey,
    3 RGB) apply to folders; registered datasets keep their own images, so ``image_size`` must be
    None or their size.
    """
    from .registry import DATASETS

    if dataset in DATASETS:
        src = RegisteredImages(dataset)
        if image_size is not None and src.image_shape()[:2] != (image_size, image_size):
            raise UserError(
                f"dataset {dataset!r} has {src.image_shape()[0]}×{src.image_shape()[1]} images; "
                f"image_size={image_size} applies only to image folders"
            )
        return src
    path = Path(dataset)
    if path.is_dir():
        if image_size is None:
            raise UserError(
                f"image folder {dataset!r} needs an image size (the side images are cropped and resized to)"
            )
        return FolderImages(path, image_size, channels)
    raise UserError(
        f"dataset {dataset!r} is neither a registered dataset ({', '.join(sorted(DATASETS))}) nor an existing folder"
    )
