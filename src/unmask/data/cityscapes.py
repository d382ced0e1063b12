"""Cityscapes in its official layout: images and label maps as an image + segmentation pair.

For users who have the data (it cannot be downloaded without an account, and unmask
never downloads at run time). The expected tree, as distributed::

    ROOT/leftImg8bit/{split}/{city}/{city}_{seq}_{frame}_leftImg8bit.png
    ROOT/gtFine/{split}/{city}/{city}_{seq}_{frame}_gtFine_labelIds.png

``split`` "train" reads ``train``, "test" reads ``val`` (the official test split has no
public labels). ROOT comes from ``data.root`` or ``$UNMASK_CITYSCAPES_DIR``.

Label ids (0 … 33) are mapped to the 8 global categories of the official label table
(cityscapesScripts ``labels.py``, field ``categoryId``): 0 void, 1 flat, 2 construction,
3 object, 4 nature, 5 sky, 6 human, 7 vehicle — the paper's 8-class problem (appendix
C.3). As in the paper (after Hoogeboom et al. 2021) the label map is resized to 32×64 by
nearest neighbour. The image is converted to grey, box-resized to ``image_size``
(default also 32×64: the pixel tokenizer of this package is grey-level; the paper uses a
VQ tokenizer on 256×256 crops) and quantised to ``levels`` grey levels. Every image must
have its label map; a missing or undecodable file is an error naming it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..tokenizers import PixelQuantizer
from .base import DatasetNotAvailable
from .streams import StreamDataset

__all__ = [
    "load_cityscapes",
    "CITYSCAPES_CATEGORIES",
    "LABEL_TO_CATEGORY",
    "CityscapesError",
    "label_ids_to_categories",
]

CITYSCAPES_CATEGORIES = ("void", "flat", "construction", "object", "nature", "sky", "human", "vehicle")

#: labelId → categoryId, the official cityscapesScripts table (ids 0 … 33).
LABEL_TO_CATEGORY = np.array(
    [0, 0, 0, 0, 0, 0, 0]  # unlabeled, ego vehicle, rectification border, out of roi, static, dynamic, ground
    + [1, 1, 1, 1]  # road, sidewalk, parking, rail track
    + [2, 2, 2, 2, 2, 2]  # building, wall, fence, guard rail, bridge, tunnel
    + [3, 3, 3, 3]  # pole, polegroup, traffic light, traffic sign
    + [4, 4]  # vegetation, terrain
    + [5]  # sky
    + [6, 6]  # person, rider
    + [7, 7, 7, 7, 7, 7, 7, 7],  # car, truck, bus, caravan, trailer, train, motorcycle, bicycle
    dtype=np.uint8,
)

DEFAULT_SIZE = (32, 64)
DEFAULT_LEVELS = 16


class CityscapesError(DatasetNotAvailable):
    """A Cityscapes file is missing, undecodable or holds label ids outside the table."""


def label_ids_to_categories(label_ids: np.ndarray, where: str = "label map") -> np.ndarray:
    """Cityscapes label ids (any shape) → category ids 0 … 7; ``CityscapesError`` for an id outside 0 … 33."""
    ids = np.asarray(label_ids)
    if ids.size and (ids.min() < 0 or ids.max() >= len(LABEL_TO_CATEGORY)):
        bad = int(ids.max()) if ids.max() >= len(LABEL_TO_CATEGORY) else int(ids.min())
        raise CityscapesError(
            f"{where} holds label id {bad}, outside the Cityscapes table 0 … {len(LABEL_TO_CATEGORY) - 1}"
        )
    return LABEL_TO_CATEGORY[ids]


def _open(path: Path, mode: str) -> object:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            return im.convert(mode) if im.mode != mode else im.copy()
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise CityscapesError(f"cannot decode Cityscapes file {path}: {err}") from None


def load_cityscapes(
    split: str = "train",
    levels: int | None = None,
    root: str | None = None,
    image_size: tuple[int, int] = DEFAULT_SIZE,
    mask_size: tuple[int, int] = DEFAULT_SIZE,
) -> StreamDataset:
    """Cityscapes ``split`` as streams "image" (N, *image_size) grey tokens and "mask" (N, *mask_size) categories."""
    from PIL import Image

    if split not in ("train", "test"):
        raise ValueError(f"cityscapes split must be 'train' or 'test' (= the official val split), got {split!r}")
    lv = DEFAULT_LEVELS if levels is None else levels
    if isinstance(lv, bool) or not isinstance(lv, int) or not 2 <= lv <= 256:
        raise ValueError(f"levels for cityscapes must be an integer in [2, 256], got {levels!r}")
    base = root or os.environ.get("UNMASK_CITYSCAPES_DIR")
    if not base:
        raise DatasetNotAvailable(
            "dataset 'cityscapes' needs its root folder (holding leftImg8bit/ and gtFine/): set data.root=DIR "
            "or UNMASK_CITYSCAPES_DIR"
        )
    folder = "train" if split == "train" else "val"
    img_dir = Path(base) / "leftImg8bit" / folder
    lab_dir = Path(base) / "gtFine" / folder
    if not img_dir.is_dir():
        raise DatasetNotAvailable(f"dataset 'cityscapes' needs the folder {img_dir}, which is missing")
    files = sorted(img_dir.glob("*/*_leftImg8bit.png"))
    if not files:
        raise DatasetNotAvailable(f"no */*_leftImg8bit.png images under {img_dir}")
    tok = PixelQuantizer(levels=lv, max_value=255.0)
    images = np.empty((len(files), *image_size), dtype=np.uint8)
    masks = np.empty((len(files), *mask_size), dtype=np.uint8)
    for i, f in enumerate(files):
        stem = f.name[: -len("_leftImg8bit.png")]
        lab = lab_dir / f.parent.name / f"{stem}_gtFine_labelIds.png"
        if not lab.is_file():
            raise CityscapesError(f"Cityscapes image {f} has no label map: {lab} is missing")
        grey = _open(f, "L")
        ids = _open(lab, "L")
        if grey.size != ids.size:  # type: ignore[attr-defined]
            raise CityscapesError(f"{f} is {grey.size} but its label map {lab} is {ids.size}")  # type: ignore[attr-defined]
        h, w = image_size
        images[i] = np.asarray(grey.resize((w, h), Image.Resampling.BOX))  # type: ignore[attr-defined]
        categories = label_ids_to_categories(np.asarray(ids), where=str(lab))  # every pixel checked
        mh, mw = mask_size
        masks[i] = np.asarray(Image.fromarray(categories).resize((mw, mh), Image.Resampling.NEAREST))
    return StreamDataset(
        name="cityscapes",
        split=split,
        streams={"image": tok.encode(images), "mask": torch.from_numpy(masks.astype(np.int64))},
        vocab_sizes={"image": tok.vocab_size, "mask": len(CITYSCAPES_CATEGORIES) + 1},
        kinds={"image": "image", "mask": "segmentation"},
        tokenizer=tok,
        class_names={"mask": CITYSCAPES_CATEGORIES},
    )
