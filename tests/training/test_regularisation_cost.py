"""benchmarks/regularisation_cost.py: its variants are the configs they name; its table is what its runs measured."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from unmask.config import load_config

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "regularisation_cost.py"


@pytest.fixture(scope="module")
def bench(load_script: Any) -> Any:
    return load_script(SCRIPT, "regularisation_cost_script")  # it imports compile_speed from its own folder


@pytest.mark.parametrize("preset", ["shapes-seg-disc", "tiny"])
def test_each_variant_differs_from_none_in_the_regularisers_it_names(bench: Any, preset: str) -> None:
    def regularisers(name: str) -> tuple[int, float, float]:
        c = load_config(preset, bench.VARIANTS[name])
        return c.data.shift, c.optim.weight_decay, c.model.dropout

    assert regularisers("none") == (0, 0.0, 0.0)
    assert regularisers("shifts ±1") == (1, 0.0, 0.0)
    assert regularisers("weight decay 0.05") == (0, 0.05, 0.0)
    assert regularisers("dropout 0.1") == (0, 0.0, 0.1)
    assert regularisers("all three") == (1, 0.05, 0.1)


def test_the_summary_is_the_median_over_rounds_against_none(bench: Any) -> None:
    rows = bench.summarise({"none": [100.0, 90.0, 110.0], "dropout 0.1": [50.0, 60.0, 40.0]})
    by = {r["variant"]: r for r in rows}
    assert by["none"]["samples_per_s"] == 100.0 and by["none"]["time_vs_none"] == 1.0
    assert by["dropout 0.1"]["samples_per_s"] == 50.0 and by["dropout 0.1"]["time_vs_none"] == 2.0


def test_a_short_benchmark_writes_every_variant(bench: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "cost.json"
    argv = ["x", "--preset", "tiny", "--steps", "4", "--log-every", "2", "--rounds", "1", "--threads", "1"]
    monkeypatch.setattr(sys, "argv", [*argv, "--variants", "none", "dropout 0.1", "--out", str(out)])
    bench.main()
    result = json.loads(out.read_text())
    assert result["preset"] == "tiny" and [r["variant"] for r in result["rows"]] == ["none", "dropout 0.1"]
    for row in result["rows"]:
        assert len(row["rounds"]) == 1 and all(rate > 0 for rate in row["rounds"])
    assert result["rows"][0]["time_vs_none"] == 1.0


def test_the_reference_and_the_rounds_are_checked(
    bench: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for extra, needle in ((["--variants", "dropout 0.1"], "must include 'none'"), (["--rounds", "0"], "got 0")):
        monkeypatch.setattr(sys, "argv", ["x", *extra])
        with pytest.raises(SystemExit):
            bench.main()
        assert needle in capsys.readouterr().err
