"""Do the items of a clip move as rigid sprites? A motion measure for clips of textured items that overlap.

:mod:`.motion` follows *one* solid object by its bright connected component, which fits bouncing-shapes
but not ``moving-fashion-mnist`` (``unmask.data.videos``): there a clip holds one or two 14 × 14
Fashion-MNIST items on a black canvas, each moved by whole pixels at 1–3 px per frame in a straight
line and reflected at the walls, composited by the brighter pixel. The items touch or overlap in most
frames, so counting components fails (only 7 % of the test frames show two components although half the
clips hold two items). What stays true of every real clip is that frame t + 1 is frame t with its items
*translated*, and that each item's translation changes little from step to step. This measure matches
translated content between frames:

1. **Motions of a step.** For each displacement d = (dy, dx) with |dy|, |dx| ≤ ``max_shift`` px, an item
   pixel p of frame t + 1 (grey level > ``threshold``) is *explained by d* when the ``patch`` × ``patch``
   neighbourhood of p matches that of p − d in frame t (mean absolute difference ≤ ``match_tol`` grey
   levels; outside the canvas is black). The step's first motion d₁ is the displacement that explains
   the most item pixels; its second motion d₂ the one that explains the most of the rest, kept when it
   explains at least ``second_frac`` of the item pixels (a second item). At most two items, as in the data.
2. **Rigid.** The fraction of item pixels of frame t + 1 explained by d₁ or d₂, and, the clip run
   backwards, of frame t by frame t + 1: averaged over both directions and all steps. Items that
   deform, dissolve, appear from nothing, or jump further than ``max_shift`` lower it; a step into a
   frame with fewer than ``min_area`` item pixels (an empty frame) explains nothing. Where two items
   overlap, the composite changes as they move, so real two-item clips score below 1 here (0.88 on
   average over the test split's two-item clips, 1.0 over its one-item clips).
3. **Smooth.** A transition between consecutive steps is smooth when each motion of the later step has
   a motion of the earlier one that it continues: on each axis the component changes by at most
   ``speed_tol`` px/frame (the pixel grid rounds a constant velocity to steps differing by one), or it
   reverses with its magnitude kept within ``speed_tol`` — directly, or through one intermediate step
   lying between the two (a reflection at a wall spread over two steps by the rounding).
4. **Moving.** The mean per-step displacement max(|dy₁|, |dx₁|) is at least ``min_speed`` px/frame:
   a still clip is perfectly rigid and smooth, and not a moving item.

Per clip::

    score = rigid × (smooth transitions) / (T − 2) × [moving]            ∈ [0, 1]

and it *passes* when the score is at least ``pass_score``. The defaults were set on the 1,000 real test
clips of moving-fashion-mnist at 8 grey levels against clips that are not moving sprites: the same clips
frame-shuffled, jittered (the first frame displaced at random by up to 3 px each frame), each frame
taken from another clip, a still first frame, and noise (``experiments/video/sprite_motion_references.py``,
docs/evaluation.md).

Like :mod:`.motion`, the measure is about motion, not about what the items look like: read it beside
frame FD.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from .._checks import check_fields, is_int
from ..errors import UserError
from .clips import check_continuation, check_videos, finite_mean

__all__ = [
    "SpriteMotionParams",
    "SpriteMotion",
    "clip_sprite_motion",
    "sprite_motion_report",
    "sprite_continuation_error",
    "jitter_frames",
]


@dataclass(frozen=True)
class SpriteMotionParams:
    """Thresholds of the sprite motion measure (see the module docstring for how they were set).

    Attributes:
        threshold: grey level in [0, 255); pixels strictly brighter are item pixels (the canvas is black).
        max_shift: largest displacement per axis searched between consecutive frames, px, an integer >= 1.
        patch: side of the neighbourhood compared, an odd integer >= 1.
        match_tol: largest mean absolute grey difference over the neighbourhood for a match, >= 0.
        second_frac: a second motion is kept when it explains at least this fraction of the item
            pixels, in (0, 1].
        min_area: fewest item pixels of a frame that holds items, an integer >= 1.
        speed_tol: largest change of a velocity component per step (px/frame), and of its magnitude
            through a reflection, >= 0.
        min_speed: smallest mean displacement (px/frame, max over the axes) of a moving clip, > 0.
        pass_score: a clip passes when its score is at least this, in (0, 1].
        chunk: clips per block of the computation (memory), an integer >= 1.
    """

    threshold: float = 18.0
    max_shift: int = 4
    patch: int = 3
    match_tol: float = 10.0
    second_frac: float = 0.1
    min_area: int = 16
    speed_tol: float = 1.0
    min_speed: float = 0.5
    pass_score: float = 0.75
    chunk: int = 128

    def __post_init__(self) -> None:
        checks = [
            ("threshold", 0 <= self.threshold < 255, "in [0, 255)"),
            ("max_shift", is_int(self.max_shift) and self.max_shift >= 1, "an integer >= 1"),
            ("patch", is_int(self.patch) and self.patch >= 1 and self.patch % 2 == 1, "an odd integer >= 1"),
            ("match_tol", self.match_tol >= 0, ">= 0"),
            ("second_frac", 0 < self.second_frac <= 1, "in (0, 1]"),
            ("min_area", is_int(self.min_area) and self.min_area >= 1, "an integer >= 1"),
            ("speed_tol", self.speed_tol >= 0, ">= 0"),
            ("min_speed", self.min_speed > 0, "> 0"),
            ("pass_score", 0 < self.pass_score <= 1, "in (0, 1]"),
            ("chunk", is_int(self.chunk) and self.chunk >= 1, "an integer >= 1"),
        ]
        check_fields(self, checks)


@dataclass(frozen=True)
class SpriteMotion:
    """Per-step and per-clip results of :func:`clip_sprite_motion` for N clips of T frames.

    Attributes:
        motions: (N, T − 1, 2, 2) int64, the step's first and second motion (dy, dx) in px (the second
            equals the first where there is none).
        second: (N, T − 1) bool, the step has a second motion.
        explained: (N, T − 1) float64 in [0, 1], fraction of frame t + 1's item pixels explained.
        explained_back: (N, T − 1) float64 in [0, 1], the same for frame t from frame t + 1.
        rigid: (N,) float64 in [0, 1], mean of both over the steps.
        smooth: (N, T − 2) bool, the transition from step t to step t + 1 is smooth.
        speed: (N,) float64, mean max(|dy₁|, |dx₁|) in px/frame (a step without motion counts 0).
        moving: (N,) bool, speed >= ``min_speed``.
        score: (N,) float64 in [0, 1].
        passed: (N,) bool, score >= ``pass_score``.
    """

    motions: np.ndarray
    second: np.ndarray
    explained: np.ndarray
    explained_back: np.ndarray
    rigid: np.ndarray
    smooth: np.ndarray
    speed: np.ndarray
    moving: np.ndarray
    score: np.ndarray
    passed: np.ndarray


def _step_motions(v: np.ndarray, p: SpriteMotionParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The motions of every step of float clips (n, T, H, W): (n, T − 1, 2, 2) int64 motions, (n, T − 1)
    bool second motion, (n, T − 1) explained fraction of frame t + 1's item pixels."""
    n, t, h, w = v.shape
    d = p.max_shift
    before, after = v[:, :-1], v[:, 1:]
    padded = np.pad(before, ((0, 0), (0, 0), (d, d), (d, d)))
    items = after > p.threshold  # (n, T − 1, H, W)
    shifts = [(dy, dx) for dy in range(-d, d + 1) for dx in range(-d, d + 1)]
    explained = np.empty((len(shifts), n, t - 1, h, w), dtype=bool)
    for i, (dy, dx) in enumerate(shifts):
        moved = padded[:, :, d - dy : d - dy + h, d - dx : d - dx + w]  # moved[y, x] = before[y − dy, x − dx]
        err = ndimage.uniform_filter(np.abs(after - moved), size=(1, 1, p.patch, p.patch), mode="constant")
        explained[i] = (err <= p.match_tol) & items
    area = items.sum(axis=(2, 3))  # (n, T − 1)
    counts = explained.sum(axis=(3, 4))  # (S, n, T − 1)
    first = counts.argmax(axis=0)
    by_first = np.take_along_axis(explained, first[None, :, :, None, None], axis=0)[0]
    rest = explained & ~by_first[None]
    rest_counts = rest.sum(axis=(3, 4))
    second = rest_counts.argmax(axis=0)
    has_second = np.take_along_axis(rest_counts, second[None], axis=0)[0] >= p.second_frac * np.maximum(area, 1)
    by_second = np.take_along_axis(rest, second[None, :, :, None, None], axis=0)[0] & has_second[..., None, None]
    frac = (by_first | by_second).sum(axis=(2, 3)) / np.maximum(area, 1)
    frac = np.where(area >= p.min_area, frac, 0.0)
    table = np.asarray(shifts, dtype=np.int64)
    second_motion = np.where(has_second[..., None], table[second], table[first])
    return np.stack([table[first], second_motion], axis=2), has_second, frac


