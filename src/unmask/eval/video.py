"""Scores of generated clips: frame-level Fréchet distance and temporal consistency.

* **Frame FD.** Every frame of every clip is scored as an image: features of the N·T
  generated frames and of the reference clips' frames from the same extractor as the image
  FD (EfficientNet-Lite0 by default, ``unmask.eval.features``), then the Fréchet distance
  of ``unmask.eval.frechet``. It measures what frames look like, not how they move.
* **Temporal consistency.** The mean absolute change between consecutive frames,

      MAC(clip) = mean over t < T − 1 and pixels of |x_{t+1} − x_t| / 255   ∈ [0, 1],

  for every generated and every reference clip. A model that ignores time flickers (frames
  drawn independently: MAC far above the data's), a model that copies frames freezes (MAC
  near 0). Reported: the mean MAC of the samples and of the reference, their ratio
  (1 = the data's amount of change) and the 1-Wasserstein distance between the two
  distributions of per-clip MAC (0 = the same distribution of motion magnitudes; it also
  catches a right mean reached by a mixture of frozen and flickering clips).

  MAC measures the amount of change, not its coherence: a shape that teleports by the
  right distance scores like one that moves. Frame FD and looking at the GIFs cover what
  it does not.

* **Motion.** Whether the clips show what moves in the data: one solid object bouncing off the
  walls (``unmask.eval.motion``, "bouncing-body", set on bouncing-shapes) or one or two textured
  items moving as rigid sprites (``unmask.eval.sprite_motion``, "rigid-sprites", set on
  moving-fashion-mnist). ``MOTION_MEASURES`` gives each dataset its measure.

**Cache.** Against a registered dataset, the features of the reference frames (thousands of
frames: minutes with EfficientNet-Lite0 on a CPU) are computed once and cached with the image
FD's mechanism (``unmask.eval.reference.cached_features``, under ``$UNMASK_CACHE/reference``),
keyed by the dataset, split, clip subset, frames scored, extractor name (with its weights hash)
and a hash of the frames' pixels (so grey levels, frame count and size are part of the key); a
hit gives exactly the statistics that recomputing gives, a corrupt file is recomputed with a
warning, and ``refresh=True`` recomputes. Reference clips given as an array are not cached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import UserError
from .clips import check_videos
from .features import DEFAULT_EXTRACTOR, FeatureExtractor, get_extractor
from .frechet import FeatureStats, frechet_distance
from .reference import cached_features, select_indices

__all__ = [
    "check_videos",
    "mean_abs_change",
    "TemporalConsistency",
    "temporal_consistency",
    "frame_fd",
    "evaluate_videos",
]


def mean_abs_change(videos: np.ndarray) -> np.ndarray:
    """Per-clip mean absolute change between consecutive frames, (N,) float64 in [0, 1]."""
    v = check_videos(videos).astype(np.float64)
    return np.abs(np.diff(v, axis=1)).mean(axis=(1, 2, 3)) / 255.0


def _wasserstein_1d(a: np.ndarray, b: np.ndarray) -> float:
    """W1 between the empirical distributions of samples ``a`` and ``b`` (any sizes): ∫ |F_a − F_b|."""
    grid = np.sort(np.concatenate([a, b]))
    fa = np.searchsorted(np.sort(a), grid[:-1], side="right") / len(a)
    fb = np.searchsorted(np.sort(b), grid[:-1], side="right") / len(b)
    return float(np.sum(np.abs(fa - fb) * np.diff(grid)))


@dataclass(frozen=True)
class TemporalConsistency:
    """Mean absolute frame-to-frame change of samples vs a reference (see the module docstring).

    Attributes:
        change: mean MAC of the samples, in [0, 1].
        ref_change: mean MAC of the reference clips.
        ratio: change / ref_change (inf when the reference never changes and the samples do).
        w1: 1-Wasserstein distance between the per-clip MAC distributions, in [0, 1].
        n, ref_n: clips compared.
    """

    change: float
    ref_change: float
    ratio: float
    w1: float
    n: int
    ref_n: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def temporal_consistency(videos: np.ndarray, ref_videos: np.ndarray) -> TemporalConsistency:
    """Compare the frame-to-frame change of ``videos`` (N, T, H, W) with that of ``ref_videos`` (M, T', H', W')."""
    gen = mean_abs_change(check_videos(videos))
    ref = mean_abs_change(check_videos(ref_videos, "reference videos"))
    change, ref_change = float(gen.mean()), float(ref.mean())
    if ref_change > 0:
        ratio = change / ref_change
    else:
        ratio = 1.0 if change == 0 else float("inf")
    return TemporalConsistency(change, ref_change, ratio, _wasserstein_1d(gen, ref), len(gen), len(ref))


def _frames(videos: np.ndarray) -> np.ndarray:
    n, t, h, w = videos.shape
    return np.ascontiguousarray(videos.reshape(n * t, h, w))


def _frame_stats(videos: np.ndarray, ext: FeatureExtractor, batch_size: int, progress: bool | None) -> FeatureStats:
    """Feature statistics of every frame of uint8 clips (N, T, H, W): mean (D,), covariance (D, D) over N·T frames."""
    return FeatureStats.from_features(ext(_frames(videos), batch_size=batch_size, progress=progress))


def frame_fd(
    videos: np.ndarray,
    ref_videos: np.ndarray,
    *,
    extractor: str | FeatureExtractor = DEFAULT_EXTRACTOR,
    batch_size: int = 64,
    progress: bool | None = None,
) -> float:
    """Fréchet distance between the frames of ``videos`` and of ``ref_videos`` (both uint8 (N, T, H, W),
    frames of one size), each frame scored as an image by ``extractor``."""
    check_videos(videos, min_frames=1)
    check_videos(ref_videos, "reference videos", min_frames=1)
    if videos.shape[2:] != ref_videos.shape[2:]:
        raise UserError(
            f"frames of {videos.shape[2]}×{videos.shape[3]} cannot be compared with reference frames of "
            f"{ref_videos.shape[2]}×{ref_videos.shape[3]}"
        )
    ext = get_extractor(extractor)
    return frechet_distance(
        _frame_stats(videos, ext, batch_size, progress), _frame_stats(ref_videos, ext, batch_size, progress)
    )


def evaluate_videos(
    videos: np.ndarray,
    ref: str | np.ndarray,
    *,
    extractor: str | FeatureExtractor = DEFAULT_EXTRACTOR,
    ref_split: str = "test",
    ref_n: int | None = None,
    levels: int | None = None,
    prefix_frames: int = 0,
    refresh: bool = False,
    batch_size: int = 64,
    progress: bool | None = None,
    motion: bool | None = None,
    motion_measure: str | None = None,
) -> dict[str, object]:
    """Frame FD and temporal consistency of generated clips against real ones, and (``motion``)
    whether they move as the data's objects do (a bouncing body, or rigid sprites).

    Args:
        videos: uint8 (N, T, H, W) generated clips, N ≥ 2.
        ref: a registered video dataset (its ``ref_split`` decoded at ``levels`` grey levels,
            which should be the model's) or uint8 reference clips (M, T, H, W).
        extractor: feature extractor spec or instance for the frame FD.
        ref_n: reference clips: a fixed subset of the split (default all).
        prefix_frames: K for continued clips: their first K frames were given, so the frame FD
            is computed on the generated frames K … T − 1 only (of samples and reference alike);
            temporal consistency keeps the whole clip (the step from the last given frame into
            the first generated one is part of the motion).
        refresh: recompute the reference frames' features even if they are cached (a dataset
            ``ref`` only; see the module docstring).
        batch_size, progress: passed to the extractor.
        motion: add a motion measure of the samples and of the reference clips (default: when
            ``ref`` is a dataset with a measure of its own in ``MOTION_MEASURES``, the data its
            thresholds were set on).
        motion_measure: which one, a key of ``MOTION_MEASURE_NAMES``: ``"bouncing-body"``
            (``unmask.eval.motion``: one solid object bouncing) or ``"rigid-sprites"``
            (``unmask.eval.sprite_motion``: one or two textured items moving as rigid sprites);
            default the dataset's, else ``"bouncing-body"``.

    Returns:
        JSON-serialisable: ``n``, ``ref``, ``ref_n``, ``extractor``, ``frames_scored`` (per
        clip), ``frame_fd``, ``temporal``: ``TemporalConsistency.to_dict()``, and with
        ``motion`` a ``motion`` dict: ``measure`` (its name), ``samples``, ``reference`` (motion
        reports) and ``score_ratio`` (samples' mean score over the reference's).
    """
    check_videos(videos)
    if motion_measure is not None and motion_measure not in MOTION_MEASURE_NAMES:
        raise UserError(f"unknown motion measure {motion_measure!r}; choose one of {', '.join(MOTION_MEASURE_NAMES)}")
    if len(videos) < 2:
        raise UserError(f"need at least 2 clips to compare distributions, got {len(videos)}")
    if isinstance(ref, str):
        from ..data import TokenDataset, get_dataset, is_video_dataset

        if not is_video_dataset(ref):
            raise UserError(f"reference {ref!r} is not a video dataset")
        ds = get_dataset(ref, ref_split, levels)
        assert isinstance(ds, TokenDataset)
        idx = select_indices(len(ds), ref_n)
        ref_videos = np.asarray(ds.tokenizer.decode(ds.tokens[idx]))
        ref_name = f"{ref}/{ref_split}"
    else:
        ref_videos = check_videos(ref, "reference videos")
        ref_videos = ref_videos[select_indices(len(ref_videos), ref_n)]
        ref_name = "array"
    if ref_videos.shape[1:] != videos.shape[1:]:
        raise UserError(
            f"clips of shape {videos.shape[1:]} (T, H, W) do not match the reference's {ref_videos.shape[1:]}"
        )
    t = videos.shape[1]
    if not 0 <= prefix_frames < t:
        raise UserError(f"prefix_frames must be in [0, {t - 1}] for clips of {t} frames, got {prefix_frames}")
    ext = get_extractor(extractor)
    ref_tail = ref_videos[:, prefix_frames:]  # (M, T − K, H, W): the frames the FD scores
    if isinstance(ref, str):
        m, scored = ref_tail.shape[:2]
        _, ref_stats, _ = cached_features(
            _frames(ref_tail),
            ext,
            {
                "dataset": ref,
                "split": ref_split,
                "clips": int(m),
                "frames": int(scored),
                "first_frame": int(prefix_frames),
            },
            f"{ref}-{ref_split}-clips{m}x{scored}" + (f"-from{prefix_frames}" if prefix_frames else ""),
            refresh=refresh,
            batch_size=batch_size,
            progress=progress,
        )
    else:
        ref_stats = _frame_stats(ref_tail, ext, batch_size, progress)
    fd = frechet_distance(_frame_stats(videos[:, prefix_frames:], ext, batch_size, progress), ref_stats)
    report: dict[str, object] = {
        "n": int(len(videos)),
        "ref": ref_name,
        "ref_n": int(len(ref_videos)),
        "extractor": ext.name,
        "prefix_frames": int(prefix_frames),
        "frames_scored": int(t - prefix_frames),
        "frame_fd": fd,
        "temporal": temporal_consistency(videos, ref_videos).to_dict(),
    }
    own = MOTION_MEASURES.get(ref) if isinstance(ref, str) else None
    if motion is None:
        motion = own is not None or motion_measure is not None
    if motion and t >= 3:
        name = motion_measure or own or "bouncing-body"
        measure = get_motion_measure(name).report
        gen, real = measure(videos), measure(ref_videos)
        ratio = float(gen["score"]) / float(real["score"]) if float(real["score"]) > 0 else float("nan")
        report["motion"] = {"measure": name, "samples": gen, "reference": real, "score_ratio": ratio}
    return report


#: the motion measure whose thresholds were set on each video dataset
MOTION_MEASURES: dict[str, str] = {"bouncing-shapes": "bouncing-body", "moving-fashion-mnist": "rigid-sprites"}
#: every motion measure, by name
MOTION_MEASURE_NAMES = ("bouncing-body", "rigid-sprites")


@dataclass(frozen=True)
class MotionMeasure:
    """A motion measure's two entry points.

    Attributes:
        report: clips uint8 (N, T, H, W) → aggregated scores, with ``score`` (mean per-clip score in
            [0, 1]) and ``pass_rate``.
        continuation: (generated, real, given_frames) → the position error of clips continued from
            the first ``given_frames`` frames of ``real``, beside holding them still, with ``motion``.
    """

    report: Callable[[np.ndarray], dict[str, float | int]]
    continuation: Callable[[np.ndarray, np.ndarray, int], dict[str, object]]


def get_motion_measure(name: str) -> MotionMeasure:
    """The motion measure ``name`` (a key of ``MOTION_MEASURE_NAMES``); ``UserError`` names an unknown one."""
    if name == "bouncing-body":
        from .motion import continuation_error, motion_report

        return MotionMeasure(motion_report, continuation_error)
    if name == "rigid-sprites":
        from .sprite_motion import sprite_continuation_error, sprite_motion_report

        return MotionMeasure(sprite_motion_report, sprite_continuation_error)
    raise UserError(f"unknown motion measure {name!r}; choose one of {', '.join(MOTION_MEASURE_NAMES)}")
