"""Runs written by an earlier release still load, sample the same tokens and resume.

The fixture ``tests/fixtures/tiny-run-7b1aaa5`` is a 4-step ``tiny`` run (class-conditional ITM on
digits, 21,777 parameters) written by commit 7b1aaa5, the release before the CLI, sampler and layer
refactor; ``expected_tokens.npy`` are the tokens that release drew from it (the run's default Euler
sampler, 8 steps, labels 0-3, seed 0). A change that breaks reading such runs, or changes what they
sample, fails here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch

from unmask.config import load_config
from unmask.inference import load_model
from unmask.training import default_sampler, train

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tiny-run-7b1aaa5"


def test_an_old_run_loads_and_samples_the_same_tokens() -> None:
    model, info = load_model(FIXTURE)
    assert info.step == 4 and model.num_classes == 10
    sampler = default_sampler(model, info.config, steps=8)
    out = sampler.sample(model, 4, labels=torch.tensor([0, 1, 2, 3]), generator=torch.Generator().manual_seed(0))
    assert np.array_equal(out.tokens.numpy(), np.load(FIXTURE / "expected_tokens.npy"))


def test_an_old_run_resumes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    saved = json.loads((run / "config.json").read_text())
    config = load_config("tiny", ["train.steps=6", "train.ckpt_every=2", "train.keep_checkpoints=1"])
    assert config.to_dict()["model"] == saved["model"]  # the same model as the old release's preset
    result = train(config, run, resume=True, progress=False)
    assert result.step == 6
    events = [json.loads(x)["event"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert "resume" in events


def test_info_reads_an_old_run(run_cli) -> None:
    code, out, err = run_cli(["info", str(FIXTURE)])
    assert code == 0, err
    assert "step: 4" in out and "parameters: 21,777" in out
