"""The recipe studies of benchmarks/learning_speed.py: the table and the choice of the best recipe read from
their results, so a queue can pass the chosen overrides on (``RECIPE="$(... --best)"``) without a person."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "learning_speed.py"


@pytest.fixture(scope="module")
def study(load_script: Any) -> Any:
    return load_script(SCRIPT, "learning_speed_script")


def _results(study: Any, losses: dict[str, float]) -> dict[tuple[str, str], dict[str, Any]]:
    preset = study.STUDIES["video-recipe"][0]
    return {
        (f"{preset} recipe", name): {
            "family": f"{preset} recipe",
            "variant": name,
            "parameters": 1_000_000,
            "points": [
                {"step": 100, "seconds": 300.0, "eval_loss": loss + 0.5},
                {"step": 200, "seconds": 600.0, "eval_loss": loss},
            ],
        }
        for name, loss in losses.items()
    }


def test_the_best_recipe_has_the_lowest_loss_at_the_end(study: Any) -> None:
    recipes = study.STUDIES["video-recipe"][1]
    losses = {name: 1.0 + 0.1 * i for i, name in enumerate(recipes)}
    lr = next(name for name in recipes if name.startswith("lr 2e-3"))
    losses[lr] = 0.9
    assert study.best_recipe(_results(study, losses), "video-recipe") == ["optim.lr=0.002"]
    table = study.recipe_table(_results(study, losses), "video-recipe")
    assert "**0.9000** (600 s)" in table and table.count("\n") == len(recipes) + 1


def test_a_partial_study_chooses_nothing(study: Any) -> None:
    recipes = list(study.STUDIES["video-recipe"][1])
    partial = _results(study, {recipes[0]: 1.0})
    with pytest.raises(SystemExit, match="has not run"):
        study.best_recipe(partial, "video-recipe")


def test_best_prints_only_the_overrides(tmp_path: Path, study: Any) -> None:
    import json

    recipes = study.STUDIES["video-recipe"][1]
    losses = {name: 2.0 - 0.1 * i for i, name in enumerate(recipes)}  # the last recipe wins
    lines = [json.dumps(r) for r in _results(study, losses).values()]
    (tmp_path / "results.jsonl").write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--study", "video-recipe", "--out", str(tmp_path), "--best"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == list(recipes.values())[-1]
