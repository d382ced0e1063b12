"""The text-to-image commands: unmask train tiny-t2i, unmask sample --captions / --captions-file (also for a
class-conditional model of the scenes), unmask info, unmask adherence, and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run

from unmask.cli import main

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def t2i_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("t2i-run") / "run"
    assert main(["train", "tiny-t2i", "train.steps=2", "train.ckpt_every=2", "--out", str(out)]) == 0
    return out


def test_sample_with_captions(t2i_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.npz"
    args = ["sample", "--ckpt", str(t2i_run), "--out", str(out), "--n", "4", "--cfg", "2"]
    code, stdout, _ = run([*args, "--captions", "two small squares", "a big circle"], capsys)
    assert code == 0
    summary = json.loads(stdout)
    assert summary["n"] == 4 and summary["captions"] == 2 and out.with_suffix(".png").is_file()
    with np.load(out) as d:
        assert list(d["captions"]) == ["two small squares"] * 2 + ["a big circle"] * 2
        assert d["images"].shape == (4, 32, 32) and (d["labels"] == -1).all()
        first = d["tokens"].copy()
    (tmp_path / "caps.txt").write_text("two small squares\na big circle\n")
    code, _, _ = run(
        [
            "sample",
            "--ckpt",
            str(t2i_run),
            "--out",
            str(out),
            "--n",
            "4",
            "--cfg",
            "2",
            "--captions-file",
            str(tmp_path / "caps.txt"),
        ],
        capsys,
    )
    assert code == 0
    with np.load(out) as d:
        assert (d["tokens"] == first).all()  # same captions, same seed: same images


def test_a_word_no_training_caption_holds_is_named_with_how_the_encoder_takes_it(
    t2i_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["sample", "--ckpt", str(t2i_run), "--out", str(tmp_path / "s.npz"), "--n", "2"]
    code, stdout, stderr = run([*args, "--captions", "two small zebras", "a big circle"], capsys)
    assert code == 0
    assert "'zebras' occurs in no training caption; scratch encodes it as hash bucket" in stderr
    unknown = json.loads(stdout)["unknown_words"]
    assert list(unknown) == ["zebras"] and "never updated" in unknown["zebras"]
    code, stdout, stderr = run([*args, "--captions", "two small squares", "a big circle"], capsys)
    assert code == 0 and json.loads(stdout)["unknown_words"] == {} and "training caption" not in stderr


def test_info_names_the_text_encoder(t2i_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(["info", str(t2i_run)], capsys)
    assert code == 0
    assert "text-to-image ITM" in stdout and "text encoder: scratch (trained with the model)" in stdout


def test_adherence_of_samples(t2i_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.npz"
    assert (
        run(
            [
                "sample",
                "--ckpt",
                str(t2i_run),
                "--out",
                str(out),
                "--n",
                "2",
                "--captions",
                "a big circle",
                "two small squares left of a big plus",
            ],
            capsys,
        )[0]
        == 0
    )
    code, stdout, _ = run(["adherence", str(out), "--no-fd"], capsys)
    assert code == 0
    report = json.loads(stdout)
    assert report["adherence"]["n"] == 2 and report["adherence"]["n_relation"] == 1
    assert report["detector_real_test"]["all"] > 0.9


@pytest.mark.parametrize(
    "extra,needle",
    [
        ([], "give --captions"),
        (["--captions", "a", "--labels", "1"], "not --labels"),
        (["--captions", "a", "b", "--n", "3"], "--n 3 is not a positive multiple of the 2 captions"),
        (["--captions-file", "/nonexistent/caps.txt"], "No such file"),
    ],
)
def test_bad_sample_input(
    t2i_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    code, _, err = run(["sample", "--ckpt", str(t2i_run), "--out", str(tmp_path / "x.npz"), *extra], capsys)
    assert code == 2 and needle in err


def test_class_conditional_scenes_take_captions_as_classes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "cls"
    assert (
        main(
            [
                "train",
                "tiny-t2i",
                "model.text_encoder=null",
                "model.class_conditional=true",
                "train.steps=2",
                "train.ckpt_every=2",
                "--out",
                str(run_dir),
            ]
        )
        == 0
    )
    out = tmp_path / "c.npz"
    code, _, _ = run(
        ["sample", "--ckpt", str(run_dir), "--out", str(out), "--n", "2", "--captions", "a big circle"], capsys
    )
    assert code == 0
    from unmask.data import scene_captions

    with np.load(out) as d:
        assert list(d["labels"]) == [scene_captions().index("a big circle")] * 2
        assert list(d["captions"]) == ["a big circle"] * 2
    code, _, err = run(["sample", "--ckpt", str(run_dir), "--out", str(out), "--captions", "a dog"], capsys)
    assert code == 2 and "'a dog' is not one of the 536 captions" in err
    # a caption that is one of the classes but occurs in no training item: refused, not sampled from noise
    from unmask.data import get_dataset

    absent = sorted(set(range(536)) - set(get_dataset("scenes-mini", "train").labels.tolist()))[0]
    caption = scene_captions()[absent]
    code, _, err = run(["sample", "--ckpt", str(run_dir), "--out", str(out), "--captions", caption], capsys)
    assert code == 2 and f"caption {caption!r} (class {absent}) occurs in no training item" in err
    # captions as classes take the sampler flags through the same routing: a flag Euler lacks is refused
    gumbel = ["--captions", "a big circle", "--gumbel", "linear"]
    code, _, err = run(["sample", "--ckpt", str(run_dir), "--out", str(tmp_path / "g.npz"), *gumbel], capsys)
    assert code == 2 and err == "unmask: error: --gumbel does not apply to the euler sampler\n"
    assert not (tmp_path / "g.npz").exists()


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--gumbel", "linear"], "--gumbel does not apply to the euler sampler"),
        (["--sampler", "euler", "--cfg-schedule", "linear"], "--cfg-schedule does not apply to the euler sampler"),
        (["--sampler", "maskgit", "--adaptive"], "--adaptive does not apply to the maskgit sampler"),
        (["--sampler", "maskgit", "--argmax", "on"], "--argmax does not apply to the maskgit sampler"),
        (["--temperature", "0"], "temperature must be a finite number > 0, got 0.0"),
    ],
)
def test_text_to_image_sampler_flags_that_do_not_apply_are_refused(
    t2i_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    """Not silently ignored: the caption path routes sampler flags as every other model's does."""
    out = tmp_path / "x.npz"
    code, stdout, err = run(["sample", "--ckpt", str(t2i_run), "--out", str(out), "--captions", "a", *extra], capsys)
    assert code == 2 and err == f"unmask: error: {message}\n" and stdout == ""
    assert not out.exists()


