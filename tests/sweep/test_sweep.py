from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from unmask.sweep import expand_grid, load_grid, read_rows, run_sweep, series
from unmask.sweep.plots import plot_sweep


def write(tmp_path: Path, text: str, name: str = "grid.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_expand_grid_drops_settings_that_do_not_apply_and_deduplicates() -> None:
    cells = expand_grid(
        {"sampler": ["euler", "maskgit"], "steps": [4, 8], "argmax": [True, False], "gumbel": ["linear", "none"]}
    )
    euler = [c for c in cells if c.sampler == "euler"]
    maskgit = [c for c in cells if c.sampler == "maskgit"]
    assert len(euler) == 4 and len(maskgit) == 4  # 2 steps x 2 argmax; 2 steps x 2 gumbel
    assert all("gumbel" not in c.as_dict() for c in euler)
    assert all("argmax" not in c.as_dict() for c in maskgit)
    assert len({c.key for c in cells}) == 8


def test_load_grid_union_of_products(tmp_path: Path) -> None:
    spec = load_grid(
        write(
            tmp_path,
            """
n: 16
seed: 3
grids:
  - {sampler: euler, steps: [2, 4]}
  - {sampler: euler, steps: 4, temperature: [0.5, 1.0]}
""",
        )
    )
    assert spec.n == 16 and spec.seed == 3
    assert [c.as_dict() for c in spec.cells] == [
        {"sampler": "euler", "steps": 2},
        {"sampler": "euler", "steps": 4},
        {"sampler": "euler", "steps": 4, "temperature": 0.5},
        {"sampler": "euler", "steps": 4, "temperature": 1.0},
    ]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("grid: {sampler: euler, stepz: 4}", "unknown grid setting 'stepz'"),
        ("grid: {sampler: diffusion}", "unknown sampler 'diffusion'"),
        ("grid: {steps: four}", "steps must be an integer"),
        ("grid: {argmax: maybe}", "argmax must be true or false"),
        ("grid: {steps: []}", "empty list"),
        ("n: 1\ngrid: {steps: 4}", "n must be >= 2"),
        ("grid: {steps: 4}\ngrids: [{steps: 4}]", "exactly one of"),
        ("color: red\ngrid: {steps: 4}", "unknown key 'color'"),
        ("grid: [", "not valid YAML"),
    ],
)
def test_bad_grid_files_name_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        load_grid(write(tmp_path, text))


def _cheap_evaluator(images: np.ndarray, labels: np.ndarray | None) -> dict[str, float]:
    """A real (if crude) statistic of the samples: distance of the mean image to 8."""
    return {"fd": float(np.abs(images.mean() / 16 - 8)), "accuracy": 0.5}


GRID = """
n: 12
seed: 1
batch_size: 5
grids:
  - {sampler: [euler, maskgit], steps: [2, 4], cfg: 2.0}
  - {sampler: euler, steps: 4, temperature: [0.5, 1.5], cfg: 2.0}
  - {sampler: euler, steps: 4, cfg: [1.0, 3.0]}
  - {sampler: euler, steps: 4, cfg: 2.0, temperature: 1.0, argmax: true}
"""


