"""unmask inpaint of joint models (a region of one stream, the others given from the same dataset item or
generated) and of video models (chosen frames, whole or within a region; --frames K: is continuation,
identical to unmask sample --prefix-frames K under the same seed), and one clear error for each misuse."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_helpers import run
from PIL import Image

from unmask.cli import main
from unmask.data import StreamDataset, get_dataset

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def small_shapes(shapes_sizes: Callable[..., None]) -> None:
    """Shapes splits of 64 / 16 items, so the run and its data take seconds."""
    shapes_sizes(train=64, test=16)


@pytest.fixture(scope="module")
def joint3_run(small_shapes: None, tiny_overrides: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``unmask train shapes-joint3`` (image 32×32, mask 16×16, label; an ITM) with a tiny backbone for 2 steps."""
    out = tmp_path_factory.mktemp("joint3-edit") / "run"
    assert main(["train", "shapes-joint3", *tiny_overrides, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def test_split(small_shapes: None) -> StreamDataset:
    data = get_dataset("shapes-labelled", "test")
    assert isinstance(data, StreamDataset)
    return data


@pytest.fixture(scope="module")
def video_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained ``tiny-video`` checkpoint (bouncing-shapes at 4 grey levels: 8 frames of 16×16, 5 classes),
    its head drawn at random so that draws depend on the given frames."""
    from unmask.config import load_config
    from unmask.models import VideoTransformer
    from unmask.tokenizers import PixelQuantizer
    from unmask.training.checkpoint import save_checkpoint

    config = load_config("tiny-video")
    tok = PixelQuantizer(levels=4, max_value=255.0)
    torch.manual_seed(0)
    model = VideoTransformer(config.model.video_backbone(tok.vocab_size, (8, 16, 16), 5)).eval()
    with torch.no_grad():
        model.head.weight.normal_(0, 1)
    run_dir = tmp_path_factory.mktemp("video-edit") / "run"
    save_checkpoint(
        run_dir,
        step=0,
        model=model,
        ema=model,
        config=config,
        state={},
        backbone=model.config.to_dict(),
        tokenizer=tok.config(),
    )
    return run_dir


def inpaint(ckpt: Path, out: Path, *args: str) -> list[str]:
    return ["inpaint", "--ckpt", str(ckpt), "--out", str(out), "--steps", "3", "--defaults", *args]


# -- joint models ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stream,generate,mode,extra",
    [
        (None, None, "mask,label->image", []),
        (None, None, "mask,label->image", ["--sampler", "maskgit"]),
        (None, None, "mask,label->image", ["--cfg", "2"]),
        ("mask", None, "image,label->mask", []),
        ("mask", None, "image,label->mask", ["--sampler", "maskgit", "--cfg", "1.5"]),
        ("image", "label", "mask->image,label", []),
        ("mask", "label", "image->mask,label", []),
    ],
)
def test_joint_edit_of_a_dataset_item_keeps_every_given_token(
    joint3_run: Path,
    test_split: StreamDataset,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    stream: str | None,
    generate: str | None,
    mode: str,
    extra: list[str],
) -> None:
    out = tmp_path / "edit.npz"
    args = inpaint(joint3_run, out, "--from", "test:3", "--mask", "centre", "--samples", "3", *extra)
    args += [] if stream is None else ["--stream", stream]
    args += [] if generate is None else ["--generate", generate]
    code, stdout, err = run(args, capsys)
    assert code == 0, err
    summary = json.loads(stdout)
    edited = stream or "image"
    side = 32 if edited == "image" else 16
    assert summary["mode"] == mode and summary["stream"] == edited and summary["samples"] == 3
    assert summary["regenerated_tokens"] == (side // 2) ** 2 and summary["tokens"] == side * side
    assert summary["generated"] == ([] if generate is None else [generate])
    truth = {s: test_split.streams[s][3:4].numpy() for s in ("image", "mask", "label")}
    with np.load(out) as data:
        assert str(data["stream"]) == edited and str(data["mode"]) == mode
        region = data["region"]
        assert region.shape == (3, side, side) and region.sum() == 3 * (side // 2) ** 2
        for s in ("image", "mask", "label"):
            tokens = data[f"tokens_{s}"]
            assert np.array_equal(data[f"given_{s}"], truth[s])
            assert tokens.shape[0] == 3 and int(tokens.max()) <= {"image": 15, "mask": 5, "label": 4}[s]  # no [MASK]
            if s == edited:
                for sample, where in zip(tokens, region, strict=True):
                    assert np.array_equal(sample[~where], truth[s][0][~where])  # outside the region: as given
            elif s != generate:
                assert np.array_equal(tokens, np.repeat(truth[s], 3, axis=0))  # given whole: exactly
        assert data["images_image"].shape == (3, 32, 32) and data["images_image"].dtype == np.uint8
        drawn = data[f"tokens_{edited}"][region]
        assert not np.array_equal(drawn, np.tile(truth[edited][0][region[0]], 3))  # the region was redrawn
    assert Path(summary["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"mode {mode}" in err


def test_joint_edit_of_a_png_generates_the_streams_it_cannot_know(
    joint3_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img = np.zeros((32, 32), np.uint8)
    img[8:24, 8:24] = 200
    Image.fromarray(img).save(tmp_path / "img.png")  # the image stream's 32×32: no resizing
    out = tmp_path / "png.npz"
    args = inpaint(joint3_run, out, "--image", str(tmp_path / "img.png"), "--mask", "half:left", "--samples", "2")
    code, stdout, err = run([*args, "--generate", "mask,label"], capsys)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["mode"] == "joint" and summary["given"] == [] and summary["regenerated_tokens"] == 32 * 16
    with np.load(out) as data:
        given = data["given_image"][0]
        assert set(data.files) >= {"tokens_image", "tokens_mask", "tokens_label", "given_image"}
        assert "given_mask" not in data.files
        assert np.array_equal(given, np.where(img > 0, 12, 0))  # 200 → level round(200 · 15 / 255) = 12 of 0 … 15
        for sample in data["tokens_image"]:
            assert np.array_equal(sample[:, 16:], given[:, 16:])


@pytest.mark.parametrize(
    "extra,needle",
    [
        (
            ["--from", "test:1", "--mask", "centre", "--stream", "depth"],
            "unknown stream 'depth'; this model's streams are image, mask, label",
        ),
        (["--from", "test:1", "--mask", "centre", "--generate", "mask,depth"], "unknown stream 'depth'"),
        (
            ["--from", "test:1", "--mask", "centre", "--stream", "label"],
            "--mask regions apply to 2-D streams (image, "
            "mask); the label stream 'label' is regenerated whole with --generate label",
        ),
        (["--from", "test:1", "--mask", "centre", "--generate", "image"], "stream 'image' is the one edited"),
        (
            ["--from", "test:1", "--mask", "centre", "--frames", "4:"],
            "--frames applies to video models; this checkpoint holds a joint multi-stream model",
        ),
        (["--from", "test:1", "--mask", "centre", "--label", "2"], "--label does not apply to joint models"),
        (["--from", "test:1"], "--mask is needed"),
        (["--from", "test:99", "--mask", "centre"], "the test split has items 0 … 15"),
        (["--from", "test:1", "--mask", "centre", "--sampler", "prime"], "the prime sampler cannot draw from a joint"),
        (["--from", "test:1", "--mask", "centre", "--gumbel", "linear"], "--gumbel does not apply to the euler"),
        (
            ["--from", "IMG", "--mask", "centre"],
            "gives only the image stream 'image'; this joint model's other "
            "streams (mask, label) are unknown: take them from a dataset item (--image test:K) or generate them "
            "(--generate mask,label)",
        ),
        (["--from", "IMG", "--mask", "centre", "--generate", "label"], "other streams (mask) are unknown"),
        (["--from", "IMG", "--mask", "centre", "--stream", "mask", "--generate", "label"], "--stream mask: "),
        (
            ["--from", "IMG", "--mask", "centre", "--generate", "mask,label", "--cfg", "2"],
            "--cfg 2.0 needs streams given whole",
        ),
        (["--from", "test:1", "--mask", "DOT"], "marks no pixel to regenerate"),
    ],
)
def test_bad_joint_edits_are_one_clear_error(
    joint3_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "img.png")
    dot = np.zeros((64, 64), np.uint8)
    dot[0, 0] = 1  # one pixel of 64×64: nearest resizing to 16×16 or 32×32 samples odd pixels, so none is left
    np.save(tmp_path / "dot.npy", dot)
    names = {"IMG": str(tmp_path / "img.png"), "DOT": str(tmp_path / "dot.npy")}
    out = tmp_path / "x.npz"
    code, _, err = run(inpaint(joint3_run, out, *[names.get(a, a) for a in extra]), capsys)
    assert code == 2 and needle in err, err
    assert not out.exists()


# -- video models ---------------------------------------------------------------------------------


def test_inpaint_frames_k_onwards_is_sample_prefix_frames_k(
    video_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited, continued = tmp_path / "edit.npz", tmp_path / "cont.npz"
    for seed in ("0", "5"):
        code, stdout, err = run(
            inpaint(video_ckpt, edited, "--from", "test:0", "--frames", "4:", "--samples", "1", "--seed", seed), capsys
        )
        assert code == 0, err
        assert "continuation of the first 4" in err
        summary = json.loads(stdout)
        assert summary["frames"] == [4, 5, 6, 7] and summary["regenerated_tokens"] == 4 * 256
        args = ["sample", "--ckpt", str(video_ckpt), "--out", str(continued), "--steps", "3", "--defaults"]
        code, _, err = run([*args, "--n", "1", "--prefix-frames", "4", "--seed", seed], capsys)
        assert code == 0, err
        with np.load(edited) as a, np.load(continued) as b:
            assert np.array_equal(a["tokens"], b["tokens"])  # the same starting state: the same draws
            assert np.array_equal(a["videos"], b["videos"]) and a["labels"].tolist() == b["labels"].tolist()
            assert np.array_equal(a["tokens"][:, :4], a["given_tokens"][:, :4])
            if seed == "0":
                first = a["tokens"].copy()
            else:
                assert not np.array_equal(first[:, 4:], a["tokens"][:, 4:])  # the drawn frames follow the seed


def test_inpaint_chosen_frames_of_a_clip_within_a_region(
    video_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = np.random.default_rng(0).integers(0, 4, (8, 16, 16)).astype(np.uint8) * 85  # exact grey levels
    np.save(tmp_path / "clip.npy", clip)
    out = tmp_path / "v.npz"
    args = inpaint(video_ckpt, out, "--image", str(tmp_path / "clip.npy"), "--frames", "2,5", "--mask", "centre")
    code, stdout, err = run([*args, "--samples", "3", "--label", "1"], capsys)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["frames"] == [2, 5] and summary["regenerated_tokens"] == 2 * 64 and summary["label"] == 1
    with np.load(out) as data:
        tokens, region, given = data["tokens"], data["region"], data["given_tokens"]
        assert tokens.shape == (3, 8, 16, 16) and data["videos"].shape == (3, 8, 16, 16)
        assert np.array_equal(given[0], clip // 85)
        assert region[:, [2, 5], 4:12, 4:12].all() and region.sum() == 3 * 2 * 64
        for sample, where in zip(tokens, region, strict=True):
            assert np.array_equal(sample[~where], given[0][~where])  # every given token, exactly
        assert not np.array_equal(tokens[region], np.tile(given[0][region[0]], 3))  # the region was redrawn
        assert data["frames"].tolist() == [2, 5]
    gif = Image.open(summary["gif"])
    assert gif.n_frames == 8
    assert Path(summary["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--frames", "8"], "--frames '8': frame 8 is out of range; the model's clips have frames 0 … 7"),
        (["--frames", "3:2"], "range '3:2' is out of range"),
        (["--frames", "x"], "'x' is neither a frame nor a range"),
        ([], "give --frames (which frames to regenerate"),
        (
            ["--frames", "4:", "--stream", "image"],
            "--stream applies to joint multi-stream models; this checkpoint holds a video model",
        ),
        (["--frames", "4:", "--generate", "label"], "--generate applies to joint multi-stream models"),
        (["--frames", "4:", "--mask", "DOT"], "marks no pixel to regenerate"),
        (["--frames", "4:", "--label", "7"], "label 7 outside the classes [0, 4]"),
    ],
)
def test_bad_video_edits_are_one_clear_error(
    video_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    dot = np.zeros((64, 64), np.uint8)
    dot[0, 0] = 1
    np.save(tmp_path / "dot.npy", dot)
    extra = [str(tmp_path / "dot.npy") if a == "DOT" else a for a in extra]
    out = tmp_path / "x.npz"
    code, _, err = run(inpaint(video_ckpt, out, "--from", "test:0", *extra), capsys)
    assert code == 2 and needle in err, err
    assert not out.exists()


def test_a_clip_of_another_length_is_named(
    video_ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.save(tmp_path / "short.npy", np.zeros((5, 16, 16), np.uint8))
    code, _, err = run(
        inpaint(video_ckpt, tmp_path / "x.npz", "--image", str(tmp_path / "short.npy"), "--frames", "1:"), capsys
    )
    assert code == 2 and "the clip has 5 frames; the model's clips have 8" in err, err


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--frames", "4:"], "--frames applies to video models; this checkpoint holds an image model"),
        (["--stream", "image"], "--stream applies to joint multi-stream models; this checkpoint holds a single-stream"),
        (["--generate", "label"], "--generate applies to joint multi-stream models"),
    ],
)
def test_joint_and_video_flags_on_an_image_model_are_refused(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    code, _, err = run(inpaint(tiny_run, tmp_path / "x.npz", "--image", "test:1", "--mask", "centre", *extra), capsys)
    assert code == 2 and needle in err, err
