"""PNG grids of images (Pillow only)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ._io import atomic_write_bytes

__all__ = ["make_grid", "save_grid", "display_scale"]


def display_scale(height: int, target: int = 64) -> int:
    """Integer upscale that shows images of ``height`` pixels at about ``target`` pixels."""
    return max(1, target // max(height, 1))


def make_grid(images: np.ndarray, nrow: int, *, pad: int = 1, scale: int = 1, pad_value: int = 128) -> np.ndarray:
    """Tile uint8 images (N, H, W) or (N, H, W, 3) into rows of ``nrow``; nearest-upscale by ``scale``."""
    imgs = np.asarray(images)
    if imgs.dtype != np.uint8:
        raise ValueError(f"images must be uint8, got {imgs.dtype}")
    if imgs.ndim == 3:
        imgs = imgs[..., None]
    if imgs.ndim != 4 or imgs.shape[-1] not in (1, 3):
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, 3), got {tuple(np.asarray(images).shape)}")
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
