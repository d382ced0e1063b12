"""Does a clip show one object bouncing around the canvas? A motion measure beside frame FD.

Frame FD says what frames look like and the mean absolute change (:mod:`.video`) how much
they change; neither says whether a clip shows *a body that moves*. This module follows the
bright object of each frame and checks what makes a bouncing-shapes clip
(``unmask.data.videos``: one solid shape of constant size on a flat background, moving in a
straight line at constant speed and reflected at the walls):

1. **One object.** Pixels brighter than ``threshold`` (default 105: the midpoint between the
   data's brightest background, 60, and its dimmest shape, 150; after decoding at 8 grey
   levels the background is ≤ 73 and the shape ≥ 146) are the object. A frame holds one object
   when they form exactly one 8-connected component of at least ``min_area`` pixels and at most
   ``max_area_frac`` of the frame (grey noise above the threshold percolates into one component
   covering ~58 % of the frame: that is not an object on a background). It may touch the border.
2. **Constant size.** A one-object frame is *of the clip's size* when its area is within
   ``size_tol`` (relative) of the median area over the clip's one-object frames. Small outlines
   (rings, pluses, triangles of radius 3.5–5 px) drawn on a 16 px grid change area by up to
   ~45 % as they move over the pixel grid, so the tolerance is wide; two objects, specks and
   vanishing objects fail the first test anyway.
3. **Constant velocity between bounces.** With the centroid c_t (px, (x, y)) of each
   one-object frame, an interior step t ∈ [1, T − 2] is *smooth* when the frames t − 1, t,
   t + 1 all hold an object of the clip's size and, on each axis, the second difference
   a_t = c_{t+1} − 2 c_t + c_{t−1} is at most ``accel_tol`` px/frame² — or the object is
   within ``wall_margin`` px of a wall on that axis in one of the three frames and a_t points
   away from that wall (a bounce flips that velocity component). The centroid of a shape
   sampled on the pixel grid wobbles: on real clips, more than 1 px from the walls, |a_t| has
   a median of 0.15, a 99.9th percentile of 1.5 and a maximum of 2 px/frame².
4. **Motion.** The clip's speed is the mean |c_{t+1} − c_t| (px/frame) over consecutive
   one-object frames; it *moves* when the mean step over *every* window of ``speed_window``
   consecutive steps (all steps when there are fewer) is at least ``min_speed``. A still clip
   is not a bouncing body, and neither is one that stops half-way (the centroid wobble of a
   slow shape hides a stop from the velocity test, not from this one).

Per clip::

    score = (frames with one object of the clip's size) / T
            × (smooth interior steps) / (T − 2)
            × [moving]                                                ∈ [0, 1]

and the clip *passes* when its score is at least ``pass_score``. The defaults were set on the
1,000 real test clips of bouncing-shapes decoded at 8 grey levels: every frame holds one
object of 20–81 px (``min_area`` 8, ``max_area_frac`` 0.4 of 256 px); a clip's areas deviate from
its median by at most 45 % (``size_tol`` 0.5); the slowest window of 4 steps moves 0.28 px/frame
at least (``min_speed`` 0.2); with ``accel_tol`` 1.25 and ``wall_margin`` 1, 99.4 % of the clips
pass and 0.6 % of frame-shuffled ones (``experiments/video/motion_references.py``,
docs/evaluation.md).

The measure is about motion, not shape: a blurred copy of a real clip is one moving blob
and scores like the clip. Read it beside frame FD.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .._checks import check_fields, is_int
from ..errors import UserError
from .clips import check_continuation, check_videos, finite_mean

__all__ = [
    "MotionParams",
    "ClipMotion",
    "clip_motion",
    "motion_report",
    "continuation_error",
    "extrapolate_track",
    "shuffle_frames",
    "hold_frame",
    "blur_frames",
]

#: 8-connectivity inside a frame, none across frames (the stack is labelled as (N·T, H, W)).
_STRUCTURE = np.zeros((3, 3, 3), dtype=bool)
_STRUCTURE[1] = True


@dataclass(frozen=True)
class MotionParams:
    """Thresholds of the motion measure (see the module docstring for how they were set).

    Attributes:
        threshold: grey level in [0, 255); pixels strictly brighter are the object.
        min_area: smallest object in pixels (>= 1); smaller components count as specks.
        max_area_frac: largest object as a fraction of the frame's pixels, in (0, 1].
        size_tol: allowed relative deviation of a frame's area from the clip's median area, >= 0.
        accel_tol: largest |second difference| of the centroid per axis away from walls, px/frame², >= 0.
        wall_margin: px between the object's bounding box and a wall that still counts as touching it, >= 0.
        min_speed: smallest mean centroid step (px/frame) over any ``speed_window`` consecutive steps
            of a moving clip, > 0.
        speed_window: steps per window of the motion test, an integer >= 1.
        pass_score: a clip passes when its score is at least this, in (0, 1].
    """

    threshold: float = 105.0
    min_area: int = 8
    max_area_frac: float = 0.4
    size_tol: float = 0.5
    accel_tol: float = 1.25
    wall_margin: float = 1.0
    min_speed: float = 0.2
    speed_window: int = 4
    pass_score: float = 1.0

    def __post_init__(self) -> None:
        checks = [
            ("threshold", 0 <= self.threshold < 255, "in [0, 255)"),
            ("min_area", is_int(self.min_area) and self.min_area >= 1, "an integer >= 1"),
            ("max_area_frac", 0 < self.max_area_frac <= 1, "in (0, 1]"),
            ("size_tol", self.size_tol >= 0, ">= 0"),
            ("accel_tol", self.accel_tol >= 0, ">= 0"),
            ("wall_margin", self.wall_margin >= 0, ">= 0"),
            ("min_speed", self.min_speed > 0, "> 0"),
            ("speed_window", is_int(self.speed_window) and self.speed_window >= 1, "an integer >= 1"),
            ("pass_score", 0 < self.pass_score <= 1, "in (0, 1]"),
        ]
        check_fields(self, checks)


@dataclass(frozen=True)
class ClipMotion:
    """Per-clip and per-frame results of :func:`clip_motion` for N clips of T frames.

    Attributes:
        components: (N, T) int64, bright 8-connected components per frame (specks included).
        area: (N, T) int64, bright pixels per frame.
        one_object: (N, T) bool, exactly one component, of ``min_area`` … ``max_area_frac``·H·W pixels.
        right_size: (N, T) bool, one object whose area is within ``size_tol`` of the clip's median.
        centroid: (N, T, 2) float64, (x, y) in px (column, row of the pixel grid) of the object;
            NaN where the frame does not hold one object.
        gaps: (N, T, 4) float64, px from the bright pixels' bounding box to the left, right, top and
            bottom walls (inf in empty frames).
        smooth: (N, T − 2) bool, interior step t + 1 moves at constant velocity or bounces.
        speed: (N,) float64, mean centroid speed in px/frame; NaN without two consecutive one-object frames.
        moving: (N,) bool, the mean step of every window of ``speed_window`` steps is >= ``min_speed``.
        score: (N,) float64 in [0, 1].
        passed: (N,) bool, score >= ``pass_score``.
    """

    components: np.ndarray
    area: np.ndarray
    one_object: np.ndarray
    right_size: np.ndarray
    centroid: np.ndarray
    gaps: np.ndarray
    smooth: np.ndarray
    speed: np.ndarray
    moving: np.ndarray
    score: np.ndarray
    passed: np.ndarray


def _objects(videos: np.ndarray, threshold: float) -> tuple[np.ndarray, ...]:
    """Bright components, areas, centroids and wall gaps of every frame of (N, T, H, W) uint8 clips.

    Returns (components (N, T), areas (N, T), largest component's area (N, T), centroid (N, T, 2)
    of all bright pixels (NaN in empty frames), gaps (N, T, 4) in px from the bright pixels' bounding
    box to the left, right, top and bottom walls (inf in empty frames)).
    """
    n, t, h, w = videos.shape
    mask = videos.reshape(n * t, h, w) > threshold
    labels, count = ndimage.label(mask, structure=_STRUCTURE)
    frame_of_pixel = np.broadcast_to(np.arange(n * t)[:, None, None], mask.shape)
    frame_of_label = np.zeros(count + 1, dtype=np.int64)
    frame_of_label[labels[mask]] = frame_of_pixel[mask]
    components = np.bincount(frame_of_label[1:], minlength=n * t)
    sizes = np.bincount(labels[mask], minlength=count + 1)[1:]
    largest = np.zeros(n * t, dtype=np.int64)
    np.maximum.at(largest, frame_of_label[1:], sizes)
    area = mask.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (mask * np.arange(w)[None, None, :]).sum(axis=(1, 2)) / area
        cy = (mask * np.arange(h)[None, :, None]).sum(axis=(1, 2)) / area
    cols: np.ndarray = np.asarray(mask.any(axis=1))  # (N·T, W)
    rows: np.ndarray = np.asarray(mask.any(axis=2))  # (N·T, H)
    inf = np.inf

    def first(a: np.ndarray) -> np.ndarray:
        return np.where(a.any(axis=1), a.argmax(axis=1), inf)

    gaps = np.stack([first(cols), first(cols[:, ::-1]), first(rows), first(rows[:, ::-1])], axis=1)
    return (
        components.reshape(n, t),
        area.reshape(n, t).astype(np.int64),
        largest.reshape(n, t),
        np.stack([cx, cy], axis=1).reshape(n, t, 2),
        gaps.reshape(n, t, 4),
    )


def clip_motion(videos: np.ndarray, params: MotionParams | None = None) -> ClipMotion:
    """Follow the object of every frame of ``videos`` and score each clip as a bouncing body.

    Args:
        videos: uint8 (N, T, H, W) grey clips, N >= 1, T >= 3.
        params: thresholds (default ``MotionParams()``, set on bouncing-shapes).

    Returns:
        :class:`ClipMotion` with per-frame, per-step and per-clip results.

    Raises:
        ValueError: ``videos`` not a uint8 array of 4 dimensions with at least 3 frames (the
            dtype or shape is named).
    """
    p = MotionParams() if params is None else params
    v = check_videos(videos, "videos", min_frames=3)
    n, t = v.shape[:2]
    components, area, largest, centroid, gaps = _objects(v, p.threshold)
    h, w = v.shape[2:]
    one = (components == 1) & (largest >= p.min_area) & (largest <= p.max_area_frac * h * w)
    centroid = np.where(one[..., None], centroid, np.nan)

    med = np.array([np.median(a[o]) if o.any() else np.nan for a, o in zip(area, one, strict=True)])
    with np.errstate(invalid="ignore"):
        right = one & (np.abs(area - med[:, None]) <= p.size_tol * med[:, None])

    vel = np.diff(centroid, axis=1)  # (N, T − 1, 2), NaN next to frames without one object
    acc = np.diff(centroid, n=2, axis=1)  # (N, T − 2, 2)
    near = np.minimum(np.minimum(gaps[:, :-2], gaps[:, 1:-1]), gaps[:, 2:]) <= p.wall_margin  # (N, T − 2, 4)
    with np.errstate(invalid="ignore"):
        bounce_x = (near[..., 0] & (acc[..., 0] > 0)) | (near[..., 1] & (acc[..., 0] < 0))
        bounce_y = (near[..., 2] & (acc[..., 1] > 0)) | (near[..., 3] & (acc[..., 1] < 0))
        ok_x = (np.abs(acc[..., 0]) <= p.accel_tol) | bounce_x
        ok_y = (np.abs(acc[..., 1]) <= p.accel_tol) | bounce_y
    framed = right[:, :-2] & right[:, 1:-1] & right[:, 2:]
    smooth = framed & ok_x & ok_y

    steps = np.linalg.norm(vel, axis=2)  # (N, T − 1)
    defined = np.isfinite(steps)
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = np.where(defined.any(axis=1), np.where(defined, steps, 0.0).sum(axis=1) / defined.sum(axis=1), np.nan)
    win = min(p.speed_window, t - 1)
    windows = np.lib.stride_tricks.sliding_window_view(steps, win, axis=1)  # (N, T − win, win)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # windows without a defined step: NaN, not moving
        slowest = np.nanmin(np.nanmean(windows, axis=2), axis=1)
    moving = np.nan_to_num(slowest, nan=0.0) >= p.min_speed
    score = right.mean(axis=1) * smooth.mean(axis=1) * moving
    return ClipMotion(
        components=components,
        area=area,
        one_object=one,
        right_size=right,
        centroid=centroid,
        gaps=gaps,
        smooth=smooth,
        speed=speed,
        moving=moving,
        score=score,
        passed=score >= p.pass_score,
    )


def motion_report(videos: np.ndarray, params: MotionParams | None = None) -> dict[str, float | int]:
    """The motion measure of N clips, aggregated.

    Args:
        videos: uint8 (N, T, H, W) grey clips, N >= 1, T >= 3.
        params: thresholds (default ``MotionParams()``).

    Returns:
        ``n``; ``score``: mean per-clip score in [0, 1]; ``pass_rate``: fraction of clips that pass;
        ``one_object_rate``: fraction of frames holding one object; ``constant_size_rate``: fraction
        of frames holding one object of their clip's size; ``constant_velocity_rate``: fraction of
        interior steps that are smooth; ``moving_rate``: fraction of clips with speed >= min_speed;
        ``mean_speed``: mean per-clip speed in px/frame over clips where it is defined (NaN if none).
    """
    return _report(clip_motion(videos, params))


def _report(m: ClipMotion) -> dict[str, float | int]:
    """:func:`motion_report`'s aggregates of one :func:`clip_motion` result."""
    return {
        "n": int(len(m.score)),
        "score": float(m.score.mean()),
        "pass_rate": float(m.passed.mean()),
        "one_object_rate": float(m.one_object.mean()),
        "constant_size_rate": float(m.right_size.mean()),
        "constant_velocity_rate": float(m.smooth.mean()),
        "moving_rate": float(m.moving.mean()),
        "mean_speed": finite_mean(m.speed),
    }