def test_adherence_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.savez(tmp_path / "u.npz", images=np.zeros((2, 32, 32), np.uint8), labels=np.array([-1, -1]))
    code, _, err = run(["adherence", str(tmp_path / "u.npz"), "--no-fd"], capsys)
    assert code == 2 and "no captions and no class labels" in err
    code, _, err = run(["adherence", str(tmp_path / "missing.npz")], capsys)
    assert code == 2 and "does not exist" in err
    np.savez(tmp_path / "c.npz", images=np.zeros((2, 32, 32), np.uint8), captions=np.array(["a big circle"] * 2))
    code, _, err = run(["adherence", str(tmp_path / "c.npz"), "--ref", "scenes-compose", "--ref-split", "nope"], capsys)
    assert code == 2 and "'nope'" in err and "test-heldout" in err  # the bad split, and the ones there are


def test_nll_binds_the_split_captions_and_sweep_refuses(
    t2i_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, _ = run(["nll", "--ckpt", str(t2i_run), "--n", "8"], capsys)
    assert code == 0 and json.loads(stdout)["sequences"] == 8
    (tmp_path / "g.yaml").write_text("grid: {sampler: euler, steps: 4}\n")
    code, _, err = run(
        ["sweep", "--ckpt", str(t2i_run), "--grid", str(tmp_path / "g.yaml"), "--out", str(tmp_path / "sw")], capsys
    )
    assert code == 2 and "text-to-image model" in err


@pytest.mark.parametrize(
    "captions,needle",
    [
        (None, "holds no captions"),
        (["a photo of a sneaker", "a unicorn"], "caption 'a unicorn' is not a fashion-mnist-captions caption"),
    ],
)
def test_adherence_to_class_name_captions_names_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], captions: list[str] | None, needle: str
) -> None:
    path = tmp_path / "s.npz"
    arrays: dict[str, np.ndarray] = {"images": np.zeros((2, 28, 28), np.uint8)}
    if captions is not None:
        arrays["captions"] = np.asarray(captions)
    np.savez(path, **arrays)  # type: ignore[arg-type]
    code, _, err = run(["adherence", str(path), "--ref", "fashion-mnist", "--no-fd"], capsys)
    assert code == 2 and needle in err
