from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run


def test_train_with_preset_and_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["train", "tiny", "train.steps=4", "train.ckpt_every=2", "--out", str(tmp_path / "r")], capsys)
    assert code == 0
    summary = json.loads(out)
    assert summary["step"] == 4 and Path(summary["checkpoint"]).is_dir()
    code, out, _ = run(["train", "--resume", "train.steps=6", "--out", str(tmp_path / "r")], capsys)
    assert code == 0 and json.loads(out)["step"] == 6


def test_stop_after_then_resume_is_the_same_schedule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "tiny", "train.steps=6", "train.ckpt_every=3", "train.eval_batches=0", "train.log_every=1"]
    code, out, _ = run([*args, "--stop-after", "3", "--out", str(tmp_path / "r")], capsys)
    assert code == 0 and json.loads(out)["step"] == 3 and json.loads(out)["reason"] == "stop_after"
    code, out, _ = run(["train", "--resume", "--out", str(tmp_path / "r")], capsys)
    assert code == 0 and json.loads(out)["step"] == 6 and json.loads(out)["reason"] == "steps"
    code, out, _ = run([*args, "--out", str(tmp_path / "w")], capsys)  # the same run in one call
    assert code == 0
    records = [[json.loads(x) for x in (tmp_path / d / "metrics.jsonl").read_text().splitlines()] for d in ("r", "w")]
    lr = [[(r["step"], r["lr"]) for r in rs if r["event"] == "train"] for rs in records]
    assert len(lr[0]) == 6 and lr[0] == lr[1]
    code, _, err = run([*args, "--stop-after", "0", "--out", str(tmp_path / "bad")], capsys)
    assert code == 2 and "--stop-after must be a step >= 1, got 0" in err and not (tmp_path / "bad").exists()


def _no_nan(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def test_resume_of_a_finished_run_prints_strict_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "r"
    code, out, _ = run(["train", "tiny", "train.steps=2", "train.eval_batches=0", "--out", str(out_dir)], capsys)
    assert code == 0
    (out_dir / ".lock").write_text('{"pid": 999999, "host": "gone"}\n')  # left by a killed trainer
    code, out, _ = run(["train", "--resume", "--out", str(out_dir)], capsys)
    assert code == 0
    summary = json.loads(out, parse_constant=_no_nan)  # no NaN: the loss of no step is null
    assert summary["step"] == 2 and summary["loss"] is None
    assert (
        set(summary) == {"run", "step", "loss", "seconds", "checkpoint", "reason"}
        and Path(summary["checkpoint"]).is_dir()
    )
    assert summary["reason"] == "steps"


def test_train_into_a_locked_run_directory_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from unmask._lock import lock_run_dir

    out_dir = tmp_path / "r"
    args = ["train", "tiny", "train.steps=2", "train.eval_batches=0", "--out", str(out_dir)]
    with lock_run_dir(out_dir) as lock:
        assert lock is not None
        held = lock.read_bytes()
        for extra in ([], ["--resume"]):
            code, out, err = run([*args, *extra], capsys)
            assert code == 2 and out == ""
            assert err.startswith("unmask: error: run directory ") and err.count("\n") == 1
            assert f"{str(out_dir)!r} is in use: PID {os.getpid()} on host" in err
            assert [p.name for p in out_dir.iterdir()] == [".lock"] and lock.read_bytes() == held
    assert not out_dir.exists()  # the lock made it and nothing else was written: removed on release
    code, out, _ = run(args, capsys)
    assert code == 0 and json.loads(out)["step"] == 2 and not (out_dir / ".lock").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "nopreset", "--out", "X"], "unknown preset 'nopreset'"),
        (["train", "tiny", "train.steps=lots", "--out", "X"], "train.steps must be an integer"),
        (["train", "tiny", "path.schedule=zigzag", "--out", "X"], "unknown schedule 'zigzag'"),
        (["train", "tiny", "digits", "--out", "X"], "more than one preset"),
        (["train", "tiny", "model.depth=-1", "--out", "X"], "depth must be >= 1, got -1"),
        # checked when the model meets the data (the grid), still a usage error with nothing written
        (["train", "tiny", "model.patch=3", "--out", "X"], "patch 3 must be >= 1 and divide every axis"),
        (["train", "tiny-video", "model.depth=3", "--out", "X"], "depth must be an even number >= 2"),
    ],
)
def test_train_bad_input_gives_one_clear_error(
    args: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a if a != "X" else str(tmp_path / "x") for a in args]
    code, _, err = run(args, capsys)
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1 and err.startswith("unmask: error:")
    assert not (tmp_path / "x").exists()