def continuation_error(
    generated: np.ndarray, real: np.ndarray, given_frames: int = 4, params: MotionParams | None = None
) -> dict[str, object]:
    """Does a clip continued from the first ``given_frames`` frames of a real clip keep its object on the real track?

    Args:
        generated: uint8 (N, T, H, W) continued clips, N >= 1, T >= 3.
        real: uint8 (N, T, H, W) the real clips they continue (clip i continues real clip i).
        given_frames: K in [1, T − 1], frames 0 … K − 1 were given.
        params: thresholds of the motion measure (default ``MotionParams()``).

    Returns:
        ``n``, ``given_frames``; ``position_error``: mean distance in px between the generated and the
        real object's centroid over frames K … T − 1 where both hold one object (NaN if none do);
        ``position_error_per_frame``: the same per frame K … T − 1 (a list of T − K floats);
        ``found_rate``: fraction of those frames where the generated clip holds one object (and the real
        one does); ``hold_error``: the error of holding the object still at its last given real position
        (the baseline of a model that stops the object); ``extrapolation_error``: the error of continuing
        the given real track at constant speed, reflected at the walls (see :func:`extrapolate_track`: what
        the given frames alone allow, the reference of a model that follows the track; NaN when
        ``given_frames`` is 1) and
        ``extrapolation_error_per_frame``, the same per frame K … T − 1; ``motion``:
        :func:`motion_report` of the generated clips over all T frames.

    Raises:
        ValueError: clips that are not uint8 (N, T, H, W) with T >= 3, shapes that differ, or ``given_frames``
            outside [1, T − 1] (the value is named).
    """
    k = check_continuation(generated, real, given_frames)
    t = generated.shape[1]
    g = clip_motion(generated, params)
    r = clip_motion(real, params)
    tail_g, tail_r = g.centroid[:, k:], r.centroid[:, k:]  # (N, T − K, 2)
    dist = np.linalg.norm(tail_g - tail_r, axis=2)  # NaN where either has no single object
    real_found = np.isfinite(tail_r).all(axis=2)
    hold = np.linalg.norm(r.centroid[:, k - 1 : k] - tail_r, axis=2)
    if k >= 2:  # a track needs two given frames
        extrapolated = np.linalg.norm(extrapolate_track(r.centroid[:, :k], r.gaps[:, k - 1], t - k) - tail_r, axis=2)
    else:
        extrapolated = np.full_like(dist, np.nan)
    with np.errstate(invalid="ignore"):
        per_frame = [finite_mean(dist[:, j]) for j in range(t - k)]
        extrapolated_per_frame = [finite_mean(extrapolated[:, j]) for j in range(t - k)]
    return {
        "n": int(len(generated)),
        "given_frames": k,
        "position_error": finite_mean(dist),
        "position_error_per_frame": per_frame,
        "found_rate": float(np.isfinite(dist).sum() / max(1, real_found.sum())),
        "hold_error": finite_mean(hold),
        "extrapolation_error": finite_mean(extrapolated),
        "extrapolation_error_per_frame": extrapolated_per_frame,
        "motion": _report(g),  # the generated clips' measure, already computed
    }


