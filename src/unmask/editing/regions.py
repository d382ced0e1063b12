"""Where to regenerate: ``region_mask`` reads or builds the pixel region of an image (a PNG / ``.npy``,
nonzero = regenerate, or a built-in shape of ``REGION_SHAPES``), and ``parse_frames`` reads which
frames of a clip to regenerate (``4:``, ``2,5``, ``1:3``, ``all``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UserError
from .inputs import _resize

#: Built-in regions (``region_mask``): besides a file, "centre", "border:K", "half:SIDE" and "random-half:SEED".
REGION_SHAPES = ("centre", "border:K", "half:left|right|top|bottom", "random-half:SEED")


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
