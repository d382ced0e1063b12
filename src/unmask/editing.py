"""Editing: regenerate a marked region of an image (inpainting, outpainting, class-guided edits) with
any sampler.

Every sampler treats the tokens of its starting state that are not [MASK] as given: they are never
masked, never redrawn, and the network sees them at every call (``unmask.samplers``). An edit is
therefore only a starting state: the image's tokens, with [MASK] where the region to regenerate
lies. This module builds that state:

* ``read_image`` reads the image to edit (a PNG, a ``.npy`` of uint8, or ``test:17`` — an item of
  the run's dataset split) as uint8 (H, W);
* ``region_mask`` reads or builds the pixel region to regenerate (a PNG / ``.npy``, nonzero =
  regenerate; or ``centre``, ``border:K``, ``half:left|right|top|bottom``, ``random-half:SEED``);
* ``token_region`` maps that pixel region onto the token grid of the checkpoint's tokenizer: a
  pixel tokenizer keeps it as it is (after resizing both to the model's grid); a VQ tokenizer
  regenerates every code whose cell (f × f pixels for a down-sampling factor f) the region touches
  — its receptive field is wider than its cell, so pixels just outside the region may change in
  the decoded image, and ``EditPlan.note`` says so;
* ``edit`` draws K completions of each image and returns tokens, images, and the given / drawn
  positions, so callers can check that no given token changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .samplers.continuation import edit_init

__all__ = ["REGION_SHAPES", "EditPlan", "read_image", "region_mask", "token_region", "plan_edit", "edit"]

#: Built-in regions (``region_mask``): besides a file, "centre", "border:K", "half:SIDE" and "random-half:SEED".
REGION_SHAPES = ("centre", "border:K", "half:left|right|top|bottom", "random-half:SEED")


def _resize(image: np.ndarray, shape: tuple[int, int], nearest: bool) -> np.ndarray:
    from PIL import Image

    if image.shape == shape:
        return image
    pil = Image.fromarray(image)
    out = pil.resize((shape[1], shape[0]), Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR)
    return np.asarray(out)


def read_image(spec: str, *, dataset: Any = None) -> np.ndarray:
    """The image to edit as uint8 (H, W) grey.

    ``spec`` is a PNG / JPEG file (converted to grey), a ``.npy`` of uint8 (H, W), or ``SPLIT:I``
    (``test:17``): item I of ``dataset`` (a callable split → uint8 images (N, H, W)). ``ValueError``
    names a missing file, a bad array or an index out of range.
    """
    if ":" in spec and spec.split(":", 1)[0] in ("train", "test") and not Path(spec).exists():
        split, index = spec.split(":", 1)
        if dataset is None:
            raise ValueError(f"--image {spec!r} names a dataset item, but no dataset is known here")
        try:
            i = int(index)
        except ValueError:
            raise ValueError(f"--image {spec!r}: the item must be an integer, as in test:17") from None
        images = dataset(split)
        if not 0 <= i < len(images):
            raise ValueError(f"--image {spec!r}: the {split} split has items 0 … {len(images) - 1}")
        return np.asarray(images[i], dtype=np.uint8)
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"image {spec!r} does not exist")
    if path.suffix == ".npy":
        arr = np.load(path)
        if arr.dtype != np.uint8 or arr.ndim != 2:
            raise ValueError(f"image {spec!r} must be uint8 (H, W) grey, got {arr.dtype} {arr.shape}")
        return arr
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"image {spec!r} is not an image file PIL can read: {err}") from None


def region_mask(spec: str, shape: tuple[int, int]) -> np.ndarray:
    """The pixel region to regenerate as bool (H, W) (True = regenerate), for an image of ``shape``.

    ``spec``: a PNG or ``.npy`` (nonzero = regenerate; resized to ``shape`` by nearest neighbour),
    ``centre`` (the middle half along each axis), ``border:K`` (all but the inner part K pixels from
    every edge: outpainting), ``half:left|right|top|bottom``, or ``random-half:SEED`` (a random half
    of the pixels, drawn with SEED). An empty region is an error (nothing to regenerate).
    """
    h, w = shape
    out = np.zeros((h, w), dtype=bool)
    if spec == "centre" or spec == "center":
        out[h // 4 : h - h // 4, w // 4 : w - w // 4] = True
    elif spec.startswith("border:"):
        try:
            k = int(spec.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"mask {spec!r}: write border:K with an integer K, e.g. border:4") from None
        if not 1 <= k < min(h, w) / 2:
            raise ValueError(f"mask {spec!r}: K must be in [1, {(min(h, w) - 1) // 2}] for a {h}×{w} image")
        out[:] = True
        out[k : h - k, k : w - k] = False
    elif spec.startswith("half:"):
        side = spec.split(":", 1)[1]
        cuts = {
            "left": (slice(None), slice(0, w // 2)),
            "right": (slice(None), slice(w - w // 2, None)),
            "top": (slice(0, h // 2), slice(None)),
            "bottom": (slice(h - h // 2, None), slice(None)),
        }
        if side not in cuts:
            raise ValueError(f"mask {spec!r}: the side must be one of {', '.join(cuts)}")
        out[cuts[side]] = True
    elif spec.startswith("random-half:"):
        try:
            seed = int(spec.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"mask {spec!r}: write random-half:SEED with an integer seed") from None
        order = np.random.default_rng(seed).permutation(h * w)
        out.reshape(-1)[order[: h * w // 2]] = True
    else:
        path = Path(spec)
        if not path.is_file():
            raise ValueError(f"mask {spec!r} is neither a file nor a region ({', '.join(REGION_SHAPES)})")
        if path.suffix == ".npy":
            arr = np.load(path)
            if arr.ndim != 2:
                raise ValueError(f"mask {spec!r} must be 2-D (H, W), got shape {arr.shape}")
            arr = (arr != 0).astype(np.uint8) * 255
        else:
            from PIL import Image, UnidentifiedImageError

            try:
                with Image.open(path) as img:
                    arr = np.asarray(img.convert("L"))
            except (UnidentifiedImageError, OSError) as err:
                raise ValueError(f"mask {spec!r} is not an image file PIL can read: {err}") from None
        out = _resize(np.where(arr != 0, 255, 0).astype(np.uint8), (h, w), nearest=True) > 0
    if not out.any():
        raise ValueError(f"mask {spec!r} marks no pixel to regenerate")
    return out


@dataclass
class EditPlan:
    """The tokens of the images to edit and where to regenerate them.

    Attributes:
        tokens: (N, *grid) int64 token ids of the images (no [MASK]).
        region: (N, *grid) bool, True where tokens are regenerated.
        pixels: (N, H, W) bool, the pixel region as given (resized to the model's image size).
        note: how the pixel region was mapped onto tokens (said to the user).
    """

    tokens: Tensor
    region: Tensor
    pixels: np.ndarray
    note: str


def _image_size(tokenizer: Any, grid: tuple[int, ...]) -> tuple[int, int]:
    """The image size the model's tokens stand for: the grid itself for pixel tokens, else the
    tokenizer's training size (a VQ tokenizer's ``image_size``)."""
    if tokenizer.config().get("name") == "pixel":
        return int(grid[0]), int(grid[1])
    size = tokenizer.image_size
    return (int(size), int(size)) if isinstance(size, int) else (int(size[0]), int(size[1]))


def token_region(tokenizer: Any, pixels: np.ndarray, grid: tuple[int, ...]) -> tuple[Tensor, str]:
    """The token positions (N, *grid) bool whose content the pixel region (N, H, W) touches, and a note."""
    spec = tokenizer.config()
    p = torch.as_tensor(pixels)
    if spec.get("name") == "pixel":
        return p.clone(), "pixel tokens: exactly the marked pixels are regenerated"
    gh, gw = int(grid[0]), int(grid[1])
    h, w = p.shape[-2:]
    if h % gh or w % gw:
        raise ValueError(f"images of {h}×{w} do not tile the {gh}×{gw} code grid")
    fh, fw = h // gh, w // gw
    cells = p.reshape(p.shape[0], gh, fh, gw, fw).any(dim=4).any(dim=2)
    note = (
        f"VQ codes: every code whose {fh}×{fw}-pixel cell the region touches is regenerated "
        f"({int(cells.sum())} of {cells.numel()} codes); a code's receptive field is wider than its cell, "
        "so decoded pixels next to the region can change too"
    )
    return cells, note


def plan_edit(model: Any, tokenizer: Any, images: np.ndarray, pixels: np.ndarray) -> EditPlan:
    """Tokens and token region for uint8 images (N, H, W) and their pixel regions (N, H, W) (or one (H, W)
    region for all), both resized to the model's image size."""
    grid = tuple(model.config.grid)
    if len(grid) != 2:
        raise ValueError(f"editing takes image models (a 2-D token grid), this model's grid is {grid}")
    images = np.asarray(images, dtype=np.uint8)
    if images.ndim == 2:
        images = images[None]
    size = _image_size(tokenizer, grid)
    images = np.stack([_resize(im, size, nearest=False) for im in images])
    masks = np.asarray(pixels, dtype=bool)
    if masks.ndim == 2:
        masks = np.broadcast_to(masks, (len(images), *masks.shape))
    masks = np.stack([_resize(m.astype(np.uint8) * 255, size, nearest=True) > 0 for m in masks])
    spec = tokenizer.config()
    if spec.get("name") == "pixel":  # uint8 images in [0, 255], whatever range the run's data had
        from .tokenizers import PixelQuantizer

        tokens = PixelQuantizer(int(spec["levels"]), 255.0).encode(images).long()
    else:
        tokens = tokenizer.encode(images).long()
    if tuple(tokens.shape[1:]) != grid:
        raise ValueError(f"the tokenizer gives grids of {tuple(tokens.shape[1:])}, the model takes {grid}")
    region, note = token_region(tokenizer, masks, grid)
    return EditPlan(tokens=tokens, region=region, pixels=masks, note=note)


