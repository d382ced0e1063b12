"""Users' own clips on disk as a video dataset (``video-files``, see ``unmask.data.videos``):
``read_video_files`` reads a ``.npy`` (N, T, H, W), an ``.npz`` of clips, or a folder of clips (or of
class sub-folders), checking every clip against the first and naming the one at fault
(``VideoFileError``); ``load_video_files`` quantises them and cuts the fixed 10 % test split. Also
``_check_levels``, the grey-level check every clip dataset (and the caption datasets) shares.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from ..tokenizers import PixelQuantizer
from .base import TokenDataset, stratified_split

__all__ = ["VideoFileError", "read_video_files", "load_video_files", "DEFAULT_VIDEO_LEVELS"]

DEFAULT_VIDEO_LEVELS = 8


def _check_levels(levels: int | None, name: str) -> PixelQuantizer:
    lv = DEFAULT_VIDEO_LEVELS if levels is None else levels
    if isinstance(lv, bool) or not isinstance(lv, int) or not 2 <= lv <= 256:
        raise ValueError(f"levels for {name} must be an integer in [2, 256], got {levels!r}")
    return PixelQuantizer(levels=lv, max_value=255.0)


class VideoFileError(UserError):
    """A user's video file or folder that cannot be read as clips; the message names the item."""


def _check_clip(name: str, clip: np.ndarray, first: tuple[str, tuple[int, ...]] | None) -> tuple[int, ...]:
    """Validate one clip (T, H, W) uint8 against the first clip's shape; returns its shape."""
    if clip.dtype != np.uint8:
        raise VideoFileError(f"video {name!r} has dtype {clip.dtype}; clips must be uint8 grey levels in [0, 255]")
    if clip.ndim != 3 or min(clip.shape, default=0) < 1:
        raise VideoFileError(f"video {name!r} has shape {clip.shape}; a clip must be (frames, height, width)")
    if first is not None and clip.shape != first[1]:
        (t0, h0, w0), (t, h, w) = first[1], clip.shape
        what = f"{t} frames" if t != t0 else f"frames of {h}×{w}"
        raise VideoFileError(
            f"video {name!r} has {what}, but the first video {first[0]!r} has {t0} frames of {h0}×{w0}: "
            "every clip needs the same frame count and frame size"
        )
    return tuple(clip.shape)


def _stack(items: list[tuple[str, np.ndarray]]) -> np.ndarray:
    if not items:
        raise VideoFileError("no video clips found")
    first: tuple[str, tuple[int, ...]] | None = None
    for name, clip in items:
        shape = _check_clip(name, clip, first)
        if first is None:
            first = (name, shape)
    return np.stack([clip for _, clip in items])


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise VideoFileError(f"cannot read video file {str(path)!r}: {err}") from None


def read_video_files(root: str | Path) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    """Read a user's clips (see the module docstring).

    Returns:
        videos: uint8 (N, T, H, W);
        labels: int64 (N,) in [0, C), or None when unlabelled;
        class_names: the C class names (sub-folders), or the label values as strings, or ().

    Raises:
        VideoFileError: unreadable files, non-uint8 clips, or a clip whose frame count or
            frame size differs from the first one (named).
    """
    path = Path(root)
    if not path.exists():
        raise VideoFileError(f"video path {str(path)!r} does not exist")
    if path.is_dir():
        direct = sorted(path.glob("*.npy"))
        classes = sorted(p.name for p in path.iterdir() if p.is_dir())
        if direct and classes:
            raise VideoFileError(
                f"video folder {str(path)!r} mixes clips ({direct[0].name}, …) and class sub-folders "
                f"({classes[0]}, …); use one layout"
            )
        if direct:
            return _stack([(p.name, _load_npy(p)) for p in direct]), None, ()
        items: list[tuple[str, np.ndarray]] = []
        labels: list[int] = []
        for c, cls in enumerate(classes):
            for p in sorted((path / cls).glob("*.npy")):
                items.append((f"{cls}/{p.name}", _load_npy(p)))
                labels.append(c)
        if not items:
            raise VideoFileError(f"video folder {str(path)!r} holds no .npy clips")
        return _stack(items), np.asarray(labels, dtype=np.int64), tuple(classes)
    if path.suffix == ".npy":
        videos = _load_npy(path)
        if videos.ndim != 4:
            raise VideoFileError(f"{str(path)!r} holds an array of shape {videos.shape}; expected (N, T, H, W)")
        _stack([(f"{path.name}[{i}]", v) for i, v in enumerate(videos[:1])])  # dtype and shape checks
        return videos, None, ()
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError) as err:
            raise VideoFileError(f"cannot read video file {str(path)!r}: {err}") from None
        if "videos" in arrays:
            videos = arrays["videos"]
            if videos.ndim != 4:
                raise VideoFileError(f"'videos' in {str(path)!r} has shape {videos.shape}; expected (N, T, H, W)")
            _stack([(f"videos[{i}]", v) for i, v in enumerate(videos[:1])])
            lab = arrays.get("labels")
            if lab is None:
                return videos, None, ()
            if lab.shape != (len(videos),) or not np.issubdtype(lab.dtype, np.integer) or (lab.size and lab.min() < 0):
                raise VideoFileError(
                    f"'labels' in {str(path)!r} must be {len(videos)} integers >= 0 (one per clip), "
                    f"got shape {lab.shape} dtype {lab.dtype}"
                )
            values = np.unique(lab)
            index = {int(v): i for i, v in enumerate(values)}
            return videos, np.asarray([index[int(v)] for v in lab], dtype=np.int64), tuple(str(v) for v in values)
        return _stack(list(arrays.items())), None, ()
    raise VideoFileError(f"video path {str(path)!r} must be a folder, an .npy or an .npz file")


def load_video_files(split: str = "train", levels: int | None = None, root: str | None = None) -> TokenDataset:
    """A user's clips (``read_video_files(root)``) as tokens (N, T, H, W); fixed 90/10 train/test split."""
    if split not in ("train", "test"):
        raise ValueError(f"video-files split must be 'train' or 'test', got {split!r}")
    if not root:
        raise ValueError("dataset 'video-files' needs data.root: a folder, .npy or .npz of uint8 clips (N, T, H, W)")
    tok = _check_levels(levels, "video-files")
    videos, labels, names = read_video_files(root)
    if len(videos) < 2:
        raise VideoFileError(f"{root!r} holds {len(videos)} clip; need at least 2 (train and test)")
    if labels is not None:
        train, test = stratified_split(labels, 0.1, 0)
    else:
        order = np.random.RandomState(0).permutation(len(videos))
        n_test = max(1, int(round(0.1 * len(videos))))
        test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    idx = train if split == "train" else test
    return TokenDataset(
        name="video-files",
        split=split,
        tokens=tok.encode(videos[idx]),
        labels=None if labels is None else torch.from_numpy(labels[idx]),
        num_classes=0 if labels is None else len(names),
        tokenizer=tok,
        class_names=names,
    )
