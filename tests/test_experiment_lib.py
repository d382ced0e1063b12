"""experiments/lib.sh decides what the plateau scripts train next from a run's metrics.jsonl: a run to start, to
resume, to leave, or to extend at its final rate. A wrong decision costs hours of the CPU (a finished run trained
again) or a result (an interrupted run scored), so each rule is checked here against a stub ``unmask`` that only
logs the command it was given."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run_dir(tmp_path: Path, *ends: tuple[int, str]) -> Path:
    """A run directory whose metrics.jsonl ends its segments at these (step, reason)."""
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    lines = [json.dumps({"event": "end", "step": step, "reason": reason}) for step, reason in ends]
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    return run


def _bash(tmp_path: Path, script: str, **env: str) -> list[str]:
    """Run ``script`` after sourcing lib.sh with U set to a stub; the unmask commands it ran, one per line."""
    log = tmp_path / "calls.log"
    stub = tmp_path / "unmask"
    stub.write_text(f'#!/usr/bin/env bash\necho "$*" >> {log}\n')
    stub.chmod(0o755)
    full = f"set -euo pipefail\n. {ROOT / 'experiments' / 'lib.sh'}\nU={stub}\n{script}\n"
    done = subprocess.run(["bash", "-c", full], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env})
    assert done.returncode == 0, done.stderr
    return log.read_text().splitlines() if log.is_file() else []


@pytest.mark.parametrize(
    ("ends", "expected"),
    [
        ([], "train PRESET k=v --out RUN --no-progress"),  # no checkpoints yet: start
        ([(500, "interrupted")], "train --out RUN --resume --no-progress"),
        ([(500, "time_limit")], "train --out RUN --resume --no-progress"),
        ([(800, "steps")], None),  # finished: left as it is
        ([(600, "plateau")], None),
    ],
)
def test_train_run_starts_resumes_or_leaves_a_run(tmp_path: Path, ends: list[tuple[int, str]], expected: str) -> None:
    run = _run_dir(tmp_path, *ends) if ends else tmp_path / "run"
    calls = _bash(tmp_path, f"train_run {run} PRESET k=v")
    assert calls == ([expected.replace("RUN", str(run))] if expected else [])


@pytest.mark.parametrize(
    ("ends", "tail", "expected_steps"),
    [
        ([(8000, "steps")], "", 16000),  # the cosine ended at CAP unlevelled: the tail, to 2 x CAP
        ([(8000, "steps")], "12000", 12000),
        ([(8000, "steps"), (16000, "steps")], "", None),  # the tail reached its cap: left unless TAIL is raised
        ([(8000, "steps"), (16000, "steps")], "32000", 32000),  # raised: it goes on
        ([(6000, "plateau")], "", None),  # levelled off: nothing to do
        ([(8000, "steps"), (11000, "plateau")], "32000", None),
        ([(8000, "steps"), (9000, "interrupted")], "", None),  # interrupted: train_run resumes it, not the tail
        ([(4000, "steps")], "", None),  # ended before CAP on its own step count: another schedule, left alone
    ],
)
def test_plateau_tail_extends_only_an_unlevelled_run_at_its_cap(
    tmp_path: Path, ends: list[tuple[int, str]], tail: str, expected_steps: int | None
) -> None:
    run = _run_dir(tmp_path, *ends)
    env = {"TAIL": tail} if tail else {}
    calls = _bash(tmp_path, f"CAP=8000\nplateau_tail {run}", **env)
    if expected_steps is None:
        assert calls == []
    else:
        assert calls == [
            f"train --out {run} --resume train.steps={expected_steps} optim.decay_steps=8000 "
            "train.plateau_min_steps=8000 --no-progress"
        ]


def test_run_finished_and_last_step_read_the_last_segment(tmp_path: Path) -> None:
    run = _run_dir(tmp_path, (8000, "steps"), (9000, "interrupted"))
    script = f"last_step {run} > {tmp_path}/step\n"
    script += f"run_finished {run} && echo yes > {tmp_path}/fin || echo no > {tmp_path}/fin"
    _bash(tmp_path, script)
    assert (tmp_path / "step").read_text().strip() == "9000"
    assert (tmp_path / "fin").read_text().strip() == "no"


def test_plateau_tail_takes_cap_from_its_caller(tmp_path: Path) -> None:
    """fmnist_plateau.sh calls it as ``CAP=30000 plateau_tail RUN``: the tail its 30,000-step cosine had before."""
    run = _run_dir(tmp_path, (30000, "steps"))
    calls = _bash(tmp_path, f"CAP=30000 plateau_tail {run}")
    assert calls == [
        f"train --out {run} --resume train.steps=60000 optim.decay_steps=30000 "
        "train.plateau_min_steps=30000 --no-progress"
    ]
