"""Learning curves read from metrics.jsonl: resumed steps, cut lines, the run's plateau criterion, the
figure, and `unmask info --curve`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unmask.training.curves import (
    plot_learning_curves,
    read_learning_curve,
    read_run_events,
    read_run_summary,
)
from unmask.training.plateau import check_plateau


def write_run(root: Path, records: list[dict], *, train_cfg: dict | None = None, cut: bool = False) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = "\n".join(json.dumps(r) for r in records) + "\n"
    if cut:
        text += '{"event": "checkpoint", "step": 99'  # a line cut by a crash
    (root / "metrics.jsonl").write_text(text)
    if train_cfg is not None:
        (root / "config.json").write_text(json.dumps({"train": train_cfg}))
    return root


def records(losses: dict[int, float], *, end: str | None = "steps") -> list[dict]:
    out: list[dict] = [{"event": "start", "step": 0}]
    for step, loss in sorted(losses.items()):
        out.append({"event": "train", "step": step, "loss": loss + 0.1, "elapsed_s": step / 10})
        out.append({"event": "checkpoint", "step": step, "eval_loss": loss, "train_s": step / 10 - 1})
    if end:
        out.append({"event": "end", "step": max(losses), "reason": end})
    return out


def test_read_keeps_the_last_record_of_a_step_and_skips_a_cut_line(tmp_path: Path) -> None:
    recs = records({100: 2.0, 200: 1.5})
    # resumed from step 100: step 200 logged again with another loss, and the run not ended yet
    recs += [{"event": "resume", "step": 100}, {"event": "checkpoint", "step": 200, "eval_loss": 1.4, "train_s": 19}]
    curve = read_learning_curve(write_run(tmp_path / "run", recs, cut=True))
    assert curve.held_out == [(100, 2.0, 9.0), (200, 1.4, 19.0)]
    assert [r[0] for r in curve.train] == [100, 200]
    assert curve.end_reason is None  # the resumed run has not ended
    assert (curve.tol, curve.window) == (0.01, 0.25)


@pytest.mark.parametrize(
    ("losses", "reached"),
    [
        ({100: 2.0, 200: 1.6, 300: 1.59, 400: 1.585}, True),  # +0.3% over the last quarter
        ({100: 2.0, 200: 1.6, 300: 1.5, 400: 1.4}, False),  # still falling 6.7%
    ],
)
def test_status_is_the_plateau_criterion_at_the_last_evaluation(
    tmp_path: Path, losses: dict[int, float], reached: bool
) -> None:
    curve = read_learning_curve(write_run(tmp_path / "run", records(losses)))
    check = curve.status()
    assert check == check_plateau(list(losses.items()), 400)
    assert check.reached is reached


def test_status_uses_the_runs_own_criterion(tmp_path: Path) -> None:
    losses = {100: 2.0, 200: 1.6, 300: 1.59, 400: 1.585}
    curve = read_learning_curve(
        write_run(tmp_path / "run", records(losses), train_cfg={"plateau_tol": 0.001, "plateau_window": 0.5})
    )
    assert (curve.tol, curve.window) == (0.001, 0.5)
    check = curve.status()
    assert check.ref_step == 200 and not check.reached  # 0.94% over the last half is above 0.1%


def test_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="metrics.jsonl"):
        read_learning_curve(tmp_path / "nothing")
    curve = read_learning_curve(write_run(tmp_path / "run", [{"event": "train", "step": 1, "loss": 3.0}]))
    with pytest.raises(ValueError, match="no held-out evaluation"):
        curve.status()
    good = read_learning_curve(write_run(tmp_path / "good", records({100: 2.0, 200: 1.5})))
    with pytest.raises(ValueError, match="'epochs'"):
        plot_learning_curves({"a": good}, tmp_path / "c.png", x="epochs")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no learning curves"):
        plot_learning_curves({}, tmp_path / "c.png")


@pytest.mark.parametrize("x", ["step", "seconds"])
def test_plot_writes_a_png_with_several_runs(tmp_path: Path, x: str) -> None:
    a = read_learning_curve(write_run(tmp_path / "a", records({100: 2.0, 200: 1.6, 300: 1.59, 400: 1.585})))
    b = read_learning_curve(write_run(tmp_path / "b", records({100: 2.2, 200: 1.9})))
    out = plot_learning_curves({"a": a, "b": b}, tmp_path / "figs" / "curve.png", x=x)  # type: ignore[arg-type]
    img = np.asarray(Image.open(out))
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300
    assert img.std() > 10  # something was drawn
    assert not list((tmp_path / "figs").glob(".*"))  # no temporary file left


def test_info_prints_the_plateau_and_draws_the_curve(tiny_run: Path, tmp_path: Path, run_cli) -> None:
    code, out, err = run_cli(["info", str(tiny_run), "--curve", str(tmp_path / "curve.png"), "--x", "seconds"])
    assert code == 0, err
    assert "plateau: not reached" in out or "plateau: reached" in out
    assert "ended: steps" in out
    assert (tmp_path / "curve.png").is_file()
    code, out, _ = run_cli(["info", str(tiny_run), "--json"])
    info = json.loads(out)
    assert info["plateau"]["step"] == 20 and info["ended"] == "steps"


def test_info_curve_on_something_that_is_not_a_run(tmp_path: Path, run_cli) -> None:
    write_run(tmp_path / "noeval", [{"event": "train", "step": 1, "loss": 3.0}])
    (tmp_path / "noeval" / "config.json").write_text(json.dumps({"train": {}}))
    code, _, err = run_cli(["info", str(tmp_path / "noeval"), "--curve", str(tmp_path / "c.png")])
    assert code == 2 and "no held-out evaluation" in err
    assert not (tmp_path / "c.png").exists()


def test_run_summary_adds_the_seconds_of_every_segment(tmp_path: Path) -> None:
    recs = [
        {"event": "start", "step": 0, "parameters": 1_234_567},
        {"event": "train", "step": 100, "loss": 2.0},
        {"event": "end", "step": 100, "seconds": 30.0, "reason": "interrupted"},
        {"event": "resume", "step": 100},
        {"event": "train", "step": 200, "loss": 1.9},
        {"event": "end", "step": 200, "seconds": 42.0, "reason": "plateau"},
    ]
    run = write_run(tmp_path / "run", recs, cut=True)
    s = read_run_summary(run)
    assert (s.step, s.reason, s.seconds, s.segments, s.parameters) == (200, "plateau", 72.0, 2, 1_234_567)
    assert s.describe() == "step 200 (plateau), 0.02 h of training"
    assert [r["step"] for r in read_run_events(run, "train")] == [100, 200]
    assert read_run_events(run, "checkpoint") == []  # the cut checkpoint line is skipped


def test_a_run_without_metrics_is_not_trained(tmp_path: Path) -> None:
    s = read_run_summary(tmp_path / "never-started")
    assert (s.step, s.reason, s.seconds, s.segments, s.parameters) == (None, None, 0.0, 0, None)
    assert s.describe() == "not trained"
    assert read_run_events(tmp_path / "never-started", "end") == []
