"""The sprite motion measure: hand-built clips (a textured sprite gliding, bouncing, two sprites, a sprite that
dissolves or jumps), real moving-fashion-mnist clips scoring high while shuffled, jittered, teleporting, still
and noise clips score low, continuation errors, invalid inputs named, and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from unmask.data import TokenDataset, get_dataset
from unmask.data.videos import MOVING_FASHION_SPLIT_SEEDS
from unmask.eval.motion import hold_frame, shuffle_frames
from unmask.eval.sprite_motion import (
    SpriteMotionParams,
    clip_sprite_motion,
    jitter_frames,
    sprite_continuation_error,
    sprite_motion_report,
)

N_REAL = 120


@pytest.fixture(scope="module")
def real() -> np.ndarray:
    """The first N_REAL test clips of moving-fashion-mnist at 8 grey levels, uint8 (N, 8, 32, 32)."""
    ds = get_dataset("moving-fashion-mnist", "test", levels=8)
    assert isinstance(ds, TokenDataset)
    return np.asarray(ds.tokenizer.decode(ds.tokens[:N_REAL]))


def _sprite(seed: int = 0, side: int = 8) -> np.ndarray:
    """A textured sprite (side, side) of grey levels 60 … 250 (never black)."""
    return np.random.RandomState(seed).randint(60, 251, size=(side, side)).astype(np.uint8)


def _clip(corners: list[list[tuple[int, int]]], size: int = 32, side: int = 8) -> np.ndarray:
    """One clip (1, T, size, size): sprite k with its top-left corner at corners[k][t] = (y, x), composited by max."""
    t = len(corners[0])
    clip = np.zeros((1, t, size, size), dtype=np.uint8)
    for k, path in enumerate(corners):
        s = _sprite(k, side)
        for j, (y, x) in enumerate(path):
            view = clip[0, j, y : y + side, x : x + side]
            np.maximum(view, s, out=view)
    return clip


def test_a_gliding_sprite_is_rigid_smooth_and_moving() -> None:
    path = [(2 + 2 * t, 3 + t) for t in range(8)]  # (dy, dx) = (2, 1) per frame
    m = clip_sprite_motion(_clip([path]))
    assert (m.motions[0, :, 0] == [2, 1]).all()
    assert not m.second.any()
    assert m.explained.min() == 1.0 and m.explained_back.min() == 1.0
    assert m.smooth.all() and m.moving[0] and m.speed[0] == 2.0
    assert m.score[0] == 1.0 and m.passed[0]


def test_a_reflection_is_smooth_directly_or_through_a_middle_step() -> None:
    direct = [(8, x) for x in (4, 7, 10, 13, 11, 9, 7, 5)]  # +3, +3, +3, −2, −2 …: |a| = 5 but a reflection
    middle = [(8, x) for x in (4, 6, 8, 10, 10, 8, 6, 4)]  # +2, +2, +2, 0, −2: through a still middle step
    for path in (direct, middle):
        m = clip_sprite_motion(_clip([path]))
        assert m.smooth.all(), m.motions[0, :, 0]
    # a reversal that changes the speed by more than speed_tol is not a reflection
    m = clip_sprite_motion(_clip([[(8, x) for x in (4, 7, 10, 13, 12, 11, 10, 9)]]))  # +3 → −1
    assert not m.smooth[0, 2] and m.smooth[0, :2].all() and m.smooth[0, 3:].all()


def test_a_change_of_speed_without_a_reflection_is_not_smooth_and_a_stop_is_not_moving() -> None:
    zigzag = [(8, x) for x in (2, 5, 5, 8, 8, 11, 11, 14)]  # +3, 0, +3, 0 …: |a| = 3 without a reversal
    m = clip_sprite_motion(_clip([zigzag]))
    assert m.explained.min() == 1.0 and not m.smooth.any()  # rigid, not smooth
    still = clip_sprite_motion(_clip([[(8, 8)] * 8]))
    assert still.smooth.all() and not still.moving[0] and still.score[0] == 0.0


def test_two_sprites_give_two_motions() -> None:
    a = [(1, 1 + 2 * t) for t in range(8)]  # right at 2 px/frame, top row
    b = [(14, 14 - t) for t in range(8)]  # left at 1 px/frame, bottom row: never overlapping a
    m = clip_sprite_motion(_clip([a, b]))
    assert m.second.all()
    assert {tuple(m.motions[0, 0, 0]), tuple(m.motions[0, 0, 1])} == {(0, 2), (0, -1)}
    assert m.explained.min() == 1.0 and m.smooth.all() and m.score[0] == 1.0


def test_dissolving_jumping_and_vanishing_sprites_are_not_rigid() -> None:
    path = [(4 + t, 4 + t) for t in range(8)]
    clip = _clip([path])
    noisy = clip.copy()
    rng = np.random.RandomState(0)
    noisy[0, 4:] = np.where(noisy[0, 4:] > 0, rng.randint(60, 251, size=noisy[0, 4:].shape), 0)  # texture redrawn
    jump = _clip([path[:4] + [(y + 10, x) for y, x in path[4:]]])  # 10 px > max_shift at frame 4
    gone = clip.copy()
    gone[0, 5:] = 0
    for bad in (noisy, jump, gone):
        m = clip_sprite_motion(bad)
        assert m.rigid[0] < 0.9, m.rigid[0]
    assert clip_sprite_motion(gone).explained[0, 4:].max() == 0.0  # steps into empty frames explain nothing
    empty = np.zeros((2, 8, 32, 32), dtype=np.uint8)
    r = sprite_motion_report(empty)
    assert r["score"] == 0.0 and r["mean_speed"] == 0.0


def test_real_clips_score_high_and_references_low(real: np.ndarray) -> None:
    count = np.random.RandomState(MOVING_FASHION_SPLIT_SEEDS["test"]).randint(1, 3, size=1000)[:N_REAL]
    m = clip_sprite_motion(real)
    assert m.score[count == 1].mean() > 0.97 and m.rigid[count == 1].min() == 1.0
    assert m.score[count == 2].mean() > 0.8
    real_score = float(m.score.mean())
    rng = np.random.RandomState(0)
    teleport = real[rng.randint(0, len(real), size=real.shape[:2]), np.arange(real.shape[1])]
    noise = rng.randint(0, 256, size=real.shape).astype(np.uint8)
    for name, clips, most in [
        ("shuffled", shuffle_frames(real), 0.45),
        ("jittered", jitter_frames(real), 0.55),
        ("teleport", teleport, 0.05),
        ("still", hold_frame(real, 1), 0.0),
        ("noise", noise, 0.01),
    ]:
        score = sprite_motion_report(clips)["score"]
        assert score <= most * real_score, (name, score, real_score)


def test_continuation_errors(real: np.ndarray) -> None:
    clips = real[:40]
    itself = sprite_continuation_error(clips, clips, given_frames=4)
    assert itself["position_error"] == 0.0 and itself["found_rate"] == 1.0 and itself["pixel_error"] == 0.0
    held = sprite_continuation_error(hold_frame(clips, 4), clips, given_frames=4)
    assert held["position_error"] == pytest.approx(itself["hold_error"])
    assert held["pixel_error"] == pytest.approx(itself["hold_pixel_error"])
    per = held["position_error_per_frame"]
    assert isinstance(per, list) and len(per) == 4 and per[0] < per[-1]  # the held items fall behind
    other = sprite_continuation_error(np.concatenate([clips[:, :4], np.roll(clips, 1, 0)[:, 4:]], 1), clips)
    assert other["found_rate"] < 0.2


def test_deterministic_and_chunked_alike(real: np.ndarray) -> None:
    a = clip_sprite_motion(real[:30])
    b = clip_sprite_motion(real[:30], SpriteMotionParams(chunk=7))
    for name in ("motions", "explained", "explained_back", "smooth", "score"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"threshold": 255}, "threshold"),
        ({"max_shift": 0}, "max_shift"),
        ({"patch": 2}, "patch"),
        ({"match_tol": -1}, "match_tol"),
        ({"second_frac": 0}, "second_frac"),
        ({"min_area": 0}, "min_area"),
        ({"speed_tol": -0.5}, "speed_tol"),
        ({"min_speed": 0}, "min_speed"),
        ({"pass_score": 1.5}, "pass_score"),
        ({"chunk": 0}, "chunk"),
    ],
)
def test_bad_params_are_named(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        SpriteMotionParams(**kwargs)  # type: ignore[arg-type]


def test_bad_clips_are_named() -> None:
    clip = _clip([[(4 + t, 4) for t in range(8)]])
    with pytest.raises(ValueError, match="uint8"):
        clip_sprite_motion(clip.astype(np.float32))
    with pytest.raises(ValueError, match="frames"):
        clip_sprite_motion(clip[:, :2])
    with pytest.raises(ValueError, match="do not match"):
        sprite_continuation_error(clip, clip[:, :6])
    for kwargs, name in [
        ({"given_frames": 8}, "given_frames"),
        ({"search": 0}, "search"),
        ({"min_found": 0}, "min_found"),
    ]:
        with pytest.raises(ValueError, match=name):
            sprite_continuation_error(clip, clip, **kwargs)  # type: ignore[arg-type]
