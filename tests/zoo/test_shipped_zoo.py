"""The models that ship in zoo/: each release verifies (sizes, SHA-256), samples, and keeps its recorded
sampler settings valid; all of them together stay within the zoo's budget."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from unmask.data import is_stream_dataset
from unmask.inference import generate, load_model
from unmask.joint import run_joint
from unmask.samplers import read_sampling
from unmask.samplers.settings import build_from_settings
from unmask.tokenizers import build_tokenizer
from unmask.zoo import ZOO_BUDGET_BYTES, list_zoo, zoo_bytes

ZOO = Path(__file__).resolve().parents[2] / "zoo"
ENTRIES = list_zoo(ZOO, verify=False) if ZOO.is_dir() else []


def test_the_zoo_ships_the_default_model_within_its_budget() -> None:
    names = [e.path.name for e in ENTRIES]
    assert "digits" in names, f"zoo/ must hold the default digits run; it holds {names}"
    assert zoo_bytes(ZOO) <= ZOO_BUDGET_BYTES
    listed = (ZOO / "README.md").read_text()
    for name in names:
        assert f"zoo/{name}" in listed, f"zoo/README.md does not describe zoo/{name}"


def _is_joint(entry) -> bool:  # noqa: ANN001
    return is_stream_dataset(json.loads((entry.path / "config.json").read_text())["data"]["name"])


SINGLE = [e for e in ENTRIES if not _is_joint(e)]
JOINT = [e for e in ENTRIES if _is_joint(e)]


@pytest.mark.parametrize("entry", JOINT, ids=[e.path.name for e in JOINT])
def test_each_joint_release_verifies_and_draws_every_stream(entry, tmp_path: Path) -> None:  # noqa: ANN001
    metrics = run_joint(entry.path, "joint", tmp_path, n=4, steps=4, fd=False)  # sizes and SHA-256 checked
    assert metrics["step"] == entry.step and metrics["n"] == 4
    assert json.loads((entry.path / "manifest.json").read_text())["release"]["dtype"] == "float16"


@pytest.mark.parametrize("entry", SINGLE, ids=[e.path.name for e in SINGLE])
def test_each_release_verifies_and_samples_with_its_recorded_settings(entry) -> None:  # noqa: ANN001
    model, ckpt = load_model(entry.path)  # sizes and SHA-256 of every file checked
    assert ckpt.step == entry.step
    record = read_sampling(entry.path / "sampling.json")
    sampler = build_from_settings(
        {**record["settings"], "steps": min(record["settings"].get("steps", 8), 8)}, ckpt.config.path.schedule_spec()
    )
    labels = list(range(min(model.num_classes, 4))) or None
    gen = generate(
        model, build_tokenizer(ckpt.tokenizer), sampler, n=4 if labels is None else len(labels), labels=labels, seed=0
    )
    assert gen.images is not None and gen.images.dtype == np.uint8
    assert json.loads((entry.path / "manifest.json").read_text())["release"]["dtype"] == "float16"
