"""unmask sweep --best METRIC: the best cell recorded in the run, then used by unmask sample."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from unmask.sweep import best_row, read_rows, record_best, row_settings, run_sweep
from unmask.training.checkpoint import save_release

GRID = """
n: 12
seed: 1
batch_size: 6
grids:
  - {sampler: [euler, maskgit], steps: [2, 4], cfg: 2.0}
  - {sampler: euler, steps: 4, temperature: [0.5, 1.5], cfg: 2.0}
"""


def _evaluator(images: np.ndarray, labels: np.ndarray | None) -> dict[str, float]:
    """A real statistic of the samples (how far their mean grey level is from 100), and a second one."""
    return {"fd": float(abs(images.mean() - 100.0)), "precision": float(images.std() / 255)}


@pytest.fixture()
def run_copy(tiny_run: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    return run


def test_best_row_takes_the_lowest_fd_and_the_highest_of_the_others() -> None:
    rows = [{"fd": "3.0", "precision": "0.1"}, {"fd": "1.0", "precision": ""}, {"fd": "", "precision": "0.7"}]
    assert best_row(rows, "fd") is rows[1]
    assert best_row(rows, "precision") is rows[2]
    with pytest.raises(ValueError, match="unknown metric 'fid' for --best; choose one of fd, precision"):
        best_row(rows, "fid")
    with pytest.raises(ValueError, match="no cell of the sweep has a value for 'recall' .measured: fd, precision"):
        best_row(rows, "recall")


def test_record_best_writes_the_runs_sampling_json_and_sample_uses_it(run_copy: Path, tmp_path: Path, run_cli) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    csv_path = run_sweep(run_copy, grid, tmp_path / "sweep", evaluator=_evaluator, progress=False, plots=False)
    rows = read_rows(csv_path)
    meta = json.loads((tmp_path / "sweep" / "sweep.json").read_text())
    path = record_best(csv_path, "fd", run_copy / "checkpoints" / "step_00000020", meta)
    assert path == run_copy / "sampling.json"
    record = json.loads(path.read_text())
    want = min(rows, key=lambda r: float(r["fd"]))
    assert record["value"] == float(want["fd"]) and record["metric"] == "fd" and not record["higher_is_better"]
    assert record["settings"] == row_settings(want)
    assert record["source"]["step"] == 20 and record["source"]["cells"] == len(rows)

    code, out, err = run_cli(["sample", "--ckpt", str(run_copy), "--out", str(tmp_path / "s.npz"), "--n", "4"])
    assert code == 0, err
    assert "sampler settings from" in err and json.loads(out)["settings"] == str(path)
    assert json.loads(out)["sampler"] == record["settings"]["sampler"]
    # a flag wins over the recorded value; --defaults ignores the file
    code, out, err = run_cli(
        ["sample", "--ckpt", str(run_copy), "--out", str(tmp_path / "d.npz"), "--n", "4", "--defaults"]
    )
    assert code == 0 and json.loads(out)["settings"] == "config" and "sampler settings from" not in err


def test_sample_refuses_a_bad_recorded_file(run_copy: Path, tmp_path: Path, run_cli) -> None:
    (run_copy / "sampling.json").write_text(json.dumps({"settings": {"sampler": "euler", "steps": -3}}))
    code, _, err = run_cli(["sample", "--ckpt", str(run_copy), "--out", str(tmp_path / "s.npz"), "--n", "2"])
    assert code == 2 and "sampling.json" in err and "steps" in err
    assert not (tmp_path / "s.npz").exists()


def test_cli_best_checks_its_metric_before_sampling(run_copy: Path, tmp_path: Path, run_cli) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    args = ["sweep", "--ckpt", str(run_copy), "--grid", str(grid), "--out", str(tmp_path / "w"), "--best", "fid"]
    code, _, err = run_cli(args)
    assert code == 2 and "unknown metric 'fid' for --best" in err
    assert not (tmp_path / "w").exists()  # nothing sampled, nothing written


def test_a_release_is_not_written_into(run_copy: Path, tmp_path: Path, run_cli) -> None:
    release = save_release(run_copy, tmp_path / "zoo" / "tiny")
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    args = ["sweep", "--ckpt", str(release), "--grid", str(grid), "--out", str(tmp_path / "w"), "--best", "fd"]
    code, _, err = run_cli(args)
    assert code == 2 and "is a release" in err
