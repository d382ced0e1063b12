"""shapes-labelled: the shapes canvases with a third stream, the dominant object class as a 1-token label."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from unmask.config import ConfigError, load_config
from unmask.data import (
    LABEL_CLASSES,
    SHAPE_CLASSES,
    StreamDataset,
    dominant_class,
    get_dataset,
    is_stream_dataset,
    render_shapes,
)
from unmask.data import shapes as shapes_module
from unmask.eval.classifier import cache_dir


def brute_force_label(class_map: np.ndarray) -> int:
    """The label of one full-resolution class map, counted pixel by pixel in plain Python."""
    counts = [0] * len(SHAPE_CLASSES)
    for row in class_map.tolist():
        for c in row:
            counts[c] += 1
    best = 1
    for c in range(2, len(SHAPE_CLASSES)):
        if counts[c] > counts[best]:  # strictly more: a tie keeps the lower class id
            best = c
    assert counts[best] > 0
    return best - 1


@pytest.fixture(scope="module")
def test_split() -> StreamDataset:
    data = get_dataset("shapes-labelled", "test")
    assert isinstance(data, StreamDataset)
    return data


def test_streams_vocabularies_and_ranges(test_split: StreamDataset) -> None:
    assert is_stream_dataset("shapes-labelled") and test_split.name == "shapes-labelled" and len(test_split) == 2000
    assert test_split.names == ("image", "mask", "label")
    assert test_split.grids == {"image": (32, 32), "mask": (16, 16), "label": (1,)}
    assert test_split.vocab_sizes == {"image": 17, "mask": 7, "label": 6}
    assert test_split.kinds == {"image": "image", "mask": "segmentation", "label": "label"}
    assert test_split.class_names == {"mask": SHAPE_CLASSES, "label": LABEL_CLASSES}
    assert LABEL_CLASSES == ("disc", "square", "triangle", "ring", "plus")
    assert test_split.stream_classes("label") == 5 and test_split.stream_classes("mask") == 6
    label = test_split.streams["label"]
    assert label.dtype == torch.int64 and label.shape == (2000, 1)
    assert sorted(label.unique().tolist()) == [0, 1, 2, 3, 4]  # every class, never [MASK] (5)


def test_image_and_mask_are_exactly_those_of_shapes(test_split: StreamDataset) -> None:
    plain = get_dataset("shapes", "test")
    for name in ("image", "mask"):
        assert torch.equal(plain.streams[name], test_split.streams[name]), name
    assert plain.vocab_sizes == {k: v for k, v in test_split.vocab_sizes.items() if k != "label"}


def test_label_is_a_brute_force_recount_of_the_full_resolution_map(test_split: StreamDataset) -> None:
    _, full = shapes_module._cached_split("test")
    mask = test_split.streams["mask"].numpy()
    label = test_split.streams["label"][:, 0].numpy()
    # canvases where the 32×32 and 16×16 maps disagree on the dominant class, and ties at the top
    counts = np.stack([(full == c).sum(axis=(1, 2)) for c in range(1, 6)], axis=-1)
    top = np.sort(counts, axis=-1)
    ties = np.flatnonzero(top[:, -1] == top[:, -2])
    coarse = np.stack([(mask == c).sum(axis=(1, 2)) for c in range(1, 6)], axis=-1).argmax(-1)
    disagree = np.flatnonzero(coarse != label)
    assert ties.size and disagree.size  # both cases occur in the test split
    for i in [0, 1, 2, 3, 4, *ties[:3].tolist(), *disagree[:3].tolist()]:
        assert label[i] == brute_force_label(full[i]), i


def test_dominant_class_ties_and_background() -> None:
    maps = np.zeros((4, 4, 4), dtype=np.uint8)
    maps[0, :2, :2] = 3  # 4 triangle pixels, background 12: background never wins
    maps[1, 0, :] = 5
    maps[1, 1, :] = 2  # 4 plus vs 4 square: the tie goes to square (the lower id)
    maps[2, :3, :] = 4
    maps[2, 3, :] = 1  # ring 12 beats disc 4
    maps[3] = 1
    assert dominant_class(maps).tolist() == [2, 1, 3, 0]
    assert dominant_class(maps).dtype == np.int64
    assert [brute_force_label(m) for m in maps] == [2, 1, 3, 0]


@pytest.mark.parametrize(
    ("maps", "needle"),
    [
        (np.zeros((2, 4), dtype=np.uint8), "class maps must be (N, H, W), got shape (2, 4)"),
        (np.full((1, 2, 2), 6, dtype=np.uint8), "class maps hold id 6 outside the shapes classes [0, 5]"),
        (np.full((1, 2, 2), -1), "class maps hold id -1 outside the shapes classes [0, 5]"),
        (np.array([[[1, 1]], [[0, 0]]]), "class map 1 has no object pixel, so no dominant class"),
    ],
)
def test_dominant_class_rejects_bad_maps(maps: np.ndarray, needle: str) -> None:
    with pytest.raises(ValueError) as err:
        dominant_class(maps)
    assert needle in str(err.value)


def test_deterministic_and_the_same_after_rendering_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(shapes_module.SPLIT_SIZES, "test", 150)  # a small split of its own cache file
    first = get_dataset("shapes-labelled", "test")
    cached = list((cache_dir() / "datasets").glob("shapes-v*-test-n150-*.npz"))
    assert len(cached) == 1
    cached[0].unlink()  # the next load renders the canvases again
    again = get_dataset("shapes-labelled", "test")
    for name in ("image", "mask", "label"):
        assert torch.equal(first.streams[name], again.streams[name]), name
    _, full = render_shapes(150, seed=shapes_module.SPLIT_SEEDS["test"])
    assert torch.equal(again.streams["label"][:, 0], torch.from_numpy(dominant_class(full)))


def test_levels_and_bad_options() -> None:
    with pytest.raises(ValueError, match="shapes split must be one of train, val, test, got 'valid'"):
        get_dataset("shapes-labelled", "valid")
    with pytest.raises(ValueError, match="levels for shapes must be an integer in \\[2, 256\\], got 1"):
        get_dataset("shapes-labelled", "test", levels=1)
    with pytest.raises(ValueError, match="data.root does not apply to dataset 'shapes-labelled'"):
        get_dataset("shapes-labelled", "test", root="/tmp")
    with pytest.raises(ConfigError, match="data.root does not apply to dataset 'shapes-labelled'"):
        load_config("shapes-joint3", ["data.root=/tmp"])
