"""A run that a stop signal ended is saved but not finished: ``unmask train`` and ``unmask tokenizer train`` say so by
their exit status (130), so a script under ``set -e`` or an ``&&`` chain stops there instead of sampling or
scoring a half-trained model; ``--resume`` then finishes it with status 0. A run that ends where it was asked to
(its steps, ``--stop-after``) exits 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run

from unmask.cli._common import EXIT_INTERRUPTED
from unmask.losses import MaskedCrossEntropy
from unmask.tokenizers import VQVAE

pytestmark = pytest.mark.usefixtures("one_thread")


def _interrupt_on_call(monkeypatch: pytest.MonkeyPatch, cls: type, name: str, at: int) -> None:
    """Make ``cls.name`` raise KeyboardInterrupt (what Ctrl-C and the SIGTERM handler raise) on call ``at``."""
    real = getattr(cls, name)
    calls = {"n": 0}

    def interrupting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == at:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, interrupting)


def test_an_interrupted_train_exits_130_and_its_resume_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert EXIT_INTERRUPTED == 130
    out = tmp_path / "run"
    args = ["train", "tiny", "train.steps=10", "train.ckpt_every=5", "train.eval_batches=0", "--out", str(out)]
    with monkeypatch.context() as m:
        _interrupt_on_call(m, MaskedCrossEntropy, "__call__", 8)
        code, stdout, err = run([*args, "--no-progress"], capsys)
    assert code == EXIT_INTERRUPTED, err
    report = json.loads(stdout)
    assert report["reason"] == "interrupted" and report["step"] == 7
    assert "--resume" in err
    code, stdout, err = run(["train", "--resume", "--out", str(out), "--no-progress"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["step"] == 10 and json.loads(stdout)["reason"] == "steps"


def test_a_run_stopped_where_it_was_asked_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    args = ["train", "tiny", "train.steps=10", "train.eval_batches=0", "--stop-after", "4", "--out", str(out)]
    code, stdout, err = run([*args, "--no-progress"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["reason"] == "stop_after"


def test_an_interrupted_tokenizer_train_exits_130_and_its_resume_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "vq"
    with monkeypatch.context() as m:
        _interrupt_on_call(m, VQVAE, "forward", 4)
        code, stdout, err = run(["tokenizer", "train", "tiny-vq", "train.steps=6", "--out", str(out)], capsys)
    assert code == EXIT_INTERRUPTED, err
    assert json.loads(stdout)["step"] == 3
    code, stdout, err = run(["tokenizer", "train", "--resume", "--out", str(out)], capsys)
    assert code == 0, err
    assert json.loads(stdout)["step"] == 6
