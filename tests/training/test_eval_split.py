"""train.eval_split: the held-out loss (and so the plateau rule) read on a split other than test."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from unmask.config import ConfigError, load_config
from unmask.training import train
from unmask.training.batches import load_training_data

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def small_shapes(shapes_sizes: Callable[..., None]) -> None:
    """Shapes splits of 64 / 24 / 16 canvases, so loading them takes a second."""
    shapes_sizes(train=64, val=24, test=16)


def test_the_held_out_data_is_the_named_split(small_shapes: None) -> None:
    _, test = load_training_data(load_config("shapes-seg-disc"))
    _, val = load_training_data(load_config("shapes-seg-disc", ["train.eval_split=val"]))
    assert test is not None and val is not None
    assert (test.split, len(test)) == ("test", 16) and (val.split, len(val)) == ("val", 24)


def test_a_run_reads_its_held_out_loss_on_val(small_shapes: None, tiny_overrides: list[str], tmp_path: Path) -> None:
    losses = {}
    for split in ("test", "val"):
        run = tmp_path / split
        train(load_config("shapes-seg-disc", [*tiny_overrides, f"train.eval_split={split}"]), run, progress=False)
        saved = json.loads((run / "config.json").read_text())
        assert saved["train"]["eval_split"] == split
        [ckpt] = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if '"checkpoint"' in x]
        losses[split] = ckpt["eval_loss"]
    # the same weights (same seed, same training batches) scored on other images
    assert torch.isfinite(torch.tensor(list(losses.values()))).all()
    assert losses["val"] != losses["test"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["train.eval_split=train"], "train.eval_split must name a held-out split of the dataset"),
        (["train.eval_split="], "train.eval_split must name a held-out split of the dataset"),
    ],
)
def test_bad_eval_splits_are_refused_when_loaded(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config("tiny", overrides)


def test_a_split_the_dataset_lacks_names_the_option_and_the_dataset(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"train.eval_split='val': digits split must be 'train' or 'test', got 'val'"):
        train(load_config("tiny", ["train.eval_split=val"]), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
