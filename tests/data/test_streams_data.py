"""Paired-stream datasets: the synthetic shapes, image + label pairs, and the Cityscapes-layout loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unmask.data import CityscapesError, DatasetNotAvailable, StreamDataset, get_dataset, render_shapes
from unmask.data.cityscapes import LABEL_TO_CATEGORY, label_ids_to_categories, load_cityscapes
from unmask.data.shapes import SHAPE_CLASSES, majority_downsample


def test_shapes_are_deterministic_varied_and_overlapping() -> None:
    a_img, a_lab = render_shapes(300, seed=5)
    b_img, b_lab = render_shapes(300, seed=5)
    assert np.array_equal(a_img, b_img) and np.array_equal(a_lab, b_lab)
    c_img, _ = render_shapes(300, seed=6)
    assert not np.array_equal(a_img, c_img)
    assert a_img.shape == a_lab.shape == (300, 32, 32) and a_img.dtype == np.uint8
    present = np.unique(a_lab)
    assert present.tolist() == list(range(len(SHAPE_CLASSES)))  # background + 5 shape classes
    classes_per_image = np.array([len(np.unique(lab)) - 1 for lab in a_lab])
    assert classes_per_image.min() >= 1 and classes_per_image.max() >= 4
    _, lab, extents, classes = render_shapes(300, seed=5, objects=True)
    assert np.array_equal(lab, a_lab)
    sizes = extents.reshape(300, 4, -1).sum(-1)
    own = sizes[classes > 0]
    assert own.min() < 60 and own.max() > 200  # objects vary in size
    # overlap and z-order: where objects j < k overlap, the map shows the later object k
    overlaps = 0
    for j in range(4):
        for k in range(j + 1, 4):
            both = extents[:, j] & extents[:, k]
            hidden = both & ~extents[:, k + 1 :].any(1)  # not covered again by a still later object
            overlaps += int(both.reshape(300, -1).any(1).sum())
            assert (lab[hidden] == np.broadcast_to(classes[:, k, None, None], lab.shape)[hidden]).all()
    assert overlaps > 50  # many canvases have overlapping objects


def test_majority_downsample_by_hand() -> None:
    lab = np.array([[[0, 0, 2, 2], [0, 1, 2, 1], [3, 3, 0, 1], [3, 1, 1, 1]]])
    assert majority_downsample(lab, 2, 4).tolist() == [[[0, 2], [3, 1]]]
    tie = np.array([[[1, 2], [2, 1]]])
    assert majority_downsample(tie, 2, 3).tolist() == [[[1]]]  # tie → the lower id


def test_shapes_dataset_streams() -> None:
    test = get_dataset("shapes", "test")
    assert isinstance(test, StreamDataset) and len(test) == 2000
    assert test.grids == {"image": (32, 32), "mask": (16, 16)}
    assert test.vocab_sizes == {"image": 17, "mask": 7}
    assert int(test.streams["image"].max()) <= 15 and int(test.streams["mask"].max()) <= 5
    assert test.images().shape == (2000, 32, 32) and test.grid == (32, 32)
    assert test.stream_classes("mask") == 6 and test.class_names["mask"][0] == "background"
    again = get_dataset("shapes", "test")  # from the cache, identical
    assert torch.equal(again.streams["mask"], test.streams["mask"])
    with pytest.raises(ValueError, match="shapes split must be one of train, val, test, got 'validation'"):
        get_dataset("shapes", "validation")


def test_shapes_val_split_is_its_own_draw() -> None:
    """``val`` (for choosing recipes and stopping points) is 1,000 canvases of their own seed: none equal
    to a test canvas, so a choice made on it does not read the test split."""
    val, test = get_dataset("shapes", "val"), get_dataset("shapes", "test")
    assert isinstance(val, StreamDataset) and len(val) == 1000
    assert val.vocab_sizes == test.vocab_sizes and val.grids == test.grids
    test_canvases = {row.tobytes() for row in test.streams["image"].flatten(1).numpy()}
    assert not any(row.tobytes() in test_canvases for row in val.streams["image"].flatten(1).numpy())


def test_image_label_pairs() -> None:
    pairs = get_dataset("digits-pairs", "test")
    single = get_dataset("digits", "test")
    assert isinstance(pairs, StreamDataset)
    assert torch.equal(pairs.streams["image"], single.tokens)
    assert torch.equal(pairs.streams["label"][:, 0], single.labels)
    assert pairs.vocab_sizes == {"image": 18, "label": 11} and pairs.kinds["label"] == "label"


# -- Cityscapes --------------------------------------------------------------------------------


def write_tree(root: Path, split: str = "val", cities: tuple[str, ...] = ("aachen", "bonn"), h: int = 64, w: int = 128):
    """A miniature Cityscapes tree: per city two image/label-id pairs with known content."""
    rng = np.random.RandomState(0)
    for city in cities:
        for k in range(2):
            stem = f"{city}_000000_{k:06d}"
            (root / "leftImg8bit" / split / city).mkdir(parents=True, exist_ok=True)
            (root / "gtFine" / split / city).mkdir(parents=True, exist_ok=True)
            rgb = rng.randint(0, 256, (h, w, 3)).astype(np.uint8)
            Image.fromarray(rgb).save(root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png")
            ids = np.zeros((h, w), dtype=np.uint8)
            ids[: h // 2] = 23  # sky
            ids[h // 2 :, : w // 2] = 7  # road → flat
            ids[h // 2 :, w // 2 :] = 26  # car → vehicle
            Image.fromarray(ids).save(root / "gtFine" / split / city / f"{stem}_gtFine_labelIds.png")


def test_cityscapes_layout_maps_label_ids_to_the_8_categories(tmp_path: Path) -> None:
    write_tree(tmp_path)
    data = load_cityscapes("test", root=str(tmp_path))
    assert len(data) == 4 and data.grids == {"image": (32, 64), "mask": (32, 64)}
    mask = data.streams["mask"][0]
    assert (mask[:16] == 5).all()  # sky
    assert (mask[16:, :32] == 1).all() and (mask[16:, 32:] == 7).all()  # flat, vehicle
    assert data.vocab_sizes == {"image": 17, "mask": 9}
    assert int(data.streams["image"].max()) <= 15
    via_registry = get_dataset("cityscapes", "test", root=str(tmp_path))
    assert torch.equal(via_registry.streams["mask"], data.streams["mask"])


def test_the_label_table() -> None:
    assert len(LABEL_TO_CATEGORY) == 34
    assert label_ids_to_categories(np.array([0, 6, 7, 10, 11, 16, 17, 20, 21, 22, 23, 24, 25, 26, 33])).tolist() == [
        0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 6, 7, 7,
    ]  # fmt: skip


def test_cityscapes_errors_name_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNMASK_CITYSCAPES_DIR", raising=False)
    with pytest.raises(DatasetNotAvailable, match="needs its root folder"):
        load_cityscapes("train")
    with pytest.raises(DatasetNotAvailable, match=r"leftImg8bit/train, which is missing"):
        load_cityscapes("train", root=str(tmp_path))
    write_tree(tmp_path, "train", ("aachen",))
    lab = tmp_path / "gtFine" / "train" / "aachen" / "aachen_000000_000001_gtFine_labelIds.png"
    lab.unlink()
    with pytest.raises(CityscapesError, match=f"has no label map: {lab} is missing"):
        load_cityscapes("train", root=str(tmp_path))
    lab.write_bytes(b"not a png")
    with pytest.raises(CityscapesError, match=f"cannot decode Cityscapes file {lab}"):
        load_cityscapes("train", root=str(tmp_path))
    Image.fromarray(np.full((64, 128), 40, dtype=np.uint8)).save(lab)
    with pytest.raises(CityscapesError, match="holds label id 40, outside the Cityscapes table 0 … 33"):
        load_cityscapes("train", root=str(tmp_path))
    with pytest.raises(ValueError, match="cityscapes split must be 'train' or 'test'"):
        load_cityscapes("val", root=str(tmp_path))