def _axis_continues(
    prev2: np.ndarray,
    prev: np.ndarray,
    cur: np.ndarray,
    nxt: np.ndarray,
    has2: np.ndarray,
    hasn: np.ndarray,
    tol: float,
) -> np.ndarray:
    """Per axis: does velocity ``cur`` continue ``prev`` (with ``prev2`` before and ``nxt`` after, where they exist)?"""
    a = np.abs
    steady = a(cur - prev) <= tol
    reversed_now = (prev * cur < 0) & (a(a(prev) - a(cur)) <= tol)
    middle_now = hasn & (prev * nxt < 0) & (np.minimum(prev, nxt) <= cur) & (cur <= np.maximum(prev, nxt))
    middle_now &= a(a(prev) - a(nxt)) <= tol
    middle_before = has2 & (prev2 * cur < 0) & (np.minimum(prev2, cur) <= prev) & (prev <= np.maximum(prev2, cur))
    middle_before &= a(a(prev2) - a(cur)) <= tol
    return steady | reversed_now | middle_now | middle_before


def _smooth(motions: np.ndarray, second: np.ndarray, defined: np.ndarray, tol: float) -> np.ndarray:
    """(n, S − 1) bool: every motion of step j has one of step j − 1 that it continues (j = 1 … S − 1), with any
    motion of step j − 2 before and of step j + 1 after as the context of a reflection."""
    n, s = second.shape
    valid = np.stack([defined, defined & second], axis=2)  # (n, S, 2): motion slot 0 / 1 of a step exists
    out = np.zeros((n, s - 1), dtype=bool)
    for j in range(1, s):
        jn, jp = min(j + 1, s - 1), max(j - 2, 0)  # the neighbouring steps (clamped; masked out below)
        ok_j = defined[:, j] & defined[:, j - 1]
        for a in range(2):  # each motion of step j …
            continued = np.zeros(n, dtype=bool)
            for b, c, e in itertools.product(range(2), repeat=3):  # … by some motion b of step j − 1
                hasn = (valid[:, jn, c] & (j + 1 < s))[:, None]
                has2 = (valid[:, jp, e] & (j >= 2))[:, None]
                cont = _axis_continues(
                    motions[:, jp, e], motions[:, j - 1, b], motions[:, j, a], motions[:, jn, c], has2, hasn, tol
                )
                continued |= valid[:, j - 1, b] & cont.all(axis=1)
            ok_j &= continued | ~valid[:, j, a]
        out[:, j - 1] = ok_j
    return out