def test_labels_in_blocks_give_one_row_per_label(tiny_run: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """--labels 0,0,0,1,1,1 lays the grid out one row per label (a GIF of 8 clips per class reads by class);
    labels that do not come in equal blocks keep the default layout."""
    from PIL import Image

    from unmask.cli.sample import _block_length

    assert _block_length([0, 0, 0, 1, 1, 1]) == 3 and _block_length([4, 4]) == 2
    assert _block_length([0, 1, 2, 0, 1, 2]) is None and _block_length([0, 0, 1]) is None and _block_length([3]) is None
    sizes = {}
    for name, labels in (("blocks", "0,0,0,1,1,1"), ("cycle", "0,1,2,0,1,2")):
        out = tmp_path / f"{name}.npz"
        code, _, err = run(
            ["sample", "--ckpt", str(tiny_run), "--out", str(out), "--labels", labels, "--steps", "2"], capsys
        )
        assert code == 0, err
        with Image.open(out.with_suffix(".png")) as im:
            sizes[name] = im.size
    w, h = sizes["blocks"]
    assert w > h  # 3 columns, 2 rows


#: six samples, three labels, every option of Euler's that changes the draw (and a seed)
SAMPLE_ARGS = "--n 6 --labels 0,1,2 --steps 5 --cfg 2 --temperature 0.9 --top-p 0.95 --seed 3".split()


def test_sample_writes_npz_and_png(tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.npz"
    code, stdout, _ = run(
        ["sample", "--ckpt", str(tiny_run), "--out", str(out), *SAMPLE_ARGS],
        capsys,
    )
    assert code == 0
    info = json.loads(stdout)
    assert info["n"] == 6 and info["nfe"] >= 1 and info["step"] == 20
    with np.load(out) as d:
        assert d["tokens"].shape == (6, 8, 8) and d["tokens"].dtype.kind == "i"
        assert d["labels"].tolist() == [0, 1, 2, 0, 1, 2]
        assert d["images"].shape == (6, 8, 8) and d["images"].dtype == np.uint8
        assert 0 <= d["tokens"].min() and d["tokens"].max() <= 16
        first = d["tokens"].copy()
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    # same seed, same samples
    run(
        ["sample", "--ckpt", str(tiny_run), "--out", str(tmp_path / "t.npz"), *SAMPLE_ARGS],
        capsys,
    )
    with np.load(tmp_path / "t.npz") as d:
        assert np.array_equal(d["tokens"], first)


def test_sample_single_label_and_defaults(tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(
        [
            "sample",
            "--ckpt",
            str(tiny_run),
            "--out",
            str(tmp_path / "a.npz"),
            "--n",
            "3",
            "--label",
            "7",
            "--steps",
            "3",
        ],
        capsys,
    )
    assert code == 0
    with np.load(tmp_path / "a.npz") as d:
        assert d["labels"].tolist() == [7, 7, 7]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--steps", "0"], "steps must be an integer >= 1, got 0"),
        (["--temperature", "0"], "temperature must be a finite number > 0, got 0"),
        (["--temperature", "-1"], "temperature must be a finite number > 0, got -1"),
        (["--top-p", "1.5"], "top_p must be in (0, 1], got 1.5"),
        (["--top-p", "0"], "top_p must be in (0, 1], got 0"),
        (["--cfg", "-0.5"], "cfg scale must be a finite number >= 0, got -0.5"),
        (["--label", "10"], "label 10 outside the classes [0, 9]"),
        (["--labels", "1,x"], "--labels must be comma-separated integers"),
        (["--labels", "0,1,2", "--n", "4"], "not a multiple"),
        (["--schedule", "wobble"], "unknown schedule 'wobble'"),
        (["--top-k", "-2"], "top_k must be an integer >= 0"),
    ],
)
def test_sample_bad_input(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    out = tmp_path / "bad.npz"
    code, _, err = run(["sample", "--ckpt", str(tiny_run), "--out", str(out), "--n", "3", *extra], capsys)
    assert code == 2, err
    assert needle in err and err.startswith("unmask: error:")
    assert not out.exists()


def test_sample_from_truncated_checkpoint_fails_cleanly(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_copy = tmp_path / "run"
    shutil.copytree(tiny_run, run_copy)
    f = run_copy / "checkpoints" / "step_00000020" / "ema.safetensors"
    f.write_bytes(f.read_bytes()[:100])
    code, _, err = run(["sample", "--ckpt", str(run_copy), "--out", str(tmp_path / "x.npz")], capsys)
    assert code == 2 and "ema.safetensors" in err and "truncated" in err
    code, _, err = run(["sample", "--ckpt", str(tmp_path / "missing"), "--out", str(tmp_path / "x.npz")], capsys)
    assert code == 2 and "does not exist" in err


def test_info_describes_run_and_checkpoint(tiny_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["info", str(tiny_run)], capsys)
    assert code == 0
    assert "run:" in out and "step: 20" in out and "ITM" in out and "parameters:" in out
    # the sizes of token content and position at the input, at the run's start and now
    assert "input sizes at init, tokens: content" in out and "input sizes now, EMA weights, tokens:" in out
    code, out, _ = run(["info", str(tiny_run / "checkpoints" / "step_00000010"), "--json"], capsys)
    info = json.loads(out)
    assert info["kind"] == "checkpoint" and info["step"] == 10 and info["parameters"] > 0
    assert info["config"]["preset"] == "tiny"
    at_init = info["input_norms"]["tokens"]
    assert set(at_init) == {"content", "content_varying", "position", "position_varying"}


def test_eval_reports_conditional_accuracy(tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(["sample", "--ckpt", str(tiny_run), "--out", str(tmp_path / "s.npz"), "--n", "20", "--steps", "4"], capsys)
    code, out, _ = run(["eval", str(tmp_path / "s.npz"), "--ref", "digits", "--out", str(tmp_path / "e.json")], capsys)
    assert code == 0
    rep = json.loads(out)
    assert rep["n"] == 20 and 0.0 <= rep["conditional_accuracy"] <= 1.0
    assert rep["fd"] > 0 and 0 <= rep["precision"] <= 1 and 0 <= rep["recall"] <= 1
    assert 1 <= rep["inception_score"] <= 10 and rep["extractor"].startswith("efficientnet-lite0")
    assert rep["classifier_test_accuracy"] > 0.95
    assert json.loads((tmp_path / "e.json").read_text()) == rep
    np.savez(tmp_path / "wrong.npz", images=np.zeros((2, 5, 5), np.uint8), labels=np.zeros(2, np.int64))
    code, _, err = run(["eval", str(tmp_path / "wrong.npz")], capsys)
    assert code == 2 and "expected (N, 8, 8)" in err
    np.savez(tmp_path / "float.npz", images=np.zeros((4, 8, 8), np.float32))
    code, _, err = run(["eval", str(tmp_path / "float.npz")], capsys)
    assert code == 2 and "uint8" in err and "float32" in err
    np.savez(tmp_path / "vocab.npz", images=np.zeros((4, 8, 8), np.uint8), tokens=np.full((4, 8, 8), 40))
    code, _, err = run(["eval", str(tmp_path / "vocab.npz")], capsys)
    assert code == 2 and "token ids [0, 16]" in err
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    code, _, err = run(["eval", str(tmp_path / "junk.npz")], capsys)
    assert code == 2 and "not an unmask samples .npz" in err


def test_console_script_and_module_entry_points() -> None:
    exe = Path(sys.executable).with_name("unmask")
    res = subprocess.run([str(exe), "presets"], capture_output=True, text=True, check=True)
    assert "digits" in res.stdout and "tiny" in res.stdout
    res = subprocess.run([sys.executable, "-m", "unmask", "presets"], capture_output=True, text=True, check=True)
    assert "digits" in res.stdout


def test_missing_dataset_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    code, _, err = run(["train", "tiny", "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and "needs scikit-learn" in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_sample_with_maskgit_and_euler_options(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        [
            "sample",
            "--ckpt",
            str(tiny_run),
            "--out",
            str(tmp_path / "m.npz"),
            "--n",
            "4",
            "--sampler",
            "maskgit",
            "--steps",
            "6",
            "--gumbel",
            "warmup",
            "--cfg",
            "2",
            "--cfg-schedule",
            "linear",
        ],
        capsys,
    )
    assert code == 0, err
    assert json.loads(out)["nfe"] == 6
    code, _, err = run(
        [
            "sample",
            "--ckpt",
            str(tiny_run),
            "--out",
            str(tmp_path / "e.npz"),
            "--n",
            "4",
            "--adaptive",
            "--corrector",
            "0.1",
            "--steps",
            "5",
        ],
        capsys,
    )
    assert code == 0, err
    code, _, err = run(
        ["sample", "--ckpt", str(tiny_run), "--out", str(tmp_path / "x.npz"), "--sampler", "maskgit", "--argmax", "on"],
        capsys,
    )
    assert code == 2 and "--argmax does not apply to the maskgit sampler" in err
    code, _, err = run(
        ["sample", "--ckpt", str(tiny_run), "--out", str(tmp_path / "x.npz"), "--gumbel", "none"], capsys
    )
    assert code == 2 and "--gumbel does not apply to the euler sampler" in err
    code, _, err = run(
        ["sample", "--ckpt", str(tiny_run), "--out", str(tmp_path / "x.npz"), "--corrector", "-1"], capsys
    )
    assert code == 2 and "corrector strength must be a finite number >= 0, got -1" in err


def test_a_run_configured_for_maskgit_previews_and_samples_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "mg"
    overrides = ["train.steps=4", "train.ckpt_every=4", "sample.sampler=maskgit", "sample.gumbel_temperature=30"]
    code, _, err = run(["train", "tiny", *overrides, "--out", str(run_dir)], capsys)
    assert code == 0, err
    assert (run_dir / "samples" / "step_00000004.png").is_file()
    code, out, err = run(["sample", "--ckpt", str(run_dir), "--out", str(tmp_path / "s.npz"), "--n", "4"], capsys)
    assert code == 0, err
    assert json.loads(out)["sampler"] == "maskgit"
