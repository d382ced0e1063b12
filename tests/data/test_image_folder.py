"""Image folders: center crop + resize, classes from sub-folders, errors that name the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unmask.data.image_folder import ImageDecodeError, ImageFolder, center_crop_resize, folder_splits, load_image


def test_center_crop_keeps_the_central_square_of_tall_and_wide_images() -> None:
    tall = np.zeros((40, 20), np.uint8)
    tall[10:30] = 200  # exactly the central 20×20 square
    out = center_crop_resize(tall, 10)
    assert out.shape == (10, 10) and (out == 200).all()
    wide = np.zeros((10, 30, 3), np.uint8)
    wide[:] = (255, 0, 0)
    wide[:, 10:20] = (10, 20, 30)
    out = center_crop_resize(wide, 6)
    assert out.shape == (6, 6, 3) and (out == np.array([10, 20, 30], np.uint8)).all()
    odd = np.arange(7 * 4, dtype=np.uint8).reshape(7, 4)  # (7 − 4) // 2 = 1 row off the top
    assert np.array_equal(center_crop_resize(odd, 4), odd[1:5])


def test_resize_is_a_smooth_downscale_with_the_right_orientation() -> None:
    img = np.full((64, 64), 50, np.uint8)
    img[:, 32:] = 250  # left half dark, right half bright
    out = center_crop_resize(img, 8).astype(int)
    assert (out[:, :2] == 50).all() and (out[:, -2:] == 250).all()  # beyond the filter's reach of the edge
    assert out[0, 3] < 150 < out[0, 4] and (out == out[0]).all()  # the edge stays in the middle, rows equal
    assert abs(out[0, 3] - 50) + abs(out[0, 4] - 250) > 0  # a filtered edge, not a nearest-neighbour pick
    same = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    assert np.array_equal(center_crop_resize(same, 16), same)  # already the right size: unchanged


def _png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_classes_come_from_sub_folders_and_images_are_cropped(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    _png(tmp_path / "zebra" / "a.png", np.full((30, 20, 3), 7, np.uint8))
    _png(tmp_path / "ant" / "x.png", rng.integers(0, 256, (12, 12, 3), dtype=np.uint8))
    _png(tmp_path / "ant" / "deep" / "y.png", np.full((8, 8, 3), 99, np.uint8))
    (tmp_path / "ant" / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    _png(tmp_path / ".hidden" / "h.png", np.zeros((4, 4, 3), np.uint8))
    folder = ImageFolder(tmp_path, image_size=8, channels=3)
    assert folder.class_names == ("ant", "zebra")
    assert [p.name for p in folder.files] == ["y.png", "x.png", "a.png"]
    assert folder.labels is not None and folder.labels.tolist() == [0, 0, 1]
    images = folder.read()
    assert images.shape == (3, 8, 8, 3) and images.dtype == np.uint8
    assert (images[0] == 99).all() and (images[2] == 7).all()
    grey = ImageFolder(tmp_path, image_size=4, channels=1).read(2, 3)
    assert grey.shape == (1, 4, 4) and (grey == 7).all()


def test_unlabelled_folders_and_train_test_splits(tmp_path: Path) -> None:
    _png(tmp_path / "flat" / "1.png", np.zeros((5, 5), np.uint8))
    flat = ImageFolder(tmp_path / "flat", image_size=5, channels=1)
    assert flat.labels is None and flat.num_classes == 0
    for split, names in (("train", ("cat", "dog")), ("test", ("dog",))):
        for n in names:
            _png(tmp_path / "ds" / split / n / "i.png", np.zeros((6, 6), np.uint8))
    splits = folder_splits(tmp_path / "ds", image_size=6, channels=1)
    assert sorted(splits) == ["test", "train"]
    assert splits["test"].class_names == ("cat", "dog") and splits["test"].labels.tolist() == [1]  # type: ignore[union-attr]


def test_undecodable_and_truncated_images_name_the_file(tmp_path: Path) -> None:
    _png(tmp_path / "c" / "good.png", np.zeros((6, 6), np.uint8))
    (tmp_path / "c" / "bad.png").write_bytes(b"this is not a png")
    folder = ImageFolder(tmp_path, image_size=6, channels=1)
    with pytest.raises(ImageDecodeError, match=r"cannot decode image '.*bad\.png'"):
        folder.read()
    buf = tmp_path / "full.png"
    _png(buf, np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8))
    (tmp_path / "cut.png").write_bytes(buf.read_bytes()[:200])
    with pytest.raises(ImageDecodeError, match=r"cut\.png"):
        load_image(tmp_path / "cut.png", 8, 1)


@pytest.mark.parametrize(
    ("layout", "needle"),
    [("mixed", "mixes image files"), ("empty", "holds no images"), ("missing", "does not exist")],
)
def test_bad_folder_layouts(tmp_path: Path, layout: str, needle: str) -> None:
    root = tmp_path / "root"
    if layout == "mixed":
        _png(root / "loose.png", np.zeros((4, 4), np.uint8))
        _png(root / "cls" / "a.png", np.zeros((4, 4), np.uint8))
    elif layout == "empty":
        (root / "cls").mkdir(parents=True)
        (root / "cls" / "readme.txt").write_text("x")
    with pytest.raises((ValueError, FileNotFoundError), match=needle):
        ImageFolder(root, image_size=4, channels=1)
