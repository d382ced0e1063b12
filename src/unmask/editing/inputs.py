"""The inputs of an edit: the image or clip to edit, read from a file or named as an item of the run's
dataset split (``test:17``) — ``parse_item``, ``read_image`` (uint8 (H, W) grey) and ``read_clip``
(uint8 (T, H, W)) — and ``_resize``, the one image resize every part of ``unmask.editing`` uses.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError


def _resize(image: np.ndarray, shape: tuple[int, int], nearest: bool) -> np.ndarray:
    from PIL import Image

    if image.shape == shape:
        return image
    pil = Image.fromarray(image)
    out = pil.resize((shape[1], shape[0]), Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR)
    return np.asarray(out)


def parse_item(spec: str) -> tuple[str, int] | None:
    """``(split, index)`` when ``spec`` names a dataset item (``test:17``, ``train:3``) and is no existing
    file, else None. ``ValueError`` when the item is not an integer."""
    if ":" not in spec or spec.split(":", 1)[0] not in ("train", "test") or Path(spec).exists():
        return None
    split, index = spec.split(":", 1)
    try:
        return split, int(index)
    except ValueError:
        raise UserError(f"--image {spec!r}: the item must be an integer, as in test:17") from None


def _dataset_item(spec: str, dataset: Callable[[str], Any] | None) -> np.ndarray | None:
    """Item I of split S for ``spec`` = ``S:I`` (``dataset``: split → uint8 array (N, …)), or None for a file."""
    item = parse_item(spec)
    if item is None:
        return None
    split, i = item
    if dataset is None:
        raise UserError(f"--image {spec!r} names a dataset item, but no dataset is known here")
    items = dataset(split)
    if not 0 <= i < len(items):
        raise UserError(f"--image {spec!r}: the {split} split has items 0 … {len(items) - 1}")
    return np.asarray(items[i], dtype=np.uint8)


def _item_or_file(spec: str, dataset: Callable[[str], Any] | None, what: str) -> np.ndarray | Path:
    """The dataset item ``spec`` names (``_dataset_item``), else the existing file it names; ``what``
    ("image", "clip") words the error for a file that does not exist."""
    item = _dataset_item(spec, dataset)
    if item is not None:
        return item
    path = Path(spec)
    if not path.is_file():
        raise UserError(f"{what} {spec!r} does not exist")
    return path


def _load_grey(path: Path, spec: str, what: str, axes: str) -> np.ndarray:
    """The uint8 array of the ``.npy`` at ``path``, refused unless its dimensions are ``axes`` ("(H, W)")."""
    arr = np.load(path)
    if arr.dtype != np.uint8 or arr.ndim != axes.count(",") + 1:
        raise UserError(f"{what} {spec!r} must be uint8 {axes} grey, got {arr.dtype} {arr.shape}")
    return arr


def read_image(spec: str, *, dataset: Callable[[str], Any] | None = None) -> np.ndarray:
    """The image to edit as uint8 (H, W) grey.

    ``spec`` is a PNG / JPEG file (converted to grey), a ``.npy`` of uint8 (H, W), or ``SPLIT:I``
    (``test:17``): item I of ``dataset`` (a callable split → uint8 images (N, H, W)). ``ValueError``
    names a missing file, a bad array or an index out of range.
    """
    found = _item_or_file(spec, dataset, "image")
    if isinstance(found, np.ndarray):
        return found
    path = found
    if path.suffix == ".npy":
        return _load_grey(path, spec, "image", "(H, W)")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as err:
        raise UserError(f"image {spec!r} is not an image file PIL can read: {err}") from None


def read_clip(spec: str, *, dataset: Callable[[str], Any] | None = None) -> np.ndarray:
    """The clip to edit as uint8 (T, H, W) grey.

    ``spec`` is a ``.npy`` of uint8 (T, H, W) in [0, 255], or ``SPLIT:I`` (``test:3``): item I of
    ``dataset`` (a callable split → uint8 clips (N, T, H, W)). ``ValueError`` names a missing
    file, an array of another dtype or shape, or an index out of range.
    """
    found = _item_or_file(spec, dataset, "clip")
    if isinstance(found, np.ndarray):
        return found
    if found.suffix != ".npy":
        raise UserError(f"clip {spec!r}: give a .npy of uint8 (T, H, W) or a dataset item such as test:3")
    return _load_grey(found, spec, "clip", "(T, H, W)")