def test_sweep_writes_a_row_per_cell_and_figures(tiny_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    csv_path = run_sweep(tiny_run, write(tmp_path, GRID), out, evaluator=_cheap_evaluator, progress=False)
    rows = read_rows(csv_path)
    assert len(rows) == 4 + 2 + 2  # the last product resolves to a cell of the first: evaluated once
    for r in rows:
        assert r["seed"] == "1" and r["n"] == "12" and float(r["nfe"]) >= 1 and r["fd"] != ""
        assert r["schedule"] in ("linear", "cosine")  # euler: training schedule; maskgit: cosine
    euler = [r for r in rows if r["sampler"] == "euler"]
    assert all(r["argmax"] == "True" for r in euler) and all(r["gumbel"] == "" for r in euler)
    assert (out / "fd_vs_nfe.png").is_file() and (out / "fd_vs_temperature.png").is_file()
    assert (out / "fd_vs_cfg.png").is_file()
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["n"] == 12 and meta["step"] == 20


def test_seed_override_repeats_the_grid_under_another_seed(tiny_run: Path, tmp_path: Path) -> None:
    grid = write(tmp_path, GRID)
    base = read_rows(
        run_sweep(tiny_run, grid, tmp_path / "s1", evaluator=_cheap_evaluator, progress=False, plots=False)
    )
    again = read_rows(
        run_sweep(tiny_run, grid, tmp_path / "s3", evaluator=_cheap_evaluator, progress=False, plots=False, seed=3)
    )
    assert {r["seed"] for r in base} == {"1"} and {r["seed"] for r in again} == {"3"}
    assert [r["steps"] for r in again] == [r["steps"] for r in base]
    assert json.loads((tmp_path / "s3" / "sweep.json").read_text())["seed"] == 3
    # another seed cannot be resumed into a directory that holds the first one
    with pytest.raises(ValueError, match="seed"):
        run_sweep(tiny_run, grid, tmp_path / "s1", evaluator=_cheap_evaluator, progress=False, seed=3)
    with pytest.raises(ValueError, match="seed must be an integer >= 0, got -1"):
        run_sweep(tiny_run, grid, tmp_path / "s4", evaluator=_cheap_evaluator, progress=False, seed=-1)


def test_interrupted_sweep_resumes_without_recomputing(tiny_run: Path, tmp_path: Path) -> None:
    calls = {"n": 0}

    def flaky(images: np.ndarray, labels: np.ndarray | None) -> dict[str, float]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return _cheap_evaluator(images, labels)

    grid = write(tmp_path, GRID)
    out = tmp_path / "sweep"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(tiny_run, grid, out, evaluator=flaky, progress=False)
    first = read_rows(out / "sweep.csv")
    assert len(first) == 2
    calls["n"] = 100  # no more interruptions
    run_sweep(tiny_run, grid, out, evaluator=flaky, progress=False)
    rows = read_rows(out / "sweep.csv")
    assert rows[:2] == first and calls["n"] == 100 + len(rows) - 2
    # a different checkpoint or n cannot be resumed into the same directory
    with pytest.raises(ValueError, match="holds a sweep with n=12"):
        run_sweep(
            tiny_run, write(tmp_path, GRID.replace("n: 12", "n: 10"), "g2.yaml"), out, evaluator=flaky, progress=False
        )


def test_series_groups_lines_along_an_axis(tmp_path: Path) -> None:
    rows = [
        {"sampler": "euler", "steps": "4", "fd": "3"},
        {"sampler": "euler", "steps": "8", "fd": "2"},
        {"sampler": "maskgit", "steps": "4", "fd": "5"},
        {"sampler": "maskgit", "steps": "8", "fd": "4"},
        {"sampler": "maskgit", "steps": "16", "temperature": "2.0", "fd": "9"},
    ]
    lines = series(rows, "steps")
    assert lines == {
        (("sampler", "euler"),): [(4.0, 3.0), (8.0, 2.0)],
        (("sampler", "maskgit"),): [(4.0, 5.0), (8.0, 4.0)],
    }
    p = tmp_path / "s.csv"
    with open(p, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["sampler", "steps", "temperature", "fd"])
        w.writeheader()
        w.writerows(rows)
    assert [x.name for x in plot_sweep(p, tmp_path)] == ["fd_vs_nfe.png"]


def test_prime_model_sweeps_with_the_prime_sampler_only(tmp_path: Path) -> None:
    from unmask.config import load_config
    from unmask.training import train

    run = tmp_path / "prime"
    train(load_config("tiny", ["model.subtokens=2", "train.steps=4", "train.ckpt_every=4"]), run, progress=False)
    grid = write(tmp_path, "n: 20\nbatch_size: 10\ngrid: {sampler: prime, steps: [2, 4], argmax: [true, false]}\n")
    rows = read_rows(run_sweep(run, grid, tmp_path / "sweep", evaluator=_cheap_evaluator, progress=False))
    assert sorted((r["steps"], r["argmax"]) for r in rows) == [
        ("2", "False"),
        ("2", "True"),
        ("4", "False"),
        ("4", "True"),
    ]
    assert all(r["sampler"] == "prime" and int(r["nfe"]) > 0 for r in rows)
    with pytest.raises(ValueError, match="the euler sampler cannot draw from an MDM-Prime model"):
        run_sweep(
            run,
            write(tmp_path, "n: 4\ngrid: {sampler: euler, steps: 2}\n", "e.yaml"),
            tmp_path / "s2",
            evaluator=_cheap_evaluator,
            progress=False,
        )