@dataclass
class EditResult:
    """K completions of each edited image: tokens (N·K, *grid), decoded images, which image each comes
    from, and the region (N·K, *grid) that was regenerated (everything else was given)."""

    tokens: Tensor
    images: np.ndarray
    source: Tensor
    region: Tensor
    nfe: int


@torch.no_grad()
def edit(
    model: Any,
    tokenizer: Any,
    sampler: Any,
    plan: EditPlan,
    *,
    samples: int = 1,
    labels: list[int] | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> EditResult:
    """Regenerate ``plan.region`` of every image ``samples`` times with ``sampler`` (labels: one per image,
    for a class-conditional model; CFG as the sampler says). Given tokens come back unchanged."""
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    n = plan.tokens.shape[0]
    x = edit_init(plan.tokens, plan.region, model.vocab_size).repeat_interleave(samples, dim=0).to(device)
    lab = None
    if labels is not None:
        if len(labels) != n:
            raise ValueError(f"{len(labels)} labels for {n} images")
        if model.num_classes == 0:
            raise ValueError("labels given but the model is unconditional")
        for y in labels:
            if not 0 <= y < model.num_classes:
                raise ValueError(f"label {y} outside the classes [0, {model.num_classes - 1}]")
        lab = torch.tensor(labels, dtype=torch.long).repeat_interleave(samples).to(device)
    gen = torch.Generator(device=device).manual_seed(seed)
    out = sampler.sample(model, x.shape[0], labels=lab, x_init=x, generator=gen, device=device)
    tokens = out.tokens.cpu()
    images = np.asarray(tokenizer.decode(tokens))
    region = plan.region.repeat_interleave(samples, dim=0)
    return EditResult(
        tokens=tokens,
        images=images,
        source=torch.arange(n).repeat_interleave(samples),
        region=region,
        nfe=out.nfe,
    )
