"""Clip metrics: mean absolute frame-to-frame change (hand-computed cases), temporal consistency that
catches frozen and flickering clips, frame FD that sees frames but not their order, and evaluate_videos."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor

from unmask.data import get_dataset, render_bouncing_shapes
from unmask.eval.features import FeatureExtractor
from unmask.eval.video import evaluate_videos, frame_fd, mean_abs_change, temporal_consistency

pytestmark = pytest.mark.usefixtures("one_thread")


class PixelExtractor(FeatureExtractor):
    """A cheap stand-in network: mean RGB pixels of a 4×4 grid (48-d)."""

    def __init__(self) -> None:
        self.name = "pixels-test"
        self.dim = 48
        self.input_size = 4

    def embed(self, x: Tensor) -> Tensor:
        return torch.nn.functional.adaptive_avg_pool2d(x, 4).flatten(1)


@pytest.fixture(scope="module")
def real() -> np.ndarray:
    return render_bouncing_shapes(120, seed=5)[0]


def test_mean_abs_change_by_hand() -> None:
    still = np.full((1, 4, 2, 2), 77, dtype=np.uint8)
    blink = np.zeros((1, 3, 2, 2), dtype=np.uint8)
    blink[0, 1] = 255
    half = np.zeros((1, 2, 2, 2), dtype=np.uint8)
    half[0, 1, 0] = 255  # half the pixels change fully, once
    np.testing.assert_allclose(mean_abs_change(np.concatenate([still[:, :2], half])), [0.0, 0.5])
    np.testing.assert_allclose(mean_abs_change(blink), [1.0])
    assert mean_abs_change(still)[0] == 0.0


def test_real_clips_against_themselves(real: np.ndarray) -> None:
    tc = temporal_consistency(real, real)
    assert tc.ratio == pytest.approx(1.0) and tc.w1 == pytest.approx(0.0, abs=1e-12)
    assert 0 < tc.change < 0.2 and tc.n == tc.ref_n == 120


def test_frozen_and_flickering_clips_are_caught(real: np.ndarray) -> None:
    frozen = np.repeat(real[:, :1], real.shape[1], axis=1)
    tc = temporal_consistency(frozen, real)
    assert tc.change == 0 and tc.ratio == 0 and tc.w1 == pytest.approx(tc.ref_change)
    # every frame from another clip: the right frames, no continuity
    rng = np.random.RandomState(0)
    flicker = real[rng.randint(0, len(real), size=real.shape[:2]), np.arange(real.shape[1])[None]]
    tc = temporal_consistency(flicker, real)
    assert tc.ratio > 2 and tc.w1 > 0.5 * tc.ref_change


def test_w1_between_point_masses() -> None:
    a = np.zeros((3, 2, 1, 1), dtype=np.uint8)
    b = np.zeros((5, 2, 1, 1), dtype=np.uint8)
    b[:, 1] = 51  # change 0.2 in every clip
    assert temporal_consistency(a, b).w1 == pytest.approx(0.2)


def test_frame_fd_sees_frames_but_not_their_order(real: np.ndarray) -> None:
    ext = PixelExtractor()
    assert frame_fd(real, real, extractor=ext) == pytest.approx(0.0, abs=1e-6)
    rng = np.random.RandomState(1)
    shuffled = real[rng.randint(0, len(real), size=real.shape[:2]), np.arange(real.shape[1])[None]]
    other = render_bouncing_shapes(120, seed=6)[0]
    # the data's frames in another order score like real clips (here: below a fresh set of real clips);
    # temporal consistency is what tells them apart
    fd_other = frame_fd(other, real, extractor=ext)
    assert frame_fd(shuffled, real, extractor=ext) < fd_other < 0.01 * frame_fd(255 - real, real, extractor=ext)
    assert temporal_consistency(shuffled, real).ratio > 2
    with pytest.raises(ValueError, match="8×8"):
        frame_fd(real[:, :, :8, :8], real, extractor=ext)


def test_evaluate_videos_against_the_registered_split(real: np.ndarray) -> None:
    ds = get_dataset("bouncing-shapes", "test", levels=8)
    quantised = np.asarray(ds.tokenizer.decode(ds.tokenizer.encode(real)))
    report = evaluate_videos(quantised, "bouncing-shapes", extractor=PixelExtractor(), ref_n=100, levels=8)
    assert report["ref"] == "bouncing-shapes/test" and report["ref_n"] == 100 and report["frames_scored"] == 8
    assert report["frame_fd"] >= 0 and 0.5 < report["temporal"]["ratio"] < 2
    cont = evaluate_videos(quantised, quantised, extractor=PixelExtractor(), prefix_frames=7)
    assert cont["frames_scored"] == 1 and cont["frame_fd"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    "videos,kwargs,needle",
    [
        (np.zeros((4, 8, 16, 16), dtype=np.float32), {}, "uint8"),
        (np.zeros((4, 16, 16), dtype=np.uint8), {}, "\\(N, T, H, W\\)"),
        (np.zeros((4, 6, 16, 16), dtype=np.uint8), {}, "do not match the reference"),
        (np.zeros((4, 8, 16, 16), dtype=np.uint8), {"prefix_frames": 8}, "prefix_frames"),
        (np.zeros((1, 8, 16, 16), dtype=np.uint8), {}, "at least 2 clips"),
    ],
)
def test_bad_input_is_named(real: np.ndarray, videos: np.ndarray, kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        evaluate_videos(videos, real, extractor=PixelExtractor(), **kwargs)
