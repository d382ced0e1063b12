"""Clip metrics: mean absolute frame-to-frame change (hand-computed cases), temporal consistency that
catches frozen and flickering clips, frame FD that sees frames but not their order, evaluate_videos,
and its cache of the reference frames' features (hit, keys, corrupt files)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor

from unmask.data import get_dataset, render_bouncing_shapes
from unmask.eval.features import FeatureExtractor
from unmask.eval.motion import hold_frame
from unmask.eval.reference import reference_dir, select_indices
from unmask.eval.video import evaluate_videos, frame_fd, mean_abs_change, temporal_consistency

pytestmark = pytest.mark.usefixtures("one_thread")


class PixelExtractor(FeatureExtractor):
    """A cheap stand-in network: mean RGB pixels of a 4×4 grid (48-d); counts the frames it sees."""

    def __init__(self, name: str = "pixels-test") -> None:
        self.name = name
        self.dim = 48
        self.input_size = 4
        self.seen = 0

    def embed(self, x: Tensor) -> Tensor:
        self.seen += len(x)
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
    # against bouncing-shapes the motion measure comes along: real clips score like the reference,
    # still clips (the first frame held) score 0; against an array it is only there when asked for
    motion = report["motion"]
    assert motion["reference"]["n"] == 100 and motion["samples"]["n"] == len(quantised)
    assert 0.9 < motion["score_ratio"] < 1.1
    still = hold_frame(quantised, 1)
    frozen = evaluate_videos(still, "bouncing-shapes", extractor=PixelExtractor(), ref_n=100, levels=8)
    assert frozen["motion"]["samples"]["score"] == 0 and frozen["motion"]["score_ratio"] == 0
    assert "motion" not in cont
    asked = evaluate_videos(quantised, quantised, extractor=PixelExtractor(), motion=True)
    assert asked["motion"]["score_ratio"] == pytest.approx(1.0)
    off = evaluate_videos(quantised, "bouncing-shapes", extractor=PixelExtractor(), ref_n=100, motion=False)
    assert "motion" not in off
    assert motion["measure"] == "bouncing-body" and asked["motion"]["measure"] == "bouncing-body"


def test_each_video_dataset_gets_its_own_motion_measure() -> None:
    ds = get_dataset("moving-fashion-mnist", "test", levels=8)
    clips = np.asarray(ds.tokenizer.decode(ds.tokens[select_indices(len(ds), 40)]))  # the reference's own clips
    report = evaluate_videos(clips, "moving-fashion-mnist", extractor=PixelExtractor(), ref_n=40, levels=8)
    motion = report["motion"]
    assert motion["measure"] == "rigid-sprites" and motion["score_ratio"] == pytest.approx(1.0)
    assert set(motion["samples"]) >= {"rigid", "smooth_rate", "two_motion_rate"}
    # the bouncing-body measure on these clips: one bright component is rarely there (items overlap, and
    # dark garment pixels fall below its threshold), so it is not the default; asked for, it is used
    body = evaluate_videos(clips, clips, extractor=PixelExtractor(), motion_measure="bouncing-body")
    assert body["motion"]["measure"] == "bouncing-body"
    with pytest.raises(ValueError, match="'sprites'.*bouncing-body, rigid-sprites"):
        evaluate_videos(clips, clips, extractor=PixelExtractor(), motion_measure="sprites")


def _cache_files(needle: str) -> set[str]:
    return {p.name for p in reference_dir().glob(f"*{needle}*")} if reference_dir().is_dir() else set()


def _test_clips(n: int, levels: int = 8) -> np.ndarray:
    """uint8 (n, 8, 16, 16): the bouncing-shapes test clips the reference uses for ``ref_n = n``."""
    ds = get_dataset("bouncing-shapes", "test", levels=levels)
    return np.asarray(ds.tokenizer.decode(ds.tokens[select_indices(len(ds), n)]))


def test_reference_frames_are_cached(real: np.ndarray) -> None:
    """The second call embeds only the samples' frames and reports exactly the same numbers, which are
    also those of the uncached path (reference clips passed as an array)."""
    ext = PixelExtractor("pixels-vhit")
    samples = real[:6]  # 6 clips × 8 frames
    first = evaluate_videos(samples, "bouncing-shapes", extractor=ext, ref_n=20, levels=8)
    assert ext.seen == 6 * 8 + 20 * 8
    files = _cache_files("pixels-vhit")
    assert len(files) == 1 and next(iter(files)).startswith("bouncing-shapes-test-clips20x8-pixels-vhit-")
    again = evaluate_videos(samples, "bouncing-shapes", extractor=ext, ref_n=20, levels=8)
    assert ext.seen == 2 * 6 * 8 + 20 * 8  # the reference came from disk
    assert again == first  # bit-identical floats
    other = evaluate_videos(real[6:10], "bouncing-shapes", extractor=ext, ref_n=20, levels=8)
    assert ext.seen == 2 * 6 * 8 + 4 * 8 + 20 * 8  # other samples, same reference: still a hit
    assert other["frame_fd"] != first["frame_fd"]
    uncached = evaluate_videos(samples, _test_clips(20), extractor=ext)
    assert uncached["frame_fd"] == first["frame_fd"] and uncached["temporal"] == first["temporal"]
    refreshed = evaluate_videos(samples, "bouncing-shapes", extractor=ext, ref_n=20, levels=8, refresh=True)
    assert refreshed == first and ext.seen == 4 * 6 * 8 + 4 * 8 + 3 * 20 * 8
    assert _cache_files("pixels-vhit") == files  # arrays are not cached; refresh rewrote the same file
    assert not [p for p in reference_dir().iterdir() if p.name.startswith(".tmp")]  # atomic writes leave nothing


def test_reference_cache_key(real: np.ndarray) -> None:
    """Clip subset, split, grey levels, frames scored and extractor each give their own file."""
    ext = PixelExtractor("pixels-vkey")
    samples = real[:4]
    calls = [
        ({"ref_n": 10}, 10 * 8),
        ({"ref_n": 11}, 11 * 8),
        ({"ref_n": 10, "ref_split": "train"}, 10 * 8),
        ({"ref_n": 10, "levels": 4}, 10 * 8),
        ({"ref_n": 10, "prefix_frames": 5}, 10 * 3),
    ]
    for i, (kwargs, ref_frames) in enumerate(calls, start=1):
        before = ext.seen
        evaluate_videos(samples, "bouncing-shapes", extractor=ext, **{"levels": 8, **kwargs})
        assert ext.seen - before == len(samples) * (8 - kwargs.get("prefix_frames", 0)) + ref_frames, kwargs
        assert len(_cache_files("pixels-vkey")) == i
    names = _cache_files("pixels-vkey")
    assert {n.split("-pixels-vkey-")[0] for n in names} == {
        "bouncing-shapes-test-clips10x8",
        "bouncing-shapes-test-clips11x8",
        "bouncing-shapes-train-clips10x8",
        "bouncing-shapes-test-clips10x3-from5",
    }  # levels 4 and 8: the same name up to the pixels' hash
    other = PixelExtractor("pixels-vkey2")
    evaluate_videos(samples, "bouncing-shapes", extractor=other, ref_n=10, levels=8)
    assert other.seen == len(samples) * 8 + 10 * 8 and len(_cache_files("pixels-vkey2")) == 1


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_reference_cache_is_recomputed(real: np.ndarray, damage: str) -> None:
    ext = PixelExtractor(f"pixels-v{damage}")
    good = evaluate_videos(real[:4], "bouncing-shapes", extractor=ext, ref_n=12, levels=8)
    (name,) = _cache_files(f"pixels-v{damage}")
    path = reference_dir() / name
    data = path.read_bytes()
    path.write_bytes(b"definitely not an npz file" if damage == "garbage" else data[: len(data) // 2])
    with pytest.warns(RuntimeWarning, match="recomputing"):
        again = evaluate_videos(real[:4], "bouncing-shapes", extractor=ext, ref_n=12, levels=8)
    assert again == good and ext.seen == 2 * (4 * 8 + 12 * 8)
    evaluate_videos(real[:4], "bouncing-shapes", extractor=ext, ref_n=12, levels=8)  # the rewritten file is valid
    assert ext.seen == 3 * 4 * 8 + 2 * 12 * 8


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