def clip_sprite_motion(videos: np.ndarray, params: SpriteMotionParams | None = None) -> SpriteMotion:
    """Score each clip of ``videos`` as items moving like rigid sprites.

    Args:
        videos: uint8 (N, T, H, W) grey clips on a black canvas, N >= 1, T >= 3.
        params: thresholds (default ``SpriteMotionParams()``, set on moving-fashion-mnist).

    Returns:
        :class:`SpriteMotion` with per-step and per-clip results.

    Raises:
        ValueError: ``videos`` not a uint8 array of 4 dimensions with at least 3 frames (named).
    """
    p = SpriteMotionParams() if params is None else params
    check_videos(videos, "videos", min_frames=3)
    parts = []
    for i in range(0, len(videos), p.chunk):
        v = videos[i : i + p.chunk].astype(np.float32)
        parts.append((_step_motions(v, p), _step_motions(v[:, ::-1], p)[2][:, ::-1]))
    motions = np.concatenate([f[0] for f, _ in parts])
    second = np.concatenate([f[1] for f, _ in parts])
    explained = np.concatenate([f[2] for f, _ in parts])
    back = np.concatenate([b for _, b in parts])
    rigid = 0.5 * (explained.mean(axis=1) + back.mean(axis=1))
    defined = explained > 0  # a step into an empty frame, or with nothing explained, has no motion
    smooth = _smooth(motions, second, defined, p.speed_tol)
    speed = np.where(defined, np.abs(motions[:, :, 0]).max(axis=2), 0).mean(axis=1).astype(np.float64)
    moving = speed >= p.min_speed
    score = rigid * smooth.mean(axis=1) * moving
    return SpriteMotion(
        motions=motions,
        second=second,
        explained=explained,
        explained_back=back,
        rigid=rigid,
        smooth=smooth,
        speed=speed,
        moving=moving,
        score=score,
        passed=score >= p.pass_score,
    )


