"""The video commands: unmask train on a video preset, unmask sample writing (N, T, H, W) clips with a GIF,
continuation with --prefix-frames (given frames kept exactly), unmask info and unmask eval on clips, and one
clear error for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_helpers import run
from PIL import Image

import unmask.eval.video as video_eval
from unmask.cli import main
from unmask.data import get_dataset
from unmask.eval.features import FeatureExtractor
from unmask.sweep import read_rows

pytestmark = pytest.mark.usefixtures("one_thread")


class Pixels(FeatureExtractor):
    """A cheap stand-in for EfficientNet-Lite0 (seconds per frame FD on a CPU): 4×4 average-pooled pixels."""

    name, dim, input_size = "pixels-test", 48, 4

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.adaptive_avg_pool2d(x, 4).flatten(1)


@pytest.fixture(scope="module")
def video_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("video-run") / "run"
    assert main(["train", "tiny-video", "train.steps=2", "train.ckpt_every=2", "--out", str(out)]) == 0
    return out


def test_sample_writes_clips_a_gif_and_frame_strips(video_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.npz"
    code, stdout, _ = run(["sample", "--ckpt", str(video_run), "--out", str(out), "--steps", "4", "--n", "5"], capsys)
    assert code == 0
    summary = json.loads(stdout)
    assert summary["n"] == 5 and summary["prefix_frames"] == 0 and summary["gif"].endswith(".gif")
    with np.load(out) as d:
        assert d["tokens"].shape == (5, 8, 16, 16) and d["videos"].shape == (5, 8, 16, 16)
        assert d["videos"].dtype == np.uint8 and int(d["tokens"].max()) <= 3  # 4 levels, no [MASK] (4)
        assert d["labels"].tolist() == [0, 1, 2, 3, 4] and int(d["prefix_frames"]) == 0
        assert "images" not in d.files
    gif = Image.open(out.with_suffix(".gif"))
    assert gif.n_frames == 8 and gif.info.get("loop") == 0
    assert out.with_suffix(".png").is_file()


def test_continuation_keeps_the_given_frames(video_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "c.npz"
    args = ["sample", "--ckpt", str(video_run), "--out", str(out), "--steps", "4", "--n", "6", "--prefix-frames", "3"]
    code, stdout, _ = run(args, capsys)
    assert code == 0 and json.loads(stdout)["prefix_frames"] == 3
    test = get_dataset("bouncing-shapes", "test", levels=4)
    with np.load(out) as d:
        tokens = torch.from_numpy(d["tokens"])
        assert torch.equal(tokens[:, :3], test.tokens[:6, :3])  # exactly the test clips' first frames
        assert not (tokens == 4).any()
        assert d["labels"].tolist() == test.labels[:6].tolist()  # continued clips keep their classes
        assert int(d["prefix_frames"]) == 3


def test_continuation_from_a_users_file(video_run: Path, tmp_path: Path, capsys) -> None:
    clips = np.random.RandomState(0).randint(0, 256, size=(4, 8, 16, 16)).astype(np.uint8)
    np.save(tmp_path / "mine.npy", clips)
    out = tmp_path / "m.npz"
    args = ["sample", "--ckpt", str(video_run), "--out", str(out), "--steps", "2", "--n", "4"]
    code, _, _ = run([*args, "--prefix-frames", "2", "--prefix-from", str(tmp_path / "mine.npy")], capsys)
    assert code == 0
    with np.load(out) as d:
        expected = np.round(clips[:, :2].astype(np.float64) * 3 / 255)
        assert np.array_equal(d["tokens"][:, :2], expected)


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--prefix-frames", "8"], "--prefix-frames 8 must be in [0, 7]"),
        (["--prefix-frames", "-1"], "--prefix-frames -1 must be in [0, 7]"),
        (["--prefix-from", "test"], "--prefix-from needs --prefix-frames"),
        (["--prefix-frames", "2", "--n", "2000"], "holds 1000 clips; --n 2000"),
        (["--prefix-frames", "2", "--prefix-from", "WIDE"], "frames are 16×20 tokens but the model's frames are 16×16"),
        (["--prefix-frames", "2", "--prefix-from", "MIXED"], "'b.npy' has 7 frames"),
    ],
)
def test_bad_continuation_input_gives_one_clear_error(
    video_run: Path, tmp_path: Path, capsys, extra: list[str], needle: str
) -> None:
    np.save(tmp_path / "wide.npy", np.zeros((30, 8, 16, 20), dtype=np.uint8))
    (tmp_path / "mixed").mkdir()
    np.save(tmp_path / "mixed" / "a.npy", np.zeros((8, 16, 16), dtype=np.uint8))
    np.save(tmp_path / "mixed" / "b.npy", np.zeros((7, 16, 16), dtype=np.uint8))
    paths = {"WIDE": str(tmp_path / "wide.npy"), "MIXED": str(tmp_path / "mixed")}
    extra = [paths.get(x, x) for x in extra]
    out = tmp_path / "x.npz"
    code, _, err = run(["sample", "--ckpt", str(video_run), "--out", str(out), "--steps", "2", *extra], capsys)
    assert code == 2 and needle in err, err
    assert err.count("\n") == 1 and err.startswith("unmask: error:")
    assert not out.exists()


def test_prefix_frames_on_an_image_model_is_refused(tiny_run: Path, tmp_path: Path, capsys) -> None:
    code, _, err = run(
        ["sample", "--ckpt", str(tiny_run), "--out", str(tmp_path / "x.npz"), "--prefix-frames", "1"], capsys
    )
    assert code == 2 and "applies to video models" in err


def test_training_on_mismatched_clips_names_the_clip(tmp_path: Path, capsys) -> None:
    (tmp_path / "clips").mkdir()
    for i in range(3):
        np.save(tmp_path / "clips" / f"c{i}.npy", np.zeros((8, 16, 16), dtype=np.uint8))
    np.save(tmp_path / "clips" / "c3.npy", np.zeros((8, 12, 16), dtype=np.uint8))
    args = [
        "train",
        "tiny-video",
        "data.name=video-files",
        f"data.root={tmp_path / 'clips'}",
        "--out",
        str(tmp_path / "r"),
    ]
    code, _, err = run(args, capsys)
    assert code == 2 and "'c3.npy' has frames of 12×16" in err and err.count("\n") == 1


def test_info_and_eval_understand_video_runs(video_run: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    code, out, _ = run(["info", str(video_run)], capsys)
    assert code == 0 and "model: video ITM" in out and "8 frames of 16×16 tokens" in out
    code, out, _ = run(["info", str(video_run), "--json"], capsys)
    assert json.loads(out)["backbone"]["kind"] == "video"

    monkeypatch.setattr(video_eval, "get_extractor", lambda spec: Pixels())
    samples = tmp_path / "s.npz"
    args = [
        "sample",
        "--ckpt",
        str(video_run),
        "--out",
        str(samples),
        "--steps",
        "2",
        "--n",
        "4",
        "--prefix-frames",
        "5",
    ]
    assert run(args, capsys)[0] == 0
    code, out, err = run(["eval", str(samples), "--ref", "bouncing-shapes", "--levels", "4", "--ref-n", "20"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["n"] == 4 and report["ref_n"] == 20 and report["frames_scored"] == 3
    assert report["frame_fd"] >= 0 and set(report["temporal"]) >= {"change", "ref_change", "ratio", "w1"}
    code, _, err = run(["eval", str(samples), "--ref", "digits"], capsys)
    assert code == 2 and err == "unmask: error: reference 'digits' is not a video dataset\n"


def test_sweep_scores_a_video_model_by_frame_fd_change_and_motion(
    video_run: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setattr(video_eval, "get_extractor", lambda spec: Pixels())
    (tmp_path / "grid.yaml").write_text("n: 4\nref_n: 20\nbatch_size: 4\ngrid:\n  steps: [2, 4]\n")
    out = tmp_path / "s"
    args = ["sweep", "--ckpt", str(video_run), "--grid", str(tmp_path / "grid.yaml"), "--out", str(out)]
    code, stdout, err = run([*args, "--best", "motion_ratio"], capsys)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["cells"] == 2 and summary["best"]["metric"] == "motion_ratio"
    rows = read_rows(out / "sweep.csv")
    assert [int(r["steps"]) for r in rows] == [2, 4]
    for r in rows:
        assert float(r["fd"]) >= 0 and float(r["change_ratio"]) > 0 and float(r["motion_ratio"]) >= 0
        assert r["precision"] == "" and r["accuracy"] == ""  # image measures: not computed for clips
    assert (out / "fd_vs_nfe.png").is_file() and (out / "motion_ratio_vs_nfe.png").is_file()
    # the same clips drawn by unmask sample and scored by unmask eval give the row's numbers
    clips = tmp_path / "c.npz"
    draw = ["sample", "--ckpt", str(video_run), "--out", str(clips), "--defaults", "--steps", "2", "--seed", "0"]
    assert run([*draw, "--labels", "0,1,2,3", "--batch-size", "4"], capsys)[0] == 0
    code, stdout, err = run(["eval", str(clips), "--ref", "bouncing-shapes", "--levels", "4", "--ref-n", "20"], capsys)
    assert code == 0, err
    report = json.loads(stdout)
    assert float(rows[0]["fd"]) == pytest.approx(report["frame_fd"], rel=1e-6)
    assert float(rows[0]["change_ratio"]) == pytest.approx(report["temporal"]["ratio"], rel=1e-6)
    assert float(rows[0]["motion_ratio"]) == pytest.approx(report["motion"]["score_ratio"], rel=1e-6, nan_ok=True)


def test_sweep_of_a_video_model_refuses_an_image_reference_and_change_ratio_as_best(
    video_run: Path, tmp_path: Path, capsys
) -> None:
    (tmp_path / "grid.yaml").write_text("n: 4\nref: digits\ngrid:\n  steps: [2]\n")
    args = ["sweep", "--ckpt", str(video_run), "--grid", str(tmp_path / "grid.yaml"), "--out", str(tmp_path / "s")]
    code, _, err = run(args, capsys)
    assert code == 2 and "reference 'digits' is not a video dataset" in err
    assert not (tmp_path / "s").exists()  # refused before anything is written
    (tmp_path / "grid.yaml").write_text("n: 4\ngrid:\n  steps: [2]\n")
    code, _, err = run([*args, "--best", "change_ratio"], capsys)
    assert code == 2 and "unknown metric 'change_ratio' for --best" in err
    assert not (tmp_path / "s").exists()
