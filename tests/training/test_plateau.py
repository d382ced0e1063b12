"""train.until_plateau: the criterion (held-out loss improved < tol over the last window of steps), the
trainer stopping on it, recording why, and resuming correctly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unmask.config import ConfigError, load_config
from unmask.training import list_checkpoints, train
from unmask.training.plateau import check_plateau, eval_history

pytestmark = pytest.mark.usefixtures("one_thread")


def test_criterion_compares_with_the_latest_evaluation_before_the_last_quarter() -> None:
    history = [(100, 2.0), (200, 1.5), (300, 1.2), (400, 1.19)]
    check = check_plateau(history, 400)  # reference: step 300 (= 0.75 · 400)
    assert (check.ref_step, check.ref_loss) == (300, 1.2)
    assert check.improvement == pytest.approx(0.01 / 1.2)
    assert check.reached and "below" in check.reason
    # 1 % exactly is not below 1 %
    assert not check_plateau([(300, 1.0), (400, 0.99)], 400).reached
    assert check_plateau([(300, 1.0), (400, 0.99)], 400, tol=0.02).reached
    # sparse evaluations: the window grows (the reference is older), it never shrinks
    check = check_plateau([(100, 2.0), (500, 1.0)], 500)
    assert check.ref_step == 100 and not check.reached
    # a loss that got worse is at its plateau too
    worse = check_plateau([(300, 1.0), (400, 1.1)], 400)
    assert worse.reached and worse.improvement == pytest.approx(-0.1)


def test_no_decision_without_a_reference_or_before_the_minimum() -> None:
    assert not check_plateau([(100, 1.0)], 100).reached  # nothing at or before step 75
    early = check_plateau([(100, 1.0), (200, 1.0)], 200, min_steps=1000)
    assert not early.reached and "minimum of 1000" in early.reason
    assert check_plateau([(100, 1.0), (200, 1.0)], 200, window=0.5).reached
    assert not check_plateau([(110, 1.0), (120, 1.0)], 120, window=0.1).reached  # nothing at or before 108


def test_smoothing_averages_the_evaluations_at_both_ends_of_the_window() -> None:
    # the joint model's stop at step 22,000 (2026-12-07): a low reading at the reference made a falling
    # curve look flat; means of three evaluations at each end see the fall
    # (runs/fmnist-joint-plateau's logged held-out losses, rounded)
    history = [(15500, 1.7135), (16000, 1.7030), (16500, 1.6881), (21000, 1.6786), (21500, 1.6712), (22000, 1.6788)]
    single = check_plateau(history, 22000)
    assert single.reached and single.ref_step == 16500 and single.improvement == pytest.approx(0.0055, abs=1e-4)
    three = check_plateau(history, 22000, smooth=3)
    assert three.ref_step == 16500 and not three.reached and three.improvement == pytest.approx(0.0149, abs=1e-4)
    assert three.ref_loss == pytest.approx((1.7135 + 1.7030 + 1.6881) / 3)
    assert three.loss == pytest.approx((1.6786 + 1.6712 + 1.6788) / 3)
    assert "means of 3 evaluations" in three.reason
    # a flat curve is flat under either reading; smooth = 1 is the single-point rule
    flat = [(s, 1.0 + 0.001 * (s % 3)) for s in range(100, 1300, 100)]
    assert check_plateau(flat, 1200, smooth=3).reached and check_plateau(flat, 1200, smooth=1).reached
    # fewer than `smooth` evaluations at or before the reference: nothing decided yet
    early = check_plateau([(100, 1.0), (200, 1.0), (300, 1.0), (400, 1.0)], 400, smooth=4)
    assert not early.reached and "no 4 held-out losses at or before step 300" in early.reason


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"tol": -0.1}, "tolerance must be >= 0, got -0.1"),
        ({"window": 1.0}, r"window must be in \(0, 1\), got 1.0"),
        ({"window": 0.0}, r"window must be in \(0, 1\), got 0.0"),
        ({"smooth": 0}, "smoothing must be an integer >= 1 .*got 0"),
        ({"smooth": 2.5}, "smoothing must be an integer >= 1 .*got 2.5"),
    ],
)
def test_bad_criterion_options_name_the_value(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_plateau([(1, 1.0)], 1, **kwargs)
    with pytest.raises(ValueError, match="no held-out loss logged at step 7"):
        check_plateau([(1, 1.0)], 7)


def test_eval_history_keeps_the_last_record_of_a_step_and_survives_a_cut_line(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    lines = [
        {"event": "checkpoint", "step": 10, "eval_loss": 3.0},
        {"event": "train", "step": 10, "loss": 9.0},
        {"event": "checkpoint", "step": 20, "eval_loss": 2.0},
        {"event": "checkpoint", "step": 20, "eval_loss": 2.5},  # a resumed run re-logged step 20
        {"event": "checkpoint", "step": 30},  # no held-out split
    ]
    path.write_text("\n".join(json.dumps(r) for r in lines) + '\n{"event": "checkpoint", "st')
    assert eval_history(path) == [(10, 3.0), (20, 2.5)]
    assert eval_history(path, up_to=15) == [(10, 3.0)]
    assert eval_history(tmp_path / "missing.jsonl") == []


def _records(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


PLATEAU = ["train.steps=40", "train.ckpt_every=2", "train.log_every=2", "train.until_plateau=true"]


def test_run_stops_at_its_plateau_records_why_and_resumes_correctly(tmp_path: Path) -> None:
    run = tmp_path / "run"
    # a tolerance no 20-step run can miss: the first check with a reference stops it
    result = train(load_config("tiny", [*PLATEAU, "train.plateau_tol=10"]), run, progress=False)
    assert (result.step, result.reason) == (4, "plateau")
    assert result.plateau is not None and result.plateau["ref_step"] == 2 and result.plateau["reached"]
    records = _records(run)
    ckpts = [r for r in records if r["event"] == "checkpoint"]
    assert [r["step"] for r in ckpts] == [2, 4]
    assert ckpts[0]["plateau"]["reached"] is False and "no held-out loss" in ckpts[0]["plateau"]["reason"]
    assert [r["step"] for r in records if r["event"] == "plateau"] == [4]
    assert records[-1] == {**records[-1], "event": "end", "step": 4, "reason": "plateau"}
    assert list_checkpoints(run)[-1].name == "step_00000004"  # the plateau's checkpoint is the final one

    # resuming a run that stopped at its plateau trains nothing and says why
    again = train(load_config("tiny", [*PLATEAU, "train.plateau_tol=10"]), run, resume=True, progress=False)
    assert (again.step, again.reason, again.seconds) == (4, "plateau", 0.0)
    assert len(_records(run)) == len(records)
    # with the criterion off (a resumable key), it continues to the cap
    more = train(load_config("tiny", [*PLATEAU[:3], "train.steps=8"]), run, resume=True, progress=False)
    assert (more.step, more.reason) == (8, "steps")


def test_a_run_that_keeps_improving_goes_to_its_cap(tmp_path: Path) -> None:
    # tolerance 0 with a loss that falls: never at a plateau within 12 steps
    result = train(load_config("tiny", [*PLATEAU, "train.steps=12", "train.plateau_tol=0"]), tmp_path / "r")
    if result.reason == "plateau":  # the loss may rise between two checks of a 12-step run: then it is right
        assert result.plateau is not None and result.plateau["improvement"] <= 0
    else:
        assert (result.step, result.reason) == (12, "steps")


def test_until_plateau_needs_a_held_out_loss(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="train.eval_batches must be >= 1"):
        load_config("tiny", ["train.until_plateau=true", "train.eval_batches=0"])
    with pytest.raises(ConfigError, match="train.plateau_window"):
        load_config("tiny", ["train.plateau_window=1.5"])
    with pytest.raises(ConfigError, match="train.plateau_tol must be >= 0, got -1.0"):
        load_config("tiny", ["train.plateau_tol=-1"])


def test_max_minutes_stops_with_a_checkpoint_and_resumes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    # a limit any step exceeds: the first step ends the call, with a checkpoint off the ckpt_every grid
    result = train(load_config("tiny", ["train.max_minutes=1e-9", "train.steps=20"]), run, progress=False)
    assert (result.step, result.reason) == (1, "time_limit")
    assert list_checkpoints(run)[-1].name == "step_00000001"
    assert _records(run)[-1]["reason"] == "time_limit"
    again = train(load_config("tiny", ["train.steps=20"]), run, resume=True, progress=False)
    assert (again.step, again.reason) == (20, "steps")
    with pytest.raises(ConfigError, match="train.max_minutes must be >= 0"):
        load_config("tiny", ["train.max_minutes=-1"])


def test_a_resume_that_raises_the_learning_rate_is_recorded_and_warns_the_plateau_rule(
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    run = tmp_path / "run"
    cosine = ["train.ckpt_every=4", "optim.warmup_steps=2", "optim.lr_schedule=cosine"]

    def resumed(*overrides: str) -> dict:
        capsys.readouterr()
        train(load_config("tiny", [*cosine, *overrides]), run, resume=True, progress=False)
        return [r for r in _records(run) if r["event"] == "resume"][-1]

    train(load_config("tiny", [*cosine, "train.steps=12"]), run, progress=False, stop_after=8)
    # the same cap: the schedule gives the resumed step the rate it had, nothing to record
    assert "warm_restart" not in resumed("train.steps=12")
    # a larger cap with the rule read only at the cap: recorded, no warning
    rule = [*cosine, "train.until_plateau=true", "train.plateau_tol=0"]
    record = resumed(*rule, "train.steps=16", "train.plateau_min_steps=16")
    lr_from, lr_to = record["warm_restart"]
    assert record["step"] == 12 and lr_to > 1.05 * lr_from
    assert "warning" not in capsys.readouterr().err
    # a larger cap with the rule free to stop the run before it: recorded, and the warning names the fix
    assert "warm_restart" in resumed(*rule, "train.steps=20", "train.plateau_min_steps=19")
    err = capsys.readouterr().err
    assert "warning: train.steps=20 stretches the learning-rate decay: at step 16 the rate rises" in err
    assert "pass train.plateau_min_steps=20" in err
    assert "or optim.decay_steps=16 to keep the old decay" in err  # the checkpoint's cap


def test_decay_steps_extends_a_finished_cosine_without_a_warm_restart(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    run = tmp_path / "run"
    cosine = ["train.ckpt_every=4", "optim.warmup_steps=2", "optim.lr_schedule=cosine", "optim.min_lr_ratio=0.1"]
    train(load_config("tiny", [*cosine, "train.steps=12"]), run, progress=False)
    capsys.readouterr()
    rule = ["train.until_plateau=true", "train.plateau_tol=0"]
    resumed = load_config("tiny", [*cosine, *rule, "train.steps=20", "optim.decay_steps=12", "train.log_every=1"])
    train(resumed, run, resume=True, progress=False)
    resume = [r for r in _records(run) if r["event"] == "resume"][-1]
    assert "warm_restart" not in resume and "warning" not in capsys.readouterr().err
    # the tail ran at the decay's minimum, 0.1 × lr, at every logged step
    lr = load_config("tiny").optim.lr
    tail = [r["lr"] for r in _records(run) if r["event"] == "train" and r["step"] > 12]
    assert tail and tail == pytest.approx([0.1 * lr] * len(tail))
    assert json.loads((run / "config.json").read_text())["optim"]["decay_steps"] == 12
    # unpinning it later is a warm restart; the warning names where the old decay ended, not the old cap
    unpinned = load_config("tiny", [*cosine, *rule, "train.steps=28", "optim.decay_steps=0"])
    train(unpinned, run, resume=True, progress=False)
    assert "or optim.decay_steps=12 to keep the old decay" in capsys.readouterr().err
