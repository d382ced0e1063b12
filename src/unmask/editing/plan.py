"""Planning image and video edits: the tokens of the images (or clips) to edit and the token region to
regenerate (``EditPlan``). ``encode_images`` and ``token_region`` map pixels and a pixel region onto the
token grid of the checkpoint's tokenizer (a VQ tokenizer regenerates every code whose cell the region
touches); ``plan_edit`` plans image models, ``plan_video_edit`` video models (chosen frames, whole or
within a 2-D region), and ``_refuse_kind`` names the planning function that fits another model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import UserError
from ..samplers.continuation import frame_region
from .inputs import _resize


@dataclass
class EditPlan:
    """The tokens of the images (or clips) to edit and where to regenerate them.

    Attributes:
        tokens: (N, *grid) int64 token ids of the images (no [MASK]); clips: (N, T, H, W).
        region: (N, *grid) bool, True where tokens are regenerated.
        pixels: (N, H, W) bool, the pixel region as given (resized to the model's image size);
            clips: (N, T, H, W), the region in every frame (empty in frames kept whole).
        note: how the pixel region was mapped onto tokens (said to the user).
    """

    tokens: Tensor
    region: Tensor
    pixels: np.ndarray
    note: str


def _model_kind(model: Any) -> str:
    """ "joint" (a multi-stream model), "video" (a (T, H, W) grid), "image" (2-D) or "other"."""
    if hasattr(model, "stream_names"):
        return "joint"
    grid = tuple(getattr(getattr(model, "config", None), "grid", ()))
    return {2: "image", 3: "video"}.get(len(grid), "other")


def _refuse_kind(model: Any, want: str) -> None:
    """``ValueError`` naming the planning function that fits ``model`` when it is not a ``want`` model."""
    kind = _model_kind(model)
    if kind == want:
        return
    use = {"image": "plan_edit", "video": "plan_video_edit", "joint": "plan_joint_edit"}
    what = {"image": "an image model (a 2-D token grid)", "video": "a video model (a (T, H, W) grid)"}
    what["joint"] = "a joint multi-stream model"
    if kind == "other":
        grid = getattr(getattr(model, "config", None), "grid", None)
        raise UserError(
            f"editing takes image models (a 2-D token grid), video models (T, H, W) or joint multi-stream "
            f"models; this model is none of them (grid {grid})"
        )
    raise UserError(f"{use[want]} edits {what[want]}; this is {what[kind]}: use {use[kind]}")


def encode_images(tokenizer: Any, images: np.ndarray, grid: tuple[int, ...]) -> Tensor:
    """Tokens (N, *grid) int64 of uint8 grey images (N, H, W) in [0, 255], resized to the image size the
    model's ``grid`` stands for (the grid itself for pixel tokens; a VQ tokenizer's training size).
    ``ValueError`` when the tokenizer's grid is not ``grid``."""
    size = _image_size(tokenizer, grid)
    images = np.asarray(images, dtype=np.uint8)
    tokens = _encode_pixels(tokenizer, np.stack([_resize(im, size, nearest=False) for im in images]))
    if tuple(tokens.shape[1:]) != tuple(grid):
        raise UserError(f"the tokenizer gives grids of {tuple(tokens.shape[1:])}, the model takes {tuple(grid)}")
    return tokens


def _encode_pixels(tokenizer: Any, images: np.ndarray) -> Tensor:
    """int64 tokens of uint8 images or clips in [0, 255] (whatever range the run's data had, for pixel tokens)."""
    spec = tokenizer.config()
    if spec.get("name") == "pixel":
        from ..tokenizers import PixelQuantizer

        return PixelQuantizer(int(spec["levels"]), 255.0).encode(images).long()
    return tokenizer.encode(images).long()


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
        raise UserError(f"images of {h}×{w} do not tile the {gh}×{gw} code grid")
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
    region for all), both resized to the model's image size. ``ValueError`` for a video or joint model
    (naming the function that edits it)."""
    _refuse_kind(model, "image")
    grid = tuple(model.config.grid)
    images = np.asarray(images, dtype=np.uint8)
    if images.ndim == 2:
        images = images[None]
    size = _image_size(tokenizer, grid)
    images = np.stack([_resize(im, size, nearest=False) for im in images])
    masks = np.asarray(pixels, dtype=bool)
    if masks.ndim == 2:
        masks = np.broadcast_to(masks, (len(images), *masks.shape))
    masks = np.stack([_resize(m.astype(np.uint8) * 255, size, nearest=True) > 0 for m in masks])
    tokens = encode_images(tokenizer, images, grid)
    region, note = token_region(tokenizer, masks, grid)
    return EditPlan(tokens=tokens, region=region, pixels=masks, note=note)


def plan_video_edit(
    model: Any, tokenizer: Any, clips: np.ndarray, frames: Sequence[int], pixels: np.ndarray | None = None
) -> EditPlan:
    """Tokens and token region for uint8 clips (N, T, H, W) (or one (T, H, W)) in [0, 255]: ``frames``
    (indices, see ``parse_frames``) are regenerated, whole or only within ``pixels`` (one (H, W)
    bool region for every chosen frame). Frames are resized to the model's frame size (pixel tokens).

    Frames K … T − 1 whole is continuation: the plan's starting state (``edit``) equals
    ``unmask.samplers.continuation_init`` of the first K frames — both are ``frame_region`` +
    ``edit_init``.

    Raises:
        ValueError: an image or joint model (naming the function that edits it), a tokenizer
            that is not pixel tokens, clips of another frame count, a frame out of range, or a
            region that marks no token — naming the value.
    """
    _refuse_kind(model, "video")
    grid = tuple(int(g) for g in model.config.grid)
    t, h, w = grid
    if tokenizer.config().get("name") != "pixel":
        raise UserError(f"video edits take pixel tokens; this model's tokenizer is {tokenizer.config().get('name')!r}")
    clips = np.asarray(clips, dtype=np.uint8)
    if clips.ndim == 3:
        clips = clips[None]
    if clips.ndim != 4:
        raise UserError(f"clips must be uint8 (N, T, H, W) or one (T, H, W), got shape {clips.shape}")
    if clips.shape[1] != t:
        raise UserError(f"the clip has {clips.shape[1]} frames; the model's clips have {t}")
    clips = np.stack([[_resize(f, (h, w), nearest=False) for f in clip] for clip in clips])
    within = None
    if pixels is not None:
        within = torch.as_tensor(_resize(np.asarray(pixels, dtype=np.uint8) * 255, (h, w), nearest=True) > 0)
    region = frame_region(grid, frames, within)
    if not bool(region.any()):
        raise UserError(f"the region marks no token to regenerate in frames {list(frames)} of the {h}×{w} frames")
    n = clips.shape[0]
    chosen = sorted({int(f) for f in frames})
    if chosen == list(range(t)):
        frames_text = "every frame"
    elif chosen == list(range(chosen[0], t)):
        frames_text = f"frames {chosen[0]} … {t - 1}" + (
            f" (continuation of the first {chosen[0]})" if within is None else ""
        )
    else:
        frames_text = f"frames {', '.join(map(str, chosen))}"
    note = (
        f"pixel tokens: {frames_text} regenerated "
        + ("whole" if within is None else f"within the region ({int(within.sum())} of {h * w} pixels of each)")
        + f"; {int(region.sum())} of {region.numel()} tokens"
    )
    tokens = _encode_pixels(tokenizer, clips)
    regions = region.expand(n, *grid).clone()
    return EditPlan(tokens=tokens, region=regions, pixels=regions.numpy(), note=note)
