"""A stop signal that reaches a run's shard-loader worker processes (a scheduler signalling the process
group, `pkill -f`, Ctrl-C in a terminal) must not crash the run: it stops at a step boundary with its
interruption checkpoint instead of dying with "DataLoader worker … killed by signal"."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from unmask.data.shards import open_shards, shard_loader

pytestmark = pytest.mark.usefixtures("one_thread")


def test_a_terminated_loader_worker_does_not_end_the_iteration(digit_shards: Path) -> None:
    ds = open_shards(digit_shards, "train")
    ref = list(shard_loader(ds, batch_size=64, seed=1, start=0, stop=6, workers=0))
    it = iter(shard_loader(ds, batch_size=64, seed=1, start=0, stop=6, workers=2))
    got = [next(it)]
    pids = [w.pid for w in it._workers]  # type: ignore[attr-defined]
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGINT)
    time.sleep(0.5)  # time for a default handler to have killed them
    got += list(it)
    assert len(got) == 6
    for (a, la), (b, lb) in zip(ref, got, strict=True):
        assert torch.equal(a, b) and torch.equal(la, lb)


def test_a_stop_signal_before_the_workers_have_started_does_not_kill_them(digit_shards: Path) -> None:
    """The signal can arrive before a worker has run its init (CI once saw a worker die so): the workers are
    born with it blocked, so it is ignored, not fatal."""
    ds = open_shards(digit_shards, "train")
    ref = list(shard_loader(ds, batch_size=64, seed=1, start=0, stop=6, workers=0))
    for _ in range(3):
        it = iter(shard_loader(ds, batch_size=64, seed=1, start=0, stop=6, workers=2))
        for w in it._workers:  # type: ignore[attr-defined]
            os.kill(w.pid, signal.SIGTERM)
        got = list(it)
        assert len(got) == 6
        for (a, la), (b, lb) in zip(ref, got, strict=True):
            assert torch.equal(a, b) and torch.equal(la, lb)
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == set()  # the main process's mask is left as it was


def _events(run_dir: Path) -> list[dict[str, object]]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_sigterm_to_every_process_of_a_run_stops_it_with_its_checkpoint(digit_shards: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    cmd = [
        sys.executable, "-m", "unmask", "train", "tiny", f"data.shards={digit_shards}", "data.tokenizer=pixel:17",
        "train.workers=2", "train.threads=1", "train.steps=100000", "train.ckpt_every=100000",
        "train.log_every=1", "--out", str(run_dir), "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not any(e.get("event") == "train" and int(e["step"]) >= 3 for e in _events(run_dir)):  # type: ignore[call-overload]
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the run logged no training step in 120 s"
            time.sleep(0.2)
        # as ``pkill -f "unmask train"`` does it: every process of the run, here the workers first,
        # so that the main process fetches batches from dead workers before its own signal arrives
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) >= 2, children
        for pid in children:
            os.kill(int(pid), signal.SIGTERM)
        time.sleep(1.0)
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err  # saved, not finished: cli._common.EXIT_INTERRUPTED
    events = _events(run_dir)
    end = [e for e in events if e.get("event") == "end"][-1]
    assert end["reason"] == "interrupted", end
    assert (run_dir / "checkpoints").is_dir() and any((run_dir / "checkpoints").iterdir())
