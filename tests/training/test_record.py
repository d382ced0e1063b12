"""experiments/record.py: a run's record rebuilds its config, its commit and its learning curve without the run."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from unmask.config import Config, load_config
from unmask.training.curves import read_learning_curve

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "record.py"


@pytest.fixture(scope="module")
def record(load_script: Callable[[Path, str], ModuleType]) -> ModuleType:
    return load_script(SCRIPT, "record_script")


def test_the_record_retrains_the_same_config_and_reads_as_the_same_curve(
    record: Any, tiny_run: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    (run / "commits.txt").write_text("abc123\nabc123\ndef456\n")
    dest = record.write_record(run, tmp_path / "records")
    # the YAML is a preset the trainer takes, and it is the run's whole config, seed included
    saved = Config.from_dict(json.loads((run / "config.json").read_text()))
    rebuilt = load_config(str(dest / "config.yaml"))
    assert rebuilt.preset == str(dest / "config.yaml")  # the loader names the file it read; all else is the run's
    assert dataclasses.replace(rebuilt, preset=saved.preset) == saved
    head = (dest / "config.yaml").read_text().splitlines()[:3]
    assert "abc123, def456" in head[1] and "commits.txt" in head[1]
    assert head[2].endswith(f"config.yaml --out runs/{run.name}")
    # the record reads as the run does: the same held-out curve, end and plateau status
    ours, theirs = read_learning_curve(dest), read_learning_curve(run)
    assert ours.held_out == theirs.held_out and ours.end_reason == theirs.end_reason
    assert [s for s, *_ in ours.train] == [s for s, *_ in theirs.train]
    assert ours.status() == theirs.status()
    # paths into the run are not kept: the record stands alone
    assert all("path" not in e and "samples" not in e for e in map(json.loads, (dest / "metrics.jsonl").open()))
    assert not list(dest.glob("*.tmp"))


def test_a_run_without_commits_is_marked_with_the_given_commit(record: Any, tiny_run: Path, tmp_path: Path) -> None:
    dest = record.write_record(tiny_run, tmp_path / "records", name="x", commit="feedbeef")
    assert "feedbeef (given with --commit)" in (dest / "config.yaml").read_text().splitlines()[1]


def test_a_run_of_a_script_folder_takes_the_folders_commits_and_the_records_name(
    record: Any, tiny_run: Path, tmp_path: Path
) -> None:
    run = tmp_path / "video-plateau" / "itm"  # as experiments/video/plateau.sh lays its runs out
    shutil.copytree(tiny_run, run)
    (run.parent / "commits.txt").write_text("cafe01\n")
    dest = record.write_record(run, tmp_path / "records", name="video-plateau-itm")
    head = (dest / "config.yaml").read_text().splitlines()[:3]
    assert dest.name == "video-plateau-itm" and "cafe01 (commits.txt of its script's folder)" in head[1]
    assert head[2].endswith("config.yaml --out runs/video-plateau-itm")


def test_what_is_not_a_run_is_one_clear_error(record: Any, tiny_run: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="config.json' does not exist"):
        record.write_record(tmp_path, tmp_path / "records")
    run = tmp_path / "no-eval"
    run.mkdir()
    shutil.copy(tiny_run / "config.json", run)
    (run / "metrics.jsonl").write_text(json.dumps({"event": "train", "step": 1, "loss": 1.0}) + "\n")
    with pytest.raises(ValueError, match="no held-out evaluation"):
        record.write_record(run, tmp_path / "records")
    assert not (tmp_path / "records").exists()
