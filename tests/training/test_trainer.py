from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import unmask
from unmask._lock import lock_run_dir
from unmask.config import ConfigError, load_config
from unmask.losses import MaskedCrossEntropy
from unmask.training import (
    RunDirLocked,
    TrainingDiverged,
    learning_rate,
    list_checkpoints,
    load_checkpoint,
    train,
)
from unmask.training.common import run_dir_lock
from unmask.training.distributed import DistContext


def _records(run: Path, event: str) -> list[dict]:
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [r for r in lines if r["event"] == event]


def test_tiny_run_writes_checkpoints_metrics_and_grids(tiny_run: Path) -> None:
    assert [p.name for p in list_checkpoints(tiny_run)] == ["step_00000010", "step_00000020"]
    trains = _records(tiny_run, "train")
    assert [r["step"] for r in trains] == [5, 10, 15, 20]
    for r in trains:
        assert math.isfinite(r["loss"]) and r["samples_per_s"] > 0 and r["tokens_per_s"] > 0
    ckpts = _records(tiny_run, "checkpoint")
    assert [r["step"] for r in ckpts] == [10, 20]
    for r in ckpts:
        assert Path(r["samples"]).is_file() and Path(r["samples"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert math.isfinite(r["eval_loss"])
    assert json.loads((tiny_run / "config.json").read_text())["preset"] == "tiny"


@pytest.mark.parametrize("variant", [[], ["model.timestep=true", "loss.weighting=elbo", "loss.reduction=sum"]])
def test_interrupted_then_resumed_run_equals_an_uninterrupted_one(tmp_path: Path, variant: list[str]) -> None:
    overrides = [
        "train.steps=12",
        "train.ckpt_every=4",
        "train.log_every=4",
        "optim.warmup_steps=3",
        "loss.stratified=true",
        "path.smoothing=0.1",
        *variant,
    ]
    cfg = load_config("tiny", overrides)
    train(cfg, tmp_path / "full", progress=False)
    part = tmp_path / "part"
    first = train(load_config("tiny", overrides), part, progress=False, stop_after=6)
    assert first.step == 6
    assert load_checkpoint(part).step == 6
    second = train(load_config("tiny", overrides), part, resume=True, progress=False)
    assert second.step == 12
    a = load_checkpoint(tmp_path / "full", with_state=True)
    b = load_checkpoint(part, with_state=True)
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key
        assert torch.equal(a.ema[key], b.ema[key]), key
    assert torch.equal(a.state["generator"], b.state["generator"])
    # the losses logged after the resume point are the same too
    la = {r["step"]: r["loss"] for r in _records(tmp_path / "full", "train")}
    lb = {r["step"]: r["loss"] for r in _records(part, "train")}
    assert {k: lb[k] for k in la} == la  # (the interrupted run also logged its stop step)


def test_keyboard_interrupt_saves_a_checkpoint_at_the_last_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = MaskedCrossEntropy.__call__

    def interrupting(self, logits, path, schedule):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt
        return real(self, logits, path, schedule)

    monkeypatch.setattr(MaskedCrossEntropy, "__call__", interrupting)
    result = train(
        load_config("tiny", ["train.ckpt_every=5", "train.eval_batches=0"]), tmp_path / "run", progress=False
    )
    assert result.step == 7
    assert [p.name for p in list_checkpoints(tmp_path / "run")] == ["step_00000005", "step_00000007"]
    assert _records(tmp_path / "run", "interrupted")[0]["step"] == 7


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = MaskedCrossEntropy.__call__

    def poisoned(self, logits, path, schedule):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        out = real(self, logits, path, schedule)
        if calls["n"] == 14:  # the trainer sums the parts' totals: poison what it reads
            out.loss = out.loss * float("nan")
            out.total = out.total * float("nan")
        return out

    monkeypatch.setattr(MaskedCrossEntropy, "__call__", poisoned)
    run = tmp_path / "run"
    with pytest.raises(TrainingDiverged, match=r"loss became nan at step 13.*step_00000010"):
        train(load_config("tiny", ["train.eval_batches=0"]), run, progress=False)
    ckpts = list_checkpoints(run)
    assert [p.name for p in ckpts] == ["step_00000010"]
    before = (ckpts[0] / "model.safetensors").read_bytes()
    assert load_checkpoint(run).step == 10
    assert (ckpts[0] / "model.safetensors").read_bytes() == before
    assert _records(run, "diverged")[0]["step"] == 13


def test_existing_run_is_never_overwritten(tiny_run: Path) -> None:
    before = sorted(p.name for p in (tiny_run / "checkpoints").iterdir())
    with pytest.raises(ConfigError, match="already holds a run"):
        train(load_config("tiny"), tiny_run, progress=False)
    assert sorted(p.name for p in (tiny_run / "checkpoints").iterdir()) == before


def _lock_holder(run: Path) -> subprocess.Popen[str]:
    """Another process holding ``run``'s lock (returned once it holds it) until its stdin closes."""
    code = (
        "import sys\nfrom unmask._lock import lock_run_dir\n"
        "with lock_run_dir(sys.argv[1]):\n    print('locked', flush=True)\n    sys.stdin.read()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(unmask.__file__).parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(run)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def _files(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def test_a_locked_run_directory_refuses_a_second_trainer_and_changes_nothing(tiny_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    holder = _lock_holder(run)
    try:
        before = _files(run)
        assert json.loads(before[".lock"])["pid"] == holder.pid
        needle = rf"run directory {re.escape(repr(str(run)))} is in use: PID {holder.pid} on host "
        for resume in (True, False):  # checked before "already holds a run" / the resume checks
            with pytest.raises(RunDirLocked, match=needle):
                train(load_config("tiny", ["train.steps=22"]), run, resume=resume, progress=False)
        assert _files(run) == before
    finally:
        holder.kill()  # dies holding it: the OS drops the lock, the .lock file stays behind
        holder.wait()
    assert (run / ".lock").is_file()
    res = train(load_config("tiny", ["train.steps=22", "train.eval_batches=0"]), run, resume=True, progress=False)
    assert res.step == 22 and math.isfinite(res.loss)
    assert not (run / ".lock").exists()  # released and removed on return
    # a finished run resumes (nothing to do) with a stale .lock file in it
    (run / ".lock").write_text(json.dumps({"pid": holder.pid, "host": "gone"}) + "\n")
    again = train(load_config("tiny", ["train.steps=22"]), run, resume=True, progress=False)
    assert again.step == 22 and math.isnan(again.loss) and again.checkpoint == list_checkpoints(run)[-1]


def test_the_lock_is_released_on_errors_and_leaves_no_directory_it_made(tmp_path: Path) -> None:
    run = tmp_path / "new" / "run"
    with pytest.raises(ConfigError, match="no checkpoint to resume"):
        train(load_config("tiny"), run, resume=True, progress=False)
    assert not (tmp_path / "new").exists()
    with lock_run_dir(run) as lock:
        assert lock == run / ".lock" and json.loads(lock.read_text())["pid"] == os.getpid()
        with pytest.raises(RunDirLocked, match=f"PID {os.getpid()} on host"):  # the same process, twice
            train(load_config("tiny"), run, progress=False)
    assert not (tmp_path / "new").exists()


def test_only_rank_0_takes_the_lock_and_every_rank_fails_when_it_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    with lock_run_dir(run):  # held by rank 0 of a running job, or by another job
        other = DistContext(rank=1, world_size=2)
        monkeypatch.setattr(other, "broadcast_object", lambda obj: None)  # rank 0 holds it
        with run_dir_lock(run, other):
            pass  # rank 1 does not take it (it would find it held)
        sent: list[object] = []

        def send(obj: object) -> object:
            sent.append(obj)
            return obj

        main = DistContext(rank=0, world_size=2)
        monkeypatch.setattr(main, "broadcast_object", send)
        with pytest.raises(RunDirLocked, match="is in use"), run_dir_lock(run, main):
            pass
        assert isinstance(sent[0], str) and "is in use" in sent[0]  # rank 0 tells the other ranks
        monkeypatch.setattr(other, "broadcast_object", lambda obj: sent[0])
        with pytest.raises(RunDirLocked, match="is in use"), run_dir_lock(run, other):
            pass


def test_resume_refuses_a_different_config_but_allows_more_steps(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(load_config("tiny", ["train.steps=4", "train.eval_batches=0"]), run, progress=False)
    with pytest.raises(ConfigError, match="optim.lr was 0.001, now 0.5"):
        train(load_config("tiny", ["train.steps=8", "optim.lr=0.5"]), run, resume=True, progress=False)
    with pytest.raises(ConfigError, match="no checkpoint to resume"):
        train(load_config("tiny"), tmp_path / "empty", resume=True, progress=False)
    res = train(load_config("tiny", ["train.steps=8", "train.eval_batches=0"]), run, resume=True, progress=False)
    assert res.step == 8


def test_learning_rate_warmup_and_cosine() -> None:
    cfg = load_config(
        "tiny",
        [
            "optim.warmup_steps=10",
            "optim.lr=1.0",
            "optim.lr_schedule=cosine",
            "train.steps=110",
            "optim.min_lr_ratio=0.1",
        ],
    )
    assert learning_rate(cfg, 0) == pytest.approx(0.1)
    assert learning_rate(cfg, 9) == pytest.approx(1.0)
    assert learning_rate(cfg, 10) == pytest.approx(1.0)
    assert learning_rate(cfg, 60) == pytest.approx(0.55)
    assert learning_rate(cfg, 110) == pytest.approx(0.1)
    cfg = load_config("tiny", ["optim.warmup_steps=0", "optim.lr=0.5"])
    assert learning_rate(cfg, 0) == learning_rate(cfg, 1000) == 0.5


def test_decay_steps_ends_the_cosine_early_and_holds_the_minimum() -> None:
    common = ["optim.warmup_steps=10", "optim.lr=1.0", "optim.lr_schedule=cosine", "optim.min_lr_ratio=0.1"]
    short = load_config("tiny", [*common, "train.steps=110"])
    tail = load_config("tiny", [*common, "train.steps=300", "optim.decay_steps=110"])
    # the same curve up to the decay's end, then the minimum for the rest of the run
    for step in (0, 9, 10, 37, 60, 109, 110):
        assert learning_rate(tail, step) == pytest.approx(learning_rate(short, step))
    assert learning_rate(tail, 60) == pytest.approx(0.55)
    assert [learning_rate(tail, s) for s in (110, 200, 299)] == pytest.approx([0.1] * 3)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["optim.lr_schedule=cosine", "optim.decay_steps=-1"], "optim.decay_steps must be >= 0, got -1"),
        (["optim.lr_schedule=constant", "optim.decay_steps=50"], "optim.decay_steps=50 needs optim.lr_schedule=cosine"),
        (
            ["optim.lr_schedule=cosine", "optim.warmup_steps=20", "optim.decay_steps=20"],
            "optim.decay_steps must be 0 .* or > optim.warmup_steps=20, got 20",
        ),
    ],
)
def test_bad_decay_steps_name_the_value(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config("tiny", overrides)


def test_training_reduces_the_held_out_loss(tmp_path: Path) -> None:
    cfg = load_config(
        "tiny",
        [
            "train.steps=60",
            "train.batch_size=32",
            "train.ckpt_every=60",
            "optim.warmup_steps=5",
            "train.eval_batches=2",
            "optim.ema_decay=0.9",
        ],
    )
    train(cfg, tmp_path / "run", progress=False)
    ev = _records(tmp_path / "run", "checkpoint")[-1]["eval_loss"]
    assert ev < math.log(17) - 0.5  # well below the uniform prediction over 17 grey levels


def test_fused_adamw_on_cpu_from_torch_2_4(monkeypatch: pytest.MonkeyPatch) -> None:
    from unmask.training import fused_adamw_available

    cpu = torch.device("cpu")
    monkeypatch.setattr(torch, "__version__", "2.3.1+cpu")
    assert not fused_adamw_available(cpu)
    monkeypatch.setattr(torch, "__version__", "2.4.0")
    assert fused_adamw_available(cpu)
    assert fused_adamw_available(torch.device("cuda"))
    assert not fused_adamw_available(torch.device("meta"))
    monkeypatch.undo()
    if fused_adamw_available(cpu):  # the installed torch really runs the fused CPU kernel
        p = torch.nn.Parameter(torch.ones(3))
        p.grad = torch.ones(3)
        torch.optim.AdamW([p], lr=0.1, fused=True).step()
        assert torch.all(p < 1)


@pytest.mark.parametrize("stratified", [False, True])
def test_training_batches_are_corrupted_at_times_drawn_through_loss_time_power(stratified: bool) -> None:
    """``loss.time_power`` reaches the training draw: the batch's times are the uniform draw's to the power p,
    and more tokens are masked, while the config's other draws are unchanged."""
    from unmask.interpolants import sample_times
    from unmask.training.batches import load_training_data, training_batches
    from unmask.training.factories import build_model, objective_for
    from unmask.training.step import corrupt_batch

    def corrupted(power: float):  # type: ignore[no-untyped-def]
        config = load_config("tiny", [f"loss.time_power={power}", f"loss.stratified={str(stratified).lower()}"])
        config.resolve().validate()
        dataset, _ = load_training_data(config)
        model = build_model(config, dataset)
        x1, labels = next(iter(training_batches(dataset, config, 0, 1, torch.device("cpu"))))
        gen = torch.Generator().manual_seed(5)
        return corrupt_batch(objective_for(config, dataset), x1, labels, model, config, gen, torch.device("cpu"))

    (plain, _), (powered, _) = corrupted(1.0), corrupted(3.0)
    eps = load_config("tiny").loss.eps
    u = (plain.t - eps) / (1 - 2 * eps)
    assert torch.allclose(powered.t, eps + (1 - 2 * eps) * u**3, atol=1e-6)
    expected = sample_times(
        plain.t.shape[0], stratified=stratified, power=3.0, generator=torch.Generator().manual_seed(5)
    )
    assert torch.equal(powered.t, expected)
    assert powered.mask.float().mean() > plain.mask.float().mean()  # t = 0 is all [MASK]


def test_the_held_out_loss_draws_uniform_times_whatever_loss_time_power_says() -> None:
    """Runs trained with different time powers are compared on one held-out measure."""
    from unmask.training.batches import load_training_data
    from unmask.training.evaluate import evaluate
    from unmask.training.factories import build_model, objective_for

    scores = []
    for power in (1.0, 3.0):
        config = load_config("tiny", [f"loss.time_power={power}", "train.eval_batches=2"])
        config.resolve().validate()
        dataset, _ = load_training_data(config)
        torch.manual_seed(0)
        model = build_model(config, dataset)
        scores.append(evaluate(model, dataset, config, objective_for(config, dataset), torch.device("cpu"), None))
    assert scores[0] and scores[0] == scores[1]
