"""Data-parallel training with torchrun on the gloo backend (CPU), against one process.

Tolerance: a 2-process run sums the two halves' gradients in a different order than one
process summing the whole batch, so weights agree to floating-point accuracy, not bit
for bit; after these few tiny steps the largest difference is below 1e-5.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from unmask._lock import lock_run_dir
from unmask.config import ConfigError, load_config
from unmask.training import list_checkpoints, load_checkpoint, train

pytestmark = pytest.mark.usefixtures("one_thread")

TOL = 1e-5
BASE = ["train.batch_size=16", "train.log_every=2", "train.eval_batches=1", "optim.warmup_steps=3"]


def torchrun(nproc: int, *args: str, wait: bool = True) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    cmd += ["-m", "unmask", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def max_diff(a: Path, b: Path) -> float:
    ca, cb = load_checkpoint(a), load_checkpoint(b)
    return max(float((ca.model[k] - cb.model[k]).abs().max()) for k in ca.model)


def test_two_processes_end_with_one_process_weights(tmp_path: Path) -> None:
    overrides = [*BASE, "train.steps=6", "train.ckpt_every=6"]
    train(load_config("tiny", overrides), tmp_path / "one", progress=False)
    res = torchrun(2, "train", "tiny", *overrides, "--out", str(tmp_path / "two"))
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.count('"run"') == 1  # rank 0 alone reports
    assert max_diff(tmp_path / "one", tmp_path / "two") < TOL
    start = [line for line in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines() if '"start"' in line]
    assert len(start) == 1 and '"world_size": 2' in start[0]


def test_gradient_accumulation_matches_the_whole_batch(tmp_path: Path) -> None:
    overrides = [*BASE, "train.steps=5", "train.ckpt_every=5"]
    train(load_config("tiny", overrides), tmp_path / "one", progress=False)
    train(load_config("tiny", [*overrides, "train.grad_accum=4"]), tmp_path / "acc", progress=False)
    assert max_diff(tmp_path / "one", tmp_path / "acc") < TOL
    with pytest.raises(ConfigError, match=r"train.batch_size=16 is not divisible by world size 1 × train.grad_accum 3"):
        train(load_config("tiny", [*overrides, "train.grad_accum=3"]), tmp_path / "bad", progress=False)


def test_world_size_that_does_not_divide_the_batch_is_one_clear_error(tmp_path: Path) -> None:
    res = torchrun(3, "train", "tiny", "train.batch_size=16", "--out", str(tmp_path / "run"))
    assert res.returncode != 0
    assert "train.batch_size=16 is not divisible by world size 3" in res.stderr
    assert not list_checkpoints(tmp_path / "run")


def test_a_locked_run_directory_stops_every_rank_at_once(tmp_path: Path) -> None:
    """Rank 0 alone takes the run directory's lock; when it cannot, the job fails with the
    holder's PID instead of the other ranks waiting for rank 0 at a collective."""
    run = tmp_path / "run"
    with lock_run_dir(run):
        res = torchrun(2, "train", "tiny", "--out", str(run))
    assert isinstance(res, subprocess.CompletedProcess)
    assert res.returncode != 0
    assert f"{str(run)!r} is in use: PID {os.getpid()} on host" in res.stderr
    assert not run.exists()


def test_resume_on_a_different_world_size(tmp_path: Path) -> None:
    """The global batch and its randomness do not depend on the world size, so a run started
    on 2 processes and finished on 1 ends where a 1-process run does."""
    overrides = [*BASE, "train.ckpt_every=3"]
    train(load_config("tiny", [*overrides, "train.steps=6"]), tmp_path / "one", progress=False)
    res = torchrun(2, "train", "tiny", *overrides, "train.steps=3", "--out", str(tmp_path / "mixed"))
    assert res.returncode == 0, res.stderr[-2000:]
    train(load_config("tiny", [*overrides, "train.steps=6"]), tmp_path / "mixed", resume=True, progress=False)
    assert load_checkpoint(tmp_path / "mixed").step == 6
    assert max_diff(tmp_path / "one", tmp_path / "mixed") < TOL


def _worker_pids(agent: int) -> dict[int, int]:
    """rank → pid of torchrun's worker processes (children of the agent with RANK in their environment)."""
    out: dict[int, int] = {}
    for child in Path(f"/proc/{agent}/task/{agent}/children").read_text().split():
        try:
            env = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for item in env:
            if item.startswith(b"RANK="):
                out[int(item[5:])] = int(child)
    return out


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc to find torchrun's workers")
def test_a_rank_that_dies_leaves_intact_checkpoints_and_resume_recovers(tmp_path: Path) -> None:
    overrides = [*BASE, "train.steps=400", "train.ckpt_every=5", "train.keep_checkpoints=100"]
    run = tmp_path / "run"
    proc = torchrun(2, "train", "tiny", *overrides, "--out", str(run), wait=False)
    assert isinstance(proc, subprocess.Popen)
    deadline = time.time() + 300
    while len(list_checkpoints(run)) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    workers = _worker_pids(proc.pid)
    assert 1 in workers, "torchrun's rank-1 worker not found"
    os.kill(workers[1], signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode != 0  # torchrun reports the failed rank and stops the job
    ckpts = list_checkpoints(run)
    assert ckpts and ckpts[-1].name != "step_00000400"
    for c in ckpts:  # every checkpoint left behind is complete and verifies
        load_checkpoint(c)
    # recovery: resume (here on one process, 5 steps past the last checkpoint; the learning
    # rate does not depend on train.steps in this preset) and end with the weights of a run
    # that was never interrupted
    end = load_checkpoint(run).step + 5
    finish = [*overrides[:-3], f"train.steps={end}", "train.ckpt_every=5", "train.keep_checkpoints=100"]
    train(load_config("tiny", finish), run, resume=True, progress=False)
    train(load_config("tiny", finish), tmp_path / "straight", progress=False)
    assert load_checkpoint(run).step == end
    assert max_diff(run, tmp_path / "straight") < TOL


def test_distributed_sampling_writes_one_merged_globally_indexed_set(tiny_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.npz"
    res = torchrun(2, "sample", "--ckpt", str(tiny_run), "--out", str(out), "--num-samples", "7", "--steps", "4")
    assert res.returncode == 0, res.stderr[-2000:]
    data = np.load(out)
    assert data["tokens"].shape == (7, 8, 8) and int(data["tokens"].max()) < 17
    assert data["labels"].tolist() == [i * 10 // 7 for i in range(7)]  # by global index
    assert out.with_suffix(".png").is_file()
    assert not list(tmp_path.glob(".*parts*"))  # the per-rank parts are merged and removed
    assert torch.tensor(data["nfe"]).item() > 0
