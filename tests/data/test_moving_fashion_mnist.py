"""moving-fashion-mnist: clips of 1–2 Fashion-MNIST items moving and bouncing on a canvas (deterministic,
whole items that stay on the canvas, label = the first item's class), its registered splits drawn from the
train / test images, and clear errors for bad frames, canvas sizes or a missing Fashion-MNIST."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import unmask.data.videos as videos_module
from unmask.data import (
    DatasetNotAvailable,
    dataset_names,
    get_dataset,
    is_video_dataset,
    render_moving_fashion_mnist,
)
from unmask.data.mnist_like import FASHION_CLASSES
from unmask.data.videos import MOVING_FASHION_ITEM

pytestmark = pytest.mark.usefixtures("one_thread")

ITEM = MOVING_FASHION_ITEM  # 14


def solid_items(values: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """One 28×28 item per value, every pixel that value (so an item's pixels show where it is); label = index."""
    images = np.stack([np.full((28, 28), v, dtype=np.uint8) for v in values])
    return images, np.arange(len(values), dtype=np.int64) % 10


def boxes(frame: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the non-black pixels of a frame."""
    ys, xs = np.nonzero(frame)
    return int(ys.min()), int(xs.min()), int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)


def test_rendering_is_deterministic_in_the_seed() -> None:
    images = np.random.RandomState(0).randint(0, 256, size=(12, 28, 28)).astype(np.uint8)
    labels = np.arange(12) % 10
    a, la = render_moving_fashion_mnist(images, labels, 20, seed=3)
    b, lb = render_moving_fashion_mnist(images, labels, 20, seed=3)
    c, _ = render_moving_fashion_mnist(images, labels, 20, seed=4)
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    assert not np.array_equal(a, c)
    assert a.shape == (20, 8, 32, 32) and a.dtype == np.uint8  # defaults: 8 frames of 32×32
    assert la.dtype == np.int64 and la.min() >= 0 and la.max() < 10
    v, _ = render_moving_fashion_mnist(images, labels, 3, seed=0, frames=16, size=40)
    assert v.shape == (3, 16, 40, 40)


def test_items_stay_whole_on_the_canvas_move_and_bounce() -> None:
    """Over 16 frames one-item clips show exactly one whole 14×14 item (never cut off by a wall) whose corner
    stays in [0, 32 − 14], moves at most 3 px (+ rounding) per frame per axis, and sometimes turns back."""
    images, labels = solid_items([200] * 5)
    clips, _ = render_moving_fashion_mnist(images, labels, 60, seed=0, frames=16)
    single, bounced = 0, 0
    for clip in clips:
        counts = (clip > 0).sum((1, 2))
        assert counts.min() >= ITEM * ITEM  # the first item is always whole
        assert len({frame.tobytes() for frame in clip}) > 1  # the clip moves
        if counts.max() > ITEM * ITEM:
            continue  # two items
        single += 1
        corners = np.array([boxes(frame) for frame in clip])  # (16, 4)
        assert (corners[:, 2:] == ITEM).all()
        assert corners[:, :2].min() >= 0 and corners[:, :2].max() <= 32 - ITEM
        step = np.diff(corners[:, :2], axis=0)
        assert np.abs(step).max() <= 4 and np.abs(step).sum(1).max() > 0
        for axis in (0, 1):
            d = step[:, axis]
            bounced += bool(((d[:-1] > 0) & (d[1:] < 0)).any() or ((d[:-1] < 0) & (d[1:] > 0)).any())
    assert 15 <= single <= 45  # about half the clips hold one item
    assert bounced >= 10  # 1–3 px per frame over 18 px of travel: many clips hit a wall within 16 frames


def test_label_is_the_class_of_the_first_item() -> None:
    values = [50 + 20 * k for k in range(10)]  # item k (class k) is a solid square of grey 50 + 20 k
    images, labels = solid_items(values)
    clips, clip_labels = render_moving_fashion_mnist(images, labels, 40, seed=1)
    assert set(clip_labels.tolist()) <= set(range(10)) and len(set(clip_labels.tolist())) > 3
    for clip, label in zip(clips, clip_labels, strict=True):
        shown = set(np.unique(clip).tolist()) - {0}
        assert values[label] in shown  # the first item's grey is in the clip
        assert len(shown) <= 2  # at most two items


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"frames": 7}, r"frames .* \[8, 16\], got 7"),
        ({"frames": 17}, r"frames .* \[8, 16\], got 17"),
        ({"size": 20}, r"size .* >= 24 .*got 20"),
        ({"size": 32.0}, r"size .*got 32\.0"),
        ({"n": -1}, r"n must be an integer >= 0, got -1"),
    ],
)
def test_bad_frames_or_canvas_are_named(kwargs: dict, needle: str) -> None:
    images, labels = solid_items([200] * 3)
    args = {"n": 2, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=needle):
        render_moving_fashion_mnist(images, labels, **args)


def test_bad_source_images_name_their_shape() -> None:
    with pytest.raises(ValueError, match=r"uint8 \(M, 28, 28\).*\(3, 14, 14\)"):
        render_moving_fashion_mnist(np.zeros((3, 14, 14), np.uint8), np.zeros(3, np.int64), 2, seed=0)
    with pytest.raises(ValueError, match="labels must be 3 integers in \\[0, 10\\)"):
        render_moving_fashion_mnist(np.zeros((3, 28, 28), np.uint8), np.array([0, 1, 10]), 2, seed=0)


# -- the registered dataset ----------------------------------------------------------------------


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture()
def mini_fashion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Fashion-MNIST folder of solid items: train images grey 200, test images grey 100."""
    for prefix, n, grey in (("train", 30, 200), ("t10k", 10, 100)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", np.full((n, 28, 28), grey, dtype=np.uint8))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    monkeypatch.setenv("UNMASK_FASHION_MNIST_DIR", str(tmp_path))
    return tmp_path


def test_registered_and_a_video_dataset() -> None:
    from unmask.config import load_config
    from unmask.models import VideoTransformer

    assert "moving-fashion-mnist" in dataset_names() and is_video_dataset("moving-fashion-mnist")
    config = load_config("tiny-video", ["data.name=moving-fashion-mnist"])  # validates
    assert config.data.name == "moving-fashion-mnist"
    model = VideoTransformer(config.model.video_backbone(9, (8, 32, 32), 10))  # the clips fit the video backbone
    with torch.no_grad():
        logits = model(torch.zeros(1, 8, 32, 32, dtype=torch.long), torch.ones(1), torch.zeros(1, dtype=torch.long))
    assert logits.shape[:4] == (1, 8, 32, 32)


def test_test_split_is_fixed_quantised_and_labelled(mini_fashion: Path) -> None:
    ds = get_dataset("moving-fashion-mnist", "test", levels=4)
    assert ds.tokens.shape == (1000, 8, 32, 32) and ds.grid == (8, 32, 32) and ds.tokens.dtype == torch.long
    assert ds.vocab_size == 5 and int(ds.tokens.min()) >= 0 and int(ds.tokens.max()) <= 3  # no [MASK] (4)
    assert ds.num_classes == 10 and ds.class_names == FASHION_CLASSES
    assert ds.labels.shape == (1000,) and int(ds.labels.min()) >= 0 and int(ds.labels.max()) < 10
    again = get_dataset("moving-fashion-mnist", "test", levels=4)
    assert torch.equal(ds.tokens, again.tokens) and torch.equal(ds.labels, again.labels)
    assert get_dataset("moving-fashion-mnist", "test").vocab_size == 9  # default 8 levels, like bouncing-shapes


def test_splits_draw_from_the_train_and_test_images(mini_fashion: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(videos_module.MOVING_FASHION_SPLIT_SIZES, "train", 12)  # keep the train split tiny
    train = get_dataset("moving-fashion-mnist", "train", levels=256)
    val = get_dataset("moving-fashion-mnist", "val", levels=256)
    test = get_dataset("moving-fashion-mnist", "test", levels=256)
    assert len(train) == 12 and len(val) == 1000 and len(test) == 1000
    assert set(np.unique(train.images()).tolist()) == {0, 200}  # only train items (grey 200)
    assert set(np.unique(val.images()).tolist()) == {0, 200}  # new clips of the train items
    assert set(np.unique(test.images()).tolist()) == {0, 100}  # only test items (grey 100)
    first = get_dataset("moving-fashion-mnist", "train", levels=256)
    assert not any(torch.equal(v, t) for v in val.tokens[:50] for t in first.tokens)  # other clips than train's


def test_missing_fashion_mnist_surfaces_the_loader_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNMASK_FASHION_MNIST_DIR", str(tmp_path))
    with pytest.raises(DatasetNotAvailable, match="apt-get install dataset-fashion-mnist"):
        get_dataset("moving-fashion-mnist", "test")


@pytest.mark.parametrize(
    "kwargs,needle",
    [({"split": "valid"}, "'train', 'val', 'test', got 'valid'"), ({"levels": 1}, "levels"), ({"root": "x"}, "root")],
)
def test_bad_options_are_named(kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        get_dataset("moving-fashion-mnist", **kwargs)