def extrapolate_track(given: np.ndarray, gaps: np.ndarray, frames: int) -> np.ndarray:
    """Continue each object's track from its given centroids at constant speed, reflected at the walls.

    Per axis, the speed is the mean absolute centroid step over the given frames (a bounce flips a
    velocity component but keeps its size) and the direction is that of the last step. The object's
    bounding box in the last given frame may move until it touches a wall, and is reflected there, as
    bouncing-shapes' generator reflects its shapes. On the 1,000 real test clips given 4 frames this
    is 0.80 px off the real track over frames 4 … 7 (0.47 / 0.69 / 0.92 / 1.10): the centroid of a
    shape drawn on the pixel grid wobbles, so even the generator's own track is not met exactly.

    Args:
        given: (N, K, 2) float64 centroids (x, y) in px of the given frames, K >= 2 (NaN where a
            frame does not hold one object: that clip's prediction is NaN).
        gaps: (N, 4) px from the object's bounding box in the last given frame to the left, right, top
            and bottom walls (``inf`` where the frame is empty).
        frames: how many frames to continue, >= 1.

    Returns:
        (N, frames, 2) float64 predicted centroids of frames K … K + frames − 1.
    """
    if given.ndim != 3 or given.shape[1] < 2 or given.shape[2] != 2:
        raise UserError(f"given must be centroids (N, K >= 2, 2), got shape {given.shape}")
    if gaps.shape != (len(given), 4):
        raise UserError(f"gaps must be ({len(given)}, 4), got shape {gaps.shape}")
    if not is_int(frames) or frames < 1:
        raise UserError(f"frames must be an integer >= 1, got {frames!r}")
    steps = np.diff(given, axis=1)  # (N, K − 1, 2)
    velocity = np.abs(steps).mean(axis=1) * np.sign(steps[:, -1])  # (N, 2)
    ahead = np.arange(1, frames + 1, dtype=np.float64)
    out = np.empty((len(given), frames, 2))
    for axis, (before, after) in enumerate(((0, 1), (2, 3))):
        lo, hi = -gaps[:, before], gaps[:, after]  # the shifts that keep the box inside the frame
        span = (hi - lo)[:, None]
        with np.errstate(invalid="ignore"):
            q = np.mod(velocity[:, axis, None] * ahead[None] - lo[:, None], 2 * span)
            shift = lo[:, None] + np.where(q <= span, q, 2 * span - q)
        out[..., axis] = given[:, -1, None, axis] + np.where(span > 0, shift, 0.0)
    return out


