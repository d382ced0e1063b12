"""PNG grids of images, frame strips and animated GIFs of clips (Pillow), and MP4s of clips (the optional
``imageio-ffmpeg``: ``pip install 'unmask[video]'``)."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._io import atomic_write_bytes, fsync_dir
from .tokenizers.base import channels_last_images

__all__ = [
    "make_grid",
    "save_grid",
    "save_video_grid",
    "save_gif",
    "save_mp4",
    "clip_grid_frames",
    "display_scale",
    "colorize",
    "render_streams",
    "heatmap",
    "PALETTE",
]

#: Colours of class ids 0, 1, … in segmentation pictures (0 is black: background / void).
PALETTE = np.array(
    [
        [int(c[k : k + 2], 16) for k in (0, 2, 4)]
        for c in "000000 e6194b 3cb44b ffe119 0082c8 f58230 911eb4 46f0f0 f032e6 d2f53c fabed4 008080".split()
    ],
    dtype=np.uint8,
)


def display_scale(height: int, target: int = 64) -> int:
    """Integer upscale that shows images of ``height`` pixels at about ``target`` pixels."""
    return max(1, target // max(height, 1))


def make_grid(images: np.ndarray, nrow: int, *, pad: int = 1, scale: int = 1, pad_value: int = 128) -> np.ndarray:
    """Tile uint8 images (N, H, W) or (N, H, W, 3) into rows of ``nrow``; nearest-upscale by ``scale``."""
    imgs = channels_last_images(images)
    if nrow < 1:
        raise ValueError(f"nrow must be >= 1, got {nrow}")
    if scale > 1:
        imgs = imgs.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w, c = imgs.shape
    rows = max(1, -(-n // nrow))
    grid = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), pad_value, dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y : y + h, x : x + w] = imgs[i]
    return grid[..., 0] if c == 1 else grid


def save_grid(
    images: np.ndarray, path: str | Path, nrow: int, *, pad: int | None = None, scale: int | None = None
) -> Path:
    """Write a PNG grid atomically (temporary file + rename) and return its path.

    ``scale`` defaults to ``display_scale`` of the image height; ``pad`` to scale / 4.
    """
    if scale is None:
        scale = display_scale(np.asarray(images).shape[1])
    if pad is None:
        pad = max(1, scale // 4)
    from PIL import Image

    grid = make_grid(images, nrow, pad=pad, scale=scale)
    buf = io.BytesIO()
    Image.fromarray(grid).save(buf, format="PNG")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _check_videos(videos: np.ndarray) -> np.ndarray:
    v = np.asarray(videos)
    if v.dtype != np.uint8 or v.ndim != 4 or 0 in v.shape:
        raise ValueError(f"videos must be uint8 (N, T, H, W) with N, T, H, W >= 1, got {v.dtype} {tuple(v.shape)}")
    return v


def save_video_grid(videos: np.ndarray, path: str | Path, *, scale: int | None = None) -> Path:
    """A PNG of grey clips (N, T, H, W) uint8: one row per clip, its T frames left to right. Atomic."""
    v = _check_videos(videos)
    n, t, h, w = v.shape
    return save_grid(v.reshape(n * t, h, w), path, nrow=t, scale=scale)


def clip_grid_frames(videos: np.ndarray, *, nrow: int | None = None, scale: int | None = None) -> np.ndarray:
    """The frames of a grid of grey clips (N, T, H, W) uint8, as uint8 (T, H_grid, W_grid): frame i tiles
    frame i of every clip, ``nrow`` clips per row (default ⌈√N⌉), each nearest-upscaled by ``scale``
    (default ``display_scale(H)``) with grey gaps of ``max(1, scale // 4)`` pixels (as ``make_grid``)."""
    v = _check_videos(videos)
    n, t, h, _ = v.shape
    nrow = int(np.ceil(np.sqrt(n))) if nrow is None else nrow
    scale = display_scale(h) if scale is None else scale
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    pad = max(1, scale // 4)
    return np.stack([make_grid(v[:, i], nrow, pad=pad, scale=scale) for i in range(t)])


def save_gif(
    videos: np.ndarray, path: str | Path, *, nrow: int | None = None, fps: float = 4.0, scale: int | None = None
) -> Path:
    """An animated GIF of grey clips (N, T, H, W) uint8: frame i shows frame i of every clip in a
    grid of ``nrow`` clips per row (default ⌈√N⌉), looping forever. Written atomically; returns the path."""
    from PIL import Image

    v = _check_videos(videos)
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    frames = [Image.fromarray(f) for f in clip_grid_frames(v, nrow=nrow, scale=scale)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=int(round(1000 / fps)), loop=0)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return path


#: MP4 frames are at least this many pixels on their shorter side (nearest-upscaled by an integer factor) …
MP4_MIN_SIDE = 64
#: … and padded with the grid's grey to a multiple of this (H.264 macroblocks; yuv420p needs even sizes).
MP4_BLOCK = 16
_MP4_INSTALL = "pip install 'unmask[video]' (or pip install imageio-ffmpeg)"


def require_mp4_writer() -> Any:
    """The ``imageio_ffmpeg`` module (it bundles an ffmpeg binary); ImportError saying how to install it."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ImportError(
            f"writing MP4 needs the package imageio-ffmpeg, which is not installed: {_MP4_INSTALL}"
        ) from None
    return imageio_ffmpeg


def mp4_frames(videos: np.ndarray, *, nrow: int | None = None, scale: int | None = None) -> np.ndarray:
    """The frames ``save_mp4`` encodes: uint8 (T, H_out, W_out), the ``clip_grid_frames`` grid
    nearest-upscaled by the smallest integer factor that makes its shorter side >= ``MP4_MIN_SIDE``, then
    padded evenly with grey (128, the grid's gap colour) to multiples of ``MP4_BLOCK`` pixels."""
    grid = clip_grid_frames(videos, nrow=nrow, scale=scale)
    _, gh, gw = grid.shape
    up = max(1, -(-MP4_MIN_SIDE // min(gh, gw)))
    if up > 1:
        grid = grid.repeat(up, axis=1).repeat(up, axis=2)
    _, gh, gw = grid.shape
    ph, pw = -gh % MP4_BLOCK, -gw % MP4_BLOCK
    pads = ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2))
    return np.ascontiguousarray(np.pad(grid, pads, constant_values=128))


def save_mp4(
    videos: np.ndarray,
    path: str | Path,
    *,
    nrow: int | None = None,
    fps: float = 4.0,
    scale: int | None = None,
    quality: float = 8.0,
) -> Path:
    """An H.264 MP4 of grey clips (N, T, H, W) uint8 with the layout of ``save_gif`` (frame i shows frame i
    of every clip, ``nrow`` clips per row), T frames at ``fps`` frames per second, frame size as
    ``mp4_frames`` (even, a multiple of 16). ``quality`` in [1, 10] (imageio-ffmpeg's scale; 8 = CRF 10,
    near lossless for flat grey pictures, 10 = CRF 0).

    Written atomically: ffmpeg writes a temporary file in the same directory, renamed to ``path`` only
    once complete (removed on any error). Returns the path.

    Raises:
        ValueError: ``videos`` not uint8 (N, T, H, W) (the message gives its dtype and shape), ``fps`` <= 0,
            ``quality`` outside [1, 10], or a bad ``nrow`` / ``scale``.
        ImportError: imageio-ffmpeg is not installed (``pip install 'unmask[video]'``).
    """
    v = _check_videos(videos)
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    if isinstance(quality, bool) or not isinstance(quality, (int, float)) or not 1 <= quality <= 10:
        raise ValueError(f"quality must be a number in [1, 10], got {quality!r}")
    frames = mp4_frames(v, nrow=nrow, scale=scale)
    ffmpeg = require_mp4_writer()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.stem}-{os.getpid()}.mp4")  # ffmpeg picks the container from the suffix
    _, h, w = frames.shape
    try:
        writer = ffmpeg.write_frames(
            str(tmp),
            (w, h),
            fps=float(fps),
            pix_fmt_in="gray",
            codec="libx264",
            quality=float(quality),
            macro_block_size=MP4_BLOCK,
            ffmpeg_log_level="error",
            output_params=["-movflags", "+faststart"],
        )
        try:
            writer.send(None)
            for frame in frames:
                writer.send(frame.tobytes())
        finally:
            writer.close()  # waits for ffmpeg to finish the file (or stops it after an error)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_dir(path.parent)
    return path


def colorize(classes: np.ndarray) -> np.ndarray:
    """Class ids (N, H, W) (or any shape) → uint8 RGB (..., 3) with ``PALETTE`` (cycled beyond its length)."""
    c = np.asarray(classes)
    if not np.issubdtype(c.dtype, np.integer) or (c.size and c.min() < 0):
        raise ValueError(f"class ids must be integers >= 0, got {c.dtype} with minimum {c.min() if c.size else None}")
    return PALETTE[c % len(PALETTE)]


def heatmap(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Values >= 0 (..., H, W) → uint8 RGB (..., H, W, 3) from black (0) through red to yellow-white (``vmax``)."""
    v = np.asarray(values, dtype=np.float64)
    top = float(v.max()) if vmax is None else float(vmax)
    x = np.clip(v / top, 0, 1) if top > 0 else np.zeros_like(v)
    rgb = np.stack([np.clip(3 * x, 0, 1), np.clip(3 * x - 1, 0, 1), np.clip(3 * x - 2, 0, 1)], axis=-1)
    return np.round(rgb * 255).astype(np.uint8)


def _upscale(img: np.ndarray, height: int) -> np.ndarray:
    """Nearest-upscale (N, h, w, 3) by the integer factor height / h."""
    f = max(1, height // img.shape[1])
    return img.repeat(f, axis=1).repeat(f, axis=2)


def render_streams(
    tokens: dict[str, Any], dataset: Any, *, gap: int = 1, grey: Mapping[str, Any] | None = None
) -> np.ndarray:
    """Pictures of paired streams side by side: uint8 RGB (N, H, W_total, 3).

    ``dataset`` gives ``kinds`` ({stream: "image" | "segmentation" | "label"}) and
    ``tokenizer`` (decodes "image" streams). Images are grey, segmentation maps coloured
    with ``PALETTE`` and nearest-upscaled to the tallest stream, a label is a strip in its
    class colour. Streams are drawn in the order of ``tokens``, ``gap`` grey columns apart.
    ``grey``: {stream: bool (N, *grid_s)} positions drawn mid-grey (128) instead — a region to
    regenerate, or a stream not known; a label stream is grey when its token is marked.
    """
    marks = {k: np.asarray(v, dtype=bool) for k, v in (grey or {}).items()}
    parts: list[tuple[str, np.ndarray]] = []
    for name, value in tokens.items():
        arr = np.asarray(value)
        kind = dataset.kinds[name]
        if kind == "image":
            picture = np.asarray(dataset.tokenizer.decode(arr))
            picture = np.repeat(picture[..., None], 3, axis=-1) if picture.ndim == 3 else picture.copy()
        elif kind == "segmentation":
            picture = colorize(arr)
        else:
            continue
        if name in marks:
            if marks[name].shape != picture.shape[:-1]:
                raise ValueError(
                    f"grey region of {name!r} has shape {marks[name].shape}, its picture {picture.shape[:-1]}"
                )
            picture[marks[name]] = 128
        parts.append((kind, picture))
    if not parts:
        raise ValueError(f"no image or segmentation stream among {list(tokens)} to draw")
    height = max(p.shape[1] for _, p in parts)
    shown = [_upscale(p, height) for _, p in parts]
    n = shown[0].shape[0]
    for name, value in tokens.items():
        if dataset.kinds[name] == "label":
            colour = colorize(np.asarray(value).reshape(n).astype(np.int64) + 1)  # +1: class 0 is not black
            if name in marks:
                colour[marks[name].reshape(n, -1).any(1)] = 128
            shown.append(np.broadcast_to(colour[:, None, None, :], (n, height, max(2, height // 4), 3)).copy())
    sep = np.full((n, height, gap, 3), 128, dtype=np.uint8)
    out: list[np.ndarray] = []
    for i, part in enumerate(shown):
        if i:
            out.append(sep)
        out.append(part)
    return np.concatenate(out, axis=2)