def sprite_motion_report(videos: np.ndarray, params: SpriteMotionParams | None = None) -> dict[str, float | int]:
    """The sprite motion measure of N clips, aggregated.

    Args:
        videos: uint8 (N, T, H, W) grey clips, N >= 1, T >= 3.
        params: thresholds (default ``SpriteMotionParams()``).

    Returns:
        ``n``; ``score``: mean per-clip score in [0, 1]; ``pass_rate``: fraction of clips that pass;
        ``rigid``: mean rigid fraction; ``smooth_rate``: fraction of smooth transitions;
        ``two_motion_rate``: fraction of steps with a second motion; ``moving_rate``: fraction of
        moving clips; ``mean_speed``: mean per-clip speed in px/frame.
    """
    m = clip_sprite_motion(videos, params)
    return {
        "n": int(len(m.score)),
        "score": float(m.score.mean()),
        "pass_rate": float(m.passed.mean()),
        "rigid": float(m.rigid.mean()),
        "smooth_rate": float(m.smooth.mean()),
        "two_motion_rate": float(m.second.mean()),
        "moving_rate": float(m.moving.mean()),
        "mean_speed": float(m.speed.mean()),
    }


def jitter_frames(videos: np.ndarray, max_shift: int = 3, seed: int = 0) -> np.ndarray:
    """A reference that is rigid but not smooth: each clip's first frame, displaced in every later frame by
    a random whole-pixel offset of at most ``max_shift`` px per axis (zero-filled); deterministic in ``seed``."""
    check_videos(videos, min_frames=1)
    if not is_int(max_shift) or max_shift < 0:
        raise UserError(f"max_shift must be an integer >= 0, got {max_shift!r}")
    rng = np.random.RandomState(seed)
    n, t, h, w = videos.shape
    out = np.zeros_like(videos)
    out[:, 0] = videos[:, 0]
    k = max_shift
    padded = np.pad(videos[:, 0], ((0, 0), (k, k), (k, k)))
    for i in range(n):
        for j in range(1, t):
            dy, dx = rng.randint(-k, k + 1, size=2)
            out[i, j] = padded[i, k - dy : k - dy + h, k - dx : k - dx + w]
    return out


