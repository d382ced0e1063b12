"""docs/records: each shipped record is a preset the trainer takes and a learning curve the curve reader reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unmask.config import Config, load_config
from unmask.training.curves import read_learning_curve

RECORDS = sorted((Path(__file__).resolve().parents[2] / "docs" / "records").glob("*/config.yaml"))


def test_there_are_records() -> None:
    assert RECORDS, "docs/records holds no record"


@pytest.mark.parametrize("config", RECORDS, ids=[p.parent.name for p in RECORDS])
def test_each_record_loads_as_its_run_config_and_reads_as_a_curve(config: Path) -> None:
    rebuilt = load_config(str(config))
    saved = Config.from_dict(json.loads((config.parent / "config.json").read_text()))
    assert rebuilt.to_dict() | {"preset": None} == saved.to_dict() | {"preset": None}
    header = config.read_text().splitlines()[:3]
    assert header[1].startswith("# Trained at commit(s) ") and header[2].startswith("# Retrain: unmask train ")
    curve = read_learning_curve(config.parent)
    assert curve.held_out and curve.train
    assert curve.status().reason  # the plateau rule's verdict on the recorded curve
