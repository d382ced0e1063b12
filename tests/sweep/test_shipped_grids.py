"""The grid files the experiment scripts and docs/results.md run: each parses, and every cell builds its
sampler, so a documented command does not fail on its grid after hours of training."""

from __future__ import annotations

from pathlib import Path

import pytest

from unmask.sweep import load_grid
from unmask.sweep.runner import _sampler_for

GRIDS = sorted((Path(__file__).resolve().parents[2] / "experiments").glob("*/*.yaml"))


def test_the_experiments_ship_grid_files() -> None:
    assert len(GRIDS) >= 10, f"expected the experiments' grid files, found {GRIDS}"


@pytest.mark.parametrize("path", GRIDS, ids=[f"{p.parent.name}/{p.name}" for p in GRIDS])
def test_each_grid_parses_and_every_cell_builds_its_sampler(path: Path) -> None:
    spec = load_grid(path)
    assert spec.cells, f"{path} expands to no cell"
    for cell in spec.cells:
        settings = cell.as_dict()
        sampler = _sampler_for(cell, {"name": "linear"}, default_cfg=1.0)
        assert type(sampler).__name__.lower().startswith(settings["sampler"])
        assert sampler.steps == settings["steps"]
