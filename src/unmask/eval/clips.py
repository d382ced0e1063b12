"""Checks of generated clips shared by the video metrics (frame FD, temporal consistency, motion)."""

from __future__ import annotations

import numpy as np

from ..errors import UserError

__all__ = ["check_videos"]


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
