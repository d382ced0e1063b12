"""Editing: regenerate a marked region of an image (inpainting, outpainting, class-guided edits), of
some frames of a clip, or of one stream of a joint model, with any sampler.

Every sampler treats the tokens of its starting state that are not [MASK] as given: they are never
masked, never redrawn, and the network sees them at every call (``unmask.samplers``). An edit is
therefore only a starting state: the given tokens, with [MASK] where the region to regenerate
lies (``unmask.samplers.edit_init``). This module builds that state:

* ``read_image`` reads the image to edit (a PNG, a ``.npy`` of uint8, or ``test:17`` — an item of
  the run's dataset split) as uint8 (H, W); ``read_clip`` a clip (a ``.npy`` (T, H, W) or an item);
* ``region_mask`` reads or builds the pixel region to regenerate (a PNG / ``.npy``, nonzero =
  regenerate; or ``centre``, ``border:K``, ``half:left|right|top|bottom``, ``random-half:SEED``);
* ``token_region`` maps that pixel region onto the token grid of the checkpoint's tokenizer: a
  pixel tokenizer keeps it as it is (after resizing both to the model's grid); a VQ tokenizer
  regenerates every code whose cell (f × f pixels for a down-sampling factor f) the region touches
  — its receptive field is wider than its cell, so pixels just outside the region may change in
  the decoded image, and ``EditPlan.note`` says so;
* ``plan_edit`` (image models), ``plan_video_edit`` (video models: the frames ``parse_frames``
  selects, whole or within a 2-D region; frames K … T − 1 whole is continuation, the same
  starting state as ``unmask.samplers.continuation_init``) and ``plan_joint_edit`` (joint
  multi-stream models: a region of one stream regenerated with the other streams given whole, or
  some of them generated too);
* ``edit`` (image and video plans) draws K completions of each image or clip, and ``edit_streams``
  (joint plans) runs ``MultiStreamSampler`` with the edited stream given in part; both return the
  tokens and the region, so callers can check that no given token changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ._checks import check_tokens
from .errors import UserError
from .samplers.continuation import edit_init, frame_region
from .samplers.multistream import MultiStreamSampler

__all__ = [
    "REGION_SHAPES",
    "EditPlan",
    "EditResult",
    "JointEditPlan",
    "JointEditResult",
    "parse_item",
    "read_image",
    "read_clip",
    "region_mask",
    "token_region",
    "parse_frames",
    "encode_images",
    "plan_edit",
    "plan_video_edit",
    "plan_joint_edit",
    "edit",
    "edit_streams",
]

#: Built-in regions (``region_mask``): besides a file, "centre", "border:K", "half:SIDE" and "random-half:SEED".
REGION_SHAPES = ("centre", "border:K", "half:left|right|top|bottom", "random-half:SEED")


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


def read_image(spec: str, *, dataset: Callable[[str], Any] | None = None) -> np.ndarray:
    """The image to edit as uint8 (H, W) grey.

    ``spec`` is a PNG / JPEG file (converted to grey), a ``.npy`` of uint8 (H, W), or ``SPLIT:I``
    (``test:17``): item I of ``dataset`` (a callable split → uint8 images (N, H, W)). ``ValueError``
    names a missing file, a bad array or an index out of range.
    """
    item = _dataset_item(spec, dataset)
    if item is not None:
        return item
    path = Path(spec)
    if not path.is_file():
        raise UserError(f"image {spec!r} does not exist")
    if path.suffix == ".npy":
        arr = np.load(path)
        if arr.dtype != np.uint8 or arr.ndim != 2:
            raise UserError(f"image {spec!r} must be uint8 (H, W) grey, got {arr.dtype} {arr.shape}")
        return arr
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
    item = _dataset_item(spec, dataset)
    if item is not None:
        return item
    path = Path(spec)
    if not path.is_file():
        raise UserError(f"clip {spec!r} does not exist")
    if path.suffix != ".npy":
        raise UserError(f"clip {spec!r}: give a .npy of uint8 (T, H, W) or a dataset item such as test:3")
    arr = np.load(path)
    if arr.dtype != np.uint8 or arr.ndim != 3:
        raise UserError(f"clip {spec!r} must be uint8 (T, H, W) grey, got {arr.dtype} {arr.shape}")
    return arr


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
            raise UserError(f"mask {spec!r}: write border:K with an integer K, e.g. border:4") from None
        if not 1 <= k < min(h, w) / 2:
            raise UserError(f"mask {spec!r}: K must be in [1, {(min(h, w) - 1) // 2}] for a {h}×{w} image")
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
            raise UserError(f"mask {spec!r}: the side must be one of {', '.join(cuts)}")
        out[cuts[side]] = True
    elif spec.startswith("random-half:"):
        try:
            seed = int(spec.split(":", 1)[1])
        except ValueError:
            raise UserError(f"mask {spec!r}: write random-half:SEED with an integer seed") from None
        order = np.random.default_rng(seed).permutation(h * w)
        out.reshape(-1)[order[: h * w // 2]] = True
    else:
        path = Path(spec)
        if not path.is_file():
            raise UserError(f"mask {spec!r} is neither a file nor a region ({', '.join(REGION_SHAPES)})")
        if path.suffix == ".npy":
            arr = np.load(path)
            if arr.ndim != 2:
                raise UserError(f"mask {spec!r} must be 2-D (H, W), got shape {arr.shape}")
            arr = (arr != 0).astype(np.uint8) * 255
        else:
            from PIL import Image, UnidentifiedImageError

            try:
                with Image.open(path) as img:
                    arr = np.asarray(img.convert("L"))
            except (UnidentifiedImageError, OSError) as err:
                raise UserError(f"mask {spec!r} is not an image file PIL can read: {err}") from None
        out = _resize(np.where(arr != 0, 255, 0).astype(np.uint8), (h, w), nearest=True) > 0
    if not out.any():
        raise UserError(f"mask {spec!r} marks no pixel to regenerate")
    return out


def parse_frames(spec: str, frames: int) -> tuple[int, ...]:
    """The frame indices (sorted, unique) that ``spec`` selects in clips of ``frames`` frames.

    ``spec`` is a comma-separated list of frames ``5`` and ranges ``A:B`` (frames A … B − 1; an
    end left out is the clip's: ``4:`` = frame 4 to the last, which is continuation; ``:2`` = the
    first two), or ``all``. ``ValueError`` names a part that is not an integer or range, a frame
    out of [0, frames − 1], an empty range, or a spec that selects no frame.
    """
    if frames < 1:
        raise UserError(f"clips must have at least one frame, got {frames}")
    if spec.strip() == "all":
        return tuple(range(frames))
    chosen: set[int] = set()
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        try:
            if ":" in part:
                lo_text, hi_text = part.split(":", 1)
                lo = int(lo_text) if lo_text.strip() else 0
                hi = int(hi_text) if hi_text.strip() else frames
            else:
                lo = int(part)
                hi = lo + 1
        except ValueError:
            raise UserError(
                f"--frames {spec!r}: {part!r} is neither a frame nor a range; write e.g. 4: (frames 4 onwards), "
                "2,5 or 1:3"
            ) from None
        if not 0 <= lo < frames or not lo < hi <= frames:
            what = f"frame {lo}" if ":" not in part else f"range {part!r}"
            raise UserError(
                f"--frames {spec!r}: {what} is out of range; the model's clips have frames 0 … {frames - 1}"
            )
        chosen.update(range(lo, hi))
    if not chosen:
        raise UserError(f"--frames {spec!r} selects no frame")
    return tuple(sorted(chosen))


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
        from .tokenizers import PixelQuantizer

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


@dataclass
class JointEditPlan:
    """A region of one stream of a joint model to regenerate, with the other streams given or generated.

    Attributes:
        tokens: {name: (N, *grid_s)} int64 ids (no [MASK]) of every stream given whole, and of the
            edited stream (its region is regenerated, the rest given); streams to generate are absent.
        stream: the edited stream.
        region: (N, *grid_stream) bool, True where the edited stream is regenerated.
        generate: streams generated whole (from [MASK]).
        mode: the ``MultiStreamSampler`` mode: given streams -> the edited stream and the generated
            ones (``"joint"`` when no stream is given whole).
        note: what is given and what is drawn (said to the user).
    """

    tokens: dict[str, Tensor]
    stream: str
    region: Tensor
    generate: tuple[str, ...]
    mode: str
    note: str

    @property
    def given(self) -> tuple[str, ...]:
        """The streams given whole (the mode's conditions)."""
        return tuple(s for s in self.tokens if s != self.stream)


def plan_joint_edit(
    model: Any,
    streams: Mapping[str, Tensor | np.ndarray],
    stream: str,
    region: Tensor | np.ndarray,
    *,
    generate: Sequence[str] = (),
) -> JointEditPlan:
    """Plan to regenerate ``region`` of ``stream`` of a joint model, every other stream given whole
    unless listed in ``generate`` (then drawn along).

    Args:
        model: a multi-stream model (``stream_names``, ``vocab_sizes``, ``grids``).
        streams: {name: (N, *grid_s) ids in [0, V_s − 2]} for the edited stream and every stream not
            generated (extra streams, e.g. the true values of generated ones, are ignored).
        stream: the stream to edit.
        region: bool (N, *grid_stream) or one (*grid_stream) for every item: True = regenerate.
        generate: other streams to generate whole.

    Raises:
        ValueError: a model that is not multi-stream, an unknown stream (listing the model's), a
            generated stream that is the edited one or named twice, a stream missing from
            ``streams``, shapes or ids that do not fit the model, or a region that marks no token
            of some item — naming the value.
    """
    _refuse_kind(model, "joint")
    names = tuple(model.stream_names)
    vocab, grids = model.vocab_sizes, model.grids
    for s in (stream, *generate):
        if s not in names:
            raise UserError(f"unknown stream {s!r}; this model's streams are {', '.join(names)}")
    generate = tuple(generate)
    if stream in generate:
        raise UserError(f"stream {stream!r} is the one edited; it cannot also be generated whole")
    if len(set(generate)) != len(generate):
        raise UserError(f"a stream is named twice among the generated ones {list(generate)}")
    needed = [s for s in names if s not in generate]
    missing = [s for s in needed if s not in streams]
    if missing:
        raise UserError(
            f"stream(s) {', '.join(missing)} not given; give their tokens or generate them (generate={missing})"
        )
    tokens: dict[str, Tensor] = {}
    n = None
    for s in needed:
        v = torch.as_tensor(streams[s])
        if tuple(v.shape[1:]) != tuple(grids[s]):
            raise UserError(
                f"stream {s!r} has shape {tuple(v.shape)}; the model expects (N, {', '.join(map(str, grids[s]))})"
            )
        if n is not None and v.shape[0] != n:
            raise UserError(f"stream {s!r} has {v.shape[0]} items, the others {n}")
        n = int(v.shape[0])
        check_tokens(v, vocab[s], allow_mask=False, name=f"stream {s!r}")
        tokens[s] = v.long().cpu()
    assert n is not None
    r = torch.as_tensor(region)
    if r.dtype != torch.bool:
        raise UserError(f"the region must be bool, got dtype {r.dtype}")
    grid = tuple(grids[stream])
    if tuple(r.shape) == grid:
        r = r.expand(n, *grid)
    if tuple(r.shape) != (n, *grid):
        raise UserError(
            f"the region has shape {tuple(r.shape)}; stream {stream!r} is (N={n}, {', '.join(map(str, grid))})"
        )
    r = r.clone().cpu()
    empty = (~r.reshape(n, -1).any(1)).nonzero()
    if len(empty):
        raise UserError(f"the region marks no token of stream {stream!r} in item {int(empty[0])}")
    conds = [s for s in needed if s != stream]
    targets = [s for s in names if s == stream or s in generate]
    mode = f"{','.join(conds)}->{','.join(targets)}" if conds else "joint"
    tokens = {s: tokens[s] for s in (*conds, stream)}
    note = (
        f"stream {stream!r}: {int(r.sum())} of {r.numel()} tokens regenerated"
        + (f"; given whole: {', '.join(conds)}" if conds else "")
        + (f"; generated whole: {', '.join(generate)}" if generate else "")
        + f" (mode {mode})"
    )
    return JointEditPlan(tokens=tokens, stream=stream, region=r, generate=generate, mode=mode, note=note)


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
    """Regenerate ``plan.region`` of every image (or clip) ``samples`` times with ``sampler`` (labels: one per
    image, for a class-conditional model; CFG as the sampler says). Given tokens come back unchanged.

    The result depends only on (model, sampler, starting state, labels, seed): a continuation plan
    (``plan_video_edit`` of frames K … T − 1) draws what ``unmask.inference.generate`` draws from
    the same clips' first K frames with the same seed. A ``JointEditPlan`` is refused: use ``edit_streams``.
    """
    if isinstance(plan, JointEditPlan):
        raise UserError("a joint edit plan is drawn with edit_streams, not edit")
    if samples < 1:
        raise UserError(f"samples must be >= 1, got {samples}")
    n = plan.tokens.shape[0]
    x = edit_init(plan.tokens, plan.region, model.vocab_size).repeat_interleave(samples, dim=0).to(device)
    lab = None
    if labels is not None:
        if len(labels) != n:
            raise UserError(f"{len(labels)} labels for {n} images")
        if model.num_classes == 0:
            raise UserError("labels given but the model is unconditional")
        for y in labels:
            if not 0 <= y < model.num_classes:
                raise UserError(f"label {y} outside the classes [0, {model.num_classes - 1}]")
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


@dataclass
class JointEditResult:
    """K completions of each joint edit.

    Attributes:
        tokens: {name: (N·K, *grid_s)} every stream in play: given streams as given, the edited
            stream with its region drawn (the rest as given), generated streams drawn.
        source: (N·K,) the item each completion comes from.
        region: (N·K, *grid_stream) where the edited stream was drawn.
        mode: the ``MultiStreamSampler`` mode that ran.
        nfe: network calls made.
    """

    tokens: dict[str, Tensor]
    source: Tensor
    region: Tensor
    mode: str
    nfe: int


@torch.no_grad()
def edit_streams(
    model: Any,
    sampler: Any,
    plan: JointEditPlan,
    *,
    samples: int = 1,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> JointEditResult:
    """Regenerate ``plan.region`` of ``plan.stream`` ``samples`` times per item, the given streams held
    fixed and ``plan.generate`` drawn along, with ``MultiStreamSampler(plan.mode, …)``.

    ``sampler``: an ``EulerSampler`` or ``MaskGITSampler`` (its settings: steps, CFG over the given
    streams, temperature, …), or a ``MultiStreamSampler`` whose inner sampler is used (its mode is
    the plan's). Given tokens, in every stream, come back unchanged.
    """
    if not isinstance(plan, JointEditPlan):
        raise UserError("edit_streams draws joint edit plans (plan_joint_edit); image and clip plans go to edit")
    if samples < 1:
        raise UserError(f"samples must be >= 1, got {samples}")
    inner = sampler.euler if isinstance(sampler, MultiStreamSampler) else sampler
    runner = MultiStreamSampler(plan.mode, inner)
    n = plan.tokens[plan.stream].shape[0]
    vocab = model.vocab_sizes[plan.stream]
    start = edit_init(plan.tokens[plan.stream], plan.region, vocab)
    conditions = {s: plan.tokens[s].repeat_interleave(samples, dim=0).to(device) for s in plan.given}
    partial = {plan.stream: start.repeat_interleave(samples, dim=0).to(device)}
    gen = torch.Generator(device=device).manual_seed(seed)
    out = runner.sample(model, conditions or None, partial=partial, generator=gen, device=device)
    return JointEditResult(
        tokens={s: v.cpu() for s, v in out.tokens.items()},
        source=torch.arange(n).repeat_interleave(samples),
        region=plan.region.repeat_interleave(samples, dim=0),
        mode=plan.mode,
        nfe=out.nfe,
    )