# Clips that are not a bouncing body, built from real ones: the measure's references
# (experiments/video/motion_references.py) and its tests.


def shuffle_frames(videos: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each clip of uint8 (N, T, H, W) with its frames in a random order other than the identity and
    the reversal (T ≥ 3); deterministic in ``seed``."""
    check_videos(videos, min_frames=3)
    rng = np.random.RandomState(seed)
    t = videos.shape[1]
    out = videos.copy()
    for i in range(len(videos)):
        p = rng.permutation(t)
        while np.array_equal(p, np.arange(t)) or np.array_equal(p, np.arange(t)[::-1]):
            p = rng.permutation(t)
        out[i] = videos[i, p]
    return out


def hold_frame(videos: np.ndarray, k: int) -> np.ndarray:
    """Frames 0 … k − 1 of each clip, then frame k − 1 held to the end (k = 1: a still clip)."""
    check_videos(videos, min_frames=1)
    if not 1 <= k <= videos.shape[1]:
        raise UserError(f"k must be in [1, {videos.shape[1]}] for clips of {videos.shape[1]} frames, got {k}")
    return np.concatenate([videos[:, :k], np.repeat(videos[:, k - 1 : k], videos.shape[1] - k, axis=1)], axis=1)


def blur_frames(videos: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """Every frame blurred (Gaussian, ``sigma`` px) and stretched to [0, 255]; uint8 (N, T, H, W)."""
    x = ndimage.gaussian_filter(check_videos(videos, min_frames=1).astype(np.float64), sigma=(0, 0, sigma, sigma))
    lo, hi = x.min(axis=(2, 3), keepdims=True), x.max(axis=(2, 3), keepdims=True)
    return np.round(255 * (x - lo) / np.maximum(hi - lo, 1e-9)).astype(np.uint8)
