"""Token videos: the generated bouncing-shapes clips (deterministic, moving, bouncing, class = shape) and
users' clips on disk (every layout; mismatched frame counts / sizes name the clip)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from unmask.data import (
    BOUNCING_CLASSES,
    VideoFileError,
    get_dataset,
    is_video_dataset,
    read_video_files,
    render_bouncing_shapes,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_rendering_is_deterministic_in_the_seed() -> None:
    a, la = render_bouncing_shapes(40, seed=3)
    b, lb = render_bouncing_shapes(40, seed=3)
    c, _ = render_bouncing_shapes(40, seed=4)
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    assert not np.array_equal(a, c)
    assert a.shape == (40, 8, 16, 16) and a.dtype == np.uint8
    assert la.dtype == np.int64 and set(la.tolist()) <= set(range(len(BOUNCING_CLASSES)))


def test_clips_hold_one_moving_shape_that_stays_on_the_canvas() -> None:
    videos, labels = render_bouncing_shapes(200, seed=0)
    assert set(labels.tolist()) == set(range(5))  # every class appears
    moved, speeds = 0, []
    for clip in videos:
        background = clip[0, 0, 0]
        fg = clip != background  # (T, H, W): the shape (corners are never inside it)
        counts = fg.sum((1, 2))
        assert counts.min() > 0
        assert counts.max() <= 2 * counts.min()  # never cut off by the border (area varies by rasterisation only)
        ys, xs = np.mgrid[0:16, 0:16]
        cy = (fg * ys).sum((1, 2)) / counts
        cx = (fg * xs).sum((1, 2)) / counts
        step = np.hypot(np.diff(cx), np.diff(cy))
        speeds.append(step.mean())
        moved += step.max() > 0.25
    assert moved >= 190  # (almost) every clip moves
    assert max(speeds) < 2.0 + 1.0  # at most 2 px per frame, with rasterisation slack
    assert np.std(speeds) > 0.2  # speeds vary between clips


def test_some_clips_bounce() -> None:
    """A bounce reverses the direction of motion along an axis within the clip."""
    videos, _ = render_bouncing_shapes(200, seed=0)
    bounced = 0
    ys, xs = np.mgrid[0:16, 0:16]
    for clip in videos:
        fg = clip != clip[0, 0, 0]
        cx = (fg * xs).sum((1, 2)) / fg.sum((1, 2))
        dx = np.diff(cx)
        bounced += bool(((dx[:-1] > 0.6) & (dx[1:] < -0.6)).any() or ((dx[:-1] < -0.6) & (dx[1:] > 0.6)).any())
    assert bounced >= 10


def test_registered_split_is_fixed_and_quantised() -> None:
    assert is_video_dataset("bouncing-shapes") and is_video_dataset("video-files")
    assert not is_video_dataset("digits")
    ds = get_dataset("bouncing-shapes", "test", levels=4)
    assert ds.tokens.shape == (1000, 8, 16, 16) and ds.grid == (8, 16, 16)
    assert int(ds.tokens.min()) >= 0 and int(ds.tokens.max()) <= 3 and ds.vocab_size == 5
    assert ds.num_classes == 5 and ds.class_names == BOUNCING_CLASSES
    again = get_dataset("bouncing-shapes", "test", levels=4)
    assert torch.equal(ds.tokens, again.tokens) and torch.equal(ds.labels, again.labels)
    assert ds.images().shape == (1000, 8, 16, 16)


def test_val_split_is_its_own_clips() -> None:
    """``val`` (for choosing a recipe with train.eval_split=val) shares no clip with ``test``."""
    val, test = get_dataset("bouncing-shapes", "val"), get_dataset("bouncing-shapes", "test")
    assert val.tokens.shape == test.tokens.shape == (1000, 8, 16, 16)
    seen = {clip.numpy().tobytes() for clip in test.tokens}
    assert not any(clip.numpy().tobytes() in seen for clip in val.tokens)
    assert sorted(set(val.labels.tolist())) == list(range(5))


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"split": "valid"}, "split must be one of 'train', 'val', 'test', got 'valid'"),
        ({"levels": 1}, "levels"),
        ({"levels": 300}, "levels"),
        ({"root": "x"}, "root"),
    ],
)
def test_bad_options_are_named(kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        get_dataset("bouncing-shapes", **kwargs)


# -- users' clips ----------------------------------------------------------------------------


def clips(n: int, t: int = 5, h: int = 6, w: int = 6, seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).randint(0, 256, size=(n, t, h, w)).astype(np.uint8)


def test_npy_and_npz_arrays(tmp_path: Path) -> None:
    v = clips(10)
    np.save(tmp_path / "v.npy", v)
    got, labels, names = read_video_files(tmp_path / "v.npy")
    assert np.array_equal(got, v) and labels is None and names == ()
    np.savez(tmp_path / "v.npz", videos=v, labels=np.array([7, 3] * 5))
    got, labels, names = read_video_files(tmp_path / "v.npz")
    assert np.array_equal(got, v) and labels.tolist() == [1, 0] * 5 and names == ("3", "7")


def test_folder_of_class_subfolders(tmp_path: Path) -> None:
    v = clips(6)
    for i, clip in enumerate(v):
        cls = tmp_path / ("cats" if i % 2 else "dogs")
        cls.mkdir(exist_ok=True)
        np.save(cls / f"{i:02d}.npy", clip)
    got, labels, names = read_video_files(tmp_path)
    assert names == ("cats", "dogs")
    assert np.array_equal(got, np.concatenate([v[1::2], v[0::2]])) and labels.tolist() == [0, 0, 0, 1, 1, 1]


def test_mismatched_frame_count_names_the_clip(tmp_path: Path) -> None:
    np.savez(tmp_path / "c.npz", first=clips(1)[0], second=clips(1)[0], short=clips(1, t=4)[0])
    with pytest.raises(VideoFileError, match=r"'short' has 4 frames.*'first' has 5 frames"):
        read_video_files(tmp_path / "c.npz")


def test_mismatched_frame_size_names_the_clip(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    np.save(tmp_path / "a" / "ok.npy", clips(1)[0])
    np.save(tmp_path / "a" / "wide.npy", clips(1, w=7)[0])
    with pytest.raises(VideoFileError, match=r"'a/wide.npy' has frames of 6×7.*'a/ok.npy' has 5 frames of 6×6"):
        read_video_files(tmp_path)


@pytest.mark.parametrize(
    "make,needle",
    [
        (lambda p: np.save(p / "f.npy", clips(2).astype(np.float32)), "dtype float32"),
        (lambda p: np.save(p / "f.npy", clips(2)[0]), "expected \\(N, T, H, W\\)"),
        (lambda p: np.savez(p / "f.npz", videos=clips(3), labels=np.array([0, 1])), "'labels'"),
        (lambda p: (p / "f.txt").write_text("x"), "folder, an .npy or an .npz"),
    ],
)
def test_bad_files_are_named(tmp_path: Path, make, needle: str) -> None:
    make(tmp_path)
    target = next(tmp_path.iterdir())
    with pytest.raises(VideoFileError, match=needle):
        read_video_files(target)


def test_missing_and_empty_and_mixed_folders(tmp_path: Path) -> None:
    with pytest.raises(VideoFileError, match="does not exist"):
        read_video_files(tmp_path / "nope")
    with pytest.raises(VideoFileError, match="no .npy clips"):
        read_video_files(tmp_path)
    np.save(tmp_path / "x.npy", clips(1)[0])
    (tmp_path / "cls").mkdir()
    with pytest.raises(VideoFileError, match="mixes clips"):
        read_video_files(tmp_path)


def test_video_files_dataset_has_a_fixed_disjoint_split(tmp_path: Path) -> None:
    v = clips(30)
    np.savez(tmp_path / "v.npz", videos=v, labels=np.arange(30) % 3)
    train = get_dataset("video-files", "train", levels=256, root=str(tmp_path / "v.npz"))
    test = get_dataset("video-files", "test", levels=256, root=str(tmp_path / "v.npz"))
    assert len(train) + len(test) == 30 and len(test) == 3  # 10 % of every class
    assert sorted(test.labels.tolist()) == [0, 1, 2]
    both = np.concatenate([train.images(), test.images()])
    assert sorted(map(bytes, both)) == sorted(map(bytes, v))  # levels=256: the clips exactly, each once
    assert train.grid == (5, 6, 6) and train.num_classes == 3
    with pytest.raises(ValueError, match="needs data.root"):
        get_dataset("video-files", "train")
