"""train.compile: torch.compile when it works, a warning and eager training when it does not."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from unmask.config import load_config
from unmask.training import load_checkpoint, train

pytestmark = pytest.mark.usefixtures("one_thread")


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run).model


@pytest.mark.parametrize("failure", ["at_wrap", "at_first_call"])
def test_compile_failure_falls_back_to_eager_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    overrides = ["train.steps=3", "train.ckpt_every=3"]
    train(load_config("tiny", overrides), tmp_path / "eager", progress=False)

    def broken_compile(module: torch.nn.Module) -> object:
        if failure == "at_wrap":
            raise RuntimeError("no backend here")

        def call(*args: object) -> object:
            raise RuntimeError("inductor: C++ compiler not found")

        return call

    monkeypatch.setattr(torch, "compile", broken_compile)
    with pytest.warns(UserWarning, match="eagerly"):
        train(load_config("tiny", [*overrides, "train.compile=true"]), tmp_path / "compiled", progress=False)
    a, b = _weights(tmp_path / "eager"), _weights(tmp_path / "compiled")
    assert all(torch.equal(a[k], b[k]) for k in a)
