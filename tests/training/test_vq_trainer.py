"""The VQ-VAE trainer: run layout and metrics, determinism, exact resume, and that it learns."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from unmask.config import ConfigError, load_tokenizer_config
from unmask.data import get_dataset
from unmask.eval.reconstruction import psnr
from unmask.tokenizers import VQTokenizer, file_sha256
from unmask.training import evaluate_reconstruction, list_checkpoints, train_tokenizer

pytestmark = pytest.mark.usefixtures("one_thread")


def _records(run: Path, event: str) -> list[dict]:  # type: ignore[type-arg]
    return [r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if r["event"] == event]


def test_run_layout_and_metrics(tiny_vq_run: Path) -> None:
    assert (tiny_vq_run / "recon.png").read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in list_checkpoints(tiny_vq_run)] == ["step_00000006", "step_00000012"]
    manifest = json.loads((tiny_vq_run / "checkpoints" / "step_00000012" / "manifest.json").read_text())
    assert manifest["kind"] == "vqvae" and manifest["vqvae"]["codebook_size"] == 16
    start = _records(tiny_vq_run, "start")[0]
    assert start["grid"] == [4, 4] and start["train_images"] == 1438 and start["eval_split"] == "test"
    trains = _records(tiny_vq_run, "train")
    assert [r["step"] for r in trains] == [4, 8, 12]
    for r in trains:
        assert math.isfinite(r["loss"]) and r["images_per_s"] > 0
        assert 1 <= r["perplexity"] <= 16 and 0 < r["usage"] <= 1
        assert math.isclose(r["psnr"], 10 * math.log10(1 / r["mse"]), rel_tol=1e-9)
    assert trains[0]["restarts"] >= 1  # the first step moves the untouched codebook onto data
    ck = _records(tiny_vq_run, "checkpoint")[-1]
    assert ck["step"] == 12 and math.isfinite(ck["eval_psnr"]) and 0 < ck["eval_usage"] <= 1


def test_evaluate_reconstruction_scores_what_the_tokenizer_does(tiny_vq_run: Path) -> None:
    tok = VQTokenizer.load(tiny_vq_run / "tokenizer.safetensors")
    images = get_dataset("digits", "test").images()
    rep = evaluate_reconstruction(tok.model, images, batch_size=100)
    codes = tok.encode(images)
    assert math.isclose(rep["psnr"], psnr(tok.decode(codes), images))
    assert math.isclose(rep["usage"], len(np.unique(codes.numpy())) / 16)


def test_same_seed_same_tokenizer_and_resume_is_exact(tiny_vq_run: Path, tmp_path: Path) -> None:
    cfg = load_tokenizer_config("tiny-vq")
    train_tokenizer(cfg, tmp_path / "again", progress=False)
    ref = file_sha256(tiny_vq_run / "tokenizer.safetensors")
    assert file_sha256(tmp_path / "again" / "tokenizer.safetensors") == ref
    part = tmp_path / "part"
    res = train_tokenizer(load_tokenizer_config("tiny-vq"), part, progress=False, stop_after=5)
    assert res.step == 5
    res = train_tokenizer(load_tokenizer_config("tiny-vq"), part, resume=True, progress=False)
    assert res.step == 12 and file_sha256(part / "tokenizer.safetensors") == ref
    with pytest.raises(ConfigError, match="already holds a run"):
        train_tokenizer(load_tokenizer_config("tiny-vq"), part, progress=False)
    with pytest.raises(ConfigError, match="model.codebook_size was 16, now 32"):
        train_tokenizer(load_tokenizer_config("tiny-vq", ["model.codebook_size=32"]), part, resume=True, progress=False)


def test_it_learns_to_reconstruct_digits(tmp_path: Path) -> None:
    cfg = load_tokenizer_config("digits-vq", ["train.steps=150", "train.ckpt_every=150", "train.threads=1"])
    res = train_tokenizer(cfg, tmp_path / "run", progress=False)
    tok = VQTokenizer.load(res.tokenizer)  # type: ignore[arg-type]
    images = get_dataset("digits", "test").images()
    mean_image = np.broadcast_to(images.mean(0).round().astype(np.uint8), images.shape)
    assert res.eval["psnr"] > psnr(mean_image, images) + 3  # far better than predicting the mean digit
    assert res.eval["usage"] > 0.5  # restarts keep most of the 64 codes alive
    assert tok.encode(images).shape == (359, 4, 4)


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (["model.downsample=4"], r"divisible by 2\^downsample = 16"),
        (["train.lr=0"], "train.lr must be > 0"),
        (["model.nope=1"], "unknown config key 'model.nope'"),
        (["train.lr_schedule=wavy"], "train.lr_schedule='wavy'"),
    ],
)
def test_tokenizer_config_errors(overrides: list[str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_tokenizer_config("tiny-vq", overrides)


def test_a_locked_tokenizer_run_refuses_a_second_trainer(tiny_vq_run: Path, tmp_path: Path) -> None:
    """The run-directory lock of `unmask train` also guards `unmask tokenizer train`: a second process on
    the same directory fails at once naming it, and leaves its files as they were."""
    import os

    from unmask._lock import RunDirLocked, lock_run_dir

    run = tmp_path / "vq"
    shutil.copytree(tiny_vq_run, run)
    before = {p.name: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with lock_run_dir(run):
        with pytest.raises(RunDirLocked, match=rf"run directory '{run}' is in use: PID {os.getpid()}"):
            train_tokenizer(load_tokenizer_config("tiny-vq"), run, resume=True, progress=False)
    assert {p.name: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    # released: the finished run resumes (nothing left to do)
    res = train_tokenizer(load_tokenizer_config("tiny-vq"), run, resume=True, progress=False)
    assert res.step == load_tokenizer_config("tiny-vq").train.steps