def _alignment(a: np.ndarray, b: np.ndarray, search: int, p: SpriteMotionParams) -> tuple[np.ndarray, np.ndarray]:
    """For frames a, b uint8 (n, H, W): the displacement (dy, dx) that best explains b's item pixels from a
    (|dy|, |dx| ≤ ``search``) and the fraction it explains, (n, 2) int64 and (n,) float64."""
    q = replace(p, max_shift=search)
    motions, found = [], []
    for i in range(0, len(a), q.chunk):
        pair = np.stack([a[i : i + q.chunk], b[i : i + q.chunk]], axis=1).astype(np.float32)
        m, _, frac = _step_motions(pair, q)
        motions.append(m[:, 0, 0])
        found.append(frac[:, 0])
    return np.concatenate(motions), np.concatenate(found)


def sprite_continuation_error(
    generated: np.ndarray,
    real: np.ndarray,
    given_frames: int = 4,
    params: SpriteMotionParams | None = None,
    *,
    search: int = 12,
    min_found: float = 0.5,
) -> dict[str, object]:
    """Do clips continued from the first ``given_frames`` frames of real clips keep their items on the real track?

    For each continued frame k (K … T − 1), the displacement that best aligns the real frame k with the generated
    one (:func:`clip_sprite_motion`'s matching, searched up to ``search`` px per axis) is the position error of
    the items: 0 when they are where the real items are. It counts when it explains at least ``min_found`` of
    the generated frame's item pixels (the items were found); the same for the last given frame held still is
    the baseline of a model that stops the items.

    Args:
        generated: uint8 (N, T, H, W) continued clips, N >= 1, T >= 3.
        real: uint8 (N, T, H, W) the real clips they continue (clip i continues real clip i).
        given_frames: K in [1, T − 1].
        params: thresholds of the measure (default ``SpriteMotionParams()``).
        search: largest position error measured, px per axis, an integer >= 1.
        min_found: fraction of item pixels the alignment must explain, in (0, 1].

    Returns:
        ``n``, ``given_frames``; ``position_error``: mean length of the aligning displacement in px over the
        frames where the items were found (NaN if none); ``position_error_per_frame``: per frame K … T − 1;
        ``found_rate``: fraction of those frames where they were found; ``hold_error``: the same error of the
        last given frame held still; ``pixel_error`` and ``hold_pixel_error``: mean absolute grey difference
        from the real frames K … T − 1; ``motion``: :func:`sprite_motion_report` of the generated clips.

    Raises:
        ValueError: clips that are not uint8 (N, T, H, W) with T >= 3, shapes that differ, or ``given_frames``,
            ``search`` or ``min_found`` out of range (the value is named).
    """
    p = SpriteMotionParams() if params is None else params
    k = check_continuation(generated, real, given_frames)
    if not is_int(search) or search < 1:
        raise ValueError(f"search must be an integer >= 1, got {search!r}")
    if not 0 < min_found <= 1:
        raise ValueError(f"min_found must be in (0, 1], got {min_found!r}")
    n, t = generated.shape[:2]
    tail = t - k
    frames_real = real[:, k:].reshape(n * tail, *real.shape[2:])  # (N·(T − K), H, W)

    def errors(clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, T − K) position errors (NaN where not found) and found flags of clips (N, T − K, H, W)."""
        d, found = _alignment(frames_real, clips.reshape(frames_real.shape), search, p)
        dist = np.linalg.norm(d.astype(np.float64), axis=1).reshape(n, tail)
        ok = (found >= min_found).reshape(n, tail)
        return np.where(ok, dist, np.nan), ok

    dist, ok = errors(generated[:, k:])
    held = np.repeat(real[:, k - 1 : k], tail, axis=1)
    hold, _ = errors(held)
    real_tail = real[:, k:].astype(np.float64)
    return {
        "n": int(n),
        "given_frames": k,
        "position_error": finite_mean(dist),
        "position_error_per_frame": [finite_mean(dist[:, j]) for j in range(tail)],
        "found_rate": float(ok.mean()),
        "hold_error": finite_mean(hold),
        "pixel_error": float(np.abs(generated[:, k:].astype(np.float64) - real_tail).mean()),
        "hold_pixel_error": float(np.abs(held.astype(np.float64) - real_tail).mean()),
        "motion": sprite_motion_report(generated, p),
    }
