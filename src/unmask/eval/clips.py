"""Checks of generated clips shared by the video metrics (frame FD, temporal consistency, motion)."""

from __future__ import annotations

import numpy as np

from .._checks import is_int
from ..errors import UserError

__all__ = ["check_videos", "check_continuation", "finite_mean"]


def check_videos(videos: np.ndarray, name: str = "videos", min_frames: int = 2) -> np.ndarray:
    """Raise ValueError unless ``videos`` is a uint8 array (N, T, H, W) with T ≥ ``min_frames``; returns it."""
    if not isinstance(videos, np.ndarray):
        raise UserError(f"{name} must be a numpy array, got {type(videos).__name__}")
    if videos.dtype != np.uint8:
        raise UserError(f"{name} must be uint8 grey levels in [0, 255], got dtype {videos.dtype}")
    if videos.ndim != 4:
        raise UserError(f"{name} must have shape (N, T, H, W), got {videos.shape}")
    if videos.shape[1] < min_frames or min(videos.shape) < 1:
        raise UserError(
            f"{name} need at least {min_frames} frames per clip and non-empty frames, got shape {videos.shape}"
        )
    return videos


def check_continuation(generated: np.ndarray, real: np.ndarray, given_frames: int) -> int:
    """Check clips continued from the first ``given_frames`` frames of ``real`` (for the motion measures'
    continuation errors): both uint8 (N, T, H, W) with T >= 3 and the same shape, ``given_frames`` an integer
    in [1, T − 1]; returns it as an int. ``ValueError`` names the bad value."""
    check_videos(generated, "generated clips", min_frames=3)
    check_videos(real, "real clips", min_frames=3)
    if generated.shape != real.shape:
        raise UserError(f"generated clips of shape {generated.shape} do not match the real clips' {real.shape}")
    t = generated.shape[1]
    if not is_int(given_frames) or not 1 <= given_frames < t:
        raise UserError(
            f"given_frames must be an integer in [1, {t - 1}] for clips of {t} frames, got {given_frames!r}"
        )
    return int(given_frames)


def finite_mean(x: np.ndarray) -> float:
    """Mean of the finite entries of ``x``, NaN when there are none (a measure over the frames where it is defined)."""
    f = x[np.isfinite(x)]
    return float(f.mean()) if f.size else float("nan")
