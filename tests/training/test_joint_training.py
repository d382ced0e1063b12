"""Training joint multi-stream models: per-stream metrics, exact resume, accumulation, data parallelism, errors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from unmask.config import ConfigError, load_config
from unmask.inference import load_model, load_multistream_model
from unmask.models import MultiStreamTransformer
from unmask.training import list_checkpoints, load_checkpoint, train

pytestmark = pytest.mark.usefixtures("one_thread")

BASE = ["train.batch_size=16", "train.eval_batches=1", "optim.warmup_steps=3"]


def records(run: Path, event: str) -> list[dict]:
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [r for r in lines if r["event"] == event]


def max_diff(a: Path, b: Path) -> float:
    ca, cb = load_checkpoint(a), load_checkpoint(b)
    return max(float((ca.model[k] - cb.model[k]).abs().max()) for k in ca.model)


@pytest.fixture(scope="module")
def joint_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("joint") / "run"
    train(load_config("tiny-joint"), out, progress=False)
    return out


def test_joint_run_logs_every_stream_and_saves_a_multistream_model(joint_run: Path) -> None:
    trains = records(joint_run, "train")
    assert [r["step"] for r in trains] == [5, 10, 15, 20]
    for r in trains:
        for key in ("loss_image", "loss_label", "accuracy_image"):
            assert math.isfinite(r[key]), key
        # "equal" stream weighting: the loss is the sum of the streams' masked means
        assert r["loss"] == pytest.approx(r["loss_image"] + r["loss_label"], rel=1e-5)
    ckpt = records(joint_run, "checkpoint")[-1]
    assert math.isfinite(ckpt["eval_loss_image"]) and math.isfinite(ckpt["eval_loss_label"])
    assert math.isfinite(ckpt["eval_nll"]) and Path(ckpt["samples"]).read_bytes()[:4] == b"\x89PNG"
    model, c = load_multistream_model(joint_run)
    assert isinstance(model, MultiStreamTransformer) and model.stream_names == ("image", "label")
    assert c.backbone["kind"] == "multistream" and model.vocab_sizes == {"image": 18, "label": 11}
    with pytest.raises(ValueError, match="holds a joint multi-stream model .* use unmask joint"):
        load_model(joint_run)


def test_discriminative_baseline_scores_only_the_label(tmp_path: Path) -> None:
    cfg = load_config("tiny-joint", ['path.fixed_times="image:1,label:0"', "train.steps=6", "train.ckpt_every=6"])
    train(cfg, tmp_path / "disc", progress=False)
    for r in records(tmp_path / "disc", "train"):
        assert r["loss_image"] == 0.0 and math.isnan(r["accuracy_image"])  # the image is never masked
        assert r["loss"] == pytest.approx(r["loss_label"])


SHARED_ETM = ["model.timestep=true", "path.timesteps=shared", "path.clean_stream_prob=0", "path.null_stream_prob=0"]


@pytest.mark.parametrize(
    "variant",
    [
        [],
        ["model.timestep=true"],
        [*SHARED_ETM, "loss.stream_weighting=tokens"],
        ['path.time_powers="label:3"', 'loss.stream_weights="label:4"', 'path.clean_stream_weights="label:3"'],
    ],
)
def test_interrupted_then_resumed_joint_run_equals_an_uninterrupted_one(tmp_path: Path, variant: list[str]) -> None:
    overrides = [*BASE, "train.steps=10", "train.ckpt_every=5", "train.log_every=5", *variant]
    train(load_config("tiny-joint", overrides), tmp_path / "full", progress=False)
    part = tmp_path / "part"
    assert train(load_config("tiny-joint", overrides), part, progress=False, stop_after=5).step == 5
    assert train(load_config("tiny-joint", overrides), part, resume=True, progress=False).step == 10
    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(part)
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key


def test_gradient_accumulation_matches_the_whole_batch(tmp_path: Path) -> None:
    overrides = [*BASE, "train.steps=4", "train.ckpt_every=4", "loss.stream_weighting=equal"]
    train(load_config("tiny-joint", overrides), tmp_path / "one", progress=False)
    train(load_config("tiny-joint", [*overrides, "train.grad_accum=4"]), tmp_path / "acc", progress=False)
    assert max_diff(tmp_path / "one", tmp_path / "acc") < 1e-5


def test_two_processes_end_with_one_process_weights(tmp_path: Path) -> None:
    overrides = [*BASE, "train.steps=4", "train.ckpt_every=4", "loss.stream_weighting=tokens"]
    train(load_config("tiny-joint", overrides), tmp_path / "one", progress=False)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "unmask"]
    cmd += ["train", "tiny-joint", *overrides, "--out", str(tmp_path / "two")]
    res = subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert max_diff(tmp_path / "one", tmp_path / "two") < 1e-5
    one, two = records(tmp_path / "one", "train")[-1], records(tmp_path / "two", "train")[-1]
    assert two["loss_label"] == pytest.approx(one["loss_label"], rel=1e-4)  # per-stream metrics all-reduced


@pytest.mark.parametrize(
    ("preset", "overrides", "match"),
    [
        ("tiny", ['path.fixed_times="image:1"'], "path.fixed_times='image:1' applies to multi-stream datasets only"),
        ("tiny", ["path.clean_stream_prob=0.5"], "applies to multi-stream datasets only"),
        ("tiny", ['path.time_powers="image:2"'], "path.time_powers='image:2' applies to multi-stream datasets only"),
        (
            "tiny-joint",
            ['path.time_powers="label:-1"'],
            r"power of stream 'label' must be a finite number > 0, got -1.0",
        ),
        (
            "tiny-joint",
            ['path.time_powers="label"'],
            "path.time_powers entries must look like name:number, got 'label'",
        ),
        ("tiny-joint", ["path.smoothing=0.1"], "path.smoothing=0.1 is not supported for the multi-stream dataset"),
        ("tiny-joint", ["loss.stream_weighting=mean"], "loss.stream_weighting='mean' is not one of equal, tokens"),
        ("tiny-joint", ["path.timesteps=joint"], "path.timesteps='joint' is not one of separate, shared"),
        ("tiny-joint", ["path.clean_stream_prob=0.7", "path.null_stream_prob=0.4"], "must be <= 1"),
        ("tiny-joint", ['path.fixed_times="image:2"'], r"time of stream 'image' must be in \[0, 1\], got 2.0"),
        ("tiny-joint", ["model.timestep=true", "path.timesteps=shared"], "one time for all streams"),
        ("tiny-joint", [*SHARED_ETM, 'path.time_powers="label:2"'], "one time for all streams"),
        ("tiny", ['loss.stream_weights="image:2"'], "applies to multi-stream datasets only"),
        ("tiny-joint", ["loss.time_power=2"], "draws a time per stream: use path.time_powers"),
        ("tiny-joint", ['loss.stream_weights="label:-2"'], r"weight of stream 'label' must be a finite number >= 0"),
        ("tiny", ['path.clean_stream_weights="image:2"'], "applies to multi-stream datasets only"),
        (
            "tiny-joint",
            ['path.clean_stream_weights="image:nan"'],
            r"path.clean_stream_weights: clean weight of stream 'image' must be a finite number >= 0, got nan",
        ),
        (
            "tiny-joint",
            ["path.clean_stream_prob=0", 'path.clean_stream_weights="image:2"'],
            "path.clean_stream_prob is 0: no stream is ever held clean",
        ),
        ("tiny-joint", [*SHARED_ETM, 'path.clean_stream_weights="label:2"'], "one time for all streams"),
    ],
)
def test_bad_joint_configs_are_refused_when_loaded(preset: str, overrides: list[str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(preset, overrides)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (['path.fixed_times="mask:0"'], "fixed time for unknown stream 'mask'; the streams are image, label"),
        (['path.time_powers="mask:3"'], "time power for unknown stream 'mask'; the streams are image, label"),
        (['path.clean_stream_weights="mask:3"'], "clean weight for unknown stream 'mask'; the streams are image, lab"),
        (['loss.stream_weights="mask:3"'], "loss weight for unknown stream 'mask'; the streams are image, label"),
        (['model.patches="mask:2"'], "model.patches names stream 'mask'; the streams are image, label"),
        (['model.patches="image:3"'], r"stream 'image': patch 3 must be >= 1 and divide every axis \(8, 8\)"),
    ],
)
def test_stream_names_are_checked_against_the_data(tmp_path: Path, overrides: list[str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        train(load_config("tiny-joint", overrides), tmp_path / "r", progress=False)
    assert not list_checkpoints(tmp_path / "r")
