"""unmask joint: every direction of one joint model, metrics and pictures, and one clear error for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run
from PIL import Image

from unmask.config import load_config
from unmask.training import train

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def pairs_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny-joint: digits images + labels."""
    out = tmp_path_factory.mktemp("pairs") / "run"
    train(load_config("tiny-joint", ["train.steps=10", "train.ckpt_every=10"]), out, progress=False)
    return out


def cityscapes_tree(root: Path) -> None:
    rng = np.random.RandomState(0)
    for split, count in (("train", 6), ("val", 4)):
        for k in range(count):
            (root / "leftImg8bit" / split / "ulm").mkdir(parents=True, exist_ok=True)
            (root / "gtFine" / split / "ulm").mkdir(parents=True, exist_ok=True)
            stem = f"ulm_000000_{k:06d}"
            img = rng.randint(0, 256, (64, 128, 3)).astype(np.uint8)
            ids = np.full((64, 128), 23, dtype=np.uint8)
            ids[32 + k :, :] = 7
            img[32 + k :] //= 3  # darker road
            Image.fromarray(img).save(root / "leftImg8bit" / split / "ulm" / f"{stem}_leftImg8bit.png")
            Image.fromarray(ids).save(root / "gtFine" / split / "ulm" / f"{stem}_gtFine_labelIds.png")


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny joint image + segmentation model on a miniature Cityscapes tree (32×64 images and maps)."""
    base = tmp_path_factory.mktemp("seg")
    cityscapes_tree(base / "cityscapes")
    overrides = [
        "data.name=cityscapes",
        f"data.root={base / 'cityscapes'}",
        'model.patches="image:8,mask:8"',
        "train.steps=6",
        "train.ckpt_every=6",
        "train.batch_size=4",
    ]
    train(load_config("tiny-joint", overrides), base / "run", progress=False)
    return base / "run"


def test_image_to_label_is_one_call_and_an_argmax(pairs_run: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    code, out, err = run(
        ["joint", "--ckpt", str(pairs_run), "--mode", "image->label", "--n", "40", "--out", str(tmp_path)], capsys
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["nfe"] == 1 and 0 <= summary["label_accuracy"] <= 1
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["sampler"]["steps"] == 1 and metrics["sampler"]["final_argmax"] is True
    assert np.asarray(metrics["streams"]["label"]["confusion"]).sum() == 40
    with np.load(tmp_path / "samples.npz") as data:
        assert data["sampled_label"].shape == (1, 40, 1) and data["true_image"].shape == (40, 8, 8)
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("mode", ["label->image", "joint"])
def test_generation_modes_write_grids(pairs_run: Path, tmp_path: Path, mode: str, capsys) -> None:  # noqa: ANN001
    args = [
        "joint",
        "--ckpt",
        str(pairs_run),
        "--mode",
        mode,
        "--n",
        "12",
        "--steps",
        "4",
        "--no-fd",
        "--out",
        str(tmp_path),
    ]
    if mode != "joint":
        args += ["--cfg", "2"]
    code, _, err = run(args, capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["sampler"]["cfg"] == (2.0 if mode != "joint" else 1.0)
    assert set(metrics["targets"]) == ({"image"} if mode != "joint" else {"image", "label"})
    assert Image.open(tmp_path / "grid.png").size[0] > 0


def test_label_to_image_fd_and_classifier_accuracy(pairs_run: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    args = ["joint", "--ckpt", str(pairs_run), "--mode", "label->image", "--n", "20", "--steps", "4", "--ref-n", "60"]
    code, _, err = run([*args, "--out", str(tmp_path)], capsys)
    assert code == 0, err
    image = json.loads((tmp_path / "metrics.json").read_text())["streams"]["image"]
    assert image["ref"] == "digits" and image["ref_n"] == 60 and image["fd"] >= 0  # compared with real digits
    assert 0 <= image["conditional_accuracy"] <= 1 and image["conditional_accuracy_n"] == 20


def test_segmentation_with_several_samples_writes_uncertainty_maps(seg_run: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    args = ["joint", "--ckpt", str(seg_run), "--mode", "image->mask", "--n", "4", "--steps", "4", "--samples", "3"]
    code, out, err = run([*args, "--cfg", "1.5", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    mask = json.loads((tmp_path / "metrics.json").read_text())["streams"]["mask"]
    assert 0 <= mask["miou"] <= 1 and 0 <= mask["pixel_accuracy"] <= 1
    assert np.asarray(mask["confusion"]).shape == (8, 8) and np.asarray(mask["confusion"]).sum() == 4 * 32 * 64
    assert set(mask["per_class_iou"]) == {"void", "flat", "construction", "object", "nature", "sky", "human", "vehicle"}
    assert 0 <= mask["majority_vote"]["miou"] <= 1 and mask["mean_pixel_entropy"] >= 0
    calib = mask["uncertainty_vs_error"]["disagreement"]
    assert 0 <= calib["error"] <= 1 and calib["top"] == 0.1 and 0 <= calib["uncertain_share"] <= 1
    assert calib["error"] == pytest.approx(1 - mask["majority_vote"]["pixel_accuracy"])
    assert (tmp_path / "uncertainty.png").read_bytes()[:4] == b"\x89PNG"
    code, _, err = run(
        [
            "joint",
            "--ckpt",
            str(seg_run),
            "--mode",
            "mask->image",
            "--n",
            "4",
            "--steps",
            "2",
            "--no-fd",
            "--out",
            str(tmp_path / "m2i"),
        ],
        capsys,
    )
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--mode", "segment"], "unknown mode 'segment'; choose one of joint, image->label, label->image"),
        (["--mode", "image-"], "quote the mode"),
        (["--mode", "image->depth"], "names stream 'depth', which this model does not have"),
        (["--mode", "image->label", "--n", "0"], "--n must be >= 1, got 0"),
        (["--mode", "image->label", "--n", "100000"], "n=100000 exceeds the 359 examples of 'digits-pairs'/test"),
        (["--mode", "image->label", "--samples", "0"], "--samples must be >= 1, got 0"),
        (["--mode", "image->label", "--cfg", "-1"], "--cfg must be >= 0, got -1.0"),
        (["--mode", "joint", "--cfg", "2"], "cfg scale 2.0 needs a condition stream"),
    ],
)
def test_bad_input_is_one_clear_error(pairs_run: Path, tmp_path: Path, args: list[str], needle: str, capsys) -> None:  # noqa: ANN001
    code, _, err = run(["joint", "--ckpt", str(pairs_run), *args, "--out", str(tmp_path / "x")], capsys)
    assert code == 2
    assert needle in err and err.startswith("unmask: error:") and err.count("\n") == 1
    assert not (tmp_path / "x" / "metrics.json").exists()


def test_single_and_multi_stream_checkpoints_go_to_their_commands(
    pairs_run: Path,
    tiny_run: Path,
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    code, _, err = run(["joint", "--ckpt", str(tiny_run), "--mode", "joint", "--out", str(tmp_path / "a")], capsys)
    assert code == 2 and "holds a single-stream model, not a joint multi-stream one; use unmask sample" in err
    code, _, err = run(["sample", "--ckpt", str(pairs_run), "--out", str(tmp_path / "b.npz")], capsys)
    assert code == 2 and "holds a joint multi-stream model (streams image, label)" in err


def test_info_and_nll_of_a_joint_model(pairs_run: Path, capsys) -> None:  # noqa: ANN001
    code, out, _ = run(["info", str(pairs_run)], capsys)
    assert code == 0 and "model: joint ITM (implicit timestep), streams: image grid [8, 8]" in out
    code, out, err = run(["nll", "--ckpt", str(pairs_run), "--n", "30"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["tokens_per_sequence"] == 64 + 1 and report["sequences"] == 30
    assert 0 < report["nats_per_token"] < 2 * np.log(17)
