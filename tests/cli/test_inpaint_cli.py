"""unmask inpaint: a region of an image or a dataset item regenerated with any sampler, given pixels kept."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run
from PIL import Image


@pytest.mark.parametrize(
    "extra",
    [
        ["--sampler", "euler", "--steps", "4"],
        ["--sampler", "maskgit", "--steps", "4", "--gumbel", "linear"],
        ["--sampler", "euler", "--steps", "4", "--cfg", "2", "--label", "3", "--adaptive"],
    ],
)
def test_inpaint_a_dataset_item_keeps_the_given_pixels(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    out = tmp_path / "edit.npz"
    args = ["inpaint", "--ckpt", str(tiny_run), "--image", "test:5", "--mask", "centre", "--out", str(out)]
    code, stdout, err = run([*args, "--samples", "3", "--defaults", *extra], capsys)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["regenerated_tokens"] == 16 and summary["tokens"] == 64 and summary["samples"] == 3
    assert "exactly the marked pixels" in err
    with np.load(out) as data:
        images, original, region = data["images"], data["original"], data["pixel_region"][0]
        assert images.shape == (3, 8, 8) and original.shape == (1, 8, 8)
        for image in images:
            assert np.array_equal(image[~region], original[0][~region])  # given pixels unchanged
        assert int(data["labels"][0]) == (3 if "--label" in extra else summary["label"])
    assert Path(summary["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_inpaint_a_png_with_a_painted_mask_and_outpainting(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img = np.zeros((16, 16), np.uint8)
    img[4:12, 6:10] = 255
    Image.fromarray(img).save(tmp_path / "img.png")  # resized to the model's 8×8
    mask = np.zeros((16, 16), np.uint8)
    mask[:, :8] = 1
    np.save(tmp_path / "mask.npy", mask)
    base = ["inpaint", "--ckpt", str(tiny_run), "--image", str(tmp_path / "img.png"), "--steps", "4", "--defaults"]
    code, stdout, err = run([*base, "--mask", str(tmp_path / "mask.npy"), "--out", str(tmp_path / "a.npz")], capsys)
    assert code == 0, err
    assert json.loads(stdout)["regenerated_tokens"] == 32
    code, stdout, err = run([*base, "--mask", "border:2", "--out", str(tmp_path / "b.npz")], capsys)
    assert code == 0, err
    assert json.loads(stdout)["regenerated_tokens"] == 64 - 36  # 2 of 16 pixels = 1 of 8 tokens from each edge


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--image", "missing.png", "--mask", "centre"], "image 'missing.png' does not exist"),
        (["--image", "test:99999", "--mask", "centre"], "the test split has items 0"),
        (["--image", "test:1", "--mask", "middle"], "neither a file nor a region"),
        (["--image", "test:1", "--mask", "centre", "--caption", "a dog"], "--caption applies to text-to-image"),
        (["--image", "test:1", "--mask", "centre", "--label", "12"], "label 12 outside the classes [0, 9]"),
        (["--image", "test:1", "--mask", "centre", "--samples", "0"], "--samples must be >= 1"),
        (["--image", "test:1", "--mask", "centre", "--gumbel", "linear"], "--gumbel does not apply to the euler"),
        (["--image", "test:1", "--mask", "centre", "--steps", "0"], "steps"),
    ],
)
def test_bad_inpaint_input_is_one_clear_error(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    out = tmp_path / "x.npz"
    code, _, err = run(["inpaint", "--ckpt", str(tiny_run), "--out", str(out), "--defaults", *extra], capsys)
    assert code == 2 and message.split("'")[0] in err, err
    assert not out.exists()
